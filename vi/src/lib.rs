//! Variational inference for tilde models: NumPyro's automatic guides fitted by
//! [`Svi`], and Pathfinder and Laplace approximations that warm-start the samplers.
//!
//! Every guide works on any [`Model`](tilde_core::Model) in its unconstrained space,
//! with no per-model code:
//!
//! | guide | family |
//! |---|---|
//! | [`AutoDelta`] | a point mass: the posterior mode |
//! | [`AutoNormal`], [`AutoDiagonalNormal`] | mean-field Gaussian |
//! | [`AutoMultivariateNormal`] | full-rank Gaussian (Cholesky scale) |
//! | [`AutoLowRankMultivariateNormal`] | rank-`r` plus diagonal covariance |
//! | [`AutoLaplaceApproximation`] | Gaussian at the mode with the inverse Hessian |
//! | [`AutoIafNormal`] | inverse autoregressive flows |
//! | [`AutoGuideList`] | a product of guides over disjoint sites |
//!
//! [`Pathfinder`] (Zhang et al. 2022) and [`LaplaceInitializer`] also implement the samplers'
//! [`Initializer`](tilde_samplers::Initializer): `Mcmc::new(Nuts::default())
//! .initializer(Pathfinder::new())` starts each chain from a Pathfinder draw with its
//! inverse mass matrix, and warm-up only tunes the step size.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod guide;
mod guides;
mod laplace;
mod lbfgs;
mod optim;
mod pathfinder;
mod svi;

pub use guide::Guide;
pub use guides::{
    AutoDelta, AutoDiagonalNormal, AutoGuideList, AutoIafNormal, AutoLaplaceApproximation,
    AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal,
};
pub use laplace::LaplaceInitializer;
pub use optim::{Adam, ClippedAdam, Optimizer, Schedule, Sgd};
pub use pathfinder::{Pathfinder, PathfinderResult};
pub use svi::{Svi, SviResult};
