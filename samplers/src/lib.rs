//! MCMC for tilde models.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
