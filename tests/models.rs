//! Model log-densities against hand-written formulas, gradients against central finite
//! differences, constrained values, breakdowns and run-time errors.

mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;

use std::f64::consts::PI;

use tilde::glm::Glm;
use tilde::prelude::*;
use tilde::vector::{VectorExpr, data, params};
use tilde::{Error, SiteKind};

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

fn ln_normal(x: f64, loc: f64, scale: f64) -> f64 {
    -0.5 * ((x - loc) / scale).powi(2) - scale.ln() - 0.5 * (2.0 * PI).ln()
}

/// A deterministic pseudo-random point in [-1.5, 1.5]^dim.
fn point(dim: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..dim)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 3.0 - 1.5
        })
        .collect()
}

/// Checks `logp_and_grad` against central differences of `logp` at a few points:
/// relative error below 1e-6 (step 1e-5·(1+|x|): truncation ~1e-10, rounding ~1e-9).
fn check_gradient(model: &impl LogDensity, seeds: &[u64]) {
    let dim = model.dim();
    for &seed in seeds {
        let x = point(dim, seed);
        let mut grad = vec![0.0; dim];
        let lp = model.logp_and_grad(&x, &mut grad);
        assert!(lp.is_finite(), "logp not finite at {x:?}");
        assert!((lp - model.logp(&x)).abs() <= 1e-12 * lp.abs().max(1.0));
        for i in 0..dim {
            let h = 1e-5 * (1.0 + x[i].abs());
            let mut xp = x.clone();
            xp[i] += h;
            let mut xm = x.clone();
            xm[i] -= h;
            let fd = (model.logp(&xp) - model.logp(&xm)) / (2.0 * h);
            let err = (grad[i] - fd).abs() / grad[i].abs().max(fd.abs()).max(1e-2);
            assert!(
                err < 1e-6,
                "component {i}: grad {} vs fd {fd} (rel {err:e}) at {x:?}",
                grad[i]
            );
        }
    }
}

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let j = y.len();
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(j));
    for i in 0..j {
        let theta = deterministic!("theta[{i}]", mu + tau * theta_raw[i]);
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

fn eight_schools_by_hand(x: &[f64]) -> f64 {
    let (mu, log_tau, raw) = (x[0], x[1], &x[2..]);
    let tau = log_tau.exp();
    // half-Cauchy(5): 2 / (π·5·(1 + (τ/5)²)), plus the log-Jacobian of τ = exp(u)
    let mut lp =
        ln_normal(mu, 0.0, 5.0) + (2.0 / (PI * 5.0 * (1.0 + (tau / 5.0).powi(2)))).ln() + log_tau;
    for i in 0..8 {
        lp += ln_normal(raw[i], 0.0, 1.0) + ln_normal(Y[i], mu + tau * raw[i], SIGMA[i]);
    }
    lp
}

#[test]
fn eight_schools_matches_formula() {
    let model = eight_schools(&Y, &SIGMA);
    assert_eq!(model.dim(), 10);
    model.check().unwrap();
    for seed in 0..5 {
        let x = point(10, seed);
        let want = eight_schools_by_hand(&x);
        assert!(
            (model.logp(&x) - want).abs() < 1e-12 * want.abs(),
            "seed {seed}"
        );
    }
    check_gradient(&model, &[1, 2, 3]);
}

#[test]
fn eight_schools_layout_and_draw() {
    let model = eight_schools(&Y, &SIGMA);
    let layout = model.layout();
    let latent: Vec<(&str, usize, usize)> = layout
        .latent()
        .map(|s| (s.name.as_str(), s.shape.len(), s.offset.unwrap()))
        .collect();
    assert_eq!(latent, [("mu", 1, 0), ("tau", 1, 1), ("theta_raw", 8, 2)]);
    assert_eq!(
        layout.site("tau").unwrap().support,
        Some(tilde::Support::Positive)
    );
    assert_eq!(layout.column_names().len(), 18);
    assert_eq!(layout.column_names()[17], "theta[7]");

    let x = point(10, 7);
    let draw = model.constrain(&x);
    let tau = x[1].exp();
    assert_eq!(draw.get("mu"), Some(x[0]));
    assert_eq!(draw.get("tau"), Some(tau));
    assert_eq!(draw.get("theta_raw[3]"), Some(x[5]));
    assert!((draw.get("theta[3]").unwrap() - (x[0] + tau * x[5])).abs() < 1e-14);
    let err = draw.try_get("theta[8]").unwrap_err();
    assert!(err.to_string().contains("theta[7]"), "{err}");
}

#[test]
fn breakdown_accounts_for_every_site() {
    let model = eight_schools(&Y, &SIGMA);
    let x = point(10, 3);
    let parts = model.logp_breakdown(&x);
    assert_eq!(parts.len(), 3 + 8);
    let total: f64 = parts.iter().map(|p| p.log_density + p.ln_jacobian).sum();
    assert!((total - model.logp(&x)).abs() < 1e-12 * total.abs());
    let tau = parts.iter().find(|p| p.name == "tau").unwrap();
    assert_eq!(tau.ln_jacobian, x[1]);
    assert_eq!(parts[3].name, "y[0]");
    assert_eq!(parts[3].kind, SiteKind::Observed);
    assert_eq!(parts[3].values, [28.0]);
}

/// Linear regression with a per-row loop: Normal priors, an exponential scale.
#[model]
fn linear_regression(x: &[f64], y: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", Exponential::new(1.0));
    for i in 0..y.len() {
        sample!(
            "y[{i}]",
            Normal::new(alpha + beta * x[i], sigma),
            obs = y[i]
        );
    }
}

#[test]
fn linear_regression_matches_formula() {
    let xs = [0.5, 1.5, -2.0, 3.0, 0.0];
    let ys = [1.1, 2.9, -3.2, 5.8, 0.4];
    let model = linear_regression(&xs, &ys);
    assert_eq!(model.dim(), 3);
    for seed in 0..4 {
        let p = point(3, seed);
        let sigma = p[2].exp();
        let mut want = ln_normal(p[0], 0.0, 10.0) + ln_normal(p[1], 0.0, 10.0) + (-sigma) + p[2];
        for i in 0..5 {
            want += ln_normal(ys[i], p[0] + p[1] * xs[i], sigma);
        }
        assert!((model.logp(&p) - want).abs() < 1e-12 * want.abs());
    }
    check_gradient(&model, &[5, 6]);
}

/// Logistic regression: Bernoulli on the logit scale, bool observations.
#[model]
fn logistic_regression(x: &[f64], y: &[bool]) {
    let alpha = sample!("alpha", StudentT::new(3.0, 0.0, 2.5));
    let beta = sample!("beta", Laplace::new(0.0, 1.0));
    for i in 0..y.len() {
        sample!("y[{i}]", Bernoulli::logit(alpha + beta * x[i]), obs = y[i]);
    }
}

fn ln_student_t(x: f64, nu: f64, loc: f64, scale: f64) -> f64 {
    let z = (x - loc) / scale;
    tilde::special::lgamma((nu + 1.0) / 2.0)
        - tilde::special::lgamma(nu / 2.0)
        - 0.5 * (nu * PI).ln()
        - scale.ln()
        - (nu + 1.0) / 2.0 * (1.0 + z * z / nu).ln()
}

#[test]
fn logistic_regression_matches_formula() {
    let xs = [-1.0, 0.3, 2.2, -0.4, 1.1, 0.0];
    let ys = [false, true, true, false, true, false];
    let model = logistic_regression(&xs, &ys);
    for seed in 0..4 {
        let p = point(2, seed);
        let mut want = ln_student_t(p[0], 3.0, 0.0, 2.5) + (-p[1].abs() - 2f64.ln());
        for i in 0..6 {
            let eta = p[0] + p[1] * xs[i];
            let prob = 1.0 / (1.0 + (-eta).exp());
            want += if ys[i] { prob.ln() } else { (1.0 - prob).ln() };
        }
        assert!((model.logp(&p) - want).abs() < 1e-12 * want.abs());
    }
    check_gradient(&model, &[8, 9]);
}

/// Poisson regression on the log scale with an `.iid` observation of integer counts,
/// a Gamma prior and a uniform (interval-bounded) parameter.
#[model]
fn counts(k: &[u64]) {
    let rate = sample!("rate", Gamma::new(2.0, 0.5));
    let w = sample!("w", Uniform::new(-1.0, 2.0));
    sample!("k", Poisson::new(rate * (w + 2.0)).iid(k.len()), obs = k);
    factor!("shrink", -(w * w) * 0.5);
}

#[test]
fn counts_matches_formula() {
    let k = [3u64, 0, 7, 2];
    let model = counts(&k);
    assert_eq!(model.dim(), 2);
    for seed in 0..4 {
        let p = point(2, seed);
        let rate = p[0].exp();
        let logistic = 1.0 / (1.0 + (-p[1]).exp());
        let w = -1.0 + 3.0 * logistic;
        // Gamma(shape 2, rate 0.5) + log-Jacobian of exp
        let mut want =
            2.0 * 0.5f64.ln() - tilde::special::lgamma(2.0) + (rate).ln() - 0.5 * rate + p[0];
        // Uniform(-1, 2) + log-Jacobian of the interval transform
        want += -(3.0f64.ln()) + 3.0f64.ln() + logistic.ln() + (1.0 - logistic).ln();
        let lambda = rate * (w + 2.0);
        for &ki in &k {
            let ki = ki as f64;
            want += ki * lambda.ln() - lambda - tilde::special::lgamma(ki + 1.0);
        }
        want += -(w * w) * 0.5;
        assert!(
            (model.logp(&p) - want).abs() < 1e-11 * want.abs(),
            "seed {seed}: {} vs {want}",
            model.logp(&p)
        );
    }
    check_gradient(&model, &[10, 11]);
}

/// Beta-binomial with constrained parameters of several kinds, a 20-dimensional vector
/// site (two forward passes) and a log-normal and inverse-gamma prior.
#[model]
fn hierarchical_rates(n: &[u64], k: &[u64]) {
    let m = sample!("m", Beta::new(2.0, 3.0));
    let s = sample!("s", LogNormal::new(1.0, 0.5));
    let v = sample!("v", InverseGamma::new(3.0, 2.0));
    let c = sample!("c", Cauchy::new(0.0, 1.0));
    let p = sample!("p", Beta::new(m * s, (1.0 - m) * s).iid(n.len()));
    for i in 0..n.len() {
        sample!("k[{i}]", Binomial::new(n[i], p[i]), obs = k[i]);
    }
    factor!("v_c", Normal::new(c, v.sqrt()).ln_pdf(0.25 * v));
}

#[test]
fn hierarchical_rates_gradient() {
    let n: Vec<u64> = (0..20).map(|i| 5 + i as u64).collect();
    let k: Vec<u64> = n.iter().map(|&ni| ni / 3).collect();
    let model = hierarchical_rates(&n, &k);
    assert_eq!(model.dim(), 24);
    check_gradient(&model, &[12, 13]);
}

#[test]
fn non_finite_data_is_an_error() {
    let mut y = Y;
    y[2] = f64::NAN;
    let model = eight_schools(&y, &SIGMA);
    match model.check() {
        Err(Error::NonFiniteData { site, .. }) => assert_eq!(site, "y[2]"),
        other => panic!("expected NonFiniteData, got {other:?}"),
    }
}

#[test]
fn invalid_counts_are_errors() {
    #[model]
    fn poisson_f64(k: &[f64]) {
        let rate = sample!("rate", Exponential::new(1.0));
        sample!("k", Poisson::new(rate).iid(k.len()), obs = k);
    }
    let model = poisson_f64(&[1.0, 2.5]);
    let err = model.check().unwrap_err();
    assert!(
        matches!(err, Error::InvalidObservation { index: Some(1), .. }),
        "{err}"
    );
    assert!(poisson_f64(&[1.0, 4.0]).check().is_ok());
}

#[model]
fn wrong_length(y: &[f64], n: usize) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0).iid(n), obs = y);
}

#[test]
fn obs_length_mismatch_is_an_error() {
    let model = wrong_length(&[1.0, 2.0, 3.0], 2);
    assert_eq!(
        model.check(),
        Err(Error::ObsLength {
            site: "y".into(),
            expected: 2,
            found: 3
        })
    );
    assert_eq!(model.logp(&[0.0]), f64::NEG_INFINITY);
    assert!(matches!(
        model.try_logp(&[0.0]),
        Err(Error::ObsLength { .. })
    ));
    let mut grad = [1.0];
    assert_eq!(model.logp_and_grad(&[0.0], &mut grad), f64::NEG_INFINITY);
    assert_eq!(grad, [0.0]);
}

#[model]
fn shape_shifting() {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let n = if mu > 0.5 {
        2
    } else if mu < -0.5 {
        4
    } else {
        3
    };
    let z = sample!("z", Normal::new(0.0, 1.0).iid(n));
    deterministic!("z_sum", z.iter().copied().sum::<T>());
}

#[test]
fn a_layout_that_depends_on_parameters_is_an_error() {
    let model = shape_shifting();
    assert_eq!(model.dim(), 4);
    assert!(model.try_logp(&[0.0, 0.1, 0.2, 0.3]).is_ok());
    for mu in [1.0, -1.0] {
        let x = [mu, 0.1, 0.2, 0.3];
        assert!(
            matches!(model.try_logp(&x), Err(Error::LayoutChanged { .. })),
            "mu = {mu}"
        );
        assert_eq!(model.logp(&x), f64::NEG_INFINITY);
        let mut grad = [0.0; 4];
        assert_eq!(model.logp_and_grad(&x, &mut grad), f64::NEG_INFINITY);
        let parts = model.logp_breakdown(&x);
        assert!(!parts.last().unwrap().is_finite());
        let draw = model.constrain(&x);
        assert!(draw.get("z_sum").unwrap().is_nan() || mu > 0.5);
    }
}

#[test]
fn duplicate_names_at_run_time_are_errors() {
    #[model]
    fn repeated(n: usize) {
        let mut i = 0;
        while i < n {
            sample!("x", Normal::new(0.0, 1.0));
            i += 1;
        }
    }
    assert_eq!(
        repeated(2).check(),
        Err(Error::DuplicateSite { name: "x".into() })
    );
}

#[test]
fn parameters_outside_their_range_give_minus_infinity() {
    #[model]
    fn bad_scale(s: f64) {
        let mu = sample!("mu", Normal::new(0.0, s));
        sample!("y", Normal::new(mu, 1.0), obs = 0.0);
    }
    let model = bad_scale(-1.0);
    assert_eq!(model.logp(&[0.3]), f64::NEG_INFINITY);
    let parts = model.logp_breakdown(&[0.3]);
    let bad: Vec<&str> = parts
        .iter()
        .filter(|p| !p.is_finite())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(bad, ["mu"]);
}

/// Values and gradients of the forward and reverse engines agree to 1e-10 relative.
fn check_engines(
    forward: &(impl LogDensity + tilde::__private::ModelBody),
    reverse: &impl LogDensity,
    seeds: &[u64],
) {
    let dim = forward.dim();
    for &seed in seeds {
        let x = point(dim, seed);
        common::check_generated_at(forward, reverse, &x);
        let (mut gf, mut gr) = (vec![0.0; dim], vec![0.0; dim]);
        let (lf, lr) = (
            forward.logp_and_grad(&x, &mut gf),
            reverse.logp_and_grad(&x, &mut gr),
        );
        assert!(
            (lf - lr).abs() <= 1e-10 * lf.abs().max(1.0),
            "value {lf} vs {lr}"
        );
        for i in 0..dim {
            let scale = gf[i].abs().max(gr[i].abs()).max(1.0);
            assert!(
                (gf[i] - gr[i]).abs() <= 1e-10 * scale,
                "component {i}: {} vs {}",
                gf[i],
                gr[i]
            );
        }
    }
}

#[test]
fn engines_agree_on_the_model_zoo() {
    use tilde::Engine::{Forward, Reverse};
    let (xs, ys) = ([0.5, 1.5, -2.0, 3.0, 0.0], [1.1, 2.9, -3.2, 5.8, 0.4]);
    let (lx, ly) = ([-1.0, 0.3, 2.2, -0.4], [false, true, true, false]);
    let k = [3u64, 0, 7, 2];
    let n: Vec<u64> = (0..20).map(|i| 5 + i as u64).collect();
    let nk: Vec<u64> = n.iter().map(|&ni| ni / 3).collect();
    check_engines(
        &eight_schools(&Y, &SIGMA).with_engine(Forward),
        &eight_schools(&Y, &SIGMA).with_engine(Reverse),
        &[1, 2],
    );
    check_engines(
        &linear_regression(&xs, &ys).with_engine(Forward),
        &linear_regression(&xs, &ys).with_engine(Reverse),
        &[3],
    );
    check_engines(
        &logistic_regression(&lx, &ly).with_engine(Forward),
        &logistic_regression(&lx, &ly).with_engine(Reverse),
        &[4],
    );
    check_engines(
        &counts(&k).with_engine(Forward),
        &counts(&k).with_engine(Reverse),
        &[5],
    );
    check_engines(
        &hierarchical_rates(&n, &nk).with_engine(Forward),
        &hierarchical_rates(&n, &nk).with_engine(Reverse),
        &[6],
    );
    // and the reverse engine alone against finite differences
    check_gradient(&hierarchical_rates(&n, &nk).with_engine(Reverse), &[7]);
    check_gradient(&eight_schools(&Y, &SIGMA).with_engine(Reverse), &[8]);
}

/// The hierarchical normal as one vectorised site and as a scalar loop: same value,
/// same gradient, and the gradient matches finite differences.
#[model]
fn schools_vectorised(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    let theta = deterministic!("theta", params(theta_raw).scale(tau).shift(mu));
    sample!("y", Normal::each(theta, data(sigma)), obs = y);
}

#[test]
fn vectorised_site_matches_the_scalar_loop() {
    use tilde::Engine::{Forward, Reverse};
    let looped = eight_schools(&Y, &SIGMA);
    let vectorised = schools_vectorised(&Y, &SIGMA);
    for seed in 0..3 {
        let x = point(10, seed);
        assert!((looped.logp(&x) - vectorised.logp(&x)).abs() < 1e-12 * looped.logp(&x).abs());
        let draw = vectorised.constrain(&x);
        assert_eq!(draw.get("theta[4]"), looped.constrain(&x).get("theta[4]"));
    }
    check_engines(
        &looped.with_engine(Reverse),
        &schools_vectorised(&Y, &SIGMA).with_engine(Reverse),
        &[1, 2],
    );
    check_engines(
        &schools_vectorised(&Y, &SIGMA).with_engine(Forward),
        &schools_vectorised(&Y, &SIGMA).with_engine(Reverse),
        &[3],
    );
    check_gradient(&schools_vectorised(&Y, &SIGMA), &[4, 5]);
    let short = schools_vectorised(&Y, &SIGMA[..7]);
    assert!(matches!(short.check(), Err(Error::ObsLength { .. })));
}

/// The three GLM families against their formulas, and their gradients.
#[model]
fn glms(x: &[f64], y_normal: &[f64], y_bool: &[bool], y_count: &[u64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 1.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(2));
    let sigma = sample!("sigma", Exponential::new(1.0));
    sample!("yn", Glm::normal(x, beta, alpha, sigma), obs = y_normal);
    sample!("yb", Glm::bernoulli_logit(x, beta, alpha), obs = y_bool);
    sample!("yc", Glm::poisson_log(x, beta, alpha * 0.5), obs = y_count);
}

#[test]
fn glms_match_their_formulas() {
    let x = [0.5, -1.0, 1.5, 0.2, -0.3, 0.8];
    let (yn, yb, yc) = ([0.3, 1.2, -0.4], [true, false, true], [2u64, 0, 5]);
    let model = glms(&x, &yn, &yb, &yc);
    assert_eq!(model.dim(), 4);
    for seed in 0..3 {
        let p = point(4, seed);
        let (alpha, beta, sigma) = (p[0], [p[1], p[2]], p[3].exp());
        let mut want = ln_normal(alpha, 0.0, 1.0)
            + ln_normal(beta[0], 0.0, 1.0)
            + ln_normal(beta[1], 0.0, 1.0)
            - sigma
            + p[3];
        for i in 0..3 {
            let eta = x[2 * i] * beta[0] + x[2 * i + 1] * beta[1];
            want += ln_normal(yn[i], alpha + eta, sigma);
            let pr = 1.0 / (1.0 + (-(alpha + eta)).exp());
            want += if yb[i] { pr.ln() } else { (1.0 - pr).ln() };
            let rate = (0.5 * alpha + eta).exp();
            want += yc[i] as f64 * rate.ln() - rate - tilde::special::lgamma(yc[i] as f64 + 1.0);
        }
        assert!(
            (model.logp(&p) - want).abs() < 1e-12 * want.abs(),
            "seed {seed}"
        );
    }
    check_gradient(&model, &[6, 7]);
    check_engines(
        &glms(&x, &yn, &yb, &yc).with_engine(tilde::Engine::Forward),
        &glms(&x, &yn, &yb, &yc).with_engine(tilde::Engine::Reverse),
        &[8],
    );
    let bad = glms(&x[..5], &yn, &yb, &yc);
    assert!(matches!(bad.check(), Err(Error::ObsLength { .. })));
}

#[test]
fn hessians_match_second_differences() {
    let model = linear_regression(&[0.5, 1.5, -2.0], &[1.1, 2.9, -3.2]);
    let x = point(3, 9);
    let h = tilde::autodiff::hessian(&model, &x);
    // second differences of logp itself: step 1e-4, error O(h²) ≈ 1e-8 relative
    for i in 0..3 {
        for j in 0..3 {
            let s = 1e-4;
            let f = |di: f64, dj: f64| {
                let mut p = x.clone();
                p[i] += di;
                p[j] += dj;
                model.logp(&p)
            };
            let fd = (f(s, s) - f(s, -s) - f(-s, s) + f(-s, -s)) / (4.0 * s * s);
            assert!(
                (h[i * 3 + j] - fd).abs() < 1e-5 * fd.abs().max(1.0),
                "({i},{j}): {} vs {fd}",
                h[i * 3 + j]
            );
        }
    }
    let v = [0.3, -1.0, 0.5];
    let hv = tilde::autodiff::hessian_vector_product(&model, &x, &v);
    for i in 0..3 {
        let want: f64 = (0..3).map(|j| h[i * 3 + j] * v[j]).sum();
        assert!((hv[i] - want).abs() < 1e-6 * want.abs().max(1.0));
    }
}
