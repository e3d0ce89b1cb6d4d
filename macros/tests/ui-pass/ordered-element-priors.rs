//! Ordered vectors with a prior per element (Stan: `positive_ordered[2] phi;
//! phi[1] ~ normal(0, 1); phi[2] ~ gamma(2, 1);`): flat ordered elements plus a
//! `factor!` per prior; and one prior for every element.
use tilde::prelude::*;

#[model]
fn ordered_priors(y: &[f64]) {
    let phi = sample!("phi", Flat::new().iid(2).positive_ordered());
    factor!("phi0_prior", Normal::new(0.0, 1.0).ln_pdf(phi[0]));
    factor!("phi1_prior", Gamma::new(2.0, 1.0).ln_pdf(phi[1]));
    let mu = sample!("mu", Normal::new(0.0, 5.0).iid(2).ordered());
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu[0] + mu[1], phi[0] + phi[1]), obs = y[i]);
    }
}

fn main() {
    let model = ordered_priors(&[0.3, 1.2]);
    assert_eq!(model.dim(), 4);
    let draw = model.constrain(&[0.1, -0.5, 0.2, 0.3]);
    let (a, b) = (draw.get("phi[0]").unwrap(), draw.get("phi[1]").unwrap());
    assert!(0.0 < a && a < b);
    let with_priors = model.logp(&[0.1, -0.5, 0.2, 0.3]);
    assert!(with_priors.is_finite());
}
