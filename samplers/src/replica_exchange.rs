//! Replica exchange (parallel tempering) around any kernel.

use rand::{Rng, RngExt};
use tilde_core::{Error, LogDensity, Result};

use crate::hmc::HmcParams;
use crate::kernel::{Adaptation, Kernel, KernelInfo, KernelParams, KernelState};
use crate::metric::Metric;

/// Replica exchange (parallel tempering; Swendsen & Wang 1986, Geyer 1991): one
/// replica of `kernel` per inverse temperature `βₖ`, each sampling `p(x)^βₖ`, and after
/// every transition swaps of adjacent replicas accepted with probability
/// `min(1, exp((βₖ − βₖ₊₁)(log p(xₖ₊₁) − log p(xₖ))))`, the even pairs on even
/// transitions and the odd pairs on odd ones (the non-reversible scheme of Syed et al.
/// 2022). The draws are the `β = 1` replica's; warm-up adapts every replica's own
/// parameters on its tempered target.
///
/// The whole log-density is tempered, prior included, so `p^β` must be normalisable
/// for every `β` given (true of light-tailed targets; not of a Cauchy). A swap
/// re-evaluates the two states at their new temperatures in place
/// ([`Kernel::refresh`]: two gradients for gradient-based kernels), counted in
/// `n_leapfrog__`. Each draw reports the mean acceptance probability of the swaps its
/// transition proposed as the kernel statistic `swap_accept__`
/// ([`SampleStats::kernel_stat`](crate::SampleStats::kernel_stat); NaN when none was
/// proposed, as on every other transition with two replicas), written to CSV and
/// JSON and averaged by `print_summary`; a mean far below 0.2 asks for more or
/// closer temperatures.
///
/// ```
/// use tilde_samplers::{Nuts, ReplicaExchange};
///
/// let tempered = ReplicaExchange::new(Nuts::default(), &[1.0, 0.3, 0.1]);
/// # let _ = tempered;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaExchange<K> {
    kernel: K,
    inverse_temperatures: Vec<f64>,
}

impl<K> ReplicaExchange<K> {
    /// Replicas of `kernel` at `inverse_temperatures`: in `(0, 1]`, decreasing, the
    /// first 1 (checked when a run starts).
    pub fn new(kernel: K, inverse_temperatures: &[f64]) -> Self {
        ReplicaExchange {
            kernel,
            inverse_temperatures: inverse_temperatures.to_vec(),
        }
    }

    /// The inverse temperatures.
    pub fn inverse_temperatures(&self) -> &[f64] {
        &self.inverse_temperatures
    }
}

/// A target's log-density raised to the power `beta`.
#[derive(Clone, Copy, Debug)]
pub struct Tempered<'a, L: ?Sized> {
    target: &'a L,
    beta: f64,
}

impl<'a, L: LogDensity + ?Sized> Tempered<'a, L> {
    /// `p(x)^beta` for the target `p`.
    pub fn new(target: &'a L, beta: f64) -> Self {
        Tempered { target, beta }
    }
}

impl<L: LogDensity + ?Sized> LogDensity for Tempered<'_, L> {
    fn dim(&self) -> usize {
        self.target.dim()
    }

    fn logp(&self, x: &[f64]) -> f64 {
        self.beta * self.target.logp(x)
    }

    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let log_density = self.target.logp_and_grad(x, grad);
        grad.iter_mut().for_each(|g| *g *= self.beta);
        self.beta * log_density
    }
}

/// The replicas' states, the coldest (`β = 1`) first.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaState<S, I> {
    /// One state per inverse temperature, in the kernel's order; the log-densities
    /// they cache are tempered.
    pub replicas: Vec<S>,
    /// What each replica's last transition did.
    pub infos: Vec<I>,
    /// Transitions taken (even and odd swap rounds alternate).
    pub round: usize,
}

impl<S: KernelState, I: KernelInfo> KernelState for ReplicaState<S, I> {
    fn position(&self) -> &[f64] {
        self.replicas[0].position()
    }

    fn log_density(&self) -> f64 {
        self.replicas[0].log_density()
    }
}

/// Every replica's parameters, the coldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaParams<P>(pub Vec<P>);

impl<P: KernelParams> KernelParams for ReplicaParams<P> {
    fn step_size(&self) -> f64 {
        self.0.first().map_or(f64::NAN, P::step_size)
    }

    fn hmc_params(&self) -> Option<HmcParams> {
        self.0.first().and_then(P::hmc_params)
    }

    fn validate(&self, dim: usize) -> Result<()> {
        self.0.iter().try_for_each(|p| p.validate(dim))
    }
}

/// What one replica-exchange transition did: the cold replica's information, and the
/// swaps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicaInfo<I> {
    /// The `β = 1` replica's transition.
    pub cold: I,
    /// The mean acceptance probability of the swaps proposed in this transition (NaN
    /// with a single replica).
    pub swap_acceptance: f64,
    /// Swaps accepted.
    pub num_swaps: usize,
    /// Evaluations over all replicas, swaps' re-evaluations included.
    pub num_evaluations: usize,
}

impl<I: KernelInfo> KernelInfo for ReplicaInfo<I> {
    fn acceptance_rate(&self) -> f64 {
        self.cold.acceptance_rate()
    }

    fn num_evaluations(&self) -> usize {
        self.num_evaluations
    }

    fn is_divergent(&self) -> bool {
        self.cold.is_divergent()
    }

    fn tree_depth(&self) -> usize {
        self.cold.tree_depth()
    }

    fn energy(&self) -> f64 {
        self.cold.energy()
    }

    const KERNEL_STAT: Option<&'static str> = Some("swap_accept__");

    /// The mean acceptance probability of the swaps proposed in the transition.
    fn kernel_stat(&self) -> f64 {
        self.swap_acceptance
    }
}

/// Every replica's adaptation, each on its tempered target.
#[derive(Clone, Debug)]
pub struct ReplicaAdaptation<A>(Vec<A>);

impl<K: Kernel> Adaptation<ReplicaExchange<K>> for ReplicaAdaptation<K::Adaptation> {
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &ReplicaExchange<K>,
        target: &L,
        rng: &mut R,
        state: &ReplicaState<K::State, K::Info>,
        params: &mut ReplicaParams<K::Params>,
    ) {
        for (((adaptation, replica), params), beta) in self
            .0
            .iter_mut()
            .zip(&state.replicas)
            .zip(&mut params.0)
            .zip(&kernel.inverse_temperatures)
        {
            let tempered = Tempered::new(target, *beta);
            adaptation.init(&kernel.kernel, &tempered, rng, replica, params);
        }
    }

    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &ReplicaExchange<K>,
        target: &L,
        rng: &mut R,
        state: &ReplicaState<K::State, K::Info>,
        _: &ReplicaInfo<K::Info>,
        params: &mut ReplicaParams<K::Params>,
    ) {
        for ((((adaptation, replica), info), params), beta) in self
            .0
            .iter_mut()
            .zip(&state.replicas)
            .zip(&state.infos)
            .zip(&mut params.0)
            .zip(&kernel.inverse_temperatures)
        {
            let tempered = Tempered::new(target, *beta);
            adaptation.update(&kernel.kernel, &tempered, rng, replica, info, params);
        }
    }

    fn finalize(&mut self, params: &mut ReplicaParams<K::Params>) {
        for (adaptation, params) in self.0.iter_mut().zip(&mut params.0) {
            adaptation.finalize(params);
        }
    }
}

impl<K: Kernel> Kernel for ReplicaExchange<K> {
    type State = ReplicaState<K::State, K::Info>;
    type Params = ReplicaParams<K::Params>;
    type Info = ReplicaInfo<K::Info>;
    type Workspace = Vec<K::Workspace>;
    type Adaptation = ReplicaAdaptation<K::Adaptation>;

    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<Self::State> {
        let replicas = self
            .inverse_temperatures
            .iter()
            .map(|beta| self.kernel.init(&Tempered::new(target, *beta), position))
            .collect::<Result<Vec<_>>>()?;
        Ok(ReplicaState {
            infos: Vec::with_capacity(replicas.len()),
            replicas,
            round: 0,
        })
    }

    fn workspace(&self, dim: usize) -> Vec<K::Workspace> {
        self.inverse_temperatures
            .iter()
            .map(|_| self.kernel.workspace(dim))
            .collect()
    }

    fn initial_params(&self, dim: usize, inverse_mass_matrix: Option<&Metric>) -> Self::Params {
        ReplicaParams(
            self.inverse_temperatures
                .iter()
                .map(|_| self.kernel.initial_params(dim, inverse_mass_matrix))
                .collect(),
        )
    }

    fn fit_params(&self, params: Self::Params) -> Self::Params {
        ReplicaParams(
            params
                .0
                .into_iter()
                .map(|p| self.kernel.fit_params(p))
                .collect(),
        )
    }

    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> Self::Adaptation {
        ReplicaAdaptation(
            self.inverse_temperatures
                .iter()
                .map(|_| self.kernel.adaptation(dim, num_warmup, adapt_metric))
                .collect(),
        )
    }

    fn bind_layout(&self, layout: &tilde_core::Layout) -> Result<Option<Self>> {
        Ok(self
            .kernel
            .bind_layout(layout)?
            .map(|kernel| ReplicaExchange {
                kernel,
                inverse_temperatures: self.inverse_temperatures.clone(),
            }))
    }

    fn warmup_kernel(&self) -> Option<Self> {
        self.kernel.warmup_kernel().map(|kernel| ReplicaExchange {
            kernel,
            inverse_temperatures: self.inverse_temperatures.clone(),
        })
    }

    fn validate(&self, dim: usize) -> Result<()> {
        let betas = &self.inverse_temperatures;
        if betas.first() != Some(&1.0) {
            return Err(Error::InvalidConfig(format!(
                "the inverse temperatures of replica exchange must start at 1 (the target), got {betas:?}"
            )));
        }
        if let Some(beta) = betas.iter().find(|b| !(**b > 0.0 && **b <= 1.0)) {
            return Err(Error::InvalidConfig(format!(
                "inverse temperatures must be in (0, 1], got {beta}"
            )));
        }
        if betas.windows(2).any(|w| w[1] >= w[0]) {
            return Err(Error::InvalidConfig(format!(
                "inverse temperatures must decrease strictly, got {betas:?}"
            )));
        }
        self.kernel.validate(dim)
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut Self::State,
        params: &Self::Params,
        workspace: &mut Vec<K::Workspace>,
    ) -> Self::Info {
        let betas = &self.inverse_temperatures;
        state.infos.clear();
        let mut num_evaluations = 0;
        for (((replica, params), ws), beta) in state
            .replicas
            .iter_mut()
            .zip(&params.0)
            .zip(workspace.iter_mut())
            .zip(betas)
        {
            let info =
                self.kernel
                    .transition(&Tempered::new(target, *beta), rng, replica, params, ws);
            num_evaluations += info.num_evaluations();
            state.infos.push(info);
        }
        let (mut proposed, mut accepted, mut sum_accept) = (0, 0, 0.0);
        let mut k = state.round % 2;
        while k + 1 < betas.len() {
            // untempered log-densities of the two replicas
            let lp_k = state.replicas[k].log_density() / betas[k];
            let lp_next = state.replicas[k + 1].log_density() / betas[k + 1];
            let log_ratio = (betas[k] - betas[k + 1]) * (lp_next - lp_k);
            let accept = if log_ratio.is_nan() {
                0.0
            } else {
                log_ratio.exp().min(1.0)
            };
            proposed += 1;
            sum_accept += accept;
            if rng.random::<f64>() < accept {
                state.replicas.swap(k, k + 1);
                let refreshed = self
                    .kernel
                    .refresh(&Tempered::new(target, betas[k]), &mut state.replicas[k])
                    .and_then(|()| {
                        self.kernel.refresh(
                            &Tempered::new(target, betas[k + 1]),
                            &mut state.replicas[k + 1],
                        )
                    });
                num_evaluations += 2;
                if refreshed.is_ok() {
                    accepted += 1;
                } else {
                    // not finite at the other temperature (an overflow): swap back
                    state.replicas.swap(k, k + 1);
                    for (replica, beta) in [(k, betas[k]), (k + 1, betas[k + 1])] {
                        let _ = self
                            .kernel
                            .refresh(&Tempered::new(target, beta), &mut state.replicas[replica]);
                    }
                    num_evaluations += 2;
                }
            }
            k += 2;
        }
        state.round = state.round.wrapping_add(1);
        ReplicaInfo {
            cold: state.infos[0],
            swap_acceptance: if proposed > 0 {
                sum_accept / proposed as f64
            } else {
                f64::NAN
            },
            num_swaps: accepted,
            num_evaluations,
        }
    }
}
