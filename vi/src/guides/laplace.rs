//! The Laplace approximation: a Gaussian at the mode with the inverse Hessian as
//! covariance.

use nalgebra::DMatrix;
use tilde_core::{Error, Layout, LogDensity, Result};

use crate::guide::{Guide, HALF_LN_2PI_E, gaussian_quantiles};

/// The Laplace approximation (NumPyro's `AutoLaplaceApproximation`): fitted like
/// [`AutoDelta`](crate::AutoDelta) to the mode of the unconstrained log-density, then,
/// when the fit ends, given the covariance `(−∇² log p)⁻¹` at the mode. The Hessian is
/// the central difference of the exact gradient (`tilde_autodiff::hessian_vector_product`).
///
/// Draws, quantiles and [`covariance`](Self::covariance) use the Gaussian; during the
/// fit the guide is a point mass.
#[derive(Clone, Debug, Default)]
pub struct AutoLaplaceApproximation {
    coords: Vec<usize>,
    loc: Vec<f64>,
    /// `(covariance, its lower Cholesky factor)`, row-major, once fitted.
    gaussian: Option<(Vec<f64>, Vec<f64>)>,
}

impl AutoLaplaceApproximation {
    /// A Laplace-approximation guide.
    pub fn new() -> Self {
        AutoLaplaceApproximation::default()
    }

    /// The mode in unconstrained space.
    pub fn loc(&self) -> &[f64] {
        &self.loc
    }

    /// The covariance in unconstrained space, row-major, once the fit has ended.
    pub fn covariance(&self) -> Option<&[f64]> {
        self.gaussian.as_ref().map(|(cov, _)| cov.as_slice())
    }
}

/// The covariance `(−H)⁻¹` and its lower Cholesky factor for a Hessian `h` (row-major
/// `n × n`) of a log-density at its mode.
///
/// # Errors
/// [`Error::InvalidConfig`] when `−H` is not positive-definite (the point is not a
/// strict local maximum).
pub(crate) fn covariance_from_hessian(h: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let precision = DMatrix::from_fn(n, n, |i, j| -0.5 * (h[i * n + j] + h[j * n + i]));
    let not_max = || {
        Error::InvalidConfig(
            "the Hessian at the optimum is not negative-definite: the point is not a strict \
             local maximum of the log-density (a flat direction, a saddle or a boundary); \
             use another guide or reparameterise"
                .into(),
        )
    };
    let cov = precision.cholesky().ok_or_else(not_max)?.inverse();
    let factor = cov.clone().cholesky().ok_or_else(not_max)?.l();
    let row_major =
        |m: &DMatrix<f64>| -> Vec<f64> { (0..n * n).map(|k| m[(k / n, k % n)]).collect() };
    Ok((row_major(&cov), row_major(&factor)))
}

/// The Hessian of `density` at `at` restricted to `coords`, row-major, from central
/// differences of the exact gradient along each coordinate.
pub(crate) fn hessian_block(density: &dyn LogDensity, at: &[f64], coords: &[usize]) -> Vec<f64> {
    let n = coords.len();
    let mut h = vec![0.0; n * n];
    let mut v = vec![0.0; at.len()];
    for (j, &cj) in coords.iter().enumerate() {
        v[cj] = 1.0;
        let column = tilde_autodiff::hessian_vector_product(density, at, &v);
        v[cj] = 0.0;
        for (i, &ci) in coords.iter().enumerate() {
            h[i * n + j] = column[ci];
        }
    }
    h
}

impl Guide for AutoLaplaceApproximation {
    fn name(&self) -> &'static str {
        "AutoLaplaceApproximation"
    }

    fn setup(&mut self, _layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        self.coords = coords.to_vec();
        self.loc = coords.iter().map(|&c| start[c]).collect();
        self.gaussian = None;
        Ok(())
    }

    fn params(&self) -> &[f64] {
        &self.loc
    }

    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.loc
    }

    fn noise_dim(&self) -> usize {
        if self.gaussian.is_some() {
            self.loc.len()
        } else {
            0
        }
    }

    fn sample(&mut self, noise: &[f64], z: &mut [f64]) -> f64 {
        let n = self.loc.len();
        let Some((_, factor)) = &self.gaussian else {
            for (&c, &v) in self.coords.iter().zip(&self.loc) {
                z[c] = v;
            }
            return 0.0;
        };
        let mut entropy = 0.0;
        for (i, &c) in self.coords.iter().enumerate() {
            let row = &factor[i * n..i * n + i + 1];
            z[c] = self.loc[i] + row.iter().zip(noise).map(|(l, e)| l * e).sum::<f64>();
            entropy += row[i].ln() + HALF_LN_2PI_E;
        }
        -entropy
    }

    fn backward(&mut self, _noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
        for (g, &c) in grad.iter_mut().zip(&self.coords) {
            *g += grad_z[c];
        }
    }

    fn finish(&mut self, density: &dyn LogDensity, at: &[f64]) -> Result<()> {
        let h = hessian_block(density, at, &self.coords);
        self.gaussian = Some(covariance_from_hessian(&h, self.coords.len())?);
        Ok(())
    }

    fn marginal_quantiles(&mut self, qs: &[f64], out: &mut [Vec<f64>]) {
        let cov = self
            .gaussian
            .as_ref()
            .map_or(&[][..], |(cov, _)| cov.as_slice());
        gaussian_quantiles(&self.loc, cov, &self.coords, qs, out);
    }

    fn coords(&self) -> &[usize] {
        &self.coords
    }

    fn clone_box(&self) -> Box<dyn Guide> {
        Box::new(self.clone())
    }
}
