//! Convergence diagnostics.
//!
//! Rank-normalised split R-hat, bulk and tail effective sample sizes (ESS), Monte Carlo
//! standard errors (MCSE) and the energy Bayesian fraction of missing information (E-BFMI),
//! as defined by Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021) and computed by
//! ArviZ 0.23 (`az.rhat(method="rank")`, `az.ess(method="bulk" | "tail" | "mean")`,
//! `az.mcse(method="mean" | "sd")`, `az.bfmi`). Every function here returns ArviZ's figure
//! to within floating-point rounding; `samplers/tests/diagnostics.rs` checks them against
//! ArviZ at a relative tolerance of `1e-6`.
//!
//! # Input
//!
//! A function takes `chains: &[&[f64]]`, one slice per chain, draws in sampling order.
//! [`mean`], [`sd`] and [`quantile`] pool the draws, so their chains may have any lengths;
//! every other function needs chains of equal length and panics otherwise.
//!
//! # Conventions (those of ArviZ)
//!
//! - **Split chains.** Each chain of `N` draws is cut into its first `⌊N/2⌋` and its last
//!   `⌊N/2⌋` draws, so an odd-length chain loses its middle draw, and `M` chains become
//!   `2M` chains. `S` below is the number of split draws, `2M⌊N/2⌋`.
//! - **Rank normalisation.** All split draws are ranked together, ties getting the average
//!   of their ranks, and rank `r` of `S` draws becomes `z = Φ⁻¹((r − 3/8) / (S + 1/4))`.
//! - **Folding.** The tail R-hat uses `|θ − median(θ)|`, the median being that of the split
//!   draws.
//! - **Autocorrelation.** Autocovariances are the biased estimates (divided by `N`, not by
//!   `N − lag`). ArviZ computes them by FFT; here the first `2 log₂(2N)` lags are summed
//!   directly (enough for a well-mixed chain, where Geyer's sequence stops early), and a
//!   chain that needs more gets all lags at once by a radix-2 FFT, so an ESS costs
//!   `O(N log N)` at most.
//! - **Truncation.** Geyer's initial positive sequence, then his initial monotone sequence,
//!   and `τ̂` is bounded below by `1 / log₁₀(S)`, so the ESS is at most `S log₁₀(S)`.
//!
//! # Degenerate input
//!
//! Nothing here panics on degenerate values; only chains of unequal length panic.
//!
//! | input                           | R-hat | ESS      | `mcse_mean` | `mcse_sd` |
//! |---------------------------------|-------|----------|-------------|-----------|
//! | any NaN draw                    | NaN   | NaN      | NaN         | NaN       |
//! | no chains, or fewer than 4 draws| NaN   | NaN      | NaN         | NaN       |
//! | a single chain                  | split | computed | computed    | computed  |
//! | all draws equal                 | NaN   | `S`      | `0`         | NaN       |
//!
//! These are ArviZ's answers but one: R-hat compares variances that are zero for a
//! constant sequence, so it is undefined (NaN); for a single chain it compares the
//! chain's two halves (as NumPyro's `split_gelman_rubin`), where ArviZ gives NaN. A sequence whose range is below
//! `1e-15` (NumPy's `finfo(float).resolution`, an absolute threshold) has no
//! autocorrelation to estimate, and ArviZ reports its ESS as the number of split draws
//! `S`; this module does the same, which keeps `mcse_mean = sd / √ESS = 0` for a constant,
//! whose mean is known exactly. The same rule applies to the 0/1 indicators of
//! [`ess_tail`], which are constant when most draws tie at one extreme (a discrete
//! parameter, say), and to the normal scores of [`ess_bulk`], constant only when every
//! draw ties.
//!
//! # References
//!
//! Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. & Bürkner, P.-C. (2021).
//! Rank-normalization, folding, and localization: an improved R-hat for assessing
//! convergence of MCMC. *Bayesian Analysis* 16(2), 667–718.
//! <https://doi.org/10.1214/20-BA1221>
//!
//! Betancourt, M. (2016). Diagnosing suboptimal cotangent disintegrations in Hamiltonian
//! Monte Carlo. arXiv:1604.00695.
//!
//! Wichura, M. J. (1988). Algorithm AS 241: The percentage points of the normal
//! distribution. *Applied Statistics* 37(3), 477–484.

/// Fewest draws per chain the MCMC diagnostics accept, as in ArviZ.
const MIN_DRAWS: usize = 4;

/// Spread below which ArviZ treats a sequence as constant: NumPy's
/// `np.finfo(float).resolution`.
const CONSTANT_RESOLUTION: f64 = 1e-15;

/// The ESS sums autocovariances directly up to this many lags per bit of the padded
/// FFT length (20 lags for chains of 500), then by FFT: direct sums cost `O(N)` per lag
/// and stop early on a well-mixed chain, the FFT costs `O(N log N)` for all lags.
const DIRECT_LAGS_PER_BIT: usize = 2;

/// Lower and upper probabilities of the tail ESS indicators.
const TAIL_PROBS: (f64, f64) = (0.05, 0.95);

/// Posterior mean of the pooled draws.
///
/// # Formula
///
/// ```text
/// θ̄ = (1/S) Σₛ θₛ        S = total number of draws over all chains
/// ```
///
/// The chains may have different lengths. Returns NaN when there are no draws.
///
/// # Example
///
/// ```
/// use tilde_samplers::diagnostics::mean;
///
/// assert_eq!(mean(&[&[1.0, 2.0], &[3.0, 6.0]]), 3.0);
/// ```
pub fn mean(chains: &[&[f64]]) -> f64 {
    mean_of(&pooled(chains))
}

/// Standard deviation of the `S` pooled draws, with `S − 1` in the denominator (`ddof = 1`).
///
/// # Formula
///
/// ```text
/// sd = √( Σₛ (θₛ − θ̄)² / (S − 1) )
/// ```
///
/// The chains may have different lengths. Returns NaN for fewer than two draws.
///
/// # Example
///
/// ```
/// use tilde_samplers::diagnostics::sd;
///
/// assert_eq!(sd(&[&[1.0, 3.0], &[1.0, 3.0]]), (4.0_f64 / 3.0).sqrt());
/// ```
pub fn sd(chains: &[&[f64]]) -> f64 {
    variance(&pooled(chains), 1).sqrt()
}

/// Quantile `q` of the pooled draws, interpolated linearly between order statistics
/// (NumPy's default `method="linear"`, R's type 7).
///
/// # Formula
///
/// ```text
/// h = (S − 1) q,   j = ⌊h⌋,   g = h − j
/// Q(q) = θ₍ⱼ₎ + g (θ₍ⱼ₊₁₎ − θ₍ⱼ₎)      θ₍₀₎ ≤ … ≤ θ₍S−1₎ the sorted draws
/// ```
///
/// The chains may have different lengths. Returns NaN when there are no draws, when a
/// draw is NaN, or when `q` is outside `[0, 1]`.
///
/// # Example
///
/// ```
/// use tilde_samplers::diagnostics::quantile;
///
/// assert_eq!(quantile(&[&[4.0, 1.0], &[3.0, 2.0]], 0.5), 2.5);
/// ```
pub fn quantile(chains: &[&[f64]], q: f64) -> f64 {
    let mut draws = pooled(chains);
    if draws.is_empty() || draws.iter().any(|x| x.is_nan()) || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    draws.sort_unstable_by(f64::total_cmp);
    linear_quantile(&draws, q)
}

/// [`quantile`] at each of `probs`, sorting the pooled draws once.
///
/// Entries are NaN where [`quantile`] gives NaN: no draws, a NaN draw, or a probability
/// outside `[0, 1]`.
///
/// # Example
///
/// ```
/// use tilde_samplers::diagnostics::quantiles;
///
/// assert_eq!(quantiles(&[&[4.0, 1.0], &[3.0, 2.0]], &[0.0, 0.5, 2.0])[..2], [1.0, 2.5]);
/// ```
pub fn quantiles(chains: &[&[f64]], probs: &[f64]) -> Vec<f64> {
    let mut draws = pooled(chains);
    if draws.is_empty() || draws.iter().any(|x| x.is_nan()) {
        return vec![f64::NAN; probs.len()];
    }
    draws.sort_unstable_by(f64::total_cmp);
    probs
        .iter()
        .map(|&q| {
            if (0.0..=1.0).contains(&q) {
                linear_quantile(&draws, q)
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// Rank-normalised split R-hat: the larger of the bulk R-hat and the tail (folded) R-hat.
///
/// Values near 1 mean the chains agree; Vehtari et al. (2021) recommend running longer
/// when R-hat exceeds 1.01.
///
/// # Formula
///
/// With the chains split in halves (`M` chains of `N` draws each afterwards) and `z`
/// the rank-normalised draws (see the [module docs](self)):
///
/// ```text
/// B = N/(M − 1) Σₘ (z̄ₘ − z̄)²                     between-chain variance
/// W = (1/M) Σₘ sₘ²                               within-chain variance (ddof = 1)
/// R̂(z) = √( (B/W + N − 1) / N )
/// R̂ = max( R̂(z(θ)), R̂(z(|θ − median θ|)) )
/// ```
///
/// Returns NaN for fewer than two chains, fewer than 4 draws per chain, a NaN draw, or
/// constant draws (`W = 0`). If only the folded R-hat is NaN (every draw equidistant
/// from the median), the bulk R-hat is returned, as ArviZ does.
///
/// # Panics
///
/// If the chains have different lengths.
///
/// # Example
///
/// ```
/// use tilde_samplers::diagnostics::rhat;
///
/// // A small deterministic pseudo-random stream (xorshift64*), uniform on (0, 1).
/// let mut state = 0x2545_f491_4f6c_dd1d_u64;
/// let mut uniform = move || {
///     state ^= state >> 12;
///     state ^= state << 25;
///     state ^= state >> 27;
///     (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
/// };
/// let chains: Vec<Vec<f64>> = (0..4).map(|_| (0..500).map(|_| uniform()).collect()).collect();
/// let views: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// assert!(rhat(&views) < 1.01);
///
/// // Shift one chain: the chains now disagree.
/// let shifted: Vec<f64> = chains[3].iter().map(|x| x + 0.5).collect();
/// let views = [views[0], views[1], views[2], shifted.as_slice()];
/// assert!(rhat(&views) > 1.1);
/// ```
///
/// # References
///
/// Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
/// and localization: an improved R-hat for assessing convergence of MCMC", section 4.
pub fn rhat(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    let split = Split::new(chains, |x| x);
    rhat_of_split(&split, &split.map(z_scale))
}

/// R-hat of split draws whose rank-normalised values are `bulk`.
fn rhat_of_split(split: &Split, bulk: &Split) -> f64 {
    let rhat_bulk = basic_rhat(bulk);
    let centre = median(&split.values);
    let folded = split.map(|values| values.iter().map(|x| (x - centre).abs()).collect());
    let rhat_tail = basic_rhat(&folded.map(z_scale));
    python_max(rhat_bulk, rhat_tail)
}

/// `(ess_bulk(chains), rhat(chains))`, ranking the split draws once for both.
pub(crate) fn ess_bulk_and_rhat(chains: &[&[f64]]) -> (f64, f64) {
    if !is_valid(chains, 1) {
        return (f64::NAN, f64::NAN);
    }
    let split = Split::new(chains, |x| x);
    let bulk = split.map(z_scale);
    let ess = ess_of_split(&bulk);
    (ess, rhat_of_split(&split, &bulk))
}

/// Bulk effective sample size: the ESS of the rank-normalised split chains.
///
/// It measures how well the centre of the distribution is explored and, unlike the ESS
/// of the raw values ([`ess_mean`]), stays meaningful for heavy-tailed draws.
///
/// # Formula
///
/// With `z` the rank-normalised split draws (`M` chains of `N`, `S = MN`):
///
/// ```text
/// γ̂ₘ(t) = (1/N) Σₙ₌₀^{N−t−1} (zₘ,ₙ − z̄ₘ)(zₘ,ₙ₊ₜ − z̄ₘ)     autocovariance
/// W = N/(N − 1) · (1/M) Σₘ γ̂ₘ(0)
/// var⁺ = (N − 1)/N · W + var(z̄₁, …, z̄ₘ)                  (ddof = 1; only if M > 1)
/// ρ̂(t) = 1 − (W − (1/M) Σₘ γ̂ₘ(t)) / var⁺
/// τ̂ = −1 + 2 Σ_{t=0}^{K} ρ̂(t) + ρ̂(K + 1)     K from Geyer's initial monotone sequence
/// ESS = S / max(τ̂, 1/log₁₀ S)
/// ```
///
/// Returns NaN for no chains, fewer than 4 draws per chain, or a NaN draw, and `S` for
/// constant draws (see the [module docs](self)).
///
/// # Panics
///
/// If the chains have different lengths.
///
/// # Example
///
/// ```
/// use tilde_samplers::diagnostics::ess_bulk;
///
/// // Four independent AR(1) chains, θₜ = 0.9 θₜ₋₁ + εₜ: strongly autocorrelated, so
/// // the ESS is far below the 2000 draws (about 2000 · 0.1/1.9 ≈ 105).
/// let mut state = 0x9e37_79b9_7f4a_7c15_u64;
/// let mut uniform = move || {
///     state ^= state >> 12;
///     state ^= state << 25;
///     state ^= state >> 27;
///     (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
/// };
/// let chains: Vec<Vec<f64>> = (0..4)
///     .map(|_| {
///         let mut theta = 0.0;
///         (0..500)
///             .map(|_| {
///                 theta = 0.9 * theta + (uniform() - 0.5);
///                 theta
///             })
///             .collect()
///     })
///     .collect();
/// let views: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// let ess = ess_bulk(&views);
/// assert!(ess > 30.0 && ess < 300.0, "ess_bulk = {ess}");
/// ```
///
/// # References
///
/// Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
/// and localization: an improved R-hat for assessing convergence of MCMC", sections 3.2
/// and 4.3.
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    ess_of_split(&Split::new(chains, |x| x).map(z_scale))
}

/// Tail effective sample size: the smaller ESS of the 5% and 95% quantile indicators.
///
/// It measures how well the tails are explored, and so how reliable the 5% and 95%
/// quantiles (a 90% interval) are.
///
/// # Formula
///
/// ```text
/// q₀₅, q₉₅ = quantiles of the pooled, unsplit draws (type 7, as in scipy's mquantiles)
/// ESS_tail = min( ESS(I(θ ≤ q₀₅)), ESS(I(θ ≤ q₉₅)) )
/// ```
///
/// where `ESS` is the split-chain ESS of the raw 0/1 indicator values (the formula of
/// [`ess_bulk`] without rank normalisation). The quantiles are taken before the chains
/// are split, so an odd-length chain's middle draw still counts towards them.
///
/// Returns NaN for no chains, fewer than 4 draws per chain, or a NaN draw. A constant
/// indicator (most draws tied at one extreme) gives `S`, the number of split draws.
///
/// # Panics
///
/// If the chains have different lengths.
///
/// # References
///
/// Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
/// and localization: an improved R-hat for assessing convergence of MCMC", section 4.3.
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    let mut sorted = pooled(chains);
    sorted.sort_unstable_by(f64::total_cmp);
    let quantile_ess = |prob: f64| {
        let threshold = type7_quantile(&sorted, prob);
        ess_of_split(&Split::new(
            chains,
            |x| {
                if x <= threshold { 1.0 } else { 0.0 }
            },
        ))
    };
    python_min(quantile_ess(TAIL_PROBS.0), quantile_ess(TAIL_PROBS.1))
}

/// Effective sample size of the mean: the split-chain ESS of the raw draws.
///
/// This is ArviZ's `ess(method="mean")`, the ESS that governs the Monte Carlo error of the
/// posterior mean ([`mcse_mean`]). It assumes a finite variance; prefer [`ess_bulk`] for
/// heavy tails.
///
/// # Formula
///
/// ```text
/// ESS_mean = S / max(τ̂, 1/log₁₀ S)
/// ```
///
/// with `τ̂` computed as in [`ess_bulk`], but on the split draws `θ` themselves rather
/// than on their normal scores `z`.
///
/// Returns NaN for no chains, fewer than 4 draws per chain, or a NaN draw, and `S` for
/// constant draws.
///
/// # Panics
///
/// If the chains have different lengths.
///
/// # References
///
/// Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
/// and localization: an improved R-hat for assessing convergence of MCMC", section 3.2.
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    ess_of_split(&Split::new(chains, |x| x))
}

/// Monte Carlo standard error of the posterior mean.
///
/// # Formula
///
/// ```text
/// MCSE(θ̄) = sd / √ESS_mean
/// ```
///
/// with `sd` as in [`sd`] (pooled, unsplit draws) and `ESS_mean` as in [`ess_mean`].
///
/// Returns NaN for no chains, fewer than 4 draws per chain, or a NaN draw, and `0` for
/// constant draws.
///
/// # Panics
///
/// If the chains have different lengths.
///
/// # References
///
/// Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
/// and localization: an improved R-hat for assessing convergence of MCMC", section 4.4.
pub fn mcse_mean(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    sd(chains) / ess_mean(chains).sqrt()
}

/// Monte Carlo standard error of the posterior standard deviation, as ArviZ 0.23
/// computes it: by the delta method from the variance of the squared deviations.
///
/// # Formula
///
/// With `θ̄` the pooled mean and `cₛ = (θₛ − θ̄)²` for every draw:
///
/// ```text
/// E = mean(c)                                   (divides by S, not S − 1)
/// Var(E) = (mean(c²) − E²) / ESS_mean(c)         ESS_mean of the split c, as in ess_mean
/// MCSE(sd) = √( Var(E) / (4E) )
/// ```
///
/// Returns NaN for no chains, fewer than 4 draws per chain, or a NaN draw, and for
/// constant draws (`E = 0`).
///
/// # Panics
///
/// If the chains have different lengths.
///
/// # References
///
/// Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
/// and localization: an improved R-hat for assessing convergence of MCMC", section 4.4.
pub fn mcse_sd(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    let centre = mean(chains);
    let squared_deviation = |x: f64| (x - centre) * (x - centre);
    let squared: Vec<f64> = pooled(chains).into_iter().map(squared_deviation).collect();
    let ess = ess_of_split(&Split::new(chains, squared_deviation));
    let expected = mean_of(&squared);
    let fourth: Vec<f64> = squared.iter().map(|c| c * c).collect();
    let variance_of_expected = (mean_of(&fourth) - expected * expected) / ess;
    (variance_of_expected / expected / 4.0).sqrt()
}

/// Energy Bayesian fraction of missing information (E-BFMI) of one chain's Hamiltonian
/// energies, in sampling order.
///
/// Values below about 0.3 suggest the momentum resampling explores the energy
/// distribution poorly (Betancourt 2016).
///
/// # Formula
///
/// ```text
/// E-BFMI = Σₜ₌₁^{T−1} (Eₜ − Eₜ₋₁)² / Σₜ₌₀^{T−1} (Eₜ − Ē)²
/// ```
///
/// ArviZ's `bfmi` computes the same ratio as `mean(ΔE²) / var(E, ddof=1)`; both
/// denominators carry `T − 1`, which cancels. Returns NaN for fewer than two energies
/// and for constant energies.
///
/// # Example
///
/// ```
/// use tilde_samplers::diagnostics::e_bfmi;
///
/// // Alternating energies: large jumps relative to the spread.
/// assert_eq!(e_bfmi(&[1.0, -1.0, 1.0, -1.0]), 12.0 / 4.0);
/// ```
///
/// # References
///
/// Betancourt, M. (2016), "Diagnosing suboptimal cotangent disintegrations in
/// Hamiltonian Monte Carlo", arXiv:1604.00695. Used alongside the R-hat and ESS of
/// Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
/// and localization: an improved R-hat for assessing convergence of MCMC".
pub fn e_bfmi(energy: &[f64]) -> f64 {
    if energy.len() < 2 {
        return f64::NAN;
    }
    let jumps: f64 = energy.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum();
    let centre = mean_of(energy);
    let spread: f64 = energy.iter().map(|e| (e - centre).powi(2)).sum();
    jumps / spread
}

/// Chains after splitting: `num_chains` rows of `num_draws`, stored row after row.
struct Split {
    num_chains: usize,
    num_draws: usize,
    values: Vec<f64>,
}

impl Split {
    /// Splits each chain into its first and last `⌊N/2⌋` draws, mapping every draw through
    /// `f`, and stacks all first halves, then all second halves (ArviZ's `_split_chains`).
    fn new(chains: &[&[f64]], f: impl Fn(f64) -> f64) -> Self {
        let num_draws = common_len(chains);
        let half = num_draws / 2;
        let mut values = Vec::with_capacity(2 * half * chains.len());
        for chain in chains {
            values.extend(chain[..half].iter().map(|&x| f(x)));
        }
        for chain in chains {
            values.extend(chain[num_draws - half..].iter().map(|&x| f(x)));
        }
        Self {
            num_chains: 2 * chains.len(),
            num_draws: half,
            values,
        }
    }

    /// The same shape with the values replaced by `f(values)`, which must keep the length.
    fn map(&self, f: impl FnOnce(&[f64]) -> Vec<f64>) -> Self {
        let values = f(&self.values);
        assert_eq!(values.len(), self.values.len(), "a map must keep the shape");
        Self {
            num_chains: self.num_chains,
            num_draws: self.num_draws,
            values,
        }
    }

    fn chains(&self) -> impl Iterator<Item = &[f64]> {
        // `max(1)` keeps `chunks` from panicking; with no draws there are no values either.
        self.values.chunks(self.num_draws.max(1))
    }
}

/// The common length of the chains (0 for no chains).
///
/// # Panics
///
/// If the chains have different lengths.
fn common_len(chains: &[&[f64]]) -> usize {
    let num_draws = chains.first().map_or(0, |chain| chain.len());
    assert!(
        chains.iter().all(|chain| chain.len() == num_draws),
        "all chains must have the same number of draws, got lengths {:?}",
        chains.iter().map(|chain| chain.len()).collect::<Vec<_>>()
    );
    num_draws
}

/// ArviZ's `_not_valid` negated: enough chains, at least [`MIN_DRAWS`] draws each, no NaN.
fn is_valid(chains: &[&[f64]], min_chains: usize) -> bool {
    let num_draws = common_len(chains);
    chains.len() >= min_chains.max(1)
        && num_draws >= MIN_DRAWS
        && chains.iter().all(|chain| chain.iter().all(|x| !x.is_nan()))
}

fn pooled(chains: &[&[f64]]) -> Vec<f64> {
    chains
        .iter()
        .flat_map(|chain| chain.iter().copied())
        .collect()
}

fn mean_of(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Two-pass variance with `ddof` subtracted from the count, as `np.var(ddof=…)`.
fn variance(values: &[f64], ddof: usize) -> f64 {
    if values.len() <= ddof {
        return f64::NAN;
    }
    let centre = mean_of(values);
    let sum_sq: f64 = values.iter().map(|x| (x - centre) * (x - centre)).sum();
    sum_sq / (values.len() - ddof) as f64
}

/// Median of values without NaN, as `np.median` (mean of the two middle values for an even
/// count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// NumPy's `method="linear"` quantile of non-empty sorted values, `q` in `[0, 1]`,
/// including its rounding: the interpolation runs from the nearer order statistic.
fn linear_quantile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len() - 1;
    let virtual_index = last as f64 * q;
    if virtual_index >= last as f64 {
        return sorted[last];
    }
    let below = virtual_index.floor();
    let gamma = virtual_index - below;
    let (a, b) = (sorted[below as usize], sorted[below as usize + 1]);
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// scipy's `mstats.mquantiles(alphap=1, betap=1)` of non-empty sorted values, which ArviZ
/// uses for the tail ESS thresholds. It is the type 7 quantile of [`linear_quantile`], but
/// rounded differently: when `(S − 1) q` is an integer the two can differ in the last bit,
/// which decides whether the draw at the threshold counts as `θ ≤ q`.
fn type7_quantile(sorted: &[f64], prob: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let aleph = n as f64 * prob + (1.0 - prob);
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

/// Python's `max(a, b)`: `b` only if `b > a`, so a NaN `a` is kept and a NaN `b` ignored.
fn python_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Python's `min(a, b)`: `b` only if `b < a`.
fn python_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Average (fractional) ranks from 1, ties sharing the mean of their ranks, as
/// `scipy.stats.rankdata(method="average")`; non-finite values sort by `total_cmp`.
///
/// ```
/// use tilde_samplers::diagnostics::average_ranks;
/// assert_eq!(average_ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
/// ```
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start + 1 ..= end; their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = rank;
        }
        start = end;
    }
    ranks
}

/// Normal scores of the pooled values: `Φ⁻¹((r − 3/8) / (S + 1/4))` for average rank `r`
/// (Blom's offset; ArviZ's `_z_scale`).
fn z_scale(values: &[f64]) -> Vec<f64> {
    const OFFSET: f64 = 3.0 / 8.0;
    let denominator = values.len() as f64 - 2.0 * OFFSET + 1.0;
    average_ranks(values)
        .into_iter()
        .map(|rank| normal_quantile((rank - OFFSET) / denominator))
        .collect()
}

/// Split R-hat of already-split (and possibly transformed) draws: ArviZ's `_rhat`.
fn basic_rhat(split: &Split) -> f64 {
    if split.values.iter().any(|x| x.is_nan()) || split.num_draws < 2 {
        return f64::NAN;
    }
    let num_draws = split.num_draws as f64;
    let chain_means: Vec<f64> = split.chains().map(mean_of).collect();
    let chain_variances: Vec<f64> = split.chains().map(|chain| variance(chain, 1)).collect();
    let between = num_draws * variance(&chain_means, 1);
    let within = mean_of(&chain_variances);
    ((between / within + num_draws - 1.0) / num_draws).sqrt()
}

/// Effective sample size of already-split draws: ArviZ's `_ess`.
///
/// Autocovariances are summed directly and lazily, lag by lag, up to
/// `DIRECT_LAGS_PER_BIT × log₂` of the padded length; a sequence that needs more lags
/// gets all of them at once by FFT. The work stops where Geyer's initial positive
/// sequence does, and costs `O(N log N)` at most.
fn ess_of_split(split: &Split) -> f64 {
    ess_of_split_with(split, None)
}

/// [`ess_of_split`] with a given number of directly summed lags (tests compare the two
/// ways of summing).
fn ess_of_split_with(split: &Split, direct_lags: Option<usize>) -> f64 {
    let values = &split.values;
    if values.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let size = values.len() as f64;
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if max - min < CONSTANT_RESOLUTION {
        return size;
    }
    let num_draws = split.num_draws;
    if num_draws < 2 {
        return f64::NAN;
    }
    let n = num_draws as f64;
    let chain_means: Vec<f64> = split.chains().map(mean_of).collect();
    let centred: Vec<Vec<f64>> = split
        .chains()
        .zip(&chain_means)
        .map(|(chain, centre)| chain.iter().map(|x| x - centre).collect())
        .collect();
    // Biased autocovariance at `lag`, averaged over chains: summed directly for the
    // first lags, by FFT (all lags at once) beyond.
    let direct_lags = direct_lags
        .unwrap_or(DIRECT_LAGS_PER_BIT * (2 * num_draws).next_power_of_two().ilog2() as usize);
    let mut by_fft: Option<Vec<f64>> = None;
    let mut mean_autocov = |lag: usize| -> f64 {
        if lag > direct_lags {
            let sums = by_fft.get_or_insert_with(|| {
                crate::fft::lagged_product_sums(centred.iter().map(Vec::as_slice), num_draws)
            });
            return sums[lag] / n / centred.len() as f64;
        }
        let total: f64 = centred
            .iter()
            .map(|chain| {
                let sum: f64 = chain[..num_draws - lag]
                    .iter()
                    .zip(&chain[lag..])
                    .map(|(a, b)| a * b)
                    .sum();
                sum / n
            })
            .sum();
        total / centred.len() as f64
    };

    let mean_var = mean_autocov(0) * n / (n - 1.0);
    let mut var_plus = mean_var * (n - 1.0) / n;
    if split.num_chains > 1 {
        var_plus += variance(&chain_means, 1);
    }
    let mut autocorr = |lag: usize| 1.0 - (mean_var - mean_autocov(lag)) / var_plus;

    let mut rho = vec![0.0; num_draws];
    let mut rho_even = 1.0;
    rho[0] = rho_even;
    let mut rho_odd = autocorr(1);
    rho[1] = rho_odd;

    // Geyer's initial positive sequence: sums of adjacent pairs stay positive.
    let mut t = 1;
    while t + 3 < num_draws && rho_even + rho_odd > 0.0 {
        rho_even = autocorr(t + 1);
        rho_odd = autocorr(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
    // ArviZ's `max_t = t - 2`, which is -1 when the loop never ran; `last` is `max_t + 1`.
    let last = t - 1;
    if rho_even > 0.0 {
        rho[last] = rho_even;
    }
    // Geyer's initial monotone sequence: pair sums must not increase.
    let mut t = 1;
    while t + 3 <= last {
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t] {
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0;
            rho[t + 2] = rho[t + 1];
        }
        t += 2;
    }

    let tau = -1.0 + 2.0 * rho[..last].iter().sum::<f64>() + rho[last];
    let tau = python_max(tau, 1.0 / size.log10());
    if rho.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

/// Standard normal quantile `Φ⁻¹(p)` (`tilde_core::math::std_normal_quantile`); the unit
/// tests check it against scipy's `ndtri`, which ArviZ calls. Returns `−∞` at 0, `+∞`
/// at 1, and NaN outside `[0, 1]`.
fn normal_quantile(p: f64) -> f64 {
    tilde_core::math::std_normal_quantile(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_computations_give_the_separate_figures() {
        let chains: Vec<Vec<f64>> = (0..3)
            .map(|c| (0..101).map(|i| ((i * 37 + c * 11) % 23) as f64).collect())
            .collect();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        for chains in [&refs[..1], &refs[..]] {
            let (ess, r_hat) = ess_bulk_and_rhat(chains);
            assert_eq!(ess.to_bits(), ess_bulk(chains).to_bits());
            assert_eq!(r_hat.to_bits(), rhat(chains).to_bits());
        }
        let probs = [0.05, 0.5, 0.95];
        let together = quantiles(&refs, &probs);
        for (q, value) in probs.iter().zip(together) {
            assert_eq!(value, quantile(&refs, *q));
        }
        assert!(ess_bulk_and_rhat(&[&[1.0, 2.0]]).0.is_nan());
    }

    #[test]
    fn ess_by_fft_equals_ess_by_direct_sums() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
        // φ = 0.99 needs hundreds of lags, so the default switches to the FFT
        for phi in [0.0, 0.5, 0.99] {
            let chains: Vec<Vec<f64>> = (0..4)
                .map(|_| {
                    let mut x = 0.0;
                    (0..1000)
                        .map(|_| {
                            x = phi * x + rng.random_range(-1.0..1.0);
                            x
                        })
                        .collect()
                })
                .collect();
            let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            let split = Split::new(&refs, |x| x);
            let direct = ess_of_split_with(&split, Some(usize::MAX));
            for lags in [None, Some(0), Some(3)] {
                let ess = ess_of_split_with(&split, lags);
                assert!(
                    (ess - direct).abs() <= 1e-12 * direct,
                    "phi {phi}, {lags:?} direct lags: {ess} vs {direct}"
                );
            }
        }
    }

    #[test]
    fn normal_quantile_matches_scipy_ndtri() {
        // (p, scipy.special.ndtri(p)) printed with repr, scipy 1.17.1. Both are accurate to
        // about 1e-16, so 1e-14 leaves room only for rounding.
        let cases: [(f64, f64); 31] = [
            (1e-300, -37.0470962993612),
            (1e-100, -21.273453560965322),
            (1e-20, -9.262340089798409),
            (1e-10, -6.361340902404056),
            (1e-05, -4.264890793922825),
            (0.001, -3.090232306167813),
            (0.01, -2.3263478740408408),
            (0.02425, -1.972961051311885),
            (0.05, -1.6448536269514729),
            (0.075, -1.4395314709384563),
            (0.1, -1.2815515655446004),
            (0.2, -0.8416212335729142),
            (0.3, -0.5244005127080409),
            (0.4, -0.2533471031357997),
            (0.45, -0.12566134685507402),
            (0.5, 0.0),
            (0.55, 0.12566134685507416),
            (0.6, 0.2533471031357997),
            (0.7, 0.5244005127080407),
            (0.8, 0.8416212335729143),
            (0.9, 1.2815515655446004),
            (0.925, 1.4395314709384563),
            (0.95, 1.6448536269514722),
            (0.975, 1.959963984540054),
            (0.99, 2.3263478740408408),
            (0.999, 3.090232306167813),
            (0.99999, 4.264890793923841),
            (0.9999999999, 6.361340889697422),
            (0.00046860356138706655, -3.3087283813792836),
            (0.9992189940643549, 3.162908929981687),
            (0.0410958904109589, -1.7381080267736124),
        ];
        for (p, expected) in cases {
            let got = normal_quantile(p);
            assert!(
                (got - expected).abs() <= 1e-14 * expected.abs(),
                "Φ⁻¹({p}) = {got}, scipy says {expected}"
            );
        }
    }

    #[test]
    fn normal_quantile_edges() {
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(-0.1).is_nan());
        assert!(normal_quantile(1.1).is_nan());
        assert!(normal_quantile(f64::NAN).is_nan());
        // Probabilities whose complement is exact, so Φ⁻¹ must be exactly antisymmetric.
        for p in [2f64.powi(-40), 2f64.powi(-10), 0.0625, 0.125, 0.25, 0.4375] {
            assert_eq!(normal_quantile(p), -normal_quantile(1.0 - p), "p = {p}");
        }
    }

    #[test]
    fn average_ranks_share_ties() {
        // scipy.stats.rankdata([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]) = [4.5, 1.5, 6, 1.5, 7.5, 10, 3, 9, 7.5, 4.5]
        let ranks = average_ranks(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0]);
        assert_eq!(ranks, [4.5, 1.5, 6.0, 1.5, 7.5, 10.0, 3.0, 9.0, 7.5, 4.5]);
    }

    #[test]
    fn split_drops_the_middle_draw_of_odd_chains() {
        let first = [1.0, 2.0, 3.0, 4.0, 5.0];
        let second = [6.0, 7.0, 8.0, 9.0, 10.0];
        let split = Split::new(&[&first, &second], |x| x);
        assert_eq!(split.num_chains, 4);
        assert_eq!(split.num_draws, 2);
        assert_eq!(split.values, [1.0, 2.0, 6.0, 7.0, 4.0, 5.0, 9.0, 10.0]);
    }

    #[test]
    fn python_max_and_min_keep_a_leading_nan() {
        assert!(python_max(f64::NAN, 1.0).is_nan());
        assert_eq!(python_max(1.0, f64::NAN), 1.0);
        assert!(python_min(f64::NAN, 1.0).is_nan());
        assert_eq!(python_min(1.0, f64::NAN), 1.0);
        assert_eq!(python_max(1.0, 2.0), 2.0);
        assert_eq!(python_min(1.0, 2.0), 1.0);
    }

    #[test]
    fn quantiles_round_like_numpy_and_scipy() {
        // (q, np.quantile(x, q), mquantiles(x, q, alphap=1, betap=1)) for
        // x = np.arange(101) * 0.1, NumPy 2.4.6 and scipy 1.17.1: the same rule, rounded
        // differently, which is why the tail ESS uses the scipy form.
        let sorted: Vec<f64> = (0..101).map(|i| f64::from(i) * 0.1).collect();
        let cases = [
            (0.05, 0.5, 0.5000000000000001),
            (0.95, 9.5, 9.499999999999998),
            (0.3, 3.0, 2.9999999999999996),
            (0.07, 0.7000000000000002, 0.7000000000000001),
        ];
        for (q, numpy, scipy) in cases {
            assert_eq!(linear_quantile(&sorted, q), numpy, "numpy, q = {q}");
            assert_eq!(type7_quantile(&sorted, q), scipy, "scipy, q = {q}");
        }
        assert_eq!(linear_quantile(&sorted, 1.0), 10.0);
        assert_eq!(linear_quantile(&sorted, 0.0), 0.0);
        assert_eq!(type7_quantile(&[2.0], 0.3), 2.0);
    }

    #[test]
    fn degenerate_input_gives_nan_not_a_panic() {
        let none: [&[f64]; 0] = [];
        let empty: [&[f64]; 2] = [&[], &[]];
        let short: [&[f64]; 2] = [&[1.0, 2.0, 3.0], &[2.0, 3.0, 1.0]];
        let with_nan: [&[f64]; 2] = [&[1.0, 2.0, f64::NAN, 4.0], &[4.0, 3.0, 2.0, 1.0]];
        for chains in [&none[..], &empty[..], &short[..], &with_nan[..]] {
            for (name, f) in [
                ("rhat", rhat as fn(&[&[f64]]) -> f64),
                ("ess_bulk", ess_bulk),
                ("ess_tail", ess_tail),
                ("ess_mean", ess_mean),
                ("mcse_mean", mcse_mean),
                ("mcse_sd", mcse_sd),
            ] {
                assert!(f(chains).is_nan(), "{name}({chains:?}) = {}", f(chains));
            }
        }
        assert!(mean(&none).is_nan());
        assert!(sd(&empty).is_nan());
        assert!(sd(&[&[1.0]]).is_nan());
        assert!(quantile(&none, 0.5).is_nan());
        assert!(quantile(&short, 1.5).is_nan());
        assert!(quantile(&short, f64::NAN).is_nan());
        assert!(quantile(&with_nan, 0.5).is_nan());
        assert!(e_bfmi(&[]).is_nan());
        assert!(e_bfmi(&[1.0]).is_nan());
        assert!(e_bfmi(&[2.0, 2.0, 2.0]).is_nan());
    }

    #[test]
    fn single_chain_has_split_rhat_and_ess() {
        let chain: Vec<f64> = (0..40).map(|i| f64::from(i * 7 % 13)).collect();
        let r = rhat(&[&chain]);
        assert!(r.is_finite() && r < 1.1, "{r}");
        // a chain whose halves disagree
        let drifting: Vec<f64> = chain
            .iter()
            .enumerate()
            .map(|(i, x)| x + if i < 20 { 0.0 } else { 10.0 })
            .collect();
        assert!(rhat(&[&drifting]) > 1.5);
        assert!(ess_bulk(&[&chain]).is_finite());
        assert!(ess_tail(&[&chain]).is_finite());
        assert!(mcse_sd(&[&chain]).is_finite());
    }

    #[test]
    fn infinite_draws_do_not_panic() {
        let chains: [&[f64]; 2] = [
            &[1.0, f64::INFINITY, 3.0, 4.0, 0.5],
            &[4.0, 3.0, 2.0, 1.0, 0.0],
        ];
        // Rank-based figures stay finite; moment-based ones may not, but nothing panics.
        assert!(rhat(&chains).is_finite());
        assert!(ess_bulk(&chains).is_finite());
        let _ = (
            ess_tail(&chains),
            ess_mean(&chains),
            mcse_mean(&chains),
            mcse_sd(&chains),
        );
    }

    #[test]
    #[should_panic(expected = "all chains must have the same number of draws")]
    fn unequal_chains_panic() {
        let _ = rhat(&[&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0]]);
    }
}
