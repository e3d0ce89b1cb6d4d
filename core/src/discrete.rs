//! Which kernels may sample a model with discrete latent sites, checked at compile time.
//!
//! A discrete latent site (`sample!("z", Bernoulli::new(p))`) occupies a coordinate of
//! the parameter vector that holds an integer: it has no gradient, so a kernel that
//! moves every coordinate along the gradient (plain `Nuts`, `Hmc`, `Mala`, the
//! variational guides) cannot sample it. `#[model]` sees the model's discrete latent
//! sites and implements these traits accordingly:
//! - [`ContinuousModel`] only for a model without discrete latent sites;
//! - [`SampledBy<K>`] for every kernel `K` when the model has none, and only for kernels
//!   that implement [`SamplesDiscrete`] (`DiscreteHmcGibbs`, `MixedHmc`, `HmcGibbs`)
//!   when it has some. `Mcmc::run` requires it.
//!
//! An enumerated site (`sample!("z", dist, enumerate)`) is summed out and occupies no
//! coordinate: it does not count as a discrete latent site here.
//!
//! `#[model]` recognises a discrete site by its distribution's name as written
//! (`Bernoulli::new(..)`, `Categorical::new(..)`, ...). A discrete distribution bound to
//! a variable first escapes it: the run then stops with an
//! [`Error::InvalidConfig`](crate::Error::InvalidConfig) before any work instead.

use crate::model::{Model, Watched};

/// A model without discrete latent sites: every coordinate of its parameter vector has
/// a gradient. Kernels and guides that need gradients everywhere require it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has discrete latent sites, which a gradient-based method cannot sample",
    label = "this model has a discrete latent `sample!`",
    note = "gradient-based kernels and guides (`Nuts`, `Hmc`, `Mala`, the `Auto*` guides) move every latent coordinate along the gradient, and a discrete site has none",
    note = "sample the discrete sites with `DiscreteHmcGibbs::new(Nuts::default())` (or `MixedHmc`), or sum them out with `sample!(\"z\", dist, enumerate)`"
)]
pub trait ContinuousModel: Model {}

/// A marker for kernels that update a model's discrete latent sites themselves
/// (`DiscreteHmcGibbs`, `MixedHmc`; `HmcGibbs`, whose Gibbs function may update them).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot sample a model with discrete latent sites",
    label = "this model has a discrete latent `sample!`, which has no gradient",
    note = "wrap the kernel: `Mcmc::new(DiscreteHmcGibbs::new(Nuts::default()))` (Gibbs updates of the discrete sites, NUTS on the rest), use `MixedHmc`, or sum the sites out with `sample!(\"z\", dist, enumerate)`"
)]
pub trait SamplesDiscrete {}

/// The kernel `K` can sample this model: any kernel when the model has no discrete
/// latent site, a kernel that implements [`SamplesDiscrete`] otherwise. `#[model]`
/// implements it; `Mcmc::run` requires it.
#[diagnostic::on_unimplemented(
    message = "`{K}` cannot sample `{Self}`: the model has discrete latent sites",
    label = "this model has a discrete latent `sample!`, which has no gradient",
    note = "a kernel that needs gradients everywhere (`Nuts`, `Hmc`, `Mala`, ...) cannot move a discrete site",
    note = "wrap the kernel: `Mcmc::new(DiscreteHmcGibbs::new(Nuts::default()))` (Gibbs updates of the discrete sites, NUTS on the rest), use `MixedHmc`, or sum the sites out with `sample!(\"z\", dist, enumerate)`"
)]
pub trait SampledBy<K: ?Sized> {}

macro_rules! forward {
    ($($pointer:ty),*) => {$(
        impl<M: ContinuousModel + ?Sized> ContinuousModel for $pointer {}
        impl<K: ?Sized, M: SampledBy<K> + ?Sized> SampledBy<K> for $pointer {}
    )*};
}

forward!(&M, Box<M>, std::sync::Arc<M>);

impl<M: ContinuousModel + ?Sized> ContinuousModel for Watched<'_, M> {}
impl<K: ?Sized, M: SampledBy<K> + ?Sized> SampledBy<K> for Watched<'_, M> {}

/// A model behind `dyn Model` hides its sites from the compiler: any kernel compiles,
/// and `Mcmc::run` checks the layout at run time (an `Error::InvalidConfig`).
macro_rules! erased {
    ($($object:ty),*) => {$(
        impl<'a, K: ?Sized> SampledBy<K> for $object {}
        impl<'a> ContinuousModel for $object {}
    )*};
}

erased!(
    dyn Model + 'a,
    dyn Model + Send + 'a,
    dyn Model + Sync + 'a,
    dyn Model + Send + Sync + 'a
);
