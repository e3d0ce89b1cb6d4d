//! Sample Adaptive MCMC (Zhu 2019), after NumPyro's `SA`: a gradient-free kernel whose
//! state is a set of points and whose Gaussian proposal is fitted to them.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};
use tilde_core::{Error, LogDensity, Result};

use crate::kernel::{Kernel, KernelInfo, KernelParams, KernelState, NoAdaptation};
use crate::mcmc::chain_rng;
use crate::metric::Metric;
use crate::metropolis::proposal_log_density;

/// Sample Adaptive MCMC (Michael Zhu 2019, "Sample Adaptive MCMC", NeurIPS), after
/// NumPyro's `SA`. Gradient-free, one log-density evaluation per transition.
///
/// # Algorithm
/// The state is a set `S = {x₁, …, x_N}` of `N` points (`adapt_state_size`, default
/// `2·dim`). A transition
/// 1. fits a Gaussian `q(· | S) = N(m, C)` to the points: their mean `m` and biased
///    covariance `C = (1/N) Σ (xₙ − m)(xₙ − m)ᵀ` (dense, or its diagonal);
/// 2. proposes `x_{N+1} ~ q(· | S)`;
/// 3. removes one of the `N + 1` points, point `n` with probability `λₙ / Σₖ λₖ`,
///    ```text
///    λₙ = q(xₙ | S₋ₙ) / π(xₙ),    S₋ₙ = S ∪ {x_{N+1}} ∖ {xₙ}
///    ```
///    (Zhu 2019, Algorithm 1; `q(· | S₋ₙ)` is computed from `m` and `C` by rank-one
///    updates, the paper's Appendix 6). A proposal with `π = 0` (a non-finite
///    log-density) is the point removed.
///
/// The chain on `S` leaves `π^{⊗N}` invariant; as NumPyro does, each draw reported is
/// a point of `S` chosen uniformly, so draws are marginally `π`. `accept_stat__` is
/// `1 − λ_{N+1} / Σₖ λₖ`, the probability that the proposal entered `S`.
///
/// There is no separate warm-up adaptation ([`NoAdaptation`]): the proposal adapts
/// through the points of the state, at every transition (NumPyro refits `m` and `C`
/// from the points at each step, as here). It needs long warm-ups; thin its draws.
///
/// The first points are the starting position and `N − 1` points around it, drawn from
/// `N(position, I)` with a random stream seeded by the position ([`Kernel::init`] takes
/// no random generator), a jitter halved until the log-density there is finite.
///
/// ```
/// use tilde_samplers::Sa;
///
/// let sa = Sa::default().adapt_state_size(20).dense_mass(false);
/// # let _ = sa;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sa {
    adapt_state_size: Option<usize>,
    dense_mass: bool,
}

impl Default for Sa {
    /// NumPyro's defaults: `2·dim` points and a dense proposal.
    fn default() -> Self {
        Sa {
            adapt_state_size: None,
            dense_mass: true,
        }
    }
}

impl Sa {
    /// The number of points `N` in the state (default `2·dim`); at least 2, and more
    /// than `dim` with a dense proposal.
    pub fn adapt_state_size(mut self, n: usize) -> Self {
        self.adapt_state_size = Some(n);
        self
    }

    /// Fit a dense proposal covariance (`true`, NumPyro's default) or its diagonal.
    pub fn dense_mass(mut self, dense: bool) -> Self {
        self.dense_mass = dense;
        self
    }

    /// The number of points for a target of dimension `dim`.
    fn state_size(&self, dim: usize) -> usize {
        self.adapt_state_size.unwrap_or((2 * dim).max(2))
    }
}

/// The state of [`Sa`]: the set of points with their log-densities, and the draw
/// reported (one of the points).
#[derive(Clone, Debug, PartialEq)]
pub struct SaState {
    /// The draw reported: a point of the set chosen uniformly after each transition.
    pub position: Vec<f64>,
    /// The log-density at `position`.
    pub log_density: f64,
    /// The `N` points of the set, row-major (`N × dim`).
    pub points: Vec<f64>,
    /// The log-density at each point.
    pub log_densities: Vec<f64>,
}

impl KernelState for SaState {
    fn position(&self) -> &[f64] {
        &self.position
    }

    fn log_density(&self) -> f64 {
        self.log_density
    }
}

/// The parameters of [`Sa`]: none, its proposal lives in its state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SaParams;

impl KernelParams for SaParams {}

/// What one [`Sa`] transition did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SaInfo {
    /// The probability that the proposal entered the set, `1 − λ_{N+1} / Σₖ λₖ`.
    pub acceptance_rate: f64,
    /// Whether the proposal entered the set (another point left it).
    pub is_accepted: bool,
    /// Log-density evaluations (1).
    pub num_evaluations: usize,
}

impl KernelInfo for SaInfo {
    fn acceptance_rate(&self) -> f64 {
        self.acceptance_rate
    }

    fn num_evaluations(&self) -> usize {
        self.num_evaluations
    }
}

/// Buffers of [`Sa`].
#[derive(Clone, Debug)]
pub struct SaWorkspace {
    mean: Vec<f64>,
    /// The covariance (`dim²`, dense) or the variances (`dim`, diagonal) of the set.
    cov: Vec<f64>,
    /// The Cholesky factor of `cov` (dense) and of the proposal fitted without point `n`.
    factor: Vec<f64>,
    factor_n: Vec<f64>,
    proposal: Vec<f64>,
    mean_n: Vec<f64>,
    u: Vec<f64>,
    log_weights: Vec<f64>,
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The lower Cholesky factor of the symmetric row-major `a` into `l`; `false` when `a`
/// is not positive-definite.
fn cholesky_into(a: &[f64], n: usize, l: &mut [f64]) -> bool {
    l.fill(0.0);
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return false;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    true
}

/// Turns the lower factor `l` of `A` into that of `A + sign·x xᵀ` (`sign` ±1), `x`
/// overwritten; `false` when a downdate leaves `A` not positive-definite.
fn cholesky_rank_one(l: &mut [f64], n: usize, x: &mut [f64], sign: f64) -> bool {
    for k in 0..n {
        let lkk = l[k * n + k];
        let r2 = lkk * lkk + sign * x[k] * x[k];
        if !(r2 > 0.0 && r2.is_finite()) {
            return false;
        }
        let r = r2.sqrt();
        let (c, s) = (r / lkk, x[k] / lkk);
        l[k * n + k] = r;
        for i in k + 1..n {
            l[i * n + k] = (l[i * n + k] + sign * s * x[i]) / c;
            x[i] = c * x[i] - s * l[i * n + k];
        }
    }
    true
}

/// `ln N(x; mean, L Lᵀ)` for a lower factor `L`; `tmp` is scratch of length `dim`.
fn ln_normal_dense(x: &[f64], mean: &[f64], l: &[f64], tmp: &mut [f64]) -> f64 {
    let n = x.len();
    let mut quad = 0.0;
    let mut ln_det = 0.0;
    for i in 0..n {
        let mut s = x[i] - mean[i];
        for k in 0..i {
            s -= l[i * n + k] * tmp[k];
        }
        tmp[i] = s / l[i * n + i];
        quad += tmp[i] * tmp[i];
        ln_det += l[i * n + i].ln();
    }
    -0.5 * quad - ln_det - 0.5 * n as f64 * LN_2PI
}

/// `ln N(x; mean, diag(var))`.
fn ln_normal_diagonal(x: &[f64], mean: &[f64], var: &[f64]) -> f64 {
    x.iter()
        .zip(mean)
        .zip(var)
        .map(|((x, m), v)| -0.5 * ((x - m) * (x - m) / v + v.ln() + LN_2PI))
        .sum()
}

/// A seed from the bits of a position, so that `init` is a function of its input.
fn position_seed(position: &[f64]) -> u64 {
    position.iter().fold(0x243F_6A88_85A3_08D3, |h: u64, v| {
        (h ^ v.to_bits())
            .wrapping_mul(0x0000_0100_0000_01B3)
            .rotate_left(17)
    })
}

/// Halvings of the initial jitter tried before `init` gives up on a point.
const MAX_JITTER_HALVINGS: usize = 60;

impl Sa {
    /// The mean and biased covariance of the points into `ws`, with the Cholesky
    /// factor when dense; `false` when the covariance is not usable.
    fn fit(&self, points: &[f64], dim: usize, ws: &mut SaWorkspace) -> bool {
        let num_points = points.len() / dim;
        let w = 1.0 / num_points as f64;
        ws.mean.fill(0.0);
        for x in points.chunks_exact(dim) {
            ws.mean.iter_mut().zip(x).for_each(|(m, x)| *m += w * x);
        }
        ws.cov.fill(0.0);
        for x in points.chunks_exact(dim) {
            ws.u.iter_mut()
                .zip(x)
                .zip(&ws.mean)
                .for_each(|((u, x), m)| *u = x - m);
            if self.dense_mass {
                for i in 0..dim {
                    for j in 0..=i {
                        ws.cov[i * dim + j] += w * ws.u[i] * ws.u[j];
                    }
                }
            } else {
                ws.cov
                    .iter_mut()
                    .zip(&ws.u)
                    .for_each(|(c, u)| *c += w * u * u);
            }
        }
        if self.dense_mass {
            for i in 0..dim {
                for j in 0..i {
                    ws.cov[j * dim + i] = ws.cov[i * dim + j];
                }
            }
            cholesky_into(&ws.cov, dim, &mut ws.factor)
        } else {
            ws.cov.iter().all(|v| *v > 0.0 && v.is_finite())
        }
    }

    /// `ln q(xₙ | S₋ₙ)`: the proposal fitted to the set with `x_new` in place of `xₙ`,
    /// at `xₙ`, from the set's fit in `ws` (`-∞` when that covariance is degenerate).
    fn ln_q_without(&self, x_n: &[f64], x_new: &[f64], w: f64, ws: &mut SaWorkspace) -> f64 {
        let dim = x_n.len();
        for i in 0..dim {
            ws.mean_n[i] = ws.mean[i] + w * (x_new[i] - x_n[i]);
        }
        if self.dense_mass {
            // C₋ₙ = C + w (x_new − m)(x_new − m)ᵀ − w (xₙ − m)(xₙ − m)ᵀ
            //     − w² (x_new − xₙ)(x_new − xₙ)ᵀ
            ws.factor_n.copy_from_slice(&ws.factor);
            let root = w.sqrt();
            let terms: [(&[f64], &[f64], f64, f64); 3] = [
                (x_new, &ws.mean, root, 1.0),
                (x_n, &ws.mean, root, -1.0),
                (x_new, x_n, w, -1.0),
            ];
            for (a, b, scale, sign) in terms {
                ws.u.iter_mut()
                    .zip(a.iter().zip(b))
                    .for_each(|(u, (a, b))| *u = scale * (a - b));
                if !cholesky_rank_one(&mut ws.factor_n, dim, &mut ws.u, sign) {
                    return f64::NEG_INFINITY;
                }
            }
            ln_normal_dense(x_n, &ws.mean_n, &ws.factor_n, &mut ws.u)
        } else {
            let mut total = 0.0;
            for i in 0..dim {
                let (d_new, d_n, d) = (
                    x_new[i] - ws.mean[i],
                    x_n[i] - ws.mean[i],
                    x_new[i] - x_n[i],
                );
                let var = ws.cov[i] + w * d_new * d_new - w * d_n * d_n - w * w * d * d;
                if !(var > 0.0 && var.is_finite()) {
                    return f64::NEG_INFINITY;
                }
                let r = x_n[i] - ws.mean_n[i];
                total += -0.5 * (r * r / var + var.ln() + LN_2PI);
            }
            total
        }
    }
}

impl Kernel for Sa {
    type State = SaState;
    type Params = SaParams;
    type Info = SaInfo;
    type Workspace = SaWorkspace;
    type Adaptation = NoAdaptation;

    /// The state at `position`: the position and `N − 1` points drawn around it.
    ///
    /// # Errors
    /// As [`Kernel::init`], and [`Error::InvalidConfig`] when a dense proposal has no
    /// more points than dimensions (its covariance would be singular).
    fn init<L: LogDensity + ?Sized>(&self, target: &L, position: &[f64]) -> Result<SaState> {
        let dim = target.dim();
        if position.len() != dim {
            return Err(Error::DimensionMismatch {
                expected: dim,
                found: position.len(),
            });
        }
        self.validate(dim)?;
        let num_points = self.state_size(dim);
        let log_density = target.logp(position);
        if !log_density.is_finite() {
            return Err(Error::InitFailed {
                tries: 1,
                reason: format!(
                    "the log-density ({log_density}) is not finite at the given position"
                ),
            });
        }
        let mut rng = chain_rng(position_seed(position), 0);
        let mut points = Vec::with_capacity(num_points * dim);
        let mut log_densities = Vec::with_capacity(num_points);
        points.extend_from_slice(position);
        log_densities.push(log_density);
        let mut point = vec![0.0; dim];
        for _ in 1..num_points {
            let mut scale = 1.0;
            let mut found = None;
            for _ in 0..MAX_JITTER_HALVINGS {
                for (y, x) in point.iter_mut().zip(position) {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    *y = x + scale * z;
                }
                let value = target.logp(&point);
                if value.is_finite() {
                    found = Some(value);
                    break;
                }
                scale *= 0.5;
            }
            let Some(value) = found else {
                return Err(Error::InitFailed {
                    tries: MAX_JITTER_HALVINGS,
                    reason: "no point near the given position has a finite log-density".into(),
                });
            };
            points.extend_from_slice(&point);
            log_densities.push(value);
        }
        Ok(SaState {
            position: position.to_vec(),
            log_density,
            points,
            log_densities,
        })
    }

    fn workspace(&self, dim: usize) -> SaWorkspace {
        let num_points = self.state_size(dim);
        let square = if self.dense_mass { dim * dim } else { dim };
        SaWorkspace {
            mean: vec![0.0; dim],
            cov: vec![0.0; square],
            factor: vec![0.0; square],
            factor_n: vec![0.0; square],
            proposal: vec![0.0; dim],
            mean_n: vec![0.0; dim],
            u: vec![0.0; dim],
            log_weights: vec![0.0; num_points + 1],
        }
    }

    fn initial_params(&self, _: usize, _: Option<&Metric>) -> SaParams {
        SaParams
    }

    fn adaptation(&self, _: usize, _: usize, _: bool) -> NoAdaptation {
        NoAdaptation
    }

    /// [`Error::InvalidConfig`] for fewer than 2 points, or a dense proposal with no
    /// more points than dimensions (its covariance would be singular).
    fn validate(&self, dim: usize) -> Result<()> {
        if let Some(n) = self.adapt_state_size
            && n < 2
        {
            return Err(Error::InvalidConfig(format!(
                "adapt_state_size must be at least 2, got {n}"
            )));
        }
        let num_points = self.state_size(dim);
        if self.dense_mass && num_points <= dim {
            return Err(Error::InvalidConfig(format!(
                "Sa with a dense proposal needs adapt_state_size > dim ({dim}), got \
                 {num_points}: give more points or use dense_mass(false)"
            )));
        }
        Ok(())
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut SaState,
        _: &SaParams,
        ws: &mut SaWorkspace,
    ) -> SaInfo {
        let dim = state.position.len();
        let num_points = state.log_densities.len();
        assert_eq!(
            state.points.len(),
            num_points * dim,
            "the Sa state's points do not match its dimension"
        );
        let rejected = SaInfo {
            acceptance_rate: 0.0,
            is_accepted: false,
            num_evaluations: 0,
        };
        // a target without parameters has nothing to move
        if dim == 0 || !self.fit(&state.points, dim, ws) {
            return rejected;
        }
        // the proposal x_{N+1} ~ N(m, C)
        for u in ws.u.iter_mut() {
            *u = StandardNormal.sample(rng);
        }
        for i in 0..dim {
            ws.proposal[i] = ws.mean[i]
                + if self.dense_mass {
                    (0..=i)
                        .map(|k| ws.factor[i * dim + k] * ws.u[k])
                        .sum::<f64>()
                } else {
                    ws.cov[i].sqrt() * ws.u[i]
                };
        }
        let log_density = proposal_log_density(target.logp(&ws.proposal));
        let mut info = SaInfo {
            num_evaluations: 1,
            ..rejected
        };
        let w = 1.0 / num_points as f64;
        let mut removed = num_points;
        if log_density.is_finite() {
            let proposal = std::mem::take(&mut ws.proposal);
            for n in 0..num_points {
                let x_n = &state.points[n * dim..(n + 1) * dim];
                ws.log_weights[n] =
                    self.ln_q_without(x_n, &proposal, w, ws) - state.log_densities[n];
            }
            let ln_q = if self.dense_mass {
                ln_normal_dense(&proposal, &ws.mean, &ws.factor, &mut ws.u)
            } else {
                ln_normal_diagonal(&proposal, &ws.mean, &ws.cov)
            };
            ws.proposal = proposal;
            ws.log_weights[num_points] = ln_q - log_density;
            let max = ws
                .log_weights
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            if max.is_finite() {
                let weight = |v: f64| if v.is_finite() { (v - max).exp() } else { 0.0 };
                let total: f64 = ws.log_weights.iter().map(|v| weight(*v)).sum();
                info.acceptance_rate = 1.0 - weight(ws.log_weights[num_points]) / total;
                let mut u = rng.random::<f64>() * total;
                for (n, v) in ws.log_weights.iter().enumerate() {
                    let p = weight(*v);
                    if p > 0.0 {
                        removed = n;
                        if u < p {
                            break;
                        }
                        u -= p;
                    }
                }
            }
        }
        if removed < num_points {
            state.points[removed * dim..(removed + 1) * dim].copy_from_slice(&ws.proposal);
            state.log_densities[removed] = log_density;
            info.is_accepted = true;
        }
        // NumPyro's draw: a point of the set, chosen uniformly
        let k = rng.random_range(0..num_points);
        state
            .position
            .copy_from_slice(&state.points[k * dim..(k + 1) * dim]);
        state.log_density = state.log_densities[k];
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_one_updates_match_a_fresh_factor() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let x = [0.3, -0.7, 0.4];
        let mut l = [0.0; 9];
        assert!(cholesky_into(&a, 3, &mut l));
        let mut up = l;
        let mut v = x;
        assert!(cholesky_rank_one(&mut up, 3, &mut v, 1.0));
        let mut b = a;
        for i in 0..3 {
            for j in 0..3 {
                b[i * 3 + j] += x[i] * x[j];
            }
        }
        let mut want = [0.0; 9];
        assert!(cholesky_into(&b, 3, &mut want));
        for (u, w) in up.iter().zip(&want) {
            assert!((u - w).abs() < 1e-12, "{up:?} vs {want:?}");
        }
        let mut v = x;
        assert!(cholesky_rank_one(&mut up, 3, &mut v, -1.0));
        for (u, w) in up.iter().zip(&l) {
            assert!((u - w).abs() < 1e-12, "{up:?} vs {l:?}");
        }
    }

    /// The proposal fitted without point `n`, by rank-one updates, equals the fit of
    /// the set with the new point in its place.
    #[test]
    fn leave_one_out_fits_match_direct_fits() {
        let dim = 2;
        let points = [0.1, 0.4, -1.2, 0.3, 0.8, -0.5, 0.2, 1.1, -0.4, -0.9];
        let x_new = [0.6, 0.2];
        for dense in [true, false] {
            let sa = Sa::default().dense_mass(dense).adapt_state_size(5);
            let mut ws = sa.workspace(dim);
            assert!(sa.fit(&points, dim, &mut ws));
            for n in 0..5 {
                let x_n = points[n * dim..(n + 1) * dim].to_vec();
                let got = sa.ln_q_without(&x_n, &x_new, 0.2, &mut ws);
                let mut others = points.to_vec();
                others[n * dim..(n + 1) * dim].copy_from_slice(&x_new);
                let mut direct = sa.workspace(dim);
                assert!(sa.fit(&others, dim, &mut direct));
                let want = if dense {
                    ln_normal_dense(&x_n, &direct.mean, &direct.factor, &mut direct.u)
                } else {
                    ln_normal_diagonal(&x_n, &direct.mean, &direct.cov)
                };
                assert!(
                    (got - want).abs() < 1e-10,
                    "dense {dense}, n {n}: {got} vs {want}"
                );
            }
        }
    }
}
