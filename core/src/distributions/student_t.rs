//! Student's t distribution.

use std::f64::consts::PI;

use rand::Rng;

use super::cauchy::{ln_1p_sq, ln_1p_sq_partials};
use super::{Continuous, Distribution, LN_SQRT_2PI, ObsVector, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::special::{digamma, lgamma};
use crate::support::Support;

/// Student's t distribution with `nu` degrees of freedom, location `loc` and scale `scale`.
///
/// # Density
/// ```text
/// ln f(x) = ln Γ((ν + 1)/2) - ln Γ(ν/2) - ½ ln(νπ) - ln σ
///           - (ν + 1)/2 · ln(1 + ((x - μ)/σ)² / ν)
/// ```
/// with `ν = nu`, `μ = loc` and `σ = scale`, for `x ∈ ℝ`. For `ν ≥ 30` the first three
/// terms are summed as `-ln √(2π)` plus the asymptotic series of
/// `ln Γ(a + ½) - ln Γ(a) - ½ ln a` at `a = ν/2`, which avoids the cancellation between
/// the two log-gamma values.
///
/// # Parameters
/// `nu > 0` and finite, `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, StudentT};
///
/// let d: StudentT = StudentT::new(1.0, 0.0, 1.0);
/// // with ν = 1 it is the standard Cauchy: -ln π at 0
/// assert!((d.ln_pdf(0.0) - -1.144_729_885_849_400_2).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentT<T = f64> {
    nu: T,
    loc: T,
    scale: T,
}

/// The coefficients `c₁, …, c₆` of the series `Σₖ cₖ a^{1-2k}` for
/// `ln Γ(a + ½) - ln Γ(a) - ½ ln a`, `cₖ = (2^{1-2k} - 2) B₂ₖ / (2k (2k - 1))`.
const SERIES: [f64; 6] = [
    -0.125,
    1.0 / 192.0,
    -1.0 / 640.0,
    17.0 / 14336.0,
    -31.0 / 18432.0,
    691.0 / 180_224.0,
];

/// `ln Γ((ν + 1)/2) - ln Γ(ν/2) - ½ ln(νπ)`.
#[inline]
pub(crate) fn ln_norm_const(nu: f64) -> f64 {
    if nu >= 30.0 {
        // ln Γ(a + ½) - ln Γ(a) = ½ ln a + Σₖ (2^{1-2k} - 2) B₂ₖ / (2k (2k - 1) a^{2k-1}),
        // a = ν/2; the ½ ln a cancels with -½ ln(νπ) up to -ln √(2π). Truncated after
        // a⁻¹¹, the first omitted term is below 1e-17 for a ≥ 15. The log-gamma branch
        // loses about ulp(ln Γ(ν/2)) to cancellation, a few 1e-15 just below the switch.
        let r = (nu * 0.5).recip();
        let r2 = r * r;
        let [c1, c2, c3, c4, c5, c6] = SERIES;
        let series = (((((r2 * c6 + c5) * r2 + c4) * r2 + c3) * r2 + c2) * r2 + c1) * r;
        series - LN_SQRT_2PI
    } else {
        lgamma((nu + 1.0) * 0.5) - lgamma(nu * 0.5) - (nu * PI).ln() * 0.5
    }
}

/// The derivative of [`ln_norm_const`] in `ν`, on the same two branches:
/// `½ ψ((ν + 1)/2) - ½ ψ(ν/2) - 1/(2ν)`, or the series differentiated term by term,
/// `-½ Σₖ (2k - 1) cₖ a^{-2k}` with `a = ν/2`.
#[inline]
pub(super) fn d_ln_norm_const(nu: f64) -> f64 {
    if nu >= 30.0 {
        let r2 = (nu * 0.5).recip().powi(2);
        let poly = SERIES
            .iter()
            .enumerate()
            .rev()
            .fold(0.0, |acc, (k, c)| acc * r2 + (2 * k + 1) as f64 * c);
        -0.5 * poly * r2
    } else {
        0.5 * (digamma((nu + 1.0) * 0.5) - digamma(nu * 0.5)) - 0.5 / nu
    }
}

impl<T: Real> StudentT<T> {
    /// A Student's t distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(nu: impl Into<T>, loc: impl Into<T>, scale: impl Into<T>) -> Self {
        StudentT {
            nu: nu.into(),
            loc: loc.into(),
            scale: scale.into(),
        }
    }

    /// A Student's t distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `nu` is not positive and finite, `loc` is not finite or
    /// `scale` is not positive and finite.
    pub fn try_new(
        nu: impl Into<T>,
        loc: impl Into<T>,
        scale: impl Into<T>,
    ) -> Result<Self, ParamError> {
        let d = Self::new(nu, loc, scale);
        ParamError::check_positive("nu", d.nu)?;
        ParamError::check_finite("loc", d.loc)?;
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The degrees of freedom `ν`.
    pub fn nu(&self) -> T {
        self.nu
    }

    /// The location `μ` (the median, and the mean when `ν > 1`).
    pub fn loc(&self) -> T {
        self.loc
    }

    /// The scale `σ`.
    pub fn scale(&self) -> T {
        self.scale
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.nu) && is_pos(self.scale) && self.loc.is_finite()
    }

    /// The parameters' values, for the `f64` computations of the log-density.
    #[inline]
    fn values(&self) -> Values {
        let nu = self.nu.value();
        Values {
            nu,
            loc: self.loc.value(),
            scale: self.scale.value(),
            sqrt_nu: nu.sqrt(),
            half_nu_1: (nu + 1.0) * 0.5,
        }
    }

    /// One node from `[value, ∂/∂ν, ∂/∂μ, ∂/∂σ]` ([`Values::sums`]) and further terms.
    #[inline]
    fn node<I: IntoIterator<Item = (T, f64)>>(&self, parts: [f64; 4], more: I) -> T {
        let [value, d_nu, d_loc, d_scale] = parts;
        let terms = [(self.nu, d_nu), (self.loc, d_loc), (self.scale, d_scale)];
        T::fused(value, terms.into_iter().chain(more))
    }
}

/// The parameters' values, with `√ν` and `h = (ν + 1)/2`.
#[derive(Clone, Copy)]
struct Values {
    nu: f64,
    loc: f64,
    scale: f64,
    sqrt_nu: f64,
    half_nu_1: f64,
}

impl Values {
    /// `u = (x - μ)/σ/√ν`: `ln f(x) = ln_norm_const(ν) - ln σ - h ln(1 + u²)`.
    #[inline]
    fn u(&self, x: f64) -> f64 {
        (x - self.loc) / self.scale / self.sqrt_nu
    }

    /// `(ln(1 + u²), g, u g)` at `x`, with `g = 2u/(1 + u²)`.
    #[inline]
    fn at(&self, x: f64) -> (f64, f64, f64) {
        let u = self.u(x);
        let (g, ug) = ln_1p_sq_partials(u);
        (ln_1p_sq(u), g, ug)
    }

    /// `∂/∂x` of the log-density at `x`: `-h g/(σ√ν)`.
    #[inline]
    fn d_x(&self, x: f64) -> f64 {
        -self.half_nu_1 * ln_1p_sq_partials(self.u(x)).0 / (self.scale * self.sqrt_nu)
    }

    /// `[value, ∂/∂ν, ∂/∂μ, ∂/∂σ]` of the joint log-density of `n` values, from the sums
    /// over them of the three components of [`at`](Self::at); `None` when the value is
    /// not finite.
    #[inline]
    fn sums(&self, n: f64, sum_ln: f64, sum_g: f64, sum_ug: f64) -> Option<[f64; 4]> {
        let (h, scale) = (self.half_nu_1, self.scale);
        let value = n * (ln_norm_const(self.nu) - scale.ln()) - h * sum_ln;
        let d_nu = n * d_ln_norm_const(self.nu) - 0.5 * sum_ln + h * sum_ug / (2.0 * self.nu);
        let d_loc = h * sum_g / (scale * self.sqrt_nu);
        let d_scale = (h * sum_ug - n) / scale;
        value.is_finite().then_some([value, d_nu, d_loc, d_scale])
    }
}

impl<T: Real> Distribution for StudentT<T> {
    type Scalar = T;

    /// One node: with `u = (x - μ)/(σ√ν)`, `g = 2u/(1 + u²)`, `h = (ν + 1)/2` and `c(ν)`
    /// the log normalising constant, `∂/∂x = -h g/(σ√ν)`, `∂/∂μ = h g/(σ√ν)`,
    /// `∂/∂σ = (h u g - 1)/σ`, `∂/∂ν = c'(ν) - ½ ln(1 + u²) + h u g/(2ν)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || !x.is_finite() {
            return neg_inf();
        }
        let v = self.values();
        let (ln, g, ug) = v.at(x.value());
        match v.sums(1.0, ln, g, ug) {
            Some(parts) => self.node(parts, [(x, -parts[2])]),
            None => neg_inf(),
        }
    }

    /// One node with the partials of `ln_pdf` for `ν`, `μ` and `σ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || !x.is_finite() {
            return neg_inf();
        }
        let v = self.values();
        let (ln, g, ug) = v.at(x);
        match v.sums(1.0, ln, g, ug) {
            Some(parts) => self.node(parts, []),
            None => neg_inf(),
        }
    }

    fn support(&self) -> Support<T> {
        Support::Real
    }

    /// One node: the partials of `ln_pdf` for `ν`, `μ` and `σ` summed over the values,
    /// and `∂/∂xᵢ = -h gᵢ/(σ√ν)`.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        if !self.is_valid() || xs.iter().any(|x| !x.is_finite()) {
            return neg_inf();
        }
        let v = self.values();
        let (mut sum_ln, mut sum_g, mut sum_ug) = (0.0, 0.0, 0.0);
        for x in xs {
            let (ln, g, ug) = v.at(x.value());
            sum_ln += ln;
            sum_g += g;
            sum_ug += ug;
        }
        match v.sums(xs.len() as f64, sum_ln, sum_g, sum_ug) {
            Some(parts) => self.node(parts, xs.iter().map(|&x| (x, v.d_x(x.value())))),
            None => neg_inf(),
        }
    }

    /// One node with the partials of `ln_pdf_sum` for `ν`, `μ` and `σ`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        if !self.is_valid() {
            return neg_inf();
        }
        let v = self.values();
        let (mut sum_ln, mut sum_g, mut sum_ug) = (0.0, 0.0, 0.0);
        for i in 0..ys.len() {
            let y = ys.get_f64(i);
            if !y.is_finite() {
                return neg_inf();
            }
            let (ln, g, ug) = v.at(y);
            sum_ln += ln;
            sum_g += g;
            sum_ug += ug;
        }
        match v.sums(ys.len() as f64, sum_ln, sum_g, sum_ug) {
            Some(parts) => self.node(parts, []),
            None => neg_inf(),
        }
    }
}

impl<T: Real> Continuous for StudentT<T> {}

impl<T: Real> rand::distr::Distribution<f64> for StudentT<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let t = sample_or_nan(rand_distr::StudentT::new(self.nu.value()), rng);
        self.loc.value() + self.scale.value() * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::Normal;
    use crate::distributions::test_util::{check_moments, check_quantiles};

    #[test]
    fn constructor_checks() {
        assert!(StudentT::<f64>::try_new(3.0, 0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(StudentT::<f64>::try_new(bad, 0.0, 1.0).is_err(), "nu {bad}");
            assert_eq!(
                StudentT::<f64>::new(bad, 0.0, 1.0).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
            assert!(
                StudentT::<f64>::try_new(3.0, 0.0, bad).is_err(),
                "scale {bad}"
            );
            assert_eq!(
                StudentT::<f64>::new(3.0, 0.0, bad).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(
                StudentT::<f64>::try_new(3.0, bad, 1.0).is_err(),
                "loc {bad}"
            );
            assert_eq!(
                StudentT::<f64>::new(3.0, bad, 1.0).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
        let d: StudentT = StudentT::new(3.0, 0.0, 1.0);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn normalising_constant_on_both_sides_of_the_switch() {
        // ln Γ((ν+1)/2) - ln Γ(ν/2) - ½ ln(νπ) from mpmath at 40 digits; ν ≤ 29.5 takes
        // the log-gamma branch, the others the series. The tolerance allows the
        // log-gamma branch's cancellation (about 7 ulp of ln Γ(15) ≈ 25).
        let cases = [
            (3.0, -1.000_888_849_623_509_8),
            (29.5, -0.927_411_488_690_441_4),
            (30.0, -0.927_270_325_378_845_7),
            (40.0, -0.925_187_882_650_364_1),
            (45.5, -0.924_432_596_616_876_2),
            (60.0, -0.923_105_007_034_351_2),
            (1000.0, -0.919_188_533_163_006_1),
            (1e6, -0.918_938_783_204_672_7),
        ];
        for (nu, want) in cases {
            let got = ln_norm_const(nu);
            assert!((got - want).abs() < 2.5e-14, "nu = {nu}: {got} vs {want}");
        }
    }

    #[test]
    fn normalising_constant_derivative() {
        // Against central differences of `ln_norm_const` on each branch, and the two
        // branches against each other at the switch.
        for nu in [0.3, 1.0, 3.0, 12.0, 29.0, 30.5, 40.0, 100.0, 1000.0] {
            let h = 1e-4 * nu;
            let fd = (ln_norm_const(nu + h) - ln_norm_const(nu - h)) / (2.0 * h);
            let got = d_ln_norm_const(nu);
            assert!(
                (got - fd).abs() < 1e-6 * got.abs(),
                "nu = {nu}: {got} vs {fd}"
            );
        }
        let by_digamma = 0.5 * (digamma(15.5) - digamma(15.0)) - 0.5 / 30.0;
        assert!((d_ln_norm_const(30.0) - by_digamma).abs() < 1e-12 * by_digamma);
    }

    #[test]
    fn large_nu_tends_to_normal() {
        let n: Normal = Normal::new(1.0, 2.0);
        let t: StudentT = StudentT::new(1e12, 1.0, 2.0);
        for x in [-5.0, 0.0, 1.0, 3.5, 20.0] {
            let (a, b) = (t.ln_pdf(x), n.ln_pdf(x));
            assert!((a - b).abs() < 1e-9 * b.abs(), "x = {x}: {a} vs {b}");
        }
    }

    #[test]
    fn sampling_moments() {
        // ν = 12 > 4, so the fourth moment exists: var = σ²ν/(ν-2),
        // μ₄ = 3σ⁴ν² / ((ν-2)(ν-4)).
        let (nu, loc, scale): (f64, f64, f64) = (12.0, 2.0, 0.5);
        let d: StudentT = StudentT::new(nu, loc, scale);
        let var = scale * scale * nu / (nu - 2.0);
        let mu4 = 3.0 * scale.powi(4) * nu * nu / ((nu - 2.0) * (nu - 4.0));
        check_moments(&d, loc, var, mu4, 6);
    }

    #[test]
    fn sampling_quantiles_heavy_tail() {
        // ν = 2 has no variance; its quantile function is (2p - 1) / √(2p(1 - p)).
        let (loc, scale) = (-1.0, 2.0);
        let d: StudentT = StudentT::new(2.0, loc, scale);
        let qs = [0.05, 0.25, 0.5, 0.75, 0.95].map(|p: f64| {
            (
                loc + scale * (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt(),
                p,
            )
        });
        check_quantiles(&d, &qs, 7);
    }
}
