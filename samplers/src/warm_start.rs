//! Warm starts: starting points and an inverse mass matrix computed before warm-up, by
//! an approximation of the posterior (Pathfinder, a Laplace approximation, …).
//!
//! The samplers define the hook and the variational crate implements it, so the crate
//! graph stays acyclic: `tilde-vi` depends on `tilde-samplers`, not the reverse.

use tilde_core::{Model, Result};

use crate::metric::Metric;

/// Where each chain starts, and the inverse mass matrix warm-up starts from.
#[derive(Clone, Debug, PartialEq)]
pub struct WarmStart {
    /// Unconstrained starting points; chain `c` starts at `positions[c % len]`.
    pub positions: Vec<Vec<f64>>,
    /// An estimate of the posterior covariance in unconstrained space. When given,
    /// warm-up keeps it and adapts the step size only, so a short warm-up suffices;
    /// when `None`, warm-up adapts the metric as usual from the new starting points.
    pub inverse_mass_matrix: Option<Metric>,
}

/// Computes a [`WarmStart`] for a model; give one to [`Mcmc::initializer`].
///
/// [`Mcmc::initializer`]: crate::Mcmc::initializer
pub trait Initializer: Send + Sync {
    /// Starting points for `num_chains` chains (at least one point) and, optionally, an
    /// inverse mass matrix. `seed` is the run's seed, so that a seeded run stays
    /// reproducible.
    ///
    /// # Errors
    /// Whatever stops the approximation (a model that cannot be evaluated, an
    /// optimisation that finds no finite point).
    fn initialize(
        &self,
        model: &(dyn Model + Sync),
        num_chains: usize,
        seed: u64,
    ) -> Result<WarmStart>;
}
