//! Sites held as point estimates: a few Adam steps per transition instead of a draw.

use rand::Rng;
use tilde_core::{Error, LogDensity, Result};

use crate::kernel::{Adaptation, Kernel, KernelInfo, KernelParams, KernelState};
use crate::metric::Metric;

/// Holds its coordinates as a point estimate, optimised rather than sampled: each
/// transition takes a few steps of Adam (Kingma & Ba 2015) up the gradient of the
/// log-density it is given. As a [`Gibbs`](super::Gibbs) block, the rest of the model
/// sampled by the other blocks, this is jno's mixed mode, a stochastic-approximation EM
/// (SAEM-like) scheme, **not exact Bayesian inference**: the point estimate `θ` climbs
/// `∇θ log p(y, z, θ)` at the current draw `z ~ p(z | y, θ)` of the sampled sites, whose
/// expectation over `z` is `∇θ log p(y, θ)` (Fisher's identity), so with learning rates
/// that decay as in Robbins–Monro it converges to a mode of the marginal posterior
/// `p(θ | y)`, the sampled sites integrated out; the sampled sites are then draws from
/// `p(z | y, θ̂)`, with no uncertainty carried for `θ`.
///
/// The learning rate is constant during warm-up and decays during sampling as
/// `learning_rate · (1 + s)^(-decay)` after `s` sampling transitions (`decay` in
/// `(0.5, 1]` for convergence). The objective is the log-density in unconstrained
/// coordinates, log-Jacobian included (what the kernel is given): for a site on the real
/// line this is the marginal MAP; for a constrained site it is the mode of its
/// unconstrained coordinate's marginal density. Each draw records the estimate's
/// current value; their mean over the sampling phase (Polyak–Ruppert averaging) is a
/// steadier estimate than the last one.
///
/// A transition reports an acceptance rate of 1 (every step is taken) and its gradient
/// evaluations as `n_leapfrog__`.
///
/// ```
/// use tilde_samplers::{Gibbs, Nuts, PointEstimate};
///
/// // sample the group effects, optimise the population mean
/// let kernel = Gibbs::new()
///     .block(&["z"], Nuts::default())
///     .block(&["mu"], PointEstimate::adam(0.05).steps_per_iteration(3));
/// # let _ = kernel;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PointEstimate {
    learning_rate: f64,
    steps_per_iteration: usize,
    decay: f64,
}

impl Default for PointEstimate {
    /// Adam with learning rate 0.05, 3 steps per iteration, decay 0.6.
    fn default() -> Self {
        PointEstimate::adam(0.05)
    }
}

impl PointEstimate {
    /// Adam steps with `learning_rate` (in unconstrained units), 3 per iteration,
    /// decaying with exponent 0.6 during sampling.
    pub fn adam(learning_rate: f64) -> Self {
        PointEstimate {
            learning_rate,
            steps_per_iteration: 3,
            decay: 0.6,
        }
    }

    /// Optimisation steps per transition.
    pub fn steps_per_iteration(mut self, steps: usize) -> Self {
        self.steps_per_iteration = steps;
        self
    }

    /// The exponent of the learning rate's decay during sampling, in `(0.5, 1]`.
    pub fn decay(mut self, decay: f64) -> Self {
        self.decay = decay;
        self
    }
}

/// The state of a [`PointEstimate`]: the estimate, its log-density and gradient, and
/// Adam's moment estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct PointState {
    /// The current estimate (unconstrained).
    pub position: Vec<f64>,
    /// The log-density at `position`.
    pub log_density: f64,
    /// Its gradient.
    pub log_density_grad: Vec<f64>,
    first_moment: Vec<f64>,
    second_moment: Vec<f64>,
    num_steps: u64,
    num_transitions: u64,
}

impl KernelState for PointState {
    fn position(&self) -> &[f64] {
        &self.position
    }

    fn log_density(&self) -> f64 {
        self.log_density
    }

    fn log_density_grad(&self) -> Option<&[f64]> {
        Some(&self.log_density_grad)
    }
}

/// The parameters of a [`PointEstimate`]: where the learning rate starts to decay.
#[derive(Clone, Debug, PartialEq)]
pub struct PointParams {
    /// The number of transitions taken at the full learning rate (warm-up) before it
    /// decays.
    pub decay_after: u64,
}

impl KernelParams for PointParams {}

/// What one [`PointEstimate`] transition did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointInfo {
    /// Gradient evaluations.
    pub num_evaluations: usize,
    /// The learning rate of this transition's steps.
    pub learning_rate: f64,
}

impl KernelInfo for PointInfo {
    fn acceptance_rate(&self) -> f64 {
        1.0
    }

    fn num_evaluations(&self) -> usize {
        self.num_evaluations
    }
}

/// Buffers of a [`PointEstimate`]: a candidate point and its gradient.
#[derive(Clone, Debug)]
pub struct PointWorkspace {
    position: Vec<f64>,
    grad: Vec<f64>,
}

/// The warm-up of a [`PointEstimate`]: nothing to tune; at its end the learning rate
/// starts to decay.
#[derive(Clone, Debug)]
pub struct PointAdaptation {
    num_warmup: usize,
}

impl Adaptation<PointEstimate> for PointAdaptation {
    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        _: &PointEstimate,
        _: &L,
        _: &mut R,
        _: &PointState,
        _: &PointInfo,
        _: &mut PointParams,
    ) {
    }

    fn finalize(&mut self, params: &mut PointParams) {
        params.decay_after = self.num_warmup as u64;
    }
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

impl Kernel for PointEstimate {
    type State = PointState;
    type Params = PointParams;
    type Info = PointInfo;
    type Workspace = PointWorkspace;
    type Adaptation = PointAdaptation;

    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<PointState> {
        if position.len() != target.dim() {
            return Err(Error::DimensionMismatch {
                expected: target.dim(),
                found: position.len(),
            });
        }
        let mut grad = vec![0.0; position.len()];
        let log_density = target.logp_and_grad(position, &mut grad);
        if !log_density.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            return Err(Error::InitFailed {
                tries: 1,
                reason: format!(
                    "the log-density ({log_density}) or its gradient is not finite at the point estimate's start"
                ),
            });
        }
        Ok(PointState {
            position: position.to_vec(),
            log_density,
            log_density_grad: grad,
            first_moment: vec![0.0; position.len()],
            second_moment: vec![0.0; position.len()],
            num_steps: 0,
            num_transitions: 0,
        })
    }

    fn refresh<L: LogDensity + ?Sized>(&self, target: &L, state: &mut PointState) -> Result<()> {
        let log_density = target.logp_and_grad(&state.position, &mut state.log_density_grad);
        state.log_density = log_density;
        if !log_density.is_finite() || state.log_density_grad.iter().any(|g| !g.is_finite()) {
            return Err(Error::InitFailed {
                tries: 1,
                reason: format!("the log-density ({log_density}) or its gradient is not finite"),
            });
        }
        Ok(())
    }

    fn workspace(&self, dim: usize) -> PointWorkspace {
        PointWorkspace {
            position: vec![0.0; dim],
            grad: vec![0.0; dim],
        }
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        _: &mut R,
        state: &mut PointState,
        params: &PointParams,
        ws: &mut PointWorkspace,
    ) -> PointInfo {
        let sampled = state.num_transitions.saturating_sub(params.decay_after);
        let learning_rate = self.learning_rate * (1.0 + sampled as f64).powf(-self.decay);
        state.num_transitions += 1;
        let mut num_evaluations = 0;
        for _ in 0..self.steps_per_iteration {
            state.num_steps += 1;
            let t = state.num_steps.min(1 << 20) as i32;
            let (c1, c2) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
            for i in 0..state.position.len() {
                let g = state.log_density_grad[i];
                let m = BETA1 * state.first_moment[i] + (1.0 - BETA1) * g;
                let v = BETA2 * state.second_moment[i] + (1.0 - BETA2) * g * g;
                state.first_moment[i] = m;
                state.second_moment[i] = v;
                ws.position[i] =
                    state.position[i] + learning_rate * (m / c1) / ((v / c2).sqrt() + EPSILON);
            }
            let log_density = target.logp_and_grad(&ws.position, &mut ws.grad);
            num_evaluations += 1;
            // a step to a point without a finite density or gradient is not taken
            if log_density.is_finite() && ws.grad.iter().all(|g| g.is_finite()) {
                state.position.copy_from_slice(&ws.position);
                state.log_density_grad.copy_from_slice(&ws.grad);
                state.log_density = log_density;
            }
        }
        PointInfo {
            num_evaluations,
            learning_rate,
        }
    }

    fn initial_params(&self, _dim: usize, _inverse_mass_matrix: Option<&Metric>) -> PointParams {
        PointParams { decay_after: 0 }
    }

    fn adaptation(&self, _dim: usize, num_warmup: usize, _adapt_metric: bool) -> PointAdaptation {
        PointAdaptation { num_warmup }
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(Error::InvalidConfig(format!(
                "the learning rate of a point estimate must be positive and finite, got {}",
                self.learning_rate
            )));
        }
        if self.steps_per_iteration == 0 {
            return Err(Error::InvalidConfig(
                "a point estimate needs at least 1 step per iteration".into(),
            ));
        }
        if !(self.decay > 0.5 && self.decay <= 1.0) {
            return Err(Error::InvalidConfig(format!(
                "the learning-rate decay of a point estimate must be in (0.5, 1], got {}",
                self.decay
            )));
        }
        Ok(())
    }
}
