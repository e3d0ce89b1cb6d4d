//! The Laplace approximation as an initialiser for the samplers.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tilde_core::{Model, Result, Watched, try_buffer};
use tilde_samplers::{Init, Initializer, Metric, WarmStart};

use crate::guide::standard_normal;
use crate::guides::covariance_from_hessian;
use crate::lbfgs::{self, Settings};

/// A mode, a covariance and its lower Cholesky factor (row-major).
type Gaussian = (Vec<f64>, Vec<f64>, Vec<f64>);

/// A Laplace warm start: L-BFGS to the mode of the unconstrained log-density, the
/// covariance `(−∇² log p)⁻¹` there (central differences of the exact gradient), and
/// starting points drawn from that Gaussian, one per chain. The covariance is given to
/// the sampler as a dense inverse mass matrix (its diagonal for a diagonal metric).
///
/// ```no_run
/// use tilde_samplers::{Mcmc, Nuts};
/// use tilde_vi::LaplaceInitializer;
/// # fn run<M: tilde_core::Model + tilde_core::SampledBy<Nuts> + Sync>(model: &M) -> tilde_core::Result<()> {
/// let posterior = Mcmc::new(Nuts::default().dense_mass(true))
///     .initializer(LaplaceInitializer::new())
///     .num_warmup(200)
///     .run(model)?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct LaplaceInitializer {
    init: Init,
    max_iters: usize,
}

impl Default for LaplaceInitializer {
    fn default() -> Self {
        LaplaceInitializer::new()
    }
}

impl LaplaceInitializer {
    /// Climbs from the median of 15 prior draws, at most 1000 L-BFGS iterations.
    pub fn new() -> Self {
        LaplaceInitializer {
            init: Init::PriorMedian,
            max_iters: 1000,
        }
    }

    /// Where the climb starts.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// The mode and the covariance there (row-major) of `model`'s unconstrained
    /// log-density.
    ///
    /// # Errors
    /// [`tilde_core::Error::InitFailed`] when no finite starting point exists,
    /// [`tilde_core::Error::InvalidConfig`] when the Hessian at the optimum is not
    /// negative-definite or the model has discrete latent sites, and the model's structural fault (e.g.
    /// [`tilde_core::Error::LayoutChanged`]) wherever its log-density is not finite
    /// because of one.
    pub fn fit<M: Model + ?Sized>(&self, model: &M, seed: u64) -> Result<(Vec<f64>, Vec<f64>)> {
        self.fit_factored(model, seed)
            .map(|(mode, cov, _)| (mode, cov))
    }

    /// The mode, the covariance and its lower Cholesky factor.
    fn fit_factored<M: Model + ?Sized>(&self, model: &M, seed: u64) -> Result<Gaussian> {
        model.check()?;
        crate::svi::refuse_discrete(model, "the Laplace approximation")?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let start = self.init.position(model, &mut rng)?;
        let settings = Settings {
            history: 6,
            max_iters: self.max_iters,
        };
        let watched = Watched::new(model);
        let path = lbfgs::maximize(&watched, &start, settings)?;
        let mode = path.xs.last().cloned().unwrap_or(start);
        let h = tilde_autodiff::hessian(&watched, &mode);
        watched.check()?;
        let (cov, factor) = covariance_from_hessian(&h, mode.len())?;
        Ok((mode, cov, factor))
    }
}

impl Initializer for LaplaceInitializer {
    fn initialize(
        &self,
        model: &(dyn Model + Sync),
        num_chains: usize,
        seed: u64,
    ) -> Result<WarmStart> {
        let (mode, cov, factor) = self.fit_factored(model, seed)?;
        let n = mode.len();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x1a91_ace0);
        let mut u = vec![0.0; n];
        // one point per chain must fit in memory: an error, not an abort
        drop(try_buffer::<f64>(num_chains, n.max(1), "num_chains")?);
        let mut positions = try_buffer(num_chains, 1, "num_chains")?;
        for _ in 0..num_chains {
            standard_normal(&mut rng, &mut u);
            positions.push(
                (0..n)
                    .map(|i| mode[i] + (0..=i).map(|k| factor[i * n + k] * u[k]).sum::<f64>())
                    .collect(),
            );
        }
        Ok(WarmStart {
            positions,
            inverse_mass_matrix: Some(Metric::dense(cov, n)?),
        })
    }
}
