//! Variational inference for tilde models.
//!
//! This crate will hold NumPyro-style automatic guides (`AutoDelta`, `AutoNormal`,
//! `AutoMultivariateNormal`, low-rank and flow guides, `AutoLaplaceApproximation`),
//! `Svi` with its optimisers, and Pathfinder as an initialiser for the samplers. None of
//! it is implemented yet; see the project's issue on variational inference.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
