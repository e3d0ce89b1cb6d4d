//! Numeric functions for model bodies, generic over the model's scalar.
//!
//! Everything here takes and returns [`Real`] scalars, so it runs on `f64`, forward duals
//! and the reverse tape alike: write `math::log_sum_exp(&lps)` or
//! `math::std_normal_cdf(z)` in a `#[model]` body and the gradient follows. Functions that
//! have a cheap analytic derivative record one node with it ([`Real::fused`]) instead of
//! one per elementary operation.
//!
//! Stan's names are given where they differ: [`std_normal_cdf`] is Stan's `Phi`,
//! [`std_normal_quantile`] its `inv_Phi`, [`hmm_latent_sample`] its `hmm_latent_rng`.
//!
//! Matrices are `n × n` row-major slices, as in [`linalg`](crate::linalg), whose
//! functions are re-exported here; the caller owns every buffer, so nothing here
//! allocates. Only the lower triangle of a Cholesky factor is read.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use crate::real::Real;
use crate::special;

pub use crate::hmm::{hmm_hidden_state_prob, hmm_latent_sample, hmm_marginal, try_hmm_marginal};
pub use crate::linalg::{
    cholesky, gp_exp_quad_cov, inverse_from_cholesky, lower_mul, solve_lower, solve_lower_transpose,
};

/// `ln Σᵢ e^{xᵢ}`, without overflow; `-∞` for an empty slice.
///
/// One node with partials `∂/∂xᵢ = e^{xᵢ - lse}` (the softmax).
///
/// ```
/// use tilde_core::math::log_sum_exp;
///
/// let v = log_sum_exp(&[1000.0, 1000.0]);
/// assert!((v - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// assert_eq!(log_sum_exp::<f64>(&[]), f64::NEG_INFINITY);
/// ```
pub fn log_sum_exp<T: Real>(xs: &[T]) -> T {
    let max = xs
        .iter()
        .map(|x| x.value())
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return T::from(if xs.iter().any(|x| x.value().is_nan()) {
            f64::NAN
        } else {
            max
        });
    }
    let sum: f64 = xs.iter().map(|x| (x.value() - max).exp()).sum();
    let value = max + sum.ln();
    T::fused(value, xs.iter().map(|&x| (x, (x.value() - value).exp())))
}

/// `ln(1 + eˣ)` (softplus), without overflow for large `x`.
///
/// ```
/// use tilde_core::math::log1p_exp;
///
/// assert_eq!(log1p_exp(800.0), 800.0);
/// assert!((log1p_exp(0.0) - 2f64.ln()).abs() < 1e-16);
/// ```
pub fn log1p_exp<T: Real>(x: T) -> T {
    x.log1p_exp()
}

/// `outᵢ = xᵢ - ln Σⱼ e^{xⱼ}`, the logarithm of the softmax.
///
/// # Panics
/// When `out` and `xs` differ in length.
///
/// ```
/// use tilde_core::math::log_softmax;
///
/// let mut out = [0.0; 3];
/// log_softmax(&[1.0, 2.0, 3.0], &mut out);
/// assert!((out.iter().map(|v: &f64| v.exp()).sum::<f64>() - 1.0).abs() < 1e-15);
/// assert!((out[2] - out[1] - 1.0).abs() < 1e-15);
/// ```
pub fn log_softmax<T: Real>(xs: &[T], out: &mut [T]) {
    assert_eq!(xs.len(), out.len(), "log_softmax: lengths differ");
    let lse = log_sum_exp(xs);
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = x - lse;
    }
}

/// `ln |Γ(x)|`: finite for negative non-integers (the absolute value), `+∞` at the
/// poles `0, -1, -2, …` and at `±∞`, NaN at NaN.
///
/// ```
/// use tilde_core::math::lgamma;
///
/// assert!((lgamma(5.0) - 24f64.ln()).abs() < 1e-14);
/// ```
pub fn lgamma<T: Real>(x: T) -> T {
    x.lgamma()
}

/// The digamma function `ψ(x) = d/dx ln Γ(x)`; its derivative is the trigamma function.
/// NaN at the poles `0, -1, -2, …`, at `-∞` and at NaN; `+∞` at `+∞`.
///
/// ```
/// use tilde_core::math::digamma;
///
/// // ψ(1) = -γ
/// assert!((digamma(1.0) + 0.5772156649015329).abs() < 1e-15);
/// ```
pub fn digamma<T: Real>(x: T) -> T {
    x.digamma()
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b)`, the log of the beta function, with
/// [`lgamma`]'s `ln |Γ|`: for `a` or `b` not positive it is `ln |B|` of the analytic
/// continuation (or `±∞`, NaN, where the `ln Γ` terms are infinite), not a
/// normalising constant; NaN at NaN.
///
/// One node with partials `ψ(a) - ψ(a + b)` and `ψ(b) - ψ(a + b)`.
///
/// ```
/// use tilde_core::math::lbeta;
///
/// // B(2, 3) = 1/12
/// assert!((lbeta(2.0, 3.0) + 12f64.ln()).abs() < 1e-15);
/// ```
pub fn lbeta<T: Real>(a: T, b: T) -> T {
    let (av, bv) = (a.value(), b.value());
    let value = special::lgamma(av) + special::lgamma(bv) - special::lgamma(av + bv);
    if !T::TRACKS_DERIVATIVES {
        return T::from(value);
    }
    let psi_ab = special::digamma(av + bv);
    T::fused(
        value,
        [
            (a, special::digamma(av) - psi_ab),
            (b, special::digamma(bv) - psi_ab),
        ],
    )
}

/// The error function `erf(x) = 2/√π ∫₀ˣ e^{-t²} dt`.
///
/// ```
/// use tilde_core::math::erf;
///
/// assert!((erf(1.0) - 0.8427007929497149).abs() < 1e-16);
/// ```
pub fn erf<T: Real>(x: T) -> T {
    x.erf()
}

/// The complementary error function `erfc(x) = 1 - erf(x)`, accurate for large `x`.
///
/// ```
/// use tilde_core::math::erfc;
///
/// assert!((erfc(10.0) / 2.088487583762545e-45 - 1.0).abs() < 1e-14);
/// ```
pub fn erfc<T: Real>(x: T) -> T {
    x.erfc()
}

/// The standard normal cumulative distribution function
/// `Φ(x) = ½ erfc(-x / √2)`; Stan's `Phi`.
///
/// Accurate in the lower tail (`Φ(-37) ≈ 5.7e-300`); its derivative is the standard
/// normal density.
///
/// ```
/// use tilde_core::math::std_normal_cdf;
///
/// assert_eq!(std_normal_cdf(0.0), 0.5);
/// assert!((std_normal_cdf(1.96) - 0.9750021048517795).abs() < 1e-15);
/// ```
pub fn std_normal_cdf<T: Real>(x: T) -> T {
    x.Phi()
}

/// The standard normal quantile function `Φ⁻¹(p)`, the inverse of
/// [`std_normal_cdf`]; Stan's `inv_Phi`.
///
/// Acklam's rational approximation (relative error below 1.2e-9) refined by one
/// Halley step on `Φ(x) - p` computed with `erfc`, which brings it to a few units in
/// the last place, tails included. `Φ⁻¹(0) = -∞`, `Φ⁻¹(1) = ∞`, and `p` outside
/// `[0, 1]` gives NaN. One node with derivative `dx/dp = 1 / φ(x) = √(2π) e^{x²/2}`.
///
/// ```
/// use tilde_core::math::{std_normal_cdf, std_normal_quantile};
///
/// assert!((std_normal_quantile(0.975) - 1.959963984540054).abs() < 1e-14);
/// let x = std_normal_quantile(1e-300);
/// assert!((std_normal_cdf(x) / 1e-300 - 1.0).abs() < 1e-12);
/// ```
pub fn std_normal_quantile<T: Real>(p: T) -> T {
    let x = std_normal_quantile_f64(p.value());
    if !x.is_finite() || !T::TRACKS_DERIVATIVES {
        return T::from(x);
    }
    let inv_density = (2.0 * PI).sqrt() * (0.5 * x * x).exp();
    T::fused(x, [(p, inv_density)])
}

/// [`std_normal_quantile`] on `f64`.
fn std_normal_quantile_f64(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        let r = (-2.0 * q.ln()).sqrt();
        (((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5])
            / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1.0)
    };
    let mut x = if p < P_LOW {
        tail(p)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail(1.0 - p)
    };
    // One Halley step on Φ(x) - p; in the upper half on the complement, which erfc
    // computes without cancellation.
    let (e, sign) = if x <= 0.0 {
        (0.5 * libm::erfc(-x * FRAC_1_SQRT_2) - p, 1.0)
    } else {
        (0.5 * libm::erfc(x * FRAC_1_SQRT_2) - (1.0 - p), -1.0)
    };
    let u = sign * e * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
    if u.is_finite() {
        x -= u / (1.0 + 0.5 * x * u);
    }
    x
}

/// `ln(eᵃ - eᵇ)` for `a ≥ b`, accurate when they are close or far apart; `-∞` when
/// `a = b`, NaN when `a < b`. Stan's `log_diff_exp`.
///
/// ```
/// use tilde_core::math::log_diff_exp;
///
/// assert!((log_diff_exp(2.0f64.ln(), 0.0)).abs() < 1e-15);   // ln(2 - 1)
/// assert_eq!(log_diff_exp(1.0, f64::NEG_INFINITY), 1.0);
/// assert!(log_diff_exp(0.0, 1.0).is_nan());
/// ```
pub fn log_diff_exp<T: Real>(a: T, b: T) -> T {
    if b.value() > a.value() || a.value().is_nan() || b.value().is_nan() {
        return T::from(f64::NAN);
    }
    if b.value() == f64::NEG_INFINITY {
        return a;
    }
    if a.value() == b.value() {
        return T::from(f64::NEG_INFINITY);
    }
    a + (b - a).log1m_exp()
}

/// `ln(θ e^{λ₁} + (1 - θ) e^{λ₂})`: the log-density of a two-component mixture with
/// weight `θ` on the component of log-density `λ₁`. Stan's `log_mix(theta, lambda1,
/// lambda2)`. `θ` outside `[0, 1]` or NaN gives NaN.
///
/// ```
/// use tilde_core::math::log_mix;
///
/// let v = log_mix(0.3, 0.5f64.ln(), 2f64.ln());
/// assert!((v - (0.3 * 0.5 + 0.7 * 2.0f64).ln()).abs() < 1e-15);
/// ```
pub fn log_mix<T: Real>(theta: T, lp1: T, lp2: T) -> T {
    log_mix_k(&[theta, -theta + 1.0], &[lp1, lp2])
}

/// `ln Σₖ wₖ e^{λₖ}`: the log-density of a finite mixture with weights `w` (a simplex)
/// whose components have log-densities `λ`, computed without overflow.
///
/// One node with partials `∂/∂λₖ = wₖ e^{λₖ - v}` (the responsibilities) and
/// `∂/∂wₖ = e^{λₖ - v}`, where `v` is the value. Negative weights give NaN.
///
/// # Panics
/// When `weights` and `lps` differ in length.
///
/// ```
/// use tilde_core::math::log_mix_k;
///
/// let v = log_mix_k(&[0.2, 0.5, 0.3], &[-1.0, -2.0, -800.0]);
/// let want = (0.2 * (-1.0f64).exp() + 0.5 * (-2.0f64).exp()).ln();
/// assert!((v - want).abs() < 1e-15);
/// ```
pub fn log_mix_k<T: Real>(weights: &[T], lps: &[T]) -> T {
    assert_eq!(
        weights.len(),
        lps.len(),
        "log_mix_k: {} weights for {} log-densities",
        weights.len(),
        lps.len()
    );
    if weights
        .iter()
        .any(|w| w.value().is_nan() || w.value() < 0.0)
    {
        return T::from(f64::NAN);
    }
    let term = |k: usize| weights[k].value().ln() + lps[k].value();
    let max = (0..lps.len()).map(term).fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY || !max.is_finite() {
        return T::from(max);
    }
    let value = max
        + (0..lps.len())
            .map(|k| (term(k) - max).exp())
            .sum::<f64>()
            .ln();
    if !T::TRACKS_DERIVATIVES {
        return T::from(value);
    }
    let scaled = move |k: usize| (lps[k].value() - value).exp();
    T::fused(
        value,
        (0..lps.len()).flat_map(move |k| {
            let s = scaled(k);
            let s = if s.is_finite() { s } else { 0.0 };
            [(lps[k], weights[k].value() * s), (weights[k], s)]
        }),
    )
}

/// `xᵀ (L Lᵀ)⁻¹ x = |L⁻¹ x|²` for a lower Cholesky factor `L` (`n × n`, row-major):
/// the quadratic form of the inverse of the matrix `L` factors, in `O(n²)`. `work`
/// holds `n` scratch values.
///
/// # Panics
/// When the sizes do not match.
///
/// ```
/// use tilde_core::math::{cholesky, inv_quad_form_chol};
///
/// let mut l = [4.0, 2.0, 2.0, 3.0];                 // A = [[4, 2], [2, 3]]
/// assert!(cholesky(&mut l, 2));
/// let q = inv_quad_form_chol(&l, &[1.0, 1.0], &mut [0.0; 2]);
/// assert!((q - 0.375).abs() < 1e-15);              // A⁻¹ = [[3, -2], [-2, 4]] / 8
/// ```
pub fn inv_quad_form_chol<T: Real>(l: &[T], x: &[T], work: &mut [T]) -> T {
    let n = x.len();
    assert!(work.len() >= n, "inv_quad_form_chol: work needs {n} values");
    let z = &mut work[..n];
    solve_lower(l, x, z);
    z.iter().map(|&v| v * v).sum()
}

/// `ln det(L Lᵀ) = 2 Σᵢ ln Lᵢᵢ` for a lower Cholesky factor `L` (`n × n`, row-major).
///
/// # Panics
/// When `l` is not `n × n`.
///
/// ```
/// use tilde_core::math::log_determinant_chol;
///
/// let l = [2.0, 0.0, 1.0, 3.0];
/// assert!((log_determinant_chol(&l, 2) - 36f64.ln()).abs() < 1e-15);
/// ```
pub fn log_determinant_chol<T: Real>(l: &[T], n: usize) -> T {
    assert_eq!(l.len(), n * n, "log_determinant_chol: L must be {n} × {n}");
    (0..n).map(|i| l[i * n + i].ln()).sum::<T>() * 2.0
}

/// `ln det A` for a symmetric positive-definite `A` (`n × n`, row-major, lower triangle
/// read), through its Cholesky factor, which replaces `a`. NaN when `A` is not
/// numerically positive-definite.
///
/// # Panics
/// When `a` is not `n × n`.
///
/// ```
/// use tilde_core::math::log_determinant_spd;
///
/// let mut a = [4.0, 2.0, 2.0, 3.0];
/// assert!((log_determinant_spd(&mut a, 2) - 8f64.ln()).abs() < 1e-15);
/// ```
pub fn log_determinant_spd<T: Real>(a: &mut [T], n: usize) -> T {
    if !cholesky(a, n) {
        return T::from(f64::NAN);
    }
    log_determinant_chol(a, n)
}

/// `det A` of a square matrix (`n × n`, row-major) by Gaussian elimination with
/// partial pivoting, which overwrites `a`; 0 for a singular matrix.
///
/// # Panics
/// When `a` is not `n × n`.
///
/// ```
/// use tilde_core::math::determinant;
///
/// let mut a = [0.0, 2.0, 1.0, 3.0];                 // needs a row swap
/// assert!((determinant(&mut a, 2) + 2.0).abs() < 1e-15);
/// ```
pub fn determinant<T: Real>(a: &mut [T], n: usize) -> T {
    assert_eq!(a.len(), n * n, "determinant: the matrix must be {n} × {n}");
    let mut det = T::from(1.0);
    for c in 0..n {
        let mut p = c;
        for r in c + 1..n {
            if a[r * n + c].value().abs() > a[p * n + c].value().abs() {
                p = r;
            }
        }
        if a[p * n + c].value() == 0.0 {
            return T::from(0.0);
        }
        if p != c {
            for k in 0..n {
                a.swap(c * n + k, p * n + k);
            }
            det = -det;
        }
        let pivot = a[c * n + c];
        det *= pivot;
        for r in c + 1..n {
            let f = a[r * n + c] / pivot;
            for k in c + 1..n {
                let v = a[c * n + k];
                a[r * n + k] -= f * v;
            }
        }
    }
    det
}
