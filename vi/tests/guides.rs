//! Every guide's pathwise gradient against central differences of its own ELBO term,
//! and the optimisers on a quadratic.

use tilde_core::{LogDensity, Model};
use tilde_samplers::Unconstrained;
use tilde_vi::{
    AutoDelta, AutoDiagonalNormal, AutoGuideList, AutoIafNormal, AutoLaplaceApproximation,
    AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal, Guide,
};

/// A correlated Gaussian `N(m, S)` with precision `P` (4-d), with its analytic gradient.
struct Gauss;

const M: [f64; 4] = [0.5, -1.0, 2.0, 0.0];
const P: [[f64; 4]; 4] = [
    [2.0, 0.6, 0.0, 0.1],
    [0.6, 1.5, -0.3, 0.0],
    [0.0, -0.3, 1.0, 0.2],
    [0.1, 0.0, 0.2, 0.8],
];

impl LogDensity for Gauss {
    fn dim(&self) -> usize {
        4
    }
    fn logp(&self, x: &[f64]) -> f64 {
        let mut g = [0.0; 4];
        self.logp_and_grad(x, &mut g)
    }
    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let d: Vec<f64> = x.iter().zip(M).map(|(a, b)| a - b).collect();
        let mut lp = 0.0;
        for i in 0..4 {
            grad[i] = -(0..4).map(|j| P[i][j] * d[j]).sum::<f64>();
            lp += 0.5 * d[i] * grad[i];
        }
        lp
    }
}

/// `log p(T_φ(ε)) − log q` at parameters `phi` for fixed noise.
fn objective(
    guide: &mut dyn Guide,
    model: &Unconstrained<Gauss>,
    phi: &[f64],
    noise: &[f64],
) -> f64 {
    guide.params_mut().copy_from_slice(phi);
    let mut z = vec![0.0; 4];
    let log_q = guide.sample(noise, &mut z);
    model.logp(&z) - log_q
}

fn check_gradient(mut guide: Box<dyn Guide>) {
    let model = Unconstrained::new(Gauss);
    let start = [0.3, -0.2, 0.9, 0.1];
    guide.setup(model.layout(), &[0, 1, 2, 3], &start).unwrap();
    // move away from the initial point so that every parameter matters
    let phi: Vec<f64> = guide
        .params()
        .iter()
        .enumerate()
        .map(|(i, p)| p + 0.05 * ((i as f64) * 1.7).sin())
        .collect();
    check_gradient_at(guide, &phi);
}

#[test]
fn pathwise_gradients_match_finite_differences() {
    check_gradient(Box::new(AutoDelta::new()));
    check_gradient(Box::new(AutoNormal::new()));
    check_gradient(Box::new(AutoDiagonalNormal::new().init_scale(0.7)));
    check_gradient(Box::new(AutoMultivariateNormal::new().init_scale(0.5)));
    check_gradient(Box::new(AutoLowRankMultivariateNormal::new().rank(2)));
    check_gradient(Box::new(AutoLaplaceApproximation::new()));
    check_gradient(Box::new(AutoIafNormal::new().num_flows(2).hidden_dim(6)));
    check_gradient(Box::new(
        AutoGuideList::new()
            .add(&["x"], AutoMultivariateNormal::new())
            .rest(AutoNormal::new()),
    ));
}

#[test]
fn iaf_gradients_hold_away_from_identity() {
    // trained flows are not the identity: perturb every weight strongly
    let model = Unconstrained::new(Gauss);
    let mut guide = AutoIafNormal::new().num_flows(2).hidden_dim(5).seed(3);
    guide
        .setup(model.layout(), &[0, 1, 2, 3], &[0.0; 4])
        .unwrap();
    let n = guide.params().len();
    let phi: Vec<f64> = guide
        .params()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if *p == 0.0 && i % 3 == 0 {
                0.0
            } else {
                p + 0.3 * ((i as f64) * 0.77).sin()
            }
        })
        .collect();
    assert_eq!(phi.len(), n);
    let masked = check_gradient_at(Box::new(guide), &phi);
    assert!(masked > 0, "the masks keep some weights at zero");
}

/// Compares the pathwise gradient at `phi` with central differences of the objective,
/// over the parameters the guide keeps (an IAF zeroes its masked weights).
fn check_gradient_at(mut guide: Box<dyn Guide>, phi: &[f64]) -> usize {
    let model = Unconstrained::new(Gauss);
    let noise: Vec<f64> = (0..guide.noise_dim())
        .map(|i| ((i as f64) * 1.3).sin() * 1.5)
        .collect();
    guide.params_mut().copy_from_slice(phi);
    let mut z = vec![0.0; 4];
    guide.sample(&noise, &mut z);
    let kept: Vec<bool> = guide
        .params()
        .iter()
        .zip(phi)
        .map(|(a, b)| a == b)
        .collect();
    let mut grad_z = vec![0.0; 4];
    model.logp_and_grad(&z, &mut grad_z);
    let mut grad = vec![0.0; phi.len()];
    guide.backward(&noise, &grad_z, &mut grad);
    let h = 1e-6;
    for k in (0..phi.len()).filter(|&k| kept[k]) {
        let (mut plus, mut minus) = (phi.to_vec(), phi.to_vec());
        plus[k] += h;
        minus[k] -= h;
        let numeric = (objective(guide.as_mut(), &model, &plus, &noise)
            - objective(guide.as_mut(), &model, &minus, &noise))
            / (2.0 * h);
        assert!(
            (grad[k] - numeric).abs() < 1e-5 * numeric.abs().max(1.0),
            "{}: parameter {k}: pathwise {} vs differences {numeric}",
            guide.name(),
            grad[k]
        );
    }
    kept.iter().filter(|k| !**k).count()
}
