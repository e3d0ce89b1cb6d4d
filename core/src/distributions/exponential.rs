//! The exponential distribution.

use rand::Rng;

use super::{Continuous, Distribution, ObsVector, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The exponential distribution with rate `rate` (mean `1 / rate`).
///
/// # Density
/// ```text
/// ln f(x) = ln λ - λ x
/// ```
/// with `λ = rate`, for `x > 0`.
///
/// # Parameters
/// `rate > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Exponential};
///
/// let d: Exponential = Exponential::new(2.0);
/// // ln 2 - 2 · 1.5
/// assert!((d.ln_pdf(1.5) - -2.306_852_819_440_054_7).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponential<T = f64> {
    rate: T,
}

impl<T: Real> Exponential<T> {
    /// An exponential distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(rate: impl Into<T>) -> Self {
        Exponential { rate: rate.into() }
    }

    /// An exponential distribution whose parameter is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `rate` is not positive and finite.
    pub fn try_new(rate: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(rate);
        ParamError::check_positive("rate", d.rate)?;
        Ok(d)
    }

    /// The rate `λ`.
    pub fn rate(&self) -> T {
        self.rate
    }
}

impl<T: Real> Distribution for Exponential<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -λ`, `∂/∂λ = 1/λ - x`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !is_pos(self.rate) || !is_pos(x) {
            return neg_inf();
        }
        let (rate, x_value) = (self.rate.value(), x.value());
        let value = rate.ln() - rate * x_value;
        T::fused(value, [(x, -rate), (self.rate, 1.0 / rate - x_value)])
    }

    /// One node with the partial of `ln_pdf` for `λ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !is_pos(self.rate) || !is_pos(x) {
            return neg_inf();
        }
        let rate = self.rate.value();
        let value = rate.ln() - rate * x;
        T::fused(value, [(self.rate, 1.0 / rate - x)])
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }

    /// One node: `∂/∂xᵢ = -λ`, `∂/∂λ = n/λ - Σxᵢ`.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        if !is_pos(self.rate) || xs.iter().any(|&x| !is_pos(x)) {
            return neg_inf();
        }
        let rate = self.rate.value();
        let sum = xs.iter().map(|x| x.value()).sum();
        let Some((value, d_rate)) = sum_to_ln_pdf(sum, xs.len() as f64, rate) else {
            return neg_inf();
        };
        let terms = std::iter::once((self.rate, d_rate));
        T::fused(value, terms.chain(xs.iter().map(|&x| (x, -rate))))
    }

    /// One node with the partial of `ln_pdf_sum` for `λ`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        if !is_pos(self.rate) {
            return neg_inf();
        }
        let mut sum = 0.0;
        for i in 0..ys.len() {
            let y = ys.get_f64(i);
            if !is_pos(y) {
                return neg_inf();
            }
            sum += y;
        }
        match sum_to_ln_pdf(sum, ys.len() as f64, self.rate.value()) {
            Some((value, d_rate)) => T::fused(value, [(self.rate, d_rate)]),
            None => neg_inf(),
        }
    }
}

/// The joint exponential log-density `n ln λ - λ s` of `n` values that sum to `s`, with
/// its partial in `λ`; `None` when it is not finite.
#[inline]
fn sum_to_ln_pdf(sum: f64, n: f64, rate: f64) -> Option<(f64, f64)> {
    let value = n * rate.ln() - rate * sum;
    value.is_finite().then_some((value, n / rate - sum))
}

impl<T: Real> Continuous for Exponential<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Exponential<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !is_pos(self.rate) {
            return f64::NAN;
        }
        sample_or_nan(rand_distr::Exp::new(self.rate.value()), rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        assert!(Exponential::<f64>::try_new(1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Exponential::<f64>::try_new(bad).is_err(), "rate {bad}");
            assert_eq!(Exponential::<f64>::new(bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        let d: Exponential = Exponential::new(1.0);
        for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn sampling_moments() {
        // mean 1/λ, var 1/λ², μ₄ = 9/λ⁴.
        let rate: f64 = 0.7;
        let d: Exponential = Exponential::new(rate);
        check_moments(&d, 1.0 / rate, rate.powi(-2), 9.0 * rate.powi(-4), 9);
    }
}
