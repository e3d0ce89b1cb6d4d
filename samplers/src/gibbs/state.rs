//! The state, parameters, information, buffers and adaptation of a [`Gibbs`] kernel.

use rand::Rng;
use tilde_core::{Error, LogDensity, Result};

use super::erased::{DynBox, DynKernel, ErasedParams, ErasedState};
use super::{ByRef, Conditional, Gibbs};
use crate::kernel::{Adaptation, KernelInfo, KernelParams, KernelState};

/// The state of a [`Gibbs`] chain: the full position and each block's own state.
#[derive(Clone, Debug)]
pub struct GibbsState {
    /// The unconstrained position of the whole model.
    pub position: Vec<f64>,
    /// The log-density at `position`.
    pub log_density: f64,
    /// Each block's kernel state, in update order (its position is the block's
    /// coordinates).
    pub blocks: Vec<ErasedState>,
    /// A fault a block's last transition met.
    pub fault: Option<Error>,
}

impl KernelState for GibbsState {
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

/// Each block's parameters, in update order.
#[derive(Clone, Debug)]
pub struct GibbsParams {
    /// The parameters of each block's kernel.
    pub blocks: Vec<ErasedParams>,
    /// The dimension of each block.
    pub dims: Vec<usize>,
}

impl KernelParams for GibbsParams {
    /// The first block's step size.
    fn step_size(&self) -> f64 {
        self.blocks
            .first()
            .map_or(f64::NAN, ErasedParams::step_size)
    }

    fn validate(&self, dim: usize) -> Result<()> {
        let total: usize = self.dims.iter().sum();
        if total != dim || self.dims.len() != self.blocks.len() {
            return Err(Error::DimensionMismatch {
                expected: dim,
                found: total,
            });
        }
        self.blocks
            .iter()
            .zip(&self.dims)
            .try_for_each(|(p, &d)| p.validate(d))
    }
}

/// What one [`Gibbs`] transition did, summed over its blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GibbsInfo {
    /// The mean acceptance probability of the blocks' transitions.
    pub acceptance_rate: f64,
    /// Evaluations of all blocks, their re-evaluations included.
    pub num_evaluations: usize,
    /// Whether any block diverged.
    pub is_divergent: bool,
    /// The deepest tree of any block.
    pub tree_depth: usize,
    /// Blocks whose cached values were not finite at the others' new values, which
    /// did not move this transition.
    pub num_skipped: usize,
}

impl KernelInfo for GibbsInfo {
    fn acceptance_rate(&self) -> f64 {
        self.acceptance_rate
    }

    fn num_evaluations(&self) -> usize {
        self.num_evaluations
    }

    fn is_divergent(&self) -> bool {
        self.is_divergent
    }

    fn tree_depth(&self) -> usize {
        self.tree_depth
    }
}

/// Buffers of a [`Gibbs`] kernel: the full position and gradient the blocks' views
/// write into, and each block's own buffers.
pub struct GibbsWorkspace {
    pub(super) full: Vec<f64>,
    pub(super) grad: Vec<f64>,
    pub(super) blocks: Vec<DynBox>,
}

impl std::fmt::Debug for GibbsWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GibbsWorkspace")
            .field("dim", &self.full.len())
            .field("num_blocks", &self.blocks.len())
            .finish()
    }
}

/// Each block's own warm-up adaptation, on its conditional density.
pub struct GibbsAdaptation {
    pub(super) kernels: Vec<Box<dyn DynKernel>>,
    pub(super) blocks: Vec<DynBox>,
    pub(super) full: Vec<f64>,
    pub(super) grad: Vec<f64>,
}

impl std::fmt::Debug for GibbsAdaptation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GibbsAdaptation")
            .field("num_blocks", &self.blocks.len())
            .finish()
    }
}

impl Adaptation<Gibbs> for GibbsAdaptation {
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &Gibbs,
        target: &L,
        rng: &mut R,
        state: &GibbsState,
        params: &mut GibbsParams,
    ) {
        let target = ByRef(target);
        dyn_rng!(rng);
        for (b, block) in kernel.blocks.iter().enumerate() {
            self.full.copy_from_slice(&state.position);
            let view = Conditional::new(&target, &block.indices, &mut self.full, &mut self.grad);
            block.kernel.adapt_init(
                &mut self.blocks[b],
                &view,
                rng,
                &state.blocks[b],
                &mut params.blocks[b],
            );
        }
    }

    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &Gibbs,
        target: &L,
        rng: &mut R,
        state: &GibbsState,
        _: &GibbsInfo,
        params: &mut GibbsParams,
    ) {
        let target = ByRef(target);
        dyn_rng!(rng);
        for (b, block) in kernel.blocks.iter().enumerate() {
            self.full.copy_from_slice(&state.position);
            let view = Conditional::new(&target, &block.indices, &mut self.full, &mut self.grad);
            block.kernel.adapt_update(
                &mut self.blocks[b],
                &view,
                rng,
                &state.blocks[b],
                &mut params.blocks[b],
            );
        }
    }

    fn finalize(&mut self, params: &mut GibbsParams) {
        for ((kernel, adaptation), params) in self
            .kernels
            .iter()
            .zip(&mut self.blocks)
            .zip(&mut params.blocks)
        {
            kernel.adapt_finalize(adaptation, params);
        }
    }
}
