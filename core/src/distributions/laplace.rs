//! The Laplace (double exponential) distribution.

use std::f64::consts::LN_2;

use rand::{Rng, RngExt};
use rand_distr::Exp1;

use super::{Continuous, Distribution, is_pos, neg_inf};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The Laplace (double exponential) distribution with location `loc` and scale `scale`.
///
/// # Density
/// ```text
/// ln f(x) = -|x - μ| / b - ln b - ln 2
/// ```
/// with `μ = loc` and `b = scale`, for `x ∈ ℝ`.
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Laplace};
///
/// let d: Laplace = Laplace::new(1.0, 2.0);
/// // -|-2 - 1|/2 - ln 2 - ln 2
/// assert!((d.ln_pdf(-2.0) - -2.886_294_361_119_890_6).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Laplace<T = f64> {
    loc: T,
    scale: T,
}

loc_scale!(Laplace, "A Laplace", loc: "The location `μ` (mean and median).", scale: "The scale `b`; the standard deviation is `b √2`.");

impl<T: Real> Laplace<T> {
    /// `ln_pdf(x)` with its partials in `μ` and `b` (the one in `x` is minus that in
    /// `μ`). At the kink `x = μ` the partial in `μ` is 0, as for `Real::abs`.
    #[inline]
    fn value_and_partials(&self, x: f64) -> (f64, f64, f64) {
        let scale = self.scale.value();
        let diff = x - self.loc.value();
        let dist = diff.abs() / scale;
        let value = -dist - scale.ln() - LN_2;
        let sign = if diff > 0.0 {
            1.0
        } else if diff < 0.0 {
            -1.0
        } else {
            0.0
        };
        (value, sign / scale, (dist - 1.0) / scale)
    }
}

impl<T: Real> Distribution for Laplace<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -sgn(x - μ)/b`, `∂/∂μ = sgn(x - μ)/b`, `∂/∂b = (|x - μ|/b - 1)/b`,
    /// with `sgn(0) = 0`.
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

    /// One node with the partials of `ln_pdf` for `μ` and `b`.
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

impl<T: Real> Continuous for Laplace<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Laplace<T> {
    /// The difference of two standard exponential draws is standard Laplace.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let e1: f64 = rng.sample(Exp1);
        let e2: f64 = rng.sample(Exp1);
        self.loc.value() + self.scale.value() * (e1 - e2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        assert!(Laplace::<f64>::try_new(0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Laplace::<f64>::try_new(0.0, bad).is_err(), "scale {bad}");
            assert_eq!(Laplace::<f64>::new(0.0, bad).ln_pdf(0.0), f64::NEG_INFINITY);
        }
        for bad in [f64::NAN, f64::NEG_INFINITY] {
            assert!(Laplace::<f64>::try_new(bad, 1.0).is_err(), "loc {bad}");
            assert_eq!(Laplace::<f64>::new(bad, 1.0).ln_pdf(0.0), f64::NEG_INFINITY);
        }
        let d: Laplace = Laplace::new(0.0, 1.0);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn sampling_moments() {
        // var = 2b², μ₄ = 24b⁴.
        let (loc, b): (f64, f64) = (-0.5, 1.5);
        let d: Laplace = Laplace::new(loc, b);
        check_moments(&d, loc, 2.0 * b * b, 24.0 * b.powi(4), 8);
    }
}
