//! The gradient code `#[model]` generates, on models written the natural way (scalar
//! loops): gradient time / plain `f64` evaluation time of the same model, for the
//! generated code (`Engine::Codegen`) and the reverse tape (`Engine::Reverse`).
//!
//! ```text
//! cargo bench --bench codegen
//! ```
//! Ratios come from interleaved batches (median of 9 pairs), robust to background load.

mod common;
#[path = "../tests/common/natural.rs"]
mod natural;

use std::hint::black_box;

use common::ratio;
use criterion::{Criterion, criterion_group, criterion_main};
use natural::{garch11, hmm2, logistic_loop, ma2_stored};
use tilde::Engine;
use tilde::prelude::*;

#[model]
fn hierarchical_loop(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        let theta = mu + tau * theta_raw[i];
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

#[model]
fn arma11(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let phi = sample!("phi", Normal::new(0.0, 2.0));
    let theta = sample!("theta", Normal::new(0.0, 2.0));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    let mut err = y[0] - (mu + phi * mu);
    sample!("err[0]", Normal::new(0.0, sigma), obs = 0.0);
    factor!("first", -0.5 * err * err / (sigma * sigma));
    for t in 1..y.len() {
        let nu = mu + phi * y[t - 1] + theta * err;
        err = y[t] - nu;
        factor!("err[{t}]", -0.5 * err * err / (sigma * sigma) - sigma.ln());
    }
}

/// Stan's change point model with the change point summed out: `lp[s] += …` over every
/// split, then `log_sum_exp(lp)`.
#[model]
fn change_point(d: &[f64]) {
    let n = d.len();
    let e = sample!("e", Exponential::new(1.0));
    let l = sample!("l", Exponential::new(1.0));
    let mut lp = vec![T::from(-(n as f64).ln()); n];
    for s in 0..n {
        for t in 0..n {
            let rate = if t < s { e } else { l };
            lp[s] += Poisson::<T>::new(rate).ln_pdf_obs(d[t]);
        }
    }
    factor!("d", tilde::math::log_sum_exp(&lp));
}

/// A two-component normal mixture written the natural way: each point's two terms
/// named in an array inside the loop, summed with `log_sum_exp`.
#[model]
fn mixture(y: &[f64]) {
    let mu1 = sample!("mu1", Normal::new(-1.0, 2.0));
    let mu2 = sample!("mu2", Normal::new(1.0, 2.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let w = sample!("w", Beta::new(2.0, 2.0));
    for i in 0..y.len() {
        let terms = [
            w.ln() + Normal::<T>::new(mu1, s).ln_pdf_obs(y[i]),
            (1.0 - w).ln() + Normal::<T>::new(mu2, s).ln_pdf_obs(y[i]),
        ];
        factor!("y[{i}]", tilde::math::log_sum_exp(&terms));
    }
}

/// `name: generated r1, tape r2` for a model built by `make`.
fn row<M: LogDensity>(name: &str, make: impl Fn(Engine) -> M) {
    let reference = make(Engine::Auto);
    let generated = ratio(&make(Engine::Codegen), &reference);
    let tape = ratio(&make(Engine::Reverse), &reference);
    println!("  {name:<28} generated {generated:>5.2}   tape {tape:>5.2}");
}

fn series(n: usize) -> Vec<f64> {
    (0..n)
        .map(|t| ((t * 2654435761) % 1000) as f64 / 500.0 - 1.0)
        .collect()
}

fn benches(c: &mut Criterion) {
    println!("gradient time / f64 time of the same natural-loop model");
    let n = 1000;
    for d in [5usize, 20, 100] {
        let x: Vec<f64> = (0..n * d)
            .map(|k| ((k * 2654435761) % 1000) as f64 / 500.0 - 1.0)
            .collect();
        let y: Vec<f64> = (0..n).map(|i| ((i * 7) % 3 == 0) as u8 as f64).collect();
        row(&format!("logistic N = {n}, D = {d}"), |e| {
            logistic_loop(&x, &y, d).with_engine(e)
        });
        if d == 100 {
            let m = logistic_loop(&x, &y, d);
            let p = vec![0.01; m.dim()];
            let mut g = vec![0.0; m.dim()];
            c.bench_function("logistic_loop_d100/generated", |b| {
                b.iter(|| black_box(m.logp_and_grad(black_box(&p), &mut g)))
            });
        }
    }
    for j in [8usize, 100, 1000] {
        let y: Vec<f64> = (0..j).map(|i| ((i * 37) % 23) as f64 - 11.0).collect();
        let sigma: Vec<f64> = (0..j).map(|i| 5.0 + (i % 7) as f64).collect();
        row(&format!("hierarchical J = {j}"), |e| {
            hierarchical_loop(&y, &sigma).with_engine(e)
        });
    }
    let y = series(200);
    row("ARMA(1,1), T = 200", |e| arma11(&y).with_engine(e));
    row("GARCH(1,1), T = 200", |e| garch11(&y, 0.5).with_engine(e));
    row("HMM, 2 states, T = 200", |e| hmm2(&y).with_engine(e));
    row("MA(2), stored errors, T = 200", |e| {
        ma2_stored(&y).with_engine(e)
    });
    let counts: Vec<f64> = (0..60)
        .map(|t| ((t * 7) % 5 + if t < 30 { 1 } else { 4 }) as f64)
        .collect();
    row("change point, n = 60", |e| {
        change_point(&counts).with_engine(e)
    });
    row("mixture, 2 components, n = 200", |e| {
        mixture(&y).with_engine(e)
    });
}

criterion_group! {
    name = codegen;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(codegen);
