//! The Poisson distribution, by rate or by log-rate.

use rand::Rng;

use super::{Distribution, LN_SQRT_2PI, ObsVector, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// `stirlerr(k) = ln k! - (k + ½) ln k + k - ln √(2π)` for `k = 1, …, 15`, from mpmath.
const STIRLERR_SMALL: [f64; 15] = [
    0.081_061_466_795_327_26,
    0.041_340_695_955_409_3,
    0.027_677_925_684_998_34,
    0.020_790_672_103_765_093,
    0.016_644_691_189_821_193,
    0.013_876_128_823_070_748,
    0.011_896_709_945_891_77,
    0.010_411_265_261_972_096,
    0.009_255_462_182_712_733,
    0.008_330_563_433_362_87,
    0.007_573_675_487_951_841,
    0.006_942_840_107_209_53,
    0.006_408_994_188_004_207,
    0.005_951_370_112_758_847_5,
    0.005_554_733_551_962_801,
];

/// The error of Stirling's formula, `stirlerr(k) = ln k! - (k + ½) ln k + k - ln √(2π)`,
/// for an integer `k ≥ 1` (Loader 2000), without the cancellation of forming `ln k!`.
///
/// A table up to 15, then the asymptotic series `1/(12k) - 1/(360k³) + …` to `k⁻⁹`, whose
/// first omitted term is below 2e-16 for `k ≥ 16`.
pub(crate) fn stirlerr(k: f64) -> f64 {
    if k <= 15.0 {
        return STIRLERR_SMALL[(k as usize).saturating_sub(1)];
    }
    let r = 1.0 / k;
    let r2 = r * r;
    r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))))
}

/// Loader's deviance term `bd0(x, m) = x ln(x/m) + m - x ≥ 0` for a count `x > 0` and a
/// mean `m` given with its logarithm `ln_m`.
///
/// Near `x = m` the two sides cancel to `(x - m)²/(2m)`; there it is summed as the series
/// `(x - m) v + 2x Σⱼ v^{2j+1}/(2j+1)` with `v = (x - m)/(x + m)`, which keeps full
/// relative accuracy (Loader 2000, as in R's `dpois_raw` and `dbinom_raw`).
pub(crate) fn bd0(x: f64, m: f64, ln_m: f64) -> f64 {
    let diff = x - m;
    let sum = m + x;
    if diff.abs() < 0.1 * sum {
        let v = diff / sum;
        let v2 = v * v;
        let mut total = diff * v;
        let mut ej = v * (2.0 * x);
        for j in 1..200 {
            ej *= v2;
            let next = total + ej / (2 * j + 1) as f64;
            if next == total {
                return next;
            }
            total = next;
        }
        total
    } else {
        (x.ln() - ln_m) * x + m - x
    }
}

/// How the rate is given.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RateParam<T> {
    /// `λ ≥ 0`, finite.
    Rate(T),
    /// `η = ln λ`, finite.
    LogRate(T),
}

/// The Poisson distribution with rate (mean) `rate`, or with log-rate `log_rate`
/// ([`Poisson::log_rate`]).
///
/// A discrete distribution: it can be observed but not be a latent site. Observations
/// are integers `k ≥ 0` (as integers or as floats that hold an integer).
///
/// # Density
/// ```text
/// ln P(k) = k ln λ - λ - ln Γ(k + 1)
///         = k η - e^η - ln Γ(k + 1)
/// ```
/// with `λ = rate`, or `η = log_rate` and `λ = e^η`, for `k ∈ {0, 1, 2, …}`. With
/// `λ = 0` the term `k ln λ` is dropped at `k = 0`, so all mass is on 0.
///
/// For `k ≥ 1` it is evaluated in Loader's (2000) saddle-point form
/// `-bd0(k, λ) - stirlerr(k) - ½ ln(2πk)`, which avoids the cancellation between
/// `k ln λ`, `λ` and `ln Γ(k + 1)` and keeps full relative accuracy for large counts.
///
/// # Parameters
/// `rate ≥ 0` and finite, or `log_rate` finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Poisson};
///
/// let d: Poisson = Poisson::new(2.0);
/// // 3 ln 2 - 2 - ln 3!
/// assert!((d.ln_pdf(3.0) - -1.712_317_927_548_219).abs() < 1e-15);
/// let e: Poisson = Poisson::log_rate(2f64.ln());
/// assert!((e.ln_pdf(3.0) - -1.712_317_927_548_219).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Poisson<T = f64> {
    param: RateParam<T>,
}

impl<T: Real> Poisson<T> {
    /// A Poisson distribution with rate `rate`; never fails (see the type's
    /// `# Parameters`).
    #[inline]
    pub fn new(rate: impl Into<T>) -> Self {
        Poisson {
            param: RateParam::Rate(rate.into()),
        }
    }

    /// A Poisson distribution whose rate is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `rate` is negative or not finite.
    pub fn try_new(rate: impl Into<T>) -> Result<Self, ParamError> {
        let rate = rate.into();
        ParamError::require("rate", "non-negative and finite", rate, |v| {
            v >= 0.0 && v.is_finite()
        })?;
        Ok(Self::new(rate))
    }

    /// A Poisson distribution with log-rate `log_rate = ln λ`; never fails (see the
    /// type's `# Parameters`).
    #[inline]
    pub fn log_rate(log_rate: impl Into<T>) -> Self {
        Poisson {
            param: RateParam::LogRate(log_rate.into()),
        }
    }

    /// A Poisson distribution whose log-rate is checked.
    ///
    /// # Errors
    /// [`ParamError`] when `log_rate` is not finite.
    pub fn try_log_rate(log_rate: impl Into<T>) -> Result<Self, ParamError> {
        let log_rate = log_rate.into();
        ParamError::check_finite("log_rate", log_rate)?;
        Ok(Self::log_rate(log_rate))
    }

    /// The rate `λ` (computed when built from the log-rate).
    pub fn rate(&self) -> T {
        match self.param {
            RateParam::Rate(rate) => rate,
            RateParam::LogRate(eta) => eta.exp(),
        }
    }

    /// The log-rate `η = ln λ` (computed when built from the rate).
    pub fn ln_rate(&self) -> T {
        match self.param {
            RateParam::Rate(rate) => rate.ln(),
            RateParam::LogRate(eta) => eta,
        }
    }

    #[inline]
    fn is_valid(&self) -> bool {
        match self.param {
            RateParam::Rate(rate) => rate >= 0.0 && rate.is_finite(),
            RateParam::LogRate(eta) => eta.is_finite(),
        }
    }

    /// `(λ, ln λ)` in `f64`.
    #[inline]
    fn values(&self) -> (f64, f64) {
        match self.param {
            RateParam::Rate(rate) => (rate.value(), rate.value().ln()),
            RateParam::LogRate(eta) => (eta.value().exp(), eta.value()),
        }
    }

    /// One node for `m` counts summing to `total`: `∂/∂λ = total/λ - m` (the first term
    /// dropped when `total = 0`, so that `λ = 0` is finite), `∂/∂η = total - m λ`.
    #[inline]
    fn node(&self, value: f64, rate: f64, total: f64, m: f64) -> T {
        match self.param {
            RateParam::Rate(r) => {
                let d_k = if total > 0.0 { total / rate } else { 0.0 };
                T::fused(value, [(r, d_k - m)])
            }
            RateParam::LogRate(eta) => T::fused(value, [(eta, total - m * rate)]),
        }
    }
}

impl<T: Real> Distribution for Poisson<T> {
    type Scalar = T;

    /// The log-mass at `k`, which is data: only its value is used (no partial in `k`).
    #[inline]
    fn ln_pdf(&self, k: T) -> T {
        self.ln_pdf_obs(k.value())
    }

    /// One node: `∂/∂λ = k/λ - 1`, `∂/∂η = k - λ`.
    #[inline]
    fn ln_pdf_obs(&self, k: f64) -> T {
        if !self.is_valid() {
            return neg_inf();
        }
        let (rate, ln_rate) = self.values();
        let value = ln_mass(rate, ln_rate, k);
        if !value.is_finite() {
            return neg_inf();
        }
        self.node(value, rate, k, 1.0)
    }

    fn support(&self) -> Support<T> {
        Support::NonNegativeIntegers
    }

    /// One node: with `m` counts summing to `K`, `∂/∂λ = K/λ - m`, `∂/∂η = K - m λ`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        if !self.is_valid() {
            return neg_inf();
        }
        let (rate, ln_rate) = self.values();
        let (mut value, mut total) = (0.0, 0.0);
        for i in 0..ys.len() {
            let k = ys.get_f64(i);
            value += ln_mass(rate, ln_rate, k);
            total += k;
        }
        if !value.is_finite() {
            return neg_inf();
        }
        self.node(value, rate, total, ys.len() as f64)
    }
}

/// The log-mass at `k` for the rate `λ` given with its logarithm; `-∞` outside the
/// support.
#[inline]
fn ln_mass(rate: f64, ln_rate: f64, k: f64) -> f64 {
    if k.fract() != 0.0 || k < 0.0 {
        return f64::NEG_INFINITY;
    }
    if k == 0.0 {
        return -rate;
    }
    // k ln λ - λ - ln k! = -bd0(k, λ) - stirlerr(k) - ½ ln(2πk); at `λ = 0` it is
    // `-∞` (`ln λ = -∞`), and a log-rate whose rate underflows to 0 keeps its finite
    // log-mass (`bd0` reads `ln λ`, not `λ`)
    -bd0(k, rate, ln_rate) - (stirlerr(k) + 0.5 * k.ln() + LN_SQRT_2PI)
}

impl<T: Real> rand::distr::Distribution<f64> for Poisson<T> {
    /// A count as `f64`; NaN when the parameter is invalid or the rate exceeds
    /// `rand_distr`'s limit of about 1.8e19.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let rate = self.rate().value();
        if rate == 0.0 {
            return 0.0;
        }
        sample_or_nan(rand_distr::Poisson::new(rate), rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_moments;
    use crate::special::lgamma;

    #[test]
    fn constructor_checks() {
        for good in [0.0, 0.5, 1e6] {
            assert!(Poisson::<f64>::try_new(good).is_ok(), "rate {good}");
        }
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(Poisson::<f64>::try_new(bad).is_err(), "rate {bad}");
            assert_eq!(Poisson::<f64>::new(bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
        assert!(Poisson::<f64>::try_log_rate(-2.0).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Poisson::<f64>::try_log_rate(bad).is_err(), "log_rate {bad}");
            assert_eq!(Poisson::<f64>::log_rate(bad).ln_pdf(1.0), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn outside_support() {
        for d in [Poisson::<f64>::new(2.0), Poisson::log_rate(0.5)] {
            for k in [-1.0, 0.5, f64::INFINITY, f64::NAN] {
                assert_eq!(d.ln_pdf(k), f64::NEG_INFINITY, "k = {k}");
            }
            assert_eq!(d.support(), Support::NonNegativeIntegers);
        }
    }

    #[test]
    fn zero_rate() {
        let d: Poisson = Poisson::new(0.0);
        assert_eq!(d.ln_pdf(0.0), 0.0);
        assert_eq!(d.ln_pdf(1.0), f64::NEG_INFINITY);
        let mut rng = <rand::rngs::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(0);
        assert_eq!(rand::distr::Distribution::sample(&d, &mut rng), 0.0);
    }

    #[test]
    fn stirlerr_matches_its_definition() {
        // The table and the series against ln k! - (k + ½) ln k + k - ln √(2π) by
        // log-gamma, whose cancellation costs up to about ulp(ln k!) here.
        for k in [1.0, 2.0, 7.0, 15.0, 16.0, 17.0, 40.0, 170.0] {
            let direct = lgamma(k + 1.0) - (k + 0.5) * k.ln() + k - LN_SQRT_2PI;
            let tol = 4.0 * f64::EPSILON * lgamma(k + 1.0).max(1.0);
            assert!(
                (stirlerr(k) - direct).abs() < tol,
                "k = {k}: {} vs {direct}",
                stirlerr(k)
            );
        }
    }

    #[test]
    fn bd0_reference_values() {
        // x ln(x/m) + m - x from mpmath at 40 digits, on both sides of the series switch
        // |x - m| < 0.1 (x + m); the last two are where the direct formula loses most or
        // all of its digits.
        let cases = [
            (10.0, 10.0, 0.0),
            (10.0, 9.1, 0.043_106_794_712_413_306),
            (10.0, 11.0, 0.046_898_201_956_751_4),
            (3.0, 50.0, 38.559_767_849_719_89),
            (1e6, 1e6 + 3.0, 4.499_991_000_020_25e-6),
            (1e12, 1e12 + 1.0, 4.999_999_999_996_667e-13),
        ];
        for (x, m, want) in cases {
            let got = bd0(x, m, m.ln());
            assert!(
                (got - want).abs() <= 1e-14 * want,
                "bd0({x}, {m}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn masses_sum_to_one() {
        for d in [Poisson::<f64>::new(3.7), Poisson::log_rate(1.2)] {
            let total: f64 = (0..200).map(|k| d.ln_pdf(k as f64).exp()).sum();
            assert!((total - 1.0).abs() < 1e-13, "{total}");
        }
    }

    #[test]
    fn sampling_moments() {
        // mean λ, var λ, μ₄ = λ + 3λ². λ = 3.5 and λ = 40 reach both of rand_distr's
        // samplers (Knuth's below 12, rejection above).
        let rate = 3.5;
        check_moments(
            &Poisson::<f64>::new(rate),
            rate,
            rate,
            rate + 3.0 * rate * rate,
            20,
        );
        let rate: f64 = 40.0;
        let d: Poisson = Poisson::log_rate(rate.ln());
        check_moments(&d, rate, rate, rate + 3.0 * rate * rate, 21);
    }
}
