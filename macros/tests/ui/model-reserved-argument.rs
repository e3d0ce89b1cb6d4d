use tilde::prelude::*;

#[model]
fn m(y: &[f64], __x: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

fn main() {}
