//! The Weibull distribution.

use rand::Rng;

use super::pointwise::{self, Parts};
use super::truncated::Cdf;
use super::{Continuous, Distribution, ObsVector, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The Weibull distribution with shape `shape` and scale `scale` (Stan's `weibull`).
///
/// # Density
/// ```text
/// ln f(x) = ln k - ln λ + (k - 1) ln(x/λ) - (x/λ)^k
/// ```
/// with `k = shape` and `λ = scale`, for `x > 0`. Its cumulative distribution function is
/// `F(x) = 1 - exp(-(x/λ)^k)`.
///
/// # Parameters
/// `shape > 0` and finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Weibull};
///
/// let d: Weibull = Weibull::new(2.0, 3.0);
/// // ln 2 - ln 3 + ln(1/3) - 1/9
/// assert!((d.ln_pdf(1.0) - -1.615_188_507_887_385_3).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weibull<T = f64> {
    shape: T,
    scale: T,
}

impl<T: Real> Weibull<T> {
    /// A Weibull distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(shape: impl Into<T>, scale: impl Into<T>) -> Self {
        Weibull {
            shape: shape.into(),
            scale: scale.into(),
        }
    }

    /// A Weibull distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `shape` or `scale` is not positive and finite.
    pub fn try_new(shape: impl Into<T>, scale: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(shape, scale);
        ParamError::check_positive("shape", d.shape)?;
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The shape `k`.
    pub fn shape(&self) -> T {
        self.shape
    }

    /// The scale `λ`.
    pub fn scale(&self) -> T {
        self.scale
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.shape) && is_pos(self.scale)
    }

    /// `(k, λ, ln(x/λ), (x/λ)^k)` at `x > 0`; `(x/λ)^k` by `powf` (a relative error of
    /// about `k` ulp) unless `x/λ` under- or overflows.
    #[inline]
    fn standardise(&self, x: f64) -> (f64, f64, f64, f64) {
        let (k, lambda) = (self.shape.value(), self.scale.value());
        let u = x / lambda;
        if u.is_normal() {
            (k, lambda, u.ln(), u.powf(k))
        } else {
            let ln_u = x.ln() - lambda.ln();
            (k, lambda, ln_u, (k * ln_u).exp())
        }
    }

    /// `ln f(x)` with `∂/∂x = (k - 1 - k w)/x`, `∂/∂k = 1/k + (1 - w) ln(x/λ)`,
    /// `∂/∂λ = k (w - 1)/λ`, `w = (x/λ)^k`.
    #[inline]
    fn parts(&self, x: f64) -> Option<Parts<2>> {
        if !self.is_valid() || !is_pos(x) {
            return None;
        }
        let (k, lambda, ln_u, w) = self.standardise(x);
        Parts {
            value: k.ln() - lambda.ln() + (k - 1.0) * ln_u - w,
            d_x: (k - 1.0 - k * w) / x,
            d_params: [k.recip() + (1.0 - w) * ln_u, k * (w - 1.0) / lambda],
        }
        .finite()
    }
}

impl<T: Real> Distribution for Weibull<T> {
    type Scalar = T;

    /// One node: with `w = (x/λ)^k`, `∂/∂x = (k - 1 - k w)/x`,
    /// `∂/∂k = 1/k + (1 - w) ln(x/λ)`, `∂/∂λ = k (w - 1)/λ`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        pointwise::latent([self.shape, self.scale], x, |x| self.parts(x))
    }

    /// One node with the partials of `ln_pdf` for `k` and `λ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        pointwise::observed([self.shape, self.scale], x, |x| self.parts(x))
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }

    /// One node: the partials of `ln_pdf` summed over the values.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        pointwise::latent_sum([self.shape, self.scale], xs, |x| self.parts(x))
    }

    /// One node: the partials of `ln_pdf_obs` summed over the values.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.shape, self.scale], ys, |x| self.parts(x))
    }
}

impl<T: Real> Continuous for Weibull<T> {}

impl<T: Real> Cdf for Weibull<T> {
    /// One node: `ln(1 - e^{-w})`, `w = (x/λ)^k`, with `∂/∂w = 1/(e^w - 1)` and
    /// `∂w/∂x = k w/x`, `∂w/∂k = w ln(x/λ)`, `∂w/∂λ = -k w/λ`; `-∞` for `x ≤ 0`.
    fn ln_cdf(&self, x: T) -> T {
        if !self.is_valid() || x.value().is_nan() || x <= 0.0 {
            return neg_inf();
        }
        if x.value() == f64::INFINITY {
            return T::from(0.0);
        }
        let (k, lambda, ln_u, w) = self.standardise(x.value());
        let d_w = w.exp_m1().recip();
        let value = (-w).log1m_exp();
        if !value.is_finite() {
            return neg_inf();
        }
        T::fused(
            value,
            [
                (x, d_w * k * w / x.value()),
                (self.shape, d_w * w * ln_u),
                (self.scale, -d_w * k * w / lambda),
            ],
        )
    }

    /// One node: `-w`, `w = (x/λ)^k`; `0` for `x ≤ 0`.
    fn ln_ccdf(&self, x: T) -> T {
        if !self.is_valid() || x.value().is_nan() || x.value() == f64::INFINITY {
            return neg_inf();
        }
        if x <= 0.0 {
            return T::from(0.0);
        }
        let (k, lambda, ln_u, w) = self.standardise(x.value());
        if !w.is_finite() {
            return neg_inf();
        }
        T::fused(
            -w,
            [
                (x, -k * w / x.value()),
                (self.shape, -w * ln_u),
                (self.scale, k * w / lambda),
            ],
        )
    }

    /// `λ (-ln(1 - p))^{1/k}`.
    fn inverse_ln_cdf(&self, ln_p: f64) -> f64 {
        if !self.is_valid() || ln_p > 0.0 {
            return f64::NAN;
        }
        self.scale.value() * (-ln_p.log1m_exp()).powf(self.shape.value().recip())
    }

    /// `λ (-ln q)^{1/k}`.
    fn inverse_ln_ccdf(&self, ln_q: f64) -> f64 {
        if !self.is_valid() || ln_q > 0.0 {
            return f64::NAN;
        }
        self.scale.value() * (-ln_q).powf(self.shape.value().recip())
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Weibull<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Weibull::new(self.scale.value(), self.shape.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::Exponential;
    use crate::distributions::test_util::{central_fourth, check_moments};
    use crate::special::lgamma;

    #[test]
    fn constructor_checks() {
        assert!(Weibull::<f64>::try_new(1.5, 2.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Weibull::<f64>::try_new(bad, 1.0).is_err(), "shape {bad}");
            assert_eq!(Weibull::<f64>::new(bad, 1.0).ln_pdf(1.0), f64::NEG_INFINITY);
            assert!(Weibull::<f64>::try_new(1.0, bad).is_err(), "scale {bad}");
            assert_eq!(Weibull::<f64>::new(1.0, bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        for shape in [0.5, 1.0, 3.0] {
            let d: Weibull = Weibull::new(shape, 1.0);
            for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
                assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "shape {shape}, x = {x}");
                assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "shape {shape}, x = {x}");
            }
        }
    }

    #[test]
    fn shape_one_is_exponential() {
        let w: Weibull = Weibull::new(1.0, 0.4);
        let e: Exponential = Exponential::new(2.5);
        for x in [1e-8, 0.3, 4.0, 100.0] {
            let want = e.ln_pdf(x);
            assert!((w.ln_pdf(x) - want).abs() < 1e-14 * want.abs().max(1.0));
            assert!((w.ln_ccdf(x) - e.ln_ccdf(x)).abs() < 1e-14 * e.ln_ccdf(x).abs());
            // ln F = ln(1 - e^{-w}) amplifies the rounding of w by w e^{-w}/(1 - e^{-w})
            let tol = 1e-14 * (1.0 + e.ln_ccdf(x).abs());
            assert!((w.ln_cdf(x) - e.ln_cdf(x)).abs() < tol * e.ln_cdf(x).abs());
        }
    }

    #[test]
    fn cdf_inverse() {
        let d: Weibull = Weibull::new(0.7, 2.0);
        for x in [1e-6, 0.5, 2.0, 30.0, 500.0] {
            let back = d.inverse_ln_cdf(d.ln_cdf(x));
            assert!((back - x).abs() <= 1e-13 * x, "{x}: {back}");
            let back = d.inverse_ln_ccdf(d.ln_ccdf(x));
            assert!((back - x).abs() <= 1e-13 * x, "{x}: {back}");
        }
    }

    #[test]
    fn sampling_moments() {
        // E X^n = λⁿ Γ(1 + n/k).
        let (shape, scale): (f64, f64) = (1.7, 2.5);
        let raw = [1.0, 2.0, 3.0, 4.0].map(|n| scale.powf(n) * lgamma(1.0 + n / shape).exp());
        let d: Weibull = Weibull::new(shape, scale);
        check_moments(
            &d,
            raw[0],
            raw[1] - raw[0] * raw[0],
            central_fourth(raw),
            52,
        );
    }
}
