//! HMC (or any kernel) on some sites, a user's Gibbs update on the others.

use std::fmt;
use std::sync::Arc;

use rand::Rng;
use tilde_core::{Error, Layout, LogDensity, Result, SamplesDiscrete, Support};

use super::sites::{Binding, SiteSlot};
use super::{
    ByRef, Conditional, ConditionalAdaptation, GibbsSites, init_on_conditional,
    refresh_on_conditional,
};
use crate::kernel::{Adaptation, Kernel, KernelInfo, KernelParams, KernelState};
use crate::metric::Metric;

/// A user's update of the sites of an [`HmcGibbs`] kernel.
type UpdateFn = dyn Fn(&mut dyn Rng, &mut GibbsSites<'_>) -> Result<()> + Send + Sync;

/// HMC-within-Gibbs with a user's update (NumPyro's `HMCGibbs`): each transition first
/// calls `gibbs_fn`, which draws new values of the named sites given the others
/// (typically from their exact conditional), then takes one transition of `inner`
/// (NUTS, HMC, …) on the other sites given the new values. The chain targets the
/// posterior when `gibbs_fn` leaves the conditional of its sites invariant (an exact
/// conditional draw does).
///
/// `gibbs_fn(rng, sites)` reads the current **constrained** value of any latent site
/// with [`GibbsSites::get`] / [`GibbsSites::value`] and writes the new values of its
/// own sites with [`GibbsSites::set`]; a site it does not set keeps its value. A value
/// outside the site's support, of the wrong length or not finite, a `set` of a site
/// that is not its own, and an `Err` returned by `gibbs_fn` stop the run with that
/// error ([`Error::InvalidUpdate`]), never a panic. Values are `f64`: a discrete
/// site's value is its integer (`0.0`/`1.0` for a `Bernoulli`), and a value that is
/// not one of its support is such an error. A model's discrete sites must all be
/// Gibbs sites (the inner kernel cannot move them): [`Error::InvalidConfig`]
/// otherwise.
///
/// Sites are named whole (`"theta"`) and bound to the model's layout when
/// [`Mcmc`](crate::Mcmc) starts a run: an unknown name is [`Error::UnknownName`]; a
/// run in which `gibbs_fn` names all sites or none is [`Error::InvalidConfig`]. A
/// site's support is read from the layout, so a site whose bounds depend on other
/// parameters cannot be read or set here. Warm-up adapts `inner` on its sites'
/// conditional density; each transition re-evaluates it once after the update
/// (counted in `n_leapfrog__`).
///
/// ```
/// use tilde_samplers::{HmcGibbs, Nuts};
///
/// // mu | sigma2, y is normal: draw it exactly, NUTS on sigma2
/// let kernel = HmcGibbs::new(Nuts::default(), &["mu"], |rng, sites| {
///     use rand_distr::{Distribution, Normal};
///     let sigma2 = sites.value("sigma2")?;
///     let mu = Normal::new(1.0, sigma2.sqrt()).map_or(f64::NAN, |d| d.sample(rng));
///     sites.set("mu", &[mu])
/// });
/// # let _ = kernel;
/// ```
#[derive(Clone)]
pub struct HmcGibbs<K> {
    inner: K,
    names: Vec<String>,
    gibbs_fn: Arc<UpdateFn>,
    binding: Option<Arc<Binding>>,
}

impl<K: fmt::Debug> fmt::Debug for HmcGibbs<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmcGibbs")
            .field("inner", &self.inner)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl<K> HmcGibbs<K> {
    /// `inner` on every latent site but `names`, which `gibbs_fn` updates.
    pub fn new<F>(inner: K, names: &[&str], gibbs_fn: F) -> Self
    where
        F: Fn(&mut dyn Rng, &mut GibbsSites<'_>) -> Result<()> + Send + Sync + 'static,
    {
        HmcGibbs {
            inner,
            names: names.iter().map(|n| n.to_string()).collect(),
            gibbs_fn: Arc::new(gibbs_fn),
            binding: None,
        }
    }

    /// The sites `gibbs_fn` updates.
    pub fn gibbs_sites(&self) -> &[String] {
        &self.names
    }

    fn binding(&self) -> Result<&Binding> {
        self.binding.as_deref().ok_or_else(|| {
            Error::InvalidConfig(
                "HmcGibbs names sites: run it on a model through Mcmc, or bind it with \
                 Kernel::bind_layout(model.layout()) first"
                    .into(),
            )
        })
    }
}

/// The state of an [`HmcGibbs`] chain.
#[derive(Clone, Debug)]
pub struct HmcGibbsState<S> {
    /// The unconstrained position of the whole model.
    pub position: Vec<f64>,
    /// The log-density at `position`.
    pub log_density: f64,
    /// The inner kernel's state on its sites.
    pub inner: S,
    /// The error the last update met, which stops the run.
    pub fault: Option<Error>,
}

impl<S: KernelState> KernelState for HmcGibbsState<S> {
    fn position(&self) -> &[f64] {
        &self.position
    }

    fn log_density(&self) -> f64 {
        self.log_density
    }

    fn fault(&self) -> Option<&Error> {
        self.fault.as_ref()
    }
}

/// The inner kernel's parameters, for the coordinates it moves.
#[derive(Clone, Debug, PartialEq)]
pub struct HmcGibbsParams<P> {
    /// The inner kernel's parameters.
    pub inner: P,
    /// The number of coordinates the inner kernel moves.
    pub inner_dim: usize,
}

impl<P: KernelParams> KernelParams for HmcGibbsParams<P> {
    fn step_size(&self) -> f64 {
        self.inner.step_size()
    }

    fn validate(&self, dim: usize) -> Result<()> {
        if self.inner_dim >= dim {
            return Err(Error::DimensionMismatch {
                expected: dim,
                found: self.inner_dim,
            });
        }
        self.inner.validate(self.inner_dim)
    }
}

/// What one [`HmcGibbs`] transition did: the inner kernel's transition, and the
/// evaluations of both parts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HmcGibbsInfo<I> {
    /// The inner kernel's transition (`None` when the update failed).
    pub inner: Option<I>,
    /// Evaluations, the re-evaluation after the update included.
    pub num_evaluations: usize,
}

impl<I: KernelInfo> KernelInfo for HmcGibbsInfo<I> {
    fn acceptance_rate(&self) -> f64 {
        self.inner.map_or(0.0, |i| i.acceptance_rate())
    }

    fn num_evaluations(&self) -> usize {
        self.num_evaluations
    }

    fn is_divergent(&self) -> bool {
        self.inner.is_some_and(|i| i.is_divergent())
    }

    fn tree_depth(&self) -> usize {
        self.inner.map_or(0, |i| i.tree_depth())
    }

    fn energy(&self) -> f64 {
        self.inner.map_or(f64::NAN, |i| i.energy())
    }
}

/// Buffers of an [`HmcGibbs`] kernel.
pub struct HmcGibbsWorkspace<W> {
    inner: W,
    full: Vec<f64>,
    grad: Vec<f64>,
    values: Vec<f64>,
}

impl<W> fmt::Debug for HmcGibbsWorkspace<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmcGibbsWorkspace")
            .field("dim", &self.full.len())
            .finish_non_exhaustive()
    }
}

/// The inner kernel's adaptation, on its sites' conditional density.
pub type HmcGibbsAdaptation<A> = ConditionalAdaptation<A>;

/// The start of a kernel whose `inner` kernel moves the coordinates `indices` on their
/// conditional density at `position` (the others move by the kernel's own update).
pub(super) fn init_within<K: Kernel, L: LogDensity + ?Sized>(
    inner: &K,
    indices: &[usize],
    target: &L,
    position: &[f64],
) -> Result<HmcGibbsState<K::State>> {
    let inner = init_on_conditional(inner, target, indices, position)?;
    Ok(HmcGibbsState {
        position: position.to_vec(),
        log_density: inner.log_density(),
        inner,
        fault: None,
    })
}

/// [`init_within`]'s state recomputed for a changed `target`.
pub(super) fn refresh_within<K: Kernel, L: LogDensity + ?Sized>(
    inner: &K,
    indices: &[usize],
    target: &L,
    state: &mut HmcGibbsState<K::State>,
) -> Result<()> {
    refresh_on_conditional(inner, target, indices, &state.position, &mut state.inner)?;
    state.log_density = state.inner.log_density();
    Ok(())
}

/// The inner kernel's transition on the conditional density of `indices` given the
/// rest of the state's position (which the kernel's own update has just changed),
/// written back into the position; `Err` when the inner kernel's state cannot be
/// recomputed at that position. `buffers`: the inner kernel's workspace and two
/// vectors of the full dimension.
pub(super) fn transition_within<K: Kernel, L: LogDensity + ?Sized, R: Rng + ?Sized>(
    inner: &K,
    indices: &[usize],
    target: &L,
    rng: &mut R,
    state: &mut HmcGibbsState<K::State>,
    params: &HmcGibbsParams<K::Params>,
    buffers: (&mut K::Workspace, &mut [f64], &mut [f64]),
) -> Result<K::Info> {
    let (inner_ws, full, grad) = buffers;
    full.copy_from_slice(&state.position);
    let target = ByRef(target);
    let view = Conditional::new(&target, indices, full, grad);
    inner.refresh(&view, &mut state.inner)?;
    let info = inner.transition(&view, rng, &mut state.inner, &params.inner, inner_ws);
    for (&i, &v) in indices.iter().zip(state.inner.position()) {
        state.position[i] = v;
    }
    state.log_density = state.inner.log_density();
    Ok(info)
}

/// The inner kernel's adaptation, on its coordinates' conditional density, for a kernel
/// `$kernel<K>` whose `inner: K` moves the coordinates of its `binding()`'s
/// `inner_indices` in an [`HmcGibbsState`] ([`HmcGibbs`] and `DiscreteHmcGibbs`).
macro_rules! conditional_adaptation {
    ($kernel:ident) => {
        impl<K: Kernel + Clone> Adaptation<$kernel<K>> for ConditionalAdaptation<K::Adaptation> {
            fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
                &mut self,
                kernel: &$kernel<K>,
                target: &L,
                rng: &mut R,
                state: &HmcGibbsState<K::State>,
                params: &mut HmcGibbsParams<K::Params>,
            ) {
                if let Ok(binding) = kernel.binding() {
                    let indices = &binding.inner_indices;
                    self.on(target, indices, &state.position, |inner, view| {
                        inner.init(&kernel.inner, view, rng, &state.inner, &mut params.inner)
                    });
                }
            }

            fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
                &mut self,
                kernel: &$kernel<K>,
                target: &L,
                rng: &mut R,
                state: &HmcGibbsState<K::State>,
                info: &HmcGibbsInfo<K::Info>,
                params: &mut HmcGibbsParams<K::Params>,
            ) {
                if let (Ok(binding), Some(inner_info)) = (kernel.binding(), &info.inner) {
                    let indices = &binding.inner_indices;
                    self.on(target, indices, &state.position, |inner, view| {
                        let (inner_state, inner_params) = (&state.inner, &mut params.inner);
                        inner.update(
                            &kernel.inner,
                            view,
                            rng,
                            inner_state,
                            inner_info,
                            inner_params,
                        )
                    });
                }
            }

            fn finalize(&mut self, params: &mut HmcGibbsParams<K::Params>) {
                self.inner.finalize(&mut params.inner);
            }
        }
    };
}
pub(super) use conditional_adaptation;

conditional_adaptation!(HmcGibbs);

/// The Gibbs function may update discrete sites (it must update all of them: the inner
/// kernel moves the others along the gradient, which a discrete site lacks).
impl<K> SamplesDiscrete for HmcGibbs<K> {}

impl<K: Kernel + Clone> Kernel for HmcGibbs<K> {
    type State = HmcGibbsState<K::State>;
    type Params = HmcGibbsParams<K::Params>;
    type Info = HmcGibbsInfo<K::Info>;
    type Workspace = HmcGibbsWorkspace<K::Workspace>;
    type Adaptation = HmcGibbsAdaptation<K::Adaptation>;

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
        let (inner_dim, num_values) = self
            .binding
            .as_deref()
            .map_or((0, 0), |b| (b.inner_indices.len(), b.num_values));
        HmcGibbsWorkspace {
            inner: self.inner.workspace(inner_dim),
            full: vec![0.0; dim],
            grad: vec![0.0; dim],
            values: vec![0.0; num_values],
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
        let failed = |state: &mut Self::State, fault: Error| {
            state.fault = Some(fault);
            HmcGibbsInfo {
                inner: None,
                num_evaluations: 0,
            }
        };
        let binding = match self.binding() {
            Ok(binding) => binding,
            Err(e) => return failed(state, e),
        };
        // the user's update, on the constrained values of every site
        for site in &binding.sites {
            site.constrain(&state.position, &mut ws.values);
        }
        let mut sites = GibbsSites {
            binding,
            position: &mut state.position,
            values: &mut ws.values,
        };
        let updated = {
            let mut rng = &mut *rng;
            let rng: &mut dyn Rng = &mut rng;
            (self.gibbs_fn)(rng, &mut sites)
        };
        if let Err(e) = updated {
            return failed(state, e);
        }
        // the inner kernel on its sites given the new values
        let buffers = (&mut ws.inner, &mut ws.full[..], &mut ws.grad[..]);
        let indices = &binding.inner_indices;
        let moved = transition_within(&self.inner, indices, target, rng, state, params, buffers);
        let Ok(info) = moved else {
            let name = binding
                .sites
                .iter()
                .find(|s| s.is_gibbs)
                .map_or_else(String::new, |s| s.name.clone());
            return failed(
                state,
                Error::InvalidUpdate {
                    site: name,
                    reason: "the log-density (or its gradient) is not finite at the values \
                             the update gave"
                        .into(),
                },
            );
        };
        HmcGibbsInfo {
            num_evaluations: info.num_evaluations() + 1,
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
        self.inner.warmup_kernel().map(|inner| HmcGibbs {
            inner,
            names: self.names.clone(),
            gibbs_fn: Arc::clone(&self.gibbs_fn),
            binding: self.binding.clone(),
        })
    }

    fn bind_layout(&self, layout: &Layout) -> Result<Option<Self>> {
        let latent: Vec<_> = layout.latent().collect();
        if let Some(name) = self
            .names
            .iter()
            .find(|n| !latent.iter().any(|s| s.name == **n))
        {
            return Err(Error::UnknownName {
                name: name.clone(),
                known: latent.iter().map(|s| s.name.clone()).collect(),
            });
        }
        let mut sites = Vec::with_capacity(latent.len());
        let mut inner_indices = Vec::new();
        let mut num_values = 0;
        for site in latent {
            let is_gibbs = self.names.contains(&site.name);
            let offset = site.offset.unwrap_or(0);
            if !is_gibbs {
                inner_indices.extend(offset..offset + site.num_unconstrained);
            }
            sites.push(SiteSlot {
                name: site.name.clone(),
                offset,
                num_unconstrained: site.num_unconstrained,
                value_offset: num_values,
                len: site.shape.len(),
                support: site.support.unwrap_or(Support::Real),
                is_gibbs,
            });
            num_values += site.shape.len();
        }
        if let Some(site) = layout.discrete().find(|s| !self.names.contains(&s.name)) {
            return Err(Error::InvalidConfig(format!(
                "HmcGibbs: the discrete site `{}` is not updated by the Gibbs function, and its \
                 inner kernel cannot move it; name it among the Gibbs sites or use \
                 DiscreteHmcGibbs",
                site.name
            )));
        }
        if inner_indices.is_empty() {
            return Err(Error::InvalidConfig(
                "HmcGibbs updates every latent site with its Gibbs function: its inner kernel \
                 has nothing to sample"
                    .into(),
            ));
        }
        if self.names.is_empty() {
            return Err(Error::InvalidConfig(
                "HmcGibbs names no site for its Gibbs function: use the inner kernel alone".into(),
            ));
        }
        self.inner.validate(inner_indices.len())?;
        Ok(Some(HmcGibbs {
            inner: self.inner.clone(),
            names: self.names.clone(),
            gibbs_fn: Arc::clone(&self.gibbs_fn),
            binding: Some(Arc::new(Binding {
                sites,
                inner_indices,
                num_values,
            })),
        }))
    }

    fn max_tree_depth(&self) -> Option<usize> {
        self.inner.max_tree_depth()
    }

    fn samples_discrete(&self) -> bool {
        true
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        if self.names.is_empty() {
            return Err(Error::InvalidConfig(
                "HmcGibbs names no site for its Gibbs function: use the inner kernel alone".into(),
            ));
        }
        Ok(())
    }
}
