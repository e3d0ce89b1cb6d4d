//! The target as a block's kernel sees it: the log-density of some coordinates with the
//! others held fixed.

use std::cell::RefCell;

use tilde_core::{Error, LogDensity, Result};

use crate::kernel::Kernel;

/// A `?Sized` target behind a sized reference, so that it can be used as
/// `&dyn LogDensity`.
pub(crate) struct ByRef<'a, L: ?Sized>(pub(crate) &'a L);

impl<L: LogDensity + ?Sized> LogDensity for ByRef<'_, L> {
    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn logp(&self, x: &[f64]) -> f64 {
        self.0.logp(x)
    }

    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.0.logp_and_grad(x, grad)
    }
}

/// The joint log-density as a function of the coordinates `indices` of the full
/// position `full`, the other coordinates fixed: the unnormalised conditional density
/// of the block. It writes a block point into `full` (whose block coordinates are
/// scratch while a block moves) and reads the block's components of the full gradient,
/// through buffers the caller owns: building the view does not allocate.
pub(crate) struct Conditional<'a> {
    target: &'a dyn LogDensity,
    indices: &'a [usize],
    full: RefCell<&'a mut [f64]>,
    grad: RefCell<&'a mut [f64]>,
}

impl<'a> Conditional<'a> {
    /// The view of `target` on `indices`, the other coordinates as in `full`; `grad`
    /// holds a gradient of the full dimension.
    pub(crate) fn new(
        target: &'a dyn LogDensity,
        indices: &'a [usize],
        full: &'a mut [f64],
        grad: &'a mut [f64],
    ) -> Self {
        Conditional {
            target,
            indices,
            full: RefCell::new(full),
            grad: RefCell::new(grad),
        }
    }
}

impl LogDensity for Conditional<'_> {
    fn dim(&self) -> usize {
        self.indices.len()
    }

    fn logp(&self, x: &[f64]) -> f64 {
        let mut full = self.full.borrow_mut();
        for (&i, &v) in self.indices.iter().zip(x) {
            full[i] = v;
        }
        self.target.logp(&full)
    }

    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut full = self.full.borrow_mut();
        let mut full_grad = self.grad.borrow_mut();
        for (&i, &v) in self.indices.iter().zip(x) {
            full[i] = v;
        }
        let log_density = self.target.logp_and_grad(&full, &mut full_grad);
        for (g, &i) in grad.iter_mut().zip(self.indices) {
            *g = full_grad[i];
        }
        log_density
    }
}

/// Runs `f` on the view of `target` on `indices`, the other coordinates at `position`,
/// with `full` and `grad` (of the full dimension) as the view's buffers.
pub(crate) fn on_conditional<L: LogDensity + ?Sized, T>(
    target: &L,
    indices: &[usize],
    position: &[f64],
    full: &mut [f64],
    grad: &mut [f64],
    f: impl FnOnce(&Conditional<'_>) -> T,
) -> T {
    full.copy_from_slice(position);
    let target = ByRef(target);
    f(&Conditional::new(&target, indices, full, grad))
}

/// The state of `inner` started at the coordinates `indices` of `position`, on their
/// conditional density (the kernels that run an inner kernel on some sites).
pub(crate) fn init_on_conditional<K: Kernel, L: LogDensity + ?Sized>(
    inner: &K,
    target: &L,
    indices: &[usize],
    position: &[f64],
) -> Result<K::State> {
    if position.len() != target.dim() {
        return Err(Error::DimensionMismatch {
            expected: target.dim(),
            found: position.len(),
        });
    }
    let (mut full, mut grad) = (vec![0.0; position.len()], vec![0.0; position.len()]);
    let start: Vec<f64> = indices.iter().map(|&i| position[i]).collect();
    on_conditional(target, indices, position, &mut full, &mut grad, |view| {
        inner.init(view, &start)
    })
}

/// Re-evaluates the state of `inner` at the other coordinates' current values.
pub(crate) fn refresh_on_conditional<K: Kernel, L: LogDensity + ?Sized>(
    inner: &K,
    target: &L,
    indices: &[usize],
    position: &[f64],
    state: &mut K::State,
) -> Result<()> {
    let (mut full, mut grad) = (vec![0.0; position.len()], vec![0.0; position.len()]);
    on_conditional(target, indices, position, &mut full, &mut grad, |view| {
        inner.refresh(view, state)
    })
}

/// The inner kernel's adaptation on its sites' conditional density: what
/// [`HmcGibbs`](super::HmcGibbs) and [`DiscreteHmcGibbs`](super::DiscreteHmcGibbs)
/// adapt (the full position and gradient are its buffers).
pub struct ConditionalAdaptation<A> {
    pub(super) inner: A,
    full: Vec<f64>,
    grad: Vec<f64>,
}

impl<A> std::fmt::Debug for ConditionalAdaptation<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConditionalAdaptation")
            .finish_non_exhaustive()
    }
}

impl<A> ConditionalAdaptation<A> {
    /// `inner` over a model of dimension `dim`.
    pub(super) fn new(inner: A, dim: usize) -> Self {
        ConditionalAdaptation {
            inner,
            full: vec![0.0; dim],
            grad: vec![0.0; dim],
        }
    }

    /// Runs `f` with the inner adaptation on the conditional density of the sites
    /// `indices`, the others at `position`.
    pub(super) fn on<L: LogDensity + ?Sized, T>(
        &mut self,
        target: &L,
        indices: &[usize],
        position: &[f64],
        f: impl FnOnce(&mut A, &Conditional<'_>) -> T,
    ) -> T {
        let inner = &mut self.inner;
        on_conditional(
            target,
            indices,
            position,
            &mut self.full,
            &mut self.grad,
            |view| f(inner, view),
        )
    }
}
