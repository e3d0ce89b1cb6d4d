//! The generated struct: `Clone` and `Debug` from its data, user derives and attributes
//! kept, and the fallible constructor.
use tilde::prelude::*;

/// Docs, lints, `cfg`, `must_use` and derives written on the function are kept.
#[model]
#[derive(PartialEq)]
#[allow(clippy::needless_range_loop)]
#[cfg(not(any()))]
#[must_use]
fn schools(y: &[f64], sigma: Vec<f64>) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sigma[i]), obs = y[i]);
    }
}

#[model]
#[derive(Debug, Clone)]
fn derived(n: usize) {
    sample!("x", Normal::new(0.0, 1.0).iid(n));
}

fn needs_traits<M: Clone + std::fmt::Debug + Model + Send + Sync + 'static>(m: &M) -> usize {
    m.clone().dim()
}

fn main() -> Result<(), tilde::Error> {
    let y = [28.0, 8.0];
    let model = try_schools(&y, vec![15.0, 10.0])?;
    let copy = model.clone();
    assert!(copy == model);
    println!("{copy:?}");
    let d = try_derived(3)?;
    assert_eq!(needs_traits(&d), 3);
    println!("{d:?}");
    Ok(())
}
