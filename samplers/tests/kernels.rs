//! HMC and NUTS on Gaussians with analytic gradients: the integrator against the exact
//! oscillator, and posterior moments within Monte-Carlo error.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tilde_core::LogDensity;
use tilde_samplers::diagnostics::{ess_mean, mcse_mean, mcse_sd, mean, sd};
use tilde_samplers::{
    Hmc, HmcParams, Kernel, KernelInfo, KernelState, Mcmc, Metric, Nuts, Posterior, Unconstrained,
    chain_rng,
};

/// A zero-mean Gaussian with precision matrix `precision` (row-major).
struct Gaussian {
    dim: usize,
    mean: Vec<f64>,
    precision: Vec<f64>,
}

impl Gaussian {
    fn iid(dim: usize, sd: f64) -> Self {
        let mut precision = vec![0.0; dim * dim];
        (0..dim).for_each(|i| precision[i * dim + i] = 1.0 / (sd * sd));
        Gaussian {
            dim,
            mean: (0..dim).map(|i| i as f64 * 0.1).collect(),
            precision,
        }
    }

    /// Equicorrelated with correlation `rho` and standard deviations 1..dim scaled.
    fn correlated(dim: usize, rho: f64) -> (Self, Vec<f64>) {
        let sds: Vec<f64> = (0..dim)
            .map(|i| 0.5 + i as f64 / dim as f64 * 2.0)
            .collect();
        // Σ = D (ρ 11ᵀ + (1-ρ) I) D;  Σ⁻¹ = D⁻¹ (I/(1-ρ) - ρ 11ᵀ / ((1-ρ)(1-ρ+dρ))) D⁻¹
        let a = 1.0 / (1.0 - rho);
        let b = rho / ((1.0 - rho) * (1.0 - rho + dim as f64 * rho));
        let mut precision = vec![0.0; dim * dim];
        for i in 0..dim {
            for j in 0..dim {
                let core = if i == j { a - b } else { -b };
                precision[i * dim + j] = core / (sds[i] * sds[j]);
            }
        }
        let variances = sds.iter().map(|s| s * s).collect();
        (
            Gaussian {
                dim,
                mean: vec![1.0; dim],
                precision,
            },
            variances,
        )
    }
}

impl LogDensity for Gaussian {
    fn dim(&self) -> usize {
        self.dim
    }
    fn logp(&self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; self.dim];
        self.logp_and_grad(x, &mut g)
    }
    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.dim;
        let mut lp = 0.0;
        for i in 0..n {
            let row = &self.precision[i * n..(i + 1) * n];
            let s: f64 = row
                .iter()
                .zip(x)
                .zip(&self.mean)
                .map(|((p, xj), mj)| p * (xj - mj))
                .sum();
            grad[i] = -s;
            lp -= 0.5 * (x[i] - self.mean[i]) * s;
        }
        lp
    }
}

/// Checks each coordinate's mean within 4 MCSE and variance within 4 standard errors
/// of the variance estimate, `sd(x²-ish)/√ESS` computed from the draws' own
/// `(x - μ)²` series and its ESS.
fn check_moments(posterior: &Posterior, means: &[f64], variances: &[f64]) {
    for (i, (&mean, &var)) in means.iter().zip(variances).enumerate() {
        let chains = posterior.draws_by_chain(&format!("x[{i}]")).unwrap();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let all: Vec<f64> = chains.concat();
        let m = all.iter().sum::<f64>() / all.len() as f64;
        let mcse = mcse_mean(&refs);
        assert!(
            (m - mean).abs() < 4.0 * mcse,
            "x[{i}]: mean {m} vs {mean} (mcse {mcse})"
        );
        let sq: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| c.iter().map(|x| (x - mean).powi(2)).collect())
            .collect();
        let sq_refs: Vec<&[f64]> = sq.iter().map(Vec::as_slice).collect();
        let sq_all = sq.concat();
        let v = sq_all.iter().sum::<f64>() / sq_all.len() as f64;
        let sd_sq = (sq_all.iter().map(|s| (s - v).powi(2)).sum::<f64>()
            / (sq_all.len() as f64 - 1.0))
            .sqrt();
        let se = sd_sq / ess_mean(&sq_refs).sqrt();
        assert!(
            (v - var).abs() < 4.0 * se,
            "x[{i}]: variance {v} vs {var} (se {se})"
        );
    }
}

fn run<K: Kernel>(kernel: K, target: Gaussian, seed: u64) -> Posterior {
    let mut mcmc = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(seed)
        .progress(false);
    mcmc.run(&Unconstrained::new(target)).unwrap()
}

#[test]
fn leapfrog_matches_the_harmonic_oscillator() {
    // H = q²/2 + p²/2: exact flow q(t) = q₀ cos t + p₀ sin t; leapfrog's energy error
    // is O(ε²) and bounded, its phase error after time T is O(ε² T).
    let target = Gaussian {
        dim: 1,
        mean: vec![0.0],
        precision: vec![1.0],
    };
    let params = HmcParams {
        step_size: 0.01,
        inverse_mass_matrix: Metric::unit(1),
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let kernel = Hmc::new(100);
    let state = kernel.init(&target, &[1.0]).unwrap();
    // one trajectory of t = 1 from q0 = 1 with a random p0: the accepted end point lies
    // on the exact flow to O(ε²)
    let (next, info) = kernel.step(&target, &mut rng, &state, &params);
    assert_eq!(info.num_integration_steps, 100);
    assert!(info.acceptance_rate > 0.9999, "{}", info.acceptance_rate);
    let (q0, q1) = (1.0f64, next.position[0]);
    // p0 from energy: H is conserved to O(ε²): p0² = 2H - q0²; q1 = cos 1 + p0 sin 1
    let h = info.energy;
    let p0_abs = (2.0 * h - q0 * q0).max(0.0).sqrt();
    let candidates = [
        1f64.cos() + p0_abs * 1f64.sin(),
        1f64.cos() - p0_abs * 1f64.sin(),
    ];
    let err = candidates
        .iter()
        .map(|c| (c - q1).abs())
        .fold(f64::INFINITY, f64::min);
    assert!(err < 1e-4, "end point {q1} vs exact {candidates:?}");
}

#[test]
fn nuts_recovers_iid_gaussians() {
    for dim in [2, 50] {
        let target = Gaussian::iid(dim, 2.0);
        let means = target.mean.clone();
        let posterior = run(Nuts::default(), target, 11);
        check_moments(&posterior, &means, &vec![4.0; dim]);
        assert_eq!(posterior.num_divergences(), 0);
    }
}

#[test]
fn hmc_recovers_iid_gaussians() {
    for dim in [2, 50] {
        let target = Gaussian::iid(dim, 2.0);
        let means = target.mean.clone();
        let posterior = run(Hmc::default().trajectory_length(4.0), target, 12);
        check_moments(&posterior, &means, &vec![4.0; dim]);
    }
}

#[test]
fn nuts_recovers_correlated_gaussians() {
    for (dim, dense) in [(2, false), (2, true), (50, true)] {
        let (target, variances) = Gaussian::correlated(dim, 0.9);
        let means = target.mean.clone();
        let posterior = run(Nuts::default().dense_mass(dense), target, 13);
        check_moments(&posterior, &means, &variances);
    }
}

#[test]
fn hmc_recovers_a_correlated_gaussian_with_a_dense_metric() {
    let (target, variances) = Gaussian::correlated(50, 0.9);
    let means = target.mean.clone();
    let posterior = run(
        Hmc::default().trajectory_length(6.0).dense_mass(true),
        target,
        14,
    );
    check_moments(&posterior, &means, &variances);
}

/// `num_chains × draws` transitions of `kernel` at a fixed step size and unit metric,
/// started at the mean after `burn_in` transitions; returns each coordinate's chains.
fn fixed_step_chains<K: Kernel<Params = HmcParams>>(
    kernel: &K,
    target: &Gaussian,
    step_size: f64,
    draws: usize,
    seed: u64,
) -> (Vec<Vec<Vec<f64>>>, f64) {
    let num_chains = 4;
    let burn_in = 200;
    let params = HmcParams {
        step_size,
        inverse_mass_matrix: Metric::unit(target.dim),
    };
    let mut chains: Vec<Vec<Vec<f64>>> = vec![Vec::new(); target.dim];
    let mut depth_sum = 0usize;
    for c in 0..num_chains {
        let mut rng = chain_rng(seed, c);
        let mut ws = kernel.workspace(target.dim);
        let mut state = kernel.init(target, &target.mean).unwrap();
        let mut draws_of_chain: Vec<Vec<f64>> =
            (0..target.dim).map(|_| Vec::with_capacity(draws)).collect();
        for t in 0..burn_in + draws {
            let info = kernel.transition(target, &mut rng, &mut state, &params, &mut ws);
            assert!(!info.is_divergent());
            if t >= burn_in {
                depth_sum += info.tree_depth();
                for (column, x) in draws_of_chain.iter_mut().zip(state.position()) {
                    column.push(*x);
                }
            }
        }
        for (coordinate, column) in chains.iter_mut().zip(draws_of_chain) {
            coordinate.push(column);
        }
    }
    (chains, depth_sum as f64 / (num_chains * draws) as f64)
}

/// Means within 4 MCSE and sds within 4 `mcse_sd` on every coordinate, and the average
/// z-score of the sds within 4 of its standard error `1/√dim`: a systematic bias of
/// the spread shows in that average long before it shows in any one coordinate.
fn check_mean_and_sd(chains: &[Vec<Vec<f64>>], means: &[f64], sds: &[f64], label: &str) {
    let mut z_sds = Vec::new();
    for (i, coordinate) in chains.iter().enumerate() {
        let refs: Vec<&[f64]> = coordinate.iter().map(Vec::as_slice).collect();
        let z_mean = (mean(&refs) - means[i]) / mcse_mean(&refs);
        let z_sd = (sd(&refs) - sds[i]) / mcse_sd(&refs);
        assert!(z_mean.abs() < 4.0, "{label} x[{i}]: mean z {z_mean}");
        assert!(
            z_sd.abs() < 4.0,
            "{label} x[{i}]: sd {} vs {} (z {z_sd})",
            sd(&refs),
            sds[i]
        );
        z_sds.push(z_sd);
    }
    let k = z_sds.len() as f64;
    let average = z_sds.iter().sum::<f64>() / k;
    eprintln!("{label}: z of the sds {z_sds:.2?}, average {average:.2}");
    assert!(
        average.abs() < 4.0 / k.sqrt(),
        "{label}: average z of the sds {average} ({z_sds:?})"
    );
}

/// Deep trees (a small fixed step, unit metric: depth ≈ 5) exercise the checks
/// across the seams between subtrees; a wrong momentum there biases the sds by 1–3 %,
/// invisible at 1000 draws, so this test takes 4 × 50 000.
#[test]
fn nuts_is_unbiased_with_deep_trees() {
    let standard = Gaussian {
        dim: 4,
        mean: vec![0.0; 4],
        precision: Gaussian::iid(4, 1.0).precision,
    };
    let (chains, depth) = fixed_step_chains(&Nuts::default(), &standard, 0.1, 50_000, 21);
    assert!(depth > 4.0, "mean tree depth {depth}");
    eprintln!("standard normal: mean tree depth {depth:.2}");
    check_mean_and_sd(&chains, &standard.mean, &[1.0; 4], "standard normal");

    let (correlated, variances) = Gaussian::correlated(4, 0.9);
    let sds: Vec<f64> = variances.iter().map(|v| v.sqrt()).collect();
    let (chains, depth) = fixed_step_chains(&Nuts::default(), &correlated, 0.05, 50_000, 22);
    assert!(depth > 4.0, "mean tree depth {depth}");
    eprintln!("correlated: mean tree depth {depth:.2}");
    check_mean_and_sd(&chains, &correlated.mean, &sds, "correlated");
}

/// The control of [`nuts_is_unbiased_with_deep_trees`]: static HMC (jittered steps, no
/// trajectory selection) with the same step and metric.
#[test]
fn hmc_is_unbiased_at_the_same_step() {
    let hmc = Hmc::new(20).jitter(0.5);
    let standard = Gaussian {
        dim: 4,
        mean: vec![0.0; 4],
        precision: Gaussian::iid(4, 1.0).precision,
    };
    let (chains, _) = fixed_step_chains(&hmc, &standard, 0.1, 50_000, 23);
    check_mean_and_sd(&chains, &standard.mean, &[1.0; 4], "standard normal");

    let (correlated, variances) = Gaussian::correlated(4, 0.9);
    let sds: Vec<f64> = variances.iter().map(|v| v.sqrt()).collect();
    let (chains, _) = fixed_step_chains(&hmc, &correlated, 0.05, 50_000, 24);
    check_mean_and_sd(&chains, &correlated.mean, &sds, "correlated");
}

/// A strongly correlated Gaussian with a tree depth of 2 saturates on most draws: the
/// posterior counts them, and its warnings name the limit and the fix (a dense
/// metric); the default depth on an isotropic Gaussian reports none.
#[test]
fn tree_depth_saturation_is_reported_with_the_fix() {
    let (gaussian, _) = Gaussian::correlated(6, 0.95);
    let model = Unconstrained::new(gaussian);
    let posterior = Mcmc::new(Nuts::default().max_tree_depth(2))
        .num_warmup(200)
        .num_samples(200)
        .num_chains(2)
        .seed(3)
        .progress(false)
        .run(&model)
        .unwrap();
    assert_eq!(posterior.max_tree_depth(), Some(2));
    let hits = posterior.num_max_tree_depth();
    assert!(hits > 200, "{hits} of 400 draws at depth 2");
    let warnings = posterior.warnings();
    let depth = warnings
        .iter()
        .find(|w| w.contains("maximum tree depth 2"))
        .expect("a tree-depth warning");
    assert!(depth.contains(&format!("{hits} of 400 draws")), "{depth}");
    assert!(depth.contains("dense_mass(true)"), "{depth}");

    let model = Unconstrained::new(Gaussian::iid(2, 1.0));
    let posterior = Mcmc::new(Nuts::default())
        .num_warmup(200)
        .num_samples(200)
        .seed(3)
        .progress(false)
        .run(&model)
        .unwrap();
    assert_eq!(posterior.num_max_tree_depth(), 0);
    assert!(
        posterior
            .warnings()
            .iter()
            .all(|w| !w.contains("tree depth"))
    );
    // kernels without a tree report no limit
    let posterior = Mcmc::new(Hmc::new(5))
        .num_warmup(50)
        .num_samples(50)
        .seed(3)
        .progress(false)
        .run(&model)
        .unwrap();
    assert_eq!(posterior.max_tree_depth(), None);
    assert_eq!(posterior.num_max_tree_depth(), 0);
}
