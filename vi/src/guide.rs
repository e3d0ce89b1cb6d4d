//! The interface every variational guide implements, and what the Gaussian guides share.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};
use tilde_core::math::std_normal_quantile;
use tilde_core::{Error, Layout, LogDensity, Real, Result};

/// A variational family over (part of) a model's unconstrained space, reparameterised
/// by standard-normal noise: `z = T_φ(ε)`, `ε ~ N(0, I)`.
///
/// [`Svi`](crate::Svi) maximises the evidence lower bound
/// `ELBO(φ) = E_ε[log p(T_φ(ε)) − log q_φ(T_φ(ε))]` with pathwise gradients: for each
/// particle it calls [`sample`](Self::sample), evaluates the model's gradient at `z`,
/// then [`backward`](Self::backward). A guide covers the coordinates `coords` given to
/// [`setup`](Self::setup) (all of them, or one block of an
/// [`AutoGuideList`](crate::AutoGuideList)); it reads and writes only those entries of
/// the full-length vectors it is handed. Guides hold their own buffers, so a step does
/// not allocate.
pub trait Guide: Send + Sync {
    /// The guide's name, for messages.
    fn name(&self) -> &'static str;

    /// Binds the guide to the unconstrained coordinates `coords` of a model with this
    /// layout and sizes its parameters, starting its location at `start` (a full-length
    /// unconstrained point with a finite log-density).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for settings that cannot work (a non-positive initial
    /// scale, a rank larger than the dimension).
    fn setup(&mut self, layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()>;

    /// The variational parameters `φ`, flat.
    fn params(&self) -> &[f64];

    /// The variational parameters, to be updated by an optimiser.
    fn params_mut(&mut self) -> &mut [f64];

    /// How many standard-normal numbers one draw uses.
    fn noise_dim(&self) -> usize;

    /// Writes `z = T_φ(noise)` into the guide's coordinates of `z` and returns its part
    /// of `log q(z)` (for Gaussian families the exact expectation `−entropy`, which
    /// lowers the variance of the ELBO estimate).
    fn sample(&mut self, noise: &[f64], z: &mut [f64]) -> f64;

    /// After [`sample`](Self::sample) with the same `noise`: adds to `grad` (length of
    /// [`params`](Self::params)) the gradient with respect to `φ` of
    /// `log p(z) − log q(z)`, given `grad_z = ∇ log p(z)` (full length).
    fn backward(&mut self, noise: &[f64], grad_z: &[f64], grad: &mut [f64]);

    /// Whether the objective includes the bijectors' log-Jacobians: `true` for
    /// distributions over the unconstrained space, `false` for a point mass, whose ELBO
    /// is then the log joint density of the constrained values (so that
    /// [`AutoDelta`](crate::AutoDelta) finds the maximum a posteriori estimate).
    fn jacobian(&self) -> bool {
        true
    }

    /// Called once the optimisation has ended, at the point `at` (full length, every
    /// guide's median): [`AutoLaplaceApproximation`](crate::AutoLaplaceApproximation)
    /// computes its Hessian here.
    ///
    /// # Errors
    /// A fault of the final computation (a Hessian that is not negative-definite).
    fn finish(&mut self, density: &dyn LogDensity, at: &[f64]) -> Result<()> {
        let _ = (density, at);
        Ok(())
    }

    /// Writes the marginal `q`-quantile of every coordinate of the guide into `out[k]`
    /// for `qs[k]`. The default estimates it from 4000 seeded draws; Gaussian guides
    /// override it with the exact value.
    fn marginal_quantiles(&mut self, qs: &[f64], out: &mut [Vec<f64>]) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
        let dim = out.first().map_or(0, Vec::len);
        let coords = self.coords().to_vec();
        let draws = 4000;
        let mut noise = vec![0.0; self.noise_dim()];
        let mut z = vec![0.0; dim];
        let mut columns = vec![Vec::with_capacity(draws); coords.len()];
        for _ in 0..draws {
            standard_normal(&mut rng, &mut noise);
            self.sample(&noise, &mut z);
            for (col, &c) in columns.iter_mut().zip(&coords) {
                col.push(z[c]);
            }
        }
        for (col, &c) in columns.iter_mut().zip(&coords) {
            col.sort_by(f64::total_cmp);
            for (q, row) in qs.iter().zip(out.iter_mut()) {
                let index = (q * (draws - 1) as f64).round() as usize;
                row[c] = col[index.min(draws - 1)];
            }
        }
    }

    /// The unconstrained coordinates the guide covers.
    fn coords(&self) -> &[usize];

    /// A boxed copy, so that guide lists can be cloned.
    fn clone_box(&self) -> Box<dyn Guide>;
}

/// Fills `out` with independent standard-normal numbers.
pub(crate) fn standard_normal<R: rand::Rng + ?Sized>(rng: &mut R, out: &mut [f64]) {
    out.iter_mut()
        .for_each(|v| *v = StandardNormal.sample(&mut *rng));
}

/// `ln(1 + eˣ)`, the map from a raw parameter to a positive scale.
#[inline]
pub(crate) fn softplus(x: f64) -> f64 {
    if x > 30.0 { x } else { x.exp().ln_1p() }
}

/// The inverse of [`softplus`].
pub(crate) fn inverse_softplus(s: f64) -> f64 {
    if s > 30.0 { s } else { s.exp_m1().ln() }
}

/// `1 / (1 + e⁻ˣ)`, the derivative of [`softplus`].
#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    x.inv_logit()
}

/// `½ ln(2π e)`, the entropy of a standard normal per dimension.
pub(crate) const HALF_LN_2PI_E: f64 = 1.418_938_533_204_672_7;

/// Writes the marginal quantiles of `N(loc, cov)` (`cov` row-major over the guide's
/// coordinates `coords`) into `out[k]` for `qs[k]`.
pub(crate) fn gaussian_quantiles(
    loc: &[f64],
    cov: &[f64],
    coords: &[usize],
    qs: &[f64],
    out: &mut [Vec<f64>],
) {
    let n = coords.len();
    for (q, row) in qs.iter().zip(out.iter_mut()) {
        let zq = std_normal_quantile(*q);
        for (i, &c) in coords.iter().enumerate() {
            row[c] = loc[i] + cov.get(i * n + i).map_or(0.0, |v| v.sqrt()) * zq;
        }
    }
}

/// Checks an initial scale.
pub(crate) fn check_scale(name: &str, scale: f64) -> Result<()> {
    if scale > 0.0 && scale.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "{name}: the initial scale must be positive and finite, got {scale}"
        )))
    }
}

/// A diagonal Gaussian `z = loc + softplus(ρ) ⊙ ε` over some coordinates: the engine of
/// [`AutoNormal`](crate::AutoNormal) and [`AutoDiagonalNormal`](crate::AutoDiagonalNormal).
///
/// Parameters: `[loc (n), ρ (n)]`.
#[derive(Clone, Debug, Default)]
pub(crate) struct DiagonalGaussian {
    pub coords: Vec<usize>,
    pub params: Vec<f64>,
}

impl DiagonalGaussian {
    pub fn setup(&mut self, coords: &[usize], start: &[f64], init_scale: f64) {
        let n = coords.len();
        self.coords = coords.to_vec();
        self.params = Vec::with_capacity(2 * n);
        self.params.extend(coords.iter().map(|&c| start[c]));
        self.params
            .extend(std::iter::repeat_n(inverse_softplus(init_scale), n));
    }

    pub fn loc(&self) -> &[f64] {
        &self.params[..self.coords.len()]
    }

    pub fn scale(&self, i: usize) -> f64 {
        softplus(self.params[self.coords.len() + i])
    }

    pub fn sample(&self, noise: &[f64], z: &mut [f64]) -> f64 {
        let n = self.coords.len();
        let mut entropy = 0.0;
        for (i, &c) in self.coords.iter().enumerate() {
            let scale = softplus(self.params[n + i]);
            z[c] = self.params[i] + scale * noise[i];
            entropy += scale.ln() + HALF_LN_2PI_E;
        }
        -entropy
    }

    pub fn backward(&self, noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
        let n = self.coords.len();
        for (i, &c) in self.coords.iter().enumerate() {
            let rho = self.params[n + i];
            grad[i] += grad_z[c];
            grad[n + i] += sigmoid(rho) * (grad_z[c] * noise[i] + 1.0 / softplus(rho));
        }
    }

    pub fn marginal_quantiles(&self, qs: &[f64], out: &mut [Vec<f64>]) {
        for (q, row) in qs.iter().zip(out.iter_mut()) {
            let zq = std_normal_quantile(*q);
            for (i, &c) in self.coords.iter().enumerate() {
                row[c] = self.params[i] + self.scale(i) * zq;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_round_trips() {
        for s in [1e-8, 0.1, 1.0, 25.0, 40.0] {
            assert!((softplus(inverse_softplus(s)) - s).abs() < 1e-12 * s.max(1.0));
        }
    }
}
