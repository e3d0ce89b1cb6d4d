//! The multivariate normal distribution, parameterised by a Cholesky factor, a
//! covariance or a precision matrix.

use std::cell::RefCell;

use rand::Rng;
use rand_distr::Distribution as _;

use super::{LN_SQRT_2PI, VectorDistribution, neg_inf, with_values};
use crate::bijectors::VectorBijector;
use crate::context::with_scratch;
use crate::linalg;
use crate::real::Real;
use crate::support::Support;
use crate::vector::VectorExpr;

/// Which matrix a [`MultivariateNormal`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// The lower Cholesky factor `L` of the covariance, `Σ = L Lᵀ`.
    Cholesky,
    /// The covariance `Σ`.
    Covariance,
    /// The precision `Λ = Σ⁻¹`.
    Precision,
}

/// Replaces the lower triangle `l` (row-major, `n × n`, zeros above) of a data matrix
/// by its Cholesky factor, from this thread's cache when the same matrix was factored
/// last; `false` when it is not positive definite.
fn cached_cholesky(l: &mut [f64], n: usize) -> bool {
    MVN_FACTOR.with(|cache| {
        let mut cache = cache.borrow_mut();
        let FactorCache {
            source,
            factor,
            positive_definite,
        } = &mut *cache;
        if source.as_slice() != &*l {
            source.clear();
            source.extend_from_slice(l);
            *positive_definite = linalg::cholesky(l, n);
            factor.clear();
            factor.extend_from_slice(l);
            return *positive_definite;
        }
        l.copy_from_slice(factor);
        *positive_definite
    })
}

/// The last data matrix factored on this thread and its factor.
#[derive(Default)]
struct FactorCache {
    source: Vec<f64>,
    factor: Vec<f64>,
    positive_definite: bool,
}

/// Frees the cached factor and the work space on this thread; returns their bytes.
pub(crate) fn release_scratch() -> usize {
    let cache = MVN_FACTOR
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut cache) => {
                let bytes = cache.bytes();
                *cache = FactorCache::default();
                bytes
            }
            Err(_) => 0,
        })
        .unwrap_or(0);
    cache + crate::context::release_buffer(&MVN_WORK)
}

/// The bytes the cached factor and the work space hold on this thread.
pub(crate) fn scratch_bytes() -> usize {
    let cache = MVN_FACTOR
        .try_with(|cell| cell.try_borrow().map_or(0, |c| c.bytes()))
        .unwrap_or(0);
    cache + crate::context::buffer_bytes(&MVN_WORK)
}

impl FactorCache {
    fn bytes(&self) -> usize {
        (self.source.capacity() + self.factor.capacity()) * std::mem::size_of::<f64>()
    }
}

thread_local! {
    static MVN_FACTOR: RefCell<FactorCache> = RefCell::new(FactorCache::default());
    /// `f64` work space of the log-density: residuals, factor, partials.
    static MVN_WORK: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// The multivariate normal distribution on `ℝⁿ` with mean `μ` and covariance `Σ`.
///
/// The mean and the matrix are [vector expressions](crate::vector): data
/// (`vector::data(&mu)`, read in place, never copied), model scalars
/// (`vector::params(mu)`, a latent `.iid(n)` site say), a scalar broadcast to every
/// element (`vector::scalar(0.0)`) or an affine map of these. Matrices are `n × n`,
/// row-major, and only their lower triangle is read (the upper one may hold anything).
///
/// The log-density is recorded as one node whose partials with respect to the value,
/// the mean and every matrix entry are computed in `f64` (no per-entry nodes even for
/// the covariance and precision forms, whose Cholesky factorisation runs in `f64`).
///
/// # Density
/// ```text
/// ln f(x) = -n/2 ln 2π - Σᵢ ln Lᵢᵢ - ½ |L⁻¹ (x - μ)|²
/// ```
/// with `μ = mean` and `L` the lower Cholesky factor of `Σ`: `scale_tril` itself for
/// [`cholesky`](Self::cholesky), the factor of `cov` for
/// [`covariance`](Self::covariance), and `L_Λ⁻ᵀ` for the factor `L_Λ` of `prec` for
/// [`precision`](Self::precision) (then `ln f = -n/2 ln 2π + Σᵢ ln L_Λᵢᵢ - ½ |L_Λᵀ (x - μ)|²`).
///
/// # Parameters
/// A finite mean; for the Cholesky form a lower-triangular `L` with positive finite
/// diagonal; for the other two forms a symmetric positive-definite matrix. Otherwise
/// `ln_pdf` is `-∞`.
///
/// # Panics
/// The constructors panic when the matrix is not square or the mean's length differs
/// from the matrix's order (a caller-contract mismatch of shapes).
///
/// # Example
/// ```
/// use tilde_core::MultivariateNormal;
/// use tilde_core::VectorDistribution;
/// use tilde_core::vector::data;
///
/// let (mean, cov) = ([1.0, -1.0], [2.0, 0.5, 0.5, 1.0]);
/// let d = MultivariateNormal::<f64, _, _>::covariance(data(&mean), data(&cov));
/// // scipy.stats.multivariate_normal([1, -1], [[2, .5], [.5, 1]]).logpdf([0.5, 0.0])
/// assert!((d.ln_pdf(&[0.5, 0.0]) - -2.9033992460913423).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MultivariateNormal<T, M, S> {
    mean: M,
    matrix: S,
    form: Form,
    n: usize,
    scalar: std::marker::PhantomData<T>,
}

impl<M: VectorExpr<f64>, S: VectorExpr<f64>> MultivariateNormal<f64, M, S> {
    /// The log-density at `x` with its gradient in `x` added to `grad`, for a
    /// covariance or precision matrix factored once ([`crate::vector::factored`]): `ln f`
    /// and `∂ ln f/∂x = -Q (x - mean)` (`Q` the precision), one matrix-vector product.
    /// The mean counts as data (its `f64` values; no partials go to it). `None` for
    /// any other matrix (the caller differentiates another way) or `x` of another
    /// length; `-∞` with nothing added for values or a matrix that give no finite
    /// density.
    pub fn ln_pdf_and_grad_prepared(&self, x: &[f64], grad: &mut [f64]) -> Option<f64> {
        let n = self.n;
        let prepared = self.matrix.matrix_factor()?;
        if self.form == Form::Cholesky || x.len() != n || grad.len() != n {
            return None;
        }
        Some(with_scratch(&MVN_WORK, 2 * n, 0.0, |work| {
            let (r, w) = work.split_at_mut(n);
            match self.prepared_value(prepared, x, r, w) {
                Some(value) => {
                    for (g, wi) in grad.iter_mut().zip(w.iter()) {
                        *g -= wi;
                    }
                    value
                }
                None => f64::NEG_INFINITY,
            }
        }))
    }
}

impl<T: Real, M: VectorExpr<T>, S: VectorExpr<T>> MultivariateNormal<T, M, S> {
    fn with_form(mean: M, matrix: S, form: Form) -> Self {
        let len = matrix.len().unwrap_or(1);
        let n = (len as f64).sqrt().round() as usize;
        assert!(
            matrix.len().is_some() && n * n == len,
            "MultivariateNormal: the matrix must be n × n, got {len} entries"
        );
        if let Some(m) = mean.len() {
            assert_eq!(
                m, n,
                "MultivariateNormal: the mean has {m} values for a {n} × {n} matrix"
            );
        }
        MultivariateNormal {
            mean,
            matrix,
            form,
            n,
            scalar: std::marker::PhantomData,
        }
    }

    /// A multivariate normal with lower Cholesky factor `scale_tril` of its covariance.
    pub fn cholesky(mean: M, scale_tril: S) -> Self {
        Self::with_form(mean, scale_tril, Form::Cholesky)
    }

    /// A multivariate normal with covariance `cov`.
    pub fn covariance(mean: M, cov: S) -> Self {
        Self::with_form(mean, cov, Form::Covariance)
    }

    /// A multivariate normal with precision (inverse covariance) `prec`.
    pub fn precision(mean: M, prec: S) -> Self {
        Self::with_form(mean, prec, Form::Precision)
    }

    /// Checks the Cholesky form's factor `l` (the lower triangle, zeros above), or
    /// replaces the other forms' matrix by its factor; `false` when it is not usable.
    fn factor_in_place(&self, l: &mut [f64], matrix_is_data: bool) -> bool {
        let n = self.n;
        if self.form == Form::Cholesky {
            l.iter().all(|v| v.is_finite()) && (0..n).all(|i| l[i * n + i] > 0.0)
        } else if matrix_is_data {
            // a data matrix is factored once: the factor is kept beside an exact copy
            // of the matrix it came from, and reused while the matrix is the same
            cached_cholesky(l, n)
        } else {
            // the lower triangle mirrored: `linalg::cholesky` reads only it
            linalg::cholesky(l, n)
        }
    }

    /// The log-density at `x` over a matrix factored when it was made, with `w = Q r`
    /// written into `w` (`Q` the precision, the matrix itself or the covariance's inverse;
    /// `r = x - mean`): `ln f = -n/2 ln 2π ± ½ ln det A - ½ rᵀ w`, one matrix-vector
    /// product. `None` when it is not finite.
    fn prepared_value(
        &self,
        prepared: &crate::vector::MatrixFactor,
        x: &[f64],
        r: &mut [f64],
        w: &mut [f64],
    ) -> Option<f64> {
        let n = self.n;
        let q = match self.form {
            Form::Precision => prepared.symmetric(),
            _ => prepared.inverse(),
        }?;
        for i in 0..n {
            r[i] = x[i] - self.mean.at(i);
            if !r[i].is_finite() {
                return None;
            }
        }
        let mut quadratic = 0.0;
        for (i, row) in q.chunks_exact(n).enumerate() {
            w[i] = crate::simd::dot(row, r);
            quadratic += r[i] * w[i];
        }
        let half_ln_det = prepared.half_ln_det();
        let ln_det = match self.form {
            Form::Precision => half_ln_det,
            _ => -half_ln_det,
        };
        let value = -(n as f64) * LN_SQRT_2PI + ln_det - 0.5 * quadratic;
        value.is_finite().then_some(value)
    }

    /// [`ln_pdf_at`](Self::ln_pdf_at) over a matrix factored when it was made
    /// ([`prepared_value`](Self::prepared_value)): `∂/∂x = -w`, and no partials for the
    /// (data) matrix.
    fn ln_pdf_prepared(
        &self,
        prepared: &crate::vector::MatrixFactor,
        x: &[f64],
        x_terms: Option<&[T]>,
    ) -> T {
        let n = self.n;
        with_scratch(&MVN_WORK, 2 * n, 0.0, |work| {
            let (r, w) = work.split_at_mut(n);
            let Some(value) = self.prepared_value(prepared, x, r, w) else {
                return neg_inf();
            };
            if !T::TRACKS_DERIVATIVES {
                return T::from(value);
            }
            let w: &[f64] = w;
            let x_part = x_terms
                .into_iter()
                .flat_map(|xs| xs.iter().zip(w).map(|(&xi, &wi)| (xi, -wi)));
            T::fused(value, self.mean.terms(w, 1.0).chain(x_part))
        })
    }

    /// The log-density at values `x` (as `f64`), with `x_terms` the scalars they come
    /// from when they are parameters.
    fn ln_pdf_at(&self, x: &[f64], x_terms: Option<&[T]>) -> T {
        let n = self.n;
        assert_eq!(x.len(), n, "MultivariateNormal::ln_pdf needs {n} values");
        if self.form != Form::Cholesky
            && let Some(prepared) = self.matrix.matrix_factor()
        {
            return self.ln_pdf_prepared(prepared, x, x_terms);
        }
        let nn = n * n;
        with_scratch(&MVN_WORK, 5 * n + 3 * nn, 0.0, |work| {
            let (r, rest) = work.split_at_mut(n);
            let (z, rest) = rest.split_at_mut(n);
            let (w, rest) = rest.split_at_mut(n);
            let (l, rest) = rest.split_at_mut(nn);
            let (g_mat, rest) = rest.split_at_mut(nn);
            let (inv, inv_work) = rest.split_at_mut(nn);
            for i in 0..n {
                r[i] = x[i] - self.mean.at(i);
                if !r[i].is_finite() {
                    return neg_inf();
                }
            }
            let matrix_is_data = self.matrix.is_data();
            for i in 0..n {
                for j in 0..n {
                    l[i * n + j] = if j <= i {
                        self.matrix.at(i * n + j)
                    } else {
                        0.0
                    };
                }
            }
            if !self.factor_in_place(l, matrix_is_data) {
                return neg_inf();
            }
            let ln_det: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
            let value;
            if self.form == Form::Precision {
                // z = Lᵀ r, w = Λ r = L z
                for i in 0..n {
                    z[i] = (i..n).map(|k| l[k * n + i] * r[k]).sum();
                }
                for i in 0..n {
                    w[i] = (0..=i).map(|k| l[i * n + k] * z[k]).sum();
                }
                value =
                    -(n as f64) * LN_SQRT_2PI + ln_det - 0.5 * z.iter().map(|v| v * v).sum::<f64>();
            } else {
                // z = L⁻¹ r, w = L⁻ᵀ z = Σ⁻¹ r
                linalg::solve_lower(l, r, z);
                linalg::solve_lower_transpose(l, z, w);
                value =
                    -(n as f64) * LN_SQRT_2PI - ln_det - 0.5 * z.iter().map(|v| v * v).sum::<f64>();
            }
            if !T::TRACKS_DERIVATIVES || !value.is_finite() {
                return if value.is_finite() {
                    T::from(value)
                } else {
                    neg_inf()
                };
            }
            g_mat.fill(0.0);
            match self.form {
                // a data matrix has no partials to send
                _ if matrix_is_data => {}
                Form::Cholesky => {
                    // ∂/∂Lᵢⱼ = wᵢ zⱼ - δᵢⱼ / Lᵢᵢ (i ≥ j)
                    for i in 0..n {
                        for j in 0..=i {
                            g_mat[i * n + j] = w[i] * z[j];
                        }
                        g_mat[i * n + i] -= 1.0 / l[i * n + i];
                    }
                }
                Form::Covariance | Form::Precision => {
                    // the inverse of the factored matrix, from L⁻¹
                    linalg::inverse_from_cholesky(l, n, inv_work, inv);
                    // covariance: ∂/∂Σ = ½ (w wᵀ - Σ⁻¹); precision: ∂/∂Λ = ½ (Λ⁻¹ - r rᵀ);
                    // off-diagonal lower entries stand for both halves of the matrix
                    for i in 0..n {
                        for j in 0..=i {
                            let sym = if self.form == Form::Covariance {
                                0.5 * (w[i] * w[j] - inv[i * n + j])
                            } else {
                                0.5 * (inv[i * n + j] - r[i] * r[j])
                            };
                            g_mat[i * n + j] = if i == j { sym } else { 2.0 * sym };
                        }
                    }
                }
            }
            let w: &[f64] = w;
            let g_mat: &[f64] = g_mat;
            let x_part = x_terms
                .into_iter()
                .flat_map(|xs| xs.iter().zip(w).map(|(&xi, &wi)| (xi, -wi)));
            T::fused(
                value,
                self.mean
                    .terms(w, 1.0)
                    .chain(self.matrix.terms(g_mat, 1.0))
                    .chain(x_part),
            )
        })
    }
}

impl<T: Real, M: VectorExpr<T>, S: VectorExpr<T>> VectorDistribution
    for MultivariateNormal<T, M, S>
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
        let n = self.n;
        assert_eq!(x.len(), n, "MultivariateNormal::ln_pdf needs {n} values");
        with_values(x, |values| self.ln_pdf_at(values, Some(x)))
    }

    fn ln_pdf_obs(&self, x: &[f64]) -> T {
        self.ln_pdf_at(x, None)
    }

    /// `μ + L z` for standard normal `z` (`μ + L_Λ⁻ᵀ z` for the precision form); NaNs
    /// when the matrix is not valid.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let n = self.n;
        let mut l: Vec<f64> = (0..n * n)
            .map(|k| {
                if k % n <= k / n {
                    self.matrix.at(k)
                } else {
                    0.0
                }
            })
            .collect();
        let valid = match self.form {
            Form::Cholesky => (0..n).all(|i| l[i * n + i] > 0.0),
            Form::Covariance | Form::Precision => linalg::cholesky(&mut l, n),
        };
        if !valid {
            return vec![f64::NAN; n];
        }
        let z: Vec<f64> = (0..n)
            .map(|_| rand_distr::StandardNormal.sample(rng))
            .collect();
        let mut out = vec![0.0; n];
        if self.form == Form::Precision {
            linalg::solve_lower_transpose(&l, &z, &mut out);
        } else {
            linalg::lower_mul(&l, &z, &mut out);
        }
        out.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v += self.mean.at(i));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{data, params, scalar};
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    const MEAN: [f64; 3] = [0.5, -1.0, 2.0];
    const COV: [f64; 9] = [2.0, 0.3, -0.4, 0.3, 1.5, 0.2, -0.4, 0.2, 1.0];

    fn factor(a: &[f64], n: usize) -> Vec<f64> {
        let mut l = a.to_vec();
        assert!(linalg::cholesky(&mut l, n));
        l
    }

    fn inverse(a: &[f64], n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n * n];
        linalg::inverse_from_cholesky(&factor(a, n), n, &mut vec![0.0; 2 * n], &mut out);
        out
    }

    #[test]
    fn the_three_forms_agree() {
        let x = [1.0, 0.2, 1.1];
        let l = factor(&COV, 3);
        let prec = inverse(&COV, 3);
        let a = MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), data(&COV)).ln_pdf(&x);
        let b = MultivariateNormal::<f64, _, _>::cholesky(data(&MEAN), data(&l)).ln_pdf(&x);
        let c = MultivariateNormal::<f64, _, _>::precision(data(&MEAN), data(&prec)).ln_pdf(&x);
        assert!(
            (a - b).abs() < 1e-14 && (a - c).abs() < 1e-13,
            "{a} {b} {c}"
        );
        // a one-dimensional one is a normal
        let d = MultivariateNormal::<f64, _, _>::covariance(scalar(1.0), data(&[4.0]));
        let want = -0.5 * 0.25 - 2f64.ln() - LN_SQRT_2PI;
        assert!((d.ln_pdf(&[2.0]) - want).abs() < 1e-15);
    }

    /// A data matrix's factor is reused only for the same matrix: alternating between
    /// two covariances (and a non-positive-definite one) of one size gives the values
    /// of the uncached Cholesky form every time.
    #[test]
    fn a_prepared_factor_gives_the_densities_of_the_matrix() {
        use crate::vector::{MatrixFactor, factored};
        let x = [1.0, 0.2, 1.1];
        let other = [1.0, -0.2, 0.1, -0.2, 0.8, 0.0, 0.1, 0.0, 3.0];
        for m in [&COV, &other] {
            let f = MatrixFactor::new(m);
            let pairs = [
                (
                    MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), data(m)).ln_pdf(&x),
                    MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), factored(&f))
                        .ln_pdf(&x),
                ),
                (
                    MultivariateNormal::<f64, _, _>::precision(data(&MEAN), data(m)).ln_pdf(&x),
                    MultivariateNormal::<f64, _, _>::precision(data(&MEAN), factored(&f))
                        .ln_pdf(&x),
                ),
            ];
            for (plain, prepared) in pairs {
                assert!(plain.is_finite());
                assert!(
                    (plain - prepared).abs() <= 1e-13 * plain.abs(),
                    "{plain} vs {prepared}"
                );
            }
        }
        let not_pd = MatrixFactor::new(&[1.0, 2.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert!(not_pd.factor().is_none());
        let bad = MultivariateNormal::<f64, _, _>::precision(data(&MEAN), factored(&not_pd));
        assert_eq!(bad.ln_pdf(&x), f64::NEG_INFINITY);
        assert!(MatrixFactor::new(&[1.0, 2.0]).factor().is_none());
        assert!(MatrixFactor::new(&[f64::NAN]).factor().is_none());
    }

    #[test]
    fn the_cached_factor_belongs_to_its_matrix() {
        let x = [1.0, 0.2, 1.1];
        let other = [1.0, -0.2, 0.1, -0.2, 0.8, 0.0, 0.1, 0.0, 3.0];
        let not_pd = [1.0, 2.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        for _ in 0..3 {
            for cov in [&COV, &other] {
                let l = factor(cov, 3);
                let cached =
                    MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), data(cov)).ln_pdf(&x);
                let direct =
                    MultivariateNormal::<f64, _, _>::cholesky(data(&MEAN), data(&l)).ln_pdf(&x);
                assert!((cached - direct).abs() < 1e-14, "{cached} vs {direct}");
            }
            let bad = MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), data(&not_pd));
            assert_eq!(bad.ln_pdf(&x), f64::NEG_INFINITY);
        }
    }

    #[test]
    fn invalid_parameters_give_minus_infinity() {
        let x = [0.0, 0.0];
        let not_pd = [1.0, 2.0, 2.0, 1.0];
        let neg_diag = [1.0, 0.0, 0.5, -1.0];
        let nan = [f64::NAN, 0.0, 0.0, 1.0];
        let m = [0.0, 0.0];
        for (form, mat) in [
            (Form::Covariance, &not_pd),
            (Form::Precision, &not_pd),
            (Form::Cholesky, &neg_diag),
            (Form::Cholesky, &nan),
            (Form::Covariance, &nan),
        ] {
            let d = MultivariateNormal::<f64, _, _>::with_form(data(&m), data(mat), form);
            assert_eq!(d.ln_pdf(&x), f64::NEG_INFINITY, "{form:?} {mat:?}");
            assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        }
        let d = MultivariateNormal::<f64, _, _>::covariance(data(&m), data(&[1.0, 0.0, 0.0, 1.0]));
        assert_eq!(d.ln_pdf(&[f64::INFINITY, 0.0]), f64::NEG_INFINITY);
        assert_eq!(d.ln_pdf(&[f64::NAN, 0.0]), f64::NEG_INFINITY);
        let m_inf = [f64::INFINITY, 0.0];
        let d =
            MultivariateNormal::<f64, _, _>::covariance(data(&m_inf), data(&[1.0, 0.0, 0.0, 1.0]));
        assert_eq!(d.ln_pdf(&x), f64::NEG_INFINITY);
    }

    #[test]
    #[should_panic(expected = "the mean has 2 values")]
    fn shapes_must_match() {
        let _ = MultivariateNormal::<f64, _, _>::covariance(data(&[0.0, 0.0]), data(&COV));
    }

    #[test]
    fn only_the_lower_triangle_is_read() {
        let mut garbage = COV;
        garbage[1] = 99.0;
        garbage[2] = f64::NAN;
        let x = [1.0, 0.2, 1.1];
        let a = MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), data(&COV)).ln_pdf(&x);
        let b = MultivariateNormal::<f64, _, _>::covariance(data(&MEAN), data(&garbage)).ln_pdf(&x);
        assert_eq!(a, b);
        let p = params(&MEAN[..]);
        let c = MultivariateNormal::covariance(p, data(&COV)).ln_pdf(&x);
        assert_eq!(a, c);
    }

    #[test]
    fn sampling_moments() {
        // the sample mean and covariance of every form match μ and Σ
        let l = factor(&COV, 3);
        let prec = inverse(&COV, 3);
        let n = 100_000;
        for form in [Form::Cholesky, Form::Covariance, Form::Precision] {
            let mat: &[f64] = match form {
                Form::Cholesky => &l,
                Form::Covariance => &COV,
                Form::Precision => &prec,
            };
            let d = MultivariateNormal::<f64, _, _>::with_form(data(&MEAN), data(mat), form);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
            let draws: Vec<Vec<f64>> = (0..n).map(|_| d.draw(&mut rng)).collect();
            for i in 0..3 {
                let mean = draws.iter().map(|x| x[i]).sum::<f64>() / n as f64;
                let se = (COV[i * 3 + i] / n as f64).sqrt();
                assert!((mean - MEAN[i]).abs() < 4.0 * se, "{form:?} mean {i}");
                for j in 0..=i {
                    let c = draws
                        .iter()
                        .map(|x| (x[i] - MEAN[i]) * (x[j] - MEAN[j]))
                        .sum::<f64>()
                        / n as f64;
                    // Var[(xᵢ - μᵢ)(xⱼ - μⱼ)] = ΣᵢᵢΣⱼⱼ + Σᵢⱼ²
                    let sd = ((COV[i * 3 + i] * COV[j * 3 + j] + COV[i * 3 + j].powi(2))
                        / n as f64)
                        .sqrt();
                    assert!(
                        (c - COV[i * 3 + j]).abs() < 4.0 * sd,
                        "{form:?} cov ({i}, {j})"
                    );
                }
            }
        }
    }
}
