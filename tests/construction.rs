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

#[model]
fn indexed(y: &[f64], k: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0), obs = y[k]);
}

#[test]
fn try_constructor_turns_a_panic_of_the_body_into_an_error() {
    let y = [1.0, 2.0];
    let model = try_indexed(&y, 1).unwrap();
    assert_eq!(model.dim(), 1);
    match try_indexed(&y, 5) {
        Err(Error::ModelPanicked { model, message }) => {
            assert_eq!(model, "indexed");
            assert!(message.contains("index out of bounds"), "{message}");
        }
        other => panic!("expected ModelPanicked, got {other:?}"),
    }
    let err = try_indexed(&y, 5).unwrap_err().to_string();
    assert!(err.contains("building model `indexed` panicked"), "{err}");
    // the infallible constructor keeps panicking
    assert!(std::panic::catch_unwind(|| indexed(&y, 5)).is_err());
}

#[test]
fn try_constructor_returns_the_first_data_fault() {
    let mut y = data(4);
    y[2] = f64::INFINITY;
    assert!(matches!(
        try_loop_form(&y),
        Err(Error::NonFiniteData { ref site, index: None, .. }) if site == "y[2]"
    ));
    #[model]
    fn lengths(y: &[f64]) {
        let mu = sample!("mu", Normal::new(0.0, 1.0));
        sample!("y", Normal::new(mu, 1.0).iid(3), obs = y);
    }
    assert!(matches!(
        try_lengths(&[1.0, 2.0]),
        Err(Error::ObsLength {
            expected: 3,
            found: 2,
            ..
        })
    ));
    // the infallible constructor stores it for `check()`
    assert!(lengths(&[1.0, 2.0]).check().is_err());
}

/// Owned data: the clone owns a copy.
#[model]
fn owned(y: Vec<f64>, scale: f64) {
    let mu = sample!("mu", Normal::new(0.0, scale));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

#[test]
fn the_model_struct_is_clone_and_debug() {
    let model = owned(vec![0.5, 1.5], 3.0);
    let copy = model.clone().with_engine(tilde::Engine::Reverse);
    let (mut g1, mut g2) = ([0.0], [0.0]);
    let want = model.logp_and_grad(&[0.2], &mut g1);
    drop(model);
    assert_eq!(copy.logp_and_grad(&[0.2], &mut g2), want);
    assert!((g1[0] - g2[0]).abs() < 1e-12);
    assert_eq!(copy.layout().column_names(), ["mu"]);
    let shown = format!("{copy:?}");
    assert!(
        shown.starts_with("Owned { y: [0.5, 1.5], scale: 3.0, layout: "),
        "{shown}"
    );

    let y = data(3);
    let borrowed = loop_form(&y);
    let again = borrowed.clone();
    assert_eq!(again.logp(&[0.1, 0.2]), borrowed.logp(&[0.1, 0.2]));
    assert!(format!("{again:?}").starts_with("LoopForm { y: ["));
}

fn is_clone<M: Clone>(_: &M) {}
fn is_debug<M: std::fmt::Debug>(_: &M) {}

/// Data that is neither `Clone` nor `Debug`: the struct is not either, and still compiles.
struct Blob(Vec<f64>);

#[model]
fn opaque(data: &Blob, extra: Blob) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0).iid(data.0.len()), obs = &data.0);
    sample!("z", Normal::new(mu, 1.0).iid(extra.0.len()), obs = &extra.0);
}

#[test]
fn user_derives_reach_the_struct() {
    /// A model whose struct derives what its user asks.
    #[model]
    #[derive(Clone, Debug, PartialEq)]
    #[must_use]
    fn derived(y: Vec<f64>) {
        let mu = sample!("mu", Normal::new(0.0, 1.0));
        sample!("y", Normal::new(mu, 1.0).iid(y.len()), obs = &y);
    }
    let model = derived(vec![1.0]);
    is_clone(&model);
    is_debug(&model);
    assert_eq!(model.clone(), model);
    assert_ne!(derived(vec![2.0]), model);
    // a model over data that is not Clone still builds; `&Blob` is Clone, `Blob` not
    let blob = Blob(vec![1.0]);
    let o = opaque(&blob, Blob(vec![2.0]));
    assert_eq!(o.dim(), 1);
}

#[model]
fn wide(y: &[f64]) {
    let theta = sample!("theta", Normal::new(0.0, 1.0).iid(y.len()));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(theta[i], sigma), obs = y[i]);
    }
}

#[test]
fn scratch_buffers_can_be_released() {
    let y = data(20_000);
    let model = wide(&y);
    let x = vec![0.1; model.dim()];
    let mut want = vec![0.0; model.dim()];
    let lp = model.logp_and_grad(&x, &mut want);
    for engine in [tilde::Engine::Reverse, tilde::Engine::Forward] {
        let m = model.clone().with_engine(engine);
        let mut g = vec![0.0; m.dim()];
        // forward duals on 20 001 dimensions take many passes: one evaluation is enough
        m.logp_and_grad(&x, &mut g);
    }
    let _ = model.logp(&x);
    let held = tilde::scratch_bytes();
    // the tape alone holds a node and an edge per observation
    assert!(held > 20_000 * 8, "held {held} bytes");
    let freed = tilde::release_scratch();
    assert_eq!(freed, held);
    assert_eq!(tilde::scratch_bytes(), 0);
    // the model still works, and allocates its buffers again
    let mut grad = vec![0.0; model.dim()];
    assert_eq!(model.logp_and_grad(&x, &mut grad), lp);
    assert_eq!(grad, want);
    assert!(tilde::scratch_bytes() > 0);
    tilde::release_scratch();
}
