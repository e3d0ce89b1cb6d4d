//! The half-normal distribution.

use std::f64::consts::LN_2;

use rand::Rng;

use super::{Continuous, Distribution, LN_SQRT_2PI, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The half-normal distribution: the absolute value of a normal variable with mean 0 and
/// standard deviation `scale`.
///
/// # Density
/// ```text
/// ln f(x) = ln 2 - x² / (2σ²) - ln σ - ln √(2π)
/// ```
/// with `σ = scale`, for `x > 0`.
///
/// # Parameters
/// `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, HalfNormal};
///
/// let d: HalfNormal = HalfNormal::new(2.0);
/// // ln 2 - 1²/(2·2²) - ln 2 - ln √(2π)
/// assert!((d.ln_pdf(1.0) - -1.043_938_533_204_672_7).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfNormal<T = f64> {
    scale: T,
}

impl<T: Real> HalfNormal<T> {
    /// A half-normal distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(scale: impl Into<T>) -> Self {
        HalfNormal {
            scale: scale.into(),
        }
    }

    /// A half-normal distribution whose parameter is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `scale` is not positive and finite.
    pub fn try_new(scale: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(scale);
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The scale `σ`, the standard deviation of the underlying normal.
    pub fn scale(&self) -> T {
        self.scale
    }

    /// `ln_pdf(x)` with its partials in `x` and `σ`.
    #[inline]
    fn value_and_partials(&self, x: f64) -> (f64, f64, f64) {
        let scale = self.scale.value();
        let z = x / scale;
        let value = -(z * z) * 0.5 - scale.ln() + (LN_2 - LN_SQRT_2PI);
        (value, -z / scale, (z * z - 1.0) / scale)
    }
}

impl<T: Real> Distribution for HalfNormal<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -z/σ`, `∂/∂σ = (z² - 1)/σ` with `z = x/σ`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !is_pos(self.scale) || !is_pos(x) {
            return neg_inf();
        }
        let (value, d_x, d_scale) = self.value_and_partials(x.value());
        T::fused(value, [(x, d_x), (self.scale, d_scale)])
    }

    /// One node with the partial of `ln_pdf` for `σ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !is_pos(self.scale) || !is_pos(x) {
            return neg_inf();
        }
        let (value, _, d_scale) = self.value_and_partials(x);
        T::fused(value, [(self.scale, d_scale)])
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }
}

impl<T: Real> Continuous for HalfNormal<T> {}

impl<T: Real> rand::distr::Distribution<f64> for HalfNormal<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !is_pos(self.scale) {
            return f64::NAN;
        }
        sample_or_nan(rand_distr::Normal::new(0.0, self.scale.value()), rng).abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::{central_fourth, check_moments};

    #[test]
    fn constructor_checks() {
        assert!(HalfNormal::<f64>::try_new(1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(HalfNormal::<f64>::try_new(bad).is_err(), "scale {bad}");
            assert_eq!(HalfNormal::<f64>::new(bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        let d: HalfNormal = HalfNormal::new(1.0);
        for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
        assert_eq!(d.support(), Support::Positive);
    }

    #[test]
    fn sampling_moments() {
        // Raw moments of |Z|: E|Z| = √(2/π), E Z² = 1, E|Z|³ = 2√(2/π), E Z⁴ = 3.
        let s: f64 = 1.5;
        let m = (2.0 / std::f64::consts::PI).sqrt();
        let raw = [m * s, s * s, 2.0 * m * s.powi(3), 3.0 * s.powi(4)];
        let d: HalfNormal = HalfNormal::new(s);
        check_moments(&d, raw[0], raw[1] - raw[0] * raw[0], central_fourth(raw), 2);
    }
}
