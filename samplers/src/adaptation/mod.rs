//! Warm-up of the HMC family: dual averaging of the step size, and estimates of the
//! inverse mass matrix — from draws and gradients on a schedule of overlapping windows
//! ([`FisherAdaptation`], the default of [`Nuts`](crate::Nuts) and
//! [`Hmc`](crate::Hmc)), or from draws in Stan's windows ([`WindowAdaptation`], Stan
//! Reference Manual, "HMC algorithm parameters"). [`MetricAdaptation`] chooses.

use rand::Rng;
use tilde_core::LogDensity;

mod fisher;
mod low_rank;

pub use fisher::{FisherAdaptation, FisherPhase, FisherSchedule, fisher_diagonal};
pub use low_rank::low_rank_metric;

/// How warm-up estimates the inverse mass matrix of a kernel of the HMC family
/// ([`Tuning::metric_adaptation`], set with `.metric_adaptation(..)` on the kernels).
///
/// # Example
/// ```
/// use tilde_samplers::{MetricAdaptation, Nuts};
///
/// let nuts = Nuts::default(); // MetricAdaptation::Fisher
/// let stan = Nuts::default().metric_adaptation(MetricAdaptation::StanWindows);
/// let correlated = Nuts::default().metric_adaptation(MetricAdaptation::low_rank());
/// # let _ = (nuts, stan, correlated);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum MetricAdaptation {
    /// The diagonal that minimises the Fisher divergence between the draws and a
    /// Gaussian, `σᵢ² = sqrt(Var(xᵢ) / Var(∂ᵢ log p))`, estimated from the draws and
    /// their gradients on [`FisherSchedule`]'s overlapping windows, with dual averaging
    /// restarted whenever the estimator is switched (Seyboldt, Carlson & Carpenter
    /// 2026, arXiv 2603.18845; nutpie's default). The default of
    /// [`Nuts`](crate::Nuts) and [`Hmc`](crate::Hmc).
    Fisher,
    /// Stan's window adaptation: the draws' variance (or covariance, with
    /// `dense_mass(true)`) regularised towards a small multiple of the identity, at the
    /// end of doubling windows ([`build_schedule`]). What tilde did before the Fisher
    /// default; the default of [`Mala`](crate::Mala), [`BarkerMh`](crate::BarkerMh)
    /// and [`RandomWalkMetropolis`](crate::RandomWalkMetropolis).
    StanWindows,
    /// The Fisher diagonal with a low-rank update ([`Metric::LowRank`]): in the
    /// coordinates the diagonal scales, the geometric mean of the draws' covariance and
    /// the inverse of the gradients' covariance over the subspace they span, keeping
    /// the eigenvalues outside `[1 / eigenvalue_cutoff, eigenvalue_cutoff]`
    /// ([`low_rank_metric`]). On [`FisherSchedule`]. For posteriors with strong
    /// correlations; each update costs an eigen-decomposition of up to `dim × dim`.
    LowRank {
        /// Eigenvalues within `[1/c, c]` are dropped (left at 1); at least 1. nutpie's
        /// default is 2 ([`MetricAdaptation::low_rank`]).
        eigenvalue_cutoff: f64,
    },
}

impl MetricAdaptation {
    /// [`MetricAdaptation::LowRank`] with nutpie's cutoff of 2.
    pub fn low_rank() -> Self {
        MetricAdaptation::LowRank {
            eigenvalue_cutoff: 2.0,
        }
    }
}

/// The warm-up adaptation of the HMC family: [`FisherAdaptation`] or Stan's
/// [`WindowAdaptation`], as the kernel's [`Tuning::effective_metric_adaptation`] says.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per chain and run, never in the hot loop
pub enum HmcAdaptation {
    /// Stan's window adaptation ([`MetricAdaptation::StanWindows`]).
    Windows(WindowAdaptation),
    /// Draws and gradients ([`MetricAdaptation::Fisher`] and
    /// [`MetricAdaptation::LowRank`]).
    Fisher(FisherAdaptation),
}

impl HmcAdaptation {
    /// The adaptation of `num_warmup` iterations on a target of dimension `dim` with
    /// the kernel's settings; `adapt_metric` false keeps the inverse mass matrix whatever
    /// the settings say (a warm start that gave one).
    pub fn new(dim: usize, num_warmup: usize, tuning: &Tuning, adapt_metric: bool) -> Self {
        match tuning.effective_metric_adaptation() {
            MetricAdaptation::StanWindows => {
                HmcAdaptation::Windows(WindowAdaptation::new(dim, num_warmup, tuning, adapt_metric))
            }
            _ => {
                HmcAdaptation::Fisher(FisherAdaptation::new(dim, num_warmup, tuning, adapt_metric))
            }
        }
    }
}

impl<K: WindowAdapted> Adaptation<K> for HmcAdaptation {
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        state: &K::State,
        params: &mut HmcParams,
    ) {
        match self {
            HmcAdaptation::Windows(a) => a.init(kernel, target, rng, state, params),
            HmcAdaptation::Fisher(a) => a.init(kernel, target, rng, state, params),
        }
    }

    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        state: &K::State,
        info: &K::Info,
        params: &mut HmcParams,
    ) {
        match self {
            HmcAdaptation::Windows(a) => a.update(kernel, target, rng, state, info, params),
            HmcAdaptation::Fisher(a) => a.update(kernel, target, rng, state, info, params),
        }
    }

    fn finalize(&mut self, params: &mut HmcParams) {
        match self {
            HmcAdaptation::Windows(a) => Adaptation::<K>::finalize(a, params),
            HmcAdaptation::Fisher(a) => Adaptation::<K>::finalize(a, params),
        }
    }
}

use crate::hmc::{HmcParams, HmcState, Point, Tuning, WindowAdapted};
use crate::kernel::{Adaptation, Kernel, KernelInfo, KernelState};
use crate::metric::Metric;

/// What window adaptation does at one warm-up iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Only the step size adapts (the initial and terminal buffers).
    Fast,
    /// The step size adapts and the draw feeds the mass-matrix estimate; `window_end`
    /// marks the last iteration of a slow window, after which the metric is updated.
    Slow {
        /// This iteration closes a window.
        window_end: bool,
    },
}

/// The warm-up schedule of `num_warmup` iterations: an initial fast buffer of 75, slow
/// windows doubling from 25, a terminal fast buffer of 50 — each scaled to 15 %, 75 %
/// and 10 % when the warm-up is shorter than 150, and no slow window below 20.
/// The last slow window stretches to the terminal buffer when doubling once more would
/// overrun it.
///
/// # Example
/// ```
/// use tilde_samplers::adaptation::{Stage, build_schedule};
///
/// let schedule = build_schedule(1000);
/// let ends: Vec<usize> = (0..1000)
///     .filter(|&i| schedule[i] == Stage::Slow { window_end: true })
///     .collect();
/// assert_eq!(ends, [99, 149, 249, 449, 949]);
/// ```
pub fn build_schedule(num_warmup: usize) -> Vec<Stage> {
    let mut stages = vec![Stage::Fast; num_warmup];
    if num_warmup < 20 {
        return stages;
    }
    let (mut init, mut term, mut base) = (75, 50, 25);
    if init + term + base > num_warmup {
        init = (0.15 * num_warmup as f64) as usize;
        term = (0.1 * num_warmup as f64) as usize;
        base = num_warmup - init - term;
    }
    let slow_end = num_warmup - term;
    let mut start = init;
    let mut size = base;
    while start < slow_end {
        let mut end = start + size;
        if end + 2 * size > slow_end {
            end = slow_end;
        }
        for (i, stage) in stages.iter_mut().enumerate().take(end).skip(start) {
            *stage = Stage::Slow {
                window_end: i + 1 == end,
            };
        }
        start = end;
        size *= 2;
    }
    stages
}

/// Nesterov dual averaging of `log(step_size)` towards a target acceptance rate
/// (Hoffman & Gelman 2014, with Stan's constants γ = 0.05, t₀ = 10, κ = 0.75).
#[derive(Clone, Debug, PartialEq)]
pub struct DualAveraging {
    target: f64,
    mu: f64,
    counter: f64,
    s_bar: f64,
    x_bar: f64,
}

impl DualAveraging {
    /// Starts averaging from `step_size`, shrinking towards `10 · step_size`.
    pub fn new(step_size: f64, target: f64) -> Self {
        DualAveraging {
            target,
            mu: (10.0 * step_size).ln(),
            counter: 0.0,
            s_bar: 0.0,
            x_bar: 0.0,
        }
    }

    /// Feeds one acceptance rate; returns the next step size to use.
    pub fn update(&mut self, acceptance_rate: f64) -> f64 {
        let accept = if acceptance_rate.is_nan() {
            0.0
        } else {
            acceptance_rate.min(1.0)
        };
        self.counter += 1.0;
        let eta = 1.0 / (self.counter + 10.0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.target - accept);
        let x = self.mu - self.s_bar * self.counter.sqrt() / 0.05;
        let x_eta = self.counter.powf(-0.75);
        self.x_bar = (1.0 - x_eta) * self.x_bar + x_eta * x;
        x.exp()
    }

    /// The averaged step size, used after warm-up.
    pub fn final_step_size(&self) -> f64 {
        self.x_bar.exp()
    }
}

/// Welford's running mean and (co)variance of positions.
#[derive(Clone, Debug, PartialEq)]
pub struct Welford {
    dense: bool,
    count: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    delta: Vec<f64>,
    /// Dense estimates over groups of coordinates (a block-diagonal metric).
    blocks: Vec<(Vec<usize>, Welford)>,
    gather: Vec<f64>,
}

impl Welford {
    /// An empty estimator of a `dim`-dimensional variance (`dense`: full covariance).
    pub fn new(dim: usize, dense: bool) -> Self {
        Welford {
            dense,
            count: 0.0,
            mean: vec![0.0; dim],
            m2: vec![0.0; if dense { dim * dim } else { dim }],
            delta: vec![0.0; dim],
            blocks: Vec::new(),
            gather: Vec::new(),
        }
    }

    /// An empty estimator of a block-diagonal variance: dense over each group of
    /// coordinates in `blocks` (disjoint, increasing), diagonal elsewhere; a diagonal
    /// one when `blocks` is empty.
    pub fn with_blocks(dim: usize, blocks: &[Vec<usize>]) -> Self {
        Welford {
            blocks: blocks
                .iter()
                .map(|indices| (indices.clone(), Welford::new(indices.len(), true)))
                .collect(),
            gather: Vec::with_capacity(blocks.iter().map(Vec::len).max().unwrap_or(0)),
            ..Welford::new(dim, false)
        }
    }

    /// The dimension of the positions it takes.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The number of positions seen.
    pub fn count(&self) -> usize {
        self.count as usize
    }

    /// Forgets every position seen (the start of a new window).
    pub fn reset(&mut self) {
        self.count = 0.0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
        self.blocks.iter_mut().for_each(|(_, w)| w.reset());
    }

    /// Adds one position.
    #[allow(clippy::needless_range_loop)]
    pub fn add(&mut self, x: &[f64]) {
        self.count += 1.0;
        let n = self.mean.len();
        for i in 0..n {
            self.delta[i] = x[i] - self.mean[i];
            self.mean[i] += self.delta[i] / self.count;
        }
        if self.dense {
            for i in 0..n {
                for j in 0..n {
                    self.m2[i * n + j] += (x[i] - self.mean[i]) * self.delta[j];
                }
            }
        } else {
            for i in 0..n {
                self.m2[i] += (x[i] - self.mean[i]) * self.delta[i];
            }
        }
        for (indices, welford) in &mut self.blocks {
            self.gather.clear();
            self.gather.extend(indices.iter().map(|&i| x[i]));
            welford.add(&self.gather);
        }
    }

    /// The diagonal estimate alone.
    fn without_blocks(&self) -> Welford {
        Welford {
            dense: false,
            count: self.count,
            mean: self.mean.clone(),
            m2: self.m2.clone(),
            delta: Vec::new(),
            blocks: Vec::new(),
            gather: Vec::new(),
        }
    }

    /// The regularised estimate as a metric: for a diagonal one
    /// `(n/(n+5))·Σ + 10⁻³·(5/(n+5))·I`, Stan's shrinkage towards a small multiple of
    /// the identity; for a dense one (and dense blocks) the ridge is relative,
    /// `(n/(n+5))·(Σ + 10⁻³·(5/(n+5))·diag(Σ))`, so that it does not wash out a strong
    /// correlation between coordinates of small variance (Stan's absolute ridge took a
    /// −0.998 correlation of coordinates with standard deviation 0.01 to −0.67 after 100
    /// draws); a coordinate of zero variance gets Stan's absolute ridge. Falls back to
    /// the unit metric when fewer than 3 draws were seen or the estimate is not usable.
    pub fn metric(&self) -> Metric {
        let n = self.mean.len();
        if !self.blocks.is_empty() {
            let indices: Vec<Vec<usize>> = self.blocks.iter().map(|(i, _)| i.clone()).collect();
            let Metric::Diagonal(diagonal) = self.without_blocks().metric() else {
                return Metric::unit(n).for_blocks(&indices);
            };
            let blocks = self
                .blocks
                .iter()
                .map(|(indices, w)| (indices.clone(), w.metric().to_dense_matrix()))
                .collect();
            return Metric::block(diagonal, blocks)
                .unwrap_or_else(|_| Metric::unit(n).for_blocks(&indices));
        }
        if self.count < 3.0 {
            return if self.dense {
                Metric::dense_unit(n)
            } else {
                Metric::unit(n)
            };
        }
        let c = self.count;
        let shrink = c / (c + 5.0);
        let ridge = 1e-3 * 5.0 / (c + 5.0);
        let mut m: Vec<f64> = self.m2.iter().map(|v| shrink * v / (c - 1.0)).collect();
        if self.dense {
            let relative = 1e-3 * 5.0 / (c + 5.0);
            for i in 0..n {
                let v = m[i * n + i];
                m[i * n + i] += if v > 0.0 { relative * v } else { ridge };
            }
            Metric::dense(m, n).unwrap_or_else(|_| Metric::dense_unit(n))
        } else {
            m.iter_mut().for_each(|v| *v += ridge);
            Metric::diagonal(m).unwrap_or_else(|_| Metric::unit(n))
        }
    }
}

/// Stan's step-size heuristic: from the current step size, double or halve it until the
/// acceptance probability of one leapfrog step crosses 0.8. Returns a finite, positive
/// step size whatever the target does.
pub fn find_reasonable_step_size<L: LogDensity + ?Sized, R: Rng + ?Sized>(
    target: &L,
    rng: &mut R,
    state: &HmcState,
    params: &HmcParams,
) -> f64 {
    let metric = &params.inverse_mass_matrix;
    let mut point = Point::new(state.position.len());
    let mut step_size = params.step_size;
    if !(step_size > 0.0 && step_size.is_finite()) {
        step_size = 1.0;
    }
    let mut delta_h = |step_size: f64, rng: &mut R| {
        point.start(state, metric, rng);
        let h0 = point.energy();
        point.leapfrog(target, metric, step_size);
        h0 - point.energy()
    };
    let threshold = 0.8f64.ln();
    let direction = if delta_h(step_size, rng) > threshold {
        1.0
    } else {
        -1.0
    };
    // as Stan: re-evaluate (fresh momentum) and stop at the first step size whose
    // acceptance crosses 0.8 in the search direction
    for _ in 0..100 {
        let dh = delta_h(step_size, rng);
        let crossed = if direction > 0.0 {
            dh <= threshold || dh.is_nan()
        } else {
            dh >= threshold || dh.is_nan()
        };
        if crossed {
            break;
        }
        step_size = if direction > 0.0 {
            2.0 * step_size
        } else {
            0.5 * step_size
        };
        if !(1e-10..=1e7).contains(&step_size) {
            break;
        }
    }
    step_size.clamp(1e-10, 1e7)
}

/// Stan's window adaptation for a kernel of the HMC family: a first step size from the
/// kernel's heuristic, dual averaging towards the kernel's target acceptance rate at
/// every warm-up iteration, and the inverse mass matrix re-estimated at the end of each
/// slow window of [`build_schedule`] (when `adapt_metric`), after which the step size
/// is searched again and dual averaging restarts. The final step size is dual
/// averaging's averaged iterate.
#[derive(Clone, Debug)]
pub struct WindowAdaptation {
    schedule: Vec<Stage>,
    iteration: usize,
    target_accept: f64,
    adapt_step_size: bool,
    symmetric_acceptance: bool,
    adapt_metric: bool,
    dual: DualAveraging,
    welford: Welford,
}

impl WindowAdaptation {
    /// The adaptation of `num_warmup` iterations on a target of dimension `dim` with
    /// the kernel's settings; `adapt_metric` false keeps the inverse mass matrix whatever
    /// the settings say (a warm start that gave one).
    pub fn new(dim: usize, num_warmup: usize, tuning: &Tuning, adapt_metric: bool) -> Self {
        let adapt_metric = adapt_metric && tuning.adapt_mass_matrix;
        WindowAdaptation {
            schedule: build_schedule(num_warmup),
            iteration: 0,
            target_accept: tuning.target_accept,
            adapt_step_size: tuning.adapt_step_size,
            symmetric_acceptance: tuning.symmetric_acceptance,
            adapt_metric,
            dual: DualAveraging::new(tuning.step_size, tuning.target_accept),
            welford: match (adapt_metric, tuning.block_indices()) {
                (false, _) => Welford::new(0, false),
                (true, []) => Welford::new(dim, tuning.dense_mass),
                (true, blocks) => Welford::with_blocks(dim, blocks),
            },
        }
    }
}

impl<K: WindowAdapted> Adaptation<K> for WindowAdaptation {
    fn init<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        state: &K::State,
        params: &mut HmcParams,
    ) {
        if self.adapt_step_size {
            // even without warm-up iterations, start from a step size that suits the target
            params.step_size = kernel.reasonable_step_size(target, rng, state, params);
            self.dual = DualAveraging::new(params.step_size, self.target_accept);
        }
    }

    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        kernel: &K,
        target: &L,
        rng: &mut R,
        state: &K::State,
        info: &K::Info,
        params: &mut HmcParams,
    ) {
        let stage = self.schedule.get(self.iteration).copied();
        self.iteration += 1;
        if self.adapt_step_size {
            params.step_size = self.dual.update(if self.symmetric_acceptance {
                info.symmetric_acceptance_rate()
            } else {
                info.acceptance_rate()
            });
        }
        if let (Some(Stage::Slow { window_end }), true) = (stage, self.adapt_metric) {
            self.welford.add(state.position());
            if window_end {
                params.inverse_mass_matrix = self.welford.metric();
                self.welford.reset();
                if self.adapt_step_size {
                    params.step_size = kernel.reasonable_step_size(target, rng, state, params);
                    self.dual = DualAveraging::new(params.step_size, self.target_accept);
                }
            }
        }
    }

    fn finalize(&mut self, params: &mut HmcParams) {
        if self.iteration > 0 && self.adapt_step_size {
            let adapted = self.dual.final_step_size();
            if adapted.is_finite() && adapted > 0.0 {
                params.step_size = adapted;
            }
        }
    }
}

/// The step-size heuristic for kernels without a leapfrog integrator: from the current
/// step size, double or halve it until the acceptance probability of one trial
/// transition (from a copy of `state`) crosses `target_accept`. Returns a finite,
/// positive step size whatever the target does.
pub fn trial_step_size<K, L, R>(
    kernel: &K,
    target: &L,
    rng: &mut R,
    state: &K::State,
    params: &HmcParams,
    target_accept: f64,
) -> f64
where
    K: Kernel<Params = HmcParams>,
    L: LogDensity + ?Sized,
    R: Rng + ?Sized,
{
    let mut trial = params.clone();
    if !(trial.step_size > 0.0 && trial.step_size.is_finite()) {
        trial.step_size = 1.0;
    }
    let mut workspace = kernel.workspace(state.position().len());
    let mut accept = |trial: &HmcParams, rng: &mut R| {
        let mut copy = state.clone();
        let a = kernel
            .transition(target, rng, &mut copy, trial, &mut workspace)
            .acceptance_rate();
        if a.is_nan() { 0.0 } else { a }
    };
    let grow = accept(&trial, rng) > target_accept;
    for _ in 0..100 {
        let a = accept(&trial, rng);
        if (grow && a <= target_accept) || (!grow && a >= target_accept) {
            break;
        }
        trial.step_size *= if grow { 2.0 } else { 0.5 };
        if !(1e-10..=1e7).contains(&trial.step_size) {
            break;
        }
    }
    trial.step_size.clamp(1e-10, 1e7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(n: usize) -> Vec<(usize, usize)> {
        let s = build_schedule(n);
        let mut out = Vec::new();
        let mut start = None;
        for (i, st) in s.iter().enumerate() {
            match st {
                Stage::Slow { window_end } => {
                    start.get_or_insert(i);
                    if *window_end {
                        out.push((start.take().unwrap_or(i), i + 1));
                    }
                }
                Stage::Fast => assert!(start.is_none()),
            }
        }
        out
    }

    #[test]
    fn stan_schedule() {
        // Stan 2.x with num_warmup = 1000: windows end at iterations 100, 150, 250, 450, 950
        assert_eq!(
            windows(1000),
            [(75, 100), (100, 150), (150, 250), (250, 450), (450, 950)]
        );
        // 500: 75–100, 100–150, 150–250, 250–450
        assert_eq!(
            windows(500),
            [(75, 100), (100, 150), (150, 250), (250, 450)]
        );
        // short warm-up: 15 % / 75 % / 10 %
        assert_eq!(windows(100), [(15, 90)]);
        assert!(windows(19).is_empty());
        assert_eq!(build_schedule(0).len(), 0);
    }

    #[test]
    fn dual_averaging_converges_on_a_known_response() {
        // acceptance = exp(-step_size): the fixed point for 0.8 is -ln 0.8. The averaged
        // iterate approaches it with a bias that decays like t^(-1/2) (1.3 % after 2000
        // updates, 0.4 % after 20 000 for this response), so check both the error and
        // its decay.
        let want = -(0.8f64.ln());
        let error_after = |n: usize| {
            let mut da = DualAveraging::new(1.0, 0.8);
            let mut eps: f64 = 1.0;
            for _ in 0..n {
                eps = da.update((-eps).exp());
            }
            (da.final_step_size() - want).abs() / want
        };
        let (early, late) = (error_after(2000), error_after(20_000));
        assert!(early < 0.02, "{early}");
        assert!(late < 0.005 && late < 0.5 * early, "{late} vs {early}");
        // NaN and > 1 acceptance rates are clamped, never propagated
        let mut da = DualAveraging::new(0.5, 0.8);
        assert!(da.update(f64::NAN).is_finite());
        assert!(da.update(3.0).is_finite());
    }

    #[test]
    fn dense_regularisation_keeps_a_strong_correlation() {
        // N(0, Σ) with standard deviations 0.01 and 0.02 and correlation −0.998, 100
        // draws (Stan's absolute ridge of 10⁻³·5/105 against variances of 10⁻⁴ took the
        // correlation to about −0.67)
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(4);
        let (s0, s1, rho) = (0.01, 0.02, -0.998f64);
        let mut dense = Welford::new(2, true);
        let mut blocks = Welford::with_blocks(3, &[vec![0, 2]]);
        let (mut sxx, mut sxy, mut syy, mut sx, mut sy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let n = 100;
        for _ in 0..n {
            let (z0, z1): (f64, f64) = (
                StandardNormal.sample(&mut rng),
                StandardNormal.sample(&mut rng),
            );
            let x = s0 * z0;
            let y = s1 * (rho * z0 + (1.0 - rho * rho).sqrt() * z1);
            dense.add(&[x, y]);
            blocks.add(&[x, 1.0 + z1, y]);
            (sx, sy) = (sx + x, sy + y);
            (sxx, sxy, syy) = (sxx + x * x, sxy + x * y, syy + y * y);
        }
        let nf = n as f64;
        let sample = (sxy - sx * sy / nf) / ((sxx - sx * sx / nf) * (syy - sy * sy / nf)).sqrt();
        let m = dense.metric().to_dense_matrix();
        let corr = m[1] / (m[0] * m[3]).sqrt();
        assert!(
            (corr - sample).abs() < 1e-4,
            "{corr} vs the draws' {sample}"
        );
        assert!(corr < -0.997, "{corr}");
        let m = blocks.metric().to_dense_matrix();
        let corr = m[2] / (m[0] * m[8]).sqrt();
        assert!(
            (corr - sample).abs() < 1e-4,
            "block: {corr} vs the draws' {sample}"
        );
    }

    #[test]
    fn welford_matches_two_pass_estimates() {
        let xs: Vec<[f64; 2]> = (0..50)
            .map(|i| [i as f64 * 0.3 - 2.0, ((i * 7) % 11) as f64])
            .collect();
        let mut diag = Welford::new(2, false);
        let mut dense = Welford::new(2, true);
        xs.iter().for_each(|x| {
            diag.add(x);
            dense.add(x);
        });
        let n = xs.len() as f64;
        let mean = [
            xs.iter().map(|x| x[0]).sum::<f64>() / n,
            xs.iter().map(|x| x[1]).sum::<f64>() / n,
        ];
        let cov = |a: usize, b: usize| {
            xs.iter()
                .map(|x| (x[a] - mean[a]) * (x[b] - mean[b]))
                .sum::<f64>()
                / (n - 1.0)
        };
        let (shrink, ridge) = (n / (n + 5.0), 1e-3 * 5.0 / (n + 5.0));
        let Metric::Diagonal(d) = diag.metric() else {
            panic!("diagonal expected")
        };
        assert!((d[0] - (shrink * cov(0, 0) + ridge)).abs() < 1e-12);
        assert!((d[1] - (shrink * cov(1, 1) + ridge)).abs() < 1e-12);
        let Metric::Dense(m) = dense.metric() else {
            panic!("dense expected")
        };
        let m = m.inverse_mass_matrix();
        assert!((m[1] - shrink * cov(0, 1)).abs() < 1e-12 && (m[2] - m[1]).abs() < 1e-15);
        assert!((m[0] - shrink * cov(0, 0) * (1.0 + ridge)).abs() < 1e-12);
        // a constant coordinate gets the ridge, not zero
        let mut flat = Welford::new(1, false);
        (0..10).for_each(|_| flat.add(&[3.0]));
        assert_eq!(flat.metric(), Metric::Diagonal(vec![1e-3 * 5.0 / 15.0]));
    }
}
