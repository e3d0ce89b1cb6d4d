//! Sequential Monte Carlo for Bayesian updating: tempered SMC from the prior to the
//! posterior with an inner MCMC kernel, adaptive tempering, the log marginal likelihood
//! estimate, and updates with new batches of data from the previous particles.

mod resampling;
mod target;

use rand::{Rng, RngExt};
use rayon::prelude::*;
use tilde_core::{Error, Result};

use crate::adaptation::Welford;
use crate::hmc::{HmcParams, WindowAdapted};
use crate::kernel::{KernelInfo, KernelState};
use crate::mcmc::{chain_rng, first_error_in_order};
use crate::metric::Metric;
use crate::posterior::{ChainDraws, Posterior, SampleStats};

pub use resampling::Resampling;
pub(crate) use target::Tempered;
use target::tempered;
pub use target::{PriorLikelihood, TemperedTarget};

/// The most tempering stages of one call before it gives up.
const MAX_STAGES: usize = 1000;

/// Adaptive tempered Sequential Monte Carlo (Del Moral, Doucet & Jasra 2006; the
/// adaptive tempering of Jasra et al. 2011), after BlackJAX's `adaptive_tempered_smc`
/// and PyMC's `sample_smc`, on a [`TemperedTarget`] `π_β ∝ p · L^β`.
///
/// # Algorithm
/// `num_particles` particles `xᵢ` are drawn from the prior (`β = 0`). Each stage
/// 1. picks the next inverse temperature `β′ ∈ (β, 1]` by bisection so that the
///    effective sample size of the incremental weights `wᵢ = L(xᵢ)^{β′−β}`,
///    `ESS = (Σ wᵢ)² / Σ wᵢ²`, is `target_ess · N` (or `β′ = 1` when that is
///    already above it);
/// 2. adds `log((1/N) Σ wᵢ)` to the log marginal likelihood estimate
///    `log Ẑ = log ∫ p(x) L(x) dx` (unbiased for `Ẑ`, Del Moral 2004);
/// 3. resamples the particles by their weights ([`Resampling`], systematic by default);
/// 4. moves each particle with `num_mcmc_steps` transitions of the inner kernel on
///    `π_β′`.
///
/// # Tuning of the inner kernel
/// Any kernel of the HMC family ([`WindowAdapted`]: [`RandomWalkMetropolis`],
/// [`Mala`], [`BarkerMh`], [`Hmc`], [`Nuts`]). Before each move its inverse mass matrix is
/// the covariance of the resampled particles (dense when the kernel's `dense_mass`,
/// with Stan's regularisation, see [`Welford::metric`]); its step size starts from the
/// kernel's own heuristic at the first stage and is scaled after each stage by
/// `exp(2 (ᾱ − α*))`, `ᾱ` the particles' mean acceptance rate and `α*` the kernel's
/// `target_accept`. An update starts from the step size the last call ended with.
///
/// [`RandomWalkMetropolis`]: crate::RandomWalkMetropolis
/// [`Mala`]: crate::Mala
/// [`BarkerMh`]: crate::BarkerMh
/// [`Hmc`]: crate::Hmc
/// [`Nuts`]: crate::Nuts
///
/// # Example
/// ```
/// use tilde_samplers::{RandomWalkMetropolis, Smc, TemperedTarget};
///
/// /// μ ~ N(0, 1) and one observation y = 1 ~ N(μ, 1): the posterior is N(1/2, 1/2)
/// /// and the evidence N(1; 0, 2).
/// struct Conjugate(Vec<String>);
/// impl TemperedTarget for Conjugate {
///     fn dim(&self) -> usize { 1 }
///     fn log_prior_and_likelihood(&self, x: &[f64]) -> (f64, f64) {
///         let c = -0.5 * (2.0 * std::f64::consts::PI).ln();
///         (c - 0.5 * x[0] * x[0], c - 0.5 * (1.0 - x[0]).powi(2))
///     }
///     fn tempered_grad(&self, x: &[f64], beta: f64, grad: &mut [f64]) -> (f64, f64) {
///         grad[0] = -x[0] + beta * (1.0 - x[0]);
///         self.log_prior_and_likelihood(x)
///     }
///     fn draw_prior(&self, rng: &mut dyn rand::Rng) -> tilde_core::Result<Vec<f64>> {
///         Ok(vec![rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, rng)])
///     }
///     fn column_names(&self) -> &[String] { &self.0 }
///     fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>) {
///         out.clear();
///         out.extend_from_slice(x);
///     }
/// }
///
/// let target = Conjugate(vec!["mu".into()]);
/// let mut smc = Smc::new(RandomWalkMetropolis::default()).num_particles(1000).seed(1);
/// let result = smc.run(&target)?;
/// let exact = -0.25 - 0.5 * (4.0 * std::f64::consts::PI).ln();
/// assert!((result.log_evidence - exact).abs() < 0.1);
/// let mu = result.posterior.draws("mu")?;
/// assert!((mu.iter().sum::<f64>() / 1000.0 - 0.5).abs() < 0.1);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Smc<K> {
    kernel: K,
    num_particles: usize,
    target_ess: f64,
    num_mcmc_steps: usize,
    resampling: Resampling,
    seed: u64,
    /// The particles and step size where the last call ended.
    last: Option<(Vec<Vec<f64>>, f64)>,
    num_calls: usize,
    total_log_evidence: f64,
}

/// One tempering stage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmcStage {
    /// The inverse temperature `β` reached.
    pub inverse_temperature: f64,
    /// The effective sample size of the stage's incremental weights, before resampling.
    pub ess: f64,
    /// `log((1/N) Σ wᵢ)`, this stage's term of the log marginal likelihood.
    pub log_evidence_increment: f64,
    /// The mean acceptance rate of the inner kernel's transitions.
    pub acceptance_rate: f64,
    /// The inner kernel's step size.
    pub step_size: f64,
}

/// What [`Smc::run`] and [`Smc::update`] return.
#[derive(Clone, Debug)]
pub struct SmcResult {
    /// The particles' constrained values, one draw per particle, as one chain. They are
    /// not a Markov chain: prefer [`ess`](Self::ess) to the posterior's ESS and R-hat.
    pub posterior: Posterior,
    /// The particles' normalised weights: each `1/N` after the last resampling and
    /// move.
    pub weights: Vec<f64>,
    /// The log marginal likelihood estimate of this call: `log ∫ p(x) L(x) dx` for the
    /// target given (for an update, the log predictive density of the new data given
    /// the old).
    pub log_evidence: f64,
    /// The sum of [`log_evidence`](Self::log_evidence) over [`Smc::run`] and the
    /// updates since: the log marginal likelihood of all the data.
    pub total_log_evidence: f64,
    /// The stages, in order.
    pub stages: Vec<SmcStage>,
}

impl SmcResult {
    /// The effective sample size of the last stage's weights, before its resampling:
    /// what the particles are worth as independent draws (at least
    /// `target_ess · num_particles` unless the last stage reached `β = 1` with more).
    pub fn ess(&self) -> f64 {
        self.stages.last().map_or(f64::NAN, |s| s.ess)
    }
}

impl<K: WindowAdapted> Smc<K> {
    /// Tempered SMC with `kernel` moving the particles: 1000 particles, a target ESS
    /// of half of them, 10 kernel transitions per stage, systematic resampling, seed 0.
    pub fn new(kernel: K) -> Self {
        Smc {
            kernel,
            num_particles: 1000,
            target_ess: 0.5,
            num_mcmc_steps: 10,
            resampling: Resampling::Systematic,
            seed: 0,
            last: None,
            num_calls: 0,
            total_log_evidence: 0.0,
        }
    }

    /// The number of particles `N` (default 1000, at least 1).
    pub fn num_particles(mut self, n: usize) -> Self {
        self.num_particles = n;
        self
    }

    /// The fraction of `N` the effective sample size of each stage's weights aims for
    /// (default 0.5), in (0, 1): a larger one takes more, smaller stages.
    pub fn target_ess(mut self, fraction: f64) -> Self {
        self.target_ess = fraction;
        self
    }

    /// The inner kernel's transitions per particle and stage (default 10, at least 1).
    pub fn num_mcmc_steps(mut self, n: usize) -> Self {
        self.num_mcmc_steps = n;
        self
    }

    /// The resampling scheme (default [`Resampling::Systematic`]).
    pub fn resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = resampling;
        self
    }

    /// The seed; with it the particles do not depend on the number of threads.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The unconstrained particles where the last call ended (equally weighted).
    pub fn particles(&self) -> Option<&[Vec<f64>]> {
        self.last.as_ref().map(|(p, _)| p.as_slice())
    }

    fn validate<T: TemperedTarget + ?Sized>(&self, target: &T) -> Result<()> {
        if self.num_particles == 0 {
            return Err(Error::InvalidConfig(
                "num_particles must be at least 1, got 0".into(),
            ));
        }
        if !(self.target_ess > 0.0 && self.target_ess < 1.0) {
            return Err(Error::InvalidConfig(format!(
                "target_ess must be in (0, 1), got {}",
                self.target_ess
            )));
        }
        if self.num_mcmc_steps == 0 {
            return Err(Error::InvalidConfig(
                "num_mcmc_steps must be at least 1, got 0".into(),
            ));
        }
        self.kernel.validate(target.dim())?;
        target.check()
    }

    /// Tempers from the prior of `target` to its posterior, starting from prior draws.
    /// Forgets earlier calls.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero particles or steps, a `target_ess` outside
    /// (0, 1), or a bad kernel setting; the target's data faults; [`Error::InitFailed`]
    /// when a prior draw is not finite, has another length than the target's dimension
    /// or a non-finite log prior density; [`Error::Degenerate`] when the likelihood
    /// vanishes at every particle or tempering stalls; all before the first stage
    /// except the last.
    pub fn run<T: TemperedTarget + ?Sized>(&mut self, target: &T) -> Result<SmcResult> {
        self.validate(target)?;
        let dim = target.dim();
        let seed = self.seed;
        let positions: Vec<_> = (0..self.num_particles)
            .into_par_iter()
            .map(|i| {
                let mut rng = chain_rng(seed, i);
                let x = target.draw_prior(&mut rng)?;
                if x.len() != dim || x.iter().any(|v| !v.is_finite()) {
                    return Err(Error::InitFailed {
                        tries: 1,
                        reason: format!(
                            "prior draw {i} is not a finite point of dimension {dim}: {x:?}"
                        ),
                    });
                }
                Ok(x)
            })
            .collect();
        let positions = first_error_in_order(positions)?;
        self.last = None;
        self.num_calls = 0;
        self.total_log_evidence = 0.0;
        self.temper(target, positions, None)
    }

    /// Tempers from the particles of the last call to the posterior of `target`, whose
    /// prior is the last call's posterior: with [`PriorLikelihood`], the model of the
    /// data seen so far and the model of all the data. The particles are reweighted by
    /// the new batch's likelihood, tempered from the old posterior to the new one,
    /// resampled and moved.
    ///
    /// # Errors
    /// As [`run`](Self::run); [`Error::InvalidConfig`] when nothing ran before,
    /// [`Error::DimensionMismatch`] for a target of another dimension, and
    /// [`Error::InitFailed`] when a particle has a non-finite log prior density under
    /// the new target (its prior is not the last posterior).
    pub fn update<T: TemperedTarget + ?Sized>(&mut self, target: &T) -> Result<SmcResult> {
        self.validate(target)?;
        let Some((positions, step_size)) = self.last.clone() else {
            return Err(Error::InvalidConfig(
                "update needs particles: call run first".into(),
            ));
        };
        if let Some(x) = positions.first()
            && x.len() != target.dim()
        {
            return Err(Error::DimensionMismatch {
                expected: x.len(),
                found: target.dim(),
            });
        }
        self.temper(target, positions, Some(step_size))
    }

    fn temper<T: TemperedTarget + ?Sized>(
        &mut self,
        target: &T,
        mut positions: Vec<Vec<f64>>,
        step_size: Option<f64>,
    ) -> Result<SmcResult> {
        let n = positions.len();
        let mut densities: Vec<(f64, f64)> = positions
            .par_iter()
            .map(|x| target.log_prior_and_likelihood(x))
            .collect();
        if let Some(i) = densities.iter().position(|(p, _)| !p.is_finite()) {
            return Err(Error::InitFailed {
                tries: 1,
                reason: format!(
                    "particle {i} has a non-finite log prior density ({}) at {:?}",
                    densities[i].0, positions[i]
                ),
            });
        }
        let mut master = chain_rng(self.seed, usize::MAX - self.num_calls);
        self.num_calls += 1;
        let mut beta = 0.0;
        let mut log_evidence = 0.0;
        let mut stages = Vec::new();
        let mut step_size = step_size;
        let mut params = HmcParams {
            step_size: step_size.unwrap_or(1.0),
            inverse_mass_matrix: Metric::unit(target.dim()),
        };
        while beta < 1.0 {
            if stages.len() == MAX_STAGES {
                return Err(Error::Degenerate(format!(
                    "tempering reached only β = {beta} after {MAX_STAGES} stages"
                )));
            }
            let log_likelihoods: Vec<f64> = densities.iter().map(|d| d.1).collect();
            let (next, ess) = next_inverse_temperature(beta, &log_likelihoods, self.target_ess)
                .ok_or_else(|| {
                    Error::Degenerate(format!(
                        "the likelihood is zero (or not finite) at every particle at β = {beta}"
                    ))
                })?;
            let log_weights: Vec<f64> = log_likelihoods
                .iter()
                .map(|l| log_weight(next - beta, *l))
                .collect();
            let (increment, weights) = normalise(&log_weights);
            log_evidence += increment;
            let ancestors = self.resampling.resample(&weights, &mut master);
            positions = ancestors.iter().map(|&a| positions[a].clone()).collect();
            densities = ancestors.iter().map(|&a| densities[a]).collect();
            beta = next;

            let tempered = Tempered { target, beta };
            params.inverse_mass_matrix =
                particle_metric(&positions, self.kernel.tuning().dense_mass);
            let step = match step_size {
                Some(s) => s,
                None => {
                    let state = self.kernel.init(&tempered, &positions[0]);
                    match state {
                        Ok(state) => {
                            let mut rng = chain_rng(master.random(), 0);
                            self.kernel
                                .reasonable_step_size(&tempered, &mut rng, &state, &params)
                        }
                        Err(_) => 1.0,
                    }
                }
            };
            params.step_size = step;
            let stage_seed: u64 = master.random();
            let (kernel, num_steps, params_ref) = (&self.kernel, self.num_mcmc_steps, &params);
            let moved: Vec<(Vec<f64>, (f64, f64), f64)> = positions
                .par_iter()
                .zip(densities.par_iter())
                .enumerate()
                .map(|(i, (x, d))| {
                    let mut rng = chain_rng(stage_seed, i);
                    move_particle(kernel, &tempered, &mut rng, x, *d, params_ref, num_steps)
                })
                .collect();
            let acceptance_rate = moved.iter().map(|m| m.2).sum::<f64>() / n as f64;
            (positions, densities) = moved.into_iter().map(|(x, d, _)| (x, d)).unzip();
            stages.push(SmcStage {
                inverse_temperature: beta,
                ess,
                log_evidence_increment: increment,
                acceptance_rate,
                step_size: step,
            });
            let factor = (2.0 * (acceptance_rate - self.kernel.tuning().target_accept)).exp();
            let next_step = step * factor;
            step_size = Some(if next_step.is_finite() && next_step > 0.0 {
                next_step
            } else {
                step
            });
        }
        self.total_log_evidence += log_evidence;
        let posterior = particle_posterior(target, &positions, &densities, &params, &stages)?;
        self.last = Some((positions, step_size.unwrap_or(params.step_size)));
        Ok(SmcResult {
            posterior,
            weights: vec![1.0 / n as f64; n],
            log_evidence,
            total_log_evidence: self.total_log_evidence,
            stages,
        })
    }
}

/// The incremental log-weight `δ · log L`, `-∞` where the likelihood vanishes or is
/// NaN.
fn log_weight(delta: f64, log_likelihood: f64) -> f64 {
    let w = delta * log_likelihood;
    if w.is_nan() { f64::NEG_INFINITY } else { w }
}

/// `log((1/N) Σ exp(aᵢ))` and the normalised weights `exp(aᵢ) / Σ exp(aⱼ)`.
fn normalise(log_weights: &[f64]) -> (f64, Vec<f64>) {
    let max = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = log_weights.iter().map(|a| (a - max).exp()).collect();
    let total: f64 = weights.iter().sum();
    let log_mean = max + total.ln() - (log_weights.len() as f64).ln();
    (log_mean, weights.into_iter().map(|w| w / total).collect())
}

/// The effective sample size `(Σ wᵢ)² / Σ wᵢ²` of the weights `exp(δ · log Lᵢ)`.
fn ess(delta: f64, log_likelihoods: &[f64]) -> f64 {
    let max = log_likelihoods
        .iter()
        .map(|l| log_weight(delta, *l))
        .fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return 0.0;
    }
    let (s1, s2) = log_likelihoods.iter().fold((0.0, 0.0), |(s1, s2), l| {
        let w = (log_weight(delta, *l) - max).exp();
        (s1 + w, s2 + w * w)
    });
    s1 * s1 / s2
}

/// The next inverse temperature after `beta` and its ESS: 1 when the weights to 1 keep
/// an ESS of `fraction · N`, else the root of `ESS(β′) = fraction · N` by bisection.
/// Particles whose likelihood vanishes have weight 0 at every `β′ > β`, so the goal is
/// capped just below the number of the others. `None` when there are none.
fn next_inverse_temperature(
    beta: f64,
    log_likelihoods: &[f64],
    fraction: f64,
) -> Option<(f64, f64)> {
    let num_alive = log_likelihoods.iter().filter(|l| l.is_finite()).count();
    if num_alive == 0 {
        return None;
    }
    let goal = (fraction * log_likelihoods.len() as f64).min(num_alive as f64 * (1.0 - 1e-9));
    let full = 1.0 - beta;
    let at_full = ess(full, log_likelihoods);
    if at_full >= goal {
        return Some((1.0, at_full));
    }
    let (mut lo, mut hi) = (0.0, full);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if ess(mid, log_likelihoods) >= goal {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let delta = if lo > 0.0 { lo } else { hi };
    let next = (beta + delta).min(1.0);
    Some((next, ess(next - beta, log_likelihoods)))
}

/// The covariance of the particles as an inverse mass matrix (Stan's regularised
/// estimate).
fn particle_metric(positions: &[Vec<f64>], dense: bool) -> Metric {
    let dim = positions.first().map_or(0, Vec::len);
    let mut welford = Welford::new(dim, dense);
    positions.iter().for_each(|x| welford.add(x));
    welford.metric()
}

/// `num_steps` transitions of `kernel` on `tempered` from `x`; the new position, its
/// log prior and log-likelihood, and the mean acceptance rate. A particle the kernel
/// cannot start from (a non-finite gradient) stays where it is.
fn move_particle<K: WindowAdapted, T: TemperedTarget + ?Sized, R: Rng>(
    kernel: &K,
    tempered: &Tempered<'_, T>,
    rng: &mut R,
    x: &[f64],
    densities: (f64, f64),
    params: &HmcParams,
    num_steps: usize,
) -> (Vec<f64>, (f64, f64), f64) {
    let Ok(mut state) = kernel.init(tempered, x) else {
        return (x.to_vec(), densities, 0.0);
    };
    let mut workspace = kernel.workspace(x.len());
    let mut accepted = 0.0;
    for _ in 0..num_steps {
        let info = kernel.transition(tempered, rng, &mut state, params, &mut workspace);
        accepted += info.acceptance_rate();
    }
    let position = state.position().to_vec();
    let densities = tempered.target.log_prior_and_likelihood(&position);
    (position, densities, accepted / num_steps as f64)
}

/// The particles as a [`Posterior`] of one chain.
fn particle_posterior<T: TemperedTarget + ?Sized>(
    target: &T,
    positions: &[Vec<f64>],
    densities: &[(f64, f64)],
    params: &HmcParams,
    stages: &[SmcStage],
) -> Result<Posterior> {
    let names = target.column_names().to_vec();
    let last = stages.last();
    let mut values = Vec::with_capacity(positions.len() * names.len());
    let mut stats = Vec::with_capacity(positions.len());
    let mut row = Vec::with_capacity(names.len());
    for (x, d) in positions.iter().zip(densities) {
        target.constrain_into(x, &mut row);
        if row.len() != names.len() {
            return Err(Error::LayoutChanged {
                expected: names.len(),
                found: row.len(),
                site: None,
            });
        }
        values.extend_from_slice(&row);
        stats.push(SampleStats {
            log_density: tempered(1.0, *d),
            acceptance_rate: last.map_or(f64::NAN, |s| s.acceptance_rate),
            step_size: params.step_size,
            ..SampleStats::EMPTY
        });
    }
    Ok(Posterior::new(
        names,
        vec![ChainDraws {
            values,
            stats,
            params: params.clone(),
            warmup_gradients: 0,
            warmup: Default::default(),
        }],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_hits_the_target_ess() {
        let ll: Vec<f64> = (0..1000).map(|i| -0.01 * i as f64).collect();
        let (next, e) = next_inverse_temperature(0.0, &ll, 0.5).unwrap();
        assert!(next < 1.0);
        assert!((e - 500.0).abs() < 1e-6, "{e}");
        let flat = vec![-1.0; 10];
        assert_eq!(next_inverse_temperature(0.3, &flat, 0.5), Some((1.0, 10.0)));
        let dead = vec![f64::NEG_INFINITY; 4];
        assert_eq!(next_inverse_temperature(0.0, &dead, 0.5), None);
    }

    #[test]
    fn vanished_likelihoods_cap_the_goal() {
        let mut ll = vec![f64::NEG_INFINITY; 8];
        ll.extend([-1.0, -2.0]);
        let (next, e) = next_inverse_temperature(0.0, &ll, 0.5).unwrap();
        assert!(next > 0.0 && e <= 2.0 && e > 1.0, "{next} {e}");
    }

    #[test]
    fn normalised_weights_and_log_mean() {
        let (log_mean, w) = normalise(&[0.0, 2f64.ln(), f64::NEG_INFINITY]);
        assert!((log_mean - 1.0f64.ln()).abs() < 1e-15);
        assert!((w[0] - 1.0 / 3.0).abs() < 1e-15 && (w[1] - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(w[2], 0.0);
    }
}
