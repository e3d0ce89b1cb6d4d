//! Bijectors from the unconstrained real line onto a support, following Stan's transforms.
//!
//! A latent site is sampled as an unconstrained `y ∈ ℝ`; its value is `x = f(y)` and the
//! log-density gains `ln |f'(y)|` so that the density of `y` is the density of `x` pushed
//! through `f`. The bijector of a site comes from its support ([`Support::bijector`]).
//!
//! [`Support::bijector`]: crate::Support::bijector

use crate::real::Real;

/// A map from ℝ onto a support, with its log-Jacobian.
///
/// | variant | `x = f(y)` | `ln \|f'(y)\|` |
/// |---|---|---|
/// | `Identity` | `y` | `0` |
/// | `Exp` | `eʸ` | `y` |
/// | `LowerBound(a)` | `a + eʸ` | `y` |
/// | `UpperBound(b)` | `b - eʸ` | `y` |
/// | `Logistic` | `1 / (1 + e⁻ʸ)` | `-ln(1 + e⁻ʸ) - ln(1 + eʸ)` |
/// | `Interval(a, b)` | `a + (b - a) / (1 + e⁻ʸ)` | `ln(b - a) - ln(1 + e⁻ʸ) - ln(1 + eʸ)` |
///
/// # Example
/// ```
/// use tilde_core::Bijector;
///
/// let b = Bijector::Interval(1.0, 3.0);
/// let (x, ln_jac) = b.forward_and_ln_jac(0.0);
/// assert_eq!(x, 2.0);
/// assert!((ln_jac - (2.0f64 * 0.25).ln()).abs() < 1e-15);
/// assert!((b.inverse(x) - 0.0).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Bijector<T = f64> {
    /// ℝ → ℝ.
    Identity,
    /// ℝ → (0, ∞).
    Exp,
    /// ℝ → (lower, ∞).
    LowerBound(T),
    /// ℝ → (-∞, upper).
    UpperBound(T),
    /// ℝ → (0, 1).
    Logistic,
    /// ℝ → (lower, upper).
    Interval(T, T),
}

/// `ln(logistic'(y)) = -ln(1 + e⁻ʸ) - ln(1 + eʸ)`, symmetric and stable in both tails.
#[inline]
fn ln_logistic_jacobian<T: Real>(y: T) -> T {
    let a = y.abs();
    // -ln(1+e^-|y|) - ln(1+e^|y|) = -|y| - 2 ln(1 + e^-|y|)
    -a - (-a).exp().ln_1p() * 2.0
}

/// The logistic function written so that `x` near 1 keeps its precision.
#[inline]
fn logistic<T: Real>(y: T) -> T {
    y.inv_logit()
}

impl<T: Real> Bijector<T> {
    /// The constrained value `x = f(y)` and `ln |f'(y)|`, in one pass.
    #[inline]
    pub fn forward_and_ln_jac(&self, y: T) -> (T, T) {
        match *self {
            Bijector::Identity => (y, T::from(0.0)),
            Bijector::Exp => (y.exp(), y),
            Bijector::LowerBound(a) => (y.exp() + a, y),
            Bijector::UpperBound(b) => (b - y.exp(), y),
            Bijector::Logistic => (logistic(y), ln_logistic_jacobian(y)),
            Bijector::Interval(a, b) => {
                let width = b - a;
                let x = if y > 0.0 {
                    b - width * logistic(-y)
                } else {
                    a + width * logistic(y)
                };
                (x, width.ln() + ln_logistic_jacobian(y))
            }
        }
    }

    /// The constrained value `x = f(y)`.
    #[inline]
    pub fn forward(&self, y: T) -> T {
        self.forward_and_ln_jac(y).0
    }

    /// `ln |f'(y)|`, the log-determinant of the Jacobian of [`forward`](Self::forward).
    #[inline]
    pub fn ln_abs_det_jacobian(&self, y: T) -> T {
        self.forward_and_ln_jac(y).1
    }

    /// The bijector with its bounds as plain numbers.
    pub fn to_f64(&self) -> Bijector<f64> {
        match *self {
            Bijector::Identity => Bijector::Identity,
            Bijector::Exp => Bijector::Exp,
            Bijector::LowerBound(a) => Bijector::LowerBound(a.value()),
            Bijector::UpperBound(b) => Bijector::UpperBound(b.value()),
            Bijector::Logistic => Bijector::Logistic,
            Bijector::Interval(a, b) => Bijector::Interval(a.value(), b.value()),
        }
    }

    /// The unconstrained value `y = f⁻¹(x)`. A value outside the support gives NaN or ±∞.
    pub fn inverse(&self, x: T) -> T {
        match *self {
            Bijector::Identity => x,
            Bijector::Exp => x.ln(),
            Bijector::LowerBound(a) => (x - a).ln(),
            Bijector::UpperBound(b) => (b - x).ln(),
            Bijector::Logistic => x.logit(),
            Bijector::Interval(a, b) => {
                // logit((x - a) / (b - a)) = ln(x - a) - ln(b - x)
                (x - a).ln() - (b - x).ln()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Bijector<f64>> {
        vec![
            Bijector::Identity,
            Bijector::Exp,
            Bijector::LowerBound(-2.5),
            Bijector::UpperBound(4.0),
            Bijector::Logistic,
            Bijector::Interval(-1.0, 3.0),
            Bijector::Interval(0.0, 1e-3),
        ]
    }

    #[test]
    fn round_trip() {
        for b in all() {
            for &y in &[-30.0, -7.3, -1.0, -1e-8, 0.0, 0.4, 2.0, 11.0, 30.0] {
                let x = b.forward(y);
                assert!(x.is_finite(), "{b:?} at {y}");
                let back = b.inverse(x);
                // x carries a rounding error of about ε|x|, which maps back to y divided
                // by f'(y): near a bound that is the transform's own conditioning
                let slope = b.ln_abs_det_jacobian(y).exp();
                let tol = 1e-13 * (1.0 + y.abs()) + 4.0 * f64::EPSILON * x.abs() / slope;
                assert!((back - y).abs() < tol, "{b:?}: {y} -> {x} -> {back}");
            }
        }
    }

    #[test]
    fn ln_jacobian_matches_finite_differences() {
        for b in all() {
            for &y in &[-30.0, -5.0, -0.7, 0.0, 0.3, 4.0, 30.0] {
                let (x, ln_jac) = b.forward_and_ln_jac(y);
                assert!(ln_jac.is_finite(), "{b:?} at {y}");
                let h = 1e-5 * (1.0f64).max(y.abs());
                let d = (b.forward(y + h) - b.forward(y - h)) / (2.0 * h);
                // rounding noise of the difference relative to the derivative itself
                let noise = x.abs().max(1e-300) * f64::EPSILON / h / d.abs();
                if noise < 1e-9 {
                    let fd = d.abs().ln();
                    assert!((ln_jac - fd).abs() < 1e-7, "{b:?} at {y}: {ln_jac} vs {fd}");
                } else {
                    // x sits next to a bound and the difference of x is rounding noise.
                    // A shifted bound is `bound ± exp`, whose Jacobian was checked by
                    // differences through `Exp`; the logistic Jacobian is even in y, and
                    // -y was checked by differences where x is tiny and exact.
                    let reference = match b {
                        Bijector::LowerBound(_) | Bijector::UpperBound(_) => {
                            Bijector::Exp.ln_abs_det_jacobian(y)
                        }
                        Bijector::Logistic | Bijector::Interval(..) => b.ln_abs_det_jacobian(-y),
                        _ => panic!("{b:?} at {y}: differences unexpectedly ill-conditioned"),
                    };
                    assert!((ln_jac - reference).abs() < 1e-12, "{b:?} at {y}");
                }
            }
        }
    }
}
