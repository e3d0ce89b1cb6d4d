//! Variational inference against closed forms: a conjugate Gaussian linear regression
//! (exact posterior and log evidence), a banana, a 100-d correlated Gaussian for
//! Pathfinder, every guide on eight schools, warm starts, and bad input.

use tilde::prelude::*;
use tilde::{Error, Guide, LaplaceInitializer, Posterior};

// ---------------------------------------------------------------- linear regression

/// `y ~ N(b0 + b1 x1 + b2 x2, 0.5²)`, `b ~ N(0, 2² I)`: conjugate, all sites on ℝ, so
/// the unconstrained posterior is the exact Gaussian below.
#[model]
fn linear(x1: &[f64], x2: &[f64], y: &[f64]) {
    let b0 = sample!("b0", Normal::new(0.0, 2.0));
    let b1 = sample!("b1", Normal::new(0.0, 2.0));
    let b2 = sample!("b2", Normal::new(0.0, 2.0));
    for i in 0..y.len() {
        sample!(
            "y[{i}]",
            Normal::new(b0 + b1 * x1[i] + b2 * x2[i], 0.5),
            obs = y[i]
        );
    }
}

const SIGMA: f64 = 0.5;
const PRIOR_SD: f64 = 2.0;

/// Covariates with correlation ≈ 0.9 (so that mean-field guides visibly shrink
/// variances) and responses, from a fixed deterministic sequence.
fn regression_data() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = 20;
    let x1: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.7).sin() * 1.5).collect();
    let x2: Vec<f64> = x1
        .iter()
        .enumerate()
        .map(|(i, x)| 0.9 * x + 0.4 * ((i as f64) * 1.9).cos())
        .collect();
    let y = (0..n)
        .map(|i| 1.0 + 0.5 * x1[i] - 0.8 * x2[i] + 0.4 * ((i as f64) * 2.7).sin())
        .collect();
    (x1, x2, y)
}

/// Inverse of a symmetric 3 × 3 matrix.
fn inverse3(a: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let c = |i: usize, j: usize| {
        let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
        let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
        a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]
    };
    let det = a[0][0] * c(0, 0) + a[0][1] * c(0, 1) + a[0][2] * c(0, 2);
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = c(j, i) / det;
        }
    }
    inv
}

/// The exact posterior: mean, covariance, precision, and the log evidence.
struct Exact {
    mean: [f64; 3],
    cov: [[f64; 3]; 3],
    precision: [[f64; 3]; 3],
    log_evidence: f64,
}

fn exact(x1: &[f64], x2: &[f64], y: &[f64]) -> Exact {
    let rows: Vec<[f64; 3]> = x1.iter().zip(x2).map(|(a, b)| [1.0, *a, *b]).collect();
    let mut precision = [[0.0; 3]; 3];
    let mut xty = [0.0; 3];
    for (r, yi) in rows.iter().zip(y) {
        for i in 0..3 {
            xty[i] += r[i] * yi / (SIGMA * SIGMA);
            for j in 0..3 {
                precision[i][j] += r[i] * r[j] / (SIGMA * SIGMA);
            }
        }
    }
    for (i, row) in precision.iter_mut().enumerate() {
        row[i] += 1.0 / (PRIOR_SD * PRIOR_SD);
    }
    let cov = inverse3(precision);
    let mean: [f64; 3] = std::array::from_fn(|i| (0..3).map(|j| cov[i][j] * xty[j]).sum());
    // p(y) = p(y, β) / p(β | y) at β = the posterior mean, where p(β | y) = (2π)^{-3/2} |Σ|^{-1/2}
    let det_cov = 1.0 / {
        let inv = inverse3(cov);
        inv[0][0] * (inv[1][1] * inv[2][2] - inv[1][2] * inv[2][1])
            - inv[0][1] * (inv[1][0] * inv[2][2] - inv[1][2] * inv[2][0])
            + inv[0][2] * (inv[1][0] * inv[2][1] - inv[1][1] * inv[2][0])
    };
    let log_joint = linear(x1, x2, y).logp(&mean);
    let log_posterior_at_mean = -1.5 * (2.0 * std::f64::consts::PI).ln() - 0.5 * det_cov.ln();
    Exact {
        mean,
        cov,
        precision,
        log_evidence: log_joint - log_posterior_at_mean,
    }
}

const NAMES: [&str; 3] = ["b0", "b1", "b2"];

/// Adam with a cosine decay to 1 % of the rate: the last iterates move by at most
/// `5e-4` per step, so the final point sits within about 0.01 of the optimum.
fn adam(steps: usize) -> Adam {
    Adam::new(0.05).schedule(Schedule::Cosine { steps, floor: 0.01 })
}

/// Fits `guide` with [`adam`] for `steps` steps of `particles` particles.
fn fit<'m, G: Guide + Clone, M: tilde::ContinuousModel + Sync>(
    guide: G,
    model: &'m M,
    steps: usize,
    particles: usize,
    seed: u64,
) -> tilde::SviResult<'m, G, M> {
    Svi::new(guide, adam(steps))
        .num_steps(steps)
        .num_particles(particles)
        .seed(seed)
        .progress(false)
        .run(model)
        .unwrap()
}

#[test]
fn multivariate_normal_recovers_the_exact_posterior_and_evidence() {
    let (x1, x2, y) = regression_data();
    let model = linear(&x1, &x2, &y);
    let exact = exact(&x1, &x2, &y);
    let steps = 4000;
    let fit = fit(AutoMultivariateNormal::new(), &model, steps, 4, 1);
    let loc = fit.guide().loc();
    let cov = fit.guide().covariance();
    for i in 0..3 {
        let sd = exact.cov[i][i].sqrt();
        // Tolerance: the final learning rate (5e-4 per Adam step) and 4-particle
        // gradients leave the location within ~0.05 sd; 0.15 sd allows 3× that.
        assert!(
            (loc[i] - exact.mean[i]).abs() < 0.15 * sd,
            "{}: mean {} vs exact {} (sd {sd})",
            NAMES[i],
            loc[i],
            exact.mean[i]
        );
        assert!(
            (cov[i * 3 + i].sqrt() / sd - 1.0).abs() < 0.1,
            "{}: sd {} vs exact {sd}",
            NAMES[i],
            cov[i * 3 + i].sqrt()
        );
        for j in 0..i {
            let corr = cov[i * 3 + j] / (cov[i * 3 + i] * cov[j * 3 + j]).sqrt();
            let want = exact.cov[i][j] / (exact.cov[i][i] * exact.cov[j][j]).sqrt();
            assert!((corr - want).abs() < 0.05, "corr({i},{j}) {corr} vs {want}");
        }
    }
    // At q = posterior, log p(y, β) − log q(β) = log p(y) for every β: the ELBO's
    // Monte-Carlo error vanishes and only the fit's KL divergence separates them.
    let elbo = fit.elbo(20_000, 7).unwrap();
    assert!(
        elbo <= exact.log_evidence + 0.01 && elbo > exact.log_evidence - 0.05,
        "ELBO {elbo} vs log evidence {}",
        exact.log_evidence
    );
    // draws by name through the samplers' Posterior
    let posterior: Posterior = fit.sample_posterior(4000, 3).unwrap();
    let summary = posterior.summary();
    for (i, name) in NAMES.iter().enumerate() {
        let row = summary.get(name).unwrap();
        let sd = exact.cov[i][i].sqrt();
        // 4000 independent draws: the mean's MCSE is sd/63; 4 MCSE plus the fit's 0.15 sd
        assert!((row.mean - exact.mean[i]).abs() < (0.15 + 4.0 / 63.0) * sd);
    }
}

#[test]
fn delta_finds_the_map_and_laplace_the_whole_gaussian() {
    let (x1, x2, y) = regression_data();
    let model = linear(&x1, &x2, &y);
    let exact = exact(&x1, &x2, &y);
    let steps = 3000;
    // A point mass has no noise: Adam converges to the mode itself.
    let delta = Svi::new(AutoDelta::new(), adam(steps))
        .num_steps(steps)
        .progress(false)
        .run(&model)
        .unwrap();
    let median = delta.median();
    for (i, name) in NAMES.iter().enumerate() {
        assert!(
            (median.get(name).unwrap() - exact.mean[i]).abs() < 1e-3 * exact.cov[i][i].sqrt(),
            "{name}: {} vs {}",
            median.get(name).unwrap(),
            exact.mean[i]
        );
    }
    let laplace = Svi::new(AutoLaplaceApproximation::new(), adam(steps))
        .num_steps(steps)
        .progress(false)
        .run(&model)
        .unwrap();
    let cov = laplace.guide().covariance().unwrap();
    for i in 0..3 {
        assert!((laplace.guide().loc()[i] - exact.mean[i]).abs() < 1e-3 * exact.cov[i][i].sqrt());
        for j in 0..3 {
            // The log-density is quadratic: differences of its exact gradient are exact
            // up to rounding (relative 1e-7 of the gradient's scale).
            assert!(
                (cov[i * 3 + j] - exact.cov[i][j]).abs() < 1e-6 * exact.cov[i][i],
                "cov({i},{j}) {} vs {}",
                cov[i * 3 + j],
                exact.cov[i][j]
            );
        }
    }
    // quantiles in constrained space from the Gaussian
    let q = laplace.quantiles(&[0.05, 0.95]).unwrap();
    let b1 = (q[0].get("b1").unwrap(), q[1].get("b1").unwrap());
    let half_width = 1.644_853_626_951_472 * exact.cov[1][1].sqrt();
    assert!((b1.0 - (exact.mean[1] - half_width)).abs() < 1e-3);
    assert!((b1.1 - (exact.mean[1] + half_width)).abs() < 1e-3);
}

#[test]
fn mean_field_matches_means_and_shrinks_variances_as_theory_predicts() {
    let (x1, x2, y) = regression_data();
    let model = linear(&x1, &x2, &y);
    let exact = exact(&x1, &x2, &y);
    let steps = 4000;
    let fit = fit(AutoNormal::new(), &model, steps, 4, 2);
    for (i, name) in NAMES.iter().enumerate() {
        let sd = exact.cov[i][i].sqrt();
        let loc = fit.guide().loc(name).unwrap()[0];
        let scale = fit.guide().scale(name).unwrap()[0];
        assert!((loc - exact.mean[i]).abs() < 0.15 * sd, "{name}: {loc}");
        // Mean-field optimum on a Gaussian: variance 1 / Λᵢᵢ, below Σᵢᵢ.
        let mean_field_sd = (1.0 / exact.precision[i][i]).sqrt();
        assert!(
            (scale / mean_field_sd - 1.0).abs() < 0.1,
            "{name}: scale {scale} vs 1/sqrt(Λii) {mean_field_sd}"
        );
        assert!(scale < sd, "{name}: mean-field underestimates the sd");
        if i > 0 {
            // b1 and b2 multiply correlated covariates: a strong shrinkage to detect
            assert!(mean_field_sd < 0.8 * sd, "the covariates are correlated");
            assert!(scale < 0.85 * sd, "{name}: scale {scale} vs sd {sd}");
        }
    }
    // ELBO = log p(y) − KL, with KL = ½ (Σ ln Λᵢᵢ − ln det Λ) at the mean-field optimum.
    let ln_det_precision = -{
        let c = exact.cov;
        (c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1])
            - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
            + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]))
            .ln()
    };
    let kl = 0.5 * ((0..3).map(|i| exact.precision[i][i].ln()).sum::<f64>() - ln_det_precision);
    let elbo = fit.elbo(20_000, 9).unwrap();
    // 20 000 draws: the estimate's standard error is below 0.01 here; the fit adds ≈ 0.01.
    assert!(
        (elbo - (exact.log_evidence - kl)).abs() < 0.05,
        "ELBO {elbo} vs log p(y) − KL = {}",
        exact.log_evidence - kl
    );
}

#[test]
fn low_rank_and_guide_lists_fit_the_regression() {
    let (x1, x2, y) = regression_data();
    let model = linear(&x1, &x2, &y);
    let exact = exact(&x1, &x2, &y);
    let steps = 4000;
    let low_rank = fit(
        AutoLowRankMultivariateNormal::new().rank(2),
        &model,
        steps,
        4,
        3,
    );
    let list = Svi::new(
        AutoGuideList::new()
            .add(&["b1", "b2"], AutoMultivariateNormal::new())
            .rest(AutoNormal::new()),
        adam(steps),
    )
    .num_steps(steps)
    .num_particles(4)
    .seed(4)
    .progress(false)
    .run(&model)
    .unwrap();
    let cov = low_rank.guide().covariance();
    for i in 0..3 {
        let sd = exact.cov[i][i].sqrt();
        assert!((low_rank.guide().loc()[i] - exact.mean[i]).abs() < 0.15 * sd);
        // rank 2 plus a diagonal represents any 3 × 3 covariance
        assert!(
            (cov[i * 3 + i].sqrt() / sd - 1.0).abs() < 0.1,
            "low-rank sd {i}"
        );
        assert!((list.median().get(NAMES[i]).unwrap() - exact.mean[i]).abs() < 0.15 * sd);
    }
}

// ---------------------------------------------------------------- banana

/// A curved ridge: `x ~ N(0, 1)`, `y | x ~ N(x², 0.5²)`.
#[model]
fn banana() {
    let x = sample!("x", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(x * x, 0.5));
}

#[test]
fn a_flow_beats_mean_field_on_a_banana() {
    let model = banana();
    let steps = 4000;
    let normal = fit(AutoNormal::new(), &model, steps, 4, 5);
    let flow = fit(AutoIafNormal::new().hidden_dim(16), &model, steps, 4, 5);
    let (elbo_normal, elbo_flow) = (
        normal.elbo(20_000, 1).unwrap(),
        flow.elbo(20_000, 1).unwrap(),
    );
    // log p(y) = 0: the target is normalised. Standard errors of both estimates are below
    // 0.01 with 20 000 draws; a margin of 0.05 nats is 5 of them.
    assert!(
        elbo_flow <= 0.02,
        "ELBO {elbo_flow} cannot exceed the log evidence 0"
    );
    assert!(
        elbo_flow > elbo_normal + 0.05,
        "IAF ELBO {elbo_flow} vs AutoNormal {elbo_normal}"
    );
}

// ---------------------------------------------------------------- Pathfinder

/// `N(0, Σ)` in 100 dimensions with `Σ = diag(d) + U Uᵀ`, `U` of rank 2 with
/// correlations up to ≈ 0.8 and sds from 0.6 to 2.5: the precision comes from
/// Woodbury's identity, so the gradient is analytic.
struct Correlated {
    d: Vec<f64>,
    u: [Vec<f64>; 2],
    /// `(I + Uᵀ D⁻¹ U)⁻¹`.
    inner: [[f64; 2]; 2],
}

impl Correlated {
    fn new() -> Self {
        let n = 100;
        let d: Vec<f64> = (0..n)
            .map(|i| 0.3 + 0.5 * ((i as f64) * 0.37).sin().abs())
            .collect();
        let u = [
            (0..n)
                .map(|i| 1.0 + 0.8 * ((i as f64) * 0.11).cos())
                .collect::<Vec<f64>>(),
            (0..n).map(|i| ((i as f64) * 0.23).sin() * 1.2).collect(),
        ];
        let mut m = [[0.0; 2]; 2];
        for a in 0..2 {
            for b in 0..2 {
                m[a][b] = f64::from(u8::from(a == b))
                    + (0..n).map(|i| u[a][i] * u[b][i] / d[i]).sum::<f64>();
            }
        }
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        let inner = [
            [m[1][1] / det, -m[0][1] / det],
            [-m[1][0] / det, m[0][0] / det],
        ];
        Correlated { d, u, inner }
    }

    fn sd(&self, i: usize) -> f64 {
        (self.d[i] + self.u[0][i].powi(2) + self.u[1][i].powi(2)).sqrt()
    }
}

impl LogDensity for Correlated {
    fn dim(&self) -> usize {
        100
    }
    fn logp(&self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; 100];
        self.logp_and_grad(x, &mut g)
    }
    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        // Σ⁻¹x = D⁻¹x − D⁻¹U (I + UᵀD⁻¹U)⁻¹ UᵀD⁻¹x
        let dx: Vec<f64> = x.iter().zip(&self.d).map(|(x, d)| x / d).collect();
        let t = [0, 1].map(|a| (0..100).map(|i| self.u[a][i] * dx[i]).sum::<f64>());
        let c = [0, 1].map(|a| self.inner[a][0] * t[0] + self.inner[a][1] * t[1]);
        let mut lp = 0.0;
        for i in 0..100 {
            let p = dx[i] - (self.u[0][i] * c[0] + self.u[1][i] * c[1]) / self.d[i];
            grad[i] = -p;
            lp -= 0.5 * x[i] * p;
        }
        lp
    }
}

#[test]
fn pathfinder_draws_match_a_correlated_gaussian_in_100_dimensions() {
    let target = Correlated::new();
    let fit = Pathfinder::new()
        .seed(11)
        .run(&tilde::Unconstrained::new(Correlated::new()))
        .unwrap();
    let summary = fit.posterior().unwrap().summary();
    let (mut worst_mean, mut worst_sd) = (0.0f64, 0.0f64);
    for i in 0..100 {
        let row = summary.get(&format!("x[{i}]")).unwrap();
        worst_mean = worst_mean.max((row.mean / target.sd(i)).abs());
        worst_sd = worst_sd.max((row.sd / target.sd(i) - 1.0).abs());
    }
    // Pathfinder approximates: its covariance family (diagonal plus rank 2J from the
    // L-BFGS history) misses part of this covariance, and resampling 4 × 1000 draws
    // with Pareto k ≈ 0.4–1 repeats draws, which shrinks sds. Over seeds 11–13 the
    // worst coordinate was 0.14–0.26 sd off in mean and 42–47 % low in sd. The
    // tolerances (0.4 sd, 60 %) catch a wrong location or a scale off by 2.5× —
    // what would break it as an initialiser — not the approximation's known bias.
    assert!(worst_mean < 0.4, "largest |mean| / sd = {worst_mean}");
    assert!(worst_sd < 0.6, "largest relative sd error = {worst_sd}");
    assert!(fit.pareto_k() < 1.5, "Pareto k {}", fit.pareto_k());
}

// ---------------------------------------------------------------- eight schools

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

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const S: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
/// posteriordb `eight_schools_noncentered`: (mean, sd) of mu and tau.
const MU: (f64, f64) = (4.39, 3.32);
const TAU: (f64, f64) = (3.62, 3.21);

fn within_two_sds(label: &str, mu: f64, tau: f64) {
    assert!((mu - MU.0).abs() < 2.0 * MU.1, "{label}: mu {mu}");
    assert!((tau - TAU.0).abs() < 2.0 * TAU.1, "{label}: tau {tau}");
}

fn check_guide(label: &str, guide: impl Guide + Clone) {
    let model = eight_schools(&Y, &S);
    let steps = 3000;
    let fit = Svi::new(guide, adam(steps))
        .num_steps(steps)
        .num_particles(2)
        .seed(8)
        .progress(false)
        .run(&model)
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let summary = fit.sample_posterior(2000, 1).unwrap().summary();
    within_two_sds(
        label,
        summary.get("mu").unwrap().mean,
        summary.get("tau").unwrap().mean,
    );
    assert!(
        summary.get("theta[0]").is_some(),
        "deterministics are drawn"
    );
    let median = fit.median();
    within_two_sds(label, median.get("mu").unwrap(), median.get("tau").unwrap());
    let q = fit.quantiles(&[0.1, 0.9]).unwrap();
    assert!(
        q[0].get("tau").unwrap() <= q[1].get("tau").unwrap(),
        "{label}: quantiles ordered"
    );
}

/// The Laplace approximation sits at the joint mode of the unconstrained density,
/// which for non-centred eight schools lies at tau ≈ 29 (scipy's BFGS from five starts:
/// mu 1.43293, tau 28.97473, log-density −40.05649): more than two posterior sds
/// above the reference mean of tau, however well the mode is found. So this guide is
/// checked against that independent optimum instead.
fn laplace_on_eight_schools() {
    let model = eight_schools(&Y, &S);
    let fit = Svi::new(AutoLaplaceApproximation::new(), adam(3000))
        .num_steps(3000)
        .progress(false)
        .run(&model)
        .unwrap();
    let median = fit.median();
    assert!(
        (median.get("mu").unwrap() - 1.43293).abs() < 2e-3,
        "{median:?}"
    );
    assert!(
        (median.get("tau").unwrap() / 28.97473 - 1.0).abs() < 2e-3,
        "{median:?}"
    );
    assert!((model.logp(fit.guide().loc()) + 40.05649).abs() < 1e-4);
    assert!(fit.guide().covariance().is_some());
}

#[test]
fn every_guide_runs_on_eight_schools() {
    check_guide("AutoDelta", AutoDelta::new());
    check_guide("AutoNormal", AutoNormal::new());
    check_guide("AutoDiagonalNormal", AutoDiagonalNormal::new());
    check_guide("AutoMultivariateNormal", AutoMultivariateNormal::new());
    check_guide(
        "AutoLowRankMultivariateNormal",
        AutoLowRankMultivariateNormal::new(),
    );
    laplace_on_eight_schools();
    check_guide("AutoIafNormal", AutoIafNormal::new());
    check_guide(
        "AutoGuideList",
        AutoGuideList::new()
            .add(&["mu", "tau"], AutoMultivariateNormal::new())
            .rest(AutoNormal::new()),
    );
    let model = eight_schools(&Y, &S);
    let summary = Pathfinder::new()
        .seed(2)
        .run(&model)
        .unwrap()
        .posterior()
        .unwrap()
        .summary();
    within_two_sds(
        "Pathfinder",
        summary.get("mu").unwrap().mean,
        summary.get("tau").unwrap().mean,
    );
}

#[test]
fn warm_started_nuts_agrees_with_the_reference() {
    let model = eight_schools(&Y, &S);
    let runs: [(&str, Mcmc<Nuts>); 2] = [
        (
            "pathfinder",
            Mcmc::new(Nuts::default()).initializer(Pathfinder::new()),
        ),
        (
            "laplace",
            Mcmc::new(Nuts::default()).initializer(LaplaceInitializer::new()),
        ),
    ];
    for (label, mcmc) in runs {
        let posterior = mcmc
            .num_warmup(300)
            .num_samples(1000)
            .num_chains(4)
            .seed(21)
            .progress(false)
            .run(&model)
            .unwrap();
        let summary = posterior.summary();
        for (name, (mean, _), ref_mcse) in [("mu", MU, 0.05), ("tau", TAU, 0.05)] {
            let row = summary.get(name).unwrap();
            let tolerance = 4.0 * (row.mcse_mean.powi(2) + f64::powi(ref_mcse, 2)).sqrt();
            assert!(
                (row.mean - mean).abs() < tolerance,
                "{label}: {name} {} vs {mean} ± {tolerance}",
                row.mean
            );
            assert!(row.r_hat < 1.01, "{label}: {name} r_hat {}", row.r_hat);
        }
    }
}

// ---------------------------------------------------------------- bad input

#[model]
fn impossible() {
    let x = sample!("x", Normal::new(0.0, 1.0));
    factor!("never", f64::NEG_INFINITY + 0.0 * x);
}

#[test]
fn bad_input_is_an_error() {
    let model = eight_schools(&Y, &S);
    let zero = Svi::new(AutoNormal::new(), Adam::new(0.01))
        .num_steps(0)
        .progress(false)
        .run(&model);
    assert!(
        matches!(zero, Err(Error::InvalidConfig(_))),
        "{:?}",
        zero.err()
    );
    let bad_rate = Svi::new(AutoNormal::new(), Adam::new(-1.0))
        .progress(false)
        .run(&model);
    assert!(matches!(bad_rate, Err(Error::InvalidConfig(_))));

    let nan = [28.0, f64::NAN, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let model = eight_schools(&nan, &S);
    let err = Svi::new(AutoNormal::new(), Adam::new(0.01))
        .progress(false)
        .run(&model);
    assert!(
        matches!(err, Err(Error::NonFiniteData { .. })),
        "{:?}",
        err.err()
    );
    assert!(matches!(
        Pathfinder::new().run(&model),
        Err(Error::NonFiniteData { .. })
    ));

    let model = impossible();
    let err = Svi::new(AutoNormal::new(), Adam::new(0.01))
        .progress(false)
        .run(&model);
    match err {
        Err(Error::InitFailed { reason, .. }) => assert!(reason.contains("never"), "{reason}"),
        other => panic!("expected InitFailed, got {:?}", other.err()),
    }
    assert!(matches!(
        Pathfinder::new().run(&model),
        Err(Error::InitFailed { .. })
    ));
    assert!(matches!(
        Mcmc::new(Nuts::default())
            .initializer(LaplaceInitializer::new())
            .progress(false)
            .run(&model),
        Err(Error::InitFailed { .. })
    ));
}

#[test]
fn a_diverging_fit_names_the_step_and_site() {
    // A huge learning rate throws the scale of tau's guide to overflow.
    let model = eight_schools(&Y, &S);
    let err = Svi::new(AutoNormal::new(), Sgd::new(1e6))
        .num_steps(50)
        .progress(false)
        .run(&model);
    match err {
        Err(Error::NonFiniteElbo { step, reason }) => {
            assert!(step < 50);
            assert!(!reason.is_empty());
        }
        other => panic!("expected NonFiniteElbo, got {:?}", other.err()),
    }
}
