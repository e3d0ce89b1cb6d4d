//! Forward-mode gradients with static-width dual numbers.

use std::cell::RefCell;
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};
use std::thread::LocalKey;

use tilde_core::context::{eval, with_scratch};
use tilde_core::{ModelBody, Real, special};

/// A forward-mode dual number: a value and its derivatives along `N` directions, kept
/// in a plain array so that the arithmetic compiles to straight-line (vectorisable)
/// code. The derivative rules are num-dual's `DualVec`'s, except where those differ
/// from `f64` at hostile values (division, powers, `tanh`, `|NaN|`).
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
pub struct Fwd<const N: usize> {
    re: f64,
    eps: [f64; N],
}

/// `a[i] = f(a[i], b[i])` for every direction.
#[inline(always)]
fn zip<const N: usize>(a: [f64; N], b: [f64; N], f: impl Fn(f64, f64) -> f64) -> [f64; N] {
    let mut out = a;
    for (o, b) in out.iter_mut().zip(b) {
        *o = f(*o, b);
    }
    out
}

/// `f(a[i])` for every direction.
#[inline(always)]
fn map<const N: usize>(a: [f64; N], f: impl Fn(f64) -> f64) -> [f64; N] {
    let mut out = a;
    for o in out.iter_mut() {
        *o = f(*o);
    }
    out
}

impl<const N: usize> Fwd<N> {
    /// A constant: derivative zero in every direction.
    #[inline]
    pub fn constant(value: f64) -> Self {
        Fwd {
            re: value,
            eps: [0.0; N],
        }
    }

    /// The `index`-th input variable: derivative one along direction `index`.
    ///
    /// # Panics
    /// When `index >= N`.
    #[inline]
    pub fn variable(value: f64, index: usize) -> Self {
        assert!(index < N, "Fwd<{N}> has no direction {index}");
        let mut eps = [0.0; N];
        eps[index] = 1.0;
        Fwd { re: value, eps }
    }

    /// The derivatives along the `N` directions.
    #[inline]
    pub fn gradient(&self) -> [f64; N] {
        self.eps
    }

    /// Writes the first `out.len()` derivatives into `out`.
    #[inline]
    fn write_gradient(&self, out: &mut [f64]) {
        out.copy_from_slice(&self.eps[..out.len()]);
    }

    /// Applies a function with known derivative: `f(x)` and `f'(x)` at the value.
    #[inline]
    fn chain(self, f: f64, df: f64) -> Self {
        Fwd {
            re: f,
            eps: map(self.eps, |e| e * df),
        }
    }
}

impl<const N: usize> fmt::Debug for Fwd<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fwd({}, {:?})", self.re, self.eps)
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
        self.re == other.re
    }
}

impl<const N: usize> PartialOrd for Fwd<N> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<const N: usize> PartialEq<f64> for Fwd<N> {
    #[inline]
    fn eq(&self, other: &f64) -> bool {
        self.re == *other
    }
}

impl<const N: usize> PartialOrd<f64> for Fwd<N> {
    #[inline]
    fn partial_cmp(&self, other: &f64) -> Option<std::cmp::Ordering> {
        self.re.partial_cmp(other)
    }
}

impl<const N: usize> Add for Fwd<N> {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        Fwd {
            re: self.re + rhs.re,
            eps: zip(self.eps, rhs.eps, |a, b| a + b),
        }
    }
}

impl<const N: usize> Sub for Fwd<N> {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        Fwd {
            re: self.re - rhs.re,
            eps: zip(self.eps, rhs.eps, |a, b| a - b),
        }
    }
}

// the product and quotient rules mix operators
#[allow(clippy::suspicious_arithmetic_impl)]
impl<const N: usize> Mul for Fwd<N> {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        let (a, b) = (self.re, rhs.re);
        Fwd {
            re: a * b,
            eps: zip(self.eps, rhs.eps, |da, db| da * b + db * a),
        }
    }
}

// the product and quotient rules mix operators
#[allow(clippy::suspicious_arithmetic_impl)]
impl<const N: usize> Div for Fwd<N> {
    type Output = Self;
    /// The value of `f64` division (multiplying by the reciprocal overflows for a
    /// subnormal divisor whose quotient is finite).
    #[inline]
    fn div(self, rhs: Self) -> Self {
        let b = rhs.re;
        let value = self.re / b;
        let (inv, dq) = (b.recip(), -value / b);
        Fwd {
            re: value,
            eps: zip(self.eps, rhs.eps, |da, db| da * inv + db * dq),
        }
    }
}

impl<const N: usize> Add<f64> for Fwd<N> {
    type Output = Self;
    #[inline]
    fn add(self, rhs: f64) -> Self {
        Fwd {
            re: self.re + rhs,
            eps: self.eps,
        }
    }
}

impl<const N: usize> Sub<f64> for Fwd<N> {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: f64) -> Self {
        Fwd {
            re: self.re - rhs,
            eps: self.eps,
        }
    }
}

// the product and quotient rules mix operators
#[allow(clippy::suspicious_arithmetic_impl)]
impl<const N: usize> Mul<f64> for Fwd<N> {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: f64) -> Self {
        Fwd {
            re: self.re * rhs,
            eps: map(self.eps, |e| e * rhs),
        }
    }
}

// the product and quotient rules mix operators
#[allow(clippy::suspicious_arithmetic_impl)]
impl<const N: usize> Div<f64> for Fwd<N> {
    type Output = Self;
    #[inline]
    fn div(self, rhs: f64) -> Self {
        let inv = rhs.recip();
        Fwd {
            re: self.re / rhs,
            eps: map(self.eps, |e| e * inv),
        }
    }
}

impl<const N: usize> Add<Fwd<N>> for f64 {
    type Output = Fwd<N>;
    #[inline]
    fn add(self, rhs: Fwd<N>) -> Fwd<N> {
        Fwd {
            re: self + rhs.re,
            eps: rhs.eps,
        }
    }
}

impl<const N: usize> Sub<Fwd<N>> for f64 {
    type Output = Fwd<N>;
    #[inline]
    fn sub(self, rhs: Fwd<N>) -> Fwd<N> {
        Fwd {
            re: self - rhs.re,
            eps: map(rhs.eps, |e| -e),
        }
    }
}

// the product and quotient rules mix operators
#[allow(clippy::suspicious_arithmetic_impl)]
impl<const N: usize> Mul<Fwd<N>> for f64 {
    type Output = Fwd<N>;
    #[inline]
    fn mul(self, rhs: Fwd<N>) -> Fwd<N> {
        Fwd {
            re: self * rhs.re,
            eps: map(rhs.eps, |e| e * self),
        }
    }
}

// the product and quotient rules mix operators
#[allow(clippy::suspicious_arithmetic_impl)]
impl<const N: usize> Div<Fwd<N>> for f64 {
    type Output = Fwd<N>;
    #[inline]
    fn div(self, rhs: Fwd<N>) -> Fwd<N> {
        let b = rhs.re;
        let value = self / b;
        let dq = -value / b;
        Fwd {
            re: value,
            eps: map(rhs.eps, |db| db * dq),
        }
    }
}

macro_rules! assign_ops {
    ($($trait:ident $method:ident $assign_trait:ident $assign_method:ident),*) => {$(
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

assign_ops!(
    Add add AddAssign add_assign,
    Sub sub SubAssign sub_assign,
    Mul mul MulAssign mul_assign,
    Div div DivAssign div_assign
);

impl<const N: usize> Neg for Fwd<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        Fwd {
            re: -self.re,
            eps: map(self.eps, |e| -e),
        }
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
        self.re
    }
    #[inline]
    fn exp(self) -> Self {
        let f = self.re.exp();
        self.chain(f, f)
    }
    #[inline]
    fn ln(self) -> Self {
        let rec = self.re.recip();
        self.chain(self.re.ln(), rec)
    }
    #[inline]
    fn ln_1p(self) -> Self {
        let rec = (self.re + 1.0).recip();
        self.chain(self.re.ln_1p(), rec)
    }
    #[inline]
    fn exp_m1(self) -> Self {
        self.chain(self.re.exp_m1(), self.re.exp())
    }
    #[inline]
    fn sqrt(self) -> Self {
        let rec = self.re.recip();
        let f0 = self.re.sqrt();
        self.chain(f0, f0 * rec * 0.5)
    }
    /// The value of `f64::powi` (also for a negative power of 0).
    #[inline]
    fn powi(self, n: i32) -> Self {
        let x = self.re;
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
        let x = self.re;
        let d = if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) };
        self.chain(x.powf(p), d)
    }
    /// `x^y` with the value of `f64::powf` (a negative base with an integer exponent,
    /// `0⁰ = 1`), as the `f64` and reverse-mode scalars compute it, rather than the
    /// default `exp(y ln x)`, which is NaN there.
    #[inline]
    fn pow(self, y: Self) -> Self {
        let (a, b) = (self.re, y.re);
        let value = a.powf(b);
        let da = if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) };
        let db = if value == 0.0 { 0.0 } else { value * a.ln() };
        Fwd {
            re: value,
            eps: zip(self.eps, y.eps, |ea, eb| ea * da + eb * db),
        }
    }
    #[inline]
    fn sin(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(s, c)
    }
    #[inline]
    fn cos(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(c, -s)
    }
    #[inline]
    fn tan(self) -> Self {
        Real::sin(self) / Real::cos(self)
    }
    #[inline]
    fn atan(self) -> Self {
        let rec = (1.0 + self.re * self.re).recip();
        self.chain(self.re.atan(), rec)
    }
    /// The value of `f64::tanh` (also at ±∞, where `sinh / cosh` is NaN).
    #[inline]
    fn tanh(self) -> Self {
        let t = self.re.tanh();
        self.chain(t, 1.0 - t * t)
    }
    #[inline]
    fn abs(self) -> Self {
        if self.re < 0.0 {
            -self
        } else if self.re > 0.0 {
            self
        } else {
            // 0 or NaN: the value is |x| (NaN stays NaN), the derivative 0
            self.chain(self.re.abs(), 0.0)
        }
    }
    #[inline]
    fn recip(self) -> Self {
        let rec = self.re.recip();
        self.chain(rec, -rec * rec)
    }
    #[inline]
    fn lgamma(self) -> Self {
        let x = self.re;
        self.chain(special::lgamma(x), special::digamma(x))
    }
    #[inline]
    fn digamma(self) -> Self {
        let x = self.re;
        self.chain(special::digamma(x), special::trigamma(x))
    }
    #[inline]
    fn erf(self) -> Self {
        let x = self.re;
        self.chain(
            Real::erf(x),
            std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
        )
    }
    #[inline]
    fn erfc(self) -> Self {
        let x = self.re;
        self.chain(
            Real::erfc(x),
            -std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
        )
    }
    #[inline]
    fn log1p_exp(self) -> Self {
        let x = self.re;
        self.chain(Real::log1p_exp(x), Real::inv_logit(x))
    }
    #[inline]
    fn inv_logit(self) -> Self {
        let p = Real::inv_logit(self.re);
        self.chain(p, p * (1.0 - p))
    }
    #[inline]
    fn fused<I: IntoIterator<Item = (Self, f64)>>(value: f64, terms: I) -> Self {
        let mut eps = [0.0; N];
        for (t, w) in terms {
            // a constant term adds nothing (not 0 · ∞ = NaN for an infinite weight);
            // tested first, so that a constant's weight is never computed once inlined
            if t.eps.iter().all(|d| *d == 0.0) {
                continue;
            }
            for (e, d) in eps.iter_mut().zip(t.eps) {
                *e += d * w;
            }
        }
        Fwd { re: value, eps }
    }
}

/// The widths the engine uses, each with the thread's buffer of duals.
pub(crate) trait Width: Real {
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
