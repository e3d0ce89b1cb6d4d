//! Tempered SMC on a conjugate normal-mean model, where the posterior and the log
//! marginal likelihood are closed form, and Bayesian updating batch by batch.
//!
//! Monte-Carlo errors: the particles after the last resampling and move are worth
//! about [`SmcResult::ess`] independent draws (the ESS of the last stage's weights), so
//! the MCSE of the posterior mean is `sd / √ESS` and that of the sd `sd / √(2 ESS)`
//! (a normal posterior). `mcse_is_conservative` checks that against the spread of the
//! estimates over seeds. The log evidence is checked against its spread over seeds:
//! the mean of `R` replicates within 4 of their standard errors, `sd / √R`.

use tilde::prelude::*;
use tilde::samplers::{Resampling, SmcResult, TemperedTarget};

const PRIOR_MEAN: f64 = 0.0;
const PRIOR_SD: f64 = 2.0;
const NOISE_SD: f64 = 1.0;

/// `μ ~ N(0, 2)`, `yᵢ ~ N(μ, 1)`; with no data, the prior.
#[model]
fn normal_mean(y: &[f64]) {
    let mu = sample!("mu", Normal::new(PRIOR_MEAN, PRIOR_SD));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, NOISE_SD), obs = y[i]);
    }
}

/// 24 observations (drawn once from N(1.3, 1)).
const DATA: [f64; 24] = [
    1.93, 0.41, 2.17, 1.05, 0.12, 1.88, 2.61, 1.34, 0.77, 1.46, 2.05, 0.58, 1.71, 0.96, 1.22, 3.02,
    0.33, 1.59, 1.11, 2.28, 0.84, 1.67, 1.39, 0.05,
];

/// The posterior mean and sd of `μ` given `y`.
fn exact_posterior(y: &[f64]) -> (f64, f64) {
    let precision = 1.0 / PRIOR_SD.powi(2) + y.len() as f64 / NOISE_SD.powi(2);
    let mean =
        (PRIOR_MEAN / PRIOR_SD.powi(2) + y.iter().sum::<f64>() / NOISE_SD.powi(2)) / precision;
    (mean, precision.recip().sqrt())
}

/// `log p(y)`: `y ~ N(m₀ 1, σ² I + s₀² 1 1ᵀ)`, with
/// `det = σ^{2(n−1)} (σ² + n s₀²)` and
/// `rᵀ Σ⁻¹ r = (Σ rᵢ² − s₀² (Σ rᵢ)² / (σ² + n s₀²)) / σ²`, `r = y − m₀`.
fn exact_log_evidence(y: &[f64]) -> f64 {
    let n = y.len() as f64;
    let (s2, t2) = (NOISE_SD.powi(2), PRIOR_SD.powi(2));
    let sum: f64 = y.iter().map(|v| v - PRIOR_MEAN).sum();
    let sum_sq: f64 = y.iter().map(|v| (v - PRIOR_MEAN).powi(2)).sum();
    let ln_det = (n - 1.0) * s2.ln() + (s2 + n * t2).ln();
    let quad = (sum_sq - t2 * sum * sum / (s2 + n * t2)) / s2;
    -0.5 * n * (2.0 * std::f64::consts::PI).ln() - 0.5 * ln_det - 0.5 * quad
}

/// The particles' mean and sd of `mu`, and their MCSEs from the ESS.
fn moments(result: &SmcResult) -> (f64, f64, f64, f64) {
    let mu = result.posterior.draws("mu").unwrap();
    let n = mu.len() as f64;
    let mean = mu.iter().sum::<f64>() / n;
    let sd = (mu.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let ess = result.ess();
    (mean, sd, sd / ess.sqrt(), sd / (2.0 * ess).sqrt())
}

/// Checks the particles against the exact posterior of `y`, within 4 MCSE.
fn assert_posterior(result: &SmcResult, y: &[f64], label: &str) {
    let (want_mean, want_sd) = exact_posterior(y);
    let (mean, sd, mcse_mean, mcse_sd) = moments(result);
    let (z_mean, z_sd) = ((mean - want_mean) / mcse_mean, (sd - want_sd) / mcse_sd);
    eprintln!(
        "{label}: mean {mean:.5} (exact {want_mean:.5}, z {z_mean:.2}), sd {sd:.5} \
         (exact {want_sd:.5}, z {z_sd:.2}), ESS {:.0}, {} stages, log Z {:.4} (exact {:.4})",
        result.ess(),
        result.stages.len(),
        result.total_log_evidence,
        exact_log_evidence(y)
    );
    assert!(z_mean.abs() < 4.0, "{label}: mean z {z_mean}");
    assert!(z_sd.abs() < 4.0, "{label}: sd z {z_sd}");
}

fn run_all_data<K: tilde::samplers::WindowAdapted>(
    kernel: K,
    num_particles: usize,
    seed: u64,
) -> SmcResult {
    let (prior, model) = (normal_mean(&[]), normal_mean(&DATA));
    Smc::new(kernel)
        .num_particles(num_particles)
        .seed(seed)
        .run(&PriorLikelihood::new(&prior, &model).unwrap())
        .unwrap()
}

/// Runs on the first 8 observations, then updates with the next 8 and the last 8.
fn run_in_batches(num_particles: usize, seed: u64) -> SmcResult {
    let mut smc = Smc::new(RandomWalkMetropolis::default())
        .num_particles(num_particles)
        .seed(seed);
    let prior = normal_mean(&[]);
    let first = normal_mean(&DATA[..8]);
    let mut result = smc
        .run(&PriorLikelihood::new(&prior, &first).unwrap())
        .unwrap();
    for end in [16, 24] {
        let (seen, all) = (normal_mean(&DATA[..end - 8]), normal_mean(&DATA[..end]));
        result = smc
            .update(&PriorLikelihood::new(&seen, &all).unwrap())
            .unwrap();
        assert_posterior(&result, &DATA[..end], &format!("after {end}"));
    }
    result
}

#[test]
fn posterior_matches_the_closed_form() {
    let result = run_all_data(RandomWalkMetropolis::default(), 2000, 1);
    assert!(result.stages.len() > 1);
    assert_eq!(result.stages.last().unwrap().inverse_temperature, 1.0);
    assert!(result.weights.iter().all(|w| *w == 1.0 / 2000.0));
    assert_posterior(&result, &DATA, "random-walk Metropolis");
    let mala = run_all_data(Mala::default(), 2000, 2);
    assert_posterior(&mala, &DATA, "MALA");
    let multinomial = Smc::new(RandomWalkMetropolis::default())
        .num_particles(2000)
        .resampling(Resampling::Multinomial)
        .target_ess(0.7)
        .seed(3)
        .run(&PriorLikelihood::new(&normal_mean(&[]), &normal_mean(&DATA)).unwrap())
        .unwrap();
    assert_posterior(&multinomial, &DATA, "multinomial, target ESS 0.7");
    for stage in &multinomial.stages[..multinomial.stages.len() - 1] {
        assert!((stage.ess - 1400.0).abs() < 1e-6, "{stage:?}");
    }
}

/// Replicates over seeds: the log evidence is right (mean of 20 within 4 standard
/// errors), and the ESS-based MCSE is not smaller than the spread of the posterior
/// mean over seeds (their ratio has a relative error of about 1/√(2·20) = 16%, so 1.5
/// is a 3-sd margin).
#[test]
fn log_evidence_and_mcse_over_seeds() {
    let exact = exact_log_evidence(&DATA);
    let (want_mean, _) = exact_posterior(&DATA);
    let runs: Vec<SmcResult> = (0..20)
        .map(|seed| run_all_data(RandomWalkMetropolis::default(), 1000, 100 + seed))
        .collect();
    let r = runs.len() as f64;
    let spread = |values: &[f64]| {
        let mean = values.iter().sum::<f64>() / r;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r - 1.0)).sqrt();
        (mean, sd)
    };
    let log_z: Vec<f64> = runs.iter().map(|x| x.log_evidence).collect();
    let (mean_log_z, sd_log_z) = spread(&log_z);
    let z = (mean_log_z - exact) / (sd_log_z / r.sqrt());
    eprintln!(
        "log Z: mean {mean_log_z:.4} sd {sd_log_z:.4} over 20 seeds, exact {exact:.4}, z {z:.2}"
    );
    assert!(z.abs() < 4.0, "log evidence z {z}");
    let means: Vec<f64> = runs.iter().map(|x| moments(x).0).collect();
    let (mean_of_means, sd_of_means) = spread(&means);
    let mcse = runs.iter().map(|x| moments(x).2).sum::<f64>() / r;
    eprintln!(
        "posterior mean over seeds: {mean_of_means:.5} (exact {want_mean:.5}), sd {sd_of_means:.5}, \
         mean ESS-based MCSE {mcse:.5}"
    );
    assert!(sd_of_means < 1.5 * mcse, "{sd_of_means} vs {mcse}");
    let z_bias = (mean_of_means - want_mean) / (sd_of_means / r.sqrt());
    assert!(z_bias.abs() < 4.0, "posterior mean bias z {z_bias}");
}

/// Updating batch by batch gives the all-data posterior and, summed over the batches,
/// the all-data log evidence (the mean of 10 replicates within 4 standard errors).
#[test]
fn updates_batch_by_batch_equal_the_all_data_posterior() {
    let batched = run_in_batches(2000, 7);
    assert_posterior(&batched, &DATA, "batch by batch");
    let all = run_all_data(RandomWalkMetropolis::default(), 2000, 8);
    let ((m1, _, e1, _), (m2, _, e2, _)) = (moments(&batched), moments(&all));
    let z = (m1 - m2) / (e1 * e1 + e2 * e2).sqrt();
    eprintln!("batched vs all-data SMC: mean {m1:.5} vs {m2:.5}, z {z:.2}");
    assert!(z.abs() < 4.0);

    let exact = exact_log_evidence(&DATA);
    let totals: Vec<f64> = (0..10)
        .map(|seed| run_in_batches(1000, 200 + seed).total_log_evidence)
        .collect();
    let mean = totals.iter().sum::<f64>() / 10.0;
    let sd = (totals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
    let z = (mean - exact) / (sd / 10f64.sqrt());
    eprintln!("summed log Z over batches: mean {mean:.4} sd {sd:.4}, exact {exact:.4}, z {z:.2}");
    assert!(z.abs() < 4.0, "summed log evidence z {z}");
}

#[test]
fn a_seed_fixes_the_particles() {
    let a = run_all_data(RandomWalkMetropolis::default(), 300, 5);
    let b = run_all_data(RandomWalkMetropolis::default(), 300, 5);
    assert_eq!(
        a.posterior.draws("mu").unwrap(),
        b.posterior.draws("mu").unwrap()
    );
    assert_eq!(a.log_evidence, b.log_evidence);
}

/// A target whose prior draws are NaN.
struct NanPrior;

impl TemperedTarget for NanPrior {
    fn dim(&self) -> usize {
        1
    }
    fn log_prior_and_likelihood(&self, _: &[f64]) -> (f64, f64) {
        (0.0, 0.0)
    }
    fn tempered_grad(&self, _: &[f64], _: f64, grad: &mut [f64]) -> (f64, f64) {
        grad[0] = 0.0;
        (0.0, 0.0)
    }
    fn draw_prior(&self, _: &mut dyn rand::Rng) -> tilde::Result<Vec<f64>> {
        Ok(vec![f64::NAN])
    }
    fn column_names(&self) -> &[String] {
        &[]
    }
    fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend_from_slice(x);
    }
}

#[test]
fn bad_settings_are_errors_before_any_work() {
    let (prior, model) = (normal_mean(&[]), normal_mean(&DATA));
    let target = PriorLikelihood::new(&prior, &model).unwrap();
    let smc = || Smc::new(RandomWalkMetropolis::default()).num_particles(50);
    let message = |r: tilde::Result<SmcResult>| r.unwrap_err().to_string();
    assert!(message(smc().num_particles(0).run(&target)).contains("num_particles"));
    for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let m = message(smc().target_ess(bad).run(&target));
        assert!(m.contains("target_ess must be in (0, 1)"), "{m}");
    }
    assert!(message(smc().num_mcmc_steps(0).run(&target)).contains("num_mcmc_steps"));
    let m = message(smc().run(&NanPrior));
    assert!(m.contains("prior draw 0 is not a finite point"), "{m}");
    let m = message(smc().update(&target));
    assert!(m.contains("call run first"), "{m}");
    let m = message(
        Smc::new(RandomWalkMetropolis::default().target_accept(2.0))
            .num_particles(10)
            .run(&target),
    );
    assert!(m.contains("target_accept"), "{m}");
}
