//! Sixth round of adversarial coverage of the gradient code `#[model]` generates,
//! against the reverse tape (the oracle). The first five rounds (`tests/codegen.rs`,
//! `tests/codegen_coverage.rs`, `tests/codegen_edges.rs`, `tests/codegen_hostile.rs`,
//! `tests/codegen_fourth.rs`, `tests/codegen_fifth.rs`) probed exotic corners; this one
//! writes models the way a Stan, PyMC or NumPyro user writes them: varying-intercept and
//! varying-slope regressions over group indices (radon, with a county-level predictor,
//! nested counties in states, centred and non-centred, with Stan-style transformed
//! parameter vectors built by a loop or an iterator); logistic, Poisson (with
//! exposures), negative-binomial, binomial and beta-binomial regressions over predictors
//! as separate slices, `&[Vec<f64>]` rows and flat row-major matrices, with interactions
//! and predictors standardised as transformed data; mixtures (`math::log_mix`, the
//! posteriordb `log_sum_exp` method, a mixture over a Dirichlet), zero-inflated Poisson
//! by hand and as a site, change points on data and on a parameter and marginalised
//! over, right-censored observations through `ln_ccdf` and through `std_normal_cdf`;
//! AR(K) with a nested lag loop, random walks, stochastic volatility, a local linear
//! trend, MA(2) with carried and with stored errors, a Gaussian process; measurement
//! error, Rasch and 2PL IRT, Bradley–Terry, ordinal logistic regression with ordered
//! and hand-built cut points; `iter().zip()`, `enumerate`, `while` and `match` on
//! data, helper closures over data and over parameters; every scalar family observed
//! in a loop with parameter-dependent arguments, and the constrained latent families
//! swept far towards their support's boundaries (scales 5 and 30).
//!
//! Also: Stan-style transformed data with types (a tuple pattern, a group count, a
//! fixed array, nested vectors), parameters annotated `T`, a `const` and a local `fn`
//! in the body, missing data as `Option` (`if let`, `match` with a guard), complete-case
//! index lists, an ICAR spatial prior over an edge list, a panel of random walks, the
//! Kalman filter of a local level with missing observations, Stan's ragged-array
//! idiom, multilevel slopes with group predictors, LKJ-correlated slopes, 1-based and
//! `f64` group indices, an intercept-first coefficient vector and a column-major
//! design, radon at its real size (919 rows, 85 counties), series of 1000 and 2000
//! steps, a 5000-term reduction, latent sites inside plate loops, inside a carried loop
//! (NumPyro's `scan`: a centred random walk, centred log-normal volatilities, cut
//! points drawn one above the other) and in one arm of an `if` value (imputation), a
//! dynamic regression (a linear predictor inside a carried loop), probit and
//! multinomial-logit regressions, and counts stored as `f64` (with rounding residue
//! and fractional values, rejected alike by both engines).
//!
//! Each model is built with `Engine::Codegen`, `Engine::Reverse` and `Engine::Auto`;
//! the generated code and `Auto` match the tape to 1e-12 relative (log-density and
//! gradient, with and without the Jacobian), point by point, rejections included.
//! Whether the generated code runs is asserted for each model. The round found no
//! wrong value or gradient, no panic and no compile error of the generator: every model
//! whose generated code runs agrees with the tape everywhere it was swept. It found 20
//! realistic models that fall back to the tape (performance defects); their tests
//! assert generated code and are `#[ignore]`d with the reason `gradient_engine()`
//! gives. All twenty run generated now (tuple `let`s, `log_sum_exp` and `Phi` over
//! parameters, distributions' `ln_ccdf` and `ln_pdf_obs_sum`, ordered latent vectors,
//! `TruncatedNormal` priors, one name bound in two sibling loops, `match` and `if let`
//! on data, transformed parameters filled by a loop or collected, `zip` over a latent
//! vector, vectors of parameter values written element by element: MA(q)'s stored
//! errors and the marginalised change point's `lp[s] += …` with `log_sum_exp(&lp)`,
//! `while` loops on data, `.truncated(..)` observations) and lost their `#[ignore]`.
//! Models that
//! legitimately fall back (a Dirichlet mixture, a Gaussian process, an iterator sum, a
//! categorical site over an array of parameters) are checked to fall back (a helper
//! closure over parameters, one of them first, now runs generated: a closure only ever
//! called is read as its body) and to match the tape; the LKJ slopes,
//! first among them, now run generated (latent vector sites over data are evaluated
//! with duals). Bodies that did not compile as first written (library API, not the
//! generator) are at the end.

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
#[path = "common/natural.rs"]
mod natural;

use against_tape::*;
use natural::ma2_stored;
use tilde::Engine;
use tilde::math;
use tilde::prelude::*;

/// Seeded data in `[-1.5, 1.5]`.
fn seeded(n: usize, seed: u64) -> Vec<f64> {
    common::point(n, seed + 6000)
}

/// Seeded positive data in `[0.2, 3.2]`.
fn positive(n: usize, seed: u64) -> Vec<f64> {
    seeded(n, seed).iter().map(|v| v + 1.7).collect()
}

/// Seeded data in `(0, 1)`.
fn unit(n: usize, seed: u64) -> Vec<f64> {
    seeded(n, seed)
        .iter()
        .map(|v| 0.05 + 0.3 * (v + 1.5))
        .collect()
}

/// Seeded group indices in `0..groups`, every group used when `n >= groups`.
fn groups(n: usize, groups: usize, seed: u64) -> Vec<usize> {
    let noise = seeded(n, seed);
    (0..n)
        .map(|i| {
            if i < groups {
                i
            } else {
                (((noise[i] + 1.5) / 3.0 * groups as f64) as usize).min(groups - 1)
            }
        })
        .collect()
}

/// Seeded counts in `0..=max`.
fn counts(n: usize, max: u64, seed: u64) -> Vec<u64> {
    seeded(n, seed)
        .iter()
        .map(|v| ((v + 1.5) / 3.0 * (max as f64 + 0.99)) as u64)
        .collect()
}

/// Seeded booleans.
fn flags(n: usize, seed: u64) -> Vec<bool> {
    seeded(n, seed).iter().map(|v| *v > 0.1).collect()
}

// ---------------------------------------------------------------------------------
// hierarchical regressions over group indices

/// Radon, varying intercepts, non-centred: `log_radon ~ a[county] + beta * floor`.
#[model]
fn radon_intercepts(log_radon: &[f64], floor: &[f64], county: &[usize], j: usize) {
    let mu_a = sample!("mu_a", Normal::new(0.0, 10.0));
    let sigma_a = sample!("sigma_a", HalfNormal::new(1.0));
    let a_raw = sample!("a_raw", Normal::new(0.0, 1.0).iid(j));
    let beta = sample!("beta", Normal::new(0.0, 1.0));
    let sigma_y = sample!("sigma_y", HalfCauchy::new(2.5));
    for i in 0..log_radon.len() {
        let a = mu_a + sigma_a * a_raw[county[i]];
        sample!(
            "y[{i}]",
            Normal::new(a + beta * floor[i], sigma_y),
            obs = log_radon[i]
        );
    }
}

#[test]
fn radon_varying_intercepts() {
    let (y, floor) = (seeded(40, 1), flags(40, 2));
    let floor: Vec<f64> = floor.iter().map(|f| f64::from(*f)).collect();
    let county = groups(40, 6, 3);
    assert_generated(&against!(radon_intercepts(&y, &floor, &county, 6), 20, 1.5));
    let (_, rejected) = swept!(radon_intercepts(&y, &floor, &county, 6), 20, 5.0);
    assert_eq!(rejected, 0);
}

/// Radon, varying intercepts and slopes with a county-level uranium predictor, the
/// county terms read through `let c = county[i];`.
#[model]
fn radon_slopes(y: &[f64], x: &[f64], county: &[usize], uranium: &[f64]) {
    let j = uranium.len();
    let g0 = sample!("g0", Normal::new(0.0, 10.0));
    let g1 = sample!("g1", Normal::new(0.0, 10.0));
    let mu_b = sample!("mu_b", Normal::new(0.0, 10.0));
    let sigma_a = sample!("sigma_a", Exponential::new(1.0));
    let sigma_b = sample!("sigma_b", Exponential::new(1.0));
    let a_raw = sample!("a_raw", Normal::new(0.0, 1.0).iid(j));
    let b_raw = sample!("b_raw", Normal::new(0.0, 1.0).iid(j));
    let sigma = sample!("sigma", HalfNormal::new(2.0));
    for i in 0..y.len() {
        let c = county[i];
        let a = g0 + g1 * uranium[c] + sigma_a * a_raw[c];
        let b = mu_b + sigma_b * b_raw[c];
        sample!("y[{i}]", Normal::new(a + b * x[i], sigma), obs = y[i]);
    }
}

#[test]
fn radon_varying_slopes_with_a_group_predictor() {
    let (y, x, uranium) = (seeded(30, 4), seeded(30, 5), seeded(5, 6));
    let county = groups(30, 5, 7);
    assert_generated(&against!(radon_slopes(&y, &x, &county, &uranium), 20, 1.5));
    swept!(radon_slopes(&y, &x, &county, &uranium), 20, 5.0);
}

/// Counties nested in states: `a[county[i]] + b[state[county[i]]]`, both non-centred.
#[model]
fn nested_groups(y: &[f64], county: &[usize], state: &[usize], n_states: usize) {
    let n_counties = state.len();
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let sigma_state = sample!("sigma_state", HalfNormal::new(1.0));
    let sigma_county = sample!("sigma_county", HalfNormal::new(1.0));
    let b_raw = sample!("b_raw", Normal::new(0.0, 1.0).iid(n_states));
    let a_raw = sample!("a_raw", Normal::new(0.0, 1.0).iid(n_counties));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let eta = mu + sigma_county * a_raw[county[i]] + sigma_state * b_raw[state[county[i]]];
        sample!("y[{i}]", Normal::new(eta, sigma), obs = y[i]);
    }
}

#[test]
fn counties_nested_in_states() {
    let y = seeded(36, 8);
    let county = groups(36, 7, 9);
    let state = vec![0, 0, 1, 1, 1, 2, 0];
    assert_generated(&against!(nested_groups(&y, &county, &state, 3), 20, 1.5));
}

/// The centred form: `theta ~ Normal(mu, tau)` as a latent `iid` site, read by group.
#[model]
fn centred_groups(y: &[f64], g: &[usize], j: usize) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(1.0));
    let theta = sample!("theta", Normal::new(mu, tau).iid(j));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(theta[g[i]], sigma), obs = y[i]);
    }
}

#[test]
fn centred_group_effects_towards_the_funnel() {
    let y = seeded(24, 10);
    let g = groups(24, 4, 11);
    assert_generated(&against!(centred_groups(&y, &g, 4), 20, 1.5));
    swept!(centred_groups(&y, &g, 4), 20, 5.0);
    swept!(centred_groups(&y, &g, 4), 20, 30.0);
}

/// Stan's transformed parameters, `vector[J] a = mu + tau * a_raw;`, as a vector the
/// body fills in a loop before the likelihood reads it.
#[model]
fn transformed_vector_loop(y: &[f64], g: &[usize], j: usize) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let a_raw = sample!("a_raw", Normal::new(0.0, 1.0).iid(j));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mut a = vec![T::from(0.0); j];
    for k in 0..j {
        a[k] = mu + tau * a_raw[k];
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(a[g[i]], sigma), obs = y[i]);
    }
}

#[test]
fn transformed_parameters_filled_by_a_loop() {
    let y = seeded(24, 12);
    let g = groups(24, 4, 13);
    assert_generated(&against!(transformed_vector_loop(&y, &g, 4), 20, 1.5));
}

/// The same transformed parameters as an iterator `collect`.
#[model]
fn transformed_vector_collect(y: &[f64], g: &[usize], j: usize) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let a_raw = sample!("a_raw", Normal::new(0.0, 1.0).iid(j));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let a: Vec<T> = a_raw.iter().map(|r| mu + tau * *r).collect();
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(a[g[i]], sigma), obs = y[i]);
    }
}

#[test]
fn transformed_parameters_collected() {
    let y = seeded(24, 14);
    let g = groups(24, 4, 15);
    assert_generated(&against!(transformed_vector_collect(&y, &g, 4), 20, 1.5));
}

// ---------------------------------------------------------------------------------
// generalised linear models

/// Logistic regression with two predictors as separate slices and their interaction.
#[model]
fn logistic_interaction(y: &[bool], age: &[f64], dose: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.5));
    let b_age = sample!("b_age", Normal::new(0.0, 1.0));
    let b_dose = sample!("b_dose", Normal::new(0.0, 1.0));
    let b_int = sample!("b_int", Normal::new(0.0, 0.5));
    for i in 0..y.len() {
        let eta = alpha + b_age * age[i] + b_dose * dose[i] + b_int * age[i] * dose[i];
        sample!("y[{i}]", Bernoulli::logit(eta), obs = y[i]);
    }
}

#[test]
fn logistic_regression_with_an_interaction() {
    let (y, age, dose) = (flags(30, 16), seeded(30, 17), seeded(30, 18));
    assert_generated(&against!(logistic_interaction(&y, &age, &dose), 20, 1.5));
    swept!(logistic_interaction(&y, &age, &dose), 20, 30.0);
}

/// Logistic regression over rows `&[Vec<f64>]`, a nested loop over the columns.
#[model]
fn logistic_rows(y: &[bool], x: &[Vec<f64>]) {
    let d = x[0].len();
    let alpha = sample!("alpha", Normal::new(0.0, 2.5));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    for i in 0..y.len() {
        let mut eta = alpha;
        for k in 0..d {
            eta += x[i][k] * beta[k];
        }
        sample!("y[{i}]", Bernoulli::logit(eta), obs = y[i]);
    }
}

#[test]
fn logistic_regression_over_rows() {
    let y = flags(25, 19);
    let x: Vec<Vec<f64>> = (0..25).map(|i| seeded(4, 100 + i)).collect();
    assert_generated(&against!(logistic_rows(&y, &x), 20, 1.5));
}

/// Poisson regression over a row-major design with an exposure offset.
#[model]
fn poisson_exposure(y: &[u64], x: &[f64], exposure: &[f64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.0));
    let beta = sample!("beta", Normal::new(0.0, 0.5).iid(d));
    for i in 0..y.len() {
        let mut eta = alpha + exposure[i].ln();
        for k in 0..d {
            eta += x[i * d + k] * beta[k];
        }
        sample!("y[{i}]", Poisson::log_rate(eta), obs = y[i]);
    }
}

#[test]
fn poisson_regression_with_exposure() {
    let (y, x, exposure) = (counts(20, 9, 20), seeded(60, 21), positive(20, 22));
    assert_generated(&against!(poisson_exposure(&y, &x, &exposure, 3), 20, 1.5));
    swept!(poisson_exposure(&y, &x, &exposure, 3), 20, 5.0);
}

/// Poisson regression with the predictors standardised as transformed data and the
/// rate written `exp(eta)`.
#[model]
fn poisson_standardised(y: &[u64], x1: &[f64], x2: &[f64]) {
    let n: usize = y.len();
    let m1: f64 = x1.iter().sum::<f64>() / x1.len() as f64;
    let s1: f64 = (x1.iter().map(|v| (v - m1).powi(2)).sum::<f64>() / x1.len() as f64).sqrt();
    let z1: Vec<f64> = x1.iter().map(|v| (v - m1) / s1).collect();
    let m2: f64 = x2.iter().sum::<f64>() / x2.len() as f64;
    let z2: Vec<f64> = x2.iter().map(|v| v - m2).collect();
    let alpha = sample!("alpha", Normal::new(0.0, 2.0));
    let b1 = sample!("b1", Normal::new(0.0, 1.0));
    let b2 = sample!("b2", Normal::new(0.0, 1.0));
    for i in 0..n {
        let rate = (alpha + b1 * z1[i] + b2 * z2[i]).exp();
        sample!("y[{i}]", Poisson::new(rate), obs = y[i]);
    }
}

#[test]
fn poisson_regression_on_standardised_predictors() {
    let (y, x1, x2) = (counts(20, 7, 23), positive(20, 24), seeded(20, 25));
    assert_generated(&against!(poisson_standardised(&y, &x1, &x2), 20, 1.5));
    swept!(poisson_standardised(&y, &x1, &x2), 20, 5.0);
}

/// Negative-binomial regression (mean and dispersion) with a Gamma dispersion prior.
#[model]
fn negative_binomial_regression(y: &[u64], x: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0));
    let phi = sample!("phi", Gamma::new(2.0, 0.1));
    for i in 0..y.len() {
        let mu = (alpha + beta * x[i]).exp();
        sample!("y[{i}]", NegativeBinomial::new(mu, phi), obs = y[i]);
    }
}

#[test]
fn negative_binomial_regression_with_dispersion_at_its_boundaries() {
    let (y, x) = (counts(20, 15, 26), seeded(20, 27));
    assert_generated(&against!(negative_binomial_regression(&y, &x), 20, 1.5));
    swept!(negative_binomial_regression(&y, &x), 20, 5.0);
    swept!(negative_binomial_regression(&y, &x), 20, 30.0);
}

/// Binomial regression (trials per row), as `Binomial::logit` and as
/// `Binomial::new(n, inv_logit(eta))` side by side.
#[model]
fn binomial_regression(k: &[u64], n: &[u64], x: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0));
    for i in 0..k.len() {
        let eta = alpha + beta * x[i];
        sample!("k[{i}]", Binomial::logit(n[i], eta), obs = k[i]);
        sample!("k2[{i}]", Binomial::new(n[i], eta.inv_logit()), obs = k[i]);
    }
}

#[test]
fn binomial_regression_on_the_logit_and_probability_scales() {
    let (k, x) = (counts(15, 6, 28), seeded(15, 29));
    let n: Vec<u64> = k.iter().map(|k| k + 3).collect();
    assert_generated(&against!(binomial_regression(&k, &n, &x), 20, 1.5));
    swept!(binomial_regression(&k, &n, &x), 20, 30.0);
}

/// Beta-binomial regression: mean `inv_logit(a + b x)`, precision `phi`.
#[model]
fn beta_binomial_regression(k: &[u64], n: &[u64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 2.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let phi = sample!("phi", Exponential::new(0.1));
    for i in 0..k.len() {
        let p = (a + b * x[i]).inv_logit();
        sample!(
            "k[{i}]",
            BetaBinomial::new(n[i], p * phi, (1.0 - p) * phi),
            obs = k[i]
        );
    }
}

#[test]
fn beta_binomial_regression_with_its_precision() {
    let (k, x) = (counts(15, 8, 30), seeded(15, 31));
    let n: Vec<u64> = k.iter().map(|k| k + 2).collect();
    assert_generated(&against!(beta_binomial_regression(&k, &n, &x), 20, 1.5));
    swept!(beta_binomial_regression(&k, &n, &x), 20, 5.0);
}

/// A categorical predictor by a `match` on integer data, as a value.
#[model]
fn categorical_match(y: &[f64], level: &[u8]) {
    let b0 = sample!("b0", Normal::new(0.0, 1.0));
    let b1 = sample!("b1", Normal::new(0.0, 1.0));
    let b2 = sample!("b2", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let effect = match level[i] {
            0 => b0,
            1 => b0 + b1,
            _ => b0 + b2,
        };
        sample!("y[{i}]", Normal::new(effect, sigma), obs = y[i]);
    }
}

#[test]
fn a_categorical_predictor_by_match() {
    let y = seeded(18, 32);
    let level: Vec<u8> = (0..18).map(|i| (i % 3) as u8).collect();
    assert_generated(&against!(categorical_match(&y, &level), 20, 1.5));
}

// ---------------------------------------------------------------------------------
// mixtures, zero inflation, change points, censoring

/// posteriordb's `low_dim_gauss_mix`, as `examples/posteriordb/models.rs` writes it
/// (`a.log_sum_exp(b)`).
#[model]
fn gauss_mix_method(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2).ordered());
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let theta = sample!("theta", Beta::new(5.0, 5.0));
    let (ln_theta, ln_1m_theta) = (theta.ln(), (-theta).ln_1p());
    for n in 0..y.len() {
        let a = ln_theta + Normal::<T>::new(mu[0], sigma[0]).ln_pdf_obs(y[n]);
        let b = ln_1m_theta + Normal::<T>::new(mu[1], sigma[1]).ln_pdf_obs(y[n]);
        factor!("y[{n}]", a.log_sum_exp(b));
    }
}

#[test]
fn posteriordb_gauss_mix_with_the_log_sum_exp_method() {
    let y = seeded(30, 33).iter().map(|v| 2.0 * v).collect::<Vec<_>>();
    assert_generated(&against!(gauss_mix_method(&y), 20, 1.5));
}

/// The same two-component mixture over `iid` locations and `math::log_mix`.
#[model]
fn gauss_mix_log_mix(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2));
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let theta = sample!("theta", Beta::new(5.0, 5.0));
    for n in 0..y.len() {
        let lp1 = Normal::<T>::new(mu[0], sigma[0]).ln_pdf_obs(y[n]);
        let lp2 = Normal::<T>::new(mu[1], sigma[1]).ln_pdf_obs(y[n]);
        factor!("y[{n}]", math::log_mix(theta, lp1, lp2));
    }
}

#[test]
fn two_component_mixture_by_log_mix() {
    let y: Vec<f64> = seeded(30, 34).iter().map(|v| 2.0 * v).collect();
    assert_generated(&against!(gauss_mix_log_mix(&y), 20, 1.5));
    swept!(gauss_mix_log_mix(&y), 20, 5.0);
    swept!(gauss_mix_log_mix(&y), 20, 30.0);
}

/// Three Student-t components with stick-breaking weights, nested `log_mix`.
#[model]
fn three_component_mixture(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(3));
    let sigma = sample!("sigma", LogNormal::new(0.0, 1.0).iid(3));
    let v1 = sample!("v1", Beta::new(1.0, 2.0));
    let v2 = sample!("v2", Beta::new(1.0, 2.0));
    for n in 0..y.len() {
        let lp1 = StudentT::<T>::new(4.0, mu[0], sigma[0]).ln_pdf_obs(y[n]);
        let lp2 = StudentT::<T>::new(4.0, mu[1], sigma[1]).ln_pdf_obs(y[n]);
        let lp3 = StudentT::<T>::new(4.0, mu[2], sigma[2]).ln_pdf_obs(y[n]);
        let rest = math::log_mix(v2, lp2, lp3);
        factor!("y[{n}]", math::log_mix(v1, lp1, rest));
    }
}

#[test]
fn three_component_mixture_by_stick_breaking() {
    let y: Vec<f64> = seeded(25, 35).iter().map(|v| 3.0 * v).collect();
    assert_generated(&against!(three_component_mixture(&y), 20, 1.5));
    swept!(three_component_mixture(&y), 20, 5.0);
}

/// A K-component mixture over Dirichlet weights, `math::log_sum_exp` of a buffer.
#[model]
fn dirichlet_mixture(y: &[f64], k: usize) {
    let w = sample!("w", Dirichlet::symmetric(k, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(k));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mut lps = vec![T::from(0.0); k];
    for n in 0..y.len() {
        for c in 0..k {
            lps[c] = w[c].ln() + Normal::<T>::new(mu[c], sigma).ln_pdf_obs(y[n]);
        }
        factor!("y[{n}]", math::log_sum_exp(&lps));
    }
}

#[test]
fn dirichlet_mixture_falls_back() {
    // a simplex site and a buffer of parameters: the tape's, legitimately
    let y: Vec<f64> = seeded(20, 36).iter().map(|v| 3.0 * v).collect();
    assert_falls_back(&against!(dirichlet_mixture(&y, 3), 10, 1.5));
}

/// Zero-inflated Poisson written by hand: a data branch on `y == 0`, `factor!` terms.
#[model]
fn zip_by_hand(y: &[u64], x: &[f64]) {
    let pi = sample!("pi", Beta::new(1.0, 1.0));
    let a = sample!("a", Normal::new(0.0, 2.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        let lambda = (a + b * x[i]).exp();
        if y[i] == 0 {
            factor!("y[{i}]", (pi + (1.0 - pi) * (-lambda).exp()).ln());
        } else {
            factor!(
                "y[{i}]",
                (1.0 - pi).ln() + Poisson::<T>::new(lambda).ln_pdf_obs(y[i] as f64)
            );
        }
    }
}

#[test]
fn zero_inflated_poisson_by_hand() {
    let x = seeded(30, 37);
    let y: Vec<u64> = counts(30, 5, 38)
        .iter()
        .enumerate()
        .map(|(i, c)| if i % 3 == 0 { 0 } else { *c })
        .collect();
    assert_generated(&against!(zip_by_hand(&y, &x), 20, 1.5));
    swept!(zip_by_hand(&y, &x), 20, 5.0);
    swept!(zip_by_hand(&y, &x), 20, 30.0);
}

/// The same with the `ZeroInflatedPoisson` site and a hurdle written with `log1m_exp`.
#[model]
fn zip_site(y: &[u64], x: &[f64]) {
    let pi = sample!("pi", Beta::new(1.0, 1.0));
    let a = sample!("a", Normal::new(0.0, 2.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let theta = sample!("theta", Beta::new(2.0, 2.0));
    for i in 0..y.len() {
        let lambda = (a + b * x[i]).exp();
        sample!("y[{i}]", ZeroInflatedPoisson::new(pi, lambda), obs = y[i]);
        if y[i] == 0 {
            factor!("h[{i}]", theta.ln());
        } else {
            factor!(
                "h[{i}]",
                (1.0 - theta).ln() + Poisson::<T>::new(lambda).ln_pdf_obs(y[i] as f64)
                    - (-lambda).log1m_exp()
            );
        }
    }
}

#[test]
fn zero_inflated_poisson_site_and_a_hurdle() {
    let x = seeded(30, 39);
    let y: Vec<u64> = counts(30, 5, 40)
        .iter()
        .enumerate()
        .map(|(i, c)| if i % 4 == 0 { 0 } else { *c })
        .collect();
    assert_generated(&against!(zip_site(&y, &x), 20, 1.5));
    swept!(zip_site(&y, &x), 20, 5.0);
}

/// Coal-mining disasters with a continuous change point `s ~ Uniform(0, T)`: an `if`
/// value on a parameter chooses the rate.
#[model]
fn change_point_continuous(d: &[u64]) {
    let n = d.len() as f64;
    let s = sample!("s", Uniform::new(0.0, n));
    let e = sample!("e", Exponential::new(1.0));
    let l = sample!("l", Exponential::new(1.0));
    for t in 0..d.len() {
        let rate = if s > t as f64 { e } else { l };
        sample!("d[{t}]", Poisson::new(rate), obs = d[t]);
    }
}

#[test]
fn change_point_on_a_parameter() {
    let d = counts(40, 5, 41);
    assert_generated(&against!(change_point_continuous(&d), 20, 1.5));
    swept!(change_point_continuous(&d), 20, 5.0);
}

/// The change point marginalised as Stan's manual writes it: `lp[s]` over every
/// change point, then `log_sum_exp(lp)`.
#[model]
fn change_point_marginal(d: &[u64]) {
    let n = d.len();
    let e = sample!("e", Exponential::new(1.0));
    let l = sample!("l", Exponential::new(1.0));
    let mut lp = vec![T::from(-(n as f64).ln()); n];
    for s in 0..n {
        for t in 0..n {
            let rate = if t < s { e } else { l };
            lp[s] += Poisson::<T>::new(rate).ln_pdf_obs(d[t] as f64);
        }
    }
    factor!("d", math::log_sum_exp(&lp));
}

#[test]
fn change_point_marginalised() {
    let d = counts(20, 5, 42);
    assert_generated(&against!(change_point_marginal(&d), 10, 1.5));
}

/// Right-censored normal data through `Cdf::ln_ccdf`.
#[model]
fn censored_ccdf(y: &[f64], censored: &[bool]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(2.0));
    for i in 0..y.len() {
        if censored[i] {
            factor!("y[{i}]", Normal::new(mu, sigma).ln_ccdf(T::from(y[i])));
        } else {
            sample!("y[{i}]", Normal::new(mu, sigma), obs = y[i]);
        }
    }
}

#[test]
fn right_censored_through_ln_ccdf() {
    let y = seeded(20, 43);
    let censored: Vec<bool> = (0..20).map(|i| i % 4 == 1).collect();
    assert_generated(&against!(censored_ccdf(&y, &censored), 20, 1.5));
}

/// The same censoring through `math::std_normal_cdf`, and a Weibull survival model
/// with right-censored times written by hand (`-(t/λ)^k`).
#[model]
fn censored_by_hand(y: &[f64], censored: &[bool], t: &[f64], event: &[bool], x: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(2.0));
    for i in 0..y.len() {
        if censored[i] {
            factor!("y[{i}]", math::std_normal_cdf((mu - y[i]) / sigma).ln());
        } else {
            sample!("y[{i}]", Normal::new(mu, sigma), obs = y[i]);
        }
    }
    let shape = sample!("shape", Gamma::new(2.0, 2.0));
    let b0 = sample!("b0", Normal::new(0.0, 2.0));
    let b1 = sample!("b1", Normal::new(0.0, 1.0));
    for i in 0..t.len() {
        let scale = (b0 + b1 * x[i]).exp();
        if event[i] {
            sample!("t[{i}]", Weibull::new(shape, scale), obs = t[i]);
        } else {
            factor!("t[{i}]", -(t[i] / scale).pow(shape));
        }
    }
}

#[test]
fn censored_data_and_weibull_survival_by_hand() {
    let y = seeded(20, 44);
    let censored: Vec<bool> = (0..20).map(|i| i % 4 == 1).collect();
    let (t, x) = (positive(20, 45), seeded(20, 46));
    let event: Vec<bool> = (0..20).map(|i| i % 3 != 0).collect();
    assert_generated(&against!(
        censored_by_hand(&y, &censored, &t, &event, &x),
        20,
        1.5
    ));
    swept!(censored_by_hand(&y, &censored, &t, &event, &x), 20, 5.0);
}

// ---------------------------------------------------------------------------------
// time series

/// AR(K) as Stan's manual writes it: a nested loop over the lags, `y[t - k - 1]`.
#[model]
fn ar_k_loops(y: &[f64], k: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0).iid(k));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    for t in k..y.len() {
        let mut mu = alpha;
        for j in 0..k {
            mu += beta[j] * y[t - j - 1];
        }
        sample!("y[{t}]", Normal::new(mu, sigma), obs = y[t]);
    }
}

/// AR(K) with a closed lag range `1..=k` and the lagged value first.
#[model]
fn ar_k_closed(y: &[f64], k: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0).iid(k));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    for t in k..y.len() {
        let mut mu = alpha;
        for lag in 1..=k {
            mu = mu + y[t - lag] * beta[lag - 1];
        }
        sample!("y[{t}]", Normal::new(mu, sigma), obs = y[t]);
    }
}

#[test]
fn ar_k_with_a_nested_lag_loop() {
    let y = seeded(60, 47);
    assert_generated(&against!(ar_k_loops(&y, 3), 20, 1.5));
    assert_generated(&against!(ar_k_closed(&y, 3), 20, 1.5));
    assert_generated(&against!(ar_k_loops(&y, 1), 10, 1.5));
    swept!(ar_k_loops(&y, 5), 20, 30.0);
}

/// A local-level model: latent innovations, the level carried from step to step.
#[model]
fn random_walk(y: &[f64]) {
    let n = y.len();
    let sigma_level = sample!("sigma_level", HalfNormal::new(1.0));
    let sigma_obs = sample!("sigma_obs", HalfNormal::new(1.0));
    let level0 = sample!("level0", Normal::new(0.0, 5.0));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(n));
    let mut level = level0;
    for t in 0..n {
        level = level + sigma_level * z[t];
        sample!("y[{t}]", Normal::new(level, sigma_obs), obs = y[t]);
    }
}

#[test]
fn random_walk_with_a_carried_level() {
    let y = seeded(30, 48);
    assert_generated(&against!(random_walk(&y), 20, 1.5));
    swept!(random_walk(&y), 20, 5.0);
}

/// Stochastic volatility (Stan's manual): `h_t = mu + phi (h_{t-1} - mu) + sigma
/// h_std_t`, `y_t ~ Normal(0, exp(h_t / 2))`, `phi ~ Uniform(-1, 1)`.
#[model]
fn stochastic_volatility(y: &[f64]) {
    let n = y.len();
    let mu = sample!("mu", Cauchy::new(0.0, 10.0));
    let phi = sample!("phi", Uniform::new(-1.0, 1.0));
    let sigma = sample!("sigma", HalfCauchy::new(5.0));
    let h_std = sample!("h_std", Normal::new(0.0, 1.0).iid(n));
    let mut h = mu + sigma * h_std[0] / (1.0 - phi * phi).sqrt();
    sample!("y[0]", Normal::new(0.0, (h / 2.0).exp()), obs = y[0]);
    for t in 1..n {
        h = mu + phi * (h - mu) + sigma * h_std[t];
        sample!("y[{t}]", Normal::new(0.0, (h / 2.0).exp()), obs = y[t]);
    }
}

#[test]
fn stochastic_volatility_towards_its_boundaries() {
    let y = seeded(30, 49);
    assert_generated(&against!(stochastic_volatility(&y), 20, 1.5));
    swept!(stochastic_volatility(&y), 20, 5.0);
    swept!(stochastic_volatility(&y), 20, 30.0);
}

/// A local linear trend: level and slope carried, both perturbed by latent noise.
#[model]
fn local_linear_trend(y: &[f64]) {
    let n = y.len();
    let s_level = sample!("s_level", HalfNormal::new(0.5));
    let s_slope = sample!("s_slope", HalfNormal::new(0.1));
    let s_obs = sample!("s_obs", HalfNormal::new(1.0));
    let e_level = sample!("e_level", Normal::new(0.0, 1.0).iid(n));
    let e_slope = sample!("e_slope", Normal::new(0.0, 1.0).iid(n));
    let mut level = T::from(y[0]);
    let mut slope = T::from(0.0);
    for t in 0..n {
        let next_level = level + slope + s_level * e_level[t];
        slope = slope + s_slope * e_slope[t];
        level = next_level;
        sample!("y[{t}]", Normal::new(level, s_obs), obs = y[t]);
    }
}

#[test]
fn local_linear_trend_with_two_carried_states() {
    let y = seeded(25, 50);
    assert_generated(&against!(local_linear_trend(&y), 20, 1.5));
}

/// MA(2) with its errors carried in two scalars.
#[model]
fn ma2_carried(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let theta1 = sample!("theta1", Normal::new(0.0, 1.0));
    let theta2 = sample!("theta2", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    let mut e1 = T::from(0.0);
    let mut e2 = T::from(0.0);
    for t in 0..y.len() {
        let nu = mu + theta1 * e1 + theta2 * e2;
        sample!("y[{t}]", Normal::new(nu, sigma), obs = y[t]);
        e2 = e1;
        e1 = y[t] - nu;
    }
}

#[test]
fn ma2_with_carried_errors() {
    let y = seeded(40, 51);
    assert_generated(&against!(ma2_carried(&y), 20, 1.5));
}

#[test]
fn ma2_with_stored_errors() {
    let y = seeded(40, 52);
    assert_generated(&against!(ma2_stored(&y), 20, 1.5));
}

/// A latent Gaussian process (Cholesky of a kernel of the parameters), Poisson counts.
#[model]
fn gp_poisson(x: &[f64], k: &[u64]) {
    let n = x.len();
    let rho = sample!("rho", Gamma::new(25.0, 4.0));
    let alpha = sample!("alpha", HalfNormal::new(2.0));
    let f_tilde = sample!("f_tilde", Normal::new(0.0, 1.0).iid(n));
    let mut cov = vec![T::from(0.0); n * n];
    math::gp_exp_quad_cov(x, alpha, rho, &mut cov);
    for i in 0..n {
        cov[i * n + i] += 1e-8;
    }
    let mut f = vec![T::from(0.0); n];
    if math::cholesky(&mut cov, n) {
        math::lower_mul(&cov, f_tilde, &mut f);
    } else {
        factor!("cholesky_failed", f64::NEG_INFINITY);
    }
    for i in 0..n {
        sample!("k[{i}]", Poisson::log_rate(f[i]), obs = k[i]);
    }
}

#[test]
fn gaussian_process_falls_back() {
    // matrix code over parameters: the tape's, as documented
    let x: Vec<f64> = (0..8).map(|i| i as f64 - 4.0).collect();
    let k = counts(8, 6, 53);
    assert_falls_back(&against!(gp_poisson(&x, &k), 10, 1.5));
}

// ---------------------------------------------------------------------------------
// measurement error, item response, paired comparisons, ordinal data

/// Regression on a covariate measured with error: latent true values with a
/// hierarchical prior of parameters.
#[model]
fn measurement_error(x_obs: &[f64], y: &[f64], tau: f64) {
    let n = y.len();
    let mu_x = sample!("mu_x", Normal::new(0.0, 10.0));
    let sigma_x = sample!("sigma_x", HalfCauchy::new(5.0));
    let x = sample!("x", Normal::new(mu_x, sigma_x).iid(n));
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", HalfCauchy::new(5.0));
    for i in 0..n {
        sample!("x_obs[{i}]", Normal::new(x[i], tau), obs = x_obs[i]);
        sample!(
            "y[{i}]",
            Normal::new(alpha + beta * x[i], sigma),
            obs = y[i]
        );
    }
}

#[test]
fn regression_with_measurement_error() {
    let (x, y) = (seeded(15, 54), seeded(15, 55));
    assert_generated(&against!(measurement_error(&x, &y, 0.3), 20, 1.5));
    swept!(measurement_error(&x, &y, 0.3), 20, 5.0);
}

/// Rasch model: `y[n] ~ Bernoulli(logit(theta[jj[n]] - b[kk[n]]))`.
#[model]
fn rasch(y: &[bool], jj: &[usize], kk: &[usize], j: usize, k: usize) {
    let theta = sample!("theta", Normal::new(0.0, 1.0).iid(j));
    let mu_b = sample!("mu_b", Normal::new(0.0, 5.0));
    let sigma_b = sample!("sigma_b", HalfCauchy::new(2.0));
    let b_raw = sample!("b_raw", Normal::new(0.0, 1.0).iid(k));
    for n in 0..y.len() {
        let b = mu_b + sigma_b * b_raw[kk[n]];
        sample!("y[{n}]", Bernoulli::logit(theta[jj[n]] - b), obs = y[n]);
    }
}

/// Two-parameter IRT: log-normal discriminations, `gamma[k] (alpha[j] - beta[k])`.
#[model]
fn irt_2pl(y: &[u8], jj: &[usize], kk: &[usize], j: usize, k: usize) {
    let sigma_beta = sample!("sigma_beta", HalfCauchy::new(5.0));
    let alpha = sample!("alpha", Normal::new(0.0, 1.0).iid(j));
    let beta = sample!("beta", Normal::new(0.0, sigma_beta).iid(k));
    let gamma = sample!("gamma", LogNormal::new(0.0, 1.0).iid(k));
    for n in 0..y.len() {
        let eta = gamma[kk[n]] * (alpha[jj[n]] - beta[kk[n]]);
        sample!("y[{n}]", Bernoulli::logit(eta), obs = y[n]);
    }
}

#[test]
fn rasch_and_two_parameter_item_response() {
    let (j, k) = (6, 4);
    let jj: Vec<usize> = (0..j * k).map(|n| n / k).collect();
    let kk: Vec<usize> = (0..j * k).map(|n| n % k).collect();
    let y = flags(j * k, 56);
    let y8: Vec<u8> = y.iter().map(|b| u8::from(*b)).collect();
    assert_generated(&against!(rasch(&y, &jj, &kk, j, k), 20, 1.5));
    assert_generated(&against!(irt_2pl(&y8, &jj, &kk, j, k), 20, 1.5));
    swept!(irt_2pl(&y8, &jj, &kk, j, k), 20, 5.0);
}

/// Bradley–Terry: `theta[winner] - theta[loser]`, two index arrays into one vector,
/// with a home advantage; some games pair a team with itself.
#[model]
fn bradley_terry(winner: &[usize], loser: &[usize], home: &[f64], teams: usize) {
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let raw = sample!("raw", Normal::new(0.0, 1.0).iid(teams));
    let adv = sample!("adv", Normal::new(0.0, 1.0));
    for g in 0..winner.len() {
        let d = sigma * (raw[winner[g]] - raw[loser[g]]) + adv * home[g];
        factor!("game[{g}]", d.log_inv_logit());
    }
}

#[test]
fn bradley_terry_paired_comparisons() {
    let winner = groups(20, 5, 57);
    let loser = groups(20, 5, 58);
    let home: Vec<f64> = (0..20).map(|g| f64::from(g % 2 == 0)).collect();
    assert!(winner.iter().zip(&loser).any(|(w, l)| w == l));
    assert_generated(&against!(bradley_terry(&winner, &loser, &home, 5), 20, 1.5));
}

/// Ordinal logistic regression with `ordered` cut points, the category's probability
/// by an `if` chain on the data.
#[model]
fn ordinal_ordered(y: &[usize], x: &[f64], k: usize) {
    let beta = sample!("beta", Normal::new(0.0, 2.0));
    let c = sample!("c", Normal::new(0.0, 5.0).iid(k - 1).ordered());
    for n in 0..y.len() {
        let eta = beta * x[n];
        if y[n] == 0 {
            factor!("y[{n}]", (c[0] - eta).log_inv_logit());
        } else if y[n] == k - 1 {
            factor!("y[{n}]", (eta - c[k - 2]).log_inv_logit());
        } else {
            factor!(
                "y[{n}]",
                ((eta - c[y[n] - 1]).inv_logit() - (eta - c[y[n]]).inv_logit()).ln()
            );
        }
    }
}

#[test]
fn ordinal_logistic_with_ordered_cut_points() {
    let x = seeded(25, 59);
    let y: Vec<usize> = counts(25, 3, 60).iter().map(|c| *c as usize).collect();
    assert_generated(&against!(ordinal_ordered(&y, &x, 4), 20, 1.5));
}

/// The same with cut points built by hand: a first cut point and positive gaps,
/// accumulated in a carried loop inside the observation loop.
#[model]
fn ordinal_gaps(y: &[usize], x: &[f64], k: usize) {
    let beta = sample!("beta", Normal::new(0.0, 2.0));
    let c0 = sample!("c0", Normal::new(0.0, 5.0));
    let gap = sample!("gap", Exponential::new(1.0).iid(k - 2));
    for n in 0..y.len() {
        let eta = beta * x[n];
        // the cut point below the category, `c[y - 1] = c0 + gap[0] + … + gap[y - 2]`
        let mut cut = c0;
        for j in 1..y[n] {
            cut += gap[j - 1];
        }
        if y[n] == 0 {
            factor!("y[{n}]", (c0 - eta).log_inv_logit());
        } else if y[n] == k - 1 {
            factor!("y[{n}]", (eta - cut).log_inv_logit());
        } else {
            let high = cut + gap[y[n] - 1];
            factor!(
                "y[{n}]",
                ((eta - cut).inv_logit() - (eta - high).inv_logit()).ln()
            );
        }
    }
}

#[test]
fn ordinal_logistic_with_cut_points_from_gaps() {
    let x = seeded(25, 61);
    let y: Vec<usize> = counts(25, 3, 62).iter().map(|c| *c as usize).collect();
    assert_generated(&against!(ordinal_gaps(&y, &x, 4), 20, 1.5));
    swept!(ordinal_gaps(&y, &x, 4), 20, 5.0);
}

// ---------------------------------------------------------------------------------
// loops as Rust users write them

/// `for (i, &yi) in y.iter().enumerate()` and an outer `iter().zip()` over rows.
#[model]
fn iterator_loops(y: &[f64], x: &[Vec<f64>], w: &[f64]) {
    let d = x[0].len();
    let alpha = sample!("alpha", Normal::new(0.0, 5.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for (i, &yi) in y.iter().enumerate() {
        let mut eta = alpha;
        for k in 0..d {
            eta += beta[k] * x[i][k];
        }
        sample!("y[{i}]", Normal::new(eta, sigma), obs = yi);
    }
    for (i, (row, wi)) in x.iter().zip(w).enumerate() {
        let mut eta_w = alpha * *wi;
        for k in 0..d {
            eta_w += row[k] * beta[k];
        }
        factor!("w[{i}]", -0.5 * eta_w * eta_w);
    }
}

#[test]
fn enumerate_and_zip_loops() {
    let y = seeded(15, 63);
    let x: Vec<Vec<f64>> = (0..15).map(|i| seeded(3, 200 + i)).collect();
    let w = positive(15, 64);
    assert_generated(&against!(iterator_loops(&y, &x, &w), 20, 1.5));
}

/// The linear predictor as a zip of a row with the coefficients (a loop over a latent
/// vector's elements).
#[model]
fn zip_with_coefficients(y: &[f64], x: &[Vec<f64>]) {
    let d = x[0].len();
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for (i, row) in x.iter().enumerate() {
        let mut eta = T::from(0.0);
        for (xk, bk) in row.iter().zip(beta) {
            eta += *bk * *xk;
        }
        sample!("y[{i}]", Normal::new(eta, sigma), obs = y[i]);
    }
}

#[test]
fn linear_predictor_by_zip_with_the_coefficients() {
    let y = seeded(15, 65);
    let x: Vec<Vec<f64>> = (0..15).map(|i| seeded(3, 300 + i)).collect();
    assert_generated(&against!(zip_with_coefficients(&y, &x), 20, 1.5));
}

/// A `while` loop over the observations.
#[model]
fn while_loop(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mut i = 0;
    while i < y.len() {
        sample!("y[{i}]", Normal::new(a + b * x[i], sigma), obs = y[i]);
        i += 1;
    }
}

#[test]
fn a_while_loop_over_the_observations() {
    let (y, x) = (seeded(12, 66), seeded(12, 67));
    let engine = against!(while_loop(&y, &x), 20, 1.5);
    assert_generated(&engine);
}

/// Observation kinds as a data enum, a `match` with a site in each arm.
#[derive(Clone, Copy, Debug)]
enum Instrument {
    Precise,
    Noisy,
    Robust,
}

#[model]
fn instruments(y: &[f64], kind: &[Instrument]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        match kind[i] {
            Instrument::Precise => sample!("y[{i}]", Normal::new(mu, sigma), obs = y[i]),
            Instrument::Noisy => sample!("y[{i}]", Normal::new(mu, 3.0 * sigma), obs = y[i]),
            Instrument::Robust => sample!("y[{i}]", StudentT::new(3.0, mu, sigma), obs = y[i]),
        };
    }
}

#[test]
fn a_match_on_a_data_enum_with_sites() {
    let y = seeded(12, 68);
    let kind: Vec<Instrument> = (0..12)
        .map(|i| [Instrument::Precise, Instrument::Noisy, Instrument::Robust][i % 3])
        .collect();
    assert_generated(&against!(instruments(&y, &kind), 20, 1.5));
}

/// A helper closure over data (standardisation) and a `match` on the enum as a value.
#[model]
fn closure_over_data(y: &[f64], x: &[f64], kind: &[Instrument]) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let z = |v: f64| (v - m) * 0.5;
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let inflate = match kind[i] {
            Instrument::Precise => 1.0,
            Instrument::Noisy => 3.0,
            Instrument::Robust => 1.5,
        };
        sample!(
            "y[{i}]",
            Normal::new(a + b * z(x[i]), sigma * inflate),
            obs = y[i]
        );
    }
}

#[test]
fn a_helper_closure_over_data() {
    let (y, x) = (seeded(12, 69), seeded(12, 70));
    let kind: Vec<Instrument> = (0..12)
        .map(|i| [Instrument::Precise, Instrument::Noisy, Instrument::Robust][i % 3])
        .collect();
    assert_generated(&against!(closure_over_data(&y, &x, &kind), 20, 1.5));
}

/// A helper closure over parameters, `let mean = |i| a + b * x[i];`.
#[model]
fn closure_over_parameters(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mean = |i: usize| a + b * x[i];
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mean(i), sigma), obs = y[i]);
    }
}

#[test]
fn a_helper_closure_over_parameters() {
    // a closure only ever called is read as its body at each call
    let (y, x) = (seeded(12, 71), seeded(12, 72));
    assert_generated(&against!(closure_over_parameters(&y, &x), 20, 1.5));
}

// ---------------------------------------------------------------------------------
// every scalar family observed in a loop with parameter-dependent arguments

/// Location-scale families on the real line: the location a regression, the scale a
/// latent positive parameter (StudentT with a latent `nu` too).
#[model]
fn real_line_families(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 2.0));
    let b = sample!("b", Normal::new(0.0, 2.0));
    let s = sample!("s", HalfNormal::new(2.0));
    let nu = sample!("nu", Gamma::new(2.0, 0.1));
    let alpha = sample!("alpha", Normal::new(0.0, 2.0));
    for i in 0..y.len() {
        let m = a + b * x[i];
        sample!("normal[{i}]", Normal::new(m, s), obs = y[i]);
        sample!("t[{i}]", StudentT::new(nu, m, s), obs = y[i]);
        sample!("t3[{i}]", StudentT::new(3.0, m, s), obs = y[i]);
        sample!("cauchy[{i}]", Cauchy::new(m, s), obs = y[i]);
        sample!("laplace[{i}]", Laplace::new(m, s), obs = y[i]);
        sample!("logistic[{i}]", Logistic::new(m, s), obs = y[i]);
        sample!("gumbel[{i}]", Gumbel::new(m, s), obs = y[i]);
        sample!("skew[{i}]", SkewNormal::new(m, s, alpha), obs = y[i]);
    }
}

#[test]
fn real_line_families_observed_in_a_loop() {
    let (y, x) = (seeded(12, 73), seeded(12, 74));
    assert_generated(&against!(real_line_families(&y, &x), 20, 1.5));
    swept!(real_line_families(&y, &x), 20, 5.0);
    swept!(real_line_families(&y, &x), 20, 30.0);
}

/// Families on the positive line and the unit interval.
#[model]
fn positive_families(y: &[f64], p: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let shape = sample!("shape", Gamma::new(2.0, 1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let kappa = sample!("kappa", Exponential::new(0.1));
    for i in 0..y.len() {
        let mu = (a + b * x[i]).exp();
        sample!(
            "lognormal[{i}]",
            LogNormal::new(a + b * x[i], s),
            obs = y[i]
        );
        sample!("gamma[{i}]", Gamma::new(shape, shape / mu), obs = y[i]);
        sample!("exponential[{i}]", Exponential::new(mu.recip()), obs = y[i]);
        sample!("weibull[{i}]", Weibull::new(shape, mu), obs = y[i]);
        sample!("invgamma[{i}]", InverseGamma::new(shape, mu), obs = y[i]);
        sample!("halfnormal[{i}]", HalfNormal::new(mu), obs = y[i]);
        sample!("halfcauchy[{i}]", HalfCauchy::new(mu), obs = y[i]);
        sample!("pareto[{i}]", Pareto::new(0.1 * s, shape), obs = y[i]);
        let m = (a + b * x[i]).inv_logit();
        sample!(
            "beta[{i}]",
            Beta::new(m * kappa, (1.0 - m) * kappa),
            obs = p[i]
        );
    }
}

#[test]
fn positive_and_unit_interval_families_observed_in_a_loop() {
    let (y, p, x) = (positive(12, 75), unit(12, 76), seeded(12, 77));
    let (engine, _) = swept!(positive_families(&y, &p, &x), 20, 1.5);
    assert_generated(&engine);
    swept!(positive_families(&y, &p, &x), 20, 5.0);
    swept!(positive_families(&y, &p, &x), 20, 30.0);
}

/// Count families with parameter arguments.
#[model]
fn count_families(k: &[u64], n: &[u64], flag: &[bool], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let phi = sample!("phi", Gamma::new(2.0, 0.5));
    let pi = sample!("pi", Beta::new(2.0, 2.0));
    for i in 0..k.len() {
        let eta = a + b * x[i];
        let p = eta.inv_logit();
        sample!("poisson[{i}]", Poisson::new(eta.exp()), obs = k[i]);
        sample!("poisson_log[{i}]", Poisson::log_rate(eta), obs = k[i]);
        sample!("binomial[{i}]", Binomial::new(n[i], p), obs = k[i]);
        sample!("nb[{i}]", NegativeBinomial::new(eta.exp(), phi), obs = k[i]);
        sample!("nbp[{i}]", NegativeBinomial::probs(phi, p), obs = k[i]);
        sample!("bb[{i}]", BetaBinomial::new(n[i], phi * p, phi), obs = k[i]);
        sample!("bern[{i}]", Bernoulli::new(p), obs = flag[i]);
        sample!("bern_logit[{i}]", Bernoulli::logit(eta), obs = flag[i]);
        sample!("geom[{i}]", Geometric::new(p), obs = k[i]);
        sample!(
            "zip[{i}]",
            ZeroInflatedPoisson::new(pi, eta.exp()),
            obs = k[i]
        );
    }
}

#[test]
fn count_families_observed_in_a_loop() {
    let (k, flag, x) = (counts(12, 6, 78), flags(12, 79), seeded(12, 80));
    let n: Vec<u64> = k.iter().map(|k| k + 4).collect();
    assert_generated(&against!(count_families(&k, &n, &flag, &x), 20, 1.5));
    swept!(count_families(&k, &n, &flag, &x), 20, 5.0);
    swept!(count_families(&k, &n, &flag, &x), 20, 30.0);
}

// ---------------------------------------------------------------------------------
// constrained latent parameters towards their boundaries

/// Scalar latent sites of the constrained families, each scaling a term of a normal
/// likelihood in a loop.
#[model]
fn constrained_latents(y: &[f64]) {
    let hn = sample!("hn", HalfNormal::new(1.0));
    let g = sample!("g", Gamma::new(3.0, 2.0));
    let be = sample!("be", Beta::new(2.0, 3.0));
    let u = sample!("u", Uniform::new(-2.0, 5.0));
    let ex = sample!("ex", Exponential::new(2.0));
    let ln = sample!("ln", LogNormal::new(0.0, 1.0));
    let ig = sample!("ig", InverseGamma::new(3.0, 2.0));
    let w = sample!("w", Weibull::new(1.5, 1.0));
    let hs = sample!("hs", HalfStudentT::new(3.0, 1.0));
    let pa = sample!("pa", Pareto::new(0.5, 3.0));
    for i in 0..y.len() {
        let m = u * be + g * 0.1 - ln * 0.01;
        let s = 0.5 + hn + ex * 0.1 + ig * 0.01 + w * 0.01 + hs * 0.01 + pa * 0.01;
        sample!("y[{i}]", Normal::new(m, s), obs = y[i]);
    }
}

#[test]
fn constrained_latents_swept_towards_their_boundaries() {
    let y = seeded(10, 81);
    assert_generated(&against!(constrained_latents(&y), 20, 1.5));
    swept!(constrained_latents(&y), 30, 5.0);
    swept!(constrained_latents(&y), 30, 30.0);
}

/// Latent scale parameters that are the observation scale directly (Normal and
/// Student-t written out with an active scale), swept far out.
#[model]
fn scales_direct(y: &[f64], g: &[usize]) {
    let sigma = sample!("sigma", HalfNormal::new(1.0).iid(3));
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let nu = sample!("nu", Gamma::new(2.0, 0.1));
    for i in 0..y.len() {
        sample!("n[{i}]", Normal::new(mu, sigma[g[i]]), obs = y[i]);
        sample!("t[{i}]", StudentT::new(5.0, mu, sigma[g[i]]), obs = y[i]);
        sample!("tn[{i}]", StudentT::new(nu, mu, sigma[g[i]]), obs = y[i]);
    }
}

#[test]
fn observation_scales_far_out() {
    let y = seeded(12, 82);
    let g = groups(12, 3, 83);
    assert_generated(&against!(scales_direct(&y, &g), 20, 1.5));
    swept!(scales_direct(&y, &g), 30, 5.0);
    swept!(scales_direct(&y, &g), 30, 30.0);
}

/// Circular data: a von Mises regression whose location stays in `(-π/2, π/2)`
/// through `atan`, so that every observation in `[-1.5, 1.5]` is within `π` of it (the
/// family's support is `[μ - π, μ + π]`: a raw linear predictor as the location
/// rejects most points, on both engines).
#[model]
fn von_mises_regression(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let kappa = sample!("kappa", Gamma::new(2.0, 0.5));
    for i in 0..y.len() {
        let m = (a + b * x[i]).atan();
        sample!("y[{i}]", VonMises::new(m, kappa), obs = y[i]);
    }
}

#[test]
fn von_mises_regression_on_circular_data() {
    let (y, x) = (seeded(12, 84), seeded(12, 85));
    assert_generated(&against!(von_mises_regression(&y, &x), 20, 1.5));
    swept!(von_mises_regression(&y, &x), 20, 5.0);
    swept!(von_mises_regression(&y, &x), 20, 30.0);
}

// ---------------------------------------------------------------------------------
// round six, second part: isolating the fallbacks, larger and more realistic bodies

/// The posteriordb mixture's tuple `let (ln_theta, ln_1m_theta) = (…, …);` alone (the
/// mixture itself by `math::log_mix`).
#[model]
fn gauss_mix_tuple_let(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2));
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let theta = sample!("theta", Beta::new(5.0, 5.0));
    let (ln_theta, ln_1m_theta) = (theta.ln(), (-theta).ln_1p());
    for n in 0..y.len() {
        let a = ln_theta + Normal::<T>::new(mu[0], sigma[0]).ln_pdf_obs(y[n]);
        let b = ln_1m_theta + Normal::<T>::new(mu[1], sigma[1]).ln_pdf_obs(y[n]);
        factor!(
            "y[{n}]",
            math::log_diff_exp(a.max(b) + 1.0, a.max(b)) + a.min(b) * 0.0
        );
    }
}

#[test]
fn a_tuple_let_of_parameters() {
    let y: Vec<f64> = seeded(20, 86).iter().map(|v| 2.0 * v).collect();
    assert_generated(&against!(gauss_mix_tuple_let(&y), 20, 1.5));
}

/// The posteriordb mixture's `a.log_sum_exp(b)` alone.
#[model]
fn gauss_mix_lse(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2));
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let theta = sample!("theta", Beta::new(5.0, 5.0));
    for n in 0..y.len() {
        let a = theta.ln() + Normal::<T>::new(mu[0], sigma[0]).ln_pdf_obs(y[n]);
        let b = (-theta).ln_1p() + Normal::<T>::new(mu[1], sigma[1]).ln_pdf_obs(y[n]);
        factor!("y[{n}]", a.log_sum_exp(b));
    }
}

#[test]
fn the_log_sum_exp_method() {
    let y: Vec<f64> = seeded(20, 87).iter().map(|v| 2.0 * v).collect();
    assert_generated(&against!(gauss_mix_lse(&y), 20, 1.5));
}

/// The posteriordb mixture's ordered locations alone.
#[model]
fn gauss_mix_ordered(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2).ordered());
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let theta = sample!("theta", Beta::new(5.0, 5.0));
    for n in 0..y.len() {
        let lp1 = Normal::<T>::new(mu[0], sigma[0]).ln_pdf_obs(y[n]);
        let lp2 = Normal::<T>::new(mu[1], sigma[1]).ln_pdf_obs(y[n]);
        factor!("y[{n}]", math::log_mix(theta, lp1, lp2));
    }
}

#[test]
fn ordered_mixture_locations() {
    let y: Vec<f64> = seeded(20, 88).iter().map(|v| 2.0 * v).collect();
    assert_generated(&against!(gauss_mix_ordered(&y), 20, 1.5));
}

/// Two sibling loops that each bind their own `eta` (a fit term and a penalty).
#[model]
fn sibling_loops_same_name(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let eta = a + b * x[i];
        sample!("y[{i}]", Normal::new(eta, sigma), obs = y[i]);
    }
    for i in 0..x.len() {
        let eta = a - b * x[i];
        factor!("pen[{i}]", -0.01 * eta * eta);
    }
}

#[test]
fn one_local_name_in_two_sibling_loops() {
    let (y, x) = (seeded(12, 89), seeded(12, 90));
    assert_generated(&against!(sibling_loops_same_name(&y, &x), 20, 1.5));
}

/// `for (i, (&yi, &xi)) in y.iter().zip(x).enumerate()` with sites.
#[model]
fn zip_enumerate_sites(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for (i, (&yi, &xi)) in y.iter().zip(x).enumerate() {
        sample!("y[{i}]", Normal::new(a + b * xi, sigma), obs = yi);
    }
}

#[test]
fn zip_and_enumerate_with_sites() {
    let (y, x) = (seeded(12, 91), seeded(12, 92));
    assert_generated(&against!(zip_enumerate_sites(&y, &x), 20, 1.5));
}

/// A sum of squares by an iterator, `y.iter().map(|v| (v - mu).powi(2)).sum()`.
#[model]
fn iterator_sum(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let ss: T = y.iter().map(|v| (*v - mu).powi(2)).sum();
    let n = y.len() as f64;
    factor!("y", -0.5 * ss / (sigma * sigma) - n * sigma.ln());
}

#[test]
fn a_sum_by_an_iterator_falls_back() {
    // documented: a closure over parameters
    let y = seeded(30, 93);
    assert_falls_back(&against!(iterator_sum(&y), 20, 1.5));
}

/// A Kalman filter for a local-level model with missing observations: the predicted
/// mean and variance carried, the update skipped where the observation is missing.
#[model]
fn kalman_local_level(y: &[f64], observed: &[bool]) {
    let q = sample!("q", HalfNormal::new(1.0));
    let r = sample!("r", HalfNormal::new(1.0));
    let m0 = sample!("m0", Normal::new(0.0, 5.0));
    let mut m = m0;
    let mut p = T::from(10.0);
    for t in 0..y.len() {
        p = p + q * q;
        if observed[t] {
            let s = p + r * r;
            factor!("y[{t}]", Normal::<T>::new(m, s.sqrt()).ln_pdf_obs(y[t]));
            let k = p / s;
            m = m + k * (y[t] - m);
            p = (1.0 - k) * p;
        }
    }
}

#[test]
fn kalman_filter_with_missing_observations() {
    let y = seeded(30, 94);
    let observed: Vec<bool> = (0..30).map(|t| t % 5 != 3).collect();
    assert_generated(&against!(kalman_local_level(&y, &observed), 20, 1.5));
    swept!(kalman_local_level(&y, &observed), 20, 5.0);
}

/// Stan's ragged-array idiom: groups of different sizes laid end to end, a position
/// counter, a random walk over the groups and a sum of squares per group.
#[model]
fn ragged_groups(y: &[f64], size: &[usize]) {
    let mu0 = sample!("mu0", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(size.len()));
    let mut level = mu0;
    let mut pos = 0;
    for g in 0..size.len() {
        level = level + tau * z[g];
        let here = level;
        let mut ss = 0.0 * here;
        for i in pos..pos + size[g] {
            ss += (y[i] - here).powi(2);
        }
        factor!("g[{g}]", -0.5 * ss / (s * s) - size[g] as f64 * s.ln());
        pos += size[g];
    }
}

/// The same groups with an observed site per element and per-group means.
#[model]
fn ragged_sites(y: &[f64], size: &[usize]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0).iid(size.len()));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut pos = 0;
    for g in 0..size.len() {
        for i in pos..pos + size[g] {
            sample!("y[{g},{i}]", Normal::new(mu[g], s), obs = y[i]);
        }
        pos += size[g];
    }
}

#[test]
fn ragged_groups_by_a_position_counter() {
    let size = vec![3, 1, 4, 1, 5, 0, 2, 6];
    let y = seeded(size.iter().sum(), 95);
    assert_generated(&against!(ragged_groups(&y, &size), 20, 1.5));
    assert_generated(&against!(ragged_sites(&y, &size), 20, 1.5));
}

/// The ragged groups observed as slices, one `iid` site per group.
#[model]
fn ragged_slices(y: &[f64], size: &[usize]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0).iid(size.len()));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut pos = 0;
    for g in 0..size.len() {
        let n = size[g];
        sample!(
            "y[{g}]",
            Normal::new(mu[g], s).iid(n),
            obs = &y[pos..pos + n]
        );
        pos += n;
    }
}

#[test]
fn ragged_groups_observed_as_slices() {
    let size = vec![3, 1, 4, 1, 5, 0, 2, 6];
    let y = seeded(size.iter().sum(), 96);
    assert_generated(&against!(ragged_slices(&y, &size), 20, 1.5));
}

/// Broken-stick regression with a latent break point `c`: a branch on a parameter,
/// and the same hinge as `max`.
#[model]
fn broken_stick(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b1 = sample!("b1", Normal::new(0.0, 2.0));
    let b2 = sample!("b2", Normal::new(0.0, 2.0));
    let c = sample!("c", Uniform::new(-1.5, 1.5));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let eta = if c > x[i] {
            a + b1 * (x[i] - c)
        } else {
            a + b2 * (x[i] - c)
        };
        sample!("y[{i}]", Normal::new(eta, s), obs = y[i]);
        let hinge = a + b1 * (x[i] - c) + (b2 - b1) * (x[i] - c).max(T::from(0.0));
        sample!("h[{i}]", Normal::new(hinge, s), obs = y[i]);
    }
}

#[test]
fn broken_stick_regression_with_a_latent_break() {
    let (y, x) = (seeded(20, 97), seeded(20, 98));
    assert_generated(&against!(broken_stick(&y, &x), 20, 1.5));
    swept!(broken_stick(&y, &x), 20, 30.0);
}

/// Nonlinear regressions: logistic growth `K / (1 + exp(-r (t - t0)))` and
/// Michaelis–Menten `vmax x / (km + x)`, with positive parameters.
#[model]
fn nonlinear_growth(y: &[f64], t: &[f64], v: &[f64], x: &[f64]) {
    let k = sample!("k", LogNormal::new(1.0, 1.0));
    let r = sample!("r", Gamma::new(2.0, 2.0));
    let t0 = sample!("t0", Normal::new(0.0, 2.0));
    let s = sample!("s", HalfCauchy::new(1.0));
    let vmax = sample!("vmax", LogNormal::new(0.0, 1.0));
    let km = sample!("km", LogNormal::new(0.0, 1.0));
    for i in 0..y.len() {
        let mu = k / (1.0 + (-r * (t[i] - t0)).exp());
        sample!("y[{i}]", Normal::new(mu, s), obs = y[i]);
    }
    for i in 0..v.len() {
        let rate = vmax * x[i] / (km + x[i]);
        sample!("v[{i}]", LogNormal::new(rate.ln(), s), obs = v[i]);
    }
}

#[test]
fn nonlinear_growth_and_enzyme_kinetics() {
    let (y, t) = (positive(15, 99), seeded(15, 100));
    let (v, x) = (positive(10, 101), positive(10, 102));
    assert_generated(&against!(nonlinear_growth(&y, &t, &v, &x), 20, 1.5));
    swept!(nonlinear_growth(&y, &t, &v, &x), 20, 5.0);
    swept!(nonlinear_growth(&y, &t, &v, &x), 20, 30.0);
}

/// A weighted (power) likelihood, and a Bernoulli log-likelihood by hand, by the
/// method and the function `log1p_exp`.
#[model]
fn weighted_and_by_hand(y: &[f64], w: &[f64], z: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let m = a + b * x[i];
        factor!("y[{i}]", w[i] * Normal::<T>::new(m, s).ln_pdf_obs(y[i]));
        factor!("z[{i}]", z[i] * m - math::log1p_exp(m));
        factor!("z2[{i}]", z[i] * m - m.log1p_exp());
    }
}

#[test]
fn weighted_likelihood_and_bernoulli_by_hand() {
    let (y, x) = (seeded(15, 103), seeded(15, 104));
    let w = unit(15, 105);
    let z: Vec<f64> = flags(15, 106).iter().map(|f| f64::from(*f)).collect();
    assert_generated(&against!(weighted_and_by_hand(&y, &w, &z, &x), 20, 1.5));
    swept!(weighted_and_by_hand(&y, &w, &z, &x), 20, 30.0);
}

/// Centred random effects as Stan writes `a ~ normal(mu, tau)` for parameters: flat
/// latent effects and a `factor!` of `ln_pdf` per group.
#[model]
fn centred_by_factor(y: &[f64], g: &[usize], j: usize) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let a = sample!("a", Flat::new().iid(j));
    let s = sample!("s", HalfNormal::new(1.0));
    for k in 0..j {
        factor!("a_prior[{k}]", Normal::new(mu, tau).ln_pdf(a[k]));
    }
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(a[g[i]], s), obs = y[i]);
    }
}

#[test]
fn centred_effects_by_factor() {
    let y = seeded(20, 107);
    let g = groups(20, 4, 108);
    assert_generated(&against!(centred_by_factor(&y, &g, 4), 20, 1.5));
    swept!(centred_by_factor(&y, &g, 4), 20, 5.0);
}

/// A truncated-normal prior on a scale (Stan's `real<lower=0> s; s ~ normal(1, 2);`,
/// as `docs/from-stan-and-numpyro.md` writes it).
#[model]
fn truncated_prior(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let s = sample!("s", TruncatedNormal::new(1.0, 2.0, 0.0, f64::INFINITY));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, s), obs = y[i]);
    }
}

#[test]
fn a_truncated_normal_prior() {
    let y = seeded(20, 109);
    assert_generated(&against!(truncated_prior(&y), 20, 1.5));
}

/// Truncated observations (a detection limit) in a loop.
#[model]
fn truncated_observations(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        sample!(
            "y[{i}]",
            Normal::new(a + b * x[i], s).truncated(0.0, f64::INFINITY),
            obs = y[i]
        );
    }
}

#[test]
fn truncated_observations_in_a_loop() {
    let (y, x) = (positive(20, 110), seeded(20, 111));
    assert_generated(&against!(truncated_observations(&y, &x), 20, 1.5));
}

/// A hierarchical beta-binomial (rats, baseball): `p ~ Beta(a, b).iid(j)` with latent
/// `a`, `b`, observed by group index.
#[model]
fn hierarchical_binomial(k: &[u64], n: &[u64], g: &[usize], j: usize) {
    let m = sample!("m", Beta::new(1.0, 1.0));
    let kappa = sample!("kappa", Pareto::new(1.0, 1.5));
    let p = sample!("p", Beta::new(m * kappa, (1.0 - m) * kappa).iid(j));
    for i in 0..k.len() {
        sample!("k[{i}]", Binomial::new(n[i], p[g[i]]), obs = k[i]);
    }
}

#[test]
fn hierarchical_binomial_towards_the_boundaries() {
    let k = counts(20, 8, 112);
    let n: Vec<u64> = k.iter().map(|k| k + 3).collect();
    let g = groups(20, 5, 113);
    assert_generated(&against!(hierarchical_binomial(&k, &n, &g, 5), 20, 1.5));
    swept!(hierarchical_binomial(&k, &n, &g, 5), 20, 5.0);
    swept!(hierarchical_binomial(&k, &n, &g, 5), 20, 30.0);
}

/// Piecewise-exponential survival: the cumulative hazard carried over intervals.
#[model]
fn piecewise_survival(width: &[f64], died_in: &[usize], x: &[f64]) {
    let k = width.len();
    let log_h = sample!("log_h", Normal::new(-1.0, 1.0).iid(k));
    let beta = sample!("beta", Normal::new(0.0, 1.0));
    for i in 0..x.len() {
        let rel = (beta * x[i]).exp();
        let mut cum = 0.0 * rel;
        for j in 0..=died_in[i].min(k - 1) {
            cum += width[j] * log_h[j].exp() * rel;
        }
        factor!("s[{i}]", -cum);
        if died_in[i] < k {
            factor!("d[{i}]", log_h[died_in[i]] + beta * x[i]);
        }
    }
}

#[test]
fn piecewise_exponential_survival() {
    let width = positive(4, 114);
    let died_in: Vec<usize> = counts(20, 4, 115).iter().map(|c| *c as usize).collect();
    let x = seeded(20, 116);
    assert_generated(&against!(piecewise_survival(&width, &died_in, &x), 20, 1.5));
    swept!(piecewise_survival(&width, &died_in, &x), 20, 5.0);
}

/// Polynomial regression: `beta[k] * x^k` in a nested loop over the degree.
#[model]
fn polynomial(y: &[f64], x: &[f64], degree: usize) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(degree + 1));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let mut eta = T::from(0.0);
        for k in 0..=degree {
            eta += beta[k] * x[i].powi(k as i32);
        }
        sample!("y[{i}]", Normal::new(eta, s), obs = y[i]);
    }
}

#[test]
fn polynomial_regression() {
    let (y, x) = (seeded(20, 117), seeded(20, 118));
    assert_generated(&against!(polynomial(&y, &x, 3), 20, 1.5));
}

/// Radon at its real size (919 houses, 85 counties) with standardised predictors as
/// transformed data and a design matrix for the dot product.
#[model]
fn radon_full(y: &[f64], floor: &[f64], uppm: &[f64], county: &[usize], j: usize) {
    let n: usize = y.len();
    let mean_u: f64 = uppm.iter().sum::<f64>() / uppm.len() as f64;
    let design: Vec<f64> = (0..n)
        .flat_map(|i| {
            [
                floor[i],
                uppm[county[i]] - mean_u,
                floor[i] * uppm[county[i]],
            ]
        })
        .collect();
    let mu_a = sample!("mu_a", Normal::new(0.0, 10.0));
    let sigma_a = sample!("sigma_a", HalfNormal::new(1.0));
    let a_raw = sample!("a_raw", Normal::new(0.0, 1.0).iid(j));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(3));
    let sigma_y = sample!("sigma_y", HalfNormal::new(1.0));
    for i in 0..n {
        let mut eta = mu_a + sigma_a * a_raw[county[i]];
        for k in 0..3 {
            eta += design[i * 3 + k] * beta[k];
        }
        sample!("y[{i}]", Normal::new(eta, sigma_y), obs = y[i]);
    }
}

#[test]
fn radon_at_its_real_size() {
    let y = seeded(919, 119);
    let floor: Vec<f64> = flags(919, 120).iter().map(|f| f64::from(*f)).collect();
    let uppm = positive(85, 121);
    let county = groups(919, 85, 122);
    assert_generated(&against!(
        radon_full(&y, &floor, &uppm, &county, 85),
        5,
        1.5
    ));
}

/// A long sum of squares (5000 terms, a reduction in lanes) against the tape's order.
#[model]
fn long_sum(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let mut ss = 0.0 * mu;
    for i in 0..y.len() {
        ss += (y[i] - mu).powi(2);
    }
    factor!("y", -0.5 * ss / (s * s) - y.len() as f64 * s.ln());
}

#[test]
fn a_long_reduction() {
    let y: Vec<f64> = seeded(5000, 123).iter().map(|v| 10.0 + v).collect();
    assert_generated(&against!(long_sum(&y), 10, 1.5));
}

/// Group indices as Stan data gives them: 1-based (`a[county[i] - 1]`) and stored as
/// `f64` (`a[county[i] as usize]`).
#[model]
fn stan_indices(y: &[f64], county1: &[usize], county_f: &[f64], j: usize) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let a = sample!("a", Normal::new(0.0, 1.0).iid(j));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let m1 = mu + tau * a[county1[i] - 1];
        let m2 = mu + tau * a[county_f[i] as usize];
        sample!("y[{i}]", Normal::new(m1, s), obs = y[i]);
        sample!("z[{i}]", Normal::new(m2, s), obs = y[i]);
    }
}

#[test]
fn one_based_and_float_group_indices() {
    let y = seeded(20, 124);
    let county = groups(20, 5, 125);
    let county1: Vec<usize> = county.iter().map(|c| c + 1).collect();
    let county_f: Vec<f64> = county.iter().rev().map(|c| *c as f64).collect();
    assert_generated(&against!(stan_indices(&y, &county1, &county_f, 5), 20, 1.5));
}

/// A linear predictor whose coefficient vector holds the intercept first
/// (`beta[0] + Σ x[i, k] beta[k + 1]`), and a column-major design.
#[model]
fn intercept_first(y: &[f64], x: &[f64], xc: &[f64], d: usize) {
    let n = y.len();
    let beta = sample!("beta", Normal::new(0.0, 2.0).iid(d + 1));
    let gamma = sample!("gamma", Normal::new(0.0, 2.0).iid(d));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..n {
        let mut eta = beta[0];
        for k in 0..d {
            eta += x[i * d + k] * beta[k + 1];
        }
        let mut col = T::from(0.0);
        for k in 0..d {
            col += xc[k * n + i] * gamma[k];
        }
        sample!("y[{i}]", Normal::new(eta + col, s), obs = y[i]);
    }
}

#[test]
fn intercept_first_and_column_major_designs() {
    let (y, x, xc) = (seeded(17, 126), seeded(17 * 4, 127), seeded(17 * 4, 128));
    assert_generated(&against!(intercept_first(&y, &x, &xc, 4), 20, 1.5));
}

/// Stan's missing-data AR(1): each value is data or a latent missing value (an `if`
/// value mixing `T::from(y[t])` and a parameter), carried to the next step; the index
/// of each missing value is transformed data.
#[model]
fn ar1_missing(y: &[f64], observed: &[bool]) {
    let n_mis: usize = observed.iter().filter(|o| !**o).count();
    let mis_index: Vec<usize> = observed
        .iter()
        .scan(0, |c, &o| {
            let k = *c;
            if !o {
                *c += 1;
            }
            Some(k)
        })
        .collect();
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let phi = sample!("phi", Uniform::new(-1.0, 1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let y_mis = sample!("y_mis", Flat::new().iid(n_mis));
    let mut prev = if observed[0] {
        T::from(y[0])
    } else {
        y_mis[mis_index[0]]
    };
    for t in 1..y.len() {
        let cur = if observed[t] {
            T::from(y[t])
        } else {
            y_mis[mis_index[t]]
        };
        factor!(
            "y[{t}]",
            Normal::new(mu + phi * (prev - mu), sigma).ln_pdf(cur)
        );
        prev = cur;
    }
}

#[test]
fn ar1_with_missing_values_as_parameters() {
    let y = seeded(20, 129);
    let observed: Vec<bool> = (0..20).map(|t| t % 4 != 2 && t != 0).collect();
    assert_generated(&against!(ar1_missing(&y, &observed), 20, 1.5));
    swept!(ar1_missing(&y, &observed), 20, 5.0);
}

/// Stan's `target += normal_lpdf(y | mu, sigma)` summed by hand: an accumulator of
/// `ln_pdf_obs` terms (Normal, Student-t, Poisson) over the observations.
#[model]
fn target_sum(y: &[f64], k: &[u64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let lambda = sample!("lambda", Gamma::new(2.0, 1.0));
    let mut lp = T::from(0.0);
    for i in 0..y.len() {
        lp += Normal::<T>::new(mu, s).ln_pdf_obs(y[i]);
        lp += StudentT::<T>::new(4.0, mu, s).ln_pdf_obs(y[i]);
    }
    for i in 0..k.len() {
        lp = lp + Poisson::<T>::new(lambda).ln_pdf_obs(k[i] as f64);
    }
    factor!("target", lp);
}

#[test]
fn target_accumulated_from_log_densities() {
    let (y, k) = (seeded(30, 130), counts(30, 7, 131));
    assert_generated(&against!(target_sum(&y, &k), 20, 1.5));
    swept!(target_sum(&y, &k), 20, 30.0);
}

/// A vectorised log-density in a `factor!`, `dist.ln_pdf_obs_sum(y)`.
#[model]
fn factor_obs_sum(y: &[f64], g: &[usize]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    factor!("y", Normal::<T>::new(mu, s).ln_pdf_obs_sum(y));
    for i in 0..g.len() {
        sample!("g[{i}]", Poisson::new(s), obs = g[i]);
    }
}

#[test]
fn a_vectorised_log_density_in_a_factor() {
    let y = seeded(30, 132);
    let g = groups(8, 4, 133);
    assert_generated(&against!(factor_obs_sum(&y, &g), 20, 1.5));
}

/// Multilevel varying slopes with group-level predictors (Stan's users' guide,
/// non-centred, no correlation): `beta[j][k] = Σ_l u[j][l] gamma[l, k] + tau[k]
/// z[j, k]`, three nested loops.
#[model]
fn multilevel_group_predictors(
    y: &[f64],
    x: &[Vec<f64>],
    g: &[usize],
    u: &[Vec<f64>],
    kdim: usize,
) {
    let j = u.len();
    let ldim = u[0].len();
    let gamma = sample!("gamma", Normal::new(0.0, 2.0).iid(ldim * kdim));
    let tau = sample!("tau", HalfCauchy::new(2.5).iid(kdim));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(j * kdim));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let jj = g[i];
        let mut eta = T::from(0.0);
        for k in 0..kdim {
            let mut b = tau[k] * z[jj * kdim + k];
            for l in 0..ldim {
                b += u[jj][l] * gamma[l * kdim + k];
            }
            eta += x[i][k] * b;
        }
        sample!("y[{i}]", Normal::new(eta, sigma), obs = y[i]);
    }
}

#[test]
fn multilevel_varying_slopes_with_group_predictors() {
    let (j, kdim, ldim) = (4, 3, 2);
    let y = seeded(24, 134);
    let x: Vec<Vec<f64>> = (0..24).map(|i| seeded(kdim, 400 + i)).collect();
    let u: Vec<Vec<f64>> = (0..j).map(|jj| seeded(ldim, 500 + jj as u64)).collect();
    let g = groups(24, j, 135);
    assert_generated(&against!(
        multilevel_group_predictors(&y, &x, &g, &u, kdim),
        20,
        1.5
    ));
    swept!(multilevel_group_predictors(&y, &x, &g, &u, kdim), 20, 5.0);
}

/// Correlated varying intercepts and slopes through an LKJ Cholesky factor.
#[model]
fn lkj_varying_slopes(y: &[f64], x: &[f64], g: &[usize], j: usize) {
    let l = sample!("L", LkjCholesky::new(2, 2.0));
    let tau = sample!("tau", HalfCauchy::new(2.5).iid(2));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(2 * j));
    let mu = sample!("mu", Normal::new(0.0, 5.0).iid(2));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let z0 = z[2 * g[i]];
        let z1 = z[2 * g[i] + 1];
        let a = mu[0] + tau[0] * (l[0] * z0);
        let b = mu[1] + tau[1] * (l[2] * z0 + l[3] * z1);
        sample!("y[{i}]", Normal::new(a + b * x[i], sigma), obs = y[i]);
    }
}

#[test]
fn correlated_varying_slopes_through_lkj() {
    // a vector distribution (LKJ) over data: the generated code evaluates it with duals
    let (y, x) = (seeded(20, 136), seeded(20, 137));
    let g = groups(20, 4, 138);
    assert_generated(&against!(lkj_varying_slopes(&y, &x, &g, 4), 10, 1.5));
}

/// A heteroscedastic regression whose scale is linear in a predictor and goes
/// negative at some points (both engines must reject them).
#[model]
fn linear_scale(y: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let s0 = sample!("s0", HalfNormal::new(1.0));
    let s1 = sample!("s1", Normal::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(a, s0 + s1 * x[i]), obs = y[i]);
        sample!("t[{i}]", StudentT::new(4.0, a, s0 + s1 * x[i]), obs = y[i]);
    }
}

#[test]
fn a_scale_that_goes_negative() {
    let (y, x) = (seeded(10, 139), seeded(10, 140));
    let (engine, rejected) = swept!(linear_scale(&y, &x), 30, 1.5);
    assert_generated(&engine);
    assert!(rejected > 0);
}

/// An intrinsic conditional autoregressive (ICAR) prior over areas (BYM-style):
/// pairwise differences over an edge list, as a `factor!` per edge and as one sum,
/// with a soft sum-to-zero constraint and Poisson counts with expected values.
#[model]
fn icar(k: &[u64], expected: &[f64], node1: &[usize], node2: &[usize]) {
    let n = k.len();
    let beta0 = sample!("beta0", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let phi = sample!("phi", Flat::new().iid(n));
    let mut ss = T::from(0.0);
    for e in 0..node1.len() {
        ss += (phi[node1[e]] - phi[node2[e]]).powi(2);
    }
    factor!("icar", -0.5 * ss);
    for e in 0..node1.len() {
        let d = phi[node1[e]] - phi[node2[e]];
        factor!("edge[{e}]", -0.25 * d * d);
    }
    let mut total = T::from(0.0);
    for i in 0..n {
        total += phi[i];
    }
    factor!(
        "sum_to_zero",
        Normal::new(0.0, 0.001 * n as f64).ln_pdf(total)
    );
    for i in 0..n {
        let eta = expected[i].ln() + beta0 + sigma * phi[i];
        sample!("k[{i}]", Poisson::log_rate(eta), obs = k[i]);
    }
}

#[test]
fn icar_spatial_prior_over_an_edge_list() {
    let n = 9;
    // a 3 × 3 grid
    let mut node1 = Vec::new();
    let mut node2 = Vec::new();
    for r in 0..3 {
        for c in 0..3 {
            if c + 1 < 3 {
                node1.push(r * 3 + c);
                node2.push(r * 3 + c + 1);
            }
            if r + 1 < 3 {
                node1.push(r * 3 + c);
                node2.push((r + 1) * 3 + c);
            }
        }
    }
    let (k, expected) = (counts(n, 9, 141), positive(n, 142));
    assert_generated(&against!(icar(&k, &expected, &node1, &node2), 20, 1.5));
    swept!(icar(&k, &expected, &node1, &node2), 20, 5.0);
}

/// Several series of different lengths, each a random walk with its own drift: an
/// outer loop over the series, an inner loop carrying the level.
#[model]
fn panel_random_walks(y: &[f64], start: &[usize]) {
    let units = start.len() - 1;
    let drift = sample!("drift", Normal::new(0.0, 1.0).iid(units));
    let s_level = sample!("s_level", HalfNormal::new(0.5));
    let s_obs = sample!("s_obs", HalfNormal::new(1.0));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    for u in 0..units {
        let mut level = T::from(y[start[u]]);
        for t in start[u]..start[u + 1] {
            level = level + drift[u] + s_level * z[t];
            sample!("y[{u},{t}]", Normal::new(level, s_obs), obs = y[t]);
        }
    }
}

#[test]
fn panel_of_random_walks() {
    let start = vec![0, 7, 8, 15, 15, 24];
    let y = seeded(24, 143);
    assert_generated(&against!(panel_random_walks(&y, &start), 20, 1.5));
    swept!(panel_random_walks(&y, &start), 20, 5.0);
}

/// Observed and missing covariates: the complete cases' indices as transformed data
/// (`for &i in complete.iter()`), and a data branch on `x[i].is_nan()`.
#[model]
fn complete_cases(y: &[f64], x: &[f64]) {
    let complete: Vec<usize> = (0..y.len()).filter(|&i| !x[i].is_nan()).collect();
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for &i in complete.iter() {
        sample!("y[{i}]", Normal::new(a + b * x[i], s), obs = y[i]);
    }
    for i in 0..y.len() {
        if x[i].is_nan() {
            sample!("m[{i}]", Normal::new(a, s * 2.0), obs = y[i]);
        }
    }
}

#[test]
fn complete_cases_and_missing_covariates() {
    let y = seeded(16, 144);
    let x: Vec<f64> = seeded(16, 145)
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 5 == 2 { f64::NAN } else { *v })
        .collect();
    assert_generated(&against!(complete_cases(&y, &x), 20, 1.5));
}

/// Stochastic volatility and the local level at realistic lengths (1000 and 2000
/// steps): long carried loops whose records hold every step.
#[test]
fn long_carried_series() {
    let y = seeded(1000, 146);
    assert_generated(&against!(stochastic_volatility(&y), 5, 1.5));
    swept!(stochastic_volatility(&y), 5, 5.0);
    let y = seeded(2000, 147);
    assert_generated(&against!(random_walk(&y), 5, 1.5));
    assert_generated(&against!(ar_k_loops(&y, 5), 5, 1.5));
    let observed: Vec<bool> = (0..2000).map(|t| t % 7 != 3).collect();
    assert_generated(&against!(kalman_local_level(&y, &observed), 5, 1.5));
}

// ---------------------------------------------------------------------------------
// round six, third part: transformed data and parameters written with types

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    (m, s)
}

/// Transformed data as a typed tuple pattern, a group count from the data, a fixed-size
/// array and nested vectors; transformed parameters annotated `T`.
#[model]
fn typed_transforms(y: &[f64], x: &[f64], g: &[usize]) {
    let (xm, xs): (f64, f64) = mean_sd(x);
    let j: usize = *g.iter().max().unwrap() + 1;
    let knots: [f64; 3] = [-1.0, 0.0, 1.0];
    let basis: Vec<Vec<f64>> = x
        .iter()
        .map(|v| knots.iter().map(|k| (v - k).max(0.0)).collect())
        .collect();
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    let a_raw = sample!("a_raw", Normal::new(0.0, 1.0).iid(j));
    let w = sample!("w", Normal::new(0.0, 1.0).iid(3));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let sigma2: T = sigma * sigma;
    let scale: T = sigma2.sqrt();
    for i in 0..y.len() {
        let mut spline = T::from(0.0);
        for k in 0..3 {
            spline += w[k] * basis[i][k];
        }
        let eta: T = mu + tau * a_raw[g[i]] + b * (x[i] - xm) / xs + spline;
        sample!("y[{i}]", Normal::new(eta, scale), obs = y[i]);
    }
}

#[test]
fn typed_transformed_data_and_parameters() {
    let (y, x) = (seeded(20, 148), seeded(20, 149));
    let g = groups(20, 4, 150);
    assert_generated(&against!(typed_transforms(&y, &x, &g), 20, 1.5));
}

/// A linear time trend through `T::from(t as f64)`, a `const` in the body and a local
/// `fn` over data.
#[model]
fn trend_with_items(y: &[f64]) {
    const PERIOD: f64 = 12.0;
    fn season(t: usize) -> f64 {
        (2.0 * std::f64::consts::PI * t as f64 / PERIOD).sin()
    }
    let a = sample!("a", Normal::new(0.0, 5.0));
    let slope = sample!("slope", Normal::new(0.0, 1.0));
    let amp = sample!("amp", HalfNormal::new(1.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for t in 0..y.len() {
        let m = a + slope * T::from(t as f64 / 10.0) + amp * season(t);
        sample!("y[{t}]", Normal::new(m, s), obs = y[t]);
    }
}

#[test]
fn trend_with_a_const_and_a_local_fn() {
    let y = seeded(30, 151);
    assert_generated(&against!(trend_with_items(&y), 20, 1.5));
}

/// Missing observations as `Option<f64>`: `if let Some(v) = y[i]` around the site.
#[model]
fn optional_observations(y: &[Option<f64>], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        if let Some(v) = y[i] {
            sample!("y[{i}]", Normal::new(a + b * x[i], s), obs = v);
        }
    }
}

#[test]
fn optional_observations_by_if_let() {
    let x = seeded(16, 152);
    let y: Vec<Option<f64>> = seeded(16, 153)
        .iter()
        .enumerate()
        .map(|(i, v)| (i % 4 != 1).then_some(*v))
        .collect();
    assert_generated(&against!(optional_observations(&y, &x), 20, 1.5));
}

/// The same with the `Option` matched by `match` and a guard on the value.
#[model]
fn optional_match(y: &[Option<f64>], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 5.0));
    let b = sample!("b", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let w = match y[i] {
            Some(v) if v > 1.0 => 0.5,
            Some(_) => 1.0,
            None => 0.0,
        };
        let v = y[i].unwrap_or(0.0);
        factor!(
            "y[{i}]",
            w * Normal::<T>::new(a + b * x[i], s).ln_pdf_obs(v)
        );
    }
}

#[test]
fn optional_observations_by_a_data_match() {
    let x = seeded(16, 154);
    let y: Vec<Option<f64>> = seeded(16, 155)
        .iter()
        .enumerate()
        .map(|(i, v)| (i % 4 != 1).then_some(*v * 1.2))
        .collect();
    assert_generated(&against!(optional_match(&y, &x), 20, 1.5));
}

// ---------------------------------------------------------------------------------
// round six, fourth part: latent sites inside loops, as NumPyro's `plate` and `scan`
// users write them

/// A latent intercept and a latent positive scale per group, drawn inside the loop
/// over groups (a plate), each group's observations in a nested loop over its slice.
#[model]
fn plate_groups(y: &[f64], start: &[usize]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    for j in 0..start.len() - 1 {
        let a = sample!("a[{j}]", Normal::new(mu, tau));
        let s = sample!("s[{j}]", Gamma::new(2.0, 2.0));
        let theta = deterministic!("theta[{j}]", a * 2.0);
        for i in start[j]..start[j + 1] {
            sample!("y[{j},{i}]", Normal::new(theta * 0.5, s), obs = y[i]);
        }
    }
}

#[test]
fn latent_sites_in_a_plate_loop() {
    let start = vec![0, 4, 5, 9, 9, 14];
    let y = seeded(14, 156);
    assert_generated(&against!(plate_groups(&y, &start), 20, 1.5));
    swept!(plate_groups(&y, &start), 20, 5.0);
    swept!(plate_groups(&y, &start), 20, 30.0);
}

/// A centred random walk as NumPyro's `scan` writes it: each step's level a latent
/// site whose location is the carried previous level.
#[model]
fn scan_random_walk(y: &[f64]) {
    let s = sample!("s", HalfNormal::new(0.5));
    let so = sample!("so", HalfNormal::new(1.0));
    let mut level = sample!("level0", Normal::new(0.0, 5.0));
    for t in 0..y.len() {
        level = sample!("level[{t}]", Normal::new(level, s));
        sample!("y[{t}]", Normal::new(level, so), obs = y[t]);
    }
}

#[test]
fn centred_random_walk_by_latent_sites_in_a_carried_loop() {
    let y = seeded(20, 157);
    assert_generated(&against!(scan_random_walk(&y), 20, 1.5));
    swept!(scan_random_walk(&y), 20, 5.0);
}

/// Imputation as a NumPyro user writes it: a latent site for each missing value in
/// one arm of an `if` value, the observed value as `T::from` in the other.
#[model]
fn impute_in_branch(y: &[f64], observed: &[bool]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let s = sample!("s", HalfNormal::new(1.0));
    let phi = sample!("phi", Uniform::new(-1.0, 1.0));
    let mut prev = T::from(0.0);
    for t in 0..y.len() {
        let cur = if observed[t] {
            sample!("y[{t}]", Normal::new(mu + phi * prev, s), obs = y[t]);
            T::from(y[t])
        } else {
            sample!("y_mis[{t}]", Normal::new(mu + phi * prev, s))
        };
        prev = cur;
    }
}

#[test]
fn imputation_by_latent_sites_in_a_branch() {
    let y = seeded(20, 158);
    let observed: Vec<bool> = (0..20).map(|t| t % 3 != 1).collect();
    assert_generated(&against!(impute_in_branch(&y, &observed), 20, 1.5));
    swept!(impute_in_branch(&y, &observed), 20, 5.0);
}

// ---------------------------------------------------------------------------------
// round six, fifth part: probit and multinomial-logit regressions

/// Probit regression as a Stan user writes it, `Phi(eta)` (the `Real::Phi` method).
#[model]
fn probit_phi(y: &[bool], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 2.0));
    let b = sample!("b", Normal::new(0.0, 2.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Bernoulli::new((a + b * x[i]).Phi()), obs = y[i]);
    }
}

#[test]
fn probit_regression_by_phi() {
    let (y, x) = (flags(20, 159), seeded(20, 160));
    assert_generated(&against!(probit_phi(&y, &x), 20, 1.5));
}

/// The same with `math::std_normal_cdf`.
#[model]
fn probit_cdf(y: &[bool], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 2.0));
    let b = sample!("b", Normal::new(0.0, 2.0));
    for i in 0..y.len() {
        sample!(
            "y[{i}]",
            Bernoulli::new(math::std_normal_cdf(a + b * x[i])),
            obs = y[i]
        );
    }
}

#[test]
fn probit_regression_by_std_normal_cdf() {
    let (y, x) = (flags(20, 161), seeded(20, 162));
    assert_generated(&against!(probit_cdf(&y, &x), 20, 1.5));
    swept!(probit_cdf(&y, &x), 20, 5.0);
}

/// Multinomial-logit regression: three categories, the first the reference, written
/// with `Categorical::logits` over a per-row array.
#[model]
fn softmax_regression(y: &[usize], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 2.0).iid(2));
    let b = sample!("b", Normal::new(0.0, 2.0).iid(2));
    for i in 0..y.len() {
        let eta = [T::from(0.0), a[0] + b[0] * x[i], a[1] + b[1] * x[i]];
        sample!("y[{i}]", Categorical::logits(params(&eta)), obs = y[i]);
    }
}

/// The same by hand: `eta[y] - ln Σ exp(eta)` with `log_sum_exp` of two `log1p_exp`
/// steps avoided, written as `ln(1 + e^{η₁} + e^{η₂})`.
#[model]
fn softmax_by_hand(y: &[usize], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 2.0).iid(2));
    let b = sample!("b", Normal::new(0.0, 2.0).iid(2));
    for i in 0..y.len() {
        let e1 = a[0] + b[0] * x[i];
        let e2 = a[1] + b[1] * x[i];
        let norm = (1.0 + e1.exp() + e2.exp()).ln();
        if y[i] == 0 {
            factor!("y[{i}]", -norm);
        } else if y[i] == 1 {
            factor!("y[{i}]", e1 - norm);
        } else {
            factor!("y[{i}]", e2 - norm);
        }
    }
}

#[test]
fn multinomial_logit_regression() {
    let x = seeded(20, 163);
    let y: Vec<usize> = counts(20, 2, 164).iter().map(|c| *c as usize).collect();
    // the categorical site over a per-row array of parameters: the tape's
    assert_falls_back(&against!(softmax_regression(&y, &x), 20, 1.5));
    assert_generated(&against!(softmax_by_hand(&y, &x), 20, 1.5));
}

// ---------------------------------------------------------------------------------
// bodies that did not compile as first written
//
// None of these is a fault of the generator: the generic body (`T`) rejects them, with
// the library's documented workarounds, which the models above use. They are kept here
// because a Stan or NumPyro user writes them first.
//
// 1. A log-density of a distribution built in the body and used at once, without the
//    scalar named (README: "name the scalar: `Exponential::<T>::new(1.0)`"):
//
//        let lp1 = Normal::new(mu[0], sigma[0]).ln_pdf_obs(y[n]);
//        lp[s] += Poisson::new(rate).ln_pdf_obs(d[t] as f64);
//
//    error[E0283]: type annotations needed
//        cannot infer type of the type parameter `T` declared on the struct `Poisson`
//        help: consider specifying the generic argument: `Poisson::<T>::new(rate)`
//
// 2. Data on the left of a comparison with a parameter (the change point):
//
//        let rate = if (t as f64) < s { e } else { l };
//
//    error[E0308]: mismatched types: expected `f64`, found type parameter `T`
//    (`s > t as f64`, the parameter on the left, compiles)
//
// 3. A categorical site over a slice of parameters:
//
//        sample!("y[{i}]", Categorical::logits(&eta[..]), obs = y[i]);
//
//    error[E0277]: the trait bound `&[T]: tilde::prelude::VectorExpr<_>` is not satisfied
//    (`Categorical::logits(params(&eta))` compiles)
//
// 4. Ragged groups whose inner loop variable alone names each observation uniquely:
//
//        for g in 0..size.len() {
//            for i in pos..pos + size[g] {
//                sample!("y[{i}]", Normal::new(mu[g], s), obs = y[i]);
//            }
//            pos += size[g];
//        }
//
//    error: a site inside a loop needs the loop variable `g` in its name, or every
//    iteration reuses the name: write `"y[{i},{g}]"`
//    (a check of `#[model]`: it cannot know that `i` never repeats across groups)

/// Centred stochastic volatility as a NumPyro `scan`: each step's volatility a latent
/// log-normal site around the previous one, and cut points drawn one by one above the
/// previous (`Uniform::new(prev, prev + 4.0)`), both carried.
#[model]
fn scan_volatility(y: &[f64], k: &[usize]) {
    let s = sample!("s", HalfNormal::new(0.3));
    let mut vol = sample!("vol0", LogNormal::new(0.0, 1.0));
    for t in 0..y.len() {
        vol = sample!("vol[{t}]", LogNormal::new(vol.ln(), s));
        sample!("y[{t}]", Normal::new(0.0, vol), obs = y[t]);
    }
    let beta = sample!("beta", Normal::new(0.0, 1.0));
    let mut cut = sample!("c0", Normal::new(0.0, 3.0));
    let mut lower = cut;
    for j in 1..3 {
        cut = sample!("c[{j}]", Uniform::new(cut, cut + 4.0));
        if j == 1 {
            lower = cut;
        }
    }
    for n in 0..k.len() {
        if k[n] == 0 {
            factor!("k[{n}]", (lower - beta).log_inv_logit());
        } else {
            factor!("k[{n}]", (beta - lower).log_inv_logit());
        }
    }
}

#[test]
fn centred_volatility_and_sequential_cut_points_in_carried_loops() {
    let y = seeded(15, 165);
    let k: Vec<usize> = counts(10, 1, 166).iter().map(|c| *c as usize).collect();
    assert_generated(&against!(scan_volatility(&y, &k), 20, 1.5));
    swept!(scan_volatility(&y, &k), 20, 5.0);
    swept!(scan_volatility(&y, &k), 20, 30.0);
}

/// A dynamic regression: a carried local level plus a linear predictor over a
/// row-major design at each step (the lag loop nested in a carried loop).
#[model]
fn dynamic_regression(y: &[f64], x: &[f64], d: usize) {
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let s = sample!("s", HalfNormal::new(0.5));
    let so = sample!("so", HalfNormal::new(1.0));
    let z = sample!("z", Normal::new(0.0, 1.0).iid(y.len()));
    let mut level = T::from(0.0);
    for t in 0..y.len() {
        let mut eta = level;
        for k in 0..d {
            eta += x[t * d + k] * beta[k];
        }
        sample!("y[{t}]", Normal::new(eta, so), obs = y[t]);
        level = level + s * z[t];
    }
}

#[test]
fn dynamic_regression_with_a_carried_level() {
    let (y, x) = (seeded(30, 167), seeded(90, 168));
    assert_generated(&against!(dynamic_regression(&y, &x, 3), 20, 1.5));
    swept!(dynamic_regression(&y, &x, 3), 20, 5.0);
    let (y, x) = (seeded(500, 169), seeded(500 * 17, 170));
    assert_generated(&against!(dynamic_regression(&y, &x, 17), 3, 1.5));
}

/// Counts read from a CSV as `f64`, some with rounding residue (`3.0000000001`) or
/// genuinely fractional (rates), observed by the count families.
#[model]
fn float_counts(k: &[f64], x: &[f64]) {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(0.0, 1.0));
    let phi = sample!("phi", Gamma::new(2.0, 0.5));
    for i in 0..k.len() {
        let eta = a + b * x[i];
        sample!("p[{i}]", Poisson::log_rate(eta), obs = k[i]);
        sample!("q[{i}]", Poisson::new(eta.exp()), obs = k[i]);
        sample!("nb[{i}]", NegativeBinomial::new(eta.exp(), phi), obs = k[i]);
    }
}

#[test]
fn counts_stored_as_floats() {
    let x = seeded(8, 171);
    let clean: Vec<f64> = counts(8, 6, 172).iter().map(|c| *c as f64).collect();
    assert_generated(&against!(float_counts(&clean, &x), 20, 1.5));
    let mut residue = clean.clone();
    residue[2] += 1e-10;
    swept!(float_counts(&residue, &x), 20, 1.5);
    let mut fractional = clean.clone();
    fractional[5] = 2.5;
    swept!(float_counts(&fractional, &x), 20, 1.5);
}
