//! The cost of building a model (its constructor: layout discovery) against one `logp`
//! evaluation, and the heap memory the built model keeps, for a loop-form model and its
//! vector form (docs/performance.md quotes it).
//!
//! ```sh
//! cargo run --release --example construction_cost
//! ```
//!
//! Memory is counted by a global allocator: bytes allocated and not freed between the
//! start of the constructor and the end of the measurement, with the model alive (the
//! data are borrowed, so they are not part of it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use tilde::prelude::*;

struct Counting;

/// Bytes currently allocated through the global allocator.
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One observation per loop iteration: `n` observed sites.
#[model]
fn loop_form(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", HalfNormal::new(5.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sigma), obs = y[i]);
    }
}

/// The same density as one vector site.
#[model]
fn vector_form(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", HalfNormal::new(5.0));
    sample!("y", Normal::new(mu, sigma).iid(y.len()), obs = y);
}

/// The median of `reps` timings of `f`, in seconds.
fn median_seconds(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn report<M: Model>(label: &str, n: usize, build: impl Fn() -> M) {
    let reps = if n >= 1_000_000 { 5 } else { 21 };
    let before = LIVE.load(Ordering::Relaxed);
    let model = build();
    let kept = LIVE.load(Ordering::Relaxed) - before;
    let x = vec![0.1; model.dim()];
    std::hint::black_box(model.logp(&x));
    let construct = median_seconds(reps, || {
        std::hint::black_box(build());
    });
    let logp = median_seconds(reps, || {
        std::hint::black_box(model.logp(&x));
    });
    println!(
        "{label:<12} n = {n:>8}: construction {:>9.1} us, one logp {:>8.1} us, ratio {:>6.1}; \
         model keeps {:>10} bytes ({:.1} per observation; data {} bytes)",
        construct * 1e6,
        logp * 1e6,
        construct / logp,
        kept,
        kept as f64 / n as f64,
        n * std::mem::size_of::<f64>(),
    );
}

fn main() {
    for n in [1_000, 100_000, 1_000_000] {
        let y: Vec<f64> = (0..n).map(|i| ((i % 17) as f64 - 8.0) * 0.3).collect();
        report("loop form", n, || loop_form(&y));
        report("vector form", n, || vector_form(&y));
    }
}
