//! A model whose discrete sites are all enumerated is a continuous model: plain `Nuts`
//! and the variational guides take it.
use tilde::prelude::*;

#[model]
fn mixture(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0).iid(2));
    let p = sample!("p", Beta::new(1.0, 1.0));
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Bernoulli::new(p), enumerate);
        let k: u64 = sample!("k[{i}]", Binomial::new(2, p), enumerate);
        let local = mu[usize::from(z)] + k as f64;
        sample!("y[{i}]", Normal::new(local, 1.0), obs = y[i]);
    }
}

fn continuous<M: tilde::ContinuousModel>(_: &M) {}

fn main() {
    let model = mixture(&[0.5, -0.3]);
    continuous(&model);
    let _ = Mcmc::new(Nuts::default()).num_warmup(10).num_samples(10).progress(false).run(&model);
}
