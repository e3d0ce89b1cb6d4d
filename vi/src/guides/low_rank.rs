//! A Gaussian whose covariance is low-rank plus diagonal.

use tilde_core::{Error, Layout, Result};

use crate::guide::{
    Guide, HALF_LN_2PI_E, check_scale, gaussian_quantiles, inverse_softplus, sigmoid, softplus,
};

/// A Gaussian with covariance `W Wᵀ + diag(s²)`, `W` of rank `r`
/// (NumPyro's `AutoLowRankMultivariateNormal`):
/// `z = loc + W η + s ⊙ ε` with `η ~ N(0, I_r)`, `ε ~ N(0, I_n)`, `s = softplus(ρ)`.
/// Parameters: `[loc (n), W (n × r, row-major), ρ (n)]`.
///
/// Its entropy and gradient use the matrix determinant lemma and Woodbury's identity
/// with `C = I_r + Wᵀ diag(s⁻²) W`, so a step costs `O(n r²)` rather than `O(n³)`.
#[derive(Clone, Debug)]
pub struct AutoLowRankMultivariateNormal {
    init_scale: f64,
    rank: Option<usize>,
    coords: Vec<usize>,
    params: Vec<f64>,
    /// `C` and then its Cholesky factor (`r × r`).
    c: Vec<f64>,
    /// `C⁻¹ wᵢ` for one row `wᵢ` of `W`.
    solved: Vec<f64>,
}

impl Default for AutoLowRankMultivariateNormal {
    fn default() -> Self {
        AutoLowRankMultivariateNormal::new()
    }
}

impl AutoLowRankMultivariateNormal {
    /// A low-rank guide with rank `⌈√n⌉` (NumPyro's default) and initial scale 0.1.
    pub fn new() -> Self {
        AutoLowRankMultivariateNormal {
            init_scale: 0.1,
            rank: None,
            coords: Vec::new(),
            params: Vec::new(),
            c: Vec::new(),
            solved: Vec::new(),
        }
    }

    /// The rank `r` of `W`.
    pub fn rank(mut self, rank: usize) -> Self {
        self.rank = Some(rank);
        self
    }

    /// The initial diagonal scale `s`.
    pub fn init_scale(mut self, scale: f64) -> Self {
        self.init_scale = scale;
        self
    }

    fn r(&self) -> usize {
        let n = self.coords.len();
        (self.params.len() - 2 * n).checked_div(n).unwrap_or(0)
    }

    /// The unconstrained location.
    pub fn loc(&self) -> &[f64] {
        &self.params[..self.coords.len()]
    }

    /// The covariance `W Wᵀ + diag(s²)`, row-major.
    pub fn covariance(&self) -> Vec<f64> {
        let (n, r) = (self.coords.len(), self.r());
        let w = &self.params[n..n + n * r];
        let rho = &self.params[n + n * r..];
        let mut cov = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                cov[i * n + j] = (0..r).map(|k| w[i * r + k] * w[j * r + k]).sum();
            }
            cov[i * n + i] += softplus(rho[i]).powi(2);
        }
        cov
    }

    /// Builds `C = I + Wᵀ diag(s⁻²) W` and factors it; returns `ln det C`.
    fn factor_c(&mut self) -> f64 {
        let (n, r) = (self.coords.len(), self.r());
        let w = &self.params[n..n + n * r];
        let rho = &self.params[n + n * r..];
        self.c.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            let inv_d = softplus(rho[i]).powi(-2);
            for a in 0..r {
                for b in 0..=a {
                    self.c[a * r + b] += inv_d * w[i * r + a] * w[i * r + b];
                }
            }
        }
        for a in 0..r {
            self.c[a * r + a] += 1.0;
            for b in 0..a {
                self.c[b * r + a] = self.c[a * r + b];
            }
        }
        // C ⪰ I is positive-definite whatever W is.
        tilde_core::linalg::cholesky(&mut self.c, r);
        2.0 * (0..r).map(|a| self.c[a * r + a].ln()).sum::<f64>()
    }
}

/// `out = C⁻¹ v` for `C = L Lᵀ` with its lower factor `l` (`r × r`, row-major).
fn solve_factored(l: &[f64], r: usize, v: &[f64], out: &mut [f64]) {
    for a in 0..r {
        let s: f64 = (0..a).map(|b| l[a * r + b] * out[b]).sum();
        out[a] = (v[a] - s) / l[a * r + a];
    }
    for a in (0..r).rev() {
        let s: f64 = (a + 1..r).map(|b| l[b * r + a] * out[b]).sum();
        out[a] = (out[a] - s) / l[a * r + a];
    }
}

impl Guide for AutoLowRankMultivariateNormal {
    fn name(&self) -> &'static str {
        "AutoLowRankMultivariateNormal"
    }

    fn setup(&mut self, _layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        check_scale("AutoLowRankMultivariateNormal", self.init_scale)?;
        let n = coords.len();
        let r = self
            .rank
            .unwrap_or_else(|| (n as f64).sqrt().ceil() as usize);
        if r == 0 || r > n.max(1) {
            return Err(Error::InvalidConfig(format!(
                "AutoLowRankMultivariateNormal: the rank must lie in 1..={n}, got {r}"
            )));
        }
        self.coords = coords.to_vec();
        self.params = coords.iter().map(|&c| start[c]).collect();
        self.params.resize(n + n * r, 0.0);
        self.params
            .extend(std::iter::repeat_n(inverse_softplus(self.init_scale), n));
        self.c = vec![0.0; r * r];
        self.solved = vec![0.0; r];
        Ok(())
    }

    fn params(&self) -> &[f64] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    fn noise_dim(&self) -> usize {
        self.r() + self.coords.len()
    }

    fn sample(&mut self, noise: &[f64], z: &mut [f64]) -> f64 {
        let (n, r) = (self.coords.len(), self.r());
        let ln_det_c = self.factor_c();
        let (eta, eps) = noise.split_at(r);
        let (loc, rest) = self.params.split_at(n);
        let (w, rho) = rest.split_at(n * r);
        let mut half_ln_det = 0.5 * ln_det_c;
        for (i, &c) in self.coords.iter().enumerate() {
            let s = softplus(rho[i]);
            let low: f64 = w[i * r..(i + 1) * r]
                .iter()
                .zip(eta)
                .map(|(w, e)| w * e)
                .sum();
            z[c] = loc[i] + low + s * eps[i];
            half_ln_det += s.ln();
        }
        -(half_ln_det + n as f64 * HALF_LN_2PI_E)
    }

    fn backward(&mut self, noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
        // `self.c` holds the factor of `C` from `sample` at the same parameters.
        let (n, r) = (self.coords.len(), self.r());
        let (eta, eps) = noise.split_at(r);
        let (w, rho) = self.params[n..].split_at(n * r);
        let (g_loc, g_rest) = grad.split_at_mut(n);
        let (g_w, g_rho) = g_rest.split_at_mut(n * r);
        for (i, &c) in self.coords.iter().enumerate() {
            let gz = grad_z[c];
            let s = softplus(rho[i]);
            let d = s * s;
            let w_i = &w[i * r..(i + 1) * r];
            g_loc[i] += gz;
            // the entropy's gradient: ∂(½ ln det Σ)/∂W = Σ⁻¹W, whose row i is C⁻¹wᵢ / dᵢ
            solve_factored(&self.c, r, w_i, &mut self.solved);
            for (k, g) in g_w[i * r..(i + 1) * r].iter_mut().enumerate() {
                *g += gz * eta[k] + self.solved[k] / d;
            }
            // (Σ⁻¹)ᵢᵢ = 1/dᵢ − wᵢ·C⁻¹wᵢ / dᵢ², and ∂(½ ln det Σ)/∂sᵢ = sᵢ (Σ⁻¹)ᵢᵢ
            let dot: f64 = w_i.iter().zip(&self.solved).map(|(a, b)| a * b).sum();
            let precision_ii = 1.0 / d - dot / (d * d);
            g_rho[i] += sigmoid(rho[i]) * (gz * eps[i] + s * precision_ii);
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
