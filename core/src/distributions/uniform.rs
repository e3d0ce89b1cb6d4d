//! The continuous uniform distribution.

use rand::Rng;

use super::{Continuous, Distribution, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The continuous uniform distribution on the interval from `low` to `high`.
///
/// # Density
/// ```text
/// ln f(x) = -ln(b - a)
/// ```
/// with `a = low` and `b = high`, for `a < x < b`.
///
/// # Parameters
/// `low` and `high` finite with `low < high`; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Uniform};
///
/// let d: Uniform = Uniform::new(-1.0, 3.0);
/// assert!((d.ln_pdf(0.5) - -(4f64.ln())).abs() < 1e-15);
/// assert_eq!(d.ln_pdf(3.5), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uniform<T = f64> {
    low: T,
    high: T,
}

impl<T: Real> Uniform<T> {
    /// A uniform distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(low: impl Into<T>, high: impl Into<T>) -> Self {
        Uniform {
            low: low.into(),
            high: high.into(),
        }
    }

    /// A uniform distribution whose bounds are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `low` or `high` is not finite, or `high <= low`.
    pub fn try_new(low: impl Into<T>, high: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(low, high);
        ParamError::check_finite("low", d.low)?;
        ParamError::check_finite("high", d.high)?;
        let low = d.low.value();
        ParamError::require("high", "greater than low", d.high, |h| h > low)?;
        Ok(d)
    }

    /// The lower bound `a`.
    pub fn low(&self) -> T {
        self.low
    }

    /// The upper bound `b`.
    pub fn high(&self) -> T {
        self.high
    }

    #[inline]
    fn is_valid(&self) -> bool {
        self.low.is_finite() && self.high.is_finite() && self.low < self.high
    }

    /// `-ln(b - a)` as one node with its partials in `a` and `b`.
    #[inline]
    fn ln_width_node(&self) -> T {
        let width = self.high.value() - self.low.value();
        T::fused(
            -width.ln(),
            [(self.low, 1.0 / width), (self.high, -1.0 / width)],
        )
    }
}

impl<T: Real> Distribution for Uniform<T> {
    type Scalar = T;

    /// One node: `∂/∂x = 0` (no term), `∂/∂a = 1/(b - a)`, `∂/∂b = -1/(b - a)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || x.value().is_nan() || x <= self.low || x >= self.high {
            return neg_inf();
        }
        self.ln_width_node()
    }

    /// One node with the partials of `ln_pdf` for `a` and `b`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || x.is_nan() || self.low >= x || self.high <= x {
            return neg_inf();
        }
        self.ln_width_node()
    }

    fn support(&self) -> Support<T> {
        Support::Interval(self.low, self.high)
    }
}

impl<T: Real> Continuous for Uniform<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Uniform<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Uniform::new(self.low.value(), self.high.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        assert!(Uniform::<f64>::try_new(0.0, 1.0).is_ok());
        for (low, high) in [
            (1.0, 1.0),
            (2.0, 1.0),
            (f64::NAN, 1.0),
            (0.0, f64::NAN),
            (f64::NEG_INFINITY, 1.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(
                Uniform::<f64>::try_new(low, high).is_err(),
                "({low}, {high})"
            );
            let d: Uniform = Uniform::new(low, high);
            assert_eq!(d.ln_pdf(0.5), f64::NEG_INFINITY, "({low}, {high})");
            assert_eq!(d.ln_pdf_obs(0.5), f64::NEG_INFINITY, "({low}, {high})");
        }
    }

    #[test]
    fn outside_support() {
        let d: Uniform = Uniform::new(-1.0, 3.0);
        for x in [-1.5, -1.0, 3.0, 4.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
        assert_eq!(d.support(), Support::Interval(-1.0, 3.0));
    }

    #[test]
    fn sampling_moments() {
        // mean (a + b)/2, var (b - a)²/12, μ₄ = (b - a)⁴/80.
        let (a, b): (f64, f64) = (-1.0, 3.0);
        let d: Uniform = Uniform::new(a, b);
        check_moments(
            &d,
            (a + b) / 2.0,
            (b - a).powi(2) / 12.0,
            (b - a).powi(4) / 80.0,
            15,
        );
    }
}
