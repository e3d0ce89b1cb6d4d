//! `obs =` given a parameter (Stan's `err ~ normal(0, sigma)` with `err` a parameter).
use tilde::prelude::*;

#[model]
fn obs_parameter(y: &[f64]) {
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let err = y[0] - mu;
    sample!("err", Normal::new(0.0, sigma), obs = err);
}

fn main() {}
