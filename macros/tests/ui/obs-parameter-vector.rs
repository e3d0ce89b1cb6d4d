//! `obs =` given a latent vector, with `.iid(n)`.
use tilde::prelude::*;

#[model]
fn obs_parameter_vector(y: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    sample!("z_again", Normal::new(0.0, 1.0).iid(y.len()), obs = z);
}

fn main() {}
