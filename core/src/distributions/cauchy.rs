//! The Cauchy distribution.

use rand::Rng;

use super::{Continuous, Distribution, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// `ln π`.
pub(super) const LN_PI: f64 = 1.144_729_885_849_400_2;

/// `ln(1 + w²)`, without overflow for large `|w|` and accurate for small `|w|`.
#[inline]
pub(crate) fn ln_1p_sq(w: f64) -> f64 {
    if w < 1.0 && w > -1.0 {
        (w * w).ln_1p()
    } else {
        // ln(w² (1 + 1/w²)) = 2 ln|w| + ln(1 + 1/w²)
        let r = w.recip();
        w.abs().ln() * 2.0 + (r * r).ln_1p()
    }
}

/// The derivative of [`ln_1p_sq`] and that derivative times `w`:
/// `(2w / (1 + w²), 2w² / (1 + w²))`, finite for every finite `w`.
#[inline]
pub(crate) fn ln_1p_sq_partials(w: f64) -> (f64, f64) {
    if w < 1.0 && w > -1.0 {
        let t = 1.0 + w * w;
        (2.0 * w / t, 2.0 * w * w / t)
    } else {
        // divide through by w² so that nothing overflows
        let r = w.recip();
        let t = 1.0 + r * r;
        (2.0 * r / t, 2.0 / t)
    }
}

/// The Cauchy distribution with location (median) `loc` and scale `scale`.
///
/// # Density
/// ```text
/// ln f(x) = -ln(1 + ((x - μ)/σ)²) - ln σ - ln π
/// ```
/// with `μ = loc` and `σ = scale`, for `x ∈ ℝ`.
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Cauchy, Distribution};
///
/// let d: Cauchy = Cauchy::new(1.0, 2.0);
/// // -ln(1 + 1²) - ln 2 - ln π
/// assert!((d.ln_pdf(3.0) - -2.531_024_246_969_290_8).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cauchy<T = f64> {
    loc: T,
    scale: T,
}

loc_scale!(Cauchy, "A Cauchy", loc: "The location `μ` (the median).", scale: "The scale `σ` (half the interquartile range).");

impl<T: Real> Cauchy<T> {
    /// `ln_pdf(x)` with its partials in `μ` and `σ` (the one in `x` is minus that in `μ`).
    #[inline]
    fn value_and_partials(&self, x: f64) -> (f64, f64, f64) {
        let scale = self.scale.value();
        let z = (x - self.loc.value()) / scale;
        let value = -ln_1p_sq(z) - scale.ln() - LN_PI;
        let (g, zg) = ln_1p_sq_partials(z);
        (value, g / scale, (zg - 1.0) / scale)
    }
}

impl<T: Real> Distribution for Cauchy<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -g/σ`, `∂/∂μ = g/σ`, `∂/∂σ = (z g - 1)/σ` with `z = (x - μ)/σ`
    /// and `g = 2z/(1 + z²)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || !x.is_finite() {
            return neg_inf();
        }
        let (value, d_loc, d_scale) = self.value_and_partials(x.value());
        T::fused(
            value,
            [(x, -d_loc), (self.loc, d_loc), (self.scale, d_scale)],
        )
    }

    /// One node with the partials of `ln_pdf` for `μ` and `σ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || !x.is_finite() {
            return neg_inf();
        }
        let (value, d_loc, d_scale) = self.value_and_partials(x);
        T::fused(value, [(self.loc, d_loc), (self.scale, d_scale)])
    }

    fn support(&self) -> Support<T> {
        Support::Real
    }
}

impl<T: Real> Continuous for Cauchy<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Cauchy<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Cauchy::new(self.loc.value(), self.scale.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;
    use crate::distributions::test_util::check_quantiles;

    #[test]
    fn constructor_checks() {
        assert!(Cauchy::<f64>::try_new(0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Cauchy::<f64>::try_new(0.0, bad).is_err(), "scale {bad}");
            assert_eq!(Cauchy::<f64>::new(0.0, bad).ln_pdf(0.0), f64::NEG_INFINITY);
        }
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(Cauchy::<f64>::try_new(bad, 1.0).is_err(), "loc {bad}");
            assert_eq!(Cauchy::<f64>::new(bad, 1.0).ln_pdf(0.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn non_finite_x() {
        let d: Cauchy = Cauchy::new(0.0, 1.0);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
        // far tail: -2 ln|x| - ln π, where 1 + x² would overflow
        assert!((d.ln_pdf(1e200) - (-400.0 * 10f64.ln() - LN_PI)).abs() < 1e-12 * 922.0);
    }

    #[test]
    fn ln_1p_sq_matches_direct_formula() {
        for w in [0.0, 1e-9, -0.3, 0.999, 1.0, -1.0, 1.5, -40.0, 1e5] {
            let want = (w * w).ln_1p();
            assert!(
                (ln_1p_sq(w) - want).abs() <= 1e-15 * want.max(1e-300),
                "w = {w}"
            );
        }
    }

    #[test]
    fn ln_1p_sq_partials_match_direct_formula() {
        for w in [0.0, 1e-9, -0.3, 0.999, 1.0, -1.0, 1.5, -40.0, 1e5] {
            let (g, wg) = ln_1p_sq_partials(w);
            let t = 1.0 + w * w;
            assert!((g - 2.0 * w / t).abs() <= 1e-15 * g.abs(), "w = {w}");
            assert!((wg - 2.0 * w * w / t).abs() <= 1e-15 * wg.abs(), "w = {w}");
        }
        // where 1 + w² overflows: g ≈ 2/w, w g ≈ 2
        let (g, wg) = ln_1p_sq_partials(-1e200);
        assert_eq!((g, wg), (-2e-200, 2.0));
    }

    #[test]
    fn sampling_quantiles() {
        // No moments: compare the fraction of draws below μ + σ tan(π(p - ½)) with p.
        let (loc, scale) = (-1.0, 3.0);
        let d: Cauchy = Cauchy::new(loc, scale);
        let qs = [0.05, 0.25, 0.5, 0.75, 0.95].map(|p| (loc + scale * (PI * (p - 0.5)).tan(), p));
        check_quantiles(&d, &qs, 4);
    }
}
