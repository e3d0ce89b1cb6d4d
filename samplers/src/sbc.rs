//! Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018).
//!
//! Draw parameters from the prior and data from the model, fit the simulated data, and
//! rank each true parameter among its posterior draws. A correct sampler on a correct
//! model gives ranks uniform on `0..=L` (`L` posterior draws per fit); a bias or a
//! wrong log-density shows as a non-uniform histogram.

use rayon::prelude::*;
use tilde_core::{Draw, Error, Model, Result, special};

use crate::mcmc::first_error_in_order;
use crate::posterior::Posterior;
use crate::predictive::Predictive;

/// The ranks of a calibration run and a uniformity test per parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Sbc {
    /// The parameters checked.
    pub names: Vec<String>,
    /// `ranks[p][s]`: the rank of the true value of parameter `p` among the posterior
    /// draws of simulation `s`, in `0..=num_draws`.
    pub ranks: Vec<Vec<usize>>,
    /// Posterior draws per fit (`L`).
    pub num_draws: usize,
    /// Per parameter, the p-value of Pearson's χ² test of uniform ranks over
    /// `num_bins` equal bins.
    pub p_values: Vec<f64>,
    /// The number of bins of the χ² test.
    pub num_bins: usize,
}

/// Runs `num_simulations` calibration rounds of `model` for the scalar components
/// `params`. `fit(simulation, seed)` builds the model on the simulated data (read the
/// observed values from the [`Draw`] by name, e.g. `"y[3]"`) and returns its posterior;
/// every fit must return the same number of draws, ideally thinned to be nearly
/// independent. Rounds run in parallel; the result is reproducible for a seed.
///
/// # Errors
/// [`Error::InvalidConfig`] for fewer than 2 simulations, fits of unequal lengths or
/// fits without draws;
/// [`Error::UnknownName`] for a parameter the draws do not hold; any error of `fit`.
pub fn sbc<M, F>(
    model: &M,
    params: &[&str],
    num_simulations: usize,
    seed: u64,
    fit: F,
) -> Result<Sbc>
where
    M: Model + Sync + ?Sized,
    F: Fn(&Draw, u64) -> Result<Posterior> + Sync,
{
    if num_simulations < 2 {
        return Err(Error::InvalidConfig(
            "sbc needs at least 2 simulations".into(),
        ));
    }
    let prior = Predictive::prior(model, num_simulations, seed)?;
    let names = prior.names().to_vec();
    let columns: Vec<Vec<f64>> = names
        .iter()
        .map(|n| prior.draws(n))
        .collect::<Result<_>>()?;
    let fits: Vec<Result<(Vec<usize>, usize)>> = (0..num_simulations)
        .into_par_iter()
        .map(|s| {
            let simulation = Draw::new(names.clone(), columns.iter().map(|c| c[s]).collect());
            let posterior = fit(&simulation, seed.wrapping_add(1 + s as u64))?;
            let ranks = params
                .iter()
                .map(|p| {
                    let truth = simulation.try_get(p)?;
                    Ok(posterior.draws(p)?.iter().filter(|&&v| v < truth).count())
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((ranks, posterior.num_draws() * posterior.num_chains()))
        })
        .collect();
    let fits = first_error_in_order(fits)?;
    let num_draws = fits[0].1;
    if fits.iter().any(|(_, l)| *l != num_draws) {
        return Err(Error::InvalidConfig(
            "every fit must return the same number of draws".into(),
        ));
    }
    if num_draws == 0 {
        return Err(Error::InvalidConfig(
            "the fits returned no draws: sbc ranks each true value among its fit's \
             draws, so every fit needs at least one"
                .into(),
        ));
    }
    let ranks: Vec<Vec<usize>> = (0..params.len())
        .map(|p| fits.iter().map(|(r, _)| r[p]).collect())
        .collect();
    let num_bins = (num_draws + 1).min(num_simulations / 5).clamp(2, 20);
    let p_values = ranks
        .iter()
        .map(|r| uniformity_p_value(r, num_draws, num_bins))
        .collect();
    Ok(Sbc {
        names: params.iter().map(|s| s.to_string()).collect(),
        ranks,
        num_draws,
        p_values,
        num_bins,
    })
}

/// Pearson's χ² test that ranks in `0..=num_draws` are uniform, over `bins` bins of
/// equal width; the p-value is the upper tail of χ² with `bins - 1` degrees of freedom.
///
/// Ranks above `num_draws` count in the last bin. NaN when there are no ranks, no bins,
/// or more bins than possible ranks (`bins > num_draws + 1`, which leaves bins that no
/// rank can fall in).
pub fn uniformity_p_value(ranks: &[usize], num_draws: usize, bins: usize) -> f64 {
    // u128: `r * bins` and `num_draws + 1` cannot overflow
    let (num_ranks, bins_wide) = (u128::from(num_draws as u64) + 1, bins as u128);
    if ranks.is_empty() || bins == 0 || bins_wide > num_ranks {
        return f64::NAN;
    }
    let mut counts = vec![0.0; bins];
    for &r in ranks {
        let bin = (r as u128 * bins_wide / num_ranks).min(bins_wide - 1);
        counts[bin as usize] += 1.0;
    }
    let expected: Vec<f64> = (0..bins_wide)
        .map(|b| {
            // the ranks that fall in bin b, out of num_draws + 1 equally likely ones
            let lo = (b * num_ranks).div_ceil(bins_wide);
            let hi = ((b + 1) * num_ranks).div_ceil(bins_wide);
            ranks.len() as f64 * (hi - lo) as f64 / num_ranks as f64
        })
        .collect();
    let chi2: f64 = counts
        .iter()
        .zip(&expected)
        .map(|(o, e)| (o - e).powi(2) / e)
        .sum();
    upper_regularised_gamma(0.5 * (bins - 1) as f64, 0.5 * chi2)
}

/// `Q(a, x) = Γ(a, x) / Γ(a)`: the series of `P` below `x < a + 1`, Lentz's continued
/// fraction above (Numerical Recipes §6.2), to about 1e-14.
fn upper_regularised_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let ln_prefactor = a * x.ln() - x - special::lgamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * ln_prefactor.exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        ln_prefactor.exp() * h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_tail_matches_reference_values() {
        // scipy.stats.chi2.sf(x, df) = Q(df/2, x/2): sf(3, 2) = e^{-1.5}, sf(25, 19), sf(4, 9)
        assert!((upper_regularised_gamma(1.0, 1.5) - (-1.5f64).exp()).abs() < 1e-14);
        assert!((upper_regularised_gamma(9.5, 12.5) - 0.160_542_221_361_068_35).abs() < 1e-12);
        assert!((upper_regularised_gamma(4.5, 2.0) - 0.911_412_526_831_679_2).abs() < 1e-12);
    }

    #[test]
    fn uniform_and_skewed_ranks() {
        let uniform: Vec<usize> = (0..1000).map(|i| i % 101).collect();
        assert!(uniformity_p_value(&uniform, 100, 10) > 0.99);
        let skewed: Vec<usize> = (0..1000).map(|i| (i % 101) / 2).collect();
        assert!(uniformity_p_value(&skewed, 100, 10) < 1e-10);
    }
}
