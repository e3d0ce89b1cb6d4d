//! What `deterministic!` records ([`Record`]): scalars, slices, vectors, arrays and
//! vector expressions of the model's scalar.

use crate::layout::Shape;
use crate::real::Real;
use crate::vector::{Affine, Params, VectorExpr, record_values};

impl<T: Real> Record for Params<'_, T> {
    fn shape(&self) -> Shape {
        Shape::Vector(VectorExpr::<T>::len(self).unwrap_or(1))
    }
    fn write(&self, out: &mut Vec<f64>) {
        record_values(self, out);
    }
}

impl<T: Real, E: VectorExpr<T>> Record for Affine<T, E> {
    fn shape(&self) -> Shape {
        match self.len() {
            Some(n) => Shape::Vector(n),
            None => Shape::Scalar,
        }
    }
    fn write(&self, out: &mut Vec<f64>) {
        record_values(self, out);
    }
}

/// A value `deterministic!` can record: a scalar, or a slice, `Vec` or array of them.
#[diagnostic::on_unimplemented(
    message = "`deterministic!` cannot record a value of type `{Self}`",
    note = "record a scalar of the model (`T` or `f64`) or a slice, `Vec` or array of them"
)]
pub trait Record {
    /// The shape of the recorded value.
    fn shape(&self) -> Shape;
    /// Appends the values as `f64`.
    fn write(&self, out: &mut Vec<f64>);
}

impl<R: Real> Record for R {
    fn shape(&self) -> Shape {
        Shape::Scalar
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.push(self.value());
    }
}

impl<R: Real> Record for [R] {
    fn shape(&self) -> Shape {
        Shape::Vector(self.len())
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}

impl<R: Real> Record for &[R] {
    fn shape(&self) -> Shape {
        Shape::Vector(self.len())
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}

impl<R: Real> Record for Vec<R> {
    fn shape(&self) -> Shape {
        Shape::Vector(self.len())
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}

impl<R: Real, const N: usize> Record for [R; N] {
    fn shape(&self) -> Shape {
        Shape::Vector(N)
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}
