//! The Gumbel (type I extreme value) distribution.

use rand::Rng;

use super::pointwise::{self, Parts};
use super::truncated::{Cdf, loc_scale_cdf};
use super::{Continuous, Distribution, ObsVector, is_pos, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The Gumbel distribution of maxima, with location (mode) `loc` and scale `scale`.
///
/// # Density
/// ```text
/// ln f(x) = -z - e^{-z} - ln β,   z = (x - μ)/β
/// ```
/// with `μ = loc` and `β = scale`, for `x ∈ ℝ`. Its cumulative distribution function is
/// `F(x) = exp(-e^{-z})`. Far below the mode `e^{-z}` overflows and `ln_pdf` is `-∞`
/// (the true value is below `-1.7e308`).
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Gumbel};
///
/// let d: Gumbel = Gumbel::new(1.0, 2.0);
/// // at the mode: -1 - ln 2
/// assert!((d.ln_pdf(1.0) - (-1.0 - 2f64.ln())).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gumbel<T = f64> {
    loc: T,
    scale: T,
}

loc_scale!(Gumbel, "A Gumbel", loc: "The location `μ` (the mode).", scale: "The scale `β`.");

impl<T: Real> Gumbel<T> {
    /// `ln f(x)` with `∂/∂x = (e^{-z} - 1)/β`, `∂/∂μ = (1 - e^{-z})/β`,
    /// `∂/∂β = (z (1 - e^{-z}) - 1)/β`.
    #[inline]
    fn parts(&self, x: f64) -> Option<Parts<2>> {
        if !self.is_valid() || !x.is_finite() {
            return None;
        }
        let b = self.scale.value();
        let z = (x - self.loc.value()) / b;
        let e = (-z).exp();
        let g = -(-z).exp_m1(); // 1 - e^{-z}, accurate near the mode
        Parts {
            value: -z - e - b.ln(),
            d_x: -g / b,
            d_params: [g / b, (z * g - 1.0) / b],
        }
        .finite()
    }
}

impl<T: Real> Distribution for Gumbel<T> {
    type Scalar = T;

    /// One node: `∂/∂x = (e^{-z} - 1)/β`, `∂/∂μ = (1 - e^{-z})/β`,
    /// `∂/∂β = (z (1 - e^{-z}) - 1)/β` with `z = (x - μ)/β`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        pointwise::latent([self.loc, self.scale], x, |x| self.parts(x))
    }

    /// One node with the partials of `ln_pdf` for `μ` and `β`.
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

impl<T: Real> Continuous for Gumbel<T> {}

impl<T: Real> Cdf for Gumbel<T> {
    /// One node: `ln F(x) = -e^{-z}`, with `h'(z) = e^{-z}`.
    fn ln_cdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc, self.scale, false, |z| {
            let e = (-z).exp();
            (-e, e)
        })
    }

    /// One node: `ln(1 - F(x)) = ln(1 - exp(-e^{-z}))`, with
    /// `h'(z) = -e^{-z} / (exp(e^{-z}) - 1)`.
    fn ln_ccdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc, self.scale, true, |z| {
            let e = (-z).exp();
            let d = if e.is_finite() { -e / e.exp_m1() } else { 0.0 };
            ((-e).log1m_exp(), d)
        })
    }

    /// `μ - β ln(-ln p)`.
    fn inverse_ln_cdf(&self, ln_p: f64) -> f64 {
        if !self.is_valid() || ln_p > 0.0 {
            return f64::NAN;
        }
        self.loc.value() - self.scale.value() * (-ln_p).ln()
    }

    /// `μ - β ln(-ln(1 - q))`.
    fn inverse_ln_ccdf(&self, ln_q: f64) -> f64 {
        if !self.is_valid() || ln_q > 0.0 {
            return f64::NAN;
        }
        self.loc.value() - self.scale.value() * (-ln_q.log1m_exp()).ln()
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Gumbel<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Gumbel::new(self.loc.value(), self.scale.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;
    use crate::distributions::test_util::check_moments;

    /// The Euler–Mascheroni constant.
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

    #[test]
    fn constructor_checks() {
        assert!(Gumbel::<f64>::try_new(0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Gumbel::<f64>::try_new(0.0, bad).is_err(), "scale {bad}");
            assert_eq!(Gumbel::<f64>::new(0.0, bad).ln_pdf(0.0), f64::NEG_INFINITY);
        }
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(Gumbel::<f64>::try_new(bad, 1.0).is_err(), "loc {bad}");
            assert_eq!(Gumbel::<f64>::new(bad, 1.0).ln_pdf(0.0), f64::NEG_INFINITY);
        }
        let d: Gumbel = Gumbel::new(0.0, 1.0);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -1e3] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn cdf_and_its_inverse() {
        let d: Gumbel = Gumbel::new(0.5, 2.0);
        for x in [-10.0, -1.0, 0.5, 3.0, 40.0, 1e3] {
            let z: f64 = (x - 0.5) / 2.0;
            let want = (-(-z).exp()).exp();
            assert!((d.ln_cdf(x).exp() - want).abs() <= 1e-15 * want, "{x}");
            let want_upper = -(-(-z).exp()).exp_m1();
            let got = d.ln_ccdf(x).exp();
            assert!((got - want_upper).abs() <= 1e-14 * want_upper, "{x}");
            let back = d.inverse_ln_cdf(d.ln_cdf(x));
            assert!((back - x).abs() <= 1e-13 * x.abs().max(1.0), "{x}: {back}");
            let back = d.inverse_ln_ccdf(d.ln_ccdf(x));
            assert!((back - x).abs() <= 1e-13 * x.abs().max(1.0), "{x}: {back}");
        }
    }

    #[test]
    fn sampling_moments() {
        // mean μ + βγ, var π²β²/6, excess kurtosis 12/5.
        let (loc, scale): (f64, f64) = (-1.0, 1.5);
        let var = PI * PI * scale * scale / 6.0;
        let d: Gumbel = Gumbel::new(loc, scale);
        check_moments(&d, loc + scale * EULER_GAMMA, var, 5.4 * var * var, 51);
    }
}
