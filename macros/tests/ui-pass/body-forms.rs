//! `return;`, `deterministic!` of a slice, `factor!` of an `f64` and of a `T`.
use tilde::prelude::*;

#[model]
fn body_forms(y: &[f64], skip: bool) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let theta = sample!("theta", Normal::new(0.0, 1.0).iid(y.len()));
    let theta = deterministic!("theta_copy", theta);
    let shifted: Vec<T> = theta.iter().map(|&t| t + mu).collect();
    deterministic!("shifted", shifted.as_slice());
    deterministic!("twice_mu", 2.0 * mu);
    factor!("constant", -1.5);
    factor!("shrink", -0.5 * mu * mu);
    if skip {
        return;
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(shifted[i], 1.0), obs = y[i]);
    }
}

fn main() {
    let y = [1.0, 2.0];
    let model = body_forms(&y, false);
    assert_eq!(model.dim(), 3);
    let lp = model.logp(&[0.0; 3]);
    let skipped = body_forms(&y, true);
    assert_eq!(skipped.dim(), 3);
    assert!(skipped.logp(&[0.0; 3]) > lp);
}
