//! The von Mises distribution on the circle.

use std::f64::consts::PI;

use rand::{Rng, RngExt};

use super::pointwise::{self, Parts};
use super::{Continuous, Distribution, ObsVector};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// `ln 2π`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The von Mises distribution with mean direction `loc` and concentration
/// `concentration`, on the interval of length `2π` centred on `loc`.
///
/// # Density
/// ```text
/// ln f(x) = κ cos(x - μ) - ln(2π) - ln I₀(κ)
///         = -2κ sin²((x - μ)/2) - ln(2π) - ln(e^{-κ} I₀(κ))
/// ```
/// with `μ = loc`, `κ = concentration` and `I₀` the modified Bessel function of the
/// first kind of order 0, for `μ - π < x < μ + π`. The second form is the one evaluated:
/// it has no cancellation for large `κ`, and `ln(e^{-κ} I₀(κ))` comes from the power
/// series below `κ = 20` and from the asymptotic expansion above, both accurate to about
/// 1e-15. `κ = 0` is the uniform distribution on the circle.
///
/// The support moves with `loc`, so a latent site is the angle within `π` of its mean
/// direction; a model that needs a fixed window writes the data or the angle relative to
/// it.
///
/// # Parameters
/// `loc` finite, `concentration ≥ 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, VonMises};
///
/// let d: VonMises = VonMises::new(0.5, 0.0);
/// // κ = 0: uniform on (μ - π, μ + π)
/// assert!((d.ln_pdf(2.0) - -(2.0 * std::f64::consts::PI).ln()).abs() < 1e-15);
/// assert_eq!(d.ln_pdf(4.0), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VonMises<T = f64> {
    loc: T,
    concentration: T,
}

/// Below this concentration `ln I₀` and `I₁/I₀` come from the power series, above it
/// from the asymptotic expansion; both are accurate to a few ulp on either side.
const SERIES_BELOW: f64 = 20.0;

/// `(ln(e^{-κ} I₀(κ)), I₁(κ)/I₀(κ))` for `κ ≥ 0`.
///
/// For `κ < 20`: the power series `I₀(κ) = Σₖ (κ²/4)ᵏ/(k!)²` and
/// `I₁(κ) = (κ/2) Σₖ (κ²/4)ᵏ/(k! (k + 1)!)`, all of whose terms are positive; it stops
/// when a term falls below 1e-17 of the sum (at most 36 terms). For `κ ≥ 20`: the
/// expansion `Iᵥ(κ) ~ e^κ/√(2πκ) Σₖ (-1)ᵏ aₖ(ν)/κᵏ` with
/// `aₖ(ν) = Πⱼ₌₁ᵏ (4ν² - (2j - 1)²) / (k! 8ᵏ)`, summed until its terms fall below 1e-17
/// (at most 28 terms at `κ = 20`, where the smallest term is about 1e-18).
/// Against mpmath the relative error is below 2e-15 for both (see the tests).
pub(super) fn ln_i0e_and_ratio(kappa: f64) -> (f64, f64) {
    if kappa < SERIES_BELOW {
        let q = 0.25 * kappa * kappa;
        // I₀ - 1 and I₁/(κ/2) as sums, so that ln I₀ keeps its accuracy for small κ
        let (mut t0, mut s0_m1, mut t1, mut s1) = (1.0, 0.0, 1.0, 1.0);
        for j in 1..64 {
            let j = f64::from(j);
            t0 *= q / (j * j);
            t1 *= q / (j * (j + 1.0));
            s0_m1 += t0;
            s1 += t1;
            if t0 < 1e-17 * (1.0 + s0_m1) && t1 < 1e-17 * s1 {
                break;
            }
        }
        (s0_m1.ln_1p() - kappa, 0.5 * kappa * s1 / (1.0 + s0_m1))
    } else {
        let (mut t0, mut s0, mut t1, mut s1) = (1.0, 1.0, 1.0, 1.0);
        for j in 1..64 {
            let odd = f64::from(2 * j - 1).powi(2);
            let denom = 8.0 * f64::from(j) * kappa;
            let next0 = t0 * odd / denom;
            if next0 >= t0 {
                break;
            }
            t0 = next0;
            t1 *= (odd - 4.0) / denom;
            s0 += t0;
            s1 += t1;
            if t0 < 1e-17 * s0 && t1.abs() < 1e-17 * s1 {
                break;
            }
        }
        (s0.ln() - 0.5 * (LN_2PI + kappa.ln()), s1 / s0)
    }
}

impl<T: Real> VonMises<T> {
    /// A von Mises distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(loc: impl Into<T>, concentration: impl Into<T>) -> Self {
        VonMises {
            loc: loc.into(),
            concentration: concentration.into(),
        }
    }

    /// A von Mises distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `loc` is not finite or `concentration` is negative or not
    /// finite.
    pub fn try_new(loc: impl Into<T>, concentration: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(loc, concentration);
        ParamError::check_finite("loc", d.loc)?;
        ParamError::require(
            "concentration",
            "non-negative and finite",
            d.concentration,
            |v| v >= 0.0 && v.is_finite(),
        )?;
        Ok(d)
    }

    /// The mean direction `μ`.
    pub fn loc(&self) -> T {
        self.loc
    }

    /// The concentration `κ` (about `1/σ²` of the normal it tends to as `κ → ∞`).
    pub fn concentration(&self) -> T {
        self.concentration
    }

    #[inline]
    fn is_valid(&self) -> bool {
        self.loc.is_finite() && self.concentration >= 0.0 && self.concentration.is_finite()
    }

    /// `x ↦ ln f(x)` with `∂/∂x = -κ sin(x - μ)`, `∂/∂μ = κ sin(x - μ)`,
    /// `∂/∂κ = cos(x - μ) - I₁(κ)/I₀(κ)`; the Bessel terms are computed once.
    #[inline]
    fn parts(&self) -> impl Fn(f64) -> Option<Parts<2>> + use<T> {
        let valid = self.is_valid();
        let (mu, kappa) = (self.loc.value(), self.concentration.value());
        let (ln_i0e, ratio) = if valid {
            ln_i0e_and_ratio(kappa)
        } else {
            (f64::NAN, f64::NAN)
        };
        move |x| {
            let d = x - mu;
            if !valid || d.is_nan() || d.abs() >= PI {
                return None;
            }
            let half_sin = (0.5 * d).sin();
            let sin = d.sin();
            Parts {
                value: -2.0 * kappa * half_sin * half_sin - LN_2PI - ln_i0e,
                d_x: -kappa * sin,
                d_params: [kappa * sin, d.cos() - ratio],
            }
            .finite()
        }
    }
}

impl<T: Real> Distribution for VonMises<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -κ sin(x - μ)`, `∂/∂μ = κ sin(x - μ)`,
    /// `∂/∂κ = cos(x - μ) - I₁(κ)/I₀(κ)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        pointwise::latent([self.loc, self.concentration], x, self.parts())
    }

    /// One node with the partials of `ln_pdf` for `μ` and `κ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        pointwise::observed([self.loc, self.concentration], x, self.parts())
    }

    fn support(&self) -> Support<T> {
        Support::Interval(self.loc - PI, self.loc + PI)
    }

    /// One node: the partials of `ln_pdf` summed over the values.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        pointwise::latent_sum([self.loc, self.concentration], xs, self.parts())
    }

    /// One node: the partials of `ln_pdf_obs` summed over the values.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.loc, self.concentration], ys, self.parts())
    }
}

impl<T: Real> Continuous for VonMises<T> {}

impl<T: Real> rand::distr::Distribution<f64> for VonMises<T> {
    /// Best and Fisher's (1979) rejection sampler in the form NumPy uses: uniform for
    /// `κ < 1e-8` and the normal approximation `N(μ, 1/κ)` (wrapped) above `κ = 1e6`,
    /// where the rejection step loses accuracy. The draw lies within `π` of `μ`.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let (mu, kappa) = (self.loc.value(), self.concentration.value());
        if kappa < 1e-8 {
            return mu + PI * (2.0 * rng.random::<f64>() - 1.0);
        }
        if kappa > 1e6 {
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            let d = z / kappa.sqrt();
            // wrap into (-π, π]; a deviation of π needs z beyond 3000
            return mu + (d + PI).rem_euclid(2.0 * PI) - PI;
        }
        let s = 0.5 / kappa;
        let r = s + (1.0 + s * s).sqrt();
        let w = loop {
            let u: f64 = rng.random();
            let v: f64 = rng.sample(rand::distr::Open01);
            let z = (PI * u).cos();
            let w = (1.0 + r * z) / (r + z);
            let y = kappa * (r - w);
            if y * (2.0 - y) - v >= 0.0 || (y / v).ln() + 1.0 - y >= 0.0 {
                break w;
            }
        };
        let angle = w.clamp(-1.0, 1.0).acos();
        if rng.random::<bool>() {
            mu + angle
        } else {
            mu - angle
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_quantiles;

    #[test]
    fn constructor_checks() {
        for good in [0.0, 1e-9, 3.0, 1e8] {
            assert!(VonMises::<f64>::try_new(0.0, good).is_ok(), "{good}");
        }
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(VonMises::<f64>::try_new(0.0, bad).is_err(), "kappa {bad}");
            assert_eq!(
                VonMises::<f64>::new(0.0, bad).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(VonMises::<f64>::try_new(bad, 1.0).is_err(), "loc {bad}");
            assert_eq!(
                VonMises::<f64>::new(bad, 1.0).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
    }

    #[test]
    fn outside_support() {
        let d: VonMises = VonMises::new(1.0, 2.0);
        for x in [1.0 - PI, 1.0 + PI, -3.0, 5.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
        assert_eq!(d.support(), Support::Interval(1.0 - PI, 1.0 + PI));
    }

    #[test]
    fn bessel_reference_values() {
        // ln I₀(κ) - κ and I₁(κ)/I₀(κ) from mpmath at 40 digits, on both sides of the
        // switch at κ = 20.
        let cases = [
            (0.0, 0.0, 0.0),
            (1e-3, -9.997_500_000_156_25e-4, 4.999_999_375_000_104e-4),
            (0.5, -0.438_450_280_814_518_7, 0.242_499_612_580_801_95),
            (3.0, -1.414_692_378_186_579, 0.809_985_293_956_504_5),
            (19.9, -2.407_850_181_378_648, 0.974_541_465_857_931_2),
            (20.0, -2.410_389_571_755_725_7, 0.974_670_507_889_807_1),
            (50.0, -2.872_424_498_128_195_4, 0.989_948_967_378_497_7),
            (1e4, -5.524_096_218_567_699, 0.999_949_998_749_875),
        ];
        for (kappa, want_ln, want_ratio) in cases {
            let (ln, ratio) = ln_i0e_and_ratio(kappa);
            assert!(
                (ln - want_ln).abs() <= 2e-15 * want_ln.abs(),
                "kappa {kappa}: {ln} vs {want_ln}"
            );
            assert!(
                (ratio - want_ratio).abs() <= 2e-15 * want_ratio,
                "kappa {kappa}: {ratio} vs {want_ratio}"
            );
        }
    }

    /// `P(X ≤ q)` by Simpson's rule on the density, 4000 panels.
    fn cdf(d: &VonMises, q: f64) -> f64 {
        let a = d.loc() - PI;
        let n = 4000;
        let h = (q - a) / n as f64;
        let f = |x: f64| d.ln_pdf(x).exp();
        let inner: f64 = (1..n)
            .map(|i| {
                let x = a + i as f64 * h;
                if i % 2 == 1 { 4.0 * f(x) } else { 2.0 * f(x) }
            })
            .sum();
        h / 3.0 * (f(a + 1e-12) + inner + f(q))
    }

    #[test]
    fn sampling_quantiles() {
        for (i, kappa) in [0.0, 0.4, 3.0, 60.0].into_iter().enumerate() {
            let d: VonMises = VonMises::new(0.7, kappa);
            let spread = if kappa > 1.0 { 2.0 / kappa.sqrt() } else { 2.5 };
            let qs: Vec<(f64, f64)> = [-1.0, -0.4, 0.0, 0.3, 0.9]
                .iter()
                .map(|f| {
                    let q = 0.7 + f * spread;
                    (q, cdf(&d, q))
                })
                .collect();
            check_quantiles(&d, &qs, 56 + i as u64);
        }
        // beyond the switch to the normal approximation
        let d: VonMises = VonMises::new(-2.0, 4e6);
        let sd = 0.5e-3;
        let qs = [
            (-2.0 - sd, 0.158_655_253_931_457_07),
            (-2.0, 0.5),
            (-2.0 + 2.0 * sd, 0.977_249_868_051_820_8),
        ];
        check_quantiles(&d, &qs, 60);
    }
}
