use tilde::prelude::*;

#[model]
fn m(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let nu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0).iid(y.len()), obs = y);
    factor!("nu", nu);
}

fn main() {}
