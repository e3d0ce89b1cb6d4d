//! Metropolis–Hastings kernels without a trajectory: the gradient-free chain state, the
//! per-step information of a single proposal, and random-walk Metropolis.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};
use tilde_core::{Error, LogDensity, Result};

use crate::hmc::window_adapted;
use crate::hmc::{HmcParams, Tuning, hmc_family_items, tuning_builders};
use crate::kernel::{Kernel, KernelInfo, KernelState};

/// The state of a gradient-free chain: a position and its cached log-density.
#[derive(Clone, Debug, PartialEq)]
pub struct DensityState {
    /// The unconstrained position.
    pub position: Vec<f64>,
    /// The log-density at `position`.
    pub log_density: f64,
}

impl DensityState {
    /// The state at `position`: its log-density on `target` evaluated once.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for a position of another dimension,
    /// [`Error::InitFailed`] when the log-density is not finite there.
    pub fn new<L: LogDensity + ?Sized>(target: &L, position: &[f64]) -> Result<Self> {
        init_density_state(target, position)
    }
}

impl KernelState for DensityState {
    fn position(&self) -> &[f64] {
        &self.position
    }

    fn log_density(&self) -> f64 {
        self.log_density
    }
}

/// The state at `position`, or an error when it is not a valid start.
pub(crate) fn init_density_state<L: LogDensity + ?Sized>(
    target: &L,
    position: &[f64],
) -> Result<DensityState> {
    if position.len() != target.dim() {
        return Err(Error::DimensionMismatch {
            expected: target.dim(),
            found: position.len(),
        });
    }
    let log_density = target.logp(position);
    if !log_density.is_finite() {
        return Err(Error::InitFailed {
            tries: 1,
            reason: format!("the log-density ({log_density}) is not finite at the given position"),
        });
    }
    Ok(DensityState {
        position: position.to_vec(),
        log_density,
    })
}

/// Re-evaluates a [`DensityState`]'s log-density in place.
pub(crate) fn refresh_density_state<L: LogDensity + ?Sized>(
    target: &L,
    state: &mut DensityState,
) -> Result<()> {
    state.log_density = target.logp(&state.position);
    if state.log_density.is_finite() {
        Ok(())
    } else {
        Err(Error::InitFailed {
            tries: 1,
            reason: format!("the log-density ({}) is not finite", state.log_density),
        })
    }
}

/// A log-density as a proposal sees it: NaN and `+∞` are faults of the target, which
/// reject the proposal like `-∞` (an accepted `+∞` would freeze the chain).
pub(crate) fn proposal_log_density(log_density: f64) -> f64 {
    if log_density.is_nan() || log_density == f64::INFINITY {
        f64::NEG_INFINITY
    } else {
        log_density
    }
}

/// The Metropolis–Hastings acceptance probability `min(1, exp(log_ratio))`, 0 for NaN.
pub(crate) fn acceptance(log_ratio: f64) -> f64 {
    if log_ratio.is_nan() {
        0.0
    } else {
        log_ratio.exp().min(1.0)
    }
}

/// What one Metropolis–Hastings proposal did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MhInfo {
    /// The acceptance probability of the proposal.
    pub acceptance_rate: f64,
    /// Whether the proposal was accepted.
    pub is_accepted: bool,
    /// Log-density (or gradient) evaluations the transition took.
    pub num_evaluations: usize,
}

impl MhInfo {
    /// The information of one proposal with one log-density evaluation, from its log
    /// acceptance ratio: the acceptance probability `min(1, exp(log_ratio))`, 0 for NaN.
    pub fn from_log_ratio(log_ratio: f64, is_accepted: bool) -> Self {
        MhInfo {
            acceptance_rate: acceptance(log_ratio),
            is_accepted,
            num_evaluations: 1,
        }
    }
}

impl KernelInfo for MhInfo {
    fn acceptance_rate(&self) -> f64 {
        self.acceptance_rate
    }

    fn num_evaluations(&self) -> usize {
        self.num_evaluations
    }
}

/// Random-walk Metropolis: the proposal `x + ε L z`, `z ~ N(0, I)`, `L Lᵀ` the inverse
/// mass matrix, accepted with probability `min(1, p(x′)/p(x))`. Gradient-free. Warm-up
/// adapts the proposal covariance (Stan's windowed estimate of the posterior
/// covariance, diagonal unless [`dense_mass`](Self::dense_mass)) and the scale `ε`
/// towards an acceptance rate of 0.234 (Roberts, Gelman & Gilks 1997).
///
/// ```
/// use tilde_samplers::RandomWalkMetropolis;
///
/// let rwm = RandomWalkMetropolis::default().dense_mass(true).target_accept(0.3);
/// # let _ = rwm;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RandomWalkMetropolis {
    tuning: Tuning,
}

impl Default for RandomWalkMetropolis {
    fn default() -> Self {
        RandomWalkMetropolis {
            tuning: Tuning::new(0.234),
        }
    }
}

impl RandomWalkMetropolis {
    tuning_builders!();
}

/// Buffers of [`RandomWalkMetropolis`].
#[derive(Clone, Debug)]
pub struct ProposalWorkspace {
    z: Vec<f64>,
    dx: Vec<f64>,
    proposal: Vec<f64>,
}

impl ProposalWorkspace {
    fn new(dim: usize) -> Self {
        ProposalWorkspace {
            z: vec![0.0; dim],
            dx: vec![0.0; dim],
            proposal: vec![0.0; dim],
        }
    }
}

window_adapted!(RandomWalkMetropolis, DensityState, trial);

impl Kernel for RandomWalkMetropolis {
    type Info = MhInfo;
    type Workspace = ProposalWorkspace;
    hmc_family_items!(DensityState, init_density_state, refresh_density_state);

    fn workspace(&self, dim: usize) -> ProposalWorkspace {
        ProposalWorkspace::new(dim)
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        self.tuning.validate()?;
        if self.tuning.effective_metric_adaptation() != crate::MetricAdaptation::StanWindows {
            return Err(Error::InvalidConfig(format!(
                "RandomWalkMetropolis has no gradients to estimate its metric from: \
                 {:?} needs them, use MetricAdaptation::StanWindows",
                self.tuning.metric_adaptation
            )));
        }
        Ok(())
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut DensityState,
        params: &HmcParams,
        ws: &mut ProposalWorkspace,
    ) -> MhInfo {
        for z in ws.z.iter_mut() {
            *z = StandardNormal.sample(rng);
        }
        params.inverse_mass_matrix.scale(&ws.z, &mut ws.dx);
        for ((y, x), d) in ws.proposal.iter_mut().zip(&state.position).zip(&ws.dx) {
            *y = x + params.step_size * d;
        }
        let log_density = proposal_log_density(target.logp(&ws.proposal));
        let acceptance_rate = acceptance(log_density - state.log_density);
        let is_accepted = rng.random::<f64>() < acceptance_rate;
        if is_accepted {
            state.position.copy_from_slice(&ws.proposal);
            state.log_density = log_density;
        }
        MhInfo {
            acceptance_rate,
            is_accepted,
            num_evaluations: 1,
        }
    }
}
