//! tilde inside an application: refitting on new data (continuing a driver, warm
//! starts), models behind `Box<dyn Model>` and `Arc`, cloning a driver, and reading
//! results as a program would.

use std::sync::Arc;

use tilde::prelude::*;
use tilde::{Error, LogDensity, Posterior, Unconstrained};

#[model]
fn regression(x: &[f64], y: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", HalfNormal::new(5.0));
    for i in 0..x.len() {
        sample!(
            "y[{i}]",
            Normal::new(alpha + beta * x[i], sigma),
            obs = y[i]
        );
    }
}

#[model]
fn one_mean(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    sample!("y", Normal::new(mu, 1.0).iid(y.len()), obs = y);
}

/// `n` observations of `y = 1 + 2 x + noise`, noise of sd about 1 from a fixed
/// low-discrepancy sequence (data, not a random test: the same for every run).
fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| -1.0 + 2.0 * i as f64 / n as f64).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let u = (i as f64 * 0.618_033_988_749_895).fract();
            1.0 + 2.0 * x + 3.4 * (u - 0.5)
        })
        .collect();
    (x, y)
}

fn driver(seed: u64) -> Mcmc<Nuts> {
    Mcmc::new(Nuts::default())
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(seed)
        .progress(false)
}

/// Means and sds of `a` and `b` agree within 4 MCSE of their difference, for every
/// latent component.
fn same_posterior(a: &Posterior, b: &Posterior) {
    let (sa, sb) = (a.summary(), b.summary());
    for name in ["alpha", "beta", "sigma"] {
        let (ra, rb) = (sa.get(name).unwrap(), sb.get(name).unwrap());
        let mcse = ra.mcse_mean.hypot(rb.mcse_mean);
        assert!(
            (ra.mean - rb.mean).abs() < 4.0 * mcse,
            "{name}: mean {} vs {} (mcse {mcse})",
            ra.mean,
            rb.mean
        );
        let mcse = ra.mcse_sd.hypot(rb.mcse_sd);
        assert!(
            (ra.sd - rb.sd).abs() < 4.0 * mcse,
            "{name}: sd {} vs {} (mcse {mcse})",
            ra.sd,
            rb.sd
        );
    }
}

fn mean_acceptance(posterior: &Posterior) -> f64 {
    let stats: Vec<f64> = (0..posterior.num_chains())
        .flat_map(|c| posterior.sample_stats(c).iter().map(|s| s.acceptance_rate))
        .collect();
    stats.iter().sum::<f64>() / stats.len() as f64
}

fn sampling_gradients(posterior: &Posterior) -> usize {
    (0..posterior.num_chains())
        .flat_map(|c| posterior.sample_stats(c))
        .map(|s| s.num_integration_steps)
        .sum()
}

#[test]
fn continuing_on_new_data_samples_the_new_posterior() {
    let (xa, ya) = data(40);
    let (xb, yb) = data(60); // 20 more observations of the same process
    let (a, b) = (regression(&xa, &ya), regression(&xb, &yb));
    let mut mcmc = driver(11);
    mcmc.run(&a).unwrap();
    let continued = mcmc.run(&b).unwrap();
    let fresh = driver(12).run(&b).unwrap();
    let acceptance = mean_acceptance(&continued);
    assert!(acceptance > 0.5, "acceptance {acceptance}");
    for c in 0..continued.num_chains() {
        let alpha = &continued.draws_by_chain("alpha").unwrap()[c];
        assert!(
            alpha.windows(2).any(|w| w[0] != w[1]),
            "chain {c} is frozen"
        );
    }
    same_posterior(&continued, &fresh);
}

#[test]
fn continuing_on_another_dimension_is_an_error() {
    let (x, y) = data(20);
    let mut mcmc = driver(3).num_warmup(100).num_samples(10);
    mcmc.run(&regression(&x, &y)).unwrap();
    let err = mcmc.run(&one_mean(&y)).unwrap_err();
    assert_eq!(
        err,
        Error::DimensionMismatch {
            expected: 3,
            found: 1
        }
    );
    let err = mcmc.warmup(&one_mean(&y)).unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { .. }), "{err}");
}

/// A density that is finite only for `x < bound`.
struct Below(f64);

impl LogDensity for Below {
    fn dim(&self) -> usize {
        1
    }
    fn logp(&self, x: &[f64]) -> f64 {
        if x[0] < self.0 {
            -0.5 * x[0] * x[0]
        } else {
            f64::NEG_INFINITY
        }
    }
    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        grad[0] = -x[0];
        self.logp(x)
    }
}

#[test]
fn continuing_where_the_new_model_is_not_finite_is_an_error() {
    let mut mcmc = driver(5).num_warmup(100).num_samples(10);
    mcmc.run(&Unconstrained::new(Below(f64::INFINITY))).unwrap();
    let err = mcmc.run(&Unconstrained::new(Below(-1e6))).unwrap_err();
    assert!(matches!(err, Error::InitFailed { .. }), "{err}");
    assert!(err.to_string().contains("cannot continue"), "{err}");
}

#[test]
fn warm_start_refits_new_data_with_a_short_warmup() {
    let (xa, ya) = data(40);
    let (xb, yb) = data(60);
    let (a, b) = (regression(&xa, &ya), regression(&xb, &yb));
    let mut first = driver(21);
    first.run(&a).unwrap();
    let warm = Mcmc::new(Nuts::default())
        .num_samples(1000)
        .num_chains(4)
        .seed(22)
        .progress(false)
        .warm_start(&first)
        .run(&b)
        .unwrap();
    let fresh = driver(23).run(&b).unwrap();
    same_posterior(&warm, &fresh);
    assert_eq!(warm.num_divergences(), 0);
    let warmup = |p: &Posterior| p.num_gradient_evals() - sampling_gradients(p);
    // docs/performance.md quotes these lines
    println!(
        "warm start: {} warm-up + {} sampling gradients; fresh fit: {} + {}",
        warmup(&warm),
        sampling_gradients(&warm),
        warmup(&fresh),
        sampling_gradients(&fresh)
    );
    assert!(warmup(&warm) * 3 < warmup(&fresh));
    // the metric is kept, the step size re-tuned
    let (before, after) = (first.adapted().unwrap(), warm.adapted());
    assert_eq!(before[0].inverse_mass_matrix, after[0].inverse_mass_matrix);
    assert_ne!(before[0].step_size, after[0].step_size);
}

#[test]
fn warm_start_needs_a_driver_that_has_run() {
    let (x, y) = data(20);
    let never = driver(1);
    let err = driver(2)
        .warm_start(&never)
        .run(&regression(&x, &y))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
    let mut small = driver(3).num_warmup(100).num_samples(10);
    small.run(&one_mean(&y)).unwrap();
    let err = driver(4)
        .warm_start(&small)
        .run(&regression(&x, &y))
        .unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { .. }), "{err}");
}

#[test]
fn boxed_and_shared_models_run() {
    let (x, y) = data(20);
    let mcmc = driver(7).num_warmup(200).num_samples(100);
    let reference = mcmc.clone().run(&regression(&x, &y)).unwrap();
    let boxed: Box<dyn Model + Send + Sync + '_> = Box::new(regression(&x, &y));
    assert_eq!(mcmc.clone().run(&boxed).unwrap(), reference);
    assert_eq!(mcmc.clone().run(&*boxed).unwrap(), reference);
    let shared = Arc::new(regression(&x, &y));
    assert_eq!(mcmc.clone().run(&shared).unwrap(), reference);
    let by_ref = &regression(&x, &y);
    assert_eq!(mcmc.clone().run(&by_ref).unwrap(), reference);
}

#[test]
fn a_cloned_driver_continues_like_the_original() {
    let (x, y) = data(20);
    let model = regression(&x, &y);
    let mut original = driver(9).num_warmup(200).num_samples(100);
    original.run(&model).unwrap();
    let mut copy = original.clone();
    assert_eq!(original.run(&model).unwrap(), copy.run(&model).unwrap());
}

#[model]
fn groups(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        let theta = deterministic!("theta[{i}]", mu + theta_raw[i]);
        sample!("y[{i}]", Normal::new(theta, 1.0), obs = y[i]);
    }
}

#[test]
fn results_read_as_a_program_needs_them() {
    let model = groups(&[1.0, -0.5, 2.0]);
    let posterior = driver(31)
        .num_warmup(300)
        .num_samples(200)
        .num_chains(3)
        .run(&model)
        .unwrap();
    let names = posterior.names().to_vec();
    // the matrix view is the storage, in names() order
    let matrix = posterior.matrix();
    assert_eq!(matrix.shape(), (3, 200, names.len()));
    let col = names.iter().position(|n| n == "theta_raw[1]").unwrap();
    let by_chain = posterior.draws_by_chain("theta_raw[1]").unwrap();
    for (c, chain) in by_chain.iter().enumerate() {
        for (d, value) in chain.iter().enumerate() {
            assert_eq!(matrix.get(c, d, col), Some(*value));
        }
        assert_eq!(matrix.chain(c).unwrap().len(), 200 * names.len());
    }
    assert_eq!(matrix.chain(3), None);
    assert_eq!(matrix.draw(0, 200), None);
    assert_eq!(matrix.get(0, 0, names.len()), None);
    // a vector site by its name
    let elements = posterior.site_draws("theta_raw").unwrap();
    assert_eq!(elements.len(), 3);
    assert_eq!(elements[1], posterior.draws("theta_raw[1]").unwrap());
    assert_eq!(
        posterior.site_names("theta").unwrap(),
        ["theta[0]", "theta[1]", "theta[2]"]
    );
    assert_eq!(
        posterior.site_draws("mu").unwrap()[0],
        posterior.draws("mu").unwrap()
    );
    let err = posterior.draws("theta_raw").unwrap_err();
    assert!(
        err.to_string()
            .contains("theta_raw[0], theta_raw[1], theta_raw[2]"),
        "{err}"
    );
    assert!(matches!(
        posterior.site_draws("theta_r"),
        Err(Error::UnknownName { .. })
    ));
    // cheap statistics agree with the summary
    let summary = posterior.summary();
    let (means, sds) = (posterior.means(), posterior.sds());
    let quantiles = posterior.quantiles(&[0.05, 0.5, 0.95]).unwrap();
    for (c, row) in summary.rows.iter().enumerate() {
        assert_eq!(means[c], row.mean, "{}", row.name);
        assert_eq!(sds[c], row.sd, "{}", row.name);
        assert_eq!(quantiles[c], [row.q5, row.median, row.q95], "{}", row.name);
    }
    let err = posterior.quantiles(&[0.5, -0.1]).unwrap_err();
    assert!(err.to_string().contains("-0.1"), "{err}");
}

#[test]
fn an_unknown_name_lists_twenty_names_and_counts_the_rest() {
    let names: Vec<String> = (0..25).map(|i| format!("x[{i}]")).collect();
    let posterior = Posterior::from_draws(names, vec![vec![0.0; 25]]).unwrap();
    let message = posterior.draws("y").unwrap_err().to_string();
    assert!(message.contains("x[19], … and 5 more"), "{message}");
    assert!(!message.contains("x[20]"), "{message}");
    let names: Vec<String> = (0..20).map(|i| format!("x[{i}]")).collect();
    let posterior = Posterior::from_draws(names, vec![vec![0.0; 20]]).unwrap();
    let message = posterior.draws("y").unwrap_err().to_string();
    assert!(message.ends_with("x[18], x[19]"), "{message}");
}

#[test]
fn tilde_progress_0_turns_every_bar_off() {
    use tilde::samplers::progress_enabled;
    if std::env::var_os("TILDE_TEST_CHILD").is_some() {
        // the child: TILDE_PROGRESS=0 overrides an explicit `.progress(true)`
        assert!(!progress_enabled(Some(true)));
        assert!(!progress_enabled(None));
        return;
    }
    assert!(!progress_enabled(Some(false)));
    if std::env::var_os("TILDE_PROGRESS").is_none() {
        assert_eq!(progress_enabled(Some(true)), cfg!(feature = "progress"));
    }
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "tilde_progress_0_turns_every_bar_off"])
        .env("TILDE_PROGRESS", "0")
        .env("TILDE_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "{stdout}"
    );
}

/// Data of another process (intercept −3 for 1, slope −1.5 for 2, noise 0.3 of the old
/// scale): the chains start far out and the kept metric is three times too wide, yet the
/// short warm-up suffices.
#[test]
fn warm_start_survives_a_large_change_of_data() {
    let (x, ya) = data(40);
    let yb: Vec<f64> = ya
        .iter()
        .zip(&x)
        .map(|(y, x)| -3.0 - 1.5 * x + 0.3 * (y - 1.0 - 2.0 * x))
        .collect();
    let (a, b) = (regression(&x, &ya), regression(&x, &yb));
    let mut first = driver(21);
    first.run(&a).unwrap();
    let warm = Mcmc::new(Nuts::default())
        .num_chains(4)
        .seed(22)
        .progress(false)
        .warm_start(&first)
        .run(&b)
        .unwrap();
    let fresh = driver(23).run(&b).unwrap();
    assert_eq!(warm.num_divergences(), 0);
    assert!(warm.num_gradient_evals() < fresh.num_gradient_evals());
    same_posterior(&warm, &fresh);
}

/// `save_csv` with `keep_draws(false)` holds no draw in memory and writes the same
/// draws a run keeping them gives; `deterministics(false)` leaves those columns out.
#[test]
fn save_csv_without_keeping_draws_or_deterministics() {
    let model = groups(&[0.5, -0.3, 1.2]);
    let dir = std::env::temp_dir().join(format!("tilde-keep-{}", std::process::id()));
    let fit = |keep: bool, deterministics: bool| {
        Mcmc::new(Nuts::default())
            .num_warmup(200)
            .num_samples(300)
            .num_chains(2)
            .seed(5)
            .progress(false)
            .save_csv(&dir, if keep { "kept" } else { "streamed" })
            .keep_draws(keep)
            .deterministics(deterministics)
            .run(&model)
            .unwrap()
    };
    let kept = fit(true, true);
    let streamed = fit(false, false);
    assert_eq!(streamed.num_draws(), 0);
    assert!(streamed.names().iter().all(|n| !n.starts_with("theta[")));
    let files: Vec<_> = (1..=2)
        .map(|c| dir.join(format!("streamed_{c}.csv")))
        .collect();
    let read = Posterior::from_csv(&files).unwrap();
    assert_eq!(read.names(), streamed.names());
    assert_eq!((read.num_chains(), read.num_draws()), (2, 300));
    for name in read.names() {
        assert_eq!(
            read.draws(name).unwrap(),
            kept.draws(name).unwrap(),
            "{name}"
        );
    }
    assert!(kept.draws("theta[0]").is_ok() && read.draws("theta[0]").is_err());
    std::fs::remove_dir_all(&dir).unwrap();

    let err = Mcmc::new(Nuts::default())
        .keep_draws(false)
        .progress(false)
        .run(&model)
        .unwrap_err();
    assert!(err.to_string().contains("save_csv"), "{err}");
}
