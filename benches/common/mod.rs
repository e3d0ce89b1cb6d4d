//! What the benches share.

use std::hint::black_box;
use std::time::Instant;

use tilde::LogDensity;

/// Median over 9 interleaved batches of (gradient time / f64 time).
pub fn ratio(model: &impl LogDensity, reference: &impl LogDensity) -> f64 {
    let x: Vec<f64> = (0..model.dim())
        .map(|i| 0.01 * ((i * 7) % 13) as f64 - 0.05)
        .collect();
    let mut grad = vec![0.0; model.dim()];
    let batch = |f: &mut dyn FnMut()| {
        let mut n = 1;
        loop {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            let t = start.elapsed().as_secs_f64();
            if t > 0.02 {
                return t / n as f64;
            }
            n *= 2;
        }
    };
    let mut ratios: Vec<f64> = (0..9)
        .map(|_| {
            let plain = batch(&mut || {
                black_box(reference.logp(black_box(&x)));
            });
            let gradient = batch(&mut || {
                black_box(model.logp_and_grad(black_box(&x), &mut grad));
                black_box(&grad);
            });
            gradient / plain
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[4]
}
