//! Mixed HMC (Zhou 2020): discrete updates inside an HMC trajectory.

use std::fmt;

use rand::{Rng, RngExt};
use tilde_core::{Error, Layout, LogDensity, Result, SamplesDiscrete};

use super::discrete::{
    DiscreteCoordinate, DiscreteHmcGibbs, DiscreteHmcGibbsAdaptation, MAX_ENUMERATED, gibbs,
};
use super::{ByRef, Conditional, HmcGibbsInfo, HmcGibbsParams, HmcGibbsState};
use crate::adaptation::HmcAdaptation;
use crate::hmc::{Hmc, HmcInfo, HmcState, Point};
use crate::kernel::{Adaptation, Kernel};
use crate::metric::Metric;

/// Mixed Hamiltonian Monte Carlo (Zhou 2020; NumPyro's `MixedHMC`): discrete updates
/// interleaved with the leapfrog steps of one HMC trajectory, so that discrete and
/// continuous sites move together and one Metropolis test accepts or rejects the
/// whole trajectory.
///
/// Each discrete coordinate gets a kinetic energy `kⱼ ~ Exp(1)` (the magnitude of a
/// Laplace momentum) at the start of a transition. The trajectory alternates blocks of
/// leapfrog steps of the continuous sites with `num_discrete_updates` discrete updates
/// (`C D C D ... D C`, each `D` on a coordinate drawn uniformly): a proposal `z'` of
/// coordinate `j` (from its conditional over a finite support of at most
/// [`MAX_ENUMERATED`] values, a uniform value with `random_walk(true)`, a neighbour
/// `z ± 1` for a count; `modified(true)` excludes the current value, as in
/// [`DiscreteHmcGibbs`]) costs `Δ = U(z') - U(z) + ln q(z' | z) - ln q(z | z')` in
/// potential energy `U = -log p`, and is taken when `kⱼ > Δ`, which then pays it
/// (`kⱼ -= Δ`). These moves keep `p(z) e^{-k}` invariant exactly, so the final test
/// corrects only the leapfrog steps' energy error. The total number of leapfrog steps
/// is the inner [`Hmc`]'s (`Hmc::new(num_steps)` or its `trajectory_length`), split
/// evenly between the `num_discrete_updates + 1` blocks (at least one step each).
///
/// Warm-up adapts the inner HMC's step size and mass matrix on the continuous sites,
/// from each trajectory's acceptance probability. A model needs at least one discrete
/// and one continuous latent site ([`Error::InvalidConfig`] otherwise).
///
/// # Example
/// ```
/// use tilde_samplers::{Hmc, MixedHmc};
///
/// let kernel = MixedHmc::new(Hmc::new(20)).num_discrete_updates(10);
/// assert_eq!(kernel.discrete_updates(), Some(10));
/// ```
#[derive(Clone)]
pub struct MixedHmc {
    base: DiscreteHmcGibbs<Hmc>,
    num_discrete_updates: Option<usize>,
}

impl fmt::Debug for MixedHmc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MixedHmc")
            .field("hmc", &self.base.inner)
            .field("num_discrete_updates", &self.num_discrete_updates)
            .field("random_walk", &self.base.random_walk)
            .field("modified", &self.base.modified)
            .finish_non_exhaustive()
    }
}

impl MixedHmc {
    /// Mixed HMC around `hmc`, with one discrete update per discrete coordinate per
    /// trajectory unless [`num_discrete_updates`](Self::num_discrete_updates) says
    /// otherwise.
    pub fn new(hmc: Hmc) -> Self {
        MixedHmc {
            base: DiscreteHmcGibbs::new(hmc),
            num_discrete_updates: None,
        }
    }

    /// The number of discrete updates per trajectory (at least 1).
    pub fn num_discrete_updates(mut self, num: usize) -> Self {
        self.num_discrete_updates = Some(num.max(1));
        self
    }

    /// The number of discrete updates per trajectory, if set.
    pub fn discrete_updates(&self) -> Option<usize> {
        self.num_discrete_updates
    }

    /// Proposes a uniform value of a finite support instead of a draw from the
    /// conditional (default `false`).
    pub fn random_walk(mut self, random_walk: bool) -> Self {
        self.base = self.base.random_walk(random_walk);
        self
    }

    /// Excludes the current value from the proposal (default `false`).
    pub fn modified(mut self, modified: bool) -> Self {
        self.base = self.base.modified(modified);
        self
    }

    /// A discrete update of `coordinate` in `full` at potential `-log_density`, paid
    /// from `kinetic`: the log-density after it and the evaluations it took.
    #[allow(clippy::too_many_arguments)]
    fn discrete_update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        coordinate: &DiscreteCoordinate,
        full: &mut [f64],
        log_density: f64,
        kinetic: &mut f64,
        log_weights: &mut [f64],
    ) -> (f64, usize) {
        let i = coordinate.index;
        let current = full[i];
        let (proposal, cost, proposed_log_density, evaluations) = match coordinate.enumerable() {
            Some(n) if !self.base.random_walk => {
                let log_weights = &mut log_weights[..n];
                for (k, w) in log_weights.iter_mut().enumerate() {
                    full[i] = k as f64;
                    *w = target.logp(full);
                    if w.is_nan() {
                        *w = f64::NEG_INFINITY;
                    }
                }
                full[i] = current;
                let c = current as usize;
                let max = log_weights
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                if !max.is_finite() || c >= n {
                    return (log_density, n);
                }
                if self.base.modified {
                    // a value other than the current one, from the conditional
                    let weight = |k: usize| (log_weights[k] - max).exp();
                    let total: f64 = (0..n).map(weight).sum();
                    let others = total - weight(c);
                    if others <= 0.0 {
                        return (log_density, n);
                    }
                    let u = rng.random::<f64>() * others;
                    let (mut cumulative, mut proposal) = (0.0, c);
                    for k in (0..n).filter(|&k| k != c) {
                        let w = weight(k);
                        if w > 0.0 {
                            proposal = k;
                        }
                        cumulative += w;
                        if u < cumulative {
                            break;
                        }
                    }
                    // Δ = ln(1 - p(z')) - ln(1 - p(z))
                    let cost = (total - weight(proposal)).ln() - others.ln();
                    (proposal as f64, cost, log_weights[proposal], n)
                } else {
                    // a draw from the conditional: Δ = 0
                    match gibbs(rng, log_weights) {
                        Some(k) => (k as f64, 0.0, log_weights[k], n),
                        None => return (log_density, n),
                    }
                }
            }
            Some(n) => {
                let proposal = if self.base.modified && n > 1 {
                    let k = rng.random_range(0..n - 1) as f64;
                    if k >= current { k + 1.0 } else { k }
                } else {
                    rng.random_range(0..n) as f64
                };
                full[i] = proposal;
                let proposed = target.logp(full);
                full[i] = current;
                (proposal, log_density - proposed, proposed, 1)
            }
            None => {
                let step = if rng.random::<bool>() { 1.0 } else { -1.0 };
                full[i] = current + step;
                let proposed = target.logp(full);
                full[i] = current;
                (current + step, log_density - proposed, proposed, 1)
            }
        };
        // a NaN cost (a proposal of no density) is refused
        if proposed_log_density.is_finite() && *kinetic > cost {
            *kinetic -= cost;
            full[i] = proposal;
            (proposed_log_density, evaluations)
        } else {
            (log_density, evaluations)
        }
    }
}

/// Buffers of a [`MixedHmc`] kernel.
pub struct MixedHmcWorkspace {
    point: Point,
    full: Vec<f64>,
    start: Vec<f64>,
    grad: Vec<f64>,
    kinetic: Vec<f64>,
    log_weights: Vec<f64>,
}

impl fmt::Debug for MixedHmcWorkspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MixedHmcWorkspace")
            .field("dim", &self.full.len())
            .finish_non_exhaustive()
    }
}

/// The inner HMC's adaptation, on the continuous sites' conditional density.
#[derive(Debug)]
pub struct MixedHmcAdaptation(DiscreteHmcGibbsAdaptation<HmcAdaptation>);

impl Adaptation<MixedHmc> for MixedHmcAdaptation {
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &MixedHmc,
        target: &L,
        rng: &mut R,
        state: &HmcGibbsState<HmcState>,
        params: &mut HmcGibbsParams<crate::HmcParams>,
    ) {
        self.0.init(&kernel.base, target, rng, state, params);
    }

    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &MixedHmc,
        target: &L,
        rng: &mut R,
        state: &HmcGibbsState<HmcState>,
        info: &HmcGibbsInfo<HmcInfo>,
        params: &mut HmcGibbsParams<crate::HmcParams>,
    ) {
        self.0
            .update(&kernel.base, target, rng, state, info, params);
    }

    fn finalize(&mut self, params: &mut HmcGibbsParams<crate::HmcParams>) {
        Adaptation::<DiscreteHmcGibbs<Hmc>>::finalize(&mut self.0, params);
    }
}

impl SamplesDiscrete for MixedHmc {}

impl Kernel for MixedHmc {
    type State = HmcGibbsState<HmcState>;
    type Params = HmcGibbsParams<crate::HmcParams>;
    type Info = HmcGibbsInfo<HmcInfo>;
    type Workspace = MixedHmcWorkspace;
    type Adaptation = MixedHmcAdaptation;

    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<Self::State> {
        self.base.init(target, position)
    }

    fn refresh<L: LogDensity + ?Sized>(&self, target: &L, state: &mut Self::State) -> Result<()> {
        self.base.refresh(target, state)
    }

    fn workspace(&self, dim: usize) -> Self::Workspace {
        let (inner_dim, num_discrete) = self
            .base
            .binding()
            .map_or((0, 0), |b| (b.inner_indices.len(), b.discrete.len()));
        MixedHmcWorkspace {
            point: Point::new(inner_dim),
            full: vec![0.0; dim],
            start: vec![0.0; dim],
            grad: vec![0.0; dim],
            kinetic: vec![0.0; num_discrete],
            log_weights: vec![0.0; MAX_ENUMERATED],
        }
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut Self::State,
        params: &Self::Params,
        ws: &mut Self::Workspace,
    ) -> Self::Info {
        let binding = match self.base.binding() {
            Ok(binding) => binding,
            Err(e) => {
                state.fault = Some(e);
                return HmcGibbsInfo {
                    inner: None,
                    num_evaluations: 0,
                };
            }
        };
        let metric = &params.inner.inverse_mass_matrix;
        let step_size = params.inner.step_size;
        let hmc = &self.base.inner;
        let num_updates = self
            .num_discrete_updates
            .unwrap_or(binding.discrete.len())
            .max(1);
        let steps_per_block = (hmc.num_steps_at(step_size) / (num_updates + 1)).max(1);
        let target = ByRef(target);
        ws.full.copy_from_slice(&state.position);
        ws.start.copy_from_slice(&state.position);
        // the continuous state at the current discrete values
        let mut num_evaluations = 1;
        {
            let view =
                Conditional::new(&target, &binding.inner_indices, &mut ws.full, &mut ws.grad);
            if let Err(e) = self.base.inner.refresh(&view, &mut state.inner) {
                state.fault = Some(e);
                return HmcGibbsInfo {
                    inner: None,
                    num_evaluations,
                };
            }
        }
        ws.point.start(&state.inner, metric, rng);
        for k in &mut ws.kinetic {
            // Exp(1) by inversion; 1 - u lies in (0, 1]
            *k = -(1.0 - rng.random::<f64>()).ln();
        }
        // the energy error of the leapfrog blocks; discrete moves conserve energy
        let (mut energy_error, mut num_steps, mut is_divergent) = (0.0, 0, false);
        let h0 = ws.point.energy();
        'trajectory: for block in 0..=num_updates {
            let before = ws.point.energy();
            {
                let view =
                    Conditional::new(&target, &binding.inner_indices, &mut ws.full, &mut ws.grad);
                for _ in 0..steps_per_block {
                    ws.point.leapfrog(&view, metric, step_size);
                    num_steps += 1;
                    num_evaluations += 1;
                    let error = energy_error + ws.point.energy() - before;
                    // NaN counts as divergent
                    if error.is_nan() || error > hmc.divergence_limit() {
                        is_divergent = true;
                        break 'trajectory;
                    }
                }
            }
            energy_error += ws.point.energy() - before;
            if block == num_updates {
                break;
            }
            // `full` holds the continuous position of the last evaluation: the point's
            for (&i, &q) in binding.inner_indices.iter().zip(&ws.point.q) {
                ws.full[i] = q;
            }
            let j = rng.random_range(0..binding.discrete.len());
            let (log_density, n) = self.discrete_update(
                &target,
                rng,
                &binding.discrete[j],
                &mut ws.full,
                ws.point.log_density,
                &mut ws.kinetic[j],
                &mut ws.log_weights,
            );
            num_evaluations += n;
            if log_density != ws.point.log_density {
                // the gradient at the new discrete values
                let view =
                    Conditional::new(&target, &binding.inner_indices, &mut ws.full, &mut ws.grad);
                ws.point.log_density = view.logp_and_grad(&ws.point.q, &mut ws.point.grad);
                num_evaluations += 1;
            }
        }
        let acceptance_rate = if is_divergent || energy_error.is_nan() {
            0.0
        } else {
            (-energy_error).exp().min(1.0)
        };
        let symmetric_acceptance_rate = if is_divergent || energy_error.is_nan() {
            0.0
        } else {
            crate::hmc::symmetric_acceptance(-energy_error)
        };
        let accepted = !is_divergent && rng.random::<f64>() < acceptance_rate;
        if accepted {
            ws.point.store(&mut state.inner);
            for (&i, &q) in binding.inner_indices.iter().zip(&ws.point.q) {
                ws.full[i] = q;
            }
            state.position.copy_from_slice(&ws.full);
            state.log_density = state.inner.log_density;
        } else {
            // the inner state is the start's, refreshed at the start's discrete values
            state.position.copy_from_slice(&ws.start);
            state.log_density = state.inner.log_density;
        }
        HmcGibbsInfo {
            inner: Some(HmcInfo {
                acceptance_rate,
                symmetric_acceptance_rate,
                is_divergent,
                energy: if accepted { ws.point.energy() } else { h0 },
                num_integration_steps: num_steps,
                tree_depth: 0,
            }),
            num_evaluations,
        }
    }

    fn initial_params(&self, dim: usize, inverse_mass_matrix: Option<&Metric>) -> Self::Params {
        self.base.initial_params(dim, inverse_mass_matrix)
    }

    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> Self::Adaptation {
        MixedHmcAdaptation(self.base.adaptation(dim, num_warmup, adapt_metric))
    }

    fn bind_layout(&self, layout: &Layout) -> Result<Option<Self>> {
        let bound = self.base.bind_layout(layout).map_err(|e| match e {
            Error::InvalidConfig(m) => {
                Error::InvalidConfig(m.replace("DiscreteHmcGibbs", "MixedHmc"))
            }
            other => other,
        })?;
        Ok(bound.map(|base| MixedHmc {
            base,
            num_discrete_updates: self.num_discrete_updates,
        }))
    }

    fn validate(&self, dim: usize) -> Result<()> {
        self.base.inner.validate(dim)
    }

    fn samples_discrete(&self) -> bool {
        true
    }
}
