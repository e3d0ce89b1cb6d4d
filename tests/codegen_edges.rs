//! Second round of adversarial coverage of the gradient code `#[model]` generates,
//! against the reverse tape (the oracle), in areas `tests/codegen_coverage.rs` does not
//! reach: the cached data-only constant of observed sites (sites in data branches and
//! nested or data-sized loops, observations computed in the body, the first evaluation
//! at a rejected point, every order of `logp`, `logp_and_grad` and
//! `log_joint_and_grad`, clones and `with_engine` after the cache is set), chained and
//! broadcast `Normal::each` expressions (empty, of mismatched lengths, bound and reused),
//! latent `iid` vectors with parameter arguments in linear predictors, GLM sites and
//! Gaussians over factored matrices beside loops, transformed data that reads other
//! transformed data or shadows arguments, latent scalar sites of constrained families
//! inside loops and data branches, `deterministic!` values carried through loops,
//! points far out in unconstrained space (overflow, out of support, NaN), kinks and
//! ties of `abs`/`max`/`min`/`powi`/`powf` at exact points such as zero, integer and
//! index arithmetic mixed into active expressions, and shadowing and closures. Each
//! model matches the tape to 1e-12 relative (log-density and gradient, with and without
//! the Jacobian) and rejects the same points with a zero gradient; where swept point by
//! point, `logp` also agrees with the value of `logp_and_grad`. Models the generator
//! does not analyse are checked to fall back to the tape. The models at the end are
//! the failures this round found, fixed.

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
use tilde::vector::{self, VectorExpr, params, scalar};

/// The same data, seeded, in `[-1.5, 1.5]`.
fn data(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed + 3000)
}

// ---------------------------------------------------------------------------------
// the cached data-only constant

/// Data-only terms everywhere the cache can meet them: sites in a data branch, in a
/// loop whose trip count is data, in a nested triangular loop, observed at values the
/// body computes, a latent normal vector over data, a Student-t and a Poisson beside
/// them; and a scale `s - 0.5` that rejects about half the points.
#[model]
fn cached_terms(y: &[f64], sigma: &[f64], flag: bool, k: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    if flag {
        for i in 0..k.min(y.len()) {
            sample!("a[{i}]", Normal::new(0.5, sigma[i]), obs = y[i]);
            sample!("b[{i}]", Normal::new(mu, sigma[i]), obs = y[i]);
        }
    } else {
        sample!("c", StudentT::new(3.0, mu, sigma[0]), obs = y[0]);
    }
    for i in 0..k {
        for j in 0..i {
            let z = y[j] * 2.0 - y[i % y.len()];
            sample!("d[{i},{j}]", Normal::new(mu * s, sigma[j]), obs = z);
            sample!(
                "p[{i},{j}]",
                Poisson::log_rate(mu + 0.1 * z),
                obs = (i + j) as u64
            );
        }
    }
    let wide = sigma[1] * 2.0;
    let v = sample!("v", Normal::new(y[0], wide).iid(k));
    for i in 0..k {
        factor!("f[{i}]", -0.5 * v[i] * mu);
    }
    sample!("w", Normal::new(mu, s - 0.5), obs = y[1]);
}

fn cached_data() -> (Vec<f64>, Vec<f64>) {
    let y = data(6, 1);
    let sigma: Vec<f64> = data(6, 2).iter().map(|v| 0.5 + v.abs()).collect();
    (y, sigma)
}

#[test]
fn cached_constant_in_data_branches_and_data_sized_loops() {
    let (y, sigma) = cached_data();
    for flag in [true, false] {
        for k in [0, 1, 4, 6] {
            let model = cached_terms(&y, &sigma, flag, k).with_engine(Engine::Codegen);
            assert_generated(&model.gradient_engine());
            let tape = cached_terms(&y, &sigma, flag, k).with_engine(Engine::Reverse);
            let rejected = sweep(&model, &tape, 20, 2.0);
            assert!(rejected > 0 && rejected < 40, "{rejected} rejected");
        }
    }
}

#[test]
fn cached_constant_whatever_the_first_evaluation() {
    let (y, sigma) = cached_data();
    let make = || cached_terms(&y, &sigma, true, 4).with_engine(Engine::Codegen);
    let tape = cached_terms(&y, &sigma, true, 4).with_engine(Engine::Reverse);
    let dim = make().dim();
    assert_eq!(dim, 6);
    let rejected_point = vec![0.3, -2.0, 0.1, 0.2, 0.3, 0.4];
    let nan_point = vec![f64::NAN, 0.5, 0.1, 0.2, 0.3, 0.4];
    let huge_point = vec![1e300, 30.0, 0.1, 0.2, 0.3, 0.4];
    let mut g = vec![0.0; dim];

    // first evaluation rejected (by the scale, by a NaN, by overflow), then finite ones
    for first in [&rejected_point, &nan_point, &huge_point] {
        let model = make();
        for jacobian in [true, false] {
            assert!(!agrees_at(&model, &tape, first, jacobian));
        }
        sweep(&model, &tape, 10, 1.5);
    }
    // first `logp` (the generic body), then the generated code
    let model = make();
    let _ = model.logp(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    sweep(&model, &tape, 10, 1.5);
    // first `log_joint_and_grad`, then `logp_and_grad`, alternating
    let model = make();
    let x = [0.1, 0.5, 0.3, 0.4, 0.5, 0.6];
    let a = model.log_joint_and_grad(&x, &mut g);
    assert!(close(a, tape.log_joint_and_grad(&x, &mut g)));
    sweep(&model, &tape, 10, 1.5);
    // a clone and an engine switch after the constant is set, and before
    let model = make();
    let _ = model.logp_and_grad(&x, &mut g);
    let copy = model.clone();
    sweep(&copy, &tape, 5, 1.5);
    let switched = model.clone().with_engine(Engine::Reverse);
    sweep(&switched, &tape, 5, 1.5);
    let back = switched.with_engine(Engine::Codegen);
    sweep(&back, &tape, 5, 1.5);
    let auto = make().with_engine(Engine::Auto);
    sweep(&auto, &tape, 5, 1.5);
    let fresh_clone = make().clone();
    sweep(&fresh_clone, &tape, 5, 1.5);
}

/// A data-only site whose density is `-∞` (an observation outside the support): the
/// constant is never finite, every evaluation is a rejection, as on the tape.
#[model]
fn impossible_data(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
    sample!("never", Exponential::new(2.0), obs = -1.0);
    sample!("also", Normal::new(0.0, 1.0), obs = y[0]);
}

#[test]
fn a_data_constant_of_minus_infinity_rejects_every_point() {
    let y = data(4, 3);
    let model = impossible_data(&y).with_engine(Engine::Codegen);
    assert_generated(&model.gradient_engine());
    let tape = impossible_data(&y).with_engine(Engine::Reverse);
    assert_eq!(sweep(&model, &tape, 5, 1.0), 10);
}

// ---------------------------------------------------------------------------------
// `Normal::each`

/// Chained affine forms in both orders, a data vector scaled by a parameter, two
/// broadcast scalars, a parameter vector as the scale, a binding read by two sites.
#[model]
fn each_chains(y: &[f64], x: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let a = sample!("a", Normal::new(0.0, 1.0).iid(y.len()));
    let sd = sample!("sd", HalfNormal::new(1.0).iid(y.len()));
    let t = params(a).shift(mu).scale(tau);
    let u = vector::data(x).scale(tau).shift(mu).scale(2.0).shift(-1.0);
    sample!("y1", Normal::each(t, params(sd)), obs = y);
    sample!(
        "y2",
        Normal::each(u, vector::data(sigma).scale(tau)),
        obs = y
    );
    sample!("y3", Normal::each(scalar(mu), scalar(tau)), obs = y);
    sample!("y4", Normal::each(t, scalar(2.0)), obs = x);
    sample!(
        "y5",
        Normal::each(params(a).scale(mu), params(sd).shift(0.5)),
        obs = y
    );
    sample!("y6", Normal::each(vector::data(x), scalar(tau)), obs = y);
}

#[test]
fn each_chains_broadcasts_and_reuse() {
    let (y, x) = (data(5, 4), data(5, 5));
    let sigma: Vec<f64> = data(5, 6).iter().map(|v| 0.5 + v.abs()).collect();
    check!(each_chains(&y, &x, &sigma), 15, 2.0, generated);
    // empty vectors
    check!(each_chains(&[], &[], &[]), 5, 2.0, generated);
    // a scale vector of another length: a rejection, as on the tape
    let model = each_chains(&y, &x, &sigma[..4]).with_engine(Engine::Codegen);
    let tape = each_chains(&y, &x, &sigma[..4]).with_engine(Engine::Reverse);
    assert_eq!(sweep(&model, &tape, 3, 1.0), 6);
}

/// A `Normal::each` site beside a loop and a scalar observation over the same data.
#[model]
fn each_beside_loop(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", Gamma::new(2.0, 2.0));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        acc += z[i] * y[i];
        sample!("y[{i}]", Normal::new(mu + z[i], s), obs = y[i]);
    }
    sample!(
        "each",
        Normal::each(params(z).shift(acc), scalar(s)),
        obs = y
    );
}

#[test]
fn each_beside_a_loop_reading_a_reduction() {
    let y = data(6, 7);
    check!(each_beside_loop(&y), 15, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// vector sites

/// Latent `iid` vectors with parameter arguments in linear predictors with offsets on
/// both sides of the loop variable, `-=`, a penalty over shifted elements.
#[model]
fn iid_regression(x: &[f64], y: &[f64], d: usize, off: &[f64]) {
    let m = sample!("m", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let beta = sample!("beta", Normal::new(m, s).iid(d));
    let gamma = sample!("gamma", Normal::new(0.0, 1.0).iid(d + 1));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mut pen = 0.0 * m;
    for j in 0..d {
        pen -= beta[j] * gamma[j + 1];
    }
    for i in 0..y.len() {
        let mut eta = gamma[0] + off[i];
        for j in 0..d {
            eta += x[i * d + j] * beta[j];
            eta -= 0.5 * gamma[j + 1] * x[j + i * d];
        }
        sample!("y[{i}]", Normal::new(eta, sigma), obs = y[i]);
    }
    let mut dot = 0.0 * m;
    for j in 0..d {
        dot += x[j] * beta[j];
    }
    for j in 1..=d {
        dot -= gamma[j] * x[d + j - 1];
    }
    factor!("pen", 0.1 * pen - 0.05 * dot * dot);
}

#[test]
fn iid_vectors_with_parameter_arguments_in_linear_predictors() {
    let (n, d) = (7, 3);
    let x = data(n * d, 8);
    let y = data(n, 9);
    let off = data(n, 10);
    check!(iid_regression(&x, &y, d, &off), 10, 2.0, generated);
    check!(iid_regression(&x, &y, 1, &off), 5, 2.0, generated);
}

/// GLM sites beside a loop, one with an intercept computed from a parameter (which
/// the generated code does not take: the model runs on the tape).
#[model]
fn glm_sites(x: &[f64], yn: &[f64], yb: &[bool], yc: &[u64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    sample!("yn", Glm::normal(x, beta, alpha, sigma), obs = yn);
    sample!("yb", Glm::bernoulli_logit(x, beta, alpha), obs = yb);
    sample!("yc", Glm::poisson_log(x, beta, alpha * 0.5), obs = yc);
    for j in 0..d {
        factor!("shrink[{j}]", -0.1 * beta[j] * beta[j] * sigma);
    }
}

#[test]
fn glm_sites_fall_back() {
    let (n, d) = (5, 2);
    let x = data(n * d, 11);
    let yn = data(n, 12);
    let yb: Vec<bool> = data(n, 13).iter().map(|v| *v > 0.0).collect();
    let yc: Vec<u64> = data(n, 14).iter().map(|v| (2.0 * v.abs()) as u64).collect();
    check!(glm_sites(&x, &yn, &yb, &yc, d), 10, 1.5, fallback);
}

/// Gaussians over data matrices factored at construction, their values read in a
/// reduction and a carried loop, beside a latent `iid` vector with parameter scale.
#[model]
fn factored_priors(y: &[f64], cov: &[f64], prec: &[f64]) {
    let s = sample!("s", HalfNormal::new(1.0));
    let x = sample!(
        "x",
        MultivariateNormal::covariance(scalar(-0.5), vector::data(cov))
    );
    let w = sample!(
        "w",
        MultivariateNormal::precision(vector::data(y), vector::data(prec))
    );
    let e = sample!("e", Normal::new(0.0, s).iid(y.len()));
    let mut acc = 0.0 * s;
    for i in 0..y.len() {
        acc += x[i] * w[i];
    }
    let mut state = s;
    for i in 0..y.len() {
        state = 0.5 * state + x[i] - e[i];
        sample!("y[{i}]", Normal::new(state + w[i], 1.0 + s), obs = y[i]);
    }
    factor!("acc", -0.1 * acc * acc);
}

#[test]
fn factored_gaussians_beside_loops() {
    let n = 4;
    let y = data(n, 15);
    let rho: f64 = 0.4;
    let mut cov = vec![0.0; n * n];
    let mut prec = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            cov[i * n + j] = rho.powi((i as i32 - j as i32).abs());
        }
        prec[i * n + i] = 2.0;
        if i + 1 < n {
            prec[i * n + i + 1] = -0.5;
            prec[(i + 1) * n + i] = -0.5;
        }
    }
    check!(factored_priors(&y, &cov, &prec), 10, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// transformed data

/// Transformed data reading transformed data and shadowing an argument, beside typed
/// `let`s that cannot be hoisted (reading an untyped `let`, `let mut` changed later).
#[model]
fn transformed_chain(y: &[f64], w: Vec<f64>) {
    let k = 2.0;
    let logs: Vec<f64> = y.iter().map(|v| (v.abs() + 1.0).ln()).collect();
    let total: f64 = logs.iter().sum();
    let scaled: Vec<f64> = logs.iter().map(|v| v * k).collect();
    let w: Vec<f64> = w.iter().map(|v| v + total).collect();
    let mut acc: f64 = 0.0;
    for i in 0..y.len() {
        acc += y[i];
    }
    let centre: f64 = acc / y.len() as f64;
    let mut shifted: Vec<f64> = logs.clone();
    for v in shifted.iter_mut() {
        *v -= centre;
    }
    let n: usize = logs.len();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..n {
        sample!(
            "y[{i}]",
            Normal::new(mu * w[i] + centre, s),
            obs = scaled[i]
        );
        sample!("z[{i}]", Normal::new(mu, 1.0 + total), obs = shifted[i]);
    }
    sample!("all", Normal::new(mu, s).iid(n), obs = logs.as_slice());
}

#[test]
fn transformed_data_reading_transformed_data() {
    let y = data(6, 16);
    let w = data(6, 17);
    check!(transformed_chain(&y, w.clone()), 10, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// latent scalar sites in loops and branches

/// Latent scalar sites of constrained families in a loop, with parameter-dependent
/// arguments and bounds, in a data branch; `deterministic!` values carried on; a
/// branch on a latent site's value.
#[model]
fn latent_loops(y: &[f64], flags: &[bool]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let lo = sample!("lo", Normal::new(0.0, 1.0));
    let width = sample!("width", HalfNormal::new(1.0));
    let scale2 = deterministic!("scale2", 1.0 + width * width);
    let mut level = mu;
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Normal::new(level, 1.0));
        let h = sample!("h[{i}]", HalfNormal::new(1.0 + z * z));
        let p = sample!("p[{i}]", Beta::new(1.0 + h, 2.0));
        let u = sample!("u[{i}]", Uniform::new(lo, lo + width + h));
        let d = deterministic!("d[{i}]", z * p + u);
        level = 0.5 * level + 0.1 * d;
        if flags[i] {
            let e = sample!("e[{i}]", Exponential::new(1.0 + p));
            sample!("y[{i}]", Normal::new(d, scale2 + e), obs = y[i]);
        } else {
            sample!("y[{i}]", Normal::new(d, scale2 + h), obs = y[i]);
        }
        if z > 0.0 {
            factor!("zf[{i}]", -0.1 * z * d);
        } else {
            factor!("zf[{i}]", -0.1 * level * level);
        }
    }
    factor!("last", -0.5 * level * level / scale2);
}

#[test]
fn constrained_latent_sites_in_loops_and_data_branches() {
    let y = data(4, 18);
    let flags = [true, false, false, true];
    for scale in [1.0, 3.0] {
        check!(latent_loops(&y, &flags), 10, scale, generated);
    }
}

// ---------------------------------------------------------------------------------
// numeric edge points

/// Families whose support depends on parameters and terms that overflow at large
/// unconstrained values.
#[model]
fn edges(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", LogNormal::new(0.0, 1.0));
    let p = sample!("p", Beta::new(2.0, 2.0));
    let u = sample!("u", Uniform::new(-1.0, 1.0));
    let mut acc = 0.0 * a;
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(a * u, s), obs = y[i]);
        acc += (p * y[i]).ln_1p() - (a * y[i]).exp() * 1e-3;
        sample!("r[{i}]", Gamma::new(s, 1.0 + p), obs = y[i].abs() + 0.1);
    }
    factor!("acc", acc);
    sample!("o", Normal::new(a, 1.0 / s), obs = 0.2);
    sample!("u_obs", Uniform::new(a - 1.0, a + 1.0), obs = 0.5);
}

#[test]
fn far_out_points_are_rejected_as_the_tape_does() {
    let y = data(5, 19);
    let model = edges(&y).with_engine(Engine::Codegen);
    let tape = edges(&y).with_engine(Engine::Reverse);
    assert_generated(&model.gradient_engine());
    for scale in [1.0, 10.0, 30.0] {
        sweep(&model, &tape, 20, scale);
    }
    let dim = model.dim();
    for x in [
        vec![f64::NAN; dim],
        vec![0.0, f64::NAN, 0.0, 0.0],
        vec![f64::INFINITY, 0.0, 0.0, 0.0],
        vec![0.0, 800.0, 0.0, 0.0],
        vec![0.0, -800.0, 0.0, 0.0],
        vec![0.0, 0.0, 800.0, -800.0],
        vec![1e200, 0.0, 0.0, 0.0],
        vec![1.5, 0.0, 0.0, 0.0],
    ] {
        for jacobian in [true, false] {
            agrees_at(&model, &tape, &x, jacobian);
        }
    }
}

/// `powi` by an integer computed from the loop index, including 0, at a base of 0.
#[model]
fn powers_at_zero(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * a;
    for i in 0..y.len() {
        acc += a.powi(i as i32 % 3) * y[i];
    }
    factor!("acc", acc);
}

#[test]
fn integer_powers_at_zero() {
    let y = data(4, 20);
    let model = powers_at_zero(&y).with_engine(Engine::Codegen);
    assert_generated(&model.gradient_engine());
    let tape = powers_at_zero(&y).with_engine(Engine::Reverse);
    matches_tape(&model, &tape, 10, 2.0);
    let (mut g1, mut g2) = ([0.0], [0.0]);
    let (a, b) = (
        model.logp_and_grad(&[0.0], &mut g1),
        tape.logp_and_grad(&[0.0], &mut g2),
    );
    assert!(close(a, b), "{a} vs {b}");
    assert!(close(g1[0], g2[0]), "{} vs {}", g1[0], g2[0]);
}

// ---------------------------------------------------------------------------------
// integer and index arithmetic

#[model]
fn index_arithmetic(y: &[f64], group: &[i64], g: usize) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let theta = sample!("theta", Normal::new(0.0, 1.0).iid(g));
    let mut acc = 0.0 * a;
    let n = y.len();
    for i in 0..n {
        let k = (group[i] - 1) as usize;
        let fi = i as f64;
        let m = theta[k]
            + a * fi / (n as f64)
            + a.powi(i as i32 % 3 + 1) * 0.1
            + theta[(i + k) % g] * (((i % 2) as f64) - 0.5)
            + theta[g - 1 - k] * (n - i) as f64 * 0.01;
        acc += (y[i] - m).powi(2) * ((i as i32 - 2) as f64);
        sample!("y[{i}]", Normal::new(m, 1.0 + (i % 3) as f64), obs = y[i]);
    }
    let mut r = 0.0 * a;
    for j in (0..g).rev() {
        r += theta[j] * (j as f64 + 1.0) - theta[(j * 2) % g];
    }
    factor!("acc", -0.01 * acc - 0.1 * r * r);
}

#[test]
fn index_and_integer_arithmetic() {
    let y = data(9, 21);
    let group: Vec<i64> = (0..9).map(|i| (i * 5) % 3 + 1).collect();
    check!(index_arithmetic(&y, &group, 3), 10, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// shadowing and closures

/// Data names shadowed in loops and nested blocks, a closure over data.
#[model]
fn data_shadowing(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let c = 2.0;
    let half = |v: f64| v * 0.5 + c;
    for i in 0..y.len() {
        let c = half(y[i]);
        let r = {
            let c = c * 0.5;
            c + y[i]
        };
        sample!("y[{i}]", Normal::new(mu * r, s + c * c * 0.01), obs = y[i]);
    }
    sample!("z", Normal::new(mu, c), obs = 0.3);
}

#[test]
fn data_shadowed_in_loops_and_blocks_with_a_closure_over_data() {
    let y = data(5, 22);
    check!(data_shadowing(&y), 10, 2.0, generated);
}

/// A `let` in a loop that shadows an outer parameter-dependent name (the generated
/// code gives the inner binding a name of its own).
#[model]
fn active_shadowed_in_loop(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let m = mu * 2.0;
    for i in 0..y.len() {
        let m = m + y[i];
        sample!("y[{i}]", Normal::new(m, 1.0), obs = y[i]);
    }
}

/// A parameter name shadowed by data in a nested block (a bare block: the tape).
#[model]
fn parameter_shadowed_by_data(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
    {
        let mu = 3.0;
        sample!("k", Normal::new(mu, 1.0), obs = 2.0);
    }
}

/// A closure over a parameter, called in a loop (read as its body at each call).
#[model]
fn closure_over_parameter(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let f = |v: f64| mu * v;
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(f(y[i]), 1.0), obs = y[i]);
    }
}

#[test]
fn shadowed_parameters_in_loops_and_closures_run_generated() {
    let y = data(4, 23);
    check!(active_shadowed_in_loop(&y), 10, 2.0, generated);
    check!(parameter_shadowed_by_data(&y), 10, 2.0, fallback);
    check!(closure_over_parameter(&y), 10, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// kinks and ties at exact points (zero is a common initial point)

/// Both NaN, or equal to 1e-12 relative.
fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || close(a, b)
}

fn same_at(generated: &impl Model, tape: &impl Model, x: &[f64]) -> String {
    let (mut g1, mut g2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let (a, b) = (
        generated.logp_and_grad(x, &mut g1),
        tape.logp_and_grad(x, &mut g2),
    );
    let ok = same(a, b) && g1.iter().zip(&g2).all(|(p, q)| same(*p, *q));
    if ok {
        String::new()
    } else {
        format!("at {x:?}: generated {a} {g1:?}, tape {b} {g2:?}")
    }
}

#[model]
fn tie_abs(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        factor!("f[{i}]", a.abs() * y[i]);
    }
}

#[model]
fn tie_max(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        factor!("f[{i}]", a.max(b) * y[i]);
    }
}

#[model]
fn tie_min(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        factor!("f[{i}]", a.min(b) * y[i]);
    }
}

#[model]
fn tie_max_data(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        factor!(
            "f[{i}]",
            a.max(T::from(0.0)) * y[i] + T::from(0.0).min(a) * y[i]
        );
    }
}

#[model]
fn zero_sqrt(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        factor!("f[{i}]", (a * a).sqrt() * y[i]);
    }
}

#[model]
fn zero_powf(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        factor!("f[{i}]", a.abs().powf(0.5) * y[i] + a.powi(0) * y[i]);
    }
}

#[model]
fn zero_powi_reduction(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * a;
    for i in 0..y.len() {
        acc += a.powi(i as i32 % 3) * y[i];
    }
    factor!("acc", acc);
}

#[test]
fn kinks_and_ties_at_exact_points() {
    let y = data(4, 30);
    let mut report = Vec::new();
    macro_rules! at {
        ($make:expr, $x:expr) => {{
            let model = $make.with_engine(Engine::Codegen);
            assert_generated(&model.gradient_engine());
            let tape = $make.with_engine(Engine::Reverse);
            let r = same_at(&model, &tape, &$x);
            if !r.is_empty() {
                report.push(format!("{}: {r}", stringify!($make)));
            }
        }};
    }
    at!(tie_abs(&y), [0.0]);
    at!(tie_max(&y), [0.0, 0.0]);
    at!(tie_max(&y), [0.7, 0.7]);
    at!(tie_min(&y), [0.0, 0.0]);
    at!(tie_min(&y), [0.7, 0.7]);
    at!(tie_max_data(&y), [0.0]);
    at!(zero_sqrt(&y), [0.0]);
    at!(zero_powf(&y), [0.0]);
    at!(zero_powi_reduction(&y), [0.0]);
    assert!(report.is_empty(), "{}", report.join("\n"));
}

// ---------------------------------------------------------------------------------
// more transformed data and Gaussian priors

/// Data collected in the body (no type annotation, so not hoisted) and consumed by value.
#[model]
fn collected_consumed(y: &[f64]) {
    let z = y.iter().map(|v| v * 2.0).collect::<Vec<f64>>();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * mu;
    for v in z {
        acc += (v - mu).powi(2);
    }
    factor!("acc", -0.5 * acc);
}

/// Data collected in the body reading items declared after it.
#[model]
fn collected_with_later_items(y: &[f64]) {
    let z = y.iter().map(|v| twice(*v) + K).collect::<Vec<f64>>();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..z.len() {
        sample!("z[{i}]", Normal::new(mu, 1.0), obs = z[i]);
    }
    fn twice(v: f64) -> f64 {
        v * 2.0
    }
    const K: f64 = 0.5;
}

/// A Gaussian over a factored matrix whose mean is a parameter: the tape runs it.
#[model]
fn mvn_parameter_mean(y: &[f64], cov: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let x = sample!(
        "x",
        MultivariateNormal::covariance(scalar(mu), vector::data(cov))
    );
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(x[i], 1.0), obs = y[i]);
    }
}

#[test]
fn collected_data_and_a_gaussian_with_a_parameter_mean() {
    let y = data(4, 40);
    check!(collected_consumed(&y), 5, 1.5, generated);
    check!(collected_with_later_items(&y), 5, 1.5, generated);
    let mut cov = vec![0.0; 16];
    for i in 0..4 {
        cov[i * 5] = 1.0 + 0.1 * i as f64;
    }
    check!(mvn_parameter_mean(&y, &cov), 10, 1.5, fallback);
}

/// Latent sites in a loop whose distributions get invalid parameter arguments at many
/// points (an inverted `Uniform`, a negative shape or scale): rejections, as the tape.
#[model]
fn invalid_arguments(y: &[f64]) {
    let lo = sample!("lo", Normal::new(0.0, 1.0));
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * mu;
    for i in 0..y.len() {
        let u = sample!("u[{i}]", Uniform::new(lo, mu));
        let g = sample!("g[{i}]", Gamma::new(mu, 1.0));
        let h = sample!("h[{i}]", HalfNormal::new(lo));
        let b = sample!("b[{i}]", Beta::new(mu, 1.0 + lo * lo));
        acc += u + g + h + b;
        sample!("y[{i}]", Normal::new(acc, 1.0), obs = y[i]);
    }
}

#[test]
fn invalid_parameter_arguments_are_rejected_as_the_tape_does() {
    let y = data(3, 50);
    let model = invalid_arguments(&y).with_engine(Engine::Codegen);
    assert_generated(&model.gradient_engine());
    let tape = invalid_arguments(&y).with_engine(Engine::Reverse);
    let rejected = sweep(&model, &tape, 30, 2.0);
    assert!(rejected > 0 && rejected < 60, "{rejected} rejected");
}

/// `Normal::each` as a latent site: the tape runs it.
#[model]
fn each_latent(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let a = sample!("a", Normal::new(0.0, 1.0).iid(y.len()));
    let v = sample!("v", Normal::each(params(a).shift(mu), scalar(1.0)));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(v[i], 1.0), obs = y[i]);
    }
}

#[test]
fn each_as_a_latent_site_falls_back() {
    let y = data(3, 51);
    check!(each_latent(&y), 10, 1.5, fallback);
}

// ---------------------------------------------------------------------------------
// failures this round found, fixed

/// A data scale changed through a `Cell` on a condition over a parameter.
#[model]
fn cell_scale(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sd = std::cell::Cell::new(1.0);
    if mu > 0.0 {
        sd.set(2.0);
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sd.get()), obs = y[i]);
    }
}

/// An assignment on a condition over a parameter, beside a binding of the same name in
/// that branch.
#[model]
fn hidden_assignment(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut sd = 1.0;
    if mu > 0.0 {
        sd = 2.0;
        let sd = y[0];
        sample!("in", Normal::new(0.0, 1.0), obs = sd);
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sd), obs = y[i]);
    }
}

#[test]
fn values_changed_on_a_condition_over_parameters_in_any_spelling() {
    let y = [0.5, -1.0, 2.0];
    for first in [0.5, -0.5] {
        // the first evaluation on either side of the switch, then the other
        let (model, tape) = (cell_scale(&y), cell_scale(&y).with_engine(Engine::Reverse));
        assert_falls_back(&model.clone().with_engine(Engine::Codegen).gradient_engine());
        for mu in [first, -first] {
            agrees_at(&model, &tape, &[mu], true);
        }
        let (model, tape) = (
            hidden_assignment(&y),
            hidden_assignment(&y).with_engine(Engine::Reverse),
        );
        assert_falls_back(&model.clone().with_engine(Engine::Codegen).gradient_engine());
        for mu in [first, -first] {
            agrees_at(&model, &tape, &[mu], true);
        }
    }
}

/// `Normal::each` over bindings whose arguments change, or are shadowed, between the
/// binding and the site.
#[model]
fn each_changed_scale(y: &[f64], x: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut c = 1.0;
    let t = vector::data(x).scale(c).shift(mu);
    c = 3.0;
    sample!("y", Normal::each(t, scalar(c)), obs = y);
}

#[model]
fn each_shadowed_data(y: &[f64], x: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let t = vector::data(x).shift(mu);
    let x = y;
    sample!("y", Normal::each(t, scalar(1.0)), obs = x);
}

#[model]
fn each_changed_shift(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let a = sample!("a", Normal::new(0.0, 1.0).iid(y.len()));
    let mut m = mu;
    let t = params(a).shift(m);
    m = m * 2.0;
    sample!("y", Normal::each(t, scalar(1.0)), obs = y);
    factor!("m", -0.5 * m * m);
}

#[test]
fn each_bindings_read_their_arguments_where_they_are_bound() {
    let (y, x) = ([0.5, -1.0, 2.0], [1.0, 0.0, -0.5]);
    sweep(
        &each_changed_scale(&y, &x),
        &each_changed_scale(&y, &x).with_engine(Engine::Reverse),
        5,
        1.5,
    );
    sweep(
        &each_shadowed_data(&y, &x),
        &each_shadowed_data(&y, &x).with_engine(Engine::Reverse),
        5,
        1.5,
    );
    sweep(
        &each_changed_shift(&y),
        &each_changed_shift(&y).with_engine(Engine::Reverse),
        5,
        1.5,
    );
}

/// `√x` and `|x|^½` at 0 under a zero adjoint (a literal or a data weight): the tape's
/// gradient, not NaN.
#[model]
fn root_at_zero(y: &[f64], w: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    factor!("f", (a * a).sqrt() * 0.0 + a * y[0]);
    factor!("g", a.abs().powf(0.5) * 0.0);
    let mut acc = 0.0 * a;
    for i in 0..w.len() {
        acc += (a * a).sqrt() * w[i] + a * y[i];
    }
    factor!("acc", acc);
    let mut carried = 0.0 * a;
    for i in 0..w.len() {
        carried = carried * 0.5 + (a * a).sqrt() * w[i];
    }
    factor!("carried", carried);
}

#[test]
fn a_zero_adjoint_through_an_infinite_derivative_gives_the_tapes_gradient() {
    let (y, w) = ([0.5, -1.0, 2.0], [0.0, 0.0, 0.0]);
    let (model, tape) = (
        root_at_zero(&y, &w),
        root_at_zero(&y, &w).with_engine(Engine::Reverse),
    );
    assert_generated(&model.clone().with_engine(Engine::Codegen).gradient_engine());
    for a in [0.0, 0.3, -1.2] {
        assert!(agrees_at(&model, &tape, &[a], true), "at {a}");
        let mut g = [f64::NAN];
        model.logp_and_grad(&[a], &mut g);
        assert!(g[0].is_finite(), "at {a}: {g:?}");
    }
}

/// Transformed data consumed by value in a loop, and transformed data reading items
/// the body declares after it.
#[model]
fn consumed_by_value(y: &[f64]) {
    let z: Vec<f64> = y.iter().map(|v| v * 2.0).collect();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut acc = 0.0 * mu;
    for v in z {
        acc += (v - mu).powi(2);
    }
    factor!("acc", -0.5 * acc);
}

#[model]
fn items_declared_later(y: &[f64]) {
    let z: Vec<f64> = y.iter().map(|v| twice(*v) + K).collect();
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..z.len() {
        sample!("z[{i}]", Normal::new(mu, 1.0), obs = z[i]);
    }
    fn twice(v: f64) -> f64 {
        v * 2.0
    }
    const K: f64 = 0.5;
}

#[test]
fn transformed_data_that_is_moved_or_reads_later_items_compiles() {
    let y = [0.5, -1.0, 2.0];
    check!(consumed_by_value(&y), 5, 1.5, generated);
    check!(items_declared_later(&y), 5, 1.5, generated);
}
