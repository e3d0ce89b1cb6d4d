//! Prior and posterior predictive simulation against closed forms.

use tilde::prelude::*;
use tilde::samplers::diagnostics::ess_mean;

#[model]
fn conjugate(y: &[f64], sigma: f64) {
    let mu = sample!("mu", Normal::new(1.0, 2.0));
    let twice = deterministic!("twice", mu * 2.0);
    let _ = twice;
    sample!("y", Normal::new(mu, sigma).iid(y.len()), obs = y);
}

/// Mean within 4 standard errors and variance within 4 standard errors of the
/// variance estimate (normal fourth moment `3σ⁴`), for `n` independent draws.
fn check_iid(draws: &[f64], mean: f64, var: f64) {
    let n = draws.len() as f64;
    let m = draws.iter().sum::<f64>() / n;
    let v = draws.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(
        (m - mean).abs() < 4.0 * (var / n).sqrt(),
        "mean {m} vs {mean}"
    );
    assert!(
        (v - var).abs() < 4.0 * (2.0 * var * var / n).sqrt(),
        "variance {v} vs {var}"
    );
}

#[test]
fn prior_predictive_matches_the_prior() {
    let model = conjugate(&[0.0; 3], 1.0);
    let prior = Predictive::prior(&model, 20_000, 5).unwrap();
    assert_eq!(prior.names(), ["mu", "twice", "y[0]", "y[1]", "y[2]"]);
    // mu ~ N(1, 2²); y = mu + e, e ~ N(0, 1): y ~ N(1, 5)
    check_iid(&prior.draws("mu").unwrap(), 1.0, 4.0);
    check_iid(&prior.draws("y[2]").unwrap(), 1.0, 5.0);
    let (mu, twice) = (prior.draws("mu").unwrap(), prior.draws("twice").unwrap());
    assert!(
        mu.iter()
            .zip(&twice)
            .all(|(a, b)| (2.0 * a - b).abs() < 1e-12)
    );
    // reproducible for a seed, different for another
    assert_eq!(
        Predictive::prior(&model, 50, 5)
            .unwrap()
            .draws("y[0]")
            .unwrap(),
        prior.draws("y[0]").unwrap()[..50]
    );
    assert_ne!(
        Predictive::prior(&model, 50, 6)
            .unwrap()
            .draws("y[0]")
            .unwrap(),
        prior.draws("y[0]").unwrap()[..50]
    );
}

#[test]
fn posterior_predictive_matches_the_closed_form() {
    let y = [2.1, 3.3, 1.7, 2.9, 4.0, 2.2];
    let sigma = 1.5;
    let model = conjugate(&y, sigma);
    let posterior = Mcmc::new(Nuts::default())
        .num_chains(4)
        .seed(8)
        .progress(false)
        .run(&model)
        .unwrap();
    let predictive = Predictive::posterior(&model, &posterior, 9).unwrap();
    assert_eq!(predictive.num_chains(), 4);
    assert_eq!(
        predictive.draws("mu").unwrap(),
        posterior.draws("mu").unwrap()
    );
    // y_rep ~ N(m, v + σ²) with the conjugate posterior N(m, v)
    let n = y.len() as f64;
    let v = 1.0 / (1.0 / 4.0 + n / (sigma * sigma));
    let m = v * (1.0 / 4.0 + y.iter().sum::<f64>() / (sigma * sigma));
    let chains = predictive.draws_by_chain("y[0]").unwrap();
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let all = chains.concat();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = v + sigma * sigma;
    let ess = ess_mean(&refs);
    assert!(
        (mean - m).abs() < 4.0 * (var / ess).sqrt(),
        "mean {mean} vs {m} (ess {ess})"
    );
    let sq: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|x| (x - m).powi(2)).collect())
        .collect();
    let sq_refs: Vec<&[f64]> = sq.iter().map(Vec::as_slice).collect();
    let second = sq.concat().iter().sum::<f64>() / all.len() as f64;
    let se = (2.0 * var * var / ess_mean(&sq_refs)).sqrt();
    assert!(
        (second - var).abs() < 4.0 * se,
        "variance {second} vs {var}"
    );
}

#[test]
fn predictive_draws_do_not_depend_on_the_thread_count() {
    let model = conjugate(&[0.0; 4], 1.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| Predictive::prior(&model, 200, 3).unwrap())
    };
    let (one, four) = (run(1), run(4));
    for name in one.names() {
        assert!(
            one.draws(name).unwrap() == four.draws(name).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn pointwise_log_likelihood_and_loo() {
    let y = [2.1, 3.3, 1.7, 2.9, 4.0, 2.2];
    let model = conjugate(&y, 1.5);
    let posterior = Mcmc::new(Nuts::default())
        .num_chains(2)
        .num_samples(500)
        .seed(10)
        .progress(false)
        .run(&model)
        .unwrap();
    let ll = tilde::samplers::log_likelihood(&model, &posterior).unwrap();
    assert_eq!(ll.names, ["y[0]", "y[1]", "y[2]", "y[3]", "y[4]", "y[5]"]);
    assert_eq!(
        (ll.values.len(), ll.values[0].len(), ll.values[0][0].len()),
        (2, 500, 6)
    );
    // at each draw, log N(y_i | mu, 1.5)
    let mu = posterior.draws_by_chain("mu").unwrap();
    for (chain, draws) in ll.values.iter().enumerate() {
        for (d, row) in draws.iter().enumerate().step_by(97) {
            for (i, &v) in row.iter().enumerate() {
                let z = (y[i] - mu[chain][d]) / 1.5;
                let want = -0.5 * z * z - 1.5f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
                assert!((v - want).abs() < 1e-12);
            }
        }
    }
    assert!(ll.r_eff > 0.1 && ll.r_eff < 3.0, "{}", ll.r_eff);
    let loo = ll.loo();
    let waic = ll.waic();
    assert!(
        loo.elpd_loo.is_finite() && loo.pareto_k.iter().all(|k| *k < 0.7),
        "{loo:?}"
    );
    // with 6 well-fitted points, LOO and WAIC agree closely
    assert!(
        (loo.elpd_loo - waic.elpd_waic).abs() < 0.1,
        "{} vs {}",
        loo.elpd_loo,
        waic.elpd_waic
    );
}
