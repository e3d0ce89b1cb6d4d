//! The Bernoulli distribution, by probability or by log-odds.

use rand::{Rng, RngExt};

use super::{Distribution, ObsVector, neg_inf};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// How a success probability is given: directly or as log-odds. Shared with
/// [`Binomial`](super::Binomial).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum ProbParam<T> {
    /// `p ∈ [0, 1]`.
    Prob(T),
    /// `η = ln(p / (1 - p))`, finite.
    Logit(T),
}

impl<T: Real> ProbParam<T> {
    #[inline]
    pub(super) fn is_valid(&self) -> bool {
        match *self {
            ProbParam::Prob(p) => (0.0..=1.0).contains(&p.value()),
            ProbParam::Logit(eta) => eta.is_finite(),
        }
    }

    pub(super) fn check(&self) -> Result<(), ParamError> {
        match *self {
            ProbParam::Prob(p) => ParamError::check_probability("prob", p),
            ProbParam::Logit(eta) => ParamError::check_finite("logit", eta),
        }
    }

    /// `p`.
    pub(super) fn prob(&self) -> T {
        match *self {
            ProbParam::Prob(p) => p,
            ProbParam::Logit(eta) => eta.inv_logit(),
        }
    }

    /// `ln(p / (1 - p))`.
    pub(super) fn ln_odds(&self) -> T {
        match *self {
            ProbParam::Prob(p) => p.logit(),
            ProbParam::Logit(eta) => eta,
        }
    }

    /// The parameter as given, `p` or `η`: the scalar the partials are taken in.
    #[inline]
    pub(super) fn scalar(&self) -> T {
        match *self {
            ProbParam::Prob(p) | ProbParam::Logit(p) => p,
        }
    }

    /// `ln p` and its partial: `1/p`, or `1 - p = 1/(1 + e^{η})` from the log-odds, where
    /// `ln p = -ln(1 + e^{-η})` is formed without rounding `p`.
    #[inline]
    pub(super) fn ln_p(&self) -> (f64, f64) {
        match *self {
            ProbParam::Prob(p) => {
                let p = p.value();
                (p.ln(), 1.0 / p)
            }
            ProbParam::Logit(eta) => {
                let v = ProbValues::of_logit(eta.value());
                (v.ln_p, v.q)
            }
        }
    }

    /// `ln(1 - p)` and its partial: `-1/(1 - p)`, or `-p` from the log-odds, where
    /// `ln(1 - p) = -ln(1 + e^{η})`.
    #[inline]
    pub(super) fn ln_q(&self) -> (f64, f64) {
        match *self {
            ProbParam::Prob(p) => {
                let p = p.value();
                ((-p).ln_1p(), -1.0 / (1.0 - p))
            }
            ProbParam::Logit(eta) => {
                let v = ProbValues::of_logit(eta.value());
                (v.ln_q, -v.p)
            }
        }
    }

    /// `p`, `1 - p` and their logarithms, each formed from the log-odds without rounding
    /// through `p`.
    #[inline]
    pub(super) fn values(&self) -> ProbValues {
        match *self {
            ProbParam::Prob(p) => {
                let p = p.value();
                ProbValues {
                    p,
                    q: 1.0 - p,
                    ln_p: p.ln(),
                    ln_q: (-p).ln_1p(),
                }
            }
            ProbParam::Logit(eta) => ProbValues::of_logit(eta.value()),
        }
    }

    /// The partial of `s ln p + f ln(1 - p)` in the parameter: `s/p - f/(1 - p)`, or
    /// `s (1 - p) - f p` from the log-odds. A zero count contributes nothing, so the
    /// partial is finite wherever the value is (`p = 0` with `s = 0`).
    #[inline]
    pub(super) fn d_counts(&self, v: &ProbValues, successes: f64, failures: f64) -> f64 {
        match self {
            ProbParam::Prob(_) => {
                let d_s = if successes > 0.0 {
                    successes / v.p
                } else {
                    0.0
                };
                let d_f = if failures > 0.0 { failures / v.q } else { 0.0 };
                d_s - d_f
            }
            ProbParam::Logit(_) => successes * v.q - failures * v.p,
        }
    }
}

/// `p`, `1 - p`, `ln p` and `ln(1 - p)` of a [`ProbParam`], in `f64`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProbValues {
    pub(crate) p: f64,
    pub(crate) q: f64,
    pub(crate) ln_p: f64,
    pub(crate) ln_q: f64,
}

impl ProbValues {
    /// `p = 1/(1 + e^{-η})`, `1 - p` and their logarithms from the log-odds `η`, with
    /// one exponential and one `ln_1p`: with `e = e^{-|η|}` and `l = ln(1 + e)`,
    /// `ln p = -l` and `ln(1 - p) = -η - l` for `η ≥ 0` (mirrored below 0), each
    /// accurate in both tails.
    #[inline]
    pub(crate) fn of_logit(eta: f64) -> Self {
        let e = (-eta.abs()).exp();
        let l = e.ln_1p();
        let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
        if eta >= 0.0 {
            ProbValues {
                p: big,
                q: small,
                ln_p: -l,
                ln_q: -eta - l,
            }
        } else if eta < 0.0 {
            ProbValues {
                p: small,
                q: big,
                ln_p: eta - l,
                ln_q: -l,
            }
        } else {
            ProbValues {
                p: f64::NAN,
                q: f64::NAN,
                ln_p: f64::NAN,
                ln_q: f64::NAN,
            }
        }
    }
}

/// The Bernoulli distribution over `{0, 1}` with success probability `prob`, or with
/// log-odds `logit` ([`Bernoulli::logit`]).
///
/// A discrete distribution: it can be observed but not be a latent site. Observations
/// are `0` or `1` (as a float, an integer or a `bool`).
///
/// # Density
/// ```text
/// ln P(x) = x ln p + (1 - x) ln(1 - p)
///         = -ln(1 + e^{-η})   if x = 1
///           -ln(1 + e^{η})    if x = 0
/// ```
/// with `p = prob`, or `η = logit` and `p = 1 / (1 + e^{-η})`, for `x ∈ {0, 1}`. The
/// logit form is evaluated without forming `p`, so it stays accurate in both tails.
///
/// # Parameters
/// `prob ∈ [0, 1]`, or `logit` finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Bernoulli, Distribution};
///
/// let d: Bernoulli = Bernoulli::new(0.25);
/// assert!((d.ln_pdf(0.0) - 0.75f64.ln()).abs() < 1e-15);
/// // log-odds ln 3 is p = 0.75
/// let e: Bernoulli = Bernoulli::logit(3f64.ln());
/// assert!((e.ln_pdf(1.0) - 0.75f64.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bernoulli<T = f64> {
    param: ProbParam<T>,
}

impl<T: Real> Bernoulli<T> {
    /// A Bernoulli distribution with success probability `prob`; never fails (see the
    /// type's `# Parameters`).
    #[inline]
    pub fn new(prob: impl Into<T>) -> Self {
        Bernoulli {
            param: ProbParam::Prob(prob.into()),
        }
    }

    /// A Bernoulli distribution whose probability is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `prob` is not in `[0, 1]`.
    pub fn try_new(prob: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(prob);
        d.param.check()?;
        Ok(d)
    }

    /// A Bernoulli distribution with log-odds `logit = ln(p / (1 - p))`; never fails
    /// (see the type's `# Parameters`).
    #[inline]
    pub fn logit(logit: impl Into<T>) -> Self {
        Bernoulli {
            param: ProbParam::Logit(logit.into()),
        }
    }

    /// A Bernoulli distribution whose log-odds are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `logit` is not finite.
    pub fn try_logit(logit: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::logit(logit);
        d.param.check()?;
        Ok(d)
    }

    /// The success probability `p` (computed when built from log-odds).
    pub fn prob(&self) -> T {
        self.param.prob()
    }

    /// The log-odds `η = ln(p / (1 - p))` (computed when built from a probability).
    pub fn ln_odds(&self) -> T {
        self.param.ln_odds()
    }
}

impl<T: Real> Distribution for Bernoulli<T> {
    type Scalar = T;

    /// The log-mass at `x`, which is data: only its value is used (no partial in `x`).
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        self.ln_pdf_obs(x.value())
    }

    /// One node: `∂/∂p = 1/p` at 1 and `-1/(1 - p)` at 0; `∂/∂η = 1 - p` at 1 and `-p`
    /// at 0.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.param.is_valid() {
            return neg_inf();
        }
        let (value, partial) = if x == 1.0 {
            self.param.ln_p()
        } else if x == 0.0 {
            self.param.ln_q()
        } else {
            return neg_inf();
        };
        if value == f64::NEG_INFINITY {
            return neg_inf();
        }
        T::fused(value, [(self.param.scalar(), partial)])
    }

    fn support(&self) -> Support<T> {
        Support::Boolean
    }

    /// One node: with `s` ones and `f` zeros, `∂/∂p = s/p - f/(1 - p)`,
    /// `∂/∂η = s (1 - p) - f p`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        if !self.param.is_valid() {
            return neg_inf();
        }
        let mut ones = 0_usize;
        for i in 0..ys.len() {
            let y = ys.get_f64(i);
            if y == 1.0 {
                ones += 1;
            } else if y != 0.0 {
                return neg_inf();
            }
        }
        let (successes, failures) = (ones as f64, (ys.len() - ones) as f64);
        let v = self.param.values();
        // a zero count drops its term, so that 0 · ln 0 is 0
        let value = match (successes > 0.0, failures > 0.0) {
            (true, true) => successes * v.ln_p + failures * v.ln_q,
            (true, false) => successes * v.ln_p,
            (false, true) => failures * v.ln_q,
            (false, false) => 0.0,
        };
        if value == f64::NEG_INFINITY {
            return neg_inf();
        }
        let partial = self.param.d_counts(&v, successes, failures);
        T::fused(value, [(self.param.scalar(), partial)])
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Bernoulli<T> {
    /// `1.0` or `0.0`; NaN when the parameter is invalid.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.param.is_valid() {
            return f64::NAN;
        }
        match rand::distr::Bernoulli::new(self.param.prob().value()) {
            Ok(b) => f64::from(u8::from(rng.sample(b))),
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
            assert!(Bernoulli::<f64>::try_new(good).is_ok(), "prob {good}");
        }
        for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Bernoulli::<f64>::try_new(bad).is_err(), "prob {bad}");
            let d: Bernoulli = Bernoulli::new(bad);
            assert_eq!(d.ln_pdf(1.0), f64::NEG_INFINITY);
            assert_eq!(d.ln_pdf(0.0), f64::NEG_INFINITY);
        }
        assert!(Bernoulli::<f64>::try_logit(-3.0).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Bernoulli::<f64>::try_logit(bad).is_err(), "logit {bad}");
            assert_eq!(Bernoulli::<f64>::logit(bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        for d in [Bernoulli::<f64>::new(0.4), Bernoulli::logit(0.2)] {
            for x in [-1.0, 0.5, 2.0, f64::INFINITY, f64::NAN] {
                assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            }
            assert_eq!(d.support(), Support::Boolean);
        }
    }

    #[test]
    fn degenerate_probabilities() {
        let zero: Bernoulli = Bernoulli::new(0.0);
        assert_eq!(zero.ln_pdf(0.0), 0.0);
        assert_eq!(zero.ln_pdf(1.0), f64::NEG_INFINITY);
        let one: Bernoulli = Bernoulli::new(1.0);
        assert_eq!(one.ln_pdf(1.0), 0.0);
        assert_eq!(one.ln_pdf(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn logit_tails_do_not_round() {
        // p = 1/(1 + e^{40}) is about 4.2e-18: 1 - p rounds to 1, but ln p does not.
        let d: Bernoulli = Bernoulli::logit(-40.0);
        let want = -40.0 - (-40f64).exp().ln_1p();
        assert!((d.ln_pdf(1.0) - want).abs() < 1e-15 * 40.0);
        assert!((d.ln_pdf(0.0) + (-40f64).exp()).abs() < 1e-30);
        // and the two forms agree in the middle
        let p: Bernoulli = Bernoulli::new(0.8);
        let l: Bernoulli = Bernoulli::logit(4f64.ln());
        for x in [0.0, 1.0] {
            assert!((p.ln_pdf(x) - l.ln_pdf(x)).abs() < 1e-15);
        }
        assert!((l.prob() - 0.8).abs() < 1e-15 && (p.ln_odds() - 4f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn sampling_moments() {
        // mean p, var p(1 - p), μ₄ = p(1 - p)(1 - 3p + 3p²).
        let moments = |p: f64| {
            (
                p,
                p * (1.0 - p),
                p * (1.0 - p) * (1.0 - 3.0 * p + 3.0 * p * p),
            )
        };
        let (m, v, m4) = moments(0.3);
        check_moments(&Bernoulli::<f64>::new(0.3), m, v, m4, 16);
        let eta: f64 = -1.2;
        let (m, v, m4) = moments(1.0 / (1.0 + (-eta).exp()));
        check_moments(&Bernoulli::<f64>::logit(eta), m, v, m4, 17);
    }
}
