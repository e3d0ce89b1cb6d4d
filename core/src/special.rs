//! Special functions on `f64` that the standard library lacks.
//!
//! `lgamma`, `erf` and `erfc` come from `libm` (a port of musl's, accurate to about one
//! unit in the last place); `digamma` and `trigamma` are computed here by recurrence to
//! `x ≥ 10` followed by their asymptotic series, with the reflection formula for `x < 0`.

use std::f64::consts::PI;

/// `ln |Γ(x)|`.
pub fn lgamma(x: f64) -> f64 {
    libm::lgamma_r(x).0
}

/// The digamma function `ψ(x) = Γ'(x) / Γ(x)`.
///
/// Poles (`x = 0, -1, -2, …`) give NaN. Relative accuracy is about 1e-15 away from the
/// root near 1.4616.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // ψ(1 - x) - ψ(x) = π cot(πx)
        return digamma(1.0 - x) - PI / (PI * x).tan();
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // ψ(x) ~ ln x - 1/(2x) - Σ B_{2k} / (2k x^{2k})
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0
                                    - inv2
                                        * (1.0 / 132.0
                                            - inv2 * (691.0 / 32760.0 - inv2 / 12.0))))));
    acc + x.ln() - 0.5 * inv - series
}

/// The trigamma function `ψ'(x)`, the derivative of [`digamma`].
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // ψ'(1 - x) + ψ'(x) = π² / sin²(πx)
        let s = (PI * x).sin();
        return -trigamma(1.0 - x) + PI * PI / (s * s);
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // ψ'(x) ~ 1/x + 1/(2x²) + Σ B_{2k} / x^{2k+1}
    let series = inv2
        * inv
        * (1.0 / 6.0
            - inv2
                * (1.0 / 30.0
                    - inv2
                        * (1.0 / 42.0
                            - inv2 * (1.0 / 30.0 - inv2 * (5.0 / 66.0 - inv2 * 691.0 / 2730.0)))));
    acc + inv + 0.5 * inv2 + series
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Abramowitz & Stegun 6.3 / 6.4 and closed forms
    // ψ(1) = -γ, ψ(1/2) = -γ - 2 ln 2, ψ'(1) = π²/6, ψ'(1/2) = π²/2.
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

    #[test]
    fn digamma_closed_forms() {
        assert!((digamma(1.0) + EULER_GAMMA).abs() < 1e-15);
        assert!((digamma(0.5) + EULER_GAMMA + 2.0 * 2f64.ln()).abs() < 1e-15);
        // ψ(n + 1) = H_n - γ
        let h10: f64 = (1..=10).map(|k| 1.0 / k as f64).sum();
        assert!((digamma(11.0) - (h10 - EULER_GAMMA)).abs() < 1e-14);
        // reflection: ψ(-0.5) = ψ(1.5) + π cot(-0.5π)... = 0.03649034292164...
        assert!((digamma(-0.5) - 0.036_489_973_978_576_52).abs() < 1e-13);
        assert!(digamma(0.0).is_nan() && digamma(-2.0).is_nan());
    }

    #[test]
    fn trigamma_closed_forms() {
        assert!((trigamma(1.0) - PI * PI / 6.0).abs() < 1e-14);
        assert!((trigamma(0.5) - PI * PI / 2.0).abs() < 1e-13);
        // derivative of digamma by central differences
        for &x in &[0.3, 1.7, 4.2, 12.5, -1.3] {
            let h = 1e-5;
            let fd = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
            assert!(
                (trigamma(x) - fd).abs() < 1e-7 * trigamma(x).abs().max(1.0),
                "x = {x}"
            );
        }
    }

    #[test]
    fn lgamma_reference() {
        assert!((lgamma(0.5) - 0.5 * PI.ln()).abs() < 1e-15);
        assert!((lgamma(10.0) - 362_880f64.ln()).abs() < 1e-13);
        assert!(lgamma(1.0).abs() < 1e-16 && lgamma(2.0).abs() < 1e-16);
    }
}
