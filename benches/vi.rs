//! Variational inference: SVI steps per second for AutoNormal and
//! AutoMultivariateNormal on eight schools and a 100-coefficient logistic regression,
//! and the NUTS warm-up gradient evaluations needed to reach the reference posterior
//! with and without Pathfinder's warm start (eight schools and a 100-d Gaussian with
//! scales from 0.1 to 10). Figures and the command are in docs/performance.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tilde::glm::Glm;
use tilde::prelude::*;
use tilde::{Guide, Posterior};

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        let theta = deterministic!("theta[{i}]", mu + tau * theta_raw[i]);
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

#[model]
fn logistic_regression(x: &[f64], y: &[bool], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.5));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    sample!("y", Glm::bernoulli_logit(x, beta, alpha), obs = y);
}

#[model]
fn scaled_gaussian(scales: &[f64]) {
    for (i, s) in scales.iter().enumerate() {
        sample!("x[{i}]", Normal::new(0.0, *s));
    }
}

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
const STEPS: usize = 200;

fn svi_bench<G: Guide + Clone, M: tilde::ContinuousModel + Sync>(
    c: &mut Criterion,
    name: &str,
    guide: G,
    model: &M,
) {
    let svi = Svi::new(guide, Adam::new(0.01))
        .num_steps(STEPS)
        .progress(false);
    c.bench_function(&format!("svi/{name} ({STEPS} steps)"), |b| {
        b.iter(|| black_box(svi.run(model).unwrap().elbo_trace().len()))
    });
}

/// Warm-up gradient evaluations of a run (the sampling phase's leapfrogs removed).
fn warmup_gradients(posterior: &Posterior) -> usize {
    let sampling: usize = (0..posterior.num_chains())
        .flat_map(|c| posterior.sample_stats(c))
        .map(|s| s.num_integration_steps)
        .sum();
    posterior.num_gradient_evals() - sampling
}

/// Whether every named mean is within 4 MCSE (plus the reference's) and converged.
fn agrees(posterior: &Posterior, reference: &[(&str, f64, f64)]) -> bool {
    let summary = posterior.summary();
    reference.iter().all(|(name, mean, mcse)| {
        let r = summary.get(name).unwrap();
        r.r_hat < 1.01 && (r.mean - mean).abs() < 4.0 * (r.mcse_mean.powi(2) + mcse * mcse).sqrt()
    })
}

/// The shortest warm-up (of 50, 100, 200, 300, 500, 1000) after which 4 chains × 1000
/// draws agree with the reference, and the gradient evaluations it took.
fn warmup_needed<M: tilde::ContinuousModel + tilde::SampledBy<Nuts> + Sync>(
    model: &M,
    pathfinder: bool,
    reference: &[(&str, f64, f64)],
) -> String {
    for warmup in [50, 100, 200, 300, 500, 1000] {
        let mut mcmc = Mcmc::new(Nuts::default())
            .num_warmup(warmup)
            .num_chains(4)
            .seed(5)
            .progress(false);
        let mut extra = 0;
        if pathfinder {
            mcmc = mcmc.initializer(Pathfinder::new());
            extra = Pathfinder::new()
                .seed(5)
                .run(model)
                .unwrap()
                .num_gradient_evals();
        }
        let posterior = mcmc.run(model).unwrap();
        if agrees(&posterior, reference) {
            let nuts = warmup_gradients(&posterior);
            return format!(
                "warm-up {warmup}: {} gradients ({nuts} NUTS + {extra} Pathfinder)",
                nuts + extra
            );
        }
    }
    "not reached with 1000 warm-up iterations".into()
}

fn benches(c: &mut Criterion) {
    let schools = eight_schools(&Y, &SIGMA);
    let d = 100;
    let n = 500;
    let x: Vec<f64> = (0..n * d).map(|k| ((k as f64) * 0.618).sin()).collect();
    let y: Vec<bool> = (0..n).map(|i| ((i as f64) * 1.3).cos() > 0.0).collect();
    let logistic = logistic_regression(&x, &y, d);
    svi_bench(c, "eight_schools/AutoNormal", AutoNormal::new(), &schools);
    svi_bench(
        c,
        "eight_schools/AutoMultivariateNormal",
        AutoMultivariateNormal::new(),
        &schools,
    );
    svi_bench(c, "logistic_100/AutoNormal", AutoNormal::new(), &logistic);
    svi_bench(
        c,
        "logistic_100/AutoMultivariateNormal",
        AutoMultivariateNormal::new(),
        &logistic,
    );

    // posteriordb eight_schools_noncentered: mu, tau means and their MCSE
    let reference = [("mu", 4.39, 0.05), ("tau", 3.62, 0.05)];
    let scales: Vec<f64> = (0..100)
        .map(|i| 0.1 * 100f64.powf(i as f64 / 99.0))
        .collect();
    let gaussian = scaled_gaussian(&scales);
    let names: Vec<String> = (0..100).step_by(11).map(|i| format!("x[{i}]")).collect();
    let gaussian_reference: Vec<(&str, f64, f64)> =
        names.iter().map(|n| (n.as_str(), 0.0, 0.0)).collect();
    for (label, pathfinder) in [("without Pathfinder", false), ("with Pathfinder", true)] {
        println!(
            "eight_schools, {label}: {}",
            warmup_needed(&schools, pathfinder, &reference)
        );
        println!(
            "gaussian_100, {label}: {}",
            warmup_needed(&gaussian, pathfinder, &gaussian_reference)
        );
    }
}

criterion_group! {
    name = vi;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(vi);
