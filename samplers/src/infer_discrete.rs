//! Draws of enumerated sites after sampling, after NumPyro's `infer_discrete`.

use rayon::prelude::*;
use tilde_core::{Error, Model, Result};

use crate::posterior::{ChainDraws, Posterior};
use crate::predictive::draw_rng;

/// The posterior with a draw of every enumerated site (`sample!("z[{i}]", dist,
/// enumerate)`) added to each of its draws, after NumPyro's `infer_discrete`.
///
/// An enumerated site adds no coordinate to the sampled parameters: its value is summed
/// out. Given a draw of the parameters, each enumerated site is drawn from its
/// conditional distribution — probabilities `∝ exp` of the log-densities of its region's
/// branches — given the values already drawn for the enumerated sites whose region holds
/// it, so that the sites of one region (sequential enumerated sites, which nest) are
/// drawn jointly and exactly, and the sites of different regions (one per loop
/// iteration) independently, as they are given the parameters. The result has the
/// posterior's columns followed by the enumerated sites', named as written (`"z[3]"`:
/// `draws("z[3]")` gives its values, `1.0`/`0.0` for a `Bernoulli` site), and the
/// posterior's sampler statistics; the kept warm-up draws are not carried over. Draw `d`
/// of chain `c` uses an RNG seeded from `(seed, c, d)`: the result is reproducible
/// whatever the thread count.
///
/// ```text
/// let posterior = Mcmc::new(Nuts::default()).run(&model)?;
/// let with_z = tilde::samplers::infer_discrete(&model, &posterior, 7)?;
/// let z3 = with_z.draws("z[3]")?;
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] when `posterior` does not come from `model` or when an
/// enumerated site has no value of finite log-density at a draw;
/// [`Error::LayoutChanged`] when draws reach different enumerated sites; a data or
/// structural fault of the model.
pub fn infer_discrete<M: Model + Sync + ?Sized>(
    model: &M,
    posterior: &Posterior,
    seed: u64,
) -> Result<Posterior> {
    crate::predictive::check_draws_of(model, posterior)?;
    let columns = posterior.names().len();
    fn row(chain: &ChainDraws, draw: usize, columns: usize) -> &[f64] {
        &chain.values[draw * columns..(draw + 1) * columns]
    }
    let chains = posterior.chains();
    // the first draw names the enumerated sites
    let Some((first_chain, first)) = chains.iter().enumerate().find(|(_, c)| !c.stats.is_empty())
    else {
        return Ok(posterior.clone());
    };
    let names: Vec<String> = model
        .infer_discrete(&mut draw_rng(seed, first_chain, 0), row(first, 0, columns))?
        .names()
        .to_vec();
    let added = names.len();
    let width = columns + added;
    let values: Vec<Vec<f64>> = chains
        .par_iter()
        .enumerate()
        .map(|(c, chain)| {
            let num_draws = chain.stats.len();
            let mut out = tilde_core::try_buffer::<f64>(num_draws, width, "infer_discrete")?;
            out.resize(num_draws * width, f64::NAN);
            out.par_chunks_mut(width.max(1))
                .take(num_draws)
                .enumerate()
                .try_for_each(|(d, dest)| {
                    let source = row(chain, d, columns);
                    let drawn = model.infer_discrete(&mut draw_rng(seed, c, d), source)?;
                    if drawn.names() != names.as_slice() {
                        return Err(Error::LayoutChanged {
                            expected: added,
                            found: drawn.names().len(),
                            site: None,
                        });
                    }
                    dest[..columns].copy_from_slice(source);
                    dest[columns..].copy_from_slice(drawn.values());
                    Ok(())
                })?;
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let mut out = posterior.clone();
    out.names.extend(names);
    for (chain, values) in out.chains.iter_mut().zip(values) {
        chain.values = values;
        chain.warmup = Default::default();
    }
    Ok(out)
}
