//! A point mass: maximum a posteriori estimation.

use tilde_core::{Layout, Result};

use crate::guide::Guide;

/// A point mass (NumPyro's `AutoDelta`): its ELBO is the log joint density of the
/// constrained values at the point, without bijector Jacobians, so the fit is the
/// maximum a posteriori estimate, as Stan's `optimize` gives by default. (Inside an
/// [`AutoGuideList`](crate::AutoGuideList) the other guides need the unconstrained
/// density, so there its sites keep their Jacobians.)
///
/// # Example
/// ```
/// use tilde_vi::{Adam, AutoDelta, Svi};
/// # use tilde_core::LogDensity;
/// # use tilde_samplers::Unconstrained;
/// # struct Gauss;
/// # impl LogDensity for Gauss {
/// #     fn dim(&self) -> usize { 1 }
/// #     fn logp(&self, x: &[f64]) -> f64 { -0.5 * (x[0] - 2.0).powi(2) }
/// #     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 { g[0] = 2.0 - x[0]; self.logp(x) }
/// # }
/// let model = Unconstrained::new(Gauss); // log-density −(x − 2)²/2
/// let fit = Svi::new(AutoDelta::new(), Adam::new(0.05)).num_steps(1000).progress(false).run(&model)?;
/// assert!((fit.median().try_get("x[0]")? - 2.0).abs() < 1e-3);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct AutoDelta {
    coords: Vec<usize>,
    loc: Vec<f64>,
}

impl AutoDelta {
    /// A point-mass guide.
    pub fn new() -> Self {
        AutoDelta::default()
    }
}

impl Guide for AutoDelta {
    fn name(&self) -> &'static str {
        "AutoDelta"
    }

    fn setup(&mut self, _layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        self.coords = coords.to_vec();
        self.loc = coords.iter().map(|&c| start[c]).collect();
        Ok(())
    }

    fn params(&self) -> &[f64] {
        &self.loc
    }

    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.loc
    }

    fn noise_dim(&self) -> usize {
        0
    }

    fn jacobian(&self) -> bool {
        false
    }

    fn sample(&mut self, _noise: &[f64], z: &mut [f64]) -> f64 {
        for (&c, &v) in self.coords.iter().zip(&self.loc) {
            z[c] = v;
        }
        0.0
    }

    fn backward(&mut self, _noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
        for (g, &c) in grad.iter_mut().zip(&self.coords) {
            *g += grad_z[c];
        }
    }

    fn marginal_quantiles(&mut self, qs: &[f64], out: &mut [Vec<f64>]) {
        for row in out.iter_mut().take(qs.len()) {
            for (&c, &v) in self.coords.iter().zip(&self.loc) {
                row[c] = v;
            }
        }
    }

    fn coords(&self) -> &[usize] {
        &self.coords
    }

    fn clone_box(&self) -> Box<dyn Guide> {
        Box::new(self.clone())
    }
}
