//! The traits samplers and guides consume, and what a model reports about a point.

use std::fmt;

use crate::context::{Ctx, Stop};
use crate::error::{Error, Result};
use crate::layout::{Layout, SiteKind};
use crate::real::{F64Ops, Real};
use crate::support::Support;

/// A differentiable log-density on ℝ^dim: what every sampler and guide consumes.
///
/// `#[model]` implements it; implement it by hand to sample a density with an analytic
/// gradient or an external simulator.
///
/// # Example
/// ```
/// use tilde_core::LogDensity;
///
/// /// A standard normal in `dim` dimensions, with its analytic gradient.
/// struct StdNormal(usize);
///
/// impl LogDensity for StdNormal {
///     fn dim(&self) -> usize {
///         self.0
///     }
///     fn logp(&self, x: &[f64]) -> f64 {
///         -0.5 * x.iter().map(|v| v * v).sum::<f64>()
///     }
///     fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
///         for (g, v) in grad.iter_mut().zip(x) {
///             *g = -v;
///         }
///         self.logp(x)
///     }
/// }
/// let mut grad = [0.0; 2];
/// assert_eq!(StdNormal(2).logp_and_grad(&[1.0, 2.0], &mut grad), -2.5);
/// assert_eq!(grad, [-1.0, -2.0]);
/// ```
pub trait LogDensity {
    /// The dimension of the unconstrained space.
    fn dim(&self) -> usize;

    /// The log-density at `x` (length `dim`), up to a constant. `-∞` marks a point the
    /// samplers must reject; implementations should not return NaN.
    fn logp(&self, x: &[f64]) -> f64;

    /// The log-density at `x`, writing its gradient into `grad` (length `dim`).
    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// What `#[model]` adds to a [`LogDensity`]: the sites, constrained values and a
/// per-site account of the log-density.
pub trait Model: LogDensity {
    /// The latent and deterministic sites in declaration order: name, shape, support,
    /// offset (observed sites and factors are listed by
    /// [`logp_breakdown`](Self::logp_breakdown)).
    fn layout(&self) -> &Layout;

    /// The constrained latent values and the deterministic quantities at `x`.
    fn constrain(&self, x: &[f64]) -> Draw;

    /// The log joint density of the constrained values at the unconstrained point `x`
    /// — [`logp_and_grad`](LogDensity::logp_and_grad) without the bijectors'
    /// log-Jacobians — and its gradient with respect to `x`. Its maximum is the
    /// maximum a posteriori estimate (Stan's `optimize` with `jacobian = false`,
    /// NumPyro's `AutoDelta`). The default, for densities with no bijectors, is
    /// `logp_and_grad`.
    fn log_joint_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.logp_and_grad(x, grad)
    }

    /// Which site adds what to the log-density at `x`, and which term is not finite.
    fn logp_breakdown(&self, x: &[f64]) -> Vec<SiteLogp>;

    /// Faults found when the model was built from its data (non-finite or invalid
    /// observations, `obs` lengths that differ from `.iid(n)`, duplicate site names).
    ///
    /// # Errors
    /// The first such fault.
    fn check(&self) -> Result<()>;

    /// The log-density at `x`, or the structural fault that stopped its evaluation (a
    /// model whose number of latent values changes with the parameters).
    ///
    /// # Errors
    /// [`Error::LayoutChanged`], [`Error::ObsLength`] or [`Error::DimensionMismatch`].
    fn try_logp(&self, x: &[f64]) -> Result<f64>;

    /// An unconstrained point drawn from the prior (each latent site from its
    /// distribution, given the sites before it). Initialisation strategies use it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a model that cannot simulate (the default), or a
    /// structural fault of the model.
    fn draw_prior(&self, rng: &mut dyn rand::Rng) -> Result<Vec<f64>> {
        let _ = rng;
        Err(Error::InvalidConfig(
            "this model cannot draw from its prior".into(),
        ))
    }

    /// One simulation from the model: latent sites from their priors, or with `fixed`
    /// from a draw's row of constrained values (in [`Layout::column_names`] order);
    /// observed sites drawn afresh; deterministic quantities recorded. Returns every
    /// latent, deterministic and observed component by name.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a model that cannot simulate (the default), or a
    /// structural fault of the model.
    fn simulate(&self, rng: &mut dyn rand::Rng, fixed: Option<&[f64]>) -> Result<Draw> {
        let _ = (rng, fixed);
        Err(Error::InvalidConfig("this model cannot simulate".into()))
    }

    /// The log-density of every observed value at a draw given by its constrained
    /// values (`row`, in [`Layout::column_names`] order), by observation name.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a model that cannot (the default), or a structural
    /// fault of the model.
    fn pointwise_log_likelihood(&self, row: &[f64]) -> Result<Vec<(String, f64)>> {
        let _ = row;
        Err(Error::InvalidConfig(
            "this model has no pointwise log-likelihood".into(),
        ))
    }

    /// The values of the enumerated sites (`sample!("z", dist, enumerate)`) drawn from
    /// their conditional distribution given a draw's constrained values (`row`, in
    /// [`Layout::column_names`] order), by site name: NumPyro's `infer_discrete`.
    /// `tilde::samplers::infer_discrete` applies it to every draw of a posterior.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a model that cannot (the default), or a structural
    /// fault of the model.
    fn infer_discrete(&self, rng: &mut dyn rand::Rng, row: &[f64]) -> Result<Draw> {
        let _ = (rng, row);
        Err(Error::InvalidConfig(
            "this model cannot draw its enumerated sites".into(),
        ))
    }

    /// Writes the values of [`Layout::column_names`] at `x` into `out` (cleared first):
    /// what a sampler stores per draw. NaN fills what a faulty evaluation did not reach.
    fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend_from_slice(self.constrain(x).values());
    }
}

/// Forwards [`LogDensity`] and [`Model`] through a pointer type, so that `&M`,
/// `Box<M>` and `Arc<M>` (and `Box<dyn Model + Send + Sync>`) run wherever a model does.
macro_rules! forward_model {
    ($($pointer:ty),*) => {$(
        impl<M: LogDensity + ?Sized> LogDensity for $pointer {
            fn dim(&self) -> usize {
                (**self).dim()
            }
            fn logp(&self, x: &[f64]) -> f64 {
                (**self).logp(x)
            }
            fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
                (**self).logp_and_grad(x, grad)
            }
        }

        impl<M: Model + ?Sized> Model for $pointer {
            fn layout(&self) -> &Layout {
                (**self).layout()
            }
            fn constrain(&self, x: &[f64]) -> Draw {
                (**self).constrain(x)
            }
            fn log_joint_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
                (**self).log_joint_and_grad(x, grad)
            }
            fn logp_breakdown(&self, x: &[f64]) -> Vec<SiteLogp> {
                (**self).logp_breakdown(x)
            }
            fn check(&self) -> Result<()> {
                (**self).check()
            }
            fn try_logp(&self, x: &[f64]) -> Result<f64> {
                (**self).try_logp(x)
            }
            fn draw_prior(&self, rng: &mut dyn rand::Rng) -> Result<Vec<f64>> {
                (**self).draw_prior(rng)
            }
            fn simulate(&self, rng: &mut dyn rand::Rng, fixed: Option<&[f64]>) -> Result<Draw> {
                (**self).simulate(rng, fixed)
            }
            fn pointwise_log_likelihood(&self, row: &[f64]) -> Result<Vec<(String, f64)>> {
                (**self).pointwise_log_likelihood(row)
            }
            fn infer_discrete(&self, rng: &mut dyn rand::Rng, row: &[f64]) -> Result<Draw> {
                (**self).infer_discrete(rng, row)
            }
            fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>) {
                (**self).constrain_into(x, out)
            }
        }
    )*};
}

forward_model!(&M, Box<M>, std::sync::Arc<M>);

/// The constrained values of one point: latent sites and deterministic quantities,
/// by name, in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    names: Vec<String>,
    values: Vec<f64>,
}

impl Draw {
    /// A draw from its column names and values (same length).
    ///
    /// # Panics
    /// When the lengths differ.
    pub fn new(names: Vec<String>, values: Vec<f64>) -> Self {
        assert_eq!(names.len(), values.len(), "a draw needs one value per name");
        Draw { names, values }
    }

    /// The value of one scalar component (`"mu"`, `"theta[3]"`).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.values[i])
    }

    /// The component names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The values, in the order of [`names`](Self::names).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The value of one scalar component, or an error listing the names.
    ///
    /// # Errors
    /// [`Error::UnknownName`].
    pub fn try_get(&self, name: &str) -> Result<f64> {
        self.get(name).ok_or_else(|| Error::UnknownName {
            name: name.to_string(),
            known: self.names.clone(),
        })
    }
}

/// One site's contribution to the log-density at a point.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteLogp {
    /// The site's name.
    pub name: String,
    /// What the site is.
    pub kind: SiteKind,
    /// The log-density (or log-mass, or factor) it adds, Jacobian excluded.
    pub log_density: f64,
    /// The log-Jacobian of a latent site's bijector (0 for other sites).
    pub ln_jacobian: f64,
    /// The site's constrained value(s) (latent sites) or observed value(s).
    pub values: Vec<f64>,
    /// The support, for latent and observed sites.
    pub support: Option<Support<f64>>,
}

impl SiteLogp {
    /// `true` when both terms are finite.
    pub fn is_finite(&self) -> bool {
        self.log_density.is_finite() && self.ln_jacobian.is_finite()
    }
}

impl fmt::Display for SiteLogp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.values.iter().take(6).map(|v| format!("{v}")).collect();
        let more = if self.values.len() > 6 { ", …" } else { "" };
        write!(
            f,
            "`{}` ({:?}) adds {} at value [{}{more}]",
            self.name,
            self.kind,
            self.log_density + self.ln_jacobian,
            shown.join(", ")
        )?;
        if let Some(s) = &self.support {
            write!(f, " with support {s}")?;
        }
        Ok(())
    }
}

/// A model body generic over the scalar: what `#[model]` generates and the evaluators
/// and gradient engines run.
///
/// `body` runs the user's code against a [`Ctx`], which reads parameters, applies
/// bijectors and accumulates the log-density. It is public so that engines in other
/// crates can run any model; users do not call it.
pub trait ModelBody {
    /// Runs the model once against `ctx`.
    ///
    /// # Errors
    /// A [`Stop`] when the evaluation cannot go on (see [`Error::LayoutChanged`]).
    fn body<T: Real>(&self, ctx: &mut Ctx<'_, T>) -> std::result::Result<(), Stop>
    where
        f64: F64Ops<T>;

    /// The layout and construction-time fault found when the model was built.
    fn state(&self) -> &ModelState;

    /// The gradient code `#[model]` generated for the body (see
    /// [`Engine::Codegen`]): the log-density at `x` with its gradient written into
    /// `grad`, or `None` when there is none or it does not apply at run time (then the
    /// tape runs the model).
    fn generated_logp_and_grad(&self, x: &[f64], grad: &mut [f64], jacobian: bool) -> Option<f64> {
        let _ = (x, grad, jacobian);
        None
    }

    /// Why `#[model]` generated no gradient code for the body (`None` when it did).
    fn codegen_unsupported(&self) -> Option<&'static str> {
        Some("the model was not written with `#[model]`")
    }

    /// Whether [`Engine::Auto`] runs the generated code: `#[model]` says so for bodies
    /// with loops, where it saves one tape node per operation, and for latent Gaussians
    /// over data matrices factored at construction (one matrix-vector product); any
    /// other body is a few vectorised sites, one tape node each, which the tape
    /// differentiates as fast.
    fn prefers_generated(&self) -> bool {
        false
    }
}

/// What a model learns about itself when it is built: its layout and any data fault.
/// It holds plain values (no handle to a shared buffer), so a clone of a model is an
/// independent model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelState {
    /// The sites in declaration order.
    pub layout: Layout,
    /// The faults found in the data, if any.
    pub faults: Vec<Error>,
    /// The gradient engine `logp_and_grad` uses.
    pub engine: Engine,
    /// The data-only terms of the observed sites, for the generated gradient code.
    pub data_constant: DataConstant,
}

/// The sum of the observed sites' terms that depend on data only (`-ln σ - ln √(2π)` of
/// a normal observation with a data scale), which the gradient code `#[model]`
/// generates computes at its first finite evaluation and reuses after: a model's data
/// do not change. A cache, not part of a model's identity (any two compare equal).
#[derive(Clone, Debug, Default)]
pub struct DataConstant(std::sync::OnceLock<f64>);

impl DataConstant {
    /// The sum, once known.
    #[inline]
    pub fn get(&self) -> Option<f64> {
        self.0.get().copied()
    }

    /// Keeps `value` when it is finite (the first evaluation to finish sets it).
    #[inline]
    pub fn set(&self, value: f64) {
        if value.is_finite() {
            let _ = self.0.set(value);
        }
    }
}

impl PartialEq for DataConstant {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// How `logp_and_grad` differentiates a model.
///
/// All engines agree on values and gradients to rounding; they differ in speed. Choose
/// one with the `with_engine` method `#[model]` generates:
/// `let model = eight_schools(&y, &sigma).with_engine(Engine::Reverse);`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// The gradient code `#[model]` generated, where it could analyse the body and the
    /// body has loops; otherwise forward duals for small dimensions and the reverse
    /// tape beyond (a fixed rule, so the choice, and the draws for a seed, do not
    /// depend on timing).
    #[default]
    Auto,
    /// The gradient code `#[model]` generated at compile time: a plain-`f64` forward
    /// pass and reverse-mode adjoint code, with no tape. Models whose body it cannot
    /// analyse (the model's `gradient_engine()` says why) run on the tape instead.
    Codegen,
    /// Forward-mode duals: one pass of width up to 16, then several.
    Forward,
    /// The reverse-mode tape.
    Reverse,
}

/// A model that notes a structural fault behind a non-finite log-density.
///
/// Samplers and optimisers take a point whose log-density is not finite as a
/// rejection (a divergence, a failed line search, a zero importance weight). When the
/// cause is a fault of the model's structure — a layout that changes with the
/// parameter values, an observation of the wrong length — rejecting the point would
/// silently cut the region where the fault occurs out of the result. `Watched`
/// forwards every evaluation to the model and, whenever the log-density is not finite,
/// asks [`Model::try_logp`] for a structural error and keeps the first one;
/// [`check`](Self::check) hands it back. Finite evaluations cost nothing extra.
///
/// `Watched` is itself a [`Model`], so an algorithm runs on it unchanged and calls
/// `check` after each step (the cell makes it `!Sync`: one per thread or chain).
///
/// # Example
/// ```
/// use tilde_core::{Error, Layout, LogDensity, Model, Draw, SiteLogp, Watched};
///
/// /// A density whose structure breaks for `x > 1`.
/// struct Breaks;
/// impl LogDensity for Breaks {
///     fn dim(&self) -> usize { 1 }
///     fn logp(&self, x: &[f64]) -> f64 {
///         if x[0] > 1.0 { f64::NEG_INFINITY } else { -0.5 * x[0] * x[0] }
///     }
///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 { g[0] = -x[0]; self.logp(x) }
/// }
/// impl Model for Breaks {
///     fn layout(&self) -> &Layout { unimplemented!() }
///     fn constrain(&self, x: &[f64]) -> Draw { Draw::new(vec!["x".into()], x.to_vec()) }
///     fn logp_breakdown(&self, _: &[f64]) -> Vec<SiteLogp> { Vec::new() }
///     fn check(&self) -> tilde_core::Result<()> { Ok(()) }
///     fn try_logp(&self, x: &[f64]) -> tilde_core::Result<f64> {
///         if x[0] > 1.0 {
///             Err(Error::LayoutChanged { expected: 1, found: 2, site: None })
///         } else {
///             Ok(self.logp(x))
///         }
///     }
/// }
///
/// let watched = Watched::new(&Breaks);
/// assert_eq!(watched.logp(&[0.5]), -0.125);
/// assert!(watched.check().is_ok());
/// assert_eq!(watched.logp(&[2.0]), f64::NEG_INFINITY);
/// assert!(matches!(watched.check(), Err(Error::LayoutChanged { .. })));
/// assert!(watched.check().is_ok(), "check hands a fault back once");
/// ```
pub struct Watched<'m, M: ?Sized> {
    model: &'m M,
    fault: std::cell::Cell<Option<Error>>,
}

impl<'m, M: Model + ?Sized> Watched<'m, M> {
    /// Watches `model`, with no fault noted.
    pub fn new(model: &'m M) -> Self {
        Watched {
            model,
            fault: std::cell::Cell::new(None),
        }
    }

    /// The model watched.
    pub fn model(&self) -> &'m M {
        self.model
    }

    /// Notes the structural fault at `x`, if any, when `log_density` (the model's value
    /// there) is not finite. The first fault is kept until [`check`](Self::check).
    pub fn note(&self, x: &[f64], log_density: f64) {
        if log_density.is_finite() {
            return;
        }
        let earlier = self.fault.take();
        let fault = earlier.or_else(|| self.model.try_logp(x).err());
        self.fault.set(fault);
    }

    /// The first fault noted since the last call, as an error.
    ///
    /// # Errors
    /// The structural fault ([`Error::LayoutChanged`], [`Error::ObsLength`], …) behind a
    /// non-finite log-density seen since the last call.
    pub fn check(&self) -> Result<()> {
        match self.fault.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<M: ?Sized> fmt::Debug for Watched<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fault = self.fault.take();
        let out = f
            .debug_struct("Watched")
            .field("fault", &fault)
            .finish_non_exhaustive();
        self.fault.set(fault);
        out
    }
}

impl<M: Model + ?Sized> LogDensity for Watched<'_, M> {
    fn dim(&self) -> usize {
        self.model.dim()
    }

    fn logp(&self, x: &[f64]) -> f64 {
        let log_density = self.model.logp(x);
        self.note(x, log_density);
        log_density
    }

    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let log_density = self.model.logp_and_grad(x, grad);
        self.note(x, log_density);
        log_density
    }
}

impl<M: Model + ?Sized> Model for Watched<'_, M> {
    fn layout(&self) -> &Layout {
        self.model.layout()
    }
    fn constrain(&self, x: &[f64]) -> Draw {
        self.model.constrain(x)
    }
    fn log_joint_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let log_density = self.model.log_joint_and_grad(x, grad);
        self.note(x, log_density);
        log_density
    }
    fn logp_breakdown(&self, x: &[f64]) -> Vec<SiteLogp> {
        self.model.logp_breakdown(x)
    }
    fn check(&self) -> Result<()> {
        self.model.check()
    }
    fn try_logp(&self, x: &[f64]) -> Result<f64> {
        self.model.try_logp(x)
    }
    fn draw_prior(&self, rng: &mut dyn rand::Rng) -> Result<Vec<f64>> {
        self.model.draw_prior(rng)
    }
    fn simulate(&self, rng: &mut dyn rand::Rng, fixed: Option<&[f64]>) -> Result<Draw> {
        self.model.simulate(rng, fixed)
    }
    fn pointwise_log_likelihood(&self, row: &[f64]) -> Result<Vec<(String, f64)>> {
        self.model.pointwise_log_likelihood(row)
    }
    fn infer_discrete(&self, rng: &mut dyn rand::Rng, row: &[f64]) -> Result<Draw> {
        self.model.infer_discrete(rng, row)
    }
    fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>) {
        self.model.constrain_into(x, out)
    }
}
