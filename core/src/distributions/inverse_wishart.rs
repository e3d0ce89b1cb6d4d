//! The inverse Wishart distribution over Cholesky factors.

use rand::Rng;

use super::wishart::{
    bartlett, cholesky_wishart_methods, ln_pdf_cholesky, mat_mul, matrix_order, scale_factor,
};
use super::{VectorDistribution, with_values};
use crate::bijectors::VectorBijector;
use crate::layout::Shape;
use crate::linalg;
use crate::real::Real;
use crate::support::Support;
use crate::vector::VectorExpr;

/// The inverse Wishart distribution over lower Cholesky factors `L_W` of `K × K`
/// positive-definite matrices `W = L_W L_Wᵀ`, with `ν` degrees of freedom and scale
/// `S = L_S L_Sᵀ` given by its lower Cholesky factor; Stan's `inv_wishart_cholesky`.
///
/// `L_W ~ InverseWishart::new(ν, L_S)` exactly when `W ~ InvWishart(ν, S)`, that is
/// `W⁻¹ ~ Wishart(ν, S⁻¹)`; the mean of `W` is `S / (ν - K - 1)` for `ν > K + 1`. A
/// latent `sample!` returns the `K²` entries of `L_W`, row-major, from `K(K+1)/2`
/// unconstrained values through [`VectorBijector::CholeskyFactor`]; draws name them
/// `L[i,j]`. The scale factor is a [vector expression](crate::vector) whose upper
/// triangle is not read.
///
/// # Density
/// With respect to the lower entries of `L_W` (the inverse Wishart density of `W` times
/// the Jacobian `2ᴷ Πᵢ (L_W)ᵢᵢ^{K-i}` of `L_W ↦ W`, `i` 0-based):
/// ```text
/// ln f(L_W) = K(1 - ν/2) ln 2 - ln Γ_K(ν/2) + ν Σᵢ ln (L_S)ᵢᵢ
///             - Σᵢ (ν + i + 1) ln (L_W)ᵢᵢ - ½ ‖L_W⁻¹ L_S‖²_F
/// ```
/// with `ν = nu`, `L_S = scale_tril` and `Γ_K` the multivariate gamma function (see
/// [`Wishart`](super::Wishart)).
///
/// # Parameters
/// `ν > K - 1` and finite; `L_S` with a positive, finite diagonal and finite entries.
/// The value must be lower-triangular with a positive diagonal. Otherwise the
/// log-density is `-∞`.
///
/// # Panics
/// [`new`](Self::new) panics when the scale factor does not have `K²` entries for some
/// `K`.
///
/// # Example
/// ```
/// use tilde_core::{InverseWishart, VectorDistribution};
/// use tilde_core::vector::data;
///
/// // K = 1: W = L² ~ InverseGamma(ν/2, scale s²/2), and dW/dL = 2L
/// let d = InverseWishart::<f64, _>::new(3.0, data(&[1.5]));
/// let (l, a, b) = (1.2f64, 1.5f64, 2.25f64 / 2.0);
/// let ln_gamma_a = (std::f64::consts::PI.sqrt() / 2.0).ln();   // ln Γ(3/2)
/// let w = l * l;
/// let want = a * b.ln() - ln_gamma_a - (a + 1.0) * w.ln() - b / w + (2.0 * l).ln();
/// assert!((d.ln_pdf(&[l]) - want).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct InverseWishart<T, S> {
    nu: T,
    scale_tril: S,
    k: usize,
}

impl<T: Real, S: VectorExpr<T>> InverseWishart<T, S> {
    /// An inverse Wishart with `nu` degrees of freedom and lower Cholesky factor
    /// `scale_tril` of its scale matrix.
    pub fn new(nu: impl Into<T>, scale_tril: S) -> Self {
        let k = matrix_order(&scale_tril, "InverseWishart");
        InverseWishart {
            nu: nu.into(),
            scale_tril,
            k,
        }
    }
}

impl<T: Real, S: VectorExpr<T>> VectorDistribution for InverseWishart<T, S> {
    cholesky_wishart_methods!(true, "InverseWishart");

    /// `W = X⁻¹` for `X = L_S⁻ᵀ A Aᵀ L_S⁻¹ ~ Wishart(ν, S⁻¹)` (Bartlett's `A`), so
    /// `W = (L_S A⁻ᵀ)(L_S A⁻ᵀ)ᵀ`, returned as its Cholesky factor; NaNs for invalid
    /// parameters.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let (k, nu) = (self.k, self.nu.value());
        let Some(ls) =
            scale_factor(&self.scale_tril, k).filter(|_| nu > k as f64 - 1.0 && nu.is_finite())
        else {
            return vec![f64::NAN; k * k];
        };
        let a = bartlett(nu, k, rng);
        // F = L_S A⁻ᵀ, column c of A⁻ᵀ being the solution of Aᵀ v = e_c
        let mut a_inv_t = vec![0.0; k * k];
        let (mut e, mut v) = (vec![0.0; k], vec![0.0; k]);
        for c in 0..k {
            e.fill(0.0);
            e[c] = 1.0;
            linalg::solve_lower_transpose(&a, &e, &mut v);
            (0..k).for_each(|i| a_inv_t[i * k + c] = v[i]);
        }
        let f = mat_mul(&ls, &a_inv_t, k);
        let f_t: Vec<f64> = (0..k * k).map(|r| f[r % k * k + r / k]).collect();
        let mut w = mat_mul(&f, &f_t, k);
        if linalg::cholesky(&mut w, k) {
            w
        } else {
            vec![f64::NAN; k * k]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::data;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    const LS: [f64; 9] = [1.2, 0.0, 0.0, 0.3, 0.9, 0.0, -0.4, 0.5, 1.1];

    #[test]
    fn invalid_parameters_give_minus_infinity() {
        let lw = [1.0, 0.0, 0.0, 0.2, 1.0, 0.0, 0.1, -0.3, 0.8];
        assert!(
            InverseWishart::<f64, _>::new(4.0, data(&LS))
                .ln_pdf(&lw)
                .is_finite()
        );
        for nu in [2.0, -1.0, f64::NAN, f64::INFINITY] {
            let d = InverseWishart::<f64, _>::new(nu, data(&LS));
            assert_eq!(d.ln_pdf(&lw), f64::NEG_INFINITY, "nu {nu}");
            assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        }
        let mut bad_scale = LS;
        bad_scale[0] = 0.0;
        let d = InverseWishart::<f64, _>::new(4.0, data(&bad_scale));
        assert_eq!(d.ln_pdf(&lw), f64::NEG_INFINITY);
    }

    #[test]
    fn sampling_moments() {
        // E[W] = S / (ν - K - 1); Var[Wᵢⱼ] = ((ν-K+1) Sᵢⱼ² + (ν-K-1) Sᵢᵢ Sⱼⱼ)
        //                                   / ((ν-K)(ν-K-1)²(ν-K-3))
        let (nu, k, n) = (12.0, 3usize, 100_000);
        let kf = k as f64;
        let s = mat_mul(&LS, &[1.2, 0.3, -0.4, 0.0, 0.9, 0.5, 0.0, 0.0, 1.1], k);
        let d = InverseWishart::<f64, _>::new(nu, data(&LS));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(37);
        let mut sums = [0.0; 9];
        for _ in 0..n {
            let l = d.draw(&mut rng);
            let lt: Vec<f64> = (0..9).map(|r| l[r % 3 * 3 + r / 3]).collect();
            let w = mat_mul(&l, &lt, k);
            sums.iter_mut().zip(&w).for_each(|(s, v)| *s += v);
        }
        for i in 0..k {
            for j in 0..k {
                let mean = sums[i * k + j] / n as f64;
                let want = s[i * k + j] / (nu - kf - 1.0);
                let var = ((nu - kf + 1.0) * s[i * k + j].powi(2)
                    + (nu - kf - 1.0) * s[i * k + i] * s[j * k + j])
                    / ((nu - kf) * (nu - kf - 1.0).powi(2) * (nu - kf - 3.0));
                let se = (var / n as f64).sqrt();
                assert!(
                    (mean - want).abs() < 4.0 * se,
                    "({i}, {j}): {mean} vs {want}"
                );
            }
        }
    }
}
