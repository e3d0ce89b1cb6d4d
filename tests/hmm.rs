//! `math::hmm_marginal` inside models: its gradient on every engine against central
//! differences and against the tape through an unfused forward recursion.

mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;
#[path = "../examples/posteriordb/models.rs"]
mod models;

use tilde::math::hmm_marginal;
use tilde::prelude::*;
use tilde::{Dirichlet, Engine};

const Y: [f64; 9] = [0.3, -1.2, 2.5, 2.9, 0.1, -0.4, 3.3, 1.7, -2.0];

/// Three states, every parameter of the chain a latent site, through `hmm_marginal`.
#[model]
fn hmm3_fused(y: &[f64]) {
    let rho = sample!("rho", Dirichlet::symmetric(3, 2.0));
    let g0 = sample!("g0", Dirichlet::symmetric(3, 2.0));
    let g1 = sample!("g1", Dirichlet::symmetric(3, 2.0));
    let g2 = sample!("g2", Dirichlet::symmetric(3, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(3));
    let sigma = sample!("sigma", HalfNormal::new(2.0));
    let n = y.len();
    let mut log_omega = vec![T::from(0.0); 3 * n];
    for k in 0..3 {
        for t in 0..n {
            log_omega[k * n + t] = Normal::<T>::new(mu[k], sigma).ln_pdf_obs(y[t]);
        }
    }
    let gamma = [
        g0[0], g0[1], g0[2], g1[0], g1[1], g1[2], g2[0], g2[1], g2[2],
    ];
    let rho = [rho[0], rho[1], rho[2]];
    factor!("y", hmm_marginal(&log_omega, &gamma, &rho));
}

/// The same model, its forward recursion written out with pairwise log-sum-exp (one
/// tape node per elementary operation).
#[model]
fn hmm3_unfused(y: &[f64]) {
    let rho = sample!("rho", Dirichlet::symmetric(3, 2.0));
    let g0 = sample!("g0", Dirichlet::symmetric(3, 2.0));
    let g1 = sample!("g1", Dirichlet::symmetric(3, 2.0));
    let g2 = sample!("g2", Dirichlet::symmetric(3, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(3));
    let sigma = sample!("sigma", HalfNormal::new(2.0));
    let ln_gamma = [
        [g0[0].ln(), g0[1].ln(), g0[2].ln()],
        [g1[0].ln(), g1[1].ln(), g1[2].ln()],
        [g2[0].ln(), g2[1].ln(), g2[2].ln()],
    ];
    let emission = |t: usize, k: usize| Normal::<T>::new(mu[k], sigma).ln_pdf_obs(y[t]);
    let mut alpha = [
        rho[0].ln() + emission(0, 0),
        rho[1].ln() + emission(0, 1),
        rho[2].ln() + emission(0, 2),
    ];
    for t in 1..y.len() {
        let step = |j: usize| {
            (alpha[0] + ln_gamma[0][j])
                .log_sum_exp(alpha[1] + ln_gamma[1][j])
                .log_sum_exp(alpha[2] + ln_gamma[2][j])
                + emission(t, j)
        };
        alpha = [step(0), step(1), step(2)];
    }
    factor!("y", alpha[0].log_sum_exp(alpha[1]).log_sum_exp(alpha[2]));
}

#[test]
fn gradient_on_every_engine_matches_central_differences() {
    common::check_engines_and_gradients(
        &hmm3_fused(&Y).with_engine(Engine::Forward),
        &hmm3_fused(&Y).with_engine(Engine::Reverse),
        &[1, 2, 3, 4, 5],
    );
}

#[test]
fn fused_node_matches_the_tape_through_the_recursion() {
    let fused = hmm3_fused(&Y).with_engine(Engine::Reverse);
    let unfused = hmm3_unfused(&Y).with_engine(Engine::Reverse);
    let dim = fused.dim();
    assert_eq!(dim, 12);
    for seed in 0..10 {
        let x = common::point(dim, seed);
        let (mut gf, mut gu) = (vec![0.0; dim], vec![0.0; dim]);
        let lf = fused.logp_and_grad(&x, &mut gf);
        let lu = unfused.logp_and_grad(&x, &mut gu);
        assert!(
            (lf - lu).abs() <= 1e-11 * lf.abs().max(1.0),
            "seed {seed}: {lf} vs {lu}"
        );
        for i in 0..dim {
            assert!(
                (gf[i] - gu[i]).abs() <= 1e-10 * gf[i].abs().max(1.0),
                "seed {seed}, component {i}: {} vs {}",
                gf[i],
                gu[i]
            );
        }
    }
}

/// posteriordb's `hmm_example` written with `hmm_marginal` (uniform initial
/// distribution) is the hand-written recursion minus `ln 2`, with the same gradient.
#[test]
fn hmm_example_matches_the_hand_written_recursion() {
    let (data, _) = common::reference("hmm_example-hmm_example");
    let y = data.get("y").nums();
    let fused = models::hmm_example_marginal(&y);
    let by_hand = models::hmm_example(&y).with_engine(Engine::Reverse);
    for seed in 0..5 {
        let x = common::point(fused.dim(), seed);
        let (mut gf, mut gh) = (vec![0.0; 4], vec![0.0; 4]);
        let lf = fused.logp_and_grad(&x, &mut gf);
        let lh = by_hand.logp_and_grad(&x, &mut gh);
        assert!((lf - (lh - 2f64.ln())).abs() < 1e-9, "{lf} vs {lh} - ln 2");
        for i in 0..4 {
            assert!((gf[i] - gh[i]).abs() <= 1e-9 * gh[i].abs().max(1.0));
        }
    }
}

/// Bad shapes inside a model make the point's log-density `-inf`: the run reports a
/// failed initialisation, it does not panic.
#[model]
fn hmm_bad_shape(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let log_omega: Vec<T> = y
        .iter()
        .map(|&v| Normal::<T>::new(mu, 1.0).ln_pdf_obs(v))
        .collect();
    let gamma = [T::from(0.5); 4];
    let rho = [T::from(0.5); 2];
    factor!("y", hmm_marginal(&log_omega[..3], &gamma, &rho));
}

#[test]
fn bad_shapes_are_an_error_not_a_panic() {
    let model = hmm_bad_shape(&Y);
    assert_eq!(model.logp(&[0.0]), f64::NEG_INFINITY);
    let run = Mcmc::new(Nuts::default())
        .num_warmup(10)
        .num_samples(10)
        .num_chains(1)
        .seed(1)
        .progress(false)
        .run(&model);
    assert!(run.is_err());
}
