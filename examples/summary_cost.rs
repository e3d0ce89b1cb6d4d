//! The cost of `Posterior::summary` and of the cheap per-column statistics at
//! D = 1000 columns, 4 chains × 1000 draws (docs/performance.md quotes it).
//!
//! ```sh
//! cargo run --release --example summary_cost
//! ```
//!
//! The draws are AR(1) series `θₜ = φ θₜ₋₁ + εₜ`, seeded: φ = 0.5 mixes like a good
//! NUTS run, φ = 0.99 like a poor one, whose autocorrelation stays positive for
//! hundreds of lags.

use std::time::Instant;

use rand::RngExt;
use tilde::Posterior;

fn ar1(phi: f64, columns: usize, draws: usize, seed: u64) -> Vec<f64> {
    let mut rng = tilde::samplers::chain_rng(seed, 0);
    let mut state = vec![0.0; columns];
    let mut values = Vec::with_capacity(columns * draws);
    for _ in 0..draws {
        for s in state.iter_mut() {
            // Box–Muller: one standard normal from two uniforms
            let (u, v): (f64, f64) = (rng.random(), rng.random());
            let e = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            *s = phi * *s + e;
            values.push(*s);
        }
    }
    values
}

fn median_seconds(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

fn main() -> Result<(), tilde::Error> {
    let (columns, draws, chains) = (1000, 1000, 4);
    let names: Vec<String> = (0..columns).map(|i| format!("x[{i}]")).collect();
    for phi in [0.5, 0.99] {
        let posterior = Posterior::from_draws(
            names.clone(),
            (0..chains)
                .map(|c| ar1(phi, columns, draws, c as u64))
                .collect(),
        )?;
        let summary = median_seconds(|| {
            std::hint::black_box(posterior.summary());
        });
        println!(
            "phi = {phi}: summary of {columns} columns x {chains} chains x {draws} draws: {:.1} ms",
            summary * 1e3
        );
    }
    Ok(())
}
