//! NUTS and HMC through the facade on `#[model]`s: conjugate models with closed-form
//! posteriors, eight schools against posteriordb, reproducibility across thread
//! counts, divergences on a funnel and initialisation failures.

mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;

use tilde::prelude::*;
use tilde::{Error, Posterior};

fn mcmc<K: tilde::Kernel>(kernel: K, seed: u64) -> Mcmc<K> {
    Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(seed)
        .progress(false)
}

/// Mean within 4 MCSE of `mean`, sd² within 4 standard errors of `var` (se of the
/// variance estimate from the (x-μ)² series and its ESS).
fn check(posterior: &Posterior, name: &str, mean: f64, var: f64) {
    let row = posterior.summary().get(name).cloned().unwrap();
    assert!(row.r_hat < 1.01, "{name}: r_hat {}", row.r_hat);
    assert!(
        (row.mean - mean).abs() < 4.0 * row.mcse_mean,
        "{name}: mean {} vs {mean} (mcse {})",
        row.mean,
        row.mcse_mean
    );
    let chains = posterior.draws_by_chain(name).unwrap();
    let sq: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|x| (x - mean).powi(2)).collect())
        .collect();
    let refs: Vec<&[f64]> = sq.iter().map(Vec::as_slice).collect();
    let all = sq.concat();
    let v = all.iter().sum::<f64>() / all.len() as f64;
    let sd_sq =
        (all.iter().map(|s| (s - v).powi(2)).sum::<f64>() / (all.len() as f64 - 1.0)).sqrt();
    let se = sd_sq / tilde::samplers::diagnostics::ess_mean(&refs).sqrt();
    assert!(
        (v - var).abs() < 4.0 * se,
        "{name}: variance {v} vs {var} (se {se})"
    );
}

#[model]
fn conjugate_normal(y: &[f64], sigma: f64) {
    let mu = sample!("mu", Normal::new(1.0, 10.0));
    sample!("y", Normal::new(mu, sigma).iid(y.len()), obs = y);
}

#[test]
fn conjugate_normal_posterior() {
    let y = [2.1, 3.3, 1.7, 2.9, 4.0, 2.2];
    let (prior_mean, prior_var, sigma) = (1.0, 100.0, 1.5);
    let n = y.len() as f64;
    let post_var = 1.0 / (1.0 / prior_var + n / (sigma * sigma));
    let post_mean = post_var * (prior_mean / prior_var + y.iter().sum::<f64>() / (sigma * sigma));
    let model = conjugate_normal(&y, sigma);
    let posterior = mcmc(Nuts::default(), 21).run(&model).unwrap();
    check(&posterior, "mu", post_mean, post_var);
    let posterior = mcmc(Hmc::new(8).jitter(0.5), 22).run(&model).unwrap();
    check(&posterior, "mu", post_mean, post_var);
}

#[model]
fn beta_bernoulli(y: &[u8]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    sample!("y", Bernoulli::new(p).iid(y.len()), obs = y);
}

#[test]
fn beta_bernoulli_posterior() {
    let y = [1u8, 0, 1, 1, 0, 1, 1, 1, 0, 1];
    let k = y.iter().map(|&v| v as f64).sum::<f64>();
    let (a, b) = (2.0 + k, 2.0 + y.len() as f64 - k);
    let mean = a / (a + b);
    let var = a * b / ((a + b).powi(2) * (a + b + 1.0));
    let model = beta_bernoulli(&y);
    check(
        &mcmc(Nuts::default(), 23).run(&model).unwrap(),
        "p",
        mean,
        var,
    );
    check(
        &mcmc(Hmc::new(6).jitter(0.5), 24).run(&model).unwrap(),
        "p",
        mean,
        var,
    );
}

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_trans = sample!("theta_trans", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        let theta = deterministic!("theta[{i}]", mu + tau * theta_trans[i]);
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

#[test]
fn eight_schools_matches_posteriordb() {
    let (data, reference) = common::reference("eight_schools-eight_schools_noncentered");
    let (y, sigma) = (data.get("y").nums(), data.get("sigma").nums());
    let model = eight_schools(&y, &sigma);
    let posterior = mcmc(Nuts::default(), 25).run(&model).unwrap();
    let failures = common::compare(&posterior, &reference, &[]);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn same_draws_whatever_the_thread_count() {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let model = eight_schools(&y, &sigma);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            Mcmc::new(Nuts::default())
                .num_warmup(200)
                .num_samples(100)
                .num_chains(4)
                .seed(7)
                .progress(false)
                .run(&model)
                .unwrap()
        })
    };
    let (one, four) = (run(1), run(4));
    assert_eq!(one, four);
    assert_ne!(
        one.draws_by_chain("mu").unwrap()[0],
        one.draws_by_chain("mu").unwrap()[1]
    );
}

#[model]
fn funnel() {
    let v = sample!("v", Normal::new(0.0, 3.0));
    sample!("x", Normal::new(0.0, (v * 0.5).exp()).iid(9));
}

#[test]
fn divergences_are_reported_on_a_funnel() {
    let posterior = Mcmc::new(Nuts::default())
        .num_warmup(500)
        .num_samples(500)
        .num_chains(2)
        .seed(3)
        .progress(false)
        .run(&funnel())
        .unwrap();
    assert!(posterior.num_divergences() > 0);
    let divergent = posterior
        .sample_stats(0)
        .iter()
        .filter(|s| s.is_divergent)
        .count()
        + posterior
            .sample_stats(1)
            .iter()
            .filter(|s| s.is_divergent)
            .count();
    assert_eq!(divergent, posterior.num_divergences());
}

#[model]
fn impossible(s: f64) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, s), obs = 1.0);
}

#[test]
fn an_impossible_model_gives_an_init_error() {
    let err = Mcmc::new(Nuts::default())
        .progress(false)
        .run(&impossible(-1.0))
        .unwrap_err();
    match &err {
        Error::InitFailed { tries, reason } => {
            assert_eq!(*tries, 100);
            assert!(reason.contains("`y`"), "{reason}");
        }
        other => panic!("expected InitFailed, got {other:?}"),
    }
    assert!(err.to_string().contains("initialisation failed"), "{err}");
}

#[test]
fn continue_and_reuse_adaptation() {
    let y = [2.1, 3.3, 1.7];
    let model = conjugate_normal(&y, 1.0);
    let mut first = Mcmc::new(Nuts::default())
        .num_warmup(300)
        .num_samples(50)
        .num_chains(2)
        .seed(4)
        .progress(false);
    first.warmup(&model).unwrap();
    let adapted = first.adapted().unwrap();
    let a = first.run(&model).unwrap();
    let b = first.run(&model).unwrap();
    assert_eq!((a.num_draws(), b.num_draws()), (50, 50));
    assert_ne!(a.draws("mu").unwrap(), b.draws("mu").unwrap());
    let reused = Mcmc::new(Nuts::default())
        .num_samples(50)
        .num_chains(2)
        .seed(5)
        .progress(false)
        .with_adapted(adapted.clone())
        .run(&model)
        .unwrap();
    assert_eq!(reused.adapted(), adapted);
    let err = reused.draws("nu").unwrap_err();
    assert!(err.to_string().contains("mu"), "{err}");
}

#[test]
fn init_strategies() {
    let model = beta_bernoulli(&[1, 0, 1]);
    for init in [
        Init::Uniform(1.0),
        Init::PriorMedian,
        Init::PriorDraw,
        Init::Values(vec![("p".into(), vec![0.3])]),
    ] {
        let posterior = Mcmc::new(Nuts::default())
            .num_warmup(50)
            .num_samples(10)
            .seed(1)
            .progress(false)
            .init(init.clone())
            .run(&model);
        assert!(posterior.is_ok(), "{init:?}: {posterior:?}");
    }
    let bad = Mcmc::new(Nuts::default())
        .progress(false)
        .init(Init::Values(vec![("q".into(), vec![0.3])]))
        .run(&model);
    assert!(matches!(bad, Err(Error::UnknownName { .. })));
    let bad = Mcmc::new(Nuts::default()).num_chains(0).run(&model);
    assert!(matches!(bad, Err(Error::InvalidConfig(_))));
}

#[test]
fn draws_stream_to_csv_as_they_are_taken() {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let model = eight_schools(&y, &sigma);
    let dir = std::env::temp_dir().join(format!("tilde-stream-{}", std::process::id()));
    let posterior = Mcmc::new(Nuts::default())
        .num_warmup(200)
        .num_samples(50)
        .num_chains(2)
        .seed(5)
        .progress(false)
        .save_csv(&dir, "schools")
        .run(&model)
        .unwrap();
    let paths = [dir.join("schools_1.csv"), dir.join("schools_2.csv")];
    let back = Posterior::from_csv(&paths).unwrap();
    for name in posterior.names() {
        assert_eq!(
            back.draws_by_chain(name).unwrap(),
            posterior.draws_by_chain(name).unwrap(),
            "{name}"
        );
    }
    assert_eq!(back.sample_stats(1), posterior.sample_stats(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
