//! The negative binomial distribution, by mean and dispersion or by successes and
//! probability.

use rand::{Rng, RngExt};

use super::pointwise::{self, Parts, is_count};
use super::poisson::{bd0, stirlerr};
use super::{Distribution, LN_SQRT_2PI, ObsVector, Poisson, is_pos};
use crate::error::ParamError;
use crate::real::Real;
use crate::special::{digamma, lgamma};
use crate::support::Support;

/// How the distribution is given.
#[derive(Clone, Copy, Debug, PartialEq)]
enum NbParam<T> {
    /// Mean `μ ≥ 0` and dispersion `φ > 0` (Stan's `neg_binomial_2`).
    Mean { mean: T, dispersion: T },
    /// Number of successes `r > 0` and success probability `p ∈ (0, 1]`.
    Probs { num_successes: T, prob: T },
}

/// The negative binomial distribution: a Poisson count whose rate is gamma distributed,
/// given by its mean `mean` and dispersion `dispersion` (Stan's `neg_binomial_2`), or as
/// the number of failures before the `num_successes`-th success in trials of success
/// probability `prob` ([`NegativeBinomial::probs`], scipy's `nbinom(n, p)`).
///
/// A discrete distribution: it can be observed but not be a latent site. Observations
/// are integers `k ≥ 0` (as integers or as floats that hold an integer).
///
/// # Density
/// ```text
/// ln P(k) = ln Γ(k + r) - ln Γ(k + 1) - ln Γ(r) + r ln p + k ln(1 - p)
/// ```
/// for `k ∈ {0, 1, 2, …}`, with `r = num_successes` and `p = prob`, or with `r = φ` and
/// `p = φ/(μ + φ)` for `μ = mean` and `φ = dispersion`, so that the variance is
/// `μ + μ²/φ` (`φ → ∞` is the Poisson distribution). With `μ = 0` or `p = 1` all mass is
/// on 0.
///
/// For `k ≥ 1` it is evaluated as R's `dnbinom` and `dnbinom_mu` do, in Loader's (2000)
/// saddle-point form `ln(r/(r + k)) + ln b(r; r + k, p)` with `b` the binomial mass of
/// [`Binomial`](super::Binomial) at a real number of trials, and, when `k < 10⁻¹⁰ φ`,
/// by `k ln(μφ/(μ + φ)) + φ ln p - ln k!` with its first correction in `k²/φ`. This avoids the
/// cancellation between the log-gamma values and keeps full relative accuracy for large
/// counts and large dispersions.
///
/// # Parameters
/// `mean ≥ 0` and finite and `dispersion > 0` and finite, or `num_successes > 0` and
/// finite and `prob ∈ (0, 1]`; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, NegativeBinomial};
///
/// // r = 2 successes with p = ½: P(1) = C(2, 1) / 2³ = ¼
/// let d: NegativeBinomial = NegativeBinomial::probs(2.0, 0.5);
/// assert!((d.ln_pdf(1.0) - 0.25f64.ln()).abs() < 1e-15);
/// // the same distribution by its mean r(1 - p)/p = 2 and dispersion 2
/// let e: NegativeBinomial = NegativeBinomial::new(2.0, 2.0);
/// assert!((e.ln_pdf(1.0) - 0.25f64.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NegativeBinomial<T = f64> {
    param: NbParam<T>,
}

/// The parameters' values: `r`, `p`, `1 - p` and their logarithms, and the mean when
/// the distribution was given by it.
#[derive(Clone, Copy, Debug)]
struct Values {
    size: f64,
    p: f64,
    q: f64,
    ln_p: f64,
    ln_q: f64,
    mean: Option<f64>,
}

impl<T: Real> NegativeBinomial<T> {
    /// A negative binomial distribution with mean `mean` and dispersion `dispersion`;
    /// never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(mean: impl Into<T>, dispersion: impl Into<T>) -> Self {
        NegativeBinomial {
            param: NbParam::Mean {
                mean: mean.into(),
                dispersion: dispersion.into(),
            },
        }
    }

    /// A negative binomial distribution by mean and dispersion, checked.
    ///
    /// # Errors
    /// [`ParamError`] when `mean` is negative or not finite, or `dispersion` is not
    /// positive and finite.
    pub fn try_new(mean: impl Into<T>, dispersion: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(mean, dispersion);
        d.check()?;
        Ok(d)
    }

    /// The number of failures before the `num_successes`-th success, each trial a
    /// success with probability `prob`; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn probs(num_successes: impl Into<T>, prob: impl Into<T>) -> Self {
        NegativeBinomial {
            param: NbParam::Probs {
                num_successes: num_successes.into(),
                prob: prob.into(),
            },
        }
    }

    /// A negative binomial distribution by successes and probability, checked.
    ///
    /// # Errors
    /// [`ParamError`] when `num_successes` is not positive and finite or `prob` is not
    /// in `(0, 1]`.
    pub fn try_probs(num_successes: impl Into<T>, prob: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::probs(num_successes, prob);
        d.check()?;
        Ok(d)
    }

    fn check(&self) -> Result<(), ParamError> {
        match self.param {
            NbParam::Mean { mean, dispersion } => {
                ParamError::require("mean", "non-negative and finite", mean, |v| {
                    v >= 0.0 && v.is_finite()
                })?;
                ParamError::check_positive("dispersion", dispersion)
            }
            NbParam::Probs {
                num_successes,
                prob,
            } => {
                ParamError::check_positive("num_successes", num_successes)?;
                ParamError::require("prob", "in (0, 1]", prob, |v| v > 0.0 && v <= 1.0)
            }
        }
    }

    /// The mean `μ = r(1 - p)/p` (computed when given by successes and probability).
    pub fn mean(&self) -> T {
        match self.param {
            NbParam::Mean { mean, .. } => mean,
            NbParam::Probs {
                num_successes,
                prob,
            } => num_successes * (-prob + 1.0) / prob,
        }
    }

    /// The dispersion `φ`, which is the number of successes `r`.
    pub fn dispersion(&self) -> T {
        match self.param {
            NbParam::Mean { dispersion, .. } => dispersion,
            NbParam::Probs { num_successes, .. } => num_successes,
        }
    }

    /// The success probability `p = φ/(μ + φ)` (computed when given by mean and
    /// dispersion).
    pub fn prob(&self) -> T {
        match self.param {
            NbParam::Mean { mean, dispersion } => dispersion / (mean + dispersion),
            NbParam::Probs { prob, .. } => prob,
        }
    }

    /// The parameters as given.
    #[inline]
    fn params(&self) -> [T; 2] {
        match self.param {
            NbParam::Mean { mean, dispersion } => [mean, dispersion],
            NbParam::Probs {
                num_successes,
                prob,
            } => [num_successes, prob],
        }
    }

    /// The parameters' values; `None` when they are invalid.
    #[inline]
    fn values(&self) -> Option<Values> {
        if self.check().is_err() {
            return None;
        }
        Some(match self.param {
            NbParam::Mean { mean, dispersion } => {
                let (mu, phi) = (mean.value(), dispersion.value());
                // p = φ/(μ + φ) and 1 - p = μ/(μ + φ), each formed without 1 - x
                Values {
                    size: phi,
                    p: phi / (mu + phi),
                    q: mu / (mu + phi),
                    ln_p: -(mu / phi).ln_1p(),
                    ln_q: if mu == 0.0 {
                        f64::NEG_INFINITY
                    } else {
                        -(phi / mu).ln_1p()
                    },
                    mean: Some(mu),
                }
            }
            NbParam::Probs {
                num_successes,
                prob,
            } => {
                let p = prob.value();
                Values {
                    size: num_successes.value(),
                    p,
                    q: 1.0 - p,
                    ln_p: p.ln(),
                    ln_q: (-p).ln_1p(),
                    mean: None,
                }
            }
        })
    }

    /// The log-mass at `k` with its partials in the two parameters as given:
    /// `∂/∂μ = φ(k - μ)/(μ(μ + φ))`, `∂/∂φ = ψ(k + φ) - ψ(φ) - ln(1 + μ/φ) + (μ - k)/(μ + φ)`,
    /// or `∂/∂r = ψ(k + r) - ψ(r) + ln p`, `∂/∂p = r/p - k/(1 - p)`. The terms in `k` are
    /// dropped at `k = 0`, so that `μ = 0` and `p = 1` have finite partials.
    fn parts(&self, k: f64) -> Option<Parts<2>> {
        let v = self.values()?;
        let value = ln_mass(&v, k);
        if !value.is_finite() {
            return None;
        }
        let r = v.size;
        let psi_diff = digamma_diff(r, k);
        let d_params = match v.mean {
            Some(mu) => {
                let d_mean = if k == 0.0 {
                    -r / (mu + r)
                } else {
                    r * (k - mu) / (mu * (mu + r))
                };
                [d_mean, psi_diff + v.ln_p + (mu - k) / (mu + r)]
            }
            None => {
                let d_prob = if k == 0.0 { r / v.p } else { r / v.p - k / v.q };
                [psi_diff + v.ln_p, d_prob]
            }
        };
        Some(Parts {
            value,
            d_x: 0.0,
            d_params,
        })
    }
}

/// `ψ(r + k) - ψ(r)`: the sum `Σⱼ₌₀^{k-1} 1/(r + j)` for `k < 64`, without the
/// cancellation of the digamma difference for large `r`.
fn digamma_diff(r: f64, k: f64) -> f64 {
    if k < 64.0 {
        (0..k as u32).map(|j| (r + f64::from(j)).recip()).sum()
    } else {
        digamma(r + k) - digamma(r)
    }
}

/// `stirlerr(x) = ln Γ(x + 1) - (x + ½) ln x + x - ln √(2π)` for a real `x > 0`: the
/// integer table and series of [`stirlerr`], or the definition by log-gamma for
/// non-integers below 16 (an absolute error of a few 1e-15).
fn stirlerr_real(x: f64) -> f64 {
    if x > 15.0 || (x >= 1.0 && x.fract() == 0.0) {
        stirlerr(x)
    } else {
        lgamma(x + 1.0) - (x + 0.5) * x.ln() + x - LN_SQRT_2PI
    }
}

/// The log-mass at `k`; `-∞` outside the support.
fn ln_mass(v: &Values, k: f64) -> f64 {
    if !is_count(k) {
        return f64::NEG_INFINITY;
    }
    let r = v.size;
    if k == 0.0 {
        return r * v.ln_p;
    }
    if v.q == 0.0 {
        return f64::NEG_INFINITY;
    }
    if let Some(mu) = v.mean
        && k < 1e-10 * r
    {
        // As R's dnbinom_mu: ln Γ(k + φ) - ln Γ(φ) ≈ k ln φ + ln(1 + k(k - 1)/(2φ)), whose
        // next term is below 1e-20 k here; but with φ ln p = -φ ln(1 + μ/φ) exact where
        // R writes -μ.
        let ln_rate = mu.ln() + v.ln_p;
        return k * ln_rate + r * v.ln_p - lgamma(k + 1.0) + (k * (k - 1.0) / (2.0 * r)).ln_1p();
    }
    // R's dbinom_raw(r, r + k, p, 1 - p) with the failures k held exactly
    let n = r + k;
    let ln_n = n.ln();
    let binomial = stirlerr_real(n)
        - stirlerr_real(r)
        - stirlerr(k)
        - bd0(r, n * v.p, ln_n + v.ln_p)
        - bd0(k, n * v.q, ln_n + v.ln_q)
        - 0.5 * (r.ln() + k.ln() - ln_n)
        - LN_SQRT_2PI;
    (r / n).ln() + binomial
}

impl<T: Real> Distribution for NegativeBinomial<T> {
    type Scalar = T;

    /// The log-mass at `k`, which is data: only its value is used (no partial in `k`).
    #[inline]
    fn ln_pdf(&self, k: T) -> T {
        self.ln_pdf_obs(k.value())
    }

    /// One node with the partials in the two parameters as given (see the type's docs).
    #[inline]
    fn ln_pdf_obs(&self, k: f64) -> T {
        pointwise::observed(self.params(), k, |k| self.parts(k))
    }

    fn support(&self) -> Support<T> {
        Support::NonNegativeIntegers
    }

    /// One node: the partials of `ln_pdf_obs` summed over the counts.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum(self.params(), ys, |k| self.parts(k))
    }
}

impl<T: Real> rand::distr::Distribution<f64> for NegativeBinomial<T> {
    /// A count as `f64`, as a Poisson draw at a gamma-distributed rate with shape `r`
    /// and scale `(1 - p)/p`; NaN when the parameters are invalid.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let Some(v) = self.values() else {
            return f64::NAN;
        };
        if v.q == 0.0 {
            return 0.0;
        }
        let scale = v.mean.map_or(v.q / v.p, |mu| mu / v.size);
        let rate = match rand_distr::Gamma::new(v.size, scale) {
            Ok(g) => rng.sample(g),
            Err(_) => return f64::NAN,
        };
        if !is_pos(rate) {
            return 0.0;
        }
        rng.sample(Poisson::<f64>::new(rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        for (mean, dispersion) in [(0.0, 1.0), (3.5, 0.2), (1e6, 1e8)] {
            assert!(NegativeBinomial::<f64>::try_new(mean, dispersion).is_ok());
        }
        for (mean, dispersion) in [
            (-1.0, 1.0),
            (f64::NAN, 1.0),
            (f64::INFINITY, 1.0),
            (1.0, 0.0),
            (1.0, -1.0),
            (1.0, f64::NAN),
            (1.0, f64::INFINITY),
        ] {
            assert!(
                NegativeBinomial::<f64>::try_new(mean, dispersion).is_err(),
                "({mean}, {dispersion})"
            );
            let d: NegativeBinomial = NegativeBinomial::new(mean, dispersion);
            assert_eq!(d.ln_pdf(1.0), f64::NEG_INFINITY);
        }
        assert!(NegativeBinomial::<f64>::try_probs(2.5, 1.0).is_ok());
        for (r, p) in [
            (0.0, 0.5),
            (-1.0, 0.5),
            (f64::NAN, 0.5),
            (f64::INFINITY, 0.5),
            (2.0, 0.0),
            (2.0, 1.5),
            (2.0, f64::NAN),
        ] {
            assert!(
                NegativeBinomial::<f64>::try_probs(r, p).is_err(),
                "({r}, {p})"
            );
            let d: NegativeBinomial = NegativeBinomial::probs(r, p);
            assert_eq!(d.ln_pdf(0.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support_and_degenerate_cases() {
        for d in [
            NegativeBinomial::<f64>::new(2.0, 3.0),
            NegativeBinomial::probs(3.0, 0.6),
        ] {
            for k in [-1.0, 0.5, f64::INFINITY, f64::NAN] {
                assert_eq!(d.ln_pdf(k), f64::NEG_INFINITY, "k = {k}");
            }
            assert_eq!(d.support(), Support::NonNegativeIntegers);
        }
        for d in [
            NegativeBinomial::<f64>::new(0.0, 3.0),
            NegativeBinomial::probs(3.0, 1.0),
        ] {
            assert_eq!(d.ln_pdf(0.0), 0.0);
            assert_eq!(d.ln_pdf(2.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn agrees_with_the_log_gamma_form() {
        // ln Γ(k + r) - ln Γ(k + 1) - ln Γ(r) + r ln p + k ln(1 - p) by log-gamma is
        // accurate for small arguments.
        for (r, p) in [(0.3, 0.2), (1.0, 0.5), (4.5, 0.9), (20.0, 0.05)] {
            let d: NegativeBinomial = NegativeBinomial::probs(r, p);
            let mean = r * (1.0 - p) / p;
            let e: NegativeBinomial = NegativeBinomial::new(mean, r);
            for k in [0.0, 1.0, 2.0, 7.0, 30.0, 200.0] {
                let want =
                    lgamma(k + r) - lgamma(k + 1.0) - lgamma(r) + r * p.ln() + k * (-p).ln_1p();
                for got in [d.ln_pdf(k), e.ln_pdf(k)] {
                    assert!(
                        (got - want).abs() < 1e-12 * want.abs().max(1.0),
                        "({r}, {p}) k = {k}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn large_dispersion_tends_to_poisson() {
        // both branches: k < 1e-10 φ takes the Poisson form with its correction
        let pois: Poisson = Poisson::new(3.0);
        for dispersion in [1e9, 1e14] {
            let d: NegativeBinomial = NegativeBinomial::new(3.0, dispersion);
            for k in [0.0, 1.0, 4.0, 20.0] {
                let (got, want) = (d.ln_pdf(k), pois.ln_pdf(k));
                assert!(
                    (got - want).abs() < 1e-7 * want.abs().max(1.0),
                    "φ = {dispersion}, k = {k}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn masses_sum_to_one() {
        for d in [
            NegativeBinomial::<f64>::new(4.0, 1.5),
            NegativeBinomial::probs(0.7, 0.3),
        ] {
            let total: f64 = (0..2000).map(|k| d.ln_pdf(k as f64).exp()).sum();
            assert!((total - 1.0).abs() < 1e-13, "{total}");
        }
    }

    #[test]
    fn sampling_moments() {
        // With r and p: var r(1 - p)/p², excess kurtosis 6/r + p²/(r(1 - p)).
        let moments = |r: f64, p: f64| {
            let var = r * (1.0 - p) / (p * p);
            let excess = 6.0 / r + p * p / (r * (1.0 - p));
            (r * (1.0 - p) / p, var, (3.0 + excess) * var * var)
        };
        let (m, v, m4) = moments(3.0, 0.4);
        check_moments(&NegativeBinomial::<f64>::probs(3.0, 0.4), m, v, m4, 61);
        let (mean, dispersion) = (6.0, 2.5);
        let (m, v, m4) = moments(dispersion, dispersion / (mean + dispersion));
        assert!((m - mean).abs() < 1e-12 && (v - (mean + mean * mean / dispersion)).abs() < 1e-12);
        check_moments(
            &NegativeBinomial::<f64>::new(mean, dispersion),
            m,
            v,
            m4,
            62,
        );
    }
}
