//! Supports of distributions and the bijector each one maps to.

use std::fmt;

use crate::bijectors::{Bijector, VectorBijector};
use crate::real::Real;

/// The set of values a distribution puts mass on.
///
/// A latent site's support picks the bijector that maps the unconstrained real line onto
/// it ([`Support::bijector`]). Bounds are scalars of the model, so a bound that depends
/// on another parameter carries its gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Support<T = f64> {
    /// All of ℝ.
    Real,
    /// `(0, ∞)`.
    Positive,
    /// `(lower, ∞)`.
    GreaterThan(T),
    /// `(-∞, upper)`.
    LessThan(T),
    /// `(0, 1)`.
    UnitInterval,
    /// `(lower, upper)`.
    Interval(T, T),
    /// `{0, 1}`.
    Boolean,
    /// `{0, 1, 2, …}`.
    NonNegativeIntegers,
    /// `{0, 1, …, n}`.
    IntegersUpTo(u64),
    /// Vectors in increasing order.
    Ordered,
    /// Positive vectors in increasing order.
    PositiveOrdered,
    /// Vectors of non-negative values summing to 1.
    Simplex,
    /// Lower Cholesky factors of correlation matrices (`K × K`, row-major): positive
    /// diagonal, rows of unit length.
    CholeskyCorr,
    /// Lower-triangular matrices with positive diagonal (`K × K`, row-major): Cholesky
    /// factors of covariance matrices.
    CholeskyFactor,
    /// Symmetric positive-definite matrices (`K × K`, row-major).
    PositiveDefinite,
}

impl<T: Real> Support<T> {
    /// The bijector from ℝ onto this support, following Stan's transforms; `None` for a
    /// discrete support, which has no latent form.
    pub fn bijector(&self) -> Option<Bijector<T>> {
        Some(match *self {
            Support::Real => Bijector::Identity,
            Support::Positive => Bijector::Exp,
            Support::GreaterThan(lower) => Bijector::LowerBound(lower),
            Support::LessThan(upper) => Bijector::UpperBound(upper),
            Support::UnitInterval => Bijector::Logistic,
            Support::Interval(lower, upper) => Bijector::Interval(lower, upper),
            Support::Boolean
            | Support::NonNegativeIntegers
            | Support::IntegersUpTo(_)
            | Support::Ordered
            | Support::PositiveOrdered
            | Support::Simplex
            | Support::CholeskyCorr
            | Support::CholeskyFactor
            | Support::PositiveDefinite => return None,
        })
    }

    /// The bijector of a vector constraint (ordered, simplex, …); `None` for
    /// element-wise supports.
    pub fn vector_bijector(&self) -> Option<VectorBijector> {
        match self {
            Support::Ordered => Some(VectorBijector::Ordered),
            Support::PositiveOrdered => Some(VectorBijector::PositiveOrdered),
            Support::Simplex => Some(VectorBijector::Simplex),
            Support::CholeskyCorr => Some(VectorBijector::CholeskyCorr),
            Support::CholeskyFactor => Some(VectorBijector::CholeskyFactor),
            Support::PositiveDefinite => Some(VectorBijector::CovMatrix),
            _ => None,
        }
    }

    /// `true` for the supports of discrete distributions.
    pub fn is_discrete(&self) -> bool {
        matches!(
            self,
            Support::Boolean | Support::NonNegativeIntegers | Support::IntegersUpTo(_)
        )
    }

    /// The support with its bounds as plain numbers, as the layout records it.
    pub fn to_f64(&self) -> Support<f64> {
        match *self {
            Support::Real => Support::Real,
            Support::Positive => Support::Positive,
            Support::GreaterThan(a) => Support::GreaterThan(a.value()),
            Support::LessThan(b) => Support::LessThan(b.value()),
            Support::UnitInterval => Support::UnitInterval,
            Support::Interval(a, b) => Support::Interval(a.value(), b.value()),
            Support::Boolean => Support::Boolean,
            Support::NonNegativeIntegers => Support::NonNegativeIntegers,
            Support::IntegersUpTo(n) => Support::IntegersUpTo(n),
            Support::Ordered => Support::Ordered,
            Support::PositiveOrdered => Support::PositiveOrdered,
            Support::Simplex => Support::Simplex,
            Support::CholeskyCorr => Support::CholeskyCorr,
            Support::CholeskyFactor => Support::CholeskyFactor,
            Support::PositiveDefinite => Support::PositiveDefinite,
        }
    }
}

impl Support<f64> {
    /// `true` when `x` lies in the support (open bounds, as the bijectors map onto); for
    /// a vector constraint, whether one element can belong to such a vector.
    pub fn contains(&self, x: f64) -> bool {
        match *self {
            Support::Real => x.is_finite(),
            Support::Positive => x > 0.0 && x < f64::INFINITY,
            Support::GreaterThan(a) => x > a && x < f64::INFINITY,
            Support::LessThan(b) => x < b && x > f64::NEG_INFINITY,
            Support::UnitInterval => x > 0.0 && x < 1.0,
            Support::Interval(a, b) => x > a && x < b,
            Support::Boolean => x == 0.0 || x == 1.0,
            Support::NonNegativeIntegers => x >= 0.0 && x.fract() == 0.0 && x.is_finite(),
            Support::IntegersUpTo(n) => x >= 0.0 && x.fract() == 0.0 && x <= n as f64,
            Support::Ordered => x.is_finite(),
            Support::PositiveOrdered => x > 0.0 && x < f64::INFINITY,
            Support::Simplex => (0.0..=1.0).contains(&x),
            Support::CholeskyCorr => (-1.0..=1.0).contains(&x),
            Support::CholeskyFactor | Support::PositiveDefinite => x.is_finite(),
        }
    }
}

impl fmt::Display for Support<f64> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Support::Real => write!(f, "real"),
            Support::Positive => write!(f, "positive"),
            Support::GreaterThan(a) => write!(f, "greater than {a}"),
            Support::LessThan(b) => write!(f, "less than {b}"),
            Support::UnitInterval => write!(f, "unit interval (0, 1)"),
            Support::Interval(a, b) => write!(f, "interval ({a}, {b})"),
            Support::Boolean => write!(f, "boolean {{0, 1}}"),
            Support::NonNegativeIntegers => write!(f, "non-negative integers"),
            Support::IntegersUpTo(n) => write!(f, "integers 0..={n}"),
            Support::Ordered => write!(f, "ordered vectors"),
            Support::PositiveOrdered => write!(f, "positive ordered vectors"),
            Support::Simplex => write!(f, "simplex"),
            Support::CholeskyCorr => write!(f, "Cholesky factors of correlation matrices"),
            Support::CholeskyFactor => {
                write!(f, "lower-triangular matrices with positive diagonal")
            }
            Support::PositiveDefinite => write!(f, "symmetric positive-definite matrices"),
        }
    }
}
