//! Pathfinder (Zhang, Carpenter, Gelman & Vehtari 2022): normal approximations along an
//! L-BFGS path, the one with the best ELBO, several paths pooled by Pareto-smoothed
//! importance resampling.

use nalgebra::{DMatrix, DVector};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt};
use rayon::prelude::*;
use tilde_core::{ContinuousModel, Error, LogDensity, Model, Result, Watched};
use tilde_samplers::{Init, Initializer, Metric, Posterior, WarmStart, chain_rng, loo::psis};

use crate::guide::standard_normal;
use crate::lbfgs::{self, Path, Settings};

/// Pathfinder: a fast variational approximation and an initialiser for the samplers.
///
/// Each path runs L-BFGS on the log-density from a uniform point in `(−2, 2)`
/// (Stan's), forms at every iterate the Gaussian whose covariance is the L-BFGS
/// inverse-Hessian estimate (diagonal plus rank `2J`, Zhang et al.'s Algorithm 3) and
/// whose mean is that iterate's Newton step, estimates each Gaussian's ELBO from a few
/// draws and keeps the best. The draws of all paths are pooled and resampled by their
/// Pareto-smoothed importance weights `p / q`.
///
/// ```
/// use tilde_vi::Pathfinder;
/// # use tilde_core::LogDensity;
/// # use tilde_samplers::Unconstrained;
/// # struct Gauss;
/// # impl LogDensity for Gauss {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> f64 { -0.5 * ((x[0] - 1.0).powi(2) + (x[1] / 2.0).powi(2)) }
/// #     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 { g[0] = 1.0 - x[0]; g[1] = -x[1] / 4.0; self.logp(x) }
/// # }
/// # let model = Unconstrained::new(Gauss);
/// let fit = Pathfinder::new().seed(3).run(&model)?;
/// let summary = fit.posterior()?.summary();
/// assert!((summary.get("x[0]").unwrap().mean - 1.0).abs() < 0.15);
/// assert!((summary.get("x[1]").unwrap().sd - 2.0).abs() < 0.3);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pathfinder {
    num_paths: usize,
    num_draws: usize,
    draws_per_path: usize,
    num_elbo_draws: usize,
    history: usize,
    max_iters: usize,
    seed: u64,
    init: Init,
}

impl Default for Pathfinder {
    fn default() -> Self {
        Pathfinder::new()
    }
}

impl Pathfinder {
    /// Stan's defaults: 4 paths of 1000 draws resampled to 1000, 25 draws per ELBO
    /// estimate, history 5, at most 1000 L-BFGS iterations, seed 0.
    pub fn new() -> Self {
        Pathfinder {
            num_paths: 4,
            num_draws: 1000,
            draws_per_path: 1000,
            num_elbo_draws: 25,
            history: 5,
            max_iters: 1000,
            seed: 0,
            init: Init::Uniform(2.0),
        }
    }

    /// The number of independent paths (run in parallel).
    pub fn num_paths(mut self, n: usize) -> Self {
        self.num_paths = n;
        self
    }

    /// The number of draws returned after resampling.
    pub fn num_draws(mut self, n: usize) -> Self {
        self.num_draws = n;
        self
    }

    /// The number of draws taken from each path's chosen approximation.
    pub fn draws_per_path(mut self, n: usize) -> Self {
        self.draws_per_path = n;
        self
    }

    /// The number of draws behind each ELBO estimate along a path.
    pub fn num_elbo_draws(mut self, n: usize) -> Self {
        self.num_elbo_draws = n;
        self
    }

    /// The number of L-BFGS correction pairs `J`.
    pub fn history_size(mut self, j: usize) -> Self {
        self.history = j;
        self
    }

    /// The most L-BFGS iterations per path.
    pub fn max_iters(mut self, n: usize) -> Self {
        self.max_iters = n;
        self
    }

    /// The seed; paths are seeded by `(seed, path)`, so results do not depend on the
    /// thread count.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Where the paths start (default `Init::Uniform(2.0)`).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Runs Pathfinder on `model`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero paths, draws or history, sizes that do not
    /// fit in memory or discrete latent sites `#[model]` could not see, a data fault of the model, [`Error::InitFailed`] when a path finds
    /// no finite starting point, [`Error::NonFiniteElbo`] when no approximation along
    /// any path has a finite ELBO, and the model's structural fault (e.g.
    /// [`Error::LayoutChanged`]) wherever its log-density is not finite because of one.
    pub fn run<M: ContinuousModel + Sync + ?Sized>(&self, model: &M) -> Result<PathfinderResult> {
        self.fit(model)
    }

    /// [`run`](Self::run) on any model, refusing one with discrete latent sites at run
    /// time.
    fn fit<M: Model + Sync + ?Sized>(&self, model: &M) -> Result<PathfinderResult> {
        crate::svi::refuse_discrete(model, "Pathfinder")?;
        if self.num_paths == 0
            || self.num_draws == 0
            || self.draws_per_path == 0
            || self.num_elbo_draws == 0
            || self.history == 0
        {
            return Err(Error::InvalidConfig(format!(
                "Pathfinder needs positive num_paths, num_draws, draws_per_path, num_elbo_draws and history_size, got {self:?}"
            )));
        }
        model.check()?;
        // the pooled and resampled draws must fit in memory: an error, not an abort
        let dim = model.dim().max(1);
        let pooled = self.num_paths.saturating_mul(self.draws_per_path);
        drop(tilde_core::try_buffer::<f64>(
            pooled,
            dim,
            "num_paths × draws_per_path",
        )?);
        drop(tilde_core::try_buffer::<f64>(
            self.num_draws,
            dim,
            "num_draws",
        )?);
        let paths: Vec<PathDraws> = (0..self.num_paths)
            .into_par_iter()
            .map(|p| self.one_path(model, chain_rng(self.seed, p)))
            .collect::<Result<_>>()?;
        let mut log_weights: Vec<f64> = paths.iter().flat_map(|p| p.log_ratios.clone()).collect();
        let pool: Vec<&Vec<f64>> = paths.iter().flat_map(|p| &p.draws).collect();
        let pareto_k = psis(&mut log_weights);
        let mut rng = chain_rng(self.seed, self.num_paths);
        let draws = resample(&log_weights, self.num_draws, &mut rng)?
            .into_iter()
            .map(|i| pool[i].clone())
            .collect::<Vec<_>>();
        let names = model.layout().column_names().to_vec();
        let mut constrained = Vec::with_capacity(draws.len() * names.len());
        let mut row = Vec::new();
        for d in &draws {
            model.constrain_into(d, &mut row);
            if row.iter().any(|v| v.is_nan()) {
                // NaN fills what a faulty evaluation did not reach
                model.try_logp(d)?;
            }
            if row.len() != names.len() {
                return Err(Error::LayoutChanged {
                    expected: names.len(),
                    found: row.len(),
                    site: None,
                });
            }
            constrained.extend_from_slice(&row);
        }
        Ok(PathfinderResult {
            names,
            draws,
            constrained,
            pareto_k,
            elbo: paths.iter().map(|p| p.elbo).collect(),
            num_gradient_evals: paths.iter().map(|p| p.num_evals).sum(),
        })
    }

    fn one_path<M: Model + Sync + ?Sized>(
        &self,
        model: &M,
        mut rng: Xoshiro256PlusPlus,
    ) -> Result<PathDraws> {
        let start = self.init.position(model, &mut rng)?;
        let settings = Settings {
            history: self.history,
            max_iters: self.max_iters,
        };
        let watched = Watched::new(model);
        let path = lbfgs::maximize(&watched, &start, settings)?;
        let mut num_evals = path.num_evals;
        let n = start.len();
        let mut u = vec![0.0; n];
        let mut phi = vec![0.0; n];
        let mut best: Option<(f64, Approximation)> = None;
        for approx in approximations(&path, self.history) {
            let mut total = 0.0;
            for _ in 0..self.num_elbo_draws {
                standard_normal(&mut rng, &mut u);
                let log_q = approx.draw(&u, &mut phi);
                total += watched.logp(&phi) - log_q;
                watched.check()?;
            }
            num_evals += self.num_elbo_draws;
            let elbo = total / self.num_elbo_draws as f64;
            if elbo.is_finite() && best.as_ref().is_none_or(|(b, _)| elbo > *b) {
                best = Some((elbo, approx));
            }
        }
        let Some((elbo, approx)) = best else {
            return Err(Error::NonFiniteElbo {
                step: path.xs.len(),
                reason: "no normal approximation along the L-BFGS path has a finite ELBO".into(),
            });
        };
        let mut draws = Vec::with_capacity(self.draws_per_path);
        let mut log_ratios = Vec::with_capacity(self.draws_per_path);
        for _ in 0..self.draws_per_path {
            standard_normal(&mut rng, &mut u);
            let log_q = approx.draw(&u, &mut phi);
            let lp = watched.logp(&phi);
            watched.check()?;
            log_ratios.push(if lp.is_finite() {
                lp - log_q
            } else {
                f64::NEG_INFINITY
            });
            draws.push(phi.clone());
        }
        num_evals += self.draws_per_path;
        Ok(PathDraws {
            draws,
            log_ratios,
            elbo,
            num_evals,
        })
    }
}

/// One path's draws from its chosen approximation.
struct PathDraws {
    draws: Vec<Vec<f64>>,
    log_ratios: Vec<f64>,
    elbo: f64,
    num_evals: usize,
}

/// A Gaussian `N(μ, Σ)` with `Σ = diag(√α) (I + Q (L Lᵀ − I) Qᵀ) diag(√α)`.
struct Approximation {
    mean: Vec<f64>,
    sqrt_alpha: Vec<f64>,
    q: DMatrix<f64>,
    /// `L − I`.
    l_minus_i: DMatrix<f64>,
    ln_det: f64,
}

impl Approximation {
    /// `φ = μ + diag(√α)(Q (L − I) Qᵀ u + u)` and `log q(φ)`.
    fn draw(&self, u: &[f64], phi: &mut [f64]) -> f64 {
        let uv = DVector::from_column_slice(u);
        let lifted = &self.q * (&self.l_minus_i * (self.q.transpose() * &uv));
        for i in 0..u.len() {
            phi[i] = self.mean[i] + self.sqrt_alpha[i] * (lifted[i] + u[i]);
        }
        let n = u.len() as f64;
        -0.5 * (self.ln_det + uv.norm_squared() + n * (2.0 * std::f64::consts::PI).ln())
    }
}

/// The diagonal update of Zhang et al.'s Algorithm 3, or `None` when it would not stay
/// positive.
fn update_alpha(alpha: &[f64], s: &[f64], z: &[f64]) -> Option<Vec<f64>> {
    let a: f64 = z.iter().zip(alpha).map(|(z, a)| z * a * z).sum();
    let b: f64 = z.iter().zip(s).map(|(z, s)| z * s).sum();
    let c: f64 = s.iter().zip(alpha).map(|(s, a)| s * s / a).sum();
    let next: Vec<f64> = alpha
        .iter()
        .zip(s)
        .zip(z)
        .map(|((al, s), z)| 1.0 / (a / (b * al) + z * z / b - a * s * s / (b * c * al * al)))
        .collect();
    next.iter()
        .all(|v| *v > 0.0 && v.is_finite())
        .then_some(next)
}

/// The normal approximation at every iterate after the first.
fn approximations(path: &Path, history: usize) -> Vec<Approximation> {
    let n = path.xs[0].len();
    let mut alpha = vec![1.0; n];
    let mut pairs: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    let mut out = Vec::with_capacity(path.xs.len().saturating_sub(1));
    for l in 1..path.xs.len() {
        let s: Vec<f64> = path.xs[l]
            .iter()
            .zip(&path.xs[l - 1])
            .map(|(a, b)| a - b)
            .collect();
        // the change of the gradient of −log p
        let z: Vec<f64> = path.grads[l - 1]
            .iter()
            .zip(&path.grads[l])
            .map(|(a, b)| a - b)
            .collect();
        let sz: f64 = s.iter().zip(&z).map(|(a, b)| a * b).sum();
        let z_norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
        if sz > 1e-12 * z_norm {
            if let Some(next) = update_alpha(&alpha, &s, &z) {
                alpha = next;
            }
            if pairs.len() == history {
                pairs.remove(0);
            }
            pairs.push((s, z));
        }
        if let Some(a) = approximation(&path.xs[l], &path.grads[l], &alpha, &pairs) {
            out.push(a);
        }
    }
    out
}

/// The Gaussian at iterate `x` with gradient `g` of `log p` (Zhang et al.'s
/// Algorithm 4), or `None` when its factors are not finite.
fn approximation(
    x: &[f64],
    g: &[f64],
    alpha: &[f64],
    pairs: &[(Vec<f64>, Vec<f64>)],
) -> Option<Approximation> {
    let (n, m) = (x.len(), pairs.len());
    let s = DMatrix::from_fn(n, m, |i, k| pairs[k].0[i]);
    let z = DMatrix::from_fn(n, m, |i, k| pairs[k].1[i]);
    let alpha_v = DVector::from_column_slice(alpha);
    let sz = s.transpose() * &z;
    let r = sz.upper_triangle();
    let minus_r_inv = -r.try_inverse()?;
    let alpha_z = DMatrix::from_fn(n, m, |i, k| alpha[i] * z[(i, k)]);
    let eta = DMatrix::from_diagonal(&sz.diagonal());
    let block = minus_r_inv.transpose() * (z.transpose() * &alpha_z + eta) * &minus_r_inv;
    // β = [diag(α) Z, S], γ = [[0, −R⁻¹], [−R⁻ᵀ, R⁻ᵀ(ZᵀαZ + η)R⁻¹]]
    let mut beta = DMatrix::zeros(n, 2 * m);
    beta.columns_mut(0, m).copy_from(&alpha_z);
    beta.columns_mut(m, m).copy_from(&s);
    let mut gamma = DMatrix::zeros(2 * m, 2 * m);
    gamma.view_mut((0, m), (m, m)).copy_from(&minus_r_inv);
    gamma
        .view_mut((m, 0), (m, m))
        .copy_from(&minus_r_inv.transpose());
    gamma.view_mut((m, m), (m, m)).copy_from(&block);
    let gv = DVector::from_column_slice(g);
    let newton = alpha_v.component_mul(&gv) + &beta * (&gamma * (beta.transpose() * &gv));
    let mean: Vec<f64> = x.iter().zip(newton.iter()).map(|(x, d)| x + d).collect();
    let sqrt_alpha: Vec<f64> = alpha.iter().map(|a| a.sqrt()).collect();
    let scaled = DMatrix::from_fn(n, 2 * m, |i, k| beta[(i, k)] / sqrt_alpha[i]);
    let qr = scaled.qr();
    let (q, rr) = (qr.q(), qr.r());
    let k = rr.nrows();
    let inner = DMatrix::identity(k, k) + &rr * &gamma * rr.transpose();
    let l = inner.cholesky()?.l();
    let ln_det = alpha.iter().map(|a| a.ln()).sum::<f64>()
        + 2.0 * l.diagonal().iter().map(|v| v.ln()).sum::<f64>();
    let finite = ln_det.is_finite() && mean.iter().all(|v| v.is_finite());
    finite.then(|| Approximation {
        mean,
        sqrt_alpha,
        q,
        l_minus_i: l - DMatrix::identity(k, k),
        ln_det,
    })
}

/// `count` indices drawn with replacement with probabilities `exp(log_weights)`, or an
/// error when the weights do not sum to a positive, finite number.
fn resample<R: Rng>(log_weights: &[f64], count: usize, rng: &mut R) -> Result<Vec<usize>> {
    let mut cumulative = Vec::with_capacity(log_weights.len());
    let mut total = 0.0;
    for w in log_weights {
        total += w.exp();
        cumulative.push(total);
    }
    if !(total > 0.0 && total.is_finite()) {
        return Err(Error::Degenerate(format!(
            "Pathfinder's {} importance weights sum to {total} (the log-density is not \
             finite at its draws, or its approximation's density is 0 there), so there \
             is nothing to resample; check the model's log-density",
            log_weights.len()
        )));
    }
    Ok((0..count)
        .map(|_| {
            let u = rng.random_range(0.0..total);
            cumulative
                .partition_point(|c| *c <= u)
                .min(log_weights.len() - 1)
        })
        .collect())
}

/// Pathfinder's draws and what it learnt on the way.
#[derive(Clone, Debug)]
pub struct PathfinderResult {
    names: Vec<String>,
    draws: Vec<Vec<f64>>,
    constrained: Vec<f64>,
    pareto_k: f64,
    elbo: Vec<f64>,
    num_gradient_evals: usize,
}

impl PathfinderResult {
    /// The resampled draws in unconstrained space.
    pub fn draws_unconstrained(&self) -> &[Vec<f64>] {
        &self.draws
    }

    /// The draws, constrained and with deterministic quantities, as one chain.
    ///
    /// # Errors
    /// None in practice; the type is shared with [`Posterior::from_draws`].
    pub fn posterior(&self) -> Result<Posterior> {
        Posterior::from_draws(self.names.clone(), vec![self.constrained.clone()])
    }

    /// The per-coordinate variance of the draws in unconstrained space: a diagonal
    /// inverse mass matrix for HMC and NUTS.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a coordinate does not vary across the draws.
    pub fn inverse_mass_matrix(&self) -> Result<Metric> {
        let n = self.draws.len() as f64;
        let dim = self.draws.first().map_or(0, Vec::len);
        let variances = (0..dim)
            .map(|i| {
                let mean = self.draws.iter().map(|d| d[i]).sum::<f64>() / n;
                self.draws
                    .iter()
                    .map(|d| (d[i] - mean).powi(2))
                    .sum::<f64>()
                    / (n - 1.0).max(1.0)
            })
            .collect();
        Metric::diagonal(variances)
    }

    /// The Pareto `k̂` of the pooled importance weights: above 0.7 the approximation is
    /// poor and the draws should not be trusted as a posterior (they may still start
    /// MCMC well).
    pub fn pareto_k(&self) -> f64 {
        self.pareto_k
    }

    /// The ELBO of each path's chosen approximation.
    pub fn elbo(&self) -> &[f64] {
        &self.elbo
    }

    /// Log-density and gradient evaluations over all paths.
    pub fn num_gradient_evals(&self) -> usize {
        self.num_gradient_evals
    }
}

impl Initializer for Pathfinder {
    /// Runs Pathfinder with the run's seed; chain `c` starts at resampled draw `c`
    /// (spread over the draws), with the draws' variance as inverse mass matrix.
    fn initialize(
        &self,
        model: &(dyn Model + Sync),
        num_chains: usize,
        seed: u64,
    ) -> Result<WarmStart> {
        let fit = self.clone().seed(seed).fit(model)?;
        let draws = fit.draws_unconstrained();
        // one point per chain must fit in memory: an error, not an abort
        drop(tilde_core::try_buffer::<f64>(
            num_chains,
            model.dim().max(1),
            "num_chains",
        )?);
        let mut positions = tilde_core::try_buffer(num_chains, 1, "num_chains")?;
        for c in 0..num_chains {
            // `c · len` would overflow for a huge `num_chains`; `u128` does not
            let at = (c as u128 * draws.len() as u128 / num_chains as u128) as usize;
            positions.push(draws[at].clone());
        }
        Ok(WarmStart {
            positions,
            inverse_mass_matrix: Some(fit.inverse_mass_matrix()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_weights_that_are_all_zero_is_an_error() {
        let mut rng = chain_rng(1, 0);
        for weights in [
            vec![f64::NEG_INFINITY; 4],
            vec![f64::NAN, 0.0],
            vec![f64::INFINITY, 0.0],
        ] {
            let result = resample(&weights, 3, &mut rng);
            assert!(
                matches!(result, Err(Error::Degenerate(_))),
                "{weights:?}: {result:?}"
            );
        }
        let picks = resample(&[0.0, f64::NEG_INFINITY, 0.0], 50, &mut rng).unwrap();
        assert!(picks.iter().all(|&i| i != 1), "{picks:?}");
    }
}
