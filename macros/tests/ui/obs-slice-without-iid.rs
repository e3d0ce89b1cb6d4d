//! `obs = &y` on a scalar distribution, without `.iid(n)`.
use tilde::prelude::*;

#[model]
fn obs_slice_without_iid(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0), obs = y);
}

fn main() {}
