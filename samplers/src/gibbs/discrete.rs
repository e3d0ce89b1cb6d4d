//! Gibbs updates of a model's discrete latent sites, any kernel on the continuous ones.

use std::fmt;
use std::sync::Arc;

use rand::{Rng, RngExt};
use tilde_core::{Error, Layout, LogDensity, Result, SamplesDiscrete, Support};

use super::hmc_gibbs::{conditional_adaptation, init_within, refresh_within, transition_within};
use super::{ConditionalAdaptation, HmcGibbsInfo, HmcGibbsParams, HmcGibbsState};
use crate::kernel::{Adaptation, Kernel, KernelInfo};
use crate::metric::Metric;

/// Supports of at most this many values are enumerated by a Gibbs update; larger (and
/// countable) ones are updated by a Metropolis step to a neighbouring value.
pub const MAX_ENUMERATED: usize = 64;

/// Discrete HMC-within-Gibbs (NumPyro's `DiscreteHMCGibbs`): each transition updates
/// every discrete latent site of the model in turn, given the current values of all
/// the others, then takes one transition of `inner` (NUTS, HMC, ...) on the continuous
/// sites given the new discrete values. Each update leaves the posterior invariant, so
/// the cycle does.
///
/// A discrete site's update, by default:
/// - **Gibbs** when its support is finite and small (at most [`MAX_ENUMERATED`]
///   values): the log-density is evaluated at every value of the support and the new
///   value drawn from the normalised conditional;
/// - **Metropolis** otherwise (a count of `Poisson`, `Geometric`, ... or a large
///   `Binomial`): a neighbour, the value plus or minus 1 with equal probability, is
///   accepted with the Metropolis probability (a proposal outside the support has
///   density 0 and is rejected).
///
/// Options, as NumPyro's:
/// - [`random_walk(true)`](Self::random_walk): a finite support is also updated by a
///   Metropolis step, to a value drawn uniformly from the support (one evaluation per
///   site instead of one per value);
/// - [`modified(true)`](Self::modified): the proposal excludes the current value —
///   the Metropolised Gibbs sampler of Liu (1996), which proposes a value other than
///   the current one from the conditional and accepts it with probability
///   `min(1, (1 - p(current)) / (1 - p(proposed)))`, so it moves more often than a plain
///   Gibbs draw; with `random_walk(true)` the uniform proposal excludes the current
///   value.
///
/// NumPyro updates one randomly chosen discrete site per transition; this kernel
/// sweeps them all, in declaration order, before each transition of `inner`.
///
/// Warm-up adapts `inner` on the continuous sites' conditional density (its step size
/// and mass matrix), as [`HmcGibbs`](crate::HmcGibbs) does. A model needs at least one
/// discrete and one continuous latent site ([`Error::InvalidConfig`] otherwise, when
/// [`Mcmc`](crate::Mcmc) binds the kernel to the model). Each draw's
/// `accept_stat__` is the inner kernel's; `n_leapfrog__` counts every evaluation,
/// those of the discrete updates included.
///
/// # Example
/// ```
/// use tilde_samplers::{DiscreteHmcGibbs, Nuts};
///
/// let kernel = DiscreteHmcGibbs::new(Nuts::default()).modified(true);
/// assert!(kernel.is_modified() && !kernel.is_random_walk());
/// ```
#[derive(Clone)]
pub struct DiscreteHmcGibbs<K> {
    pub(super) inner: K,
    pub(super) random_walk: bool,
    pub(super) modified: bool,
    binding: Option<Arc<Binding>>,
}

impl<K: fmt::Debug> fmt::Debug for DiscreteHmcGibbs<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscreteHmcGibbs")
            .field("inner", &self.inner)
            .field("random_walk", &self.random_walk)
            .field("modified", &self.modified)
            .finish_non_exhaustive()
    }
}

/// The coordinates of a model: its discrete ones, and those of the inner kernel.
#[derive(Debug)]
pub(super) struct Binding {
    pub(super) discrete: Vec<DiscreteCoordinate>,
    pub(super) inner_indices: Vec<usize>,
}

/// One discrete coordinate and its support.
#[derive(Debug)]
pub(super) struct DiscreteCoordinate {
    pub(super) index: usize,
    /// The number of values of a finite support (`None` for a countable one).
    pub(super) num_values: Option<u64>,
}

impl DiscreteCoordinate {
    /// The number of values of a finite support small enough to enumerate.
    pub(super) fn enumerable(&self) -> Option<usize> {
        self.num_values
            .filter(|&n| n as usize <= MAX_ENUMERATED && n > 0)
            .map(|n| n as usize)
    }
}

impl<K> DiscreteHmcGibbs<K> {
    /// Gibbs updates of the discrete sites, `inner` on the others.
    pub fn new(inner: K) -> Self {
        DiscreteHmcGibbs {
            inner,
            random_walk: false,
            modified: false,
            binding: None,
        }
    }

    /// Updates finite supports by a Metropolis step to a uniformly drawn value instead
    /// of enumerating them (default `false`).
    pub fn random_walk(mut self, random_walk: bool) -> Self {
        self.random_walk = random_walk;
        self
    }

    /// Excludes the current value from the proposal: Liu's (1996) Metropolised Gibbs
    /// (default `false`).
    pub fn modified(mut self, modified: bool) -> Self {
        self.modified = modified;
        self
    }

    /// Whether finite supports are updated by a random-walk Metropolis step.
    pub fn is_random_walk(&self) -> bool {
        self.random_walk
    }

    /// Whether the proposal excludes the current value.
    pub fn is_modified(&self) -> bool {
        self.modified
    }

    /// The kernel on the continuous sites.
    pub fn inner(&self) -> &K {
        &self.inner
    }

    pub(super) fn binding(&self) -> Result<&Binding> {
        self.binding.as_deref().ok_or_else(|| {
            Error::InvalidConfig(
                "DiscreteHmcGibbs reads the model's discrete sites: run it on a model through \
                 Mcmc, or bind it with Kernel::bind_layout(model.layout()) first"
                    .into(),
            )
        })
    }

    /// Updates one discrete coordinate of `position`, whose log-density is
    /// `log_density`; returns the new log-density and the evaluations it took.
    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        coordinate: &DiscreteCoordinate,
        position: &mut [f64],
        log_density: f64,
        log_weights: &mut [f64],
    ) -> (f64, usize) {
        let i = coordinate.index;
        let current = position[i];
        match coordinate.enumerable() {
            Some(n) if !self.random_walk => {
                let log_weights = &mut log_weights[..n];
                for (k, w) in log_weights.iter_mut().enumerate() {
                    position[i] = k as f64;
                    *w = target.logp(position);
                    if w.is_nan() {
                        *w = f64::NEG_INFINITY;
                    }
                }
                let current_index =
                    (current >= 0.0 && current < n as f64 && current.fract() == 0.0)
                        .then_some(current as usize);
                let chosen = if self.modified {
                    metropolised_gibbs(rng, log_weights, current_index)
                } else {
                    gibbs(rng, log_weights)
                };
                match chosen {
                    Some(k) => {
                        position[i] = k as f64;
                        (log_weights[k], n)
                    }
                    None => {
                        position[i] = current;
                        (log_density, n)
                    }
                }
            }
            Some(n) => {
                // a uniform value of the support (other than the current one if modified)
                let proposal = if self.modified && n > 1 {
                    let k = rng.random_range(0..n - 1) as f64;
                    if k >= current { k + 1.0 } else { k }
                } else {
                    rng.random_range(0..n) as f64
                };
                metropolis(target, rng, position, i, proposal, log_density)
            }
            None => {
                let step = if rng.random::<bool>() { 1.0 } else { -1.0 };
                metropolis(target, rng, position, i, current + step, log_density)
            }
        }
    }
}

/// A Metropolis step of coordinate `i` to `proposal` (a symmetric proposal): returns the
/// log-density at the value kept and the evaluations (1).
fn metropolis<L: LogDensity + ?Sized, R: Rng + ?Sized>(
    target: &L,
    rng: &mut R,
    position: &mut [f64],
    i: usize,
    proposal: f64,
    log_density: f64,
) -> (f64, usize) {
    let current = position[i];
    position[i] = proposal;
    let proposed = target.logp(position);
    let log_ratio = proposed - log_density;
    // a NaN or -inf proposal is rejected; a current value of density 0 always moves
    let accept = proposed.is_finite()
        && (log_ratio >= 0.0 || rng.random::<f64>().ln() < log_ratio || log_density.is_nan());
    if accept {
        (proposed, 1)
    } else {
        position[i] = current;
        (log_density, 1)
    }
}

/// A draw from the normalised weights `exp(log_weights)`; `None` when none is finite.
pub(super) fn gibbs<R: Rng + ?Sized>(rng: &mut R, log_weights: &[f64]) -> Option<usize> {
    let max = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return None;
    }
    let total: f64 = log_weights.iter().map(|w| (w - max).exp()).sum();
    let u = rng.random::<f64>() * total;
    let mut cumulative = 0.0;
    let mut last = None;
    for (k, w) in log_weights.iter().enumerate() {
        let p = (w - max).exp();
        if p > 0.0 {
            last = Some(k);
        }
        cumulative += p;
        if u < cumulative {
            return Some(k);
        }
    }
    last
}

/// Liu's (1996) Metropolised Gibbs step: a value other than `current` drawn from the
/// conditional restricted to the others, accepted with probability
/// `min(1, (1 - p(current)) / (1 - p(proposed)))`; `None` keeps the current value.
fn metropolised_gibbs<R: Rng + ?Sized>(
    rng: &mut R,
    log_weights: &[f64],
    current: Option<usize>,
) -> Option<usize> {
    let Some(current) = current else {
        // a current value outside the support has probability 0: a Gibbs draw
        return gibbs(rng, log_weights);
    };
    let max = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return None;
    }
    let weight = |k: usize| (log_weights[k] - max).exp();
    let total: f64 = (0..log_weights.len()).map(weight).sum();
    let others = total - weight(current);
    if others <= 0.0 {
        return None;
    }
    let u = rng.random::<f64>() * others;
    let mut cumulative = 0.0;
    let mut proposal = None;
    for k in (0..log_weights.len()).filter(|&k| k != current) {
        let w = weight(k);
        if w > 0.0 {
            proposal = Some(k);
        }
        cumulative += w;
        if u < cumulative {
            proposal = Some(k);
            break;
        }
    }
    let proposal = proposal?;
    // (1 - p(current)) / (1 - p(proposal)), each as a sum of the other weights
    let accept = others / (total - weight(proposal));
    (accept >= 1.0 || rng.random::<f64>() < accept).then_some(proposal)
}

/// Buffers of a [`DiscreteHmcGibbs`] kernel.
pub struct DiscreteHmcGibbsWorkspace<W> {
    inner: W,
    full: Vec<f64>,
    grad: Vec<f64>,
    log_weights: Vec<f64>,
}

impl<W> fmt::Debug for DiscreteHmcGibbsWorkspace<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscreteHmcGibbsWorkspace")
            .field("dim", &self.full.len())
            .finish_non_exhaustive()
    }
}

/// The inner kernel's adaptation, on its sites' conditional density.
pub type DiscreteHmcGibbsAdaptation<A> = ConditionalAdaptation<A>;

conditional_adaptation!(DiscreteHmcGibbs);

impl<K> SamplesDiscrete for DiscreteHmcGibbs<K> {}

impl<K: Kernel + Clone> Kernel for DiscreteHmcGibbs<K> {
    type State = HmcGibbsState<K::State>;
    type Params = HmcGibbsParams<K::Params>;
    type Info = HmcGibbsInfo<K::Info>;
    type Workspace = DiscreteHmcGibbsWorkspace<K::Workspace>;
    type Adaptation = DiscreteHmcGibbsAdaptation<K::Adaptation>;

    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<Self::State> {
        init_within(
            &self.inner,
            &self.binding()?.inner_indices,
            target,
            position,
        )
    }

    fn refresh<L: LogDensity + ?Sized>(&self, target: &L, state: &mut Self::State) -> Result<()> {
        refresh_within(&self.inner, &self.binding()?.inner_indices, target, state)
    }

    fn workspace(&self, dim: usize) -> Self::Workspace {
        let inner_dim = self.binding.as_deref().map_or(0, |b| b.inner_indices.len());
        DiscreteHmcGibbsWorkspace {
            inner: self.inner.workspace(inner_dim),
            full: vec![0.0; dim],
            grad: vec![0.0; dim],
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
        let binding = match self.binding() {
            Ok(binding) => binding,
            Err(e) => {
                state.fault = Some(e);
                return HmcGibbsInfo {
                    inner: None,
                    num_evaluations: 0,
                };
            }
        };
        // the discrete sites, one at a time given all the others
        let mut log_density = state.log_density;
        let mut num_evaluations = 0;
        for coordinate in &binding.discrete {
            let (lp, n) = self.update(
                target,
                rng,
                coordinate,
                &mut state.position,
                log_density,
                &mut ws.log_weights,
            );
            log_density = lp;
            num_evaluations += n;
        }
        // the inner kernel on the continuous sites given the new discrete values
        let buffers = (&mut ws.inner, &mut ws.full[..], &mut ws.grad[..]);
        let indices = &binding.inner_indices;
        let info =
            match transition_within(&self.inner, indices, target, rng, state, params, buffers) {
                Ok(info) => info,
                Err(e) => {
                    state.fault = Some(e);
                    return HmcGibbsInfo {
                        inner: None,
                        num_evaluations,
                    };
                }
            };
        HmcGibbsInfo {
            num_evaluations: num_evaluations + info.num_evaluations() + 1,
            inner: Some(info),
        }
    }

    fn initial_params(&self, _dim: usize, _inverse_mass_matrix: Option<&Metric>) -> Self::Params {
        let inner_dim = self.binding.as_deref().map_or(0, |b| b.inner_indices.len());
        HmcGibbsParams {
            inner: self.inner.initial_params(inner_dim, None),
            inner_dim,
        }
    }

    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> Self::Adaptation {
        let inner_dim = self.binding.as_deref().map_or(0, |b| b.inner_indices.len());
        ConditionalAdaptation::new(
            self.inner.adaptation(inner_dim, num_warmup, adapt_metric),
            dim,
        )
    }

    fn warmup_kernel(&self) -> Option<Self> {
        self.inner.warmup_kernel().map(|inner| DiscreteHmcGibbs {
            inner,
            random_walk: self.random_walk,
            modified: self.modified,
            binding: self.binding.clone(),
        })
    }

    fn bind_layout(&self, layout: &Layout) -> Result<Option<Self>> {
        let mut discrete = Vec::new();
        let mut inner_indices = Vec::new();
        for site in layout.latent() {
            let offset = site.offset.unwrap_or(0);
            if site.is_discrete() {
                let num_values = match site.support {
                    Some(Support::Boolean) => Some(2),
                    Some(Support::IntegersUpTo(n)) => n.checked_add(1),
                    _ => None,
                };
                discrete.extend(
                    (offset..offset + site.num_unconstrained)
                        .map(|index| DiscreteCoordinate { index, num_values }),
                );
            } else {
                inner_indices.extend(offset..offset + site.num_unconstrained);
            }
        }
        if discrete.is_empty() {
            return Err(Error::InvalidConfig(
                "DiscreteHmcGibbs: the model has no discrete latent site; use its inner kernel \
                 alone"
                    .into(),
            ));
        }
        if inner_indices.is_empty() {
            return Err(Error::InvalidConfig(
                "DiscreteHmcGibbs: the model has no continuous latent site for its inner kernel"
                    .into(),
            ));
        }
        self.inner.validate(inner_indices.len())?;
        Ok(Some(DiscreteHmcGibbs {
            inner: self.inner.clone(),
            random_walk: self.random_walk,
            modified: self.modified,
            binding: Some(Arc::new(Binding {
                discrete,
                inner_indices,
            })),
        }))
    }

    fn max_tree_depth(&self) -> Option<usize> {
        self.inner.max_tree_depth()
    }

    fn samples_discrete(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain_rng;

    #[test]
    fn gibbs_draws_follow_the_weights() {
        let mut rng = chain_rng(3, 0);
        let log_weights = [0.2f64.ln(), 0.5f64.ln(), 0.3f64.ln()];
        let mut counts = [0usize; 3];
        let n = 20_000;
        for _ in 0..n {
            counts[gibbs(&mut rng, &log_weights).unwrap_or(9)] += 1;
        }
        for (c, p) in counts.iter().zip([0.2, 0.5, 0.3]) {
            let f = *c as f64 / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((f - p).abs() < 4.0 * se, "{f} vs {p}");
        }
    }

    #[test]
    fn metropolised_gibbs_keeps_the_weights_invariant() {
        // the chain's long-run frequencies are the weights
        let mut rng = chain_rng(4, 0);
        let p = [0.6, 0.1, 0.3];
        let log_weights = p.map(f64::ln);
        let (mut state, mut counts, n) = (0usize, [0usize; 3], 60_000);
        for _ in 0..n {
            state = metropolised_gibbs(&mut rng, &log_weights, Some(state)).unwrap_or(state);
            counts[state] += 1;
        }
        for (c, p) in counts.iter().zip(p) {
            let f = *c as f64 / n as f64;
            assert!((f - p).abs() < 0.02, "{f} vs {p}");
        }
    }

    #[test]
    fn no_finite_weight_keeps_the_value() {
        let mut rng = chain_rng(5, 0);
        let w = [f64::NEG_INFINITY; 2];
        assert_eq!(gibbs(&mut rng, &w), None);
        assert_eq!(metropolised_gibbs(&mut rng, &w, Some(0)), None);
    }
}
