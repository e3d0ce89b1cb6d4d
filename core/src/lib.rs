//! The core of tilde: the scalar trait model code is generic over, distributions,
//! bijectors, the [`Model`] and [`LogDensity`] traits, site layouts and errors.
//!
//! Users reach all of this through the `tilde` crate and its prelude; this crate has no
//! dependency on the gradient engines or the samplers.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// `unsafe` only in `simd`, to call code compiled for CPU features seen at run time
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod bijectors;
pub mod context;
pub mod discrete;
pub mod distributions;
mod error;
pub mod glm;
mod hmm;
pub mod layout;
pub mod linalg;
pub mod math;
mod model;
pub mod observed;
#[doc(hidden)]
pub mod ops;
mod real;
pub mod simd;
pub mod special;
mod support;
pub mod vector;

pub use bijectors::{Bijector, VectorBijector};
pub use context::{Ctx, DiscreteValue, Enumerable, Latent, Observe, Record, Stop};
pub use discrete::{ContinuousModel, SampledBy, SamplesDiscrete};
pub use distributions::{
    Bernoulli, Beta, BetaBinomial, Binomial, Cauchy, Cdf, Continuous, Delta, Dirichlet,
    Distribution, Exponential, Flat, Gamma, Geometric, Gumbel, HalfCauchy, HalfNormal,
    HalfStudentT, Iid, InverseGamma, Laplace, LogNormal, Logistic, Mixture, NegativeBinomial,
    Normal, NormalEach, ObsScalar, ObsVector, Ordered, Pareto, Poisson, SkewNormal, StudentT,
    Truncated, TruncatedNormal, Uniform, VonMises, Weibull, ZeroInflatedPoisson,
};
pub use distributions::{
    Categorical, GaussianRandomWalk, InverseWishart, LkjCholesky, LowRankMultivariateNormal,
    Multinomial, MultivariateNormal, VectorDistribution, Wishart,
};
pub use error::{Error, ITEMS_SHOWN, ParamError, Result, short_list, try_buffer};
pub use layout::{Layout, Shape, SiteInfo, SiteKind};
pub use model::{Draw, Engine, LogDensity, Model, ModelBody, ModelState, SiteLogp, Watched};
pub use rand;
pub use real::{F64Ops, Real};
pub use support::Support;
