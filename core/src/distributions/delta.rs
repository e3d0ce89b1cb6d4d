//! The point mass.

use rand::Rng;

use super::{Distribution, ObsVector, neg_inf};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The point mass at `value`: an observation must equal it exactly.
///
/// It has no density with respect to Lebesgue measure and no unconstrained form, so it
/// can be observed but not be a latent site, like the discrete distributions. It states
/// a hard constraint on data (`sample!("n", Delta::new(n_expected), obs = n)`): the
/// log-mass is 0 when it holds and `-∞` otherwise, with no partials.
///
/// # Density
/// ```text
/// ln P(x) = 0 if x = v, -∞ otherwise
/// ```
/// with `v = value`. Its [`support`](Distribution::support) is reported as the
/// degenerate interval `Interval(v, v)`, which contains no latent value.
///
/// # Parameters
/// `value` finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Delta, Distribution};
///
/// let d: Delta = Delta::new(2.5);
/// assert_eq!(d.ln_pdf(2.5), 0.0);
/// assert_eq!(d.ln_pdf(2.0), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delta<T = f64> {
    value: T,
}

impl<T: Real> Delta<T> {
    /// The point mass at `value`; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(value: impl Into<T>) -> Self {
        Delta {
            value: value.into(),
        }
    }

    /// The point mass at `value`, checked.
    ///
    /// # Errors
    /// [`ParamError`] when `value` is not finite.
    pub fn try_new(value: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(value);
        ParamError::check_finite("value", d.value)?;
        Ok(d)
    }

    /// The location `v` of the mass.
    pub fn value(&self) -> T {
        self.value
    }
}

impl<T: Real> Distribution for Delta<T> {
    type Scalar = T;

    /// `0` at `v` and `-∞` elsewhere, a constant: only `x`'s value is used.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        self.ln_pdf_obs(x.value())
    }

    /// `0` at `v` and `-∞` elsewhere, a constant with no partials.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if self.value.is_finite() && x == self.value.value() {
            T::from(0.0)
        } else {
            neg_inf()
        }
    }

    fn support(&self) -> Support<T> {
        Support::Interval(self.value, self.value)
    }

    /// `0` when every value equals `v`, `-∞` otherwise.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        if (0..ys.len()).all(|i| self.ln_pdf_obs(ys.get_f64(i)) == 0.0) {
            T::from(0.0)
        } else {
            neg_inf()
        }
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Delta<T> {
    /// The value `v` (NaN when it is not finite).
    fn sample<R: Rng + ?Sized>(&self, _rng: &mut R) -> f64 {
        let v = self.value.value();
        if v.is_finite() { v } else { f64::NAN }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructor_checks() {
        assert!(Delta::<f64>::try_new(-3.0).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Delta::<f64>::try_new(bad).is_err(), "value {bad}");
            assert_eq!(Delta::<f64>::new(bad).ln_pdf(bad), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn mass_only_at_the_value() {
        let d: Delta = Delta::new(1.5);
        assert_eq!(d.ln_pdf_obs(1.5), 0.0);
        for x in [1.5 + 1e-15, 0.0, f64::NAN, f64::INFINITY] {
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
        assert_eq!(d.ln_pdf_obs_sum(&[1.5, 1.5]), 0.0);
        assert_eq!(d.ln_pdf_obs_sum(&[1.5, 1.0]), f64::NEG_INFINITY);
        assert_eq!(d.ln_pdf_obs_sum(&[] as &[f64]), 0.0);
        let mut rng = <rand::rngs::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(0);
        assert_eq!(rand::distr::Distribution::sample(&d, &mut rng), 1.5);
    }
}
