use tilde::prelude::*;

#[model]
#[track_caller]
fn one_normal(y: f64) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0), obs = y);
}

fn main() {
    let _ = one_normal(0.5);
}
