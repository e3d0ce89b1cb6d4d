//! The zero-inflated Poisson distribution.

use rand::{Rng, RngExt};

use super::pointwise::{self, Parts, is_count};
use super::poisson::{bd0, stirlerr};
use super::{Distribution, LN_SQRT_2PI, ObsVector, Poisson};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The zero-inflated Poisson distribution: 0 with probability `zero_prob`, otherwise a
/// Poisson count of rate `rate`.
///
/// A discrete distribution: it can be observed but not be a latent site. Observations
/// are integers `k ≥ 0` (as integers or as floats that hold an integer).
///
/// # Density
/// ```text
/// ln P(0) = ln(π + (1 - π) e^{-λ})
/// ln P(k) = ln(1 - π) + k ln λ - λ - ln Γ(k + 1),   k ≥ 1
/// ```
/// with `π = zero_prob` and `λ = rate`. `ln P(0)` is a log-sum-exp of `ln π` and
/// `ln(1 - π) - λ`, and the Poisson term is Loader's saddle-point form of
/// [`Poisson`].
///
/// # Parameters
/// `zero_prob ∈ [0, 1]`, `rate ≥ 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, ZeroInflatedPoisson};
///
/// let d: ZeroInflatedPoisson = ZeroInflatedPoisson::new(0.25, 2.0);
/// // ¼ + ¾ e⁻²
/// let p0 = 0.25 + 0.75 * (-2f64).exp();
/// assert!((d.ln_pdf(0.0) - p0.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZeroInflatedPoisson<T = f64> {
    zero_prob: T,
    rate: T,
}

impl<T: Real> ZeroInflatedPoisson<T> {
    /// A zero-inflated Poisson distribution; never fails (see the type's
    /// `# Parameters`).
    #[inline]
    pub fn new(zero_prob: impl Into<T>, rate: impl Into<T>) -> Self {
        ZeroInflatedPoisson {
            zero_prob: zero_prob.into(),
            rate: rate.into(),
        }
    }

    /// A zero-inflated Poisson distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `zero_prob` is not in `[0, 1]` or `rate` is negative or not
    /// finite.
    pub fn try_new(zero_prob: impl Into<T>, rate: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(zero_prob, rate);
        ParamError::check_probability("zero_prob", d.zero_prob)?;
        ParamError::require("rate", "non-negative and finite", d.rate, |v| {
            v >= 0.0 && v.is_finite()
        })?;
        Ok(d)
    }

    /// The probability `π` of a structural zero.
    pub fn zero_prob(&self) -> T {
        self.zero_prob
    }

    /// The rate `λ` of the Poisson component.
    pub fn rate(&self) -> T {
        self.rate
    }

    #[inline]
    fn is_valid(&self) -> bool {
        (0.0..=1.0).contains(&self.zero_prob.value()) && self.rate >= 0.0 && self.rate.is_finite()
    }

    /// The log-mass at `k` with its partials: at 0, `∂/∂π = (1 - e^{-λ})/P(0)` and
    /// `∂/∂λ = -(1 - π) e^{-λ}/P(0)`; above, `∂/∂π = -1/(1 - π)` and `∂/∂λ = k/λ - 1`.
    fn parts(&self, k: f64) -> Option<Parts<2>> {
        if !self.is_valid() || !is_count(k) {
            return None;
        }
        let (pi, rate) = (self.zero_prob.value(), self.rate.value());
        let ln_q = (-pi).ln_1p();
        let (value, d_params) = if k == 0.0 {
            let ln_p0 = pi.ln().log_sum_exp(ln_q - rate);
            let inv_p0 = (-ln_p0).exp();
            let d_rate = -(ln_q - rate - ln_p0).exp();
            (ln_p0, [-(-rate).exp_m1() * inv_p0, d_rate])
        } else {
            if pi == 1.0 || rate == 0.0 {
                return None;
            }
            // k ln λ - λ - ln k! = -bd0(k, λ) - stirlerr(k) - ½ ln(2πk)
            let poisson = -bd0(k, rate, rate.ln()) - (stirlerr(k) + 0.5 * k.ln() + LN_SQRT_2PI);
            (ln_q + poisson, [-(1.0 - pi).recip(), k / rate - 1.0])
        };
        Parts {
            value,
            d_x: 0.0,
            d_params,
        }
        .finite()
    }
}

impl<T: Real> Distribution for ZeroInflatedPoisson<T> {
    type Scalar = T;

    /// The log-mass at `k`, which is data: only its value is used (no partial in `k`).
    #[inline]
    fn ln_pdf(&self, k: T) -> T {
        self.ln_pdf_obs(k.value())
    }

    /// One node with the partials in `π` and `λ` (see the type's docs).
    #[inline]
    fn ln_pdf_obs(&self, k: f64) -> T {
        pointwise::observed([self.zero_prob, self.rate], k, |k| self.parts(k))
    }

    fn support(&self) -> Support<T> {
        Support::NonNegativeIntegers
    }

    /// One node: the partials of `ln_pdf_obs` summed over the counts.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.zero_prob, self.rate], ys, |k| self.parts(k))
    }
}

impl<T: Real> rand::distr::Distribution<f64> for ZeroInflatedPoisson<T> {
    /// A count as `f64`; NaN when the parameters are invalid.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        if rng.random::<f64>() < self.zero_prob.value() {
            return 0.0;
        }
        rng.sample(Poisson::<f64>::new(self.rate.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::{central_fourth, check_moments};

    #[test]
    fn constructor_checks() {
        for (pi, rate) in [(0.0, 1.0), (1.0, 1.0), (0.3, 0.0), (0.3, 1e6)] {
            assert!(ZeroInflatedPoisson::<f64>::try_new(pi, rate).is_ok());
        }
        for (pi, rate) in [
            (-0.1, 1.0),
            (1.1, 1.0),
            (f64::NAN, 1.0),
            (0.3, -1.0),
            (0.3, f64::NAN),
            (0.3, f64::INFINITY),
        ] {
            assert!(
                ZeroInflatedPoisson::<f64>::try_new(pi, rate).is_err(),
                "({pi}, {rate})"
            );
            let d: ZeroInflatedPoisson = ZeroInflatedPoisson::new(pi, rate);
            assert_eq!(d.ln_pdf(0.0), f64::NEG_INFINITY, "({pi}, {rate})");
        }
    }

    #[test]
    fn outside_support_and_edges() {
        let d: ZeroInflatedPoisson = ZeroInflatedPoisson::new(0.3, 2.0);
        for k in [-1.0, 0.5, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(k), f64::NEG_INFINITY, "k = {k}");
        }
        // π = 0 is the Poisson distribution; π = 1 and λ = 0 put all mass on 0
        let pois: Poisson = Poisson::new(2.0);
        let zip: ZeroInflatedPoisson = ZeroInflatedPoisson::new(0.0, 2.0);
        for k in [0.0, 1.0, 5.0] {
            assert!((zip.ln_pdf(k) - pois.ln_pdf(k)).abs() < 1e-15 * pois.ln_pdf(k).abs());
        }
        for d in [
            ZeroInflatedPoisson::<f64>::new(1.0, 2.0),
            ZeroInflatedPoisson::new(0.4, 0.0),
        ] {
            assert_eq!(d.ln_pdf(0.0), 0.0);
            assert_eq!(d.ln_pdf(3.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn masses_sum_to_one() {
        let d: ZeroInflatedPoisson = ZeroInflatedPoisson::new(0.35, 6.5);
        let total: f64 = (0..200).map(|k| d.ln_pdf(k as f64).exp()).sum();
        assert!((total - 1.0).abs() < 1e-13, "{total}");
    }

    #[test]
    fn sampling_moments() {
        // (1 - π) times the Poisson raw moments λ, λ + λ², λ³ + 3λ² + λ,
        // λ⁴ + 6λ³ + 7λ² + λ.
        let (pi, rate): (f64, f64) = (0.3, 4.0);
        let l = rate;
        let raw = [
            l,
            l + l * l,
            l.powi(3) + 3.0 * l * l + l,
            l.powi(4) + 6.0 * l.powi(3) + 7.0 * l * l + l,
        ]
        .map(|m| (1.0 - pi) * m);
        let d: ZeroInflatedPoisson = ZeroInflatedPoisson::new(pi, rate);
        check_moments(
            &d,
            raw[0],
            raw[1] - raw[0] * raw[0],
            central_fourth(raw),
            65,
        );
    }
}
