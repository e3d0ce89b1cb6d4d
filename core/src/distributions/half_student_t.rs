//! The half-Student-t distribution.

use std::f64::consts::LN_2;

use rand::Rng;

use super::cauchy::{ln_1p_sq, ln_1p_sq_partials};
use super::pointwise::{self, Parts};
use super::student_t::{d_ln_norm_const, ln_norm_const};
use super::{Continuous, Distribution, ObsVector, is_pos, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The half-Student-t distribution: the absolute value of a Student's t variable with
/// `nu` degrees of freedom, location 0 and scale `scale` (Stan's `student_t` on a
/// `<lower=0>` parameter).
///
/// # Density
/// ```text
/// ln f(x) = ln 2 + ln Γ((ν + 1)/2) - ln Γ(ν/2) - ½ ln(νπ) - ln σ
///           - (ν + 1)/2 · ln(1 + (x/σ)² / ν)
/// ```
/// with `ν = nu` and `σ = scale`, for `x > 0`: twice the [`StudentT`](super::StudentT)
/// density, whose normalising constant it shares (with its asymptotic series for
/// `ν ≥ 30`).
///
/// # Parameters
/// `nu > 0` and finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, HalfCauchy, HalfStudentT};
///
/// // with ν = 1 it is the half-Cauchy
/// let d: HalfStudentT = HalfStudentT::new(1.0, 2.0);
/// let c: HalfCauchy = HalfCauchy::new(2.0);
/// assert!((d.ln_pdf(3.0) - c.ln_pdf(3.0)).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfStudentT<T = f64> {
    nu: T,
    scale: T,
}

impl<T: Real> HalfStudentT<T> {
    /// A half-Student-t distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(nu: impl Into<T>, scale: impl Into<T>) -> Self {
        HalfStudentT {
            nu: nu.into(),
            scale: scale.into(),
        }
    }

    /// A half-Student-t distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `nu` or `scale` is not positive and finite.
    pub fn try_new(nu: impl Into<T>, scale: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(nu, scale);
        ParamError::check_positive("nu", d.nu)?;
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The degrees of freedom `ν`.
    pub fn nu(&self) -> T {
        self.nu
    }

    /// The scale `σ` (the median of the Student's t it folds is 0, so `σ` is not its
    /// median).
    pub fn scale(&self) -> T {
        self.scale
    }

    #[inline]
    fn is_valid(&self) -> bool {
        is_pos(self.nu) && is_pos(self.scale)
    }

    /// `x ↦ ln f(x)` with, for `u = x/(σ√ν)`, `g = 2u/(1 + u²)`, `h = (ν + 1)/2`:
    /// `∂/∂x = -h g/(σ√ν)`, `∂/∂ν = c'(ν) - ½ ln(1 + u²) + h u g/(2ν)`,
    /// `∂/∂σ = (h u g - 1)/σ`; the normalising constant `c(ν)` and `c'(ν)` are
    /// computed once.
    #[inline]
    fn parts(&self) -> impl Fn(f64) -> Option<Parts<2>> + use<T> {
        let valid = self.is_valid();
        let (nu, scale) = (self.nu.value(), self.scale.value());
        let (constant, d_constant) = if valid {
            (LN_2 + ln_norm_const(nu) - scale.ln(), d_ln_norm_const(nu))
        } else {
            (f64::NAN, f64::NAN)
        };
        let scale_sqrt_nu = scale * nu.sqrt();
        let h = (nu + 1.0) * 0.5;
        move |x| {
            if !valid || !is_pos(x) {
                return None;
            }
            let u = x / scale_sqrt_nu;
            let ln = ln_1p_sq(u);
            let (g, ug) = ln_1p_sq_partials(u);
            Parts {
                value: constant - h * ln,
                d_x: -h * g / scale_sqrt_nu,
                d_params: [
                    d_constant - 0.5 * ln + h * ug / (2.0 * nu),
                    (h * ug - 1.0) / scale,
                ],
            }
            .finite()
        }
    }
}

impl<T: Real> Distribution for HalfStudentT<T> {
    type Scalar = T;

    /// One node: with `u = x/(σ√ν)`, `g = 2u/(1 + u²)`, `h = (ν + 1)/2` and `c(ν)` the
    /// log normalising constant, `∂/∂x = -h g/(σ√ν)`, `∂/∂σ = (h u g - 1)/σ`,
    /// `∂/∂ν = c'(ν) - ½ ln(1 + u²) + h u g/(2ν)`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        pointwise::latent([self.nu, self.scale], x, self.parts())
    }

    /// One node with the partials of `ln_pdf` for `ν` and `σ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        pointwise::observed([self.nu, self.scale], x, self.parts())
    }

    fn support(&self) -> Support<T> {
        Support::Positive
    }

    /// One node: the partials of `ln_pdf` summed over the values.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        pointwise::latent_sum([self.nu, self.scale], xs, self.parts())
    }

    /// One node: the partials of `ln_pdf_obs` summed over the values.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum([self.nu, self.scale], ys, self.parts())
    }
}

impl<T: Real> Continuous for HalfStudentT<T> {}

impl<T: Real> rand::distr::Distribution<f64> for HalfStudentT<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        let t = sample_or_nan(rand_distr::StudentT::new(self.nu.value()), rng);
        self.scale.value() * t.abs()
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;
    use crate::distributions::test_util::{central_fourth, check_moments};
    use crate::distributions::{HalfNormal, StudentT};
    use crate::special::lgamma;

    #[test]
    fn constructor_checks() {
        assert!(HalfStudentT::<f64>::try_new(3.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(HalfStudentT::<f64>::try_new(bad, 1.0).is_err(), "nu {bad}");
            assert_eq!(
                HalfStudentT::<f64>::new(bad, 1.0).ln_pdf(1.0),
                f64::NEG_INFINITY
            );
            assert!(
                HalfStudentT::<f64>::try_new(3.0, bad).is_err(),
                "scale {bad}"
            );
            assert_eq!(
                HalfStudentT::<f64>::new(3.0, bad).ln_pdf(1.0),
                f64::NEG_INFINITY
            );
        }
    }

    #[test]
    fn outside_support() {
        let d: HalfStudentT = HalfStudentT::new(3.0, 1.0);
        for x in [-1.0, 0.0, f64::INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn twice_the_student_t_and_tends_to_the_half_normal() {
        for nu in [0.7, 4.0, 29.0, 31.0, 300.0] {
            let d: HalfStudentT = HalfStudentT::new(nu, 1.5);
            let t: StudentT = StudentT::new(nu, 0.0, 1.5);
            for x in [1e-3, 0.8, 7.0, 1e4] {
                let want = t.ln_pdf(x) + LN_2;
                assert!((d.ln_pdf(x) - want).abs() <= 1e-14 * want.abs().max(1.0));
            }
        }
        let d: HalfStudentT = HalfStudentT::new(1e12, 1.5);
        let n: HalfNormal = HalfNormal::new(1.5);
        for x in [0.1, 1.0, 6.0] {
            assert!((d.ln_pdf(x) - n.ln_pdf(x)).abs() < 1e-9 * n.ln_pdf(x).abs().max(1.0));
        }
    }

    #[test]
    fn sampling_moments() {
        // E|T|^k = ν^{k/2} Γ((k + 1)/2) Γ((ν - k)/2) / (√π Γ(ν/2)) for k < ν.
        let (nu, scale): (f64, f64) = (12.0, 0.8);
        let raw = [1.0, 2.0, 3.0, 4.0].map(|k: f64| {
            let ln = 0.5 * k * nu.ln() + lgamma((k + 1.0) / 2.0) + lgamma((nu - k) / 2.0)
                - 0.5 * PI.ln()
                - lgamma(nu / 2.0);
            scale.powf(k) * ln.exp()
        });
        let d: HalfStudentT = HalfStudentT::new(nu, scale);
        check_moments(
            &d,
            raw[0],
            raw[1] - raw[0] * raw[0],
            central_fourth(raw),
            54,
        );
    }
}
