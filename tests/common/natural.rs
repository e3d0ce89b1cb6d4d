//! Models written the natural way (scalar loops, accumulators, carried state, vectors
//! filled element by element), shared by the codegen tests and `benches/codegen.rs`.

#![allow(dead_code)]

use tilde::prelude::*;

/// Logistic regression with a row loop and an accumulator per row.
#[model]
pub fn logistic_loop(x: &[f64], y: &[f64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.5));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    for n in 0..y.len() {
        let mut eta = alpha;
        for j in 0..d {
            eta += x[n * d + j] * beta[j];
        }
        sample!("y[{n}]", Bernoulli::logit(eta), obs = y[n]);
    }
}

/// GARCH(1,1) with the dependent bound `beta1 < 1 - alpha1` and a branch on `t`.
#[model]
pub fn garch11(y: &[f64], sigma1: f64) {
    let mu = sample!("mu", Flat::new());
    let alpha0 = sample!("alpha0", Flat::positive());
    let alpha1 = sample!("alpha1", Flat::interval(0.0, 1.0));
    let beta1 = sample!("beta1", Flat::interval(0.0, 1.0 - alpha1));
    let mut sigma = sigma1 + 0.0 * mu;
    for t in 0..y.len() {
        if t > 0 {
            sigma = (alpha0 + alpha1 * (y[t - 1] - mu).powi(2) + beta1 * sigma * sigma).sqrt();
        }
        sample!("y[{t}]", Normal::new(mu, sigma), obs = y[t]);
    }
}

/// A two-state hidden Markov model: the forward algorithm over log-probabilities.
#[model]
pub fn hmm2(y: &[f64]) {
    let stay0 = sample!("stay0", Beta::new(2.0, 2.0));
    let stay1 = sample!("stay1", Beta::new(2.0, 2.0));
    let mu0 = sample!("mu0", Normal::new(-1.0, 1.0));
    let mu1 = sample!("mu1", Normal::new(1.0, 1.0));
    let mut a0 = Normal::<T>::new(mu0, 1.0).ln_pdf_obs(y[0]) + 0.5f64.ln();
    let mut a1 = Normal::<T>::new(mu1, 1.0).ln_pdf_obs(y[0]) + 0.5f64.ln();
    for t in 1..y.len() {
        let from0 = a0 + stay0.ln();
        let from1 = a1 + (1.0 - stay1).ln();
        let m0 = from0.max(from1);
        let next0 = m0 + ((from0 - m0).exp() + (from1 - m0).exp()).ln();
        let to0 = a0 + (1.0 - stay0).ln();
        let to1 = a1 + stay1.ln();
        let m1 = to0.max(to1);
        let next1 = m1 + ((to0 - m1).exp() + (to1 - m1).exp()).ln();
        a0 = next0 + Normal::<T>::new(mu0, 1.0).ln_pdf_obs(y[t]);
        a1 = next1 + Normal::<T>::new(mu1, 1.0).ln_pdf_obs(y[t]);
    }
    let m = a0.max(a1);
    factor!("marginal", m + ((a0 - m).exp() + (a1 - m).exp()).ln());
}

/// MA(2) as Stan's manual writes it: a vector of errors the loop fills, each step
/// reading the two before.
#[model]
pub fn ma2_stored(y: &[f64]) {
    let n = y.len();
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let theta1 = sample!("theta1", Normal::new(0.0, 1.0));
    let theta2 = sample!("theta2", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    let mut err = vec![T::from(0.0); n];
    for t in 0..n {
        let mut nu = mu;
        if t >= 1 {
            nu += theta1 * err[t - 1];
        }
        if t >= 2 {
            nu += theta2 * err[t - 2];
        }
        err[t] = y[t] - nu;
        sample!("y[{t}]", Normal::new(nu, sigma), obs = y[t]);
    }
}
