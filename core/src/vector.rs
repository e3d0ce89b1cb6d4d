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
