//! The half-Cauchy distribution.

use std::f64::consts::LN_2;

use rand::Rng;

use super::cauchy::{LN_PI, ln_1p_sq, ln_1p_sq_partials};
use super::{Continuous, Distribution, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The half-Cauchy distribution: the absolute value of a Cauchy variable with location 0
/// and scale `scale`.
///
/// # Density
/// ```text
/// ln f(x) = ln 2 - ln(1 + (x/s)²) - ln s - ln π
/// ```
/// that is `f(x) = 2 / (π s (1 + (x/s)²))`, with `s = scale`, for `x > 0`.
///
/// # Parameters
/// `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, HalfCauchy};
///
/// let d: HalfCauchy = HalfCauchy::new(2.0);
/// // ln 2 - ln(1 + 1²) - ln 2 - ln π
/// assert!((d.ln_pdf(2.0) - -1.837_877_066_409_345_5).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfCauchy<T = f64> {
    scale: T,
}

impl<T: Real> HalfCauchy<T> {
    /// A half-Cauchy distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(scale: impl Into<T>) -> Self {
        HalfCauchy {
            scale: scale.into(),
        }
    }

    /// A half-Cauchy distribution whose parameter is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `scale` is not positive and finite.
    pub fn try_new(scale: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(scale);
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The scale `s` (the median).
    pub fn scale(&self) -> T {
        self.scale
    }

    /// `ln_pdf(x)` with its partials in `x` and `s`.
    #[inline]
    fn value_and_partials(&self, x: f64) -> (f64, f64, f64) {
        let scale = self.scale.value();
        let z = x / scale;
        let value = -ln_1p_sq(z) - scale.ln() + (LN_2 - LN_PI);
        let (g, zg) = ln_1p_sq_partials(z);
        (value, -g / scale, (zg - 1.0) / scale)
    }
}

impl<T: Real> Distribution for HalfCauchy<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -g/s`, `∂/∂s = (z g - 1)/s` with `z = x/s` and
    /// `g = 2z/(1 + z²)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !is_pos(self.scale) || !is_pos(x) {
            return neg_inf();
        }
        let (value, d_x, d_scale) = self.value_and_partials(x.value());
        T::fused(value, [(x, d_x), (self.scale, d_scale)])
    }

    /// One node with the partial of `ln_pdf` for `s`.
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

impl<T: Real> Continuous for HalfCauchy<T> {}

impl<T: Real> rand::distr::Distribution<f64> for HalfCauchy<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !is_pos(self.scale) {
            return f64::NAN;
        }
        sample_or_nan(rand_distr::Cauchy::new(0.0, self.scale.value()), rng).abs()
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;
    use crate::distributions::test_util::check_quantiles;

    #[test]
    fn constructor_checks() {
        assert!(HalfCauchy::<f64>::try_new(1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(HalfCauchy::<f64>::try_new(bad).is_err(), "scale {bad}");
            assert_eq!(HalfCauchy::<f64>::new(bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        let d: HalfCauchy = HalfCauchy::new(1.0);
        for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
        assert_eq!(d.support(), Support::Positive);
    }

    #[test]
    fn sampling_quantiles() {
        // No moments: P(X ≤ s tan(πp/2)) = p.
        let scale = 2.5;
        let d: HalfCauchy = HalfCauchy::new(scale);
        let qs = [0.05, 0.25, 0.5, 0.75, 0.95].map(|p| (scale * (PI * p / 2.0).tan(), p));
        check_quantiles(&d, &qs, 5);
    }
}
