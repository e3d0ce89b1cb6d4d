//! The inverse-gamma distribution.

use rand::Rng;

use super::{Continuous, Distribution, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::special::{digamma, lgamma};
use crate::support::Support;

/// The inverse-gamma distribution with shape `shape` and scale `scale` (Stan's
/// parameterisation): `1/x` is gamma with shape `shape` and rate `scale`.
///
/// # Density
/// ```text
/// ln f(x) = α ln β - ln Γ(α) - (α + 1) ln x - β / x
/// ```
/// with `α = shape` and `β = scale`, for `x > 0`.
///
/// # Parameters
/// `shape > 0` and finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, InverseGamma};
///
/// let d: InverseGamma = InverseGamma::new(2.0, 1.0);
/// // 2 ln 1 - ln Γ(2) - 3 ln 0.5 - 1/0.5
/// assert!((d.ln_pdf(0.5) - 0.079_441_541_679_835_93).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InverseGamma<T = f64> {
    shape: T,
    scale: T,
}

impl<T: Real> InverseGamma<T> {
    /// An inverse-gamma distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(shape: impl Into<T>, scale: impl Into<T>) -> Self {
        InverseGamma {
            shape: shape.into(),
            scale: scale.into(),
        }
    }

    /// An inverse-gamma distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `shape` or `scale` is not positive and finite.
    pub fn try_new(shape: impl Into<T>, scale: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(shape, scale);
        ParamError::check_positive("shape", d.shape)?;
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The shape `α`.
    pub fn shape(&self) -> T {
        self.shape
    }

    /// The scale `β`.
    pub fn scale(&self) -> T {
        self.scale
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.shape) && is_pos(self.scale)
    }

    /// `ln_pdf(x)` with its partials in `x`, `α` and `β`.
    #[inline]
    fn value_and_partials(&self, x: f64) -> (f64, f64, f64, f64) {
        let (a, b) = (self.shape.value(), self.scale.value());
        let (ln_b, ln_x, b_over_x) = (b.ln(), x.ln(), b / x);
        let value = a * ln_b - lgamma(a) - (a + 1.0) * ln_x - b_over_x;
        let d_x = (b_over_x - (a + 1.0)) / x;
        (value, d_x, ln_b - digamma(a) - ln_x, a / b - 1.0 / x)
    }
}

impl<T: Real> Distribution for InverseGamma<T> {
    type Scalar = T;

    /// One node: `∂/∂x = (β/x - α - 1)/x`, `∂/∂α = ln β - ψ(α) - ln x`, `∂/∂β = α/β - 1/x`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (value, d_x, d_shape, d_scale) = self.value_and_partials(x.value());
        if value.is_nan() {
            // overflowing terms (`∞ − ∞`) at extreme parameters: the density underflows
            return neg_inf();
        }
        T::fused(
            value,
            [(x, d_x), (self.shape, d_shape), (self.scale, d_scale)],
        )
    }

    /// One node with the partials of `ln_pdf` for `α` and `β`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (value, _, d_shape, d_scale) = self.value_and_partials(x);
        if value.is_nan() {
            return neg_inf();
        }
        T::fused(value, [(self.shape, d_shape), (self.scale, d_scale)])
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }
}

impl<T: Real> Continuous for InverseGamma<T> {}

impl<T: Real> rand::distr::Distribution<f64> for InverseGamma<T> {
    /// The reciprocal of a gamma draw with shape `α` and rate `β` (scale `1/β`).
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let g = rand_distr::Gamma::new(self.shape.value(), 1.0 / self.scale.value());
        1.0 / sample_or_nan(g, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::{central_fourth, check_moments};

    #[test]
    fn constructor_checks() {
        assert!(InverseGamma::<f64>::try_new(2.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                InverseGamma::<f64>::try_new(bad, 1.0).is_err(),
                "shape {bad}"
            );
            assert_eq!(
                InverseGamma::<f64>::new(bad, 1.0).ln_pdf(1.0),
                f64::NEG_INFINITY
            );
            assert!(
                InverseGamma::<f64>::try_new(2.0, bad).is_err(),
                "scale {bad}"
            );
            assert_eq!(
                InverseGamma::<f64>::new(2.0, bad).ln_pdf(1.0),
                f64::NEG_INFINITY
            );
        }
    }

    #[test]
    fn outside_support() {
        let d: InverseGamma = InverseGamma::new(2.0, 1.0);
        for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn sampling_moments() {
        // E X^k = β^k / ((α-1)(α-2)…(α-k)) for α > k; α = 11 gives finite μ₄ and a
        // finite eighth moment (so the variance check's standard error is meaningful).
        let (a, b): (f64, f64) = (11.0, 3.0);
        let mut raw = [0.0; 4];
        let mut acc = 1.0;
        for (k, r) in raw.iter_mut().enumerate() {
            acc *= b / (a - (k + 1) as f64);
            *r = acc;
        }
        let d: InverseGamma = InverseGamma::new(a, b);
        check_moments(
            &d,
            raw[0],
            raw[1] - raw[0] * raw[0],
            central_fourth(raw),
            12,
        );
    }
}
