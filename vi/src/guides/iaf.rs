//! A normalising-flow guide: inverse autoregressive flows (Kingma et al. 2016) on masked
//! autoregressive networks (MADE, Germain et al. 2015).

use nalgebra::{DMatrixView, DMatrixViewMut, DVectorView, DVectorViewMut};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tilde_core::{Error, Layout, Result, try_buffer};

use crate::guide::{Guide, check_scale, inverse_softplus, sigmoid, softplus, standard_normal};

/// The range NumPyro clips an IAF's log-scale to; outside it the scale is constant.
const LOG_SCALE_MIN: f64 = -5.0;
const LOG_SCALE_MAX: f64 = 3.0;

/// An inverse autoregressive flow guide (NumPyro's `AutoIAFNormal`):
/// `ε ~ N(0, I)` passes through `K` flows `yᵢ = mᵢ(x_{<i}) + exp(sᵢ(x_{<i})) · xᵢ`,
/// whose `m` and `s` come from a masked one-hidden-layer tanh network (the order of the
/// coordinates reversed from one flow to the next), then through an affine map
/// `z = loc + softplus(ρ) ⊙ y` started at the initial point with scale 0.1.
///
/// `log q(z) = log N(ε) − Σₖ Σᵢ sₖᵢ − Σᵢ ln softplus(ρᵢ)`. The flows start as the
/// identity, so the guide starts as [`AutoDiagonalNormal`](crate::AutoDiagonalNormal)
/// and learns non-Gaussian shapes (skew, curved ridges) from there. Log-scales are
/// clipped to `[−5, 3]` as in NumPyro.
#[doc(alias = "AutoIAFNormal")]
#[derive(Clone, Debug)]
pub struct AutoIafNormal {
    num_flows: usize,
    hidden: Option<usize>,
    init_scale: f64,
    seed: u64,
    coords: Vec<usize>,
    params: Vec<f64>,
    /// Per flow: `[mask of W1 (h × n), mask of W2 and W3 (n × h)]`, column-major.
    masks: Vec<(Vec<f64>, Vec<f64>)>,
    /// The flows' inputs and the final output: `(K + 1) × n`.
    xs: Vec<f64>,
    /// The hidden activations, `K × h`.
    hs: Vec<f64>,
    /// The raw log-scales, `K × n`.
    ss: Vec<f64>,
    /// Backward buffers: `dy`, `ds` (n) and `dh` (h).
    dy: Vec<f64>,
    ds: Vec<f64>,
    dh: Vec<f64>,
}

impl Default for AutoIafNormal {
    fn default() -> Self {
        AutoIafNormal::new()
    }
}

impl AutoIafNormal {
    /// Three flows, a hidden layer of width `max(2n, 8)`, initial scale 0.1.
    pub fn new() -> Self {
        AutoIafNormal {
            num_flows: 3,
            hidden: None,
            init_scale: 0.1,
            seed: 0,
            coords: Vec::new(),
            params: Vec::new(),
            masks: Vec::new(),
            xs: Vec::new(),
            hs: Vec::new(),
            ss: Vec::new(),
            dy: Vec::new(),
            ds: Vec::new(),
            dh: Vec::new(),
        }
    }

    /// The number of flows.
    pub fn num_flows(mut self, k: usize) -> Self {
        self.num_flows = k;
        self
    }

    /// The width of each network's hidden layer.
    pub fn hidden_dim(mut self, h: usize) -> Self {
        self.hidden = Some(h);
        self
    }

    /// The initial scale of the final affine map.
    pub fn init_scale(mut self, scale: f64) -> Self {
        self.init_scale = scale;
        self
    }

    /// The seed of the networks' random initial weights.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn n(&self) -> usize {
        self.coords.len()
    }

    fn h(&self) -> usize {
        self.dh.len()
    }

    /// The number of parameters of one flow's network.
    fn flow_len(&self) -> usize {
        let (n, h) = (self.n(), self.h());
        h * n + h + 2 * (n * h + n)
    }
}

/// The offsets of one flow's `W1, b1, W2, b2, W3, b3` in its parameter block.
fn layout_of(n: usize, h: usize) -> [usize; 6] {
    let w1 = 0;
    let b1 = w1 + h * n;
    let w2 = b1 + h;
    let b2 = w2 + n * h;
    let w3 = b2 + n;
    let b3 = w3 + n * h;
    [w1, b1, w2, b2, w3, b3]
}

impl Guide for AutoIafNormal {
    fn name(&self) -> &'static str {
        "AutoIAFNormal"
    }

    fn setup(&mut self, _layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        check_scale("AutoIAFNormal", self.init_scale)?;
        let n = coords.len();
        let h = self.hidden.unwrap_or((2 * n).max(8));
        if self.num_flows == 0 || h == 0 {
            return Err(Error::InvalidConfig(
                "AutoIAFNormal needs at least one flow and one hidden unit".into(),
            ));
        }
        let k = self.num_flows;
        // parameters and masks, `5hn + h + 2n` numbers a flow, must fit in memory: an
        // error, not an overflow or an abort, for a huge `num_flows` or `hidden_dim`
        let per_flow = h
            .checked_mul(n)
            .and_then(|hn| hn.checked_mul(5))
            .and_then(|v| v.checked_add(h))
            .and_then(|v| v.checked_add(2 * n))
            .ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "AutoIAFNormal: hidden_dim = {h} overflows the size of a flow over {n} coordinates"
                ))
            })?;
        drop(try_buffer::<f64>(k, per_flow, "AutoIAFNormal num_flows")?);
        self.coords = coords.to_vec();
        self.dh = vec![0.0; h];
        self.dy = vec![0.0; n];
        self.ds = vec![0.0; n];
        self.xs = vec![0.0; (k + 1) * n];
        self.hs = vec![0.0; k * h];
        self.ss = vec![0.0; k * n];
        let flow_len = self.flow_len();
        self.params = vec![0.0; k * flow_len + 2 * n];
        self.masks.clear();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let [w1, ..] = layout_of(n, h);
        let hidden_degree = |j: usize| j % n.saturating_sub(1).max(1) + 1;
        for flow in 0..k {
            let degree = |i: usize| if flow % 2 == 0 { i + 1 } else { n - i };
            let mut m1 = vec![0.0; h * n];
            let mut m2 = vec![0.0; n * h];
            for i in 0..n {
                for j in 0..h {
                    // column-major: (row j, column i) of the h × n matrix
                    m1[i * h + j] = f64::from(u8::from(hidden_degree(j) >= degree(i)));
                    m2[j * n + i] = f64::from(u8::from(degree(i) > hidden_degree(j)));
                }
            }
            let block = &mut self.params[flow * flow_len..];
            standard_normal(&mut rng, &mut block[w1..w1 + h * n]);
            let scale = 1.0 / (n as f64).sqrt();
            for (w, m) in block[w1..w1 + h * n].iter_mut().zip(&m1) {
                *w *= scale * m;
            }
            self.masks.push((m1, m2));
        }
        let affine = &mut self.params[k * flow_len..];
        for (i, &c) in coords.iter().enumerate() {
            affine[i] = start[c];
            affine[n + i] = inverse_softplus(self.init_scale);
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
        self.n()
    }

    fn sample(&mut self, noise: &[f64], z: &mut [f64]) -> f64 {
        let (n, h, k) = (self.n(), self.h(), self.num_flows);
        let flow_len = self.flow_len();
        let [w1, b1, w2, b2, w3, b3] = layout_of(n, h);
        // keep the autoregressive structure whatever the optimiser did to masked weights
        for (flow, (m1, m2)) in self.masks.iter().enumerate() {
            let p = &mut self.params[flow * flow_len..(flow + 1) * flow_len];
            p[w1..b1].iter_mut().zip(m1).for_each(|(w, m)| *w *= m);
            p[w2..b2].iter_mut().zip(m2).for_each(|(w, m)| *w *= m);
            p[w3..b3].iter_mut().zip(m2).for_each(|(w, m)| *w *= m);
        }
        self.xs[..n].copy_from_slice(noise);
        let mut log_q = -0.5 * noise.iter().map(|e| e * e).sum::<f64>()
            - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
        for flow in 0..k {
            let p = &self.params[flow * flow_len..(flow + 1) * flow_len];
            let (before, after) = self.xs.split_at_mut((flow + 1) * n);
            let x = DVectorView::from_slice(&before[flow * n..], n);
            let y = &mut after[..n];
            let mut hidden = DVectorViewMut::from_slice(&mut self.hs[flow * h..(flow + 1) * h], h);
            hidden.copy_from_slice(&p[b1..b1 + h]);
            hidden.gemv(1.0, &DMatrixView::from_slice(&p[w1..b1], h, n), &x, 1.0);
            hidden.apply(|v| *v = v.tanh());
            let mut shift = DVectorViewMut::from_slice(y, n);
            shift.copy_from_slice(&p[b2..b2 + n]);
            shift.gemv(
                1.0,
                &DMatrixView::from_slice(&p[w2..b2], n, h),
                &hidden,
                1.0,
            );
            let mut s = DVectorViewMut::from_slice(&mut self.ss[flow * n..(flow + 1) * n], n);
            s.copy_from_slice(&p[b3..b3 + n]);
            s.gemv(
                1.0,
                &DMatrixView::from_slice(&p[w3..b3], n, h),
                &hidden,
                1.0,
            );
            for i in 0..n {
                let log_scale = s[i].clamp(LOG_SCALE_MIN, LOG_SCALE_MAX);
                y[i] += log_scale.exp() * x[i];
                log_q -= log_scale;
            }
        }
        let affine = &self.params[k * flow_len..];
        let u = &self.xs[k * n..];
        for (i, &c) in self.coords.iter().enumerate() {
            let scale = softplus(affine[n + i]);
            z[c] = affine[i] + scale * u[i];
            log_q -= scale.ln();
        }
        log_q
    }

    fn backward(&mut self, _noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
        let (n, h, k) = (self.n(), self.h(), self.num_flows);
        let flow_len = self.flow_len();
        let [w1, b1, w2, b2, w3, b3] = layout_of(n, h);
        let affine = &self.params[k * flow_len..];
        let (g_flows, g_affine) = grad.split_at_mut(k * flow_len);
        let u = &self.xs[k * n..];
        for (i, &c) in self.coords.iter().enumerate() {
            let rho = affine[n + i];
            let scale = softplus(rho);
            g_affine[i] += grad_z[c];
            g_affine[n + i] += sigmoid(rho) * (grad_z[c] * u[i] + 1.0 / scale);
            self.dy[i] = grad_z[c] * scale;
        }
        for flow in (0..k).rev() {
            let p = &self.params[flow * flow_len..(flow + 1) * flow_len];
            let g = &mut g_flows[flow * flow_len..(flow + 1) * flow_len];
            let (m1, m2) = &self.masks[flow];
            let x = &self.xs[flow * n..(flow + 1) * n];
            let s = &self.ss[flow * n..(flow + 1) * n];
            let hidden = DVectorView::from_slice(&self.hs[flow * h..(flow + 1) * h], h);
            for i in 0..n {
                let inside = s[i] > LOG_SCALE_MIN && s[i] < LOG_SCALE_MAX;
                let log_scale = s[i].clamp(LOG_SCALE_MIN, LOG_SCALE_MAX);
                // y = m + e^s x and the ELBO's + Σ s
                self.ds[i] = if inside {
                    self.dy[i] * x[i] * log_scale.exp() + 1.0
                } else {
                    0.0
                };
            }
            let dm = DVectorView::from_slice(&self.dy, n);
            let ds = DVectorView::from_slice(&self.ds, n);
            for i in 0..n {
                g[b2 + i] += dm[i];
                g[b3 + i] += ds[i];
            }
            let mut g_w2 = DMatrixViewMut::from_slice(&mut g[w2..b2], n, h);
            g_w2.ger(1.0, &dm, &hidden, 1.0);
            g_w2.component_mul_assign(&DMatrixView::from_slice(m2, n, h));
            let mut g_w3 = DMatrixViewMut::from_slice(&mut g[w3..b3], n, h);
            g_w3.ger(1.0, &ds, &hidden, 1.0);
            g_w3.component_mul_assign(&DMatrixView::from_slice(m2, n, h));
            let mut dh = DVectorViewMut::from_slice(&mut self.dh, h);
            dh.gemv_tr(1.0, &DMatrixView::from_slice(&p[w2..b2], n, h), &dm, 0.0);
            dh.gemv_tr(1.0, &DMatrixView::from_slice(&p[w3..b3], n, h), &ds, 1.0);
            dh.zip_apply(&hidden, |d, a| *d *= 1.0 - a * a);
            for j in 0..h {
                g[b1 + j] += dh[j];
            }
            let xv = DVectorView::from_slice(x, n);
            let mut g_w1 = DMatrixViewMut::from_slice(&mut g[w1..b1], h, n);
            g_w1.ger(1.0, &dh, &xv, 1.0);
            g_w1.component_mul_assign(&DMatrixView::from_slice(m1, h, n));
            // dx = dy ⊙ e^s + W1ᵀ dh, written over dy
            for (d, s) in self.dy.iter_mut().zip(s) {
                *d *= s.clamp(LOG_SCALE_MIN, LOG_SCALE_MAX).exp();
            }
            let mut dx = DVectorViewMut::from_slice(&mut self.dy, n);
            dx.gemv_tr(1.0, &DMatrixView::from_slice(&p[w1..b1], h, n), &dh, 1.0);
        }
    }

    fn coords(&self) -> &[usize] {
        &self.coords
    }

    fn clone_box(&self) -> Box<dyn Guide> {
        Box::new(self.clone())
    }
}
