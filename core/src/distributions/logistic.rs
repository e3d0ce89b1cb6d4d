//! The logistic distribution.

use rand::{Rng, RngExt};

use super::pointwise::{self, Parts};
use super::truncated::{Cdf, loc_scale_cdf};
use super::{Continuous, Distribution, ObsVector, is_pos};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The logistic distribution with location (mean and median) `loc` and scale `scale`.
///
/// # Density
/// ```text
/// ln f(x) = -z - 2 ln(1 + e^{-z}) - ln s,   z = (x - μ)/s
/// ```
/// with `μ = loc` and `s = scale`, for `x ∈ ℝ`. The density is symmetric in `z` and is
/// evaluated at `|z|`, so neither tail overflows. Its cumulative distribution function is
/// the logistic sigmoid `F(x) = 1 / (1 + e^{-z})`.
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Logistic};
///
/// let d: Logistic = Logistic::new(1.0, 2.0);
/// // at the median: -2 ln 2 - ln 2
/// assert!((d.ln_pdf(1.0) - -3.0 * 2f64.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Logistic<T = f64> {
    loc: T,
    scale: T,
}

loc_scale!(Logistic, "A logistic", loc: "The location `μ`.", scale: "The scale `s` (the standard deviation is `s π/√3`).");

impl<T: Real> Logistic<T> {
    /// `ln f(x)` with `∂/∂x = -tanh(z/2)/s`, `∂/∂μ = tanh(z/2)/s`,
    /// `∂/∂s = (z tanh(z/2) - 1)/s`.
    #[inline]
    fn parts(&self, x: f64) -> Option<Parts<2>> {
        if !self.is_valid() || !x.is_finite() {
            return None;
        }
        let s = self.scale.value();
        let z = (x - self.loc.value()) / s;
        let a = z.abs();
        let value = -a - 2.0 * (-a).exp().ln_1p() - s.ln();
        let t = (0.5 * z).tanh();
        Parts {
            value,
            d_x: -t / s,
            d_params: [t / s, (z * t - 1.0) / s],
        }
        .finite()
    }
}

impl<T: Real> Distribution for Logistic<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -tanh(z/2)/s`, `∂/∂μ = tanh(z/2)/s`,
    /// `∂/∂s = (z tanh(z/2) - 1)/s` with `z = (x - μ)/s`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        pointwise::latent([self.loc, self.scale], x, |x| self.parts(x))
    }

    /// One node with the partials of `ln_pdf` for `μ` and `s`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        pointwise::observed([self.loc, self.scale], x, |x| self.parts(x))
    }

    fn support(&self) -> Support<T> {
        Support::Real
    }

    /// One node: the partials of `ln_pdf` summed over the values.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        pointwise::latent_sum([self.loc, self.scale], xs, |x| self.parts(x))
    }

    /// One node: the partials of `ln_pdf_obs` summed over the values.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.loc, self.scale], ys, |x| self.parts(x))
    }
}

impl<T: Real> Continuous for Logistic<T> {}

/// `(ln σ(z), σ(-z))`: the standard logistic log-CDF `-ln(1 + e^{-z})` and its
/// derivative.
fn ln_std_logistic_cdf(z: f64) -> (f64, f64) {
    (z.log_inv_logit(), (-z).inv_logit())
}

impl<T: Real> Cdf for Logistic<T> {
    /// One node: `ln F(x) = -ln(1 + e^{-z})`, with `h'(z) = 1 - F(x)`.
    fn ln_cdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc, self.scale, false, ln_std_logistic_cdf)
    }

    /// One node: `ln(1 - F(x)) = -ln(1 + e^{z})`, with `h'(z) = -F(x)`.
    fn ln_ccdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc, self.scale, true, |z| {
            let (value, d) = ln_std_logistic_cdf(-z);
            (value, -d)
        })
    }

    /// `μ + s (ln p - ln(1 - p))`.
    fn inverse_ln_cdf(&self, ln_p: f64) -> f64 {
        if !self.is_valid() || ln_p > 0.0 {
            return f64::NAN;
        }
        self.loc.value() + self.scale.value() * (ln_p - ln_p.log1m_exp())
    }

    /// `μ + s (ln(1 - q) - ln q)`.
    fn inverse_ln_ccdf(&self, ln_q: f64) -> f64 {
        if !self.is_valid() || ln_q > 0.0 {
            return f64::NAN;
        }
        self.loc.value() + self.scale.value() * (ln_q.log1m_exp() - ln_q)
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Logistic<T> {
    /// By inversion, `μ + s ln(u / (1 - u))` with `u` uniform on `(0, 1)`.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let u: f64 = rng.sample(rand::distr::Open01);
        self.loc.value() + self.scale.value() * (u.ln() - (-u).ln_1p())
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        assert!(Logistic::<f64>::try_new(0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Logistic::<f64>::try_new(0.0, bad).is_err(), "scale {bad}");
            assert_eq!(
                Logistic::<f64>::new(0.0, bad).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(Logistic::<f64>::try_new(bad, 1.0).is_err(), "loc {bad}");
            assert_eq!(
                Logistic::<f64>::new(bad, 1.0).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
        let d: Logistic = Logistic::new(0.0, 1.0);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn far_tails_do_not_overflow() {
        // ln f(x) → -|z| - ln s
        let d: Logistic = Logistic::new(0.0, 1.0);
        assert_eq!(d.ln_pdf(-800.0), -800.0);
        assert_eq!(d.ln_pdf(800.0), -800.0);
        assert_eq!(d.ln_cdf(-800.0), -800.0);
        assert_eq!(d.ln_ccdf(800.0), -800.0);
    }

    #[test]
    fn cdf_and_its_inverse() {
        let d: Logistic = Logistic::new(-1.0, 0.5);
        for x in [-300.0, -5.0, -1.0, 0.2, 4.0, 30.0] {
            let z: f64 = (x + 1.0) / 0.5;
            let want = 1.0 / (1.0 + (-z).exp());
            assert!((d.ln_cdf(x).exp() - want).abs() <= 1e-15 * want, "{x}");
            let back = d.inverse_ln_cdf(d.ln_cdf(x));
            assert!((back - x).abs() <= 1e-13 * x.abs().max(1.0), "{x}: {back}");
            let back = d.inverse_ln_ccdf(d.ln_ccdf(x));
            assert!((back - x).abs() <= 1e-13 * x.abs().max(1.0), "{x}: {back}");
        }
    }

    #[test]
    fn sampling_moments() {
        // mean μ, var s²π²/3, excess kurtosis 6/5.
        let (loc, scale): (f64, f64) = (2.0, 0.7);
        let var = scale * scale * PI * PI / 3.0;
        let d: Logistic = Logistic::new(loc, scale);
        check_moments(&d, loc, var, 4.2 * var * var, 50);
    }
}
