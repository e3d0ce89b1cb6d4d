//! Coverage of the gradient code `#[model]` generates, against the reverse tape (the
//! oracle), on small models written the natural way: `let`/`let mut`, assignments and
//! compound assignments, shadowed data, block values, loops over ranges (closed,
//! reversed, stepped, empty) and over slices (`for &v in y`, `iter`, `enumerate`, `zip`),
//! nested and carried loops, branches on data and on parameters, `if` values, data
//! `match`, every operand order, indexing of data, vector sites and group indices,
//! elementary methods and `tilde::math` functions, observed sites of many families,
//! constrained latent sites at points near their support's boundaries, and transformed
//! data. Each model matches the tape to 1e-12 relative (log-density and gradient, with
//! and without the Jacobian); the models that run generated code say so, and those the
//! generator does not analyse are checked to fall back to the tape.

mod common;
#[macro_use]
#[path = "common/against_tape.rs"]
mod against_tape;
#[path = "../examples/posteriordb/json.rs"]
mod json;

use against_tape::*;
use tilde::Engine;
use tilde::math;
use tilde::prelude::*;

/// The same data, seeded, in `[-1.5, 1.5]`.
fn data(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed + 2000)
}

/// Counts in `0..=6`.
fn counts(n: usize, seed: u64) -> Vec<u64> {
    data(n, seed)
        .iter()
        .map(|v| (2.0 * (v + 1.5)).round() as u64)
        .collect()
}

/// Zeros and ones.
fn binary(n: usize, seed: u64) -> Vec<f64> {
    data(n, seed).iter().map(|v| f64::from(*v > 0.0)).collect()
}

// ---------------------------------------------------------------------------------
// bindings and assignments

#[model]
fn compound_assignments(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", LogNormal::new(0.0, 0.5));
    let mut a = mu;
    a += s;
    a -= 0.5 * mu;
    a *= s;
    a /= 1.0 + s * s;
    let mut b = 2.0 * a;
    b = b - mu / s;
    b = -b + y[0];
    b *= 0.5;
    b /= s;
    factor!("a", -0.5 * a * a);
    sample!("y", Normal::new(b, s), obs = y[1]);
}

#[test]
fn compound_assignments_on_active_scalars() {
    let y = data(2, 1);
    check!(compound_assignments(&y), 20, 2.0, generated);
}

/// Data shadowed and computed in plain `f64` in the body.
#[model]
fn shadowed_data(y: &[f64]) {
    let c = y[0] - 1.0;
    let c = c * 2.0;
    let k = (1.0f64 - 0.81).sqrt();
    let n = y.len();
    let n = n as f64;
    let mu = sample!("mu", Normal::new(c, 2.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let r = y[i] - c;
        let r = r * k;
        sample!("y[{i}]", Normal::new(mu * k + r / n, s), obs = y[i]);
    }
}

#[test]
fn shadowed_data_and_plain_arithmetic() {
    let y = data(6, 2);
    check!(shadowed_data(&y), 10, 2.0, generated);
}

/// A parameter-dependent name bound twice: the tape runs it.
#[model]
fn shadowed_active(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let m = mu * 2.0;
    let m = m + 1.0;
    sample!("y", Normal::new(m, 1.0), obs = y[0]);
}

#[test]
fn shadowed_active_name_falls_back() {
    let y = data(1, 3);
    check!(shadowed_active(&y), 5, 2.0, fallback);
}

/// A data block value, beside active code.
#[model]
fn data_block(y: &[f64]) {
    let k = {
        let a = y[0];
        a * a + 1.0
    };
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", Exponential::new(1.0));
    sample!("y", Normal::new(mu * k, s), obs = y[1]);
}

#[test]
fn data_blocks_as_values() {
    let y = data(2, 4);
    check!(data_block(&y), 10, 2.0, generated);
}

/// A block value over parameters.
#[model]
fn active_block(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", Exponential::new(1.0));
    let v = {
        let t = mu * 2.0;
        t + s
    };
    sample!("y", Normal::new(v, s), obs = y[0]);
}

#[test]
fn active_block_value_falls_back() {
    let y = data(1, 5);
    check!(active_block(&y), 10, 2.0, fallback);
}

// ---------------------------------------------------------------------------------
// loops

#[model]
fn ranges(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let n = y.len();
    let mut acc = 0.0 * mu;
    for i in 1..=n - 1 {
        acc += (y[i] - mu) * (y[i - 1] - mu);
    }
    for i in (0..n).rev() {
        acc -= 0.1 * (y[i] - mu * s).powi(2);
    }
    for i in (0..n).step_by(2) {
        acc += y[i] * s;
    }
    for i in 0..0 {
        acc += mu * y[i];
    }
    for _ in n..n {
        acc += mu;
    }
    for _ in 0..3 {
        acc -= 0.01 * s;
    }
    factor!("acc", acc);
}

#[test]
fn closed_reversed_stepped_and_empty_ranges() {
    let y = data(7, 6);
    check!(ranges(&y), 10, 2.0, generated);
}

#[model]
fn slice_loops(y: &[f64], w: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfCauchy::new(1.0));
    let mut total = T::from(0.0);
    for &v in y {
        total += -0.5 * ((v - mu) / s).powi(2) - s.ln();
    }
    for v in y.iter() {
        total -= 0.1 * (*v * mu).tanh();
    }
    for (i, v) in y.iter().enumerate() {
        total += (i as f64) * 0.01 * v * mu;
    }
    for (a, b) in y.iter().zip(w.iter()) {
        total += a * b * s * 0.1;
    }
    factor!("total", total);
}

#[test]
fn loops_over_slices() {
    let (y, w) = (data(6, 7), data(6, 8));
    check!(slice_loops(&y, &w), 10, 2.0, generated);
    // no iterations at all
    check!(slice_loops(&[], &[]), 5, 2.0, generated);
}

/// An accumulator per outer iteration, a value carried across outer iterations, an
/// inner carried loop.
#[model]
fn nested_carried(y: &[f64]) {
    let rho = sample!("rho", Uniform::new(-1.0, 1.0));
    let s = sample!("s", Gamma::new(2.0, 2.0));
    let mut level = T::from(0.0);
    let mut total = T::from(0.0);
    for t in 0..y.len() {
        let mut inner = level;
        for k in 0..3 {
            inner = rho * inner + 0.1 * (k as f64) * s;
        }
        level = inner + y[t] * 0.5;
        let mut row = 0.0 * s;
        for j in 0..t {
            row += (y[j] - level) * rho;
        }
        total += -0.5 * ((y[t] - level) / s).powi(2) - s.ln() - 0.01 * row * row;
    }
    factor!("total", total);
}

#[test]
fn nested_carried_loops() {
    let y = data(8, 9);
    check!(nested_carried(&y), 10, 3.0, generated);
}

/// `break` and `continue` on data.
#[model]
fn loop_jumps(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        if y[i] < -1.0 {
            continue;
        }
        if i > 8 {
            break;
        }
        sample!("y[{i}]", Normal::new(mu, s), obs = y[i]);
    }
}

#[test]
fn break_and_continue_fall_back() {
    let y = data(12, 10);
    check!(loop_jumps(&y), 10, 2.0, fallback);
}

/// A `while` loop over data beside an active accumulator.
#[model]
fn while_loop(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut acc = mu * 0.0;
    let mut i = 0;
    while i < y.len() {
        acc += (y[i] - mu).powi(2);
        i += 1;
    }
    factor!("acc", -0.5 * acc);
}

#[test]
fn while_loops_on_data_run_generated() {
    let y = data(5, 11);
    check!(while_loop(&y), 10, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// branches

#[model]
fn mixed_branches(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfCauchy::new(1.0));
    for i in 0..y.len() {
        let w = match i % 3 {
            0 => 1.0,
            1 => 0.5,
            _ => 2.0,
        };
        let loc = if y[i] > 0.0 {
            mu * w
        } else if y[i] > -0.5 {
            mu + w
        } else {
            -mu
        };
        let scale = if mu > 0.5 {
            s
        } else if mu > -0.5 {
            s + 0.5 * mu * mu
        } else {
            s * 2.0
        };
        if loc > y[i] {
            sample!("a[{i}]", Normal::new(loc, scale), obs = y[i]);
        } else {
            factor!("b[{i}]", -(y[i] - loc).abs() / scale - scale.ln());
        }
    }
}

#[test]
fn branches_on_data_and_parameters() {
    let y = data(9, 12);
    check!(mixed_branches(&y), 30, 2.0, generated);
}

/// An `if` value with an `if` value inside a branch (split into assignments in the
/// branches, as the outer one).
#[model]
fn nested_if_value(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = if mu > 0.0 {
        if mu > 1.0 { mu } else { mu * mu }
    } else {
        -mu
    };
    sample!("y", Normal::new(s, 1.0), obs = y[0]);
}

#[test]
fn nested_if_values() {
    let y = data(1, 13);
    check!(nested_if_value(&y), 20, 2.0, generated);
}

/// Carried loops inside a data branch and inside a parameter branch.
#[model]
fn carried_in_branches(y: &[f64], smooth: bool) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let rho = sample!("rho", Beta::new(2.0, 2.0));
    let mut state = mu;
    if smooth {
        for t in 0..y.len() {
            state = rho * state + (1.0 - rho) * y[t];
            factor!("smooth[{t}]", -0.5 * (y[t] - state).powi(2));
        }
    } else {
        for t in 0..y.len() {
            state = state + y[t] * rho;
        }
    }
    if mu > 0.0 {
        let mut e = mu;
        for t in 0..y.len() {
            e = 0.5 * e - rho * y[t];
            sample!("z[{t}]", Normal::new(e, 1.0 + rho), obs = y[t]);
        }
    } else {
        sample!("w", Normal::new(state, 2.0), obs = 0.0);
    }
    factor!("state", -0.1 * state * state);
}

#[test]
fn carried_loops_inside_branches() {
    let y = data(6, 14);
    for smooth in [true, false] {
        check!(carried_in_branches(&y, smooth), 20, 3.0, generated);
    }
}

// ---------------------------------------------------------------------------------
// arithmetic and indexing

#[model]
fn operand_orders(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Cauchy::new(0.0, 1.0));
    for i in 0..y.len() {
        let fi = i as f64;
        let e1 = 2.0 * a + a * 2.0 - y[i] * a + a * y[i] - fi * b + b / (fi + 1.0);
        let e2 = 1.0 / (1.0 + a * a) + y[i] / (2.0 + b * b) - (a - y[i]) / 3.0 - (y[i] - b);
        let e3 =
            -a + -(b - 1.5) * -(a) + (-(a * b)) - (y.len() as f64) * a / b.abs().max(T::from(0.5));
        factor!("e[{i}]", -0.01 * (e1 * e1 + e2 * e2 + e3 * e3));
    }
}

#[test]
fn every_operand_order() {
    let y = data(5, 15);
    check!(operand_orders(&y), 20, 2.0, generated);
}

#[model]
fn group_indices(y: &[f64], group: &[usize], groups: usize, weight: Vec<f64>) {
    let mu = sample!("mu", Normal::new(0.0, 2.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let theta = sample!("theta", Normal::new(0.0, 1.0).iid(groups));
    for i in 0..y.len() {
        let effect = mu + tau * theta[group[i]];
        sample!("y[{i}]", Normal::new(effect * weight[i], sigma), obs = y[i]);
    }
    let mut penalty = 0.0 * mu;
    for g in 0..groups {
        penalty += theta[g] * weight[g] - theta[(g + 1) % groups] * 0.1;
    }
    factor!("penalty", -0.1 * penalty * penalty);
}

#[test]
fn group_indices_and_vec_arguments() {
    let y = data(12, 16);
    let group: Vec<usize> = (0..12).map(|i| (i * 7) % 4).collect();
    let weight: Vec<f64> = data(12, 17).iter().map(|v| 1.0 + 0.2 * v).collect();
    check!(
        group_indices(&y, &group, 4, weight.clone()),
        10,
        2.0,
        generated
    );
}

/// Rows as a slice of vectors and a flat row-major matrix.
#[model]
fn matrices(rows: &[Vec<f64>], flat: &[f64], y: &[f64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let gamma = sample!("gamma", Normal::new(0.0, 1.0).iid(d));
    for n in 0..y.len() {
        let mut eta = alpha;
        for j in 0..d {
            eta += rows[n][j] * beta[j];
        }
        for j in 0..d {
            eta += gamma[j] * flat[n * d + j] * alpha;
        }
        let mut quad = alpha * 0.0;
        for j in 0..d {
            for k in 0..d {
                quad += beta[j] * flat[j * d + k] * gamma[k];
            }
        }
        sample!("y[{n}]", Bernoulli::logit(eta + 0.01 * quad), obs = y[n]);
    }
}

#[test]
fn two_dimensional_indexing() {
    let (n, d) = (6, 3);
    let flat = data(n * d, 18);
    let rows: Vec<Vec<f64>> = flat.chunks(d).map(|r| r.to_vec()).collect();
    let y = binary(n, 19);
    check!(matrices(&rows, &flat, &y, d), 10, 1.5, generated);
}

// ---------------------------------------------------------------------------------
// elementary functions

#[model]
fn elementary_methods(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", LogNormal::new(0.0, 0.5));
    let p = sample!("p", Beta::new(2.0, 2.0));
    for i in 0..y.len() {
        let u = a.exp()
            + s.ln()
            + s.ln_1p()
            + (0.1 * a).exp_m1()
            + s.sqrt()
            + a.powi(3)
            + s.powf(0.7)
            + (a - 0.3).abs()
            + a.tanh()
            + a.sin()
            + a.cos()
            + a.atan()
            + s.powi(-2);
        let v = a.max(T::from(y[i]))
            + s.min(T::from(1.0))
            + s.recip()
            + (0.3 * a).tan()
            + a.inv_logit()
            + a.log_inv_logit()
            + a.log1p_exp()
            + p.logit()
            + (-s).log1m_exp();
        let w = s.lgamma() + s.digamma() + (0.5 * a).erf() + a.erfc() + s.pow(p);
        factor!("u[{i}]", -0.01 * (u * u + v * v + w * w));
    }
}

#[test]
fn elementary_methods_match() {
    let y = data(4, 20);
    check!(elementary_methods(&y), 20, 2.0, generated);
}

/// Each method alone in an accumulator (a reduction: partials recomputed backwards).
#[model]
fn elementary_reduction(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", Gamma::new(3.0, 2.0));
    let mut acc = 0.0 * a;
    for i in 0..y.len() {
        acc += (a * y[i]).exp() * 0.1;
        acc += (s + y[i] * y[i]).ln();
        acc -= (s * y[i].abs()).sqrt();
        acc += (a - y[i]).powi(2) * -0.5;
        acc += (s + 1.0).powf(y[i]);
        acc += (a + y[i]).abs() * 0.1;
        acc += (a * y[i]).max(s - 1.0);
        acc += (a * y[i]).min(-s);
        acc += (a + y[i]).sin() * (s - y[i]).cos();
        acc += (a / (1.0 + s)).atan() + (a * 0.5).tanh();
        acc += (a * y[i]).log1p_exp() - (s * 0.1).exp_m1() + s.ln_1p();
    }
    factor!("acc", acc);
}

#[test]
fn elementary_methods_in_reductions() {
    let y = data(11, 21);
    check!(elementary_reduction(&y), 20, 2.0, generated);
}

#[model]
fn math_functions(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let s = sample!("s", LogNormal::new(0.0, 0.5));
    let p = sample!("p", Beta::new(2.0, 2.0));
    for i in 0..y.len() {
        let lp1 = Normal::<T>::new(a, 1.0).ln_pdf_obs(y[i]);
        let lp2 = Normal::<T>::new(-a, s).ln_pdf_obs(y[i]);
        factor!("mix[{i}]", math::log_mix(p, lp1, lp2));
        factor!(
            "m[{i}]",
            -0.1 * math::log1p_exp(a * y[i]) + 0.01 * math::lbeta(s, p + 1.0)
        );
        factor!("d[{i}]", 0.01 * math::log_diff_exp(a.abs() + s, a.abs()));
        factor!(
            "c[{i}]",
            0.1 * math::std_normal_cdf(a - y[i]).ln() + 0.01 * math::erf(a) * math::erfc(s)
        );
        factor!("g[{i}]", 0.01 * (math::lgamma(s) + math::digamma(s + 1.0)));
    }
}

#[test]
fn tilde_math_functions() {
    let y = data(4, 22);
    check!(math_functions(&y), 20, 2.0, generated);
}

/// `math::log_sum_exp` over an array of parameter values named inside the loop, and
/// over an array literal (the terms on forward duals).
#[model]
fn log_sum_exp_slice(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        let terms = [a - y[i], b + y[i]];
        factor!("lse[{i}]", math::log_sum_exp(&terms));
        factor!(
            "lit[{i}]",
            -math::log_sum_exp(&[a * y[i], b, T::from(y[i])])
        );
    }
}

/// The named array read besides the sum, or changed after it is bound: the tape.
#[model]
fn log_sum_exp_slice_read_twice(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        let terms = [a - y[i], a + y[i]];
        factor!("lse[{i}]", math::log_sum_exp(&terms) + terms[0]);
    }
}

#[test]
fn log_sum_exp_over_a_slice() {
    let y = data(3, 23);
    check!(log_sum_exp_slice(&y), 10, 2.0, generated);
    check!(log_sum_exp_slice_read_twice(&y), 10, 2.0, fallback);
}

// ---------------------------------------------------------------------------------
// observed sites

#[model]
fn continuous_observations(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let nu = sample!("nu", Gamma::new(4.0, 0.5));
    for i in 0..y.len() {
        let yp = y[i].abs() + 0.1;
        let yu = 1.0 / (1.0 + (-y[i]).exp());
        sample!("n[{i}]", Normal::new(mu, s), obs = y[i]);
        sample!("n2[{i}]", Normal::new(y[i], s + 0.1), obs = 1.0);
        sample!("st[{i}]", StudentT::new(nu, mu, s), obs = y[i]);
        sample!(
            "st2[{i}]",
            StudentT::new(3.0, mu * y[i], 1.0 + s),
            obs = y[i]
        );
        sample!("c[{i}]", Cauchy::new(mu, s), obs = y[i]);
        sample!("ln[{i}]", LogNormal::new(mu, s), obs = yp);
        sample!("g[{i}]", Gamma::new(s + 1.0, mu.exp()), obs = yp);
        sample!("b[{i}]", Beta::new(s + 0.5, mu.exp()), obs = yu);
        sample!("e[{i}]", Exponential::new(s), obs = yp);
        sample!("hn[{i}]", HalfNormal::new(s), obs = yp);
        sample!("hc[{i}]", HalfCauchy::new(s + 0.1), obs = yp);
        sample!("l[{i}]", Laplace::new(mu, s), obs = y[i]);
        sample!("lo[{i}]", Logistic::new(mu, s), obs = y[i]);
        sample!("gu[{i}]", Gumbel::new(mu, s), obs = y[i]);
        sample!("w[{i}]", Weibull::new(s + 0.5, mu.exp()), obs = yp);
        sample!("ig[{i}]", InverseGamma::new(s + 1.0, 2.0), obs = yp);
        sample!("sn[{i}]", SkewNormal::new(mu, s, 2.0 * mu), obs = y[i]);
        sample!("hst[{i}]", HalfStudentT::new(4.0, s), obs = yp);
    }
    sample!("all", Normal::new(mu, s).iid(y.len()), obs = y);
}

#[test]
fn continuous_families_observed() {
    let y = data(5, 24);
    check!(continuous_observations(&y), 15, 2.0, generated);
}

#[model]
fn discrete_observations(k: &[u64], b: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let c = sample!("c", Normal::new(0.0, 1.0));
    let p = sample!("p", Beta::new(2.0, 2.0));
    let phi = sample!("phi", Gamma::new(2.0, 1.0));
    for i in 0..k.len() {
        sample!("po[{i}]", Poisson::new((a + 0.3 * x[i]).exp()), obs = k[i]);
        sample!("pl[{i}]", Poisson::log_rate(a + c * x[i]), obs = k[i]);
        sample!("bn[{i}]", Bernoulli::new(p), obs = b[i]);
        sample!("bl[{i}]", Bernoulli::logit(a + c * x[i]), obs = b[i]);
        sample!("bi[{i}]", Binomial::new(10, p), obs = k[i]);
        sample!("bil[{i}]", Binomial::logit(10, a - c), obs = k[i]);
        sample!("nb[{i}]", NegativeBinomial::new(a.exp(), phi), obs = k[i]);
        sample!("nbp[{i}]", NegativeBinomial::probs(phi, p), obs = k[i]);
        sample!("ge[{i}]", Geometric::new(p), obs = k[i]);
        sample!("bb[{i}]", BetaBinomial::new(10, phi, p + 1.0), obs = k[i]);
        sample!("zip[{i}]", ZeroInflatedPoisson::new(p, phi), obs = k[i]);
    }
}

#[test]
fn discrete_families_observed() {
    let (k, b, x) = (counts(6, 25), binary(6, 26), data(6, 27));
    check!(discrete_observations(&k, &b, &x), 15, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// constrained latent sites

#[model]
fn constrained_latents(y: &[f64]) {
    let a = sample!("a", Beta::new(2.0, 3.0));
    let b = sample!("b", Gamma::new(2.0, 1.0));
    let c = sample!("c", Uniform::new(-2.0, 3.0));
    let d = sample!("d", Flat::interval(0.0, 1.0 - a));
    let e = sample!("e", LogNormal::new(0.0, 1.0));
    let f = sample!("f", Exponential::new(b));
    let g = sample!("g", InverseGamma::new(3.0, 2.0));
    let h = sample!("h", Weibull::new(2.0, e));
    let p = sample!("p", Pareto::new(1.0, 3.0));
    let q = sample!("q", HalfStudentT::new(3.0, 1.0));
    let r = sample!("r", Flat::positive());
    let u = sample!("u", Uniform::new(c, c + b));
    for i in 0..y.len() {
        let m = a * c + d - e * 0.1 + f.ln() + g.sqrt() - h + p.ln() + q - 0.1 * r + u;
        sample!("y[{i}]", Normal::new(m, 1.0 + b), obs = y[i]);
    }
    factor!("r_prior", -r);
}

#[test]
fn constrained_latents_near_their_boundaries() {
    let y = data(3, 28);
    for scale in [1.0, 3.0, 5.0] {
        check!(constrained_latents(&y), 10, scale, generated);
    }
}

/// Latent scalars in a loop (non-centred), one lifted from an expression, a
/// `deterministic!` read by later code.
#[model]
fn latent_sites_in_expressions(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0)) * 2.0 + 1.0;
    let tau = sample!("tau", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Normal::new(0.0, 1.0));
        let theta = deterministic!("theta[{i}]", mu + tau * z);
        sample!("y[{i}]", Normal::new(theta, 0.5), obs = y[i]);
    }
    factor!("lifted", -0.5 * sample!("w", Normal::new(mu, 1.0)).powi(2));
}

#[test]
fn latent_sites_lifted_from_expressions() {
    let y = data(4, 29);
    check!(latent_sites_in_expressions(&y), 10, 2.0, generated);
}

/// A vector site inside a loop: the tape runs it.
#[model]
fn vector_site_in_loop(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..2 {
        let v = sample!("v[{i}]", Normal::new(mu, 1.0).iid(2));
        sample!("y[{i}]", Normal::new(v[0] + v[1], 1.0), obs = y[i]);
    }
}

#[test]
fn vector_site_in_a_loop_falls_back() {
    let y = data(2, 30);
    check!(vector_site_in_loop(&y), 10, 2.0, fallback);
}

/// A vector site whose distribution depends on parameters.
#[model]
fn dependent_vector_site(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let v = sample!("v", Normal::new(mu, s).iid(y.len()));
    let w = sample!("w", Gamma::new(2.0, s + 1.0).iid(2));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(v[i] * w[i % 2], 1.0), obs = y[i]);
    }
}

#[test]
fn parameter_dependent_vector_sites() {
    let y = data(4, 31);
    check!(dependent_vector_site(&y), 10, 2.0, generated);
}

// ---------------------------------------------------------------------------------
// carried state

#[model]
fn arma11(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let phi = sample!("phi", Uniform::new(-1.0, 1.0));
    let theta = sample!("theta", Uniform::new(-1.0, 1.0));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    let mut err = T::from(0.0);
    let mut nu = mu;
    for t in 1..y.len() {
        nu = mu + phi * y[t - 1];
        nu += theta * err;
        err = y[t] - nu;
        err -= 0.0;
        sample!("y[{t}]", Normal::new(nu, sigma), obs = y[t]);
    }
    factor!("last", -0.01 * nu * nu);
}

#[test]
fn arma_with_compound_assignments() {
    let y = data(20, 32);
    check!(arma11(&y), 10, 3.0, generated);
}

#[model]
fn garch(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let omega = sample!("omega", LogNormal::new(-1.0, 1.0));
    let alpha = sample!("alpha", Beta::new(2.0, 5.0));
    let beta = sample!("beta", Flat::interval(0.0, 1.0 - alpha));
    let mut var = omega / (1.0 - alpha - beta);
    let mut total = 0.0 * mu;
    for t in 0..y.len() {
        let sd = var.sqrt();
        total += -0.5 * ((y[t] - mu) / sd).powi(2) - sd.ln();
        let r = y[t] - mu;
        var = omega + alpha * r * r + beta * var;
    }
    factor!("garch", total);
}

#[test]
fn garch_with_sqrt() {
    let y = data(15, 33);
    check!(garch(&y), 10, 4.0, generated);
}

/// A three-state HMM forward pass with a hand-written log-sum-exp, into an array of
/// parameter-dependent values (which the tape runs).
#[model]
fn hmm3(y: &[f64]) {
    let stay = sample!("stay", Beta::new(5.0, 2.0));
    let m0 = sample!("m0", Normal::new(-1.0, 1.0));
    let m1 = sample!("m1", Normal::new(0.0, 1.0));
    let m2 = sample!("m2", Normal::new(1.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mv = (1.0 - stay) * 0.5;
    let ls = stay.ln();
    let lm = mv.ln();
    let third = (1.0f64 / 3.0).ln();
    let mut a0 = Normal::<T>::new(m0, s).ln_pdf_obs(y[0]) + third;
    let mut a1 = Normal::<T>::new(m1, s).ln_pdf_obs(y[0]) + third;
    let mut a2 = Normal::<T>::new(m2, s).ln_pdf_obs(y[0]) + third;
    for t in 1..y.len() {
        let mut next = [T::from(0.0); 3];
        for j in 0..3 {
            let b0 = a0 + if j == 0 { ls } else { lm };
            let b1 = a1 + if j == 1 { ls } else { lm };
            let b2 = a2 + if j == 2 { ls } else { lm };
            let m = b0.max(b1).max(b2);
            next[j] = m + ((b0 - m).exp() + (b1 - m).exp() + (b2 - m).exp()).ln();
        }
        a0 = next[0] - 0.5 * ((y[t] - m0) / s).powi(2) - s.ln();
        a1 = next[1] - 0.5 * ((y[t] - m1) / s).powi(2) - s.ln();
        a2 = next[2] - 0.5 * ((y[t] - m2) / s).powi(2) - s.ln();
    }
    let m = a0.max(a1).max(a2);
    factor!(
        "marginal",
        m + ((a0 - m).exp() + (a1 - m).exp() + (a2 - m).exp()).ln()
    );
}

#[test]
fn hmm_with_an_array_of_states_falls_back() {
    let y = data(12, 34);
    check!(hmm3(&y), 10, 2.0, fallback);
}

/// The same HMM with scalars throughout.
#[model]
fn hmm3_scalars(y: &[f64]) {
    let stay = sample!("stay", Beta::new(5.0, 2.0));
    let m0 = sample!("m0", Normal::new(-1.0, 1.0));
    let m1 = sample!("m1", Normal::new(0.0, 1.0));
    let m2 = sample!("m2", Normal::new(1.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let ls = stay.ln();
    let lm = ((1.0 - stay) * 0.5).ln();
    let third = (1.0f64 / 3.0).ln();
    let mut a0 = Normal::<T>::new(m0, s).ln_pdf_obs(y[0]) + third;
    let mut a1 = Normal::<T>::new(m1, s).ln_pdf_obs(y[0]) + third;
    let mut a2 = Normal::<T>::new(m2, s).ln_pdf_obs(y[0]) + third;
    for t in 1..y.len() {
        let b00 = a0 + ls;
        let b01 = a1 + lm;
        let b02 = a2 + lm;
        let k0 = b00.max(b01).max(b02);
        let n0 = k0 + ((b00 - k0).exp() + (b01 - k0).exp() + (b02 - k0).exp()).ln();
        let b10 = a0 + lm;
        let b11 = a1 + ls;
        let b12 = a2 + lm;
        let k1 = b10.max(b11).max(b12);
        let n1 = k1 + ((b10 - k1).exp() + (b11 - k1).exp() + (b12 - k1).exp()).ln();
        let b20 = a0 + lm;
        let b21 = a1 + lm;
        let b22 = a2 + ls;
        let k2 = b20.max(b21).max(b22);
        let n2 = k2 + ((b20 - k2).exp() + (b21 - k2).exp() + (b22 - k2).exp()).ln();
        a0 = n0 - 0.5 * ((y[t] - m0) / s).powi(2) - s.ln();
        a1 = n1 - 0.5 * ((y[t] - m1) / s).powi(2) - s.ln();
        a2 = n2 - 0.5 * ((y[t] - m2) / s).powi(2) - s.ln();
    }
    let m = a0.max(a1).max(a2);
    factor!(
        "marginal",
        m + ((a0 - m).exp() + (a1 - m).exp() + (a2 - m).exp()).ln()
    );
}

#[test]
fn hmm_forward_with_scalars() {
    let y = data(12, 35);
    check!(hmm3_scalars(&y), 10, 2.0, generated);
}

/// A local linear trend: several values carried at once, swapped through a temporary.
#[model]
fn local_linear_trend(y: &[f64]) {
    let s_level = sample!("s_level", HalfNormal::new(1.0));
    let s_obs = sample!("s_obs", HalfNormal::new(1.0));
    let damp = sample!("damp", Beta::new(3.0, 1.0));
    let mut level = T::from(y[0]);
    let mut trend = T::from(0.0);
    let mut previous = level;
    for t in 1..y.len() {
        let new_level = level + damp * trend;
        trend = damp * trend + (new_level - previous) * 0.1;
        previous = level;
        level = new_level;
        sample!(
            "y[{t}]",
            Normal::new(level, s_obs + s_level * trend.abs()),
            obs = y[t]
        );
    }
}

#[test]
fn several_values_carried() {
    let y = data(10, 36);
    check!(local_linear_trend(&y), 10, 3.0, generated);
}

// ---------------------------------------------------------------------------------
// transformed data, reductions

#[model]
fn transformed_data(y: &[f64]) {
    let z: Vec<f64> = y.iter().map(|v| (v + 2.0).ln()).collect();
    let mean: f64 = z.iter().sum::<f64>() / z.len() as f64;
    let centred = z.iter().map(|v| v - mean).collect::<Vec<f64>>();
    let mu = sample!("mu", Normal::new(mean, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..z.len() {
        sample!("z[{i}]", Normal::new(mu + centred[i] * s, s), obs = z[i]);
    }
}

#[test]
fn transformed_data_in_the_body() {
    let y = data(8, 37);
    check!(transformed_data(&y), 10, 2.0, generated);
}

/// Reductions in every spelling, over `i32` and closed ranges, reading group indices.
#[model]
fn reductions(y: &[f64], group: &[usize], n_groups: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", Exponential::new(1.0));
    let theta = sample!("theta", Normal::new(0.0, 1.0).iid(n_groups));
    let mut a = 0.0 * mu;
    let mut b = 0.0 * mu;
    let mut c = 0.0 * mu;
    let n = y.len() as i32;
    for i in 0..y.len() {
        a = a + (y[i] - mu - theta[group[i]]).powi(2);
        b = s * y[i] + b;
        c = c - theta[group[i]] * y[i];
    }
    for k in 0..n {
        a += (y[k as usize] * s).powi(2) * 0.1;
    }
    for k in 1..=n_groups {
        c -= theta[k - 1] * (k as f64);
    }
    factor!("a", -0.5 * a / (s * s) - (n as f64) * s.ln());
    factor!("b", -0.1 * b * b);
    factor!("c", -0.1 * c * c);
}

#[test]
fn reductions_in_every_spelling() {
    let y = data(19, 38);
    let group: Vec<usize> = (0..19).map(|i| i % 3).collect();
    check!(reductions(&y, &group, 3), 10, 2.0, generated);
}

/// A data-only observation in a loop (its density cached) beside active ones.
#[model]
fn data_only_sites(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("fixed[{i}]", Normal::new(0.5, sigma[i]), obs = y[i]);
        sample!("y[{i}]", Normal::new(mu, sigma[i]), obs = y[i]);
        factor!("const[{i}]", -0.5 * sigma[i]);
    }
}

#[test]
fn data_only_sites_beside_active_ones() {
    let y = data(5, 39);
    let sigma: Vec<f64> = data(5, 40).iter().map(|v| 1.0 + v.abs()).collect();
    check!(data_only_sites(&y, &sigma), 10, 2.0, generated);
}

/// A branch on the carried value inside a carried loop, with sites in both arms.
#[model]
fn branch_in_carried_loop(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let rho = sample!("rho", Uniform::new(-1.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut x = mu;
    for t in 0..y.len() {
        if x > 0.0 {
            x = rho * x + y[t];
            sample!("pos[{t}]", Normal::new(x, s), obs = y[t]);
        } else {
            let gap = y[t] - x;
            x -= rho * gap * 0.5;
            factor!("neg[{t}]", -gap.abs() / s - s.ln());
        }
        x = x.tanh() * 2.0;
    }
}

#[test]
fn branches_inside_carried_loops() {
    let y = data(10, 41);
    check!(branch_in_carried_loop(&y), 20, 2.0, generated);
}

/// The observed sites the generated code writes out (Normal, Student-t, Poisson on the
/// log scale), each with data and parameter arguments, also in a branch on a parameter.
#[model]
fn written_out_sites(y: &[f64], sigma: &[f64], k: &[u64], nu: f64) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", LogNormal::new(0.0, 0.5));
    for i in 0..y.len() {
        sample!("a[{i}]", Normal::new(mu, sigma[i]), obs = y[i]);
        sample!("b[{i}]", Normal::new(y[i], s), obs = 0.5);
        sample!("c[{i}]", StudentT::new(nu, mu * y[i], s), obs = y[i]);
        sample!("d[{i}]", StudentT::new(nu, mu, sigma[i]), obs = y[i]);
        if mu > 0.0 {
            sample!("e[{i}]", Poisson::log_rate(mu * y[i] + s), obs = k[i]);
            sample!("f[{i}]", Normal::new(mu, sigma[i] * 2.0), obs = y[i]);
        } else {
            sample!("g[{i}]", StudentT::new(nu + 1.0, y[i], s), obs = 0.0);
        }
    }
}

#[test]
fn written_out_observations() {
    let y = data(6, 42);
    let sigma: Vec<f64> = data(6, 43).iter().map(|v| 0.5 + v.abs()).collect();
    let k = counts(6, 44);
    for nu in [1.5, 7.0] {
        check!(written_out_sites(&y, &sigma, &k, nu), 20, 2.0, generated);
    }
}

// What the data-flow analysis cannot follow: values changed on a condition over
// parameters, data changed in place after a sum read it, `max` meeting NaN.

/// A data scale set on a condition over a parameter: the scale depends on the
/// parameter through the branch taken, so its `-ln sd` term is not a constant.
#[model]
fn regime_scale(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let mut sd = 1.0;
    if mu > 0.0 {
        sd = 2.0;
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, sd), obs = y[i]);
    }
}

/// A count of exceedances of a parameter, observed by a site with data arguments.
#[model]
fn exceedances(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("m", Normal::new(mu, 1.0), obs = 0.3);
    let mut k = 0u64;
    for i in 0..y.len() {
        if mu < y[i] {
            k += 1;
        }
    }
    sample!("k", Binomial::new(y.len() as u64, 0.5), obs = k);
}

#[test]
fn values_changed_on_a_condition_over_parameters_run_on_the_tape() {
    let y = data(6, 77);
    let model = regime_scale(&y);
    assert_falls_back(&model.gradient_engine());
    // on both sides of the switch
    matches_tape(
        &model,
        &regime_scale(&y).with_engine(Engine::Reverse),
        10,
        1.5,
    );
    let model = exceedances(&y);
    assert_falls_back(&model.gradient_engine());
    matches_tape(
        &model,
        &exceedances(&y).with_engine(Engine::Reverse),
        10,
        1.5,
    );
}

/// A scratch buffer filled, summed over, then filled again and summed over again.
#[model]
fn scratch_buffer(x: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let n = x.len();
    let mut w = vec![0.0; n];
    for i in 0..n {
        w[i] = x[i] * x[i];
    }
    let mut a = 0.0 * mu;
    for i in 0..n {
        a += w[i] * (mu - x[i]).powi(2);
    }
    for i in 0..n {
        w[i] = x[i].abs();
    }
    let mut b = 0.0 * mu;
    for i in 0..n {
        b += w[i] * s;
    }
    factor!("a", -0.5 * a);
    factor!("b", -b);
}

#[test]
fn data_changed_in_place_after_a_sum_read_it() {
    let x = data(6, 77);
    let model = scratch_buffer(&x);
    assert_generated(&model.gradient_engine());
    matches_tape(
        &model,
        &scratch_buffer(&x).with_engine(Engine::Reverse),
        10,
        1.5,
    );
}

/// A floor under a logarithm that is NaN for `s < x[i]`: `Real::max` keeps the NaN
/// (the point is rejected), as on the tape.
#[model]
fn floored_log(x: &[f64]) {
    let s = sample!("s", Normal::new(0.0, 1.0));
    let mut a = 0.0 * s;
    for i in 0..x.len() {
        a += T::from(-30.0).max((s - x[i]).ln());
    }
    factor!("a", a);
}

#[test]
fn max_over_a_nan_rejects_the_point_as_the_tape_does() {
    let x: Vec<f64> = data(6, 77).iter().map(|v| v.abs()).collect();
    let model = floored_log(&x);
    assert_generated(&model.gradient_engine());
    let tape = floored_log(&x).with_engine(Engine::Reverse);
    for s in [-1.0, 0.5, 2.0] {
        let (mut g1, mut g2) = ([0.0], [0.0]);
        let (lp1, lp2) = (
            model.logp_and_grad(&[s], &mut g1),
            tape.logp_and_grad(&[s], &mut g2),
        );
        assert_eq!(lp1.is_finite(), lp2.is_finite(), "at {s}: {lp1} vs {lp2}");
        if lp2.is_finite() {
            assert!((lp1 - lp2).abs() <= 1e-12 * lp2.abs().max(1.0), "at {s}");
            assert!(
                (g1[0] - g2[0]).abs() <= 1e-12 * g2[0].abs().max(1.0),
                "at {s}"
            );
        } else {
            assert_eq!((lp1, g1), (f64::NEG_INFINITY, [0.0]), "at {s}");
        }
    }
    assert!(!model.logp(&[0.5]).is_finite());
}
