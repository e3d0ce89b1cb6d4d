use tilde::prelude::*;

#[model]
fn mixture(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0).iid(2));
    let mut acc = 0.0;
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Categorical::new(data(&[0.3, 0.7])), enumerate);
        acc += mu[z];
        sample!("y[{i}]", Normal::new(mu[z], 1.0), obs = y[i]);
    }
    factor!("acc", acc);
}

fn main() {}
