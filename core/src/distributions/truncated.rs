//! Cumulative distribution functions, and distributions truncated to an interval.

use std::f64::consts::{FRAC_1_SQRT_2, LN_2, PI};

use rand::{Rng, RngExt};

use super::{
    Cauchy, Continuous, Distribution, Exponential, LN_SQRT_2PI, Normal, ObsVector, is_pos, neg_inf,
};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// A distribution with a cumulative distribution function, which can be truncated.
///
/// `ln_cdf` and `ln_ccdf` are generic over the model's scalar like
/// [`Distribution::ln_pdf`], with analytic partials in `x` and the parameters, and are
/// accurate in both tails (`ln_cdf` far below the median, `ln_ccdf` far above it).
/// The two inverses work on the parameters' values in `f64`, for sampling.
///
/// # Example
/// ```
/// use tilde_core::{Cdf, Distribution, Normal};
///
/// let d: Normal = Normal::new(0.0, 1.0);
/// assert!((d.ln_cdf(0.0) - 0.5f64.ln()).abs() < 1e-15);
/// // Φ(-40) ≈ 3.66e-350 underflows, its logarithm does not
/// assert!((d.ln_cdf(-40.0) - -804.608_442_013_753_8).abs() < 1e-12);
/// let t = d.truncated(0.0, f64::INFINITY); // the half-normal
/// assert!((t.ln_pdf(1.0) - (d.ln_pdf(1.0) + 2f64.ln())).abs() < 1e-15);
/// ```
pub trait Cdf: Distribution {
    /// `ln F(x) = ln P(X ≤ x)`; `-∞` when a parameter is outside its valid range.
    fn ln_cdf(&self, x: Self::Scalar) -> Self::Scalar;

    /// `ln(1 - F(x)) = ln P(X > x)`, accurate where `F(x)` is close to 1; `-∞` when a
    /// parameter is outside its valid range.
    fn ln_ccdf(&self, x: Self::Scalar) -> Self::Scalar;

    /// The `x` with `ln F(x) = ln_p`, at the parameters' values; NaN when a parameter is
    /// outside its valid range.
    fn inverse_ln_cdf(&self, ln_p: f64) -> f64;

    /// The `x` with `ln(1 - F(x)) = ln_q`, at the parameters' values; NaN when a
    /// parameter is outside its valid range.
    fn inverse_ln_ccdf(&self, ln_q: f64) -> f64;

    /// This distribution truncated to `[low, high]`; either bound may be infinite.
    /// See [`Truncated`].
    fn truncated(
        self,
        low: impl Into<Self::Scalar>,
        high: impl Into<Self::Scalar>,
    ) -> Truncated<Self>
    where
        Self: Sized,
    {
        Truncated::with_bounds(self, low, high)
    }
}

/// A distribution `g` truncated to `[low, high]` and renormalised.
///
/// Built with [`Cdf::truncated`] (`Normal::new(0.0, 1.0).truncated(0.0, 2.5)`) or, for
/// the normal, [`TruncatedNormal::new`](Truncated::<Normal<T>>::new). Either bound may
/// be infinite, and both may be scalars of the model.
///
/// # Density
/// ```text
/// ln f(x) = ln g(x) - ln(G(b) - G(a))
/// ```
/// with `G` the cumulative distribution function of `g`, `a = low` and `b = high`, for
/// `a ≤ x ≤ b`. The log-mass `ln(G(b) - G(a))` is formed from `ln G` below the median
/// and from `ln(1 - G)` above it (`ln(e^u - e^v) = u + ln(1 - e^{v - u})`), so a
/// truncation far in either tail keeps its accuracy; an interval around the median uses
/// `ln(1 - G(a) - (1 - G(b)))`. Its partials reach the parameters and the bounds through
/// the nodes of [`Cdf::ln_cdf`] and [`Cdf::ln_ccdf`].
///
/// The support of a latent site is the intersection of `[low, high]` with the support
/// of `g`, open as every latent support is.
///
/// # Parameters
/// Those of `g`, and `low < high`; otherwise `ln_pdf` is `-∞`, as it is when the
/// interval holds no mass of `g`.
///
/// # Example
/// ```
/// use tilde_core::{Cdf, Distribution, Exponential, TruncatedNormal};
///
/// let d: TruncatedNormal = TruncatedNormal::new(0.0, 1.0, -1.0, 2.0);
/// // φ(0.5) / (Φ(2) - Φ(-1))
/// assert!((d.ln_pdf(0.5) - -0.843_772_238_880_210_2).abs() < 1e-15);
/// // memoryless: the exponential truncated to [1, ∞) is a shifted exponential
/// let e: Exponential = Exponential::new(2.0);
/// let t = e.truncated(1.0, f64::INFINITY);
/// assert!((t.ln_pdf(1.5) - e.ln_pdf(0.5)).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Truncated<D: Distribution> {
    dist: D,
    low: D::Scalar,
    high: D::Scalar,
}

/// The normal distribution truncated to `[low, high]`, built by
/// [`TruncatedNormal::new`](Truncated::<Normal<T>>::new).
pub type TruncatedNormal<T = f64> = Truncated<Normal<T>>;

impl<D: Distribution> Truncated<D> {
    /// `dist` truncated to `[low, high]`; never fails (see the type's `# Parameters`).
    /// [`Cdf::truncated`] is the usual way to write it.
    #[inline]
    pub fn with_bounds(dist: D, low: impl Into<D::Scalar>, high: impl Into<D::Scalar>) -> Self {
        Truncated {
            dist,
            low: low.into(),
            high: high.into(),
        }
    }

    /// `dist` truncated to `[low, high]`, with the bounds checked.
    ///
    /// # Errors
    /// [`ParamError`] when a bound is NaN or `high <= low`.
    pub fn try_with_bounds(
        dist: D,
        low: impl Into<D::Scalar>,
        high: impl Into<D::Scalar>,
    ) -> Result<Self, ParamError> {
        let d = Self::with_bounds(dist, low, high);
        ParamError::require("low", "not NaN", d.low, |v| !v.is_nan())?;
        let low = d.low.value();
        ParamError::require("high", "greater than low", d.high, |h| h > low)?;
        Ok(d)
    }

    /// The distribution before truncation.
    pub fn dist(&self) -> &D {
        &self.dist
    }

    /// The lower bound `a`.
    pub fn low(&self) -> D::Scalar {
        self.low
    }

    /// The upper bound `b`.
    pub fn high(&self) -> D::Scalar {
        self.high
    }

    /// `true` when `a ≤ x ≤ b` (false for NaN).
    #[inline]
    fn contains(&self, x: f64) -> bool {
        self.low.value() <= x && x <= self.high.value()
    }
}

impl<T: Real> Truncated<Normal<T>> {
    /// A normal distribution with mean `loc` and standard deviation `scale` truncated to
    /// `[low, high]`; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(
        loc: impl Into<T>,
        scale: impl Into<T>,
        low: impl Into<T>,
        high: impl Into<T>,
    ) -> Self {
        Normal::new(loc, scale).truncated(low, high)
    }

    /// A truncated normal distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `loc` is not finite, `scale` is not positive and finite, a
    /// bound is NaN or `high <= low`.
    pub fn try_new(
        loc: impl Into<T>,
        scale: impl Into<T>,
        low: impl Into<T>,
        high: impl Into<T>,
    ) -> Result<Self, ParamError> {
        Self::try_with_bounds(Normal::try_new(loc, scale)?, low, high)
    }
}

impl<D: Cdf> Truncated<D> {
    /// `ln(G(b) - G(a))`, the log-mass of `[a, b]` under `g`; `None` when the bounds are
    /// not ordered or the mass is zero or not finite.
    fn ln_mass(&self) -> Option<D::Scalar> {
        let (a, b) = (self.low, self.high);
        if a.value().is_nan() || b.value().is_nan() || a >= b {
            return None;
        }
        let ln_mass = match (a.value() == f64::NEG_INFINITY, b.value() == f64::INFINITY) {
            (true, true) => D::Scalar::from(0.0),
            (true, false) => self.dist.ln_cdf(b),
            (false, true) => self.dist.ln_ccdf(a),
            (false, false) => {
                let ln_cdf_a = self.dist.ln_cdf(a);
                if ln_cdf_a.value() > -LN_2 {
                    // both bounds above the median: from the upper tail
                    log_diff_exp(self.dist.ln_ccdf(a), self.dist.ln_ccdf(b))
                } else {
                    let ln_cdf_b = self.dist.ln_cdf(b);
                    if ln_cdf_b.value() <= -LN_2 {
                        log_diff_exp(ln_cdf_b, ln_cdf_a)
                    } else {
                        // around the median: 1 - G(a) - (1 - G(b))
                        (-(ln_cdf_a.exp() + self.dist.ln_ccdf(b).exp())).ln_1p()
                    }
                }
            }
        };
        ln_mass.is_finite().then_some(ln_mass)
    }
}

/// `ln(e^u - e^v)` for `v ≤ u`; `-∞` when `v = u` or `u = -∞`.
#[inline]
fn log_diff_exp<T: Real>(u: T, v: T) -> T {
    if v.value() == f64::NEG_INFINITY {
        return u;
    }
    if u.value().is_nan() || v.value().is_nan() || v >= u {
        return neg_inf();
    }
    u + (v - u).log1m_exp()
}

impl<D: Cdf> Distribution for Truncated<D> {
    type Scalar = D::Scalar;

    /// `g`'s node minus the log-mass, whose nodes carry the partials in the parameters
    /// and the bounds.
    fn ln_pdf(&self, x: D::Scalar) -> D::Scalar {
        if !self.contains(x.value()) {
            return neg_inf();
        }
        let Some(ln_mass) = self.ln_mass() else {
            return neg_inf();
        };
        let base = self.dist.ln_pdf(x);
        if base.value() == f64::NEG_INFINITY {
            return neg_inf();
        }
        base - ln_mass
    }

    /// As `ln_pdf`, with `g`'s `ln_pdf_obs`.
    fn ln_pdf_obs(&self, x: f64) -> D::Scalar {
        if !self.contains(x) {
            return neg_inf();
        }
        let Some(ln_mass) = self.ln_mass() else {
            return neg_inf();
        };
        let base = self.dist.ln_pdf_obs(x);
        if base.value() == f64::NEG_INFINITY {
            return neg_inf();
        }
        base - ln_mass
    }

    fn support(&self) -> Support<D::Scalar> {
        let zero = || D::Scalar::from(0.0);
        let (mut lower, mut upper) = match self.dist.support() {
            Support::Positive => (Some(zero()), None),
            Support::GreaterThan(a) => (Some(a), None),
            Support::LessThan(b) => (None, Some(b)),
            Support::UnitInterval => (Some(zero()), Some(D::Scalar::from(1.0))),
            Support::Interval(a, b) => (Some(a), Some(b)),
            _ => (None, None),
        };
        if self.low.value() > f64::NEG_INFINITY && lower.is_none_or(|a| self.low > a) {
            lower = Some(self.low);
        }
        if self.high.value() < f64::INFINITY && upper.is_none_or(|b| self.high < b) {
            upper = Some(self.high);
        }
        match (lower, upper) {
            (None, None) => Support::Real,
            (Some(a), None) => Support::GreaterThan(a),
            (None, Some(b)) => Support::LessThan(b),
            (Some(a), Some(b)) => Support::Interval(a, b),
        }
    }

    /// `g`'s `ln_pdf_sum` minus `n` times the log-mass.
    fn ln_pdf_sum(&self, xs: &[D::Scalar]) -> D::Scalar {
        if xs.iter().any(|x| !self.contains(x.value())) {
            return neg_inf();
        }
        let Some(ln_mass) = self.ln_mass() else {
            return neg_inf();
        };
        let base = self.dist.ln_pdf_sum(xs);
        if base.value() == f64::NEG_INFINITY {
            return neg_inf();
        }
        base - ln_mass * xs.len() as f64
    }

    /// `g`'s `ln_pdf_obs_sum` minus `n` times the log-mass.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> D::Scalar {
        if (0..ys.len()).any(|i| !self.contains(ys.get_f64(i))) {
            return neg_inf();
        }
        let Some(ln_mass) = self.ln_mass() else {
            return neg_inf();
        };
        let base = self.dist.ln_pdf_obs_sum(ys);
        if base.value() == f64::NEG_INFINITY {
            return neg_inf();
        }
        base - ln_mass * ys.len() as f64
    }
}

impl<D: Cdf + Continuous> Continuous for Truncated<D> {}

impl<D: Cdf> rand::distr::Distribution<f64> for Truncated<D> {
    /// By inversion: a uniform draw between `G(a)` and `G(b)`, formed in log space from
    /// the tail that holds the interval, mapped back by [`Cdf::inverse_ln_cdf`] or
    /// [`Cdf::inverse_ln_ccdf`]. The log-CDFs are evaluated in the distribution's scalar
    /// at the bounds' values. NaN when the parameters are invalid or the interval holds
    /// no mass.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let (a, b) = (self.low.value(), self.high.value());
        if a.is_nan() || b.is_nan() || a >= b {
            return f64::NAN;
        }
        let ln_cdf = |x: f64| match x {
            f64::NEG_INFINITY => f64::NEG_INFINITY,
            f64::INFINITY => 0.0,
            x => self.dist.ln_cdf(D::Scalar::from(x)).value(),
        };
        let ln_ccdf = |x: f64| match x {
            f64::NEG_INFINITY => 0.0,
            f64::INFINITY => f64::NEG_INFINITY,
            x => self.dist.ln_ccdf(D::Scalar::from(x)).value(),
        };
        let u: f64 = rng.random();
        let ln_cdf_a = ln_cdf(a);
        let x = if ln_cdf_a > -LN_2 {
            let ln_q = ln_between(ln_ccdf(a), ln_ccdf(b), u);
            self.dist.inverse_ln_ccdf(ln_q)
        } else {
            let ln_p = ln_between(ln_cdf(b), ln_cdf_a, u);
            self.dist.inverse_ln_cdf(ln_p)
        };
        if x.is_nan() { x } else { x.clamp(a, b) }
    }
}

/// `ln(e^lo + u (e^hi - e^lo))` for `lo < hi` and `u ∈ [0, 1)`; NaN when `lo < hi`
/// fails.
#[inline]
fn ln_between(hi: f64, lo: f64, u: f64) -> f64 {
    if lo.is_nan() || hi.is_nan() || lo >= hi {
        return f64::NAN;
    }
    let r = (lo - hi).exp();
    hi + (r + u * (1.0 - r)).ln()
}

/// A log-CDF node of a location-scale family: `ln F(x) = h(z)` with `z = (x - μ)/σ`,
/// from `h(z)` and `h'(z)` (`upper` for a log-CCDF). The partials are
/// `∂/∂x = h'/σ`, `∂/∂μ = -h'/σ`, `∂/∂σ = -z h'/σ`; at `z = ±∞` the value is `0` or
/// `-∞`, with no partials.
#[inline]
pub(super) fn loc_scale_cdf<T: Real>(
    x: T,
    loc: T,
    scale: T,
    upper: bool,
    h: impl Fn(f64) -> (f64, f64),
) -> T {
    if !is_pos(scale) || !loc.is_finite() || x.value().is_nan() {
        return neg_inf();
    }
    let s = scale.value();
    let z = (x.value() - loc.value()) / s;
    if z.is_infinite() {
        return T::from(if (z > 0.0) != upper {
            0.0
        } else {
            f64::NEG_INFINITY
        });
    }
    let (value, d_z) = h(z);
    if !value.is_finite() {
        return neg_inf();
    }
    T::fused(
        value,
        [(x, d_z / s), (loc, -d_z / s), (scale, -d_z * z / s)],
    )
}

/// Below this `z`, `ln Φ(z)` switches from `erfc` (which would underflow near
/// `z = -38.5`) to the asymptotic series of Mills' ratio.
const NORMAL_SERIES_BELOW: f64 = -28.0;

/// `(ln Φ(z), φ(z)/Φ(z))` for the standard normal, accurate in both tails.
///
/// Above 0 it is `ln(1 - Φ(-z))` by `ln_1p`; on `[-28, 0]` it is `ln(erfc(-z/√2)/2)`
/// (musl's `erfc` keeps its relative accuracy there); below, the asymptotic series
/// `Φ(z) = φ(z)/(-z) · Σₖ (-1)ᵏ (2k - 1)!! / z^{2k}`, whose twelfth term is below 1e-23
/// for `z ≤ -28`, and whose ratio `φ/Φ = -z / Σ` needs no exponentials.
pub(super) fn ln_std_normal_cdf(z: f64) -> (f64, f64) {
    if z > 0.0 {
        let tail = 0.5 * libm::erfc(z * FRAC_1_SQRT_2);
        let density = (-0.5 * z * z - LN_SQRT_2PI).exp();
        ((-tail).ln_1p(), density / (1.0 - tail))
    } else if z >= NORMAL_SERIES_BELOW {
        let ln_cdf = (0.5 * libm::erfc(-z * FRAC_1_SQRT_2)).ln();
        (ln_cdf, (-0.5 * z * z - LN_SQRT_2PI - ln_cdf).exp())
    } else if z.is_nan() {
        (f64::NAN, f64::NAN)
    } else {
        let r = (z * z).recip();
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..=12 {
            term *= -f64::from(2 * k - 1) * r;
            sum += term;
        }
        let value = -0.5 * z * z - (-z).ln() - LN_SQRT_2PI + sum.ln();
        (value, -z / sum)
    }
}

/// Wichura's AS 241 (PPND16) coefficients: numerator and denominator of the central
/// region `|p - ½| ≤ 0.425`, in powers of `r = 0.180625 - (p - ½)²`.
const AS241_A: [f64; 8] = [
    3.3871328727963665,
    133.14166789178438,
    1971.5909503065513,
    13731.69376550946,
    45921.95393154987,
    67265.7709270087,
    33430.57558358813,
    2509.0809287301227,
];
const AS241_B: [f64; 8] = [
    1.0,
    42.31333070160091,
    687.1870074920579,
    5394.196021424751,
    21213.794301586597,
    39307.89580009271,
    28729.085735721943,
    5226.495278852546,
];
/// The intermediate tail, `r = √(-ln p) - 1.6 ≤ 3.4`.
const AS241_C: [f64; 8] = [
    1.4234371107496835,
    4.630337846156546,
    5.769497221460691,
    3.6478483247632045,
    1.2704582524523684,
    0.2417807251774506,
    0.022723844989269184,
    0.0007745450142783414,
];
const AS241_D: [f64; 8] = [
    1.0,
    2.053191626637759,
    1.6763848301838038,
    0.6897673349851,
    0.14810397642748008,
    0.015198666563616457,
    0.0005475938084995345,
    1.0507500716444169e-09,
];
/// The far tail, `r = √(-ln p) - 5`.
const AS241_E: [f64; 8] = [
    6.657904643501103,
    5.463784911164114,
    1.7848265399172913,
    0.29656057182850487,
    0.026532189526576124,
    0.0012426609473880784,
    2.7115555687434876e-05,
    2.0103343992922881e-07,
];
const AS241_F: [f64; 8] = [
    1.0,
    0.599832206555888,
    0.1369298809227358,
    0.014875361290850615,
    0.0007868691311456133,
    1.8463183175100548e-05,
    1.421511758316446e-07,
    2.0442631033899397e-15,
];

/// `c₀ + c₁ r + … + c₇ r⁷`.
#[inline]
fn poly8(c: &[f64; 8], r: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * r + ci)
}

/// The standard normal quantile at `p = e^{ln_p}`: `Φ⁻¹(p)`.
///
/// Wichura's AS 241 (relative accuracy about 1e-16), fed `ln p` or `ln(1 - p)` directly
/// in the tails so that neither is rounded through `p`. Beyond `ln p = -680`, where
/// AS 241 was not fitted, two Newton steps on `ln Φ(x) = ln p` polish the result.
pub(super) fn std_normal_inverse_ln_cdf(ln_p: f64) -> f64 {
    if ln_p.is_nan() || ln_p > 0.0 {
        return f64::NAN;
    }
    if ln_p == 0.0 {
        return f64::INFINITY;
    }
    if ln_p == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let q = ln_p.exp() - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly8(&AS241_A, r) / poly8(&AS241_B, r);
    }
    // ln of the smaller tail, min(p, 1 - p)
    let ln_tail = if q < 0.0 { ln_p } else { (-ln_p.exp_m1()).ln() };
    let r = (-ln_tail).sqrt();
    let mut x = -if r <= 5.0 {
        poly8(&AS241_C, r - 1.6) / poly8(&AS241_D, r - 1.6)
    } else {
        poly8(&AS241_E, r - 5.0) / poly8(&AS241_F, r - 5.0)
    };
    if ln_tail < -680.0 {
        for _ in 0..2 {
            let (value, ratio) = ln_std_normal_cdf(x);
            x -= (value - ln_tail) / ratio;
        }
    }
    if q < 0.0 { x } else { -x }
}

impl<T: Real> Cdf for Normal<T> {
    /// One node: `h(z) = ln Φ(z)` with `z = (x - μ)/σ` and `h'(z) = φ(z)/Φ(z)`;
    /// `∂/∂x = h'/σ`, `∂/∂μ = -h'/σ`, `∂/∂σ = -z h'/σ`.
    fn ln_cdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc(), self.scale(), false, ln_std_normal_cdf)
    }

    /// One node: `ln Φ(-z)`, with `h'(z) = -φ(z)/Φ(-z)`.
    fn ln_ccdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc(), self.scale(), true, |z| {
            let (value, ratio) = ln_std_normal_cdf(-z);
            (value, -ratio)
        })
    }

    fn inverse_ln_cdf(&self, ln_p: f64) -> f64 {
        if !is_pos(self.scale()) || !self.loc().is_finite() {
            return f64::NAN;
        }
        self.loc().value() + self.scale().value() * std_normal_inverse_ln_cdf(ln_p)
    }

    fn inverse_ln_ccdf(&self, ln_q: f64) -> f64 {
        if !is_pos(self.scale()) || !self.loc().is_finite() {
            return f64::NAN;
        }
        self.loc().value() - self.scale().value() * std_normal_inverse_ln_cdf(ln_q)
    }
}

impl<T: Real> Cdf for Exponential<T> {
    /// One node: `ln(1 - e^{-λx})`, `∂/∂x = λ/(e^{λx} - 1)`, `∂/∂λ = x/(e^{λx} - 1)`;
    /// `-∞` for `x ≤ 0`.
    fn ln_cdf(&self, x: T) -> T {
        let rate = self.rate();
        if !is_pos(rate) || x.value().is_nan() || x <= 0.0 {
            return neg_inf();
        }
        if x.value() == f64::INFINITY {
            return T::from(0.0);
        }
        let (lambda, x_value) = (rate.value(), x.value());
        let t = lambda * x_value;
        let ratio = t.exp_m1().recip();
        T::fused(
            (-t).log1m_exp(),
            [(x, lambda * ratio), (rate, x_value * ratio)],
        )
    }

    /// One node: `-λx`, `∂/∂x = -λ`, `∂/∂λ = -x`; `0` for `x ≤ 0`.
    fn ln_ccdf(&self, x: T) -> T {
        let rate = self.rate();
        if !is_pos(rate) || x.value().is_nan() || x.value() == f64::INFINITY {
            return neg_inf();
        }
        if x <= 0.0 {
            return T::from(0.0);
        }
        let (lambda, x_value) = (rate.value(), x.value());
        T::fused(-lambda * x_value, [(x, -lambda), (rate, -x_value)])
    }

    fn inverse_ln_cdf(&self, ln_p: f64) -> f64 {
        if !is_pos(self.rate()) {
            return f64::NAN;
        }
        -ln_p.log1m_exp() / self.rate().value()
    }

    fn inverse_ln_ccdf(&self, ln_q: f64) -> f64 {
        if !is_pos(self.rate()) {
            return f64::NAN;
        }
        -ln_q / self.rate().value()
    }
}

/// `(ln F(z), f(z)/F(z))` for the standard Cauchy, `F(z) = ½ + atan(z)/π`, accurate in
/// both tails: below the median `F(z) = atan2(1, -z)/π` keeps its relative accuracy.
fn ln_std_cauchy_cdf(z: f64) -> (f64, f64) {
    let cdf = if z <= 0.0 {
        (1.0f64).atan2(-z) / PI
    } else {
        1.0 - (1.0f64).atan2(z) / PI
    };
    let ln_cdf = if z <= 0.0 {
        cdf.ln()
    } else {
        (-(1.0f64).atan2(z) / PI).ln_1p()
    };
    // f(z) = 1/(π(1 + z²)), divided through by z² when |z| > 1 so that nothing overflows
    let density = if z.abs() > 1.0 {
        let w = z.recip();
        w * w / (PI * (1.0 + w * w))
    } else {
        1.0 / (PI * (1.0 + z * z))
    };
    (ln_cdf, density / cdf)
}

/// The standard Cauchy quantile at `p = e^{ln_p}`: `-1/tan(πp)` below the median and
/// `1/tan(π(1 - p))` above it, with `1 - p` formed from `ln p` by `exp_m1`.
fn std_cauchy_inverse_ln_cdf(ln_p: f64) -> f64 {
    if ln_p.is_nan() || ln_p > 0.0 {
        return f64::NAN;
    }
    let p = ln_p.exp();
    if p < 0.5 {
        -(PI * p).tan().recip()
    } else {
        (PI * -ln_p.exp_m1()).tan().recip()
    }
}

impl<T: Real> Cdf for Cauchy<T> {
    /// One node: `ln F(z)` with `z = (x - μ)/σ` and `h'(z) = f(z)/F(z)`.
    fn ln_cdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc(), self.scale(), false, ln_std_cauchy_cdf)
    }

    /// One node: `ln F(-z)`, with `h'(z) = -f(z)/F(-z)`.
    fn ln_ccdf(&self, x: T) -> T {
        loc_scale_cdf(x, self.loc(), self.scale(), true, |z| {
            let (value, ratio) = ln_std_cauchy_cdf(-z);
            (value, -ratio)
        })
    }

    fn inverse_ln_cdf(&self, ln_p: f64) -> f64 {
        if !is_pos(self.scale()) || !self.loc().is_finite() {
            return f64::NAN;
        }
        self.loc().value() + self.scale().value() * std_cauchy_inverse_ln_cdf(ln_p)
    }

    fn inverse_ln_ccdf(&self, ln_q: f64) -> f64 {
        if !is_pos(self.scale()) || !self.loc().is_finite() {
            return f64::NAN;
        }
        self.loc().value() - self.scale().value() * std_cauchy_inverse_ln_cdf(ln_q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::{check_moments, check_quantiles};

    /// `ln Φ(z)` and `φ(z)/Φ(z)` from mpmath at 40 digits, on both sides of the switch
    /// to the series at -28 and in the upper tail.
    #[test]
    fn ln_std_normal_cdf_reference_values() {
        let cases = [
            (-1e3, -500_007.826_694_812_2, 1_000.000_999_998),
            (-40.0, -804.608_442_013_753_8, 40.024_968_847_207_26),
            (-28.5, -410.395_070_002_025_6, 28.535_001_849_988_532),
            (-28.0, -396.252_414_511_631_04, 28.035_623_753_469_084),
            (-27.5, -382.359_442_508_889_83, 27.536_268_097_748_255),
            (-10.0, -53.231_285_150_512_47, 10.098_093_233_962_512),
            (-1.0, -1.841_021_645_009_263_5, 1.525_135_276_160_981),
            (0.0, -std::f64::consts::LN_2, 0.797_884_560_802_865_4),
            (1.5, -0.069_143_455_612_233_98, 0.138_789_750_458_850_76),
            (
                9.0,
                -1.128_588_405_953_840_6e-19,
                1.027_977_357_166_891_5e-18,
            ),
        ];
        for (z, want, want_ratio) in cases {
            let (got, ratio) = ln_std_normal_cdf(z);
            assert!(
                (got - want).abs() <= 1e-14 * want.abs(),
                "z = {z}: {got} vs {want}"
            );
            assert!(
                (ratio - want_ratio).abs() <= 1e-12 * want_ratio,
                "z = {z}: ratio {ratio} vs {want_ratio}"
            );
        }
    }

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        for x in [
            -300.0, -45.0, -38.0, -20.0, -5.5, -2.0, -0.3, 0.0, 1e-3, 0.9, 3.0, 7.9,
        ] {
            let d: Normal = Normal::new(0.0, 1.0);
            let back = d.inverse_ln_cdf(d.ln_cdf(x));
            assert!((back - x).abs() <= 1e-13 * x.abs().max(1.0), "{x}: {back}");
            let back = d.inverse_ln_ccdf(d.ln_ccdf(-x));
            assert!((back + x).abs() <= 1e-13 * x.abs().max(1.0), "{x}: {back}");
        }
        let d: Normal = Normal::new(1.0, 2.0);
        assert_eq!(d.inverse_ln_cdf(0.0), f64::INFINITY);
        assert_eq!(d.inverse_ln_cdf(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(d.inverse_ln_cdf(0.5).is_nan());
        // Φ⁻¹(0.975) from mpmath
        let q = Normal::<f64>::new(0.0, 1.0).inverse_ln_cdf(0.975f64.ln());
        assert!((q - 1.959_963_984_540_054).abs() < 1e-15);
    }

    #[test]
    fn cauchy_and_exponential_cdfs() {
        let c: Cauchy = Cauchy::new(1.0, 2.0);
        for x in [-30.0, -1.0, 1.0, 2.5, 40.0] {
            let z: f64 = (x - 1.0) / 2.0;
            let want = 0.5 + z.atan() / PI;
            let got = c.ln_cdf(x).exp();
            assert!((got - want).abs() <= 1e-14 * want, "{x}: {got} vs {want}");
            let got = c.ln_ccdf(x).exp();
            assert!(
                (got - (1.0 - want)).abs() <= 1e-14 * want.max(1e-16 / (1.0 - want)),
                "{x}"
            );
            let back = c.inverse_ln_cdf(c.ln_cdf(x));
            assert!((back - x).abs() <= 1e-12 * x.abs(), "{x}: {back}");
            let back = c.inverse_ln_ccdf(c.ln_ccdf(x));
            assert!((back - x).abs() <= 1e-12 * x.abs(), "{x}: {back}");
        }
        // far tails, where ½ + atan(z)/π cancels: F(-z) = 1 - F(z) ≈ 1/(πz) - 1/(3πz³)
        for x in [-1e10 + 1.0, -4e8 + 1.0] {
            let z = (1.0 - x) / 2.0;
            let want = (1.0 / (PI * z) - 1.0 / (3.0 * PI * z * z * z)).ln();
            assert!((c.ln_cdf(x) - want).abs() < 1e-15 * want.abs(), "{x}");
            assert!(
                (c.ln_ccdf(2.0 - x) - want).abs() < 1e-15 * want.abs(),
                "{x}"
            );
            let back = c.inverse_ln_cdf(c.ln_cdf(x));
            assert!((back - x).abs() <= 1e-13 * x.abs(), "{x}: {back}");
        }
        let e: Exponential = Exponential::new(0.5);
        for x in [1e-12, 0.3, 2.0, 80.0] {
            let want = -(-0.5 * x).exp_m1();
            assert!((e.ln_cdf(x).exp() - want).abs() <= 1e-15 * want, "{x}");
            assert_eq!(e.ln_ccdf(x), -0.5 * x);
            let back = e.inverse_ln_cdf(e.ln_cdf(x));
            assert!((back - x).abs() <= 1e-13 * x, "{x}: {back}");
            assert!((e.inverse_ln_ccdf(e.ln_ccdf(x)) - x).abs() <= 1e-15 * x);
        }
        assert_eq!(e.ln_cdf(-1.0), f64::NEG_INFINITY);
        assert_eq!(e.ln_ccdf(-1.0), 0.0);
    }

    #[test]
    fn constructor_checks() {
        assert!(TruncatedNormal::<f64>::try_new(0.0, 1.0, -1.0, 1.0).is_ok());
        assert!(TruncatedNormal::<f64>::try_new(0.0, 1.0, f64::NEG_INFINITY, 1.0).is_ok());
        for (low, high) in [(1.0, 1.0), (2.0, 1.0), (f64::NAN, 1.0), (0.0, f64::NAN)] {
            assert!(
                TruncatedNormal::<f64>::try_new(0.0, 1.0, low, high).is_err(),
                "({low}, {high})"
            );
            let d: TruncatedNormal = TruncatedNormal::new(0.0, 1.0, low, high);
            assert_eq!(d.ln_pdf(1.0), f64::NEG_INFINITY, "({low}, {high})");
            assert_eq!(d.ln_pdf_obs(1.0), f64::NEG_INFINITY, "({low}, {high})");
        }
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(TruncatedNormal::<f64>::try_new(0.0, bad, -1.0, 1.0).is_err());
            let d: TruncatedNormal = TruncatedNormal::new(0.0, bad, -1.0, 1.0);
            assert_eq!(d.ln_pdf(0.5), f64::NEG_INFINITY, "scale {bad}");
        }
        // an interval without mass
        let e: Exponential = Exponential::new(1.0);
        assert_eq!(e.truncated(-3.0, -1.0).ln_pdf(-2.0), f64::NEG_INFINITY);
    }

    #[test]
    fn support_is_the_intersection() {
        let e: Exponential = Exponential::new(1.0);
        assert_eq!(
            e.truncated(-1.0, 2.0).support(),
            Support::Interval(0.0, 2.0)
        );
        assert_eq!(
            e.truncated(1.0, f64::INFINITY).support(),
            Support::GreaterThan(1.0)
        );
        assert_eq!(
            e.truncated(f64::NEG_INFINITY, f64::INFINITY).support(),
            Support::GreaterThan(0.0)
        );
        let n: Normal = Normal::new(0.0, 1.0);
        assert_eq!(
            n.truncated(f64::NEG_INFINITY, 3.0).support(),
            Support::LessThan(3.0)
        );
        assert_eq!(
            n.truncated(f64::NEG_INFINITY, f64::INFINITY).support(),
            Support::Real
        );
        let t = n.truncated(-1.0, 1.0);
        for x in [-1.0, 1.0, 0.0] {
            assert!(t.ln_pdf(x).is_finite(), "{x}: the interval is closed");
        }
        for x in [-1.5, 1.0 + 1e-15, f64::NAN, f64::INFINITY] {
            assert_eq!(t.ln_pdf(x), f64::NEG_INFINITY, "{x}");
        }
    }

    #[test]
    fn untruncated_is_the_distribution() {
        let n: Normal = Normal::new(1.0, 2.0);
        let t = n.truncated(f64::NEG_INFINITY, f64::INFINITY);
        assert_eq!(t.ln_pdf(0.3), n.ln_pdf(0.3));
        assert_eq!(t.ln_pdf_obs_sum(&[0.3, 2.0]), n.ln_pdf_obs_sum(&[0.3, 2.0]));
    }

    /// `Q(x) = P(Z > x)` by `erfc`, independent of the code under test.
    fn upper(x: f64) -> f64 {
        0.5 * libm::erfc(x * FRAC_1_SQRT_2)
    }

    #[test]
    fn sampling_quantiles() {
        // A central interval, one in the far upper tail (Φ(10) rounds to 1), one in the
        // far lower tail and a half-line: P(X ≤ q) = (Φ(q) - Φ(a)) / (Φ(b) - Φ(a)),
        // written with Q = 1 - Φ when the interval lies above the median.
        let intervals = [
            (-1.0, 2.0),
            (10.0, 11.0),
            (-9.0, -8.5),
            (3.0, f64::INFINITY),
        ];
        for (i, (a, b)) in intervals.into_iter().enumerate() {
            let d: TruncatedNormal = TruncatedNormal::new(0.0, 1.0, a, b);
            let width = if b.is_finite() { b - a } else { 2.0 };
            let qs: Vec<(f64, f64)> = [0.1, 0.3, 0.6, 0.9]
                .iter()
                .map(|f| {
                    let q = a + f * width;
                    let p = if a > 0.0 {
                        (upper(a) - upper(q)) / (upper(a) - upper(b))
                    } else {
                        (upper(-q) - upper(-a)) / (upper(-b) - upper(-a))
                    };
                    (q, p)
                })
                .collect();
            check_quantiles(&d, &qs, 40 + i as u64);
        }
    }

    #[test]
    fn sampling_moments_exponential() {
        // Exponential(λ) truncated to [a, ∞) is a + Exponential(λ).
        let e: Exponential = Exponential::new(2.0);
        let d = e.truncated(1.5, f64::INFINITY);
        check_moments(&d, 1.5 + 0.5, 0.25, 9.0 / 16.0, 44);
    }
}
