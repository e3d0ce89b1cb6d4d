//! Gradient engines for tilde models.
//!
//! A `#[model]` body is generic over its scalar; this crate runs it on scalars that
//! carry derivatives:
//! - [`Fwd<N>`]: forward-mode dual numbers with `N` directional derivatives (a newtype
//!   over num-dual's `DualSVec64<N>`, so that `f64 * Fwd` can be written and the type
//!   is `Copy`); one pass gives the gradient up to 16 dimensions;
//! - [`Rev`]: reverse-mode variables on a per-thread tape, whose cost does not grow
//!   with the dimension.
//!
//! [`logp_and_grad`] picks the engine of the model's [`Engine`] setting. No call
//! allocates once the thread's buffers are warm. [`hessian`] and
//! [`hessian_vector_product`] difference the exact gradient.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod forward;
mod hessian;
pub mod reverse;

pub use forward::Fwd;
pub use hessian::{hessian, hessian_vector_product};
pub use reverse::Rev;
pub use tilde_core::Engine;

use tilde_core::ModelBody;

/// The largest dimension `Engine::Auto` differentiates with forward duals.
pub const AUTO_FORWARD_MAX_DIM: usize = 4;

/// The log-density of a model at `x` and its gradient, with the model's engine.
///
/// # Panics
/// When `x` or `grad` do not have the model's dimension.
pub fn logp_and_grad<M: ModelBody + ?Sized>(model: &M, x: &[f64], grad: &mut [f64]) -> f64 {
    gradient(model, x, grad, true)
}

/// The log joint density of the constrained values at the unconstrained point `x` —
/// the log-density without the bijectors' log-Jacobians, which maximum a posteriori
/// estimation climbs — and its gradient with respect to `x`, with the model's engine.
///
/// # Panics
/// When `x` or `grad` do not have the model's dimension.
pub fn log_joint_and_grad<M: ModelBody + ?Sized>(model: &M, x: &[f64], grad: &mut [f64]) -> f64 {
    gradient(model, x, grad, false)
}

fn gradient<M: ModelBody + ?Sized>(model: &M, x: &[f64], grad: &mut [f64], jacobian: bool) -> f64 {
    let state = model.state();
    let forward = match state.engine {
        Engine::Forward => true,
        Engine::Reverse => false,
        _ => state.layout.dim() <= AUTO_FORWARD_MAX_DIM,
    };
    if forward {
        forward::logp_and_grad_with(model, x, grad, jacobian)
    } else {
        reverse::logp_and_grad_with(model, x, grad, jacobian)
    }
}
