//! Per-element parameters without a scalar loop: lazy vector expressions whose
//! log-density is recorded as one node.
//!
//! `y[i] ~ Normal(mu + tau * z[i], sigma[i])` written as a loop records several nodes
//! per element. Written as one site,
//!
//! ```text
//! sample!("y", Normal::each(params(z).scale(tau).shift(mu), data(sigma)), obs = y);
//! ```
//!
//! it records one node whose partials are summed analytically through the expression:
//! the gradient costs about what the plain evaluation does.
//!
//! ```
//! use tilde_core::vector::{data, params, VectorExpr};
//!
//! let z = [0.5, -1.0];
//! let theta = params(&z).scale(2.0).shift(1.0);          // 1 + 2·z
//! assert_eq!((theta.at(0), theta.at(1)), (2.0, -1.0));
//! assert_eq!(VectorExpr::<f64>::len(&data(&[3.0, 4.0])), Some(2));
//! ```

use crate::layout::Shape;
use crate::real::Real;

/// A vector whose elements are computed from model scalars on demand.
pub trait VectorExpr<T: Real>: Copy {
    /// The length, or `None` for a scalar broadcast to any length.
    fn len(&self) -> Option<usize>;

    /// `true` for a vector of length 0.
    fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Element `i` as `f64`.
    ///
    /// # Panics
    /// When `i` is not below [`len`](Self::len) (a caller-contract mismatch; a
    /// broadcast scalar has every index).
    fn at(&self, i: usize) -> f64;

    /// The scalars this expression depends on, each with `factor · Σᵢ gᵢ ∂eᵢ/∂t`, where
    /// `gᵢ` is the derivative of a log-density with respect to element `i`.
    fn terms<'a>(&'a self, g: &'a [f64], factor: f64) -> impl Iterator<Item = (T, f64)> + 'a;

    /// `true` when the elements are data (no model scalar), so that work on them can be
    /// done once and their partials skipped.
    fn is_data(&self) -> bool {
        false
    }

    /// The data matrix this expression is, with its Cholesky factor computed once
    /// ([`factored`]), so that a distribution over it factors nothing per evaluation.
    fn matrix_factor(&self) -> Option<&MatrixFactor> {
        None
    }

    /// `s · self`.
    fn scale(self, s: impl Into<T>) -> Affine<T, Self> {
        Affine {
            shift: T::from(0.0),
            scale: s.into(),
            base: self,
        }
    }

    /// `self + c`.
    fn shift(self, c: impl Into<T>) -> Affine<T, Self> {
        Affine {
            shift: c.into(),
            scale: T::from(1.0),
            base: self,
        }
    }
}

/// Model scalars as a vector: [`params`].
#[derive(Clone, Copy, Debug)]
pub struct Params<'a, T>(&'a [T]);

/// Data as a vector: [`data`].
#[derive(Clone, Copy, Debug)]
pub struct Data<'a>(&'a [f64]);

/// A data matrix with its factor computed once: [`factored`].
#[derive(Clone, Copy, Debug)]
pub struct Factored<'a>(&'a MatrixFactor);

/// A data matrix (`n × n`, row-major) and the Cholesky factor of its lower triangle,
/// computed once when it is made: [`factored`] gives it to
/// [`MultivariateNormal::covariance`](crate::MultivariateNormal::covariance) or
/// [`precision`](crate::MultivariateNormal::precision), which then factor nothing when
/// they evaluate. `#[model]` makes one at construction for such a site over a data
/// argument (`MultivariateNormal::precision(data(mu), data(prec))`), so a model
/// written that way gets it without asking.
///
/// ```
/// use tilde_core::vector::{data, factored, MatrixFactor};
/// use tilde_core::{MultivariateNormal, VectorDistribution};
///
/// let (mean, cov) = ([1.0, -1.0], [2.0, 0.5, 0.5, 1.0]);
/// let cov_factor = MatrixFactor::new(&cov);
/// let d = MultivariateNormal::<f64, _, _>::covariance(data(&mean), factored(&cov_factor));
/// assert!((d.ln_pdf(&[0.5, 0.0]) - -2.9033992460913423).abs() < 1e-14);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixFactor {
    matrix: Vec<f64>,
    /// `None` when the matrix is not square or not positive definite.
    prepared: Option<Prepared>,
}

/// What a positive-definite [`MatrixFactor`] keeps.
#[derive(Clone, Debug, PartialEq)]
struct Prepared {
    /// The lower Cholesky factor `L` (zeros above).
    factor: Vec<f64>,
    /// The lower triangle mirrored: the matrix `A` as a distribution reads it.
    symmetric: Vec<f64>,
    /// `A⁻¹`, from the factor.
    inverse: Vec<f64>,
    /// `Σᵢ ln Lᵢᵢ = ½ ln det A`.
    half_ln_det: f64,
}

impl MatrixFactor {
    /// Copies `matrix`, factors its lower triangle (the upper one is not read) and
    /// inverts it: `O(n³)` once, so that a distribution's evaluation costs one
    /// matrix-vector product. A matrix that is not square or not positive definite is
    /// kept without a factor: a distribution over it then reports what it reports for
    /// such a matrix.
    pub fn new(matrix: &[f64]) -> Self {
        let n = (matrix.len() as f64).sqrt().round() as usize;
        let prepared = (n.checked_mul(n) == Some(matrix.len()))
            .then(|| {
                let symmetric: Vec<f64> = (0..matrix.len())
                    .map(|k| {
                        let (i, j) = (k / n, k % n);
                        matrix[if j <= i { k } else { j * n + i }]
                    })
                    .collect();
                let mut factor: Vec<f64> = (0..matrix.len())
                    .map(|k| if k % n <= k / n { matrix[k] } else { 0.0 })
                    .collect();
                if !crate::linalg::cholesky(&mut factor, n) {
                    return None;
                }
                let mut inverse = vec![0.0; matrix.len()];
                let mut work = vec![0.0; 2 * n];
                crate::linalg::inverse_from_cholesky(&factor, n, &mut work, &mut inverse);
                let half_ln_det = (0..n).map(|i| factor[i * n + i].ln()).sum();
                Some(Prepared {
                    factor,
                    symmetric,
                    inverse,
                    half_ln_det,
                })
            })
            .flatten();
        MatrixFactor {
            matrix: matrix.to_vec(),
            prepared,
        }
    }

    /// The matrix, row-major.
    pub fn matrix(&self) -> &[f64] {
        &self.matrix
    }

    /// The lower Cholesky factor `L` of the matrix `A = L Lᵀ` (row-major, zeros above
    /// the diagonal), or `None` when the matrix is not square or not positive definite.
    pub fn factor(&self) -> Option<&[f64]> {
        self.prepared.as_ref().map(|p| p.factor.as_slice())
    }

    /// `A` with its upper triangle mirrored from the lower one (`None` as for
    /// [`factor`](Self::factor)).
    pub fn symmetric(&self) -> Option<&[f64]> {
        self.prepared.as_ref().map(|p| p.symmetric.as_slice())
    }

    /// `A⁻¹` (`None` as for [`factor`](Self::factor)).
    pub fn inverse(&self) -> Option<&[f64]> {
        self.prepared.as_ref().map(|p| p.inverse.as_slice())
    }

    /// `½ ln det A = Σᵢ ln Lᵢᵢ` (NaN when there is no factor).
    pub fn half_ln_det(&self) -> f64 {
        self.prepared.as_ref().map_or(f64::NAN, |p| p.half_ln_det)
    }
}

/// One scalar broadcast to every element: [`scalar`].
#[derive(Clone, Copy, Debug)]
pub struct Scalar<T>(T);

/// `shift + scale · base`, element-wise.
#[derive(Clone, Copy, Debug)]
pub struct Affine<T, E> {
    shift: T,
    scale: T,
    base: E,
}

/// A slice of model scalars (a latent `.iid(n)` site, say) as a vector expression.
pub fn params<T: Real>(values: &[T]) -> Params<'_, T> {
    Params(values)
}

/// A slice of data as a vector expression.
pub fn data(values: &[f64]) -> Data<'_> {
    Data(values)
}

/// A data matrix with its Cholesky factor computed once, as a vector expression (see
/// [`MatrixFactor`]).
pub fn factored(matrix: &MatrixFactor) -> Factored<'_> {
    Factored(matrix)
}

/// A scalar (model scalar or `f64`) broadcast to every element.
pub fn scalar<T: Real>(value: impl Into<T>) -> Scalar<T> {
    Scalar(value.into())
}

impl<T: Real> VectorExpr<T> for Params<'_, T> {
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn at(&self, i: usize) -> f64 {
        self.0[i].value()
    }
    fn terms<'a>(&'a self, g: &'a [f64], factor: f64) -> impl Iterator<Item = (T, f64)> + 'a {
        self.0.iter().zip(g).map(move |(&v, &gi)| (v, factor * gi))
    }
}

impl<T: Real> VectorExpr<T> for Data<'_> {
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn at(&self, i: usize) -> f64 {
        self.0[i]
    }
    fn terms<'a>(&'a self, _g: &'a [f64], _factor: f64) -> impl Iterator<Item = (T, f64)> + 'a {
        std::iter::empty()
    }
    fn is_data(&self) -> bool {
        true
    }
}

impl<T: Real> VectorExpr<T> for Factored<'_> {
    fn len(&self) -> Option<usize> {
        Some(self.0.matrix.len())
    }
    fn at(&self, i: usize) -> f64 {
        self.0.matrix[i]
    }
    fn terms<'a>(&'a self, _g: &'a [f64], _factor: f64) -> impl Iterator<Item = (T, f64)> + 'a {
        std::iter::empty()
    }
    fn is_data(&self) -> bool {
        true
    }
    fn matrix_factor(&self) -> Option<&MatrixFactor> {
        Some(self.0)
    }
}

impl<T: Real> VectorExpr<T> for Scalar<T> {
    fn len(&self) -> Option<usize> {
        None
    }
    fn at(&self, _i: usize) -> f64 {
        self.0.value()
    }
    fn terms<'a>(&'a self, g: &'a [f64], factor: f64) -> impl Iterator<Item = (T, f64)> + 'a {
        std::iter::once((self.0, factor * g.iter().sum::<f64>()))
    }
}

impl<T: Real, E: VectorExpr<T>> VectorExpr<T> for Affine<T, E> {
    fn len(&self) -> Option<usize> {
        self.base.len()
    }
    fn at(&self, i: usize) -> f64 {
        self.shift.value() + self.scale.value() * self.base.at(i)
    }
    fn terms<'a>(&'a self, g: &'a [f64], factor: f64) -> impl Iterator<Item = (T, f64)> + 'a {
        let d_shift = factor * g.iter().sum::<f64>();
        let d_scale = factor
            * g.iter()
                .enumerate()
                .map(|(i, gi)| gi * self.base.at(i))
                .sum::<f64>();
        [(self.shift, d_shift), (self.scale, d_scale)]
            .into_iter()
            .chain(self.base.terms(g, factor * self.scale.value()))
    }
}

/// The common length of two expressions: `None` when both broadcast, `Err` when their
/// lengths differ.
pub(crate) fn common_len(
    a: Option<usize>,
    b: Option<usize>,
) -> Result<Option<usize>, (usize, usize)> {
    match (a, b) {
        (Some(x), Some(y)) if x != y => Err((x, y)),
        (Some(x), _) | (_, Some(x)) => Ok(Some(x)),
        (None, None) => Ok(None),
    }
}

/// The values of an expression of known length, for `deterministic!`.
pub(crate) fn record_values<T: Real, E: VectorExpr<T>>(e: &E, out: &mut Vec<f64>) -> Shape {
    let n = e.len().unwrap_or(1);
    out.extend((0..n).map(|i| e.at(i)));
    match e.len() {
        Some(n) => Shape::Vector(n),
        None => Shape::Scalar,
    }
}
