//! Resampling schemes of Sequential Monte Carlo.

use rand::{Rng, RngExt};

/// How particles are resampled by their weights (Douc, Cappé & Moulines 2005,
/// "Comparison of resampling schemes for particle filtering").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resampling {
    /// One uniform `u ~ U[0, 1)`: particle `i` is copied once for each of the points
    /// `(u + k) / N`, `k = 0, …, N − 1`, in its slice of the cumulative weights. Lower
    /// variance than multinomial resampling; BlackJAX's and PyMC's default.
    #[default]
    Systematic,
    /// `N` independent draws from the categorical distribution of the weights.
    Multinomial,
}

impl Resampling {
    /// The ancestors of `weights.len()` new particles (indices into `weights`, which
    /// sum to 1), in increasing order.
    pub(crate) fn resample<R: Rng + ?Sized>(&self, weights: &[f64], rng: &mut R) -> Vec<usize> {
        let n = weights.len();
        let mut points: Vec<f64> = match self {
            Resampling::Systematic => {
                let u = rng.random::<f64>();
                (0..n).map(|k| (u + k as f64) / n as f64).collect()
            }
            Resampling::Multinomial => {
                let mut p: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
                p.sort_by(f64::total_cmp);
                p
            }
        };
        let total: f64 = weights.iter().sum();
        points.iter_mut().for_each(|p| *p *= total);
        let mut ancestors = Vec::with_capacity(n);
        let mut cumulative = 0.0;
        let mut i = 0;
        // the last particle with a positive weight takes what rounding leaves over
        let last = weights.iter().rposition(|w| *w > 0.0).unwrap_or(0);
        for p in points {
            while i < last && cumulative + weights[i] <= p {
                cumulative += weights[i];
                i += 1;
            }
            ancestors.push(i);
        }
        ancestors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcmc::chain_rng;

    #[test]
    fn systematic_copies_each_particle_floor_or_ceil_of_n_w() {
        let weights = [0.05, 0.4, 0.0, 0.3, 0.25];
        let mut rng = chain_rng(3, 0);
        for _ in 0..100 {
            let a = Resampling::Systematic.resample(&weights, &mut rng);
            for (i, w) in weights.iter().enumerate() {
                let count = a.iter().filter(|&&j| j == i).count() as f64;
                let expected = 5.0 * w;
                assert!(
                    count >= expected.floor() && count <= expected.ceil(),
                    "{a:?}"
                );
            }
        }
    }

    #[test]
    fn multinomial_frequencies_follow_the_weights() {
        let weights = [0.1, 0.0, 0.6, 0.3];
        let mut rng = chain_rng(4, 0);
        let mut counts = [0.0; 4];
        let draws = 200;
        for _ in 0..draws {
            for j in Resampling::Multinomial.resample(&weights, &mut rng) {
                counts[j] += 1.0;
            }
        }
        let total = 4.0 * draws as f64;
        for (c, w) in counts.iter().zip(&weights) {
            // binomial sd of a frequency; 4 sd
            let sd = (w * (1.0 - w) / total).sqrt();
            assert!((c / total - w).abs() <= 4.0 * sd + 1e-12, "{counts:?}");
        }
        assert_eq!(counts[1], 0.0);
    }
}
