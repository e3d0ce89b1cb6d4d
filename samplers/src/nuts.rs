//! The No-U-Turn Sampler with multinomial sampling along the trajectory, following
//! Stan's `base_nuts` (Betancourt 2017, "A Conceptual Introduction to Hamiltonian Monte
//! Carlo", appendix A): the generalised no-U-turn criterion on `p♯ = M⁻¹p`, checked
//! around every merged subtree and, as Stan does since 2.21, across the seams between
//! subtrees.

use rand::{Rng, RngExt};
use tilde_core::{Error, LogDensity, Result};

use crate::adaptation::MetricAdaptation;
use crate::hmc::window_adapted;
use crate::hmc::{
    HmcInfo, HmcParams, HmcState, Point, Tuning, check_divergence_threshold, hmc_family_items,
    symmetric_acceptance, tuning_builders,
};
use crate::kernel::Kernel;

/// The No-U-Turn Sampler.
///
/// # Example
/// ```
/// use tilde_samplers::Nuts;
///
/// let nuts = Nuts::default().target_accept(0.9).max_tree_depth(12);
/// assert_eq!(nuts.get_max_tree_depth(), 12);
/// // NumPyro's `max_tree_depth=(8, 12)`: shallower trees while warm-up tunes
/// let nuts = Nuts::default().max_tree_depth(12).max_tree_depth_warmup(8);
/// assert_eq!((nuts.get_max_tree_depth_warmup(), nuts.get_max_tree_depth()), (8, 12));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Nuts {
    max_tree_depth: usize,
    /// The warm-up's depth, when it differs from `max_tree_depth`.
    max_tree_depth_warmup: Option<usize>,
    tuning: Tuning,
    divergence_threshold: f64,
    jitter: f64,
}

impl Default for Nuts {
    fn default() -> Self {
        Nuts {
            max_tree_depth: 10,
            max_tree_depth_warmup: None,
            tuning: Tuning {
                metric_adaptation: MetricAdaptation::Fisher,
                late_symmetric_warmup: true,
                ..Tuning::new(0.8)
            },
            divergence_threshold: 1000.0,
            jitter: 0.0,
        }
    }
}

/// The largest tree depth a setting may ask for (2³⁰ − 1 leapfrog steps).
const MAX_TREE_DEPTH_LIMIT: usize = 30;

impl Nuts {
    /// The largest number of trajectory doublings in warm-up and sampling (default 10:
    /// at most 1023 steps); from 1 to 30, checked when a run starts. It replaces a
    /// [`max_tree_depth_warmup`](Self::max_tree_depth_warmup) set before it.
    pub fn max_tree_depth(mut self, depth: usize) -> Self {
        self.max_tree_depth = depth;
        self.max_tree_depth_warmup = None;
        self
    }

    /// The largest number of doublings during warm-up only (NumPyro's first entry of
    /// `max_tree_depth=(warmup, sampling)`); from 1 to 30, checked when a run starts.
    /// Call it after [`max_tree_depth`](Self::max_tree_depth), which sets both.
    pub fn max_tree_depth_warmup(mut self, depth: usize) -> Self {
        self.max_tree_depth_warmup = Some(depth);
        self
    }

    /// The maximum tree depth of sampling.
    pub fn get_max_tree_depth(&self) -> usize {
        self.max_tree_depth
    }

    /// The maximum tree depth of warm-up.
    pub fn get_max_tree_depth_warmup(&self) -> usize {
        self.max_tree_depth_warmup.unwrap_or(self.max_tree_depth)
    }

    tuning_builders!();

    /// The energy error beyond which a trajectory is divergent (default 1000); must be
    /// positive (checked when a run starts).
    pub fn divergence_threshold(mut self, threshold: f64) -> Self {
        self.divergence_threshold = threshold;
        self
    }

    /// Draws each transition's step size uniformly in `step_size · (1 ± jitter)`, in
    /// warm-up and sampling (Stan's `stepsize_jitter`, nutpie's default 0.1;
    /// `0 ≤ jitter < 1`, default 0). It costs one uniform draw per transition; on the
    /// peer benchmarks of `docs/performance.md` 0.1 did not raise the ESS per
    /// gradient.
    ///
    /// ```
    /// use tilde_samplers::Nuts;
    ///
    /// let nuts = Nuts::default().jitter(0.1);
    /// assert_eq!(nuts.get_jitter(), 0.1);
    /// ```
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 0.99);
        self
    }

    /// The step-size jitter.
    pub fn get_jitter(&self) -> f64 {
        self.jitter
    }
}

/// A trajectory point kept as a proposal: what the next state needs, and its energy
/// (half the copying of a whole [`Point`]).
#[derive(Clone, Debug)]
struct Sample {
    q: Vec<f64>,
    grad: Vec<f64>,
    log_density: f64,
    energy: f64,
}

impl Sample {
    fn new(dim: usize) -> Self {
        Sample {
            q: vec![0.0; dim],
            grad: vec![0.0; dim],
            log_density: 0.0,
            energy: 0.0,
        }
    }

    /// Takes `z`, whose Hamiltonian is `energy`.
    fn set(&mut self, z: &Point, energy: f64) {
        self.q.copy_from_slice(&z.q);
        self.grad.copy_from_slice(&z.grad);
        self.log_density = z.log_density;
        self.energy = energy;
    }

    fn copy_from(&mut self, other: &Sample) {
        self.q.copy_from_slice(&other.q);
        self.grad.copy_from_slice(&other.grad);
        self.log_density = other.log_density;
        self.energy = other.energy;
    }

    fn store(&self, state: &mut HmcState) {
        state.position.copy_from_slice(&self.q);
        state.log_density_grad.copy_from_slice(&self.grad);
        state.log_density = self.log_density;
    }
}

/// Buffers of one subtree level, reused across transitions.
#[derive(Clone, Debug)]
struct Level {
    p_init_end: Vec<f64>,
    p_sharp_init_end: Vec<f64>,
    rho_init: Vec<f64>,
    z_propose_final: Sample,
    p_final_beg: Vec<f64>,
    p_sharp_final_beg: Vec<f64>,
    rho_final: Vec<f64>,
    scratch: Vec<f64>,
}

impl Level {
    fn new(dim: usize) -> Self {
        Level {
            p_init_end: vec![0.0; dim],
            p_sharp_init_end: vec![0.0; dim],
            rho_init: vec![0.0; dim],
            z_propose_final: Sample::new(dim),
            p_final_beg: vec![0.0; dim],
            p_sharp_final_beg: vec![0.0; dim],
            rho_final: vec![0.0; dim],
            scratch: vec![0.0; dim],
        }
    }
}

/// Buffers of [`Nuts`]: the trajectory's ends and one set of subtree buffers per tree depth.
#[derive(Clone, Debug)]
pub struct NutsWorkspace {
    z: Point,
    z_fwd: Point,
    z_bck: Point,
    z_sample: Sample,
    z_propose: Sample,
    rho: Vec<f64>,
    rho_fwd: Vec<f64>,
    rho_bck: Vec<f64>,
    rho_extended: Vec<f64>,
    p_fwd_fwd: Vec<f64>,
    p_fwd_bck: Vec<f64>,
    p_bck_fwd: Vec<f64>,
    p_bck_bck: Vec<f64>,
    p_sharp_fwd_fwd: Vec<f64>,
    p_sharp_fwd_bck: Vec<f64>,
    p_sharp_bck_fwd: Vec<f64>,
    p_sharp_bck_bck: Vec<f64>,
    levels: Vec<Level>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The generalised no-U-turn criterion: the trajectory keeps going while both ends'
/// velocities point along the summed momentum `rho`.
fn criterion(p_sharp_minus: &[f64], p_sharp_plus: &[f64], rho: &[f64]) -> bool {
    dot(p_sharp_plus, rho) > 0.0 && dot(p_sharp_minus, rho) > 0.0
}

fn add_into(out: &mut [f64], a: &[f64], b: &[f64]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// `ln(eᵃ + eᵇ)`, with one exponential and one logarithm (none when `a` is `-∞`, the
/// empty sum every subtree starts from). A NaN in either argument gives NaN, except
/// beside `-∞`, which gives `-∞`.
fn log_sum_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b.max(a);
    }
    let hi = a.max(b);
    if hi == f64::NEG_INFINITY {
        // a NaN beside `-∞`
        return hi;
    }
    // one of the two differences is 0 (e⁰ = 1 exactly): their sum is the other one
    hi + (1.0 + ((a - hi) + (b - hi)).exp()).ln()
}

/// The running totals of one trajectory.
struct Trajectory<'a, L: ?Sized, R: ?Sized> {
    target: &'a L,
    params: &'a HmcParams,
    rng: &'a mut R,
    step_size: f64,
    h0: f64,
    divergence_threshold: f64,
    num_steps: usize,
    sum_metro_prob: f64,
    sum_symmetric: f64,
    /// Whether to sum `sum_symmetric` (one exponential per leapfrog step).
    track_symmetric: bool,
    is_divergent: bool,
}

impl<L: LogDensity + ?Sized, R: Rng + ?Sized> Trajectory<'_, L, R> {
    /// Builds a subtree of `2^depth` steps from `z`, as Stan's `build_tree`.
    ///
    /// - `z`: the integrator's current point, advanced through the subtree;
    /// - `z_propose`: receives the subtree's multinomial sample;
    /// - `p_sharp_beg`/`p_sharp_end`, `p_beg`/`p_end`: velocities and momenta at the
    ///   subtree's first and last points;
    /// - `rho`: gains the subtree's summed momentum;
    /// - `log_sum_weight`: gains the log of the subtree's summed weights `e^{H0 - H}`;
    /// - `levels`: buffers for depths below this one.
    ///
    /// Returns `false` when the subtree diverged or made a U-turn.
    #[allow(clippy::too_many_arguments)]
    fn build_tree(
        &mut self,
        depth: usize,
        z: &mut Point,
        z_propose: &mut Sample,
        p_sharp_beg: &mut [f64],
        p_sharp_end: &mut [f64],
        rho: &mut [f64],
        p_beg: &mut [f64],
        p_end: &mut [f64],
        log_sum_weight: &mut f64,
        levels: &mut [Level],
    ) -> bool {
        if depth == 0 {
            z.leapfrog(
                self.target,
                &self.params.inverse_mass_matrix,
                self.step_size,
            );
            self.num_steps += 1;
            let h = z.energy();
            if h - self.h0 > self.divergence_threshold {
                self.is_divergent = true;
            }
            *log_sum_weight = log_sum_exp(*log_sum_weight, self.h0 - h);
            if self.track_symmetric {
                self.sum_symmetric += symmetric_acceptance(self.h0 - h);
            }
            self.sum_metro_prob += if self.h0 - h > 0.0 {
                1.0
            } else {
                (self.h0 - h).exp()
            };
            z_propose.set(z, h);
            p_sharp_beg.copy_from_slice(&z.v);
            p_sharp_end.copy_from_slice(&z.v);
            for (r, p) in rho.iter_mut().zip(&z.p) {
                *r += p;
            }
            p_beg.copy_from_slice(&z.p);
            p_end.copy_from_slice(&z.p);
            return !self.is_divergent;
        }

        let (lower, this) = levels.split_at_mut(depth - 1);
        let level = &mut this[0];

        // the initial subtree
        let mut log_sum_weight_init = f64::NEG_INFINITY;
        level.rho_init.fill(0.0);
        let valid_init = self.build_tree(
            depth - 1,
            z,
            z_propose,
            p_sharp_beg,
            &mut level.p_sharp_init_end,
            &mut level.rho_init,
            p_beg,
            &mut level.p_init_end,
            &mut log_sum_weight_init,
            lower,
        );
        if !valid_init {
            return false;
        }

        // the final subtree
        let mut log_sum_weight_final = f64::NEG_INFINITY;
        level.rho_final.fill(0.0);
        let valid_final = self.build_tree(
            depth - 1,
            z,
            &mut level.z_propose_final,
            &mut level.p_sharp_final_beg,
            p_sharp_end,
            &mut level.rho_final,
            &mut level.p_final_beg,
            p_end,
            &mut log_sum_weight_final,
            lower,
        );
        if !valid_final {
            return false;
        }

        // multinomial sample from the right subtree
        let log_sum_weight_subtree = log_sum_exp(log_sum_weight_init, log_sum_weight_final);
        *log_sum_weight = log_sum_exp(*log_sum_weight, log_sum_weight_subtree);
        if log_sum_weight_final > log_sum_weight_subtree
            || self.rng.random::<f64>() < (log_sum_weight_final - log_sum_weight_subtree).exp()
        {
            z_propose.copy_from(&level.z_propose_final);
        }

        // U-turns around the merged subtree and across the seam between its halves
        add_into(&mut level.scratch, &level.rho_init, &level.rho_final);
        for (r, s) in rho.iter_mut().zip(&level.scratch) {
            *r += s;
        }
        let mut persist = criterion(p_sharp_beg, p_sharp_end, &level.scratch);
        add_into(&mut level.scratch, &level.rho_init, &level.p_final_beg);
        persist &= criterion(p_sharp_beg, &level.p_sharp_final_beg, &level.scratch);
        add_into(&mut level.scratch, &level.rho_final, &level.p_init_end);
        persist &= criterion(&level.p_sharp_init_end, p_sharp_end, &level.scratch);
        persist
    }
}

window_adapted!(Nuts, HmcState, leapfrog);

impl Kernel for Nuts {
    type Info = HmcInfo;
    type Workspace = NutsWorkspace;
    hmc_family_items!(HmcState, crate::hmc::init_state, crate::hmc::refresh_state);

    fn workspace(&self, dim: usize) -> NutsWorkspace {
        let v = || vec![0.0; dim];
        NutsWorkspace {
            z: Point::new(dim),
            z_fwd: Point::new(dim),
            z_bck: Point::new(dim),
            z_sample: Sample::new(dim),
            z_propose: Sample::new(dim),
            rho: v(),
            rho_fwd: v(),
            rho_bck: v(),
            rho_extended: v(),
            p_fwd_fwd: v(),
            p_fwd_bck: v(),
            p_bck_fwd: v(),
            p_bck_bck: v(),
            p_sharp_fwd_fwd: v(),
            p_sharp_fwd_bck: v(),
            p_sharp_bck_fwd: v(),
            p_sharp_bck_bck: v(),
            levels: (0..self.max_tree_depth).map(|_| Level::new(dim)).collect(),
        }
    }

    fn warmup_kernel(&self) -> Option<Nuts> {
        let depth = self.max_tree_depth_warmup?;
        (depth != self.max_tree_depth).then(|| Nuts {
            max_tree_depth: depth,
            max_tree_depth_warmup: None,
            ..self.clone()
        })
    }

    fn max_tree_depth(&self) -> Option<usize> {
        Some(self.max_tree_depth)
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        self.tuning.validate()?;
        for (name, depth) in [
            ("max_tree_depth", Some(self.max_tree_depth)),
            ("max_tree_depth_warmup", self.max_tree_depth_warmup),
        ] {
            if let Some(depth) = depth
                && !(1..=MAX_TREE_DEPTH_LIMIT).contains(&depth)
            {
                return Err(Error::InvalidConfig(format!(
                    "{name} must be from 1 to {MAX_TREE_DEPTH_LIMIT}, got {depth}"
                )));
            }
        }
        check_divergence_threshold(self.divergence_threshold)
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut HmcState,
        params: &HmcParams,
        ws: &mut NutsWorkspace,
    ) -> HmcInfo {
        let metric = &params.inverse_mass_matrix;
        ws.z.start(state, metric, rng);
        let h0 = ws.z.energy();
        ws.z_fwd.copy_from(&ws.z);
        ws.z_bck.copy_from(&ws.z);
        ws.z_sample.set(&ws.z, h0);
        ws.z_propose.set(&ws.z, h0);
        for buf in [
            &mut ws.p_fwd_fwd,
            &mut ws.p_fwd_bck,
            &mut ws.p_bck_fwd,
            &mut ws.p_bck_bck,
            &mut ws.rho,
        ] {
            buf.copy_from_slice(&ws.z.p);
        }
        for buf in [
            &mut ws.p_sharp_fwd_fwd,
            &mut ws.p_sharp_fwd_bck,
            &mut ws.p_sharp_bck_fwd,
            &mut ws.p_sharp_bck_bck,
        ] {
            buf.copy_from_slice(&ws.z.v);
        }

        let mut log_sum_weight = 0.0;
        let mut depth = 0;
        let step_size = if self.jitter > 0.0 {
            params.step_size * (1.0 + self.jitter * (2.0 * rng.random::<f64>() - 1.0))
        } else {
            params.step_size
        };
        let mut traj = Trajectory {
            target,
            params,
            rng,
            step_size,
            h0,
            divergence_threshold: self.divergence_threshold,
            num_steps: 0,
            sum_metro_prob: 0.0,
            sum_symmetric: 0.0,
            track_symmetric: self.tuning.symmetric_acceptance || self.tuning.late_symmetric_warmup,
            is_divergent: false,
        };

        while depth < self.max_tree_depth {
            ws.rho_fwd.fill(0.0);
            ws.rho_bck.fill(0.0);
            let mut log_sum_weight_subtree = f64::NEG_INFINITY;
            let valid = if traj.rng.random::<f64>() > 0.5 {
                // the old trajectory becomes the backward subtree: its forward end is
                // the old trajectory's forward end
                ws.rho_bck.copy_from_slice(&ws.rho);
                ws.p_bck_fwd.copy_from_slice(&ws.p_fwd_fwd);
                ws.p_sharp_bck_fwd.copy_from_slice(&ws.p_sharp_fwd_fwd);
                ws.z.copy_from(&ws.z_fwd);
                traj.step_size = step_size;
                let valid = traj.build_tree(
                    depth,
                    &mut ws.z,
                    &mut ws.z_propose,
                    &mut ws.p_sharp_fwd_bck,
                    &mut ws.p_sharp_fwd_fwd,
                    &mut ws.rho_fwd,
                    &mut ws.p_fwd_bck,
                    &mut ws.p_fwd_fwd,
                    &mut log_sum_weight_subtree,
                    &mut ws.levels,
                );
                ws.z_fwd.copy_from(&ws.z);
                valid
            } else {
                // the old trajectory becomes the forward subtree: its backward end is
                // the old trajectory's backward end
                ws.rho_fwd.copy_from_slice(&ws.rho);
                ws.p_fwd_bck.copy_from_slice(&ws.p_bck_bck);
                ws.p_sharp_fwd_bck.copy_from_slice(&ws.p_sharp_bck_bck);
                ws.z.copy_from(&ws.z_bck);
                traj.step_size = -step_size;
                let valid = traj.build_tree(
                    depth,
                    &mut ws.z,
                    &mut ws.z_propose,
                    &mut ws.p_sharp_bck_fwd,
                    &mut ws.p_sharp_bck_bck,
                    &mut ws.rho_bck,
                    &mut ws.p_bck_fwd,
                    &mut ws.p_bck_bck,
                    &mut log_sum_weight_subtree,
                    &mut ws.levels,
                );
                ws.z_bck.copy_from(&ws.z);
                valid
            };
            if !valid {
                break;
            }
            depth += 1;

            if log_sum_weight_subtree > log_sum_weight
                || traj.rng.random::<f64>() < (log_sum_weight_subtree - log_sum_weight).exp()
            {
                ws.z_sample.copy_from(&ws.z_propose);
            }
            log_sum_weight = log_sum_exp(log_sum_weight, log_sum_weight_subtree);

            add_into(&mut ws.rho, &ws.rho_bck, &ws.rho_fwd);
            let mut persist = criterion(&ws.p_sharp_bck_bck, &ws.p_sharp_fwd_fwd, &ws.rho);
            add_into(&mut ws.rho_extended, &ws.rho_bck, &ws.p_fwd_bck);
            persist &= criterion(&ws.p_sharp_bck_bck, &ws.p_sharp_fwd_bck, &ws.rho_extended);
            add_into(&mut ws.rho_extended, &ws.rho_fwd, &ws.p_bck_fwd);
            persist &= criterion(&ws.p_sharp_bck_fwd, &ws.p_sharp_fwd_fwd, &ws.rho_extended);
            if !persist {
                break;
            }
        }

        let num_steps = traj.num_steps;
        let (acceptance_rate, symmetric_acceptance_rate) = match num_steps {
            0 => (0.0, 0.0),
            n if traj.track_symmetric => (
                traj.sum_metro_prob / n as f64,
                traj.sum_symmetric / n as f64,
            ),
            n => (
                traj.sum_metro_prob / n as f64,
                traj.sum_metro_prob / n as f64,
            ),
        };
        let is_divergent = traj.is_divergent;
        ws.z_sample.store(state);
        HmcInfo {
            acceptance_rate,
            symmetric_acceptance_rate,
            is_divergent,
            energy: ws.z_sample.energy,
            num_integration_steps: num_steps,
            tree_depth: depth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::log_sum_exp;

    #[test]
    fn log_sum_exp_of_two_weights() {
        let inf = f64::INFINITY;
        // the empty sum and one term
        assert_eq!(log_sum_exp(-inf, -inf), -inf);
        assert_eq!(log_sum_exp(-inf, -3.5), -3.5);
        assert_eq!(log_sum_exp(-3.5, -inf), -3.5);
        assert_eq!(log_sum_exp(-inf, f64::NAN), -inf);
        assert_eq!(log_sum_exp(f64::NAN, -inf), -inf);
        assert!(log_sum_exp(1.0, f64::NAN).is_nan());
        assert!(log_sum_exp(f64::NAN, 1.0).is_nan());
        assert!(log_sum_exp(inf, inf).is_nan());
        assert_eq!(log_sum_exp(0.0, 0.0), 2f64.ln());
        // ln(eᵃ + eᵇ), far from overflow and underflow of the exponentials
        for (a, b) in [(-1.25, 0.5), (0.5, -1.25), (-700.0, -701.5), (800.0, 790.0)] {
            let hi = f64::max(a, b);
            let exact = hi + ((a - hi).exp() + (b - hi).exp()).ln();
            assert!((log_sum_exp(a, b) - exact).abs() <= 4.0 * f64::EPSILON * hi.abs().max(1.0));
        }
    }
}
