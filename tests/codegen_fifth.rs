//! Fifth round of adversarial coverage of the gradient code `#[model]` generates,
//! against the reverse tape (the oracle), in areas the first four rounds
//! (`tests/codegen.rs`, `tests/codegen_coverage.rs`, `tests/codegen_edges.rs`,
//! `tests/codegen_hostile.rs`, `tests/codegen_fourth.rs`) do not reach: data read
//! only through `v.len()` by a sum's terms (or a linear predictor's offset) and then
//! changed, shadowed or moved after the sum; `Normal::each` over bound vector
//! expressions whose scalars are `Cell`s changed between the binding and the site, and
//! over a user binding named like the rewrite's own index, observing successive
//! chunks of an iterator; data-only and written-out sites whose observations and scales
//! come from iterators (side effects); data changed in an `if` condition that
//! short-circuits on a parameter and inside a site's argument under a branch on a
//! parameter; transformed data after a statement that changes its input and a factored
//! matrix argument shadowed by transformed data after its site; written-out Student-t
//! observations far in the tails and Poisson observations of large counts and of rates
//! that underflow; `Glm::normal|bernoulli_logit|poisson_log` sites at the SIMD chunk
//! edges of their rows (`D` = 1, 15, 16, 17, 33 and 1 to 17 rows), with a constrained or
//! hierarchical `β`, with `α` and `σ` computed by top-level `let`s or `deterministic!`,
//! inside loops (immediate and carried) and branches on parameters, with observations
//! out of the support, non-finite design matrices and `D = 0`, and against the same
//! model written out as loops; linear-predictor (dot) terms of every length from 0 to
//! 40 with offsets on both sides, negated, written `acc = acc + …` and `acc = … + acc`,
//! beside terms that read the same vector, over transformed data, over an array
//! argument and over ranges whose data bounds are empty or reversed; Gaussians over
//! matrices computed as transformed data; chains of transformed data that shadow an
//! argument or are not finite; loops that carry several values, with a nested carried
//! loop and rejections inside them; `u32`, `i64`, `i16` and `u16` ranges in sums;
//! latent vectors whose distributions read another latent vector's elements; latent
//! sites of the constrained families in a loop, swept far out; a `Glm` over a `β` with a
//! Gaussian prior over a factored matrix; Poisson observations whose rate overflows.
//! Each model matches the tape to 1e-12 relative (log-density and gradient, with and
//! without the Jacobian). The round found 16 defects (wrong values and gradients, a
//! panic, compile errors on valid bodies), all fixed; the bodies that did not compile
//! are at the end. Models whose data may change as the generated code reads it
//! (`Cell`s, iterators) are checked to leave the sites concerned to the tape.

#![allow(
    clippy::needless_range_loop,
    clippy::too_many_arguments,
    unused_variables
)]

mod common;
#[macro_use]
#[path = "common/against_tape.rs"]
mod against_tape;
#[path = "../examples/posteriordb/json.rs"]
mod json;

use against_tape::*;
use tilde::Engine;
use tilde::glm::Glm;
use tilde::prelude::*;
use tilde::vector::{self, params, scalar};

/// Seeded data in `[-1.5, 1.5]`.
fn seeded(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed + 9000)
}

/// `a` and `b` equal to `tol` relative (for models that add in another order).
fn near(a: f64, b: f64, tol: f64) -> bool {
    if !(a.is_finite() && b.is_finite()) {
        return a == b;
    }
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------------
// data read through `.len()` by a sum's terms

/// A sum whose terms read `w.len()`; `w` grows after the sum.
#[model]
fn length_then_push(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut w = vec![1.0; 3];
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (y[i] - mu).powi(2) * (w.len() as f64);
    }
    w.push(2.0);
    factor!("acc", -0.5 * acc + 0.0 * w[0]);
}

/// A sum whose terms read `w.len()`; a later `let` shadows `w`.
#[model]
fn length_then_shadow(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let w = vec![1.0; 3];
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (y[i] - mu).powi(2) * (w.len() as f64);
    }
    let w = vec![0.5; 7];
    factor!("acc", -0.5 * acc + 0.0 * w[0]);
}

/// A sum whose terms read the length of an argument that a later `let` shadows.
#[model]
fn argument_length_then_shadow(y: &[f64], z: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (y[i] - mu).powi(2) / (z.len() as f64);
    }
    let z = &z[1..];
    factor!("acc", -0.5 * acc + 0.0 * z[0]);
}

/// A linear predictor whose data offset is `w.len()`; a later `let` shadows `w`.
#[model]
fn offset_length_then_shadow(x: &[f64], d: usize) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let w = vec![0.0; 1];
    let mut eta = 0.0 * beta[0];
    for j in 0..d {
        eta += x[w.len() + j] * beta[j];
    }
    let w = vec![0.0; 2];
    factor!("eta", -0.5 * eta * eta + 0.0 * w[0]);
}

/// A sum whose vector index reads `w.len()`; `w` is cleared after the sum.
#[model]
fn index_length_then_clear(y: &[f64]) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(3));
    let mut w = vec![0.0; 3];
    let mut acc = 0.0 * beta[0];
    for i in 0..y.len() {
        acc += beta[i % w.len()] * y[i];
    }
    w.clear();
    factor!("acc", -0.5 * acc * acc + 0.0 * (w.len() as f64));
}

#[test]
fn a_length_in_an_index_then_cleared() {
    let y = seeded(5, 25);
    check!(index_length_then_clear(&y), 5, 1.5, generated);
}

/// The same sums with nothing changed after them (the control).
#[model]
fn length_unchanged(y: &[f64], x: &[f64], d: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let w = vec![1.0; 3];
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (y[i] - mu).powi(2) * (w.len() as f64);
    }
    let mut eta = 0.0 * beta[0];
    for j in 0..d {
        eta += x[w.len() + j] * beta[j];
    }
    factor!("acc", -0.5 * acc - 0.5 * eta * eta);
}

#[test]
fn sums_reading_lengths_of_unchanged_data() {
    let (y, x) = (seeded(6, 1), seeded(10, 2));
    check!(length_unchanged(&y, &x, 5), 10, 1.5, generated);
}

#[test]
fn a_length_read_by_a_sum_then_pushed() {
    let y = seeded(6, 3);
    check!(length_then_push(&y), 10, 1.5, generated);
}

#[test]
fn a_length_read_by_a_sum_then_shadowed() {
    let y = seeded(6, 4);
    check!(length_then_shadow(&y), 10, 1.5, generated);
}

#[test]
fn an_argument_length_read_by_a_sum_then_shadowed() {
    let (y, z) = (seeded(6, 5), seeded(4, 6));
    check!(argument_length_then_shadow(&y, &z), 10, 1.5, generated);
}

#[test]
fn a_length_offset_of_a_linear_predictor_then_shadowed() {
    let x = seeded(12, 7);
    check!(offset_length_then_shadow(&x, 6), 10, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// `Normal::each` over bound vector expressions

fn set_to_two(c: &std::cell::Cell<f64>) {
    c.set(2.0);
}

/// A bound location reading a body `Cell` that a function changes before the site.
#[model]
fn each_over_lent_cell(y: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    let shift = std::cell::Cell::new(0.5);
    let loc = params(z).shift(shift.get());
    set_to_two(&shift);
    sample!("y", Normal::each(loc, scalar(1.0)), obs = y);
}

/// A bound location reading a `Cell` argument set again before the site.
#[model]
fn each_over_cell_argument(y: &[f64], w: &std::cell::Cell<f64>) {
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    w.set(0.5);
    let loc = params(z).shift(w.get());
    w.set(2.0);
    sample!("y", Normal::each(loc, scalar(1.0)), obs = y);
}

/// A user binding named like the rewrite's index, read by a bound expression.
#[model]
fn each_index_named_by_user(y: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    let __each_i: usize = 3;
    sample!(
        "y",
        Normal::each(params(z).shift(__each_i as f64), scalar(1.0)),
        obs = y
    );
}

/// `Normal::each` over a constrained vector and an observation written as an array,
/// beside a factored Gaussian read through `params`.
#[model]
fn each_shapes(y: &[f64], cov: &[f64]) {
    let sd = sample!("sd", HalfNormal::new(1.0).iid(3));
    let x = sample!(
        "x",
        MultivariateNormal::covariance(scalar(0.0), vector::data(cov))
    );
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!(
        "a",
        Normal::each(params(x).shift(mu), params(sd)),
        obs = [y[0], y[1], y[2]]
    );
    let loc = params(x).scale(0.5);
    sample!(
        "b",
        Normal::each(loc, params(sd).shift(0.1)),
        obs = &y[1..4]
    );
}

/// `Normal::each` sites observing successive chunks of the data.
#[model]
fn each_over_chunks(y: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0).iid(3));
    let mut parts = y.chunks(3);
    sample!(
        "a",
        Normal::each(params(z), scalar(1.0)),
        obs = parts.next().unwrap()
    );
    sample!(
        "b",
        Normal::each(params(z).shift(1.0), scalar(1.0)),
        obs = parts.next().unwrap()
    );
}

#[test]
fn each_observing_successive_chunks() {
    // the observation is read once per evaluation: the site is not rewritten
    let y = seeded(6, 29);
    check!(each_over_chunks(&y), 5, 1.5, fallback);
}

#[test]
fn each_over_a_cell_lent_before_the_site() {
    // `Cell::get` in a vector expression: not moved to the site
    let y = seeded(4, 8);
    check!(each_over_lent_cell(&y), 5, 1.5, fallback);
}

#[test]
fn each_over_a_cell_argument_set_before_the_site() {
    let y = seeded(4, 9);
    let cell = std::cell::Cell::new(0.0);
    let (m, t) = (
        each_over_cell_argument(&y, &cell).with_engine(Engine::Codegen),
        each_over_cell_argument(&y, &cell).with_engine(Engine::Reverse),
    );
    assert_falls_back(&m.gradient_engine());
    matches_tape(&m, &t, 5, 1.5);
}

#[test]
fn a_user_binding_named_like_the_each_index() {
    let y = seeded(5, 10);
    let (m, t) = (
        each_index_named_by_user(&y).with_engine(Engine::Codegen),
        each_index_named_by_user(&y).with_engine(Engine::Reverse),
    );
    // a `__` name must send the body to the tape, or be left alone
    matches_tape(&m, &t, 5, 1.5);
}

#[test]
fn each_over_constrained_and_factored_vectors() {
    let y = seeded(5, 11);
    let cov = [1.0, 0.3, 0.0, 0.3, 1.0, 0.3, 0.0, 0.3, 1.0];
    check!(each_shapes(&y, &cov), 10, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// written-out observations at the edges of their arithmetic

/// Student-t observations with a tiny data scale: `((y - μ)/σ)²` overflows.
#[model]
fn student_t_tiny_scale(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", StudentT::new(3.0, mu, 1e-160), obs = y[i]);
    }
}

/// A Student-t observation far in the tail (an outlier) with a parameter scale.
#[model]
fn student_t_outlier(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", StudentT::new(4.0, mu, s), obs = y[i]);
    }
}

#[test]
fn student_t_observations_far_in_the_tail() {
    let y = [1.0, -0.5];
    let (m, t) = (
        student_t_tiny_scale(&y).with_engine(Engine::Codegen),
        student_t_tiny_scale(&y).with_engine(Engine::Reverse),
    );
    assert_generated(&m.gradient_engine());
    for jacobian in [true, false] {
        assert!(agrees_at(&m, &t, &[0.3], jacobian));
    }
    let y = [0.5, 1e155];
    let (m, t) = (
        student_t_outlier(&y).with_engine(Engine::Codegen),
        student_t_outlier(&y).with_engine(Engine::Reverse),
    );
    for jacobian in [true, false] {
        assert!(agrees_at(&m, &t, &[0.2, 0.1], jacobian));
    }
}

/// Poisson observations of large counts at rates near them.
#[model]
fn poisson_large_counts(k: &[u64], c: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..k.len() {
        sample!("k[{i}]", Poisson::log_rate(c[i] + 1e-7 * mu), obs = k[i]);
    }
}

#[test]
fn poisson_observations_of_large_counts() {
    let k = [1_000_000u64, 3_000_000_000, 1_000_000_000_000];
    let c: Vec<f64> = k.iter().map(|&v| (v as f64).ln()).collect();
    check!(poisson_large_counts(&k, &c), 5, 1.5, generated);
}

/// Poisson observations at a log-rate whose rate underflows to 0.
#[model]
fn poisson_underflowing_rate(k: &[u64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..k.len() {
        sample!("k[{i}]", Poisson::log_rate(mu - 750.0), obs = k[i]);
    }
}

#[test]
fn poisson_observations_at_an_underflowing_rate() {
    let k = [0u64, 2];
    let (m, t) = (
        poisson_underflowing_rate(&k).with_engine(Engine::Codegen),
        poisson_underflowing_rate(&k).with_engine(Engine::Reverse),
    );
    for jacobian in [true, false] {
        agrees_at(&m, &t, &[1.0], jacobian);
    }
}

/// Observations drawn from an iterator, one site over data only (its density kept
/// after the first evaluation) before one over a parameter.
#[model]
fn observations_from_iterator(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut it = y.iter();
    sample!("a", Normal::new(0.0, 1.0), obs = *it.next().unwrap());
    sample!("b", Normal::new(mu, 1.0), obs = *it.next().unwrap());
    sample!("c", Normal::new(mu, 2.0), obs = *it.next().unwrap());
}

/// Data scales drawn from an iterator, one per written-out observation.
#[model]
fn scales_from_iterator(y: &[f64], sds: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut sd = sds.iter();
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, *sd.next().unwrap()), obs = y[i]);
    }
}

#[test]
fn observations_drawn_from_an_iterator() {
    let y = [0.5, -1.0, 2.0];
    check!(observations_from_iterator(&y), 5, 1.5, generated);
}

#[test]
fn data_scales_drawn_from_an_iterator() {
    let y = [0.5, -1.0, 2.0];
    let sds = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    check!(scales_from_iterator(&y, &sds), 5, 1.5, generated);
}

/// Poisson observations at a log-rate whose rate overflows.
#[model]
fn poisson_overflowing_rate(k: &[u64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..k.len() {
        sample!("k[{i}]", Poisson::log_rate(mu + 709.0), obs = k[i]);
    }
}

#[test]
fn poisson_observations_at_an_overflowing_rate() {
    let k = [0u64, 2];
    let (m, t) = (
        poisson_overflowing_rate(&k).with_engine(Engine::Codegen),
        poisson_overflowing_rate(&k).with_engine(Engine::Reverse),
    );
    for mu in [-0.5, 0.5, 1.0, 3.0] {
        for jacobian in [true, false] {
            agrees_at(&m, &t, &[mu], jacobian);
        }
    }
}

fn widen_if(c: &std::cell::Cell<f64>) -> bool {
    c.set(2.0);
    true
}

/// A data scale changed by a call that runs only when a condition on a parameter holds
/// (the right operand of `&&` in an `if` condition).
#[model]
fn short_circuit_change(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sd = std::cell::Cell::new(1.0);
    if mu > 0.0 && widen_if(&sd) {
        factor!("f", -0.1 * mu);
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sd.get()), obs = y[i]);
    }
}

/// The same change made inside a `factor!`'s argument in a branch on a parameter.
#[model]
fn change_in_site_argument(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sd = std::cell::Cell::new(1.0);
    if mu > 0.0 {
        factor!("f", -0.1 * mu + f64::from(u8::from(widen_if(&sd))) * 0.0);
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sd.get()), obs = y[i]);
    }
}

#[test]
fn a_change_in_a_site_argument_under_a_parameter_branch() {
    let y = [0.5, -1.0, 2.0];
    for first in [0.5, -0.5] {
        let (m, t) = (
            change_in_site_argument(&y).with_engine(Engine::Codegen),
            change_in_site_argument(&y).with_engine(Engine::Reverse),
        );
        for mu in [first, -first] {
            for jacobian in [true, false] {
                assert!(agrees_at(&m, &t, &[mu], jacobian));
            }
        }
    }
}

#[test]
fn a_change_in_a_short_circuit_condition_on_a_parameter() {
    let y = [0.5, -1.0, 2.0];
    for first in [0.5, -0.5] {
        let (m, t) = (
            short_circuit_change(&y).with_engine(Engine::Codegen),
            short_circuit_change(&y).with_engine(Engine::Reverse),
        );
        for mu in [first, -first] {
            for jacobian in [true, false] {
                assert!(agrees_at(&m, &t, &[mu], jacobian));
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// `Glm` sites

/// The three families over one design matrix.
#[model]
fn glm_families(x: &[f64], yn: &[f64], yb: &[bool], yc: &[u64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    sample!("yn", Glm::normal(x, beta, alpha, sigma), obs = yn);
    sample!("yb", Glm::bernoulli_logit(x, beta, alpha), obs = yb);
    sample!("yc", Glm::poisson_log(x, beta, alpha), obs = yc);
}

/// The same model written out as loops (run on the tape as a second oracle).
#[model]
fn glm_written_out(x: &[f64], yn: &[f64], yb: &[bool], yc: &[u64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..yn.len() {
        let mut eta = alpha + 0.0;
        for j in 0..d {
            eta += x[i * d + j] * beta[j];
        }
        sample!("yn[{i}]", Normal::new(eta, sigma), obs = yn[i]);
        sample!("yb[{i}]", Bernoulli::logit(eta), obs = yb[i]);
        sample!("yc[{i}]", Poisson::log_rate(eta), obs = yc[i]);
    }
}

fn glm_data(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<bool>, Vec<u64>) {
    let x: Vec<f64> = seeded(n * d, seed)
        .iter()
        .map(|v| v / (d as f64).sqrt())
        .collect();
    let yn = seeded(n, seed + 1);
    let yb = seeded(n, seed + 2).iter().map(|v| *v > 0.0).collect();
    let yc = seeded(n, seed + 3)
        .iter()
        .map(|v| (v.abs() * 2.0) as u64)
        .collect();
    (x, yn, yb, yc)
}

#[test]
fn glm_sites_at_the_chunk_edges_of_their_rows() {
    for d in [1usize, 15, 16, 17, 33] {
        for n in [1usize, 7, 8, 9, 17] {
            let (x, yn, yb, yc) = glm_data(n, d, (d * 100 + n) as u64);
            check!(glm_families(&x, &yn, &yb, &yc, d), 3, 1.5, generated);
        }
    }
}

#[test]
fn glm_sites_against_the_written_out_model() {
    for d in [1usize, 15, 16, 17, 33] {
        for n in [1usize, 8, 9, 17] {
            let (x, yn, yb, yc) = glm_data(n, d, (d * 37 + n) as u64);
            let m = glm_families(&x, &yn, &yb, &yc, d).with_engine(Engine::Codegen);
            let t = glm_written_out(&x, &yn, &yb, &yc, d).with_engine(Engine::Reverse);
            assert_eq!(m.dim(), t.dim());
            for seed in 0..3 {
                let p: Vec<f64> = common::point(m.dim(), seed + 77);
                let (mut g1, mut g2) = (vec![0.0; p.len()], vec![0.0; p.len()]);
                let (a, b) = (m.logp_and_grad(&p, &mut g1), t.logp_and_grad(&p, &mut g2));
                assert!(near(a, b, 1e-9), "d {d} n {n}: logp {a} vs {b}");
                for i in 0..p.len() {
                    assert!(
                        near(g1[i], g2[i], 1e-9),
                        "d {d} n {n}: grad[{i}] {} vs {}",
                        g1[i],
                        g2[i]
                    );
                }
            }
        }
    }
}

/// A constrained `β` and a hierarchical one (the general latent-vector path).
#[model]
fn glm_constrained_beta(x: &[f64], yn: &[f64], yb: &[bool], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let pos = sample!("pos", HalfNormal::new(1.0).iid(d));
    let beta = sample!("beta", Normal::new(0.0, tau).iid(d));
    sample!("yn", Glm::normal(x, pos, alpha, tau), obs = yn);
    sample!("yb", Glm::bernoulli_logit(x, beta, alpha), obs = yb);
    for j in 0..d {
        factor!("f[{j}]", -0.1 * pos[j] * beta[j]);
    }
}

/// `α` and `σ` computed by top-level `let`s and `deterministic!`, one scalar as both.
#[model]
fn glm_derived_scalars(x: &[f64], yn: &[f64], yc: &[u64], d: usize) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let alpha = deterministic!("alpha", 2.0 * a - 0.5);
    let sigma = tau * tau + 0.1;
    sample!("yn", Glm::normal(x, beta, alpha, sigma), obs = yn);
    sample!("yn2", Glm::normal(x, beta, sigma, sigma), obs = yn);
    sample!("yc", Glm::poisson_log(x, beta, 0.25), obs = yc);
    let mut acc = 0.0 * a;
    for j in 0..d {
        acc += beta[j] * sigma;
    }
    factor!("acc", -0.5 * acc * acc);
}

#[test]
fn glm_sites_with_constrained_beta_and_derived_scalars() {
    for d in [1usize, 16, 17] {
        let n = 9;
        let (x, yn, yb, yc) = glm_data(n, d, 500 + d as u64);
        check!(glm_constrained_beta(&x, &yn, &yb, d), 5, 1.5, generated);
        check!(glm_derived_scalars(&x, &yn, &yc, d), 5, 1.5, generated);
    }
}

/// `Glm` sites over groups of rows in an immediate loop, in a loop that carries a
/// value, and in both arms of a branch on a parameter.
#[model]
fn glm_in_loops(x: &[f64], yb: &[bool], yc: &[u64], d: usize, groups: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let n = yb.len() / groups;
    for g in 0..groups {
        sample!(
            "yb[{g}]",
            Glm::bernoulli_logit(&x[g * n * d..(g + 1) * n * d], beta, alpha),
            obs = &yb[g * n..(g + 1) * n]
        );
    }
    let mut h = 0.0 * alpha;
    for g in 0..groups {
        h = 0.5 * h + beta[g % d];
        sample!(
            "yc[{g}]",
            Glm::poisson_log(&x[g * n * d..(g + 1) * n * d], beta, alpha),
            obs = &yc[g * n..(g + 1) * n]
        );
        factor!("h[{g}]", -0.1 * h * h);
    }
    if alpha > 0.0 {
        sample!("yb_pos", Glm::bernoulli_logit(x, beta, alpha), obs = yb);
    } else {
        sample!("yc_neg", Glm::poisson_log(x, beta, 0.5), obs = yc);
    }
}

#[test]
fn glm_sites_in_loops_and_branches() {
    for d in [2usize, 16] {
        let (groups, n) = (3, 5);
        let (x, _, yb, yc) = glm_data(groups * n, d, 600 + d as u64);
        check!(glm_in_loops(&x, &yb, &yc, d, groups), 10, 1.5, generated);
    }
}

/// Latent vectors whose distributions read elements of another latent vector, of
/// length 0, 1 and 5.
#[model]
fn vectors_of_vectors(y: &[f64], n: usize) {
    let tau = sample!("tau", HalfNormal::new(1.0).iid(2));
    let z = sample!("z", Normal::new(tau[0], tau[1]).iid(n));
    let w = sample!("w", Gamma::new(2.0, tau[1] + 1.0).iid(n));
    for i in 0..n {
        sample!("y[{i}]", Normal::new(z[i] * w[i], 1.0), obs = y[i]);
    }
}

#[test]
fn latent_vectors_over_elements_of_another() {
    let y = seeded(5, 26);
    for n in [0usize, 1, 5] {
        check!(vectors_of_vectors(&y, n), 5, 1.5, generated);
    }
}

/// A `Glm` whose `β` is a Gaussian over a factored precision matrix.
#[model]
fn glm_gaussian_beta(x: &[f64], yb: &[bool], prec: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!(
        "beta",
        MultivariateNormal::precision(scalar(0.0), vector::data(prec))
    );
    sample!("yb", Glm::bernoulli_logit(x, beta, alpha), obs = yb);
    let mut acc = 0.0 * alpha;
    for j in 0..3 {
        acc += beta[j] * x[j];
    }
    factor!("acc", -0.5 * acc * acc);
}

#[test]
fn glm_site_over_a_factored_gaussian_beta() {
    let (x, _, yb, _) = glm_data(7, 3, 900);
    let prec = [2.0, -0.5, 0.0, -0.5, 2.0, -0.5, 0.0, -0.5, 2.0];
    check!(glm_gaussian_beta(&x, &yb, &prec), 10, 1.5, generated);
}

/// Observations out of the support, NaN, and non-finite design matrices.
#[model]
fn glm_support(x: &[f64], yb: &[f64], yc: &[f64], yn: &[f64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    sample!("yb", Glm::bernoulli_logit(x, beta, alpha), obs = yb);
    sample!("yc", Glm::poisson_log(x, beta, alpha), obs = yc);
    sample!("yn", Glm::normal(x, beta, alpha, 1.5), obs = yn);
    for j in 0..d {
        factor!("b[{j}]", -0.5 * beta[j] * beta[j]);
    }
}

#[test]
fn glm_sites_out_of_support_and_non_finite() {
    let d = 3;
    let (x, yn, _, _) = glm_data(4, d, 700);
    let good_b = vec![0.0, 1.0, 1.0, 0.0];
    let good_c = vec![0.0, 3.0, 1.0, 2.0];
    let run = |x: &[f64], yb: &[f64], yc: &[f64], yn: &[f64]| {
        let m = glm_support(x, yb, yc, yn, d).with_engine(Engine::Codegen);
        assert_generated(&m.gradient_engine());
        let t = glm_support(x, yb, yc, yn, d).with_engine(Engine::Reverse);
        sweep(&m, &t, 5, 1.5)
    };
    assert_eq!(run(&x, &good_b, &good_c, &yn), 0);
    for bad in [0.5, 2.5, -1.0, f64::NAN, f64::INFINITY] {
        let mut yb = good_b.clone();
        yb[2] = bad;
        assert_eq!(run(&x, &yb, &good_c, &yn), 10, "yb {bad}");
        let mut yc = good_c.clone();
        yc[1] = bad;
        assert_eq!(run(&x, &good_b, &yc, &yn), 10, "yc {bad}");
        let mut y2 = yn.clone();
        y2[0] = bad * 1e308;
        run(&x, &good_b, &good_c, &y2);
    }
    for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e300] {
        let mut x2 = x.clone();
        x2[4] = bad;
        run(&x2, &good_b, &good_c, &yn);
    }
}

/// No columns: `β` is empty and there are no rows.
#[model]
fn glm_no_columns(x: &[f64], yn: &[f64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    sample!("yn", Glm::normal(x, beta, alpha, 1.0), obs = yn);
    for i in 0..3 {
        factor!("f[{i}]", -0.5 * alpha * alpha);
    }
}

#[test]
fn glm_site_without_columns() {
    check!(glm_no_columns(&[], &[], 0), 5, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// linear-predictor (dot) terms

/// Dot terms with offsets on both sides, negated, in the three written forms, beside
/// terms over the same vector and one into another accumulator.
#[model]
fn dot_forms(x: &[f64], y: &[f64], d: usize, off: usize) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d + 2));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut pen = 0.0 * s;
    for j in 0..d {
        pen = pen - beta[1 + j] * x[j + off];
    }
    for i in 0..y.len() {
        let mut eta = 0.0 * s;
        for j in 0..d {
            eta += x[i * d + j] * beta[j];
        }
        for j in 0..d {
            eta -= beta[j + 2] * x[off + j];
        }
        for j in 0..d {
            eta = eta + beta[j + 1] * beta[j + 1] * 0.01;
            eta = x[j] * beta[j] + eta;
        }
        for j in 1..d {
            eta = eta - (x[j - 1] * beta[j]);
        }
        sample!("y[{i}]", Normal::new(eta, s), obs = y[i]);
    }
    factor!("pen", -0.01 * pen * pen);
}

#[test]
fn dot_terms_of_every_length() {
    let y = seeded(3, 12);
    for d in 0..=40usize {
        let x = seeded(3 * d + 50, 13 + d as u64);
        check!(dot_forms(&x, &y, d, 7), 2, 1.5, generated);
    }
}

/// Dot terms over transformed data (centred at construction) and an array argument.
#[model]
fn dot_transformed(x: &[f64], y: &[f64], d: usize, w: [f64; 4]) {
    let m: f64 = x.iter().sum::<f64>() / (x.len() as f64);
    let xs: Vec<f64> = x.iter().map(|v| v - m).collect();
    let k: usize = d.min(4);
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let mut eta = 0.0 * s;
        for j in 0..d {
            eta += xs[i * d + j] * beta[j];
        }
        for j in 0..k {
            eta -= w[j] * beta[j];
        }
        sample!("y[{i}]", Normal::new(eta, s), obs = y[i]);
    }
}

#[test]
fn dot_terms_over_transformed_data_and_arrays() {
    let y = seeded(5, 14);
    for d in [1usize, 4, 16, 17] {
        let x = seeded(5 * d, 15);
        check!(
            dot_transformed(&x, &y, d, [0.5, -1.0, 0.25, 2.0]),
            5,
            1.5,
            generated
        );
    }
}

/// Sums over ranges with data bounds, some empty or reversed, half-open and closed.
#[model]
fn ragged_sums(x: &[f64], starts: &[usize], ends: &[usize], y: &[f64]) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(x.len()));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let mut eta = 0.0 * s;
        for j in starts[i]..ends[i] {
            eta += x[j] * beta[j];
        }
        for j in starts[i]..=ends[i].min(x.len() - 1) {
            eta += (beta[j] - x[j]).powi(2) * 0.1;
        }
        for j in ends[i]..starts[i] {
            eta -= beta[j] * x[j];
        }
        sample!("y[{i}]", Normal::new(eta, s), obs = y[i]);
    }
}

#[test]
fn sums_over_data_bounds_empty_and_reversed() {
    let x = seeded(20, 16);
    let y = seeded(5, 17);
    let starts = [0usize, 5, 9, 19, 3];
    let ends = [4usize, 5, 2, 20, 19];
    check!(ragged_sums(&x, &starts, &ends, &y), 10, 1.5, generated);
}

/// Sums over `u32`, `i64`, `i16` and `u16` ranges.
#[model]
fn integer_ranges(x: &[f64], d: usize) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut eta = 0.0 * mu;
    for j in 0u32..(d as u32) {
        eta += x[j as usize] * beta[j as usize];
    }
    for j in -3i64..(d as i64 - 3) {
        eta -= x[(j + 3) as usize] * beta[(j + 3) as usize] * mu;
    }
    for j in -20i16..20 {
        eta += mu * f64::from(j) * 0.01;
    }
    for j in 0u16..=(d as u16 - 1) {
        eta += (beta[usize::from(j)] - mu).powi(2) * 0.01;
    }
    factor!("eta", -0.5 * eta * eta);
}

#[test]
fn sums_over_integer_ranges() {
    for d in [1usize, 8, 9, 17] {
        let x = seeded(d, 18);
        check!(integer_ranges(&x, d), 5, 1.5, generated);
    }
}

// ---------------------------------------------------------------------------------
// transformed data and Gaussians over computed matrices

/// A Gaussian over a covariance computed as transformed data, with a computed mean.
#[model]
fn mvn_over_transformed(y: &[f64], rho: f64) {
    let n: usize = y.len();
    let cov: Vec<f64> = (0..n * n)
        .map(|k| rho.powi(((k / n) as i32 - (k % n) as i32).abs()))
        .collect();
    let mean: Vec<f64> = y.iter().map(|v| 0.5 * v).collect();
    let x = sample!(
        "x",
        MultivariateNormal::covariance(vector::data(&mean), vector::data(&cov))
    );
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..n {
        sample!("y[{i}]", Normal::new(x[i], s), obs = y[i]);
    }
}

/// A precision over transformed data with a broadcast mean from transformed data.
#[model]
fn mvn_precision_transformed(y: &[f64]) {
    let n: usize = y.len();
    let c: f64 = y.iter().sum::<f64>() / (n as f64);
    let prec: Vec<f64> = (0..n * n)
        .map(|k| {
            if k / n == k % n {
                2.0
            } else if (k / n).abs_diff(k % n) == 1 {
                -0.5
            } else {
                0.0
            }
        })
        .collect();
    let x = sample!(
        "x",
        MultivariateNormal::precision(scalar(c), vector::data(&prec))
    );
    let mut acc = 0.0 * x[0];
    for i in 0..n {
        acc += x[i] * y[i];
    }
    factor!("acc", -0.5 * acc * acc);
}

/// A Cholesky-factor Gaussian over data: the generated code evaluates it with duals
/// (it ran on the tape before latent vector sites did).
#[model]
fn mvn_cholesky(m: &[f64], l: &[f64]) {
    let x = sample!(
        "x",
        MultivariateNormal::cholesky(vector::data(m), vector::data(l))
    );
    for i in 0..m.len() {
        factor!("f[{i}]", -0.1 * x[i] * x[i]);
    }
}

#[test]
fn gaussians_over_matrices_computed_as_transformed_data() {
    for n in [1usize, 2, 5] {
        let y = seeded(n, 19);
        check!(mvn_over_transformed(&y, 0.4), 5, 1.5, generated);
        check!(mvn_precision_transformed(&y), 5, 1.5, generated);
    }
    // not positive definite: every point rejected alike
    let y = seeded(3, 20);
    let (m, t) = (
        mvn_over_transformed(&y, 1.5).with_engine(Engine::Codegen),
        mvn_over_transformed(&y, 1.5).with_engine(Engine::Reverse),
    );
    assert_eq!(sweep(&m, &t, 3, 1.5), 6);
    let l = [1.0, 0.0, 0.5, 2.0];
    check!(mvn_cholesky(&[0.5, -0.5], &l), 5, 1.5, generated);
}

/// A Gaussian over the covariance argument `cov`, and a later transformed-data `let`
/// that shadows `cov` (the site reads the argument).
#[model]
fn mvn_then_shadowed(y: &[f64], cov: &[f64]) {
    let x = sample!(
        "x",
        MultivariateNormal::covariance(scalar(0.0), vector::data(cov))
    );
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(x[i], 1.0), obs = y[i]);
    }
    let cov: Vec<f64> = cov.iter().map(|v| v * 4.0).collect();
    factor!("c", 0.0 * x[0] + cov[0]);
}

/// The same with the later binding not transformed data (no type: computed in the body).
#[model]
fn mvn_then_shadowed_untyped(y: &[f64], cov: &[f64]) {
    let x = sample!(
        "x",
        MultivariateNormal::covariance(scalar(0.0), vector::data(cov))
    );
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(x[i], 1.0), obs = y[i]);
    }
    let cov = cov.iter().map(|v| v * 4.0).collect::<Vec<f64>>();
    factor!("c", 0.0 * x[0] + cov[0]);
}

#[test]
fn a_factored_matrix_argument_shadowed_after_its_site() {
    let y = seeded(3, 24);
    let cov = [1.0, 0.3, 0.0, 0.3, 1.0, 0.3, 0.0, 0.3, 1.0];
    let shadowed = mvn_then_shadowed(&y, &cov).with_engine(Engine::Codegen);
    let written = mvn_then_shadowed_untyped(&y, &cov).with_engine(Engine::Reverse);
    matches_tape(&shadowed, &written, 5, 1.5);
}

/// Transformed data reading a `Cell` argument that an earlier statement sets.
#[model]
fn hoisted_after_set(y: &[f64], w: &std::cell::Cell<f64>) {
    w.set(2.0);
    let s: f64 = w.get();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, s), obs = y[i]);
    }
}

/// The same, computed in the body (no type: not transformed data).
#[model]
fn computed_after_set(y: &[f64], w: &std::cell::Cell<f64>) {
    w.set(2.0);
    let s = w.get();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, s), obs = y[i]);
    }
}

#[test]
fn transformed_data_after_a_statement_that_changes_its_input() {
    let y = seeded(4, 28);
    let cell = std::cell::Cell::new(0.5);
    let hoisted = hoisted_after_set(&y, &cell).with_engine(Engine::Codegen);
    let cell2 = std::cell::Cell::new(0.5);
    let computed = computed_after_set(&y, &cell2).with_engine(Engine::Reverse);
    matches_tape(&hoisted, &computed, 5, 1.5);
}

/// A `Glm` over a design matrix standardised as transformed data.
#[model]
fn glm_over_transformed(x: &[f64], yb: &[bool], d: usize) {
    let m: f64 = x.iter().sum::<f64>() / (x.len() as f64);
    let xs: Vec<f64> = x.iter().map(|v| (v - m) * 2.0).collect();
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    sample!("yb", Glm::bernoulli_logit(&xs, beta, alpha), obs = yb);
    for j in 0..d {
        factor!("b[{j}]", -0.5 * beta[j] * beta[j] * xs[j].abs());
    }
}

#[test]
fn glm_over_a_transformed_design_matrix() {
    for d in [3usize, 16] {
        let (x, _, yb, _) = glm_data(6, d, 800 + d as u64);
        check!(glm_over_transformed(&x, &yb, d), 5, 1.5, generated);
    }
}

/// A chain of transformed data that shadows an argument and feeds a prior's location.
#[model]
fn transformed_chain(y: &[f64], x: &[f64]) {
    let n: usize = y.len();
    let m: f64 = y.iter().sum::<f64>() / n as f64;
    let sd: f64 = (y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
    let y: Vec<f64> = y.iter().map(|v| (v - m) / sd).collect();
    let lo: f64 = y.iter().cloned().fold(f64::INFINITY, f64::min);
    let mu = sample!("mu", Normal::new(lo, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut acc = 0.0 * mu;
    for i in 0..n {
        acc += (y[i] - mu).powi(2) + x[i] * mu;
    }
    factor!("acc", -0.5 * acc / (s * s) - (n as f64) * s.ln());
}

#[test]
fn transformed_data_chains_finite_and_not() {
    let (y, x) = (seeded(6, 21), seeded(6, 22));
    check!(transformed_chain(&y, &x), 10, 1.5, generated);
    // a constant `y`: the scale is 0 and the standardised data NaN
    let flat = [0.5; 4];
    let (m, t) = (
        transformed_chain(&flat, &x).with_engine(Engine::Codegen),
        transformed_chain(&flat, &x).with_engine(Engine::Reverse),
    );
    assert_eq!(sweep(&m, &t, 3, 1.5), 6);
}

// ---------------------------------------------------------------------------------
// constrained latent sites in a loop, far out

/// Latent sites of the constrained families in a loop, their parameters computed from
/// a parameter, read by a carried value.
#[model]
fn families_in_loop(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        let a = sample!("a[{i}]", VonMises::new(mu, 1.0 + s));
        let b = sample!("b[{i}]", Pareto::new(1.0 + s, 2.0));
        let c = sample!("c[{i}]", Weibull::new(1.5, s + 0.5));
        let d = sample!("d[{i}]", SkewNormal::new(mu, s + 0.1, 2.0));
        let e = sample!("e[{i}]", Beta::new(s + 0.5, 2.0));
        let f = sample!("f[{i}]", InverseGamma::new(2.0, s + 1.0));
        let g = sample!("g[{i}]", Uniform::new(mu - 1.0, mu + s + 0.1));
        let h = sample!("h[{i}]", HalfStudentT::new(3.0, s + 0.2));
        acc =
            0.5 * acc + a * 0.1 + b.ln() * 0.01 + c * e - f * 0.01 + (g - mu) * h * 0.01 + d * 0.1;
        sample!("y[{i}]", Normal::new(acc, 1.0 + s), obs = y[i]);
    }
}

#[test]
fn constrained_families_in_a_loop_far_out() {
    let y = seeded(3, 27);
    check!(families_in_loop(&y), 5, 1.5, generated);
    let (m, t) = (
        families_in_loop(&y).with_engine(Engine::Codegen),
        families_in_loop(&y).with_engine(Engine::Reverse),
    );
    // (at scale 30 the gradient differs at 1e-7 relative: one long expression over
    // values near e^30 whose terms cancel, summed in another order than the tape's)
    sweep(&m, &t, 10, 5.0);
}

// ---------------------------------------------------------------------------------
// loops that carry several values

/// Two carried states updated through temporaries, a total, a carried loop nested in
/// each iteration, a data-conditioned term, and rejections inside the loop (a wall
/// on a parameter and a data-only `-∞`).
#[model]
fn two_states(y: &[f64], wall: f64) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let rho = sample!("rho", Normal::new(0.0, 0.3));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut a = 0.0 * mu;
    let mut b = mu;
    let mut total = 0.0 * mu;
    for t in 0..y.len() {
        let na = rho * a + 0.2 * b + mu;
        let nb = 0.3 * a - rho * b * s;
        a = na;
        b = nb;
        total += a * b * 0.01;
        sample!("y[{t}]", Normal::new(a - b, 1.0 + s), obs = y[t]);
        let mut c = b;
        for k in 0..3 {
            c = c * rho + y[(t + k) % y.len()] * a;
            total -= 0.001 * c * c;
        }
        if y[t] > 1.2 {
            factor!("cap[{t}]", -(a * a));
        }
        if a > wall {
            factor!("wall[{t}]", f64::NEG_INFINITY);
        }
        if y[t] > 10.0 {
            factor!("never[{t}]", f64::NEG_INFINITY);
        }
    }
    factor!("total", total);
}

#[test]
fn loops_carrying_several_values_with_rejections() {
    let y = seeded(8, 23);
    check!(two_states(&y, 1e300), 10, 1.5, generated);
    let (m, t) = (
        two_states(&y, 0.3).with_engine(Engine::Codegen),
        two_states(&y, 0.3).with_engine(Engine::Reverse),
    );
    sweep(&m, &t, 10, 1.5);
    let mut y2 = y.clone();
    y2[3] = 11.0;
    let (m, t) = (
        two_states(&y2, 1e300).with_engine(Engine::Codegen),
        two_states(&y2, 1e300).with_engine(Engine::Reverse),
    );
    assert_eq!(sweep(&m, &t, 5, 1.5), 10);
}

// ---------------------------------------------------------------------------------
// bodies that did not compile (`FAILURES5.md`, entries 1, 4, 11 and 16)

/// A sum reads a `String`'s length, which `+` moves after the sum.
#[model]
fn length_then_move(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let label = String::from("ab");
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (y[i] - mu).powi(2) * (label.len() as f64);
    }
    let longer = label + "c";
    factor!("acc", -0.5 * acc + 0.0 * (longer.len() as f64));
}

/// A `Normal::each` binding read again by a `format!` string's inline argument.
#[model]
fn each_binding_in_format(y: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    let loc = params(z).shift(0.5);
    sample!("y", Normal::each(loc, scalar(1.0)), obs = y);
    let _label = format!("{loc:?}");
}

/// Transformed data consumed by a method that takes its receiver by value.
#[model]
fn hoisted_option(y: &[f64]) {
    let w: Option<Vec<f64>> = if y.len() > 1 { Some(y.to_vec()) } else { None };
    let v = w.unwrap_or_default();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..v.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = v[i]);
    }
}

/// Transformed data whose field is moved out.
#[model]
fn hoisted_tuple(y: &[f64]) {
    let halves: (Vec<f64>, Vec<f64>) = (y[..2].to_vec(), y[2..].to_vec());
    let first = halves.0;
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..first.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = first[i]);
    }
}

/// A value that is not `Copy`, moved by an operator after a sum read it.
#[derive(Clone, Debug)]
struct Series(Vec<f64>);

impl std::ops::Add<f64> for Series {
    type Output = Series;
    fn add(self, c: f64) -> Series {
        Series(self.0.iter().map(|v| v + c).collect())
    }
}

#[model]
fn moved_by_operator(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = Series(y.to_vec());
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (s.0[i] - mu).powi(2);
    }
    let shifted = s + 1.0;
    factor!("acc", -0.5 * acc + 0.0 * shifted.0[0]);
}

/// Data moved as the value of an `if` after a sum read it.
#[model]
fn moved_by_if_value(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let v = y.to_vec();
    let fallback = vec![0.0; 3];
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += (v[i] - mu).powi(2);
    }
    let chosen = if y.len() > 2 { v } else { fallback };
    factor!("acc", -0.5 * acc + 0.0 * chosen[0]);
}

#[test]
fn bodies_that_did_not_compile_match_the_tape() {
    let y = seeded(6, 31);
    check!(length_then_move(&y), 5, 1.5, generated);
    check!(each_binding_in_format(&y), 5, 1.5, fallback);
    check!(hoisted_option(&y), 5, 1.5, generated);
    check!(hoisted_tuple(&y), 5, 1.5, generated);
    check!(moved_by_operator(&y), 5, 1.5, generated);
    check!(moved_by_if_value(&y), 5, 1.5, generated);
}
