//! The low-rank + diagonal estimate of the inverse mass matrix from draws and their
//! gradients (Seyboldt, Carlson & Carpenter 2026, arXiv 2603.18845, section 3).

use nalgebra::{DMatrix, SymmetricEigen};

use crate::metric::Metric;

/// The diagonal + low-rank inverse mass matrix ([`Metric::LowRank`]) that minimises the
/// Fisher divergence to a Gaussian over the subspace the draws and gradients span:
///
/// 1. the diagonal `σᵢ² = sqrt(Var(xᵢ) / Var(gᵢ))` (population variances) rescales
///    each coordinate: `x̃ = (x − x̄) / σ`, `g̃ = (g − ḡ) · σ`;
/// 2. `Q`, an orthonormal basis of the span of the `x̃` and `g̃` (the whole space
///    when `2n ≥ dim`);
/// 3. in that basis `A = Cov(Qᵀx̃) + εI` and `B = Cov(Qᵀg̃) + εI`, `ε = 10⁻⁵ n`, and
///    their geometric mean `Σ = A # B⁻¹ = B^-½ (B^½ A B^½)^½ B^-½`, the covariance whose
///    Fisher divergence to the draws is smallest (for a Gaussian target `Cov(g) =
///    Cov(x)⁻¹`, so `Σ = Cov(x)` exactly);
/// 4. the eigenpairs of `Σ` with eigenvalues outside `[1/c, c]`
///    (`c = eigenvalue_cutoff`) update the diagonal, the others are left at 1.
///
/// `draws[k]` and `grads[k]` are the position and the gradient of draw `k`. `None`
/// when there are fewer than 3 draws, the lengths differ, a coordinate's variance of
/// draws or gradients is zero or not finite, or the eigen-decompositions fail: the
/// caller keeps its metric.
///
/// # Example
/// ```
/// use tilde_samplers::Metric;
/// use tilde_samplers::adaptation::low_rank_metric;
///
/// // four points of N(0, Σ), Σ = [[2, 1.5], [1.5, 2]], with their gradients −Σ⁻¹x
/// let (a, b) = (2.0 / 1.75, -1.5 / 1.75); // Σ⁻¹ = [[a, b], [b, a]]
/// let draws = vec![vec![1.0, 1.0], vec![-1.0, -1.0], vec![1.0, -1.0], vec![-1.0, 1.0]];
/// let grads: Vec<Vec<f64>> =
///     draws.iter().map(|x| vec![-(a * x[0] + b * x[1]), -(b * x[0] + a * x[1])]).collect();
/// let metric = low_rank_metric(&draws, &grads, 1.1).unwrap();
/// let m = metric.to_dense_matrix();
/// assert!((m[0] - 2.0).abs() < 1e-3 && (m[1] - 1.5).abs() < 1e-3);
/// ```
pub fn low_rank_metric(
    draws: &[Vec<f64>],
    grads: &[Vec<f64>],
    eigenvalue_cutoff: f64,
) -> Option<Metric> {
    let n = draws.len();
    if n < 3 || grads.len() != n {
        return None;
    }
    let dim = draws[0].len();
    if draws.iter().chain(grads).any(|v| v.len() != dim) || dim == 0 {
        return None;
    }
    let nf = n as f64;
    let mut variance = vec![0.0; dim];
    let mut x = DMatrix::<f64>::zeros(dim, n);
    let mut g = DMatrix::<f64>::zeros(dim, n);
    for i in 0..dim {
        let mean_x = draws.iter().map(|d| d[i]).sum::<f64>() / nf;
        let mean_g = grads.iter().map(|d| d[i]).sum::<f64>() / nf;
        let var_x = draws.iter().map(|d| (d[i] - mean_x).powi(2)).sum::<f64>() / nf;
        let var_g = grads.iter().map(|d| (d[i] - mean_g).powi(2)).sum::<f64>() / nf;
        let v = (var_x / var_g).sqrt();
        if !(v > 0.0 && v.is_finite()) {
            return None;
        }
        variance[i] = v.clamp(1e-20, 1e20);
        let scale = variance[i].sqrt();
        for k in 0..n {
            x[(i, k)] = (draws[k][i] - mean_x) / scale;
            g[(i, k)] = (grads[k][i] - mean_g) * scale;
        }
    }
    // the subspace the rescaled draws and gradients span
    let basis = if 2 * n >= dim {
        DMatrix::<f64>::identity(dim, dim)
    } else {
        let mut both = DMatrix::<f64>::zeros(dim, 2 * n);
        both.columns_mut(0, n).copy_from(&x);
        both.columns_mut(n, n).copy_from(&g);
        both.qr().q()
    };
    let k = basis.ncols();
    let px = basis.transpose() * &x;
    let pg = basis.transpose() * &g;
    let ridge = 1e-5 * nf;
    let eye = DMatrix::<f64>::identity(k, k);
    let a = (&px * px.transpose()) / nf + &eye * ridge;
    let b = (&pg * pg.transpose()) / nf + &eye * ridge;
    let sigma = geometric_mean_inverse(a, b)?;
    let eigen = SymmetricEigen::new(sigma);
    let (mut vectors, mut values) = (Vec::new(), Vec::new());
    for (j, &lambda) in eigen.eigenvalues.iter().enumerate() {
        if !(lambda > 0.0 && lambda.is_finite()) {
            return None;
        }
        if lambda > eigenvalue_cutoff || lambda < 1.0 / eigenvalue_cutoff {
            let u = &basis * eigen.eigenvectors.column(j);
            let norm = u.norm();
            if !(norm > 0.0 && norm.is_finite()) {
                return None;
            }
            vectors.push(u.iter().map(|v| v / norm).collect());
            values.push(lambda);
        }
    }
    Metric::low_rank(variance, vectors, values).ok()
}

/// `A # B⁻¹ = B^-½ (B^½ A B^½)^½ B^-½` for symmetric positive-definite `A` and `B`.
fn geometric_mean_inverse(a: DMatrix<f64>, b: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let eb = SymmetricEigen::new(b);
    if eb.eigenvalues.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return None;
    }
    let root = |f: fn(f64) -> f64| {
        let d = DMatrix::from_diagonal(&eb.eigenvalues.map(f));
        &eb.eigenvectors * d * eb.eigenvectors.transpose()
    };
    let b_half = root(f64::sqrt);
    let b_inv_half = root(|v| 1.0 / v.sqrt());
    let m = &b_half * a * &b_half;
    let m = (&m + m.transpose()) * 0.5;
    let em = SymmetricEigen::new(m);
    if em.eigenvalues.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let d = DMatrix::from_diagonal(&em.eigenvalues.map(|v| v.max(0.0).sqrt()));
    let m_half = &em.eigenvectors * d * em.eigenvectors.transpose();
    let out = &b_inv_half * m_half * &b_inv_half;
    Some((&out + out.transpose()) * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand_distr::{Distribution, StandardNormal};

    /// Draws of N(0, Σ) with Σ = L Lᵀ and their gradients −Σ⁻¹x.
    fn gaussian(l: &DMatrix<f64>, n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let d = l.nrows();
        let sigma = l * l.transpose();
        let precision = sigma.try_inverse().unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (mut xs, mut gs) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let z = nalgebra::DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
            let x = l * z;
            let g = -(&precision * &x);
            xs.push(x.iter().copied().collect());
            gs.push(g.iter().copied().collect());
        }
        (xs, gs)
    }

    #[test]
    fn the_geometric_mean_of_commuting_matrices_is_elementwise() {
        let a = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![1.0, 4.0, 8.0]));
        let b = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![1.0, 1.0, 0.5]));
        let m = geometric_mean_inverse(a, b).unwrap();
        for (i, want) in [1.0, 2.0, 4.0].iter().enumerate() {
            assert!((m[(i, i)] - want).abs() < 1e-12, "{m}");
        }
        assert!(m[(0, 1)].abs() < 1e-12);
    }

    #[test]
    fn a_correlated_gaussian_is_recovered_from_few_draws() {
        // 20-d, strongly correlated pair (0, 1) at −0.998, scales from 0.01 to 10: with
        // exact gradients the estimate is exact in the span of the draws, so 30 draws
        // (fewer than 2·20 basis vectors needed) recover the pair's correlation
        let d = 20;
        let mut sigma = DMatrix::<f64>::zeros(d, d);
        for i in 0..d {
            let s = 0.01 * 1000f64.powf(i as f64 / (d - 1) as f64);
            sigma[(i, i)] = s * s;
        }
        let (s0, s1) = (sigma[(0, 0)].sqrt(), sigma[(1, 1)].sqrt());
        sigma[(0, 1)] = -0.998 * s0 * s1;
        sigma[(1, 0)] = sigma[(0, 1)];
        let l = sigma.clone().cholesky().unwrap().l();
        let (xs, gs) = gaussian(&l, 30, 11);
        let metric = low_rank_metric(&xs, &gs, 2.0).unwrap();
        let Metric::LowRank(lr) = &metric else {
            panic!("low rank expected")
        };
        assert!(lr.rank() >= 1 && lr.rank() < d, "rank {}", lr.rank());
        let m = metric.to_dense_matrix();
        let corr = m[1] / (m[0] * m[d + 1]).sqrt();
        assert!((corr + 0.998).abs() < 2e-3, "{corr}");
        // variances within sampling error of 30 draws for the diagonal part
        for i in 0..d {
            let ratio = m[i * d + i] / sigma[(i, i)];
            assert!((0.5..2.0).contains(&ratio), "{i}: {ratio}");
        }
    }

    #[test]
    fn bad_windows_give_none() {
        let xs = vec![vec![1.0, 2.0]; 5];
        let gs = vec![vec![0.5, 0.1]; 5];
        // constant draws and gradients: no variance to estimate from
        assert!(low_rank_metric(&xs, &gs, 2.0).is_none());
        assert!(low_rank_metric(&xs[..2], &gs[..2], 2.0).is_none());
        let nan = vec![vec![f64::NAN, 1.0], vec![0.0, 2.0], vec![1.0, 0.0]];
        assert!(low_rank_metric(&nan, &nan, 2.0).is_none());
    }
}
