//! Gradient cost and NUTS throughput on eight schools and a 100-dimensional Gaussian,
//! and the share of sampler time spent outside the log-density.
//!
//! ```text
//! cargo bench --bench sampler
//! ```
//! Figures are ratios within one run (this machine is noisy); see docs/performance.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tilde::Unconstrained;
use tilde::prelude::*;

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
fn gaussian_100(scales: &[f64]) {
    sample!("x", Normal::new(0.0, 1.0).iid(scales.len()));
}

/// The same 100-dimensional standard Gaussian with a hand-written gradient.
struct AnalyticGaussian;

impl LogDensity for AnalyticGaussian {
    fn dim(&self) -> usize {
        100
    }
    fn logp(&self, x: &[f64]) -> f64 {
        -0.5 * x.iter().map(|v| v * v).sum::<f64>()
    }
    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        for (g, v) in grad.iter_mut().zip(x) {
            *g = -v;
        }
        self.logp(x)
    }
}

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

fn gradient_benches(c: &mut Criterion, name: &str, model: &impl LogDensity) -> f64 {
    let x: Vec<f64> = (0..model.dim()).map(|i| 0.01 * i as f64 - 0.2).collect();
    let mut grad = vec![0.0; model.dim()];
    c.bench_function(&format!("{name}/logp"), |b| {
        b.iter(|| black_box(model.logp(black_box(&x))))
    });
    c.bench_function(&format!("{name}/logp_and_grad"), |b| {
        b.iter(|| {
            black_box(model.logp_and_grad(black_box(&x), &mut grad));
            black_box(&grad);
        })
    });
    // a direct estimate of one gradient, used for the share below
    let n = 20_000;
    let start = Instant::now();
    for _ in 0..n {
        black_box(model.logp_and_grad(black_box(&x), &mut grad));
    }
    start.elapsed().as_secs_f64() / n as f64
}

fn nuts_bench<M: Model + tilde::SampledBy<Nuts> + Sync>(
    c: &mut Criterion,
    name: &str,
    model: &M,
    seconds_per_gradient: f64,
) {
    let run = || {
        Mcmc::new(Nuts::default())
            .num_warmup(500)
            .num_samples(500)
            .num_chains(1)
            .seed(1)
            .progress(false)
            .run(model)
            .unwrap()
    };
    c.bench_function(&format!("{name}/nuts_1000_iterations"), |b| {
        b.iter(|| black_box(run()))
    });
    let start = Instant::now();
    let posterior = run();
    let total = start.elapsed().as_secs_f64();
    let grads = posterior.num_gradient_evals();
    let inside = grads as f64 * seconds_per_gradient;
    println!(
        "{name}: {:.0} gradients/s, {:.0} draws/s (1 chain, warm-up included), \
         {:.0} % of sampler time outside the log-density",
        1.0 / seconds_per_gradient,
        1000.0 / total,
        100.0 * (1.0 - inside / total).max(0.0)
    );
}

fn benches(c: &mut Criterion) {
    let schools = eight_schools(&Y, &SIGMA);
    let t = gradient_benches(c, "eight_schools", &schools);
    nuts_bench(c, "eight_schools", &schools, t);

    let gaussian = gaussian_100(&[1.0; 100]);
    let t = gradient_benches(c, "gaussian_100", &gaussian);
    nuts_bench(c, "gaussian_100", &gaussian, t);

    let hand = Unconstrained::new(AnalyticGaussian);
    let t = gradient_benches(c, "gaussian_100_analytic", &hand);
    nuts_bench(c, "gaussian_100_analytic", &hand, t);
}

criterion_group! {
    name = sampler;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(sampler);
