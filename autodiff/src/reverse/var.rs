//! The reverse-mode scalar: a value and the index of its node on the thread's tape.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use tilde_core::{Real, special};

use super::tape::{Edge, TAPE};

/// The index of the tape's sink node, which every constant points to.
const CONSTANT: u32 = 0;

/// A reverse-mode variable: a value recorded on the current thread's tape.
///
/// Created by the reverse engine for one gradient call; every operation on it records a
/// node with its partial derivatives, eagerly computed. A `Rev` must not outlive the
/// gradient call that made it: debug builds check this on every operation.
///
/// # Example
/// ```
/// use tilde_autodiff::Rev;
/// use tilde_core::Real;
///
/// let (value, grad) = Rev::gradient(&[3.0, 2.0], |x| x[0] * x[0] * x[1] + x[1].exp());
/// assert_eq!(value, 18.0 + 2f64.exp());
/// assert_eq!(grad, [12.0, 9.0 + 2f64.exp()]);
/// ```
#[derive(Clone, Copy)]
pub struct Rev {
    value: f64,
    index: u32,
    #[cfg(debug_assertions)]
    generation: u32,
}

impl Rev {
    /// A constant: no node, zero derivative.
    #[inline]
    pub fn constant(value: f64) -> Self {
        Rev {
            value,
            index: CONSTANT,
            #[cfg(debug_assertions)]
            generation: 0,
        }
    }

    #[inline]
    fn is_constant(&self) -> bool {
        self.index == CONSTANT
    }

    /// The index of this variable's node (inputs are `0..dim`).
    #[inline]
    pub(crate) fn index(&self) -> Option<u32> {
        (!self.is_constant()).then_some(self.index)
    }

    /// Input variables for `x`, nodes `1..=x.len()`, written into `out`. The caller
    /// has cleared the tape for this gradient call.
    pub(crate) fn inputs(x: &[f64], out: &mut [Rev]) {
        TAPE.with(|t| {
            let mut t = t.borrow_mut();
            let first = t.leaves(x.len());
            for (k, (slot, &value)) in out.iter_mut().zip(x).enumerate() {
                *slot = Rev {
                    value,
                    index: first + k as u32,
                    #[cfg(debug_assertions)]
                    generation: t.generation,
                };
            }
        });
    }

    /// Records a node of value `value` with the given partials (constants point to the
    /// sink, so no filtering is needed).
    #[inline]
    fn record(value: f64, terms: impl IntoIterator<Item = (Rev, f64)>) -> Self {
        TAPE.with(|t| {
            let mut t = t.borrow_mut();
            #[cfg(debug_assertions)]
            let generation = t.generation;
            let index = t.node(terms.into_iter().map(|(v, partial)| {
                #[cfg(debug_assertions)]
                assert!(
                    v.is_constant() || v.generation == generation,
                    "a tilde_autodiff::Rev was used outside the gradient call that created it"
                );
                Edge {
                    parent: v.index,
                    partial,
                }
            }));
            Rev {
                value,
                index,
                #[cfg(debug_assertions)]
                generation,
            }
        })
    }

    /// A node built by `push` on the tape, checked against stale parents in debug builds.
    #[inline]
    fn push_node(
        value: f64,
        parents: &[Rev],
        push: impl FnOnce(&mut super::tape::Tape) -> u32,
    ) -> Self {
        TAPE.with(|t| {
            let mut t = t.borrow_mut();
            #[cfg(debug_assertions)]
            for p in parents {
                assert_eq!(
                    p.generation, t.generation,
                    "a tilde_autodiff::Rev was used outside the gradient call that created it"
                );
            }
            #[cfg(not(debug_assertions))]
            let _ = parents;
            Rev {
                value,
                index: push(&mut t),
                #[cfg(debug_assertions)]
                generation: t.generation,
            }
        })
    }

    #[inline]
    fn unary(self, value: f64, partial: f64) -> Self {
        if self.is_constant() {
            return Rev::constant(value);
        }
        Rev::push_node(value, &[self], |t| {
            t.node1(Edge {
                parent: self.index,
                partial,
            })
        })
    }

    #[inline]
    fn binary(a: Rev, b: Rev, value: f64, da: f64, db: f64) -> Self {
        match (a.is_constant(), b.is_constant()) {
            (true, true) => Rev::constant(value),
            (false, true) => a.unary(value, da),
            (true, false) => b.unary(value, db),
            (false, false) => Rev::push_node(value, &[a, b], |t| {
                t.node2(
                    Edge {
                        parent: a.index,
                        partial: da,
                    },
                    Edge {
                        parent: b.index,
                        partial: db,
                    },
                )
            }),
        }
    }

    /// The value and gradient of `f` at `x`, on this thread's tape. A convenience for
    /// scalar functions; models go through [`logp_and_grad`](crate::logp_and_grad).
    pub fn gradient(x: &[f64], f: impl FnOnce(&[Rev]) -> Rev) -> (f64, Vec<f64>) {
        TAPE.with(|t| t.borrow_mut().clear());
        let mut inputs = vec![Rev::constant(0.0); x.len()];
        Rev::inputs(x, &mut inputs);
        let out = f(&inputs);
        let mut grad = vec![0.0; x.len()];
        if let Some(index) = out.index() {
            TAPE.with(|t| {
                let mut t = t.borrow_mut();
                t.backward(index, x.len() as u32 + 1);
                for (i, g) in grad.iter_mut().enumerate() {
                    *g = t.adjoint(i as u32 + 1);
                }
            });
        }
        (out.value, grad)
    }
}

impl fmt::Debug for Rev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_constant() {
            write!(f, "Rev({}, constant)", self.value)
        } else {
            write!(f, "Rev({}, node {})", self.value, self.index)
        }
    }
}

impl From<f64> for Rev {
    #[inline]
    fn from(value: f64) -> Self {
        Rev::constant(value)
    }
}

impl PartialEq for Rev {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl PartialOrd for Rev {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl PartialEq<f64> for Rev {
    #[inline]
    fn eq(&self, other: &f64) -> bool {
        self.value == *other
    }
}

impl PartialOrd<f64> for Rev {
    #[inline]
    fn partial_cmp(&self, other: &f64) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(other)
    }
}

impl Add for Rev {
    type Output = Rev;
    #[inline]
    fn add(self, rhs: Rev) -> Rev {
        Rev::binary(self, rhs, self.value + rhs.value, 1.0, 1.0)
    }
}

impl Sub for Rev {
    type Output = Rev;
    #[inline]
    fn sub(self, rhs: Rev) -> Rev {
        Rev::binary(self, rhs, self.value - rhs.value, 1.0, -1.0)
    }
}

impl Mul for Rev {
    type Output = Rev;
    #[inline]
    fn mul(self, rhs: Rev) -> Rev {
        Rev::binary(self, rhs, self.value * rhs.value, rhs.value, self.value)
    }
}

impl Div for Rev {
    type Output = Rev;
    #[inline]
    fn div(self, rhs: Rev) -> Rev {
        // the value divides, as `f64` does: `self · (1 / rhs)` overflows for a
        // subnormal `rhs` whose quotient is finite
        let value = self.value / rhs.value;
        Rev::binary(self, rhs, value, rhs.value.recip(), -value / rhs.value)
    }
}

impl Add<f64> for Rev {
    type Output = Rev;
    #[inline]
    fn add(self, rhs: f64) -> Rev {
        self.unary(self.value + rhs, 1.0)
    }
}

impl Sub<f64> for Rev {
    type Output = Rev;
    #[inline]
    fn sub(self, rhs: f64) -> Rev {
        self.unary(self.value - rhs, 1.0)
    }
}

impl Mul<f64> for Rev {
    type Output = Rev;
    #[inline]
    fn mul(self, rhs: f64) -> Rev {
        self.unary(self.value * rhs, rhs)
    }
}

impl Div<f64> for Rev {
    type Output = Rev;
    #[inline]
    fn div(self, rhs: f64) -> Rev {
        self.unary(self.value / rhs, 1.0 / rhs)
    }
}

impl Add<Rev> for f64 {
    type Output = Rev;
    #[inline]
    fn add(self, rhs: Rev) -> Rev {
        rhs.unary(self + rhs.value, 1.0)
    }
}

impl Sub<Rev> for f64 {
    type Output = Rev;
    #[inline]
    fn sub(self, rhs: Rev) -> Rev {
        rhs.unary(self - rhs.value, -1.0)
    }
}

impl Mul<Rev> for f64 {
    type Output = Rev;
    #[inline]
    fn mul(self, rhs: Rev) -> Rev {
        rhs.unary(self * rhs.value, self)
    }
}

impl Div<Rev> for f64 {
    type Output = Rev;
    #[inline]
    fn div(self, rhs: Rev) -> Rev {
        let value = self / rhs.value;
        rhs.unary(value, -value / rhs.value)
    }
}

impl Neg for Rev {
    type Output = Rev;
    #[inline]
    fn neg(self) -> Rev {
        self.unary(-self.value, -1.0)
    }
}

macro_rules! assign_ops {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl $trait for Rev {
            #[inline]
            fn $method(&mut self, rhs: Rev) {
                *self = (*self).$op(rhs);
            }
        }
        impl $trait<f64> for Rev {
            #[inline]
            fn $method(&mut self, rhs: f64) {
                *self = (*self).$op(rhs);
            }
        }
    )*};
}

assign_ops!(AddAssign add_assign add, SubAssign sub_assign sub, MulAssign mul_assign mul, DivAssign div_assign div);

thread_local! {
    pub(super) static SUM_TERMS: std::cell::RefCell<Vec<Rev>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Sum for Rev {
    /// One node for the whole sum. The terms are gathered first (they may record
    /// nodes of their own), in a reused per-thread buffer.
    fn sum<I: Iterator<Item = Rev>>(iter: I) -> Rev {
        let gather = |terms: &mut Vec<Rev>| {
            terms.clear();
            let mut total = 0.0;
            for v in iter {
                total += v.value;
                if !v.is_constant() {
                    terms.push(v);
                }
            }
            if terms.is_empty() {
                Rev::constant(total)
            } else {
                Rev::record(total, terms.iter().map(|&v| (v, 1.0)))
            }
        };
        SUM_TERMS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut terms) => gather(&mut terms),
            Err(_) => gather(&mut Vec::new()),
        })
    }
}

impl Real for Rev {
    #[inline]
    fn value(self) -> f64 {
        self.value
    }
    #[inline]
    fn exp(self) -> Self {
        let v = self.value.exp();
        self.unary(v, v)
    }
    #[inline]
    fn ln(self) -> Self {
        self.unary(self.value.ln(), 1.0 / self.value)
    }
    #[inline]
    fn ln_1p(self) -> Self {
        self.unary(self.value.ln_1p(), 1.0 / (1.0 + self.value))
    }
    #[inline]
    fn exp_m1(self) -> Self {
        self.unary(self.value.exp_m1(), self.value.exp())
    }
    #[inline]
    fn sqrt(self) -> Self {
        let v = self.value.sqrt();
        self.unary(v, 0.5 / v)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        let d = if n == 0 {
            0.0
        } else {
            n as f64 * self.value.powi(n - 1)
        };
        self.unary(self.value.powi(n), d)
    }
    #[inline]
    fn powf(self, p: f64) -> Self {
        let d = if p == 0.0 {
            0.0
        } else {
            p * self.value.powf(p - 1.0)
        };
        self.unary(self.value.powf(p), d)
    }
    #[inline]
    fn pow(self, y: Self) -> Self {
        let v = self.value.powf(y.value);
        let da = if y.value == 0.0 {
            0.0
        } else {
            y.value * self.value.powf(y.value - 1.0)
        };
        let dy = if v == 0.0 { 0.0 } else { v * self.value.ln() };
        Rev::binary(self, y, v, da, dy)
    }
    #[inline]
    fn sin(self) -> Self {
        self.unary(self.value.sin(), self.value.cos())
    }
    #[inline]
    fn cos(self) -> Self {
        self.unary(self.value.cos(), -self.value.sin())
    }
    #[inline]
    fn tan(self) -> Self {
        let t = self.value.tan();
        self.unary(t, 1.0 + t * t)
    }
    #[inline]
    fn atan(self) -> Self {
        self.unary(self.value.atan(), 1.0 / (1.0 + self.value * self.value))
    }
    #[inline]
    fn tanh(self) -> Self {
        let t = self.value.tanh();
        self.unary(t, 1.0 - t * t)
    }
    #[inline]
    fn abs(self) -> Self {
        let s = if self.value > 0.0 {
            1.0
        } else if self.value < 0.0 {
            -1.0
        } else {
            0.0
        };
        self.unary(self.value.abs(), s)
    }
    #[inline]
    fn recip(self) -> Self {
        let v = 1.0 / self.value;
        self.unary(v, -v * v)
    }
    #[inline]
    fn lgamma(self) -> Self {
        self.unary(special::lgamma(self.value), special::digamma(self.value))
    }
    #[inline]
    fn digamma(self) -> Self {
        self.unary(special::digamma(self.value), special::trigamma(self.value))
    }
    #[inline]
    fn erf(self) -> Self {
        let d = std::f64::consts::FRAC_2_SQRT_PI * (-self.value * self.value).exp();
        self.unary(Real::erf(self.value), d)
    }
    #[inline]
    fn erfc(self) -> Self {
        let d = -std::f64::consts::FRAC_2_SQRT_PI * (-self.value * self.value).exp();
        self.unary(Real::erfc(self.value), d)
    }
    #[inline]
    fn log1p_exp(self) -> Self {
        self.unary(Real::log1p_exp(self.value), Real::inv_logit(self.value))
    }
    #[inline]
    fn inv_logit(self) -> Self {
        let p = Real::inv_logit(self.value);
        self.unary(p, p * (1.0 - p))
    }
    #[inline]
    fn log_sum_exp(self, other: Self) -> Self {
        let v = Real::log_sum_exp(self.value, other.value);
        if v.is_infinite() {
            return Rev::binary(self, other, v, 0.0, 0.0);
        }
        Rev::binary(
            self,
            other,
            v,
            (self.value - v).exp(),
            (other.value - v).exp(),
        )
    }
    #[inline]
    fn fused<I: IntoIterator<Item = (Self, f64)>>(value: f64, terms: I) -> Self {
        Rev::record(value, terms)
    }
}
