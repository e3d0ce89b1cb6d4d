//! Discrete latent sites return typed values and run under `DiscreteHmcGibbs`.
use tilde::prelude::*;

#[model]
fn typed(y: &[f64], w: &[f64]) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    let on: bool = sample!("on", Bernoulli::new(p));
    let class: usize = sample!("class", Categorical::new(data(w)));
    let count: u64 = sample!("count", Poisson::new(3.0));
    let mu = if on { 1.0 } else { 0.0 } + class as f64 + count as f64;
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

fn main() {
    let (y, w) = ([0.5, 1.5], [0.3, 0.7]);
    let _ = Mcmc::new(DiscreteHmcGibbs::new(Nuts::default())).num_warmup(0).num_samples(0);
    let model = typed(&y, &w);
    let _ = || Mcmc::new(DiscreteHmcGibbs::new(Nuts::default())).run(&model);
}
