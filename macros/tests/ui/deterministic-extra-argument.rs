use tilde::prelude::*;

#[model]
fn m() {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    deterministic!("mu2", mu * mu, obs = 1.0);
}

fn main() {}
