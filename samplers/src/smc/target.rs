//! What tempered SMC moves through: a target split into a prior and a likelihood.

use std::cell::RefCell;

use rand::Rng;
use tilde_core::{Error, LogDensity, Model, Result, SiteKind};

/// A target split into a prior and a likelihood, BlackJAX's `logprior_fn` and
/// `loglikelihood_fn`: tempered SMC moves its particles through the densities
///
/// ```text
/// π_β(x) ∝ p(x) · L(x)^β,    0 = β₀ < β₁ < … < β_T = 1
/// ```
///
/// from the prior `p` (`β = 0`, where the particles are drawn) to the posterior
/// (`β = 1`). Both are densities on the unconstrained space (the prior with the
/// bijectors' log-Jacobians). In [`Smc::update`](crate::Smc::update) the "prior" is the
/// previous posterior and the "likelihood" that of the new data.
///
/// [`PriorLikelihood`] implements it for a pair of [`Model`]s.
pub trait TemperedTarget: Sync {
    /// The dimension of the unconstrained space.
    fn dim(&self) -> usize;

    /// The log prior density and the log-likelihood at `x`. A point outside the
    /// prior's support has a log prior of `-∞`; a log-likelihood of `-∞` is a point the
    /// data rule out.
    fn log_prior_and_likelihood(&self, x: &[f64]) -> (f64, f64);

    /// The same at `x`, with the gradient of `log p(x) + β log L(x)` written into `grad`.
    fn tempered_grad(&self, x: &[f64], beta: f64, grad: &mut [f64]) -> (f64, f64);

    /// An unconstrained point drawn from the prior.
    ///
    /// # Errors
    /// When the prior cannot be simulated.
    fn draw_prior(&self, rng: &mut dyn Rng) -> Result<Vec<f64>>;

    /// The names of the values [`constrain_into`](Self::constrain_into) writes.
    fn column_names(&self) -> &[String];

    /// Writes the constrained values at `x` into `out` (cleared first).
    fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>);

    /// Faults of the data found before any work.
    ///
    /// # Errors
    /// The first such fault.
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// The [`TemperedTarget`] of two [`Model`]s on the same parameters: `prior`, the
/// `#[model]` built without the data (or, for an update, with the data seen so far),
/// and `model`, built with all the data:
///
/// ```text
/// log p(x) = prior.logp(x),    log L(x) = model.logp(x) − prior.logp(x)
/// ```
///
/// # Notes
/// [`Model`] has no prior/likelihood split with gradients: its
/// [`logp_breakdown`](Model::logp_breakdown) gives each observed site's log-density
/// but no gradient, and formats every site's name on each call. The model built
/// without data is that split at the cost of one more evaluation of the (cheap, data
/// free) prior per step, with the gradients of the model's own engine. Factors
/// (`factor!`) count as the likelihood when they depend on the data, as in PyMC's SMC.
///
/// ```
/// # use tilde_core::{LogDensity, Model};
/// # fn demo<M: Model + Sync>(prior: &M, model: &M) -> tilde_core::Result<()> {
/// use tilde_samplers::PriorLikelihood;
/// let target = PriorLikelihood::new(prior, model)?;
/// # let _ = target;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PriorLikelihood<'a, P: ?Sized, M: ?Sized> {
    prior: &'a P,
    model: &'a M,
}

impl<'a, P: Model + Sync + ?Sized, M: Model + Sync + ?Sized> PriorLikelihood<'a, P, M> {
    /// The target between `prior` and `model`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] or [`Error::InvalidConfig`] when the two models do
    /// not have the same latent sites (names and sizes, in order), or have discrete
    /// latent sites (which the mutation kernels, moving every coordinate continuously,
    /// cannot sample).
    pub fn new(prior: &'a P, model: &'a M) -> Result<Self> {
        if let Some(site) = model.layout().discrete().next() {
            return Err(Error::InvalidConfig(format!(
                "SMC cannot sample the discrete latent site `{}`: use \
                 Mcmc::new(DiscreteHmcGibbs::new(..)) or MixedHmc",
                site.name
            )));
        }
        if prior.dim() != model.dim() {
            return Err(Error::DimensionMismatch {
                expected: model.dim(),
                found: prior.dim(),
            });
        }
        let sites = |layout: &tilde_core::Layout| {
            layout
                .sites()
                .iter()
                .filter(|s| s.kind == SiteKind::Latent)
                .map(|s| (s.name.clone(), s.num_unconstrained))
                .collect::<Vec<_>>()
        };
        let (a, b) = (sites(prior.layout()), sites(model.layout()));
        if a != b {
            return Err(Error::InvalidConfig(format!(
                "the prior and the model need the same latent sites, got {:?} and {:?}",
                a.iter().map(|s| &s.0).collect::<Vec<_>>(),
                b.iter().map(|s| &s.0).collect::<Vec<_>>()
            )));
        }
        Ok(PriorLikelihood { prior, model })
    }
}

/// `log L = log π_model − log π_prior`, `-∞` where the model rules the point out (and
/// wherever either is NaN).
fn difference(log_prior: f64, log_model: f64) -> (f64, f64) {
    if log_prior.is_nan() || log_prior == f64::INFINITY {
        return (f64::NEG_INFINITY, f64::NEG_INFINITY);
    }
    if log_prior == f64::NEG_INFINITY {
        return (log_prior, f64::NEG_INFINITY);
    }
    let log_likelihood = log_model - log_prior;
    if log_likelihood.is_nan() || log_likelihood == f64::INFINITY {
        (log_prior, f64::NEG_INFINITY)
    } else {
        (log_prior, log_likelihood)
    }
}

thread_local! {
    /// The prior's gradient while the model's is computed.
    static PRIOR_GRAD: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl<P: Model + Sync + ?Sized, M: Model + Sync + ?Sized> TemperedTarget
    for PriorLikelihood<'_, P, M>
{
    fn dim(&self) -> usize {
        self.model.dim()
    }

    fn log_prior_and_likelihood(&self, x: &[f64]) -> (f64, f64) {
        difference(self.prior.logp(x), self.model.logp(x))
    }

    fn tempered_grad(&self, x: &[f64], beta: f64, grad: &mut [f64]) -> (f64, f64) {
        PRIOR_GRAD.with_borrow_mut(|prior_grad| {
            prior_grad.resize(x.len(), 0.0);
            let log_prior = self.prior.logp_and_grad(x, prior_grad);
            let log_model = self.model.logp_and_grad(x, grad);
            // ∇(log p + β (log π − log p)) = (1 − β) ∇log p + β ∇log π
            for (g, p) in grad.iter_mut().zip(prior_grad.iter()) {
                *g = (1.0 - beta) * p + beta * *g;
            }
            difference(log_prior, log_model)
        })
    }

    fn draw_prior(&self, rng: &mut dyn Rng) -> Result<Vec<f64>> {
        self.prior.draw_prior(rng)
    }

    fn column_names(&self) -> &[String] {
        self.model.layout().column_names()
    }

    fn constrain_into(&self, x: &[f64], out: &mut Vec<f64>) {
        self.model.constrain_into(x, out);
    }

    fn check(&self) -> Result<()> {
        self.prior.check()?;
        self.model.check()
    }
}

/// The tempered density `log p(x) + β log L(x)` as kernels see it.
pub(crate) struct Tempered<'t, T: ?Sized> {
    pub(crate) target: &'t T,
    pub(crate) beta: f64,
}

/// `log p + β log L`, `-∞` outside the prior's support and, for `β > 0`, where the
/// likelihood vanishes (`0 · -∞` is not NaN here: at `β = 0` the likelihood is ignored).
pub(crate) fn tempered(beta: f64, (log_prior, log_likelihood): (f64, f64)) -> f64 {
    if !log_prior.is_finite() {
        return f64::NEG_INFINITY;
    }
    if beta == 0.0 {
        return log_prior;
    }
    let value = log_prior + beta * log_likelihood;
    if value.is_nan() {
        f64::NEG_INFINITY
    } else {
        value
    }
}

impl<T: TemperedTarget + ?Sized> LogDensity for Tempered<'_, T> {
    fn dim(&self) -> usize {
        self.target.dim()
    }

    fn logp(&self, x: &[f64]) -> f64 {
        tempered(self.beta, self.target.log_prior_and_likelihood(x))
    }

    fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        tempered(self.beta, self.target.tempered_grad(x, self.beta, grad))
    }
}
