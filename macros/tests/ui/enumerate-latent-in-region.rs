use tilde::prelude::*;

#[model]
fn switch(y: f64) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    let z = sample!("z", Bernoulli::new(p), enumerate);
    let mu = sample!("mu", Normal::new(if z { 1.0 } else { 0.0 }, 1.0));
    sample!("y", Normal::new(mu, 1.0), obs = y);
}

#[model]
fn not_bound(y: f64) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    let mu = if sample!("z", Bernoulli::new(p), enumerate) { 1.0 } else { 0.0 };
    sample!("y", Normal::new(mu, 1.0), obs = y);
}

fn main() {}
