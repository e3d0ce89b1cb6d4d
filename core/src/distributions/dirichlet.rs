//! The Dirichlet distribution on the simplex.

use rand::Rng;
use rand_distr::Distribution as _;

use super::{VectorDistribution, neg_inf};
use crate::bijectors::VectorBijector;
use crate::real::Real;
use crate::special;
use crate::support::Support;

/// The concentration of a [`Dirichlet`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum Concentration<'a, T> {
    Data(&'a [f64]),
    Symmetric(usize, T),
}

/// The Dirichlet distribution on the simplex `{x : xᵢ ≥ 0, Σ xᵢ = 1}` of dimension `K`.
///
/// A latent `sample!` of it returns a slice of `K` values on the simplex, from `K - 1`
/// unconstrained values through Stan's stick-breaking transform.
///
/// # Density
/// ```text
/// ln f(x) = ln Γ(Σᵢ αᵢ) - Σᵢ ln Γ(αᵢ) + Σᵢ (αᵢ - 1) ln xᵢ
/// ```
/// with `αᵢ` the concentration.
///
/// # Parameters
/// Every `αᵢ > 0` and finite; otherwise the log-density is `-∞`. `Dirichlet::symmetric(k, 1.0)`
/// is the uniform distribution on the simplex.
///
/// # Example
/// ```
/// use tilde_core::{Dirichlet, VectorDistribution};
///
/// let d: Dirichlet = Dirichlet::new(&[2.0, 3.0]);
/// // Beta(2, 3) at 0.4: ln(12 · 0.4 · 0.6²)
/// assert!((d.ln_pdf(&[0.4, 0.6]) - (12.0f64 * 0.4 * 0.36).ln()).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dirichlet<'a, T = f64> {
    alpha: Concentration<'a, T>,
}

impl<'a, T: Real> Dirichlet<'a, T> {
    /// A Dirichlet with concentrations given as data.
    pub fn new(alpha: &'a [f64]) -> Self {
        Dirichlet {
            alpha: Concentration::Data(alpha),
        }
    }

    /// A symmetric Dirichlet of dimension `k` with every concentration `alpha`.
    pub fn symmetric(k: usize, alpha: impl Into<T>) -> Self {
        Dirichlet {
            alpha: Concentration::Symmetric(k, alpha.into()),
        }
    }

    fn alpha_at(&self, i: usize) -> f64 {
        match self.alpha {
            Concentration::Data(a) => a[i],
            Concentration::Symmetric(_, a) => a.value(),
        }
    }
}

impl<T: Real> VectorDistribution for Dirichlet<'_, T> {
    type Scalar = T;

    fn len(&self) -> usize {
        match self.alpha {
            Concentration::Data(a) => a.len(),
            Concentration::Symmetric(k, _) => k,
        }
    }

    fn bijector(&self) -> VectorBijector {
        VectorBijector::Simplex
    }

    fn support(&self) -> Support<f64> {
        Support::Simplex
    }

    /// One node: `∂/∂xᵢ = (αᵢ - 1)/xᵢ`, and for a symmetric `α`,
    /// `∂/∂α = K ψ(Kα) - K ψ(α) + Σ ln xᵢ`.
    ///
    /// # Panics
    /// When `x.len()` is not `K`.
    fn ln_pdf(&self, x: &[T]) -> T {
        let k = self.len();
        assert_eq!(x.len(), k, "Dirichlet::ln_pdf needs {k} values");
        if (0..k).any(|i| !(self.alpha_at(i) > 0.0 && self.alpha_at(i).is_finite())) {
            return neg_inf();
        }
        if x.iter().any(|v| !(v.value() >= 0.0 && v.value() <= 1.0)) {
            return neg_inf();
        }
        let total: f64 = (0..k).map(|i| self.alpha_at(i)).sum();
        let mut value = special::lgamma(total);
        let mut sum_ln_x = 0.0;
        for (i, xi) in x.iter().enumerate() {
            let a = self.alpha_at(i);
            let ln_x = xi.value().ln();
            value += -special::lgamma(a) + if a == 1.0 { 0.0 } else { (a - 1.0) * ln_x };
            sum_ln_x += ln_x;
        }
        if value.is_nan() || value == f64::INFINITY {
            return neg_inf();
        }
        let alpha_term = match self.alpha {
            Concentration::Symmetric(_, a) => {
                let av = a.value();
                let kf = k as f64;
                Some((
                    a,
                    kf * special::digamma(kf * av) - kf * special::digamma(av) + sum_ln_x,
                ))
            }
            Concentration::Data(_) => None,
        };
        let x_terms = x.iter().enumerate().map(|(i, &xi)| {
            let a = self.alpha_at(i);
            (
                xi,
                if a == 1.0 {
                    0.0
                } else {
                    (a - 1.0) / xi.value()
                },
            )
        });
        T::fused(value, alpha_term.into_iter().chain(x_terms))
    }

    /// One draw, through normalised gamma variates; NaNs for invalid concentrations.
    fn draw(&self, rng: &mut dyn Rng) -> Vec<f64> {
        let k = self.len();
        let mut draws: Vec<f64> = (0..k)
            .map(|i| match rand_distr::Gamma::new(self.alpha_at(i), 1.0) {
                Ok(g) => g.sample(rng),
                Err(_) => f64::NAN,
            })
            .collect();
        let total: f64 = draws.iter().sum();
        draws.iter_mut().for_each(|v| *v /= total);
        draws
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::VectorDistribution;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn reference_values() {
        // scipy.stats.dirichlet([1.5, 2.0, 0.7]).logpdf([0.2, 0.5, 0.3]) = 0.7717963325849542
        let d: Dirichlet = Dirichlet::new(&[1.5, 2.0, 0.7]);
        assert!((d.ln_pdf(&[0.2, 0.5, 0.3]) - 0.771_796_332_584_954_2).abs() < 1e-13);
        // uniform on the 2-simplex: ln Γ(3) = ln 2
        let u: Dirichlet = Dirichlet::symmetric(3, 1.0);
        assert!((u.ln_pdf(&[0.1, 0.2, 0.7]) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(
            Dirichlet::<f64>::new(&[1.0, -1.0]).ln_pdf(&[0.5, 0.5]),
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn sampling_moments() {
        // E[xᵢ] = αᵢ / α₀, Var[xᵢ] = αᵢ(α₀ - αᵢ) / (α₀²(α₀ + 1))
        let alpha = [1.5, 2.0, 0.7];
        let d: Dirichlet = Dirichlet::new(&alpha);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let n = 100_000;
        let draws: Vec<Vec<f64>> = (0..n).map(|_| d.draw(&mut rng)).collect();
        let a0: f64 = alpha.iter().sum();
        for (i, &a) in alpha.iter().enumerate() {
            let mean = draws.iter().map(|x| x[i]).sum::<f64>() / n as f64;
            let var = a * (a0 - a) / (a0 * a0 * (a0 + 1.0));
            assert!(
                (mean - a / a0).abs() < 4.0 * (var / n as f64).sqrt(),
                "component {i}"
            );
        }
    }
}
