//! Forward-mode gradients with static-width dual numbers.

use std::cell::RefCell;
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};
use std::thread::LocalKey;

use num_dual::{DualNum, DualSVec64};
use tilde_core::context::{eval, with_scratch};
use tilde_core::{ModelBody, Real, special};

/// A forward-mode dual number: a value and its derivatives along `N` directions.
///
/// # Example
/// ```
/// use tilde_autodiff::Fwd;
/// use tilde_core::Real;
///
/// let x = Fwd::<2>::variable(3.0, 0);
/// let y = Fwd::<2>::variable(2.0, 1);
/// let f = x * x * y + 1.0 * y.exp();
/// assert_eq!(f.value(), 18.0 + 2f64.exp());
/// assert_eq!(f.gradient(), [12.0, 9.0 + 2f64.exp()]);
/// ```
#[derive(Clone, Copy)]
pub struct Fwd<const N: usize>(DualSVec64<N>);

impl<const N: usize> Fwd<N> {
    /// A constant: derivative zero in every direction.
    #[inline]
    pub fn constant(value: f64) -> Self {
        Fwd(DualSVec64::from_re(value))
    }

    /// The `index`-th input variable: derivative one along direction `index`.
    ///
    /// # Panics
    /// When `index >= N`.
    #[inline]
    pub fn variable(value: f64, index: usize) -> Self {
        assert!(index < N, "Fwd<{N}> has no direction {index}");
        Fwd(DualSVec64::from_re(value).derivative(index))
    }

    /// The derivatives along the `N` directions.
    #[inline]
    pub fn gradient(&self) -> [f64; N] {
        let mut out = [0.0; N];
        if let Some(eps) = &self.0.eps.0 {
            out.copy_from_slice(eps.as_slice());
        }
        out
    }

    /// Writes the first `out.len()` derivatives into `out`.
    #[inline]
    fn write_gradient(&self, out: &mut [f64]) {
        match &self.0.eps.0 {
            Some(eps) => out.copy_from_slice(&eps.as_slice()[..out.len()]),
            None => out.iter_mut().for_each(|g| *g = 0.0),
        }
    }

    /// Applies a function with known derivative: `f(x)` and `f'(x)` at the value.
    #[inline]
    fn chain(self, f: f64, df: f64) -> Self {
        Fwd(DualSVec64::new(f, self.0.eps * df))
    }
}

impl<const N: usize> fmt::Debug for Fwd<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fwd({}, {:?})", self.0.re, self.gradient())
    }
}

impl<const N: usize> From<f64> for Fwd<N> {
    #[inline]
    fn from(value: f64) -> Self {
        Fwd::constant(value)
    }
}

impl<const N: usize> PartialEq for Fwd<N> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.0.re == other.0.re
    }
}

impl<const N: usize> PartialOrd for Fwd<N> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.0.re.partial_cmp(&other.0.re)
    }
}

impl<const N: usize> PartialEq<f64> for Fwd<N> {
    #[inline]
    fn eq(&self, other: &f64) -> bool {
        self.0.re == *other
    }
}

impl<const N: usize> PartialOrd<f64> for Fwd<N> {
    #[inline]
    fn partial_cmp(&self, other: &f64) -> Option<std::cmp::Ordering> {
        self.0.re.partial_cmp(other)
    }
}

macro_rules! binary_ops {
    ($($trait:ident $method:ident $assign_trait:ident $assign_method:ident),*) => {$(
        impl<const N: usize> $trait for Fwd<N> {
            type Output = Self;
            #[inline]
            fn $method(self, rhs: Self) -> Self {
                Fwd(self.0.$method(rhs.0))
            }
        }
        impl<const N: usize> $trait<f64> for Fwd<N> {
            type Output = Self;
            #[inline]
            fn $method(self, rhs: f64) -> Self {
                Fwd(self.0.$method(rhs))
            }
        }
        impl<const N: usize> $trait<Fwd<N>> for f64 {
            type Output = Fwd<N>;
            #[inline]
            fn $method(self, rhs: Fwd<N>) -> Fwd<N> {
                Fwd(DualSVec64::from_re(self).$method(rhs.0))
            }
        }
        impl<const N: usize> $assign_trait for Fwd<N> {
            #[inline]
            fn $assign_method(&mut self, rhs: Self) {
                *self = $trait::$method(*self, rhs);
            }
        }
        impl<const N: usize> $assign_trait<f64> for Fwd<N> {
            #[inline]
            fn $assign_method(&mut self, rhs: f64) {
                *self = $trait::$method(*self, rhs);
            }
        }
    )*};
}

binary_ops!(
    Add add AddAssign add_assign,
    Sub sub SubAssign sub_assign,
    Mul mul MulAssign mul_assign
);

impl<const N: usize> Fwd<N> {
    /// `self / rhs` with the value `f64` division gives: num-dual multiplies by the
    /// reciprocal, which overflows for a subnormal divisor whose quotient is finite.
    #[inline]
    fn quotient(self, rhs: Self) -> Self {
        let (a, b) = (self.0.re, rhs.0.re);
        let value = a / b;
        Fwd(DualSVec64::new(
            value,
            self.0.eps * b.recip() + rhs.0.eps * (-value / b),
        ))
    }
}

impl<const N: usize> Div for Fwd<N> {
    type Output = Self;
    #[inline]
    fn div(self, rhs: Self) -> Self {
        self.quotient(rhs)
    }
}

impl<const N: usize> Div<f64> for Fwd<N> {
    type Output = Self;
    #[inline]
    fn div(self, rhs: f64) -> Self {
        self.quotient(Fwd::constant(rhs))
    }
}

impl<const N: usize> Div<Fwd<N>> for f64 {
    type Output = Fwd<N>;
    #[inline]
    fn div(self, rhs: Fwd<N>) -> Fwd<N> {
        Fwd::constant(self).quotient(rhs)
    }
}

impl<const N: usize> DivAssign for Fwd<N> {
    #[inline]
    fn div_assign(&mut self, rhs: Self) {
        *self = *self / rhs;
    }
}

impl<const N: usize> DivAssign<f64> for Fwd<N> {
    #[inline]
    fn div_assign(&mut self, rhs: f64) {
        *self = *self / rhs;
    }
}

impl<const N: usize> Neg for Fwd<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        Fwd(-self.0)
    }
}

impl<const N: usize> Sum for Fwd<N> {
    #[inline]
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Fwd::constant(0.0), |a, b| a + b)
    }
}

impl<const N: usize> Real for Fwd<N> {
    #[inline]
    fn value(self) -> f64 {
        self.0.re
    }
    #[inline]
    fn exp(self) -> Self {
        Fwd(self.0.exp())
    }
    #[inline]
    fn ln(self) -> Self {
        Fwd(self.0.ln())
    }
    #[inline]
    fn ln_1p(self) -> Self {
        Fwd(self.0.ln_1p())
    }
    #[inline]
    fn exp_m1(self) -> Self {
        Fwd(self.0.exp_m1())
    }
    #[inline]
    fn sqrt(self) -> Self {
        Fwd(self.0.sqrt())
    }
    /// The value of `f64::powi` (num-dual's gives NaN for a negative power of 0).
    #[inline]
    fn powi(self, n: i32) -> Self {
        let x = self.0.re;
        let d = if n == 0 {
            0.0
        } else {
            f64::from(n) * x.powi(n - 1)
        };
        self.chain(x.powi(n), d)
    }
    /// The value of `f64::powf`, as [`powi`](Self::powi).
    #[inline]
    fn powf(self, p: f64) -> Self {
        let x = self.0.re;
        let d = if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) };
        self.chain(x.powf(p), d)
    }
    /// `x^y` with the value of `f64::powf` (a negative base with an integer exponent,
    /// `0⁰ = 1`), as the `f64` and reverse-mode scalars compute it, rather than the
    /// default `exp(y ln x)`, which is NaN there.
    #[inline]
    fn pow(self, y: Self) -> Self {
        let (a, b) = (self.0.re, y.0.re);
        let value = a.powf(b);
        let da = if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) };
        let db = if value == 0.0 { 0.0 } else { value * a.ln() };
        Fwd(DualSVec64::new(value, self.0.eps * da + y.0.eps * db))
    }
    #[inline]
    fn sin(self) -> Self {
        Fwd(self.0.sin())
    }
    #[inline]
    fn cos(self) -> Self {
        Fwd(self.0.cos())
    }
    #[inline]
    fn tan(self) -> Self {
        Fwd(self.0.tan())
    }
    #[inline]
    fn atan(self) -> Self {
        Fwd(self.0.atan())
    }
    /// The value of `f64::tanh` (num-dual's, from `sinh / cosh`, is NaN at ±∞).
    #[inline]
    fn tanh(self) -> Self {
        let t = self.0.re.tanh();
        self.chain(t, 1.0 - t * t)
    }
    #[inline]
    fn abs(self) -> Self {
        if self.0.re < 0.0 {
            -self
        } else if self.0.re > 0.0 {
            self
        } else {
            // 0 or NaN: the value is |x| (NaN stays NaN), the derivative 0
            self.chain(self.0.re.abs(), 0.0)
        }
    }
    #[inline]
    fn recip(self) -> Self {
        Fwd(self.0.recip())
    }
    #[inline]
    fn lgamma(self) -> Self {
        let x = self.0.re;
        self.chain(special::lgamma(x), special::digamma(x))
    }
    #[inline]
    fn digamma(self) -> Self {
        let x = self.0.re;
        self.chain(special::digamma(x), special::trigamma(x))
    }
    #[inline]
    fn erf(self) -> Self {
        let x = self.0.re;
        self.chain(
            Real::erf(x),
            std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
        )
    }
    #[inline]
    fn erfc(self) -> Self {
        let x = self.0.re;
        self.chain(
            Real::erfc(x),
            -std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
        )
    }
    #[inline]
    fn log1p_exp(self) -> Self {
        let x = self.0.re;
        self.chain(Real::log1p_exp(x), Real::inv_logit(x))
    }
    #[inline]
    fn inv_logit(self) -> Self {
        let p = Real::inv_logit(self.0.re);
        self.chain(p, p * (1.0 - p))
    }
    #[inline]
    fn fused<I: IntoIterator<Item = (Self, f64)>>(value: f64, terms: I) -> Self {
        let mut eps = num_dual::Derivative::none();
        for (t, w) in terms {
            if t.0.eps.0.is_some() {
                eps += t.0.eps * w;
            }
        }
        Fwd(DualSVec64::new(value, eps))
    }
}

/// The widths the engine uses, each with the thread's buffer of duals.
trait Width: Real {
    fn buffer() -> &'static LocalKey<RefCell<Vec<Self>>>;
}

/// Frees this thread's buffers of forward duals; returns the bytes they held.
pub(crate) fn release_scratch() -> usize {
    use tilde_core::context::release_buffer;
    release_buffer(Fwd::<4>::buffer())
        + release_buffer(Fwd::<8>::buffer())
        + release_buffer(Fwd::<16>::buffer())
}

/// The bytes this thread's buffers of forward duals hold.
pub(crate) fn scratch_bytes() -> usize {
    use tilde_core::context::buffer_bytes;
    buffer_bytes(Fwd::<4>::buffer())
        + buffer_bytes(Fwd::<8>::buffer())
        + buffer_bytes(Fwd::<16>::buffer())
}

macro_rules! widths {
    ($($n:literal),*) => {$(
        const _: () = {
            thread_local! {
                static BUFFER: RefCell<Vec<Fwd<$n>>> = const { RefCell::new(Vec::new()) };
            }
            impl Width for Fwd<$n> {
                fn buffer() -> &'static LocalKey<RefCell<Vec<Self>>> {
                    &BUFFER
                }
            }
        };
    )*};
}

widths!(4, 8, 16);

/// The log-density of a model at `x` and its gradient, by forward-mode duals.
///
/// Models of dimension up to 16 take one pass (duals of width 4, 8 or 16); larger ones
/// take `⌈dim/16⌉` passes. A faulty evaluation (see `tilde_core::Error::LayoutChanged`)
/// gives `-∞` with a zero gradient.
///
/// # Panics
/// When `x` or `grad` do not have the model's dimension.
pub fn logp_and_grad<M: ModelBody + ?Sized>(model: &M, x: &[f64], grad: &mut [f64]) -> f64 {
    logp_and_grad_with(model, x, grad, true)
}

/// [`logp_and_grad`], with the bijectors' log-Jacobians left out when `jacobian` is
/// false (the log joint density of the constrained values).
///
/// # Panics
/// When `x` or `grad` do not have the model's dimension.
pub fn logp_and_grad_with<M: ModelBody + ?Sized>(
    model: &M,
    x: &[f64],
    grad: &mut [f64],
    jacobian: bool,
) -> f64 {
    let dim = model.state().layout.dim();
    assert_eq!(
        x.len(),
        dim,
        "logp_and_grad: x has length {}, the model's dimension is {dim}",
        x.len()
    );
    assert_eq!(
        grad.len(),
        dim,
        "logp_and_grad: grad has length {}, the model's dimension is {dim}",
        grad.len()
    );
    match dim {
        0 => tilde_core::context::logp(model, x),
        1..=4 => passes::<M, 4>(model, x, grad, jacobian),
        5..=8 => passes::<M, 8>(model, x, grad, jacobian),
        _ => passes::<M, 16>(model, x, grad, jacobian),
    }
}

fn passes<M: ModelBody + ?Sized, const N: usize>(
    model: &M,
    x: &[f64],
    grad: &mut [f64],
    jacobian: bool,
) -> f64
where
    Fwd<N>: Width,
{
    let dim = x.len();
    let work_len = model.state().layout.work_len();
    with_scratch(
        Fwd::<N>::buffer(),
        dim + work_len,
        Fwd::constant(0.0),
        |buf| {
            let (xs, work) = buf.split_at_mut(dim);
            for (slot, &v) in xs.iter_mut().zip(x) {
                *slot = Fwd::constant(v);
            }
            let mut value = f64::NEG_INFINITY;
            for start in (0..dim).step_by(N) {
                let end = (start + N).min(dim);
                for (k, i) in (start..end).enumerate() {
                    xs[i] = Fwd::variable(x[i], k);
                }
                match eval(model, xs, work, jacobian) {
                    Ok(lp) if lp.value().is_finite() || start == 0 => {
                        value = lp.value();
                        lp.write_gradient(&mut grad[start..end]);
                    }
                    Ok(lp) => value = lp.value(),
                    Err(_) => {
                        grad.iter_mut().for_each(|g| *g = 0.0);
                        return f64::NEG_INFINITY;
                    }
                }
                for i in start..end {
                    xs[i] = Fwd::constant(x[i]);
                }
            }
            value
        },
    )
}
