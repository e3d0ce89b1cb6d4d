//! The beta-binomial distribution.

use rand::{Rng, RngExt};

use super::pointwise::{self, Parts, is_count};
use super::{Distribution, ObsVector, is_pos};
use crate::error::ParamError;
use crate::real::Real;
use crate::special::{digamma, lgamma};
use crate::support::Support;

/// The beta-binomial distribution: the number of successes in `n` trials whose success
/// probability is drawn once from `Beta(alpha, beta)`.
///
/// A discrete distribution: it can be observed but not be a latent site. Observations
/// are integers `0 ≤ k ≤ n` (as integers or as floats that hold an integer).
///
/// # Density
/// ```text
/// ln P(k) = ln C(n, k) + ln B(k + α, n - k + β) - ln B(α, β)
///         = ln C(n, k) + [ln Γ(k + α) - ln Γ(α)] + [ln Γ(n - k + β) - ln Γ(β)]
///           - [ln Γ(n + α + β) - ln Γ(α + β)]
/// ```
/// with `B` the beta function, `α = alpha` and `β = beta`, for `k ∈ {0, …, n}`. Each
/// bracket is a sum of `ln(a + j)` when its count is below 64 and a log-gamma
/// difference otherwise, so the absolute error grows like `ε ln Γ(n + α + β)` only for
/// large `n`.
///
/// # Parameters
/// `n` any count (`n = 0` puts all mass on 0), `alpha > 0` and finite, `beta > 0` and
/// finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{BetaBinomial, Distribution};
///
/// // α = β = 1: uniform on {0, …, n}
/// let d: BetaBinomial = BetaBinomial::new(4, 1.0, 1.0);
/// assert!((d.ln_pdf(3.0) - -(5f64.ln())).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BetaBinomial<T = f64> {
    num_trials: u64,
    alpha: T,
    beta: T,
}

/// `ln Γ(a + m) - ln Γ(a)` and `ψ(a + m) - ψ(a)` for a count `m`: by sums below 64,
/// without the cancellation of the differences, and by log-gamma and digamma above.
fn ln_rising(a: f64, m: f64) -> (f64, f64) {
    if m < 64.0 {
        (0..m as u32).fold((0.0, 0.0), |(ln, psi), j| {
            let t = a + f64::from(j);
            (ln + t.ln(), psi + t.recip())
        })
    } else {
        (lgamma(a + m) - lgamma(a), digamma(a + m) - digamma(a))
    }
}

impl<T: Real> BetaBinomial<T> {
    /// A beta-binomial distribution with `n` trials; never fails (see the type's
    /// `# Parameters`).
    #[inline]
    pub fn new(n: u64, alpha: impl Into<T>, beta: impl Into<T>) -> Self {
        BetaBinomial {
            num_trials: n,
            alpha: alpha.into(),
            beta: beta.into(),
        }
    }

    /// A beta-binomial distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `alpha` or `beta` is not positive and finite.
    pub fn try_new(n: u64, alpha: impl Into<T>, beta: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(n, alpha, beta);
        ParamError::check_positive("alpha", d.alpha)?;
        ParamError::check_positive("beta", d.beta)?;
        Ok(d)
    }

    /// The number of trials `n`.
    pub fn num_trials(&self) -> u64 {
        self.num_trials
    }

    /// The first shape `α` of the beta prior on the success probability.
    pub fn alpha(&self) -> T {
        self.alpha
    }

    /// The second shape `β` of the beta prior on the success probability.
    pub fn beta(&self) -> T {
        self.beta
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.alpha) && is_pos(self.beta)
    }

    /// `k ↦` the log-mass at `k` with
    /// `∂/∂α = ψ(k + α) - ψ(α) - ψ(n + α + β) + ψ(α + β)` and
    /// `∂/∂β = ψ(n - k + β) - ψ(β) - ψ(n + α + β) + ψ(α + β)`; the terms without `k`
    /// are computed once.
    fn parts(&self) -> impl Fn(f64) -> Option<Parts<2>> + use<T> {
        let n = self.num_trials as f64;
        let valid = self.is_valid();
        let (a, b) = (self.alpha.value(), self.beta.value());
        let (ln_ab, psi_ab) = if valid {
            ln_rising(a + b, n)
        } else {
            (f64::NAN, f64::NAN)
        };
        let ln_n_factorial = lgamma(n + 1.0);
        move |k| {
            if !valid || !is_count(k) || k > n {
                return None;
            }
            let (ln_a, psi_a) = ln_rising(a, k);
            let (ln_b, psi_b) = ln_rising(b, n - k);
            let ln_choose = ln_n_factorial - lgamma(k + 1.0) - lgamma(n - k + 1.0);
            Parts {
                value: ln_choose + ln_a + ln_b - ln_ab,
                d_x: 0.0,
                d_params: [psi_a - psi_ab, psi_b - psi_ab],
            }
            .finite()
        }
    }
}

impl<T: Real> Distribution for BetaBinomial<T> {
    type Scalar = T;

    /// The log-mass at `k`, which is data: only its value is used (no partial in `k`).
    #[inline]
    fn ln_pdf(&self, k: T) -> T {
        self.ln_pdf_obs(k.value())
    }

    /// One node: `∂/∂α = ψ(k + α) - ψ(α) - ψ(n + α + β) + ψ(α + β)`,
    /// `∂/∂β = ψ(n - k + β) - ψ(β) - ψ(n + α + β) + ψ(α + β)`.
    #[inline]
    fn ln_pdf_obs(&self, k: f64) -> T {
        pointwise::observed([self.alpha, self.beta], k, self.parts())
    }

    fn support(&self) -> Support<T> {
        Support::IntegersUpTo(self.num_trials)
    }

    /// One node: the partials of `ln_pdf_obs` summed over the counts.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.alpha, self.beta], ys, self.parts())
    }
}

impl<T: Real> rand::distr::Distribution<f64> for BetaBinomial<T> {
    /// A count as `f64`: a binomial draw at a beta-distributed probability; NaN when the
    /// parameters are invalid.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let p = match rand_distr::Beta::new(self.alpha.value(), self.beta.value()) {
            Ok(beta) => rng.sample(beta),
            Err(_) => return f64::NAN,
        };
        match rand_distr::Binomial::new(self.num_trials, p) {
            Ok(b) => rng.sample(b) as f64,
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
        assert!(BetaBinomial::<f64>::try_new(5, 0.5, 2.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                BetaBinomial::<f64>::try_new(5, bad, 1.0).is_err(),
                "alpha {bad}"
            );
            assert!(
                BetaBinomial::<f64>::try_new(5, 1.0, bad).is_err(),
                "beta {bad}"
            );
            assert_eq!(
                BetaBinomial::<f64>::new(5, bad, 1.0).ln_pdf(2.0),
                f64::NEG_INFINITY
            );
            assert_eq!(
                BetaBinomial::<f64>::new(5, 1.0, bad).ln_pdf(2.0),
                f64::NEG_INFINITY
            );
        }
    }

    #[test]
    fn outside_support() {
        let d: BetaBinomial = BetaBinomial::new(5, 2.0, 3.0);
        for k in [-1.0, 2.5, 6.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(k), f64::NEG_INFINITY, "k = {k}");
        }
        assert_eq!(d.support(), Support::IntegersUpTo(5));
        let none: BetaBinomial = BetaBinomial::new(0, 2.0, 3.0);
        assert_eq!(none.ln_pdf(0.0), 0.0);
    }

    #[test]
    fn both_branches_agree_with_log_gamma() {
        // n = 63 and n = 64 straddle the switch from sums to log-gamma differences.
        for n in [10_u64, 63, 64, 200] {
            let (a, b) = (0.7, 3.2);
            let d: BetaBinomial = BetaBinomial::new(n, a, b);
            let nf = n as f64;
            for k in [0.0, 1.0, nf / 2.0, nf - 1.0, nf].map(f64::floor) {
                let want = lgamma(nf + 1.0) - lgamma(k + 1.0) - lgamma(nf - k + 1.0)
                    + lgamma(k + a)
                    + lgamma(nf - k + b)
                    - lgamma(nf + a + b)
                    - (lgamma(a) + lgamma(b) - lgamma(a + b));
                let got = d.ln_pdf(k);
                assert!(
                    (got - want).abs() < 1e-12 * want.abs().max(1.0),
                    "n = {n}, k = {k}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn masses_sum_to_one_and_sampling_moments() {
        // The moments by exact summation of the masses.
        let n = 15_u64;
        let d: BetaBinomial = BetaBinomial::new(n, 1.5, 0.8);
        let mass: Vec<f64> = (0..=n).map(|k| d.ln_pdf(k as f64).exp()).collect();
        let total: f64 = mass.iter().sum();
        assert!((total - 1.0).abs() < 1e-13, "{total}");
        let raw = [1, 2, 3, 4].map(|j| {
            mass.iter()
                .enumerate()
                .map(|(k, m)| (k as f64).powi(j) * m)
                .sum::<f64>()
        });
        let mean = raw[0];
        assert!((mean - 15.0 * 1.5 / 2.3).abs() < 1e-12);
        let var = raw[1] - mean * mean;
        let mu4 = crate::distributions::test_util::central_fourth(raw);
        check_moments(&d, mean, var, mu4, 63);
    }
}
