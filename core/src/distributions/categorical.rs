//! The categorical distribution over `{0, …, K - 1}`, by probabilities or by logits.

use std::cell::RefCell;

use rand::{Rng, RngExt};

use super::{Distribution, neg_inf};
use crate::context::with_scratch;
use crate::real::Real;
use crate::support::Support;
use crate::vector::VectorExpr;

/// How far the probabilities of a [`Categorical`] may sum from 1 (Stan's tolerance).
pub(crate) const SIMPLEX_TOLERANCE: f64 = 1e-8;

thread_local! {
    pub(crate) static CATEGORICAL_PARTIALS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// The categorical distribution: one of `K` outcomes `0, …, K - 1` (0-based, unlike
/// Stan's 1-based `categorical`).
///
/// The parameters are a [vector expression](crate::vector) of length `K`: data
/// (`vector::data(&p)`, read in place) or model scalars (`vector::params(p)`, a latent
/// Dirichlet say). It is discrete, so it can only be observed (an integer in
/// `0..K`, or an `.iid(n)` slice of them).
///
/// # Density
/// ```text
/// ln P(k) = ln pₖ                         (new)
/// ln P(k) = θₖ - ln Σⱼ exp(θⱼ)            (logits)
/// ```
/// with `p` the probabilities and `θ` the logits.
///
/// # Parameters
/// `new`: every `pⱼ ≥ 0` and `|Σⱼ pⱼ - 1| ≤ 1e-8`; `logits`: every `θⱼ` finite. Otherwise,
/// or for `k` outside `0..K` or not an integer, the log-mass is `-∞`.
///
/// # Example
/// ```
/// use tilde_core::{Categorical, Distribution};
/// use tilde_core::vector::data;
///
/// let p = [0.2, 0.5, 0.3];
/// let d = Categorical::<f64, _>::new(data(&p));
/// assert!((d.ln_pdf(1.0) - 0.5f64.ln()).abs() < 1e-15);
/// assert_eq!(d.ln_pdf(3.0), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Categorical<T, P> {
    param: P,
    is_logits: bool,
    scalar: std::marker::PhantomData<T>,
}

impl<T: Real, P: VectorExpr<T>> Categorical<T, P> {
    fn with(param: P, is_logits: bool) -> Self {
        assert!(
            param.len().is_some_and(|k| k > 0),
            "Categorical needs a vector of at least one probability or logit"
        );
        Categorical {
            param,
            is_logits,
            scalar: std::marker::PhantomData,
        }
    }

    /// A categorical distribution with probabilities `probs` (a simplex).
    ///
    /// # Panics
    /// When `probs` is a broadcast scalar or empty.
    pub fn new(probs: P) -> Self {
        Self::with(probs, false)
    }

    /// A categorical distribution with probabilities `softmax(logits)`.
    ///
    /// # Panics
    /// When `logits` is a broadcast scalar or empty.
    pub fn logits(logits: P) -> Self {
        Self::with(logits, true)
    }

    /// The number of outcomes `K`.
    pub fn num_categories(&self) -> usize {
        self.param.len().unwrap_or(0)
    }

    /// `ln Σⱼ exp(θⱼ)` of the logits, or `None` when one is not finite.
    fn ln_normaliser(&self) -> Option<f64> {
        let k = self.num_categories();
        let mut hi = f64::NEG_INFINITY;
        for j in 0..k {
            let t = self.param.at(j);
            if !t.is_finite() {
                return None;
            }
            hi = hi.max(t);
        }
        let s: f64 = (0..k).map(|j| (self.param.at(j) - hi).exp()).sum();
        Some(hi + s.ln())
    }

    /// `true` when the probabilities form a simplex.
    fn is_simplex(&self) -> bool {
        let k = self.num_categories();
        let mut total = 0.0;
        for j in 0..k {
            let p = self.param.at(j);
            if !(p >= 0.0 && p.is_finite()) {
                return false;
            }
            total += p;
        }
        (total - 1.0).abs() <= SIMPLEX_TOLERANCE
    }

    /// The log-mass of outcome `x` as one node.
    fn ln_mass(&self, x: f64) -> T {
        let k = self.num_categories();
        if !(x >= 0.0 && x < k as f64 && x.fract() == 0.0) {
            return neg_inf();
        }
        let idx = x as usize;
        let (value, normaliser) = if self.is_logits {
            match self.ln_normaliser() {
                Some(z) => (self.param.at(idx) - z, z),
                None => return neg_inf(),
            }
        } else {
            if !self.is_simplex() {
                return neg_inf();
            }
            (self.param.at(idx).ln(), 0.0)
        };
        if !T::TRACKS_DERIVATIVES || value == f64::NEG_INFINITY {
            return T::from(value);
        }
        with_scratch(&CATEGORICAL_PARTIALS, k, 0.0, |g| {
            if self.is_logits {
                // ∂/∂θⱼ = δⱼₖ - softmax(θ)ⱼ
                for (j, gj) in g.iter_mut().enumerate() {
                    *gj = -(self.param.at(j) - normaliser).exp();
                }
                g[idx] += 1.0;
            } else {
                g.fill(0.0);
                g[idx] = 1.0 / self.param.at(idx);
            }
            let g: &[f64] = g;
            T::fused(value, self.param.terms(g, 1.0))
        })
    }
}

impl<T: Real, P: VectorExpr<T>> Distribution for Categorical<T, P> {
    type Scalar = T;

    /// One node, with partials with respect to every probability or logit; the
    /// outcome itself is an integer and carries none.
    fn ln_pdf(&self, x: T) -> T {
        self.ln_mass(x.value())
    }

    fn ln_pdf_obs(&self, x: f64) -> T {
        self.ln_mass(x)
    }

    fn support(&self) -> Support<T> {
        Support::IntegersUpTo(self.num_categories().saturating_sub(1) as u64)
    }
}

impl<T: Real, P: VectorExpr<T>> rand::distr::Distribution<f64> for Categorical<T, P> {
    /// An outcome by inversion of the cumulative probabilities; NaN when the
    /// parameters are invalid.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let k = self.num_categories();
        let normaliser = if self.is_logits {
            match self.ln_normaliser() {
                Some(z) => z,
                None => return f64::NAN,
            }
        } else if self.is_simplex() {
            0.0
        } else {
            return f64::NAN;
        };
        let prob = |j: usize| {
            if self.is_logits {
                (self.param.at(j) - normaliser).exp()
            } else {
                self.param.at(j)
            }
        };
        let total: f64 = (0..k).map(prob).sum();
        let u = rng.random::<f64>() * total;
        let mut cumulative = 0.0;
        for j in 0..k {
            cumulative += prob(j);
            if u < cumulative {
                return j as f64;
            }
        }
        // rounding left u at the very top: the last outcome with positive mass
        (0..k).rev().find(|&j| prob(j) > 0.0).unwrap_or(k - 1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{data, params};
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn probabilities_and_logits_agree() {
        let logits = [0.3, -1.2, 2.0, 0.0];
        let z: f64 = logits.iter().map(|t: &f64| t.exp()).sum::<f64>().ln();
        let probs: Vec<f64> = logits.iter().map(|t| (t - z).exp()).collect();
        let a = Categorical::<f64, _>::logits(data(&logits));
        let b = Categorical::<f64, _>::new(params(&probs[..]));
        for (k, theta) in logits.iter().enumerate() {
            let (x, y) = (a.ln_pdf(k as f64), b.ln_pdf_obs(k as f64));
            assert!((x - y).abs() < 1e-14, "{k}: {x} vs {y}");
            assert!((x - (theta - z)).abs() < 1e-15);
        }
        assert_eq!(a.support(), Support::IntegersUpTo(3));
    }

    #[test]
    fn outside_the_support_and_invalid_parameters() {
        let p = [0.2, 0.8];
        let d = Categorical::<f64, _>::new(data(&p));
        for x in [-1.0, 2.0, 0.5, f64::NAN, f64::INFINITY] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "{x}");
        }
        for bad in [
            [0.2, 0.7],
            [-0.2, 1.2],
            [f64::NAN, 1.0],
            [0.5, f64::INFINITY],
        ] {
            let d = Categorical::<f64, _>::new(data(&bad));
            assert_eq!(d.ln_pdf(0.0), f64::NEG_INFINITY, "{bad:?}");
            assert!(rand::distr::Distribution::sample(&d, &mut rand::rng()).is_nan());
        }
        let d = Categorical::<f64, _>::logits(data(&[0.0, f64::NAN]));
        assert_eq!(d.ln_pdf(0.0), f64::NEG_INFINITY);
        // a zero probability
        let d = Categorical::<f64, _>::new(data(&[0.0, 1.0]));
        assert_eq!(d.ln_pdf(0.0), f64::NEG_INFINITY);
        assert_eq!(d.ln_pdf(1.0), 0.0);
    }

    #[test]
    fn sampling_frequencies() {
        let p = [0.1, 0.6, 0.3];
        let d = Categorical::<f64, _>::new(data(&p));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let n = 100_000;
        let mut counts = [0usize; 3];
        for _ in 0..n {
            counts[rand::distr::Distribution::sample(&d, &mut rng) as usize] += 1;
        }
        for (c, &pj) in counts.iter().zip(&p) {
            let sd = (n as f64 * pj * (1.0 - pj)).sqrt();
            assert!((*c as f64 - n as f64 * pj).abs() < 4.0 * sd, "{counts:?}");
        }
    }
}
