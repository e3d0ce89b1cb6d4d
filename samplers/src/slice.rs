//! Univariate slice sampling with stepping out and shrinkage (Neal 2003), one
//! coordinate at a time.

use rand::{Rng, RngExt};
use tilde_core::{Error, LogDensity, Result};

use crate::adaptation::Welford;
use crate::hmc::{HmcParams, initial_hmc_params};
use crate::kernel::{Adaptation, Kernel};
use crate::metric::Metric;
use crate::metropolis::{
    DensityState, MhInfo, init_density_state, proposal_log_density, refresh_density_state,
};

/// Slice sampling (Neal 2003, "Slice sampling", §4: stepping out and shrinkage), one
/// coordinate after the other. The initial interval around coordinate `i` has width
/// `w·σᵢ`, `w` the step size and `σᵢ²` the diagonal of the inverse mass matrix;
/// stepping out extends it by at most [`max_steps`](Self::max_steps) widths in all.
/// Gradient-free; every draw is accepted (`accept_stat__` is 1) and `n_leapfrog__`
/// counts log-density evaluations. Warm-up estimates `σᵢ²` from the second half of
/// the warm-up draws; `w` stays as set (default 2).
///
/// ```
/// use tilde_samplers::SliceSampler;
///
/// let slice = SliceSampler::default().width(3.0).max_steps(50);
/// # let _ = slice;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SliceSampler {
    width: f64,
    max_steps: usize,
}

impl Default for SliceSampler {
    fn default() -> Self {
        SliceSampler {
            width: 2.0,
            max_steps: 100,
        }
    }
}

impl SliceSampler {
    /// The initial interval's width in posterior standard deviations (default 2): the
    /// step size this kernel starts from. Must be positive and finite.
    pub fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }

    /// The most widths stepping out adds to an interval (default 100, at least 1).
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.max_steps = steps.max(1);
        self
    }
}

/// Buffers of [`SliceSampler`].
#[derive(Clone, Debug)]
pub struct SliceWorkspace {
    point: Vec<f64>,
}

/// The most shrinkage steps for one coordinate; reached only when the log-density is
/// not finite almost everywhere around the current point, which then stays.
const MAX_SHRINKS: usize = 200;

impl Kernel for SliceSampler {
    type State = DensityState;
    type Params = HmcParams;
    type Info = MhInfo;
    type Workspace = SliceWorkspace;
    type Adaptation = ScaleAdaptation;

    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<DensityState> {
        init_density_state(target, position)
    }

    fn refresh<L: LogDensity + ?Sized>(&self, target: &L, state: &mut DensityState) -> Result<()> {
        refresh_density_state(target, state)
    }

    fn workspace(&self, dim: usize) -> SliceWorkspace {
        SliceWorkspace {
            point: vec![0.0; dim],
        }
    }

    fn initial_params(&self, dim: usize, inverse_mass_matrix: Option<&Metric>) -> HmcParams {
        HmcParams {
            step_size: self.width,
            ..initial_hmc_params(dim, inverse_mass_matrix, false)
        }
    }

    fn adaptation(&self, dim: usize, num_warmup: usize, adapt_metric: bool) -> ScaleAdaptation {
        ScaleAdaptation {
            welford: Welford::new(if adapt_metric { dim } else { 0 }, false),
            from: num_warmup / 2,
            iteration: 0,
        }
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        if self.width > 0.0 && self.width.is_finite() {
            Ok(())
        } else {
            Err(Error::InvalidConfig(format!(
                "the slice width must be positive and finite, got {}",
                self.width
            )))
        }
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut DensityState,
        params: &HmcParams,
        ws: &mut SliceWorkspace,
    ) -> MhInfo {
        let x = &mut ws.point;
        x.copy_from_slice(&state.position);
        let mut evaluations = 0;
        let mut log_density = state.log_density;
        for i in 0..x.len() {
            let mut f = |x: &mut [f64], value: f64| {
                x[i] = value;
                evaluations += 1;
                proposal_log_density(target.logp(x))
            };
            let x0 = x[i];
            let width = params.step_size * params.inverse_mass_matrix.variance(i).sqrt();
            // the slice's level: log p(x) − Exp(1)
            let level = log_density + (1.0 - rng.random::<f64>()).ln();
            let mut lower = x0 - width * rng.random::<f64>();
            let mut upper = lower + width;
            let mut left = (self.max_steps as f64 * rng.random::<f64>()) as usize;
            let mut right = self.max_steps - 1 - left.min(self.max_steps - 1);
            while left > 0 && f(x, lower) > level {
                lower -= width;
                left -= 1;
            }
            while right > 0 && f(x, upper) > level {
                upper += width;
                right -= 1;
            }
            let mut moved = false;
            for _ in 0..MAX_SHRINKS {
                let candidate = lower + (upper - lower) * rng.random::<f64>();
                let value = f(x, candidate);
                if value > level {
                    log_density = value;
                    moved = true;
                    break;
                }
                if candidate < x0 {
                    lower = candidate;
                } else {
                    upper = candidate;
                }
            }
            if !moved {
                x[i] = x0;
            }
        }
        state.position.copy_from_slice(x);
        state.log_density = log_density;
        MhInfo {
            acceptance_rate: 1.0,
            is_accepted: true,
            num_evaluations: evaluations,
        }
    }
}

/// The warm-up of [`SliceSampler`]: the diagonal of the inverse mass matrix (the
/// coordinates' scales) estimated from the second half of the warm-up draws.
#[derive(Clone, Debug)]
pub struct ScaleAdaptation {
    welford: Welford,
    from: usize,
    iteration: usize,
}

impl Adaptation<SliceSampler> for ScaleAdaptation {
    fn update<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        _: &SliceSampler,
        _: &L,
        _: &mut R,
        state: &DensityState,
        _: &MhInfo,
        _: &mut HmcParams,
    ) {
        if self.iteration >= self.from && self.welford.dim() == state.position.len() {
            self.welford.add(&state.position);
        }
        self.iteration += 1;
    }

    fn finalize(&mut self, params: &mut HmcParams) {
        if self.welford.count() >= 3 {
            params.inverse_mass_matrix = self.welford.metric();
        }
    }
}
