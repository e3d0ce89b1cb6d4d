//! The analytic partials of the multivariate distributions, through `#[model]`s whose
//! parameters are latent sites.
//!
//! At three fixed points the forward and reverse engines must agree to 1e-10 relative
//! and both match central differences of `logp` to 1e-6 relative; at a fourth point
//! `logp` must equal the `f64` log-densities of every site written out by hand (not for
//! the low-rank/mixture/`math` model, whose value paths are checked in core).

mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;

use common::{check_engines_and_gradients, point};
use tilde::prelude::*;
use tilde::vector::{VectorExpr, data, params};
use tilde::{
    Categorical, Dirichlet, Engine, GaussianRandomWalk, InverseWishart, LowRankMultivariateNormal,
    Multinomial, MultivariateNormal, VectorBijector, VectorDistribution, Wishart, math,
};

const SEEDS: [u64; 3] = [1, 2, 3];
const VALUE_SEED: u64 = 4;

const Y: [f64; 3] = [0.4, -1.1, 0.9];
const CORR: [f64; 9] = [1.0, 0.3, -0.2, 0.3, 1.0, 0.4, -0.2, 0.4, 1.0];

/// `CORR⁻¹`, by Gauss–Jordan elimination.
fn corr_inverse() -> [f64; 9] {
    let mut a = CORR;
    let mut inv = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    for c in 0..3 {
        let p = a[c * 3 + c];
        for k in 0..3 {
            a[c * 3 + k] /= p;
            inv[c * 3 + k] /= p;
        }
        for r in 0..3 {
            if r != c {
                let f = a[r * 3 + c];
                for k in 0..3 {
                    a[r * 3 + k] -= f * a[c * 3 + k];
                    inv[r * 3 + k] -= f * inv[c * 3 + k];
                }
            }
        }
    }
    inv
}

/// The covariance `sᵢ sⱼ CORR[i, j]`, its Cholesky factor and its inverse.
fn matrices<T: Real>(s: &[T], corr_inv: &[f64]) -> (Vec<T>, Vec<T>, Vec<T>) {
    let mut cov = vec![T::from(0.0); 9];
    let mut prec = vec![T::from(0.0); 9];
    for i in 0..3 {
        for j in 0..3 {
            cov[i * 3 + j] = s[i] * s[j] * CORR[i * 3 + j];
            prec[i * 3 + j] = (s[i] * s[j]).recip() * corr_inv[i * 3 + j];
        }
    }
    let mut l = cov.clone();
    assert!(tilde::linalg::cholesky(&mut l, 3));
    (cov, l, prec)
}

/// Every form, with parameters for the mean and the matrix, latent and observed.
#[model]
fn mvn_forms(y: &[f64], corr_inv: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(3));
    let s = sample!("s", HalfNormal::new(1.0).iid(3));
    let (cov, l, prec) = matrices(s, corr_inv);
    let x = sample!(
        "x",
        MultivariateNormal::covariance(params(mu), params(&cov))
    );
    let z = sample!("z", MultivariateNormal::cholesky(params(x), params(&l)));
    sample!(
        "y_cov",
        MultivariateNormal::covariance(params(z), params(&cov)),
        obs = y
    );
    sample!(
        "y_chol",
        MultivariateNormal::cholesky(params(mu), params(&l)),
        obs = y
    );
    sample!(
        "y_prec",
        MultivariateNormal::precision(params(x), params(&prec)),
        obs = y
    );
    sample!(
        "y_data",
        MultivariateNormal::precision(data(y), params(&prec)),
        obs = &CORR[..3]
    );
}

fn mvn_forms_by_hand(u: &[f64]) -> f64 {
    let inv = corr_inverse();
    let mu = &u[0..3];
    let s: Vec<f64> = u[3..6].iter().map(|v| v.exp()).collect();
    let ln_jac: f64 = u[3..6].iter().sum();
    let (x, z) = (&u[6..9], &u[9..12]);
    let (cov, l, prec) = matrices(&s, &inv);
    let mvn = |d: &dyn VectorDistribution<Scalar = f64>, v: &[f64]| d.ln_pdf(v);
    let prior: f64 = mu
        .iter()
        .map(|&m| Normal::<f64>::new(0.0, 2.0).ln_pdf(m))
        .chain(s.iter().map(|&v| HalfNormal::<f64>::new(1.0).ln_pdf(v)))
        .sum();
    prior
        + ln_jac
        + mvn(&MultivariateNormal::covariance(data(mu), data(&cov)), x)
        + mvn(&MultivariateNormal::cholesky(data(x), data(&l)), z)
        + mvn(&MultivariateNormal::covariance(data(z), data(&cov)), &Y)
        + mvn(&MultivariateNormal::cholesky(data(mu), data(&l)), &Y)
        + mvn(&MultivariateNormal::precision(data(x), data(&prec)), &Y)
        + mvn(
            &MultivariateNormal::precision(data(&Y), data(&prec)),
            &CORR[..3],
        )
}

#[test]
fn multivariate_normal_gradients() {
    let inv = corr_inverse();
    let make = |e: Engine| mvn_forms(&Y, &inv).with_engine(e);
    let model = make(Engine::Auto);
    model.check().unwrap();
    assert_eq!(model.dim(), 12);
    check_engines_and_gradients(&make(Engine::Forward), &make(Engine::Reverse), &SEEDS);
    let u = point(model.dim(), VALUE_SEED);
    let (got, want) = (model.logp(&u), mvn_forms_by_hand(&u));
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}

/// Data matrices over the arguments and a hoisted (typed) data binding, factored once
/// at construction, beside one the body computes on each evaluation (an untyped `let`,
/// not hoisted), factored per evaluation.
#[model]
fn data_matrices(y: &[f64], cov: &[f64], prec: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(3));
    let x = sample!("x", MultivariateNormal::precision(params(mu), data(prec)));
    sample!(
        "y",
        MultivariateNormal::covariance(params(x), data(cov)),
        obs = y
    );
    let scaled: Vec<f64> = cov.iter().map(|c| 2.0 * c).collect();
    sample!(
        "y_scaled",
        MultivariateNormal::covariance(params(mu), data(&scaled)),
        obs = y
    );
    let halved = cov.iter().map(|c| 0.5 * c).collect::<Vec<f64>>();
    sample!(
        "y_halved",
        MultivariateNormal::precision(params(x), data(&halved)),
        obs = y
    );
}

fn data_matrices_by_hand(u: &[f64], cov: &[f64], prec: &[f64]) -> f64 {
    let (mu, x) = (&u[0..3], &u[3..6]);
    let scaled: Vec<f64> = cov.iter().map(|c| 2.0 * c).collect();
    let halved: Vec<f64> = cov.iter().map(|c| 0.5 * c).collect();
    let prior: f64 = mu
        .iter()
        .map(|&m| Normal::<f64>::new(0.0, 2.0).ln_pdf(m))
        .sum();
    prior
        + MultivariateNormal::<f64, _, _>::precision(data(mu), data(prec)).ln_pdf(x)
        + MultivariateNormal::<f64, _, _>::covariance(data(x), data(cov)).ln_pdf(&Y)
        + MultivariateNormal::<f64, _, _>::covariance(data(mu), data(&scaled)).ln_pdf(&Y)
        + MultivariateNormal::<f64, _, _>::precision(data(x), data(&halved)).ln_pdf(&Y)
}

#[test]
fn data_matrices_of_the_arguments_are_factored_at_construction() {
    let prec = corr_inverse();
    let make = |e: Engine| data_matrices(&Y, &CORR, &prec).with_engine(e);
    let model = make(Engine::Auto);
    model.check().unwrap();
    // the argument and hoisted matrices are factored into the struct, the body's is not
    let shown = format!("{model:?}");
    assert_eq!(shown.matches("MatrixFactor").count(), 3, "{shown}");
    check_engines_and_gradients(&make(Engine::Forward), &make(Engine::Reverse), &SEEDS);
    for seed in [VALUE_SEED, 5] {
        let u = point(model.dim(), seed);
        let (got, want) = (model.logp(&u), data_matrices_by_hand(&u, &CORR, &prec));
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
    // a matrix that is not positive definite still gives -inf, through the factor
    let bad = [1.0, 2.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let model = data_matrices(&Y, &CORR, &bad);
    assert_eq!(model.logp(&point(6, 1)), f64::NEG_INFINITY);
}

const K: [u64; 6] = [0, 2, 1, 1, 2, 0];
const COUNTS: [u64; 3] = [3, 5, 2];

/// Categorical (by probabilities and by logits) and multinomial observations of latent
/// parameters.
#[model]
fn categorical_counts(k: &[u64], counts: &[u64]) {
    let theta = sample!("theta", Dirichlet::new(&[1.5, 2.0, 1.0]));
    let eta = sample!("eta", Normal::new(0.0, 1.0).iid(3));
    sample!("k", Categorical::new(params(theta)).iid(k.len()), obs = k);
    sample!("k0", Categorical::logits(params(eta)), obs = k[1]);
    sample!(
        "k_logits",
        Categorical::logits(params(eta).scale(2.0)).iid(k.len()),
        obs = k
    );
    sample!("counts", Multinomial::new(10, params(theta)), obs = counts);
}

fn categorical_counts_by_hand(u: &[f64]) -> f64 {
    let mut theta = [0.0; 3];
    let ln_jac = VectorBijector::Simplex.forward(&u[0..2], &mut theta);
    let eta = &u[2..5];
    let eta2: Vec<f64> = eta.iter().map(|v| 2.0 * v).collect();
    let prior = Dirichlet::<f64>::new(&[1.5, 2.0, 1.0]).ln_pdf(&theta)
        + eta
            .iter()
            .map(|&e| Normal::<f64>::new(0.0, 1.0).ln_pdf(e))
            .sum::<f64>();
    let by_prob = Categorical::<f64, _>::new(data(&theta));
    let by_logit = Categorical::<f64, _>::logits(data(eta));
    let by_logit2 = Categorical::<f64, _>::logits(data(&eta2));
    let counts: Vec<f64> = COUNTS.iter().map(|&c| c as f64).collect();
    prior
        + ln_jac
        + K.iter().map(|&k| by_prob.ln_pdf(k as f64)).sum::<f64>()
        + by_logit.ln_pdf(K[1] as f64)
        + K.iter().map(|&k| by_logit2.ln_pdf(k as f64)).sum::<f64>()
        + Multinomial::<f64, _>::new(10, data(&theta)).ln_pdf_obs(&counts)
}

#[test]
fn categorical_and_multinomial_gradients() {
    let make = |e: Engine| categorical_counts(&K, &COUNTS).with_engine(e);
    let model = make(Engine::Auto);
    model.check().unwrap();
    assert_eq!(model.dim(), 5);
    check_engines_and_gradients(&make(Engine::Forward), &make(Engine::Reverse), &SEEDS);
    let u = point(model.dim(), VALUE_SEED);
    let (got, want) = (model.logp(&u), categorical_counts_by_hand(&u));
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}

const WALK: [f64; 5] = [0.2, -0.4, 0.1, 0.9, 1.3];

/// A latent random walk with a latent scale, and an observed one.
#[model]
fn random_walk(y: &[f64]) {
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let x = sample!("x", GaussianRandomWalk::new(sigma, 4));
    sample!("y", GaussianRandomWalk::new(sigma * 2.0, y.len()), obs = y);
    factor!("x_sum", x.iter().copied().sum::<T>() * 0.1);
}

fn random_walk_by_hand(u: &[f64]) -> f64 {
    let sigma = u[0].exp();
    let x = &u[1..5];
    HalfNormal::<f64>::new(1.0).ln_pdf(sigma)
        + u[0]
        + GaussianRandomWalk::<f64>::new(sigma, 4).ln_pdf(x)
        + GaussianRandomWalk::<f64>::new(sigma * 2.0, 5).ln_pdf_obs(&WALK)
        + x.iter().sum::<f64>() * 0.1
}

#[test]
fn gaussian_random_walk_gradients() {
    let make = |e: Engine| random_walk(&WALK).with_engine(e);
    let model = make(Engine::Auto);
    model.check().unwrap();
    assert_eq!(model.dim(), 5);
    check_engines_and_gradients(&make(Engine::Forward), &make(Engine::Reverse), &SEEDS);
    let u = point(model.dim(), VALUE_SEED);
    let (got, want) = (model.logp(&u), random_walk_by_hand(&u));
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}

/// A lower Cholesky factor with positive diagonal, observed by the Wisharts.
const LW_DATA: [f64; 9] = [1.1, 0.0, 0.0, 0.3, 0.8, 0.0, -0.5, 0.2, 1.3];

/// A Cholesky factor of a correlation matrix, observed by the LKJ.
fn corr_factor() -> [f64; 9] {
    let r: f64 = 1.0 - 0.28f64.powi(2) - 0.09;
    [1.0, 0.0, 0.0, 0.6, 0.8, 0.0, -0.28, 0.3, r.sqrt()]
}

/// LKJ, Wishart and inverse Wishart sites (latent and observed) whose parameters are
/// latent: the scale factor is `diag(s) L` for an LKJ factor `L`.
#[model]
fn matrix_sites(y: &[f64], lw: &[f64], lc: &[f64]) {
    let eta = sample!("eta", Gamma::new(4.0, 2.0));
    let l = sample!("L", LkjCholesky::new(3, eta));
    let s = sample!("s", HalfNormal::new(1.0).iid(3));
    let nu = sample!("nu", Uniform::new(3.0, 12.0));
    let mut ls = [T::from(0.0); 9];
    for i in 0..3 {
        for j in 0..3 {
            ls[i * 3 + j] = s[i] * l[i * 3 + j];
        }
    }
    let w = sample!("W", Wishart::new(nu, params(&ls)));
    let v = sample!("V", InverseWishart::new(nu + 1.0, params(&ls)));
    sample!(
        "y",
        MultivariateNormal::cholesky(data(&Y), params(w)),
        obs = y
    );
    sample!(
        "y_v",
        MultivariateNormal::cholesky(data(&Y), params(v)),
        obs = y
    );
    sample!("w_obs", Wishart::new(nu, params(&ls)), obs = lw);
    sample!("v_obs", InverseWishart::new(nu, params(&ls)), obs = lw);
    sample!("l_obs", LkjCholesky::new(3, eta * 2.0), obs = lc);
    factor!("log_det", math::log_determinant_chol(w, 3));
}

fn matrix_sites_by_hand(u: &[f64]) -> f64 {
    let eta = u[0].exp();
    let mut l = [0.0; 9];
    let ln_jac_l = VectorBijector::CholeskyCorr.forward(&u[1..4], &mut l);
    let s: Vec<f64> = u[4..7].iter().map(|v| v.exp()).collect();
    let logistic = 1.0 / (1.0 + (-u[7]).exp());
    let nu = 3.0 + 9.0 * logistic;
    let ln_jac_nu = 9f64.ln() + logistic.ln() + (1.0 - logistic).ln();
    let (mut w, mut v) = ([0.0; 9], [0.0; 9]);
    let ln_jac_w = VectorBijector::CholeskyFactor.forward(&u[8..14], &mut w);
    let ln_jac_v = VectorBijector::CholeskyFactor.forward(&u[14..20], &mut v);
    let ls: Vec<f64> = (0..9).map(|k| s[k / 3] * l[k]).collect();
    let mvn = |d: &dyn VectorDistribution<Scalar = f64>, x: &[f64]| d.ln_pdf(x);
    Gamma::<f64>::new(4.0, 2.0).ln_pdf(eta)
        + u[0]
        + LkjCholesky::<f64>::new(3, eta).ln_pdf(&l)
        + ln_jac_l
        + s.iter()
            .map(|&v| HalfNormal::<f64>::new(1.0).ln_pdf(v))
            .sum::<f64>()
        + u[4..7].iter().sum::<f64>()
        + Uniform::<f64>::new(3.0, 12.0).ln_pdf(nu)
        + ln_jac_nu
        + mvn(&Wishart::<f64, _>::new(nu, data(&ls)), &w)
        + ln_jac_w
        + mvn(&InverseWishart::<f64, _>::new(nu + 1.0, data(&ls)), &v)
        + ln_jac_v
        + mvn(&MultivariateNormal::cholesky(data(&Y), data(&w)), &Y)
        + mvn(&MultivariateNormal::cholesky(data(&Y), data(&v)), &Y)
        + Wishart::<f64, _>::new(nu, data(&ls)).ln_pdf_obs(&LW_DATA)
        + InverseWishart::<f64, _>::new(nu, data(&ls)).ln_pdf_obs(&LW_DATA)
        + LkjCholesky::<f64>::new(3, eta * 2.0).ln_pdf_obs(&corr_factor())
        + 2.0 * (0..3).map(|i| w[i * 4].ln()).sum::<f64>()
}

#[test]
fn matrix_distribution_gradients() {
    let lc = corr_factor();
    let make = |e: Engine| matrix_sites(&Y, &LW_DATA, &lc).with_engine(e);
    let model = make(Engine::Auto);
    model.check().unwrap();
    assert_eq!(model.dim(), 20);
    let l_site = model.layout().site("L").unwrap();
    assert_eq!(l_site.shape, tilde::Shape::Matrix(3, 3));
    assert_eq!(l_site.num_unconstrained, 3);
    assert!(
        model
            .layout()
            .column_names()
            .contains(&"L[2,1]".to_string())
    );
    check_engines_and_gradients(&make(Engine::Forward), &make(Engine::Reverse), &SEEDS);
    let u = point(model.dim(), VALUE_SEED);
    let (got, want) = (model.logp(&u), matrix_sites_by_hand(&u));
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}

/// A latent and an observed low-rank normal, a latent and an observed mixture, and the
/// generic functions of `tilde::math`, all of latent parameters.
#[model]
fn low_rank_mixture_math(y: &[f64], z: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0).iid(3));
    let w = sample!("w", Normal::new(0.0, 1.0).iid(6));
    let d = sample!("d", HalfNormal::new(1.0).iid(3));
    let x = sample!(
        "x",
        LowRankMultivariateNormal::new(params(mu), params(w), params(d))
    );
    sample!(
        "y",
        LowRankMultivariateNormal::new(params(x), params(w), params(d)),
        obs = y
    );
    let theta = sample!("theta", Dirichlet::symmetric(3, 2.0));
    let comps = [
        Normal::new(mu[0], d[0]),
        Normal::new(mu[1], d[1]),
        Normal::new(mu[2], d[2]),
    ];
    let m = sample!("m", Mixture::new(theta, &comps));
    sample!("z", Mixture::new(theta, &comps).iid(z.len()), obs = z);
    factor!("lse", math::log_sum_exp(mu));
    let mut soft = [T::from(0.0); 3];
    math::log_softmax(x, &mut soft);
    factor!("softmax", soft[1]);
    factor!("mix", math::log_mix(theta[0], mu[0], mu[1]));
    factor!("mix_k", math::log_mix_k(theta, mu));
    factor!("lbeta", math::lbeta(d[0], d[1] + 0.5));
    factor!(
        "lgamma",
        math::lgamma(d[2] + 1.0) + math::digamma(d[0] + 2.0)
    );
    factor!(
        "erf",
        math::erf(mu[0]) + math::erfc(mu[1]) + math::log1p_exp(mu[2])
    );
    factor!("phi", math::std_normal_cdf(m).ln());
    factor!("inv_phi", math::std_normal_quantile(theta[1]));
    factor!("diff", math::log_diff_exp(m.abs() + d[0], m.abs()));
    let mut a = [d[0] + 1.0, mu[0], mu[1], d[1] + 2.0];
    factor!("det", math::determinant(&mut a, 2).ln());
    let mut spd = [d[0] + 1.0, mu[0] * 0.1, mu[0] * 0.1, d[1] + 1.0];
    factor!("log_det", math::log_determinant_spd(&mut spd, 2));
    let mut work = [T::from(0.0); 2];
    factor!("quad", -math::inv_quad_form_chol(&spd, &x[..2], &mut work));
}

const Z: [f64; 5] = [-0.3, 1.2, 0.8, -1.5, 2.1];

#[test]
fn low_rank_mixture_and_math_gradients() {
    let make = |e: Engine| low_rank_mixture_math(&Y, &Z).with_engine(e);
    let model = make(Engine::Auto);
    model.check().unwrap();
    assert_eq!(model.dim(), 18);
    check_engines_and_gradients(&make(Engine::Forward), &make(Engine::Reverse), &SEEDS);
}
