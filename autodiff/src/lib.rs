//! Gradient engines for tilde models.
//!
//! A `#[model]` body is generic over its scalar; this crate runs it on scalars that
//! carry derivatives. [`Fwd<N>`] is a forward-mode dual number holding `N` directional
//! derivatives (a newtype over num-dual's `DualSVec64<N>`, so that `f64 * Fwd` can be
//! written and the type is `Copy`). [`logp_and_grad`] picks the dual width from the
//! model's dimension: one pass gives the whole gradient up to 16 dimensions, larger
//! models take several passes of 16. No call allocates once the thread's buffers are
//! warm.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod forward;

pub use forward::{Fwd, logp_and_grad};
