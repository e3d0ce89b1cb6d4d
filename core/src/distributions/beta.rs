//! The beta distribution.

use rand::Rng;

use super::{Continuous, Distribution, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::special::{digamma, lgamma};
use crate::support::Support;

/// The beta distribution with shapes `alpha` and `beta`.
///
/// # Density
/// ```text
/// ln f(x) = (α - 1) ln x + (β - 1) ln(1 - x) - ln B(α, β)
/// ln B(α, β) = ln Γ(α) + ln Γ(β) - ln Γ(α + β)
/// ```
/// with `α = alpha` and `β = beta`, for `0 < x < 1`.
///
/// # Parameters
/// `alpha > 0` and finite, `beta > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Beta, Distribution};
///
/// let d: Beta = Beta::new(2.0, 3.0);
/// // ln 0.2 + 2 ln 0.8 - ln B(2, 3), with B(2, 3) = 1/12
/// assert!((d.ln_pdf(0.2) - 0.429_181_634_725_480_6).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Beta<T = f64> {
    alpha: T,
    beta: T,
}

impl<T: Real> Beta<T> {
    /// A beta distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(alpha: impl Into<T>, beta: impl Into<T>) -> Self {
        Beta {
            alpha: alpha.into(),
            beta: beta.into(),
        }
    }

    /// A beta distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `alpha` or `beta` is not positive and finite.
    pub fn try_new(alpha: impl Into<T>, beta: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(alpha, beta);
        ParamError::check_positive("alpha", d.alpha)?;
        ParamError::check_positive("beta", d.beta)?;
        Ok(d)
    }

    /// The first shape `α` (pseudo-count of successes).
    pub fn alpha(&self) -> T {
        self.alpha
    }

    /// The second shape `β` (pseudo-count of failures).
    pub fn beta(&self) -> T {
        self.beta
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.alpha) && is_pos(self.beta)
    }

    /// `ln_pdf(x)` with its partials in `x`, `α` and `β`, for `0 < x < 1`.
    #[inline]
    fn value_and_partials(&self, x: f64) -> (f64, f64, f64, f64) {
        let (a, b) = (self.alpha.value(), self.beta.value());
        let (ln_x, ln_1m_x) = (x.ln(), (-x).ln_1p());
        let ln_beta_fn = lgamma(a) + lgamma(b) - lgamma(a + b);
        let value = (a - 1.0) * ln_x + (b - 1.0) * ln_1m_x - ln_beta_fn;
        let d_x = (a - 1.0) / x - (b - 1.0) / (1.0 - x);
        let psi_ab = digamma(a + b);
        (
            value,
            d_x,
            ln_x - digamma(a) + psi_ab,
            ln_1m_x - digamma(b) + psi_ab,
        )
    }
}

impl<T: Real> Distribution for Beta<T> {
    type Scalar = T;

    /// One node: `∂/∂x = (α - 1)/x - (β - 1)/(1 - x)`, `∂/∂α = ln x - ψ(α) + ψ(α + β)`,
    /// `∂/∂β = ln(1 - x) - ψ(β) + ψ(α + β)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || x.value().is_nan() || x <= 0.0 || x >= 1.0 {
            return neg_inf();
        }
        let (value, d_x, d_alpha, d_beta) = self.value_and_partials(x.value());
        if value.is_nan() {
            // overflowing terms (`∞ − ∞`) at extreme parameters: the density underflows
            return neg_inf();
        }
        T::fused(
            value,
            [(x, d_x), (self.alpha, d_alpha), (self.beta, d_beta)],
        )
    }

    /// One node with the partials of `ln_pdf` for `α` and `β`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || x.is_nan() || x <= 0.0 || x >= 1.0 {
            return neg_inf();
        }
        let (value, _, d_alpha, d_beta) = self.value_and_partials(x);
        if value.is_nan() {
            return neg_inf();
        }
        T::fused(value, [(self.alpha, d_alpha), (self.beta, d_beta)])
    }

    fn support(&self) -> Support<T> {
        Support::UnitInterval
    }
}

impl<T: Real> Continuous for Beta<T> {}

impl<T: Real> rand::distr::Distribution<f64> for Beta<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Beta::new(self.alpha.value(), self.beta.value()),
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
        assert!(Beta::<f64>::try_new(2.0, 3.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Beta::<f64>::try_new(bad, 1.0).is_err(), "alpha {bad}");
            assert_eq!(Beta::<f64>::new(bad, 1.0).ln_pdf(0.5), f64::NEG_INFINITY);
            assert!(Beta::<f64>::try_new(2.0, bad).is_err(), "beta {bad}");
            assert_eq!(Beta::<f64>::new(2.0, bad).ln_pdf(0.5), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        // The end points are outside the open support for every shape (no +∞ when a
        // shape is below 1).
        for (a, b) in [(0.5, 0.5), (1.0, 1.0), (2.0, 3.0)] {
            let d: Beta = Beta::new(a, b);
            for x in [-0.5, 0.0, 1.0, 1.5, f64::INFINITY, f64::NAN] {
                assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "({a}, {b}), x = {x}");
                assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "({a}, {b}), x = {x}");
            }
        }
        assert_eq!(Beta::<f64>::new(1.0, 1.0).ln_pdf(0.3), 0.0);
    }

    #[test]
    fn sampling_moments() {
        // E X^k = Π_{i<k} (α + i) / (α + β + i).
        for (a, b, seed) in [(2.0, 5.0, 13), (0.5, 0.5, 14)] {
            let mut raw = [0.0; 4];
            let mut acc = 1.0;
            for (i, r) in raw.iter_mut().enumerate() {
                acc *= (a + i as f64) / (a + b + i as f64);
                *r = acc;
            }
            let d: Beta = Beta::new(a, b);
            check_moments(
                &d,
                raw[0],
                raw[1] - raw[0] * raw[0],
                central_fourth(raw),
                seed,
            );
        }
    }
}
