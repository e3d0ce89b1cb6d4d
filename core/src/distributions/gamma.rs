//! The gamma distribution.

use rand::Rng;

use super::{Continuous, Distribution, ObsVector, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::special::{digamma, lgamma};
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

    /// The joint log-density of `n` values from `Σ ln xᵢ` and `Σ xᵢ`, with its partials
    /// in `α` and `β`; `None` when it is not finite.
    #[inline]
    fn sums_to_ln_pdf(&self, sum_ln: f64, sum: f64, n: f64) -> Option<(f64, f64, f64)> {
        let (a, b) = (self.shape.value(), self.rate.value());
        let ln_b = b.ln();
        let value = n * (a * ln_b - lgamma(a)) + (a - 1.0) * sum_ln - b * sum;
        let partials = (n * (ln_b - digamma(a)) + sum_ln, n * a / b - sum);
        value.is_finite().then_some((value, partials.0, partials.1))
    }
}

impl<T: Real> Distribution for Gamma<T> {
    type Scalar = T;

    /// One node: `∂/∂x = (α - 1)/x - β`, `∂/∂α = ln β - ψ(α) + ln x`, `∂/∂β = α/β - x`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (a, b, x_value) = (self.shape.value(), self.rate.value(), x.value());
        let ln_x = x_value.ln();
        let value = a * b.ln() - lgamma(a) + (a - 1.0) * ln_x - b * x_value;
        if value.is_nan() {
            // overflowing terms (`∞ − ∞`) at extreme parameters: the density underflows
            return neg_inf();
        }
        let terms = [
            (x, (a - 1.0) / x_value - b),
            (self.shape, b.ln() - digamma(a) + ln_x),
            (self.rate, a / b - x_value),
        ];
        T::fused(value, terms)
    }

    /// One node with the partials of `ln_pdf` for `α` and `β`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || !is_pos(x) {
            return neg_inf();
        }
        let (a, b) = (self.shape.value(), self.rate.value());
        let ln_x = x.ln();
        let value = a * b.ln() - lgamma(a) + (a - 1.0) * ln_x - b * x;
        if value.is_nan() {
            return neg_inf();
        }
        let terms = [
            (self.shape, b.ln() - digamma(a) + ln_x),
            (self.rate, a / b - x),
        ];
        T::fused(value, terms)
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }

    /// One node: `∂/∂xᵢ = (α - 1)/xᵢ - β`, `∂/∂α = n(ln β - ψ(α)) + Σ ln xᵢ`,
    /// `∂/∂β = nα/β - Σxᵢ`.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        if !self.is_valid() || xs.iter().any(|&x| !is_pos(x)) {
            return neg_inf();
        }
        let (sum_ln, sum) = xs.iter().fold((0.0, 0.0), |(sum_ln, sum), x| {
            let x = x.value();
            (sum_ln + x.ln(), sum + x)
        });
        let Some((value, d_shape, d_rate)) = self.sums_to_ln_pdf(sum_ln, sum, xs.len() as f64)
        else {
            return neg_inf();
        };
        let (a, b) = (self.shape.value(), self.rate.value());
        let terms = [(self.shape, d_shape), (self.rate, d_rate)].into_iter();
        T::fused(
            value,
            terms.chain(xs.iter().map(|&x| (x, (a - 1.0) / x.value() - b))),
        )
    }

    /// One node with the partials of `ln_pdf_sum` for `α` and `β`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        if !self.is_valid() {
            return neg_inf();
        }
        let (mut sum_ln, mut sum) = (0.0, 0.0);
        for i in 0..ys.len() {
            let y = ys.get_f64(i);
            if !is_pos(y) {
                return neg_inf();
            }
            sum_ln += y.ln();
            sum += y;
        }
        match self.sums_to_ln_pdf(sum_ln, sum, ys.len() as f64) {
            Some((value, d_shape, d_rate)) => {
                T::fused(value, [(self.shape, d_shape), (self.rate, d_rate)])
            }
            None => neg_inf(),
        }
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
