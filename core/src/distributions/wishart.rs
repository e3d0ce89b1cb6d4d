//! The Wishart distribution over Cholesky factors, and the computation it shares with
//! the inverse Wishart.

use std::cell::RefCell;

use rand::Rng;
use rand_distr::Distribution as _;

use super::{VectorDistribution, neg_inf, with_values};
use crate::bijectors::VectorBijector;
use crate::context::with_scratch;
use crate::layout::Shape;
use crate::linalg;
use crate::real::Real;
use crate::special;
use crate::support::Support;
use crate::vector::VectorExpr;

thread_local! {
    /// `f64` work space of the log-densities: the variate, two products, partials.
    pub(crate) static WISHART_WORK: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// The Wishart distribution over lower Cholesky factors `L_W` of `K × K`
/// positive-definite matrices `W = L_W L_Wᵀ`, with `ν` degrees of freedom and scale
/// `S = L_S L_Sᵀ` given by its lower Cholesky factor; Stan's `wishart_cholesky`.
///
/// `L_W ~ Wishart::new(ν, L_S)` exactly when `W ~ Wishart(ν, S)`, the distribution of
/// `Σₙ zₙ zₙᵀ` for `ν` independent `zₙ ~ N(0, S)` (integer `ν`), with mean `ν S`. A
/// latent `sample!` returns the `K²` entries of `L_W`, row-major, from `K(K+1)/2`
/// unconstrained values through [`VectorBijector::CholeskyFactor`]; draws name them
/// `L[i,j]`. The scale factor is a [vector expression](crate::vector) (data or model
/// scalars) whose upper triangle is not read.
///
/// # Density
/// With respect to the lower entries of `L_W` (the Wishart density of `W` times the
/// Jacobian `2ᴷ Πᵢ (L_W)ᵢᵢ^{K-i}` of `L_W ↦ W`, `i` 0-based):
/// ```text
/// ln f(L_W) = K(1 - ν/2) ln 2 - ln Γ_K(ν/2) - ν Σᵢ ln (L_S)ᵢᵢ
///             + Σᵢ (ν - i - 1) ln (L_W)ᵢᵢ - ½ ‖L_S⁻¹ L_W‖²_F
/// ln Γ_K(a) = K(K-1)/4 ln π + Σᵢ₌₀ᴷ⁻¹ ln Γ(a - i/2)
/// ```
/// with `ν = nu`, `L_S = scale_tril`.
///
/// # Parameters
/// `ν > K - 1` and finite; `L_S` with a positive, finite diagonal and finite entries.
/// The value must be lower-triangular with a positive diagonal. Otherwise the
/// log-density is `-∞`.
///
/// # Panics
/// [`new`](Self::new) panics when the scale factor does not have `K²` entries for some
/// `K` (a caller-contract mismatch of shapes).
///
/// # Example
/// ```
/// use tilde_core::{VectorDistribution, Wishart};
/// use tilde_core::vector::data;
///
/// // K = 1: W = L² ~ Gamma(ν/2, rate 1/(2 s²)), and dW/dL = 2L
/// let d = Wishart::<f64, _>::new(3.0, data(&[1.5]));
/// let (l, a, b) = (1.2f64, 1.5f64, 1.0 / (2.0 * 2.25f64));
/// let ln_gamma_a = (std::f64::consts::PI.sqrt() / 2.0).ln();   // ln Γ(3/2)
/// let w = l * l;
/// let want = a * b.ln() - ln_gamma_a + (a - 1.0) * w.ln() - b * w + (2.0 * l).ln();
/// assert!((d.ln_pdf(&[l]) - want).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Wishart<T, S> {
    nu: T,
    scale_tril: S,
    k: usize,
}

/// The order `K` of a `K × K` matrix expression.
///
/// # Panics
/// When its length is not a square.
pub(crate) fn matrix_order<T: Real, S: VectorExpr<T>>(m: &S, what: &str) -> usize {
    let len = m.len().unwrap_or(0);
    let k = len.isqrt();
    assert!(
        m.len().is_some() && k * k == len,
        "{what}: the scale factor must be K × K, got {len} entries"
    );
    k
}

impl<T: Real, S: VectorExpr<T>> Wishart<T, S> {
    /// A Wishart with `nu` degrees of freedom and lower Cholesky factor `scale_tril` of
    /// its scale matrix.
    pub fn new(nu: impl Into<T>, scale_tril: S) -> Self {
        let k = matrix_order(&scale_tril, "Wishart");
        Wishart {
            nu: nu.into(),
            scale_tril,
            k,
        }
    }
}

/// The log-density of a Cholesky-parameterised Wishart (`inverse = false`) or inverse
/// Wishart (`inverse = true`) at the factor `x` (as `f64`, `K × K` row-major), with
/// `x_terms` the scalars it comes from when it is a parameter; one node.
///
/// With `A = L_S, B = L_W` (Wishart) or `A = L_W, B = L_S` (inverse Wishart) the
/// quadratic term is `-½ ‖A⁻¹ B‖²_F`; with `M = A⁻¹ B` and `G = A⁻ᵀ M` its partials are
/// `G Mᵀ` for `A` and `-G` for `B` (lower triangles).
pub(crate) fn ln_pdf_cholesky<T: Real, S: VectorExpr<T>>(
    inverse: bool,
    nu: T,
    scale_tril: &S,
    k: usize,
    x: &[f64],
    x_terms: Option<&[T]>,
) -> T {
    let kk = k * k;
    assert_eq!(x.len(), kk, "the Cholesky factor must have {kk} values");
    let nu_v = nu.value();
    if !(nu_v > k as f64 - 1.0 && nu_v.is_finite()) {
        return neg_inf();
    }
    with_scratch(&WISHART_WORK, 5 * kk + 2 * k, 0.0, |work| {
        let (ls, rest) = work.split_at_mut(kk);
        let (m, rest) = rest.split_at_mut(kk);
        let (g, rest) = rest.split_at_mut(kk);
        let (g_a, rest) = rest.split_at_mut(kk);
        let (g_b, rest) = rest.split_at_mut(kk);
        let (col_in, col_out) = rest[..2 * k].split_at_mut(k);
        for i in 0..k {
            for j in 0..k {
                ls[i * k + j] = if j <= i {
                    scale_tril.at(i * k + j)
                } else {
                    0.0
                };
            }
        }
        let lw = x;
        let factor_ok = |l: &[f64], strict_upper: bool| {
            (0..k).all(|i| {
                l[i * k + i] > 0.0
                    && (0..k).all(|j| l[i * k + j].is_finite())
                    && (!strict_upper || (i + 1..k).all(|j| l[i * k + j] == 0.0))
            })
        };
        if !factor_ok(ls, false) || !factor_ok(lw, true) {
            return neg_inf();
        }
        let (a, b): (&[f64], &[f64]) = if inverse { (lw, &*ls) } else { (&*ls, lw) };
        // M = A⁻¹ B and G = A⁻ᵀ M, column by column
        for c in 0..k {
            (0..k).for_each(|i| col_in[i] = b[i * k + c]);
            linalg::solve_lower(a, col_in, col_out);
            (0..k).for_each(|i| m[i * k + c] = col_out[i]);
            linalg::solve_lower_transpose(a, col_out, col_in);
            (0..k).for_each(|i| g[i * k + c] = col_in[i]);
        }
        let quad: f64 = m.iter().map(|v| v * v).sum();
        let kf = k as f64;
        let ln_2 = std::f64::consts::LN_2;
        let mut ln_gamma_k = 0.25 * kf * (kf - 1.0) * std::f64::consts::PI.ln();
        let mut d_ln_gamma_k = 0.0;
        for i in 0..k {
            ln_gamma_k += special::lgamma(0.5 * (nu_v - i as f64));
            d_ln_gamma_k += 0.5 * special::digamma(0.5 * (nu_v - i as f64));
        }
        let sum_ln_ls: f64 = (0..k).map(|i| ls[i * k + i].ln()).sum();
        let sum_ln_lw: f64 = (0..k).map(|i| lw[i * k + i].ln()).sum();
        // exponent of (L_W)ᵢᵢ and sign of the L_S term
        let (sign, power): (f64, fn(f64, usize) -> f64) = if inverse {
            (1.0, |nu, i| -nu - i as f64 - 1.0)
        } else {
            (-1.0, |nu, i| nu - i as f64 - 1.0)
        };
        let value = kf * (1.0 - 0.5 * nu_v) * ln_2 - ln_gamma_k
            + sign * nu_v * sum_ln_ls
            + (0..k)
                .map(|i| power(nu_v, i) * lw[i * k + i].ln())
                .sum::<f64>()
            - 0.5 * quad;
        if !value.is_finite() {
            return neg_inf();
        }
        if !T::TRACKS_DERIVATIVES {
            return T::from(value);
        }
        g_a.fill(0.0);
        g_b.fill(0.0);
        for i in 0..k {
            for j in 0..=i {
                g_a[i * k + j] = (0..k).map(|c| g[i * k + c] * m[j * k + c]).sum();
                g_b[i * k + j] = -g[i * k + j];
            }
        }
        let (g_ls, g_lw) = if inverse { (g_b, g_a) } else { (g_a, g_b) };
        for i in 0..k {
            g_ls[i * k + i] += sign * nu_v / ls[i * k + i];
            g_lw[i * k + i] += power(nu_v, i) / lw[i * k + i];
        }
        let d_nu = -0.5 * kf * ln_2 - d_ln_gamma_k + sign * sum_ln_ls - sign * sum_ln_lw;
        let g_ls: &[f64] = g_ls;
        let g_lw: &[f64] = g_lw;
        let x_part = x_terms
            .into_iter()
            .flat_map(|xs| (0..kk).filter(|r| r % k <= r / k).map(|r| (xs[r], g_lw[r])));
        T::fused(
            value,
            std::iter::once((nu, d_nu))
                .chain(scale_tril.terms(g_ls, 1.0))
                .chain(x_part),
        )
    })
}

/// The lower factor of a scale expression, or `None` when it is not valid.
pub(crate) fn scale_factor<T: Real, S: VectorExpr<T>>(
    scale_tril: &S,
    k: usize,
) -> Option<Vec<f64>> {
    let l: Vec<f64> = (0..k * k)
        .map(|r| {
            if r % k <= r / k {
                scale_tril.at(r)
            } else {
                0.0
            }
        })
        .collect();
    let ok = l.iter().all(|v| v.is_finite()) && (0..k).all(|i| l[i * k + i] > 0.0);
    ok.then_some(l)
}

/// Bartlett's factor `A`: lower-triangular with `Aᵢᵢ = √χ²(ν - i)` and standard normal
/// entries below the diagonal, so that `L A Aᵀ Lᵀ ~ Wishart(ν, L Lᵀ)`.
pub(crate) fn bartlett(nu: f64, k: usize, rng: &mut dyn Rng) -> Vec<f64> {
    let mut a = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..i {
            a[i * k + j] = rand_distr::StandardNormal.sample(rng);
        }
        a[i * k + i] = match rand_distr::ChiSquared::new(nu - i as f64) {
            Ok(c) => c.sample(rng).sqrt(),
            Err(_) => f64::NAN,
        };
    }
    a
}

/// `a b` for `K × K` row-major matrices.
pub(crate) fn mat_mul(a: &[f64], b: &[f64], k: usize) -> Vec<f64> {
    (0..k * k)
        .map(|r| (0..k).map(|m| a[r / k * k + m] * b[m * k + r % k]).sum())
        .collect()
}

/// The [`VectorDistribution`] methods the Wishart and the inverse Wishart share, all
/// but `draw`: `$inverse` selects the density of [`ln_pdf_cholesky`]. The names it
/// uses (`Shape`, `VectorBijector`, `Support`, `with_values`, `ln_pdf_cholesky`) must be
/// in scope where it is invoked.
macro_rules! cholesky_wishart_methods {
    ($inverse:expr, $name:literal) => {
        type Scalar = T;

        fn len(&self) -> usize {
            self.k * self.k
        }

        fn shape(&self) -> Shape {
            Shape::Matrix(self.k, self.k)
        }

        fn bijector(&self) -> VectorBijector {
            VectorBijector::CholeskyFactor
        }

        fn support(&self) -> Support<f64> {
            Support::CholeskyFactor
        }

        /// One node; see the type's `# Density`.
        ///
        /// # Panics
        /// When `x.len()` is not `K²`.
        fn ln_pdf(&self, x: &[T]) -> T {
            let kk = self.k * self.k;
            assert_eq!(x.len(), kk, concat!($name, "::ln_pdf needs {} values"), kk);
            with_values(x, |values| {
                ln_pdf_cholesky($inverse, self.nu, &self.scale_tril, self.k, values, Some(x))
            })
        }

        fn ln_pdf_obs(&self, x: &[f64]) -> T {
            ln_pdf_cholesky($inverse, self.nu, &self.scale_tril, self.k, x, None)
        }
    };
}
pub(crate) use cholesky_wishart_methods;

impl<T: Real, S: VectorExpr<T>> VectorDistribution for Wishart<T, S> {
    cholesky_wishart_methods!(false, "Wishart");

    /// `L_S A` for Bartlett's factor `A`; NaNs for invalid parameters.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let (k, nu) = (self.k, self.nu.value());
        match scale_factor(&self.scale_tril, k) {
            Some(ls) if nu > k as f64 - 1.0 && nu.is_finite() => {
                mat_mul(&ls, &bartlett(nu, k, rng), k)
            }
            _ => vec![f64::NAN; k * k],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::data;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    pub(crate) const LS: [f64; 9] = [1.2, 0.0, 0.0, 0.3, 0.9, 0.0, -0.4, 0.5, 1.1];

    #[test]
    fn invalid_parameters_give_minus_infinity() {
        let lw = [1.0, 0.0, 0.0, 0.2, 1.0, 0.0, 0.1, -0.3, 0.8];
        let ok = Wishart::<f64, _>::new(4.0, data(&LS));
        assert!(ok.ln_pdf(&lw).is_finite());
        for nu in [2.0, 1.0, f64::NAN, f64::INFINITY] {
            let d = Wishart::<f64, _>::new(nu, data(&LS));
            assert_eq!(d.ln_pdf(&lw), f64::NEG_INFINITY, "nu {nu}");
            assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        }
        let mut bad_scale = LS;
        bad_scale[4] = -0.9;
        let d = Wishart::<f64, _>::new(4.0, data(&bad_scale));
        assert_eq!(d.ln_pdf(&lw), f64::NEG_INFINITY);
        assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        let mut bad_value = lw;
        bad_value[1] = 0.5; // upper triangle
        assert_eq!(ok.ln_pdf(&bad_value), f64::NEG_INFINITY);
        bad_value = lw;
        bad_value[8] = 0.0;
        assert_eq!(ok.ln_pdf(&bad_value), f64::NEG_INFINITY);
        // the scale's upper triangle is not read
        let mut garbage = LS;
        garbage[1] = f64::NAN;
        assert_eq!(
            Wishart::<f64, _>::new(4.0, data(&garbage)).ln_pdf(&lw),
            ok.ln_pdf(&lw)
        );
    }

    #[test]
    fn sampling_moments() {
        // W = L_W L_Wᵀ: E[W] = ν S, Var[Wᵢⱼ] = ν (Sᵢⱼ² + Sᵢᵢ Sⱼⱼ)
        let (nu, k, n) = (5.5, 3, 100_000);
        let s = mat_mul(&LS, &[1.2, 0.3, -0.4, 0.0, 0.9, 0.5, 0.0, 0.0, 1.1], k);
        let d = Wishart::<f64, _>::new(nu, data(&LS));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(31);
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
                let var = nu * (s[i * k + j].powi(2) + s[i * k + i] * s[j * k + j]);
                let se = (var / n as f64).sqrt();
                assert!(
                    (mean - nu * s[i * k + j]).abs() < 4.0 * se,
                    "({i}, {j}): {mean} vs {}",
                    nu * s[i * k + j]
                );
            }
        }
    }
}
