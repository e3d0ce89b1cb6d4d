//! Reverse-mode gradients on a per-thread tape.
//!
//! The tape is an arena of nodes in construction order; each node holds the edges to
//! its parents with the partial derivatives computed when it was recorded (Stan's
//! `vari`s with eager partials). A gradient is one forward evaluation that records the
//! graph and one backward sweep in reverse construction order. The tape is cleared but
//! not freed between gradients, so a warm thread does not allocate.

mod tape;
mod var;

use std::cell::RefCell;

use tilde_core::context::{buffer_bytes, eval, release_buffer, with_scratch};
use tilde_core::{ModelBody, Real};

pub use var::Rev;

use tape::TAPE;

thread_local! {
    static BUFFER: RefCell<Vec<Rev>> = const { RefCell::new(Vec::new()) };
}

/// Frees this thread's tape and buffers of reverse mode; returns the bytes they held.
pub(crate) fn release_scratch() -> usize {
    let tape = TAPE
        .try_with(|t| t.try_borrow_mut().map_or(0, |mut t| t.release()))
        .unwrap_or(0);
    tape + release_buffer(&BUFFER) + release_buffer(&var::SUM_TERMS)
}

/// The bytes this thread's tape and buffers of reverse mode hold.
pub(crate) fn scratch_bytes() -> usize {
    let tape = TAPE
        .try_with(|t| t.try_borrow().map_or(0, |t| t.bytes()))
        .unwrap_or(0);
    tape + buffer_bytes(&BUFFER) + buffer_bytes(&var::SUM_TERMS)
}

/// The log-density of a model at `x` and its gradient, by reverse mode. A faulty
/// evaluation gives `-∞` with a zero gradient.
///
/// # Panics
/// When `x` or `grad` do not have the model's dimension.
pub fn logp_and_grad<M: ModelBody + ?Sized>(model: &M, x: &[f64], grad: &mut [f64]) -> f64 {
    logp_and_grad_with(model, x, grad, true)
}

/// [`logp_and_grad`], with the bijectors' log-Jacobians left out when `jacobian` is
/// false (the log joint density of the constrained values).
///
/// # Panics
/// When `x` or `grad` do not have the model's dimension.
pub fn logp_and_grad_with<M: ModelBody + ?Sized>(
    model: &M,
    x: &[f64],
    grad: &mut [f64],
    jacobian: bool,
) -> f64 {
    let dim = model.state().layout.dim();
    assert_eq!(
        x.len(),
        dim,
        "logp_and_grad: x has length {}, the model's dimension is {dim}",
        x.len()
    );
    assert_eq!(
        grad.len(),
        dim,
        "logp_and_grad: grad has length {}, the model's dimension is {dim}",
        grad.len()
    );
    let work_len = model.state().layout.work_len();
    TAPE.with(|t| t.borrow_mut().clear());
    with_scratch(&BUFFER, dim + work_len, Rev::constant(0.0), |buf| {
        let (xs, work) = buf.split_at_mut(dim);
        Rev::inputs(x, xs);
        match eval(model, xs, work, jacobian) {
            Ok(lp) => {
                match lp.index() {
                    Some(index) => TAPE.with(|t| {
                        let mut t = t.borrow_mut();
                        t.backward(index, dim as u32 + 1);
                        for (i, g) in grad.iter_mut().enumerate() {
                            *g = t.adjoint(i as u32 + 1);
                        }
                    }),
                    None => grad.iter_mut().for_each(|g| *g = 0.0),
                }
                lp.value()
            }
            Err(_) => {
                grad.iter_mut().for_each(|g| *g = 0.0);
                f64::NEG_INFINITY
            }
        }
    })
}
