//! A distribution whose arguments borrow temporaries (`&[beta]`) inside a site.
use tilde::glm::Glm;
use tilde::prelude::*;

#[model]
fn glm_temporary(x: &[f64], y: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    sample!("y", Glm::normal(x, &[beta], alpha, sigma), obs = y);
    sample!("y_again", Glm::normal(x, &[beta, ][..], alpha, sigma), obs = &y.to_vec());
}

fn main() {
    let model = glm_temporary(&[1.0, 2.0, 3.0], &[0.5, 1.0, 1.4]);
    assert_eq!(model.dim(), 3);
    assert!(model.logp(&[0.0, 0.5, 0.1]).is_finite());
}
