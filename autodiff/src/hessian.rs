//! Second derivatives of a log-density: the Hessian and Hessian-vector products, by
//! central differences of the exact (automatic or hand-written) gradient.
//!
//! tilde's log-densities record vectorised terms as single nodes with first-order
//! analytic partials, so nested dual numbers would miss their curvature. Differencing
//! the exact gradient sees all of it; with the step `h = ε^{1/3}·max(1, |xᵢ|)` the
//! truncation error `O(h²)` and the rounding error `O(ε/h)` balance at about `1e-10`
//! relative to the gradient's scale. The result is symmetrised.

use tilde_core::LogDensity;

/// The step for coordinate value `x`: `ε^{1/3}·max(1, |x|)`.
fn step(x: f64) -> f64 {
    6.055_454_452_393_343e-6 * x.abs().max(1.0)
}

/// The Hessian of `density` at `x`, row-major `dim × dim`, symmetric; `2·dim` gradient
/// evaluations.
///
/// # Example
/// ```
/// use tilde_autodiff::hessian;
/// use tilde_core::LogDensity;
///
/// /// -(x² + 3xy + 4y²) / 2
/// struct Quadratic;
/// impl LogDensity for Quadratic {
///     fn dim(&self) -> usize { 2 }
///     fn logp(&self, x: &[f64]) -> f64 { -0.5 * (x[0] * x[0] + 3.0 * x[0] * x[1] + 4.0 * x[1] * x[1]) }
///     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
///         g[0] = -x[0] - 1.5 * x[1];
///         g[1] = -1.5 * x[0] - 4.0 * x[1];
///         self.logp(x)
///     }
/// }
/// let h = hessian(&Quadratic, &[0.3, -0.2]);
/// for (got, want) in h.iter().zip([-1.0, -1.5, -1.5, -4.0]) {
///     assert!((got - want).abs() < 1e-9);
/// }
/// ```
///
/// # Panics
/// When `x.len()` differs from the density's dimension.
pub fn hessian<L: LogDensity + ?Sized>(density: &L, x: &[f64]) -> Vec<f64> {
    let n = density.dim();
    assert_eq!(
        x.len(),
        n,
        "hessian: x has length {}, the dimension is {n}",
        x.len()
    );
    let mut h = vec![0.0; n * n];
    let (mut xp, mut gp, mut gm) = (x.to_vec(), vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        let step = step(x[j]);
        xp[j] = x[j] + step;
        density.logp_and_grad(&xp, &mut gp);
        xp[j] = x[j] - step;
        density.logp_and_grad(&xp, &mut gm);
        xp[j] = x[j];
        for i in 0..n {
            h[i * n + j] = (gp[i] - gm[i]) / (2.0 * step);
        }
    }
    for i in 0..n {
        for j in 0..i {
            let mean = 0.5 * (h[i * n + j] + h[j * n + i]);
            h[i * n + j] = mean;
            h[j * n + i] = mean;
        }
    }
    h
}

/// `H v`, the Hessian of `density` at `x` times `v`; two gradient evaluations.
///
/// # Panics
/// When `x` or `v` do not have the density's dimension.
pub fn hessian_vector_product<L: LogDensity + ?Sized>(
    density: &L,
    x: &[f64],
    v: &[f64],
) -> Vec<f64> {
    let n = density.dim();
    assert_eq!(
        x.len(),
        n,
        "hessian_vector_product: x has length {}, the dimension is {n}",
        x.len()
    );
    assert_eq!(
        v.len(),
        n,
        "hessian_vector_product: v has length {}, the dimension is {n}",
        v.len()
    );
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm == 0.0 {
        return vec![0.0; n];
    }
    let scale = x.iter().fold(1.0f64, |m, a| m.max(a.abs()));
    let step = 6.055_454_452_393_343e-6 * scale / norm;
    let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + step * b).collect();
    let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - step * b).collect();
    let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
    density.logp_and_grad(&xp, &mut gp);
    density.logp_and_grad(&xm, &mut gm);
    gp.iter()
        .zip(&gm)
        .map(|(a, b)| (a - b) / (2.0 * step))
        .collect()
}
