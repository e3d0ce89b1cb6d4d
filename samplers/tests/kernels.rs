//! HMC and NUTS on Gaussians with analytic gradients: the integrator against the exact
//! oscillator, and posterior moments within Monte-Carlo error.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tilde_core::LogDensity;
use tilde_samplers::diagnostics::{ess_mean, mcse_mean};
use tilde_samplers::{Hmc, HmcParams, Kernel, Mcmc, Metric, Nuts, Posterior, Unconstrained};

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
