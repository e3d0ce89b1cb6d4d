//! Draws from a run, by site name, with their sampler statistics and summaries.

use std::fmt::{self, Write as _};

use rayon::prelude::*;
use tilde_core::{Error, Result};

use crate::diagnostics;
use crate::hmc::HmcParams;

/// Per-draw statistics of the sampler, as Stan reports them.
///
/// Two statistics are equal when their fields are bit for bit the same, so a NaN
/// (a statistic the kernel does not report) equals itself, as a saved and re-read
/// posterior needs.
#[derive(Clone, Copy, Debug)]
pub struct SampleStats {
    /// The log-density at the draw (`lp__`).
    pub log_density: f64,
    /// The transition's mean acceptance probability (`accept_stat__`).
    pub acceptance_rate: f64,
    /// The step size used (`stepsize__`).
    pub step_size: f64,
    /// NUTS tree depth (`treedepth__`).
    pub tree_depth: usize,
    /// Leapfrog steps (`n_leapfrog__`).
    pub num_integration_steps: usize,
    /// Whether the transition diverged (`divergent__`).
    pub is_divergent: bool,
    /// The Hamiltonian at the draw (`energy__`).
    pub energy: f64,
    /// The kernel's own statistic, named by [`Posterior::kernel_stat_name`]
    /// ([`ReplicaExchange`](crate::ReplicaExchange)'s swap acceptance); NaN when the
    /// kernel has none.
    pub kernel_stat: f64,
}

impl PartialEq for SampleStats {
    fn eq(&self, other: &Self) -> bool {
        let reals = |s: &Self| {
            [
                s.log_density,
                s.acceptance_rate,
                s.step_size,
                s.energy,
                s.kernel_stat,
            ]
            .map(f64::to_bits)
        };
        reals(self) == reals(other)
            && (
                self.tree_depth,
                self.num_integration_steps,
                self.is_divergent,
            ) == (
                other.tree_depth,
                other.num_integration_steps,
                other.is_divergent,
            )
    }
}

impl SampleStats {
    /// The statistics of a draw no sampler made: NaN log-density, acceptance, step size
    /// and energy, no steps, no divergence.
    pub const EMPTY: SampleStats = SampleStats {
        log_density: f64::NAN,
        acceptance_rate: f64::NAN,
        step_size: f64::NAN,
        tree_depth: 0,
        num_integration_steps: 0,
        is_divergent: false,
        energy: f64::NAN,
        kernel_stat: f64::NAN,
    };
}

/// One chain's draws (row-major: one row per draw, one column per name) and statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainDraws {
    pub(crate) values: Vec<f64>,
    pub(crate) stats: Vec<SampleStats>,
    pub(crate) params: HmcParams,
    pub(crate) warmup_gradients: usize,
    /// The warm-up draws kept by [`Mcmc::collect_warmup`](crate::Mcmc::collect_warmup).
    pub(crate) warmup: WarmupDraws,
}

/// A chain's kept warm-up draws, in the layout of [`ChainDraws`].
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct WarmupDraws {
    pub(crate) values: Vec<f64>,
    pub(crate) stats: Vec<SampleStats>,
}

/// The draws of an MCMC run: constrained latent values and deterministic quantities,
/// by scalar component name (`"mu"`, `"theta[3]"`), for every chain.
///
/// Element indices are 0-based, as in Rust (`theta[0]` is the first element); Stan
/// counts from 1. [`stan_names`](Self::stan_names) gives the Stan CSV column names
/// (`theta.1`) and [`Summary::one_based`] prints a summary with Stan's `theta[1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    pub(crate) names: Vec<String>,
    pub(crate) chains: Vec<ChainDraws>,
    /// The name of the kernel's own statistic in [`SampleStats::kernel_stat`].
    pub(crate) kernel_stat: Option<String>,
    /// The sampling kernel's maximum tree depth (NUTS), for the saturation report.
    pub(crate) max_tree_depth: Option<usize>,
}

/// One row of a [`Summary`].
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// The component's name.
    pub name: String,
    /// Posterior mean.
    pub mean: f64,
    /// Posterior standard deviation.
    pub sd: f64,
    /// Median.
    pub median: f64,
    /// 5 % quantile.
    pub q5: f64,
    /// 95 % quantile.
    pub q95: f64,
    /// Rank-normalised bulk effective sample size.
    pub ess_bulk: f64,
    /// Tail effective sample size.
    pub ess_tail: f64,
    /// Monte-Carlo standard error of the mean.
    pub mcse_mean: f64,
    /// Monte-Carlo standard error of the sd.
    pub mcse_sd: f64,
    /// Rank-normalised split R-hat.
    pub r_hat: f64,
}

/// A table of posterior summaries, one row per scalar component.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The rows, in the posterior's column order.
    pub rows: Vec<SummaryRow>,
}

impl Summary {
    /// The row of one component.
    pub fn get(&self, name: &str) -> Option<&SummaryRow> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The same rows named with 1-based indices, as Stan prints them: `theta[0]`
    /// becomes `theta[1]`, `z[0,1]` becomes `z[1,2]`; names without an index stay.
    ///
    /// ```
    /// use tilde_samplers::Posterior;
    ///
    /// let names = vec!["mu".into(), "theta[0]".into()];
    /// let posterior = Posterior::from_draws(names, vec![vec![0.1, 1.0, 0.2, 3.0]])?;
    /// let summary = posterior.summary().one_based();
    /// assert_eq!(summary.rows[1].name, "theta[1]");
    /// assert!(summary.get("mu").is_some());
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    pub fn one_based(mut self) -> Summary {
        for row in &mut self.rows {
            row.name = one_based_name(&row.name);
        }
        self
    }
}

/// `theta[2]` → `theta[3]`, `z[0,1]` → `z[1,2]`; other names unchanged.
fn one_based_name(name: &str) -> String {
    if let Some(open) = name.find('[')
        && name.ends_with(']')
    {
        let indices: Option<Vec<String>> = name[open + 1..name.len() - 1]
            .split(',')
            .map(|i| Some((i.trim().parse::<usize>().ok()? + 1).to_string()))
            .collect();
        if let Some(indices) = indices {
            return format!("{}[{}]", &name[..open], indices.join(","));
        }
    }
    name.to_string()
}

/// A Monte-Carlo standard error with two significant digits (`0.0012`, `0.13`, `2.4`),
/// so that small errors do not print as `0.000`.
fn significant(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor();
    if magnitude < -4.0 {
        return format!("{x:.1e}");
    }
    let decimals = (1.0 - magnitude).max(0.0) as usize;
    format!("{x:.decimals$}")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            f,
            "{:>width$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7}",
            "",
            "mean",
            "sd",
            "median",
            "5%",
            "95%",
            "ess_bulk",
            "ess_tail",
            "mcse_mean",
            "mcse_sd",
            "r_hat"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:>width$} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.1} {:>9.1} {:>9} {:>8} {:>7.3}",
                r.name,
                r.mean,
                r.sd,
                r.median,
                r.q5,
                r.q95,
                r.ess_bulk,
                r.ess_tail,
                significant(r.mcse_mean),
                significant(r.mcse_sd),
                r.r_hat
            )?;
        }
        Ok(())
    }
}

/// A posterior's draws as a chains × draws × columns array borrowed from it
/// ([`Posterior::matrix`]). Each chain is one row-major block: one row per draw, one
/// value per column in [`Posterior::names`] order.
#[derive(Clone, Copy, Debug)]
pub struct DrawMatrix<'a> {
    chains: &'a [ChainDraws],
    num_columns: usize,
}

impl<'a> DrawMatrix<'a> {
    /// `(chains, draws per chain, columns)`; the draws are those of the first chain.
    pub fn shape(&self) -> (usize, usize, usize) {
        let draws = self
            .chains
            .first()
            .map_or(0, |c| c.values.len() / self.num_columns.max(1));
        (self.chains.len(), draws, self.num_columns)
    }

    /// The number of columns (scalar components).
    pub fn num_columns(&self) -> usize {
        self.num_columns
    }

    /// One chain's draws, row-major (`draws × columns` values); `None` past the last
    /// chain.
    pub fn chain(&self, chain: usize) -> Option<&'a [f64]> {
        self.chains.get(chain).map(|c| c.values.as_slice())
    }

    /// Every chain's block, in chain order.
    pub fn chains(&self) -> impl Iterator<Item = &'a [f64]> + 'a {
        self.chains.iter().map(|c| c.values.as_slice())
    }

    /// The values of one draw (one per column); `None` when out of range.
    pub fn draw(&self, chain: usize, draw: usize) -> Option<&'a [f64]> {
        let width = self.num_columns;
        let start = draw.checked_mul(width)?;
        self.chain(chain)?.get(start..start.checked_add(width)?)
    }

    /// One value; `None` when out of range.
    pub fn get(&self, chain: usize, draw: usize, column: usize) -> Option<f64> {
        if column >= self.num_columns {
            return None;
        }
        self.draw(chain, draw).map(|row| row[column])
    }
}

impl Posterior {
    pub(crate) fn new(names: Vec<String>, chains: Vec<ChainDraws>) -> Self {
        Posterior {
            names,
            chains,
            kernel_stat: None,
            max_tree_depth: None,
        }
    }

    /// The posterior with `name` for its draws' [`SampleStats::kernel_stat`].
    pub(crate) fn with_kernel_stat(mut self, name: Option<String>) -> Self {
        self.kernel_stat = name;
        self
    }

    /// The name of the kernel's own per-draw statistic in
    /// [`SampleStats::kernel_stat`] (`swap_accept__` for
    /// [`ReplicaExchange`](crate::ReplicaExchange)), or `None` when the kernel reports
    /// only Stan's standard statistics.
    pub fn kernel_stat_name(&self) -> Option<&str> {
        self.kernel_stat.as_deref()
    }

    /// A posterior from draws made elsewhere (a variational approximation, another
    /// sampler): `chains[c]` holds chain `c`'s draws row-major, one row per draw and one
    /// column per name. Sampler statistics are left empty (NaN log-density, no
    /// divergences), so [`summary`](Self::summary) and the diagnostics work as for MCMC.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a chain's length is not a multiple of the number of
    /// names or the chains hold different numbers of draws.
    pub fn from_draws(names: Vec<String>, chains: Vec<Vec<f64>>) -> Result<Self> {
        let width = names.len().max(1);
        let rows = chains.first().map_or(0, |c| c.len() / width);
        if let Some(bad) = chains.iter().position(|c| c.len() != rows * width) {
            return Err(Error::InvalidConfig(format!(
                "chain {bad} holds {} values, not {rows} draws of {} names",
                chains[bad].len(),
                names.len()
            )));
        }
        let stats = SampleStats::EMPTY;
        let chains = chains
            .into_iter()
            .map(|values| ChainDraws {
                values,
                stats: vec![stats; rows],
                params: HmcParams::none(),
                warmup_gradients: 0,
                warmup: WarmupDraws::default(),
            })
            .collect();
        Ok(Posterior::new(names, chains))
    }

    /// The chains' draws.
    pub(crate) fn chains(&self) -> &[ChainDraws] {
        &self.chains
    }

    /// The names of the scalar components, in column order. Indices are 0-based
    /// (`theta[0]`); [`stan_names`](Self::stan_names) has Stan's.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The names as Stan CSV columns, in column order: 1-based and dotted, `theta[0]`
    /// → `theta.1`, `z[0,1]` → `z.1.2` (what [`to_csv`](Self::to_csv) writes), for
    /// exporting draws to tools that expect Stan's names.
    ///
    /// ```
    /// use tilde_samplers::Posterior;
    ///
    /// let names = vec!["mu".into(), "theta[0]".into(), "z[0,1]".into()];
    /// let posterior = Posterior::from_draws(names, vec![vec![0.0; 3]])?;
    /// assert_eq!(posterior.stan_names(), ["mu", "theta.1", "z.1.2"]);
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    pub fn stan_names(&self) -> Vec<String> {
        self.names.iter().map(|n| crate::io::stan_name(n)).collect()
    }

    /// The number of chains.
    pub fn num_chains(&self) -> usize {
        self.chains.len()
    }

    /// The number of draws per chain.
    pub fn num_draws(&self) -> usize {
        self.chains.first().map_or(0, |c| c.stats.len())
    }

    fn column(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| self.unknown(name))
    }

    /// The error for a name that is not a column: it lists the elements when `name` is
    /// a vector site (`"theta_raw"` → `theta_raw[0]`, …), else every name.
    fn unknown(&self, name: &str) -> Error {
        let elements = self.element_columns(name);
        let known = if elements.is_empty() {
            self.names.clone()
        } else {
            elements.iter().map(|&c| self.names[c].clone()).collect()
        };
        Error::UnknownName {
            name: name.to_string(),
            known,
        }
    }

    /// The columns of site `site`'s elements: `site[…]`, in column order.
    fn element_columns(&self, site: &str) -> Vec<usize> {
        self.names
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.strip_prefix(site)
                    .is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']'))
            })
            .map(|(c, _)| c)
            .collect()
    }

    fn chain_column(&self, chain: &ChainDraws, col: usize) -> Vec<f64> {
        chain
            .values
            .iter()
            .skip(col)
            .step_by(self.names.len())
            .copied()
            .collect()
    }

    /// The draws of one scalar component, all chains in order. A vector site's
    /// elements are components of their own (`"theta_raw[3]"`); for all of them at once
    /// use [`site_draws`](Self::site_draws).
    ///
    /// # Errors
    /// [`Error::UnknownName`] listing the names that exist (a vector site's elements
    /// when `name` is one).
    pub fn draws(&self, name: &str) -> Result<Vec<f64>> {
        Ok(self.draws_by_chain(name)?.concat())
    }

    /// The draws of one scalar component, one `Vec` per chain.
    ///
    /// # Errors
    /// [`Error::UnknownName`] listing the names that exist.
    pub fn draws_by_chain(&self, name: &str) -> Result<Vec<Vec<f64>>> {
        let col = self.column(name)?;
        Ok(self
            .chains
            .iter()
            .map(|c| self.chain_column(c, col))
            .collect())
    }

    /// The draws of every element of a site, one `Vec` per element in column order
    /// (`site[0]`, `site[1]`, … for a vector site; the element names are
    /// [`site_names`](Self::site_names)), each holding all chains in order. A scalar
    /// site or deterministic gives one element. Looped sites (`"theta[{i}]"`) and
    /// deterministics count as one site by their base name (`"theta"`).
    ///
    /// ```
    /// use tilde_samplers::Posterior;
    ///
    /// let names = vec!["mu".into(), "theta_raw[0]".into(), "theta_raw[1]".into()];
    /// let posterior = Posterior::from_draws(names, vec![vec![0.1, 1.0, 2.0, 0.2, 3.0, 4.0]])?;
    /// assert_eq!(posterior.site_draws("theta_raw")?, [vec![1.0, 3.0], vec![2.0, 4.0]]);
    /// assert_eq!(posterior.site_draws("mu")?, [vec![0.1, 0.2]]);
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownName`] when no component is `site` or `site[…]`.
    pub fn site_draws(&self, site: &str) -> Result<Vec<Vec<f64>>> {
        let columns = self.site_columns(site)?;
        Ok(columns
            .into_iter()
            .map(|col| {
                self.chains
                    .iter()
                    .flat_map(|c| self.chain_column(c, col))
                    .collect()
            })
            .collect())
    }

    /// The component names of a site, in the order of [`site_draws`](Self::site_draws).
    ///
    /// # Errors
    /// [`Error::UnknownName`] when no component is `site` or `site[…]`.
    pub fn site_names(&self, site: &str) -> Result<Vec<&str>> {
        Ok(self
            .site_columns(site)?
            .into_iter()
            .map(|c| self.names[c].as_str())
            .collect())
    }

    fn site_columns(&self, site: &str) -> Result<Vec<usize>> {
        if let Some(col) = self.names.iter().position(|n| n == site) {
            return Ok(vec![col]);
        }
        let columns = self.element_columns(site);
        if columns.is_empty() {
            return Err(self.unknown(site));
        }
        Ok(columns)
    }

    /// Every draw as a borrowed chains × draws × columns array, without a copy.
    ///
    /// ```
    /// use tilde_samplers::Posterior;
    ///
    /// let names = vec!["a".into(), "b".into()];
    /// let posterior = Posterior::from_draws(names, vec![vec![1.0, 2.0, 3.0, 4.0]; 2])?;
    /// let matrix = posterior.matrix();
    /// assert_eq!(matrix.shape(), (2, 2, 2));            // chains, draws, columns
    /// assert_eq!(matrix.chain(1), Some(&[1.0, 2.0, 3.0, 4.0][..]));
    /// assert_eq!(matrix.draw(0, 1), Some(&[3.0, 4.0][..]));
    /// assert_eq!(matrix.get(0, 1, 0), Some(3.0));
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    pub fn matrix(&self) -> DrawMatrix<'_> {
        DrawMatrix {
            chains: &self.chains,
            num_columns: self.names.len(),
        }
    }

    /// The mean of every column, in [`names`](Self::names) order, all chains pooled:
    /// one pass over the draws, no ESS (the `mean` of [`summary`](Self::summary)).
    pub fn means(&self) -> Vec<f64> {
        let width = self.names.len();
        let mut sums = vec![0.0; width];
        for row in self.rows() {
            for (s, x) in sums.iter_mut().zip(row) {
                *s += x;
            }
        }
        let count = self.total_draws() as f64;
        sums.into_iter().map(|s| s / count).collect()
    }

    /// The standard deviation (divisor `S − 1` for `S` draws) of every column, all
    /// chains pooled: two passes, no ESS (the `sd` of [`summary`](Self::summary)). NaN
    /// with fewer than two draws.
    pub fn sds(&self) -> Vec<f64> {
        let means = self.means();
        let mut sums = vec![0.0; means.len()];
        for row in self.rows() {
            for ((s, x), m) in sums.iter_mut().zip(row).zip(&means) {
                *s += (x - m) * (x - m);
            }
        }
        let count = self.total_draws();
        sums.into_iter()
            .map(|s| {
                if count < 2 {
                    f64::NAN
                } else {
                    (s / (count - 1) as f64).sqrt()
                }
            })
            .collect()
    }

    /// Quantiles of every column, all chains pooled (NumPy's linear rule, as in
    /// [`summary`](Self::summary)): `result[column][k]` is quantile `probs[k]` of
    /// column `column`. One sort per column, no ESS.
    ///
    /// ```
    /// use tilde_samplers::Posterior;
    ///
    /// let posterior = Posterior::from_draws(vec!["x".into()], vec![vec![3.0, 1.0, 2.0]])?;
    /// assert_eq!(posterior.quantiles(&[0.0, 0.5, 1.0])?, [vec![1.0, 2.0, 3.0]]);
    /// assert!(posterior.quantiles(&[1.5]).is_err());
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a probability outside `[0, 1]`.
    pub fn quantiles(&self, probs: &[f64]) -> Result<Vec<Vec<f64>>> {
        if let Some(p) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(Error::InvalidConfig(format!(
                "a quantile's probability must be in [0, 1], got {p}"
            )));
        }
        Ok((0..self.names.len())
            .into_par_iter()
            .map(|col| {
                let column: Vec<f64> = self
                    .chains
                    .iter()
                    .flat_map(|c| self.chain_column(c, col))
                    .collect();
                diagnostics::quantiles(&[&column], probs)
            })
            .collect())
    }

    /// Every draw's row of values, chain after chain.
    fn rows(&self) -> impl Iterator<Item = &[f64]> {
        let width = self.names.len().max(1);
        self.chains.iter().flat_map(move |c| c.values.chunks(width))
    }

    /// The number of draws over all chains.
    fn total_draws(&self) -> usize {
        let width = self.names.len().max(1);
        self.chains.iter().map(|c| c.values.len() / width).sum()
    }

    /// One chain's per-draw sampler statistics.
    ///
    /// # Panics
    /// When `chain >= num_chains()`.
    pub fn sample_stats(&self, chain: usize) -> &[SampleStats] {
        &self.chains[chain].stats
    }

    /// The number of warm-up draws kept per chain: `num_warmup / thinning` with
    /// [`Mcmc::collect_warmup`](crate::Mcmc::collect_warmup), else 0. Warm-up draws
    /// are apart from the draws: summaries, diagnostics and every other accessor use
    /// the draws only.
    pub fn num_warmup_draws(&self) -> usize {
        self.chains.first().map_or(0, |c| c.warmup.stats.len())
    }

    /// The kept warm-up draws of one scalar component, one `Vec` per chain (empty
    /// without [`Mcmc::collect_warmup`](crate::Mcmc::collect_warmup)).
    ///
    /// ```
    /// use tilde_core::LogDensity;
    /// use tilde_samplers::{Mcmc, Nuts, Unconstrained};
    ///
    /// struct StdNormal;
    /// impl LogDensity for StdNormal {
    ///     fn dim(&self) -> usize { 1 }
    ///     fn logp(&self, x: &[f64]) -> f64 { -0.5 * x[0] * x[0] }
    ///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
    ///         g[0] = -x[0];
    ///         self.logp(x)
    ///     }
    /// }
    /// let posterior = Mcmc::new(Nuts::default())
    ///     .num_warmup(100).num_samples(50).num_chains(2).seed(3).progress(false)
    ///     .collect_warmup(true)
    ///     .run(&Unconstrained::new(StdNormal))?;
    /// assert_eq!(posterior.num_warmup_draws(), 100);
    /// assert_eq!(posterior.warmup_draws_by_chain("x[0]")?[1].len(), 100);
    /// assert_eq!(posterior.draws("x[0]")?.len(), 100); // 2 chains × 50 draws
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownName`] listing the names that exist.
    pub fn warmup_draws_by_chain(&self, name: &str) -> Result<Vec<Vec<f64>>> {
        let col = self.column(name)?;
        let width = self.names.len();
        Ok(self
            .chains
            .iter()
            .map(|c| {
                c.warmup
                    .values
                    .iter()
                    .skip(col)
                    .step_by(width)
                    .copied()
                    .collect()
            })
            .collect())
    }

    /// The kept warm-up draws of one scalar component, all chains in order.
    ///
    /// # Errors
    /// [`Error::UnknownName`] listing the names that exist.
    pub fn warmup_draws(&self, name: &str) -> Result<Vec<f64>> {
        Ok(self.warmup_draws_by_chain(name)?.concat())
    }

    /// Sampler statistics of one chain's kept warm-up draws.
    ///
    /// # Panics
    /// When `chain` is not below [`num_chains`](Self::num_chains).
    pub fn warmup_sample_stats(&self, chain: usize) -> &[SampleStats] {
        &self.chains[chain].warmup.stats
    }

    /// The step size and inverse mass matrix each chain sampled with.
    pub fn adapted(&self) -> Vec<HmcParams> {
        self.chains.iter().map(|c| c.params.clone()).collect()
    }

    /// Gradient evaluations (leapfrog steps) of the run, warm-up included, over all
    /// chains; the thinned-away transitions are not counted.
    pub fn num_gradient_evals(&self) -> usize {
        self.chains
            .iter()
            .map(|c| {
                c.warmup_gradients
                    + c.stats
                        .iter()
                        .map(|s| s.num_integration_steps)
                        .sum::<usize>()
            })
            .sum()
    }

    /// The number of divergent transitions, over all chains.
    pub fn num_divergences(&self) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.stats)
            .filter(|s| s.is_divergent)
            .count()
    }

    /// The E-BFMI of each chain (below 0.3 suggests the momenta explore the energy
    /// poorly, Betancourt 2016).
    pub fn e_bfmi(&self) -> Vec<f64> {
        self.chains
            .iter()
            .map(|c| diagnostics::e_bfmi(&c.stats.iter().map(|s| s.energy).collect::<Vec<_>>()))
            .collect()
    }

    /// Mean, sd, median, 5 % and 95 % quantiles, bulk and tail ESS, MCSE and
    /// rank-normalised split R-hat of every scalar component, the components in
    /// parallel. Each costs `O(S log S)` for `S` draws (sorts, and autocovariances by FFT
    /// beyond the first lags).
    pub fn summary(&self) -> Summary {
        let rows = (0..self.names.len())
            .into_par_iter()
            .map(|col| {
                let chains: Vec<Vec<f64>> = self
                    .chains
                    .iter()
                    .map(|c| self.chain_column(c, col))
                    .collect();
                let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
                let quantiles = diagnostics::quantiles(&refs, &[0.5, 0.05, 0.95]);
                let (ess_bulk, r_hat) = diagnostics::ess_bulk_and_rhat(&refs);
                SummaryRow {
                    name: self.names[col].clone(),
                    mean: diagnostics::mean(&refs),
                    sd: diagnostics::sd(&refs),
                    median: quantiles[0],
                    q5: quantiles[1],
                    q95: quantiles[2],
                    ess_bulk,
                    ess_tail: diagnostics::ess_tail(&refs),
                    mcse_mean: diagnostics::mcse_mean(&refs),
                    mcse_sd: diagnostics::mcse_sd(&refs),
                    r_hat,
                }
            })
            .collect();
        Summary { rows }
    }

    /// The maximum tree depth of the kernel that made the draws (NUTS), `None` for
    /// kernels without a tree and for draws made elsewhere.
    pub fn max_tree_depth(&self) -> Option<usize> {
        self.max_tree_depth
    }

    /// The number of draws whose trajectory hit the maximum tree depth, over all
    /// chains (Stan's treedepth check; 0 for kernels without a tree).
    pub fn num_max_tree_depth(&self) -> usize {
        let Some(limit) = self.max_tree_depth else {
            return 0;
        };
        self.chains
            .iter()
            .flat_map(|c| &c.stats)
            .filter(|s| s.tree_depth >= limit)
            .count()
    }

    /// The sampler's warnings, as Stan's `diagnose` gives them, each with the fix to
    /// try: divergent transitions, draws that hit the maximum tree depth, and chains
    /// whose E-BFMI is below 0.3. Empty when none applies.
    /// [`print_summary`](Self::print_summary) prints them after the table.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let total = self.chains.iter().map(|c| c.stats.len()).sum::<usize>();
        let percent = |n: usize| 100.0 * n as f64 / total.max(1) as f64;
        let divergences = self.num_divergences();
        if divergences > 0 {
            out.push(format!(
                "warning: {divergences} of {total} draws ({:.1} %) are divergent transitions: \
                 the sampler cannot follow the posterior's curvature there, and estimates may \
                 be biased. Try a higher `Nuts::default().target_accept(0.95)` (smaller steps), \
                 or reparameterise (non-centred hierarchical scales); `plots::pair` shows \
                 where they are",
                percent(divergences)
            ));
        }
        let saturated = self.num_max_tree_depth();
        if let (Some(limit), true) = (self.max_tree_depth, saturated > 0) {
            out.push(format!(
                "warning: {saturated} of {total} draws ({:.1} %) hit the maximum tree depth \
                 {limit} (2^{limit} - 1 = {} leapfrog steps): trajectories end early, so \
                 sampling is slow and explores poorly. Try a dense metric, \
                 `Nuts::default().dense_mass(true)` (correlated parameters, as regression \
                 coefficients often are), centring and scaling predictors, or a larger \
                 `.max_tree_depth({})`",
                percent(saturated),
                (1u64 << limit.min(63)) - 1,
                limit + 2
            ));
        }
        for (chain, bfmi) in self.e_bfmi().iter().enumerate() {
            if *bfmi < 0.3 {
                out.push(format!(
                    "warning: chain {chain} has E-BFMI {bfmi:.3} < 0.3: the momenta explore \
                     the energy poorly, a sign of heavy tails or a funnel. Try \
                     reparameterising (non-centred scales) or more warm-up \
                     (`.num_warmup(..)`); `plots::energy` shows the energy distributions"
                ));
            }
        }
        out
    }

    /// Prints the summary (mean, sd, median, 5 % and 95 % quantiles, bulk and tail ESS,
    /// the Monte-Carlo standard errors of the mean and the sd with two significant
    /// digits, R-hat), a line with the number of divergences, of draws at the
    /// maximum tree depth and the mean of the kernel's own statistic (e.g.
    /// `swap_accept__`), then [`warnings`](Self::warnings).
    pub fn print_summary(&self) {
        print!("{}", self.summary());
        println!();
        println!("{}", self.diagnostics_line());
        for warning in self.warnings() {
            println!("{warning}");
        }
    }

    /// `4 chains × 1000 draws; number of divergences: 0; at maximum tree depth 10: 3`.
    fn diagnostics_line(&self) -> String {
        let mut line = format!(
            "{} chains × {} draws; number of divergences: {}",
            self.num_chains(),
            self.num_draws(),
            self.num_divergences()
        );
        if let Some(limit) = self.max_tree_depth {
            let _ = write!(
                line,
                "; at maximum tree depth {limit}: {}",
                self.num_max_tree_depth()
            );
        }
        if let Some(name) = self.kernel_stat_name() {
            let reported: Vec<f64> = (0..self.num_chains())
                .flat_map(|c| self.sample_stats(c).iter().map(|s| s.kernel_stat))
                .filter(|v| !v.is_nan())
                .collect();
            let mean = reported.iter().sum::<f64>() / reported.len() as f64;
            let _ = write!(line, "; mean {name}: {mean:.3}");
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::{Posterior, one_based_name, significant};

    #[test]
    fn mcse_prints_two_significant_digits() {
        assert_eq!(significant(0.00123), "0.0012");
        assert_eq!(significant(0.0456), "0.046");
        assert_eq!(significant(0.13), "0.13");
        assert_eq!(significant(2.44), "2.4");
        assert_eq!(significant(123.4), "123");
        assert_eq!(significant(0.0), "0");
        assert_eq!(significant(3.2e-7), "3.2e-7");
        assert_eq!(significant(f64::NAN), "NaN");
    }

    #[test]
    fn summary_shows_mcse_mean_and_mcse_sd() {
        let names = vec!["mu".into()];
        let draws: Vec<f64> = (0..400).map(|i| ((i * 37) % 101) as f64 / 1000.0).collect();
        let posterior = Posterior::from_draws(names, vec![draws]).unwrap();
        let table = posterior.summary().to_string();
        let header = table.lines().next().unwrap();
        assert!(
            header.contains("mcse_mean") && header.contains("mcse_sd"),
            "{header}"
        );
        let row = posterior.summary().rows[0].clone();
        let line = table.lines().nth(1).unwrap();
        assert!(line.contains(&significant(row.mcse_mean)), "{line}");
        assert!(line.contains(&significant(row.mcse_sd)), "{line}");
        assert!(row.mcse_mean < 0.005 && !line.contains(" 0.000 "), "{line}");
    }

    #[test]
    fn one_based_names() {
        assert_eq!(one_based_name("theta[0]"), "theta[1]");
        assert_eq!(one_based_name("z[0, 4]"), "z[1,5]");
        assert_eq!(one_based_name("mu"), "mu");
        assert_eq!(one_based_name("a[b]"), "a[b]");
    }

    #[test]
    fn draws_made_elsewhere_have_no_tree_depth_report() {
        let posterior = Posterior::from_draws(vec!["mu".into()], vec![vec![0.0, 1.0]]).unwrap();
        assert_eq!(posterior.max_tree_depth(), None);
        assert!(posterior.warnings().is_empty());
        assert!(!posterior.diagnostics_line().contains("tree depth"));
    }
}
