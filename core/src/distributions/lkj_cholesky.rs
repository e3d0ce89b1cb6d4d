//! The LKJ distribution over Cholesky factors of correlation matrices.

use rand::Rng;
use rand_distr::Distribution as _;

use super::{VectorDistribution, is_pos, neg_inf};
use crate::bijectors::VectorBijector;
use crate::error::ParamError;
use crate::layout::Shape;
use crate::real::Real;
use crate::special;
use crate::support::Support;

/// How far a row of an observed factor may be from unit length (Stan's tolerance).
const UNIT_ROW_TOLERANCE: f64 = 1e-8;

/// The LKJ distribution of Lewandowski, Kurowicka and Joe (2009) over the lower Cholesky
/// factors `L` of `K × K` correlation matrices `Ω = L Lᵀ`; Stan's `lkj_corr_cholesky`.
///
/// A latent `sample!` of it returns the `K²` entries of `L`, row-major (the upper
/// triangle is 0), from `K(K-1)/2` unconstrained values through Stan's
/// `cholesky_factor_corr` transform ([`VectorBijector::CholeskyCorr`]); draws name them
/// `L[i,j]`. The density of `Ω` is `∝ det(Ω)^{η-1}`: `η = 1` is uniform over
/// correlation matrices, larger `η` concentrates near the identity, and each
/// correlation `Ωᵢⱼ` has the marginal `2 Beta(η - 1 + K/2, η - 1 + K/2) - 1`
/// (variance `1 / (2η + K - 1)`).
///
/// # Density
/// With respect to the strictly lower entries of `L`:
/// ```text
/// ln f(L) = ln c(K, η) + Σᵢ₌₁ᴷ⁻¹ (K - i - 3 + 2η) ln Lᵢᵢ        (i 0-based)
/// ln c(K, η) = (K-1) ln Γ(η + (K-1)/2) - Σₖ₌₁ᴷ⁻¹ [k/2 ln π + ln Γ(η + (K-1-k)/2)]
/// ```
/// with `η = eta`; `c` normalises `det(Ω)^{η-1}` over correlation matrices (their
/// Theorem 5, Stan's `do_lkj_constant`), and `Σ (K - i - 1) ln Lᵢᵢ` is the log-Jacobian
/// of `L ↦ Ω`.
///
/// # Parameters
/// `η > 0` and finite. The value must be lower-triangular with a positive diagonal and
/// rows of unit length (to 1e-8); otherwise the log-density is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{LkjCholesky, VectorDistribution};
///
/// // K = 2: the correlation r = L₁₀ has density (1 - r²)^{η-1} / (√π Γ(η) / Γ(η + ½))
/// let d: LkjCholesky = LkjCholesky::new(2, 2.0);
/// let r: f64 = 0.6;
/// let l = [1.0, 0.0, r, (1.0 - r * r).sqrt()];
/// assert!((d.ln_pdf(&l) - (0.64f64 * 0.75).ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LkjCholesky<T = f64> {
    k: usize,
    eta: T,
}

/// `true` when the `K × K` matrix whose entry `r` (row-major) is `at(r)` is the
/// Cholesky factor of a correlation matrix.
fn is_corr_factor(k: usize, at: impl Fn(usize) -> f64) -> bool {
    (0..k).all(|i| {
        let norm: f64 = (0..k).map(|j| at(i * k + j).powi(2)).sum();
        at(i * k + i) > 0.0
            && (i + 1..k).all(|j| at(i * k + j) == 0.0)
            && norm.is_finite()
            && (norm - 1.0).abs() <= UNIT_ROW_TOLERANCE
    })
}

/// `ln c(K, η)` and `d/dη ln c(K, η)`.
fn ln_constant(k: usize, eta: f64) -> (f64, f64) {
    let km1 = k.saturating_sub(1) as f64;
    let mut value = km1 * special::lgamma(eta + 0.5 * km1);
    let mut d_eta = km1 * special::digamma(eta + 0.5 * km1);
    for j in 1..k {
        let a = eta + 0.5 * (km1 - j as f64);
        value -= 0.5 * j as f64 * std::f64::consts::PI.ln() + special::lgamma(a);
        d_eta -= special::digamma(a);
    }
    (value, d_eta)
}

impl<T: Real> LkjCholesky<T> {
    /// The LKJ distribution of `k × k` correlation matrices with shape `eta`.
    pub fn new(k: usize, eta: impl Into<T>) -> Self {
        LkjCholesky { k, eta: eta.into() }
    }

    /// [`new`](Self::new), checking that `eta` is positive and finite.
    ///
    /// # Errors
    /// [`ParamError`] when it is not.
    pub fn try_new(k: usize, eta: impl Into<T>) -> Result<Self, ParamError> {
        let d = Self::new(k, eta);
        ParamError::check_positive("eta", d.eta)?;
        Ok(d)
    }

    /// The order `K`.
    pub fn order(&self) -> usize {
        self.k
    }

    /// The shape `η`.
    pub fn eta(&self) -> T {
        self.eta
    }
}

impl<T: Real> VectorDistribution for LkjCholesky<T> {
    type Scalar = T;

    fn len(&self) -> usize {
        self.k * self.k
    }

    fn shape(&self) -> Shape {
        Shape::Matrix(self.k, self.k)
    }

    fn bijector(&self) -> VectorBijector {
        VectorBijector::CholeskyCorr
    }

    fn support(&self) -> Support<f64> {
        Support::CholeskyCorr
    }

    /// One node: `∂/∂Lᵢᵢ = (K - i - 3 + 2η) / Lᵢᵢ`, `∂/∂η = ∂ ln c/∂η + 2 Σᵢ ln Lᵢᵢ`.
    ///
    /// # Panics
    /// When `x.len()` is not `K²`.
    fn ln_pdf(&self, x: &[T]) -> T {
        let k = self.k;
        assert_eq!(x.len(), k * k, "LkjCholesky::ln_pdf needs {} values", k * k);
        if !is_pos(self.eta) {
            return neg_inf();
        }
        if !is_corr_factor(k, |r| x[r].value()) {
            return neg_inf();
        }
        let diag = |i: usize| x[i * k + i].value();
        let eta = self.eta.value();
        let (constant, d_constant) = ln_constant(k, eta);
        let power = |i: usize| (k as f64) - (i as f64) - 3.0 + 2.0 * eta;
        let value = constant + (1..k).map(|i| power(i) * diag(i).ln()).sum::<f64>();
        if !T::TRACKS_DERIVATIVES {
            return T::from(value);
        }
        let d_eta = d_constant + 2.0 * (1..k).map(|i| diag(i).ln()).sum::<f64>();
        T::fused(
            value,
            std::iter::once((self.eta, d_eta))
                .chain((1..k).map(|i| (x[i * k + i], power(i) / diag(i)))),
        )
    }

    /// One draw through the C-vine (Lewandowski et al. 2009, §2.4): the partial
    /// correlation of `(i, j)` given `0, …, j-1` is `2 Beta(β, β) - 1` with
    /// `β = η + (K - 2 - j)/2`, mapped to `L` as [`VectorBijector::CholeskyCorr`] does.
    /// NaNs for an invalid `η`.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let k = self.k;
        let eta = self.eta.value();
        let mut l = vec![0.0; k * k];
        if !(eta > 0.0 && eta.is_finite()) {
            l.fill(f64::NAN);
            return l;
        }
        if k > 0 {
            l[0] = 1.0;
        }
        for i in 1..k {
            let mut rest = 1.0;
            for j in 0..i {
                let beta = eta + 0.5 * (k as f64 - 2.0 - j as f64);
                let z = match rand_distr::Beta::new(beta, beta) {
                    Ok(b) => 2.0 * b.sample(rng) - 1.0,
                    Err(_) => f64::NAN,
                };
                l[i * k + j] = z * f64::sqrt(rest);
                rest *= 1.0 - z * z;
            }
            l[i * k + i] = rest.sqrt();
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn constant_matches_the_closed_forms() {
        // K = 2: 1 / (2^{2η-1} B(η, η)) = Γ(η + ½) / (√π Γ(η))
        for eta in [0.5, 1.0, 2.0, 7.5] {
            let want =
                special::lgamma(eta + 0.5) - 0.5 * std::f64::consts::PI.ln() - special::lgamma(eta);
            assert!((ln_constant(2, eta).0 - want).abs() < 1e-14, "eta {eta}");
        }
        // η = 1, K = 3: the volume of 3 × 3 correlation matrices is π²/2
        assert!((ln_constant(3, 1.0).0 + (std::f64::consts::PI.powi(2) / 2.0).ln()).abs() < 1e-14);
        // the η-derivative against central differences
        for (k, eta) in [(2, 0.7), (3, 1.0), (5, 3.2)] {
            let h = 1e-6;
            let fd = (ln_constant(k, eta + h).0 - ln_constant(k, eta - h).0) / (2.0 * h);
            assert!(
                (ln_constant(k, eta).1 - fd).abs() < 1e-7,
                "K {k}, eta {eta}"
            );
        }
    }

    #[test]
    fn invalid_parameters_and_values() {
        let l = [1.0, 0.0, 0.6, 0.8];
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(LkjCholesky::<f64>::try_new(2, bad).is_err());
            let d: LkjCholesky = LkjCholesky::new(2, bad);
            assert_eq!(d.ln_pdf(&l), f64::NEG_INFINITY, "eta {bad}");
            assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        }
        let d: LkjCholesky = LkjCholesky::new(2, 1.5);
        assert!(d.ln_pdf(&l).is_finite());
        for bad in [
            [1.0, 0.0, 0.6, 0.7],  // row not of unit length
            [1.0, 0.1, 0.6, 0.8],  // not lower-triangular
            [1.0, 0.0, 0.6, -0.8], // negative diagonal
            [1.0, 0.0, f64::NAN, 0.8],
        ] {
            assert_eq!(d.ln_pdf(&bad), f64::NEG_INFINITY, "{bad:?}");
        }
    }

    #[test]
    fn sampling_moments() {
        // every correlation Ωᵢⱼ = Σₘ Lᵢₘ Lⱼₘ has mean 0 and variance 1 / (2η + K - 1);
        // for the Beta marginal, E[r⁴] = 3 / ((2β + 1)(2β + 3)) with β = η - 1 + K/2
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
        let n = 100_000;
        for (k, eta) in [(2usize, 1.0f64), (3, 2.0), (4, 0.8)] {
            let d: LkjCholesky = LkjCholesky::new(k, eta);
            let draws: Vec<Vec<f64>> = (0..n).map(|_| d.draw(&mut rng)).collect();
            assert!(draws.iter().all(|l| is_corr_factor(k, |r| l[r])));
            let beta = eta - 1.0 + k as f64 / 2.0;
            let var = 1.0 / (2.0 * eta + k as f64 - 1.0);
            let fourth = 3.0 / ((2.0 * beta + 1.0) * (2.0 * beta + 3.0));
            for i in 1..k {
                for j in 0..i {
                    let r: Vec<f64> = draws
                        .iter()
                        .map(|l| (0..=j).map(|m| l[i * k + m] * l[j * k + m]).sum())
                        .collect();
                    let mean = r.iter().sum::<f64>() / n as f64;
                    let sq = r.iter().map(|v| v * v).sum::<f64>() / n as f64;
                    assert!(
                        mean.abs() < 4.0 * (var / n as f64).sqrt(),
                        "K {k} ({i}, {j}): mean {mean}"
                    );
                    let se = ((fourth - var * var) / n as f64).sqrt();
                    assert!(
                        (sq - var).abs() < 4.0 * se,
                        "K {k} ({i}, {j}): E r² {sq} vs {var} (se {se})"
                    );
                }
            }
        }
    }
}
