//! The target as a block's kernel sees it: the log-density of some coordinates with the
//! others held fixed.

use std::cell::RefCell;

use tilde_core::LogDensity;

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
