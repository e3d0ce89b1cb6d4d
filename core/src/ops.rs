//! Arithmetic as functions, for the generic body `#[model]` emits.
//!
//! The body carries the bound `where f64: F64Ops<T>` so that `2.0 * x` compiles for a
//! model scalar `x: T`. With that bound in scope, rustc resolves the operator in
//! `f64 op f64` (`y[0] - 1.0`, `y[0] * y[1]`) against it and expects `T` on the right.
//! `#[model]` therefore writes each binary `+ - * / %` of the body as a call of the
//! function here: a call checks its arguments before it selects the trait impl, so
//! every mix of `f64`, `T` and integers compiles as it would outside a model.

use std::ops::{Add, Div, Mul, Rem, Sub};

/// `a + b`, given as `(b, a)`.
#[inline(always)]
pub fn add<B, A: Add<B>>((b, a): (B, A)) -> A::Output {
    a + b
}

/// `a - b`, given as `(b, a)`.
#[inline(always)]
pub fn sub<B, A: Sub<B>>((b, a): (B, A)) -> A::Output {
    a - b
}

/// `a * b`, given as `(b, a)`.
#[inline(always)]
pub fn mul<B, A: Mul<B>>((b, a): (B, A)) -> A::Output {
    a * b
}

/// `a / b`, given as `(b, a)`.
#[inline(always)]
pub fn div<B, A: Div<B>>((b, a): (B, A)) -> A::Output {
    a / b
}

/// `a % b`, given as `(b, a)`.
#[inline(always)]
pub fn rem<B, A: Rem<B>>((b, a): (B, A)) -> A::Output {
    a % b
}
