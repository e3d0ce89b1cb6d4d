//! `Normal::each(..)` as a latent site: per-element location and scale.
use tilde::prelude::*;

#[model]
fn each_latent(mu: &[f64], sigma: &[f64]) {
    let tau = sample!("tau", HalfNormal::new(1.0));
    let z = sample!("z", Normal::each(data(mu), scalar(tau)));
    let w = sample!("w", Normal::each(params(z), data(sigma)));
    sample!("y", Normal::new(w[0] + w[1], 1.0), obs = 0.5);
}

fn main() {
    let model = each_latent(&[0.0, 1.0], &[1.0, 2.0]);
    assert_eq!(model.dim(), 5);
    let lp = model.logp(&[0.0, 0.1, 0.2, 0.3, 0.4]);
    assert!(lp.is_finite());
}
