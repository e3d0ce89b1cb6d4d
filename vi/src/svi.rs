//! Stochastic variational inference: fitting a guide by maximising the ELBO.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tilde_core::{ContinuousModel, Draw, Error, Model, Result, Watched, try_buffer};
use tilde_samplers::{Init, Posterior, explain};

use crate::guide::{Guide, standard_normal};
use crate::optim::Optimizer;

/// Stochastic variational inference (NumPyro's `SVI` with `Trace_ELBO`): fits a guide
/// to a model by maximising the evidence lower bound with reparameterised (pathwise)
/// gradients through the model's gradient engine.
///
/// ```
/// use tilde_vi::{Adam, AutoNormal, Schedule, Svi};
/// # use tilde_core::LogDensity;
/// # use tilde_samplers::Unconstrained;
/// # struct Gauss;
/// # impl LogDensity for Gauss {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> f64 { -0.5 * (x[0] * x[0] + (x[1] - 3.0).powi(2)) }
/// #     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 { g[0] = -x[0]; g[1] = 3.0 - x[1]; self.logp(x) }
/// # }
/// # let model = Unconstrained::new(Gauss);
/// let adam = Adam::new(0.05).schedule(Schedule::Cosine { steps: 2000, floor: 0.01 });
/// let svi = Svi::new(AutoNormal::new(), adam).num_steps(2000).seed(0).progress(false);
/// let fit = svi.run(&model)?;
/// let posterior = fit.sample_posterior(1000, 1)?;     // the same type MCMC returns
/// assert!((posterior.summary().get("x[1]").unwrap().mean - 3.0).abs() < 0.15);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Svi<G, O> {
    guide: G,
    optimizer: O,
    num_steps: usize,
    num_particles: usize,
    seed: u64,
    progress: Option<bool>,
    init: Init,
}

impl<G: Guide + Clone, O: Optimizer> Svi<G, O> {
    /// SVI of `guide` with `optimizer`: 1000 steps, one particle, seed 0, progress bar
    /// on a terminal, the guide started at the median of 15 prior draws (NumPyro's
    /// `init_to_median`).
    pub fn new(guide: G, optimizer: O) -> Self {
        Svi {
            guide,
            optimizer,
            num_steps: 1000,
            num_particles: 1,
            seed: 0,
            progress: None,
            init: Init::PriorMedian,
        }
    }

    /// The number of optimisation steps.
    pub fn num_steps(mut self, n: usize) -> Self {
        self.num_steps = n;
        self
    }

    /// Monte-Carlo draws of the ELBO per step (its gradient is their mean).
    pub fn num_particles(mut self, k: usize) -> Self {
        self.num_particles = k;
        self
    }

    /// The seed of the noise draws and of the initialisation.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Show (`true`) or hide (`false`) the progress bar; by default it shows when
    /// standard error is a terminal. `TILDE_PROGRESS=0` in the environment hides it
    /// whatever this says (`tilde_samplers::progress_enabled`).
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = Some(show);
        self
    }

    /// Where the guide's location starts (NumPyro's `init_loc_fn`): `Init::PriorMedian`
    /// (the default), `Init::Uniform(r)`, `Init::PriorDraw`, `Init::Values(..)`.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Fits the guide to `model`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero steps or particles, more steps than fit in
    /// memory, a bad optimiser setting or discrete latent sites that `#[model]` could
    /// not see (a discrete distribution bound to a variable), a data fault of the model,
    /// [`Error::InitFailed`] when no finite starting point exists,
    /// [`Error::NonFiniteElbo`] naming the step and the site when the ELBO or its
    /// gradient stops being finite, and the model's structural fault (e.g.
    /// [`Error::LayoutChanged`]) when that is why the log-density is not finite.
    pub fn run<'m, M: ContinuousModel + Sync>(&self, model: &'m M) -> Result<SviResult<'m, G, M>> {
        if self.num_steps == 0 || self.num_particles == 0 {
            return Err(Error::InvalidConfig(format!(
                "SVI needs at least one step and one particle, got num_steps = {} and num_particles = {}",
                self.num_steps, self.num_particles
            )));
        }
        model.check()?;
        refuse_discrete(model, "SVI")?;
        let dim = model.dim();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let start = self.init.position(model, &mut rng)?;
        let mut guide = self.guide.clone();
        let coords: Vec<usize> = (0..dim).collect();
        guide.setup(model.layout(), &coords, &start)?;
        let mut optimizer = self.optimizer.clone();
        let num_params = guide.params().len();
        optimizer.init(num_params)?;

        let mut noise = vec![0.0; guide.noise_dim()];
        let (mut z, mut grad_z) = (vec![0.0; dim], vec![0.0; dim]);
        let (mut grad, mut step_grad) = (vec![0.0; num_params], vec![0.0; num_params]);
        let mut trace = try_buffer(self.num_steps, 1, "num_steps")?;
        let bar = SviBar::new(self.progress, self.num_steps);
        let scale = 1.0 / self.num_particles as f64;
        let jacobian = guide.jacobian();
        let watched = Watched::new(model);
        for step in 0..self.num_steps {
            step_grad.iter_mut().for_each(|g| *g = 0.0);
            let mut elbo = 0.0;
            for _ in 0..self.num_particles {
                standard_normal(&mut rng, &mut noise);
                let log_q = guide.sample(&noise, &mut z);
                let lp = objective(&watched, jacobian, &z, &mut grad_z);
                watched.check()?;
                if !(lp.is_finite() && log_q.is_finite()) {
                    return Err(non_finite(model, guide.name(), step, &z, lp, log_q));
                }
                elbo += lp - log_q;
                grad.iter_mut().for_each(|g| *g = 0.0);
                guide.backward(&noise, &grad_z, &mut grad);
                if let Some(i) = grad.iter().position(|g| !g.is_finite()) {
                    return Err(Error::NonFiniteElbo {
                        step,
                        reason: format!(
                            "entry {i} of the gradient of {}'s parameters is {}; {}",
                            guide.name(),
                            grad[i],
                            explain(model, &z)
                        ),
                    });
                }
                // the optimiser minimises the loss −ELBO
                step_grad
                    .iter_mut()
                    .zip(&grad)
                    .for_each(|(s, g)| *s -= g * scale);
            }
            optimizer.step(step, guide.params_mut(), &step_grad);
            trace.push(elbo * scale);
            bar.update(step + 1, &trace);
        }
        bar.finish();
        let mut result = SviResult {
            guide,
            elbo: trace,
            model,
        };
        let at = result.median_unconstrained();
        result.guide.finish(&watched, &at)?;
        watched.check()?;
        Ok(result)
    }
}

/// The model's log-density at `z`, with or without the bijectors' log-Jacobians.
/// [`Error::InvalidConfig`] naming a model's discrete latent sites, which `method`
/// cannot fit (a discrete distribution `#[model]` could not see as one).
pub(crate) fn refuse_discrete<M: Model + ?Sized>(model: &M, method: &str) -> Result<()> {
    let names: Vec<String> = model
        .layout()
        .discrete()
        .map(|s| format!("`{}`", s.name))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidConfig(format!(
        "{method} needs gradients with respect to every latent site, and the model has \
         discrete ones ({}): sample it with DiscreteHmcGibbs::new(..) or MixedHmc, or sum the \
         sites out with `enumerate`",
        tilde_core::short_list(&names)
    )))
}

fn objective<M: Model + ?Sized>(model: &M, jacobian: bool, z: &[f64], grad: &mut [f64]) -> f64 {
    if jacobian {
        model.logp_and_grad(z, grad)
    } else {
        model.log_joint_and_grad(z, grad)
    }
}

/// The error for a non-finite ELBO term, naming the site at fault.
fn non_finite<M: Model>(
    model: &M,
    guide: &str,
    step: usize,
    z: &[f64],
    lp: f64,
    log_q: f64,
) -> Error {
    let reason = if lp.is_finite() {
        format!("{guide}'s log-density at its draw is {log_q}")
    } else if z.iter().any(|v| !v.is_finite()) {
        format!(
            "{guide} drew a non-finite point [{}]",
            tilde_core::short_list(z)
        )
    } else {
        explain(model, z)
    };
    Error::NonFiniteElbo { step, reason }
}

/// A fitted guide with its ELBO trace; draws and summaries in constrained space.
#[derive(Debug)]
pub struct SviResult<'m, G, M> {
    guide: G,
    elbo: Vec<f64>,
    model: &'m M,
}

impl<G: Guide + Clone, M: Model + Sync> SviResult<'_, G, M> {
    /// The fitted guide.
    pub fn guide(&self) -> &G {
        &self.guide
    }

    /// The ELBO estimate of every step (the mean over that step's particles).
    pub fn elbo_trace(&self) -> &[f64] {
        &self.elbo
    }

    /// The ELBO of the fitted guide, estimated from `num_draws` seeded draws: a lower
    /// bound on the log evidence `log p(y)` up to the constant the model's log-density
    /// omits (none, for `#[model]` models, which keep all normalising constants).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `num_draws` is 0 (there is nothing to average),
    /// and the model's structural fault (e.g. [`Error::LayoutChanged`]) at a draw
    /// where its log-density is not finite because of one.
    pub fn elbo(&self, num_draws: usize, seed: u64) -> Result<f64> {
        if num_draws == 0 {
            return Err(Error::InvalidConfig(
                "elbo needs at least one draw, got num_draws = 0".into(),
            ));
        }
        let mut guide = self.guide.clone();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut noise = vec![0.0; self.guide.noise_dim()];
        let mut z = vec![0.0; self.model.dim()];
        let mut grad = vec![0.0; self.model.dim()];
        let jacobian = guide.jacobian();
        let watched = Watched::new(self.model);
        let mut total = 0.0;
        for _ in 0..num_draws {
            standard_normal(&mut rng, &mut noise);
            let log_q = guide.sample(&noise, &mut z);
            total += objective(&watched, jacobian, &z, &mut grad) - log_q;
            watched.check()?;
        }
        Ok(total / num_draws as f64)
    }

    /// `num_draws` draws from the guide, constrained, deterministic quantities
    /// included, as one chain of a [`Posterior`] (so `summary()` works on them).
    ///
    /// # Errors
    /// A structural fault of the model, or [`Error::InvalidConfig`] when `num_draws`
    /// draws do not fit in memory.
    pub fn sample_posterior(&self, num_draws: usize, seed: u64) -> Result<Posterior> {
        let mut guide = self.guide.clone();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut noise = vec![0.0; self.guide.noise_dim()];
        let mut z = vec![0.0; self.model.dim()];
        let names = self.model.layout().column_names().to_vec();
        let mut values = try_buffer(num_draws, names.len(), "num_draws")?;
        let mut row = Vec::with_capacity(names.len());
        for _ in 0..num_draws {
            standard_normal(&mut rng, &mut noise);
            guide.sample(&noise, &mut z);
            self.model.constrain_into(&z, &mut row);
            if row.iter().any(|v| v.is_nan()) {
                // NaN fills what a faulty evaluation did not reach
                self.model.try_logp(&z)?;
            }
            if row.len() != names.len() {
                return Err(Error::LayoutChanged {
                    expected: names.len(),
                    found: row.len(),
                    site: None,
                });
            }
            values.extend_from_slice(&row);
        }
        Posterior::from_draws(names, vec![values])
    }

    /// Draws from the guide in unconstrained space, one `Vec` per draw.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `num_draws` draws do not fit in memory.
    pub fn sample_unconstrained(&self, num_draws: usize, seed: u64) -> Result<Vec<Vec<f64>>> {
        let dim = self.model.dim();
        // the draws' values, and one `Vec` header per draw, must fit
        drop(try_buffer::<f64>(num_draws, dim, "num_draws")?);
        let mut draws = try_buffer::<Vec<f64>>(num_draws, 1, "num_draws")?;
        let mut guide = self.guide.clone();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut noise = vec![0.0; self.guide.noise_dim()];
        for _ in 0..num_draws {
            let mut z = vec![0.0; dim];
            standard_normal(&mut rng, &mut noise);
            guide.sample(&noise, &mut z);
            draws.push(z);
        }
        Ok(draws)
    }

    fn median_unconstrained(&self) -> Vec<f64> {
        let mut guide = self.guide.clone();
        let mut out = vec![vec![0.0; self.model.dim()]];
        guide.marginal_quantiles(&[0.5], &mut out);
        out.swap_remove(0)
    }

    /// The guide's median in constrained space: each latent coordinate's marginal
    /// median mapped through its bijector, and the deterministic quantities there.
    pub fn median(&self) -> Draw {
        let at = self.median_unconstrained();
        self.model.constrain(&at)
    }

    /// Marginal quantiles of the latent sites in constrained space, one [`Draw`] per
    /// entry of `qs` (NumPyro's `guide.quantiles`). Scalar bijectors are monotone, so a
    /// constrained quantile is the bijector's image of the unconstrained one (of the
    /// `1 − q` quantile for a decreasing bijector). Deterministic quantities are
    /// evaluated at the quantile point, not quantiles themselves.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a level outside `(0, 1)`.
    pub fn quantiles(&self, qs: &[f64]) -> Result<Vec<Draw>> {
        if let Some(q) = qs.iter().find(|q| !(**q > 0.0 && **q < 1.0)) {
            return Err(Error::InvalidConfig(format!(
                "quantile levels lie in (0, 1), got {q}"
            )));
        }
        let levels: Vec<f64> = qs.iter().flat_map(|&q| [q, 1.0 - q]).collect();
        let mut guide = self.guide.clone();
        let mut points = vec![vec![0.0; self.model.dim()]; levels.len()];
        guide.marginal_quantiles(&levels, &mut points);
        Ok(qs
            .iter()
            .enumerate()
            .map(|(k, &q)| {
                let at_q = self.model.constrain(&points[2 * k]);
                let at_mirror = self.model.constrain(&points[2 * k + 1]);
                let values = at_q
                    .values()
                    .iter()
                    .zip(at_mirror.values())
                    .map(|(&a, &b)| if q <= 0.5 { a.min(b) } else { a.max(b) })
                    .collect();
                Draw::new(at_q.names().to_vec(), values)
            })
            .collect())
    }
}

#[cfg(feature = "progress")]
use bar::SviBar;
#[cfg(not(feature = "progress"))]
use hidden::SviBar;

#[cfg(not(feature = "progress"))]
mod hidden {
    /// No bar: built without the `progress` feature.
    pub(super) struct SviBar;

    impl SviBar {
        pub(super) fn new(_wanted: Option<bool>, _total: usize) -> Self {
            SviBar
        }

        pub(super) fn update(&self, _done: usize, _trace: &[f64]) {}

        pub(super) fn finish(&self) {}
    }
}

#[cfg(feature = "progress")]
mod bar {
    use std::time::Instant;

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    /// The progress bar of an SVI run: steps, rate and the mean ELBO of the last 10 %.
    pub(super) struct SviBar {
        bar: Option<ProgressBar>,
        every: usize,
        start: Instant,
    }

    impl SviBar {
        pub(super) fn new(wanted: Option<bool>, total: usize) -> Self {
            let enabled = tilde_samplers::progress_enabled(wanted);
            let bar = enabled.then(|| {
                let bar =
                    ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template("svi [{bar:30}] {pos:>6}/{len:6} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                bar.set_style(style);
                bar
            });
            SviBar {
                bar,
                every: (total / 100).max(1),
                start: Instant::now(),
            }
        }

        pub(super) fn update(&self, done: usize, trace: &[f64]) {
            let Some(bar) = &self.bar else { return };
            if !done.is_multiple_of(self.every) {
                return;
            }
            let window = &trace[trace.len().saturating_sub(self.every * 10)..];
            let mean = window.iter().sum::<f64>() / window.len() as f64;
            let rate = done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
            bar.set_position(done as u64);
            bar.set_message(format!("{rate:>8.0} it/s, ELBO {mean:.4}"));
        }

        pub(super) fn finish(&self) {
            if let Some(bar) = &self.bar {
                bar.finish();
            }
        }
    }
}
