//! The Gaussian random walk.

use rand::Rng;
use rand_distr::Distribution as _;

use super::{LN_SQRT_2PI, VectorDistribution, is_pos, neg_inf};
use crate::bijectors::VectorBijector;
use crate::real::Real;
use crate::support::Support;

/// A Gaussian random walk of `n` steps started at 0: `x₀ ~ N(0, σ)` and
/// `xᵢ - xᵢ₋₁ ~ N(0, σ)`.
///
/// A latent `sample!` of it returns `n` values on ℝ (identity bijector).
///
/// # Density
/// ```text
/// ln f(x) = Σᵢ [-dᵢ² / (2σ²) - ln σ - ln √(2π)],   d₀ = x₀, dᵢ = xᵢ - xᵢ₋₁
/// ```
/// with `σ = scale`.
///
/// # Parameters
/// `scale > 0` and finite; otherwise the log-density is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{GaussianRandomWalk, VectorDistribution};
///
/// let d: GaussianRandomWalk = GaussianRandomWalk::new(1.0, 2);
/// // N(0.5; 0, 1) + N(1.5 - 0.5; 0, 1)
/// let want = -0.125 - 0.5 - 2.0 * 0.9189385332046728;
/// assert!((d.ln_pdf(&[0.5, 1.5]) - want).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianRandomWalk<T = f64> {
    scale: T,
    n: usize,
}

impl<T: Real> GaussianRandomWalk<T> {
    /// A random walk of `n` steps with step size `scale`; never fails (see the type's
    /// `# Parameters`).
    pub fn new(scale: impl Into<T>, n: usize) -> Self {
        GaussianRandomWalk {
            scale: scale.into(),
            n,
        }
    }

    /// The log-density at values `x` (as `f64`), with `x_terms` the scalars they come
    /// from when they are parameters. One node.
    fn ln_pdf_at(&self, x: &[f64], x_terms: Option<&[T]>) -> T {
        let n = self.n;
        assert_eq!(x.len(), n, "GaussianRandomWalk::ln_pdf needs {n} values");
        if !is_pos(self.scale) {
            return neg_inf();
        }
        let sigma = self.scale.value();
        let step = |i: usize| if i == 0 { x[0] } else { x[i] - x[i - 1] };
        let mut sum_sq = 0.0;
        for i in 0..n {
            let d = step(i);
            if !d.is_finite() {
                return neg_inf();
            }
            sum_sq += d * d;
        }
        let var = sigma * sigma;
        let nf = n as f64;
        let mut z_sum = sum_sq / var;
        let overflowed = z_sum.is_nan();
        if overflowed {
            // `Σ dᵢ²` overflowed while `σ²` did too: scale the steps by `σ` first
            z_sum = (0..n).map(|i| (step(i) / sigma).powi(2)).sum();
        }
        let value = -0.5 * z_sum - nf * (sigma.ln() + LN_SQRT_2PI);
        if value.is_nan() {
            return neg_inf();
        }
        if !T::TRACKS_DERIVATIVES {
            return T::from(value);
        }
        // ∂/∂σ = Σ dᵢ²/σ³ - n/σ; ∂/∂xᵢ = (dᵢ₊₁ - dᵢ)/σ² (with dₙ = 0)
        let d_scale = if overflowed {
            z_sum / sigma - nf / sigma
        } else {
            sum_sq / (var * sigma) - nf / sigma
        };
        let x_part = x_terms.into_iter().flat_map(move |xs| {
            xs.iter().enumerate().map(move |(i, &xi)| {
                let next = if i + 1 < n { step(i + 1) } else { 0.0 };
                (xi, (next - step(i)) / var)
            })
        });
        T::fused(value, std::iter::once((self.scale, d_scale)).chain(x_part))
    }
}

impl<T: Real> VectorDistribution for GaussianRandomWalk<T> {
    type Scalar = T;

    fn len(&self) -> usize {
        self.n
    }

    fn bijector(&self) -> VectorBijector {
        VectorBijector::Identity
    }

    fn support(&self) -> Support<f64> {
        Support::Real
    }

    /// One node; see the type's `# Density`.
    ///
    /// # Panics
    /// When `x.len()` is not `n`.
    fn ln_pdf(&self, x: &[T]) -> T {
        super::with_values(x, |values| self.ln_pdf_at(values, Some(x)))
    }

    fn ln_pdf_obs(&self, x: &[f64]) -> T {
        self.ln_pdf_at(x, None)
    }

    /// Cumulative sums of normal steps; NaNs for an invalid scale.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let sigma = self.scale.value();
        if !is_pos(sigma) {
            return vec![f64::NAN; self.n];
        }
        let mut level = 0.0;
        (0..self.n)
            .map(|_| {
                let z: f64 = rand_distr::StandardNormal.sample(rng);
                level += sigma * z;
                level
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn reference_values_and_invalid_scales() {
        // scipy.stats.norm(0, 0.7).logpdf([0.3, 0.9, 0.3 - 2.1]).sum() = -7.105158114736597
        // (steps of x = [0.3, 1.2, -0.9])
        let d: GaussianRandomWalk = GaussianRandomWalk::new(0.7, 3);
        assert!((d.ln_pdf(&[0.3, 1.2, -0.9]) - -7.105_158_114_736_597).abs() < 1e-14);
        assert_eq!(d.ln_pdf(&[0.3, f64::NAN, 0.0]), f64::NEG_INFINITY);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let d: GaussianRandomWalk = GaussianRandomWalk::new(bad, 2);
            assert_eq!(d.ln_pdf(&[0.0, 0.0]), f64::NEG_INFINITY, "{bad}");
            assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        }
        let empty: GaussianRandomWalk = GaussianRandomWalk::new(1.0, 0);
        assert_eq!(empty.ln_pdf(&[]), 0.0);
    }

    #[test]
    fn sampling_moments() {
        // Var[xᵢ] = (i + 1) σ², mean 0
        let d: GaussianRandomWalk = GaussianRandomWalk::new(0.5, 4);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let n = 100_000;
        let draws: Vec<Vec<f64>> = (0..n).map(|_| d.draw(&mut rng)).collect();
        for i in 0..4 {
            let var = (i + 1) as f64 * 0.25;
            let mean = draws.iter().map(|x| x[i]).sum::<f64>() / n as f64;
            let v = draws.iter().map(|x| x[i] * x[i]).sum::<f64>() / n as f64;
            assert!(mean.abs() < 4.0 * (var / n as f64).sqrt(), "mean {i}");
            // Var[x²] = 2 var² for a centred normal
            assert!(
                (v - var).abs() < 4.0 * (2.0 * var * var / n as f64).sqrt(),
                "var {i}"
            );
        }
    }
}
