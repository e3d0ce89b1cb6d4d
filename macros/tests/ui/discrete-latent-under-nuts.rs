use tilde::prelude::*;

#[model]
fn switch(y: f64) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    let z = sample!("z", Bernoulli::new(p));
    sample!("y", Normal::new(if z { 1.0 } else { 0.0 }, 1.0), obs = y);
}

fn main() {
    let _ = Mcmc::new(Nuts::default()).run(&switch(0.5));
}
