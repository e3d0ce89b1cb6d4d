//! Hostile input for the scalar types (issue 16): every public operation of `Fwd` and
//! `Rev` at NaN, ±∞, ±0, subnormals and huge values returns (no panic), and its value
//! is what the same operation gives on `f64` (to a few units in the last place).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tilde_autodiff::{Fwd, Rev};
use tilde_core::Real;

/// Values a model can meet: the special ones, with ordinary ones in between.
fn hostile() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE / 4.0),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(-1.0),
        Just(1.0),
        Just(-3.0),
        any::<f64>(),
        -50.0..50.0f64,
    ]
}

/// Every unary operation of [`Real`], on any scalar.
fn unary<T: Real>(x: T) -> Vec<T> {
    vec![
        x.exp(),
        x.ln(),
        x.ln_1p(),
        x.exp_m1(),
        x.sqrt(),
        x.powi(3),
        x.powi(-2),
        x.powi(0),
        x.powf(0.5),
        x.powf(0.0),
        x.sin(),
        x.cos(),
        x.tan(),
        x.atan(),
        x.tanh(),
        x.abs(),
        x.recip(),
        x.lgamma(),
        x.digamma(),
        x.erf(),
        x.erfc(),
        x.log1p_exp(),
        x.inv_logit(),
        x.log_inv_logit(),
        x.logit(),
        x.log1m_exp(),
        x.Phi(),
        -x,
    ]
}

/// Every binary operation of [`Real`] and the arithmetic, on any scalar.
fn binary<T: Real>(x: T, y: T) -> Vec<T>
where
    f64: tilde_core::F64Ops<T>,
{
    let mut assigned = x;
    assigned += y;
    assigned -= y;
    assigned *= y;
    assigned /= y;
    vec![
        x + y,
        x - y,
        x * y,
        x / y,
        x + 2.0,
        x - 2.0,
        x * 2.0,
        x / 0.0,
        2.0 + y,
        2.0 - y,
        2.0 * y,
        2.0 / y,
        x.pow(y),
        x.log_sum_exp(y),
        x.max(y),
        x.min(y),
        [x, y, x].into_iter().sum(),
        T::fused(
            std::ops::Add::<f64>::add(x.value(), y.value()),
            [(x, 1.0), (y, f64::NAN)],
        ),
        assigned,
    ]
}

/// The same value: NaN where `f64` gives NaN, the same infinity, and finite values
/// within a few units in the last place (num-dual computes `tan` as `sin / cos`).
fn same(got: f64, want: f64) -> bool {
    got == want
        || got.is_nan() && want.is_nan()
        || got.is_finite()
            && want.is_finite()
            && (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(f64::MIN_POSITIVE)
}

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases: 2000,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[16; 32]),
    )
}

#[test]
fn forward_mode_never_panics_and_agrees_with_f64() {
    runner()
        .run(&(hostile(), hostile()), |(a, b)| {
            let (x, y) = (Fwd::<2>::variable(a, 0), Fwd::<2>::variable(b, 1));
            for (k, (got, want)) in unary(x).iter().zip(unary(a)).enumerate() {
                prop_assert!(
                    same(got.value(), want),
                    "unary {k} at {a}: {got:?} vs {want}"
                );
                let _ = got.gradient();
            }
            for (k, (got, want)) in binary(x, y).iter().zip(binary(a, b)).enumerate() {
                prop_assert!(
                    same(got.value(), want),
                    "binary {k} at {a}, {b}: {got:?} vs {want}"
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn reverse_mode_never_panics_and_agrees_with_f64() {
    runner()
        .run(&(hostile(), hostile()), |(a, b)| {
            let want_unary = unary(a);
            let want_binary = binary(a, b);
            for (k, &want) in want_unary.iter().enumerate() {
                let (value, grad) = Rev::gradient(&[a], |x| unary(x[0])[k]);
                prop_assert!(same(value, want), "unary {k} at {a}: {value}");
                prop_assert_eq!(grad.len(), 1);
            }
            for (k, &want) in want_binary.iter().enumerate() {
                let (value, grad) = Rev::gradient(&[a, b], |x| binary(x[0], x[1])[k]);
                prop_assert!(same(value, want), "binary {k} at {a}, {b}: {value}");
                prop_assert_eq!(grad.len(), 2);
            }
            Ok(())
        })
        .unwrap();
}
