//! Building a model: what its constructor costs and keeps, the fallible constructor,
//! the traits of the generated struct, data computed once, and per-thread scratch.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tilde::prelude::*;
use tilde::{Error, SiteKind};

struct Counting;

thread_local! {
    /// Bytes allocated and not yet freed by this thread (tests run in parallel threads).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: forwards to the system allocator, only counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|c| c.set(c.get() + layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|c| c.set(c.get() - layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[model]
fn loop_form(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", HalfNormal::new(5.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sigma), obs = y[i]);
    }
}

fn data(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i % 17) as f64 - 8.0) * 0.3).collect()
}

#[test]
fn a_loop_form_model_keeps_no_record_per_observation() {
    let y = data(100_000);
    let before = live_bytes();
    let model = loop_form(&y);
    let kept = live_bytes() - before;
    // was ≈ 232 bytes per observation (23 MB here); now a layout of two latent sites
    assert!(kept < 4096, "the model keeps {kept} bytes");
    assert!(kept < (y.len() * 8) as isize);
    let names: Vec<&str> = model
        .layout()
        .sites()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["mu", "sigma"]);
    assert_eq!(model.dim(), 2);
    model.check().unwrap();
}

#[test]
fn observed_sites_are_still_listed_when_asked() {
    let y = data(5);
    let model = loop_form(&y);
    let x = [0.3, -0.2];
    let parts = model.logp_breakdown(&x);
    let observed: Vec<&str> = parts
        .iter()
        .filter(|p| p.kind == SiteKind::Observed)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(observed, ["y[0]", "y[1]", "y[2]", "y[3]", "y[4]"]);
    let total: f64 = parts.iter().map(|p| p.log_density + p.ln_jacobian).sum();
    assert!((total - model.logp(&x)).abs() < 1e-12 * total.abs());
    let row = model.constrain(&x);
    let pointwise = model.pointwise_log_likelihood(row.values()).unwrap();
    assert_eq!(pointwise.len(), 5);
    assert_eq!(pointwise[4].0, "y[4]");
}

#[test]
fn data_faults_are_still_found_at_construction() {
    let mut y = data(10);
    y[7] = f64::NAN;
    let model = loop_form(&y);
    assert!(matches!(
        model.check(),
        Err(Error::NonFiniteData { ref site, .. }) if site == "y[7]"
    ));
}

#[test]
fn repeated_observed_names_show_in_the_pointwise_log_likelihood() {
    #[model]
    fn twice(y: &[f64]) {
        let mu = sample!("mu", Normal::new(0.0, 1.0));
        for i in 0..y.len() {
            sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
        }
        for j in 0..y.len() {
            sample!("y[{j}]", Normal::new(mu, 2.0), obs = y[j]);
        }
    }
    let model = twice(&[1.0, 2.0]);
    assert_eq!(
        model.pointwise_log_likelihood(&[0.0]),
        Err(Error::DuplicateSite {
            name: "y[0]".into()
        })
    );
}
