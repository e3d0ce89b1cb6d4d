use tilde::prelude::*;

#[model]
fn observed(y: f64) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    sample!("y", Bernoulli::new(p), obs = y, enumerate);
}

fn main() {}
