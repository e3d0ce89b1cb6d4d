use tilde::prelude::*;

#[model]
fn counts(y: f64) {
    let rate = sample!("rate", Gamma::new(2.0, 1.0));
    let k = sample!("k", Poisson::new(rate));
    sample!("y", Normal::new(k as f64, 1.0), obs = y);
}

fn main() {
    let _ = Svi::new(AutoNormal::new(), Adam::new(0.01)).run(&counts(3.0));
}
