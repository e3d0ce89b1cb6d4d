//! Every kernel through `Mcmc` on `#[model]`s: exact moments of a correlated Gaussian
//! with a positive-constrained site (within 4 MCSE), and simulation-based calibration
//! on a small hierarchical model.

use tilde::prelude::*;
use tilde::samplers::diagnostics::{mcse_mean, mcse_sd, mean, sd};
use tilde::samplers::sbc::sbc;
use tilde::{Kernel, Posterior};

/// `s ~ LogNormal(0, 0.5)`, `a ~ N(0, 1)`, `b | a ~ N(0.8 a, 0.6)`: `(a, b)` standard
/// normal with correlation 0.8, `s` positive.
#[model]
fn correlated() {
    sample!("s", LogNormal::new(0.0, 0.5));
    let a = sample!("a", Normal::new(0.0, 1.0));
    sample!("b", Normal::new(0.8 * a, 0.6));
}

/// The exact means and sds of `s`, `a` and `b`.
fn exact() -> [(&'static str, f64, f64); 3] {
    let v: f64 = 0.25;
    [
        ("s", (v / 2.0).exp(), ((v.exp() - 1.0) * v.exp()).sqrt()),
        ("a", 0.0, 1.0),
        ("b", 0.0, 1.0),
    ]
}

/// Runs `kernel` with 4 chains and checks each site's mean and sd within 4 MCSE.
fn recovers_moments<K>(kernel: K, num_samples: usize, thinning: usize, seed: u64)
where
    K: Kernel + Clone,
{
    let model = correlated();
    let posterior = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(num_samples)
        .thinning(thinning)
        .num_chains(4)
        .seed(seed)
        .progress(false)
        .run(&model)
        .unwrap();
    for (name, want_mean, want_sd) in exact() {
        let chains = posterior.draws_by_chain(name).unwrap();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let z_mean = (mean(&refs) - want_mean) / mcse_mean(&refs);
        let z_sd = (sd(&refs) - want_sd) / mcse_sd(&refs);
        eprintln!(
            "{name}: mean {:.4} (z {z_mean:.2}), sd {:.4} (z {z_sd:.2})",
            mean(&refs),
            sd(&refs)
        );
        assert!(z_mean.abs() < 4.0, "{name}: mean z {z_mean}");
        assert!(z_sd.abs() < 4.0, "{name}: sd z {z_sd}");
    }
}

#[test]
fn mala_recovers_the_moments() {
    recovers_moments(Mala::default(), 5000, 1, 1);
}

#[test]
fn barker_recovers_the_moments() {
    recovers_moments(BarkerMh::default(), 5000, 1, 2);
}

#[test]
fn random_walk_metropolis_recovers_the_moments() {
    recovers_moments(RandomWalkMetropolis::default().dense_mass(true), 5000, 4, 3);
}

#[test]
fn slice_sampling_recovers_the_moments() {
    recovers_moments(SliceSampler::default(), 5000, 1, 4);
}

#[test]
fn sample_adaptive_mcmc_recovers_the_moments() {
    recovers_moments(Sa::default(), 5000, 10, 7);
    recovers_moments(Sa::default().dense_mass(false), 5000, 10, 8);
}

#[test]
fn sample_adaptive_mcmc_settings_are_errors() {
    let run = |sa: Sa| {
        Mcmc::new(sa)
            .num_warmup(10)
            .num_samples(10)
            .progress(false)
            .run(&correlated())
            .unwrap_err()
            .to_string()
    };
    let m = run(Sa::default().adapt_state_size(1));
    assert!(
        m.contains("adapt_state_size must be at least 2, got 1"),
        "{m}"
    );
    let m = run(Sa::default().adapt_state_size(3));
    assert!(m.contains("needs adapt_state_size > dim (3), got 3"), "{m}");
}

#[test]
fn nuts_and_hmc_recover_the_moments() {
    recovers_moments(Nuts::default(), 2000, 1, 5);
    recovers_moments(Hmc::new(8).jitter(0.5), 2000, 1, 6);
}

/// A non-centred normal hierarchy of three groups.
#[model]
fn hierarchy(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let theta = sample!("theta", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu + tau * theta[i], 1.0), obs = y[i]);
    }
}

/// SBC of `kernel` on [`hierarchy`]: 200 fits of 100 draws (thinned by `thinning` after
/// 400 warm-up iterations), ranks in 20 bins; a calibrated kernel fails with
/// probability 0.001 per parameter, and the seeds fix the outcome.
fn calibrated<K: Kernel + Clone>(kernel: K, thinning: usize, seed: u64) {
    calibrated_after(kernel, 400, thinning, seed);
}

/// [`calibrated`] after `num_warmup` warm-up iterations.
fn calibrated_after<K: Kernel + Clone>(kernel: K, num_warmup: usize, thinning: usize, seed: u64) {
    let result = sbc(
        &hierarchy(&[0.0; 3]),
        &["mu", "tau"],
        200,
        seed,
        |sim, seed| {
            let y: Vec<f64> = (0..3)
                .map(|i| sim.get(&format!("y[{i}]")).unwrap())
                .collect();
            Mcmc::new(kernel.clone())
                .num_warmup(num_warmup)
                .num_samples(100)
                .thinning(thinning)
                .seed(seed)
                .progress(false)
                .run(&hierarchy(&y))
        },
    )
    .unwrap();
    eprintln!("p-values {:?}", result.p_values);
    for (name, p) in result.names.iter().zip(&result.p_values) {
        assert!(*p > 0.001, "{name}: p-value {p} ({result:?})");
    }
}

#[test]
fn mala_is_calibrated() {
    calibrated(Mala::default(), 4, 11);
}

#[test]
fn barker_is_calibrated() {
    calibrated(BarkerMh::default(), 4, 12);
}

#[test]
fn random_walk_metropolis_is_calibrated() {
    calibrated(RandomWalkMetropolis::default(), 10, 13);
}

#[test]
fn slice_sampling_is_calibrated() {
    calibrated(SliceSampler::default(), 2, 14);
}

/// An equal mixture of `N(-3, 0.5²)` and `N(3, 0.5²)`: the density between the modes is
/// `e⁻¹⁸` of theirs, so a chain of plain NUTS stays in the mode it starts in.
#[model]
fn bimodal() {
    let weights = [T::from(0.5), T::from(0.5)];
    let components = [
        Normal::new(T::from(-3.0), T::from(0.5)),
        Normal::new(T::from(3.0), T::from(0.5)),
    ];
    sample!("x", Mixture::new(&weights, &components));
}

/// Each chain's fraction of draws in the positive mode.
fn positive_fraction(posterior: &Posterior) -> Vec<f64> {
    posterior
        .draws_by_chain("x")
        .unwrap()
        .iter()
        .map(|c| c.iter().filter(|x| **x > 0.0).count() as f64 / c.len() as f64)
        .collect()
}

#[test]
fn replica_exchange_mixes_across_modes_plain_nuts_does_not() {
    let run = |kernel| {
        Mcmc::new(kernel)
            .num_warmup(1000)
            .num_samples(4000)
            .num_chains(4)
            .seed(21)
            .progress(false)
            .run(&bimodal())
            .unwrap()
    };
    let plain = positive_fraction(&run(ReplicaExchange::new(Nuts::default(), &[1.0])));
    eprintln!("plain NUTS: fraction in the positive mode per chain {plain:.3?}");
    assert!(plain.iter().all(|f| *f == 0.0 || *f == 1.0), "{plain:?}");

    let tempered = ReplicaExchange::new(Nuts::default(), &[1.0, 0.5, 0.25, 0.12, 0.05]);
    let posterior = run(tempered);
    let fractions = positive_fraction(&posterior);
    eprintln!("replica exchange: fraction in the positive mode per chain {fractions:.3?}");
    assert!(
        fractions.iter().all(|f| (0.2..0.8).contains(f)),
        "{fractions:?}"
    );
    let chains = posterior.draws_by_chain("x").unwrap();
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let want_sd = (9.0f64 + 0.25).sqrt();
    let z_mean = mean(&refs) / mcse_mean(&refs);
    let z_sd = (sd(&refs) - want_sd) / mcse_sd(&refs);
    eprintln!(
        "mean {:.3} (z {z_mean:.2}), sd {:.3} for {want_sd:.3} (z {z_sd:.2})",
        mean(&refs),
        sd(&refs)
    );
    assert!(z_mean.abs() < 4.0 && z_sd.abs() < 4.0);
}

#[test]
fn bad_temperatures_are_errors() {
    for betas in [
        &[0.5, 0.2][..],
        &[1.0, 1.5],
        &[1.0, 0.0],
        &[1.0, 0.3, 0.5],
        &[],
        &[1.0, f64::NAN],
    ] {
        let err = Mcmc::new(ReplicaExchange::new(Nuts::default(), betas))
            .progress(false)
            .run(&correlated())
            .unwrap_err();
        assert!(
            matches!(err, tilde::Error::InvalidConfig(_)),
            "{betas:?}: {err}"
        );
    }
}

#[test]
fn replica_exchange_is_calibrated() {
    calibrated(ReplicaExchange::new(Nuts::default(), &[1.0, 0.4]), 2, 15);
}

#[test]
fn numpyro_tuning_options_are_kept() {
    let model = correlated();
    let given = tilde::Metric::Diagonal(vec![0.3, 1.0, 1.0]);
    let posterior = Mcmc::new(
        Nuts::default()
            .step_size(0.2)
            .adapt_step_size(false)
            .adapt_mass_matrix(false)
            .inverse_mass_matrix(given.clone()),
    )
    .num_warmup(100)
    .num_samples(200)
    .seed(7)
    .progress(false)
    .run(&model)
    .unwrap();
    let params = &posterior.adapted()[0];
    assert_eq!(
        (params.step_size, &params.inverse_mass_matrix),
        (0.2, &given)
    );
    assert!(posterior.sample_stats(0).iter().all(|s| s.step_size == 0.2));

    // a given matrix is where adaptation starts: with adaptation on, it changes
    let adapted = Mcmc::new(Mala::default().inverse_mass_matrix(given.clone()))
        .num_warmup(300)
        .num_samples(10)
        .seed(7)
        .progress(false)
        .run(&model)
        .unwrap();
    assert_ne!(adapted.adapted()[0].inverse_mass_matrix, given);

    // a single chain has a split R-hat
    let summary = posterior.summary();
    assert!(
        summary.rows.iter().all(|r| r.r_hat.is_finite()),
        "{summary:?}"
    );
}

#[test]
fn bad_tuning_settings_are_errors_before_any_work() {
    let model = correlated();
    let run = |kernel: Nuts| {
        Mcmc::new(kernel)
            .num_warmup(10)
            .num_samples(10)
            .progress(false)
            .run(&model)
            .unwrap_err()
    };
    for step in [-0.1, 0.0, f64::NAN, f64::INFINITY] {
        let err = run(Nuts::default().step_size(step));
        assert!(err.to_string().contains("step_size"), "{step}: {err}");
    }
    for bad in [
        vec![1.0, 0.0, 1.0],
        vec![1.0, -2.0, 1.0],
        vec![f64::NAN, 1.0, 1.0],
    ] {
        let err = run(Nuts::default().inverse_mass_matrix(tilde::Metric::Diagonal(bad.clone())));
        assert!(
            matches!(err, tilde::Error::InvalidConfig(_)),
            "{bad:?}: {err}"
        );
    }
    let err = run(Nuts::default().inverse_mass_matrix(tilde::Metric::unit(5)));
    assert!(
        matches!(err, tilde::Error::DimensionMismatch { .. }),
        "{err}"
    );
    let err = Mcmc::new(Mala::default().target_accept(1.5))
        .progress(false)
        .run(&model)
        .unwrap_err();
    assert!(err.to_string().contains("target_accept"), "{err}");
}

/// Sample Adaptive MCMC needs a long warm-up (NumPyro's documentation says so): its
/// proposal adapts through the points of its state only. After 400 iterations the
/// state has not forgotten its start on this model (p-values of 1e-3 to 3e-6 for
/// `tau` on seeds 15–17); after 2000 it is calibrated on those seeds.
#[test]
fn sample_adaptive_mcmc_is_calibrated() {
    calibrated_after(Sa::default(), 2000, 10, 15);
    calibrated_after(Sa::default().dense_mass(false), 2000, 10, 16);
}
