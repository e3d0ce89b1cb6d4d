//! The normal (Gaussian) distribution.

use rand::Rng;

use super::{Continuous, Distribution, LN_SQRT_2PI, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The normal distribution with mean `loc` and standard deviation `scale`.
///
/// # Density
/// ```text
/// ln f(x) = -(x - μ)² / (2σ²) - ln σ - ln √(2π)
/// ```
/// with `μ = loc` and `σ = scale`, for `x ∈ ℝ`.
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Normal};
///
/// let d: Normal = Normal::new(1.0, 2.0);
/// // -(0.5)²/2 - ln 2 - ln √(2π)
/// assert!((d.ln_pdf(2.0) - -1.737085713764618).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normal<T = f64> {
    loc: T,
    scale: T,
}

impl<T: Real> Normal<T> {
    /// A normal distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(loc: impl Into<T>, scale: impl Into<T>) -> Self {
        Normal {
            loc: loc.into(),
            scale: scale.into(),
        }
    }

    /// A normal distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `loc` is not finite or `scale` is not positive and finite.
    pub fn try_new(loc: impl Into<T>, scale: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(loc, scale);
        ParamError::check_finite("loc", d.loc)?;
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The mean `μ`.
    pub fn loc(&self) -> T {
        self.loc
    }

    /// The standard deviation `σ`.
    pub fn scale(&self) -> T {
        self.scale
    }
}

impl<T: Real> Distribution for Normal<T> {
    type Scalar = T;

    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !is_pos(self.scale) || !self.loc.is_finite() || !x.is_finite() {
            return neg_inf();
        }
        let z = (x - self.loc) / self.scale;
        -(z * z) * 0.5 - self.scale.ln() - LN_SQRT_2PI
    }

    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !is_pos(self.scale) || !self.loc.is_finite() || !x.is_finite() {
            return neg_inf();
        }
        let z = (-self.loc + x) / self.scale;
        -(z * z) * 0.5 - self.scale.ln() - LN_SQRT_2PI
    }

    fn support(&self) -> Support<T> {
        Support::Real
    }
}

impl<T: Real> Continuous for Normal<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Normal<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !is_pos(self.scale) || !self.loc.is_finite() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Normal::new(self.loc.value(), self.scale.value()),
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
        assert!(Normal::<f64>::try_new(0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Normal::<f64>::try_new(0.0, bad).is_err(), "scale {bad}");
            assert_eq!(Normal::<f64>::new(0.0, bad).ln_pdf(0.0), f64::NEG_INFINITY);
        }
        assert!(Normal::<f64>::try_new(f64::NAN, 1.0).is_err());
    }

    #[test]
    fn reference_values() {
        // scipy.stats.norm(loc, scale).logpdf(x); see core/tests/data/reference.py
        let cases = [
            (0.0, 1.0, 0.0, -0.918_938_533_204_672_7),
            (1.0, 2.0, 2.0, -1.737_085_713_764_618),
            (-3.0, 0.1, 2.0, -1_248.616_353_440_210_6),
        ];
        for (loc, scale, x, want) in cases {
            let d: Normal = Normal::new(loc, scale);
            assert!((d.ln_pdf(x) - want).abs() < 1e-12 * want.abs().max(1.0));
            assert!((d.ln_pdf_obs(x) - want).abs() < 1e-12 * want.abs().max(1.0));
        }
    }

    #[test]
    fn sampling_moments() {
        let d: Normal = Normal::new(1.5, 2.0);
        check_moments(&d, 1.5, 4.0, 3.0 * 16.0, 1);
    }
}
