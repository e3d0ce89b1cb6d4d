//! The kernel interface, BlackJAX's shape: a kernel is pure, with its own state,
//! per-step parameters and per-step information types, and an adaptation of its own.
//!
//! ```
//! use tilde_core::LogDensity;
//! use tilde_samplers::{HmcParams, Kernel, Metric, Nuts, chain_rng};
//!
//! struct StdNormal;
//! impl LogDensity for StdNormal {
//!     fn dim(&self) -> usize { 2 }
//!     fn logp(&self, x: &[f64]) -> f64 { -0.5 * x.iter().map(|v| v * v).sum::<f64>() }
//!     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
//!         g.iter_mut().zip(x).for_each(|(g, x)| *g = -x);
//!         self.logp(x)
//!     }
//! }
//! let kernel = Nuts::default();
//! let params = HmcParams { step_size: 0.5, inverse_mass_matrix: Metric::unit(2) };
//! let mut rng = chain_rng(1, 0);
//! let state = kernel.init(&StdNormal, &[0.1, -0.2])?;
//! let (state, info) = kernel.step(&StdNormal, &mut rng, &state, &params);
//! assert!(state.position.iter().all(|v| v.is_finite()) && info.acceptance_rate >= 0.0);
//! # Ok::<(), tilde_core::Error>(())
//! ```

use std::fmt::Debug;

use rand::Rng;
use tilde_core::{LogDensity, Result};

use crate::hmc::HmcParams;
use crate::metric::Metric;

/// A transition kernel: `init` at a position, then `step` (pure) or `transition` (in
/// place, for the hot loop) with parameters given on every call. [`Mcmc`](crate::Mcmc)
/// drives any kernel, with the kernel's own [`Adaptation`] during warm-up.
pub trait Kernel: Sync {
    /// A chain's state between transitions (at least a position and its log-density).
    type State: KernelState;
    /// The parameters of one transition (step size, inverse mass matrix, ...), which
    /// adaptation tunes.
    type Params: KernelParams;
    /// What one transition did.
    type Info: KernelInfo;
    /// Buffers reused across transitions so that the hot loop does not allocate.
    type Workspace: Send;
    /// The warm-up adaptation of this kernel's parameters.
    type Adaptation: Adaptation<Self>;

    /// The state at `position`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`](tilde_core::Error::DimensionMismatch) for a position
    /// of another dimension, [`Error::InitFailed`](tilde_core::Error::InitFailed) when
    /// the log-density (or a gradient the kernel needs) is not finite there.
    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<Self::State>;

    /// Re-evaluates the values `state` caches (log-density, gradient) on `target` at
    /// its position, in place: after the target changed (new data, another
    /// temperature). The default calls [`init`](Self::init), which allocates.
    ///
    /// # Errors
    /// As [`init`](Self::init); the values `state` caches are then not usable until a
    /// refresh on a target where they are finite.
    fn refresh<L: LogDensity + ?Sized>(&self, target: &L, state: &mut Self::State) -> Result<()> {
        *state = self.init(target, state.position())?;
        Ok(())
    }

    /// Buffers for a target of dimension `dim`.
    fn workspace(&self, dim: usize) -> Self::Workspace;

    /// One transition, updating `state` in place. It cannot fail: a non-finite
    /// log-density at a proposal is a rejection (or a divergence).
    ///
    /// # Panics
    /// When `state`, `params` or `workspace` have another dimension than `target` (a
    /// caller-contract mismatch of shapes; [`Mcmc`](crate::Mcmc) checks them).
    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut Self::State,
        params: &Self::Params,
        workspace: &mut Self::Workspace,
    ) -> Self::Info;

    /// One transition from `state`, returning the new state: the pure form of
    /// [`transition`](Self::transition).
    ///
    /// # Panics
    /// As [`transition`](Self::transition); pass parameters checked with
    /// [`KernelParams::validate`].
    fn step<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &Self::State,
        params: &Self::Params,
    ) -> (Self::State, Self::Info) {
        let mut next = state.clone();
        let mut workspace = self.workspace(state.position().len());
        let info = self.transition(target, rng, &mut next, params, &mut workspace);
        (next, info)
    }

    /// The parameters a run starts from before adaptation, for a target of dimension
    /// `dim`, with `inverse_mass_matrix` when one is given (a warm start).
    fn initial_params(&self, dim: usize, inverse_mass_matrix: Option<&Metric>) -> Self::Params;

    /// Parameters adapted by another run (or given by the user), fitted to this kernel's
    /// settings (a diagonal metric for a kernel that adapts a dense one, ...).
    fn fit_params(&self, params: Self::Params) -> Self::Params {
        params
    }

    /// The warm-up adaptation for `num_warmup` iterations on a target of dimension
    /// `dim`; `adapt_metric` is false when the run keeps a given inverse mass matrix.
    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> Self::Adaptation;

    /// The kernel warm-up runs, when it differs from this one (the kernel's settings
    /// for the sampling phase): [`Nuts`](crate::Nuts) with
    /// [`max_tree_depth_warmup`](crate::Nuts::max_tree_depth_warmup) gives a copy with
    /// the warm-up depth, as NumPyro's `max_tree_depth=(warmup, sampling)`. The default
    /// is `None`: the same kernel in both phases.
    fn warmup_kernel(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }

    /// The kernel with settings that name sites resolved to the coordinates of a
    /// model's `layout` (the dense mass blocks of
    /// [`dense_mass_blocks`](crate::Nuts::dense_mass_blocks)); [`Mcmc`](crate::Mcmc)
    /// calls it when a run starts and runs the kernel it returns. The default is
    /// `Ok(None)`: nothing to resolve.
    ///
    /// # Errors
    /// [`Error::UnknownName`](tilde_core::Error::UnknownName) or
    /// [`Error::InvalidConfig`](tilde_core::Error::InvalidConfig) for a name the layout
    /// does not fit.
    fn bind_layout(&self, layout: &tilde_core::Layout) -> Result<Option<Self>>
    where
        Self: Sized,
    {
        let _ = layout;
        Ok(None)
    }

    /// The largest tree depth a transition may reach ([`Nuts`](crate::Nuts)), for the
    /// report of draws that hit it ([`Posterior::warnings`](crate::Posterior::warnings)
    /// and the progress bars). The default is `None`: no tree.
    fn max_tree_depth(&self) -> Option<usize> {
        None
    }

    /// Whether the kernel updates a model's discrete latent sites itself (default
    /// `false`): [`Mcmc`](crate::Mcmc) refuses to run a kernel that does not on a model
    /// that has some. The compile-time form of the same check is
    /// [`SamplesDiscrete`](tilde_core::SamplesDiscrete).
    fn samples_discrete(&self) -> bool {
        false
    }

    /// Checks the kernel's settings for a target of dimension `dim`;
    /// [`Mcmc`](crate::Mcmc) calls it before any work, on every path (a fresh run, a
    /// warm start, a continuation).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](tilde_core::Error::InvalidConfig) naming the setting
    /// and its value.
    fn validate(&self, dim: usize) -> Result<()> {
        let _ = dim;
        Ok(())
    }
}

/// A chain's state as the driver sees it.
pub trait KernelState: Clone + Debug + Send + Sync {
    /// The unconstrained position.
    fn position(&self) -> &[f64];
    /// The log-density at the position.
    fn log_density(&self) -> f64;

    /// The gradient of the log-density at the position, when the state caches it (the
    /// HMC family's [`HmcState`](crate::HmcState)); [`MetricAdaptation::Fisher`](crate::MetricAdaptation)
    /// needs it. The default is `None`.
    fn log_density_grad(&self) -> Option<&[f64]> {
        None
    }

    /// A fault the last transition met that the run must stop on (a value a user's
    /// update gave that a site cannot take, [`HmcGibbs`](crate::HmcGibbs));
    /// [`Mcmc`](crate::Mcmc) returns it as the run's error. The default is `None`:
    /// transitions cannot fail.
    fn fault(&self) -> Option<&tilde_core::Error> {
        None
    }
}

/// A kernel's parameters as the driver sees them.
pub trait KernelParams: Clone + Debug + Send + Sync {
    /// The step size reported in `stepsize__` and the progress bar (NaN when the kernel
    /// has none).
    fn step_size(&self) -> f64 {
        f64::NAN
    }

    /// The step size and inverse mass matrix, when the parameters hold them: they go
    /// into Stan CSV files and [`Posterior::adapted`](crate::Posterior::adapted).
    fn hmc_params(&self) -> Option<HmcParams> {
        None
    }

    /// Checks parameters given by the user for a target of dimension `dim`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](tilde_core::Error::InvalidConfig) or
    /// [`Error::DimensionMismatch`](tilde_core::Error::DimensionMismatch) naming the value.
    fn validate(&self, dim: usize) -> Result<()> {
        let _ = dim;
        Ok(())
    }
}

/// No parameters: for kernels whose settings are all in the kernel itself.
impl KernelParams for () {}

/// What one transition did, as the driver reports it per draw (Stan's column names).
pub trait KernelInfo: Copy + Debug + Send + Sync {
    /// The acceptance probability of the transition (`accept_stat__`; for NUTS the
    /// mean over the trajectory).
    fn acceptance_rate(&self) -> f64;

    /// An acceptance statistic that depends on the size of the energy errors only,
    /// not their sign (the HMC family's
    /// [`HmcInfo::symmetric_acceptance_rate`](crate::HmcInfo::symmetric_acceptance_rate)),
    /// which step-size adaptation follows with
    /// [`Tuning::symmetric_acceptance`](crate::Tuning::symmetric_acceptance); the
    /// acceptance rate for kernels without one.
    fn symmetric_acceptance_rate(&self) -> f64 {
        self.acceptance_rate()
    }

    /// The log-density or gradient evaluations the transition took (`n_leapfrog__`:
    /// leapfrog steps for HMC and NUTS).
    fn num_evaluations(&self) -> usize;

    /// Whether the transition diverged (`divergent__`).
    fn is_divergent(&self) -> bool {
        false
    }

    /// The tree depth (`treedepth__`), 0 for kernels without a tree.
    fn tree_depth(&self) -> usize {
        0
    }

    /// The Hamiltonian at the new state (`energy__`); NaN for kernels without one.
    fn energy(&self) -> f64 {
        f64::NAN
    }

    /// The name of the kernel's own per-draw statistic (a Stan-style column name ending
    /// in `__`, e.g. [`ReplicaExchange`](crate::ReplicaExchange)'s `swap_accept__`), or
    /// `None` when the kernel reports only the standard ones.
    const KERNEL_STAT: Option<&'static str> = None;

    /// The value of [`KERNEL_STAT`](Self::KERNEL_STAT) for this transition (NaN when
    /// the kernel has none).
    fn kernel_stat(&self) -> f64 {
        f64::NAN
    }
}

/// The warm-up adaptation of a kernel's parameters: `init` before the first warm-up
/// transition, `update` after each, `finalize` at the end.
pub trait Adaptation<K: Kernel + ?Sized>: Send {
    /// Prepares the parameters before the first warm-up transition (a first step size).
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        state: &K::State,
        params: &mut K::Params,
    ) {
        let _ = (kernel, target, rng, state, params);
    }

    /// Learns from one warm-up transition and updates the parameters.
    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        state: &K::State,
        info: &K::Info,
        params: &mut K::Params,
    );

    /// Sets the parameters sampling uses.
    fn finalize(&mut self, params: &mut K::Params) {
        let _ = params;
    }

    /// Whether this adaptation learns across chains, as ChEES does ([`Chees`](crate::Chees)).
    /// [`Mcmc`](crate::Mcmc) then warms every chain up in lockstep: one iteration of
    /// all chains at a time (in parallel), with one adaptation and one set of
    /// parameters shared by the chains, calling
    /// [`init_ensemble`](Self::init_ensemble) and
    /// [`update_ensemble`](Self::update_ensemble) instead of `init` and `update`, and
    /// it refuses fewer than 2 chains. Default `false`: each chain adapts on its own.
    fn is_cross_chain(&self) -> bool {
        false
    }

    /// Prepares the shared parameters from every chain's first state; the default
    /// calls [`init`](Self::init) with the first chain's.
    fn init_ensemble<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        states: &[&K::State],
        params: &mut K::Params,
    ) {
        if let Some(state) = states.first() {
            self.init(kernel, target, rng, state, params);
        }
    }

    /// Learns from one warm-up iteration of every chain (`states[c]` after chain `c`'s
    /// transition, `infos[c]` what it did) and updates the shared parameters; the
    /// default feeds the chains to [`update`](Self::update) in turn.
    fn update_ensemble<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        states: &[&K::State],
        infos: &[K::Info],
        params: &mut K::Params,
    ) {
        for (state, info) in states.iter().zip(infos) {
            self.update(kernel, target, rng, state, info, params);
        }
    }
}

/// No adaptation: the parameters stay as given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoAdaptation;

impl<K: Kernel + ?Sized> Adaptation<K> for NoAdaptation {
    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        _: &K,
        _: &L,
        _: &mut R,
        _: &K::State,
        _: &K::Info,
        _: &mut K::Params,
    ) {
    }
}
