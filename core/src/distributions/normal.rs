//! The normal (Gaussian) distribution.

use rand::Rng;

use super::{Continuous, Distribution, LN_SQRT_2PI, ObsVector, is_pos, neg_inf, sample_or_nan};
use crate::context::with_scratch;
use crate::error::ParamError;
use crate::real::Real;
use crate::support::Support;
use crate::vector::{VectorExpr, common_len};

/// The normal distribution with mean `loc` and standard deviation `scale`.
///
/// # Density
/// ```text
/// ln f(x) = -(x - μ)² / (2σ²) - ln σ - ln √(2π)
/// ```
/// with `μ = loc` and `σ = scale`, for `x ∈ ℝ`.
///
/// # Parameters
/// `loc` finite, `scale > 0` and finite; otherwise `ln_pdf` is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Normal};
///
/// let d: Normal = Normal::new(1.0, 2.0);
/// // -(0.5)²/2 - ln 2 - ln √(2π)
/// assert!((d.ln_pdf(2.0) - -1.737085713764618).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normal<T = f64> {
    loc: T,
    scale: T,
}

impl<T: Real> Normal<T> {
    /// A normal distribution; never fails (see the type's `# Parameters`).
    #[inline]
    pub fn new(loc: impl Into<T>, scale: impl Into<T>) -> Self {
        Normal {
            loc: loc.into(),
            scale: scale.into(),
        }
    }

    /// A normal distribution whose parameters are checked.
    ///
    /// # Errors
    /// [`ParamError`] when `loc` is not finite or `scale` is not positive and finite.
    pub fn try_new(loc: impl Into<T>, scale: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(loc, scale);
        ParamError::check_finite("loc", d.loc)?;
        ParamError::check_positive("scale", d.scale)?;
        Ok(d)
    }

    /// The mean `μ`.
    pub fn loc(&self) -> T {
        self.loc
    }

    /// The standard deviation `σ`.
    pub fn scale(&self) -> T {
        self.scale
    }
}

impl<T: Real> Distribution for Normal<T> {
    type Scalar = T;

    /// One node: `∂/∂x = -z/σ`, `∂/∂μ = z/σ`, `∂/∂σ = (z² - 1)/σ` with `z = (x - μ)/σ`.
    #[inline]
    fn ln_pdf(&self, x: T) -> T {
        if !is_pos(self.scale) || !self.loc.is_finite() || !x.is_finite() {
            return neg_inf();
        }
        let sigma = self.scale.value();
        let z = (x.value() - self.loc.value()) / sigma;
        let value = -0.5 * z * z - sigma.ln() - LN_SQRT_2PI;
        T::fused(
            value,
            [
                (x, -z / sigma),
                (self.loc, z / sigma),
                (self.scale, (z * z - 1.0) / sigma),
            ],
        )
    }

    /// One node with the partials of `ln_pdf` for `μ` and `σ`.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> T {
        if !is_pos(self.scale) || !self.loc.is_finite() || !x.is_finite() {
            return neg_inf();
        }
        let sigma = self.scale.value();
        let z = (x - self.loc.value()) / sigma;
        let value = -0.5 * z * z - sigma.ln() - LN_SQRT_2PI;
        T::fused(
            value,
            [(self.loc, z / sigma), (self.scale, (z * z - 1.0) / sigma)],
        )
    }

    fn support(&self) -> Support<T> {
        Support::Real
    }

    /// One node: `∂/∂xᵢ = -(xᵢ - μ)/σ²`, `∂/∂μ = Σ(xᵢ - μ)/σ²`,
    /// `∂/∂σ = Σ(xᵢ - μ)²/σ³ - n/σ`.
    fn ln_pdf_sum(&self, xs: &[T]) -> T {
        let (mu, sigma) = (self.loc.value(), self.scale.value());
        if !is_pos(self.scale) || !mu.is_finite() || xs.iter().any(|x| !x.is_finite()) {
            return neg_inf();
        }
        let (s1, s2) = xs.iter().fold((0.0, 0.0), |(s1, s2), x| {
            let d = x.value() - mu;
            (s1 + d, s2 + d * d)
        });
        let (value, d_loc, d_scale) = sums_to_ln_pdf(s1, s2, xs.len() as f64, sigma);
        if value.is_nan() {
            // `(xᵢ − μ)²` overflowed while `σ²` did too: the elements' own terms scale
            // by `σ` first
            return xs.iter().map(|&x| self.ln_pdf(x)).sum();
        }
        let inv_var = 1.0 / (sigma * sigma);
        let terms = [(self.loc, d_loc), (self.scale, d_scale)].into_iter();
        T::fused(
            value,
            terms.chain(xs.iter().map(|&x| (x, -(x.value() - mu) * inv_var))),
        )
    }

    /// One node with the partials of `ln_pdf_sum` for `μ` and `σ`.
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> T {
        let (mu, sigma) = (self.loc.value(), self.scale.value());
        if !is_pos(self.scale) || !mu.is_finite() {
            return neg_inf();
        }
        let (mut s1, mut s2) = (0.0, 0.0);
        for i in 0..ys.len() {
            let d = ys.get_f64(i) - mu;
            s1 += d;
            s2 += d * d;
        }
        if !s2.is_finite() {
            // `(yᵢ − μ)²` overflowed: the elements' own terms scale by `σ` first
            return (0..ys.len()).map(|i| self.ln_pdf_obs(ys.get_f64(i))).sum();
        }
        let (value, d_loc, d_scale) = sums_to_ln_pdf(s1, s2, ys.len() as f64, sigma);
        T::fused(value, [(self.loc, d_loc), (self.scale, d_scale)])
    }
}

/// The joint normal log-density of `n` values from `s1 = Σ(xᵢ - μ)` and
/// `s2 = Σ(xᵢ - μ)²`, with its partials in `μ` and `σ`.
#[inline]
fn sums_to_ln_pdf(s1: f64, s2: f64, n: f64, sigma: f64) -> (f64, f64, f64) {
    let inv_var = 1.0 / (sigma * sigma);
    let value = -0.5 * s2 * inv_var - n * (sigma.ln() + LN_SQRT_2PI);
    (value, s1 * inv_var, s2 * inv_var / sigma - n / sigma)
}

impl<T: Real> Continuous for Normal<T> {}

impl<T: Real> Normal<T> {
    /// Independent normals with per-element location and scale, given as vector
    /// expressions: `Normal::each(params(z).scale(tau).shift(mu), data(sigma))`.
    /// Observing it records one node for the whole vector (see [`crate::vector`]).
    pub fn each<L: VectorExpr<T>, S: VectorExpr<T>>(loc: L, scale: S) -> NormalEach<T, L, S> {
        NormalEach {
            loc,
            scale,
            scalar: std::marker::PhantomData,
        }
    }
}

/// Independent normals `yᵢ ~ Normal(locᵢ, scaleᵢ)` with vector-expression parameters,
/// built by [`Normal::each`]; an observed site for a whole vector.
///
/// # Density
/// ```text
/// ln f(y) = Σᵢ [ -(yᵢ - μᵢ)² / (2σᵢ²) - ln σᵢ - ln √(2π) ]
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NormalEach<T, L, S> {
    loc: L,
    scale: S,
    scalar: std::marker::PhantomData<T>,
}

thread_local! {
    pub(crate) static EACH_PARTIALS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<T: Real, L: VectorExpr<T>, S: VectorExpr<T>> NormalEach<T, L, S> {
    /// The number of elements the parameters fix, `None` when both are scalars, or
    /// the two lengths when they disagree.
    pub fn len(&self) -> Result<Option<usize>, (usize, usize)> {
        common_len(self.loc.len(), self.scale.len())
    }

    /// The log-density of each element of `y`, at the parameters' values.
    pub fn ln_pdf_each(&self, y: &[f64]) -> Vec<f64> {
        y.iter()
            .enumerate()
            .map(|(i, &yi)| {
                let (mu, sigma) = (self.loc.at(i), self.scale.at(i));
                let z = (yi - mu) / sigma;
                if sigma > 0.0 && z.is_finite() {
                    -0.5 * z * z - sigma.ln() - LN_SQRT_2PI
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect()
    }

    /// `n` simulated values (`n` is the parameters' length when they have one).
    pub fn draw(&self, n: usize, rng: &mut dyn Rng) -> Vec<f64> {
        use rand_distr::Distribution as _;
        (0..n)
            .map(|i| {
                rand_distr::Normal::new(self.loc.at(i), self.scale.at(i))
                    .map_or(f64::NAN, |d| d.sample(rng))
            })
            .collect()
    }

    /// The joint log-density of `y`, one node with partials through both expressions;
    /// `-∞` for a non-positive scale or non-finite values.
    ///
    /// # Panics
    /// When the parameters' length differs from `y.len()` (the `sample!` site reports
    /// it as an error instead).
    pub fn ln_pdf_obs<V: ObsVector + ?Sized>(&self, y: &V) -> T {
        let n = y.len();
        assert!(
            matches!(self.len(), Ok(None)) || self.len() == Ok(Some(n)),
            "Normal::each: the parameters' length differs from the observation's ({n})"
        );
        with_scratch(&EACH_PARTIALS, 2 * n, 0.0, |g| {
            let (g_loc, g_scale) = g.split_at_mut(n);
            let mut total = 0.0;
            for i in 0..n {
                let (mu, sigma, yi) = (self.loc.at(i), self.scale.at(i), y.get_f64(i));
                if !(sigma > 0.0 && sigma.is_finite() && mu.is_finite() && yi.is_finite()) {
                    return neg_inf();
                }
                let z = (yi - mu) / sigma;
                total += -0.5 * z * z - sigma.ln() - LN_SQRT_2PI;
                g_loc[i] = z / sigma;
                g_scale[i] = (z * z - 1.0) / sigma;
            }
            let (g_loc, g_scale) = (&*g_loc, &*g_scale);
            T::fused(
                total,
                self.loc
                    .terms(g_loc, 1.0)
                    .chain(self.scale.terms(g_scale, 1.0)),
            )
        })
    }
}

impl<T: Real, L: VectorExpr<T>, S: VectorExpr<T>> NormalEach<T, L, S> {
    /// The joint log-density at model values `x` (a latent site of it), one node with
    /// partials in `x` and through both expressions; `-∞` for a non-positive scale or
    /// non-finite values.
    ///
    /// # Panics
    /// When the parameters' length differs from `x.len()` (the `sample!` site reports
    /// it as an error instead).
    pub fn ln_pdf_params(&self, x: &[T]) -> T {
        let n = x.len();
        assert!(
            matches!(self.len(), Ok(None)) || self.len() == Ok(Some(n)),
            "Normal::each: the parameters' length differs from the values' ({n})"
        );
        with_scratch(&EACH_PARTIALS, 3 * n, 0.0, |g| {
            let (g_loc, rest) = g.split_at_mut(n);
            let (g_scale, g_x) = rest.split_at_mut(n);
            let mut total = 0.0;
            for i in 0..n {
                let (mu, sigma, xi) = (self.loc.at(i), self.scale.at(i), x[i].value());
                if !(sigma > 0.0 && sigma.is_finite() && mu.is_finite() && xi.is_finite()) {
                    return neg_inf();
                }
                let z = (xi - mu) / sigma;
                total += -0.5 * z * z - sigma.ln() - LN_SQRT_2PI;
                g_loc[i] = z / sigma;
                g_scale[i] = (z * z - 1.0) / sigma;
                g_x[i] = -z / sigma;
            }
            let (g_loc, g_scale, g_x) = (&*g_loc, &*g_scale, &*g_x);
            T::fused(
                total,
                self.loc
                    .terms(g_loc, 1.0)
                    .chain(self.scale.terms(g_scale, 1.0))
                    .chain(x.iter().copied().zip(g_x.iter().copied())),
            )
        })
    }
}

impl<T: Real> rand::distr::Distribution<f64> for Normal<T> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !is_pos(self.scale) || !self.loc.is_finite() {
            return f64::NAN;
        }
        sample_or_nan(
            rand_distr::Normal::new(self.loc.value(), self.scale.value()),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::check_moments;

    #[test]
    fn constructor_checks() {
        assert!(Normal::<f64>::try_new(0.0, 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Normal::<f64>::try_new(0.0, bad).is_err(), "scale {bad}");
            assert_eq!(Normal::<f64>::new(0.0, bad).ln_pdf(0.0), f64::NEG_INFINITY);
        }
        assert!(Normal::<f64>::try_new(f64::NAN, 1.0).is_err());
    }

    #[test]
    fn reference_values() {
        // scipy.stats.norm(loc, scale).logpdf(x); see core/tests/data/reference.py
        let cases = [
            (0.0, 1.0, 0.0, -0.918_938_533_204_672_7),
            (1.0, 2.0, 2.0, -1.737_085_713_764_618),
            (-3.0, 0.1, 2.0, -1_248.616_353_440_210_6),
        ];
        for (loc, scale, x, want) in cases {
            let d: Normal = Normal::new(loc, scale);
            assert!((d.ln_pdf(x) - want).abs() < 1e-12 * want.abs().max(1.0));
            assert!((d.ln_pdf_obs(x) - want).abs() < 1e-12 * want.abs().max(1.0));
        }
    }

    #[test]
    fn each_at_params_matches_the_scalar_density() {
        use crate::vector::{data, params};
        let (mu, sigma, x) = ([0.5, -1.0], [1.0, 2.5], [0.3, 1.2]);
        let each = Normal::each(data(&mu), data(&sigma));
        let want: f64 = (0..2)
            .map(|i| Normal::<f64>::new(mu[i], sigma[i]).ln_pdf(x[i]))
            .sum();
        assert!((each.ln_pdf_params(&x) - want).abs() < 1e-14);
        assert_eq!(each.ln_pdf_params(&x), each.ln_pdf_obs(&x));
        let bad = Normal::each(params(&mu), data(&[1.0, -1.0]));
        assert_eq!(bad.ln_pdf_params(&x), f64::NEG_INFINITY);
    }

    #[test]
    fn sampling_moments() {
        let d: Normal = Normal::new(1.5, 2.0);
        check_moments(&d, 1.5, 4.0, 3.0 * 16.0, 1);
    }
}
