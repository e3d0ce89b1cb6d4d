//! The binomial distribution, by probability or by log-odds.

use rand::{Rng, RngExt};

use super::bernoulli::{ProbParam, ProbValues};
use super::poisson::{bd0, stirlerr};
use super::{Distribution, LN_SQRT_2PI, ObsVector, neg_inf};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The binomial distribution: the number of successes in `n` independent trials, each
/// with success probability `prob`, or with log-odds `logit` ([`Binomial::logit`]).
///
/// A discrete distribution: it can be observed but not be a latent site. Observations
/// are integers `0 ≤ k ≤ n` (as integers or as floats that hold an integer).
///
/// # Density
/// ```text
/// ln P(k) = ln C(n, k) + k ln p + (n - k) ln(1 - p)
/// ln C(n, k) = ln Γ(n + 1) - ln Γ(k + 1) - ln Γ(n - k + 1)
/// ```
/// with `n` the number of trials and `p = prob`, or `η = logit` and
/// `ln p = -ln(1 + e^{-η})`, `ln(1 - p) = -ln(1 + e^{η})`, for `k ∈ {0, …, n}`. A term with a zero count is
/// dropped, so `p = 0` and `p = 1` give mass 1 to `k = 0` and `k = n` exactly.
///
/// For `0 < k < n` it is evaluated in Loader's (2000) saddle-point form
/// ```text
/// ln P(k) = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - ½ ln(2π k (n - k) / n)
///           - bd0(k, n p) - bd0(n - k, n (1 - p))
/// ```
/// (`stirlerr` the error of Stirling's formula for `ln k!`, `bd0(x, m) = x ln(x/m) + m - x`),
/// which avoids the cancellation between the log-gamma values and the log-probability
/// terms and keeps full relative accuracy for large `n`.
///
/// # Parameters
/// `n` any count (`n = 0` puts all mass on 0), `prob ∈ [0, 1]`, or `logit` finite;
/// otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Binomial, Distribution};
///
/// let d: Binomial = Binomial::new(4, 0.5);
/// // C(4, 2) / 2⁴ = 6/16
/// assert!((d.ln_pdf(2.0) - 0.375f64.ln()).abs() < 1e-15);
/// let e: Binomial = Binomial::logit(4, 0.0);
/// assert!((e.ln_pdf(2.0) - 0.375f64.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Binomial<T = f64> {
    num_trials: u64,
    param: ProbParam<T>,
}

impl<T: Real> Binomial<T> {
    /// A binomial distribution with `n` trials of success probability `prob`; never fails
    /// (see the type's `# Parameters`).
    #[inline]
    pub fn new(n: u64, prob: impl Into<T>) -> Self {
        Binomial {
            num_trials: n,
            param: ProbParam::Prob(prob.into()),
        }
    }

    /// A binomial distribution whose probability is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `prob` is not in `[0, 1]`.
    pub fn try_new(n: u64, prob: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(n, prob);
        d.param.check()?;
        Ok(d)
    }

    /// A binomial distribution with `n` trials of log-odds `logit = ln(p / (1 - p))`;
    /// never fails (see the type's `# Parameters`).
    #[inline]
    pub fn logit(n: u64, logit: impl Into<T>) -> Self {
        Binomial {
            num_trials: n,
            param: ProbParam::Logit(logit.into()),
        }
    }

    /// A binomial distribution whose log-odds are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `logit` is not finite.
    pub fn try_logit(n: u64, logit: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::logit(n, logit);
        d.param.check()?;
        Ok(d)
    }

    /// The number of trials `n`.
    pub fn num_trials(&self) -> u64 {
        self.num_trials
    }

    /// The success probability `p` (computed when built from log-odds).
    pub fn prob(&self) -> T {
        self.param.prob()
    }

    /// The log-odds `η = ln(p / (1 - p))` (computed when built from a probability).
    pub fn ln_odds(&self) -> T {
        self.param.ln_odds()
    }

    /// The log-mass at `k` in `f64`, from the parameter's values `v`; `-∞` outside the
    /// support. For `0 < k < n` it is Loader's saddle-point form of the type's docs.
    fn ln_mass(&self, v: &ProbValues, k: f64) -> f64 {
        let n = self.num_trials as f64;
        if k.fract() != 0.0 || k < 0.0 || k > n {
            return f64::NEG_INFINITY;
        }
        if n == 0.0 {
            return 0.0;
        }
        // With a zero count the mass is p^n or (1 - p)^n; this also covers p ∈ {0, 1}.
        if k == 0.0 {
            return v.ln_q * n;
        }
        if k == n {
            return v.ln_p * n;
        }
        if v.ln_p == f64::NEG_INFINITY || v.ln_q == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        let failures = n - k;
        let ln_n = n.ln();
        let constant = stirlerr(n)
            - stirlerr(k)
            - stirlerr(failures)
            - 0.5 * (k * failures / n).ln()
            - LN_SQRT_2PI;
        -(bd0(k, v.p * n, v.ln_p + ln_n) + bd0(failures, v.q * n, v.ln_q + ln_n)) + constant
    }
}

impl<T: Real> Distribution for Binomial<T> {
    type Scalar = T;

    /// The log-mass at `k`, which is data: only its value is used (no partial in `k`).
    #[inline]
    fn ln_pdf(&self, k: T) -> T {
        self.ln_pdf_obs(k.value())
    }

    /// One node: `∂/∂p = k/p - (n - k)/(1 - p)`, `∂/∂η = k - n p`.
    #[inline]
    fn ln_pdf_obs(&self, k: f64) -> T {
        if !self.param.is_valid() {
            return neg_inf();
        }
        let v = self.param.values();
        let value = self.ln_mass(&v, k);
        if value == f64::NEG_INFINITY {
            return neg_inf();
        }
        let partial = self.param.d_counts(&v, k, self.num_trials as f64 - k);
        T::fused(value, [(self.param.scalar(), partial)])
    }

    fn support(&self) -> Support<T> {
        Support::IntegersUpTo(self.num_trials)
    }

    /// One node: with `K = Σkᵢ` successes in `N = m n` trials (`m` observations),
    /// `∂/∂p = K/p - (N - K)/(1 - p)`, `∂/∂η = K - N p`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        if !self.param.is_valid() {
            return neg_inf();
        }
        let v = self.param.values();
        let (mut value, mut successes) = (0.0, 0.0);
        for i in 0..ys.len() {
            let k = ys.get_f64(i);
            let ln_mass = self.ln_mass(&v, k);
            if ln_mass == f64::NEG_INFINITY {
                return neg_inf();
            }
            value += ln_mass;
            successes += k;
        }
        let failures = ys.len() as f64 * self.num_trials as f64 - successes;
        let partial = self.param.d_counts(&v, successes, failures);
        T::fused(value, [(self.param.scalar(), partial)])
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Binomial<T> {
    /// A count as `f64`; NaN when the parameter is invalid.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.param.is_valid() {
            return f64::NAN;
        }
        match rand_distr::Binomial::new(self.num_trials, self.param.prob().value()) {
            Ok(b) => {
                let k: u64 = rng.sample(b);
                k as f64
            }
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
        for good in [0.0, 0.3, 1.0] {
            assert!(Binomial::<f64>::try_new(5, good).is_ok(), "prob {good}");
        }
        for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Binomial::<f64>::try_new(5, bad).is_err(), "prob {bad}");
            assert_eq!(Binomial::<f64>::new(5, bad).ln_pdf(2.0), f64::NEG_INFINITY);
        }
        assert!(Binomial::<f64>::try_logit(5, 0.7).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Binomial::<f64>::try_logit(5, bad).is_err(), "logit {bad}");
            assert_eq!(
                Binomial::<f64>::logit(5, bad).ln_pdf(2.0),
                f64::NEG_INFINITY
            );
        }
    }

    #[test]
    fn outside_support() {
        for d in [Binomial::<f64>::new(5, 0.4), Binomial::logit(5, 0.2)] {
            for k in [-1.0, 2.5, 6.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                assert_eq!(d.ln_pdf(k), f64::NEG_INFINITY, "k = {k}");
            }
            assert_eq!(d.support(), Support::IntegersUpTo(5));
        }
    }

    #[test]
    fn degenerate_cases() {
        // p = 0 and p = 1 put all mass on one count: 0 · ln 0 is taken as 0.
        let zero: Binomial = Binomial::new(6, 0.0);
        assert_eq!(zero.ln_pdf(0.0), 0.0);
        assert_eq!(zero.ln_pdf(1.0), f64::NEG_INFINITY);
        let one: Binomial = Binomial::new(6, 1.0);
        assert_eq!(one.ln_pdf(6.0), 0.0);
        assert_eq!(one.ln_pdf(5.0), f64::NEG_INFINITY);
        let none: Binomial = Binomial::new(0, 0.3);
        assert_eq!(none.ln_pdf(0.0), 0.0);
        assert_eq!(none.ln_pdf(1.0), f64::NEG_INFINITY);
    }

    #[test]
    fn agrees_with_the_log_gamma_form_for_small_n() {
        // ln C(n, k) + k ln p + (n - k) ln(1 - p) by log-gamma is accurate for small n.
        use crate::special::lgamma;
        for (n, p) in [(1_u64, 0.3), (7, 0.5), (30, 0.01), (30, 0.99)] {
            let d: Binomial = Binomial::new(n, p);
            let nf = n as f64;
            for k in 0..=n {
                let k = k as f64;
                let want = lgamma(nf + 1.0) - lgamma(k + 1.0) - lgamma(nf - k + 1.0)
                    + k * p.ln()
                    + (nf - k) * (-p).ln_1p();
                let got = d.ln_pdf(k);
                assert!(
                    (got - want).abs() < 1e-13 * want.abs().max(1.0),
                    "({n}, {p}) k = {k}"
                );
            }
        }
    }

    #[test]
    fn masses_sum_to_one() {
        for d in [Binomial::<f64>::new(30, 0.37), Binomial::logit(30, -2.5)] {
            let total: f64 = (0..=30).map(|k| d.ln_pdf(k as f64).exp()).sum();
            assert!((total - 1.0).abs() < 1e-13, "{total}");
        }
    }

    #[test]
    fn sampling_moments() {
        // mean np, var np(1 - p), μ₄ = np(1 - p)(1 + 3(n - 2)p(1 - p)).
        let moments = |n: f64, p: f64| {
            let v = n * p * (1.0 - p);
            (n * p, v, v * (1.0 + 3.0 * (n - 2.0) * p * (1.0 - p)))
        };
        let (m, v, m4) = moments(20.0, 0.3);
        check_moments(&Binomial::<f64>::new(20, 0.3), m, v, m4, 18);
        let eta: f64 = 1.1;
        let (m, v, m4) = moments(7.0, 1.0 / (1.0 + (-eta).exp()));
        check_moments(&Binomial::<f64>::logit(7, eta), m, v, m4, 19);
    }
}
