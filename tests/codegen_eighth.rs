//! Eighth round of adversarial coverage of the gradient code `#[model]` generates,
//! aimed at the feature added last: vectors of parameter-dependent values written
//! element by element (`Kind::Buffer`, `macros/src/adjoint/buffers.rs`):
//!
//! 1. `let mut v = vec![fill; n]` then `v[i] = …`, `+=`, `-=`, `*=`, `/=`, overwrites by
//!    data, reads before any write (the fill value, from data), aliasing writes and
//!    reads (`v[i] = v[j] · a` with `i == j` or not, `v[i] += v[i]`), an element written
//!    twice in one iteration, lengths 0 and 1, nested loops over flat 2-D indices,
//!    reverse and iterator loops, branches on data and on parameters, several buffers
//!    reading each other, buffers feeding latent scalar sites in loops, `deterministic!`
//!    of an element, `Normal::each` over a buffer later written;
//! 2. arrays of parameter values (`[a, b · a, T::from(0.5)]`, of sites, of data
//!    mixed in), read by index in loops and reductions;
//! 3. `math::log_sum_exp(&v)` (and `&v[..]`) after later writes, twice, of an array,
//!    of an empty vector, inside an element write;
//! 4. realistic models: ARMA(1,1), MA(q), GARCH(1,1), a hidden Markov model's forward
//!    algorithm, a local-level model, a non-centred cumulative-sum random walk, the
//!    change point;
//! 5. what must fall back to the tape (a whole read, a parameter-dependent index,
//!    declared in a loop, `log_sum_exp` in a loop, a partial range, mutating methods),
//!    and allocations per gradient in steady state.
//!
//! Each model is built with `Engine::Codegen`, `Engine::Reverse` and `Engine::Auto`
//! and compared at seeded points (1e-12 relative, with and without the Jacobian,
//! rejections included); which engine runs is asserted.
//!
//! Found, and fixed after the round (the tests that showed them run now):
//! - side-effecting indices and lengths were evaluated in another order or number of
//!   times than Rust's (`v[idx] *= e` evaluated `idx` twice; a data overwrite
//!   `v[idx] = e` evaluated `idx` before `e`; `vec![value; n]` evaluated `n` before
//!   `value`; two reads `v[idx]` with the same tokens became one leaf): wrong values.
//!   Indices, fill values and lengths with effects now keep the model on the tape;
//! - a buffer filled by a loop and then updated with `+=` fell back (the filled-vector
//!   inlining rewrote `v[0] += a` to `(a * y[0]) += a`), and the same with data, or a
//!   range read (`v[1..]`) of such a vector, did not compile: the inlining now leaves
//!   a vector whose elements are written again or read by a range;
//! - arithmetic inside the `vec![…]` of a fill value did not compile (the body's
//!   operators are now rewritten inside the arguments of `vec!`, `assert!`, `format!`
//!   and the other standard macros), nor raw identifiers (`r#type`) as
//!   parameter-dependent names (a panic of the macro).
//!
//! Fixed since: a `deterministic!` statement of its own (not bound by `let`) fell back;
//! so did an element write or a reassignment whose value is an `if` expression.
//!
//! Everything else here agrees with the tape.

#![allow(
    clippy::needless_range_loop,
    clippy::type_complexity,
    clippy::too_many_arguments,
    clippy::identity_op,
    clippy::erasing_op,
    unused_variables,
    unused_mut,
    unused_assignments
)]

mod common;
#[macro_use]
#[path = "common/against_tape.rs"]
mod against_tape;
#[path = "../examples/posteriordb/json.rs"]
mod json;

use against_tape::*;

#[path = "common/counting.rs"]
mod counting;
use counting::allocations;
use tilde::Engine;
use tilde::math;
use tilde::prelude::*;
use tilde::vector::{params, scalar};

/// Seeded data in `[-1.5, 1.5]`.
fn seeded(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed + 8000)
}

/// Seeded positive data in `[0.2, 3.2]`.
fn positive(n: usize, seed: u64) -> Vec<f64> {
    seeded(n, seed).iter().map(|v| v + 1.7).collect()
}

/// Seeded counts in `0..=max`.
fn counts(n: usize, max: u64, seed: u64) -> Vec<u64> {
    seeded(n, seed)
        .iter()
        .map(|v| ((v + 1.5) / 3.0 * (max as f64 + 0.99)) as u64)
        .collect()
}

fn allocations_per_call(model: &impl Model, warm_up: usize) -> usize {
    let x: Vec<f64> = (0..model.dim()).map(|i| 0.05 * i as f64 - 0.3).collect();
    let mut grad = vec![0.0; model.dim()];
    for _ in 0..warm_up {
        model.logp_and_grad(&x, &mut grad);
    }
    let before = allocations();
    for _ in 0..10 {
        std::hint::black_box(model.logp_and_grad(&x, &mut grad));
    }
    allocations() - before
}

// ---------------------------------------------------------------------------------
// 1. element writes

/// Aliasing: `v[i] = v[j] · a` where `j` equals `i` for some `i` (data decides),
/// `v[i] = v[i] + v[i]`, `v[i] = v[i] · v[i]`, and compound writes of a value read
/// from `v[j]` just before (`v[i] += v[i]` itself does not borrow-check over the tape's
/// type).
#[model]
fn aliasing(y: &[f64], k: usize) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let c = sample!("c", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.25); n];
    for i in 0..n {
        v[i] = a * y[i] + b;
    }
    for i in 0..n {
        let j = (i * k) % n;
        v[i] = v[j] * a + v[i] * 0.5;
        v[i] = v[i] + v[i];
        v[i] = v[i] - v[i] * b * 0.1;
        v[i] = v[i] * v[i];
        v[i] = v[i] / (v[i] + c + 1.0);
        let vj = v[j];
        v[i] += vj;
        v[i] -= vj * b;
        v[i] *= vj + 2.0;
        v[i] /= vj * vj + 1.0;
    }
    for i in 0..n {
        sample!("y[{i}]", Normal::new(v[i], c + 0.5), obs = y[i]);
    }
}

#[test]
fn aliasing_element_reads_and_writes() {
    for (n, k) in [(1, 0), (2, 1), (5, 0), (5, 2), (6, 3)] {
        let y = seeded(n, 1);
        assert_generated(&against!(aliasing(&y, k), 15, 1.5));
        swept!(aliasing(&y, k), 10, 5.0);
    }
}

/// The same element written twice in one iteration (the second reading the first),
/// then overwritten by data, then added to by data; a write followed by reads of the
/// element in the same iteration's later statements.
#[model]
fn written_twice(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); n];
    for t in 0..n {
        v[t] = a * y[t];
        v[t] = v[t] * s + v[t];
        let m = v[t] * 0.5;
        if t % 4 == 1 {
            v[t] = T::from(y[t]);
        }
        if t % 4 == 2 {
            v[t] += 2.0 * y[t];
        }
        if t % 4 == 3 {
            v[t] *= 3.0;
            v[t] /= y[t] + 2.0;
        }
        sample!("y[{t}]", Normal::new(m + v[t], s + 0.3), obs = y[t]);
    }
}

#[test]
fn element_written_twice_in_one_iteration() {
    for n in [1, 4, 9] {
        let y = seeded(n, 2);
        assert_generated(&against!(written_twice(&y), 15, 1.5));
    }
}

/// Reads before any write: the fill value from a data expression (`T::from(mean)`),
/// read forward from elements not yet written (`v[t + 1]`).
#[model]
fn fill_from_data(y: &[f64]) {
    let n = y.len();
    let mean: f64 = y.iter().sum::<f64>() / n as f64;
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    // (arithmetic inside `vec![…]` does not compile: see FAILURES8.md)
    let start = mean * 2.0 - 0.5;
    let mut v = vec![T::from(start); n + 1];
    for t in 0..n {
        v[t] = a * v[t + 1] + y[t];
        sample!("y[{t}]", Normal::new(v[t] * s, 1.0), obs = y[t]);
    }
    factor!("last", -0.5 * v[n] * v[n] - v[0] * a);
}

#[test]
fn reads_of_the_fill_value() {
    for n in [1, 2, 8] {
        let y = seeded(n, 3);
        assert_generated(&against!(fill_from_data(&y), 15, 1.5));
    }
}

/// Lengths 0 and 1, written in loops that may not run, with `Vec<T>` annotations.
#[model]
fn short_vectors(y: &[f64], m: usize) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v: Vec<T> = vec![T::from(1.0); m];
    for i in 0..m {
        v[i] = a * (i as f64 + 1.0);
    }
    for i in 0..m {
        factor!("v[{i}]", -0.5 * v[i] * v[i]);
    }
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(a, 1.0), obs = y[t]);
    }
}

#[test]
fn lengths_zero_and_one() {
    let y = seeded(3, 4);
    for m in [0, 1, 2] {
        assert_generated(&against!(short_vectors(&y, m), 10, 1.5));
    }
}

/// Nested loops over a flat `rows × cols` vector, each row reading the row before.
#[model]
fn flat_grid(y: &[f64], rows: usize, cols: usize) {
    let a = sample!("a", Normal::new(0.0, 0.5));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut g = vec![T::from(0.0); rows * cols];
    for j in 0..cols {
        g[j] = b * y[j % y.len()];
    }
    for i in 1..rows {
        for j in 0..cols {
            let left = if j > 0 {
                g[i * cols + j - 1]
            } else {
                T::from(0.0)
            };
            g[i * cols + j] = a * g[(i - 1) * cols + j] + 0.3 * left + s * 0.1;
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            sample!(
                "y[{i},{j}]",
                Normal::new(g[i * cols + j], s + 0.2),
                obs = y[(i * cols + j) % y.len()]
            );
        }
    }
}

#[test]
fn nested_loops_over_flat_indices() {
    let y = seeded(12, 5);
    for (rows, cols) in [(1, 1), (2, 3), (4, 3), (3, 1)] {
        assert_generated(&against!(flat_grid(&y, rows, cols), 12, 1.5));
    }
}

/// A backward recursion in a reversed loop, a forward one over `enumerate()` of a
/// slice, one over `step_by`, one over a closed range, and a data counter as index.
#[model]
fn iterator_loops(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 0.5));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut back = vec![T::from(0.0); n + 1];
    for t in (0..n).rev() {
        back[t] = a * back[t + 1] + y[t] * s;
    }
    let mut fwd = vec![T::from(1.0); n];
    for (t, yt) in y.iter().enumerate() {
        fwd[t] = back[t] * 0.5 + a * *yt;
    }
    for t in (0..n).step_by(2) {
        fwd[t] *= s;
    }
    for t in 0..=n - 1 {
        fwd[n - 1 - t] += 0.1 * back[t];
    }
    let mut k = 0usize;
    for &yt in y {
        fwd[k] -= 0.2 * a * yt;
        k += 1;
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(fwd[t], s + 0.5), obs = y[t]);
    }
}

#[test]
fn reversed_and_iterator_loops() {
    for n in [1, 2, 7] {
        let y = seeded(n, 6);
        assert_generated(&against!(iterator_loops(&y), 15, 1.5));
    }
}

/// Branches on parameters writing different elements, and a branch on an element.
#[model]
fn parameter_branches(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.5); n];
    if a > 0.0 {
        v[0] = a * b;
    } else {
        v[n - 1] = b - a;
    }
    for t in 1..n {
        if v[t - 1] > 0.2 {
            v[t] = v[t - 1] * 0.5 + b;
        } else if b < 0.0 {
            v[t] += a * y[t];
        } else {
            v[t] = T::from(y[t]);
        }
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

#[test]
fn writes_under_parameter_branches() {
    for n in [1, 2, 6, 15] {
        let y = seeded(n, 7);
        assert_generated(&against!(parameter_branches(&y), 30, 1.5));
    }
}

/// Three buffers reading each other, one an array, with index arithmetic
/// (`(t + 1) % n`, `n - 1 - t`, `t / 2`, `2 * t + 1`).
#[model]
fn buffers_together(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 0.5));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let w = [a, b * a, T::from(0.5), s];
    let mut u = vec![T::from(0.0); n];
    let mut v = vec![T::from(0.1); 2 * n + 2];
    for t in 0..n {
        u[t] = w[t % 4] * y[t] + v[2 * t + 1];
        v[2 * t + 1] = u[t] * s - v[t / 2];
        v[n - 1 - t] += u[(t + 1) % n] * w[(t + 3) % 4];
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(u[t] + v[t], s + 0.5), obs = y[t]);
    }
}

#[test]
fn several_buffers_reading_each_other() {
    for n in [1, 3, 10] {
        let y = seeded(n, 8);
        assert_generated(&against!(buffers_together(&y), 15, 1.5));
    }
}

/// A cumulative-sum random walk with latent scalar sites inside the loop
/// (`v[t] = v[t - 1] + s · z[t]`), each innovation's prior centred on the element
/// before.
#[model]
fn walk_with_sites(y: &[f64]) {
    let n = y.len();
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); n];
    v[0] = sample!("v0", Normal::new(0.0, 2.0));
    for t in 1..n {
        let z = sample!("z[{t}]", Normal::new(0.1 * v[t - 1], 1.0));
        v[t] = v[t - 1] + s * z;
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 0.5), obs = y[t]);
    }
    let d = deterministic!("twice", v[0] * 2.0);
    factor!("d", -0.01 * d * d);
}

#[test]
fn cumulative_walk_with_sites_in_the_loop() {
    for n in [1, 2, 12] {
        let y = seeded(n, 9);
        assert_generated(&against!(walk_with_sites(&y), 15, 1.5));
        swept!(walk_with_sites(&y), 10, 5.0);
    }
}

/// `Normal::each` over a buffer, which is then written again and read.
#[model]
fn each_then_written(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut level = vec![T::from(0.0); n];
    for t in 0..n {
        level[t] = a * y[t] + s;
    }
    sample!("y", Normal::each(params(&level), scalar(1.0)), obs = y);
    for t in 0..n {
        level[t] = level[t] * level[t] * a;
    }
    for t in 0..n {
        factor!("l[{t}]", -0.5 * level[t] * level[t]);
    }
}

#[test]
fn each_over_a_buffer_written_after() {
    for n in [1, 5] {
        let y = seeded(n, 10);
        against!(each_then_written(&y), 15, 1.5);
    }
}

// ---------------------------------------------------------------------------------
// 2. arrays

/// Arrays of parameter values, data and sites, read by index in loops, a reduction
/// and a site's argument.
#[model]
fn arrays(y: &[f64], x: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", HalfNormal::new(1.0));
    let coef = [a, T::from(y[0]), b * a, T::from(0.5), (a * b).exp()];
    let sites = [
        sample!("c0", Normal::new(0.0, 1.0)),
        sample!("c1", Normal::new(a, 1.0)),
    ];
    let mut total = T::from(0.0);
    for i in 0..n {
        total += coef[i % 5] * x[i] + sites[i % 2];
    }
    for i in 0..n {
        sample!(
            "y[{i}]",
            Normal::new(coef[(i + 2) % 5] * x[i] + sites[1] - total * 0.01, b + 0.5),
            obs = y[i]
        );
    }
    factor!("c", -0.5 * coef[4] * sites[0]);
}

#[test]
fn arrays_of_parameters_data_and_sites() {
    for n in [1, 4, 11] {
        let (y, x) = (seeded(n, 11), seeded(n, 12));
        assert_generated(&against!(arrays(&y, &x), 15, 1.5));
    }
}

/// A mutable array written after its declaration, a typed array, and an array of one.
#[model]
fn arrays_written(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let mut w: [T; 3] = [a, b, a * b];
    w[2] += w[0];
    w[0] = w[1] * w[2];
    w[1] = T::from(2.0);
    let one = [b.exp()];
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(w[i % 3] + one[0], 1.5), obs = y[i]);
    }
}

#[test]
fn arrays_written_after_declaration() {
    let y = seeded(7, 13);
    assert_generated(&against!(arrays_written(&y), 15, 1.5));
}

// ---------------------------------------------------------------------------------
// 3. log_sum_exp

/// `log_sum_exp` of a buffer, then the buffer written again and summed again, of an
/// array, with `&v[..]`, in an element write (`lp[0] = log_sum_exp(&lp)`), and in a
/// `let` read by a loop and by an observed site.
#[model]
fn log_sum_exps(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut lp = vec![T::from(-(n as f64).ln()); n];
    for t in 0..n {
        lp[t] += Normal::<T>::new(a, s).ln_pdf_obs(y[t]);
    }
    let first = math::log_sum_exp(&lp);
    for t in 0..n {
        lp[t] = lp[t] * 0.5 + a;
    }
    factor!("second", math::log_sum_exp(&lp[..]) + first);
    let pair = [a * 0.3, s.ln()];
    factor!(
        "pair",
        math::log_sum_exp(&pair) - math::log_sum_exp(&pair) * 2.0
    );
    lp[0] = math::log_sum_exp(&lp);
    let lse = math::log_sum_exp(&lp);
    for t in 0..n {
        factor!("t[{t}]", -0.01 * (lse - lp[t]) * (lse - lp[t]));
    }
    sample!("obs", Normal::new(lse * 0.1, 1.0), obs = y[0]);
}

#[test]
fn log_sum_exp_after_writes_twice_and_of_arrays() {
    for n in [1, 2, 9] {
        let y = seeded(n, 14);
        assert_generated(&against!(log_sum_exps(&y), 15, 1.5));
        swept!(log_sum_exps(&y), 10, 30.0);
    }
}

/// `log_sum_exp` of an empty buffer (−∞), kept finite with `max`.
#[model]
fn empty_log_sum_exp(y: &[f64], m: usize) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut e = vec![T::from(0.0); m];
    for i in 0..m {
        e[i] = a * (i as f64);
    }
    factor!("e", math::log_sum_exp(&e).max(T::from(-3.0)));
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(a, 1.0), obs = y[t]);
    }
}

#[test]
fn log_sum_exp_of_an_empty_vector() {
    let y = seeded(3, 15);
    for m in [0, 1, 3] {
        assert_generated(&against!(empty_log_sum_exp(&y, m), 10, 1.5));
    }
}

// ---------------------------------------------------------------------------------
// 4. realistic models

/// ARMA(1,1) as Stan's manual writes it: stored predictions and errors.
#[model]
fn arma11(y: &[f64]) {
    let n = y.len();
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let phi = sample!("phi", Normal::new(0.0, 2.0));
    let theta = sample!("theta", Normal::new(0.0, 2.0));
    let sigma = sample!("sigma", HalfCauchy::new(5.0));
    let mut nu = vec![T::from(0.0); n];
    let mut err = vec![T::from(0.0); n];
    nu[0] = mu + phi * mu;
    err[0] = y[0] - nu[0];
    for t in 1..n {
        nu[t] = mu + phi * y[t - 1] + theta * err[t - 1];
        err[t] = y[t] - nu[t];
    }
    for t in 0..n {
        sample!("err[{t}]", Normal::new(0.0, sigma), obs = 0.0);
        factor!("e[{t}]", -0.5 * err[t] * err[t] / (sigma * sigma));
    }
}

#[test]
fn arma_one_one() {
    for n in [1, 2, 30] {
        let y = seeded(n, 16);
        assert_generated(&against!(arma11(&y), 15, 1.5));
        swept!(arma11(&y), 10, 5.0);
    }
}

/// MA(q) with `q` lags from data, the coefficients an `iid` vector site.
#[model]
fn ma_q(y: &[f64], q: usize) {
    let n = y.len();
    let mu = sample!("mu", Normal::new(0.0, 2.0));
    let theta = sample!("theta", Normal::new(0.0, 0.5).iid(q));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mut epsilon = vec![T::from(0.0); n];
    for t in 0..n {
        let mut nu = mu;
        for k in 0..q.min(t) {
            nu += theta[k] * epsilon[t - k - 1];
        }
        epsilon[t] = y[t] - nu;
        sample!("y[{t}]", Normal::new(nu, sigma), obs = y[t]);
    }
}

#[test]
fn moving_average_of_q_lags() {
    for (n, q) in [(1, 1), (5, 3), (25, 4), (3, 6)] {
        let y = seeded(n, 17);
        assert_generated(&against!(ma_q(&y, q), 12, 1.5));
    }
}

/// GARCH(1,1) with a stored sigma vector.
#[model]
fn garch(y: &[f64], sigma1: f64) {
    let n = y.len();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let alpha0 = sample!("alpha0", HalfNormal::new(1.0));
    let alpha1 = sample!("alpha1", Uniform::new(0.0, 1.0));
    let beta1 = sample!("beta1", Uniform::new(0.0, 1.0));
    let mut sigma = vec![T::from(sigma1); n];
    for t in 1..n {
        let e = y[t - 1] - mu;
        sigma[t] = (alpha0 + alpha1 * e * e + beta1 * sigma[t - 1] * sigma[t - 1]).sqrt();
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(mu, sigma[t]), obs = y[t]);
    }
}

#[test]
fn garch_with_stored_sigma() {
    for n in [1, 2, 40] {
        let y = seeded(n, 18);
        assert_generated(&against!(garch(&y, 0.7), 15, 1.5));
        swept!(garch(&y, 0.7), 10, 5.0);
    }
}

/// A K-state HMM's forward algorithm with a `gamma` vector per step (flat, `t * k + j`)
/// and per-step `acc` vector summed by `log_sum_exp` of an array inside the loop
/// (pairwise), then `log_sum_exp` of the last row copied into a buffer.
#[model]
fn hmm_forward(y: &[f64], k: usize) {
    let n = y.len();
    let stay = sample!("stay", Beta::new(3.0, 1.0));
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(k));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let ln_stay = stay.ln();
    let ln_move = ((1.0 - stay) / ((k - 1).max(1) as f64)).ln();
    let mut gamma = vec![T::from(0.0); n * k];
    for j in 0..k {
        gamma[j] = Normal::<T>::new(mu[j], sigma).ln_pdf_obs(y[0]) - (k as f64).ln();
    }
    for t in 1..n {
        for j in 0..k {
            let mut acc = T::from(f64::NEG_INFINITY);
            for i in 0..k {
                let step = if i == j { ln_stay } else { ln_move };
                acc = acc.log_sum_exp(gamma[(t - 1) * k + i] + step);
            }
            gamma[t * k + j] = acc + Normal::<T>::new(mu[j], sigma).ln_pdf_obs(y[t]);
        }
    }
    let mut last = vec![T::from(0.0); k];
    for j in 0..k {
        last[j] = gamma[(n - 1) * k + j];
    }
    factor!("y", math::log_sum_exp(&last));
}

#[test]
fn hidden_markov_forward_algorithm() {
    for (n, k) in [(1, 2), (6, 2), (20, 3)] {
        let y: Vec<f64> = seeded(n, 19).iter().map(|v| 2.0 * v).collect();
        assert_generated(&against!(hmm_forward(&y, k), 10, 1.5));
    }
}

/// A local-level (state-space) model: the level stored, written from latent
/// innovations read from an `iid` vector site, the observations around it.
#[model]
fn local_level(y: &[f64]) {
    let n = y.len();
    let sigma_level = sample!("sigma_level", HalfNormal::new(1.0));
    let sigma_obs = sample!("sigma_obs", HalfNormal::new(1.0));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(n));
    let mut level = vec![T::from(y[0]); n];
    level[0] = level[0] + sigma_level * z[0];
    for t in 1..n {
        level[t] = level[t - 1] + sigma_level * z[t];
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(level[t], sigma_obs), obs = y[t]);
    }
}

#[test]
fn local_level_state_space() {
    for n in [1, 3, 25] {
        let y = seeded(n, 20);
        assert_generated(&against!(local_level(&y), 10, 1.5));
        swept!(local_level(&y), 5, 30.0);
    }
}

/// The change point marginalised with a cumulative-sum buffer over the data (Stan
/// manual's dynamic-programming version).
#[model]
fn change_point_dp(d: &[u64]) {
    let n = d.len();
    let e = sample!("e", Exponential::new(1.0));
    let l = sample!("l", Exponential::new(1.0));
    let mut lp_e = vec![T::from(0.0); n + 1];
    let mut lp_l = vec![T::from(0.0); n + 1];
    for t in 0..n {
        lp_e[t + 1] = lp_e[t] + Poisson::<T>::new(e).ln_pdf_obs(d[t] as f64);
        lp_l[t + 1] = lp_l[t] + Poisson::<T>::new(l).ln_pdf_obs(d[t] as f64);
    }
    let mut lp = vec![T::from(-(n as f64).ln()); n];
    for s in 0..n {
        lp[s] = lp[s] + lp_e[s] + lp_l[n] - lp_l[s];
    }
    factor!("d", math::log_sum_exp(&lp));
}

#[test]
fn change_point_dynamic_programming() {
    for n in [1, 2, 30] {
        let d = counts(n, 6, 21);
        assert_generated(&against!(change_point_dp(&d), 10, 1.5));
        swept!(change_point_dp(&d), 10, 5.0);
    }
}

// ---------------------------------------------------------------------------------
// 5. fallbacks

/// A parameter-dependent index.
#[model]
fn parameter_index(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); 2];
    v[if a > 0.0 { 0 } else { 1 }] = a;
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(v[t % 2], 1.0), obs = y[t]);
    }
}

/// `log_sum_exp` of a buffer in a loop.
#[model]
fn lse_in_loop(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); 2];
    for t in 0..y.len() {
        v[0] = a * y[t];
        v[1] = -a;
        factor!("t[{t}]", math::log_sum_exp(&v));
    }
}

/// A mutating method on a buffer.
#[model]
fn swapped(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); 2];
    v[0] = a;
    v[1] = a * a;
    v.swap(0, 1);
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(v[t % 2], 1.0), obs = y[t]);
    }
}

/// A buffer read in a closure (only ever called: read as its body at each call).
#[model]
fn closure_read(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let w = [a, a * 2.0];
    let f = |i: usize| w[i] * 3.0;
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(f(t % 2), 1.0), obs = y[t]);
    }
}

/// A nested array and an array repeated from a parameter.
#[model]
fn nested_array(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let m = [[a, T::from(1.0)], [T::from(0.0), a]];
    let r = [a; 3];
    for t in 0..y.len() {
        sample!(
            "y[{t}]",
            Normal::new(m[t % 2][1] + r[t % 3], 1.0),
            obs = y[t]
        );
    }
}

/// A vector filled from a parameter (`vec![a; n]`), then written.
#[model]
fn filled_by_parameter(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![a; y.len()];
    for t in 1..y.len() {
        v[t] = v[t - 1] * 0.5;
    }
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

/// An array shadowed by another.
#[model]
fn shadowed_array(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let w = [a, a * a];
    let first = w[0] + w[1];
    let w = [first, a];
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(w[t % 2], 1.0), obs = y[t]);
    }
}

/// A whole-vector read through `.iter()` in a loop header.
#[model]
fn iterated(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); y.len()];
    for t in 0..y.len() {
        v[t] = a * y[t];
    }
    for (t, vt) in v.iter().enumerate() {
        sample!("y[{t}]", Normal::new(*vt, 1.0), obs = y[t]);
    }
}

#[test]
fn constructs_that_fall_back() {
    let y = seeded(5, 30);
    check!(parameter_index(&y), 10, 1.5, fallback);
    check!(lse_in_loop(&y), 10, 1.5, fallback);
    check!(swapped(&y), 10, 1.5, fallback);
    // a closure only ever called is read as its body (since this round)
    check!(closure_read(&y), 10, 1.5, generated);
    check!(nested_array(&y), 10, 1.5, fallback);
    check!(filled_by_parameter(&y), 10, 1.5, fallback);
    check!(shadowed_array(&y), 10, 1.5, fallback);
    check!(iterated(&y), 10, 1.5, fallback);
}

// ---------------------------------------------------------------------------------
// allocations

#[test]
fn buffers_do_not_allocate_per_call() {
    let y = seeded(30, 40);
    let d = counts(30, 6, 41);
    let counts = [
        (
            "arma",
            allocations_per_call(&arma11(&y).with_engine(Engine::Codegen), 3),
        ),
        (
            "garch",
            allocations_per_call(&garch(&y, 0.7).with_engine(Engine::Codegen), 3),
        ),
        (
            "hmm",
            allocations_per_call(&hmm_forward(&y, 3).with_engine(Engine::Codegen), 3),
        ),
        (
            "lse",
            allocations_per_call(&log_sum_exps(&y).with_engine(Engine::Codegen), 3),
        ),
        (
            "change point",
            allocations_per_call(&change_point_dp(&d).with_engine(Engine::Codegen), 3),
        ),
        (
            "grid",
            allocations_per_call(&flat_grid(&y, 4, 5).with_engine(Engine::Codegen), 3),
        ),
        (
            "walk",
            allocations_per_call(&walk_with_sites(&y).with_engine(Engine::Codegen), 3),
        ),
        (
            "ma(q)",
            allocations_per_call(&ma_q(&y, 3).with_engine(Engine::Codegen), 3),
        ),
    ];
    for (name, count) in counts {
        assert_eq!(count, 0, "{name}");
    }
}

// ---------------------------------------------------------------------------------
// 6. more writes, reads and interplay

/// Writes through a data permutation (`v[order[t]] = …`), a helper `fn` as index,
/// copies and negations of elements, `max`/`min`/`abs` of elements, a distribution
/// method over elements, and the two-argument `log_sum_exp` method.
#[model]
fn permuted(y: &[f64], order: &[usize]) {
    // (the round's first version indexed by a helper `fn half(t)`: a call in an index
    // now keeps the model on the tape, as any index that may have effects does)
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); n];
    for t in 0..n {
        v[order[t]] = a * y[t] + s * (t as f64);
    }
    let mut u = vec![T::from(-1.0); n];
    for t in 0..n {
        if t > 0 {
            u[t] = -u[t - 1];
        } else {
            u[t] = v[t / 2];
        }
        u[t] = u[t].max(v[t] * 0.5).min(T::from(2.0) + s) + v[t / 2].abs();
        u[t] += Normal::<T>::new(v[t], s).ln_pdf_obs(y[t]);
        u[t] = u[t].log_sum_exp(v[(t + 1) % n]);
    }
    for t in 0..n {
        factor!("u[{t}]", -0.5 * u[t] * u[t]);
    }
}

#[test]
fn permuted_writes_and_element_functions() {
    for n in [1, 2, 8] {
        let y = seeded(n, 50);
        let order: Vec<usize> = (0..n).map(|t| (t * 3 + 1) % n).collect();
        assert_generated(&against!(permuted(&y, &order), 15, 1.5));
        swept!(permuted(&y, &order), 10, 30.0);
    }
}

/// Elements written with a `deterministic!` value, from a `let` of an `if` over
/// parameters, and in loops inside a branch on a parameter.
#[model]
fn deterministic_and_branches(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); n];
    v[0] = deterministic!("d0", a * 2.0);
    if a > b {
        for t in 1..n {
            v[t] = v[t - 1] * 0.5 + a * y[t];
        }
    } else {
        for t in (1..n).rev() {
            v[t] = b - v[t - 1] * y[t];
        }
    }
    let pick = if b > 0.0 { v[n - 1] } else { v[0] * b };
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t] + pick, 1.0), obs = y[t]);
    }
}

#[test]
fn deterministic_elements_and_loops_in_branches() {
    for n in [1, 3, 9] {
        let y = seeded(n, 51);
        assert_generated(&against!(deterministic_and_branches(&y), 30, 1.5));
    }
}

/// A mixture with impossible components: `log_sum_exp` over a buffer some of whose
/// elements stay at the fill value `−∞`.
#[model]
fn impossible_components(y: &[f64], k: usize) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(k));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut lp = vec![T::from(f64::NEG_INFINITY); k];
    for c in (0..k).step_by(2) {
        lp[c] = T::from(0.0);
        for t in 0..y.len() {
            lp[c] += Normal::<T>::new(mu[c], s).ln_pdf_obs(y[t]);
        }
    }
    let mut even = vec![T::from(0.0); 1];
    for c in (0..k).step_by(2) {
        lp[c] -= (k as f64).ln();
        even[0] += lp[c] * 0.0;
    }
    factor!("y", math::log_sum_exp(&lp) + even[0]);
    for c in 0..k {
        factor!("mu[{c}]", -0.5 * mu[c] * mu[c]);
    }
}

#[test]
fn log_sum_exp_over_impossible_components() {
    let y = seeded(10, 52);
    for k in [1, 2, 5] {
        assert_generated(&against!(impossible_components(&y, k), 10, 1.5));
    }
}

/// Names a generated code might use: `weights`, `lse`, `fill`, `n`, `slot`, `record`,
/// `pool`, `adj_v`, `value`, `d`, `i`, `v`.
#[model]
fn user_names(y: &[f64]) {
    let n = y.len();
    let fill = 0.25;
    let slot = 1usize;
    let record = 2.0;
    let pool = 3.0;
    let value = sample!("value", Normal::new(0.0, 1.0));
    let d = sample!("d", HalfNormal::new(1.0));
    let mut weights = vec![T::from(fill); n];
    let mut adj_v = vec![T::from(record); n];
    for i in 0..n {
        weights[i] = value * y[i] + d;
        adj_v[i] = weights[i] * pool;
    }
    let lse = math::log_sum_exp(&weights);
    let v = math::log_sum_exp(&adj_v);
    factor!("lse", lse - v * 0.5 + weights[slot % n]);
}

#[test]
fn users_names_like_the_generated_ones() {
    for n in [1, 4] {
        let y = seeded(n, 53);
        assert_generated(&against!(user_names(&y), 15, 1.5));
    }
}

/// Values that overflow: `exp` of `exp` of elements far out, and the rejections.
#[model]
fn overflowing(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); n];
    v[0] = a;
    for t in 1..n {
        v[t] = (v[t - 1] * b).exp() - 1.0;
    }
    let scale = v[n - 1].exp();
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], scale + 0.1), obs = y[t]);
    }
    factor!("lse", math::log_sum_exp(&v));
}

#[test]
fn overflowing_elements() {
    for n in [1, 3, 6] {
        let y = seeded(n, 54);
        let (engine, _) = swept!(overflowing(&y), 30, 30.0);
        assert_generated(&engine);
        swept!(overflowing(&y), 30, 3.0);
    }
}

/// A buffer whose only parameter-dependent write sits in a data branch never taken,
/// the rest data writes.
#[model]
fn never_active(y: &[f64], flag: bool) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.5); n];
    for t in 0..n {
        v[t] = T::from(y[t]);
        if flag {
            v[t] = a * y[t];
        }
        v[t] *= 2.0;
        v[t] += 1.0;
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(a + v[t], 1.0), obs = y[t]);
    }
}

#[test]
fn buffers_written_by_data_only() {
    let y = seeded(6, 55);
    for flag in [false, true] {
        assert_generated(&against!(never_active(&y, flag), 10, 1.5));
    }
}

/// A running maximum and a cumulative sum read in the loop that writes them, with an
/// inner loop over the elements written so far (an accumulation a reduction would
/// take at the top level).
#[model]
fn inner_sums(y: &[f64], x: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 0.5));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); n];
    for i in 0..n {
        let mut acc = T::from(0.0);
        for j in 0..i {
            acc += v[j] * x[j];
        }
        v[i] = acc * a + y[i] * s;
    }
    let mut total = T::from(0.0);
    for j in 0..n {
        total += v[j] * x[j];
    }
    let mut sq = T::from(0.0);
    for j in 0..n {
        sq += v[j] * v[j];
    }
    factor!("total", -0.5 * total * total - 0.1 * sq);
}

#[test]
fn inner_sums_over_written_elements() {
    for n in [1, 2, 12] {
        let (y, x) = (seeded(n, 56), seeded(n, 57));
        assert_generated(&against!(inner_sums(&y, &x), 15, 1.5));
    }
}

/// A buffer declared before a latent vector site and a dense site (the pool's order
/// of giving back), several buffers of different lengths.
#[model]
fn buffers_then_vector_sites(y: &[f64], m: usize) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut small = vec![T::from(0.0); 2];
    small[0] = a;
    small[1] = a * a;
    let mut big = vec![T::from(0.0); m];
    for i in 0..m {
        big[i] = a * (i as f64) * 0.01;
    }
    let z = sample!("z", Normal::new(0.0, 1.0).iid(m));
    let w = sample!("w", Dirichlet::symmetric(3, 2.0));
    let mut mid = vec![T::from(0.0); 7];
    for i in 0..7 {
        mid[i] = z[i % m] * w[i % 3] + small[i % 2];
    }
    for t in 0..n {
        sample!(
            "y[{t}]",
            Normal::new(mid[t % 7] + big[t % m] + z[t % m], 1.0),
            obs = y[t]
        );
    }
}

#[test]
fn buffers_before_vector_sites() {
    let y = seeded(20, 58);
    for m in [1, 5, 40] {
        assert_generated(&against!(buffers_then_vector_sites(&y, m), 10, 1.5));
    }
}

#[test]
fn buffers_before_vector_sites_do_not_allocate_per_call() {
    let y = seeded(20, 58);
    let model = buffers_then_vector_sites(&y, 60).with_engine(Engine::Codegen);
    let after_three = allocations_per_call(&model, 3);
    let after_thirty = allocations_per_call(&model, 30);
    eprintln!("allocations after 3 calls {after_three}, after 30 {after_thirty}");
    assert_eq!((after_three, after_thirty), (0, 0));
}

/// A partial range to `log_sum_exp` (`&v[1..]`), which the generated code does not
/// sum: the model must fall back or agree.
#[model]
fn partial_range(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); 3];
    v[0] = a;
    v[1] = a * 2.0;
    v[2] = -a;
    factor!("v", math::log_sum_exp(&v[1..]));
    sample!("y", Normal::new(a, 1.0), obs = y[0]);
}

/// A `Vec<T>` passed whole to a user's function.
#[model]
fn passed_whole(y: &[f64]) {
    fn total<U: Copy + std::ops::Add<Output = U>>(v: &[U], zero: U) -> U {
        v.iter().fold(zero, |s, x| s + *x)
    }
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); 3];
    v[0] = a;
    v[2] = a * a;
    sample!("y", Normal::new(total(&v, T::from(0.0)), 1.0), obs = y[0]);
}

/// Element writes and a scalar's reassignment whose values are `if` expressions, on
/// data and on parameters, `else if` chains and compound assignments included.
#[model]
fn if_value(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); y.len()];
    let mut level = a * 0.5;
    for t in 0..y.len() {
        v[t] = if y[t] > 0.0 { a } else { a * a };
        v[t] += if y[t] > 0.5 {
            let w = b * y[t];
            w * w
        } else if a > 0.0 {
            b
        } else {
            T::from(0.25)
        };
        v[t] *= if b > 1.0 { b } else { T::from(2.0) };
        level = if level > v[t] {
            level - b * 0.1
        } else {
            level + v[t] * 0.2
        };
        v[t] -= level;
    }
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

#[test]
fn partial_ranges_whole_reads_and_if_values() {
    let y = seeded(5, 59);
    let engine = against!(partial_range(&y), 10, 1.5);
    eprintln!("partial range: {engine}");
    check!(passed_whole(&y), 10, 1.5, fallback);
    let engine = against!(if_value(&y), 10, 1.5);
    eprintln!("if value: {engine}");
}

/// An untyped data `let` (not hoisted) as a buffer's fill value.
#[model]
fn untyped_fill(y: &[f64]) {
    let n = y.len();
    let m = y.iter().sum::<f64>() / n as f64;
    let a = sample!("a", Normal::new(0.0, 1.0));
    let twice = m * 2.0;
    let mut v = vec![T::from(twice); n];
    v[0] = a;
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

#[test]
fn untyped_data_fill() {
    let y = seeded(4, 60);
    assert_generated(&against!(untyped_fill(&y), 10, 1.5));
}

/// A `deterministic!` statement of its own reading an element (and, for comparison, a
/// scalar): a value the generic body records and the gradient does not need.
#[model]
fn standalone_deterministic(y: &[f64]) {
    let n = y.len();
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); n];
    for t in 0..n {
        v[t] = s * y[t];
    }
    deterministic!("last", v[n - 1]);
    sample!("y", Normal::new(v[0], 1.0), obs = y[0]);
}

#[model]
fn standalone_deterministic_scalar(y: &[f64]) {
    let s = sample!("s", HalfNormal::new(1.0));
    deterministic!("x", s * 2.0);
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(s, 1.0), obs = y[t]);
    }
}

#[test]
fn standalone_deterministic_statements() {
    let y = seeded(4, 61);
    assert_generated(&against!(standalone_deterministic(&y), 10, 1.5));
    assert_generated(&against!(standalone_deterministic_scalar(&y), 10, 1.5));
}

/// A buffer filled in a loop, then one element bumped with `+=` by a parameter.
#[model]
fn buffer_filled_then_bumped(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); n];
    for t in 0..n {
        v[t] = a * y[t];
    }
    v[0] += a;
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

/// `*=` at an index with a side effect (evaluated once by Rust).
#[model]
fn side_effect_mul(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(1.0); n];
    for t in 0..n {
        v[t] = a + y[t];
    }
    let mut k = 0usize;
    v[{
        k += 1;
        k
    }] *= a;
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

/// A data overwrite `v[idx] = value` whose index has a side effect the value reads
/// (Rust evaluates the value first).
#[model]
fn side_effect_overwrite(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(1.0); n];
    for t in 0..n {
        v[t] = a * y[t];
    }
    let mut k = 0usize;
    v[{
        k += 1;
        k
    }] = T::from(y[k]);
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

/// A fill value and a length with side effects (`vec![value; n]` evaluates the value
/// first).
#[model]
fn side_effect_fill(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut k = 1usize;
    let mut v = vec![
        T::from(k as f64);
        {
            k += 1;
            k
        }
    ];
    v[0] = a;
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(v[t % 2], 1.0), obs = y[t]);
    }
}

/// Two reads of a buffer at the same side-effecting index expression in one
/// expression (Rust reads two elements).
#[model]
fn side_effect_reads(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(1.0); n];
    for t in 0..n {
        v[t] = a * (t as f64 + 1.0);
    }
    let mut k = 0usize;
    let m = v[{
        k += 1;
        k
    }] * v[{
        k += 1;
        k
    }];
    sample!("y", Normal::new(m, 1.0), obs = y[0]);
}

#[test]
fn filled_then_bumped_agrees() {
    let y = seeded(4, 62);
    against!(buffer_filled_then_bumped(&y), 10, 1.5);
}

#[test]
fn filled_then_bumped_runs_generated() {
    let y = seeded(4, 62);
    assert_generated(&against!(buffer_filled_then_bumped(&y), 10, 1.5));
}

#[test]
fn side_effecting_index_of_a_compound_write() {
    let y = seeded(4, 63);
    against!(side_effect_mul(&y), 10, 1.5);
}

#[test]
fn side_effecting_index_of_a_data_overwrite() {
    let y = seeded(4, 63);
    against!(side_effect_overwrite(&y), 10, 1.5);
}

#[test]
fn if_value_runs_generated() {
    let y = seeded(5, 59);
    assert_generated(&against!(if_value(&y), 10, 1.5));
}

// ---------------------------------------------------------------------------------
// 7. sites written into elements, conversions, element functions

/// A centred random walk stored directly from latent sites (`v[t] = sample!(…)`),
/// one added to (`v[t] += sample!(…)`), a Poisson autoregression on a rate buffer,
/// and a Bernoulli-logit observation of an element.
#[model]
fn sites_into_elements(y: &[f64], d: &[u64], b: &[bool]) {
    let n = y.len();
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); n];
    v[0] = sample!("v0", Normal::new(0.0, 1.0));
    for t in 1..n {
        v[t] = sample!("v[{t}]", Normal::new(v[t - 1], s));
    }
    let mut rate = vec![T::from(1.0); n];
    for t in 0..n {
        rate[t] = (0.3 * v[t]).exp();
        if t > 0 {
            rate[t] = rate[t] + 0.2 * rate[t - 1];
        }
        sample!("d[{t}]", Poisson::new(rate[t]), obs = d[t]);
        sample!("b[{t}]", Bernoulli::logit(v[t] - rate[t]), obs = b[t]);
    }
    let mut extra = vec![T::from(0.0); 2];
    extra[1] += sample!("e", Normal::new(v[n - 1], 1.0));
    sample!("y", Normal::new(extra[1] + extra[0], 1.0), obs = y[0]);
}

#[test]
fn latent_sites_written_into_elements() {
    for n in [1, 2, 8] {
        let y = seeded(n, 70);
        let d = counts(n, 5, 71);
        let b: Vec<bool> = (0..n).map(|t| t % 3 == 1).collect();
        assert_generated(&against!(sites_into_elements(&y, &d, &b), 12, 1.5));
        swept!(sites_into_elements(&y, &d, &b), 8, 5.0);
    }
}

/// `powi`, `powf`, `sqrt`, `abs` at zero crossings, `ln_1p`, `exp_m1`, `inv_logit`,
/// loop bounds from a buffer's `len()`, an index cast from a `u32`.
#[model]
fn element_functions(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let w = [a, s, a * s];
    let mut v = vec![T::from(0.3); n];
    for t in 0..v.len() {
        let k = (t % 3) as u32;
        let prev = if t > 0 { v[t - 1] } else { w[2] };
        v[t] = prev * 0.5 + w[k as usize] * y[t];
        v[t] = v[t].powi(2) + s.powf(1.5) * v[t].inv_logit() - v[t].abs().sqrt();
        v[t] = v[t].ln_1p().max(T::from(-3.0)) + v[t].exp_m1().min(T::from(5.0));
    }
    for t in 0..w.len() {
        factor!("w[{t}]", -0.5 * w[t] * w[t]);
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0 + s), obs = y[t]);
    }
}

#[test]
fn conversions_and_functions_of_elements() {
    for n in [1, 3, 10] {
        let y = seeded(n, 72);
        let (engine, _) = swept!(element_functions(&y), 15, 1.5);
        assert_generated(&engine);
        swept!(element_functions(&y), 10, 30.0);
    }
}

/// An HMM whose forward step branches on a parameter inside the nested loops and
/// normalises each step by `log_sum_exp` of a two-element array.
#[model]
fn hmm_branching(y: &[f64]) {
    let n = y.len();
    let p = sample!("p", Beta::new(2.0, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2));
    let mut alpha = vec![T::from(-(2.0f64).ln()); 2 * n];
    let mut scale = vec![T::from(0.0); n];
    for t in 0..n {
        for j in 0..2 {
            let prior = if t == 0 {
                T::from(-(2.0f64).ln())
            } else if p > 0.5 {
                alpha[(t - 1) * 2 + j] + p.ln()
            } else {
                alpha[(t - 1) * 2 + 1 - j] + (1.0 - p).ln()
            };
            alpha[t * 2 + j] = prior + Normal::<T>::new(mu[j], 1.0).ln_pdf_obs(y[t]);
        }
        scale[t] = alpha[t * 2].log_sum_exp(alpha[t * 2 + 1]);
        for j in 0..2 {
            alpha[t * 2 + j] -= scale[t];
        }
    }
    let mut total = T::from(0.0);
    for t in 0..n {
        total += scale[t];
    }
    factor!("y", total);
    let last = [alpha[2 * n - 2], alpha[2 * n - 1]];
    factor!("last", math::log_sum_exp(&last));
}

#[test]
fn hmm_with_parameter_branches_in_nested_loops() {
    for n in [1, 3, 25] {
        let y: Vec<f64> = seeded(n, 73).iter().map(|v| 2.0 * v).collect();
        assert_generated(&against!(hmm_branching(&y), 20, 1.5));
        swept!(hmm_branching(&y), 10, 5.0);
    }
}

/// A dense site (a Gaussian random walk) and a Dirichlet read into buffers.
#[model]
fn dense_into_buffers(y: &[f64]) {
    let n = y.len();
    let walk = sample!("walk", GaussianRandomWalk::new(0.7, 5));
    let w = sample!("w", Dirichlet::symmetric(3, 2.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut level = vec![T::from(0.0); n];
    for t in 0..n {
        level[t] = walk[t % 5] * w[t % 3] + s;
        if t > 0 {
            level[t] = level[t] + level[t - 1] * w[0];
        }
    }
    let mut lp = vec![T::from(0.0); 3];
    for c in 0..3 {
        lp[c] = w[c].ln() + Normal::<T>::new(level[n - 1], s).ln_pdf_obs(y[c % n]);
    }
    factor!("mix", math::log_sum_exp(&lp));
    for t in 0..n {
        sample!("y[{t}]", Normal::new(level[t], 1.0), obs = y[t]);
    }
}

#[test]
fn dense_sites_read_into_buffers() {
    for n in [1, 4, 12] {
        let y = seeded(n, 74);
        assert_generated(&against!(dense_into_buffers(&y), 12, 1.5));
    }
}

/// A `while` loop writing a buffer, an array with an `if` element, a latent `iid`
/// site whose location is an element: fall back or agree.
#[model]
fn while_writes(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); n];
    let mut t = 0;
    while t < n {
        v[t] = a * y[t];
        t += 1;
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

#[model]
fn if_in_array(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let w = [if a > 0.0 { a } else { b }, b];
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(w[t % 2], 1.0), obs = y[t]);
    }
}

#[model]
fn iid_from_element(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); 2];
    v[0] = a * 2.0;
    let z = sample!("z", Normal::new(v[0], 1.0).iid(3));
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(z[t % 3] + v[1], 1.0), obs = y[t]);
    }
}

#[test]
fn while_loops_if_elements_and_vector_sites_over_elements() {
    let y = seeded(5, 75);
    for engine in [
        against!(while_writes(&y), 10, 1.5),
        against!(if_in_array(&y), 10, 1.5),
        against!(iid_from_element(&y), 10, 1.5),
    ] {
        eprintln!("{engine}");
    }
}

#[test]
fn long_buffers_do_not_allocate_per_call() {
    let y = seeded(500, 76);
    let d = counts(500, 6, 77);
    let b: Vec<bool> = (0..500).map(|t| t % 3 == 1).collect();
    for (name, count) in [
        (
            "arma",
            allocations_per_call(&arma11(&y).with_engine(Engine::Codegen), 3),
        ),
        (
            "sites",
            allocations_per_call(
                &sites_into_elements(&y, &d, &b).with_engine(Engine::Codegen),
                3,
            ),
        ),
        (
            "hmm",
            allocations_per_call(&hmm_branching(&y).with_engine(Engine::Codegen), 3),
        ),
        (
            "functions",
            allocations_per_call(&element_functions(&y).with_engine(Engine::Codegen), 3),
        ),
    ] {
        assert_eq!(count, 0, "{name}");
    }
}

// ---------------------------------------------------------------------------------
// 8. arrays and slices handed to sites, iterators without a length bound

/// `Normal::each` over a typed array of parameters and over a buffer's tail, a tuple
/// `let` of array elements, `log_sum_exp` of a typed array.
#[model]
fn arrays_to_sites(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", HalfNormal::new(1.0));
    let w: [T; 3] = [a, a * b, b];
    sample!("y3", Normal::each(params(&w), scalar(1.0)), obs = &y[..3]);
    let (p, q) = (w[0], w[2]);
    let pair: [T; 2] = [p, q * 2.0];
    factor!("pair", math::log_sum_exp(&pair));
    let mut v = vec![T::from(0.0); 4];
    for t in 0..4 {
        v[t] = a * (t as f64) + b;
    }
    sample!(
        "tail",
        Normal::each(params(&v[1..]), scalar(2.0)),
        obs = &y[..3]
    );
}

#[test]
fn arrays_and_slices_handed_to_sites() {
    let y = seeded(5, 80);
    let engine = against!(arrays_to_sites(&y), 15, 1.5);
    eprintln!("{engine}");
}

/// Buffers written in loops over iterators without an upper length bound (`filter`,
/// `skip_while`), and over `zip` of two slices.
#[model]
fn unbounded_iterators(y: &[f64], x: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.0); n];
    for (t, yt) in y.iter().enumerate().filter(|(t, _)| t % 2 == 0) {
        v[t] = a * *yt + s;
    }
    for (t, (yt, xt)) in y.iter().zip(x).enumerate() {
        let prev = if t > 0 { v[t - 1] } else { a };
        v[t] = v[t] + prev * *xt * 0.5 + *yt * 0.1;
    }
    for (t, _) in x.iter().enumerate().skip_while(|(_, xt)| **xt < -1.0) {
        v[t] *= s;
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

#[test]
fn loops_over_unbounded_iterators() {
    for n in [1, 3, 11] {
        let (y, x) = (seeded(n, 81), seeded(n, 82));
        assert_generated(&against!(unbounded_iterators(&y, &x), 15, 1.5));
    }
}

// ---------------------------------------------------------------------------------
// 9. more realistic models

/// Stochastic volatility (Stan's user guide), the log volatilities stored.
#[model]
fn stochastic_volatility(y: &[f64]) {
    let n = y.len();
    let mu = sample!("mu", Cauchy::new(0.0, 10.0));
    let phi = sample!("phi", Uniform::new(-1.0, 1.0));
    let sigma = sample!("sigma", HalfCauchy::new(5.0));
    let h_std = sample!("h_std", Normal::new(0.0, 1.0).iid(n));
    let mut h = vec![T::from(0.0); n];
    h[0] = h_std[0] * sigma / (1.0 - phi * phi).sqrt() + mu;
    for t in 1..n {
        h[t] = h_std[t] * sigma + mu + phi * (h[t - 1] - mu);
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(0.0, (h[t] / 2.0).exp()), obs = y[t]);
    }
}

#[test]
fn stochastic_volatility_model() {
    for n in [1, 2, 30] {
        let y = seeded(n, 83);
        assert_generated(&against!(stochastic_volatility(&y), 10, 1.5));
        swept!(stochastic_volatility(&y), 8, 5.0);
    }
}

/// Eight schools, non-centred, the school effects an array of transformed parameters.
#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let eta = sample!("eta", Normal::new(0.0, 1.0).iid(8));
    let mut theta = vec![T::from(0.0); 8];
    for j in 0..8 {
        theta[j] = mu + tau * eta[j];
    }
    for j in 0..8 {
        sample!("y[{j}]", Normal::new(theta[j], sigma[j]), obs = y[j]);
    }
}

#[test]
fn eight_schools_non_centred() {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    assert_generated(&against!(eight_schools(&y, &sigma), 15, 1.5));
    swept!(eight_schools(&y, &sigma), 10, 30.0);
}

/// Logistic growth integrated by Euler steps into a stored trajectory.
#[model]
fn logistic_growth(y: &[f64], dt: f64) {
    let n = y.len();
    let r = sample!("r", LogNormal::new(0.0, 0.5));
    let k = sample!("k", LogNormal::new(1.0, 0.5));
    let x0 = sample!("x0", LogNormal::new(-1.0, 0.5));
    let sigma = sample!("sigma", HalfNormal::new(0.5));
    let mut x = vec![T::from(0.0); n];
    x[0] = x0;
    for t in 1..n {
        x[t] = x[t - 1] + dt * r * x[t - 1] * (1.0 - x[t - 1] / k);
    }
    for t in 0..n {
        sample!("y[{t}]", LogNormal::new(x[t].ln(), sigma), obs = y[t]);
    }
}

#[test]
fn logistic_growth_by_euler_steps() {
    for n in [1, 2, 40] {
        let y = positive(n, 84);
        let (engine, _) = swept!(logistic_growth(&y, 0.1), 15, 1.5);
        assert_generated(&engine);
        swept!(logistic_growth(&y, 0.1), 10, 5.0);
    }
}

/// Arithmetic on data inside the `vec![…]` of a buffer's fill value, written with the
/// value computed first (the direct form does not compile: FAILURES8.md).
#[model]
fn computed_fill(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let start = y[0] * 2.0;
    let mut v = vec![T::from(start); y.len()];
    v[0] = a;
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

#[test]
fn fill_computed_before_the_vec() {
    let y = seeded(4, 85);
    assert_generated(&against!(computed_fill(&y), 10, 1.5));
}

// ---------------------------------------------------------------------------------
// 10. odds and ends

/// Self-copies and negations (`v[i] = v[i]`, `v[i] = -v[i]`), an element as a scale
/// that may go negative (rejections), an array of data values written by a parameter
/// later, and a body without a loop (`Engine::Auto` does not prefer generated code).
#[model]
fn odds_and_ends(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.5, 1.0));
    let mut v = vec![T::from(1.0); n];
    for i in 0..n {
        v[i] = a * y[i];
        v[i] = v[i];
        v[i] = -v[i];
    }
    let mut w = [T::from(y[0]), T::from(1.0)];
    w[1] = b;
    for i in 0..n {
        sample!("y[{i}]", Normal::new(v[i], w[1]), obs = y[i]);
    }
}

#[model]
fn no_loop(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let w = [a, b * a, T::from(y[0])];
    let mut v = vec![T::from(0.0); 2];
    v[1] = w[1] * w[2];
    factor!("w", math::log_sum_exp(&w) - math::log_sum_exp(&v));
    let l: T = math::log_sum_exp(&w[..]);
    factor!("l", l * 0.5);
}

#[test]
fn copies_negations_rejections_and_no_loop() {
    for n in [1, 6] {
        let y = seeded(n, 90);
        let (engine, rejected) = swept!(odds_and_ends(&y), 20, 1.5);
        assert_generated(&engine);
        assert!(rejected > 0);
    }
    let y = seeded(2, 91);
    assert_generated(&against!(no_loop(&y), 15, 1.5));
    swept!(no_loop(&y), 10, 30.0);
}

/// A vector grown by `push`, a buffer named like the data argument it shadows, and
/// `Normal::each` over a buffer inside a loop: fall back or agree.
#[model]
fn pushed(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v: Vec<T> = Vec::with_capacity(y.len());
    for t in 0..y.len() {
        v.push(a * y[t]);
    }
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(v[t], 1.0), obs = y[t]);
    }
}

#[model]
fn shadows_argument(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let data = y;
    let mut y = vec![T::from(0.0); data.len()];
    for t in 0..data.len() {
        y[t] = a * data[t];
    }
    for t in 0..data.len() {
        sample!("y[{t}]", Normal::new(y[t], 1.0), obs = data[t]);
    }
}

#[model]
fn each_in_loop(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); y.len()];
    for r in 0..2 {
        for t in 0..y.len() {
            v[t] = a * y[t] + r as f64;
        }
        sample!("y[{r}]", Normal::each(params(&v), scalar(1.0)), obs = y);
    }
}

#[test]
fn pushes_shadows_and_each_in_loops() {
    let y = seeded(5, 92);
    for engine in [
        against!(pushed(&y), 10, 1.5),
        against!(shadows_argument(&y), 10, 1.5),
        against!(each_in_loop(&y), 10, 1.5),
    ] {
        eprintln!("{engine}");
    }
}

/// Latent sites lifted out of compound element writes inside a loop
/// (`v[t] += sample!(…)`, `v[t] *= sample!(…)`), and two sites in one write.
#[model]
fn sites_in_compound_writes(y: &[f64]) {
    let n = y.len();
    let s = sample!("s", HalfNormal::new(1.0));
    let mut v = vec![T::from(0.5); n];
    for t in 0..n {
        v[t] += sample!("u[{t}]", Normal::new(0.0, s));
        v[t] *= sample!("m[{t}]", LogNormal::new(0.0, 0.3));
        if t > 0 {
            v[t] = v[t] + sample!("p[{t}]", Normal::new(v[t - 1], 1.0))
                - sample!("q[{t}]", Normal::new(0.0, 1.0)) * s;
        }
    }
    for t in 0..n {
        sample!("y[{t}]", Normal::new(v[t], 0.5), obs = y[t]);
    }
}

#[test]
fn sites_lifted_out_of_compound_writes() {
    for n in [1, 2, 6] {
        let y = seeded(n, 93);
        assert_generated(&against!(sites_in_compound_writes(&y), 12, 1.5));
        swept!(sites_in_compound_writes(&y), 8, 5.0);
    }
}

#[test]
fn rejected_points_do_not_allocate_per_call() {
    // at the counting point `b` (the scale `w[1]`) is negative: every call rejects
    let y = seeded(40, 94);
    let model = odds_and_ends(&y).with_engine(Engine::Codegen);
    let x: Vec<f64> = (0..model.dim()).map(|i| 0.05 * i as f64 - 0.3).collect();
    assert_eq!(model.logp(&x), f64::NEG_INFINITY);
    assert_eq!(allocations_per_call(&model, 3), 0);
    let model = sites_in_compound_writes(&y).with_engine(Engine::Codegen);
    assert_eq!(allocations_per_call(&model, 3), 0);
}

#[test]
fn side_effecting_length_of_a_fill() {
    let y = seeded(4, 63);
    against!(side_effect_fill(&y), 10, 1.5);
}

/// Three nested loops writing a flat buffer, a branch on a parameter innermost,
/// reads across levels.
#[model]
fn three_levels(y: &[f64], a_len: usize, b_len: usize, c_len: usize) {
    let p = sample!("p", Normal::new(0.0, 1.0));
    let q = sample!("q", HalfNormal::new(1.0));
    let mut cube = vec![T::from(0.1); a_len * b_len * c_len];
    for i in 0..a_len {
        for j in 0..b_len {
            for k in 0..c_len {
                let at = (i * b_len + j) * c_len + k;
                let below = if i > 0 {
                    cube[at - b_len * c_len]
                } else {
                    T::from(y[at % y.len()])
                };
                if p > below * 0.1 {
                    cube[at] = below * q + p;
                } else {
                    cube[at] = below - p * 0.5;
                    if k > 0 {
                        cube[at] = cube[at] + cube[at - 1] * 0.25;
                    }
                }
            }
        }
    }
    for at in 0..cube.len() {
        sample!(
            "y[{at}]",
            Normal::new(cube[at], 1.0 + q),
            obs = y[at % y.len()]
        );
    }
}

#[test]
fn three_nested_loops_with_an_innermost_parameter_branch() {
    let y = seeded(30, 96);
    for (a, b, c) in [(1, 1, 1), (2, 3, 2), (3, 2, 4)] {
        assert_generated(&against!(three_levels(&y, a, b, c), 15, 1.5));
        swept!(three_levels(&y, a, b, c), 8, 5.0);
    }
}

/// `Normal::each` over an array of parameters, an observed `iid` site whose location
/// is an element, and `log_sum_exp` (imported by name: falls back, see below).
#[model]
fn each_over_array(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", HalfNormal::new(1.0));
    let w = [a, a * b, b];
    sample!("y3", Normal::each(params(&w), scalar(1.0)), obs = &y[..3]);
    let mut v = vec![T::from(0.0); 2];
    v[1] = a - b;
    sample!("iid", Normal::new(v[1], 1.0).iid(y.len()), obs = y);
    factor!("lse", math::log_sum_exp(&v));
}

#[model]
fn imported_log_sum_exp(y: &[f64]) {
    use tilde::math::log_sum_exp;
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![T::from(0.0); 2];
    v[1] = a;
    factor!("lse", log_sum_exp(&v));
    for t in 0..y.len() {
        sample!("y[{t}]", Normal::new(a, 1.0), obs = y[t]);
    }
}

#[test]
fn each_over_an_array_iid_over_an_element_imported_log_sum_exp() {
    let y = seeded(5, 97);
    assert_generated(&against!(each_over_array(&y), 15, 1.5));
    // `log_sum_exp` called by its imported name is not recognised: the tape's
    check!(imported_log_sum_exp(&y), 10, 1.5, fallback);
}

#[test]
fn side_effecting_index_read_twice() {
    let y = seeded(4, 63);
    against!(side_effect_reads(&y), 10, 1.5);
}

// ---------------------------------------------------------------------------------
// bodies that did not compile in the round (fixed after it)

/// A data vector filled by a loop, then one element updated.
#[model]
fn data_filled_then_bumped(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![0.0; n];
    for t in 0..n {
        v[t] = y[t] * 2.0;
    }
    v[0] += 1.0;
    for t in 0..n {
        sample!("y[{t}]", Normal::new(a * v[t], 1.0), obs = y[t]);
    }
}

/// A range read of a data vector filled by a loop.
#[model]
fn filled_range_read(y: &[f64]) {
    let n = y.len();
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut v = vec![0.0; n];
    for k in 0..n {
        v[k] = y[k] * 2.0;
    }
    let tail: f64 = v[1..].iter().sum();
    sample!("y", Normal::new(a + tail, 1.0), obs = y[0]);
}

/// Arithmetic in the arguments of `vec!` (data and a buffer's fill value).
#[model]
fn arithmetic_in_vec(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let w = vec![y[0] * 2.0; 2];
    let mut v = vec![T::from(y[0] * 2.0 - w[1] / 4.0); 2];
    v[0] = a;
    sample!("y", Normal::new(v[1] + v[0], 1.0), obs = y[0]);
}

/// Raw identifiers as parameter-dependent names, a scalar and a buffer.
#[model]
fn raw_names(y: &[f64]) {
    let r#type = sample!("a", Normal::new(0.0, 1.0));
    let mut r#match = vec![T::from(0.0); 2];
    r#match[0] = r#type * 2.0;
    r#match[1] = r#match[0] + r#type;
    for t in 0..y.len() {
        sample!(
            "y[{t}]",
            Normal::new(r#type + r#match[t % 2], 1.0),
            obs = y[t]
        );
    }
}

#[test]
fn bodies_that_did_not_compile() {
    let y = seeded(5, 90);
    assert_generated(&against!(data_filled_then_bumped(&y), 10, 1.5));
    against!(filled_range_read(&y), 10, 1.5);
    assert_generated(&against!(arithmetic_in_vec(&y), 10, 1.5));
    assert_generated(&against!(raw_names(&y), 10, 1.5));
}
