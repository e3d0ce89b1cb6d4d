//! The geometric distribution.

use rand::{Rng, RngExt};

use super::pointwise::{self, Parts, is_count};
use super::{Distribution, ObsVector};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The geometric distribution: the number of failures before the first success in
/// independent trials of success probability `prob`.
///
/// A discrete distribution: it can be observed but not be a latent site. Observations
/// are integers `k ≥ 0` (as integers or as floats that hold an integer). scipy's
/// `geom` counts trials instead, `k + 1`.
///
/// # Density
/// ```text
/// ln P(k) = ln p + k ln(1 - p)
/// ```
/// with `p = prob`, for `k ∈ {0, 1, 2, …}`. The second term is dropped at `k = 0`, so
/// `p = 1` puts all mass on 0.
///
/// # Parameters
/// `prob ∈ (0, 1]`; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Geometric};
///
/// let d: Geometric = Geometric::new(0.25);
/// // ¼ · (¾)²
/// assert!((d.ln_pdf(2.0) - (0.25f64 * 0.75 * 0.75).ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometric<T = f64> {
    prob: T,
}

impl<T: Real> Geometric<T> {
    /// A geometric distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(prob: impl Into<T>) -> Self {
        Geometric { prob: prob.into() }
    }

    /// A geometric distribution whose parameter is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `prob` is not in `(0, 1]`.
    pub fn try_new(prob: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(prob);
        ParamError::require("prob", "in (0, 1]", d.prob, |p| p > 0.0 && p <= 1.0)?;
        Ok(d)
    }

    /// The success probability `p`.
    pub fn prob(&self) -> T {
        self.prob
    }

    #[inline]
    fn is_valid(&self) -> bool {
        self.prob > 0.0 && self.prob <= 1.0
    }

    /// The log-mass at `k` with `∂/∂p = 1/p - k/(1 - p)` (the second term dropped at
    /// `k = 0`).
    #[inline]
    fn parts(&self, k: f64) -> Option<Parts<1>> {
        if !self.is_valid() || !is_count(k) {
            return None;
        }
        let p = self.prob.value();
        let (value, d_prob) = if k == 0.0 {
            (p.ln(), p.recip())
        } else {
            (p.ln() + k * (-p).ln_1p(), p.recip() - k / (1.0 - p))
        };
        Parts {
            value,
            d_x: 0.0,
            d_params: [d_prob],
        }
        .finite()
    }
}

impl<T: Real> Distribution for Geometric<T> {
    type Scalar = T;

    /// The log-mass at `k`, which is data: only its value is used (no partial in `k`).
    #[inline]
    fn ln_pdf(&self, k: T) -> T {
        self.ln_pdf_obs(k.value())
    }

    /// One node: `∂/∂p = 1/p - k/(1 - p)`.
    #[inline]
    fn ln_pdf_obs(&self, k: f64) -> T {
        pointwise::observed([self.prob], k, |k| self.parts(k))
    }

    fn support(&self) -> Support<T> {
        Support::NonNegativeIntegers
    }

    /// One node: with `m` counts summing to `K`, `∂/∂p = m/p - K/(1 - p)`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.prob], ys, |k| self.parts(k))
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Geometric<T> {
    /// A count as `f64`; NaN when the parameter is invalid.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        match rand_distr::Geometric::new(self.prob.value()) {
            Ok(g) => rng.sample(g) as f64,
            Err(_) => f64::NAN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        for good in [1e-9, 0.3, 1.0] {
            assert!(Geometric::<f64>::try_new(good).is_ok(), "prob {good}");
        }
        for bad in [0.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(Geometric::<f64>::try_new(bad).is_err(), "prob {bad}");
            assert_eq!(Geometric::<f64>::new(bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support_and_certain_success() {
        let d: Geometric = Geometric::new(0.4);
        for k in [-1.0, 0.5, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(k), f64::NEG_INFINITY, "k = {k}");
        }
        let one: Geometric = Geometric::new(1.0);
        assert_eq!(one.ln_pdf(0.0), 0.0);
        assert_eq!(one.ln_pdf(1.0), f64::NEG_INFINITY);
    }

    #[test]
    fn masses_sum_to_one() {
        let d: Geometric = Geometric::new(0.15);
        let total: f64 = (0..400).map(|k| d.ln_pdf(k as f64).exp()).sum();
        assert!((total - 1.0).abs() < 1e-13, "{total}");
    }

    #[test]
    fn sampling_moments() {
        // mean q/p, var q/p², excess kurtosis 6 + p²/q with q = 1 - p.
        let p: f64 = 0.3;
        let q = 1.0 - p;
        let var = q / (p * p);
        check_moments(
            &Geometric::<f64>::new(p),
            q / p,
            var,
            (9.0 + p * p / q) * var * var,
            64,
        );
    }
}
