//! Bayesian updating with Sequential Monte Carlo: the posterior of a linear regression
//! updated batch by batch as data arrive, each update starting from the previous
//! particles, and checked against the posterior of all the data at once.
//!
//! `cargo run --release --example smc_bayesian_updating`

use rand::RngExt;
use tilde::prelude::*;
use tilde::samplers::{SmcResult, chain_rng};

/// `yᵢ ~ N(intercept + slope · xᵢ, sigma)`; with no data, the prior.
#[model]
fn regression(x: &[f64], y: &[f64]) {
    let intercept = sample!("intercept", Normal::new(0.0, 5.0));
    let slope = sample!("slope", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(2.0));
    for i in 0..y.len() {
        sample!(
            "y[{i}]",
            Normal::new(intercept + slope * x[i], sigma),
            obs = y[i]
        );
    }
}

/// `n` points with `x ~ U(−2, 2)` and `y = 1 + 0.5 x + N(0, 0.8²)` (Box–Muller).
fn simulate(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = chain_rng(seed, 0);
    let mut normal = || {
        let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let x: Vec<f64> = (0..n).map(|_| 4.0 * normal().tanh()).collect();
    let y = x.iter().map(|x| 1.0 + 0.5 * x + 0.8 * normal()).collect();
    (x, y)
}

/// Mean, sd and the MCSE of the mean (`sd / √ESS`) of one site's particles.
fn moments(result: &SmcResult, name: &str) -> tilde::Result<(f64, f64, f64)> {
    let draws = result.posterior.draws(name)?;
    let n = draws.len() as f64;
    let mean = draws.iter().sum::<f64>() / n;
    let sd = (draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Ok((mean, sd, sd / result.ess().sqrt()))
}

fn main() -> tilde::Result<()> {
    let (x, y) = simulate(120, 2024);
    let batch = 40;
    let smc = || {
        Smc::new(RandomWalkMetropolis::default().dense_mass(true))
            .num_particles(2000)
            .num_mcmc_steps(20)
    };
    let prior = regression(&[], &[]);

    // batch by batch: run on the first batch, then update with each next one
    let mut updating = smc().seed(1);
    let first = regression(&x[..batch], &y[..batch]);
    let mut result = updating.run(&PriorLikelihood::new(&prior, &first)?)?;
    println!(
        "after {batch:>3} points: {} stages, log evidence {:.3}",
        result.stages.len(),
        result.log_evidence
    );
    for end in (2 * batch..=x.len()).step_by(batch) {
        let seen = regression(&x[..end - batch], &y[..end - batch]);
        let all = regression(&x[..end], &y[..end]);
        result = updating.update(&PriorLikelihood::new(&seen, &all)?)?;
        println!(
            "after {end:>3} points: {} stages, log predictive density of the batch {:.3}",
            result.stages.len(),
            result.log_evidence
        );
    }

    // all the data at once
    let everything = regression(&x, &y);
    let direct = smc()
        .seed(2)
        .run(&PriorLikelihood::new(&prior, &everything)?)?;

    println!(
        "\n{:<10} {:>22} {:>22} {:>7}",
        "", "batch by batch", "all data", "z"
    );
    let mut worst: f64 = 0.0;
    for name in ["intercept", "slope", "sigma"] {
        let (m1, s1, e1) = moments(&result, name)?;
        let (m2, s2, e2) = moments(&direct, name)?;
        let z = (m1 - m2) / (e1 * e1 + e2 * e2).sqrt();
        worst = worst.max(z.abs());
        println!("{name:<10} {m1:>10.4} ± {s1:<9.4} {m2:>10.4} ± {s2:<9.4} {z:>7.2}");
    }
    println!(
        "log marginal likelihood: {:.3} summed over the batches, {:.3} at once",
        result.total_log_evidence, direct.log_evidence
    );
    // the two estimates agree within 4 of their combined Monte-Carlo errors
    assert!(
        worst < 4.0,
        "the posteriors disagree: |z| = {worst:.2} for a mean"
    );
    println!("the batch-by-batch posterior agrees with the all-data posterior (|z| < 4)");
    Ok(())
}
