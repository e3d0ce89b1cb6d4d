//! ChEES-adapted HMC: jittered trajectory lengths tuned across chains (Hoffman, Radul &
//! Sountsov 2021, "An Adaptive MCMC Scheme for Setting Trajectory Lengths in
//! Hamiltonian Monte Carlo", AISTATS).

use rand::Rng;
use tilde_core::{Error, LogDensity, Result};

use crate::adaptation::{DualAveraging, find_reasonable_step_size};
use crate::hmc::{
    HmcInfo, HmcParams, HmcState, Point, Tuning, check_divergence_threshold, init_state,
    refresh_state,
};
use crate::kernel::{Adaptation, Kernel, KernelParams, KernelState};
use crate::metric::Metric;

/// The acceptance rate ChEES's dual averaging aims for by default: 0.651, optimal for
/// HMC in high dimension (Beskos et al. 2013), BlackJAX's and the paper's choice.
pub const CHEES_TARGET_ACCEPT: f64 = 0.651;

/// The largest change of `log(trajectory_length)` in one warm-up iteration (≈ ln 2 / 2,
/// as TensorFlow Probability's implementation and BlackJAX clip it).
const LOG_UPDATE_CLIP: f64 = 0.35;

/// The weight `t^(-DECAY_RATE)` of iteration `t` in the moving averages of the log step
/// size and log trajectory length (BlackJAX's `decay_rate` default).
const DECAY_RATE: f64 = 0.5;

/// HMC with jittered trajectory lengths whose length is tuned by ChEES during warm-up
/// (Hoffman, Radul & Sountsov 2021, "An Adaptive MCMC Scheme for Setting Trajectory
/// Lengths in Hamiltonian Monte Carlo", AISTATS), after BlackJAX's `chees_adaptation`
/// and `dynamic_hmc`.
///
/// # Algorithm
/// Transition `n` of a chain integrates for `uₙ · T` time units, `uₙ` the `n`-th point
/// of the base-2 Halton (van der Corput) sequence in `(0, 1)` (with
/// [`jitter_amount`](Self::jitter_amount) `a`: `1 − a + a·uₙ`), in
/// `⌈uₙ T / ε⌉` leapfrog steps of size `ε` (at most
/// [`max_leapfrog_steps`](Self::max_leapfrog_steps)), then accepts by Metropolis.
///
/// Warm-up runs every chain in lockstep ([`Adaptation::is_cross_chain`]) and, after each
/// iteration, with `θᶜ` chain `c`'s start, `θ'ᶜ` its proposal, `vᶜ = M⁻¹p'ᶜ` the
/// proposal's velocity and `αᶜ` its acceptance probability:
/// - the step size `ε` follows dual averaging (Hoffman & Gelman 2014) of the chains'
///   harmonic-mean acceptance probability `1 / mean(1/αᶜ)` towards
///   [`target_accept`](Self::target_accept) (0.651);
/// - `log T` takes one Adam step (Kingma & Ba 2015; learning rate 0.025, β₁ = 0.9,
///   β₂ = 0.999, the update clipped to ±0.35) up the acceptance-weighted estimate of
///   the gradient of the ChEES criterion `¼ E[(‖θ' − E θ‖² − ‖θ − E θ‖²)²]`:
///   `Σᶜ αᶜ gᶜ / Σᶜ αᶜ` with `gᶜ = uₙ T (‖θ'ᶜ − θ̄'‖² − ‖θᶜ − θ̄‖²) (θ'ᶜ − θ̄')·vᶜ`,
///   the means `θ̄` and `θ̄'` taken across chains (the latter weighted by `αᶜ`);
///   divergent chains are left out;
/// - the next transitions use the new `ε` and `T` (`T` at most
///   `max_leapfrog_steps · ε`); moving averages of `log ε` and `log T`, iteration `t`
///   weighted `t^(-1/2)` (BlackJAX's `decay_rate`), give the parameters sampling uses,
///   `T` clipped to `[ε, max_leapfrog_steps · ε]`.
///
/// Unlike BlackJAX, which feeds the moving average of `log T` back as the next
/// iterate, Adam moves its own iterate, as in TensorFlow Probability's
/// `GradientBasedTrajectoryLengthAdaptation`, and the lower bound of one step applies
/// only at the end: with both, dual averaging's first large step sizes pushed `T` to
/// several times its optimum, where the criterion is flat, and it stayed there.
///
/// The inverse mass matrix is not adapted: the unit one, or the one given with
/// [`inverse_mass_matrix`](Self::inverse_mass_matrix), as in BlackJAX.
///
/// ChEES needs several chains (the paper uses tens to hundreds; at least 2 here, an
/// error otherwise); the sampling phase runs each chain on its own with the shared
/// adapted parameters. Wrapped in [`ReplicaExchange`](crate::ReplicaExchange), each
/// replica adapts on its own chain, which tunes the step size but not `T`.
///
/// # Example
/// ```
/// use tilde_core::LogDensity;
/// use tilde_samplers::{Chees, Mcmc, Unconstrained};
///
/// /// An iid normal of scale 2 in 5 dimensions.
/// struct Iid;
/// impl LogDensity for Iid {
///     fn dim(&self) -> usize { 5 }
///     fn logp(&self, x: &[f64]) -> f64 { -x.iter().map(|v| v * v).sum::<f64>() / 8.0 }
///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
///         g.iter_mut().zip(x).for_each(|(g, x)| *g = -x / 4.0);
///         self.logp(x)
///     }
/// }
/// let mut mcmc = Mcmc::new(Chees::default())
///     .num_warmup(500).num_samples(200).num_chains(4).seed(1).progress(false);
/// let posterior = mcmc.run(&Unconstrained::new(Iid))?;
/// assert_eq!(posterior.num_draws(), 200);
/// let adapted = &mcmc.adapted().unwrap()[0];
/// // about 1.5 scales with the step size of the 0.651 target (0.9 scales)
/// assert!(adapted.trajectory_length > 1.5 && adapted.trajectory_length < 9.0);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Chees {
    tuning: Tuning,
    trajectory_length: Option<f64>,
    learning_rate: f64,
    jitter_amount: f64,
    max_leapfrog_steps: usize,
    divergence_threshold: f64,
}

impl Default for Chees {
    fn default() -> Self {
        Chees {
            tuning: Tuning {
                adapt_mass_matrix: false,
                ..Tuning::new(CHEES_TARGET_ACCEPT)
            },
            trajectory_length: None,
            learning_rate: 0.025,
            jitter_amount: 1.0,
            max_leapfrog_steps: 1000,
            divergence_threshold: 1000.0,
        }
    }
}

impl Chees {
    /// The acceptance rate dual averaging aims for with the chains' harmonic-mean
    /// acceptance probability (default 0.651); in (0, 1).
    pub fn target_accept(mut self, rate: f64) -> Self {
        self.tuning.target_accept = rate;
        self
    }

    /// The step size warm-up starts from (default 1, refined by Stan's heuristic on
    /// the first chain when the step size adapts); positive and finite.
    pub fn step_size(mut self, step_size: f64) -> Self {
        self.tuning.step_size = step_size;
        self
    }

    /// Adapt the step size during warm-up (default true).
    pub fn adapt_step_size(mut self, adapt: bool) -> Self {
        self.tuning.adapt_step_size = adapt;
        self
    }

    /// The inverse mass matrix of every transition (default the unit one); ChEES does
    /// not adapt it. Its dimension must be the model's.
    pub fn inverse_mass_matrix(mut self, metric: Metric) -> Self {
        self.tuning.inverse_mass_matrix = Some(metric);
        self
    }

    /// The trajectory length warm-up starts from (default: the first step size, one
    /// leapfrog step, as BlackJAX); positive and finite.
    pub fn trajectory_length(mut self, length: f64) -> Self {
        self.trajectory_length = Some(length);
        self
    }

    /// Adam's learning rate on `log T` (default 0.025, TensorFlow Probability's
    /// `adaptation_rate`); positive and finite.
    pub fn learning_rate(mut self, rate: f64) -> Self {
        self.learning_rate = rate;
        self
    }

    /// How much of the trajectory is jittered (default 1: lengths spread over
    /// `(0, T)`; 0: always `T`); in `[0, 1]`.
    pub fn jitter_amount(mut self, amount: f64) -> Self {
        self.jitter_amount = amount;
        self
    }

    /// The most leapfrog steps of one transition (default 1000); `T` stays below this
    /// many step sizes. From 1 to 2²⁰.
    pub fn max_leapfrog_steps(mut self, steps: usize) -> Self {
        self.max_leapfrog_steps = steps;
        self
    }

    /// The energy error beyond which a trajectory is divergent (default 1000); must be
    /// positive.
    pub fn divergence_threshold(mut self, threshold: f64) -> Self {
        self.divergence_threshold = threshold;
        self
    }

    /// The adaptation settings (step size, target, inverse mass matrix).
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// The jitter factor of transition `n` (0-based) of a chain.
    fn jitter(&self, n: u64) -> f64 {
        1.0 - self.jitter_amount + self.jitter_amount * van_der_corput(n.wrapping_add(1))
    }
}

/// The base-2 radical inverse of `n`: the `n`-th point of the van der Corput (1-d
/// Halton) sequence, in `(0, 1)` for `n ≥ 1`.
fn van_der_corput(mut n: u64) -> f64 {
    let (mut value, mut weight) = (0.0, 0.5);
    while n > 0 {
        if n & 1 == 1 {
            value += weight;
        }
        n >>= 1;
        weight *= 0.5;
    }
    value
}

/// The parameters of a [`Chees`] transition.
#[derive(Clone, Debug, PartialEq)]
pub struct CheesParams {
    /// The leapfrog step size `ε`.
    pub step_size: f64,
    /// The inverse mass matrix.
    pub inverse_mass_matrix: Metric,
    /// The trajectory length `T` that the jitter scales (time units, not steps).
    pub trajectory_length: f64,
}

impl KernelParams for CheesParams {
    fn step_size(&self) -> f64 {
        self.step_size
    }

    fn hmc_params(&self) -> Option<HmcParams> {
        Some(HmcParams {
            step_size: self.step_size,
            inverse_mass_matrix: self.inverse_mass_matrix.clone(),
        })
    }

    fn validate(&self, dim: usize) -> Result<()> {
        KernelParams::validate(
            &HmcParams {
                step_size: self.step_size,
                inverse_mass_matrix: self.inverse_mass_matrix.clone(),
            },
            dim,
        )?;
        check_length(self.trajectory_length)
    }
}

fn check_length(length: f64) -> Result<()> {
    if length > 0.0 && length.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "trajectory_length must be positive and finite, got {length}"
        )))
    }
}

/// A [`Chees`] chain's state: the HMC state, the chain's place in the Halton sequence,
/// and what the last transition proposed (which cross-chain adaptation reads).
#[derive(Clone, Debug, PartialEq)]
pub struct CheesState {
    /// The position with its log-density and gradient.
    pub hmc: HmcState,
    /// Transitions taken (the index of the next jitter in the Halton sequence).
    pub iteration: u64,
    /// The position the last transition started from.
    pub initial_position: Vec<f64>,
    /// The last transition's proposal (before the Metropolis step).
    pub proposal: Vec<f64>,
    /// The velocity `M⁻¹p` at the proposal: the proposal's derivative in time.
    pub proposal_velocity: Vec<f64>,
    /// The last transition's jitter factor `u` (its length was `u · T`).
    pub jitter: f64,
}

impl KernelState for CheesState {
    fn position(&self) -> &[f64] {
        &self.hmc.position
    }

    fn log_density(&self) -> f64 {
        self.hmc.log_density
    }
}

impl CheesState {
    fn new(hmc: HmcState) -> Self {
        let dim = hmc.position.len();
        CheesState {
            initial_position: hmc.position.clone(),
            proposal: hmc.position.clone(),
            proposal_velocity: vec![0.0; dim],
            hmc,
            iteration: 0,
            jitter: 0.0,
        }
    }
}

/// Buffers of [`Chees`].
#[derive(Clone, Debug)]
pub struct CheesWorkspace {
    point: Point,
}

impl Kernel for Chees {
    type State = CheesState;
    type Params = CheesParams;
    type Info = HmcInfo;
    type Workspace = CheesWorkspace;
    type Adaptation = CheesAdaptation;

    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<CheesState> {
        init_state(target, position).map(CheesState::new)
    }

    fn refresh<L: LogDensity + ?Sized>(&self, target: &L, state: &mut CheesState) -> Result<()> {
        refresh_state(target, &mut state.hmc)
    }

    fn workspace(&self, dim: usize) -> CheesWorkspace {
        CheesWorkspace {
            point: Point::new(dim),
        }
    }

    fn initial_params(&self, dim: usize, inverse_mass_matrix: Option<&Metric>) -> CheesParams {
        let hmc = self.tuning.initial_params(dim, inverse_mass_matrix);
        CheesParams {
            trajectory_length: self.trajectory_length.unwrap_or(hmc.step_size),
            step_size: hmc.step_size,
            inverse_mass_matrix: hmc.inverse_mass_matrix,
        }
    }

    fn adaptation(&self, dim: usize, num_warmup: usize, _adapt_metric: bool) -> CheesAdaptation {
        CheesAdaptation::new(self, dim, num_warmup)
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        self.tuning.validate()?;
        check_divergence_threshold(self.divergence_threshold)?;
        if let Some(length) = self.trajectory_length {
            check_length(length)?;
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(Error::InvalidConfig(format!(
                "learning_rate must be positive and finite, got {}",
                self.learning_rate
            )));
        }
        if !(0.0..=1.0).contains(&self.jitter_amount) {
            return Err(Error::InvalidConfig(format!(
                "jitter_amount must be in [0, 1], got {}",
                self.jitter_amount
            )));
        }
        if !(1..=1 << 20).contains(&self.max_leapfrog_steps) {
            return Err(Error::InvalidConfig(format!(
                "max_leapfrog_steps must be from 1 to 2^20, got {}",
                self.max_leapfrog_steps
            )));
        }
        Ok(())
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut CheesState,
        params: &CheesParams,
        workspace: &mut CheesWorkspace,
    ) -> HmcInfo {
        let jitter = self.jitter(state.iteration);
        state.iteration = state.iteration.wrapping_add(1);
        state.jitter = jitter;
        let length = jitter * params.trajectory_length / params.step_size;
        // NaN (a bad hand-made parameter) becomes one step
        let num_steps = if length.is_nan() {
            1
        } else {
            (length.ceil().min(usize::MAX as f64) as usize).clamp(1, self.max_leapfrog_steps)
        };
        let metric = &params.inverse_mass_matrix;
        let z = &mut workspace.point;
        state.initial_position.copy_from_slice(&state.hmc.position);
        z.start(&state.hmc, metric, rng);
        let h0 = z.energy();
        let mut is_divergent = false;
        let mut steps = 0;
        for _ in 0..num_steps {
            z.leapfrog(target, metric, params.step_size);
            steps += 1;
            if z.energy() - h0 > self.divergence_threshold {
                is_divergent = true;
                break;
            }
        }
        state.proposal.copy_from_slice(&z.q);
        state.proposal_velocity.copy_from_slice(&z.v);
        let h1 = z.energy();
        let acceptance_rate = if is_divergent {
            0.0
        } else {
            (h0 - h1).exp().min(1.0)
        };
        let symmetric_acceptance_rate = if is_divergent {
            0.0
        } else {
            crate::hmc::symmetric_acceptance(h0 - h1)
        };
        let accepted = !is_divergent && rand::RngExt::random::<f64>(rng) < acceptance_rate;
        let energy = if accepted {
            z.store(&mut state.hmc);
            h1
        } else {
            h0
        };
        HmcInfo {
            acceptance_rate,
            symmetric_acceptance_rate,
            is_divergent,
            energy,
            num_integration_steps: steps,
            tree_depth: 0,
        }
    }
}

/// Adam on one parameter (Kingma & Ba 2015), ascending.
#[derive(Clone, Debug, PartialEq)]
struct Adam {
    learning_rate: f64,
    m: f64,
    v: f64,
    t: i32,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    fn new(learning_rate: f64) -> Self {
        Adam {
            learning_rate,
            m: 0.0,
            v: 0.0,
            t: 0,
        }
    }

    /// The step up the gradient `g`, before clipping.
    fn step(&mut self, g: f64) -> f64 {
        self.t = self.t.saturating_add(1);
        self.m = Self::BETA1 * self.m + (1.0 - Self::BETA1) * g;
        self.v = Self::BETA2 * self.v + (1.0 - Self::BETA2) * g * g;
        let m_hat = self.m / (1.0 - Self::BETA1.powi(self.t));
        let v_hat = self.v / (1.0 - Self::BETA2.powi(self.t));
        self.learning_rate * m_hat / (v_hat.sqrt() + Self::EPS)
    }
}

/// ChEES's cross-chain warm-up of [`Chees`]: dual averaging of the step size on the
/// chains' harmonic-mean acceptance, Adam on `log T` up the ChEES gradient, moving
/// averages for the final values (see [`Chees`] for the formulas).
#[derive(Clone, Debug)]
pub struct CheesAdaptation {
    target_accept: f64,
    adapt_step_size: bool,
    max_leapfrog_steps: usize,
    /// Iterations seen, from 0.
    iteration: usize,
    dual: DualAveraging,
    adam: Adam,
    log_step_size_average: f64,
    log_trajectory_length_average: f64,
    proposal_mean: Vec<f64>,
    initial_mean: Vec<f64>,
}

impl CheesAdaptation {
    fn new(kernel: &Chees, dim: usize, num_warmup: usize) -> Self {
        let _ = num_warmup;
        CheesAdaptation {
            target_accept: kernel.tuning.target_accept,
            adapt_step_size: kernel.tuning.adapt_step_size,
            max_leapfrog_steps: kernel.max_leapfrog_steps,
            iteration: 0,
            dual: DualAveraging::new(kernel.tuning.step_size, kernel.tuning.target_accept),
            adam: Adam::new(kernel.learning_rate),
            log_step_size_average: 0.0,
            log_trajectory_length_average: 0.0,
            proposal_mean: vec![0.0; dim],
            initial_mean: vec![0.0; dim],
        }
    }

    /// The acceptance-weighted ChEES gradient with respect to `log T`, over the chains
    /// that did not diverge; 0 when none is usable.
    fn gradient(&mut self, states: &[&CheesState], infos: &[HmcInfo], length: f64) -> f64 {
        let weight = |info: &HmcInfo| {
            let a = info.acceptance_rate;
            if info.is_divergent || !a.is_finite() {
                0.0
            } else {
                a
            }
        };
        self.proposal_mean.fill(0.0);
        self.initial_mean.fill(0.0);
        let mut total = 0.0;
        let num_chains = states.len() as f64;
        for (state, info) in states.iter().zip(infos) {
            // a proposal with a non-finite coordinate has no weight (BlackJAX's
            // `weighted_empirical_mean`)
            let w = if state.proposal.iter().all(|v| v.is_finite()) {
                weight(info)
            } else {
                0.0
            };
            total += w;
            if w > 0.0 {
                for (m, x) in self.proposal_mean.iter_mut().zip(&state.proposal) {
                    *m += w * x;
                }
            }
            for (m, x) in self.initial_mean.iter_mut().zip(&state.initial_position) {
                *m += x / num_chains;
            }
        }
        let denominator = total + 1e-20;
        self.proposal_mean
            .iter_mut()
            .for_each(|m| *m /= denominator);
        let (mut sum, mut sum_weights) = (0.0, 0.0);
        for (state, info) in states.iter().zip(infos) {
            let w = weight(info);
            if info.is_divergent || !state.proposal.iter().all(|v| v.is_finite()) {
                continue;
            }
            let (mut proposal_sq, mut initial_sq, mut along) = (0.0, 0.0, 0.0);
            for k in 0..self.proposal_mean.len() {
                let p = state.proposal[k] - self.proposal_mean[k];
                let i = state.initial_position[k] - self.initial_mean[k];
                proposal_sq += p * p;
                initial_sq += i * i;
                along += p * state.proposal_velocity[k];
            }
            let g = state.jitter * length * (proposal_sq - initial_sq) * along;
            if g.is_finite() {
                sum += w * g;
                sum_weights += w + 1e-20;
            }
        }
        if sum_weights > 0.0 {
            sum / sum_weights
        } else {
            0.0
        }
    }
}

impl Adaptation<Chees> for CheesAdaptation {
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &Chees,
        target: &L,
        rng: &mut R,
        state: &CheesState,
        params: &mut CheesParams,
    ) {
        self.init_ensemble(kernel, target, rng, &[state], params);
    }

    /// One chain alone: its centred positions vanish, so `T` stays and only the step
    /// size adapts.
    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &Chees,
        target: &L,
        rng: &mut R,
        state: &CheesState,
        info: &HmcInfo,
        params: &mut CheesParams,
    ) {
        self.update_ensemble(kernel, target, rng, &[state], &[*info], params);
    }

    fn finalize(&mut self, params: &mut CheesParams) {
        if self.iteration == 0 {
            return;
        }
        if self.adapt_step_size {
            let step_size = self.log_step_size_average.exp();
            if step_size > 0.0 && step_size.is_finite() {
                params.step_size = step_size;
            }
        }
        let length = self.log_trajectory_length_average.exp();
        if length.is_finite() {
            params.trajectory_length = self.clip(length, params.step_size);
        }
    }

    fn is_cross_chain(&self) -> bool {
        true
    }

    fn init_ensemble<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &Chees,
        target: &L,
        rng: &mut R,
        states: &[&CheesState],
        params: &mut CheesParams,
    ) {
        let Some(first) = states.first() else {
            return;
        };
        if self.adapt_step_size {
            let hmc = HmcParams {
                step_size: params.step_size,
                inverse_mass_matrix: params.inverse_mass_matrix.clone(),
            };
            params.step_size = find_reasonable_step_size(target, rng, &first.hmc, &hmc);
            if kernel.trajectory_length.is_none() {
                params.trajectory_length = params.step_size;
            }
        }
        self.dual = DualAveraging::new(params.step_size, self.target_accept);
    }

    fn update_ensemble<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        _: &Chees,
        _: &L,
        _: &mut R,
        states: &[&CheesState],
        infos: &[HmcInfo],
        params: &mut CheesParams,
    ) {
        self.iteration += 1;
        let weight = (self.iteration as f64).powf(-DECAY_RATE);
        if self.adapt_step_size {
            // the harmonic mean over the chains that did not diverge; a zero
            // acceptance makes it 0, no usable chain makes it 0 too
            let (mut inverse_sum, mut count) = (0.0, 0usize);
            for info in infos.iter().filter(|i| !i.is_divergent) {
                inverse_sum += 1.0 / info.acceptance_rate;
                count += 1;
            }
            let harmonic = count as f64 / inverse_sum;
            let harmonic = if harmonic.is_finite() { harmonic } else { 0.0 };
            let before = self.dual.clone();
            let step_size = self.dual.update(harmonic);
            if step_size > 0.0 && step_size.is_finite() {
                params.step_size = step_size;
            } else {
                self.dual = before;
            }
        }
        self.log_step_size_average =
            (1.0 - weight) * self.log_step_size_average + weight * params.step_size.ln();

        // Adam moves the raw iterate `log T`; the transitions use it, and its moving
        // average is what sampling uses (TensorFlow Probability's
        // `max_trajectory_length` and `averaged_max_trajectory_length`)
        let length = params.trajectory_length;
        let gradient = self.gradient(states, infos, length);
        let before = self.adam.clone();
        let update = self.adam.step(gradient);
        let log_length = if update.is_finite() {
            length.ln() + update.clamp(-LOG_UPDATE_CLIP, LOG_UPDATE_CLIP)
        } else {
            self.adam = before;
            length.ln()
        };
        // only the upper bound binds during warm-up: dual averaging's first iterates
        // try step sizes up to 10 times the first one, and a lower bound of one step
        // would push `T` out to where ChEES is flat (a transition takes one step
        // anyway)
        params.trajectory_length = log_length
            .exp()
            .min(self.max_leapfrog_steps as f64 * params.step_size);
        self.log_trajectory_length_average = (1.0 - weight) * self.log_trajectory_length_average
            + weight * params.trajectory_length.ln();
    }
}

impl CheesAdaptation {
    /// `length` within one step and `max_leapfrog_steps` steps of `step_size`.
    fn clip(&self, length: f64, step_size: f64) -> f64 {
        length.clamp(step_size, self.max_leapfrog_steps as f64 * step_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn van_der_corput_points() {
        let points: Vec<f64> = (1..=7).map(van_der_corput).collect();
        assert_eq!(points, [0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875]);
    }

    #[test]
    fn adam_first_step_is_the_learning_rate() {
        // the bias-corrected first step is lr · g / (|g| + ε)
        for g in [3.0, -0.2] {
            let mut adam = Adam::new(0.025);
            let want = 0.025 * g / (f64::abs(g) + Adam::EPS);
            assert!((adam.step(g) - want).abs() < 1e-15, "{g}");
        }
    }
}
