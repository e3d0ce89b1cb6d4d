//! The multi-chain driver, after NumPyro's `MCMC`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rayon::prelude::*;
use tilde_core::{Error, Model, Result, SampledBy, try_buffer};

use crate::adaptation::Stage;
use crate::hmc::HmcParams;
use crate::init::Init;
use crate::io::CsvWriter;
use crate::kernel::{Adaptation, Kernel, KernelInfo, KernelParams, KernelState};
use crate::metric::Metric;
use crate::posterior::{ChainDraws, Posterior, SampleStats, WarmupDraws};
use crate::progress::{Bars, ChainBar};
use crate::warm_start::{Initializer, WarmStart};

/// Runs a kernel on a model in several chains, with the kernel's own adaptation
/// during warm-up (Stan's window adaptation for the HMC family).
///
/// ```
/// use tilde_core::LogDensity;
/// use tilde_samplers::{Mcmc, Nuts, Unconstrained};
///
/// struct StdNormal;
/// impl LogDensity for StdNormal {
///     fn dim(&self) -> usize { 1 }
///     fn logp(&self, x: &[f64]) -> f64 { -0.5 * x[0] * x[0] }
///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
///         g[0] = -x[0];
///         self.logp(x)
///     }
/// }
/// let mut mcmc = Mcmc::new(Nuts::default()).num_warmup(200).num_samples(200).num_chains(2).seed(1);
/// let posterior = mcmc.run(&Unconstrained::new(StdNormal))?;
/// assert_eq!(posterior.draws("x[0]")?.len(), 400);
/// let more = mcmc.run(&Unconstrained::new(StdNormal))?;     // continues, no new warm-up
/// assert_eq!(more.num_draws(), 200);
/// # Ok::<(), tilde_core::Error>(())
/// ```
pub struct Mcmc<K: Kernel> {
    kernel: K,
    num_warmup: usize,
    num_samples: usize,
    num_chains: usize,
    thinning: usize,
    seed: u64,
    progress: Option<bool>,
    init: Init,
    warm_start: Option<Vec<K::Params>>,
    /// Last positions and adapted parameters of an earlier driver's chains.
    warm_chains: Option<Vec<(Vec<f64>, K::Params)>>,
    /// `num_warmup` was set by the caller (else a warm start uses its shorter default).
    warmup_set: bool,
    initializer: Option<Arc<dyn Initializer>>,
    save: Option<(PathBuf, String)>,
    /// Kept draws stay in memory (false: only in the CSV files).
    keep_draws: bool,
    /// Deterministic columns are drawn (in memory and in the files).
    deterministics: bool,
    /// Warm-up draws are kept too.
    collect_warmup: bool,
    chains: Option<Vec<ChainState<K>>>,
}

impl<K: Kernel + Clone> Clone for Mcmc<K> {
    fn clone(&self) -> Self {
        Mcmc {
            kernel: self.kernel.clone(),
            num_warmup: self.num_warmup,
            num_samples: self.num_samples,
            num_chains: self.num_chains,
            thinning: self.thinning,
            seed: self.seed,
            progress: self.progress,
            init: self.init.clone(),
            warm_start: self.warm_start.clone(),
            warm_chains: self.warm_chains.clone(),
            warmup_set: self.warmup_set,
            initializer: self.initializer.clone(),
            save: self.save.clone(),
            keep_draws: self.keep_draws,
            deterministics: self.deterministics,
            collect_warmup: self.collect_warmup,
            chains: self.chains.clone(),
        }
    }
}

/// The default number of warm-up iterations after [`Mcmc::warm_start`]: enough for
/// dual averaging to re-tune the step size from the previous one, the metric being kept.
pub const WARM_START_WARMUP: usize = 150;

/// Where a chain stands between calls.
#[derive(Debug)]
struct ChainState<K: Kernel> {
    state: K::State,
    params: K::Params,
    rng: Xoshiro256PlusPlus,
    adapted: bool,
    /// Warm-up adapts the metric (false when a warm start gave one).
    adapt_metric: bool,
    /// Gradient evaluations spent in warm-up by the last call.
    warmup_gradients: usize,
    /// Warm-up draws kept for the next posterior (`collect_warmup`).
    warmup_draws: WarmupDraws,
}

impl<K: Kernel> Clone for ChainState<K> {
    fn clone(&self) -> Self {
        ChainState {
            state: self.state.clone(),
            params: self.params.clone(),
            rng: self.rng.clone(),
            adapted: self.adapted,
            adapt_metric: self.adapt_metric,
            warmup_gradients: self.warmup_gradients,
            warmup_draws: self.warmup_draws.clone(),
        }
    }
}

/// The random stream `chain` of `seed`: chains, paths and particles seeded with it give
/// the same numbers whatever the thread count, and nearby seeds give unrelated streams.
pub fn chain_rng(seed: u64, chain: usize) -> Xoshiro256PlusPlus {
    // splitmix64 of (seed, chain) so that nearby seeds give unrelated streams
    let mut z = seed
        ^ (chain as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// The results of parallel work in index order, or the error of the lowest index: the
/// same error whatever the threads' timing (a parallel `collect` into a `Result` keeps
/// whichever error a thread met first).
pub(crate) fn first_error_in_order<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
    results.into_iter().collect()
}

impl<K: Kernel> Mcmc<K> {
    /// A driver for `kernel` with NumPyro's defaults: 1000 warm-up and 1000 draws, one
    /// chain, no thinning, seed 0, progress bars on a terminal, `Init::Uniform(2.0)`.
    pub fn new(kernel: K) -> Self {
        Mcmc {
            kernel,
            num_warmup: 1000,
            num_samples: 1000,
            num_chains: 1,
            thinning: 1,
            seed: 0,
            progress: None,
            init: Init::default(),
            warm_start: None,
            warm_chains: None,
            warmup_set: false,
            initializer: None,
            save: None,
            keep_draws: true,
            deterministics: true,
            collect_warmup: false,
            chains: None,
        }
    }

    /// Warm-up iterations per chain (1000 by default, [`WARM_START_WARMUP`] after
    /// [`warm_start`](Self::warm_start)).
    pub fn num_warmup(mut self, n: usize) -> Self {
        self.num_warmup = n;
        self.warmup_set = true;
        self
    }

    /// Draws kept per chain (after thinning).
    pub fn num_samples(mut self, n: usize) -> Self {
        self.num_samples = n;
        self
    }

    /// The number of chains, run in parallel.
    pub fn num_chains(mut self, n: usize) -> Self {
        self.num_chains = n;
        self
    }

    /// Keep every `k`-th draw.
    pub fn thinning(mut self, k: usize) -> Self {
        self.thinning = k;
        self
    }

    /// The seed; with it, the draws do not depend on the number of threads.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Show (`true`) or hide (`false`) the progress bars; by default they show when
    /// standard error is a terminal. `TILDE_PROGRESS=0` in the environment hides them
    /// whatever this says ([`progress_enabled`](crate::progress_enabled)).
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = Some(show);
        self
    }

    /// The initialisation strategy.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Start from adapted parameters (one per chain, or one for all) and skip warm-up:
    /// pass [`Posterior::adapted`] or [`Mcmc::adapted`] of an earlier run. The chains
    /// still start from [`init`](Self::init), so this suits a rerun on the same
    /// posterior; to refit on new data, [`warm_start`](Self::warm_start) from the
    /// earlier driver, which also keeps its chains' positions.
    pub fn with_adapted(mut self, params: Vec<K::Params>) -> Self {
        self.warm_start = Some(params);
        self
    }

    /// Start each chain where a chain of `previous` stopped, with its step size and
    /// inverse mass matrix: the way to refit after the data changed (new observations,
    /// the next batch of a stream). Warm-up is short, [`WARM_START_WARMUP`] iterations
    /// unless [`num_warmup`](Self::num_warmup) says otherwise, and re-tunes the step
    /// size only; the metric is kept. Chain `c` starts from `previous`'s chain
    /// `c % previous_chains`. Replaces [`init`](Self::init),
    /// [`initializer`](Self::initializer) and [`with_adapted`](Self::with_adapted).
    ///
    /// `previous` must have run; [`run`](Self::run) on a model of another dimension
    /// is an error.
    ///
    /// ```
    /// use tilde_core::LogDensity;
    /// use tilde_samplers::{Mcmc, Nuts, Unconstrained};
    ///
    /// /// A normal likelihood with unit variance and a flat prior: the posterior is
    /// /// N(mean of the data, 1 / n).
    /// struct Data(Vec<f64>);
    /// impl LogDensity for Data {
    ///     fn dim(&self) -> usize { 1 }
    ///     fn logp(&self, x: &[f64]) -> f64 {
    ///         self.0.iter().map(|y| -0.5 * (y - x[0]).powi(2)).sum()
    ///     }
    ///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
    ///         g[0] = self.0.iter().map(|y| y - x[0]).sum();
    ///         self.logp(x)
    ///     }
    /// }
    /// let mut first = Mcmc::new(Nuts::default()).num_chains(2).seed(1).progress(false);
    /// first.run(&Unconstrained::new(Data(vec![0.9, 1.1, 1.3])))?;
    /// // more data arrived: refit from where the chains stopped, 150 warm-up iterations
    /// let mut refit = Mcmc::new(Nuts::default()).num_chains(2).seed(2).progress(false)
    ///     .warm_start(&first);
    /// let posterior = refit.run(&Unconstrained::new(Data(vec![0.9, 1.1, 1.3, 1.7])))?;
    /// assert_eq!(posterior.num_draws(), 1000);
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    pub fn warm_start<K2: Kernel<Params = K::Params>>(mut self, previous: &Mcmc<K2>) -> Self {
        let chains = previous.chains.as_deref().unwrap_or_default();
        self.warm_chains = Some(
            chains
                .iter()
                .filter(|c| c.adapted)
                .map(|c| (c.state.position().to_vec(), c.params.clone()))
                .collect(),
        );
        self
    }

    /// The warm-up length of chains not yet adapted.
    fn warmup_len(&self) -> usize {
        if self.warm_chains.is_some() && !self.warmup_set {
            WARM_START_WARMUP
        } else {
            self.num_warmup
        }
    }

    /// Start the chains from a warm start computed before warm-up (Pathfinder's draws,
    /// a Laplace approximation): chain `c` starts at the initializer's point `c`; when
    /// it also gives an inverse mass matrix, warm-up keeps that metric and adapts only
    /// the step size. Replaces [`init`](Self::init).
    pub fn initializer(mut self, initializer: impl Initializer + 'static) -> Self {
        self.initializer = Some(Arc::new(initializer));
        self
    }

    /// Streams every kept draw to Stan CSV files `{dir}/{prefix}_{chain + 1}.csv` as it
    /// is taken (flushed row by row), so a run that stops keeps what it drew. Each
    /// `run` rewrites the files with its own draws.
    pub fn save_csv(mut self, dir: impl AsRef<Path>, prefix: &str) -> Self {
        self.save = Some((dir.as_ref().to_path_buf(), prefix.to_string()));
        self
    }

    /// With [`save_csv`](Self::save_csv), `false` keeps no draw in memory, so a long run
    /// needs memory for one draw per chain only: the returned [`Posterior`] has the
    /// names and adapted parameters but no draws (read the files back with
    /// [`Posterior::from_csv`]), and its
    /// [`num_gradient_evals`](Posterior::num_gradient_evals) counts the warm-up only
    /// (the files hold every draw's `n_leapfrog__`). Default `true`; `false` without
    /// `save_csv` is an error when the run starts.
    pub fn keep_draws(mut self, keep: bool) -> Self {
        self.keep_draws = keep;
        self
    }

    /// Whether draws hold the deterministic sites' columns (default `true`): `false`
    /// leaves them out of the returned [`Posterior`] and of the CSV files.
    pub fn deterministics(mut self, include: bool) -> Self {
        self.deterministics = include;
        self
    }

    /// Keep the warm-up draws too (NumPyro's `collect_warmup`, CmdStan's
    /// `save_warmup`; default `false`): every `thinning`-th warm-up iteration of each
    /// chain, apart from the draws, in [`Posterior::warmup_draws`] (summaries and
    /// diagnostics use the draws only) and, with [`save_csv`](Self::save_csv), in the
    /// files before `# Adaptation terminated`, as CmdStan writes them. The warm-up
    /// draws are held in memory until the draws' files are written, also with
    /// [`keep_draws(false)`](Self::keep_draws). A [`warmup`](Self::warmup) call keeps
    /// them for the next [`run`](Self::run); a run that continues without warm-up has
    /// none.
    ///
    /// ```
    /// use tilde_core::LogDensity;
    /// use tilde_samplers::{Mcmc, Nuts, Unconstrained};
    ///
    /// struct StdNormal;
    /// impl LogDensity for StdNormal {
    ///     fn dim(&self) -> usize { 1 }
    ///     fn logp(&self, x: &[f64]) -> f64 { -0.5 * x[0] * x[0] }
    ///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
    ///         g[0] = -x[0];
    ///         self.logp(x)
    ///     }
    /// }
    /// let posterior = Mcmc::new(Nuts::default())
    ///     .num_warmup(200).num_samples(100).thinning(2).seed(1).progress(false)
    ///     .collect_warmup(true)
    ///     .run(&Unconstrained::new(StdNormal))?;
    /// assert_eq!((posterior.num_warmup_draws(), posterior.num_draws()), (100, 100));
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    pub fn collect_warmup(mut self, collect: bool) -> Self {
        self.collect_warmup = collect;
        self
    }

    /// The adapted parameters of each chain (for the HMC family, the step size and
    /// inverse mass matrix), once warmed up.
    pub fn adapted(&self) -> Option<Vec<K::Params>> {
        let chains = self.chains.as_ref()?;
        chains
            .iter()
            .all(|c| c.adapted)
            .then(|| chains.iter().map(|c| c.params.clone()).collect())
    }

    /// The last state of each chain.
    pub fn last_state(&self) -> Option<Vec<K::State>> {
        self.chains
            .as_ref()
            .map(|c| c.iter().map(|c| c.state.clone()).collect())
    }

    fn validate<M: Model + ?Sized>(&self, model: &M) -> Result<()> {
        if self.num_chains == 0 {
            return Err(Error::InvalidConfig("num_chains must be at least 1".into()));
        }
        if !self.keep_draws && self.save.is_none() {
            return Err(Error::InvalidConfig(
                "keep_draws(false) needs save_csv: the draws would be kept nowhere".into(),
            ));
        }
        if self.thinning == 0 {
            return Err(Error::InvalidConfig("thinning must be at least 1".into()));
        }
        if let Some(w) = &self.warm_chains {
            if w.is_empty() {
                return Err(Error::InvalidConfig(
                    "warm_start needs a driver that has run, and this one has no adapted chains"
                        .into(),
                ));
            }
            if let Some((x, _)) = w.iter().find(|(x, _)| x.len() != model.dim()) {
                return Err(Error::DimensionMismatch {
                    expected: model.dim(),
                    found: x.len(),
                });
            }
        }
        if let Some(w) = &self.warm_start {
            if w.len() != 1 && w.len() != self.num_chains {
                return Err(Error::InvalidConfig(format!(
                    "with_adapted needs 1 or {} parameter sets, got {}",
                    self.num_chains,
                    w.len()
                )));
            }
            for p in w {
                p.validate(model.dim())?;
            }
        }
        self.kernel.validate(model.dim())?;
        if model.layout().has_discrete() && !self.kernel.samples_discrete() {
            let names: Vec<String> = model
                .layout()
                .discrete()
                .map(|s| format!("`{}`", s.name))
                .collect();
            return Err(Error::InvalidConfig(format!(
                "the model has discrete latent sites ({}), which this kernel cannot sample: \
                 wrap it in DiscreteHmcGibbs::new(..), use MixedHmc, or sum the sites out \
                 with `enumerate`",
                tilde_core::short_list(&names)
            )));
        }
        self.init.validate()?;
        let cross_chain = self
            .kernel
            .adaptation(model.dim(), 0, true)
            .is_cross_chain();
        if cross_chain && self.num_chains < 2 {
            return Err(Error::InvalidConfig(format!(
                "this kernel adapts across chains and needs num_chains of at least 2, got {}",
                self.num_chains
            )));
        }
        if self.num_samples.checked_mul(self.thinning).is_none() {
            return Err(Error::InvalidConfig(format!(
                "num_samples × thinning ({} × {}) overflows",
                self.num_samples, self.thinning
            )));
        }
        if self
            .num_warmup
            .checked_add(self.num_samples * self.thinning)
            .is_none()
        {
            return Err(Error::InvalidConfig(format!(
                "num_warmup + num_samples × thinning ({} + {} × {}) overflows",
                self.num_warmup, self.num_samples, self.thinning
            )));
        }
        model.check()
    }

    /// Initialises the chains that are not yet; `false` when they already were.
    fn ensure_chains<M: Model + Sync + ?Sized>(
        &mut self,
        bound: Option<&K>,
        model: &M,
    ) -> Result<bool> {
        if self
            .chains
            .as_ref()
            .is_some_and(|c| c.len() == self.num_chains)
        {
            return Ok(false);
        }
        // the chains' states and buffers must fit in memory: an error, not an abort
        drop(try_buffer::<f64>(
            self.num_chains,
            model.dim().saturating_mul(8).max(1),
            "num_chains",
        )?);
        let kernel = bound.unwrap_or(&self.kernel);
        let (init, seed) = (&self.init, self.seed);
        if let Some(warm) = &self.warm_chains {
            let chains = (0..self.num_chains)
                .into_par_iter()
                .map(|chain| {
                    let (position, params) = &warm[chain % warm.len()];
                    Ok(ChainState {
                        state: start_at(kernel, model, position)?,
                        params: kernel.fit_params(params.clone()),
                        rng: chain_rng(seed, chain),
                        adapted: false,
                        adapt_metric: false,
                        warmup_gradients: 0,
                        warmup_draws: WarmupDraws::default(),
                    })
                })
                .collect::<Vec<_>>();
            self.chains = Some(first_error_in_order(chains)?);
            return Ok(true);
        }
        let warm = self.warm_start.clone();
        let start: Option<WarmStart> = match &self.initializer {
            Some(initializer) => Some(run_initializer(
                initializer.as_ref(),
                model,
                self.num_chains,
                seed,
            )?),
            None => None,
        };
        let chains = (0..self.num_chains)
            .into_par_iter()
            .map(|chain| {
                let mut rng = chain_rng(seed, chain);
                let state = match &start {
                    Some(s) => start_at(kernel, model, &s.positions[chain % s.positions.len()])?,
                    None => init.start(kernel, model, &mut rng)?,
                };
                let given = start.as_ref().and_then(|s| s.inverse_mass_matrix.as_ref());
                let (params, adapted) = match &warm {
                    Some(w) => (w[chain.min(w.len() - 1)].clone(), true),
                    None => (kernel.initial_params(model.dim(), given), false),
                };
                // a user's inverse mass matrix of another dimension is an error here
                params.validate(model.dim())?;
                Ok(ChainState {
                    state,
                    params,
                    rng,
                    adapted,
                    adapt_metric: given.is_none(),
                    warmup_gradients: 0,
                    warmup_draws: WarmupDraws::default(),
                })
            })
            .collect::<Vec<_>>();
        self.chains = Some(first_error_in_order(chains)?);
        Ok(true)
    }

    /// Evaluates each chain's log-density and gradient afresh at its last position on
    /// `model`, which may hold other data than the model of the previous call: a chain
    /// never carries cached values from one model to the next.
    fn reevaluate_chains<M: Model + Sync + ?Sized>(
        &mut self,
        bound: Option<&K>,
        model: &M,
    ) -> Result<()> {
        let kernel = bound.unwrap_or(&self.kernel);
        let Some(chains) = self.chains.as_mut() else {
            return Ok(());
        };
        let results: Vec<Result<()>> = chains
            .par_iter_mut()
            .enumerate()
            .map(|(index, chain)| {
                let position = chain.state.position();
                let state = kernel.init(model, position).map_err(|_| Error::InitFailed {
                    tries: 1,
                    reason: format!(
                        "chain {index} cannot continue from its last position on this model: {}",
                        crate::init::explain(model, position)
                    ),
                })?;
                chain.state = state;
                Ok(())
            })
            .collect();
        first_error_in_order(results).map(drop)
    }

    /// Runs warm-up (window adaptation) on every chain not yet adapted; draws nothing.
    ///
    /// # Errors
    /// A data fault of the model, an invalid setting or a failed initialisation, and
    /// the errors of [`run`](Self::run) for chains that exist already.
    pub fn warmup<M: Model + SampledBy<K> + Sync + ?Sized>(&mut self, model: &M) -> Result<()> {
        self.execute(model, false).map(|_| ())
    }

    /// Draws `num_samples` per chain, warming up first the chains not yet adapted. A
    /// second call continues from the last state without adapting again. It may pass a
    /// model built from other data of the same dimension: each chain's log-density and
    /// gradient are evaluated afresh at its last position on the model given (one
    /// gradient per chain), never carried over from the previous model. The step size
    /// and metric stay those adapted on the first model; to re-tune the step size after
    /// the data changed, [`warm_start`](Self::warm_start) a new driver instead.
    ///
    /// A model with discrete latent sites runs only with a kernel that samples them
    /// ([`DiscreteHmcGibbs`](crate::DiscreteHmcGibbs), [`MixedHmc`](crate::MixedHmc),
    /// [`HmcGibbs`](crate::HmcGibbs)):
    /// the bound `M: SampledBy<K>` that `#[model]` implements makes any other a compile
    /// error, and a discrete site `#[model]` cannot see (its distribution bound to a
    /// variable first) is an [`Error::InvalidConfig`] here, before any work.
    ///
    /// # Errors
    /// A data fault of the model, an invalid setting or a failed initialisation (naming
    /// the site whose log-density is not finite); [`Error::DimensionMismatch`] when the
    /// chains ran on a model of another dimension; [`Error::InitFailed`] when a chain's
    /// last position has no finite log-density or gradient on the model given.
    pub fn run<M: Model + SampledBy<K> + Sync + ?Sized>(&mut self, model: &M) -> Result<Posterior> {
        self.execute(model, true)
    }

    fn execute<M: Model + Sync + ?Sized>(&mut self, model: &M, sample: bool) -> Result<Posterior> {
        if let Some(chain) = self.chains.as_ref().and_then(|c| c.first())
            && chain.state.position().len() != model.dim()
        {
            return Err(Error::DimensionMismatch {
                expected: chain.state.position().len(),
                found: model.dim(),
            });
        }
        self.validate(model)?;
        // settings naming sites, resolved on this model
        let bound = self.kernel.bind_layout(model.layout())?;
        if !self.ensure_chains(bound.as_ref(), model)? {
            self.reevaluate_chains(bound.as_ref(), model)?;
        }
        let bars = Bars::new(self.progress);
        let (kernel, num_warmup, num_samples, thinning) = (
            bound.as_ref().unwrap_or(&self.kernel),
            self.warmup_len(),
            self.num_samples,
            self.thinning,
        );
        let num_samples = if sample { num_samples } else { 0 };
        let Some(chains) = self.chains.as_mut() else {
            return Err(Error::InvalidConfig("no chains".into()));
        };
        let todo: Vec<(usize, usize)> = chains
            .iter()
            .map(|c| {
                (
                    if c.adapted { 0 } else { num_warmup },
                    num_samples * thinning,
                )
            })
            .collect();
        let chain_bars: Vec<ChainBar> = todo
            .iter()
            .enumerate()
            .map(|(i, (w, s))| bars.chain(i, w + s))
            .collect();
        let save = if sample { self.save.as_ref() } else { None };
        if let Some((dir, _)) = save {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let (names, kept) = columns(model.layout(), self.deterministics);
        let names = names.as_slice();
        let keep_draws = self.keep_draws;
        let recorder = Recorder {
            columns: model.layout().column_names().len(),
            kept: kept.as_deref(),
        };
        let collect = self.collect_warmup.then_some(&recorder);
        let warmup_kernel = kernel.warmup_kernel();
        let warmup_kernel = warmup_kernel.as_ref().unwrap_or(kernel);
        let offsets: Vec<usize> = chains
            .iter()
            .map(|c| if c.adapted { 0 } else { num_warmup })
            .collect();
        let cross_chain = kernel
            .adaptation(model.dim(), num_warmup, true)
            .is_cross_chain();
        if cross_chain && chains.iter().any(|c| !c.adapted) {
            let seed = self.seed;
            warm_up_together(
                warmup_kernel,
                model,
                chains,
                Phase {
                    num_warmup,
                    thinning,
                    collect,
                },
                seed,
                &chain_bars,
            )?;
        }
        let draws: Vec<Result<ChainDraws>> = chains
            .par_iter_mut()
            .zip(chain_bars.par_iter())
            .zip(offsets.par_iter())
            .enumerate()
            .map(|(index, ((chain, bar), &offset))| {
                if !chain.adapted {
                    chain.warmup_gradients = 0;
                    warm_up(
                        warmup_kernel,
                        model,
                        chain,
                        Phase {
                            num_warmup,
                            thinning,
                            collect,
                        },
                        bar,
                    )?;
                } else if offset == 0 {
                    chain.warmup_gradients = 0;
                }
                let mut writer = match save {
                    Some((dir, prefix)) => {
                        let path = dir.join(format!("{prefix}_{}.csv", index + 1));
                        let params = chain.params.hmc_params().unwrap_or_else(HmcParams::none);
                        let mut writer = CsvWriter::create_with_kernel_stat(
                            path,
                            names,
                            index,
                            K::Info::KERNEL_STAT,
                        )?;
                        if let Some(depth) = kernel.max_tree_depth() {
                            writer.write_max_tree_depth(depth)?;
                        }
                        let warmup = &chain.warmup_draws;
                        writer.write_rows(&warmup.values, &warmup.stats)?;
                        writer.write_adaptation(&params)?;
                        writer.write_warmup_gradients(chain.warmup_gradients)?;
                        Some(writer)
                    }
                    None => None,
                };
                let out = draw(
                    kernel,
                    model,
                    chain,
                    num_samples,
                    thinning,
                    offset,
                    bar,
                    Output {
                        writer: writer.as_mut(),
                        recorder: &recorder,
                        keep_draws,
                        take_warmup: sample,
                    },
                );
                bar.finish();
                out
            })
            .collect::<Vec<_>>();
        let draws = first_error_in_order(draws)?;
        let mut posterior = Posterior::new(names.to_vec(), draws)
            .with_kernel_stat(K::Info::KERNEL_STAT.map(String::from));
        posterior.max_tree_depth = kernel.max_tree_depth();
        Ok(posterior)
    }
}

/// The column names draws hold, and which of the layout's columns they are (`None`:
/// all of them).
fn columns(layout: &tilde_core::Layout, deterministics: bool) -> (Vec<String>, Option<Vec<bool>>) {
    let all = layout.column_names();
    if deterministics {
        return (all.to_vec(), None);
    }
    let kept: Vec<bool> = layout
        .sites()
        .iter()
        .filter(|site| {
            matches!(
                site.kind,
                tilde_core::SiteKind::Latent | tilde_core::SiteKind::Deterministic
            )
        })
        .flat_map(|site| {
            std::iter::repeat_n(
                site.kind != tilde_core::SiteKind::Deterministic,
                site.shape.len(),
            )
        })
        .collect();
    let names = all
        .iter()
        .zip(&kept)
        .filter(|(_, k)| **k)
        .map(|(n, _)| n.clone())
        .collect();
    (names, Some(kept))
}

/// Turns positions into the kept columns of a draw.
struct Recorder<'a> {
    /// The layout's number of columns.
    columns: usize,
    /// The layout's columns that are kept (`None`: all).
    kept: Option<&'a [bool]>,
}

impl Recorder<'_> {
    /// The number of kept columns.
    fn width(&self) -> usize {
        self.kept
            .map_or(self.columns, |k| k.iter().filter(|k| **k).count())
    }

    /// The kept columns of the draw at the unconstrained `position`, into `row`.
    fn constrain<M: Model + ?Sized>(
        &self,
        model: &M,
        position: &[f64],
        row: &mut Vec<f64>,
    ) -> Result<()> {
        model.constrain_into(position, row);
        if row.len() != self.columns {
            return Err(Error::LayoutChanged {
                expected: self.columns,
                found: row.len(),
                site: None,
            });
        }
        if let Some(kept) = self.kept {
            let mut k = kept.iter();
            row.retain(|_| k.next().copied().unwrap_or(false));
        }
        Ok(())
    }
}

/// The transitions of a phase that hit the kernel's maximum tree depth, for the
/// progress bar.
#[derive(Clone, Copy)]
struct Saturation {
    limit: Option<usize>,
    hits: usize,
}

impl Saturation {
    fn new(limit: Option<usize>) -> Self {
        Saturation { limit, hits: 0 }
    }

    fn count<I: KernelInfo>(&mut self, info: &I) {
        if self.limit.is_some_and(|limit| info.tree_depth() >= limit) {
            self.hits += 1;
        }
    }

    /// `(limit, hits)`, for a kernel with a tree.
    fn report(&self) -> Option<(usize, usize)> {
        self.limit.map(|limit| (limit, self.hits))
    }
}

/// The statistics of a draw.
fn sample_stats<K: Kernel>(state: &K::State, params: &K::Params, info: &K::Info) -> SampleStats {
    SampleStats {
        log_density: state.log_density(),
        acceptance_rate: info.acceptance_rate(),
        step_size: params.step_size(),
        tree_depth: info.tree_depth(),
        num_integration_steps: info.num_evaluations(),
        is_divergent: info.is_divergent(),
        energy: info.energy(),
        kernel_stat: info.kernel_stat(),
    }
}

/// Where a chain's draws go.
struct Output<'a> {
    writer: Option<&'a mut CsvWriter>,
    recorder: &'a Recorder<'a>,
    /// Draws stay in memory.
    keep_draws: bool,
    /// The posterior takes the kept warm-up draws (false for `warmup()`, which leaves
    /// them to the next run).
    take_warmup: bool,
}

/// The warm-up's length and what it keeps.
#[derive(Clone, Copy)]
struct Phase<'a> {
    num_warmup: usize,
    thinning: usize,
    /// Keep every `thinning`-th warm-up draw (`collect_warmup`).
    collect: Option<&'a Recorder<'a>>,
}

impl Phase<'_> {
    /// Keeps warm-up iteration `i` (0-based) when asked to.
    fn keep<K: Kernel, M: Model + ?Sized>(
        &self,
        model: &M,
        i: usize,
        chain: &mut ChainState<K>,
        info: &K::Info,
        row: &mut Vec<f64>,
    ) -> Result<()> {
        let Some(recorder) = self.collect else {
            return Ok(());
        };
        if !(i + 1).is_multiple_of(self.thinning) {
            return Ok(());
        }
        recorder.constrain(model, chain.state.position(), row)?;
        chain.warmup_draws.values.extend_from_slice(row);
        let stats = sample_stats::<K>(&chain.state, &chain.params, info);
        chain.warmup_draws.stats.push(stats);
        Ok(())
    }

    /// Makes room for the kept warm-up draws of `width` columns.
    fn reserve<K: Kernel>(&self, chain: &mut ChainState<K>) -> Result<()> {
        chain.warmup_draws = WarmupDraws::default();
        if let Some(recorder) = self.collect {
            let rows = self.num_warmup / self.thinning;
            chain.warmup_draws.values = try_buffer(rows, recorder.width(), "num_warmup")?;
            chain.warmup_draws.stats = try_buffer(rows, 1, "num_warmup")?;
        }
        Ok(())
    }
}

use tilde_core::Watched;

/// The fault a transition left in `state`, as an error.
fn check_fault<S: KernelState>(state: &S) -> Result<()> {
    match state.fault() {
        Some(fault) => Err(fault.clone()),
        None => Ok(()),
    }
}

fn warm_up<K: Kernel, M: Model + ?Sized>(
    kernel: &K,
    model: &M,
    chain: &mut ChainState<K>,
    phase: Phase<'_>,
    bar: &ChainBar,
) -> Result<()> {
    let num_warmup = phase.num_warmup;
    let watched = Watched::new(model);
    drop(try_buffer::<Stage>(num_warmup, 1, "num_warmup")?);
    phase.reserve(chain)?;
    let dim = model.dim();
    let mut workspace = kernel.workspace(dim);
    let mut adaptation = kernel.adaptation(dim, num_warmup, chain.adapt_metric);
    let mut row = Vec::new();
    {
        let ChainState {
            state, params, rng, ..
        } = &mut *chain;
        adaptation.init(kernel, &watched, rng, state, params);
    }
    watched.check()?;
    let mut divergences = 0;
    let mut saturated = Saturation::new(kernel.max_tree_depth());
    let mut gradients = 0;
    for i in 0..num_warmup {
        let info = {
            let ChainState {
                state, params, rng, ..
            } = &mut *chain;
            kernel.transition(&watched, rng, state, params, &mut workspace)
        };
        watched.check()?;
        check_fault(&chain.state)?;
        divergences += usize::from(info.is_divergent());
        saturated.count(&info);
        gradients += info.num_evaluations();
        phase.keep(model, i, chain, &info, &mut row)?;
        let ChainState {
            state, params, rng, ..
        } = &mut *chain;
        adaptation.update(kernel, &watched, rng, state, &info, params);
        watched.check()?;
        bar.update(
            i + 1,
            "warmup",
            divergences,
            saturated.report(),
            params.step_size(),
        );
    }
    adaptation.finalize(&mut chain.params);
    chain.adapted = true;
    chain.warmup_gradients = gradients;
    Ok(())
}

/// Warm-up for an adaptation that learns across chains
/// ([`Adaptation::is_cross_chain`]): all chains step one iteration at a time, in
/// parallel, with one set of parameters; after each iteration one adaptation sees
/// every chain's state and information and updates the shared parameters. Each chain
/// keeps its own random stream for its transitions; the adaptation draws from a stream
/// of its own, so the result does not depend on the thread count.
fn warm_up_together<K: Kernel, M: Model + Sync + ?Sized>(
    kernel: &K,
    model: &M,
    chains: &mut [ChainState<K>],
    phase: Phase<'_>,
    seed: u64,
    bars: &[ChainBar],
) -> Result<()> {
    let num_warmup = phase.num_warmup;
    drop(try_buffer::<Stage>(num_warmup, 1, "num_warmup")?);
    let dim = model.dim();
    let Some(first) = chains.first() else {
        return Ok(());
    };
    let adapt_metric = chains.iter().all(|c| c.adapt_metric);
    let mut params = first.params.clone();
    let mut adaptation = kernel.adaptation(dim, num_warmup, adapt_metric);
    // the adaptation's own stream: index `usize::MAX` is no chain's
    let mut rng = chain_rng(seed, usize::MAX);
    let mut workspaces = chains
        .iter()
        .map(|_| kernel.workspace(dim))
        .collect::<Vec<_>>();
    for chain in chains.iter_mut() {
        phase.reserve(chain)?;
        chain.warmup_gradients = 0;
    }
    let watched = Watched::new(model);
    {
        let states: Vec<&K::State> = chains.iter().map(|c| &c.state).collect();
        adaptation.init_ensemble(kernel, &watched, &mut rng, &states, &mut params);
    }
    watched.check()?;
    let mut divergences = vec![0; chains.len()];
    let mut saturated = vec![Saturation::new(kernel.max_tree_depth()); chains.len()];
    let mut infos = Vec::with_capacity(chains.len());
    let mut row = Vec::new();
    for i in 0..num_warmup {
        let shared = &params;
        chains
            .par_iter_mut()
            .zip(workspaces.par_iter_mut())
            .map(|(chain, workspace)| {
                let watched = Watched::new(model);
                let info = kernel.transition(
                    &watched,
                    &mut chain.rng,
                    &mut chain.state,
                    shared,
                    workspace,
                );
                watched.check()?;
                check_fault(&chain.state)?;
                chain.warmup_gradients += info.num_evaluations();
                Ok(info)
            })
            .collect_into_vec_result(&mut infos)?;
        for (c, (chain, info)) in chains.iter_mut().zip(&infos).enumerate() {
            divergences[c] += usize::from(info.is_divergent());
            saturated[c].count(info);
            if phase.collect.is_some() {
                // the statistics of the draw name the parameters it was made with
                chain.params.clone_from(&params);
                phase.keep(model, i, chain, info, &mut row)?;
            }
        }
        let states: Vec<&K::State> = chains.iter().map(|c| &c.state).collect();
        adaptation.update_ensemble(kernel, &watched, &mut rng, &states, &infos, &mut params);
        watched.check()?;
        for (c, bar) in bars.iter().enumerate().take(chains.len()) {
            bar.update(
                i + 1,
                "warmup",
                divergences[c],
                saturated[c].report(),
                params.step_size(),
            );
        }
    }
    adaptation.finalize(&mut params);
    for chain in chains.iter_mut() {
        chain.params.clone_from(&params);
        chain.adapted = true;
    }
    Ok(())
}

/// Collects a parallel iterator of results into a reused vector, stopping at the
/// first error.
trait CollectResults<T> {
    fn collect_into_vec_result(self, out: &mut Vec<T>) -> Result<()>;
}

impl<T: Send, I: IndexedParallelIterator<Item = Result<T>>> CollectResults<T> for I {
    fn collect_into_vec_result(self, out: &mut Vec<T>) -> Result<()> {
        let results: Vec<Result<T>> = self.collect();
        out.clear();
        for r in results {
            out.push(r?);
        }
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn draw<K: Kernel, M: Model + ?Sized>(
    kernel: &K,
    model: &M,
    chain: &mut ChainState<K>,
    num_samples: usize,
    thinning: usize,
    offset: usize,
    bar: &ChainBar,
    out: Output<'_>,
) -> Result<ChainDraws> {
    let Output {
        mut writer,
        recorder,
        keep_draws,
        take_warmup,
    } = out;
    let watched = Watched::new(model);
    let mut workspace = kernel.workspace(model.dim());
    let width = recorder.width();
    let stored = if keep_draws { num_samples } else { 0 };
    let mut values = try_buffer(stored, width, "num_samples")?;
    let mut stats = try_buffer(stored, 1, "num_samples")?;
    let mut row = Vec::with_capacity(recorder.columns);
    let mut divergences = 0;
    let mut saturated = Saturation::new(kernel.max_tree_depth());
    let warmup = if take_warmup {
        std::mem::take(&mut chain.warmup_draws)
    } else {
        WarmupDraws::default()
    };
    let ChainState {
        state, params, rng, ..
    } = &mut *chain;
    for i in 0..num_samples * thinning {
        let info = kernel.transition(&watched, rng, state, params, &mut workspace);
        watched.check()?;
        check_fault(state)?;
        divergences += usize::from(info.is_divergent());
        saturated.count(&info);
        if (i + 1) % thinning == 0 {
            recorder.constrain(model, state.position(), &mut row)?;
            let stat = sample_stats::<K>(state, params, &info);
            if let Some(w) = writer.as_deref_mut() {
                w.write_draw(&row, &stat)?;
            }
            if keep_draws {
                values.extend_from_slice(&row);
                stats.push(stat);
            }
        }
        bar.update(
            offset + i + 1,
            "sampling",
            divergences,
            saturated.report(),
            params.step_size(),
        );
    }
    Ok(ChainDraws {
        values,
        stats,
        params: params.hmc_params().unwrap_or_else(HmcParams::none),
        warmup_gradients: chain.warmup_gradients,
        warmup: if keep_draws {
            warmup
        } else {
            WarmupDraws::default()
        },
    })
}

/// Runs the initializer and checks what it gives.
fn run_initializer<M: Model + Sync + ?Sized>(
    initializer: &dyn Initializer,
    model: &M,
    num_chains: usize,
    seed: u64,
) -> Result<WarmStart> {
    let start = initializer.initialize(&model, num_chains, seed)?;
    if start.positions.is_empty() {
        return Err(Error::InvalidConfig(
            "the initializer gave no starting point".into(),
        ));
    }
    let dims = start
        .positions
        .iter()
        .map(Vec::len)
        .chain(start.inverse_mass_matrix.as_ref().map(Metric::dim));
    for found in dims {
        if found != model.dim() {
            return Err(Error::DimensionMismatch {
                expected: model.dim(),
                found,
            });
        }
    }
    if let Some(metric) = &start.inverse_mass_matrix {
        metric.validate()?;
    }
    Ok(start)
}

/// The state at a given starting point, or why it cannot start there.
fn start_at<K: Kernel, M: Model + Sync + ?Sized>(
    kernel: &K,
    model: &M,
    x: &[f64],
) -> Result<K::State> {
    let watched = Watched::new(model);
    let state = kernel.init(&watched, x);
    // a structural fault (a layout that changes there) is the model's error
    watched.check()?;
    state.map_err(|_| Error::InitFailed {
        tries: 1,
        reason: crate::init::explain(model, x),
    })
}
