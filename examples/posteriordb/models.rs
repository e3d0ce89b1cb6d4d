//! Every posterior of the posteriordb reference set as a tilde model, with the code that
//! reads its data. Shared by the `posteriordb` example and `tests/posteriordb.rs`.

#![allow(dead_code)]

use tilde::glm::Glm;
use tilde::prelude::*;
use tilde::vector::{VectorExpr, data, params};
use tilde::{Dirichlet, Flat, Posterior};

use super::json::Json;

/// The names of the reference posteriors, as posteriordb spells them.
pub const NAMES: [&str; 9] = [
    "eight_schools-eight_schools_noncentered",
    "eight_schools-eight_schools_centered",
    "garch-garch11",
    "gp_pois_regr-gp_pois_regr",
    "low_dim_gauss_mix-low_dim_gauss_mix",
    "arK-arK",
    "kidiq-kidscore_momiq",
    "hmm_example-hmm_example",
    "sblrc-blr",
];

/// Non-centred eight schools; reports `theta`, a transformed parameter.
#[model]
pub fn eight_schools_noncentered(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_trans = sample!("theta_trans", Normal::new(0.0, 1.0).iid(y.len()));
    let theta = deterministic!("theta", params(theta_trans).scale(tau).shift(mu));
    sample!("y", Normal::each(theta, data(sigma)), obs = y);
}

/// Centred eight schools: the funnel.
#[model]
pub fn eight_schools_centered(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta = sample!("theta", Normal::new(mu, tau).iid(y.len()));
    sample!("y", Normal::each(params(theta), data(sigma)), obs = y);
}

/// GARCH(1,1) with flat priors and the dependent bound `beta1 < 1 - alpha1`.
#[model]
pub fn garch11(y: &[f64], sigma1: f64) {
    let mu = sample!("mu", Flat::new());
    let alpha0 = sample!("alpha0", Flat::positive());
    let alpha1 = sample!("alpha1", Flat::interval(0.0, 1.0));
    let beta1 = sample!("beta1", Flat::interval(0.0, 1.0 - alpha1));
    let mut sigma = T::from(sigma1);
    for t in 0..y.len() {
        if t > 0 {
            let r = y[t - 1] - mu;
            sigma = (alpha0 + alpha1 * r * r + beta1 * sigma * sigma).sqrt();
        }
        sample!("y[{t}]", Normal::new(mu, sigma), obs = y[t]);
    }
}

/// Poisson regression on a latent Gaussian process (non-centred, Cholesky of the
/// squared-exponential kernel).
#[model]
pub fn gp_pois_regr(x: &[f64], k: &[u64]) {
    let n = x.len();
    let rho = sample!("rho", Gamma::new(25.0, 4.0));
    let alpha = sample!("alpha", HalfNormal::new(2.0));
    let f_tilde = sample!("f_tilde", Normal::new(0.0, 1.0).iid(n));
    let mut cov = vec![T::from(0.0); n * n];
    tilde::linalg::gp_exp_quad_cov(x, alpha, rho, &mut cov);
    for i in 0..n {
        cov[i * n + i] += 1e-10;
    }
    let mut f = vec![T::from(0.0); n];
    if tilde::linalg::cholesky(&mut cov, n) {
        tilde::linalg::lower_mul(&cov, f_tilde, &mut f);
    } else {
        factor!("cholesky_failed", f64::NEG_INFINITY);
    }
    let f = deterministic!("f", f);
    for i in 0..n {
        sample!("k[{i}]", Poisson::log_rate(f[i]), obs = k[i]);
    }
}

/// A two-component normal mixture with ordered locations.
#[model]
pub fn low_dim_gauss_mix(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2).ordered());
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let theta = sample!("theta", Beta::new(5.0, 5.0));
    let (ln_theta, ln_1m_theta) = (theta.ln(), (-theta).ln_1p());
    let (first, second) = (
        Normal::<T>::new(mu[0], sigma[0]),
        Normal::<T>::new(mu[1], sigma[1]),
    );
    for n in 0..y.len() {
        let a = ln_theta + first.ln_pdf_obs(y[n]);
        let b = ln_1m_theta + second.ln_pdf_obs(y[n]);
        factor!("y[{n}]", a.log_sum_exp(b));
    }
}

/// AR(K) regression; `lags` is the design matrix of the K previous values, one row per
/// modelled observation.
#[model]
pub fn ar_k(lags: &[f64], y: &[f64], k: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0).iid(k));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    sample!("y", Glm::normal(lags, beta, alpha, sigma), obs = &y[k..]);
}

/// Kid's test score on mother's IQ, flat prior on the coefficients.
#[model]
pub fn kidscore_momiq(mom_iq: &[f64], kid_score: &[f64]) {
    let beta = sample!("beta", Flat::new().iid(2));
    let sigma = sample!("sigma", HalfCauchy::new(2.5));
    sample!(
        "kid_score",
        Glm::normal(mom_iq, &beta[1..], beta[0], sigma),
        obs = kid_score
    );
}

/// A two-state hidden Markov model with normal emissions (forward algorithm).
#[model]
pub fn hmm_example(y: &[f64]) {
    let theta1 = sample!("theta1", Dirichlet::symmetric(2, 1.0));
    let theta2 = sample!("theta2", Dirichlet::symmetric(2, 1.0));
    let mu = sample!("mu", Flat::positive().iid(2).positive_ordered());
    factor!(
        "mu_prior",
        Normal::new(3.0, 1.0).ln_pdf(mu[0]) + Normal::new(10.0, 1.0).ln_pdf(mu[1])
    );
    let ln_theta = [
        [theta1[0].ln(), theta1[1].ln()],
        [theta2[0].ln(), theta2[1].ln()],
    ];
    let emission = |t: usize, k: usize| Normal::<T>::new(mu[k], 1.0).ln_pdf_obs(y[t]);
    let mut gamma = [emission(0, 0), emission(0, 1)];
    for t in 1..y.len() {
        gamma = [
            (gamma[0] + ln_theta[0][0]).log_sum_exp(gamma[1] + ln_theta[1][0]) + emission(t, 0),
            (gamma[0] + ln_theta[0][1]).log_sum_exp(gamma[1] + ln_theta[1][1]) + emission(t, 1),
        ];
    }
    factor!("y", gamma[0].log_sum_exp(gamma[1]));
}

/// `hmm_example` with the forward algorithm of [`tilde::math::hmm_marginal`] (one fused
/// node) and a uniform initial distribution, which adds the constant `-ln 2` to the
/// reference model's log-density.
#[model]
pub fn hmm_example_marginal(y: &[f64]) {
    let theta1 = sample!("theta1", Dirichlet::symmetric(2, 1.0));
    let theta2 = sample!("theta2", Dirichlet::symmetric(2, 1.0));
    let mu = sample!("mu", Flat::positive().iid(2).positive_ordered());
    factor!(
        "mu_prior",
        Normal::new(3.0, 1.0).ln_pdf(mu[0]) + Normal::new(10.0, 1.0).ln_pdf(mu[1])
    );
    let n = y.len();
    let mut log_omega = vec![T::from(0.0); 2 * n];
    for k in 0..2 {
        for t in 0..n {
            log_omega[k * n + t] = Normal::<T>::new(mu[k], 1.0).ln_pdf_obs(y[t]);
        }
    }
    let gamma = [theta1[0], theta1[1], theta2[0], theta2[1]];
    let rho = [T::from(0.5), T::from(0.5)];
    factor!("y", tilde::math::hmm_marginal(&log_omega, &gamma, &rho));
}

/// Bayesian linear regression with matrix data.
#[model]
pub fn blr(x: &[f64], y: &[f64], d: usize) {
    let beta = sample!("beta", Normal::new(0.0, 10.0).iid(d));
    let sigma = sample!("sigma", HalfNormal::new(10.0));
    sample!("y", Glm::normal(x, beta, 0.0, sigma), obs = y);
}

/// A row-major matrix from a JSON array of rows.
fn matrix(rows: &Json) -> Vec<f64> {
    match rows {
        Json::Arr(rows) => rows.iter().flat_map(Json::nums).collect(),
        _ => panic!("not a matrix"),
    }
}

/// Fits the posterior `name` with NUTS, 4 chains × (1000 + 1000) (the centred funnel
/// × (1000 + 4000)), from its `data.json`.
pub fn fit(name: &str, data: &Json, seed: u64, progress: bool) -> tilde::Result<Posterior> {
    let nuts = Nuts::default();
    let default = nuts.tuning();
    fit_with(
        name,
        data,
        seed,
        progress,
        default.metric_adaptation,
        default.late_symmetric_warmup,
    )
}

/// [`fit`] with the metric adaptation `adaptation`.
pub fn fit_with(
    name: &str,
    data: &Json,
    seed: u64,
    progress: bool,
    adaptation: MetricAdaptation,
    late_symmetric_warmup: bool,
) -> tilde::Result<Posterior> {
    let nuts = |accept: f64| {
        Mcmc::new(
            Nuts::default()
                .target_accept(accept)
                .metric_adaptation(adaptation)
                .late_symmetric_warmup(late_symmetric_warmup),
        )
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(seed)
        .progress(progress)
    };
    match name {
        "eight_schools-eight_schools_noncentered" => nuts(0.8).run(&eight_schools_noncentered(
            &data.get("y").nums(),
            &data.get("sigma").nums(),
        )),
        // the funnel mixes slowly in tau, and theta with it: the reference README asks for
        // a high adapt_delta and long runs
        "eight_schools-eight_schools_centered" => nuts(0.99).num_samples(4000).run(
            &eight_schools_centered(&data.get("y").nums(), &data.get("sigma").nums()),
        ),
        "garch-garch11" => nuts(0.8).run(&garch11(&data.get("y").nums(), data.get("sigma1").num())),
        "gp_pois_regr-gp_pois_regr" => {
            let k: Vec<u64> = data.get("k").nums().iter().map(|&v| v as u64).collect();
            nuts(0.8).run(&gp_pois_regr(&data.get("x").nums(), &k))
        }
        "low_dim_gauss_mix-low_dim_gauss_mix" => {
            nuts(0.8).run(&low_dim_gauss_mix(&data.get("y").nums()))
        }
        "arK-arK" => {
            let (y, k) = (data.get("y").nums(), data.get("K").num() as usize);
            let lags: Vec<f64> = (k..y.len())
                .flat_map(|t| (1..=k).map(move |j| (t, j)))
                .map(|(t, j)| y[t - j])
                .collect();
            nuts(0.8).run(&ar_k(&lags, &y, k))
        }
        "kidiq-kidscore_momiq" => nuts(0.8).run(&kidscore_momiq(
            &data.get("mom_iq").nums(),
            &data.get("kid_score").nums(),
        )),
        "hmm_example-hmm_example" => nuts(0.8).run(&hmm_example(&data.get("y").nums())),
        "sblrc-blr" => {
            let d = data.get("D").num() as usize;
            nuts(0.8).run(&blr(&matrix(data.get("X")), &data.get("y").nums(), d))
        }
        other => Err(tilde::Error::UnknownName {
            name: other.into(),
            known: NAMES.iter().map(|s| s.to_string()).collect(),
        }),
    }
}
