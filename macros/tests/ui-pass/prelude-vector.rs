//! The prelude holds the vector distributions, `Glm` and the vector helpers.
use tilde::prelude::*;

#[model]
fn prelude_vector(x: &[f64], y: &[f64], sigma: &[f64]) {
    let w = sample!("w", Dirichlet::new(&[1.0, 1.0, 1.0]));
    let z = sample!("z", MultivariateNormal::covariance(data(&[0.0, 0.0]), data(&[1.0, 0.0, 0.0, 1.0])));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(1));
    let alpha = sample!("alpha", Normal::new(w[0], 1.0));
    sample!("y", Glm::normal(x, beta, alpha + z[0], 1.0), obs = y);
    let theta = params(beta).scale(z[1]).shift(alpha);
    sample!("y2", Normal::each(theta, data(sigma)), obs = &y[..1]);
}

fn main() {
    let model = prelude_vector(&[1.0, 2.0], &[0.5, 1.0], &[1.0]);
    assert_eq!(model.dim(), 6);
    assert!(model.logp(&[0.0; 6]).is_finite());
}
