//! The metric of Hamiltonian Monte Carlo: the inverse mass matrix, diagonal or dense.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use tilde_core::{Error, Result};

/// The inverse mass matrix `M⁻¹`: kinetic energy `½ pᵀ M⁻¹ p`, momenta `p ~ N(0, M)`.
///
/// Adaptation sets it to an estimate of the posterior covariance in unconstrained space.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    /// A diagonal `M⁻¹`, given by its diagonal.
    Diagonal(Vec<f64>),
    /// A dense `M⁻¹`.
    Dense(DenseMetric),
}

/// A dense inverse mass matrix with its Cholesky factor.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseMetric {
    dim: usize,
    /// `M⁻¹`, row-major.
    inverse: Vec<f64>,
    /// Lower-triangular `L` with `M⁻¹ = L Lᵀ`, row-major.
    factor: Vec<f64>,
}

impl DenseMetric {
    /// The matrix `M⁻¹`, row-major.
    pub fn inverse_mass_matrix(&self) -> &[f64] {
        &self.inverse
    }
}

/// Lower Cholesky factor of a symmetric positive-definite row-major matrix.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 || s.is_infinite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

impl Metric {
    /// The identity: unit masses.
    pub fn unit(dim: usize) -> Self {
        Metric::Diagonal(vec![1.0; dim])
    }

    /// The dense identity.
    pub fn dense_unit(dim: usize) -> Self {
        let mut eye = vec![0.0; dim * dim];
        (0..dim).for_each(|i| eye[i * dim + i] = 1.0);
        Metric::Dense(DenseMetric {
            dim,
            factor: eye.clone(),
            inverse: eye,
        })
    }

    /// A diagonal metric; every entry must be positive and finite. (Spelling
    /// `Metric::Diagonal(v)` directly skips this check; a run checks again with
    /// [`Metric::validate`].)
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad entry.
    pub fn diagonal(inverse_mass: Vec<f64>) -> Result<Self> {
        if let Some((i, v)) = inverse_mass
            .iter()
            .enumerate()
            .find(|(_, v)| !(**v > 0.0 && v.is_finite()))
        {
            return Err(Error::InvalidConfig(format!(
                "inverse mass matrix entry {i} must be positive and finite, got {v}"
            )));
        }
        Ok(Metric::Diagonal(inverse_mass))
    }

    /// A dense metric from `M⁻¹` (row-major, `dim × dim`, symmetric positive-definite).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the matrix has the wrong size or is not
    /// positive-definite.
    pub fn dense(inverse_mass: Vec<f64>, dim: usize) -> Result<Self> {
        if dim.checked_mul(dim) != Some(inverse_mass.len()) {
            return Err(Error::InvalidConfig(format!(
                "a dense inverse mass matrix of dimension {dim} needs {dim}² entries, got {}",
                inverse_mass.len()
            )));
        }
        let factor = cholesky(&inverse_mass, dim).ok_or_else(|| {
            Error::InvalidConfig("the dense inverse mass matrix is not positive-definite".into())
        })?;
        Ok(Metric::Dense(DenseMetric {
            dim,
            inverse: inverse_mass,
            factor,
        }))
    }

    /// Checks a metric however it was built: [`Metric::Diagonal`] and [`DenseMetric`]
    /// can be spelled directly, so the driver calls this before using one. A diagonal
    /// needs positive, finite entries; a dense matrix finite entries and a positive
    /// Cholesky diagonal.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad entry.
    pub fn validate(&self) -> Result<()> {
        match self {
            Metric::Diagonal(d) => Metric::diagonal(d.clone()).map(|_| ()),
            Metric::Dense(m) => {
                let n = m.dim;
                let good_size = n
                    .checked_mul(n)
                    .is_some_and(|nn| m.inverse.len() == nn && m.factor.len() == nn);
                if !good_size {
                    return Err(Error::InvalidConfig(format!(
                        "a dense inverse mass matrix of dimension {n} has {} entries",
                        m.inverse.len()
                    )));
                }
                if let Some((i, v)) = m.inverse.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                    return Err(Error::InvalidConfig(format!(
                        "inverse mass matrix entry {i} must be finite, got {v}"
                    )));
                }
                if let Some(i) = (0..n).find(|&i| {
                    let d = m.factor[i * n + i];
                    !(d > 0.0 && d.is_finite())
                }) {
                    return Err(Error::InvalidConfig(format!(
                        "the dense inverse mass matrix is not positive-definite (pivot {i})"
                    )));
                }
                Ok(())
            }
        }
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        match self {
            Metric::Diagonal(d) => d.len(),
            Metric::Dense(m) => m.dim,
        }
    }

    /// The same covariance as a dense metric (`dense`) or as its diagonal.
    pub fn for_kernel(&self, dense: bool) -> Metric {
        match (self, dense) {
            (Metric::Diagonal(d), true) => {
                let n = d.len();
                let mut inverse = vec![0.0; n * n];
                let mut factor = vec![0.0; n * n];
                for (i, v) in d.iter().enumerate() {
                    inverse[i * n + i] = *v;
                    factor[i * n + i] = v.sqrt();
                }
                Metric::Dense(DenseMetric {
                    dim: n,
                    inverse,
                    factor,
                })
            }
            (Metric::Dense(m), false) => {
                Metric::Diagonal((0..m.dim).map(|i| m.inverse[i * m.dim + i]).collect())
            }
            _ => self.clone(),
        }
    }

    /// `v = M⁻¹ p`, the velocity.
    #[inline]
    pub fn velocity(&self, p: &[f64], v: &mut [f64]) {
        match self {
            Metric::Diagonal(d) => {
                for ((vi, pi), di) in v.iter_mut().zip(p).zip(d) {
                    *vi = pi * di;
                }
            }
            Metric::Dense(m) => {
                let n = m.dim;
                for (i, vi) in v.iter_mut().enumerate() {
                    let row = &m.inverse[i * n..(i + 1) * n];
                    *vi = row.iter().zip(p).map(|(a, b)| a * b).sum();
                }
            }
        }
    }

    /// `out = L u` with `L Lᵀ = M⁻¹` (for a diagonal `M⁻¹`, `√M⁻¹ᵢᵢ uᵢ`): maps a
    /// standard normal `u` to a draw of `N(0, M⁻¹)`, the proposal scale of
    /// random-walk and Barker kernels.
    pub fn scale(&self, u: &[f64], out: &mut [f64]) {
        match self {
            Metric::Diagonal(d) => {
                for ((o, ui), di) in out.iter_mut().zip(u).zip(d) {
                    *o = di.sqrt() * ui;
                }
            }
            Metric::Dense(m) => {
                let n = m.dim;
                for (i, o) in out.iter_mut().enumerate() {
                    let row = &m.factor[i * n..i * n + i + 1];
                    *o = row.iter().zip(u).map(|(a, b)| a * b).sum();
                }
            }
        }
    }

    /// `out = Lᵀ g`, the gradient `g` in the coordinates of [`scale`](Self::scale).
    pub fn scale_transpose(&self, g: &[f64], out: &mut [f64]) {
        match self {
            Metric::Diagonal(d) => {
                for ((o, gi), di) in out.iter_mut().zip(g).zip(d) {
                    *o = di.sqrt() * gi;
                }
            }
            Metric::Dense(m) => {
                let n = m.dim;
                for (j, o) in out.iter_mut().enumerate() {
                    *o = (j..n).map(|i| m.factor[i * n + j] * g[i]).sum();
                }
            }
        }
    }

    /// The diagonal of `M⁻¹`: the variances it stands for.
    pub fn variance(&self, i: usize) -> f64 {
        match self {
            Metric::Diagonal(d) => d[i],
            Metric::Dense(m) => m.inverse[i * m.dim + i],
        }
    }

    /// Draws `p ~ N(0, M)` into `p`.
    #[allow(clippy::needless_range_loop)]
    pub fn sample_momentum<R: Rng + ?Sized>(&self, rng: &mut R, p: &mut [f64]) {
        for pi in p.iter_mut() {
            *pi = StandardNormal.sample(rng);
        }
        match self {
            Metric::Diagonal(d) => {
                for (pi, di) in p.iter_mut().zip(d) {
                    *pi /= di.sqrt();
                }
            }
            Metric::Dense(m) => {
                // p = L⁻ᵀ z, so Cov(p) = (L Lᵀ)⁻¹ = M: back substitution on Lᵀ p = z
                let n = m.dim;
                for i in (0..n).rev() {
                    let mut s = p[i];
                    for k in i + 1..n {
                        s -= m.factor[k * n + i] * p[k];
                    }
                    p[i] = s / m.factor[i * n + i];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn dense_momenta_have_covariance_m() {
        // M⁻¹ = [[2, 0.6], [0.6, 0.5]]  →  M = (1/0.64) [[0.5, -0.6], [-0.6, 2]]
        let metric = Metric::dense(vec![2.0, 0.6, 0.6, 0.5], 2).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let n = 200_000;
        let (mut s00, mut s01, mut s11) = (0.0, 0.0, 0.0);
        let mut p = [0.0; 2];
        for _ in 0..n {
            metric.sample_momentum(&mut rng, &mut p);
            s00 += p[0] * p[0];
            s01 += p[0] * p[1];
            s11 += p[1] * p[1];
        }
        let want = [0.5 / 0.64, -0.6 / 0.64, 2.0 / 0.64];
        // standard error of a second moment of a normal: sqrt((σ_ii σ_jj + σ_ij²)/n)
        for (got, (w, se)) in [s00, s01, s11].iter().map(|s| s / n as f64).zip([
            (want[0], (2.0 * want[0] * want[0] / n as f64).sqrt()),
            (
                want[1],
                ((want[0] * want[2] + want[1] * want[1]) / n as f64).sqrt(),
            ),
            (want[2], (2.0 * want[2] * want[2] / n as f64).sqrt()),
        ]) {
            assert!((got - w).abs() < 4.0 * se, "{got} vs {w}");
        }
        let mut v = [0.0; 2];
        metric.velocity(&[1.0, 2.0], &mut v);
        assert_eq!(v, [3.2, 1.6]);
        // L = [[√2, 0], [0.6/√2, √(0.5 - 0.18)]]: L u and Lᵀ g by hand
        let (l00, l10, l11) = (2f64.sqrt(), 0.6 / 2f64.sqrt(), 0.32f64.sqrt());
        metric.scale(&[1.0, 2.0], &mut v);
        assert!((v[0] - l00).abs() < 1e-15 && (v[1] - (l10 + 2.0 * l11)).abs() < 1e-15);
        metric.scale_transpose(&[1.0, 2.0], &mut v);
        assert!((v[0] - (l00 + 2.0 * l10)).abs() < 1e-15 && (v[1] - 2.0 * l11).abs() < 1e-15);
    }

    #[test]
    fn bad_metrics_are_errors() {
        assert!(Metric::diagonal(vec![1.0, 0.0]).is_err());
        assert!(Metric::dense(vec![1.0, 2.0, 2.0, 1.0], 2).is_err());
        assert!(Metric::dense(vec![1.0; 3], 2).is_err());
    }
}
