//! Metric adaptation from draws and gradients (Seyboldt, Carlson & Carpenter 2026,
//! arXiv 2603.18845): the Fisher-divergence diagonal (or its low-rank update), updated
//! at every warm-up iteration from a foreground estimator while a background one
//! collects the recent draws and replaces it at regular switches, then a final phase
//! that adapts the step size alone.

use rand::Rng;
use tilde_core::LogDensity;

use super::{DualAveraging, MetricAdaptation, Welford, low_rank::low_rank_metric};
use crate::hmc::{HmcParams, Tuning, WindowAdapted};
use crate::kernel::{Adaptation, KernelInfo, KernelState};
use crate::metric::Metric;

/// The three phases of [`FisherSchedule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FisherPhase {
    /// The first 30 %: the background estimator is switched in every 10 kept draws,
    /// so the metric follows the chain out of its starting region quickly.
    Early,
    /// Up to the final phase: the background estimator is switched in after windows of
    /// 80 kept draws (with [`FisherSchedule::with_growth`], each window that many
    /// times the one before), except when the next window would not end before the
    /// final phase (the last foreground estimator then keeps growing).
    Late,
    /// The last 15 % (10 % with [`Tuning::late_symmetric_warmup`], the default of
    /// [`Nuts`](crate::Nuts)): the metric is fixed and only the step size adapts,
    /// dual averaging restarted at its start, so the final step size suits the final
    /// metric (with [`Tuning::late_symmetric_warmup`]: continued, and restarted once at
    /// the first divergent transition of this phase).
    Final,
}

/// The warm-up schedule of [`FisherAdaptation`] for `num_warmup` iterations (the
/// design of Seyboldt, Carlson & Carpenter 2026): an early phase of short windows (the first 30 %, switching every 10 kept
/// draws), windows of 80 kept draws (growing, [`FisherSchedule::with_growth`]) and a
/// final step-size-only phase (the last 15 %, [`FisherSchedule::with_final_share`]).
/// The metric is re-estimated after every
/// iteration before the final phase from the foreground estimator, which holds the
/// draws since the switch before last; a background estimator holds the draws since
/// the last switch and replaces it at the next. Once the next window would not end
/// before the final phase, no switch is left: the iterations from there on are *late*
/// ([`FisherSchedule::is_late`]); with [`Tuning::late_symmetric_warmup`] dual
/// averaging follows the symmetric acceptance statistic there.
///
/// # Example
/// ```
/// use tilde_samplers::adaptation::{FisherPhase, FisherSchedule};
///
/// let schedule = FisherSchedule::new(1000);
/// assert_eq!((schedule.early_end(), schedule.final_start()), (300, 850));
/// assert_eq!(schedule.phase(299), FisherPhase::Early);
/// assert_eq!(schedule.phase(850), FisherPhase::Final);
/// // when every draw is kept: switches every 10 draws, then every 80
/// let switches = schedule.switches();
/// assert_eq!(&switches[..3], [9, 19, 29]);
/// assert_eq!(&switches[29..], [299, 379, 459, 539, 619, 699]);
/// // windows growing 1.5×: after 80 and 120 draws; the window after 180
/// // would end past iteration 850, so no switch is left from 581 on
/// let growing = FisherSchedule::with_growth(1000, 1.5);
/// assert_eq!(&growing.switches()[29..], [299, 379, 499]);
/// assert!(!growing.is_late(580, 180) && growing.is_late(581, 180));
/// // the schedule of the late symmetric warm-up: a final phase of the last 10 %
/// let late = growing.with_final_share(0.1);
/// assert_eq!(late.final_start(), 900);
/// assert_eq!(&late.switches()[29..], [299, 379, 499]);
/// assert!(!late.is_late(630, 180) && late.is_late(631, 180));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FisherSchedule {
    num_warmup: usize,
    early_end: usize,
    final_start: usize,
    growth: f64,
}

/// Kept draws between switches in the early phase.
const EARLY_SWITCH: usize = 10;
/// Kept draws in the first window after it.
const LATE_SWITCH: usize = 80;
/// Each late window is this many times the one before with
/// [`Tuning::late_symmetric_warmup`].
const LATE_GROWTH: f64 = 1.5;
/// The share of warm-up in the final phase.
const FINAL_SHARE: f64 = 0.15;
/// The share of warm-up in the final phase with [`Tuning::late_symmetric_warmup`]:
/// dual averaging is continued there, not restarted, so it needs fewer iterations to
/// settle, and the last metric holds 50 draws (per 1000 iterations) more.
const LATE_FINAL_SHARE: f64 = 0.10;
/// The largest share of the final phase (the early phase takes the first 30 %).
const MAX_FINAL_SHARE: f64 = 0.7;

impl FisherSchedule {
    /// The schedule of `num_warmup` iterations, with late windows of 80 kept draws.
    pub fn new(num_warmup: usize) -> Self {
        Self::with_growth(num_warmup, 1.0)
    }

    /// The schedule of `num_warmup` iterations whose late windows grow: the first of 80
    /// kept draws, each next one `growth` times the one before (at least one draw
    /// more); `growth` ≤ 1 (or NaN) keeps them at 80.
    pub fn with_growth(num_warmup: usize, growth: f64) -> Self {
        let n = num_warmup as f64;
        FisherSchedule {
            num_warmup,
            early_end: (0.3 * n) as usize,
            final_start: num_warmup - (FINAL_SHARE * n) as usize,
            growth: if growth > 1.0 { growth } else { 1.0 },
        }
    }

    /// The same schedule with a final phase of the last `share` of the iterations
    /// (default 0.15), `share` clamped to `[0, 0.7]` (NaN keeps 0.15).
    pub fn with_final_share(self, share: f64) -> Self {
        let share = if share.is_nan() {
            FINAL_SHARE
        } else {
            share.clamp(0.0, MAX_FINAL_SHARE)
        };
        let final_start = self.num_warmup - (share * self.num_warmup as f64) as usize;
        FisherSchedule {
            final_start: final_start.max(self.early_end),
            ..self
        }
    }

    /// The first iteration after the early phase.
    pub fn early_end(&self) -> usize {
        self.early_end
    }

    /// The first iteration of the final, step-size-only phase.
    pub fn final_start(&self) -> usize {
        self.final_start
    }

    /// The phase of iteration `i` (0-based).
    pub fn phase(&self, i: usize) -> FisherPhase {
        if i >= self.final_start {
            FisherPhase::Final
        } else if i < self.early_end {
            FisherPhase::Early
        } else {
            FisherPhase::Late
        }
    }

    /// The window (kept draws before a switch) that follows a window of `window` kept
    /// draws ending at iteration `i`: 10 in the early phase, else `window`, or the
    /// growth times `window` (at least one more) when the windows grow.
    pub fn next_window(&self, i: usize, window: usize) -> usize {
        if i < self.early_end {
            EARLY_SWITCH
        } else if self.growth > 1.0 {
            ((window as f64 * self.growth).round() as usize).max(window + 1)
        } else {
            window
        }
    }

    /// The first window of the late phase when the background estimator holds
    /// `background` kept draws at its start: 80, or `background` if more.
    pub fn first_late_window(background: usize) -> usize {
        LATE_SWITCH.max(background)
    }

    /// Whether iteration `i`, in a window of `window` kept draws, is late: in the final
    /// phase, or where the window after the current one would not end before it (no
    /// switch can happen any more).
    pub fn is_late(&self, i: usize, window: usize) -> bool {
        i + self.next_window(i, window) > self.final_start
    }

    /// The iterations at which the background estimator is switched in when every
    /// draw is kept (none diverges).
    pub fn switches(&self) -> Vec<usize> {
        let mut background = 0;
        let mut window = EARLY_SWITCH;
        let mut out = Vec::new();
        for i in 0..self.final_start.min(self.num_warmup) {
            background += 1;
            if i == self.early_end {
                window = Self::first_late_window(background);
            }
            if background >= window && !self.is_late(i, window) {
                out.push(i);
                background = 0;
                window = self.next_window(i, window);
            }
        }
        out
    }
}

/// The Fisher-divergence diagonal `σᵢ² = sqrt(Var(xᵢ) / Var(gᵢ))` from the variances of
/// the draws and of their gradients, in `[10⁻²⁰, 10²⁰]`; a coordinate whose estimate
/// is not positive and finite (a constant gradient, a constant draw, a NaN) keeps its
/// value in `previous`.
///
/// For a Gaussian target `Var(gᵢ) = (Σ⁻¹)ᵢᵢ`, so for independent coordinates the
/// estimate is the variance itself, from few draws.
///
/// ```
/// use tilde_samplers::adaptation::fisher_diagonal;
///
/// let metric = fisher_diagonal(&[4.0, 1.0, 0.0], &[0.25, 0.0, 2.0], &[1.0, 0.5, 3.0]);
/// assert_eq!(metric, [4.0, 0.5, 3.0]);
/// ```
pub fn fisher_diagonal(draw_variance: &[f64], grad_variance: &[f64], previous: &[f64]) -> Vec<f64> {
    draw_variance
        .iter()
        .zip(grad_variance)
        .zip(previous)
        .map(|((vx, vg), old)| {
            let v = (vx / vg).sqrt();
            if v > 0.0 && v.is_finite() {
                v.clamp(1e-20, 1e20)
            } else {
                *old
            }
        })
        .collect()
}

/// Running variances of draws and of their gradients.
#[derive(Clone, Debug)]
struct DrawGradVariance {
    draws: Welford,
    grads: Welford,
}

impl DrawGradVariance {
    fn new(dim: usize) -> Self {
        DrawGradVariance {
            draws: Welford::new(dim, false),
            grads: Welford::new(dim, false),
        }
    }

    fn add(&mut self, x: &[f64], g: &[f64]) {
        self.draws.add(x);
        self.grads.add(g);
    }

    fn count(&self) -> usize {
        self.draws.count()
    }

    /// The Fisher diagonal, each coordinate falling back to `previous`.
    fn diagonal(&self, previous: &[f64]) -> Vec<f64> {
        let c = self.draws.count - 1.0;
        let vx: Vec<f64> = self.draws.m2.iter().map(|m| m / c).collect();
        let vg: Vec<f64> = self.grads.m2.iter().map(|m| m / c).collect();
        fisher_diagonal(&vx, &vg, previous)
    }
}

/// Warm-up from draws and gradients ([`MetricAdaptation::Fisher`] and
/// [`MetricAdaptation::LowRank`]) on [`FisherSchedule`]:
///
/// - `init`: the diagonal `1 / |∂ᵢ log p|` at the initial point (unless the user gave
///   an inverse mass matrix or there are no warm-up iterations to adapt it in), then a
///   step size by the kernel's heuristic;
/// - after every iteration, a dual-averaging update of the step size on the
///   acceptance rate (the symmetric statistic with [`Tuning::symmetric_acceptance`],
///   and with [`Tuning::late_symmetric_warmup`] from the late iterations on,
///   [`FisherSchedule::is_late`]);
/// - after each iteration before the final phase, a non-divergent draw and its gradient
///   go into the foreground and background estimators; at a switch the background
///   replaces the foreground; the metric is re-estimated from the foreground (the
///   Fisher diagonal at every iteration, the low-rank update at switches and every 10
///   iterations) once it holds 3 draws; when, at a switch, the metric has moved
///   materially since dual averaging last restarted (the root mean square of the
///   log-ratios of its variances is above `ln 2`), dual averaging restarts from its
///   averaged step size (restarting at every switch cost a quarter of the ESS per
///   gradient on garch11);
/// - the final phase restarts dual averaging on the final metric; `finalize` takes its
///   averaged step size. With [`Tuning::late_symmetric_warmup`] (the default of
///   [`Nuts`](crate::Nuts)) the late windows grow 1.5× each
///   ([`FisherSchedule::with_growth`]), the final phase is the last 10 %
///   ([`FisherSchedule::with_final_share`]) and continues dual averaging instead,
///   restarting it once at its first divergent transition (a restart's averaged
///   iterate ends lower, `docs/performance.md`).
///
/// A window of divergences adds nothing, so the metric stays; a coordinate whose
/// estimate is not positive and finite keeps its previous value; a step size that is
/// not positive and finite is never set.
#[derive(Clone, Debug)]
pub struct FisherAdaptation {
    schedule: FisherSchedule,
    iteration: usize,
    target_accept: f64,
    adapt_step_size: bool,
    symmetric_acceptance: bool,
    adapt_metric: bool,
    start_from_gradient: bool,
    low_rank_cutoff: Option<f64>,
    dual: DualAveraging,
    foreground: DrawGradVariance,
    background: DrawGradVariance,
    /// Low rank only: the foreground's draws and gradients; those from `split` on are
    /// the background's.
    draws: Vec<Vec<f64>>,
    grads: Vec<Vec<f64>>,
    split: usize,
    /// The metric's variances when dual averaging last restarted.
    restarted_at: Vec<f64>,
    /// Kept draws the background estimator needs before the next switch.
    window: usize,
    /// Whether a divergent transition of the final phase restarted dual averaging.
    restarted_on_divergence: bool,
    /// [`Tuning::late_symmetric_warmup`].
    late_symmetric: bool,
}

impl FisherAdaptation {
    /// The adaptation of `num_warmup` iterations on a target of dimension `dim` with
    /// the kernel's settings (`LowRank` in [`Tuning::metric_adaptation`] adds the
    /// low-rank update); `adapt_metric` false keeps the inverse mass matrix whatever
    /// the settings say (a warm start that gave one).
    pub fn new(dim: usize, num_warmup: usize, tuning: &Tuning, adapt_metric: bool) -> Self {
        let adapt_metric = adapt_metric && tuning.adapt_mass_matrix;
        let low_rank_cutoff = match tuning.metric_adaptation {
            MetricAdaptation::LowRank { eigenvalue_cutoff } => Some(eigenvalue_cutoff),
            _ => None,
        };
        let estimator_dim = if adapt_metric { dim } else { 0 };
        FisherAdaptation {
            schedule: if tuning.late_symmetric_warmup {
                FisherSchedule::with_growth(num_warmup, LATE_GROWTH)
                    .with_final_share(LATE_FINAL_SHARE)
            } else {
                FisherSchedule::new(num_warmup)
            },
            iteration: 0,
            target_accept: tuning.target_accept,
            adapt_step_size: tuning.adapt_step_size,
            symmetric_acceptance: tuning.symmetric_acceptance,
            adapt_metric,
            start_from_gradient: tuning.inverse_mass_matrix.is_none(),
            low_rank_cutoff,
            dual: DualAveraging::new(tuning.step_size, tuning.target_accept),
            foreground: DrawGradVariance::new(estimator_dim),
            background: DrawGradVariance::new(estimator_dim),
            draws: Vec::new(),
            grads: Vec::new(),
            split: 0,
            restarted_at: Vec::new(),
            window: EARLY_SWITCH,
            restarted_on_divergence: false,
            late_symmetric: tuning.late_symmetric_warmup,
        }
    }

    /// The acceptance statistic dual averaging follows at iteration `i`.
    fn statistic<I: KernelInfo>(&self, info: &I, i: usize) -> f64 {
        if self.symmetric_acceptance
            || (self.late_symmetric && self.schedule.is_late(i, self.window))
        {
            info.symmetric_acceptance_rate()
        } else {
            info.acceptance_rate()
        }
    }

    /// The schedule it follows.
    pub fn schedule(&self) -> &FisherSchedule {
        &self.schedule
    }

    /// Restarts dual averaging from its averaged step size (or `current` before any
    /// update).
    fn restart_step_size(&mut self, current: f64) {
        let averaged = self.dual.final_step_size();
        let start = if self.dual.counter > 0.0 && averaged > 0.0 && averaged.is_finite() {
            averaged
        } else {
            current
        };
        self.dual = DualAveraging::new(start, self.target_accept);
    }

    /// Switches the background estimator in.
    fn switch(&mut self) {
        let dim = self.background.draws.dim();
        self.foreground = std::mem::replace(&mut self.background, DrawGradVariance::new(dim));
        self.draws.drain(..self.split);
        self.grads.drain(..self.split);
        self.split = self.draws.len();
    }

    /// The metric from the foreground estimator, or `None` to keep the current one.
    fn estimate(&self, current: &Metric, low_rank_due: bool) -> Option<Metric> {
        if self.foreground.count() < 3 {
            return None;
        }
        let dim = current.dim();
        let previous: Vec<f64> = (0..dim).map(|i| current.variance(i)).collect();
        match self.low_rank_cutoff {
            None => Some(Metric::Diagonal(self.foreground.diagonal(&previous))),
            Some(_) if !low_rank_due => None,
            Some(cutoff) => Some(
                low_rank_metric(&self.draws, &self.grads, cutoff)
                    .unwrap_or_else(|| Metric::Diagonal(self.foreground.diagonal(&previous))),
            ),
        }
    }
}

/// `1 / |gᵢ|` in `[10⁻¹⁰, 10¹⁰]`, 1 where the gradient is zero or not finite.
fn gradient_diagonal(grad: &[f64]) -> Vec<f64> {
    grad.iter()
        .map(|g| {
            let v = 1.0 / g.abs();
            if v.is_finite() {
                v.clamp(1e-10, 1e10)
            } else {
                1.0
            }
        })
        .collect()
}

/// The variances a metric stands for.
fn variances(metric: &Metric) -> Vec<f64> {
    (0..metric.dim()).map(|i| metric.variance(i)).collect()
}

/// Whether `metric` moved materially from the variances `before`: the root mean square
/// of the log-ratios of the variances is above `ln 2` (a factor of 2 on average).
fn moved(before: &[f64], metric: &Metric) -> bool {
    if before.len() != metric.dim() || before.is_empty() {
        return true;
    }
    let mean_square = before
        .iter()
        .enumerate()
        .map(|(i, b)| (metric.variance(i) / b).ln().powi(2))
        .sum::<f64>()
        / before.len() as f64;
    // NaN (a non-positive variance) counts as moved
    mean_square.sqrt() > std::f64::consts::LN_2 || mean_square.is_nan()
}

/// A step size that is positive and finite: `new`, else `old`.
fn usable_step_size(new: f64, old: f64) -> f64 {
    if new > 0.0 && new.is_finite() {
        new
    } else {
        old
    }
}

impl<K: WindowAdapted> Adaptation<K> for FisherAdaptation {
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        state: &K::State,
        params: &mut HmcParams,
    ) {
        // only when warm-up adapts the metric after it: without iterations the metric
        // stays the one given
        if self.adapt_metric
            && self.start_from_gradient
            && self.schedule.final_start() > 0
            && let Some(grad) = state.log_density_grad()
            && grad.len() == params.inverse_mass_matrix.dim()
        {
            params.inverse_mass_matrix = Metric::Diagonal(gradient_diagonal(grad));
        }
        if self.adapt_step_size {
            let step_size = kernel.reasonable_step_size(target, rng, state, params);
            params.step_size = usable_step_size(step_size, params.step_size);
            self.dual = DualAveraging::new(params.step_size, self.target_accept);
        }
        self.restarted_at = variances(&params.inverse_mass_matrix);
    }

    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        _kernel: &K,
        _target: &L,
        _rng: &mut R,
        state: &K::State,
        info: &K::Info,
        params: &mut HmcParams,
    ) {
        let i = self.iteration;
        self.iteration += 1;
        if self.adapt_step_size {
            params.step_size =
                usable_step_size(self.dual.update(self.statistic(info, i)), params.step_size);
            if self.late_symmetric
                && self.schedule.phase(i) == FisherPhase::Final
                && info.is_divergent()
                && !self.restarted_on_divergence
            {
                self.restarted_on_divergence = true;
                self.restart_step_size(params.step_size);
            }
        }
        if !self.adapt_metric || self.schedule.phase(i) == FisherPhase::Final {
            return;
        }
        let position = state.position();
        if let Some(grad) = state.log_density_grad()
            && !info.is_divergent()
            && position.len() == self.foreground.draws.dim()
            && position.iter().chain(grad).all(|v| v.is_finite())
        {
            self.foreground.add(position, grad);
            self.background.add(position, grad);
            if self.low_rank_cutoff.is_some() {
                self.draws.push(position.to_vec());
                self.grads.push(grad.to_vec());
            }
        }
        if i == self.schedule.early_end() {
            self.window = FisherSchedule::first_late_window(self.background.count());
        }
        let switched =
            self.background.count() >= self.window && !self.schedule.is_late(i, self.window);
        if switched {
            self.switch();
            self.window = self.schedule.next_window(i, self.window);
        }
        let low_rank_due = switched || (i + 1).is_multiple_of(EARLY_SWITCH);
        if let Some(metric) = self.estimate(&params.inverse_mass_matrix, low_rank_due) {
            params.inverse_mass_matrix = metric;
        }
        if !self.adapt_step_size {
            return;
        }
        if (i + 1 == self.schedule.final_start && !self.late_symmetric)
            || (switched && moved(&self.restarted_at, &params.inverse_mass_matrix))
        {
            self.restarted_at = variances(&params.inverse_mass_matrix);
            self.restart_step_size(params.step_size);
        }
    }

    fn finalize(&mut self, params: &mut HmcParams) {
        if self.iteration > 0 && self.adapt_step_size {
            params.step_size = usable_step_size(self.dual.final_step_size(), params.step_size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hmc::{HmcInfo, HmcState};
    use crate::kernel::Kernel;
    use crate::{Nuts, chain_rng};

    /// `N(0, diag(scales²))` in closed form.
    struct Independent(Vec<f64>);

    impl LogDensity for Independent {
        fn dim(&self) -> usize {
            self.0.len()
        }
        fn logp(&self, x: &[f64]) -> f64 {
            x.iter()
                .zip(&self.0)
                .map(|(x, s)| -0.5 * (x / s).powi(2))
                .sum()
        }
        fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
            for ((g, x), s) in g.iter_mut().zip(x).zip(&self.0) {
                *g = -x / (s * s);
            }
            self.logp(x)
        }
    }

    fn info(acceptance_rate: f64, is_divergent: bool) -> HmcInfo {
        HmcInfo {
            acceptance_rate,
            symmetric_acceptance_rate: acceptance_rate,
            is_divergent,
            num_integration_steps: 3,
            ..HmcInfo::default()
        }
    }

    fn state(position: Vec<f64>, grad: Vec<f64>) -> HmcState {
        HmcState {
            position,
            log_density: 0.0,
            log_density_grad: grad,
        }
    }

    #[test]
    fn schedules_of_every_length() {
        for (n, growth, share) in [0, 1, 5, 19, 20, 100, 150, 1000, 4000]
            .into_iter()
            .flat_map(|n| [(n, 1.0, 0.15), (n, 1.5, 0.15), (n, 1.5, 0.1), (n, 1.0, 0.0)])
        {
            let s = FisherSchedule::with_growth(n, growth).with_final_share(share);
            assert_eq!(s.final_start(), n - (share * n as f64) as usize, "{n}");
            assert!(
                s.early_end() <= s.final_start() && s.final_start() <= n,
                "{n}"
            );
            let switches = s.switches();
            assert!(switches.windows(2).all(|w| w[0] < w[1]));
            // no switch in a late iteration, and the late windows grow
            assert!(switches.iter().all(|&i| i + 10 <= s.final_start()));
            let late: Vec<usize> = switches
                .windows(2)
                .filter(|w| w[0] >= s.early_end())
                .map(|w| w[1] - w[0])
                .collect();
            if growth > 1.0 {
                assert!(late.windows(2).all(|g| g[1] > g[0]), "{n}: {late:?}");
            } else {
                assert!(late.iter().all(|&g| g == 80), "{n}: {late:?}");
            }
            assert!(s.is_late(s.final_start(), 1), "{n}");
        }
        assert!(FisherSchedule::new(15).switches().is_empty());
        assert_eq!(FisherSchedule::new(100).switches(), [9, 19, 29]);
        let s = FisherSchedule::new(1000);
        assert_eq!(s.switches().len(), 30 + 5);
        assert_eq!(
            FisherSchedule::with_growth(1000, 1.5).switches().len(),
            30 + 2
        );
        assert_eq!(FisherSchedule::with_growth(1000, 0.5), s);
        assert_eq!(s.with_final_share(0.15), s);
        assert_eq!(s.with_final_share(f64::NAN), s);
        // a share above 0.7 would cut into the early phase
        assert_eq!(s.with_final_share(0.9).final_start(), 300);
        assert_eq!(s.with_final_share(-1.0).final_start(), 1000);
        let late = FisherSchedule::with_growth(1000, 1.5).with_final_share(0.1);
        assert_eq!(late.final_start(), 900);
        assert_eq!(late.phase(899), FisherPhase::Late);
        assert_eq!(late.phase(900), FisherPhase::Final);
        let s4 = FisherSchedule::with_growth(4000, 1.5);
        assert_eq!(&s4.switches()[119..], [1199, 1279, 1399, 1579, 1849, 2254]);
        assert_eq!(s.phase(0), FisherPhase::Early);
        assert_eq!(s.phase(300), FisherPhase::Late);
        assert_eq!(s.phase(849), FisherPhase::Late);
        assert_eq!(s.phase(999), FisherPhase::Final);
    }

    #[test]
    fn the_fisher_diagonal_of_independent_draws_is_their_variance() {
        // for independent Gaussian coordinates g = −x/σ², so the estimate is exact
        // from any 3 distinct draws
        let scales = [0.01, 1.0, 30.0];
        let mut w = DrawGradVariance::new(3);
        for x in [[0.3, -1.0, 2.0], [-0.7, 0.2, 0.5], [1.1, 0.4, -1.5]] {
            let x: Vec<f64> = x.iter().zip(&scales).map(|(x, s)| x * s).collect();
            let g: Vec<f64> = x.iter().zip(&scales).map(|(x, s)| -x / (s * s)).collect();
            w.add(&x, &g);
        }
        let d = w.diagonal(&[1.0; 3]);
        for (d, s) in d.iter().zip(scales) {
            assert!((d / (s * s) - 1.0).abs() < 1e-12, "{d} vs {}", s * s);
        }
    }

    #[test]
    fn divergences_and_constant_gradients_keep_the_metric() {
        let kernel = Nuts::default();
        let target = Independent(vec![1.0, 2.0]);
        let mut rng = chain_rng(7, 0);
        let given = Metric::Diagonal(vec![0.5, 3.0]);
        let tuning = Tuning {
            inverse_mass_matrix: Some(given.clone()),
            ..kernel.tuning().clone()
        };
        // a whole warm-up of divergent transitions with acceptance 0
        let mut a = FisherAdaptation::new(2, 200, &tuning, true);
        let mut params = HmcParams {
            step_size: 0.3,
            inverse_mass_matrix: given.clone(),
        };
        for k in 0..200 {
            let s = state(vec![k as f64, -(k as f64)], vec![0.1 * k as f64, 1.0]);
            a.update(
                &kernel,
                &target,
                &mut rng,
                &s,
                &info(0.0, true),
                &mut params,
            );
            assert!(params.step_size > 0.0 && params.step_size.is_finite());
            assert_eq!(params.inverse_mass_matrix, given);
        }
        Adaptation::<Nuts>::finalize(&mut a, &mut params);
        assert!(params.step_size > 0.0 && params.step_size.is_finite());
        // a constant gradient (a linear log-density) and NaN acceptance rates: the
        // gradient's variance is 0, every coordinate keeps its value
        let mut a = FisherAdaptation::new(2, 200, &tuning, true);
        let mut params = HmcParams {
            step_size: 0.3,
            inverse_mass_matrix: given.clone(),
        };
        for k in 0..200 {
            let s = state(vec![k as f64, (k * k) as f64], vec![2.0, -1.0]);
            a.update(
                &kernel,
                &target,
                &mut rng,
                &s,
                &info(f64::NAN, false),
                &mut params,
            );
            assert!(params.step_size > 0.0 && params.step_size.is_finite());
            assert_eq!(params.inverse_mass_matrix, given, "{k}");
        }
        // one coordinate constant: it keeps its value, the other is estimated
        let mut a = FisherAdaptation::new(2, 200, &tuning, true);
        for k in 0..50 {
            let x = (k % 7) as f64 - 3.0;
            let s = state(vec![x, 1.0], vec![-x / 4.0, 0.0]);
            a.update(
                &kernel,
                &target,
                &mut rng,
                &s,
                &info(0.8, false),
                &mut params,
            );
        }
        let Metric::Diagonal(d) = &params.inverse_mass_matrix else {
            panic!("diagonal expected")
        };
        assert!((d[0] - 4.0).abs() < 1e-9 && d[1] == 3.0, "{d:?}");
    }

    #[test]
    fn the_symmetric_statistic_depends_on_the_size_of_the_error() {
        use crate::hmc::symmetric_acceptance;
        assert_eq!(symmetric_acceptance(0.0), 1.0);
        let ln3 = 3f64.ln();
        assert!((symmetric_acceptance(ln3) - 0.5).abs() < 1e-15);
        assert!((symmetric_acceptance(-ln3) - 0.5).abs() < 1e-15);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e6] {
            assert_eq!(symmetric_acceptance(bad), 0.0, "{bad}");
        }
        // NUTS: in [0, 1], and near the acceptance rate for a small step size
        let target = Independent(vec![1.0, 2.0, 0.5]);
        let mut rng = chain_rng(11, 0);
        for (nuts, step_size) in [(Nuts::default(), 0.05), (Nuts::default().jitter(0.3), 1.5)] {
            let params = HmcParams {
                step_size,
                inverse_mass_matrix: Metric::unit(3),
            };
            let mut s = nuts.init(&target, &[0.3, -0.2, 0.1]).unwrap();
            for _ in 0..50 {
                let (next, info) = nuts.step(&target, &mut rng, &s, &params);
                let sym = info.symmetric_acceptance_rate;
                assert!((0.0..=1.0).contains(&sym), "{sym}");
                if step_size < 0.1 {
                    assert!((sym - info.acceptance_rate).abs() < 0.01, "{info:?}");
                }
                s = next;
            }
        }
    }

    #[test]
    fn the_symmetric_option_follows_the_symmetric_statistic() {
        // acceptance rate 1 but symmetric statistic 0.2: with the option the step
        // size shrinks, without it it grows
        let target = Independent(vec![1.0, 2.0]);
        let mut rng = chain_rng(5, 0);
        let final_step_size = |kernel: Nuts, rng: &mut _| {
            let mut a = FisherAdaptation::new(2, 100, kernel.tuning(), false);
            let mut params = HmcParams {
                step_size: 0.5,
                inverse_mass_matrix: Metric::unit(2),
            };
            let s = state(vec![0.1, 0.2], vec![-0.1, -0.05]);
            let info = HmcInfo {
                symmetric_acceptance_rate: 0.2,
                ..info(1.0, false)
            };
            for _ in 0..100 {
                a.update(&kernel, &target, rng, &s, &info, &mut params);
            }
            Adaptation::<Nuts>::finalize(&mut a, &mut params);
            params.step_size
        };
        let restarted = Nuts::default().late_symmetric_warmup(false);
        let plain = final_step_size(restarted.clone(), &mut rng);
        let symmetric = final_step_size(restarted.symmetric_acceptance(true), &mut rng);
        assert!(symmetric < 0.5 && plain > 0.5, "{symmetric} {plain}");
        assert!(symmetric > 0.0 && symmetric.is_finite());
    }

    #[test]
    fn the_late_symmetric_warmup_follows_the_symmetric_statistic_late() {
        // acceptance rate 1 but symmetric statistic 0.2: with the late symmetric
        // warm-up (NUTS's default) the late iterations (from 631 of 1000) pull the step
        // size down, with the restarted warm-up it grows: (step size before the late
        // iterations, final step size)
        let target = Independent(vec![1.0, 2.0]);
        let mut rng = chain_rng(9, 0);
        let step_sizes = |kernel: Nuts, rng: &mut _| {
            let mut a = FisherAdaptation::new(2, 1000, kernel.tuning(), true);
            let mut params = HmcParams {
                step_size: 0.5,
                inverse_mass_matrix: Metric::unit(2),
            };
            let info = HmcInfo {
                symmetric_acceptance_rate: 0.2,
                ..info(1.0, false)
            };
            let mut before_late = f64::NAN;
            for k in 0..1000 {
                if k == 631 {
                    before_late = params.step_size;
                }
                let x = [((k * 7) % 13) as f64 - 6.0, ((k * 5) % 11) as f64 - 5.0];
                let s = state(x.to_vec(), vec![-x[0], -x[1] / 4.0]);
                a.update(&kernel, &target, rng, &s, &info, &mut params);
                params.validate().unwrap();
            }
            Adaptation::<Nuts>::finalize(&mut a, &mut params);
            (before_late, params.step_size)
        };
        let plain = step_sizes(Nuts::default().late_symmetric_warmup(false), &mut rng);
        let late = step_sizes(Nuts::default(), &mut rng);
        // both grow up to the late iterations (acceptance rate 1)
        assert!(late.0 > 0.5 && plain.0 > 0.5, "{late:?} {plain:?}");
        assert!(
            late.1 < late.0 / 10.0 && plain.1 > plain.0,
            "{late:?} {plain:?}"
        );
        assert!(late.1 > 0.0 && late.1.is_finite());
    }

    #[test]
    fn nuts_warms_up_late_symmetric_and_keeps_the_restarted_rule() {
        // the metric follows the draws up to the final phase and stays from there on:
        // the last 10 % with NUTS's default, the last 15 % with the restarted rule
        let target = Independent(vec![1.0, 2.0]);
        let mut rng = chain_rng(4, 0);
        let last_change = |kernel: Nuts, rng: &mut _| {
            let mut a = FisherAdaptation::new(2, 1000, kernel.tuning(), true);
            let mut params = HmcParams {
                step_size: 0.5,
                inverse_mass_matrix: Metric::unit(2),
            };
            let mut last = 0;
            for k in 0..1000 {
                // a gradient shrinking with k: every estimate differs from the one before
                let x = [((k * 7) % 13) as f64 - 6.0, ((k * 5) % 11) as f64 - 5.0];
                let g = [-x[0] / (1.0 + k as f64 / 100.0), -x[1] / 4.0];
                let s = state(x.to_vec(), g.to_vec());
                let before = params.inverse_mass_matrix.clone();
                a.update(&kernel, &target, rng, &s, &info(0.8, false), &mut params);
                params.validate().unwrap();
                if params.inverse_mass_matrix != before {
                    last = k;
                }
            }
            (last, a.schedule().final_start())
        };
        assert!(Nuts::default().tuning().late_symmetric_warmup);
        assert_eq!(last_change(Nuts::default(), &mut rng), (899, 900));
        let restarted = Nuts::default().late_symmetric_warmup(false);
        assert_eq!(last_change(restarted, &mut rng), (849, 850));
        // HMC keeps the restarted rule by default
        assert!(!crate::Hmc::default().tuning().late_symmetric_warmup);
    }

    #[test]
    fn the_low_rank_adaptation_keeps_a_usable_metric() {
        let kernel = Nuts::default().metric_adaptation(MetricAdaptation::low_rank());
        let target = Independent(vec![1.0, 2.0, 0.5]);
        let mut rng = chain_rng(3, 0);
        let mut a = FisherAdaptation::new(3, 100, kernel.tuning(), true);
        let mut params = HmcParams {
            step_size: 0.5,
            inverse_mass_matrix: Metric::unit(3),
        };
        let s = state(vec![0.1, 0.2, 0.3], vec![1.0, 0.0, f64::NAN]);
        a.init(&kernel, &target, &mut rng, &s, &mut params);
        // 1/|g|, with 1 for the zero and the NaN
        assert_eq!(params.inverse_mass_matrix, Metric::Diagonal(vec![1.0; 3]));
        for k in 0..100 {
            let x = [(k % 5) as f64 - 2.0, ((k * 3) % 7) as f64 - 3.0, 1.0];
            let g = [-x[0], -x[1] / 4.0, 0.5];
            let s = state(x.to_vec(), g.to_vec());
            a.update(
                &kernel,
                &target,
                &mut rng,
                &s,
                &info(0.7, false),
                &mut params,
            );
            params.validate().unwrap();
        }
    }
}
