//! Plain `f64` arithmetic inside a model body, beside arithmetic on parameters.
use tilde::prelude::*;

#[model]
fn f64_arithmetic(y: &[f64]) {
    let c = y[0] - 1.0;
    let two = 2.0 * 3.0;
    let product = y[0] * y[1];
    let root = (1.0f64 - 0.81).sqrt();
    let m: f64 = y.iter().sum::<f64>() / y.len() as f64;
    let k = y.len() % 2 + 1;
    let mu = sample!("mu", Normal::new(m, 1.0));
    let scale = sample!("scale", HalfNormal::new(1.0));
    let shifted = mu - c + 2.0 * scale / two;
    sample!("y0", Normal::new(shifted * root, scale + product), obs = y[0]);
    sample!("y1", Normal::new(mu * k as f64, 1.0 + scale), obs = y[1]);
}

fn main() {
    let model = f64_arithmetic(&[1.0, 2.0]);
    assert_eq!(model.dim(), 2);
    assert!(model.logp(&[0.1, 0.2]).is_finite());
}
