use tilde::prelude::*;

#[model]
fn skips(y: &[f64]) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Bernoulli::new(p), enumerate);
        if z {
            continue;
        }
        sample!("y[{i}]", Normal::new(0.0, 1.0), obs = y[i]);
    }
}

#[model]
fn returns(y: f64) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    let z = sample!("z", Bernoulli::new(p), enumerate);
    if z {
        return;
    }
    sample!("y", Normal::new(0.0, 1.0), obs = y);
}

#[model]
fn gives_a_value(y: f64) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    let shift = {
        let w = sample!("w", Bernoulli::new(p), enumerate);
        if w { 1.0 } else { 0.0 }
    };
    sample!("y", Normal::new(shift, 1.0), obs = y);
}

fn main() {}
