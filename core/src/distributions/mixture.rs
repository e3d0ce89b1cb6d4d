//! Finite mixtures of one scalar family.

use rand::{Rng, RngExt};

use super::{Continuous, Distribution, neg_inf};
use crate::math;
use crate::real::Real;
use crate::support::Support;

/// How far the weights may sum from 1 (Stan's simplex tolerance).
const SIMPLEX_TOLERANCE: f64 = 1e-8;

/// How many components are combined per fused node (a stack buffer of this size).
const CHUNK: usize = 8;

/// A finite mixture of scalar distributions of one family:
/// `f(x) = Σₖ wₖ fₖ(x)`.
///
/// The weights are a slice of model scalars (a latent [`Dirichlet`](super::Dirichlet)
/// site, say, or `[T::from(0.3), T::from(0.7)]` for fixed ones) and the components a
/// slice of distributions of one family. With continuous components the mixture is
/// [`Continuous`] and can be a latent site; its support is the first component's (all
/// must share it). With discrete components it can only be observed. `.iid(n)` and
/// `obs = &y` work as for any scalar distribution.
///
/// The log-density is computed without overflow and recorded as one node per eight
/// components ([`math::log_mix_k`]), without allocating. Stan's two-component
/// `log_mix(θ, λ₁, λ₂)` and the general `log_mix_k` are in [`math`].
///
/// # Density
/// ```text
/// ln f(x) = ln Σₖ wₖ exp(ln fₖ(x))
/// ```
/// with `w = weights` and `fₖ` the densities (or masses) of `components`.
///
/// # Parameters
/// As many weights as components (at least one), each non-negative and finite, summing
/// to 1 within 1e-8; otherwise the log-density is `-∞` and a draw is NaN.
///
/// # Example
/// ```
/// use tilde_core::{Distribution, Mixture, Normal};
///
/// let components = [Normal::new(-1.0, 0.5), Normal::new(2.0, 1.0)];
/// let weights = [0.3, 0.7];
/// let d = Mixture::new(&weights, &components);
/// let want = (0.3 * components[0].ln_pdf(0.4).exp() + 0.7 * components[1].ln_pdf(0.4).exp()).ln();
/// assert!((d.ln_pdf(0.4) - want).abs() < 1e-15);
/// ```
#[derive(Debug)]
pub struct Mixture<'a, T, D> {
    weights: &'a [T],
    components: &'a [D],
}

impl<T, D> Clone for Mixture<'_, T, D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, D> Copy for Mixture<'_, T, D> {}

impl<'a, T: Real, D: Distribution<Scalar = T>> Mixture<'a, T, D> {
    /// The mixture of `components` with `weights`.
    pub fn new(weights: &'a [T], components: &'a [D]) -> Self {
        Mixture {
            weights,
            components,
        }
    }

    /// The weights.
    pub fn weights(&self) -> &'a [T] {
        self.weights
    }

    /// The components.
    pub fn components(&self) -> &'a [D] {
        self.components
    }

    /// `true` when the weights are a simplex with one entry per component.
    fn has_valid_weights(&self) -> bool {
        let w = self.weights;
        w.len() == self.components.len()
            && !w.is_empty()
            && w.iter().all(|v| v.value() >= 0.0 && v.value().is_finite())
            && (w.iter().map(|v| v.value()).sum::<f64>() - 1.0).abs() <= SIMPLEX_TOLERANCE
    }

    /// `ln Σₖ wₖ e^{lp(componentₖ)}`, one fused node per `CHUNK` components.
    fn combine(&self, lp: impl Fn(&D) -> T) -> T {
        if !self.has_valid_weights() {
            return neg_inf();
        }
        let mut total: Option<T> = None;
        for (weights, components) in self
            .weights
            .chunks(CHUNK)
            .zip(self.components.chunks(CHUNK))
        {
            let mut lps = [T::from(0.0); CHUNK];
            for (slot, c) in lps.iter_mut().zip(components) {
                *slot = lp(c);
            }
            let part = math::log_mix_k(weights, &lps[..components.len()]);
            total = Some(match total {
                None => part,
                Some(t) => t.log_sum_exp(part),
            });
        }
        match total {
            Some(t) if !t.value().is_nan() => t,
            _ => neg_inf(),
        }
    }
}

impl<T: Real, D: Distribution<Scalar = T>> Distribution for Mixture<'_, T, D> {
    type Scalar = T;

    fn ln_pdf(&self, x: T) -> T {
        self.combine(|c| c.ln_pdf(x))
    }

    fn ln_pdf_obs(&self, x: f64) -> T {
        self.combine(|c| c.ln_pdf_obs(x))
    }

    /// The first component's support (`ℝ` for a mixture without components).
    fn support(&self) -> Support<T> {
        self.components
            .first()
            .map_or(Support::Real, |c| c.support())
    }
}

impl<T: Real, D: Continuous<Scalar = T>> Continuous for Mixture<'_, T, D> {}

impl<T: Real, D: Distribution<Scalar = T>> rand::distr::Distribution<f64> for Mixture<'_, T, D> {
    /// Picks component `k` with probability `wₖ`, then draws from it.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if !self.has_valid_weights() {
            return f64::NAN;
        }
        let u = rng.random::<f64>();
        let mut cumulative = 0.0;
        let last = self.components.len() - 1;
        for (k, (w, c)) in self.weights.iter().zip(self.components).enumerate() {
            cumulative += w.value();
            if u < cumulative || k == last {
                return c.sample(rng);
            }
        }
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::test_util::{central_fourth, check_moments};
    use crate::distributions::{Normal, Poisson};
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn matches_the_direct_sum() {
        let components: Vec<Normal> = (0..11)
            .map(|k| Normal::new(k as f64 - 5.0, 0.5 + 0.1 * k as f64))
            .collect();
        let weights: Vec<f64> = (1..=11).map(|k| k as f64 / 66.0).collect();
        let d = Mixture::new(&weights, &components);
        for x in [-7.0, 0.3, 4.0, 40.0] {
            let direct: f64 = weights
                .iter()
                .zip(&components)
                .map(|(w, c)| w * c.ln_pdf(x).exp())
                .sum::<f64>()
                .ln();
            let got = d.ln_pdf(x);
            assert!(
                (got - direct).abs() < 1e-13 * direct.abs().max(1.0),
                "{x}: {got} vs {direct}"
            );
            assert_eq!(got, d.ln_pdf_obs(x));
        }
        // far in the tail, where every density underflows, it stays finite
        assert!(d.ln_pdf(1e4).is_finite());
    }

    #[test]
    fn invalid_weights_give_minus_infinity() {
        let components = [Normal::new(0.0, 1.0), Normal::new(1.0, 1.0)];
        for weights in [
            [0.5, 0.6],
            [-0.1, 1.1],
            [f64::NAN, 1.0],
            [0.5, f64::INFINITY],
        ] {
            let d = Mixture::new(&weights, &components);
            assert_eq!(d.ln_pdf(0.0), f64::NEG_INFINITY, "{weights:?}");
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
            assert!(rand::distr::Distribution::sample(&d, &mut rng).is_nan());
        }
        let one = [1.0];
        assert_eq!(
            Mixture::new(&one, &components).ln_pdf(0.0),
            f64::NEG_INFINITY
        );
        let none: [Normal; 0] = [];
        let empty: [f64; 0] = [];
        assert_eq!(Mixture::new(&empty, &none).ln_pdf(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn discrete_components() {
        // a two-component Poisson mixture at k = 3
        let components = [Poisson::new(1.0), Poisson::new(6.0)];
        let weights = [0.4, 0.6];
        let d = Mixture::new(&weights, &components);
        let p = |mu: f64| (-mu).exp() * mu.powi(3) / 6.0;
        assert!((d.ln_pdf_obs(3.0) - (0.4 * p(1.0) + 0.6 * p(6.0)).ln()).abs() < 1e-15);
        assert!(d.support().is_discrete());
    }

    #[test]
    fn sampling_moments() {
        // 0.3 N(-1, 0.5²) + 0.7 N(2, 1): mean 1.1; raw moments from the components'
        let (w, m, s) = ([0.3, 0.7], [-1.0, 2.0], [0.5, 1.0]);
        let raw = |k: usize| -> f64 {
            (0..2)
                .map(|c| {
                    let (mu, v) = (m[c], s[c] * s[c]);
                    w[c] * match k {
                        1 => mu,
                        2 => mu * mu + v,
                        3 => mu.powi(3) + 3.0 * mu * v,
                        _ => mu.powi(4) + 6.0 * mu * mu * v + 3.0 * v * v,
                    }
                })
                .sum()
        };
        let mean = raw(1);
        let var = raw(2) - mean * mean;
        let components = [Normal::new(m[0], s[0]), Normal::new(m[1], s[1])];
        let d = Mixture::new(&w, &components);
        check_moments(
            &d,
            mean,
            var,
            central_fourth([raw(1), raw(2), raw(3), raw(4)]),
            43,
        );
    }
}
