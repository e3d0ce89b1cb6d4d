//! Third round of adversarial coverage of the gradient code `#[model]` generates,
//! against the reverse tape (the oracle), in areas `tests/codegen_coverage.rs` and
//! `tests/codegen_edges.rs` do not reach: reductions with two accumulators, a
//! `deterministic!` term, `abs`/`max`/`min` terms, closed and empty ranges, ranges of
//! `i64` below zero, of `u8` and longer than the data, values read by a sum and
//! reassigned after it; linear-predictor (SIMD dot) terms with offsets on both sides
//! that depend on an outer loop variable or change after the loop; loops that carry a
//! value over `filter`, `chain`, `flat_map`, `skip_while`, uneven `zip`, reversed
//! `enumerate` and an iterator whose `size_hint` lies; nested carried loops with latent
//! and observed sites, a double sum into one accumulator, a carried loop inside a loop
//! that carries nothing; `else if` chains on parameters with sites in some arms only;
//! written-out Normal, `Poisson::log_rate` and Student-t observations at values
//! computed from data, of integer and `bool` types, at literals, and at counts outside
//! the support, NaN and infinite observations, `Normal::each` observing a subslice and
//! a computed vector; latent `Uniform`/`Flat::interval` sites with parameter bounds and a
//! Bernoulli with a latent probability; arguments of type `f32`, `i32`, `u64`,
//! `&Vec<f64>`, arrays, nested vectors, structs and `Option`; `deterministic!` values
//! read in sums and carried loops and by each other; operator precedence, long
//! expressions and negative integer powers. Each model matches the tape to 1e-12
//! relative (log-density and gradient, with and without the Jacobian); models the
//! generator does not analyse (an `if` value in a sum, an early `return`, a latent site
//! in another's arguments) are checked to fall back; a data `match` with sites, once
//! among them, now runs generated as an `if` chain.

// a model over eight kinds of data argument
#![allow(clippy::too_many_arguments)]

mod common;
#[macro_use]
#[path = "common/against_tape.rs"]
mod against_tape;
#[path = "../examples/posteriordb/json.rs"]
mod json;

use against_tape::*;
use tilde::Engine;
use tilde::prelude::*;
use tilde::vector::{params, scalar};

/// The same data, seeded, in `[-1.5, 1.5]`.
fn data(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed + 4000)
}

// ---------------------------------------------------------------------------------
// reductions

/// Two accumulators in one loop, a `deterministic!` and `abs`/`max` in terms, a
/// closed range whose bound is reassigned after the first loop, a loop-invariant
/// parameter-dependent value reassigned after the loop that reads it, an accumulator
/// read by later loops.
#[model]
fn reductions_hostile(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", Gamma::new(3.0, 2.0));
    let mut n = y.len();
    let mut a = 0.0 * mu;
    let mut b = 0.0 * mu;
    for i in 0..n {
        a += (y[i] - mu).powi(2);
        b -= s * y[i] * y[i] + (mu * y[i]).abs();
        a = a + deterministic!("t[{i}]", mu * s * y[i]) * 0.1;
    }
    n = 2;
    for i in 1..=n {
        b += y[i] * mu.max(s) - y[i - 1] * mu.min(-s);
    }
    for i in 3..=2 {
        b += y[i] * mu;
    }
    let mut m = mu * 0.5;
    let mut c = 0.0 * mu;
    for i in 0..y.len() {
        c += m * y[i] - (m - y[i]).tanh();
    }
    m = m * s;
    c += m;
    for i in 0..y.len() {
        factor!("r[{i}]", -0.01 * (a * y[i] + b * c));
    }
    let mut e = 0.0 * mu;
    for i in 0..y.len() {
        e += a * y[i] * 0.001;
    }
    factor!("a", -0.5 * a / (s * s) - 0.01 * b * b - 0.1 * c * c - e);
}

#[test]
fn reductions_with_two_accumulators_closed_ranges_and_reassigned_reads() {
    let y = data(11, 1);
    check!(reductions_hostile(&y), 15, 2.0, generated);
}

/// Linear predictors whose offsets are reassigned after the loop, depend on an outer
/// loop variable on both sides, the vector on either side of the product, `-=` and
/// `acc = acc - …`, a range not starting at zero, an offset shifted inside the outer
/// loop.
#[model]
fn dot_offsets(x: &[f64], y: &[f64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d + 1));
    let s = sample!("s", HalfNormal::new(1.0));
    let rows = y.len();
    let mut off = 0;
    for r in 0..rows {
        let mut eta = alpha;
        for j in 0..d {
            eta += x[r * d + j] * beta[j];
        }
        for j in 1..d {
            eta -= beta[j + 1] * x[j + r * d] * 0.5;
            eta = eta - x[off + j] * beta[j];
        }
        sample!("y[{r}]", Normal::new(eta, s), obs = y[r]);
        off += 1;
    }
    let mut base = d;
    let mut acc = 0.0 * alpha;
    for j in 0..d {
        acc += x[base + j] * beta[j];
    }
    base = 0;
    factor!("acc", -0.5 * acc * acc + 0.01 * (base as f64));
}

#[test]
fn dot_terms_with_moving_offsets() {
    let (rows, d) = (6, 3);
    let x = data(rows * d + d, 2);
    let y = data(rows, 3);
    check!(dot_offsets(&x, &y, d), 10, 1.5, generated);
}

/// A reduction term with an `if` over a parameter (`acc += …` in each branch).
#[model]
fn if_in_reduction(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * a;
    for i in 0..y.len() {
        acc += if a > y[i] { a - y[i] } else { y[i] - a };
    }
    factor!("acc", -acc);
}

#[test]
fn an_if_value_in_a_reduction() {
    let y = data(5, 4);
    check!(if_in_reduction(&y), 10, 2.0, generated);
}

/// Reductions over ranges of `i64` that start below zero, of `u8`, and of `i32` with
/// a negative step count (empty), beside lanes that do not fill a chunk.
#[model]
fn odd_ranges(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut acc = 0.0 * mu;
    let h = (y.len() / 2) as i64;
    for k in -h..h {
        acc += y[(k + h) as usize] * mu * (k as f64);
    }
    for k in 0u8..(y.len() as u8) {
        acc -= (y[k as usize] - s).powi(2);
    }
    for k in 5i32..-3 {
        acc += mu * (k as f64);
    }
    for k in 0..y.len() * 3 {
        acc += (mu * y[k % y.len()]).sin() * 0.1;
    }
    factor!("acc", 0.1 * acc);
}

#[test]
fn reductions_over_signed_small_and_long_ranges() {
    let y = data(11, 5);
    check!(odd_ranges(&y), 10, 2.0, generated);
    let y = data(1, 6);
    check!(odd_ranges(&y), 5, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// carried loops over iterators

/// An iterator whose `size_hint` claims at most one item.
struct Liar<'a>(&'a [f64], usize);

impl Iterator for Liar<'_> {
    type Item = f64;
    fn next(&mut self) -> Option<f64> {
        let v = self.0.get(self.1).copied();
        self.1 += 1;
        v
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(1))
    }
}

fn liar(y: &[f64]) -> Liar<'_> {
    Liar(y, 0)
}

/// Carried loops over iterators of every length bound: `filter`, `chain`, `flat_map`
/// (no upper bound), `skip_while`, `zip` of unequal lengths, `rev` of `enumerate`, an
/// iterator whose bound lies; with sites in the loops.
#[model]
fn carried_iterators(y: &[f64], w: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let rho = sample!("rho", Uniform::new(-1.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut level = mu;
    for (i, v) in y.iter().enumerate().filter(|(_, v)| **v > -0.5) {
        level = rho * level + *v;
        sample!("f[{i}]", Normal::new(level, 1.0 + s), obs = *v);
    }
    for v in y.iter().chain(w.iter()) {
        level = level * 0.5 + *v * s;
    }
    for v in y.iter().flat_map(|v| [*v, -*v]) {
        level = level * rho + v;
    }
    for v in y.iter().skip_while(|v| **v < 0.0) {
        level = level - 0.1 * (level - *v).tanh();
    }
    for (a, b) in y.iter().zip(w.iter().skip(2)) {
        level = level * 0.9 + a * b * rho;
    }
    for (i, v) in y.iter().enumerate().rev() {
        level = level * 0.9 + (i as f64) * v * 0.01;
    }
    for v in liar(y) {
        level = level * rho + v * 0.1;
    }
    factor!("level", -0.5 * level * level);
}

#[test]
fn carried_loops_over_iterators_with_any_length_bound() {
    let (y, w) = (data(7, 7), data(5, 8));
    check!(carried_iterators(&y, &w), 10, 1.5, generated);
    check!(carried_iterators(&[], &[]), 3, 1.5, generated);
}

/// Nested carried loops, a carried loop whose body has an inner loop that only
/// reads, sites and a latent site in the carried loop, log-density terms added and read.
#[model]
fn nested_carried_sites(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let rho = sample!("rho", Beta::new(2.0, 2.0));
    let s = sample!("s", LogNormal::new(0.0, 0.5));
    let mut state = mu;
    let mut total = 0.0 * mu;
    for t in 0..y.len() {
        let z = sample!("z[{t}]", Normal::new(state * rho, s));
        let mut inner = z;
        for k in 0..t {
            inner = inner * 0.5 + y[k] * rho;
            let e = inner - y[k];
            factor!("e[{t},{k}]", -0.01 * e * e);
        }
        for k in 0..3 {
            let r = (inner - y[t]) * (k as f64);
            sample!("o[{t},{k}]", Normal::new(r, 1.0 + s), obs = y[t]);
        }
        state = inner;
        total += state;
        sample!("y[{t}]", Normal::new(state, s), obs = y[t]);
    }
    factor!("total", -0.1 * total * total);
}

#[test]
fn nested_carried_loops_with_sites() {
    let y = data(5, 9);
    check!(nested_carried_sites(&y), 10, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// branches on parameters and data

/// `else if` chains on parameters with sites in some arms only, an `if` without
/// `else` on a parameter inside a loop, a data `match` on an integer in a loop.
#[model]
fn else_if_chains(y: &[f64], kinds: &[u8]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let k = match kinds[i] {
            0 => 0.5,
            1 | 2 => 1.0,
            _ => 2.0,
        };
        if mu > 1.0 {
            sample!("a[{i}]", Normal::new(mu * k, s), obs = y[i]);
        } else if mu > 0.0 {
            factor!("b[{i}]", -mu * s * k);
        } else if mu > -1.0 {
            // no site
            let _unused = mu * 2.0;
        } else {
            sample!("c[{i}]", StudentT::new(3.0, mu, s * k), obs = y[i]);
        }
        if s > 1.0 {
            sample!("d[{i}]", Normal::new(mu, s), obs = y[i] * 2.0);
        }
    }
}

#[test]
fn else_if_chains_with_sites_in_some_arms() {
    let y = data(6, 10);
    let kinds: Vec<u8> = (0..6).map(|i| (i % 4) as u8).collect();
    check!(else_if_chains(&y, &kinds), 30, 2.5, generated);
}

/// A data `match` with sites in its arms: generated as an `if` chain (it ran on the
/// tape before).
#[model]
fn match_with_sites(y: &[f64], kinds: &[u8]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        match kinds[i] {
            0 => sample!("a[{i}]", Normal::new(mu, 1.0), obs = y[i]),
            _ => sample!("b[{i}]", Normal::new(-mu, 2.0), obs = y[i]),
        };
    }
}

/// An early `return` on data as a statement: the tape runs it.
#[model]
fn early_return(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("first", Normal::new(mu, 1.0), obs = 0.5);
    if y.len() < 3 {
        return;
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

#[test]
fn data_matches_with_sites_run_generated_early_returns_fall_back() {
    let y = data(5, 11);
    let kinds: Vec<u8> = (0..5).map(|i| (i % 2) as u8).collect();
    check!(match_with_sites(&y, &kinds), 10, 2.0, generated);
    check!(early_return(&y), 10, 2.0, fallback);
    check!(early_return(&y[..2]), 10, 2.0, fallback);
}

// ---------------------------------------------------------------------------------
// written-out observations

/// Written-out observations (Normal, `Poisson::log_rate`, Student-t) at values
/// computed from data, of integer types, literals, a `bool`, and one with the data
/// scale a computed expression; an observation that depends on a parameter is the
/// tape's.
#[model]
fn written_out_values(
    y: &[f64],
    k32: &[u32],
    k64: &[i64],
    ku: &[usize],
    flags: &[bool],
    sigma: f64,
) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", LogNormal::new(0.0, 0.5));
    for i in 0..y.len() {
        sample!("a[{i}]", Normal::new(mu, sigma * 2.0), obs = y[i] * 2.0);
        sample!(
            "b[{i}]",
            Normal::new(mu, s),
            obs = if flags[i] { 1.0 } else { 0.0 }
        );
        sample!("c[{i}]", Normal::new(mu * s, sigma), obs = k32[i]);
        sample!("d[{i}]", Normal::new(mu, 1.0 + s), obs = 0.0);
        sample!("e[{i}]", Normal::new(-mu, s), obs = 0);
        sample!(
            "f[{i}]",
            Normal::new(mu, sigma + (i as f64)),
            obs = flags[i]
        );
        sample!("g[{i}]", Poisson::log_rate(mu + 0.1 * y[i]), obs = k64[i]);
        sample!("h[{i}]", Poisson::log_rate(mu * s), obs = ku[i]);
        sample!("p[{i}]", Poisson::log_rate(-mu), obs = k32[i] + 1);
        sample!("t[{i}]", StudentT::new(2.5, mu, sigma), obs = y[i] - 1.0);
        sample!("u[{i}]", StudentT::new(sigma + 1.0, -mu, s), obs = ku[i]);
        sample!(
            "v[{i}]",
            StudentT::new(4.0, mu * y[i], s * sigma),
            obs = 0.0
        );
    }
}

#[test]
fn written_out_observations_at_computed_and_integer_values() {
    let y = data(5, 12);
    let k32: Vec<u32> = (0..5).map(|i| (i * 3 % 7) as u32).collect();
    let k64: Vec<i64> = (0..5).map(|i| i % 3).collect();
    let ku: Vec<usize> = (0..5).map(|i| 4 - i).collect();
    let flags: Vec<bool> = (0..5).map(|i| i % 2 == 0).collect();
    for sigma in [0.7, 2.0] {
        check!(
            written_out_values(&y, &k32, &k64, &ku, &flags, sigma),
            15,
            1.5,
            generated
        );
    }
}

/// Counts outside a Poisson's support (a negative one, a fraction), and a Normal scale
/// of zero: every point is rejected, as on the tape.
#[model]
fn impossible_counts(y: &[f64], k: &[i64], frac: f64) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
    for i in 0..k.len() {
        sample!("k[{i}]", Poisson::log_rate(mu), obs = k[i]);
    }
    sample!("f", Poisson::log_rate(mu * 0.5), obs = frac);
}

#[test]
fn counts_outside_the_support_are_rejected_as_the_tape_does() {
    let y = data(3, 13);
    for (k, frac, all_rejected) in [
        (vec![1i64, 2], 3.0, false),
        (vec![1i64, -1], 3.0, true),
        (vec![1i64, 2], 2.5, true),
    ] {
        let model = impossible_counts(&y, &k, frac).with_engine(Engine::Codegen);
        assert_generated(&model.gradient_engine());
        let tape = impossible_counts(&y, &k, frac).with_engine(Engine::Reverse);
        let rejected = sweep(&model, &tape, 5, 1.5);
        assert_eq!(rejected == 10, all_rejected, "{rejected} rejected");
    }
}

// ---------------------------------------------------------------------------------
// latent sites

/// A latent site in another's arguments: the tape runs it.
#[model]
fn nested_latent(y: &[f64]) {
    let b = sample!("b", Normal::new(sample!("a", Normal::new(0.0, 1.0)), 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(b, 1.0), obs = y[i]);
    }
}

#[test]
fn a_latent_site_in_another_sites_arguments_falls_back() {
    let y = data(3, 15);
    check!(nested_latent(&y), 10, 2.0, fallback);
}

/// A Bernoulli observation with a latent probability, latent `Uniform`s with parameter
/// bounds, `Flat::interval` with parameter bounds, a latent site lifted from a
/// `factor!` in a loop.
#[model]
fn latent_bounds(b: &[bool], y: &[f64]) {
    let p = sample!("p", Beta::new(2.0, 3.0));
    let lo = sample!("lo", Normal::new(0.0, 1.0));
    let w = sample!("w", Exponential::new(1.0));
    let u = sample!("u", Uniform::new(lo, lo + w));
    let f = sample!("f", Flat::interval(lo - w, u));
    for i in 0..b.len() {
        sample!("b[{i}]", Bernoulli::new(p), obs = b[i]);
        sample!("y[{i}]", Normal::new(u + f * y[i], 1.0 + w), obs = y[i]);
        factor!(
            "z[{i}]",
            -0.5 * sample!("z[{i}]", Uniform::new(lo - 1.0, u + 1.0)).powi(2)
        );
    }
}

#[test]
fn latent_sites_with_parameter_bounds() {
    let b: Vec<bool> = (0..4).map(|i| i % 3 == 0).collect();
    let y = data(4, 16);
    check!(latent_bounds(&b, &y), 20, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// argument types

/// Data of a struct with fields.
#[derive(Clone, Debug)]
struct Series {
    y: Vec<f64>,
    scale: [f64; 3],
    counts: Vec<u64>,
}

/// `f32` data, `i32` and `u64` slices in active arithmetic through `as f64`, a
/// `&Vec<f64>`, an array, nested vectors, a struct's fields, an `Option` read with
/// `unwrap_or`.
#[model]
fn argument_types(
    y32: &[f32],
    k: &[i32],
    big: &[u64],
    v: &Vec<f64>,
    arr: [f64; 3],
    rows: Vec<Vec<f64>>,
    series: &Series,
    extra: Option<f64>,
) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(3));
    let e = extra.unwrap_or(0.25);
    for i in 0..y32.len() {
        let m = mu * (k[i] as f64) + (big[i] as f64) * 0.1 * s - e * mu;
        sample!("a[{i}]", Normal::new(m, 1.0 + s), obs = y32[i]);
        sample!(
            "b[{i}]",
            Normal::new(mu * v[i], arr[i % 3]),
            obs = y32[i] as f64
        );
    }
    for r in 0..rows.len() {
        let mut eta = mu;
        for j in 0..3 {
            eta += rows[r][j] * beta[j] * arr[j];
        }
        for j in 0..3 {
            eta += arr[j] * beta[j];
        }
        sample!(
            "r[{r}]",
            Normal::new(eta, series.scale[r % 3]),
            obs = series.y[r]
        );
        sample!(
            "c[{r}]",
            Poisson::log_rate(eta * 0.1),
            obs = series.counts[r]
        );
    }
}

#[test]
fn arguments_of_many_types() {
    let y32: Vec<f32> = data(4, 17).iter().map(|v| *v as f32).collect();
    let k: Vec<i32> = vec![-2, 0, 3, 1];
    let big: Vec<u64> = vec![0, 7, 1, 3];
    let v = data(4, 18);
    let arr = [0.5, 1.0, 2.0];
    let rows: Vec<Vec<f64>> = data(9, 19).chunks(3).map(|r| r.to_vec()).collect();
    let series = Series {
        y: data(3, 20),
        scale: [1.0, 0.7, 1.3],
        counts: vec![0, 2, 5],
    };
    for extra in [None, Some(1.5)] {
        check!(
            argument_types(&y32, &k, &big, &v, arr, rows.clone(), &series, extra),
            10,
            1.5,
            generated
        );
    }
}

// ---------------------------------------------------------------------------------
// deterministic values

/// `deterministic!` values read in loops and reductions, one reading another, one
/// inside a carried loop, one of data only.
#[model]
fn deterministic_reads(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", Gamma::new(2.0, 2.0));
    let t = deterministic!("t", mu * 2.0 + s);
    let u = deterministic!("u", t * s - mu);
    let c = deterministic!("c", T::from(y[0] * 2.0));
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += u * y[i] + deterministic!("v[{i}]", t * y[i]).powi(2) * 0.1;
    }
    let mut carried = t;
    for i in 0..y.len() {
        let w = deterministic!("w[{i}]", carried * 0.5 + u * y[i]);
        carried = w.tanh() + c;
        sample!("y[{i}]", Normal::new(carried, s), obs = y[i]);
    }
    factor!("acc", -0.01 * acc * acc - 0.1 * u * u);
}

#[test]
fn deterministic_values_read_in_loops_and_reductions() {
    let y = data(6, 21);
    check!(deterministic_reads(&y), 10, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// operators

/// `+=` of a parameter on a data `mut` variable, `-x.powi(2)`, `1.0 / x`, `x / y / z`,
/// a long expression, `powi(-3)`, `pow` with a parameter exponent, `recip` chains,
/// unary minus everywhere.
#[model]
fn operators(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", LogNormal::new(0.0, 0.3));
    let c = sample!("c", Gamma::new(4.0, 2.0));
    let mut k = T::from(0.5);
    k += a;
    k *= 2.0;
    let mut total = T::from(0.0);
    for i in 0..y.len() {
        total += y[i] * c;
    }
    let q = -a.powi(2) + 1.0 / b - a / b / c + (-a) * (-b) - -c;
    let long = a * b + b * c - c * a + a / (1.0 + b) - b / (1.0 + c) + c * c * 0.1
        - a * a * a * 0.01
        + (a + b + c) * (a - b - c) * 0.1
        - (a * 2.0 - 3.0 * b + c / 4.0) / (c + 1.0)
        + b.powi(-3) * 0.01
        + (b * c).sqrt() * a
        - (a * b * c).tanh()
        + c.pow(b) * 0.1
        + (b + 0.5).powf(1.5) * 0.01
        - b.recip().recip() * 0.2
        + ((a - 0.1) * (b + 0.2) * (c - 0.3) * (a + 0.4)) * 0.01;
    for i in 0..y.len() {
        factor!(
            "f[{i}]",
            -0.01 * (q * y[i] + long * 0.1 - k * k + total * 0.01)
        );
    }
    factor!("g", -0.5 * (k - 1.0).powi(2) + c.powi(-3).ln_1p());
}

#[test]
fn operators_and_precedence() {
    let y = data(4, 22);
    check!(operators(&y), 20, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// nested sums and carried loops inside loops

/// A double sum into an accumulator declared outside both loops, and a loop carrying a
/// value inside a loop that carries none, with a site in each.
#[model]
fn nested_sums(x: &[f64], y: &[f64], d: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let rho = sample!("rho", Uniform::new(-1.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        for j in 0..d {
            acc += x[i * d + j] * beta[j];
            acc -= (x[i * d + j] - mu).powi(2) * 0.1;
        }
    }
    for g in 0..2 {
        let mut level = mu * (g as f64);
        for t in 0..y.len() {
            level = rho * level + y[t] * beta[g];
            sample!("y[{g},{t}]", Normal::new(level, 1.0), obs = y[t]);
        }
        factor!("l[{g}]", -0.1 * level * level);
    }
    factor!("acc", -0.5 * acc * acc);
}

#[test]
fn double_sums_and_carried_loops_inside_loops() {
    let (n, d) = (5, 3);
    let (x, y) = (data(n * d, 32), data(n, 33));
    check!(nested_sums(&x, &y, d), 10, 1.5, generated);
}

/// `Normal::each` observations of a subslice and of a computed vector; a data
/// observation that is NaN or infinite (every point rejected, as on the tape).
#[model]
fn each_obs_spellings(y: &[f64], bad: f64) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let a = sample!("a", Normal::new(0.0, 1.0).iid(y.len() - 1));
    sample!(
        "tail",
        Normal::each(params(a).shift(mu), scalar(1.0)),
        obs = &y[1..]
    );
    sample!(
        "twice",
        Normal::each(scalar(mu), scalar(2.0)),
        obs = y.iter().map(|v| v * 2.0).collect::<Vec<f64>>()
    );
    sample!("bad", Normal::new(mu, 1.0), obs = bad);
}

/// The same with the subslice only.
#[model]
fn each_obs_subslice(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let a = sample!("a", Normal::new(0.0, 1.0).iid(y.len() - 1));
    sample!(
        "tail",
        Normal::each(params(a).shift(mu), scalar(1.0)),
        obs = &y[1..]
    );
}

#[test]
fn each_observations_of_subslices_and_computed_vectors() {
    let y = data(4, 34);
    // a computed observation (a closure, `collect`) is read for its length and once
    // per element by the rewritten loop, and could differ each time (an iterator, a
    // `Cell`): the generated code leaves such a site, here the model, to the tape
    check!(each_obs_spellings(&y, 0.5), 10, 1.5, fallback);
    check!(each_obs_subslice(&y), 10, 1.5, generated);
    for bad in [f64::NAN, f64::INFINITY] {
        let model = each_obs_spellings(&y, bad).with_engine(Engine::Codegen);
        let tape = each_obs_spellings(&y, bad).with_engine(Engine::Reverse);
        assert_eq!(sweep(&model, &tape, 3, 1.5), 6);
    }
}

// ---------------------------------------------------------------------------------
// failures this round found, fixed

/// `if let` over data, with a site inside and with a data assignment.
#[model]
fn if_let_data(y: &[f64], extra: Option<f64>) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut shift = 0.0;
    if let Some(v) = extra.as_ref() {
        shift = *v;
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu + shift, 1.0), obs = y[i]);
    }
    if let Some(v) = extra.as_ref() {
        sample!("extra", Normal::new(mu, 2.0), obs = *v);
    }
}

/// `return` inside data `let`s.
#[model]
fn let_else_return(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
    let Some(&last) = y.last() else {
        return;
    };
    sample!("last", Normal::new(mu, 2.0), obs = last);
}

/// Data moved after a sum read it: by a loop, as a site's observation, by a `let`.
#[model]
fn consumed_after_sum(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let z = y.iter().map(|v| v * 2.0).collect::<Vec<f64>>();
    let mut acc = 0.0 * mu;
    for i in 0..z.len() {
        acc += (z[i] - mu).powi(2);
    }
    let mut total = 0.0;
    for v in z {
        total += v;
    }
    factor!("acc", -0.5 * acc + 0.01 * total);
}

#[model]
fn observed_after_sum(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let z = y.iter().map(|v| v * 2.0).collect::<Vec<f64>>();
    let n = z.len();
    let mut acc = 0.0 * mu;
    for i in 0..n {
        acc += z[i] * mu;
    }
    sample!("z", Normal::new(0.5, 1.0).iid(n), obs = z);
    factor!("acc", -0.5 * acc * acc);
}

#[model]
fn row_moved_after_sum(x: &[f64], y: &[f64], d: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for r in 0..y.len() {
        let row = x[r * d..(r + 1) * d].to_vec();
        let mut eta = mu;
        for j in 0..d {
            eta += row[j] * mu * 0.1;
        }
        sample!("y[{r}]", Normal::new(eta, 1.0), obs = y[r]);
        let owned = row;
        sample!("o[{r}]", Normal::new(mu, 1.0), obs = owned[0]);
    }
}

/// `deterministic!` as an observation, in a data assignment and in a loop's range.
#[model]
fn deterministic_in_data_code(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut shift = 0.5;
    shift += deterministic!("d", 2.0 * y[0]);
    for i in 0..deterministic!("n", y.len() as f64) as usize {
        sample!("y[{i}]", Normal::new(mu + shift, 1.0), obs = y[i]);
    }
    sample!(
        "dd",
        Normal::new(mu, 2.0),
        obs = deterministic!("o", 2.0 * y[0])
    );
}

/// A sum over a range of `char`s.
#[model]
fn char_ranges(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * mu;
    for c in 'a'..'e' {
        acc += mu * ((c as u32 - 96) as f64);
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
    factor!("acc", 0.1 * acc);
}

fn total_of(v: Vec<f64>) -> f64 {
    v.iter().sum()
}

/// Transformed data moved inside a site's arguments (it stays in the body).
#[model]
fn hoisted_moved_in_site(y: &[f64]) {
    let z: Vec<f64> = y.iter().map(|v| v * 2.0).collect();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..z.len() {
        sample!("z[{i}]", Normal::new(mu, 1.0), obs = z[i]);
    }
    factor!("t", mu * total_of(z) * 0.1);
}

#[test]
fn bodies_that_failed_to_compile_run_and_match() {
    let y = [0.5, -1.0, 2.0];
    check!(if_let_data(&y, Some(0.4)), 5, 1.5, fallback);
    check!(if_let_data(&y, None), 5, 1.5, fallback);
    check!(let_else_return(&y), 5, 1.5, fallback);
    check!(let_else_return(&[]), 5, 1.5, fallback);
    check!(consumed_after_sum(&y), 5, 1.5, generated);
    check!(observed_after_sum(&y), 5, 1.5, generated);
    let x = data(6, 3);
    check!(row_moved_after_sum(&x, &y, 2), 5, 1.5, generated);
    check!(deterministic_in_data_code(&y), 5, 1.5, generated);
    check!(char_ranges(&y), 5, 1.5, generated);
    check!(hoisted_moved_in_site(&y), 5, 1.5, generated);
}

struct Holder {
    sd: std::cell::Cell<f64>,
}

/// Data changed on a condition over a parameter through a field, an element, a
/// closure.
#[model]
fn field_cell_scale(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let holder = Holder {
        sd: std::cell::Cell::new(1.0),
    };
    if mu > 0.0 {
        holder.sd.set(2.0);
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, holder.sd.get()), obs = y[i]);
    }
}

#[model]
fn array_cell_scale(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sds = [std::cell::Cell::new(1.0)];
    if mu > 0.0 {
        sds[0].set(2.0);
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sds[0].get()), obs = y[i]);
    }
}

#[model]
fn closure_count(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut count = 0u64;
    let mut bump = || count += 3;
    if mu > 0.0 {
        bump();
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
    sample!("k", Poisson::new(2.0), obs = count);
}

/// A sum's terms read a `Cell` set after the sum.
#[model]
fn cell_after_sum(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let w = std::cell::Cell::new(1.0);
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (y[i] - mu).powi(2) * w.get();
    }
    w.set(3.0);
    factor!("acc", -0.5 * acc + 0.0 * w.get());
}

#[test]
fn data_changed_through_cells_fields_and_closures() {
    let y = [0.5, -1.0, 2.0];
    for first in [0.5, -0.5] {
        let (model, tape) = (
            field_cell_scale(&y),
            field_cell_scale(&y).with_engine(Engine::Reverse),
        );
        for mu in [first, -first] {
            agrees_at(&model, &tape, &[mu], true);
        }
        let (model, tape) = (
            array_cell_scale(&y),
            array_cell_scale(&y).with_engine(Engine::Reverse),
        );
        for mu in [first, -first] {
            agrees_at(&model, &tape, &[mu], true);
        }
        let (model, tape) = (
            closure_count(&y),
            closure_count(&y).with_engine(Engine::Reverse),
        );
        for mu in [first, -first] {
            agrees_at(&model, &tape, &[mu], true);
        }
    }
    sweep(
        &cell_after_sum(&y),
        &cell_after_sum(&y).with_engine(Engine::Reverse),
        5,
        1.5,
    );
}

/// `continue` and `break` inside data `let`s of loops.
#[model]
fn continue_in_let(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        let m = mu * 2.0 + y[i];
        sample!("y[{i}]", Normal::new(m, 1.0), obs = y[i]);
        let w = if y[i] < 0.0 { continue } else { y[i] };
        factor!("w[{i}]", -0.1 * m * m * w);
    }
}

#[model]
fn let_else_continue(y: &[f64], opt: &[Option<f64>]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        let m = mu * 2.0 + y[i];
        sample!("y[{i}]", Normal::new(m, 1.0), obs = y[i]);
        let Some(w) = opt[i] else { continue };
        factor!("w[{i}]", -0.1 * m * m * w);
    }
}

#[model]
fn break_in_carried(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let rho = sample!("rho", Uniform::new(-1.0, 1.0));
    let mut state = mu;
    for t in 0..y.len() {
        state = rho * state + y[t];
        let w = match y[t] {
            v if v > 1.0 => break,
            v => v,
        };
        factor!("w[{t}]", -0.5 * (state - w).powi(2));
    }
    factor!("s", -0.5 * state * state);
}

/// A carried loop over an iterator whose length bound is `usize::MAX`.
#[model]
fn huge_bound(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut level = mu;
    for i in (0..usize::MAX).take_while(|&i| i < y.len()) {
        level = level * 0.5 + y[i] * mu;
    }
    factor!("level", -0.5 * level * level);
}

#[test]
fn jumps_in_data_code_and_huge_length_bounds() {
    let y = [0.5, -1.0, 0.3, 1.2, -0.2, 0.8];
    check!(continue_in_let(&y), 5, 1.5, fallback);
    let opt = [Some(1.0), None, Some(0.5), None, Some(2.0), Some(0.1)];
    check!(let_else_continue(&y, &opt), 5, 1.5, fallback);
    check!(break_in_carried(&y), 5, 1.5, fallback);
    check!(huge_bound(&y), 5, 1.5, generated);
}

/// `if let` over data that only changes data: the generated code runs it as written.
#[model]
fn if_let_shift(y: &[f64], extra: Option<f64>) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut shift = 0.0;
    if let Some(v) = extra.as_ref() {
        shift = *v;
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu + shift, 1.0), obs = y[i]);
    }
}

#[test]
fn a_data_if_let_runs_in_generated_code() {
    let y = [0.5, -1.0, 2.0];
    check!(if_let_shift(&y, Some(0.4)), 5, 1.5, generated);
    check!(if_let_shift(&y, None), 5, 1.5, generated);
}
