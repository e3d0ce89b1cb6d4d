//! The improper flat density.

use rand::Rng;

use super::{Continuous, Distribution, neg_inf};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The improper flat density on ℝ, a half-line or an interval: `ln f(x) = 0` on the
/// support, with no normalising constant.
///
/// It is how an unnormalised target declares a constrained parameter without a prior,
/// as a Stan `parameters` block does: a latent `sample!("beta1", Flat::interval(0.0,
/// 1.0 - alpha1))` adds exactly the log-Jacobian of the interval transform and nothing
/// else, like Stan's `real<lower=0, upper=1-alpha1> beta1;`. The bounds may be scalars
/// of the model, whose gradients reach the target through that Jacobian.
///
/// # Density
/// ```text
/// ln f(x) = 0
/// ```
/// for `x` in the support: ℝ ([`Flat::new`]), `(0, ∞)` ([`Flat::positive`]), `(a, ∞)`
/// ([`Flat::greater_than`]), `(-∞, b)` ([`Flat::less_than`]) or `(a, b)`
/// ([`Flat::interval`]); `-∞` outside it.
///
/// # Sampling
/// A flat density has no distribution to draw from (on an interval the uniform would
/// be one choice among many, and would quietly change an improper model into a proper
/// one), so a draw is NaN. Prior draws therefore leave a `Flat` site undrawn: the
/// `PriorMedian` initialisation falls back to 0 for it, `PriorDraw` cannot start such
/// a model, and the default uniform initialisation is unaffected.
///
/// # Parameters
/// Finite bounds with `a < b`; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Flat};
///
/// let d: Flat = Flat::interval(0.0, 0.4);
/// assert_eq!(d.ln_pdf(0.1), 0.0);
/// assert_eq!(d.ln_pdf(0.5), f64::NEG_INFINITY);
/// let r: Flat = Flat::new();
/// assert_eq!(r.ln_pdf(-1e300), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flat<T = f64> {
    support: Support<T>,
}

impl<T: Real> Flat<T> {
    /// The flat density on ℝ.
    #[inline]
    pub fn new() -> Self {
        Flat {
            support: Support::Real,
        }
    }

    /// The flat density on `(0, ∞)`.
    #[inline]
    pub fn positive() -> Self {
        Flat {
            support: Support::Positive,
        }
    }

    /// The flat density on `(low, ∞)`; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn greater_than(low: impl Into<T>) -> Self {
        Flat {
            support: Support::GreaterThan(low.into()),
        }
    }

    /// The flat density on `(-∞, high)`; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn less_than(high: impl Into<T>) -> Self {
        Flat {
            support: Support::LessThan(high.into()),
        }
    }

    /// The flat density on `(low, high)`; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn interval(low: impl Into<T>, high: impl Into<T>) -> Self {
        Flat {
            support: Support::Interval(low.into(), high.into()),
        }
    }

    /// The flat density on `(low, high)`, with the bounds checked.
    ///
    /// # Errors
    /// [`ParamError`] when a bound is not finite or `high <= low`.
    pub fn try_interval(low: impl Into<T>, high: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::interval(low, high);
        d.check()?;
        Ok(d)
    }

    /// Checks the bounds.
    fn check(&self) -> Result<(), ParamError> {
        match self.support {
            Support::GreaterThan(a) => ParamError::check_finite("low", a),
            Support::LessThan(b) => ParamError::check_finite("high", b),
            Support::Interval(a, b) => {
                ParamError::check_finite("low", a)?;
                ParamError::check_finite("high", b)?;
                let low = a.value();
                ParamError::require("high", "greater than low", b, |h| h > low)
            }
            _ => Ok(()),
        }
    }
}

impl<T: Real> Default for Flat<T> {
    /// The flat density on ℝ.
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real> Distribution for Flat<T> {
    type Scalar = T;

    /// `0` (a constant, with no partials) on the support, `-∞` outside it.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        self.ln_pdf_obs(x.value())
    }

    /// `0` on the support, `-∞` outside it.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if self.check().is_ok() && self.support.to_f64().contains(x) {
            T::from(0.0)
        } else {
            neg_inf()
        }
    }

    fn support(&self) -> Support<T> {
        self.support
    }
}

impl<T: Real> Continuous for Flat<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Flat<T> {
    /// NaN: an improper density has no draws (see the type's `# Sampling`).
    fn sample<R: Rng + ?Sized>(&self, _rng: &mut R) -> f64 {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructor_checks() {
        assert!(Flat::<f64>::try_interval(0.0, 1.0).is_ok());
        for (low, high) in [
            (1.0, 1.0),
            (2.0, 1.0),
            (f64::NAN, 1.0),
            (0.0, f64::NAN),
            (f64::NEG_INFINITY, 1.0),
        ] {
            assert!(
                Flat::<f64>::try_interval(low, high).is_err(),
                "({low}, {high})"
            );
            assert_eq!(
                Flat::<f64>::interval(low, high).ln_pdf(0.5),
                f64::NEG_INFINITY
            );
        }
        assert_eq!(
            Flat::<f64>::greater_than(f64::NAN).ln_pdf(1.0),
            f64::NEG_INFINITY
        );
        assert_eq!(
            Flat::<f64>::less_than(f64::INFINITY).ln_pdf(1.0),
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn zero_on_the_support_only() {
        let cases: [(Flat, &[f64], &[f64]); 5] = [
            (Flat::new(), &[-1e300, 0.0, 3.0], &[f64::INFINITY, f64::NAN]),
            (Flat::positive(), &[1e-300, 5.0], &[0.0, -1.0]),
            (Flat::greater_than(-2.0), &[-1.9, 1e10], &[-2.0, -3.0]),
            (Flat::less_than(1.5), &[1.4, -1e10], &[1.5, 2.0]),
            (Flat::interval(-1.0, 0.5), &[-0.9, 0.4], &[-1.0, 0.5, 0.6]),
        ];
        for (d, inside, outside) in cases {
            for &x in inside {
                assert_eq!(d.ln_pdf(x), 0.0, "{d:?} at {x}");
            }
            for &x in outside {
                assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "{d:?} at {x}");
            }
        }
        assert_eq!(Flat::<f64>::default(), Flat::new());
        assert_eq!(Flat::<f64>::positive().support(), Support::Positive);
    }

    #[test]
    fn draws_are_nan() {
        let mut rng = <rand::rngs::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(0);
        let d: Flat = Flat::interval(0.0, 1.0);
        assert!(rand::distr::Distribution::sample(&d, &mut rng).is_nan());
    }
}
