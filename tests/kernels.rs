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
    // a warm start skips the kernel's init for adapted chains: the check runs anyway
    let mut first = Mcmc::new(Sa::default())
        .num_warmup(10)
        .num_samples(10)
        .num_chains(2)
        .seed(2)
        .progress(false);
    first.run(&correlated()).unwrap();
    let err = Mcmc::new(Sa::default().adapt_state_size(3))
        .num_samples(10)
        .num_chains(2)
        .progress(false)
        .warm_start(&first)
        .run(&correlated())
        .unwrap_err();
    assert!(matches!(err, tilde::Error::InvalidConfig(_)), "{err}");
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
    calibrated_with(kernel, 400, thinning, seed, 1);
}

/// [`calibrated`] after `num_warmup` warm-up iterations.
fn calibrated_after<K: Kernel + Clone>(kernel: K, num_warmup: usize, thinning: usize, seed: u64) {
    calibrated_with(kernel, num_warmup, thinning, seed, 1);
}

/// [`calibrated`] after `num_warmup` warm-up iterations, with the 100 draws of each fit
/// from `num_chains` chains.
fn calibrated_with<K: Kernel + Clone>(
    kernel: K,
    num_warmup: usize,
    thinning: usize,
    seed: u64,
    num_chains: usize,
) {
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
                .num_samples(100 / num_chains)
                .num_chains(num_chains)
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
    // swap acceptance is reported per draw, the mean over the draws
    let swaps: Vec<f64> = (0..posterior.num_chains())
        .flat_map(|c| posterior.sample_stats(c).iter().map(|s| s.kernel_stat))
        .collect();
    let mean_swap = swaps.iter().sum::<f64>() / swaps.len() as f64;
    eprintln!("mean swap acceptance {mean_swap:.3}");
    assert_eq!(posterior.kernel_stat_name(), Some("swap_accept__"));
    assert!((0.05..1.0).contains(&mean_swap), "{mean_swap}");
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

#[test]
fn chees_recovers_the_moments() {
    recovers_moments(Chees::default(), 2000, 1, 31);
}

#[test]
fn chees_is_calibrated() {
    calibrated_with(Chees::default(), 400, 2, 32, 4);
}

/// `x ~ N(0, scale²)` in 10 independent coordinates.
#[model]
fn iid_normal(scale: f64) {
    sample!("x", Normal::new(0.0, scale).iid(10));
}

/// ChEES's trajectory length on an iid Gaussian of scale σ. For exact dynamics
/// (unit metric) a coordinate moves as `x cos(t/σ) + σ p sin(t/σ)`, the correlation of
/// its squares before and after is `cos²(t/σ)`, so ChEES at time `t` is proportional to
/// `sin²(t/σ)` and, with the length jittered uniformly over `(0, T)`, to
/// `½ − sin(2T/σ) / (4T/σ)`: maximal where `tan(2T/σ) = 2T/σ`, at `T* = 2.2467 σ`.
/// The leapfrog follows those dynamics when its step is small against σ, so the run
/// aims for a harmonic-mean acceptance of 0.95 (ε ≈ 0.44 σ; at the default 0.651,
/// ε ≈ 0.9 σ and a trajectory is one or two steps, whose optimum is another).
/// The check: the adapted `T` is within a factor 1.5 of `T*` at σ = 1 and σ = 3 (a
/// wrong sign of the gradient drives `T` to one step, a runaway to 1000 steps), and it
/// scales with σ (the ratio of the two within a factor 1.5 of 3).
#[test]
fn chees_adapts_the_trajectory_length_to_the_scale() {
    let optimum = 2.2467;
    let adapted = |scale: f64| {
        let mut mcmc = Mcmc::new(Chees::default().target_accept(0.95))
            .num_warmup(1000)
            .num_samples(10)
            .num_chains(8)
            .seed(33)
            .progress(false);
        mcmc.run(&iid_normal(scale)).unwrap();
        let params = mcmc.adapted().unwrap();
        assert!(params.iter().all(|p| *p == params[0]), "shared parameters");
        params[0].clone()
    };
    let (small, large) = (adapted(1.0), adapted(3.0));
    eprintln!(
        "σ = 1: T = {:.3} (ε = {:.3}); σ = 3: T = {:.3} (ε = {:.3}); T* = {optimum} σ",
        small.trajectory_length, small.step_size, large.trajectory_length, large.step_size
    );
    for (p, scale) in [(&small, 1.0), (&large, 3.0)] {
        let ratio = p.trajectory_length / (optimum * scale);
        assert!(
            (1.0 / 1.5..1.5).contains(&ratio),
            "σ = {scale}: T / T* = {ratio}"
        );
    }
    let scaling = large.trajectory_length / small.trajectory_length / 3.0;
    assert!((1.0 / 1.5..1.5).contains(&scaling), "{scaling}");
}

#[test]
fn chees_settings_are_checked_before_any_work() {
    let model = correlated();
    let run = |kernel: Chees, chains: usize| {
        Mcmc::new(kernel)
            .num_warmup(10)
            .num_samples(10)
            .num_chains(chains)
            .progress(false)
            .run(&model)
            .unwrap_err()
            .to_string()
    };
    assert!(run(Chees::default(), 1).contains("num_chains"));
    for (kernel, name) in [
        (Chees::default().learning_rate(0.0), "learning_rate"),
        (Chees::default().learning_rate(f64::NAN), "learning_rate"),
        (Chees::default().jitter_amount(1.5), "jitter_amount"),
        (Chees::default().max_leapfrog_steps(0), "max_leapfrog_steps"),
        (
            Chees::default().trajectory_length(-1.0),
            "trajectory_length",
        ),
        (Chees::default().step_size(f64::INFINITY), "step_size"),
        (Chees::default().target_accept(1.0), "target_accept"),
    ] {
        let err = run(kernel, 2);
        assert!(err.contains(name), "{name}: {err}");
    }
}

#[test]
fn nuts_tree_depths_differ_between_warmup_and_sampling() {
    let model = correlated();
    let run = |nuts: Nuts| {
        Mcmc::new(nuts)
            .num_warmup(300)
            .num_samples(300)
            .seed(41)
            .progress(false)
            .collect_warmup(true)
            .run(&model)
            .unwrap()
    };
    let max_depth = |stats: &[tilde::SampleStats]| stats.iter().map(|s| s.tree_depth).max();
    let shallow_warmup = run(Nuts::default().max_tree_depth(10).max_tree_depth_warmup(1));
    assert_eq!(max_depth(shallow_warmup.warmup_sample_stats(0)), Some(1));
    assert!(max_depth(shallow_warmup.sample_stats(0)) > Some(1));
    let shallow_sampling = run(Nuts::default().max_tree_depth(1).max_tree_depth_warmup(10));
    assert!(max_depth(shallow_sampling.warmup_sample_stats(0)) > Some(1));
    assert_eq!(max_depth(shallow_sampling.sample_stats(0)), Some(1));
    // `max_tree_depth` sets both phases
    let both = run(Nuts::default().max_tree_depth_warmup(10).max_tree_depth(1));
    assert_eq!(max_depth(both.warmup_sample_stats(0)), Some(1));

    for (nuts, name) in [
        (Nuts::default().max_tree_depth(0), "max_tree_depth must"),
        (Nuts::default().max_tree_depth(31), "got 31"),
        (
            Nuts::default().max_tree_depth_warmup(0),
            "max_tree_depth_warmup",
        ),
    ] {
        let err = Mcmc::new(nuts)
            .progress(false)
            .run(&model)
            .unwrap_err()
            .to_string();
        assert!(err.contains(name), "{name}: {err}");
    }
}

#[test]
fn warmup_draws_are_collected_in_memory_and_in_csv() {
    let model = correlated();
    let dir = std::env::temp_dir().join(format!("tilde-collect-warmup-{}", std::process::id()));
    let mut mcmc = Mcmc::new(Nuts::default())
        .num_warmup(100)
        .num_samples(60)
        .thinning(2)
        .num_chains(2)
        .seed(42)
        .progress(false)
        .collect_warmup(true)
        .save_csv(&dir, "run");
    let posterior = mcmc.run(&model).unwrap();
    assert_eq!(
        (posterior.num_warmup_draws(), posterior.num_draws()),
        (50, 60)
    );
    let warmup = posterior.warmup_draws_by_chain("s").unwrap();
    assert!(
        warmup
            .iter()
            .all(|c| c.len() == 50 && c.iter().all(|v| *v > 0.0))
    );
    // warm-up starts from the inits: its first draws differ between chains
    assert_ne!(warmup[0][0], warmup[1][0]);
    // the summaries use the draws only
    assert_eq!(posterior.draws("s").unwrap().len(), 120);

    // CmdStan's save_warmup layout: warm-up rows, `# Adaptation terminated`, draws
    let text = std::fs::read_to_string(dir.join("run_1.csv")).unwrap();
    let before = text.split("# Adaptation terminated").next().unwrap();
    let rows = before.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(rows, 1 + 50, "the header and 50 warm-up rows");
    let files = [dir.join("run_1.csv"), dir.join("run_2.csv")];
    let read = Posterior::from_csv(&files).unwrap();
    assert_eq!(
        read.warmup_draws("s").unwrap(),
        posterior.warmup_draws("s").unwrap()
    );
    assert_eq!(read.draws("s").unwrap(), posterior.draws("s").unwrap());
    assert_eq!(
        read.warmup_sample_stats(1),
        posterior.warmup_sample_stats(1)
    );
    let json = Posterior::from_json(&posterior.to_json()).unwrap();
    assert_eq!(json, posterior);
    std::fs::remove_dir_all(&dir).unwrap();

    // a continued run has no warm-up; warmup() keeps its draws for the next run
    assert_eq!(mcmc.run(&model).unwrap().num_warmup_draws(), 0);
    let mut split = Mcmc::new(Chees::default())
        .num_warmup(40)
        .num_samples(5)
        .num_chains(3)
        .seed(43)
        .progress(false)
        .collect_warmup(true);
    split.warmup(&model).unwrap();
    let after = split.run(&model).unwrap();
    assert_eq!(after.num_warmup_draws(), 40);
    assert!(
        after
            .warmup_sample_stats(2)
            .iter()
            .all(|s| s.step_size > 0.0)
    );
    // without collect_warmup nothing is kept
    let plain = Mcmc::new(Nuts::default())
        .num_warmup(50)
        .num_samples(5)
        .seed(44)
        .progress(false)
        .run(&model)
        .unwrap();
    assert_eq!(plain.num_warmup_draws(), 0);
}

#[test]
fn jittered_fixed_inits_start_each_chain_apart_inside_the_support() {
    let model = correlated();
    let values = Init::Values(vec![
        ("s".into(), vec![1.5]),
        ("a".into(), vec![0.2]),
        ("b".into(), vec![-0.3]),
    ]);
    let starts = |init: Init| {
        let mut mcmc = Mcmc::new(Nuts::default())
            .num_warmup(0)
            .num_chains(4)
            .seed(45)
            .progress(false)
            .init(init);
        mcmc.warmup(&model).unwrap();
        mcmc.last_state()
            .unwrap()
            .into_iter()
            .map(|s| s.position)
            .collect::<Vec<_>>()
    };
    let fixed = starts(values.clone());
    let centre = [1.5f64.ln(), 0.2, -0.3];
    for x in &fixed {
        assert!(x.iter().zip(&centre).all(|(a, b)| (a - b).abs() < 1e-12));
    }
    let radius = 0.5;
    let jittered = starts(values.clone().jitter(radius));
    for (c, x) in jittered.iter().enumerate() {
        assert!(
            x.iter().zip(&centre).all(|(a, b)| (a - b).abs() < radius),
            "chain {c}: {x:?}"
        );
        for other in &jittered[..c] {
            assert!(x.iter().zip(other).all(|(a, b)| a != b), "{x:?} {other:?}");
        }
        // `s` = exp(x[0]) is inside its support
        assert!(x[0].exp() > 0.0 && x[0].exp().is_finite());
    }
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = Mcmc::new(Nuts::default())
            .progress(false)
            .init(values.clone().jitter(bad))
            .run(&model)
            .unwrap_err()
            .to_string();
        assert!(err.contains("jitter radius"), "{bad}: {err}");
    }
}

#[test]
fn nuts_with_dense_mass_blocks_recovers_the_moments() {
    recovers_moments(
        Nuts::default().dense_mass_blocks(&[&["a", "b"]]),
        2000,
        1,
        51,
    );
}

/// `dense_mass_blocks(&[&["a", "b"]])` on [`correlated`]: the adapted inverse mass
/// matrix is dense over `(a, b)` and diagonal over `s`, its `(a, b)` entry the
/// covariance 0.8. The last slow window holds 500 draws; the standard error of a
/// sample covariance of unit normals with correlation ρ is `√((1 + ρ²)/n)` = 0.057
/// for near-independent draws, so the check allows 4 of them (0.23).
#[test]
fn dense_mass_blocks_give_a_block_diagonal_metric() {
    let model = correlated();
    let dir = std::env::temp_dir().join(format!("tilde-mass-blocks-{}", std::process::id()));
    let posterior = Mcmc::new(Nuts::default().dense_mass_blocks(&[&["b", "a"]]))
        .num_warmup(1000)
        .num_samples(10)
        .seed(52)
        .progress(false)
        .save_csv(&dir, "run")
        .run(&model)
        .unwrap();
    let metric = &posterior.adapted()[0].inverse_mass_matrix;
    let tilde::Metric::Block(block) = metric else {
        panic!("a block metric expected, got {metric:?}")
    };
    // the layout's coordinates: s, a, b
    assert_eq!(block.blocks().len(), 1);
    assert_eq!(block.blocks()[0].0, [1, 2]);
    let full = metric.to_dense_matrix();
    eprintln!("adapted inverse mass matrix {full:.3?}");
    assert_eq!((full[1], full[2], full[3], full[6]), (0.0, 0.0, 0.0, 0.0));
    assert!(
        (full[5] - 0.8).abs() < 4.0 * (1.64f64 / 500.0).sqrt(),
        "{}",
        full[5]
    );
    assert!((full[5] - full[7]).abs() < 1e-15);
    // CmdStan files have no blocks: the whole matrix is written and read back dense
    let read = Posterior::from_csv(&[dir.join("run_1.csv")]).unwrap();
    assert_eq!(
        read.adapted()[0].inverse_mass_matrix.to_dense_matrix(),
        full
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let run = |nuts: Nuts| {
        Mcmc::new(nuts)
            .num_warmup(10)
            .num_samples(10)
            .progress(false)
            .run(&hierarchy(&[0.1, 0.2, 0.3]))
            .unwrap_err()
    };
    let err = run(Nuts::default().dense_mass_blocks(&[&["mu", "sigma"]]));
    assert!(matches!(err, tilde::Error::UnknownName { .. }), "{err}");
    let err = run(Nuts::default().dense_mass_blocks(&[&["mu", "tau"], &["tau"]]));
    assert!(
        err.to_string().contains("`tau` is in more than one block"),
        "{err}"
    );
    let err = run(Nuts::default()
        .dense_mass(true)
        .dense_mass_blocks(&[&["mu"]]));
    assert!(err.to_string().contains("dense_mass(true)"), "{err}");
}
