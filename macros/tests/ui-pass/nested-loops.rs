//! Nested loops whose site names interpolate both loop variables.
use tilde::prelude::*;

#[model]
fn grid(y: &[f64], rows: usize, cols: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..rows {
        for k in 0..cols {
            let z = sample!("z[{i},{k}]", Normal::new(mu, 1.0));
            sample!("y[{i},{k}]", Normal::new(z, 0.5), obs = y[i * cols + k]);
        }
    }
}

fn main() {
    let y = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    let model = grid(&y, 2, 3);
    assert_eq!(model.dim(), 7);
    assert!(model.logp(&[0.0; 7]).is_finite());
}
