//! Borrowed slices, an owned `Vec<f64>` and a `usize` as data; `f64` and `T` mixing.
use tilde::prelude::*;

#[model]
fn regression(x: &[f64], y: &[f64], weights: Vec<f64>, n: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0));
    let noise = sample!("noise", Normal::new(0.0, 1.0).iid(n));
    for i in 0..n {
        let mean = alpha + beta * x[i] + 2.0 * noise[i];
        let resid = y[i] - mean;
        factor!("w[{i}]", weights[i] * resid * resid * -0.5);
        sample!("y[{i}]", Normal::new(mean, 1.0), obs = y[i]);
    }
    sample!("y_all", Normal::new(alpha, 5.0).iid(y.len()), obs = y);
    sample!("w_all", Normal::new(0.0, 5.0).iid(weights.len()), obs = &weights);
}

fn main() {
    let x = [0.0, 1.0, 2.0];
    let y = [0.5, 1.4, 2.6];
    let model = regression(&x, &y, vec![1.0, 1.0, 0.5], 3);
    assert_eq!(model.dim(), 5);
    let point = vec![0.1; model.dim()];
    let lp = model.logp(&point);
    assert!(lp.is_finite());
    let mut grad = vec![0.0; model.dim()];
    assert_eq!(model.logp_and_grad(&point, &mut grad), lp);
}
