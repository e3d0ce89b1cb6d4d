//! Model comparison from the pointwise log-likelihood: PSIS-LOO and WAIC.
//!
//! Pareto-smoothed importance-sampling leave-one-out cross-validation (Vehtari, Gelman &
//! Gabry 2017) and the widely applicable information criterion (Watanabe 2010), computed
//! as ArviZ 0.23 computes them (`az.loo(pointwise=True)`, `az.waic(pointwise=True)`, on
//! the `"log"` scale). Every figure here is ArviZ's to within floating-point rounding;
//! `samplers/tests/loo.rs` checks them against ArviZ at a relative tolerance of `1e-6`.
//!
//! # Input
//!
//! `log_lik[chain][draw][observation]`: the log-density of observation `i` at draw `d` of
//! chain `c`. Every chain must have the same number of draws and every draw the same
//! number of observations (a caller-contract mismatch, which panics). The `S = M × N`
//! draws are pooled chain by chain, as ArviZ stacks `(chain, draw)`.
//!
//! # PSIS (ArviZ's `_psislw`)
//!
//! For each observation the raw log importance ratios are `r_s = −log_lik_s`, shifted by
//! their maximum. The largest `M = ⌈min(S / 5, 3 √(S / r_eff))⌉` ratios form the tail
//! (the cutoff is the `(M + 1)`-th largest value, but never below `ln(f64::MIN_POSITIVE)`,
//! and the tail holds the values strictly above it). With more than 4 tail values, a
//! generalised Pareto distribution is fitted to `exp(r) − exp(cutoff)` by Zhang & Stephens
//! (2009) with ArviZ's weakly informative prior on `k` (`(n k̂ + 5) / (n + 10)`), and the
//! tail values are replaced, in order, by `ln(F⁻¹((j − ½) / M) + exp(cutoff))`, then
//! truncated at the largest raw ratio (0 after the shift). With 4 or fewer, `k = ∞` and
//! nothing is smoothed. The smoothed log weights are normalised to sum to one.
//!
//! # Formulas
//!
//! ```text
//! elpd_loo_i = log Σ_s w_is p(y_i | θ_s)           (w the smoothed, normalised weights)
//! lppd_i     = log (1/S) Σ_s p(y_i | θ_s)
//! elpd_loo   = Σ_i elpd_loo_i,   p_loo = Σ_i lppd_i − elpd_loo
//! se         = √(n · var(elpd_loo_i))              (var with divisor n, as NumPy)
//! looic      = −2 · elpd_loo
//! p_waic_i   = var_s log p(y_i | θ_s)               (divisor S)
//! elpd_waic_i = lppd_i − p_waic_i
//! ```
//!
//! # Warnings (those of ArviZ)
//!
//! [`Loo::warning`] is set when some `k` exceeds [`Loo::good_k`] `= min(1 − 1/log₁₀ S, 0.7)`:
//! the 0.7 of Vehtari et al. (2017) for `S ≥ 2155` draws, stricter below (Vehtari et al.
//! 2024). [`Waic::warning`] is set when some pointwise variance exceeds 0.4.
//!
//! # References
//!
//! Vehtari, A., Gelman, A. & Gabry, J. (2017). Practical Bayesian model evaluation using
//! leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413–1432.
//! <https://doi.org/10.1007/s11222-016-9696-4>
//!
//! Vehtari, A., Simpson, D., Gelman, A., Yao, Y. & Gabry, J. (2024). Pareto smoothed
//! importance sampling. *Journal of Machine Learning Research* 25(72), 1–58.
//!
//! Zhang, J. & Stephens, M. A. (2009). A new and efficient estimation method for the
//! generalized Pareto distribution. *Technometrics* 51(3), 316–325.

/// Pointwise variance of the log predictive density above which WAIC is flagged.
const WAIC_VARIANCE_LIMIT: f64 = 0.4;

/// PSIS-LOO estimates, on the log scale (larger is better).
#[derive(Clone, Debug, PartialEq)]
pub struct Loo {
    /// Expected log pointwise predictive density, `Σ_i elpd_i`.
    pub elpd_loo: f64,
    /// Effective number of parameters, `lppd − elpd_loo`.
    pub p_loo: f64,
    /// Standard error of `elpd_loo`.
    pub se_elpd_loo: f64,
    /// The LOO information criterion, `−2 elpd_loo`.
    pub looic: f64,
    /// The estimated Pareto shape `k` per observation (`∞` when the tail was too short
    /// to fit).
    pub pareto_k: Vec<f64>,
    /// `elpd_loo_i` per observation.
    pub pointwise: Vec<f64>,
    /// The threshold the `k` are compared with: `min(1 − 1/log₁₀ S, 0.7)`.
    pub good_k: f64,
    /// Whether some `k` exceeds `good_k`: the importance sampling is unreliable for those
    /// observations.
    pub warning: bool,
}

/// WAIC estimates, on the log scale (larger is better).
#[derive(Clone, Debug, PartialEq)]
pub struct Waic {
    /// `Σ_i (lppd_i − p_waic_i)`.
    pub elpd_waic: f64,
    /// Effective number of parameters, `Σ_i var_s log p(y_i | θ_s)`.
    pub p_waic: f64,
    /// Standard error of `elpd_waic`.
    pub se: f64,
    /// `elpd_waic_i` per observation.
    pub pointwise: Vec<f64>,
    /// Whether some pointwise variance exceeds 0.4 (WAIC may be failing).
    pub warning: bool,
}

/// PSIS-LOO from the pointwise log-likelihood.
///
/// `r_eff` is the relative efficiency of the draws (effective over actual sample size),
/// which sets the tail length. ArviZ uses 1 for a single chain and otherwise the mean,
/// over the posterior's scalar components, of `ess_mean / S`
/// ([`crate::diagnostics::ess_mean`]); pass 1 for independent draws.
///
/// # Panics
/// When chains or draws have unequal lengths, when there are no draws or observations,
/// or when `r_eff` is not positive.
///
/// # Example
/// ```
/// use tilde_samplers::loo::psis_loo;
/// // 1 chain, 100 draws, 2 observations with the same log-likelihood at every draw.
/// let log_lik = vec![vec![vec![-1.0, -2.0]; 100]];
/// let loo = psis_loo(&log_lik, 1.0);
/// assert!((loo.elpd_loo - -3.0).abs() < 1e-12);
/// assert!(loo.p_loo.abs() < 1e-12);
/// ```
pub fn psis_loo(log_lik: &[Vec<Vec<f64>>], r_eff: f64) -> Loo {
    assert!(r_eff > 0.0, "r_eff must be positive, got {r_eff}");
    let columns = observations(log_lik);
    let num_samples = columns.first().map_or(0, Vec::len);
    let n = columns.len();
    let tail_len = tail_length(num_samples, r_eff);
    let mut pareto_k = Vec::with_capacity(n);
    let mut pointwise = Vec::with_capacity(n);
    let mut lppd = 0.0;
    let mut weights = vec![0.0; num_samples];
    for column in &columns {
        weights.iter_mut().zip(column).for_each(|(w, l)| *w = -l);
        let k = psis_log_weights(&mut weights, tail_len);
        pareto_k.push(k);
        weights.iter_mut().zip(column).for_each(|(w, l)| *w += l);
        pointwise.push(log_sum_exp(&weights));
        lppd += log_sum_exp(column) - (num_samples as f64).ln();
    }
    let elpd_loo: f64 = pointwise.iter().sum();
    let good_k = (1.0 - 1.0 / (num_samples as f64).log10()).min(0.7);
    Loo {
        elpd_loo,
        p_loo: lppd - elpd_loo,
        se_elpd_loo: standard_error(&pointwise),
        looic: -2.0 * elpd_loo,
        warning: pareto_k.iter().any(|&k| k > good_k),
        pareto_k,
        pointwise,
        good_k,
    }
}

/// WAIC from the pointwise log-likelihood.
///
/// # Panics
/// When chains or draws have unequal lengths, or when there are no draws or observations.
///
/// # Example
/// ```
/// use tilde_samplers::loo::waic;
/// let log_lik = vec![vec![vec![-1.0, -2.0]; 100]];
/// let waic = waic(&log_lik);
/// assert!((waic.elpd_waic - -3.0).abs() < 1e-12);
/// ```
pub fn waic(log_lik: &[Vec<Vec<f64>>]) -> Waic {
    let columns = observations(log_lik);
    let num_samples = columns.first().map_or(0, Vec::len) as f64;
    let mut p_waic = 0.0;
    let mut warning = false;
    let pointwise: Vec<f64> = columns
        .iter()
        .map(|column| {
            let mean = column.iter().sum::<f64>() / num_samples;
            let variance = column.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / num_samples;
            p_waic += variance;
            warning |= variance > WAIC_VARIANCE_LIMIT;
            log_sum_exp(column) - num_samples.ln() - variance
        })
        .collect();
    Waic {
        elpd_waic: pointwise.iter().sum(),
        p_waic,
        se: standard_error(&pointwise),
        pointwise,
        warning,
    }
}

/// Transposes `log_lik[chain][draw][obs]` to one column of `S` draws per observation,
/// chain-major.
fn observations(log_lik: &[Vec<Vec<f64>>]) -> Vec<Vec<f64>> {
    let num_draws = log_lik.first().map_or(0, Vec::len);
    let num_obs = log_lik.first().and_then(|c| c.first()).map_or(0, Vec::len);
    assert!(
        num_draws > 0 && num_obs > 0,
        "log_lik needs at least one chain, draw and observation"
    );
    let mut columns = vec![Vec::with_capacity(log_lik.len() * num_draws); num_obs];
    for (c, chain) in log_lik.iter().enumerate() {
        assert_eq!(
            chain.len(),
            num_draws,
            "chain {c} has {} draws where chain 0 has {num_draws}",
            chain.len()
        );
        for (d, draw) in chain.iter().enumerate() {
            assert_eq!(
                draw.len(),
                num_obs,
                "draw {d} of chain {c} has {} observations where the first has {num_obs}",
                draw.len()
            );
            columns
                .iter_mut()
                .zip(draw)
                .for_each(|(col, &l)| col.push(l));
        }
    }
    columns
}

/// The PSIS tail length `⌈min(S / 5, 3 √(S / r_eff))⌉`.
fn tail_length(num_samples: usize, r_eff: f64) -> usize {
    let s = num_samples as f64;
    (s / 5.0).min(3.0 * (s / r_eff).sqrt()).ceil() as usize
}

/// Pareto-smoothed importance weights (Vehtari et al. 2024): smooths the log importance
/// ratios `log_ratios` in place into normalised log-weights (their exponentials sum to
/// one) and returns the Pareto shape `k̂`; above 0.7 the weights are unreliable.
///
/// # Panics
/// When `log_ratios` is empty.
///
/// # Example
/// ```
/// use tilde_samplers::loo::psis;
/// let mut lw: Vec<f64> = (0..200).map(|i| (i as f64 * 0.37).sin()).collect();
/// let k = psis(&mut lw);
/// assert!(k < 0.7);
/// assert!((lw.iter().map(|w| w.exp()).sum::<f64>() - 1.0).abs() < 1e-12);
/// ```
pub fn psis(log_ratios: &mut [f64]) -> f64 {
    assert!(!log_ratios.is_empty(), "psis needs at least one ratio");
    let tail_len = tail_length(log_ratios.len(), 1.0);
    psis_log_weights(log_ratios, tail_len)
}

/// `√(n · var(x))`, the variance with divisor `n`.
fn standard_error(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (n * variance).sqrt()
}

/// `log Σ exp(x)`, computed about the maximum (ArviZ's `_logsumexp`).
fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// Pareto-smooths the log importance ratios in place and normalises them; returns the
/// estimated shape `k` (ArviZ's `_psislw`).
fn psis_log_weights(x: &mut [f64], tail_len: usize) -> f64 {
    let num_samples = x.len();
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    x.iter_mut().for_each(|v| *v -= max);
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    // ArviZ's `cutoff_ind = −tail_len − 1`, counted from the end of the sorted values.
    let cutoff_value = sorted[num_samples.saturating_sub(tail_len + 1)];
    let cutoff = cutoff_value.max(f64::MIN_POSITIVE.ln());
    let exp_cutoff = cutoff.exp();
    let mut tail: Vec<usize> = (0..num_samples).filter(|&s| x[s] > cutoff).collect();
    let k = if tail.len() <= 4 {
        f64::INFINITY
    } else {
        tail.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        let excess: Vec<f64> = tail.iter().map(|&s| x[s].exp() - exp_cutoff).collect();
        let (k, sigma) = gpd_fit(&excess);
        if k.is_finite() {
            let m = tail.len() as f64;
            for (j, &s) in tail.iter().enumerate() {
                let p = (j as f64 + 0.5) / m;
                x[s] = (gpd_inverse(p, k, sigma) + exp_cutoff).ln();
            }
            x.iter_mut().filter(|v| **v > 0.0).for_each(|v| *v = 0.0);
        }
        k
    };
    let total = log_sum_exp(x);
    x.iter_mut().for_each(|v| *v -= total);
    k
}

/// Fits a generalised Pareto distribution to sorted positive exceedances by Zhang &
/// Stephens (2009), with ArviZ's prior; returns `(k, sigma)` (ArviZ's `_gpdfit`).
fn gpd_fit(x: &[f64]) -> (f64, f64) {
    const PRIOR_BS: f64 = 3.0;
    const PRIOR_K: f64 = 10.0;
    let n = x.len();
    let nf = n as f64;
    let m_est = 30 + nf.sqrt() as usize;
    let quartile = x[(nf / 4.0 + 0.5) as usize - 1];
    let last = x[n - 1];
    let mut b: Vec<f64> = (1..=m_est)
        .map(|j| {
            (1.0 - (m_est as f64 / (j as f64 - 0.5)).sqrt()) / (PRIOR_BS * quartile) + 1.0 / last
        })
        .collect();
    let mean_log1p = |b: f64| x.iter().map(|v| (-b * v).ln_1p()).sum::<f64>() / nf;
    let len_scale: Vec<f64> = b
        .iter()
        .map(|&bj| {
            let kj = mean_log1p(bj);
            nf * ((-(bj / kj)).ln() - kj - 1.0)
        })
        .collect();
    let mut weights: Vec<f64> = len_scale
        .iter()
        .map(|lj| 1.0 / len_scale.iter().map(|li| (li - lj).exp()).sum::<f64>())
        .collect();
    let keep: Vec<bool> = weights.iter().map(|&w| w >= 10.0 * f64::EPSILON).collect();
    let mut flags = keep.iter();
    b.retain(|_| flags.next().is_some_and(|&k| k));
    let mut flags = keep.iter();
    weights.retain(|_| flags.next().is_some_and(|&k| k));
    let total: f64 = weights.iter().sum();
    let b_post: f64 = b.iter().zip(&weights).map(|(b, w)| b * w / total).sum();
    let k_post = mean_log1p(b_post);
    let sigma = -k_post / b_post;
    let k_post = (nf * k_post + PRIOR_K * 0.5) / (nf + PRIOR_K);
    (k_post, sigma)
}

/// The quantile function of the generalised Pareto distribution at `p ∈ (0, 1)`
/// (ArviZ's `_gpinv`); NaN when `sigma` is not positive.
fn gpd_inverse(p: f64, k: f64, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return f64::NAN;
    }
    let x = if k.abs() < f64::EPSILON {
        -(-p).ln_1p()
    } else {
        (-k * (-p).ln_1p()).exp_m1() / k
    };
    x * sigma
}
