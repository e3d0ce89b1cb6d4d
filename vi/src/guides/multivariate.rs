//! A full-rank Gaussian guide.

use tilde_core::{Layout, Result};

use crate::guide::{
    Guide, HALF_LN_2PI_E, check_scale, gaussian_quantiles, inverse_softplus, sigmoid, softplus,
};

/// A Gaussian with a full covariance (NumPyro's `AutoMultivariateNormal`):
/// `z = loc + L ε` with `L` lower-triangular, its diagonal `softplus(ρ)` > 0, so
/// `Cov = L Lᵀ`. Parameters: `[loc (n), the rows of L packed (n(n+1)/2)]`.
///
/// It captures correlations between coordinates: on a Gaussian posterior its optimum
/// is the posterior itself.
#[derive(Clone, Debug)]
pub struct AutoMultivariateNormal {
    init_scale: f64,
    coords: Vec<usize>,
    params: Vec<f64>,
}

impl Default for AutoMultivariateNormal {
    fn default() -> Self {
        AutoMultivariateNormal::new()
    }
}

/// Where entry `(i, j)`, `j ≤ i`, of a packed lower triangle lives.
#[inline]
pub(crate) fn packed(i: usize, j: usize) -> usize {
    i * (i + 1) / 2 + j
}

impl AutoMultivariateNormal {
    /// A full-rank Gaussian guide with initial `L = 0.1 I`.
    pub fn new() -> Self {
        AutoMultivariateNormal {
            init_scale: 0.1,
            coords: Vec::new(),
            params: Vec::new(),
        }
    }

    /// The initial scale: `L = init_scale · I`.
    pub fn init_scale(mut self, scale: f64) -> Self {
        self.init_scale = scale;
        self
    }

    /// The unconstrained location.
    pub fn loc(&self) -> &[f64] {
        &self.params[..self.coords.len()]
    }

    /// The covariance `L Lᵀ` in unconstrained space, row-major.
    pub fn covariance(&self) -> Vec<f64> {
        let n = self.coords.len();
        let l = self.factor();
        let mut cov = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v: f64 = (0..=j).map(|k| l[i * n + k] * l[j * n + k]).sum();
                cov[i * n + j] = v;
                cov[j * n + i] = v;
            }
        }
        cov
    }

    /// The lower Cholesky factor `L`, row-major `n × n`.
    pub fn factor(&self) -> Vec<f64> {
        let n = self.coords.len();
        let tri = &self.params[n..];
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..i {
                l[i * n + j] = tri[packed(i, j)];
            }
            l[i * n + i] = softplus(tri[packed(i, i)]);
        }
        l
    }
}

impl Guide for AutoMultivariateNormal {
    fn name(&self) -> &'static str {
        "AutoMultivariateNormal"
    }

    fn setup(&mut self, _layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        check_scale("AutoMultivariateNormal", self.init_scale)?;
        let n = coords.len();
        self.coords = coords.to_vec();
        self.params = coords.iter().map(|&c| start[c]).collect();
        self.params.resize(n + n * (n + 1) / 2, 0.0);
        let diag = inverse_softplus(self.init_scale);
        for i in 0..n {
            self.params[n + packed(i, i)] = diag;
        }
        Ok(())
    }

    fn params(&self) -> &[f64] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    fn noise_dim(&self) -> usize {
        self.coords.len()
    }

    fn sample(&mut self, noise: &[f64], z: &mut [f64]) -> f64 {
        let n = self.coords.len();
        let (loc, tri) = self.params.split_at(n);
        let mut entropy = 0.0;
        for (i, &c) in self.coords.iter().enumerate() {
            let row = &tri[packed(i, 0)..packed(i, i)];
            let diag = softplus(tri[packed(i, i)]);
            let off: f64 = row.iter().zip(noise).map(|(l, e)| l * e).sum();
            z[c] = loc[i] + off + diag * noise[i];
            entropy += diag.ln() + HALF_LN_2PI_E;
        }
        -entropy
    }

    fn backward(&mut self, noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
        let n = self.coords.len();
        let tri = &self.params[n..];
        let (g_loc, g_tri) = grad.split_at_mut(n);
        for (i, &c) in self.coords.iter().enumerate() {
            let gz = grad_z[c];
            g_loc[i] += gz;
            let start = packed(i, 0);
            for (g, e) in g_tri[start..start + i].iter_mut().zip(noise) {
                *g += gz * e;
            }
            let rho = tri[packed(i, i)];
            g_tri[packed(i, i)] += sigmoid(rho) * (gz * noise[i] + 1.0 / softplus(rho));
        }
    }

    fn marginal_quantiles(&mut self, qs: &[f64], out: &mut [Vec<f64>]) {
        let n = self.coords.len();
        gaussian_quantiles(&self.params[..n], &self.covariance(), &self.coords, qs, out);
    }

    fn coords(&self) -> &[usize] {
        &self.coords
    }

    fn clone_box(&self) -> Box<dyn Guide> {
        Box::new(self.clone())
    }
}
