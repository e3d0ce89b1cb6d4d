//! The multivariate normal with a low-rank-plus-diagonal covariance.

use std::cell::RefCell;

use rand::Rng;
use rand_distr::Distribution as _;

use super::{LN_SQRT_2PI, VectorDistribution, is_pos, neg_inf, with_values};
use crate::bijectors::VectorBijector;
use crate::context::with_scratch;
use crate::linalg;
use crate::real::Real;
use crate::support::Support;
use crate::vector::VectorExpr;

thread_local! {
    /// `f64` work space of the log-density.
    pub(crate) static LOW_RANK_WORK: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// The multivariate normal on `ℝⁿ` with mean `μ` and covariance `Σ = W Wᵀ + diag(d)`,
/// for a factor `W` of `n × r` and a positive diagonal `d`; NumPyro's
/// `LowRankMultivariateNormal`.
///
/// The mean, factor and diagonal are [vector expressions](crate::vector) (data or
/// model scalars); `W` is row-major, `n` rows of `r` values. The log-density costs
/// `O(n r²)` instead of the `O(n³)` of a dense covariance, through the Woodbury identity
/// and the matrix determinant lemma, and is one node with partials for every
/// parameter.
///
/// # Density
/// ```text
/// ln f(x) = -n/2 ln 2π - ½ ln det Σ - ½ (x - μ)ᵀ Σ⁻¹ (x - μ)
/// Σ⁻¹ = D⁻¹ - D⁻¹ W C⁻¹ Wᵀ D⁻¹,   det Σ = det C · Πᵢ dᵢ,   C = I_r + Wᵀ D⁻¹ W
/// ```
/// with `μ = mean`, `W = cov_factor`, `D = diag(cov_diag)`.
///
/// # Parameters
/// A finite mean and factor and a positive, finite diagonal; otherwise `ln_pdf` is
/// `-∞`.
///
/// # Panics
/// [`new`](Self::new) panics when the lengths do not fit (`n` from the diagonal, and a
/// factor of `n × r` values; a caller-contract mismatch of shapes).
///
/// # Example
/// ```
/// use tilde_core::{LowRankMultivariateNormal, VectorDistribution};
/// use tilde_core::vector::data;
///
/// // Σ = [1, 1]ᵀ[1, 1] + diag(1, 1) = [[2, 1], [1, 2]]
/// let d = LowRankMultivariateNormal::<f64, _, _, _>::new(
///     data(&[1.0, -1.0]), data(&[1.0, 1.0]), data(&[1.0, 1.0]));
/// // scipy.stats.multivariate_normal([1, -1], [[2, 1], [1, 2]]).logpdf([0.5, 0.0])
/// assert!((d.ln_pdf(&[0.5, 0.0]) - -2.970516544076734).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LowRankMultivariateNormal<T, M, F, D> {
    mean: M,
    cov_factor: F,
    cov_diag: D,
    n: usize,
    rank: usize,
    scalar: std::marker::PhantomData<T>,
}

impl<T: Real, M: VectorExpr<T>, F: VectorExpr<T>, D: VectorExpr<T>>
    LowRankMultivariateNormal<T, M, F, D>
{
    /// A multivariate normal with mean `mean` and covariance
    /// `cov_factor cov_factorᵀ + diag(cov_diag)`.
    pub fn new(mean: M, cov_factor: F, cov_diag: D) -> Self {
        let n = cov_diag.len().or(mean.len());
        assert!(
            n.is_some(),
            "LowRankMultivariateNormal: the mean or the diagonal must have a length"
        );
        let n = n.unwrap_or(0);
        let len = cov_factor.len().unwrap_or(0);
        let rank = len.checked_div(n).unwrap_or(0);
        assert!(
            cov_factor.len().is_some() && rank * n == len,
            "LowRankMultivariateNormal: the factor must be {n} × r, got {len} entries"
        );
        if let Some(m) = mean.len() {
            assert_eq!(
                m, n,
                "LowRankMultivariateNormal: the mean has {m} values for {n}"
            );
        }
        LowRankMultivariateNormal {
            mean,
            cov_factor,
            cov_diag,
            n,
            rank,
            scalar: std::marker::PhantomData,
        }
    }

    /// The rank `r` of the factor.
    pub fn rank(&self) -> usize {
        self.rank
    }

    fn ln_pdf_at(&self, x: &[f64], x_terms: Option<&[T]>) -> T {
        let (n, r) = (self.n, self.rank);
        assert_eq!(
            x.len(),
            n,
            "LowRankMultivariateNormal::ln_pdf needs {n} values"
        );
        let w = |i: usize, a: usize| self.cov_factor.at(i * r + a);
        with_scratch(&LOW_RANK_WORK, 4 * n + r * r + 5 * r + n * r, 0.0, |work| {
            let (res, rest) = work.split_at_mut(n);
            let (d, rest) = rest.split_at_mut(n);
            let (alpha, rest) = rest.split_at_mut(n);
            let (g_d, rest) = rest.split_at_mut(n);
            let (c, rest) = rest.split_at_mut(r * r);
            let (u, rest) = rest.split_at_mut(r);
            let (v, rest) = rest.split_at_mut(r);
            let (tmp, rest) = rest.split_at_mut(r);
            let (beta, rest) = rest.split_at_mut(r);
            let (p, g_w) = rest.split_at_mut(r);
            let g_w = &mut g_w[..n * r];
            for i in 0..n {
                res[i] = x[i] - self.mean.at(i);
                d[i] = self.cov_diag.at(i);
                if !res[i].is_finite() || !is_pos(d[i]) {
                    return neg_inf();
                }
                if (0..r).any(|a| !w(i, a).is_finite()) {
                    return neg_inf();
                }
            }
            // C = I + Wᵀ D⁻¹ W, factored in place
            for a in 0..r {
                for b in 0..=a {
                    let s: f64 = (0..n).map(|i| w(i, a) * w(i, b) / d[i]).sum();
                    c[a * r + b] = s + if a == b { 1.0 } else { 0.0 };
                }
            }
            if !linalg::cholesky(c, r) {
                return neg_inf();
            }
            // u = Wᵀ D⁻¹ res, v = C⁻¹ u, α = Σ⁻¹ res = D⁻¹ (res - W v)
            for (a, ua) in u.iter_mut().enumerate() {
                *ua = (0..n).map(|i| w(i, a) * res[i] / d[i]).sum();
            }
            linalg::solve_lower(c, u, tmp);
            linalg::solve_lower_transpose(c, tmp, v);
            for i in 0..n {
                alpha[i] = (res[i] - (0..r).map(|a| w(i, a) * v[a]).sum::<f64>()) / d[i];
            }
            let quad = (0..n).map(|i| res[i] * res[i] / d[i]).sum::<f64>()
                - u.iter().zip(v.iter()).map(|(a, b)| a * b).sum::<f64>();
            let ln_det = 2.0 * (0..r).map(|a| c[a * r + a].ln()).sum::<f64>()
                + d.iter().map(|v| v.ln()).sum::<f64>();
            let value = -(n as f64) * LN_SQRT_2PI - 0.5 * ln_det - 0.5 * quad;
            if !value.is_finite() {
                return neg_inf();
            }
            if !T::TRACKS_DERIVATIVES {
                return T::from(value);
            }
            // ∂/∂W = α (Wᵀα)ᵀ - D⁻¹ W C⁻¹; ∂/∂dᵢ = ½ (αᵢ² - (Σ⁻¹)ᵢᵢ)
            for (a, ba) in beta.iter_mut().enumerate() {
                *ba = (0..n).map(|i| w(i, a) * alpha[i]).sum();
            }
            for i in 0..n {
                (0..r).for_each(|a| u[a] = w(i, a));
                linalg::solve_lower(c, u, tmp);
                linalg::solve_lower_transpose(c, tmp, p);
                let w_p: f64 = (0..r).map(|a| w(i, a) * p[a]).sum();
                for a in 0..r {
                    g_w[i * r + a] = alpha[i] * beta[a] - p[a] / d[i];
                }
                let inv_ii = 1.0 / d[i] - w_p / (d[i] * d[i]);
                g_d[i] = 0.5 * (alpha[i] * alpha[i] - inv_ii);
            }
            let (alpha, g_w, g_d): (&[f64], &[f64], &[f64]) = (alpha, g_w, g_d);
            let x_part = x_terms
                .into_iter()
                .flat_map(|xs| xs.iter().zip(alpha).map(|(&xi, &ai)| (xi, -ai)));
            T::fused(
                value,
                self.mean
                    .terms(alpha, 1.0)
                    .chain(self.cov_factor.terms(g_w, 1.0))
                    .chain(self.cov_diag.terms(g_d, 1.0))
                    .chain(x_part),
            )
        })
    }
}

impl<T: Real, M: VectorExpr<T>, F: VectorExpr<T>, D: VectorExpr<T>> VectorDistribution
    for LowRankMultivariateNormal<T, M, F, D>
{
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
        assert_eq!(
            x.len(),
            self.n,
            "LowRankMultivariateNormal::ln_pdf needs {} values",
            self.n
        );
        with_values(x, |values| self.ln_pdf_at(values, Some(x)))
    }

    fn ln_pdf_obs(&self, x: &[f64]) -> T {
        self.ln_pdf_at(x, None)
    }

    /// `μ + W z + √d ∘ ε` for standard normal `z` (`r` values) and `ε` (`n`); NaNs for
    /// invalid parameters.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let (n, r) = (self.n, self.rank);
        let valid = (0..n).all(|i| {
            let d = self.cov_diag.at(i);
            d > 0.0 && d.is_finite() && self.mean.at(i).is_finite()
        }) && (0..n * r).all(|k| self.cov_factor.at(k).is_finite());
        if !valid {
            return vec![f64::NAN; n];
        }
        let z: Vec<f64> = (0..r)
            .map(|_| rand_distr::StandardNormal.sample(rng))
            .collect();
        (0..n)
            .map(|i| {
                let eps: f64 = rand_distr::StandardNormal.sample(rng);
                self.mean.at(i)
                    + (0..r)
                        .map(|a| self.cov_factor.at(i * r + a) * z[a])
                        .sum::<f64>()
                    + self.cov_diag.at(i).sqrt() * eps
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::MultivariateNormal;
    use crate::vector::{data, scalar};
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    const MEAN: [f64; 4] = [0.5, -1.0, 2.0, 0.0];
    const W: [f64; 8] = [0.8, -0.2, 0.3, 0.5, -0.6, 0.1, 0.2, 1.1];
    const D: [f64; 4] = [0.5, 1.2, 0.3, 0.9];

    fn dense() -> Vec<f64> {
        (0..16)
            .map(|k| {
                let (i, j) = (k / 4, k % 4);
                W[i * 2] * W[j * 2] + W[i * 2 + 1] * W[j * 2 + 1] + if i == j { D[i] } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn agrees_with_the_dense_form() {
        let cov = dense();
        let d = LowRankMultivariateNormal::<f64, _, _, _>::new(data(&MEAN), data(&W), data(&D));
        let full = MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), data(&cov));
        for x in [[1.0, 0.2, 1.1, -0.4], [-3.0, 2.0, 0.0, 5.0]] {
            let (a, b) = (d.ln_pdf(&x), full.ln_pdf(&x));
            assert!((a - b).abs() < 1e-13 * b.abs().max(1.0), "{a} vs {b}");
        }
        assert_eq!(d.rank(), 2);
        // rank 0 is a diagonal normal
        let diag =
            LowRankMultivariateNormal::<f64, _, _, _>::new(scalar(0.0), data(&[]), data(&[4.0]));
        assert!((diag.ln_pdf(&[2.0]) - (-0.5 - 2f64.ln() - LN_SQRT_2PI)).abs() < 1e-15);
    }

    #[test]
    fn invalid_parameters_give_minus_infinity() {
        let x = [0.0; 4];
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut d_bad = D;
            d_bad[2] = bad;
            let d =
                LowRankMultivariateNormal::<f64, _, _, _>::new(data(&MEAN), data(&W), data(&d_bad));
            assert_eq!(d.ln_pdf(&x), f64::NEG_INFINITY, "diag {bad}");
            assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        }
        let mut w_bad = W;
        w_bad[3] = f64::NAN;
        let d = LowRankMultivariateNormal::<f64, _, _, _>::new(data(&MEAN), data(&w_bad), data(&D));
        assert_eq!(d.ln_pdf(&x), f64::NEG_INFINITY);
        let d = LowRankMultivariateNormal::<f64, _, _, _>::new(data(&MEAN), data(&W), data(&D));
        assert_eq!(d.ln_pdf(&[f64::NAN, 0.0, 0.0, 0.0]), f64::NEG_INFINITY);
    }

    #[test]
    #[should_panic(expected = "the factor must be 4 × r")]
    fn shapes_must_match() {
        let _ =
            LowRankMultivariateNormal::<f64, _, _, _>::new(data(&MEAN), data(&W[..7]), data(&D));
    }

    #[test]
    fn sampling_moments() {
        // the sample mean and covariance match μ and W Wᵀ + diag(d), to 4 standard errors
        let cov = dense();
        let d = LowRankMultivariateNormal::<f64, _, _, _>::new(data(&MEAN), data(&W), data(&D));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(41);
        let n = 100_000;
        let draws: Vec<Vec<f64>> = (0..n).map(|_| d.draw(&mut rng)).collect();
        for i in 0..4 {
            let mean = draws.iter().map(|x| x[i]).sum::<f64>() / n as f64;
            assert!((mean - MEAN[i]).abs() < 4.0 * (cov[i * 5] / n as f64).sqrt());
            for j in 0..=i {
                let c = draws
                    .iter()
                    .map(|x| (x[i] - MEAN[i]) * (x[j] - MEAN[j]))
                    .sum::<f64>()
                    / n as f64;
                let sd = ((cov[i * 5] * cov[j * 5] + cov[i * 4 + j].powi(2)) / n as f64).sqrt();
                assert!((c - cov[i * 4 + j]).abs() < 4.0 * sd, "cov ({i}, {j})");
            }
        }
    }
}
