//! The multinomial distribution over count vectors.

use std::cell::RefCell;

use rand::Rng;
use rand_distr::Distribution as _;

use super::categorical::SIMPLEX_TOLERANCE;
use super::{VectorDistribution, neg_inf};
use crate::bijectors::VectorBijector;
use crate::context::with_scratch;
use crate::real::Real;
use crate::special;
use crate::support::Support;
use crate::vector::VectorExpr;

thread_local! {
    pub(crate) static MULTINOMIAL_PARTIALS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// The multinomial distribution: the counts of `K` outcomes in `n` independent draws
/// with probabilities `p`.
///
/// The probabilities are a [vector expression](crate::vector) of length `K`: data
/// (`vector::data(&p)`) or model scalars (`vector::params(p)`, a latent Dirichlet say).
/// It is discrete, so it can only be observed, with a slice of `K` counts
/// (`obs = &counts`); a latent `sample!` of it does not compile.
///
/// # Density
/// ```text
/// ln P(x) = ln n! - Σᵢ ln xᵢ! + Σᵢ xᵢ ln pᵢ
/// ```
/// with `xᵢ` the counts (non-negative integers summing to `n`) and `p` the probabilities.
///
/// # Parameters
/// Every `pᵢ ≥ 0` and `|Σᵢ pᵢ - 1| ≤ 1e-8`; otherwise, or for counts that are not
/// non-negative integers summing to `n`, the log-mass is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Multinomial, VectorDistribution};
/// use tilde_core::vector::data;
///
/// let p = [0.2, 0.5, 0.3];
/// let d = Multinomial::<f64, _>::new(4, data(&p));
/// // scipy.stats.multinomial(4, [0.2, 0.5, 0.3]).logpmf([1, 2, 1])
/// assert!((d.ln_pdf_obs(&[1.0, 2.0, 1.0]) - -1.714798428091926).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Multinomial<T, P> {
    num_trials: u64,
    probs: P,
    scalar: std::marker::PhantomData<T>,
}

impl<T: Real, P: VectorExpr<T>> Multinomial<T, P> {
    /// The multinomial distribution of `num_trials` draws with probabilities `probs`.
    ///
    /// # Panics
    /// When `probs` is a broadcast scalar.
    pub fn new(num_trials: u64, probs: P) -> Self {
        assert!(
            probs.len().is_some(),
            "Multinomial needs a vector of probabilities, not a broadcast scalar"
        );
        Multinomial {
            num_trials,
            probs,
            scalar: std::marker::PhantomData,
        }
    }

    /// `true` when the probabilities form a simplex.
    fn is_simplex(&self) -> bool {
        let mut total = 0.0;
        for i in 0..self.len() {
            let p = self.probs.at(i);
            if !(p >= 0.0 && p.is_finite()) {
                return false;
            }
            total += p;
        }
        (total - 1.0).abs() <= SIMPLEX_TOLERANCE
    }
}

impl<T: Real, P: VectorExpr<T>> VectorDistribution for Multinomial<T, P> {
    type Scalar = T;

    fn len(&self) -> usize {
        self.probs.len().unwrap_or(0)
    }

    /// Never used: a multinomial is only observed (`context.rs` implements no latent
    /// site for it).
    fn bijector(&self) -> VectorBijector {
        VectorBijector::Identity
    }

    fn support(&self) -> Support<f64> {
        Support::NonNegativeIntegers
    }

    /// The counts are integers and carry no partials.
    fn ln_pdf(&self, x: &[T]) -> T {
        let values: Vec<f64> = x.iter().map(|v| v.value()).collect();
        self.ln_pdf_obs(&values)
    }

    /// One node, with partials `xᵢ / pᵢ`.
    ///
    /// # Panics
    /// When `x.len()` is not `K`.
    fn ln_pdf_obs(&self, x: &[f64]) -> T {
        let k = self.len();
        assert_eq!(x.len(), k, "Multinomial::ln_pdf needs {k} counts");
        if !self.is_simplex() {
            return neg_inf();
        }
        let mut total = 0.0;
        let mut value = special::lgamma(self.num_trials as f64 + 1.0);
        for (i, &xi) in x.iter().enumerate() {
            if !(xi >= 0.0 && xi.is_finite() && xi.fract() == 0.0) {
                return neg_inf();
            }
            total += xi;
            value -= special::lgamma(xi + 1.0);
            if xi > 0.0 {
                value += xi * self.probs.at(i).ln();
            }
        }
        if total != self.num_trials as f64 || value == f64::NEG_INFINITY {
            return neg_inf();
        }
        if !T::TRACKS_DERIVATIVES {
            return T::from(value);
        }
        with_scratch(&MULTINOMIAL_PARTIALS, k, 0.0, |g| {
            for (i, gi) in g.iter_mut().enumerate() {
                *gi = if x[i] > 0.0 {
                    x[i] / self.probs.at(i)
                } else {
                    0.0
                };
            }
            let g: &[f64] = g;
            T::fused(value, self.probs.terms(g, 1.0))
        })
    }

    /// Counts through successive binomial draws; NaNs when the probabilities are not a
    /// simplex.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let k = self.len();
        if !self.is_simplex() {
            return vec![f64::NAN; k];
        }
        let mut remaining_trials = self.num_trials;
        let mut remaining_mass: f64 = (0..k).map(|i| self.probs.at(i)).sum();
        let mut out = vec![0.0; k];
        for (i, slot) in out.iter_mut().enumerate() {
            let p = self.probs.at(i);
            let q = if i + 1 == k || remaining_mass <= 0.0 {
                1.0
            } else {
                (p / remaining_mass).clamp(0.0, 1.0)
            };
            let c = match rand_distr::Binomial::new(remaining_trials, q) {
                Ok(b) => b.sample(rng),
                Err(_) => return vec![f64::NAN; k],
            };
            *slot = c as f64;
            remaining_trials -= c;
            remaining_mass -= p;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::data;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn invalid_counts_and_parameters() {
        let p = [0.2, 0.8];
        let d = Multinomial::<f64, _>::new(3, data(&p));
        for x in [[1.0, 1.0], [-1.0, 4.0], [1.5, 1.5], [f64::NAN, 3.0]] {
            assert_eq!(d.ln_pdf_obs(&x), f64::NEG_INFINITY, "{x:?}");
        }
        // ln 3 + ln 0.2 + 2 ln 0.8
        let want = 3f64.ln() + 0.2f64.ln() + 2.0 * 0.8f64.ln();
        assert!((d.ln_pdf(&[1.0, 2.0]) - want).abs() < 1e-15);
        for bad in [[0.3, 0.8], [-0.1, 1.1], [f64::NAN, 1.0]] {
            let d = Multinomial::<f64, _>::new(3, data(&bad));
            assert_eq!(d.ln_pdf_obs(&[1.0, 2.0]), f64::NEG_INFINITY, "{bad:?}");
            assert!(d.draw(&mut Xoshiro256PlusPlus::seed_from_u64(1))[0].is_nan());
        }
        // a zero probability with a zero count
        let d = Multinomial::<f64, _>::new(2, data(&[0.0, 1.0]));
        assert_eq!(d.ln_pdf_obs(&[0.0, 2.0]), 0.0);
        assert_eq!(d.ln_pdf_obs(&[1.0, 1.0]), f64::NEG_INFINITY);
    }

    #[test]
    fn sampling_moments() {
        // E[xᵢ] = n pᵢ, Var[xᵢ] = n pᵢ (1 - pᵢ); every draw sums to n
        let p = [0.1, 0.45, 0.05, 0.4];
        let d = Multinomial::<f64, _>::new(20, data(&p));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let n = 50_000;
        let draws: Vec<Vec<f64>> = (0..n).map(|_| d.draw(&mut rng)).collect();
        assert!(draws.iter().all(|x| x.iter().sum::<f64>() == 20.0));
        for (i, &pi) in p.iter().enumerate() {
            let mean = draws.iter().map(|x| x[i]).sum::<f64>() / n as f64;
            let var = 20.0 * pi * (1.0 - pi);
            assert!(
                (mean - 20.0 * pi).abs() < 4.0 * (var / n as f64).sqrt(),
                "component {i}: {mean}"
            );
        }
    }
}
