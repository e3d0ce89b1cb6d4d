//! Vectors the body fills with parameter-dependent values element by element (Stan's
//! `vector[T] err;` filled in a loop): the generated code against the tape (the
//! oracle), and the constructs that still send a model to the tape.

#[path = "common/against_tape.rs"]
#[macro_use]
mod against_tape;
mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;
#[path = "common/natural.rs"]
mod natural;

use against_tape::*;
use natural::ma2_stored;
use tilde::Engine;
use tilde::prelude::*;

fn seeded(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed).iter().map(|v| 2.0 * v).collect()
}

#[test]
fn moving_average_with_stored_errors() {
    for n in [1, 2, 3, 40] {
        let y = seeded(n, 52);
        assert_generated(&against!(ma2_stored(&y), 20, 1.5));
    }
}

/// Every kind of element write: `=` from parameters and from data, `+=`, `-=`, `*=`,
/// `/=`, an element read in the same statement and in later loops.
#[model]
fn element_writes(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", HalfNormal::new(1.0));
    let mut v: Vec<T> = vec![T::from(0.5); n];
    for i in 0..n {
        v[i] = a * y[i] + b;
    }
    for i in 0..n {
        let next = v[(i + 1) % n];
        v[i] += b * next;
        v[i] -= 0.25 * a;
        v[i] *= 1.0 + b;
        v[i] /= 2.0 + b * b;
    }
    v[0] = T::from(3.0);
    v[n - 1] += 1.5;
    for i in 0..n {
        sample!("y[{i}]", Normal::new(v[i], 1.0 + b), obs = y[i]);
    }
}

#[test]
fn every_kind_of_element_write() {
    for n in [2, 5, 17] {
        let y = seeded(n, 3);
        assert_generated(&against!(element_writes(&y), 20, 1.5));
    }
}

/// Writes in a branch on a parameter and in a branch on data, the vector starting
/// from a data value, then a sum over its elements.
#[model]
fn branches(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut level = vec![T::from(y[0]); n];
    for t in 1..n {
        if a > 0.0 {
            level[t] = level[t - 1] + a * s;
        } else {
            level[t] = level[t - 1] * s;
        }
        if t % 3 == 0 {
            level[t] = T::from(y[t]);
        }
    }
    let mut total = T::from(0.0);
    for t in 0..n {
        total += level[t] * y[t];
    }
    factor!("total", -0.5 * total * total / (1.0 + s));
    for t in 0..n {
        sample!("y[{t}]", Normal::new(level[t], s + 0.5), obs = y[t]);
    }
}

#[test]
fn writes_in_branches() {
    for n in [2, 7, 30] {
        let y = seeded(n, 11);
        assert_generated(&against!(branches(&y), 30, 2.0));
    }
}

/// A two-state hidden Markov model's forward algorithm with the forward variables in a
/// flat `T × 2` vector (`gamma[t * 2 + k]`), as Stan's `array[T] vector[K] gamma`.
#[model]
fn hmm_flat(y: &[f64]) {
    let n = y.len();
    let p = sample!("p", Beta::new(2.0, 2.0));
    let q = sample!("q", Beta::new(2.0, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(2));
    let ln_stay = [p.ln(), q.ln()];
    let ln_move = [(1.0 - p).ln(), (1.0 - q).ln()];
    let mut gamma = vec![T::from(0.0); 2 * n];
    for k in 0..2 {
        gamma[k] = Normal::<T>::new(mu[k], 1.0).ln_pdf_obs(y[0]) - 2.0f64.ln();
    }
    for t in 1..n {
        for k in 0..2 {
            let from_same = gamma[(t - 1) * 2 + k] + ln_stay[k];
            let from_other = gamma[(t - 1) * 2 + 1 - k] + ln_move[1 - k];
            gamma[t * 2 + k] =
                from_same.log_sum_exp(from_other) + Normal::<T>::new(mu[k], 1.0).ln_pdf_obs(y[t]);
        }
    }
    factor!("y", gamma[2 * n - 2].log_sum_exp(gamma[2 * n - 1]));
}

#[test]
fn hidden_markov_forward_variables() {
    for n in [1, 4, 50] {
        let y: Vec<f64> = seeded(n, 9).iter().map(|v| 2.0 * v).collect();
        assert_generated(&against!(hmm_flat(&y), 20, 1.5));
    }
}

/// What still sends a model with such a vector to the tape: declared in a loop, read
/// whole, written at a parameter-dependent index, assigned whole.
#[model]
fn declared_in_a_loop(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        let mut v = vec![T::from(0.0); 2];
        v[0] = a * y[i];
        v[1] = v[0] * a;
        sample!("y[{i}]", Normal::new(v[1], 1.0), obs = y[i]);
    }
}

#[model]
fn read_whole(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); y.len()];
    for i in 0..y.len() {
        v[i] = a * y[i];
    }
    factor!("sum", -v.iter().map(|x| *x * *x).sum::<T>());
}

#[model]
fn assigned_whole(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); y.len()];
    v[0] = a;
    v = vec![a; y.len()];
    sample!("y", Normal::new(v[y.len() - 1], 1.0), obs = y[0]);
}

#[test]
fn constructs_that_fall_back() {
    let y = seeded(5, 1);
    check!(declared_in_a_loop(&y), 10, 1.5, fallback);
    check!(read_whole(&y), 10, 1.5, fallback);
    check!(assigned_whole(&y), 10, 1.5, fallback);
}

/// An array of parameter values read in a loop whose sweep runs per iteration, in a
/// sum the generated code reduces, and under `Normal::each`; an element written in a
/// branch on a parameter outside any loop.
#[model]
fn arrays_and_reductions(y: &[f64], x: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let coef = [a, b * a, T::from(0.5)];
    for i in 0..n {
        sample!("y[{i}]", Normal::new(coef[i % 3] * x[i], s), obs = y[i]);
    }
    let mut total = T::from(0.0);
    for i in 0..n {
        total += coef[i % 2] * x[i];
    }
    factor!("total", -0.5 * total * total);
    let mut level = vec![T::from(0.0); n];
    for i in 0..n {
        level[i] = a + b * x[i];
    }
    if a > 0.0 {
        level[0] = level[0] * s;
    }
    sample!(
        "y_each",
        Normal::each(tilde::vector::params(&level), tilde::vector::scalar(1.0)),
        obs = y
    );
}

#[test]
fn arrays_in_loops_reductions_and_vector_sites() {
    for n in [3, 12] {
        let (y, x) = (seeded(n, 21), seeded(n, 22));
        against!(arrays_and_reductions(&y, &x), 30, 2.0);
    }
}

/// An array repeated from a data value (`[T::from(0.0); 3]`) written element by element.
#[model]
fn repeated_array(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut state = [T::from(0.0); 3];
    for t in 0..y.len() {
        state[t % 3] = state[(t + 2) % 3] * 0.5 + a * y[t];
        sample!("y[{t}]", Normal::new(state[t % 3], s), obs = y[t]);
    }
}

#[test]
fn arrays_repeated_from_data() {
    for n in [1, 4, 10] {
        let y = seeded(n, 31);
        assert_generated(&against!(repeated_array(&y), 20, 1.5));
    }
}
