//! The four log-density entry points of a distribution built from one `f64` function.
//!
//! A family whose log-density is a sum of independent terms writes one function
//! `parts(x) -> Option<Parts<N>>`: the value at `x` with its partials in `x` and in its
//! `N` parameters, or `None` for `-∞` (a parameter outside its range, `x` outside the
//! support or not finite). The helpers here turn it into one [`Real::fused`] node for a
//! scalar, and one node for a whole vector, latent or observed.

use super::{ObsVector, neg_inf};
use crate::real::Real;

/// A log-density term at one point with its partial derivatives.
#[derive(Clone, Copy, Debug)]
pub(super) struct Parts<const N: usize> {
    /// `ln f(x)`, finite.
    pub(super) value: f64,
    /// `∂/∂x` (ignored for observed values and for discrete families).
    pub(super) d_x: f64,
    /// `∂/∂θⱼ` for each parameter, in the order of the `params` arrays below.
    pub(super) d_params: [f64; N],
}

impl<const N: usize> Parts<N> {
    /// `Some(self)` when the value is finite, `None` (for `-∞`) otherwise.
    #[inline]
    pub(super) fn finite(self) -> Option<Self> {
        self.value.is_finite().then_some(self)
    }
}

/// `ln f(x)` at a latent value: one node with partials in `x` and the parameters.
#[inline]
pub(super) fn latent<T: Real, const N: usize>(
    params: [T; N],
    x: T,
    parts: impl Fn(f64) -> Option<Parts<N>>,
) -> T {
    match parts(x.value()) {
        Some(p) => T::fused(
            p.value,
            params.into_iter().zip(p.d_params).chain([(x, p.d_x)]),
        ),
        None => neg_inf(),
    }
}

/// `ln f(y)` at data: one node with partials in the parameters.
#[inline]
pub(super) fn observed<T: Real, const N: usize>(
    params: [T; N],
    y: f64,
    parts: impl Fn(f64) -> Option<Parts<N>>,
) -> T {
    match parts(y) {
        Some(p) => T::fused(p.value, params.into_iter().zip(p.d_params)),
        None => neg_inf(),
    }
}

/// `Σᵢ ln f(xᵢ)` at latent values: one node, with the parameters' partials summed and
/// `∂/∂xᵢ` per element (computed a second time, and only when the scalar tracks
/// derivatives).
pub(super) fn latent_sum<T: Real, const N: usize>(
    params: [T; N],
    xs: &[T],
    parts: impl Fn(f64) -> Option<Parts<N>>,
) -> T {
    let mut value = 0.0;
    let mut d_params = [0.0; N];
    for x in xs {
        let Some(p) = parts(x.value()) else {
            return neg_inf();
        };
        value += p.value;
        for (d, dp) in d_params.iter_mut().zip(p.d_params) {
            *d += dp;
        }
    }
    if !value.is_finite() {
        return neg_inf();
    }
    let d_xs = xs
        .iter()
        .map(|&x| (x, parts(x.value()).map_or(0.0, |p| p.d_x)));
    T::fused(value, params.into_iter().zip(d_params).chain(d_xs))
}

/// `Σᵢ ln f(yᵢ)` at data: one node with the parameters' partials summed.
pub(super) fn observed_sum<T: Real, V: ObsVector + ?Sized, const N: usize>(
    params: [T; N],
    ys: &V,
    parts: impl Fn(f64) -> Option<Parts<N>>,
) -> T {
    let mut value = 0.0;
    let mut d_params = [0.0; N];
    for i in 0..ys.len() {
        let Some(p) = parts(ys.get_f64(i)) else {
            return neg_inf();
        };
        value += p.value;
        for (d, dp) in d_params.iter_mut().zip(p.d_params) {
            *d += dp;
        }
    }
    if !value.is_finite() {
        return neg_inf();
    }
    T::fused(value, params.into_iter().zip(d_params))
}

/// `true` when `k` is a count: a non-negative integer (false for NaN and `∞`).
#[inline]
pub(super) fn is_count(k: f64) -> bool {
    k >= 0.0 && k.fract() == 0.0
}
