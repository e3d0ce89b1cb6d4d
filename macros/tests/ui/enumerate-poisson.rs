use tilde::prelude::*;

#[model]
fn counts(y: &[f64]) {
    let rate = sample!("rate", Gamma::new(2.0, 1.0));
    for i in 0..y.len() {
        let k = sample!("k[{i}]", Poisson::new(rate), enumerate);
        sample!("y[{i}]", Normal::new(k as f64, 1.0), obs = y[i]);
    }
}

fn main() {}
