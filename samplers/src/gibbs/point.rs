//! Sites held as point estimates: a few Adam steps per transition instead of a draw.

use rand::Rng;
use tilde_core::{Bijector, Error, Layout, LogDensity, Result};

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
/// `(0.5, 1]` for convergence). The objective is the log joint density, without the
/// log-Jacobian of the estimated sites' bijectors, so the estimate is the mode of the
/// marginal posterior of the constrained value (Stan's `optimize`, NumPyro's
/// `AutoDelta`); `.jacobian(true)` keeps the log-Jacobian, for the mode of the
/// unconstrained coordinate's density instead. The bijectors are read from the layout
/// the kernel is bound to ([`Kernel::bind_layout`]; a [`Gibbs`](super::Gibbs) block
/// binds its kernel to its sites); without the log-Jacobian, sites with a vector
/// constraint (simplex, ordered, …) are [`Error::InvalidConfig`] at binding, and an
/// unbound kernel climbs the density it is given. Each draw records the estimate's
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
    jacobian: bool,
    /// Per coordinate, the derivative of its bijector's log-Jacobian (empty: none known).
    slopes: Vec<JacobianSlope>,
}

/// The derivative of a scalar bijector's `ln |f'(y)|` with respect to `y`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum JacobianSlope {
    /// The identity and affine maps.
    Zero,
    /// The exponential maps (`ln |f'| = y`).
    One,
    /// The logistic maps: `1 - 2 logistic(y)`.
    Logistic,
}

impl JacobianSlope {
    fn of(bijector: Bijector<f64>) -> Option<Self> {
        Some(match bijector {
            Bijector::Identity | Bijector::Affine(..) => JacobianSlope::Zero,
            Bijector::Exp | Bijector::LowerBound(_) | Bijector::UpperBound(_) => JacobianSlope::One,
            Bijector::Logistic | Bijector::Interval(..) => JacobianSlope::Logistic,
            _ => return None,
        })
    }

    fn at(self, y: f64) -> f64 {
        match self {
            JacobianSlope::Zero => 0.0,
            JacobianSlope::One => 1.0,
            JacobianSlope::Logistic => 1.0 - 2.0 / (1.0 + (-y).exp()),
        }
    }
}

impl Default for PointEstimate {
    /// Adam with learning rate 0.05, 3 steps per iteration, decay 0.6, on the log joint.
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
            jacobian: false,
            slopes: Vec::new(),
        }
    }

    /// Whether the objective keeps the log-Jacobian of the estimated sites' bijectors
    /// (default `false`: the log joint density).
    pub fn jacobian(mut self, jacobian: bool) -> Self {
        self.jacobian = jacobian;
        self
    }

    /// The gradient of the objective at coordinate `i`, from the log-density's.
    fn objective_grad(&self, i: usize, y: f64, grad: f64) -> f64 {
        match self.slopes.get(i) {
            Some(slope) => grad - slope.at(y),
            None => grad,
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
        let start = crate::hmc::init_state(target, position)?;
        let dim = start.position.len();
        Ok(PointState {
            position: start.position,
            log_density: start.log_density,
            log_density_grad: start.log_density_grad,
            first_moment: vec![0.0; dim],
            second_moment: vec![0.0; dim],
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
                let g = self.objective_grad(i, state.position[i], state.log_density_grad[i]);
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

    fn bind_layout(&self, layout: &Layout) -> Result<Option<Self>> {
        if self.jacobian {
            return Ok(None);
        }
        let mut slopes = vec![JacobianSlope::Zero; layout.dim()];
        for site in layout.latent() {
            let offset = site.offset.unwrap_or(0);
            let support = site.support.unwrap_or(tilde_core::Support::Real);
            let slope = support.bijector().and_then(JacobianSlope::of);
            let Some(slope) = slope else {
                return Err(Error::InvalidConfig(format!(
                    "a point estimate of `{}` (support {support}) cannot leave out its \
                     log-Jacobian: use PointEstimate::jacobian(true)",
                    site.name
                )));
            };
            for s in &mut slopes[offset..offset + site.num_unconstrained] {
                *s = slope;
            }
        }
        let mut kernel = self.clone();
        kernel.slopes = slopes;
        Ok(Some(kernel))
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
