//! # tilde — Bayesian inference as a Rust library
//!
//! Write a model as an ordinary Rust function marked [`#[model]`](model), with
//! [`sample!`] sites. The macro turns it, at compile time, into a struct with an
//! unconstrained log-density and its gradient, which samplers and variational guides
//! run on.
//!
//! ```
//! use tilde::prelude::*;
//!
//! #[model]
//! fn eight_schools(y: &[f64], sigma: &[f64]) {
//!     let j = y.len();
//!     let mu = sample!("mu", Normal::new(0.0, 5.0));
//!     let tau = sample!("tau", HalfCauchy::new(5.0));
//!     let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(j));
//!     for i in 0..j {
//!         let theta = deterministic!("theta[{i}]", mu + tau * theta_raw[i]);
//!         sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
//!     }
//! }
//!
//! let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
//! let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
//! let model = eight_schools(&y, &sigma);      // struct EightSchools<'a>
//! assert_eq!(model.dim(), 10);                // mu, log(tau), 8 × theta_raw
//! model.check()?;                             // data faults, if any
//!
//! let x = vec![0.1; model.dim()];
//! let mut grad = vec![0.0; model.dim()];
//! let lp = model.logp_and_grad(&x, &mut grad);
//! assert!((lp - model.logp(&x)).abs() < 1e-12 * lp.abs()); // equal to rounding
//! let draw = model.constrain(&x);
//! assert_eq!(draw.get("tau"), Some(0.1f64.exp()));
//! # Ok::<(), tilde::Error>(())
//! ```
//!
//! ## The model body
//! - The function's arguments are its data; the struct holds them (borrowed arguments
//!   keep their lifetime) and the constructor has the function's name.
//! - The body is re-emitted generic over a scalar `T: Real` (`T` can be named in the
//!   body), so the same code computes values and gradients. Parameters are `T`; data
//!   stays `f64`, and the two mix freely: `mu + tau * theta_raw[i]`, `y[i] - mu`,
//!   `2.0 * x`, `Normal::new(theta, sigma[i])`.
//! - `sample!("name", dist)` is a latent site: it returns the constrained value (a `T`,
//!   or a `&[T]` for `dist.iid(n)`). The support picks a Stan-style bijector and its
//!   log-Jacobian is added.
//! - `sample!("name", dist, obs = value)` adds the log-density of data: a number for a
//!   scalar distribution, a slice (`&[f64]`, `&Vec<f64>`, integers too) for `.iid(n)`.
//! - `deterministic!("name", expr)` records `expr` in every draw and returns it.
//! - `factor!("name", expr)` adds `expr` to the log-density (Stan's `target +=`).
//! - Inside a `for` loop a site's name interpolates the loop variable: `"y[{i}]"`.
//!   Names are only formatted for layouts, draws and messages, never in `logp`.
//! - Site macros cannot sit inside closures (write a `for` loop), and the body returns
//!   nothing.
//! - Data-only `let` bindings with a type annotation are computed once, at
//!   construction: a top-level `let log_earn: Vec<f64> = earn.iter().map(|e| e.ln()).collect();`
//!   or `let n: usize = y.len();` that reads only the arguments and earlier such
//!   bindings (no site's value, nothing computed from one) is stored in the struct,
//!   and every evaluation reads the stored value (Stan's transformed data). The body
//!   then sees a primitive scalar (`usize`, `f64`, …) as written and any other value
//!   as a `&Type`, as it sees an owned argument (`&log_earn` still means a
//!   `&Vec<f64>`). A `let mut`, a name bound twice, a type holding a reference or `T`,
//!   or anything after a statement that may `return` is left in the body.
//!
//! ## Enumerated discrete sites
//!
//! `let z = sample!("z[{i}]", dist, enumerate);` sums a discrete site with a finite
//! support out exactly (NumPyro's enumeration): `Bernoulli` (`z` is a `bool`),
//! `Categorical` (a `usize`), `Binomial` and `BetaBinomial` (a `u64`); a distribution
//! with an unbounded support (`Poisson`, `Geometric`, …) is a compile error naming
//! [`Enumerable`]. The *region* of the site is the rest of the enclosing block after its
//! `let`: it runs once for each value `k` of the support, and the model adds
//! `ln Σₖ exp(ln p(z = k) + what the region adds with z = k)`. Sequential enumerated
//! sites of one region nest (the product of their supports); a site per loop iteration
//! sums each iteration's region on its own. The site adds no coordinate: the model is a
//! continuous model, which plain `Nuts` (and the variational guides) sample. Gradients
//! come from the tape or forward duals (the generated gradient code does not handle
//! enumeration; [`Engine::Codegen`] falls back to the tape).
//!
//! `#[model]` checks that no value of `z` leaves its region, since the region runs once
//! per value: an assignment to a variable declared before the region (`acc += mu[z]`),
//! a `deterministic!`, a `return`, a `break`/`continue` out of it, or a value at the end
//! of its block is a compile error with a hint, as is a latent `sample!` inside the
//! region (it would be read once per branch: declare it before, or put the enumerated
//! site and what uses it in their own block `{ .. }`). Mutating an outer variable
//! through a method (`v.push(z)`) is rejected by the compiler (the region is a `Fn`
//! closure).
//!
//! Draws of the enumerated sites come afterwards, from their conditional distribution
//! given each posterior draw (NumPyro's `infer_discrete`): [`samplers::infer_discrete`]
//! returns the posterior with a column per enumerated site.
//!
//! ```
//! use tilde::prelude::*;
//!
//! #[model]
//! fn mixture(y: &[f64]) {
//!     let mu = sample!("mu", Normal::new(0.0, 3.0).iid(2).ordered());
//!     let p = sample!("p", Beta::new(2.0, 2.0));
//!     for i in 0..y.len() {
//!         let z = sample!("z[{i}]", Bernoulli::new(p), enumerate);
//!         sample!("y[{i}]", Normal::new(mu[usize::from(z)], 1.0), obs = y[i]);
//!     }
//! }
//!
//! let model = mixture(&[-2.1, -1.7, 2.3, 1.9, 2.4]);
//! assert_eq!(model.dim(), 3); // mu and p: the assignments are summed out
//! let posterior = Mcmc::new(Nuts::default())
//!     .num_warmup(200)
//!     .num_samples(200)
//!     .num_chains(1)
//!     .seed(1)
//!     .progress(false)
//!     .run(&model)?;
//! let with_z = tilde::samplers::infer_discrete(&model, &posterior, 7)?;
//! let z0 = with_z.draws("z[0]")?; // 0.0 or 1.0, one per draw
//! assert_eq!(z0.len(), 200);
//! # Ok::<(), tilde::Error>(())
//! ```
//!
//! A log-density breakdown ([`Model::logp_breakdown`]) and the pointwise
//! log-likelihood ([`Model::pointwise_log_likelihood`]) list each enumerated site's
//! region as one observed term named after the site (`"z[3]"`) with the site summed
//! out; the observations inside the region are not listed on their own. A prior
//! simulation draws an enumerated site from its prior and a posterior one
//! ([`Predictive::posterior`]) from its conditional given the draw; neither records
//! its value. A chain of dependent states (a hidden Markov model) cannot be enumerated
//! site by site (its states would leave their regions): use [`math::hmm_marginal`].
//!
//! ## The model struct and its constructors
//! - `eight_schools(&y, &sigma)` builds the model: it runs the body once to lay out
//!   its sites, and computes the transformed data. Faults in the data are kept for
//!   `check()`; a panic of the body (an index out of range of the data) panics.
//! - `try_eight_schools(&y, &sigma)` returns `tilde::Result<EightSchools>`: the panic
//!   becomes [`Error::ModelPanicked`], and a data fault is returned.
//! - The struct is `Clone` and `Debug` when its data are; a clone is an independent
//!   model. Docs, lints, `cfg`, `deprecated`, `must_use` and `#[derive(Clone, Debug,
//!   PartialEq)]` written after `#[model]` are kept; other attributes are a compile
//!   error rather than dropped.
//!
//! ## Simulation
//!
//! ```
//! use tilde::prelude::*;
//!
//! #[model]
//! fn coin(flips: &[bool]) {
//!     let p = sample!("p", Beta::new(2.0, 2.0));
//!     sample!("flips", Bernoulli::new(p).iid(flips.len()), obs = flips);
//! }
//!
//! // the observations' values do not matter for simulation, only their number
//! let model = coin(&[false; 5]);
//! let prior = Predictive::prior(&model, 1000, 7)?;
//! assert_eq!(prior.draws("flips[4]")?.len(), 1000);
//! assert!(prior.draws("p")?.iter().all(|p| (0.0..1.0).contains(p)));
//! # Ok::<(), tilde::Error>(())
//! ```
//!
//! Parameters outside a distribution's valid range make the log-density `-∞` (the
//! samplers reject the point); bad data gives a [`Error`] from [`Model::check`].
//!
//! ## Cargo features
//!
//! - `vi` (default): variational inference, `tilde::vi` and its names in the prelude
//!   (`Svi`, the `Auto*` guides, `Pathfinder`, …).
//! - `progress` (default): progress bars on a terminal, through indicatif. Without it
//!   every bar is off. With it, `TILDE_PROGRESS=0` in the environment turns every bar
//!   off at run time, whatever `.progress(..)` says
//!   ([`samplers::progress_enabled`]).
//! - `plots` (default): diagnostic plots written as SVG, [`plots`] (trace, rank,
//!   energy, pair, forest and the ELBO trace), through plotters' SVG backend.
//!
//! `cargo build --release --no-default-features` builds the models, gradients and
//! samplers alone.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use tilde_autodiff::release_scratch;
#[doc(hidden)]
pub use tilde_autodiff::scratch_bytes;
pub use tilde_core::distributions;
pub use tilde_core::{
    Bernoulli, Beta, BetaBinomial, Bijector, Binomial, Cauchy, Cdf, Continuous, Delta, Dirichlet,
    Distribution, Draw, Engine, Error, Exponential, Flat, Gamma, Geometric, Gumbel, HalfCauchy,
    HalfNormal, HalfStudentT, Iid, InverseGamma, Laplace, Layout, LogDensity, LogNormal, Logistic,
    Mixture, Model, NegativeBinomial, Normal, NormalEach, Ordered, ParamError, Pareto, Poisson,
    Real, Result, Shape, SiteInfo, SiteKind, SiteLogp, SkewNormal, StudentT, Support, Truncated,
    TruncatedNormal, Uniform, VectorBijector, VonMises, Watched, Weibull, ZeroInflatedPoisson,
};
pub use tilde_core::{
    Categorical, GaussianRandomWalk, InverseWishart, LkjCholesky, LowRankMultivariateNormal,
    Multinomial, MultivariateNormal, VectorDistribution, Wishart,
};
pub use tilde_core::{ContinuousModel, DiscreteValue, Enumerable, SampledBy, SamplesDiscrete};
pub use tilde_core::{glm, linalg, math, special, vector};
pub use tilde_macros::{deterministic, factor, model, sample};

pub use tilde_samplers::{
    BarkerMh, Chees, DiscreteHmcGibbs, DrawMatrix, Gibbs, GibbsSites, Hmc, HmcGibbs, HmcInfo,
    HmcParams, HmcState, Init, Kernel, Mala, Mcmc, Metric, MetricAdaptation, MixedHmc, Nuts,
    PointEstimate, Posterior, Predictive, PriorLikelihood, RandomWalkMetropolis, ReplicaExchange,
    Sa, SampleStats, SliceSampler, Smc, SmcResult, Summary, SummaryRow, Unconstrained,
};

#[cfg(feature = "vi")]
pub use tilde_vi::{
    Adam, AutoDelta, AutoDiagonalNormal, AutoGuideList, AutoIafNormal, AutoLaplaceApproximation,
    AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal, ClippedAdam, Guide,
    LaplaceInitializer, Optimizer, Pathfinder, PathfinderResult, Schedule, Sgd, Svi, SviResult,
};

/// Variational inference: guides, `Svi`, optimisers, Pathfinder (the `vi` feature, on by
/// default).
#[cfg(feature = "vi")]
pub mod vi {
    pub use tilde_vi::*;
}

#[cfg(feature = "plots")]
pub mod plots;

/// `docs/from-stan-and-numpyro.md`, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/from-stan-and-numpyro.md")]
pub struct FromStanAndNumPyro;

/// MCMC kernels, adaptation and diagnostics.
pub mod samplers {
    pub use tilde_samplers::*;
}

/// Gradient engines.
pub mod autodiff {
    pub use tilde_autodiff::*;
}

/// Everything a model file needs: `use tilde::prelude::*;`: the distributions (scalar
/// and vector), [`glm::Glm`], the vector-expression helpers of [`vector`] (`data`,
/// `params`, `scalar`, `VectorExpr`), the site macros, the kernels and `Mcmc`, and the
/// variational guides.
pub mod prelude {
    #[cfg(feature = "vi")]
    pub use crate::{
        Adam, AutoDelta, AutoDiagonalNormal, AutoGuideList, AutoIafNormal,
        AutoLaplaceApproximation, AutoLowRankMultivariateNormal, AutoMultivariateNormal,
        AutoNormal, ClippedAdam, Pathfinder, Schedule, Sgd, Svi,
    };
    pub use crate::{
        BarkerMh, Chees, DiscreteHmcGibbs, Gibbs, GibbsSites, Hmc, HmcGibbs, Init, Mala, Mcmc,
        MetricAdaptation, MixedHmc, Nuts, PointEstimate, Predictive, PriorLikelihood,
        RandomWalkMetropolis, ReplicaExchange, Sa, SliceSampler, Smc,
    };
    pub use crate::{
        Bernoulli, Beta, BetaBinomial, Binomial, Cauchy, Cdf, Delta, Distribution, Exponential,
        Flat, Gamma, Geometric, Gumbel, HalfCauchy, HalfNormal, HalfStudentT, InverseGamma,
        Laplace, LkjCholesky, LogDensity, LogNormal, Logistic, Mixture, Model, NegativeBinomial,
        Normal, Pareto, Poisson, Real, SkewNormal, StudentT, Truncated, TruncatedNormal, Uniform,
        VonMises, Weibull, ZeroInflatedPoisson, deterministic, factor, model, sample,
    };
    // vector distributions, the GLM site and the vector-expression helpers
    pub use crate::glm::Glm;
    pub use crate::vector::{VectorExpr, data, params, scalar};
    pub use crate::{
        Categorical, Dirichlet, Engine, GaussianRandomWalk, InverseWishart,
        LowRankMultivariateNormal, Multinomial, MultivariateNormal, Wishart,
    };
}

/// What `#[model]` expands to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use tilde_autodiff::codegen;
    pub use tilde_autodiff::{Fwd, describe_engine, log_joint_and_grad, logp_and_grad};
    pub use tilde_core::context::{
        Ctx, Stop, check, constrain, constrain_into, discover, draw_prior, infer_discrete, logp,
        logp_breakdown, pointwise_log_likelihood, simulate, try_build, try_logp,
    };
    pub use tilde_core::ops;
    pub use tilde_core::rand::Rng;
    pub use tilde_core::{F64Ops, ModelBody, ModelState};
}
