//! Operand order does not decide inference: data first or parameter first.
use tilde::prelude::*;

#[model]
fn operand_order(height: &[f64], male: &[f64], y: &[f64]) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(4));
    for i in 0..y.len() {
        let a = beta[3] * height[i] * male[i];
        let b = height[i] * male[i] * beta[3];
        let c = 2.0 * height[i] - beta[0] / male[i] + (1.0 - beta[1]) * height[i];
        sample!("y[{i}]", Normal::new(a + b + c, 1.0), obs = y[i]);
    }
}

fn main() {
    let model = operand_order(&[1.5, 1.7], &[1.0, 2.0], &[0.2, 0.3]);
    assert_eq!(model.dim(), 4);
    assert!(model.logp(&[0.1, 0.2, 0.3, 0.4]).is_finite());
}
