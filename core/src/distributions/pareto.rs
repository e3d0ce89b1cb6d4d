//! The Pareto (type I) distribution.

use rand::Rng;

use super::pointwise::{self, Parts};
use super::{Continuous, Distribution, ObsVector, is_pos, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The Pareto distribution with minimum `scale` and tail index `shape` (Stan's
/// `pareto(y_min, alpha)`).
///
/// # Density
/// ```text
/// ln f(x) = ln α + α ln x_m - (α + 1) ln x
/// ```
/// with `x_m = scale` and `α = shape`, for `x > x_m`. The support depends on the scale,
/// so a latent site's transform `x = x_m + eʸ` carries the scale's gradient too.
///
/// # Parameters
/// `scale > 0` and finite, `shape > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Pareto};
///
/// let d: Pareto = Pareto::new(1.0, 3.0);
/// // ln 3 - 4 ln 2
/// assert!((d.ln_pdf(2.0) - (3f64.ln() - 4.0 * 2f64.ln())).abs() < 1e-15);
/// assert_eq!(d.ln_pdf(0.5), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pareto<T = f64> {
    scale: T,
    shape: T,
}

impl<T: Real> Pareto<T> {
    /// A Pareto distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(scale: impl Into<T>, shape: impl Into<T>) -> Self {
        Pareto {
            scale: scale.into(),
            shape: shape.into(),
        }
    }

    /// A Pareto distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `scale` or `shape` is not positive and finite.
    pub fn try_new(scale: impl Into<T>, shape: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(scale, shape);
        ParamError::check_positive("scale", d.scale)?;
        ParamError::check_positive("shape", d.shape)?;
        Ok(d)
    }

    /// The minimum `x_m`.
    pub fn scale(&self) -> T {
        self.scale
    }

    /// The tail index `α`.
    pub fn shape(&self) -> T {
        self.shape
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.scale) && is_pos(self.shape)
    }

    /// `ln f(x)` with `∂/∂x = -(α + 1)/x`, `∂/∂x_m = α/x_m`, `∂/∂α = 1/α + ln(x_m/x)`.
    #[inline]
    fn parts(&self, x: f64) -> Option<Parts<2>> {
        let (xm, alpha) = (self.scale.value(), self.shape.value());
        if !self.is_valid() || x.is_nan() || x <= xm || x == f64::INFINITY {
            return None;
        }
        let ln_ratio = xm.ln() - x.ln();
        Parts {
            value: alpha.ln() + alpha * ln_ratio - x.ln(),
            d_x: -(alpha + 1.0) / x,
            d_params: [alpha / xm, alpha.recip() + ln_ratio],
        }
        .finite()
    }
}

impl<T: Real> Distribution for Pareto<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -(α + 1)/x`, `∂/∂x_m = α/x_m`, `∂/∂α = 1/α + ln(x_m/x)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        pointwise::latent([self.scale, self.shape], x, |x| self.parts(x))
    }

    /// One node with the partials of `ln_pdf` for `x_m` and `α`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        pointwise::observed([self.scale, self.shape], x, |x| self.parts(x))
    }

    fn support(&self) -> Support<T> {
        Support::GreaterThan(self.scale)
    }

    /// One node: the partials of `ln_pdf` summed over the values.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        pointwise::latent_sum([self.scale, self.shape], xs, |x| self.parts(x))
    }

    /// One node: the partials of `ln_pdf_obs` summed over the values.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.scale, self.shape], ys, |x| self.parts(x))
    }
}

impl<T: Real> Continuous for Pareto<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Pareto<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Pareto::new(self.scale.value(), self.shape.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_quantiles;

    #[test]
    fn constructor_checks() {
        assert!(Pareto::<f64>::try_new(1.0, 2.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Pareto::<f64>::try_new(bad, 2.0).is_err(), "scale {bad}");
            assert_eq!(Pareto::<f64>::new(bad, 2.0).ln_pdf(3.0), f64::NEG_INFINITY);
            assert!(Pareto::<f64>::try_new(1.0, bad).is_err(), "shape {bad}");
            assert_eq!(Pareto::<f64>::new(1.0, bad).ln_pdf(3.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        let d: Pareto = Pareto::new(2.0, 1.5);
        for x in [-1.0, 0.0, 1.9, 2.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
        assert_eq!(d.support(), Support::GreaterThan(2.0));
    }

    #[test]
    fn sampling_quantiles_heavy_tail() {
        // α = 1.5 has no variance; the quantile function is x_m (1 - p)^{-1/α}.
        let (scale, shape): (f64, f64) = (2.0, 1.5);
        let d: Pareto = Pareto::new(scale, shape);
        let qs = [0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
            .map(|p: f64| (scale * (1.0 - p).powf(-1.0 / shape), p));
        check_quantiles(&d, &qs, 53);
    }
}
