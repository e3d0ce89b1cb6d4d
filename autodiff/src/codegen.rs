//! Run-time support of the gradient code that `#[model]` generates.
//!
//! `#[model]` emits, besides the generic body, a plain-`f64` forward pass over the body
//! followed by reverse-mode adjoint code (source transformation). Each statement that
//! depends on a parameter is evaluated once with its inputs seeded as forward duals of a
//! width known at compile time (its local partial derivatives, preaccumulated); the
//! reverse pass multiplies the adjoints back through those partials in reverse order.
//! Loops whose iterations do not carry parameter-dependent values run their reverse
//! sweep right after each iteration; other loops keep what their sweep needs on a
//! value stack. The functions here are what that code calls: the scalar sites, the
//! stack and the buffers, all reused across calls, so a gradient does not allocate.

use std::cell::RefCell;

use tilde_core::observed::ObservedSite;
use tilde_core::{Continuous, Iid, Real};

use crate::Fwd;

pub use tilde_core::observed::{
    ln_1p_sq, ln_1p_sq_slope, normal_constant, normal_constant_obs, poisson_constant,
    poisson_log_rate_kernel, student_t_constant,
};
pub use tilde_core::simd::{axpy, dot, pairwise_sum};

/// Buffers of the generated gradient code: a value stack and the vectors of vector
/// sites, kept by each thread between calls.
#[derive(Debug, Default)]
pub struct Pool {
    stack: Vec<f64>,
    vectors: Vec<Vec<f64>>,
}

impl Pool {
    /// Pushes one value on the stack.
    #[inline]
    pub fn push(&mut self, value: f64) {
        self.stack.push(value);
    }

    /// Pushes several values.
    #[inline]
    pub fn push_all<const K: usize>(&mut self, values: &[f64; K]) {
        self.stack.extend_from_slice(values);
    }

    /// Pops the value pushed last (NaN on an empty stack, which the code never asks).
    #[inline]
    pub fn pop(&mut self) -> f64 {
        self.stack.pop().unwrap_or(f64::NAN)
    }

    /// Pops the `K` values of one [`push_all`](Self::push_all).
    #[inline]
    pub fn pop_all<const K: usize>(&mut self) -> [f64; K] {
        let len = self.stack.len();
        let start = len.saturating_sub(K);
        // a copy of fixed length (no call to memmove); NaN on a short stack, which the
        // code never asks
        let out = self.stack[start..].try_into().unwrap_or([f64::NAN; K]);
        self.stack.truncate(start);
        out
    }

    /// A zeroed vector of length `n`, from the pool when it has one.
    #[inline]
    pub fn take(&mut self, n: usize) -> Vec<f64> {
        let mut v = self.vectors.pop().unwrap_or_default();
        v.clear();
        v.resize(n, 0.0);
        v
    }

    /// A vector of length `n` whose values are unspecified (left from an earlier use, or
    /// zero), from the pool when it has one: the record of a carried loop, every slot of
    /// which is written before it is read, so it is not cleared on every evaluation.
    #[inline]
    pub fn take_record(&mut self, n: usize) -> Vec<f64> {
        let mut v = self.vectors.pop().unwrap_or_default();
        if v.len() < n {
            v.resize(n, 0.0);
        } else {
            v.truncate(n);
        }
        v
    }

    /// Returns a vector of [`take`](Self::take) or [`take_record`](Self::take_record)
    /// to the pool.
    #[inline]
    pub fn give(&mut self, v: Vec<f64>) {
        self.vectors.push(v);
    }
}

/// The length of a `Normal::each` site the generated code runs as a loop: `n`, the
/// observation's, when every vector argument has it (`None` otherwise: the tape runs
/// the model and reports the mismatch).
#[inline]
pub fn each_len(lengths: &[usize], n: usize) -> Option<usize> {
    lengths.iter().all(|&l| l == n).then_some(n)
}

/// The length of the record of a loop over `iter` that keeps `width` values per
/// iteration: room for the iterator's upper length bound (its lower bound when it has
/// none, or one of more than `RECORD_MAX` values; the generated code hands a longer
/// loop to the tape).
#[inline]
pub fn record_len<I: Iterator>(iter: &I, width: usize) -> usize {
    let (lower, upper) = iter.size_hint();
    match upper.and_then(|u| u.checked_mul(width)) {
        Some(len) if len <= RECORD_MAX => len,
        _ => lower.saturating_mul(width).min(RECORD_MAX),
    }
}

/// The most values a loop's record holds (32 MB): an iterator whose length bound is
/// larger (`(0..usize::MAX).take_while(…)`) gets a record of its lower bound.
const RECORD_MAX: usize = 1 << 22;

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

impl Pool {
    /// The bytes the stack and the vectors hold (their capacity).
    fn bytes(&self) -> usize {
        let vectors: usize = self.vectors.iter().map(Vec::capacity).sum();
        (self.stack.capacity() + vectors) * std::mem::size_of::<f64>()
            + self.vectors.capacity() * std::mem::size_of::<Vec<f64>>()
    }
}

/// Frees this thread's pool; returns the bytes it held.
pub(crate) fn release_scratch() -> usize {
    POOL.try_with(|p| {
        p.try_borrow_mut()
            .map_or(0, |mut p| std::mem::take(&mut *p).bytes())
    })
    .unwrap_or(0)
        + tilde_core::context::release_buffer(&DENSE_F64)
}

/// The bytes this thread's pool holds.
pub(crate) fn scratch_bytes() -> usize {
    POOL.try_with(|p| p.try_borrow().map_or(0, |p| p.bytes()))
        .unwrap_or(0)
        + tilde_core::context::buffer_bytes(&DENSE_F64)
}

/// Runs `f` with this thread's pool (a fresh one when a call is already using it).
#[inline]
pub fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> R {
    let mut pool = POOL.with(|p| std::mem::take(&mut *p.borrow_mut()));
    pool.stack.clear();
    let out = f(&mut pool);
    POOL.with(|p| *p.borrow_mut() = pool);
    out
}

/// A latent scalar site: the constrained value `v = b(y)` of the unconstrained `y`
/// through the bijector of `dist`'s support, and its log-density plus log-Jacobian
/// `l = ln p(v) + ln|b'(y)|` (without the Jacobian when `jacobian` is false), which is
/// added to `target`.
///
/// Direction 0 of the duals is `y`; the caller seeds directions 1.. on the
/// distribution's inputs. Returns `(v, ∂v, ∂l)` with the partials along every
/// direction.
#[inline]
pub fn latent<const N: usize, D: Continuous<Scalar = Fwd<N>>>(
    dist: &D,
    y: f64,
    jacobian: bool,
    target: &mut f64,
) -> (f64, [f64; N], [f64; N]) {
    let bijector = dist
        .support()
        .bijector()
        .unwrap_or(tilde_core::Bijector::Identity);
    let (value, ln_jac) = bijector.forward_and_ln_jac(Fwd::variable(y, 0));
    let mut l = dist.ln_pdf(value);
    if jacobian {
        l += ln_jac;
    }
    *target += l.value();
    (value.value(), value.gradient(), l.gradient())
}

/// A latent vector site `dist.iid(n)`: element `j` is `vⱼ = b(yⱼ)`, scored
/// `lⱼ = ln p(vⱼ) + ln|b'(yⱼ)|` (without the Jacobian when `jacobian` is false).
///
/// Direction 0 of the duals is the element's `yⱼ`; the caller seeds directions 1.. on
/// the distribution's inputs. Writes `vⱼ` into `values`, its partials along every
/// direction into `slopes[j·N..(j+1)·N]`, adds `∂lⱼ/∂yⱼ` into `grad[j]`, and returns
/// `Σⱼ lⱼ` with its partials along directions 1.. (direction 0 is left at 0).
#[inline]
pub fn latent_iid<const N: usize, D: Continuous<Scalar = Fwd<N>>>(
    site: &Iid<D>,
    ys: &[f64],
    values: &mut [f64],
    slopes: &mut [f64],
    grad: &mut [f64],
    jacobian: bool,
) -> (f64, [f64; N]) {
    let dist = site.dist();
    let bijector = dist
        .support()
        .bijector()
        .unwrap_or(tilde_core::Bijector::Identity);
    let mut total = 0.0;
    let mut partials = [0.0; N];
    // an unconstrained site (the common `Normal::new(0.0, 1.0).iid(n)`) has no
    // transform to evaluate per element
    let identity = matches!(bijector, tilde_core::Bijector::Identity);
    for (j, &y) in ys.iter().enumerate() {
        let (value, l) = if identity {
            let value = Fwd::variable(y, 0);
            (value, dist.ln_pdf(value))
        } else {
            let (value, ln_jac) = bijector.forward_and_ln_jac(Fwd::variable(y, 0));
            let l = dist.ln_pdf(value);
            (value, if jacobian { l + ln_jac } else { l })
        };
        total += l.value();
        values[j] = value.value();
        slopes[j * N..(j + 1) * N].copy_from_slice(&value.gradient());
        let dl = l.gradient();
        grad[j] += dl[0];
        for (p, d) in partials.iter_mut().zip(&dl).skip(1) {
            *p += d;
        }
    }
    (total, partials)
}

/// The width of the duals [`latent_dense`] evaluates a site with.
const DENSE_WIDTH: usize = 16;

thread_local! {
    static DENSE_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// A latent vector site the generated code does not write out (a `Dirichlet`, an
/// `.ordered()` vector, a Gaussian over data, …), whose arguments are data:
/// `plain()` builds it over `f64`, `dual()` over duals. It reads its `n` coordinates
/// from the front of `xs`; its `m` values go into `values`, the Jacobian of the values
/// in the coordinates into `jacobian_out` (`m × n`, row-major), the gradient of its
/// log-density (with its log-Jacobian when `jacobian`) is added into `grad`. Returns
/// the log-density and `n`, or `None` when the site stops (the caller hands the
/// evaluation to the tape).
///
/// One plain pass finds `n` and the values, then one pass of duals per 16 coordinates
/// gives the Jacobian's columns and the gradient.
#[allow(clippy::too_many_arguments)]
pub fn latent_dense<P, D>(
    plain: impl Fn() -> P,
    dual: impl Fn() -> D,
    xs: &[f64],
    jacobian: bool,
    values: &mut Vec<f64>,
    jacobian_out: &mut Vec<f64>,
    grad: &mut [f64],
) -> Option<(f64, usize)>
where
    P: for<'x> tilde_core::Latent<Scalar = f64, Value<'x> = &'x [f64]>,
    D: for<'x> tilde_core::Latent<Scalar = Fwd<DENSE_WIDTH>, Value<'x> = &'x [Fwd<DENSE_WIDTH>]>,
{
    use tilde_core::context::{latent_alone, with_scratch};
    // a site's values are at most a few times its coordinates (a Cholesky factor's
    // `K²` of `K(K-1)/2`)
    let room = 64 + 4 * xs.len();
    let (lp, n) = with_scratch(&DENSE_F64, room, 0.0, |work| {
        let (lp, n, out) = latent_alone(plain(), xs, work, jacobian)?;
        values.clear();
        values.extend_from_slice(out);
        Some((lp, n))
    })?;
    let m = values.len();
    jacobian_out.clear();
    jacobian_out.resize(m * n, 0.0);
    let buffer = <Fwd<DENSE_WIDTH> as crate::forward::Width>::buffer();
    with_scratch(buffer, n + 64 + 4 * n, Fwd::constant(0.0), |scratch| {
        let (x, work) = scratch.split_at_mut(n);
        for start in (0..n).step_by(DENSE_WIDTH) {
            let end = (start + DENSE_WIDTH).min(n);
            for (j, (slot, &v)) in x.iter_mut().zip(&xs[..n]).enumerate() {
                *slot = if (start..end).contains(&j) {
                    Fwd::variable(v, j - start)
                } else {
                    Fwd::constant(v)
                };
            }
            let (l, read, out) = latent_alone(dual(), x, work, jacobian)?;
            if read != n || out.len() != m {
                return None;
            }
            let dl = l.gradient();
            for j in start..end {
                grad[j] += dl[j - start];
            }
            for (i, v) in out.iter().enumerate() {
                let dv = v.gradient();
                jacobian_out[i * n + start..i * n + end].copy_from_slice(&dv[..end - start]);
            }
        }
        Some(())
    })?;
    Some((lp, n))
}

/// `Σⱼ -½((xⱼ - μ)/σ)²` of a latent `Normal::new(μ, σ).iid(n)` over data `μ` and `σ`,
/// adding `∂/∂xⱼ = -(xⱼ - μ)/σ²` to `grad[j]`; the rest of the density is
/// [`normal_iid_constant`]. `-∞` when `σ` is not positive and finite or `μ` not finite.
#[inline]
pub fn normal_latent_iid(loc: f64, scale: f64, xs: &[f64], grad: &mut [f64]) -> f64 {
    if !(scale > 0.0 && scale.is_finite() && loc.is_finite()) {
        return f64::NEG_INFINITY;
    }
    let inv = scale.recip();
    let mut sums = [0.0; 4];
    let (chunks, rest) = xs.as_chunks::<4>();
    let (grad_chunks, grad_rest) = grad.as_chunks_mut::<4>();
    for (x, g) in chunks.iter().zip(grad_chunks) {
        for k in 0..4 {
            let z = (x[k] - loc) * inv;
            sums[k] += z * z;
            g[k] -= z * inv;
        }
    }
    for (x, g) in rest.iter().zip(grad_rest) {
        let z = (x - loc) * inv;
        sums[0] += z * z;
        *g -= z * inv;
    }
    -0.5 * ((sums[0] + sums[1]) + (sums[2] + sums[3]))
}

/// `n (-ln σ - ln √(2π))`: the data-only part of [`normal_latent_iid`]'s density;
/// `-∞` when `σ` is not positive and finite.
#[inline]
pub fn normal_iid_constant(scale: f64, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    normal_constant(scale, 0.0) * n as f64
}

/// The log-density of an observed site (see [`ObservedSite`]).
#[inline]
pub fn observed<S: ObservedSite<V>, V>(site: S, value: V) -> Option<S::Scalar> {
    site.log_density(value)
}

/// An observation as `f64`.
#[inline]
pub fn obs_value<V: tilde_core::ObsScalar>(value: V) -> f64 {
    value.to_f64()
}

/// The log-density of an observed site whose distribution depends on data only.
#[inline]
pub fn observed_data<S: ObservedSite<V, Scalar = f64>, V>(site: S, value: V) -> Option<f64> {
    site.log_density(value)
}

/// The log-density of a [`Glm`](tilde_core::glm::Glm) site observed at `y`, with its
/// partials added to `grad_intercept`, `grad_beta` (when not empty) and `grad_scale`
/// (see `Glm::ln_pdf_obs_and_grad`); `None` when `y` does not have one value per row
/// of the design matrix (the tape then runs the model and reports it).
pub fn glm<V: tilde_core::ObsVector>(
    glm: &tilde_core::glm::Glm<'_, f64>,
    y: V,
    grad_intercept: &mut f64,
    grad_beta: &mut [f64],
    grad_scale: &mut f64,
) -> Option<f64> {
    (glm.rows() == Some(y.len()))
        .then(|| glm.ln_pdf_obs_and_grad(&y, grad_intercept, grad_beta, grad_scale))
}
