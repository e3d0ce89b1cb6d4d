//! End to end: LKJ priors on correlation matrices, sampled with NUTS.
//!
//! - The prior alone: every correlation `Ωᵢⱼ` of `LKJ(K, η)` has mean 0 and variance
//!   `1 / (2η + K - 1)` (its marginal is `2 Beta(η - 1 + K/2, η - 1 + K/2) - 1`).
//! - A bivariate normal with `L_Ω ~ LKJ(2, 2)`, `σ ~ HalfNormal(2)` and covariance factor
//!   `diag(σ) L_Ω`: the posterior mean of the correlation and the scales against a
//!   three-dimensional quadrature of the same posterior.
//!
//! Tolerance: 4 Monte-Carlo standard errors (from the chains' ESS) for every mean, plus
//! 1e-3 for the quadrature in the second test (its grid error is far below that).

use rand::SeedableRng;
use rand::distr::Distribution as _;
use rand::rngs::Xoshiro256PlusPlus;
use tilde::prelude::*;
use tilde::vector::{data, params};
use tilde::{MultivariateNormal, Posterior};

fn mcmc(seed: u64) -> Mcmc<Nuts> {
    Mcmc::new(Nuts::default())
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(seed)
        .progress(false)
}

/// The posterior mean of `name` is within 4 MCSE (plus `slack`) of `want`.
fn check_mean(posterior: &Posterior, name: &str, want: f64, slack: f64) {
    let row = posterior.summary().get(name).cloned().unwrap();
    assert!(row.r_hat < 1.01, "{name}: r_hat {}", row.r_hat);
    assert!(
        (row.mean - want).abs() < 4.0 * row.mcse_mean + slack,
        "{name}: mean {} vs {want} (mcse {})",
        row.mean,
        row.mcse_mean
    );
}

#[model]
fn lkj_prior(k: usize, eta: f64) {
    let l = sample!("L", LkjCholesky::new(k, eta));
    let omega_01 = l[k] * l[0];
    let omega_12 = l[2 * k] * l[k] + l[2 * k + 1] * l[k + 1];
    deterministic!("omega_01", omega_01);
    deterministic!("omega_12", omega_12);
    deterministic!("omega_01_sq", omega_01 * omega_01);
    deterministic!("omega_12_sq", omega_12 * omega_12);
}

#[test]
fn lkj_prior_correlations() {
    let (k, eta) = (3, 2.0);
    let model = lkj_prior(k, eta);
    assert_eq!(model.dim(), 3);
    let posterior = mcmc(11).run(&model).unwrap();
    let var = 1.0 / (2.0 * eta + k as f64 - 1.0);
    for name in ["omega_01", "omega_12"] {
        check_mean(&posterior, name, 0.0, 0.0);
    }
    for name in ["omega_01_sq", "omega_12_sq"] {
        check_mean(&posterior, name, var, 0.0);
    }
    // the draws are valid factors, named L[i,j]
    let l11 = posterior.draws("L[1,1]").unwrap();
    let l10 = posterior.draws("L[1,0]").unwrap();
    assert!(
        l11.iter()
            .zip(&l10)
            .all(|(d, o)| (d * d + o * o - 1.0).abs() < 1e-12 && *d > 0.0)
    );
    assert!(posterior.draws("L[0,1]").unwrap().iter().all(|&v| v == 0.0));
}

#[model]
fn correlated(y: &[f64]) {
    let l = sample!("L", LkjCholesky::new(2, 2.0));
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let scale = [
        sigma[0] * l[0],
        T::from(0.0),
        sigma[1] * l[2],
        sigma[1] * l[3],
    ];
    deterministic!("rho", l[2]);
    for n in 0..y.len() / 2 {
        sample!(
            "y[{n}]",
            MultivariateNormal::cholesky(data(&[0.0, 0.0]), params(&scale)),
            obs = &y[2 * n..2 * n + 2]
        );
    }
}

/// `(E[ρ], E[σ₀], E[σ₁])` under the posterior of [`correlated`], by the midpoint rule
/// on `ρ ∈ (-1, 1)` and on `ln σᵢ` around its maximum-likelihood value.
fn quadrature(y: &[f64]) -> (f64, f64, f64) {
    let n = (y.len() / 2) as f64;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for p in y.chunks(2) {
        sxx += p[0] * p[0];
        syy += p[1] * p[1];
        sxy += p[0] * p[1];
    }
    let (c0, c1) = ((sxx / n).sqrt().ln(), (syy / n).sqrt().ln());
    let (m_rho, m_s) = (400, 100);
    let half = 1.2;
    let grid = |centre: f64, b: usize| centre - half + (b as f64 + 0.5) * 2.0 * half / m_s as f64;
    // the log-posterior in (ρ, ln σ₀, ln σ₁): HalfNormal(2) priors, the LKJ(2, 2) prior
    // (1 - ρ²), the likelihood, and dσ = σ d ln σ
    let log_post = |rho: f64, ls0: f64, ls1: f64| {
        let q = 1.0 - rho * rho;
        let (s0, s1) = (ls0.exp(), ls1.exp());
        -(s0 * s0 + s1 * s1) / 8.0 + q.ln()
            - n * (ls0 + ls1)
            - 0.5 * n * q.ln()
            - (sxx / (s0 * s0) - 2.0 * rho * sxy / (s0 * s1) + syy / (s1 * s1)) / (2.0 * q)
            + ls0
            + ls1
    };
    let points = || {
        (0..m_rho).flat_map(move |a| {
            let rho = -1.0 + (a as f64 + 0.5) * 2.0 / m_rho as f64;
            (0..m_s).flat_map(move |b| (0..m_s).map(move |c| (rho, grid(c0, b), grid(c1, c))))
        })
    };
    let log_max = points()
        .map(|(r, a, b)| log_post(r, a, b))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut acc = [0.0f64; 4];
    for (rho, ls0, ls1) in points() {
        let w = (log_post(rho, ls0, ls1) - log_max).exp();
        acc[0] += w;
        acc[1] += w * rho;
        acc[2] += w * ls0.exp();
        acc[3] += w * ls1.exp();
    }
    (acc[1] / acc[0], acc[2] / acc[0], acc[3] / acc[0])
}

#[test]
fn correlated_normal_posterior() {
    // 40 pairs with correlation 0.6 and scales (1, 2)
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let std = Normal::<f64>::new(0.0, 1.0);
    let mut y = Vec::new();
    for _ in 0..40 {
        let (z0, z1) = (std.sample(&mut rng), std.sample(&mut rng));
        y.push(z0);
        y.push(2.0 * (0.6 * z0 + 0.8 * z1));
    }
    let model = correlated(&y);
    assert_eq!(model.dim(), 3);
    let posterior = mcmc(12).run(&model).unwrap();
    let (rho, s0, s1) = quadrature(&y);
    check_mean(&posterior, "rho", rho, 1e-3);
    check_mean(&posterior, "sigma[0]", s0, 1e-3);
    check_mean(&posterior, "sigma[1]", s1, 1e-3);
}
