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
    // float literals and untyped float bindings mixed in arithmetic
    let half = 1.0 + 2.0 * 0.25;
    let c2 = 2.0;
    let s2 = 1.0 + c2 * 0.5;
    let s3 = c2 + c2 * c2;
    let d2 = c2 * 0.5;
    let s4 = -1.0 + d2 / (2.0 - 0.5);
    let f32_value: f32 = 1.5;
    let f32_sum = f32_value + f32_value;
    let mu = sample!("mu", Normal::new(m, 1.0));
    let scale = sample!("scale", HalfNormal::new(1.0));
    let shifted = mu - c + 2.0 * scale / two;
    sample!("y0", Normal::new(shifted * root, scale + product), obs = y[0]);
    sample!("y1", Normal::new(mu * k as f64, 1.0 + scale), obs = y[1]);
    factor!("literals", -0.01 * (half + s2 + s3 + s4 + f32_sum as f64) * mu * mu);
    sample!("y2", Normal::new(mu, 1.0 + c2 * 0.0), obs = y[0]);
}

fn main() {
    let model = f64_arithmetic(&[1.0, 2.0]);
    assert_eq!(model.dim(), 2);
    assert!(model.logp(&[0.1, 0.2]).is_finite());
}
