//! Hamiltonian Monte Carlo: the HMC family's state and parameters, the leapfrog
//! integrator and HMC with a fixed number of steps.

use rand::{Rng, RngExt};
use tilde_core::{Error, LogDensity, Result};

use crate::adaptation::find_reasonable_step_size;
use crate::kernel::{Kernel, KernelInfo, KernelParams, KernelState};
use crate::metric::Metric;

/// The state of an HMC-family chain: a position with its cached log-density and gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct HmcState {
    /// The unconstrained position.
    pub position: Vec<f64>,
    /// The log-density at `position`.
    pub log_density: f64,
    /// Its gradient.
    pub log_density_grad: Vec<f64>,
}

/// Per-step parameters, passed on every step so adaptation and chains can vary them.
#[derive(Clone, Debug, PartialEq)]
pub struct HmcParams {
    /// The leapfrog step size.
    pub step_size: f64,
    /// The inverse mass matrix.
    pub inverse_mass_matrix: Metric,
}

impl HmcParams {
    /// The parameters recorded for draws that no HMC-family kernel made (predictive
    /// simulations, kernels without a step size or metric): a NaN step size and an
    /// empty metric.
    pub fn none() -> Self {
        HmcParams {
            step_size: f64::NAN,
            inverse_mass_matrix: Metric::unit(0),
        }
    }

    /// Checks that the step size is positive and finite and that the inverse mass matrix
    /// is usable (see [`Metric::validate`]). The fields are public, so parameters built
    /// by hand or read from a file are checked here before a run uses them.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the offending value.
    pub fn validate(&self) -> Result<()> {
        if !(self.step_size > 0.0 && self.step_size.is_finite()) {
            return Err(Error::InvalidConfig(format!(
                "step_size must be positive and finite, got {}",
                self.step_size
            )));
        }
        self.inverse_mass_matrix.validate()
    }
}

/// What one transition did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HmcInfo {
    /// The mean Metropolis acceptance probability over the trajectory.
    pub acceptance_rate: f64,
    /// The trajectory's energy error exceeded the divergence threshold, or the
    /// log-density stopped being finite.
    pub is_divergent: bool,
    /// The Hamiltonian at the returned state.
    pub energy: f64,
    /// Leapfrog steps taken (= gradient evaluations).
    pub num_integration_steps: usize,
    /// NUTS tree depth (number of doublings); 0 for HMC.
    pub tree_depth: usize,
}

impl KernelState for HmcState {
    fn position(&self) -> &[f64] {
        &self.position
    }

    fn log_density(&self) -> f64 {
        self.log_density
    }
}

impl KernelParams for HmcParams {
    fn step_size(&self) -> f64 {
        self.step_size
    }

    fn hmc_params(&self) -> Option<HmcParams> {
        Some(self.clone())
    }

    fn validate(&self, dim: usize) -> Result<()> {
        if self.inverse_mass_matrix.dim() != dim {
            return Err(Error::DimensionMismatch {
                expected: dim,
                found: self.inverse_mass_matrix.dim(),
            });
        }
        HmcParams::validate(self)
    }
}

impl KernelInfo for HmcInfo {
    fn acceptance_rate(&self) -> f64 {
        self.acceptance_rate
    }

    fn num_evaluations(&self) -> usize {
        self.num_integration_steps
    }

    fn is_divergent(&self) -> bool {
        self.is_divergent
    }

    fn tree_depth(&self) -> usize {
        self.tree_depth
    }

    fn energy(&self) -> f64 {
        self.energy
    }
}

/// A kernel of the HMC family (its parameters a step size and an inverse mass matrix),
/// tuned by Stan's window adaptation ([`WindowAdaptation`]): dual averaging of the
/// step size towards [`target_accept`](Self::target_accept) and windowed estimates of
/// the inverse mass matrix.
pub trait WindowAdapted: Kernel<Params = HmcParams> {
    /// The acceptance rate step-size adaptation aims for.
    fn target_accept(&self) -> f64;

    /// Whether adaptation estimates a dense inverse mass matrix.
    fn dense_mass(&self) -> bool;

    /// A step size to start dual averaging from, near `params.step_size`.
    fn reasonable_step_size<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &Self::State,
        params: &HmcParams,
    ) -> f64;
}

/// The parameters of an HMC-family kernel before adaptation: step size 1 and the given
/// inverse mass matrix, or the unit one (dense when `dense`).
pub(crate) fn initial_hmc_params(dim: usize, given: Option<&Metric>, dense: bool) -> HmcParams {
    let inverse_mass_matrix = match given {
        Some(m) => m.for_kernel(dense),
        None if dense => Metric::dense_unit(dim),
        None => Metric::unit(dim),
    };
    HmcParams {
        step_size: 1.0,
        inverse_mass_matrix,
    }
}

/// Checks a `target_accept` setting: strictly between 0 and 1.
pub(crate) fn check_target_accept(rate: f64) -> Result<()> {
    if rate > 0.0 && rate < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "target_accept must be in (0, 1), got {rate}"
        )))
    }
}

/// The implementation of [`Kernel`]'s items shared by the kernels with [`HmcParams`]
/// and window adaptation (`State`, `Params`, `Adaptation`, `init`, `refresh`,
/// `initial_params`, `fit_params`, `adaptation`), for a kernel struct with
/// `target_accept` and `dense_mass` fields; the state type and its `init` and
/// `refresh` functions are given.
macro_rules! hmc_family_items {
    ($state:ty, $init:path, $refresh:path) => {
        type State = $state;
        type Params = $crate::hmc::HmcParams;
        type Adaptation = $crate::adaptation::WindowAdaptation;

        fn init<L: tilde_core::LogDensity + ?Sized>(
            &self,
            target: &L,
            position: &[f64],
        ) -> tilde_core::Result<$state> {
            $init(target, position)
        }

        fn refresh<L: tilde_core::LogDensity + ?Sized>(
            &self,
            target: &L,
            state: &mut $state,
        ) -> tilde_core::Result<()> {
            $refresh(target, state)
        }

        fn initial_params(
            &self,
            dim: usize,
            inverse_mass_matrix: Option<&$crate::metric::Metric>,
        ) -> $crate::hmc::HmcParams {
            $crate::hmc::initial_hmc_params(dim, inverse_mass_matrix, self.dense_mass)
        }

        fn fit_params(&self, params: $crate::hmc::HmcParams) -> $crate::hmc::HmcParams {
            $crate::hmc::HmcParams {
                step_size: params.step_size,
                inverse_mass_matrix: params.inverse_mass_matrix.for_kernel(self.dense_mass),
            }
        }

        fn adaptation(
            &self,
            dim: usize,
            num_warmup: usize,
            adapt_metric: bool,
        ) -> $crate::adaptation::WindowAdaptation {
            $crate::adaptation::WindowAdaptation::new(
                dim,
                num_warmup,
                self.target_accept,
                self.dense_mass,
                adapt_metric,
            )
        }
    };
}
pub(crate) use hmc_family_items;

/// The state at `position`, or an error when it is not a valid start.
pub(crate) fn init_state<L: LogDensity + ?Sized>(target: &L, position: &[f64]) -> Result<HmcState> {
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
                "the log-density ({log_density}) or its gradient is not finite at the given position"
            ),
        });
    }
    Ok(HmcState {
        position: position.to_vec(),
        log_density,
        log_density_grad: grad,
    })
}

/// Re-evaluates an [`HmcState`]'s log-density and gradient in place.
pub(crate) fn refresh_state<L: LogDensity + ?Sized>(
    target: &L,
    state: &mut HmcState,
) -> Result<()> {
    state.log_density = target.logp_and_grad(&state.position, &mut state.log_density_grad);
    if state.log_density.is_finite() && state.log_density_grad.iter().all(|g| g.is_finite()) {
        Ok(())
    } else {
        Err(Error::InitFailed {
            tries: 1,
            reason: format!(
                "the log-density ({}) or its gradient is not finite",
                state.log_density
            ),
        })
    }
}

/// A point in phase space, with its cached log-density, gradient and velocity `M⁻¹p`.
#[derive(Clone, Debug)]
pub(crate) struct Point {
    pub q: Vec<f64>,
    pub p: Vec<f64>,
    pub grad: Vec<f64>,
    pub v: Vec<f64>,
    pub log_density: f64,
}

impl Point {
    pub fn new(dim: usize) -> Self {
        Point {
            q: vec![0.0; dim],
            p: vec![0.0; dim],
            grad: vec![0.0; dim],
            v: vec![0.0; dim],
            log_density: 0.0,
        }
    }

    pub fn copy_from(&mut self, other: &Point) {
        self.q.copy_from_slice(&other.q);
        self.p.copy_from_slice(&other.p);
        self.grad.copy_from_slice(&other.grad);
        self.v.copy_from_slice(&other.v);
        self.log_density = other.log_density;
    }

    /// Loads a state and draws a fresh momentum.
    pub fn start<R: Rng + ?Sized>(&mut self, state: &HmcState, metric: &Metric, rng: &mut R) {
        self.q.copy_from_slice(&state.position);
        self.grad.copy_from_slice(&state.log_density_grad);
        self.log_density = state.log_density;
        metric.sample_momentum(rng, &mut self.p);
        metric.velocity(&self.p, &mut self.v);
    }

    /// Writes the point's position back into a state.
    pub fn store(&self, state: &mut HmcState) {
        state.position.copy_from_slice(&self.q);
        state.log_density_grad.copy_from_slice(&self.grad);
        state.log_density = self.log_density;
    }

    /// The Hamiltonian `-log p(q) + ½ pᵀ M⁻¹ p`; NaN counts as +∞.
    pub fn energy(&self) -> f64 {
        let kinetic: f64 = 0.5 * self.p.iter().zip(&self.v).map(|(a, b)| a * b).sum::<f64>();
        let h = -self.log_density + kinetic;
        if h.is_nan() { f64::INFINITY } else { h }
    }

    /// One leapfrog step of size `step_size` (negative to go backwards).
    pub fn leapfrog<L: LogDensity + ?Sized>(
        &mut self,
        target: &L,
        metric: &Metric,
        step_size: f64,
    ) {
        let half = 0.5 * step_size;
        for (p, g) in self.p.iter_mut().zip(&self.grad) {
            *p += half * g;
        }
        metric.velocity(&self.p, &mut self.v);
        for (q, v) in self.q.iter_mut().zip(&self.v) {
            *q += step_size * v;
        }
        self.log_density = target.logp_and_grad(&self.q, &mut self.grad);
        // NaN and +∞ are faults of the target, not points of infinite density: both
        // end the trajectory as a divergence (an accepted +∞ would freeze the chain)
        if self.log_density.is_nan() || self.log_density == f64::INFINITY {
            self.log_density = f64::NEG_INFINITY;
        }
        for (p, g) in self.p.iter_mut().zip(&self.grad) {
            *p += half * g;
        }
        metric.velocity(&self.p, &mut self.v);
    }
}

/// Checks a kernel's `divergence_threshold`: positive, and not NaN (a NaN threshold
/// would never flag a divergence). `+∞` is allowed: it turns the check off.
pub(crate) fn check_divergence_threshold(threshold: f64) -> Result<()> {
    if threshold > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "divergence_threshold must be positive, got {threshold}"
        )))
    }
}

/// Hamiltonian Monte Carlo with a fixed number of leapfrog steps (or a fixed trajectory
/// length, turned into steps by the current step size) and a Metropolis correction.
#[derive(Clone, Debug, PartialEq)]
pub struct Hmc {
    num_steps: usize,
    trajectory_length: Option<f64>,
    target_accept: f64,
    dense_mass: bool,
    divergence_threshold: f64,
    jitter: f64,
}

impl Default for Hmc {
    fn default() -> Self {
        Hmc {
            num_steps: 10,
            trajectory_length: None,
            target_accept: 0.8,
            dense_mass: false,
            divergence_threshold: 1000.0,
            jitter: 0.0,
        }
    }
}

impl Hmc {
    /// HMC with `num_steps` leapfrog steps per transition.
    pub fn new(num_steps: usize) -> Self {
        Hmc {
            num_steps: num_steps.max(1),
            ..Hmc::default()
        }
    }

    /// Sets a fixed trajectory length `L`: each transition takes `⌈L / step_size⌉` steps
    /// (at most 2²⁰). `L` must be positive and finite (checked when a run starts).
    pub fn trajectory_length(mut self, length: f64) -> Self {
        self.trajectory_length = Some(length);
        self
    }

    /// The acceptance rate step-size adaptation aims for (default 0.8).
    pub fn target_accept(mut self, rate: f64) -> Self {
        self.target_accept = rate;
        self
    }

    /// Adapt a dense inverse mass matrix instead of a diagonal one.
    pub fn dense_mass(mut self, dense: bool) -> Self {
        self.dense_mass = dense;
        self
    }

    /// The energy error beyond which a trajectory is divergent (default 1000); must be
    /// positive (checked when a run starts).
    pub fn divergence_threshold(mut self, threshold: f64) -> Self {
        self.divergence_threshold = threshold;
        self
    }

    /// Draws each transition's step size uniformly in `step_size · (1 ± jitter)`
    /// (Stan's `stepsize_jitter`, `0 ≤ jitter < 1`; default 0), which breaks the
    /// resonances a fixed number of steps can fall into on near-Gaussian targets.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 0.99);
        self
    }
}

/// Buffers of [`Hmc`].
#[derive(Clone, Debug)]
pub struct HmcWorkspace {
    point: Point,
}

impl WindowAdapted for Hmc {
    fn target_accept(&self) -> f64 {
        self.target_accept
    }

    fn dense_mass(&self) -> bool {
        self.dense_mass
    }

    fn reasonable_step_size<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &HmcState,
        params: &HmcParams,
    ) -> f64 {
        find_reasonable_step_size(target, rng, state, params)
    }
}

impl Kernel for Hmc {
    type Info = HmcInfo;
    type Workspace = HmcWorkspace;
    hmc_family_items!(HmcState, init_state, refresh_state);

    fn workspace(&self, dim: usize) -> HmcWorkspace {
        HmcWorkspace {
            point: Point::new(dim),
        }
    }

    fn validate(&self) -> Result<()> {
        check_target_accept(self.target_accept)?;
        check_divergence_threshold(self.divergence_threshold)?;
        if let Some(length) = self.trajectory_length
            && !(length > 0.0 && length.is_finite())
        {
            return Err(Error::InvalidConfig(format!(
                "trajectory_length must be positive and finite, got {length}"
            )));
        }
        Ok(())
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut HmcState,
        params: &HmcParams,
        workspace: &mut HmcWorkspace,
    ) -> HmcInfo {
        let z = &mut workspace.point;
        z.start(state, &params.inverse_mass_matrix, rng);
        let h0 = z.energy();
        let step_size = if self.jitter > 0.0 {
            params.step_size * (1.0 + self.jitter * (2.0 * rng.random::<f64>() - 1.0))
        } else {
            params.step_size
        };
        let num_steps = match self.trajectory_length {
            Some(length) => ((length / step_size).ceil() as usize).clamp(1, 1 << 20),
            None => self.num_steps,
        };
        let mut is_divergent = false;
        let mut steps = 0;
        for _ in 0..num_steps {
            z.leapfrog(target, &params.inverse_mass_matrix, step_size);
            steps += 1;
            if z.energy() - h0 > self.divergence_threshold {
                is_divergent = true;
                break;
            }
        }
        let h1 = z.energy();
        let acceptance_rate = if is_divergent {
            0.0
        } else {
            (h0 - h1).exp().min(1.0)
        };
        let accepted = !is_divergent && rng.random::<f64>() < acceptance_rate;
        let energy = if accepted {
            z.store(state);
            h1
        } else {
            h0
        };
        HmcInfo {
            acceptance_rate,
            is_divergent,
            energy,
            num_integration_steps: steps,
            tree_depth: 0,
        }
    }
}
