//! The log-normal distribution.

use rand::Rng;

use super::{Continuous, Distribution, LN_SQRT_2PI, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The log-normal distribution: `ln x` is normal with mean `loc` and standard deviation
/// `scale`.
///
/// # Density
/// ```text
/// ln f(x) = -(ln x - μ)² / (2σ²) - ln x - ln σ - ln √(2π)
/// ```
/// with `μ = loc` and `σ = scale`, for `x > 0`.
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, LogNormal};
///
/// let d: LogNormal = LogNormal::new(0.0, 1.0);
/// // at x = 1: ln x = 0, so only -ln √(2π) remains
/// assert!((d.ln_pdf(1.0) - -0.918_938_533_204_672_8).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogNormal<T = f64> {
    loc: T,
    scale: T,
}

loc_scale!(LogNormal, "A log-normal", loc: "The mean `μ` of `ln x`.", scale: "The standard deviation `σ` of `ln x`.");

impl<T: Real> LogNormal<T> {
    /// `(ln x, z, ∂/∂μ, ∂/∂σ)` at `x`, with `z = (ln x - μ)/σ`, `∂/∂μ = z/σ` and
    /// `∂/∂σ = (z² - 1)/σ`.
    #[inline]
    fn standardise(&self, x: f64) -> (f64, f64, f64, f64) {
        let scale = self.scale.value();
        let ln_x = x.ln();
        let z = (ln_x - self.loc.value()) / scale;
        (ln_x, z, z / scale, (z * z - 1.0) / scale)
    }
}

impl<T: Real> Distribution for LogNormal<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -(z/σ + 1)/x`, `∂/∂μ = z/σ`, `∂/∂σ = (z² - 1)/σ` with
    /// `z = (ln x - μ)/σ`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (ln_x, z, d_loc, d_scale) = self.standardise(x.value());
        let value = -(z * z) * 0.5 - ln_x - self.scale.value().ln() - LN_SQRT_2PI;
        let d_x = -(d_loc + 1.0) / x.value();
        T::fused(value, [(x, d_x), (self.loc, d_loc), (self.scale, d_scale)])
    }

    /// One node with the partials of `ln_pdf` for `μ` and `σ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (ln_x, z, d_loc, d_scale) = self.standardise(x);
        let value = -(z * z) * 0.5 - self.scale.value().ln() - (ln_x + LN_SQRT_2PI);
        T::fused(value, [(self.loc, d_loc), (self.scale, d_scale)])
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }
}

impl<T: Real> Continuous for LogNormal<T> {}

impl<T: Real> rand::distr::Distribution<f64> for LogNormal<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::LogNormal::new(self.loc.value(), self.scale.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::{central_fourth, check_moments};

    #[test]
    fn constructor_checks() {
        assert!(LogNormal::<f64>::try_new(0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(LogNormal::<f64>::try_new(0.0, bad).is_err(), "scale {bad}");
            assert_eq!(
                LogNormal::<f64>::new(0.0, bad).ln_pdf(1.0),
                f64::NEG_INFINITY
            );
        }
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(LogNormal::<f64>::try_new(bad, 1.0).is_err(), "loc {bad}");
            assert_eq!(
                LogNormal::<f64>::new(bad, 1.0).ln_pdf(1.0),
                f64::NEG_INFINITY
            );
        }
    }

    #[test]
    fn outside_support() {
        let d: LogNormal = LogNormal::new(0.0, 1.0);
        for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn sampling_moments() {
        // E X^k = exp(kμ + k²σ²/2).
        let (mu, sigma): (f64, f64) = (0.5, 0.3);
        let raw = [1.0, 2.0, 3.0, 4.0].map(|k| (k * mu + k * k * sigma * sigma / 2.0).exp());
        let d: LogNormal = LogNormal::new(mu, sigma);
        check_moments(&d, raw[0], raw[1] - raw[0] * raw[0], central_fourth(raw), 3);
    }
}
