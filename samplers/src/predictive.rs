//! Prior and posterior predictive simulation, after NumPyro's `Predictive`.

use rayon::prelude::*;
use tilde_core::{Error, Model, Result};

use crate::hmc::HmcParams;
use crate::mcmc::chain_rng;
use crate::posterior::{ChainDraws, Posterior, SampleStats};

/// Simulations from a model: every latent, deterministic and observed site, by name,
/// in the [`Posterior`] type so that `draws` and `summary` work on them.
///
/// ```text
/// let prior = Predictive::prior(&model, 1000, seed)?;
/// let replicated = Predictive::posterior(&model, &posterior, seed)?;
/// let y_rep = replicated.draws("y[0]")?;
/// ```
/// (a runnable example is in the `tilde` crate's documentation).
///
/// A model simulates with its data's *shapes*: to simulate with no data, pass
/// placeholders of the right length (`&vec![0.0; n]`), as above.
pub struct Predictive;

/// The RNG of draw `draw` of chain `chain`.
pub(crate) fn draw_rng(seed: u64, chain: usize, draw: usize) -> rand::rngs::Xoshiro256PlusPlus {
    chain_rng(
        seed ^ (draw as u64).wrapping_mul(0xD1B5_4A32_D192_ED03),
        chain,
    )
}

/// Runs `simulate` for every draw of every chain (`num_draws[chain]` of them, latent
/// values from `fixed(chain, draw)`), in parallel, one RNG per `(seed, chain, draw)`,
/// and gathers the results as a posterior.
///
/// A lower bound from the layout's columns comes first; then the first simulation gives
/// the names and so the width of a draw (latent, deterministic and observed values),
/// and the buffers for every draw's values and statistics are reserved at once, so that
/// draws which do not fit in memory are an [`Error::InvalidConfig`] before any is
/// simulated. A draw keeps only its values: the names are checked against the first
/// draw's and dropped.
fn gather<'p, M: Model + Sync + ?Sized>(
    model: &M,
    seed: u64,
    num_draws: &[usize],
    fixed: impl Fn(usize, usize) -> Option<&'p [f64]> + Sync,
    params: Vec<HmcParams>,
) -> Result<Posterior> {
    let Some(first) = num_draws.iter().position(|&n| n > 0) else {
        let chains = num_draws
            .iter()
            .zip(params)
            .map(|(_, params)| ChainDraws {
                stats: Vec::new(),
                values: Vec::new(),
                params,
                warmup_gradients: 0,
                warmup: Default::default(),
            })
            .collect();
        return Ok(Posterior::new(Vec::new(), chains));
    };
    // a lower bound first (the latent and deterministic columns), which holds for a
    // model that cannot simulate and needs no simulation
    let columns = model.layout().column_names().len().max(1);
    for &n in num_draws {
        drop(tilde_core::try_buffer::<f64>(n, columns, "num_draws")?);
    }
    let names = model
        .simulate(&mut draw_rng(seed, first, 0), fixed(first, 0))?
        .names()
        .to_vec();
    let width = names.len();
    let mut buffers = Vec::with_capacity(num_draws.len());
    for &n in num_draws {
        let mut values = tilde_core::try_buffer::<f64>(n, width, "num_draws")?;
        let mut stats = tilde_core::try_buffer::<SampleStats>(n, 1, "num_draws")?;
        values.resize(n * width, f64::NAN);
        stats.resize(n, SampleStats::EMPTY);
        buffers.push((values, stats));
    }
    buffers
        .par_iter_mut()
        .enumerate()
        .try_for_each(|(chain, (values, _))| {
            values
                .par_chunks_mut(width.max(1))
                .take(num_draws[chain])
                .enumerate()
                .try_for_each(|(draw, row)| {
                    let mut rng = draw_rng(seed, chain, draw);
                    let simulated = model.simulate(&mut rng, fixed(chain, draw))?;
                    if simulated.names() != names.as_slice() {
                        return Err(Error::LayoutChanged {
                            expected: width,
                            found: simulated.names().len(),
                            site: None,
                        });
                    }
                    row.copy_from_slice(&simulated.values()[..row.len()]);
                    Ok(())
                })
        })?;
    let chains = buffers
        .into_iter()
        .zip(params)
        .map(|((values, stats), params)| ChainDraws {
            stats,
            values,
            params,
            warmup_gradients: 0,
            warmup: Default::default(),
        })
        .collect();
    Ok(Posterior::new(names, chains))
}

/// An error naming the first latent site whose prior draws are NaN: a flat prior.
fn check_proper<M: Model + ?Sized>(model: &M, prior: &Posterior) -> Result<()> {
    let Some(first) = prior.chains().first() else {
        return Ok(());
    };
    if first.stats.is_empty() {
        return Ok(());
    }
    for site in model.layout().latent() {
        for name in site.component_names() {
            if let Some(col) = prior.names().iter().position(|n| *n == name)
                && first.values.get(col).is_some_and(|v| v.is_nan())
            {
                return Err(Error::ImproperPrior {
                    site: site.name.clone(),
                });
            }
        }
    }
    Ok(())
}

impl Predictive {
    /// `num_draws` simulations from the prior: latent sites from their priors, observed
    /// sites given them. One chain; reproducible for a seed whatever the thread count.
    ///
    /// # Errors
    /// A data fault of the model, a structural fault while simulating,
    /// [`Error::ImproperPrior`] naming a latent site with a flat prior (which has no
    /// draws), or [`Error::InvalidConfig`] when `num_draws` draws do not fit in memory.
    pub fn prior<M: Model + Sync + ?Sized>(
        model: &M,
        num_draws: usize,
        seed: u64,
    ) -> Result<Posterior> {
        model.check()?;
        let params = HmcParams::none();
        let prior = gather(model, seed, &[num_draws], |_, _| None, vec![params])?;
        check_proper(model, &prior)?;
        Ok(prior)
    }

    /// One simulation of the observed sites per posterior draw, with the latent sites
    /// at that draw: the posterior predictive distribution, chain by chain.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `posterior` does not come from this model, a data
    /// fault of the model, or a structural fault while simulating.
    pub fn posterior<M: Model + Sync + ?Sized>(
        model: &M,
        posterior: &Posterior,
        seed: u64,
    ) -> Result<Posterior> {
        check_draws_of(model, posterior)?;
        let columns = posterior.names().len().max(1);
        let num_draws: Vec<usize> = posterior
            .chains()
            .iter()
            .map(|c| c.values.len() / columns)
            .collect();
        let fixed = |chain: usize, draw: usize| {
            posterior.chains()[chain]
                .values
                .get(draw * columns..(draw + 1) * columns)
        };
        gather(model, seed, &num_draws, fixed, posterior.adapted())
    }
}

/// The log-density of every observed value at every draw of a posterior.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLikelihood {
    /// The observations' names (`"y[3]"`).
    pub names: Vec<String>,
    /// `values[chain][draw][observation]`.
    pub values: Vec<Vec<Vec<f64>>>,
    /// The relative efficiency of the draws, as ArviZ computes it for LOO: the mean
    /// over the posterior's components of `ess_mean / number of draws`.
    pub r_eff: f64,
}

impl LogLikelihood {
    /// PSIS-LOO (Vehtari, Gelman & Gabry 2017) of these values.
    ///
    /// # Panics
    /// When the public fields were changed to unequal shapes or emptied (what
    /// [`log_likelihood`] returns always fits), as [`crate::loo::psis_loo`].
    pub fn loo(&self) -> crate::loo::Loo {
        crate::loo::psis_loo(&self.values, self.r_eff)
    }

    /// WAIC of these values.
    ///
    /// # Panics
    /// As [`loo`](Self::loo).
    pub fn waic(&self) -> crate::loo::Waic {
        crate::loo::waic(&self.values)
    }
}

/// The pointwise log-likelihood of `model` at every draw of `posterior`, for PSIS-LOO
/// and WAIC: `log_likelihood(&model, &posterior)?.loo()`.
///
/// # Errors
/// A data fault of the model ([`Model::check`], as [`Predictive`] runs it),
/// [`Error::InvalidConfig`] when `posterior` does not come from this model, has no
/// draws or the model has no observed sites, or a structural fault of the model.
pub fn log_likelihood<M: Model + Sync + ?Sized>(
    model: &M,
    posterior: &Posterior,
) -> Result<LogLikelihood> {
    check_draws_of(model, posterior)?;
    if posterior.num_draws() == 0 {
        return Err(Error::InvalidConfig(
            "the posterior has no draws, so there is no log-likelihood to compute".into(),
        ));
    }
    let columns = posterior.names().len().max(1);
    let per_chain: Vec<Vec<Vec<(String, f64)>>> = posterior
        .chains()
        .par_iter()
        .map(|c| {
            c.values
                .chunks(columns)
                .map(|row| model.pointwise_log_likelihood(row))
                .collect::<Result<_>>()
        })
        .collect::<Result<_>>()?;
    let names: Vec<String> = per_chain
        .iter()
        .flatten()
        .next()
        .map(|d| d.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return Err(Error::InvalidConfig(
            "the model has no observed sites, so it has no log-likelihood".into(),
        ));
    }
    let values = per_chain
        .into_iter()
        .map(|draws| {
            draws
                .into_iter()
                .map(|d| d.into_iter().map(|(_, v)| v).collect())
                .collect()
        })
        .collect();
    let num_draws = (posterior.num_draws() * posterior.num_chains()).max(1) as f64;
    let effs: Vec<f64> = posterior
        .names()
        .iter()
        .filter_map(|name| {
            let chains = posterior.draws_by_chain(name).ok()?;
            let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            let ess = crate::diagnostics::ess_mean(&refs);
            ess.is_finite().then_some(ess / num_draws)
        })
        .collect();
    let r_eff = if effs.is_empty() {
        1.0
    } else {
        effs.iter().sum::<f64>() / effs.len() as f64
    };
    Ok(LogLikelihood {
        names,
        values,
        r_eff,
    })
}

/// Checks the model's data and that `posterior`'s columns are the model's: what every
/// computation over a model's posterior draws needs first.
///
/// # Errors
/// A data fault of the model, or [`Error::InvalidConfig`] when the draws come from
/// another model.
pub(crate) fn check_draws_of<M: Model + ?Sized>(model: &M, posterior: &Posterior) -> Result<()> {
    model.check()?;
    if posterior.names() != model.layout().column_names() {
        return Err(Error::InvalidConfig(
            "the posterior's draws do not come from this model".into(),
        ));
    }
    Ok(())
}
