//! Student's t distribution.

use std::f64::consts::PI;

use rand::Rng;

use super::cauchy::ln_1p_sq;
use super::{Continuous, Distribution, LN_SQRT_2PI, is_pos, neg_inf, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
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

/// `ln Γ((ν + 1)/2) - ln Γ(ν/2) - ½ ln(νπ)`.
#[inline]
fn ln_norm_const<T: Real>(nu: T) -> T {
    if nu >= 30.0 {
        // ln Γ(a + ½) - ln Γ(a) = ½ ln a + Σₖ (2^{1-2k} - 2) B₂ₖ / (2k (2k - 1) a^{2k-1}),
        // a = ν/2; the ½ ln a cancels with -½ ln(νπ) up to -ln √(2π). Truncated after
        // a⁻¹¹, the first omitted term is below 1e-17 for a ≥ 15. The log-gamma branch
        // loses about ulp(ln Γ(ν/2)) to cancellation, a few 1e-15 just below the switch.
        let r = (nu * 0.5).recip();
        let r2 = r * r;
        let series = (((((r2 * (691.0 / 180_224.0) - 31.0 / 18432.0) * r2 + 17.0 / 14336.0) * r2
            - 1.0 / 640.0)
            * r2
            + 1.0 / 192.0)
            * r2
            - 0.125)
            * r;
        series - LN_SQRT_2PI
    } else {
        ((nu + 1.0) * 0.5).lgamma() - (nu * 0.5).lgamma() - (nu * PI).ln() * 0.5
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

    #[inline]
    fn ln_pdf_z(&self, z: T) -> T {
        ln_norm_const(self.nu)
            - self.scale.ln()
            - ln_1p_sq(z / self.nu.sqrt()) * ((self.nu + 1.0) * 0.5)
    }
}

impl<T: Real> Distribution for StudentT<T> {
    type Scalar = T;

    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !self.is_valid() || !x.is_finite() {
            return neg_inf();
        }
        self.ln_pdf_z((x - self.loc) / self.scale)
    }

    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !self.is_valid() || !x.is_finite() {
            return neg_inf();
        }
        self.ln_pdf_z((-self.loc + x) / self.scale)
    }

    fn support(&self) -> Support<T> {
        Support::Real
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
