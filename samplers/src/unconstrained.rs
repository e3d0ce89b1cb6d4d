//! A [`Model`] view of a plain [`LogDensity`], so hand-written densities run through the
//! same driver.

use tilde_core::{
    Draw, Layout, LogDensity, Model, Result, Shape, SiteInfo, SiteKind, SiteLogp, Support,
};

/// Wraps a [`LogDensity`] as a [`Model`] with one vector site `x` on ℝ^dim.
///
/// # Example
/// ```
/// use tilde_core::{LogDensity, Model};
/// use tilde_samplers::Unconstrained;
///
/// struct Quadratic;
/// impl LogDensity for Quadratic {
///     fn dim(&self) -> usize { 2 }
///     fn logp(&self, x: &[f64]) -> f64 { -0.5 * (x[0] * x[0] + x[1] * x[1]) }
///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
///         g[0] = -x[0];
///         g[1] = -x[1];
///         self.logp(x)
///     }
/// }
/// let model = Unconstrained::new(Quadratic);
/// assert_eq!(model.layout().column_names(), ["x[0]", "x[1]"]);
/// ```
pub struct Unconstrained<L> {
    density: L,
    layout: Layout,
}

impl<L: LogDensity> Unconstrained<L> {
    /// The model of `density`.
    pub fn new(density: L) -> Self {
        let dim = density.dim();
        let site = SiteInfo {
            name: "x".into(),
            kind: SiteKind::Latent,
            shape: Shape::Vector(dim),
            support: Some(Support::Real),
            offset: Some(0),
            num_unconstrained: dim,
        };
        Unconstrained {
            layout: Layout::new(vec![site], 0),
            density,
        }
    }
}

impl<L: LogDensity> LogDensity for Unconstrained<L> {
    fn dim(&self) -> usize {
        self.density.dim()
    }
    fn logp(&self, x: &[f64]) -> f64 {
        self.density.logp(x)
    }
    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.density.logp_and_grad(x, grad)
    }
}

/// A density on ℝ^dim has no discrete coordinate: every kernel may sample it.
impl<K: ?Sized, L: LogDensity> tilde_core::SampledBy<K> for Unconstrained<L> {}

impl<L: LogDensity> tilde_core::ContinuousModel for Unconstrained<L> {}

impl<L: LogDensity> Model for Unconstrained<L> {
    fn layout(&self) -> &Layout {
        &self.layout
    }
    fn constrain(&self, x: &[f64]) -> Draw {
        Draw::new(self.layout.column_names().to_vec(), x.to_vec())
    }
    fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend_from_slice(x);
    }
    fn logp_breakdown(&self, x: &[f64]) -> Vec<SiteLogp> {
        vec![SiteLogp {
            name: "x".into(),
            kind: SiteKind::Latent,
            log_density: self.density.logp(x),
            ln_jacobian: 0.0,
            values: x.to_vec(),
            support: Some(Support::Real),
        }]
    }
    fn check(&self) -> Result<()> {
        Ok(())
    }
    fn try_logp(&self, x: &[f64]) -> Result<f64> {
        Ok(self.density.logp(x))
    }
}
