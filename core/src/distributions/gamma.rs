//! The gamma distribution.

use rand::Rng;

use super::{Continuous, Distribution, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The gamma distribution with shape `shape` and rate `rate` (Stan's parameterisation;
/// the mean is `shape / rate`).
///
/// # Density
/// ```text
/// ln f(x) = α ln β - ln Γ(α) + (α - 1) ln x - β x
/// ```
/// with `α = shape` and `β = rate`, for `x > 0`.
///
/// # Parameters
/// `shape > 0` and finite, `rate > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Gamma};
///
/// let d: Gamma = Gamma::new(2.0, 3.0);
/// // 2 ln 3 - ln Γ(2) + ln 0.5 - 1.5
/// assert!((d.ln_pdf(0.5) - 0.004_077_396_776_274_073).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gamma<T = f64> {
    shape: T,
    rate: T,
}

impl<T: Real> Gamma<T> {
    /// A gamma distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(shape: impl Into<T>, rate: impl Into<T>) -> Self {
        Gamma {
            shape: shape.into(),
            rate: rate.into(),
        }
    }

    /// A gamma distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `shape` or `rate` is not positive and finite.
    pub fn try_new(shape: impl Into<T>, rate: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(shape, rate);
        ParamError::check_positive("shape", d.shape)?;
        ParamError::check_positive("rate", d.rate)?;
        Ok(d)
    }

    /// The shape `α`.
    pub fn shape(&self) -> T {
        self.shape
    }

    /// The rate `β` (the inverse of the scale).
    pub fn rate(&self) -> T {
        self.rate
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.shape) && is_pos(self.rate)
    }
}

impl<T: Real> Distribution for Gamma<T> {
    type Scalar = T;

    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (a, b) = (self.shape, self.rate);
        a * b.ln() - a.lgamma() + (a - 1.0) * x.ln() - b * x
    }

    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (a, b) = (self.shape, self.rate);
        a * b.ln() - a.lgamma() + (a - 1.0) * x.ln() - b * x
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }
}

impl<T: Real> Continuous for Gamma<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Gamma<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Gamma::new(self.shape.value(), 1.0 / self.rate.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::Exponential;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        assert!(Gamma::<f64>::try_new(2.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Gamma::<f64>::try_new(bad, 1.0).is_err(), "shape {bad}");
            assert_eq!(Gamma::<f64>::new(bad, 1.0).ln_pdf(1.0), f64::NEG_INFINITY);
            assert!(Gamma::<f64>::try_new(2.0, bad).is_err(), "rate {bad}");
            assert_eq!(Gamma::<f64>::new(2.0, bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        // x = 0 is outside the open support whatever the shape (no +∞ for shape < 1).
        for shape in [0.5, 1.0, 2.0] {
            let d: Gamma = Gamma::new(shape, 1.0);
            for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
                assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "shape {shape}, x = {x}");
                assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "shape {shape}, x = {x}");
            }
        }
    }

    #[test]
    fn shape_one_is_exponential() {
        let g: Gamma = Gamma::new(1.0, 2.5);
        let e: Exponential = Exponential::new(2.5);
        for x in [1e-8, 0.3, 4.0, 100.0] {
            assert!((g.ln_pdf(x) - e.ln_pdf(x)).abs() < 1e-13 * e.ln_pdf(x).abs().max(1.0));
        }
    }

    #[test]
    fn sampling_moments() {
        // mean α/β, var α/β², μ₄ = 3α(α + 2)/β⁴; rand_distr takes the scale 1/β.
        for (shape, rate, seed) in [(2.5_f64, 4.0_f64, 10), (0.4, 0.5, 11)] {
            let d: Gamma = Gamma::new(shape, rate);
            let mu4 = 3.0 * shape * (shape + 2.0) / rate.powi(4);
            check_moments(&d, shape / rate, shape / (rate * rate), mu4, seed);
        }
    }
}
