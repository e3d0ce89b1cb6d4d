//! `tilde_core::math` against reference values.
//!
//! Source: `tests/data/math_reference.csv`, written by `tests/data/reference_matrix.py`
//! (`write_math`) from mpmath at 50 digits and cross-checked there against scipy.special
//! and numpy where they have the function.
//!
//! Tolerance: relative 1e-13 (absolute where the value is below 1 in magnitude): the
//! functions are built from libm's `lgamma`/`erfc` (about 1 ulp), the digamma series
//! (about 1e-15) and short sums, so a few ulps of rounding plus the conditioning of
//! `log_mix`/`log_diff_exp` near cancellation stay far below it, while a wrong formula,
//! constant or branch is off by many orders more.

use tilde_core::math;

const TOLERANCE: f64 = 1e-13;

fn floats(s: &str) -> Vec<f64> {
    s.split_whitespace().map(|v| v.parse().unwrap()).collect()
}

fn eval(func: &str, a: &[f64]) -> Vec<f64> {
    let one = |v: f64| vec![v];
    match func {
        "log_sum_exp" => one(math::log_sum_exp(a)),
        "log1p_exp" => one(math::log1p_exp(a[0])),
        "log_softmax" => {
            let mut out = vec![0.0; a.len()];
            math::log_softmax(a, &mut out);
            out
        }
        "lgamma" => one(math::lgamma(a[0])),
        "digamma" => one(math::digamma(a[0])),
        "lbeta" => one(math::lbeta(a[0], a[1])),
        "erf" => one(math::erf(a[0])),
        "erfc" => one(math::erfc(a[0])),
        "std_normal_cdf" => one(math::std_normal_cdf(a[0])),
        "std_normal_quantile" => one(math::std_normal_quantile(a[0])),
        "log_diff_exp" => one(math::log_diff_exp(a[0], a[1])),
        "log_mix" => one(math::log_mix(a[0], a[1], a[2])),
        "log_mix_k" => {
            let (w, lps) = a.split_at(a.len() / 2);
            one(math::log_mix_k(w, lps))
        }
        "determinant" => {
            let n = (a.len() as f64).sqrt() as usize;
            one(math::determinant(&mut a.to_vec(), n))
        }
        "log_determinant_spd" => {
            let n = (a.len() as f64).sqrt() as usize;
            one(math::log_determinant_spd(&mut a.to_vec(), n))
        }
        "inv_quad_form" => {
            // n² + n values: A then x
            let n = ((1.0 + 4.0 * a.len() as f64).sqrt() as usize - 1) / 2;
            let (mat, x) = a.split_at(n * n);
            let mut l = mat.to_vec();
            assert!(math::cholesky(&mut l, n));
            one(math::inv_quad_form_chol(&l, x, &mut vec![0.0; n]))
        }
        _ => panic!("unknown function {func}"),
    }
}

#[test]
fn math_reference_values() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/math_reference.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 3, "{line}");
        let (args, want) = (floats(f[1]), floats(f[2]));
        let got = eval(f[0], &args);
        assert_eq!(got.len(), want.len(), "{line}");
        for (g, w) in got.iter().zip(&want) {
            let ok = if w.is_infinite() {
                g == w
            } else {
                (g - w).abs() <= TOLERANCE * w.abs().max(1.0)
            };
            assert!(ok, "{}({args:?}): {g} vs {w}", f[0]);
        }
        seen.insert(f[0].to_string());
    }
    assert_eq!(seen.len(), 16, "functions covered: {seen:?}");
}

#[test]
fn edge_cases() {
    assert_eq!(math::std_normal_quantile(0.0), f64::NEG_INFINITY);
    assert_eq!(math::std_normal_quantile(1.0), f64::INFINITY);
    assert!(
        math::std_normal_quantile(1.5).is_nan() && math::std_normal_quantile(f64::NAN).is_nan()
    );
    // the quantile inverts the cdf across the range, tails included
    for k in 1..600 {
        let p = 10f64.powf(-(k as f64) * 0.5);
        let x = math::std_normal_quantile(p);
        assert!((math::std_normal_cdf(x) / p - 1.0).abs() < 1e-12, "p = {p}");
    }
    assert_eq!(math::log_diff_exp(1.0, 1.0), f64::NEG_INFINITY);
    assert!(math::log_diff_exp(0.0, 1.0).is_nan());
    assert!(math::log_mix_k(&[-0.1, 1.1], &[0.0, 0.0]).is_nan());
    assert_eq!(
        math::log_mix_k(&[0.5, 0.5], &[f64::NEG_INFINITY, f64::NEG_INFINITY]),
        f64::NEG_INFINITY
    );
    assert_eq!(math::log_sum_exp(&[f64::INFINITY, 0.0]), f64::INFINITY);
    assert_eq!(math::determinant(&mut [1.0, 2.0, 2.0, 4.0], 2), 0.0);
    assert!(math::log_determinant_spd(&mut [1.0, 2.0, 2.0, 1.0], 2).is_nan());
}
