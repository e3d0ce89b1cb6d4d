//! Closures bound to a name and only called, read as their bodies at each call in the
//! generated code, and arrays of arrays or arrays assigned whole, read element by
//! element: against the tape (the oracle), and the closures that keep a model on the
//! tape.

#[path = "common/against_tape.rs"]
#[macro_use]
mod against_tape;
mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;
#[path = "../examples/posteriordb/models.rs"]
mod models;

use against_tape::*;
use tilde::Engine;
use tilde::prelude::*;

fn seeded(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed).iter().map(|v| 2.0 * v).collect()
}

/// A two-state HMM whose emission log-density is a closure over the locations, with
/// typed and untyped parameters, called in loops and nested in another call.
#[model]
fn emissions(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(2));
    let s = sample!("s", HalfNormal::new(1.0));
    let p = sample!("p", Beta::new(2.0, 2.0));
    let emission = |t: usize, k: usize| Normal::<T>::new(mu[k], s).ln_pdf_obs(y[t]);
    let square = |z| z * z;
    let mix = |a: T, b: T| (p.ln() + a).log_sum_exp((1.0 - p).ln() + b);
    for t in 0..y.len() {
        factor!("y[{t}]", mix(emission(t, 0), emission(t, 1)));
    }
    factor!("shrink", -0.5 * square(mu[0] - mu[1]) - square(s));
}

#[test]
fn closures_called_in_loops_run_generated() {
    for n in [1, 6, 40] {
        let y = seeded(n, 5);
        assert_generated(&against!(emissions(&y), 20, 1.5));
    }
}

/// A closure reading a name bound again after it: each call must read the first
/// binding, so the closure is not rewritten.
#[model]
fn rebound_capture(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let c = 2.0;
    let scaled = |x: T| x * c;
    let c = 5.0;
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(scaled(a) + c, 1.0), obs = y[i]);
    }
}

/// A closure passed on (not only called), and one called with an argument that has an
/// effect (its count of calls changes).
#[model]
fn passed_on(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let shift = |x: f64| x - a;
    let total: T = y
        .iter()
        .map(|v| shift(*v))
        .fold(T::from(0.0), |s, r| s + r * r);
    factor!("sq", -0.5 * total);
}

#[model]
fn argument_with_an_effect(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let twice = |x: T| x + x;
    let mut k: usize = 0;
    for i in 0..y.len() {
        sample!(
            "y[{i}]",
            Normal::new(
                twice(
                    a * y[{
                        k += 1;
                        k - 1
                    }]
                ),
                1.0
            ),
            obs = y[i]
        );
    }
}

#[test]
fn closures_the_rewrite_leaves_match_the_tape() {
    let y = seeded(5, 7);
    // the value is right whichever engine runs it
    against!(rebound_capture(&y), 10, 1.5);
    check!(passed_on(&y), 10, 1.5, fallback);
    against!(argument_with_an_effect(&y), 10, 1.5);
}

/// posteriordb's `hmm_example` as written there: an emission closure, a 2 × 2 array of
/// log transition probabilities and the forward variables assigned whole each step.
/// Over its 100 steps the tape's gradient parts from the generated one by up to 2e-12
/// relative (at the first point: -0.586057790366754 against -0.586057790365729), and
/// forward duals, which carry each derivative forward with its value, agree with the
/// generated code to 4e-16 there (-0.586057790365728692 against …728914): the tape's
/// node-by-node reverse sweep of the recursion is the one that rounds more, so forward
/// duals are the oracle here.
#[test]
fn posteriordb_hmm_example_runs_generated() {
    let (data, _) = common::reference("hmm_example-hmm_example");
    let y = data.get("y").nums();
    let generated = models::hmm_example(&y).with_engine(Engine::Codegen);
    assert_generated(&generated.gradient_engine());
    let forward = models::hmm_example(&y).with_engine(Engine::Forward);
    matches_tape(&generated, &forward, 20, 1.5);
    matches_tape(&models::hmm_example(&y), &forward, 20, 1.5);
}

/// Arrays of arrays read and written by two indices, data and parameter values; an
/// array assigned whole whose new elements read the old ones, in a loop and at the top
/// level.
#[model]
fn nested_and_whole(y: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", HalfNormal::new(1.0));
    let weights = [[0.5, 1.5, -1.0], [2.0, 0.25, 1.0]];
    let mut m = [[a, b, a * b], [b * b, T::from(1.0), a - b]];
    m[1][2] = m[0][1] * weights[1][0] + m[1][2];
    let mut state = [a, b];
    for t in 0..y.len() {
        state = [
            state[1] * 0.5 + y[t] * m[t % 2][t % 3],
            state[0] - state[1] * weights[0][t % 3],
        ];
        sample!("y[{t}]", Normal::new(state[0], 1.0 + b), obs = y[t]);
    }
    state = [state[1], state[0]];
    factor!("last", -0.5 * state[0] * state[0] * m[1][2]);
}

#[test]
fn nested_arrays_and_arrays_assigned_whole() {
    for n in [1, 2, 11] {
        let y = seeded(n, 13);
        assert_generated(&against!(nested_and_whole(&y), 20, 1.5));
    }
}
