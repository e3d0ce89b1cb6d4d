//! A distribution built outside its site, and data mixed with parameters in `if`/`else`.
use tilde::prelude::*;

#[model]
fn outside_site(y: &[f64]) {
    let prior = Exponential::new(1.0);
    let sigma = sample!("sigma", prior);
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for t in 0..y.len() {
        let previous = if t == 0 { mu } else { T::from(y[t - 1]) };
        let likelihood = Normal::new(previous, sigma);
        sample!("y[{t}]", likelihood, obs = y[t]);
    }
}


/// A distribution bound once and used by several sites, one of them `.iid(n)`, and
/// by `factor!`.
#[model]
fn shared_prior(y: &[f64]) {
    let base = Normal::new(0.0, 1.0);
    let a = sample!("a", base);
    let z = sample!("z", base.iid(y.len()));
    let noise = HalfNormal::new(2.0);
    let sigma = sample!("sigma", noise);
    factor!("a_again", base.ln_pdf(a));
    for i in 0..y.len() {
        let mean: T = if i == 0 { a } else { y[i - 1].into() };
        sample!("y[{i}]", Normal::new(mean + z[i], sigma), obs = y[i]);
    }
}

fn main() {
    let model = outside_site(&[0.1, 0.4, 0.2]);
    assert_eq!(model.dim(), 2);
    assert!(model.logp(&[0.0, 0.1]).is_finite());
    let model = shared_prior(&[0.1, 0.4]);
    assert_eq!(model.dim(), 4);
    assert!(model.logp(&[0.0, 0.1, 0.2, 0.3]).is_finite());
}
