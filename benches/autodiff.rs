//! Gradient cost relative to a plain `f64` evaluation of the same log-density, for the
//! forward engine, the reverse engine, the automatic choice and a hand-written
//! gradient: logistic regression (N = 1000, D = 5, 20, 100, 1000) and a non-centred
//! hierarchical normal (J = 8, 100, 1000 groups).
//!
//! ```text
//! cargo bench --bench autodiff
//! ```
//! Each configuration prints `ratio = gradient time / f64 time` from interleaved
//! batches (median of 9 pairs), which is robust to the machine's background load.

mod common;

use std::hint::black_box;

use common::ratio;

use criterion::{Criterion, criterion_group, criterion_main};
use tilde::Engine;
use tilde::glm::Glm;
use tilde::prelude::*;
use tilde::vector::{VectorExpr, data, params};

#[model]
fn logistic_regression(x: &[f64], y: &[bool], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.5));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    sample!("y", Glm::bernoulli_logit(x, beta, alpha), obs = y);
}

#[model]
fn hierarchical_normal(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    let theta = params(theta_raw).scale(tau).shift(mu);
    sample!("y", Normal::each(theta, data(sigma)), obs = y);
}

/// The same model written with a scalar loop over the groups.
#[model]
fn hierarchical_normal_loop(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        sample!(
            "y[{i}]",
            Normal::new(mu + tau * theta_raw[i], sigma[i]),
            obs = y[i]
        );
    }
}

/// A Gaussian over a data precision matrix (factored once per model).
#[model]
fn gaussian_precision(zeros: &[f64], prec: &[f64]) {
    sample!("x", MultivariateNormal::precision(data(zeros), data(prec)));
}

/// Logistic regression with its gradient written by hand.
struct LogisticByHand<'a> {
    x: &'a [f64],
    y: &'a [bool],
    d: usize,
}

impl LogDensity for LogisticByHand<'_> {
    fn dim(&self) -> usize {
        self.d + 1
    }
    fn logp(&self, p: &[f64]) -> f64 {
        let mut g = vec![0.0; self.d + 1];
        self.logp_and_grad(p, &mut g)
    }
    fn logp_and_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let (alpha, beta) = (p[0], &p[1..]);
        let mut lp = -0.5 * (alpha / 2.5).powi(2) - 0.5 * beta.iter().map(|b| b * b).sum::<f64>();
        grad[0] = -alpha / 6.25;
        for (g, b) in grad[1..].iter_mut().zip(beta) {
            *g = -b;
        }
        for (i, &yi) in self.y.iter().enumerate() {
            let row = &self.x[i * self.d..(i + 1) * self.d];
            let eta = alpha + row.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>();
            let yv = if yi { 1.0 } else { 0.0 };
            lp += yv * eta - eta.log1p_exp();
            let r = yv - eta.inv_logit();
            grad[0] += r;
            for (g, a) in grad[1..].iter_mut().zip(row) {
                *g += r * a;
            }
        }
        lp
    }
}

fn benches(c: &mut Criterion) {
    let n = 1000;
    println!("logistic regression, N = {n}: gradient time / f64 time");
    for d in [5usize, 20, 100, 1000] {
        let x: Vec<f64> = (0..n * d)
            .map(|k| ((k * 2654435761) % 1000) as f64 / 500.0 - 1.0)
            .collect();
        let y: Vec<bool> = (0..n).map(|i| (i * 7) % 3 == 0).collect();
        let model = logistic_regression(&x, &y, d);
        let by_hand = LogisticByHand { x: &x, y: &y, d };
        let mut row = format!("  D = {d:>4}:");
        for engine in [Engine::Forward, Engine::Reverse, Engine::Auto] {
            if engine == Engine::Forward && d > 100 {
                row += "  Forward –";
                continue;
            }
            let m = logistic_regression(&x, &y, d).with_engine(engine);
            row += &format!("  {engine:?} {:.2}", ratio(&m, &model));
        }
        row += &format!("  by hand {:.2}", ratio(&by_hand, &model));
        println!("{row}");
        let m = logistic_regression(&x, &y, d);
        let p: Vec<f64> = vec![0.01; m.dim()];
        let mut g = vec![0.0; m.dim()];
        c.bench_function(&format!("logistic_d{d}/auto_grad"), |b| {
            b.iter(|| {
                black_box(m.logp_and_grad(black_box(&p), &mut g));
                black_box(&g);
            })
        });
    }
    mvn_benches();
    println!("hierarchical normal: gradient time / f64 time");
    for j in [8usize, 100, 1000] {
        let y: Vec<f64> = (0..j).map(|i| ((i * 37) % 23) as f64 - 11.0).collect();
        let sigma: Vec<f64> = (0..j).map(|i| 5.0 + (i % 7) as f64).collect();
        let model = hierarchical_normal(&y, &sigma);
        let mut row = format!("  J = {j:>4}:");
        for engine in [Engine::Forward, Engine::Reverse, Engine::Auto] {
            if engine == Engine::Forward && j > 100 {
                row += "  Forward –";
                continue;
            }
            let m = hierarchical_normal(&y, &sigma).with_engine(engine);
            row += &format!("  {engine:?} {:.2}", ratio(&m, &model));
        }
        let looped = hierarchical_normal_loop(&y, &sigma);
        row += &format!(
            "  | scalar loop: Reverse {:.2}",
            ratio(
                &looped.with_engine(Engine::Reverse),
                &hierarchical_normal_loop(&y, &sigma)
            )
        );
        println!("{row}");
    }
}

/// `n × n` precision matrix of an AR(1)-correlated Gaussian (tridiagonal, positive
/// definite).
fn ar1_precision(n: usize, rho: f64) -> Vec<f64> {
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        let edge = i == 0 || i == n - 1;
        p[i * n + i] = if edge { 1.0 } else { 1.0 + rho * rho } / (1.0 - rho * rho);
        if i + 1 < n {
            p[i * n + i + 1] = -rho / (1.0 - rho * rho);
            p[(i + 1) * n + i] = -rho / (1.0 - rho * rho);
        }
    }
    p
}

fn mvn_benches() {
    println!("Gaussian over a data precision matrix: gradient time / f64 time");
    for n in [10usize, 100] {
        let (zeros, prec) = (vec![0.0; n], ar1_precision(n, 0.9));
        let model = gaussian_precision(&zeros, &prec);
        let auto = ratio(&gaussian_precision(&zeros, &prec), &model);
        let generated = ratio(
            &gaussian_precision(&zeros, &prec).with_engine(Engine::Codegen),
            &model,
        );
        println!("  n = {n:>4}:  Auto {auto:.2}  Codegen {generated:.2}");
    }
}

criterion_group! {
    name = autodiff;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(autodiff);
