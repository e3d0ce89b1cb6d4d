//! Hamiltonian Monte Carlo: the HMC family's state and parameters, the leapfrog
//! integrator and HMC with a fixed number of steps.

use rand::{Rng, RngExt};
use tilde_core::{Error, Layout, LogDensity, Result};

use crate::adaptation::MetricAdaptation;
use crate::kernel::{Kernel, KernelInfo, KernelParams, KernelState};
use crate::metric::Metric;

/// The state of an HMC-family chain: a position with its cached log-density and gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct HmcState {
    /// The unconstrained position.
    pub position: Vec<f64>,
    /// The log-density at `position`.
    pub log_density: f64,
    /// Its gradient.
    pub log_density_grad: Vec<f64>,
}

/// Per-step parameters, passed on every step so adaptation and chains can vary them.
#[derive(Clone, Debug, PartialEq)]
pub struct HmcParams {
    /// The leapfrog step size.
    pub step_size: f64,
    /// The inverse mass matrix.
    pub inverse_mass_matrix: Metric,
}

impl HmcParams {
    /// The parameters recorded for draws that no HMC-family kernel made (predictive
    /// simulations, kernels without a step size or metric): a NaN step size and an
    /// empty metric.
    pub fn none() -> Self {
        HmcParams {
            step_size: f64::NAN,
            inverse_mass_matrix: Metric::unit(0),
        }
    }

    /// Checks that the step size is positive and finite and that the inverse mass matrix
    /// is usable (see [`Metric::validate`]). The fields are public, so parameters built
    /// by hand or read from a file are checked here before a run uses them.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the offending value.
    pub fn validate(&self) -> Result<()> {
        if !(self.step_size > 0.0 && self.step_size.is_finite()) {
            return Err(Error::InvalidConfig(format!(
                "step_size must be positive and finite, got {}",
                self.step_size
            )));
        }
        self.inverse_mass_matrix.validate()
    }
}

/// What one transition did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HmcInfo {
    /// The mean Metropolis acceptance probability over the trajectory.
    pub acceptance_rate: f64,
    /// The mean over the trajectory of `2 / (1 + e^{|ΔH|})`, `ΔH` each point's energy
    /// error (for [`Hmc`] the proposal's alone): an acceptance statistic that depends
    /// on the size of the energy error only, not on its sign, so it varies less from
    /// transition to transition than `acceptance_rate`, and agrees with it to first
    /// order in small errors; 0 for a divergent point. What step-size adaptation
    /// drives towards the target with [`Tuning::symmetric_acceptance`] (and late in
    /// warm-up with [`Tuning::late_symmetric_warmup`]). [`Nuts`](crate::Nuts) computes
    /// it only with one of those settings (it costs one exponential per leapfrog step)
    /// and reports `acceptance_rate` here otherwise.
    pub symmetric_acceptance_rate: f64,
    /// The trajectory's energy error exceeded the divergence threshold, or the
    /// log-density stopped being finite.
    pub is_divergent: bool,
    /// The Hamiltonian at the returned state.
    pub energy: f64,
    /// Leapfrog steps taken (= gradient evaluations).
    pub num_integration_steps: usize,
    /// NUTS tree depth (number of doublings); 0 for HMC.
    pub tree_depth: usize,
}

impl KernelState for HmcState {
    fn position(&self) -> &[f64] {
        &self.position
    }

    fn log_density_grad(&self) -> Option<&[f64]> {
        Some(&self.log_density_grad)
    }

    fn log_density(&self) -> f64 {
        self.log_density
    }
}

impl KernelParams for HmcParams {
    fn step_size(&self) -> f64 {
        self.step_size
    }

    fn hmc_params(&self) -> Option<HmcParams> {
        Some(self.clone())
    }

    fn validate(&self, dim: usize) -> Result<()> {
        if self.inverse_mass_matrix.dim() != dim {
            return Err(Error::DimensionMismatch {
                expected: dim,
                found: self.inverse_mass_matrix.dim(),
            });
        }
        HmcParams::validate(self)
    }
}

impl KernelInfo for HmcInfo {
    fn acceptance_rate(&self) -> f64 {
        self.acceptance_rate
    }

    fn symmetric_acceptance_rate(&self) -> f64 {
        self.symmetric_acceptance_rate
    }

    fn num_evaluations(&self) -> usize {
        self.num_integration_steps
    }

    fn is_divergent(&self) -> bool {
        self.is_divergent
    }

    fn tree_depth(&self) -> usize {
        self.tree_depth
    }

    fn energy(&self) -> f64 {
        self.energy
    }
}

/// The adaptation settings shared by the kernels of the HMC family, after NumPyro's
/// `NUTS`/`HMC` arguments: the target acceptance rate, how the inverse mass matrix is
/// estimated ([`MetricAdaptation`]), a dense or diagonal inverse mass matrix, the
/// initial step size, whether the step size and the mass matrix adapt, and a user's
/// inverse mass matrix to start from.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuning {
    /// The acceptance rate dual averaging aims for.
    pub target_accept: f64,
    /// How warm-up estimates the inverse mass matrix: from draws and gradients
    /// ([`MetricAdaptation::Fisher`], the default of [`Nuts`](crate::Nuts) and [`Hmc`]),
    /// in Stan's windows ([`MetricAdaptation::StanWindows`], the default of the other
    /// kernels), or diagonal with a low-rank update ([`MetricAdaptation::LowRank`]).
    /// `dense_mass` and `dense_mass_blocks` are estimated in Stan's windows whatever
    /// this says, except with `LowRank`, which they contradict (an error).
    pub metric_adaptation: MetricAdaptation,
    /// Estimate a dense inverse mass matrix instead of a diagonal one.
    pub dense_mass: bool,
    /// The step size warm-up starts from (default 1; the kernel's heuristic refines it
    /// when the step size adapts).
    pub step_size: f64,
    /// Adapt the step size (dual averaging); without it the step size stays as given.
    pub adapt_step_size: bool,
    /// Dual averaging drives the kernel's
    /// [`symmetric_acceptance_rate`](crate::KernelInfo::symmetric_acceptance_rate)
    /// towards `target_accept` instead of its acceptance rate (default `false`). The
    /// symmetric statistic is less noisy and gives slightly larger step sizes: on
    /// the peer benchmarks of `docs/performance.md` it raised the ESS per gradient of
    /// NUTS by 2–27 %, but it made the `gp_pois_regr` reference fail more often
    /// (alpha under-explored), so it is not the default.
    pub symmetric_acceptance: bool,
    /// With [`MetricAdaptation::Fisher`] or [`MetricAdaptation::LowRank`]: a late
    /// warm-up for a larger step size (default `true` for [`Nuts`](crate::Nuts),
    /// `false` for [`Hmc`] and the other kernels) — windows after the early phase
    /// that grow 1.5× each, dual averaging on the symmetric acceptance statistic once
    /// no switch is left, a final step-size-only phase of the last 10 % of warm-up
    /// (instead of 15 %) and no restart at its start (one at its first divergent
    /// transition instead); [`FisherAdaptation`](crate::adaptation::FisherAdaptation).
    /// On the peer models of `docs/performance.md` (eight schools, a 100-d Gaussian,
    /// logistic regression) it raised NUTS's ESS per gradient by 2–25 % (24-seed
    /// medians) at the same pass rates of the posteriordb references over seeds; the
    /// centred eight-schools funnel at `target_accept` 0.99 takes a smaller step size
    /// with it and spends about 23 % more gradients.
    /// `false` is the restarted warm-up NUTS used before: windows of 80 draws, the
    /// acceptance rate throughout, dual averaging restarted for a final phase of 15 %
    /// (a smaller, more cautious step size).
    pub late_symmetric_warmup: bool,
    /// Adapt the inverse mass matrix in the slow windows; without it the matrix stays
    /// as given (or the unit one).
    pub adapt_mass_matrix: bool,
    /// The inverse mass matrix warm-up starts from (kept when the mass matrix does not
    /// adapt); the unit matrix when `None`.
    pub inverse_mass_matrix: Option<Metric>,
    /// Groups of site names whose inverse mass matrix is dense, diagonal elsewhere
    /// (NumPyro's `dense_mass=[("x", "y")]`; empty: no block).
    pub dense_blocks: Vec<Vec<String>>,
    /// `dense_blocks` as coordinates of the model a run binds to ([`Kernel::bind_layout`]).
    pub(crate) block_indices: Vec<Vec<usize>>,
}

impl Tuning {
    /// The defaults with a target acceptance rate of `target_accept` and Stan's window
    /// adaptation ([`MetricAdaptation::StanWindows`]; [`Nuts`](crate::Nuts) and
    /// [`Hmc`] switch to [`MetricAdaptation::Fisher`]).
    pub fn new(target_accept: f64) -> Self {
        Tuning {
            target_accept,
            metric_adaptation: MetricAdaptation::StanWindows,
            dense_mass: false,
            step_size: 1.0,
            adapt_step_size: true,
            symmetric_acceptance: false,
            late_symmetric_warmup: false,
            adapt_mass_matrix: true,
            inverse_mass_matrix: None,
            dense_blocks: Vec::new(),
            block_indices: Vec::new(),
        }
    }

    /// The coordinates of each dense block, once bound to a model's layout (empty
    /// before, or without blocks).
    pub fn block_indices(&self) -> &[Vec<usize>] {
        &self.block_indices
    }

    /// These settings with [`dense_blocks`](Self::dense_blocks) resolved to the
    /// coordinates of `layout`'s sites; `None` without blocks.
    ///
    /// # Errors
    /// [`Error::UnknownName`] for a name that is no site, [`Error::InvalidConfig`]
    /// for a site that is not latent or is in two blocks, or blocks together with
    /// `dense_mass(true)`.
    pub fn bind_layout(&self, layout: &Layout) -> Result<Option<Tuning>> {
        if self.dense_blocks.is_empty() {
            return Ok(None);
        }
        if self.dense_mass {
            return Err(Error::InvalidConfig(
                "dense_mass(true) makes the whole inverse mass matrix dense; it cannot be \
                 combined with dense_mass_blocks"
                    .into(),
            ));
        }
        let mut used = vec![false; layout.dim()];
        let mut blocks = Vec::with_capacity(self.dense_blocks.len());
        for group in &self.dense_blocks {
            let mut indices = Vec::new();
            for name in group {
                let site = layout.site(name).ok_or_else(|| Error::UnknownName {
                    name: name.clone(),
                    known: layout.latent().map(|s| s.name.clone()).collect(),
                })?;
                let Some(offset) = site.offset else {
                    return Err(Error::InvalidConfig(format!(
                        "dense_mass_blocks: `{name}` is not a latent site"
                    )));
                };
                for i in offset..offset + site.num_unconstrained {
                    if used.get(i).copied().unwrap_or(true) {
                        return Err(Error::InvalidConfig(format!(
                            "dense_mass_blocks: `{name}` is in more than one block"
                        )));
                    }
                    used[i] = true;
                    indices.push(i);
                }
            }
            indices.sort_unstable();
            if !indices.is_empty() {
                blocks.push(indices);
            }
        }
        Ok(Some(Tuning {
            block_indices: blocks,
            ..self.clone()
        }))
    }

    /// The metric adaptation warm-up runs: `metric_adaptation`, except Stan's windows
    /// for a dense or block-diagonal inverse mass matrix.
    pub fn effective_metric_adaptation(&self) -> MetricAdaptation {
        if self.dense_mass || !self.dense_blocks.is_empty() {
            MetricAdaptation::StanWindows
        } else {
            self.metric_adaptation
        }
    }

    /// `metric` in the structure these settings ask for: dense, diagonal, the blocks
    /// once bound, or a low-rank metric kept as it is under
    /// [`MetricAdaptation::LowRank`].
    pub(crate) fn fit_metric(&self, metric: &Metric) -> Metric {
        if let (Metric::LowRank(_), MetricAdaptation::LowRank { .. }) =
            (metric, self.effective_metric_adaptation())
        {
            return metric.clone();
        }
        if self.block_indices.is_empty() {
            metric.for_kernel(self.dense_mass)
        } else {
            metric.for_blocks(&self.block_indices)
        }
    }

    /// Checks the settings: a target in (0, 1), a positive finite step size, a usable
    /// inverse mass matrix, a low-rank cutoff above 1 and no low-rank adaptation
    /// together with a dense mass matrix or dense blocks.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        check_target_accept(self.target_accept)?;
        if let MetricAdaptation::LowRank { eigenvalue_cutoff } = self.metric_adaptation {
            if !(eigenvalue_cutoff >= 1.0 && eigenvalue_cutoff.is_finite()) {
                return Err(Error::InvalidConfig(format!(
                    "the low-rank eigenvalue_cutoff must be finite and at least 1, got \
                     {eigenvalue_cutoff}"
                )));
            }
            if self.dense_mass || !self.dense_blocks.is_empty() {
                return Err(Error::InvalidConfig(
                    "MetricAdaptation::LowRank estimates its own correlations; it cannot be \
                     combined with dense_mass(true) or dense_mass_blocks"
                        .into(),
                ));
            }
        }
        if !(self.step_size > 0.0 && self.step_size.is_finite()) {
            return Err(Error::InvalidConfig(format!(
                "step_size must be positive and finite, got {}",
                self.step_size
            )));
        }
        match &self.inverse_mass_matrix {
            Some(metric) => metric.validate(),
            None => Ok(()),
        }
    }

    /// The parameters before adaptation for a target of dimension `dim`: the step size,
    /// and the user's inverse mass matrix, else the one `given` (a warm start), else the
    /// unit one.
    pub fn initial_params(&self, dim: usize, given: Option<&Metric>) -> HmcParams {
        let start = self.inverse_mass_matrix.as_ref().or(given);
        if let Some(metric @ Metric::LowRank(_)) = start {
            return HmcParams {
                step_size: self.step_size,
                inverse_mass_matrix: self.fit_metric(metric),
            };
        }
        let params = initial_hmc_params(dim, start, self.dense_mass);
        HmcParams {
            step_size: self.step_size,
            inverse_mass_matrix: if self.block_indices.is_empty()
                || params.inverse_mass_matrix.dim() != dim
            {
                params.inverse_mass_matrix
            } else {
                params.inverse_mass_matrix.for_blocks(&self.block_indices)
            },
        }
    }
}

/// The builder methods of [`Tuning`]'s settings, for a kernel struct with a `tuning`
/// field.
macro_rules! tuning_builders {
    () => {
        /// The acceptance rate step-size adaptation aims for (the kernel's own default:
        /// 0.8 for HMC and NUTS — raise it, e.g. to 0.95, when divergences appear —,
        /// 0.574 for MALA, 0.4 for Barker, 0.234 for random-walk Metropolis).
        pub fn target_accept(mut self, rate: f64) -> Self {
            self.tuning.target_accept = rate;
            self
        }

        /// How warm-up estimates the inverse mass matrix ([`MetricAdaptation`](crate::MetricAdaptation)): from
        /// draws and gradients (`Fisher`, the default of `Nuts` and `Hmc`), in Stan's
        /// windows (`StanWindows`, the default of the other kernels and what `Nuts` and
        /// `Hmc` did before), or diagonal with a low-rank update (`LowRank`).
        ///
        /// ```
        /// use tilde_samplers::{MetricAdaptation, Nuts};
        ///
        /// assert_eq!(Nuts::default().tuning().metric_adaptation, MetricAdaptation::Fisher);
        /// let stan = Nuts::default().metric_adaptation(MetricAdaptation::StanWindows);
        /// let low_rank = Nuts::default().metric_adaptation(MetricAdaptation::low_rank());
        /// # let _ = (stan, low_rank);
        /// ```
        pub fn metric_adaptation(
            mut self,
            adaptation: $crate::adaptation::MetricAdaptation,
        ) -> Self {
            self.tuning.metric_adaptation = adaptation;
            self
        }

        /// Adapt a dense inverse mass matrix instead of a diagonal one, from the draws'
        /// covariance in Stan's windows.
        pub fn dense_mass(mut self, dense: bool) -> Self {
            self.tuning.dense_mass = dense;
            self
        }

        /// Adapt the step size on the symmetric acceptance statistic
        /// `2 / (1 + e^{|ΔH|})` instead of the Metropolis acceptance rate
        /// ([`Tuning::symmetric_acceptance`](crate::Tuning::symmetric_acceptance);
        /// default `false`).
        ///
        /// ```
        /// use tilde_samplers::Nuts;
        ///
        /// let nuts = Nuts::default().symmetric_acceptance(true);
        /// assert!(nuts.tuning().symmetric_acceptance);
        /// ```
        pub fn symmetric_acceptance(mut self, symmetric: bool) -> Self {
            self.tuning.symmetric_acceptance = symmetric;
            self
        }

        /// A late warm-up for a larger step size with the Fisher adaptation: growing
        /// windows, the symmetric statistic late, a final phase of 10 % without a
        /// restart of dual averaging at its start
        /// ([`Tuning::late_symmetric_warmup`](crate::Tuning::late_symmetric_warmup);
        /// default `true` for NUTS, `false` for HMC). `false` gives the restarted
        /// warm-up NUTS used by default before.
        ///
        /// ```
        /// use tilde_samplers::{Hmc, Nuts};
        ///
        /// assert!(Nuts::default().tuning().late_symmetric_warmup);
        /// assert!(!Hmc::default().tuning().late_symmetric_warmup);
        /// // the restarted warm-up
        /// let nuts = Nuts::default().late_symmetric_warmup(false);
        /// assert!(!nuts.tuning().late_symmetric_warmup);
        /// ```
        pub fn late_symmetric_warmup(mut self, late: bool) -> Self {
            self.tuning.late_symmetric_warmup = late;
            self
        }

        /// The step size warm-up starts from (default 1); positive and finite.
        pub fn step_size(mut self, step_size: f64) -> Self {
            self.tuning.step_size = step_size;
            self
        }

        /// A dense inverse mass matrix within each group of sites and a diagonal one
        /// elsewhere (NumPyro's `dense_mass=[("x", "y")]`): `&[&["x", "y"]]`.
        /// Unknown names, sites that are not latent, a site in two groups, or groups
        /// with `dense_mass(true)` are errors when a run starts.
        ///
        /// ```
        /// use tilde_samplers::Nuts;
        ///
        /// let nuts = Nuts::default().dense_mass_blocks(&[&["mu", "tau"]]);
        /// assert_eq!(nuts.tuning().dense_blocks, [vec!["mu".to_string(), "tau".into()]]);
        /// ```
        pub fn dense_mass_blocks(mut self, blocks: &[&[&str]]) -> Self {
            self.tuning.dense_blocks = blocks
                .iter()
                .map(|group| group.iter().map(|name| name.to_string()).collect())
                .collect();
            self
        }

        /// Adapt the step size during warm-up (default true).
        pub fn adapt_step_size(mut self, adapt: bool) -> Self {
            self.tuning.adapt_step_size = adapt;
            self
        }

        /// Adapt the inverse mass matrix during warm-up (default true).
        pub fn adapt_mass_matrix(mut self, adapt: bool) -> Self {
            self.tuning.adapt_mass_matrix = adapt;
            self
        }

        /// The inverse mass matrix warm-up starts from, or keeps with
        /// `adapt_mass_matrix(false)`; its dimension must be the model's.
        pub fn inverse_mass_matrix(mut self, metric: $crate::metric::Metric) -> Self {
            self.tuning.inverse_mass_matrix = Some(metric);
            self
        }

        /// The adaptation settings.
        pub fn tuning(&self) -> &$crate::hmc::Tuning {
            &self.tuning
        }
    };
}
pub(crate) use tuning_builders;

/// `impl WindowAdapted` for a kernel struct with a `tuning` field: its step-size
/// heuristic is Stan's one leapfrog step (`leapfrog`, for kernels with an [`HmcState`])
/// or trial transitions towards the target acceptance rate (`trial`).
macro_rules! window_adapted {
    ($kernel:ty, $state:ty, leapfrog) => {
        $crate::hmc::window_adapted!(@impl $kernel, $state, |_kernel, target, rng, state, params| {
            $crate::adaptation::find_reasonable_step_size(target, rng, state, params)
        });
    };
    ($kernel:ty, $state:ty, trial) => {
        $crate::hmc::window_adapted!(@impl $kernel, $state, |kernel, target, rng, state, params| {
            $crate::adaptation::trial_step_size(
                kernel,
                target,
                rng,
                state,
                params,
                kernel.tuning.target_accept,
            )
        });
    };
    (@impl $kernel:ty, $state:ty, |$k:ident, $t:ident, $r:ident, $s:ident, $p:ident| $body:block) => {
        impl $crate::hmc::WindowAdapted for $kernel {
            fn tuning(&self) -> &$crate::hmc::Tuning {
                &self.tuning
            }

            fn reasonable_step_size<L: tilde_core::LogDensity + ?Sized, R: rand::Rng + ?Sized>(
                &self,
                $t: &L,
                $r: &mut R,
                $s: &$state,
                $p: &$crate::hmc::HmcParams,
            ) -> f64 {
                let $k = self;
                $body
            }
        }
    };
}
pub(crate) use window_adapted;

/// A kernel of the HMC family, tuned by [`HmcAdaptation`](crate::HmcAdaptation) (Stan's
/// [`WindowAdaptation`](crate::WindowAdaptation) or
/// [`FisherAdaptation`](crate::FisherAdaptation), as [`Tuning::metric_adaptation`]
/// says), its parameters a step size and an inverse mass matrix: dual averaging of the
/// step size towards [`Tuning::target_accept`] and windowed estimates of the inverse
/// mass matrix.
pub trait WindowAdapted: Kernel<Params = HmcParams> {
    /// The adaptation settings.
    fn tuning(&self) -> &Tuning;

    /// A step size to start dual averaging from, near `params.step_size`.
    fn reasonable_step_size<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &Self::State,
        params: &HmcParams,
    ) -> f64;
}

/// The parameters of an HMC-family kernel before adaptation: step size 1 and the given
/// inverse mass matrix, or the unit one (dense when `dense`).
pub(crate) fn initial_hmc_params(dim: usize, given: Option<&Metric>, dense: bool) -> HmcParams {
    let inverse_mass_matrix = match given {
        Some(m) => m.for_kernel(dense),
        None if dense => Metric::dense_unit(dim),
        None => Metric::unit(dim),
    };
    HmcParams {
        step_size: 1.0,
        inverse_mass_matrix,
    }
}

/// Checks a `target_accept` setting: strictly between 0 and 1.
pub(crate) fn check_target_accept(rate: f64) -> Result<()> {
    if rate > 0.0 && rate < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "target_accept must be in (0, 1), got {rate}"
        )))
    }
}

/// The implementation of [`Kernel`]'s items shared by the kernels with [`HmcParams`]
/// and window adaptation (`State`, `Params`, `Adaptation`, `init`, `refresh`,
/// `initial_params`, `fit_params`, `adaptation`), for a kernel struct with
/// a `tuning` field ([`Tuning`]); the state type and its `init` and
/// `refresh` functions are given.
macro_rules! hmc_family_items {
    ($state:ty, $init:path, $refresh:path) => {
        type State = $state;
        type Params = $crate::hmc::HmcParams;
        type Adaptation = $crate::adaptation::HmcAdaptation;

        fn init<L: tilde_core::LogDensity + ?Sized>(
            &self,
            target: &L,
            position: &[f64],
        ) -> tilde_core::Result<$state> {
            $init(target, position)
        }

        fn refresh<L: tilde_core::LogDensity + ?Sized>(
            &self,
            target: &L,
            state: &mut $state,
        ) -> tilde_core::Result<()> {
            $refresh(target, state)
        }

        fn initial_params(
            &self,
            dim: usize,
            inverse_mass_matrix: Option<&$crate::metric::Metric>,
        ) -> $crate::hmc::HmcParams {
            self.tuning.initial_params(dim, inverse_mass_matrix)
        }

        fn fit_params(&self, params: $crate::hmc::HmcParams) -> $crate::hmc::HmcParams {
            $crate::hmc::HmcParams {
                step_size: params.step_size,
                inverse_mass_matrix: self.tuning.fit_metric(&params.inverse_mass_matrix),
            }
        }

        fn bind_layout(&self, layout: &tilde_core::Layout) -> tilde_core::Result<Option<Self>> {
            Ok(self.tuning.bind_layout(layout)?.map(|tuning| {
                let mut kernel = self.clone();
                kernel.tuning = tuning;
                kernel
            }))
        }

        fn adaptation(
            &self,
            dim: usize,
            num_warmup: usize,
            adapt_metric: bool,
        ) -> $crate::adaptation::HmcAdaptation {
            $crate::adaptation::HmcAdaptation::new(dim, num_warmup, &self.tuning, adapt_metric)
        }
    };
}
pub(crate) use hmc_family_items;

/// The state at `position`, or an error when it is not a valid start.
pub(crate) fn init_state<L: LogDensity + ?Sized>(target: &L, position: &[f64]) -> Result<HmcState> {
    if position.len() != target.dim() {
        return Err(Error::DimensionMismatch {
            expected: target.dim(),
            found: position.len(),
        });
    }
    let mut grad = vec![0.0; position.len()];
    let log_density = target.logp_and_grad(position, &mut grad);
    if !log_density.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return Err(Error::InitFailed {
            tries: 1,
            reason: format!(
                "the log-density ({log_density}) or its gradient is not finite at the given position"
            ),
        });
    }
    Ok(HmcState {
        position: position.to_vec(),
        log_density,
        log_density_grad: grad,
    })
}

/// Re-evaluates an [`HmcState`]'s log-density and gradient in place.
pub(crate) fn refresh_state<L: LogDensity + ?Sized>(
    target: &L,
    state: &mut HmcState,
) -> Result<()> {
    state.log_density = target.logp_and_grad(&state.position, &mut state.log_density_grad);
    if state.log_density.is_finite() && state.log_density_grad.iter().all(|g| g.is_finite()) {
        Ok(())
    } else {
        Err(Error::InitFailed {
            tries: 1,
            reason: format!(
                "the log-density ({}) or its gradient is not finite",
                state.log_density
            ),
        })
    }
}

/// A point in phase space, with its cached log-density, gradient and velocity `M⁻¹p`.
#[derive(Clone, Debug)]
pub(crate) struct Point {
    pub q: Vec<f64>,
    pub p: Vec<f64>,
    pub grad: Vec<f64>,
    pub v: Vec<f64>,
    pub log_density: f64,
}

impl Point {
    pub fn new(dim: usize) -> Self {
        Point {
            q: vec![0.0; dim],
            p: vec![0.0; dim],
            grad: vec![0.0; dim],
            v: vec![0.0; dim],
            log_density: 0.0,
        }
    }

    pub fn copy_from(&mut self, other: &Point) {
        self.q.copy_from_slice(&other.q);
        self.p.copy_from_slice(&other.p);
        self.grad.copy_from_slice(&other.grad);
        self.v.copy_from_slice(&other.v);
        self.log_density = other.log_density;
    }

    /// Loads a state and draws a fresh momentum.
    pub fn start<R: Rng + ?Sized>(&mut self, state: &HmcState, metric: &Metric, rng: &mut R) {
        self.q.copy_from_slice(&state.position);
        self.grad.copy_from_slice(&state.log_density_grad);
        self.log_density = state.log_density;
        metric.sample_momentum(rng, &mut self.p);
        metric.velocity(&self.p, &mut self.v);
    }

    /// Writes the point's position back into a state.
    pub fn store(&self, state: &mut HmcState) {
        state.position.copy_from_slice(&self.q);
        state.log_density_grad.copy_from_slice(&self.grad);
        state.log_density = self.log_density;
    }

    /// The Hamiltonian `-log p(q) + ½ pᵀ M⁻¹ p`; NaN counts as +∞.
    pub fn energy(&self) -> f64 {
        let kinetic: f64 = 0.5 * self.p.iter().zip(&self.v).map(|(a, b)| a * b).sum::<f64>();
        let h = -self.log_density + kinetic;
        if h.is_nan() { f64::INFINITY } else { h }
    }

    /// One leapfrog step of size `step_size` (negative to go backwards).
    pub fn leapfrog<L: LogDensity + ?Sized>(
        &mut self,
        target: &L,
        metric: &Metric,
        step_size: f64,
    ) {
        let half = 0.5 * step_size;
        for (p, g) in self.p.iter_mut().zip(&self.grad) {
            *p += half * g;
        }
        metric.velocity(&self.p, &mut self.v);
        for (q, v) in self.q.iter_mut().zip(&self.v) {
            *q += step_size * v;
        }
        self.log_density = target.logp_and_grad(&self.q, &mut self.grad);
        // NaN and +∞ are faults of the target, not points of infinite density: both
        // end the trajectory as a divergence (an accepted +∞ would freeze the chain)
        if self.log_density.is_nan() || self.log_density == f64::INFINITY {
            self.log_density = f64::NEG_INFINITY;
        }
        for (p, g) in self.p.iter_mut().zip(&self.grad) {
            *p += half * g;
        }
        metric.velocity(&self.p, &mut self.v);
    }
}

/// Checks a kernel's `divergence_threshold`: positive, and not NaN (a NaN threshold
/// would never flag a divergence). `+∞` is allowed: it turns the check off.
pub(crate) fn check_divergence_threshold(threshold: f64) -> Result<()> {
    if threshold > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "divergence_threshold must be positive, got {threshold}"
        )))
    }
}

/// The symmetric acceptance statistic of an energy error `h0 - h`:
/// `2 / (1 + e^{|h0 - h|})`, in `[0, 1]`; 0 when the error is not finite (`h` is +∞
/// for a NaN energy, [`Point::energy`]).
pub(crate) fn symmetric_acceptance(energy_error: f64) -> f64 {
    let s = 2.0 / (1.0 + energy_error.abs().exp());
    if s.is_nan() { 0.0 } else { s }
}

/// Hamiltonian Monte Carlo with a fixed number of leapfrog steps (or a fixed trajectory
/// length, turned into steps by the current step size) and a Metropolis correction.
#[derive(Clone, Debug, PartialEq)]
pub struct Hmc {
    num_steps: usize,
    trajectory_length: Option<f64>,
    tuning: Tuning,
    divergence_threshold: f64,
    jitter: f64,
}

impl Default for Hmc {
    fn default() -> Self {
        Hmc {
            num_steps: 10,
            trajectory_length: None,
            tuning: Tuning {
                metric_adaptation: MetricAdaptation::Fisher,
                ..Tuning::new(0.8)
            },
            divergence_threshold: 1000.0,
            jitter: 0.0,
        }
    }
}

impl Hmc {
    /// HMC with `num_steps` leapfrog steps per transition.
    pub fn new(num_steps: usize) -> Self {
        Hmc {
            num_steps: num_steps.max(1),
            ..Hmc::default()
        }
    }

    /// Sets a fixed trajectory length `L`: each transition takes `⌈L / step_size⌉` steps
    /// (at most 2²⁰). `L` must be positive and finite (checked when a run starts).
    pub fn trajectory_length(mut self, length: f64) -> Self {
        self.trajectory_length = Some(length);
        self
    }

    tuning_builders!();

    /// The energy error beyond which a trajectory is divergent (default 1000); must be
    /// positive (checked when a run starts).
    pub fn divergence_threshold(mut self, threshold: f64) -> Self {
        self.divergence_threshold = threshold;
        self
    }

    /// Draws each transition's step size uniformly in `step_size · (1 ± jitter)`
    /// (Stan's `stepsize_jitter`, `0 ≤ jitter < 1`; default 0), which breaks the
    /// resonances a fixed number of steps can fall into on near-Gaussian targets.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 0.99);
        self
    }
}

impl Hmc {
    /// The number of leapfrog steps of a transition at `step_size`.
    pub(crate) fn num_steps_at(&self, step_size: f64) -> usize {
        match self.trajectory_length {
            Some(length) => ((length / step_size).ceil() as usize).clamp(1, 1 << 20),
            None => self.num_steps,
        }
    }

    /// The energy error beyond which a trajectory is divergent.
    pub(crate) fn divergence_limit(&self) -> f64 {
        self.divergence_threshold
    }
}

/// Buffers of [`Hmc`].
#[derive(Clone, Debug)]
pub struct HmcWorkspace {
    point: Point,
}

window_adapted!(Hmc, HmcState, leapfrog);

impl Kernel for Hmc {
    type Info = HmcInfo;
    type Workspace = HmcWorkspace;
    hmc_family_items!(HmcState, init_state, refresh_state);

    fn workspace(&self, dim: usize) -> HmcWorkspace {
        HmcWorkspace {
            point: Point::new(dim),
        }
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        self.tuning.validate()?;
        check_divergence_threshold(self.divergence_threshold)?;
        if let Some(length) = self.trajectory_length
            && !(length > 0.0 && length.is_finite())
        {
            return Err(Error::InvalidConfig(format!(
                "trajectory_length must be positive and finite, got {length}"
            )));
        }
        Ok(())
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut HmcState,
        params: &HmcParams,
        workspace: &mut HmcWorkspace,
    ) -> HmcInfo {
        let z = &mut workspace.point;
        z.start(state, &params.inverse_mass_matrix, rng);
        let h0 = z.energy();
        let step_size = if self.jitter > 0.0 {
            params.step_size * (1.0 + self.jitter * (2.0 * rng.random::<f64>() - 1.0))
        } else {
            params.step_size
        };
        let num_steps = match self.trajectory_length {
            Some(length) => ((length / step_size).ceil() as usize).clamp(1, 1 << 20),
            None => self.num_steps,
        };
        let mut is_divergent = false;
        let mut steps = 0;
        for _ in 0..num_steps {
            z.leapfrog(target, &params.inverse_mass_matrix, step_size);
            steps += 1;
            if z.energy() - h0 > self.divergence_threshold {
                is_divergent = true;
                break;
            }
        }
        let h1 = z.energy();
        let acceptance_rate = if is_divergent {
            0.0
        } else {
            (h0 - h1).exp().min(1.0)
        };
        let symmetric_acceptance_rate = if is_divergent {
            0.0
        } else {
            symmetric_acceptance(h0 - h1)
        };
        let accepted = !is_divergent && rng.random::<f64>() < acceptance_rate;
        let energy = if accepted {
            z.store(state);
            h1
        } else {
            h0
        };
        HmcInfo {
            acceptance_rate,
            symmetric_acceptance_rate,
            is_divergent,
            energy,
            num_integration_steps: steps,
            tree_depth: 0,
        }
    }
}
