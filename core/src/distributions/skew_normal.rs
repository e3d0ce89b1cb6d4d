//! The skew-normal distribution.

use std::f64::consts::LN_2;

use rand::Rng;

use super::pointwise::{self, Parts};
use super::truncated::ln_std_normal_cdf;
use super::{Continuous, Distribution, LN_SQRT_2PI, ObsVector, is_pos, sample_or_nan};
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;

/// The skew-normal distribution with location `loc`, scale `scale` and shape `alpha`
/// (Azzalini 1985; Stan's `skew_normal(xi, omega, alpha)`).
///
/// # Density
/// ```text
/// ln f(x) = ln 2 - ln ω - ln √(2π) - z²/2 + ln Φ(α z),   z = (x - ξ)/ω
/// ```
/// with `ξ = loc`, `ω = scale`, `α = alpha` and `Φ` the standard normal cumulative
/// distribution function, for `x ∈ ℝ`. `α = 0` is the normal distribution. `ln Φ` is
/// computed from `erfc` (and, beyond `α z < -28`, from the asymptotic series of Mills'
/// ratio), so the short tail keeps its accuracy where `Φ(α z)` underflows.
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite, `alpha` finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Normal, SkewNormal};
///
/// let d: SkewNormal = SkewNormal::new(1.0, 2.0, 3.0);
/// // at the location Φ(0) = ½ cancels the 2: the normal density
/// let n: Normal = Normal::new(1.0, 2.0);
/// assert!((d.ln_pdf(1.0) - n.ln_pdf(1.0)).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SkewNormal<T = f64> {
    loc: T,
    scale: T,
    alpha: T,
}

impl<T: Real> SkewNormal<T> {
    /// A skew-normal distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(loc: impl Into<T>, scale: impl Into<T>, alpha: impl Into<T>) -> Self {
        SkewNormal {
            loc: loc.into(),
            scale: scale.into(),
            alpha: alpha.into(),
        }
    }

    /// A skew-normal distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `loc` or `alpha` is not finite, or `scale` is not positive and
    /// finite.
    pub fn try_new(
        loc: impl Into<T>,
        scale: impl Into<T>,
        alpha: impl Into<T>,
    ) -> Result<Self, ParamError> {
        let d = Self::new(loc, scale, alpha);
        ParamError::check_finite("loc", d.loc)?;
        ParamError::check_positive("scale", d.scale)?;
        ParamError::check_finite("alpha", d.alpha)?;
        Ok(d)
    }

    /// The location `ξ`.
    pub fn loc(&self) -> T {
        self.loc
    }

    /// The scale `ω`.
    pub fn scale(&self) -> T {
        self.scale
    }

    /// The shape `α` (positive skews to the right).
    pub fn alpha(&self) -> T {
        self.alpha
    }

    #[inline]
    fn is_valid(&self) -> bool {
        self.loc.is_finite() && is_pos(self.scale) && self.alpha.is_finite()
    }

    /// `ln f(x)` with, for `m = φ(α z)/Φ(α z)` and `g = -z + α m`: `∂/∂x = g/ω`,
    /// `∂/∂ξ = -g/ω`, `∂/∂ω = -(1 + z g)/ω`, `∂/∂α = z m`.
    #[inline]
    fn parts(&self, x: f64) -> Option<Parts<3>> {
        if !self.is_valid() || !x.is_finite() {
            return None;
        }
        let (omega, alpha) = (self.scale.value(), self.alpha.value());
        let z = (x - self.loc.value()) / omega;
        let (ln_cdf, m) = ln_std_normal_cdf(alpha * z);
        let g = alpha * m - z;
        Parts {
            value: LN_2 - omega.ln() - LN_SQRT_2PI - 0.5 * z * z + ln_cdf,
            d_x: g / omega,
            d_params: [-g / omega, -(1.0 + z * g) / omega, z * m],
        }
        .finite()
    }

    fn params(&self) -> [T; 3] {
        [self.loc, self.scale, self.alpha]
    }
}

impl<T: Real> Distribution for SkewNormal<T> {
    type Scalar = T;

    /// One node: with `z = (x - ξ)/ω`, `m = φ(α z)/Φ(α z)` and `g = α m - z`,
    /// `∂/∂x = g/ω`, `∂/∂ξ = -g/ω`, `∂/∂ω = -(1 + z g)/ω`, `∂/∂α = z m`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        pointwise::latent(self.params(), x, |x| self.parts(x))
    }

    /// One node with the partials of `ln_pdf` for `ξ`, `ω` and `α`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        pointwise::observed(self.params(), x, |x| self.parts(x))
    }

    fn support(&self) -> Support<T> {
        Support::Real
    }

    /// One node: the partials of `ln_pdf` summed over the values.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        pointwise::latent_sum(self.params(), xs, |x| self.parts(x))
    }

    /// One node: the partials of `ln_pdf_obs` summed over the values.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        pointwise::observed_sum(self.params(), ys, |x| self.parts(x))
    }
}

impl<T: Real> Continuous for SkewNormal<T> {}

impl<T: Real> rand::distr::Distribution<f64> for SkewNormal<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.is_valid() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::SkewNormal::new(self.loc.value(), self.scale.value(), self.alpha.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;
    use crate::distributions::Normal;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        assert!(SkewNormal::<f64>::try_new(0.0, 1.0, -4.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                SkewNormal::<f64>::try_new(0.0, bad, 1.0).is_err(),
                "scale {bad}"
            );
            assert_eq!(
                SkewNormal::<f64>::new(0.0, bad, 1.0).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(
                SkewNormal::<f64>::try_new(bad, 1.0, 1.0).is_err(),
                "loc {bad}"
            );
            assert!(
                SkewNormal::<f64>::try_new(0.0, 1.0, bad).is_err(),
                "alpha {bad}"
            );
            assert_eq!(
                SkewNormal::<f64>::new(0.0, 1.0, bad).ln_pdf(0.0),
                f64::NEG_INFINITY
            );
        }
        let d: SkewNormal = SkewNormal::new(0.0, 1.0, 2.0);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "x = {x}");
        }
    }

    #[test]
    fn zero_shape_is_normal_and_the_short_tail_is_finite() {
        let s: SkewNormal = SkewNormal::new(0.5, 2.0, 0.0);
        let n: Normal = Normal::new(0.5, 2.0);
        for x in [-30.0, -1.0, 0.5, 4.0] {
            assert!((s.ln_pdf(x) - n.ln_pdf(x)).abs() < 1e-14 * n.ln_pdf(x).abs());
        }
        // α z = -100: Φ underflows, ln Φ ≈ -5000 does not
        let d: SkewNormal = SkewNormal::new(0.0, 1.0, 10.0);
        assert!(d.ln_pdf(-10.0).is_finite());
    }

    #[test]
    fn sampling_moments() {
        // δ = α/√(1 + α²): mean ξ + ωδ√(2/π), var ω²(1 - 2δ²/π), excess kurtosis
        // 2(π - 3) (δ√(2/π))⁴ / (1 - 2δ²/π)².
        let (loc, scale, alpha): (f64, f64, f64) = (1.0, 2.0, -3.0);
        let delta = alpha / (1.0 + alpha * alpha).sqrt();
        let b = delta * (2.0 / PI).sqrt();
        let var = scale * scale * (1.0 - b * b);
        let excess = 2.0 * (PI - 3.0) * b.powi(4) / (1.0 - b * b).powi(2);
        let d: SkewNormal = SkewNormal::new(loc, scale, alpha);
        check_moments(&d, loc + scale * b, var, (3.0 + excess) * var * var, 55);
    }
}
