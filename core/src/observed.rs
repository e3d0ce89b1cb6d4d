//! The log-density of an observed site as a value, for the gradient code `#[model]`
//! generates (which keeps its own running total instead of a [`Ctx`](crate::Ctx)).

use crate::distributions::{Distribution, Iid, LN_SQRT_2PI, ObsScalar, ObsVector};
use crate::real::Real;

/// What an observed `sample!` of generated code scores: a scalar distribution with a
/// number, or `dist.iid(n)` with a slice of `n` numbers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot observe a value of type `{V}`",
    label = "`obs` takes data: a number for a scalar distribution, a slice for `dist.iid(n)`"
)]
pub trait ObservedSite<V> {
    /// The distribution's scalar.
    type Scalar: Real;

    /// The log-density of `value`; `None` when a vector's length is not the site's
    /// (the tape then runs the model and reports the fault).
    fn log_density(&self, value: V) -> Option<Self::Scalar>;
}

#[diagnostic::do_not_recommend]
impl<D: Distribution, E: ObsScalar> ObservedSite<E> for D {
    type Scalar = D::Scalar;

    #[inline]
    fn log_density(&self, value: E) -> Option<D::Scalar> {
        Some(self.ln_pdf_obs(value.to_f64()))
    }
}

#[diagnostic::do_not_recommend]
impl<D: Distribution, V: ObsVector> ObservedSite<V> for Iid<D> {
    type Scalar = D::Scalar;

    #[inline]
    fn log_density(&self, value: V) -> Option<D::Scalar> {
        (value.len() == self.len()).then(|| self.dist().ln_pdf_obs_sum(&value))
    }
}

/// The data-only part of a normal observation's log-density with a data scale:
/// `-ln σ - ln √(2π)`; `-∞` (a rejection, as `Normal::ln_pdf_obs`) when `σ` is not
/// positive or `y` not finite. The generated code adds `-½((y - μ)/σ)²` itself.
#[inline]
pub fn normal_constant(scale: f64, y: f64) -> f64 {
    if scale > 0.0 && scale.is_finite() && y.is_finite() {
        -scale.ln() - LN_SQRT_2PI
    } else {
        f64::NEG_INFINITY
    }
}

/// The data-only part of a normal observation's log-density with a parameter scale:
/// `-ln √(2π)`, `-∞` when `y` is not finite. The generated code adds
/// `-½((y - μ)/σ)² - ln σ` itself.
#[inline]
pub fn normal_constant_obs(y: f64) -> f64 {
    if y.is_finite() {
        -LN_SQRT_2PI
    } else {
        f64::NEG_INFINITY
    }
}

/// The data-only part of a Poisson observation's log-mass with a log-rate `η`, in
/// Loader's saddle-point form: `-stirlerr(k) - ½ ln(2πk)` for a count `k ≥ 1`, `0` at
/// `k = 0`, `-∞` when `k` is not a non-negative integer. The generated code adds
/// [`poisson_log_rate_kernel`] itself; the two sum to `k η - e^η - ln k!` without the
/// cancellation between its terms at large counts (as `Poisson::ln_pdf` does).
#[inline]
pub fn poisson_constant(k: f64) -> f64 {
    if !(k >= 0.0 && k.fract() == 0.0) {
        f64::NEG_INFINITY
    } else if k == 0.0 {
        0.0
    } else {
        -(crate::distributions::stirlerr(k) + 0.5 * k.ln() + LN_SQRT_2PI)
    }
}

/// The parameter-dependent part of a Poisson observation's log-mass at a log-rate `η`:
/// `-bd0(k, e^η) = k η - e^η - (k ln k - k)` for a count `k ≥ 1`, `-e^η` at `k = 0`
/// (`k η - e^η` for data outside the support, whose [`poisson_constant`] is `-∞`).
/// Its derivative in `η` is `k - e^η`.
///
/// # Example
/// ```
/// use tilde_core::observed::{poisson_constant, poisson_log_rate_kernel};
/// use tilde_core::{Distribution, Poisson};
///
/// let (k, eta) = (1.0e6, 13.8);
/// let total = poisson_log_rate_kernel(eta, k) + poisson_constant(k);
/// let reference = Poisson::<f64>::log_rate(eta).ln_pdf(k);
/// assert!((total - reference).abs() <= 1e-14 * reference.abs());
/// ```
#[inline]
pub fn poisson_log_rate_kernel(eta: f64, k: f64) -> f64 {
    if k >= 1.0 && k.fract() == 0.0 && k.is_finite() {
        -crate::distributions::bd0(k, eta.exp(), eta)
    } else if k == 0.0 {
        -eta.exp()
    } else {
        k * eta - eta.exp()
    }
}

/// `ln(1 + w²)`, the part of a Student-t observation's log-density that depends on its
/// standardised value `w = (y - μ)/(σ√ν)` (times `-(ν + 1)/2`), without overflow at
/// large `|w|` (as `StudentT::ln_pdf` computes it).
///
/// # Example
/// ```
/// use tilde_core::observed::ln_1p_sq;
///
/// assert!((ln_1p_sq(0.5) - 1.25f64.ln()).abs() < 1e-15);
/// assert!((ln_1p_sq(1e200) - 2.0 * 1e200f64.ln()).abs() < 1e-12);
/// ```
#[inline]
pub fn ln_1p_sq(w: f64) -> f64 {
    crate::distributions::ln_1p_sq(w)
}

/// The derivative of [`ln_1p_sq`], `2w / (1 + w²)`, finite for every finite `w`.
#[inline]
pub fn ln_1p_sq_slope(w: f64) -> f64 {
    crate::distributions::ln_1p_sq_partials(w).0
}

/// The data-only part of a Student-t observation's log-density with a data `ν`:
/// `ln Γ((ν+1)/2) - ln Γ(ν/2) - ½ ln(νπ)`, and `-ln σ` when the scale is data
/// (`Some(σ)`); `-∞` when `ν` or `σ` is not positive and finite or `y` not finite.
/// The generated code adds `-(ν+1)/2 ln(1 + ((y - μ)/σ)²/ν)` (and `-ln σ` for a
/// parameter scale) itself.
#[inline]
pub fn student_t_constant(nu: f64, scale: Option<f64>, y: f64) -> f64 {
    let positive = |v: f64| v > 0.0 && v.is_finite();
    if !positive(nu) || !scale.is_none_or(positive) || !y.is_finite() {
        return f64::NEG_INFINITY;
    }
    crate::distributions::student_t::ln_norm_const(nu) - scale.map_or(0.0, f64::ln)
}
