//! Kernels of different types behind one object-safe interface, so that the blocks of a
//! [`Gibbs`](super::Gibbs) kernel may each run their own.

use std::any::Any;
use std::fmt::Debug;

use rand::Rng;
use tilde_core::{Error, Layout, LogDensity, Result};

use crate::kernel::{Adaptation, Kernel, KernelInfo, KernelParams, KernelState};

/// A value of a type known only to the block that made it (a kernel's state or
/// parameters).
pub(crate) trait DynValue: Any + Debug + Send + Sync {
    fn clone_box(&self) -> Box<dyn DynValue>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone + Debug + Send + Sync> DynValue for T {
    fn clone_box(&self) -> Box<dyn DynValue> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A block's state, of its kernel's type, with what its last transition did.
#[derive(Debug)]
pub struct ErasedState(Box<dyn DynValue>);

impl Clone for ErasedState {
    fn clone(&self) -> Self {
        ErasedState((*self.0).clone_box())
    }
}

impl ErasedState {
    fn new<T: Any + Clone + Debug + Send + Sync>(value: T) -> Self {
        ErasedState(Box::new(value))
    }

    fn get<T: Any>(&self) -> &T {
        match (*self.0).as_any().downcast_ref() {
            Some(value) => value,
            None => unreachable!("a Gibbs block's value was given to another block's kernel"),
        }
    }

    fn get_mut<T: Any>(&mut self) -> &mut T {
        match (*self.0).as_any_mut().downcast_mut() {
            Some(value) => value,
            None => unreachable!("a Gibbs block's value was given to another block's kernel"),
        }
    }
}

/// Parameters of a kernel's type, with what the driver asks of any parameters.
pub(crate) trait DynParams: Any + Debug + Send + Sync {
    fn clone_box(&self) -> Box<dyn DynParams>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn step_size(&self) -> f64;
    fn validate(&self, dim: usize) -> Result<()>;
}

impl<T: KernelParams + 'static> DynParams for T {
    fn clone_box(&self) -> Box<dyn DynParams> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn step_size(&self) -> f64 {
        KernelParams::step_size(self)
    }
    fn validate(&self, dim: usize) -> Result<()> {
        KernelParams::validate(self, dim)
    }
}

/// A block's parameters, of its kernel's type.
#[derive(Debug)]
pub struct ErasedParams(Box<dyn DynParams>);

impl Clone for ErasedParams {
    fn clone(&self) -> Self {
        ErasedParams((*self.0).clone_box())
    }
}

impl ErasedParams {
    fn get<T: Any>(&self) -> &T {
        match (*self.0).as_any().downcast_ref() {
            Some(value) => value,
            None => unreachable!("a Gibbs block's parameters were given to another block's kernel"),
        }
    }

    fn get_mut<T: Any>(&mut self) -> &mut T {
        match (*self.0).as_any_mut().downcast_mut() {
            Some(value) => value,
            None => unreachable!("a Gibbs block's parameters were given to another block's kernel"),
        }
    }

    /// The block's step size (NaN for a kernel without one).
    pub fn step_size(&self) -> f64 {
        self.0.step_size()
    }

    /// Checks the parameters for a block of dimension `dim`.
    ///
    /// # Errors
    /// As the kernel's [`KernelParams::validate`].
    pub fn validate(&self, dim: usize) -> Result<()> {
        self.0.validate(dim)
    }
}

/// A buffer or adaptation of a type known only to its block.
pub(crate) type DynBox = Box<dyn Any + Send>;

fn get_mut<T: Any>(value: &mut DynBox) -> &mut T {
    match value.downcast_mut() {
        Some(value) => value,
        None => unreachable!("a Gibbs block's buffer was given to another block's kernel"),
    }
}

/// What one block's transition did, whatever its kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlockInfo {
    /// The acceptance probability of the block's transition.
    pub acceptance_rate: f64,
    /// The evaluations it took.
    pub num_evaluations: usize,
    /// Whether it diverged.
    pub is_divergent: bool,
    /// Its tree depth (0 without a tree).
    pub tree_depth: usize,
}

impl BlockInfo {
    fn of<I: KernelInfo>(info: &I) -> Self {
        BlockInfo {
            acceptance_rate: info.acceptance_rate(),
            num_evaluations: info.num_evaluations(),
            is_divergent: info.is_divergent(),
            tree_depth: info.tree_depth(),
        }
    }
}

/// A kernel's state with what its last transition did (for its adaptation).
struct Slot<K: Kernel> {
    state: K::State,
    info: Option<K::Info>,
}

impl<K: Kernel> Clone for Slot<K> {
    fn clone(&self) -> Self {
        Slot {
            state: self.state.clone(),
            info: self.info,
        }
    }
}

impl<K: Kernel> Debug for Slot<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("state", &self.state)
            .field("info", &self.info)
            .finish()
    }
}

/// The object-safe face of a [`Kernel`], on `dyn` targets and random number generators.
pub(crate) trait DynKernel: Debug + Send + Sync {
    fn clone_box(&self) -> Box<dyn DynKernel>;
    fn init(&self, target: &dyn LogDensity, position: &[f64]) -> Result<ErasedState>;
    fn refresh(&self, target: &dyn LogDensity, state: &mut ErasedState) -> Result<()>;
    fn position<'a>(&self, state: &'a ErasedState) -> &'a [f64];
    fn log_density(&self, state: &ErasedState) -> f64;
    fn fault(&self, state: &ErasedState) -> Option<Error>;
    fn workspace(&self, dim: usize) -> DynBox;
    fn transition(
        &self,
        target: &dyn LogDensity,
        rng: &mut dyn Rng,
        state: &mut ErasedState,
        params: &ErasedParams,
        workspace: &mut DynBox,
    ) -> BlockInfo;
    fn initial_params(&self, dim: usize) -> ErasedParams;
    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> DynBox;
    fn is_cross_chain(&self, dim: usize) -> bool;
    fn adapt_init(
        &self,
        adaptation: &mut DynBox,
        target: &dyn LogDensity,
        rng: &mut dyn Rng,
        state: &ErasedState,
        params: &mut ErasedParams,
    );
    fn adapt_update(
        &self,
        adaptation: &mut DynBox,
        target: &dyn LogDensity,
        rng: &mut dyn Rng,
        state: &ErasedState,
        params: &mut ErasedParams,
    );
    fn adapt_finalize(&self, adaptation: &mut DynBox, params: &mut ErasedParams);
    fn warmup_kernel(&self) -> Option<Box<dyn DynKernel>>;
    fn bind_layout(&self, layout: &Layout) -> Result<Option<Box<dyn DynKernel>>>;
    fn max_tree_depth(&self) -> Option<usize>;
    fn validate(&self, dim: usize) -> Result<()>;
}

impl Clone for Box<dyn DynKernel> {
    fn clone(&self) -> Self {
        (**self).clone_box()
    }
}

/// What a kernel needs to run in a block: [`Kernel`], with types that own their data.
pub trait BlockKernel: Kernel + Clone + Debug + Send + 'static {}

impl<K: Kernel + Clone + Debug + Send + 'static> BlockKernel for K {}

/// A kernel as a [`DynKernel`].
#[derive(Clone, Debug)]
pub(crate) struct Typed<K>(pub(crate) K);

impl<K: BlockKernel> DynKernel for Typed<K> {
    fn clone_box(&self) -> Box<dyn DynKernel> {
        Box::new(self.clone())
    }

    fn init(&self, target: &dyn LogDensity, position: &[f64]) -> Result<ErasedState> {
        let state = self.0.init(target, position)?;
        Ok(ErasedState::new(Slot::<K> { state, info: None }))
    }

    fn refresh(&self, target: &dyn LogDensity, state: &mut ErasedState) -> Result<()> {
        self.0
            .refresh(target, &mut state.get_mut::<Slot<K>>().state)
    }

    fn position<'a>(&self, state: &'a ErasedState) -> &'a [f64] {
        state.get::<Slot<K>>().state.position()
    }

    fn log_density(&self, state: &ErasedState) -> f64 {
        state.get::<Slot<K>>().state.log_density()
    }

    fn fault(&self, state: &ErasedState) -> Option<Error> {
        state.get::<Slot<K>>().state.fault().cloned()
    }

    fn workspace(&self, dim: usize) -> DynBox {
        Box::new(self.0.workspace(dim))
    }

    fn transition(
        &self,
        target: &dyn LogDensity,
        rng: &mut dyn Rng,
        state: &mut ErasedState,
        params: &ErasedParams,
        workspace: &mut DynBox,
    ) -> BlockInfo {
        let slot = state.get_mut::<Slot<K>>();
        let info = self.0.transition(
            target,
            rng,
            &mut slot.state,
            params.get::<K::Params>(),
            get_mut::<K::Workspace>(workspace),
        );
        slot.info = Some(info);
        BlockInfo::of(&info)
    }

    fn initial_params(&self, dim: usize) -> ErasedParams {
        ErasedParams(Box::new(self.0.initial_params(dim, None)))
    }

    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> DynBox {
        Box::new(self.0.adaptation(dim, num_warmup, adapt_metric))
    }

    fn is_cross_chain(&self, dim: usize) -> bool {
        self.0.adaptation(dim, 0, true).is_cross_chain()
    }

    fn adapt_init(
        &self,
        adaptation: &mut DynBox,
        target: &dyn LogDensity,
        rng: &mut dyn Rng,
        state: &ErasedState,
        params: &mut ErasedParams,
    ) {
        get_mut::<K::Adaptation>(adaptation).init(
            &self.0,
            target,
            rng,
            &state.get::<Slot<K>>().state,
            params.get_mut::<K::Params>(),
        );
    }

    fn adapt_update(
        &self,
        adaptation: &mut DynBox,
        target: &dyn LogDensity,
        rng: &mut dyn Rng,
        state: &ErasedState,
        params: &mut ErasedParams,
    ) {
        let slot = state.get::<Slot<K>>();
        // a block that has not moved yet (its first refresh failed) teaches nothing
        if let Some(info) = &slot.info {
            get_mut::<K::Adaptation>(adaptation).update(
                &self.0,
                target,
                rng,
                &slot.state,
                info,
                params.get_mut::<K::Params>(),
            );
        }
    }

    fn adapt_finalize(&self, adaptation: &mut DynBox, params: &mut ErasedParams) {
        get_mut::<K::Adaptation>(adaptation).finalize(params.get_mut::<K::Params>());
    }

    fn warmup_kernel(&self) -> Option<Box<dyn DynKernel>> {
        self.0
            .warmup_kernel()
            .map(|k| Box::new(Typed(k)) as Box<dyn DynKernel>)
    }

    fn bind_layout(&self, layout: &Layout) -> Result<Option<Box<dyn DynKernel>>> {
        Ok(self
            .0
            .bind_layout(layout)?
            .map(|k| Box::new(Typed(k)) as Box<dyn DynKernel>))
    }

    fn max_tree_depth(&self) -> Option<usize> {
        self.0.max_tree_depth()
    }

    fn validate(&self, dim: usize) -> Result<()> {
        self.0.validate(dim)
    }
}
