//! `logp` and `logp_and_grad` do not allocate once the thread's buffers are warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tilde::Engine;
use tilde::prelude::*;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[model]
fn schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        let theta = deterministic!("theta[{i}]", mu + tau * theta_raw[i]);
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

fn allocations_per_call(model: &impl LogDensity) -> (usize, usize) {
    let x: Vec<f64> = (0..model.dim()).map(|i| 0.1 * i as f64 - 0.3).collect();
    let mut grad = vec![0.0; model.dim()];
    model.logp(&x);
    model.logp_and_grad(&x, &mut grad);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..10 {
        std::hint::black_box(model.logp(&x));
    }
    let after_logp = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..10 {
        std::hint::black_box(model.logp_and_grad(&x, &mut grad));
    }
    let after_grad = ALLOCATIONS.load(Ordering::Relaxed);
    (after_logp - before, after_grad - after_logp)
}

#[test]
fn no_allocation_after_warm_up() {
    // dimensions 4, 10 and 42 cover the 4- and 16-wide duals and several passes
    for j in [2usize, 8, 40] {
        let y: Vec<f64> = (0..j).map(|i| i as f64).collect();
        let sigma = vec![2.0; j];
        for engine in [Engine::Auto, Engine::Forward, Engine::Reverse] {
            let model = schools(&y, &sigma).with_engine(engine);
            assert_eq!(allocations_per_call(&model), (0, 0), "J = {j}, {engine:?}");
        }
    }
}
