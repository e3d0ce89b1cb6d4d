//! The scalar trait that model code is generic over.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::special;

/// The scalar type a model body is written in.
///
/// `#[model]` re-emits a model's body generic over `T: Real`, so the same code runs on
/// plain `f64` (to evaluate a log-density), on forward-mode duals and on reverse-mode
/// variables (to differentiate it). `Real` offers arithmetic with itself and with `f64`,
/// comparisons with both, and the elementary and special functions a log-density needs.
///
/// `f64 * T` cannot be expressed on this trait (Rust's orphan rules), so generic code
/// that puts data on the left adds the bound `where f64: F64Ops<T>`; `#[model]` does
/// this for the code it generates.
///
/// # Example
/// ```
/// use tilde_core::Real;
///
/// fn ln_normal<T: Real>(x: T, loc: T, scale: f64) -> T {
///     let z = (x - loc) / scale;
///     -(z * z) * 0.5 - scale.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
/// }
/// assert!((ln_normal(1.0, 0.0, 1.0) + 1.4189385332046727).abs() < 1e-15);
/// ```
pub trait Real:
    Copy
    + Debug
    + PartialEq
    + PartialOrd
    + PartialEq<f64>
    + PartialOrd<f64>
    + From<f64>
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + AddAssign<f64>
    + SubAssign<f64>
    + MulAssign<f64>
    + DivAssign<f64>
    + Sum
    + 'static
{
    /// Whether this scalar carries derivatives. `false` for `f64`, so that vectorised
    /// log-densities can skip computing partials that [`fused`](Real::fused) would drop.
    const TRACKS_DERIVATIVES: bool = true;

    /// The value as a plain `f64` (the real part of a dual number).
    fn value(self) -> f64;
    /// `e^x`.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate near 0.
    fn ln_1p(self) -> Self;
    /// `e^x - 1`, accurate near 0.
    fn exp_m1(self) -> Self;
    /// The square root.
    fn sqrt(self) -> Self;
    /// `x^n` for an integer `n`.
    fn powi(self, n: i32) -> Self;
    /// `x^p` for a constant exponent `p`.
    fn powf(self, p: f64) -> Self;
    /// `x^y` for an exponent that is itself a scalar: `exp(y ln x)`.
    fn pow(self, y: Self) -> Self {
        (y * self.ln()).exp()
    }
    /// The sine.
    fn sin(self) -> Self;
    /// The cosine.
    fn cos(self) -> Self;
    /// The tangent.
    fn tan(self) -> Self;
    /// The inverse tangent.
    fn atan(self) -> Self;
    /// The hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The absolute value (the derivative at 0 is taken as 0).
    fn abs(self) -> Self;
    /// `1 / x`.
    fn recip(self) -> Self;
    /// `ln Γ(x)`, the log of the absolute value of the gamma function.
    fn lgamma(self) -> Self;
    /// `ψ(x) = d/dx ln Γ(x)`, the digamma function.
    fn digamma(self) -> Self;
    /// The error function `erf(x) = 2/√π ∫₀ˣ e^{-t²} dt`.
    fn erf(self) -> Self;
    /// The complementary error function `erfc(x) = 1 - erf(x)`, accurate for large `x`.
    fn erfc(self) -> Self;

    /// A value whose partial derivatives with respect to other scalars are known:
    /// `value` with `∂value/∂tᵢ = wᵢ` for each `(tᵢ, wᵢ)` of `terms`.
    ///
    /// This is how vectorised log-densities record one node with analytic partials
    /// instead of one per elementary operation: `f64` ignores the terms, forward duals
    /// combine their derivatives, the reverse tape records one node. Computing the terms
    /// must not itself operate on scalars of the model (compute partials in `f64`).
    fn fused<I: IntoIterator<Item = (Self, f64)>>(value: f64, terms: I) -> Self;

    /// `true` when the value is neither infinite nor NaN.
    fn is_finite(self) -> bool {
        self.value().is_finite()
    }
    /// `ln(1 + e^x)` (softplus), without overflow for large `x`.
    fn log1p_exp(self) -> Self {
        if self > 0.0 {
            self + (-self).exp().ln_1p()
        } else {
            self.exp().ln_1p()
        }
    }
    /// `ln(e^x + e^y)`, without overflow.
    fn log_sum_exp(self, other: Self) -> Self {
        let (hi, lo) = if self >= other {
            (self, other)
        } else {
            (other, self)
        };
        if hi.value() == f64::NEG_INFINITY {
            return hi;
        }
        if hi.value() == f64::INFINITY {
            return hi;
        }
        hi + (lo - hi).exp().ln_1p()
    }
    /// The logistic function `1 / (1 + e^{-x})`.
    fn inv_logit(self) -> Self {
        if self >= 0.0 {
            ((-self).exp() + 1.0).recip()
        } else {
            let e = self.exp();
            e / (e + 1.0)
        }
    }
    /// `ln(1 / (1 + e^{-x})) = -ln(1 + e^{-x})`, accurate in both tails.
    fn log_inv_logit(self) -> Self {
        -(-self).log1p_exp()
    }
    /// `ln(x / (1 - x))`.
    fn logit(self) -> Self {
        self.ln() - (-self).ln_1p()
    }
    /// `ln(1 - e^x)` for `x < 0`, accurate in both regimes.
    fn log1m_exp(self) -> Self {
        if self > -std::f64::consts::LN_2 {
            (-(self.exp_m1())).ln()
        } else {
            (-(self.exp())).ln_1p()
        }
    }
    /// The standard normal cumulative distribution function `Φ(x) = erfc(-x/√2) / 2`.
    #[allow(non_snake_case)]
    fn Phi(self) -> Self {
        (-self * std::f64::consts::FRAC_1_SQRT_2).erfc() * 0.5
    }
    /// The larger of two values (the derivative follows the larger one).
    fn max(self, other: Self) -> Self {
        if self >= other { self } else { other }
    }
    /// The smaller of two values (the derivative follows the smaller one).
    fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }
}

/// Arithmetic of `f64` on the left of a generic scalar: `2.0 * x`, `y[i] - mu`.
///
/// A `#[model]` body is emitted with `where f64: F64Ops<T>`; that single bound makes
/// `f64 + T`, `f64 - T`, `f64 * T` and `f64 / T` compile. Every [`Real`] type of tilde
/// satisfies it.
pub trait F64Ops<T>:
    Add<T, Output = T> + Sub<T, Output = T> + Mul<T, Output = T> + Div<T, Output = T>
{
}

impl<T, U> F64Ops<T> for U where
    U: Add<T, Output = T> + Sub<T, Output = T> + Mul<T, Output = T> + Div<T, Output = T>
{
}

impl Real for f64 {
    const TRACKS_DERIVATIVES: bool = false;

    #[inline]
    fn value(self) -> f64 {
        self
    }
    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline]
    fn ln_1p(self) -> Self {
        f64::ln_1p(self)
    }
    #[inline]
    fn exp_m1(self) -> Self {
        f64::exp_m1(self)
    }
    #[inline]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    #[inline]
    fn powf(self, p: f64) -> Self {
        f64::powf(self, p)
    }
    #[inline]
    fn pow(self, y: Self) -> Self {
        f64::powf(self, y)
    }
    #[inline]
    fn sin(self) -> Self {
        f64::sin(self)
    }
    #[inline]
    fn cos(self) -> Self {
        f64::cos(self)
    }
    #[inline]
    fn tan(self) -> Self {
        f64::tan(self)
    }
    #[inline]
    fn atan(self) -> Self {
        f64::atan(self)
    }
    #[inline]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    #[inline]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline]
    fn recip(self) -> Self {
        f64::recip(self)
    }
    #[inline]
    fn lgamma(self) -> Self {
        special::lgamma(self)
    }
    #[inline]
    fn digamma(self) -> Self {
        special::digamma(self)
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
    #[inline]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    #[inline]
    fn fused<I: IntoIterator<Item = (Self, f64)>>(value: f64, _terms: I) -> Self {
        value
    }
    #[inline]
    fn max(self, other: Self) -> Self {
        if self >= other { self } else { other }
    }
    #[inline]
    fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }
}
