//! Gibbs composition: blocks of sites, each updated in turn by its own kernel on its
//! conditional density.

/// `&mut R` for a possibly unsized generator, as `&mut dyn Rng`.
macro_rules! dyn_rng {
    ($rng:ident) => {
        let mut $rng = &mut *$rng;
        let $rng: &mut dyn Rng = &mut $rng;
    };
}

mod conditional;
mod discrete;
mod erased;
mod hmc_gibbs;
mod mixed;
mod point;
mod sites;
mod state;

use rand::Rng;
use tilde_core::{Error, Layout, LogDensity, Result};

use crate::kernel::Kernel;
use crate::metric::Metric;

pub use conditional::ConditionalAdaptation;
pub(crate) use conditional::{ByRef, Conditional, init_on_conditional, refresh_on_conditional};
pub use discrete::{
    DiscreteHmcGibbs, DiscreteHmcGibbsAdaptation, DiscreteHmcGibbsWorkspace, MAX_ENUMERATED,
};
pub use erased::{BlockInfo, BlockKernel, ErasedParams, ErasedState};
use erased::{DynKernel, Typed};
pub use hmc_gibbs::{
    HmcGibbs, HmcGibbsAdaptation, HmcGibbsInfo, HmcGibbsParams, HmcGibbsState, HmcGibbsWorkspace,
};
pub use mixed::{MixedHmc, MixedHmcAdaptation, MixedHmcWorkspace};
pub use point::{
    PointAdaptation, PointEstimate, PointInfo, PointParams, PointState, PointWorkspace,
};
pub use sites::GibbsSites;
pub use state::{GibbsAdaptation, GibbsInfo, GibbsParams, GibbsState, GibbsWorkspace};

/// Metropolis-within-Gibbs over blocks of sites: each block of a model's latent sites
/// has its own kernel (NUTS on the group means, MALA on a scale, ...), and a
/// transition updates the blocks in turn, each by one transition of its kernel on the
/// conditional density of its coordinates given the current values of the others. Each
/// step of the cycle leaves the posterior invariant, so the cycle does. A block may
/// also hold its sites as a point estimate, optimised while the rest is sampled
/// ([`PointEstimate`]: a stochastic-approximation EM scheme, not exact Bayes).
///
/// The conditional density is the model's joint log-density with the other
/// coordinates fixed, so a block's kernel sees it through the model's own
/// `logp_and_grad` (one evaluation gives the whole gradient; the block reads its
/// components). Before its transition, a block re-evaluates its cached log-density and
/// gradient at the current values of the others (one evaluation, counted in
/// `n_leapfrog__`).
///
/// During warm-up each block adapts its own parameters (step size, mass matrix) with
/// its kernel's own adaptation, on its conditional. A kernel whose adaptation learns
/// across chains ([`Chees`](crate::Chees)) cannot be a block. A block's kernel is bound
/// to the layout of the block's own sites ([`Kernel::bind_layout`]), so its settings
/// that name sites ([`Nuts::dense_mass_blocks`](crate::Nuts::dense_mass_blocks)) name
/// sites of its block. A warm start's inverse mass matrix is not split among the
/// blocks: each block starts from its kernel's default parameters.
///
/// Blocks name whole latent sites (`"theta"`, not `"theta[3]"`); every latent site
/// must be in exactly one block. The names are bound to a model's layout when
/// [`Mcmc`](crate::Mcmc) starts a run ([`Kernel::bind_layout`]), which checks them
/// before any work: an unknown name is [`Error::UnknownName`], a site in two blocks
/// or in none is [`Error::InvalidConfig`].
///
/// Each draw reports the mean acceptance probability over the blocks
/// (`accept_stat__`), the evaluations of all blocks, a divergence in any block and the
/// deepest tree.
///
/// ```
/// use tilde_samplers::{Gibbs, Mala, Nuts};
///
/// let kernel = Gibbs::new()
///     .block(&["mu", "theta_raw"], Nuts::default())
///     .block(&["tau"], Mala::default());
/// assert_eq!(kernel.num_blocks(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Gibbs {
    blocks: Vec<Block>,
    is_bound: bool,
}

/// One block: its site names, its kernel and, once bound, its coordinates.
#[derive(Clone, Debug)]
struct Block {
    names: Vec<String>,
    kernel: Box<dyn DynKernel>,
    indices: Vec<usize>,
}

impl Gibbs {
    /// A Gibbs kernel with no block yet: add them with [`block`](Self::block).
    pub fn new() -> Self {
        Gibbs::default()
    }

    /// Adds a block: the latent sites `names`, updated by `kernel` on their conditional
    /// density. Blocks are updated in the order they are added.
    pub fn block<K: BlockKernel>(mut self, names: &[&str], kernel: K) -> Self {
        self.blocks.push(Block {
            names: names.iter().map(|n| n.to_string()).collect(),
            kernel: Box::new(Typed(kernel)),
            indices: Vec::new(),
        });
        self.is_bound = false;
        self
    }

    /// The number of blocks.
    pub fn num_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The site names of each block, in update order.
    pub fn block_names(&self) -> impl Iterator<Item = &[String]> {
        self.blocks.iter().map(|b| b.names.as_slice())
    }

    /// Checks what can be checked without a model: at least one block, no empty block,
    /// no name twice.
    fn check_names(&self) -> Result<()> {
        if self.blocks.is_empty() {
            return Err(Error::InvalidConfig(
                "a Gibbs kernel needs at least one block: add one with .block(&[\"site\"], kernel)"
                    .into(),
            ));
        }
        if let Some(b) = self.blocks.iter().position(|b| b.names.is_empty()) {
            return Err(Error::InvalidConfig(format!(
                "Gibbs block {b} names no site"
            )));
        }
        let mut seen = std::collections::HashMap::new();
        for (b, block) in self.blocks.iter().enumerate() {
            for name in &block.names {
                if let Some(c) = seen.insert(name.as_str(), b) {
                    let which = if c == b {
                        format!("twice in Gibbs block {b}")
                    } else {
                        format!("in two Gibbs blocks ({c} and {b})")
                    };
                    return Err(Error::InvalidConfig(format!(
                        "site `{name}` is {which}; each site must be in exactly one block, once"
                    )));
                }
            }
        }
        Ok(())
    }

    /// An error unless the blocks are bound to a layout.
    fn check_bound(&self) -> Result<()> {
        if self.is_bound {
            Ok(())
        } else {
            Err(Error::InvalidConfig(
                "a Gibbs kernel names sites: run it on a model through Mcmc, or bind it with \
                 Kernel::bind_layout(model.layout()) first"
                    .into(),
            ))
        }
    }
}

impl Kernel for Gibbs {
    type State = GibbsState;
    type Params = GibbsParams;
    type Info = GibbsInfo;
    type Workspace = GibbsWorkspace;
    type Adaptation = GibbsAdaptation;

    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<GibbsState> {
        self.check_bound()?;
        if position.len() != target.dim() {
            return Err(Error::DimensionMismatch {
                expected: target.dim(),
                found: position.len(),
            });
        }
        let target = ByRef(target);
        let mut full = position.to_vec();
        let mut grad = vec![0.0; position.len()];
        let mut blocks = Vec::with_capacity(self.blocks.len());
        let mut log_density = f64::NAN;
        for block in &self.blocks {
            let start: Vec<f64> = block.indices.iter().map(|&i| position[i]).collect();
            let view = Conditional::new(&target, &block.indices, &mut full, &mut grad);
            let state = block.kernel.init(&view, &start)?;
            log_density = block.kernel.log_density(&state);
            blocks.push(state);
        }
        Ok(GibbsState {
            position: position.to_vec(),
            log_density,
            blocks,
            fault: None,
        })
    }

    fn refresh<L: LogDensity + ?Sized>(&self, target: &L, state: &mut GibbsState) -> Result<()> {
        self.check_bound()?;
        let target = ByRef(target);
        let mut full = state.position.clone();
        let mut grad = vec![0.0; full.len()];
        for (block, block_state) in self.blocks.iter().zip(&mut state.blocks) {
            let view = Conditional::new(&target, &block.indices, &mut full, &mut grad);
            block.kernel.refresh(&view, block_state)?;
            state.log_density = block.kernel.log_density(block_state);
        }
        Ok(())
    }

    fn workspace(&self, dim: usize) -> GibbsWorkspace {
        GibbsWorkspace {
            full: vec![0.0; dim],
            grad: vec![0.0; dim],
            blocks: self
                .blocks
                .iter()
                .map(|b| b.kernel.workspace(b.indices.len()))
                .collect(),
        }
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut GibbsState,
        params: &GibbsParams,
        workspace: &mut GibbsWorkspace,
    ) -> GibbsInfo {
        let target = ByRef(target);
        dyn_rng!(rng);
        let GibbsWorkspace { full, grad, blocks } = workspace;
        full.copy_from_slice(&state.position);
        let mut info = GibbsInfo::default();
        let mut sum_accept = 0.0;
        for (b, block) in self.blocks.iter().enumerate() {
            let block_state = &mut state.blocks[b];
            let view = Conditional::new(&target, &block.indices, &mut full[..], &mut grad[..]);
            if self.blocks.len() > 1 {
                // the others moved since this block's last transition
                info.num_evaluations += 1;
                if block.kernel.refresh(&view, block_state).is_err() {
                    info.num_skipped += 1;
                    continue;
                }
            }
            let block_info =
                block
                    .kernel
                    .transition(&view, rng, block_state, &params.blocks[b], &mut blocks[b]);
            sum_accept += block_info.acceptance_rate;
            info.num_evaluations += block_info.num_evaluations;
            info.is_divergent |= block_info.is_divergent;
            info.tree_depth = info.tree_depth.max(block_info.tree_depth);
            for (&i, &v) in block.indices.iter().zip(block.kernel.position(block_state)) {
                full[i] = v;
                state.position[i] = v;
            }
            state.log_density = block.kernel.log_density(block_state);
            if let Some(fault) = block.kernel.fault(block_state) {
                state.fault = Some(fault);
                break;
            }
        }
        info.acceptance_rate = sum_accept / self.blocks.len().max(1) as f64;
        info
    }

    fn initial_params(&self, _dim: usize, _inverse_mass_matrix: Option<&Metric>) -> GibbsParams {
        GibbsParams {
            blocks: self
                .blocks
                .iter()
                .map(|b| b.kernel.initial_params(b.indices.len()))
                .collect(),
            dims: self.blocks.iter().map(|b| b.indices.len()).collect(),
        }
    }

    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> GibbsAdaptation {
        GibbsAdaptation {
            kernels: self.blocks.iter().map(|b| b.kernel.clone()).collect(),
            blocks: self
                .blocks
                .iter()
                .map(|b| {
                    b.kernel
                        .adaptation(b.indices.len(), num_warmup, adapt_metric)
                })
                .collect(),
            full: vec![0.0; dim],
            grad: vec![0.0; dim],
        }
    }

    fn warmup_kernel(&self) -> Option<Self> {
        let warmup: Vec<Option<Box<dyn DynKernel>>> = self
            .blocks
            .iter()
            .map(|b| b.kernel.warmup_kernel())
            .collect();
        if warmup.iter().all(Option::is_none) {
            return None;
        }
        let mut kernel = self.clone();
        for (block, w) in kernel.blocks.iter_mut().zip(warmup) {
            if let Some(w) = w {
                block.kernel = w;
            }
        }
        Some(kernel)
    }

    fn bind_layout(&self, layout: &Layout) -> Result<Option<Self>> {
        self.check_names()?;
        let latent: Vec<_> = layout.latent().collect();
        let mut kernel = self.clone();
        let mut block_sites = Vec::new();
        for block in &mut kernel.blocks {
            block.indices.clear();
            block_sites.clear();
            for name in &block.names {
                let Some(site) = latent.iter().find(|s| s.name == *name) else {
                    return Err(Error::UnknownName {
                        name: name.clone(),
                        known: latent.iter().map(|s| s.name.clone()).collect(),
                    });
                };
                // the site as the block's kernel sees it: at its offset in the block
                let mut local = (*site).clone();
                local.offset = Some(block.indices.len());
                block_sites.push(local);
                let offset = site.offset.unwrap_or(0);
                block
                    .indices
                    .extend(offset..offset + site.num_unconstrained);
            }
            // settings of the block's kernel that name sites, resolved on its sites
            let block_layout = Layout::new(block_sites.clone(), 0);
            if let Some(bound) = block.kernel.bind_layout(&block_layout)? {
                block.kernel = bound;
            }
        }
        let missing: Vec<&str> = latent
            .iter()
            .filter(|s| s.num_unconstrained > 0)
            .filter(|s| !self.blocks.iter().any(|b| b.names.contains(&s.name)))
            .map(|s| s.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::InvalidConfig(format!(
                "every latent site must be in a Gibbs block; not in any: {}",
                missing.join(", ")
            )));
        }
        kernel.is_bound = true;
        for block in &kernel.blocks {
            let dim = block.indices.len();
            block.kernel.validate(dim)?;
            if block.kernel.is_cross_chain(dim) {
                return Err(Error::InvalidConfig(format!(
                    "the kernel of the Gibbs block {:?} adapts across chains, which a block cannot do",
                    block.names
                )));
            }
        }
        Ok(Some(kernel))
    }

    fn max_tree_depth(&self) -> Option<usize> {
        self.blocks
            .iter()
            .filter_map(|b| b.kernel.max_tree_depth())
            .max()
    }

    fn validate(&self, dim: usize) -> Result<()> {
        self.check_names()?;
        if self.is_bound {
            let covered: usize = self.blocks.iter().map(|b| b.indices.len()).sum();
            if covered != dim {
                return Err(Error::DimensionMismatch {
                    expected: covered,
                    found: dim,
                });
            }
        }
        Ok(())
    }
}
