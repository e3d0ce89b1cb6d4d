//! Small dense matrices over model scalars: Cholesky factorisation, triangular
//! products and the squared-exponential kernel. Matrices are row-major slices; the
//! caller owns the buffers.

use crate::real::Real;

/// Stan's `gp_exp_quad_cov`: `out[i, j] = α² exp(-(xᵢ - xⱼ)² / (2ρ²))` for 1-d inputs.
///
/// Non-finite or zero parameters give non-finite entries (which [`cholesky`] then
/// refuses), never a panic.
///
/// # Panics
/// When `out` is not `n × n` for `n = x.len()`.
pub fn gp_exp_quad_cov<T: Real>(x: &[f64], alpha: T, rho: T, out: &mut [T]) {
    let n = x.len();
    assert_eq!(
        Some(out.len()),
        n.checked_mul(n),
        "gp_exp_quad_cov: out must be {n} × {n}"
    );
    let alpha_sq = alpha * alpha;
    let inv_two_rho_sq = (rho * rho * 2.0).recip();
    for i in 0..n {
        out[i * n + i] = alpha_sq;
        for j in 0..i {
            let d = x[i] - x[j];
            let k = alpha_sq * (-(inv_two_rho_sq * (d * d))).exp();
            out[i * n + j] = k;
            out[j * n + i] = k;
        }
    }
}

/// Replaces the symmetric positive-definite `a` (`n × n`, row-major) by its lower
/// Cholesky factor `L` (`a = L Lᵀ`; the upper triangle is zeroed). Returns `false`,
/// leaving `a` unspecified, when `a` is not numerically positive-definite.
///
/// # Panics
/// When `a` is not `n × n`.
pub fn cholesky<T: Real>(a: &mut [T], n: usize) -> bool {
    assert_eq!(
        Some(a.len()),
        n.checked_mul(n),
        "cholesky: the matrix must be {n} × {n}"
    );
    for j in 0..n {
        let mut diag = a[j * n + j];
        for k in 0..j {
            diag -= a[j * n + k] * a[j * n + k];
        }
        if diag.value().is_nan() || diag.value() <= 0.0 || !diag.is_finite() {
            return false;
        }
        let diag = diag.sqrt();
        a[j * n + j] = diag;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / diag;
        }
        for k in j + 1..n {
            a[j * n + k] = T::from(0.0);
        }
    }
    true
}

/// `out = L v` for a lower-triangular `L` (`n × n`, row-major).
///
/// # Panics
/// When the sizes do not match.
pub fn lower_mul<T: Real>(l: &[T], v: &[T], out: &mut [T]) {
    let n = v.len();
    assert!(
        n.checked_mul(n) == Some(l.len()) && out.len() == n,
        "lower_mul: sizes do not match"
    );
    for i in 0..n {
        let mut s = T::from(0.0);
        for k in 0..=i {
            s += l[i * n + k] * v[k];
        }
        out[i] = s;
    }
}

/// Solves `L x = b` by forward substitution, for a lower-triangular `L` (`n × n`,
/// row-major, only the lower triangle read) and `n = b.len()`.
///
/// A zero on the diagonal gives infinite or NaN entries, never a panic.
///
/// # Panics
/// When the sizes do not match.
pub fn solve_lower<T: Real>(l: &[T], b: &[T], x: &mut [T]) {
    let n = b.len();
    assert!(
        n.checked_mul(n) == Some(l.len()) && x.len() == n,
        "solve_lower: sizes do not match"
    );
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
}

/// Solves `Lᵀ x = b` by back substitution, for a lower-triangular `L` (`n × n`,
/// row-major, only the lower triangle read) and `n = b.len()`.
///
/// # Panics
/// When the sizes do not match.
pub fn solve_lower_transpose<T: Real>(l: &[T], b: &[T], x: &mut [T]) {
    let n = b.len();
    assert!(
        n.checked_mul(n) == Some(l.len()) && x.len() == n,
        "solve_lower_transpose: sizes do not match"
    );
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
}

/// Writes `(L Lᵀ)⁻¹` into `out` (`n × n`, row-major) for a lower Cholesky factor `L`,
/// column by column through [`solve_lower`] and [`solve_lower_transpose`]; `work`
/// holds `2n` scratch values.
///
/// # Panics
/// When the sizes do not match.
pub fn inverse_from_cholesky<T: Real>(l: &[T], n: usize, work: &mut [T], out: &mut [T]) {
    assert!(
        n.checked_mul(n)
            .is_some_and(|nn| l.len() == nn && out.len() == nn && work.len() / 2 >= n),
        "inverse_from_cholesky: sizes do not match"
    );
    let (y, rest) = work.split_at_mut(n);
    let col = &mut rest[..n];
    for j in 0..n {
        // L y = e_j: the first j entries of y vanish
        for i in 0..n {
            y[i] = if i < j {
                T::from(0.0)
            } else if i == j {
                l[j * n + j].recip()
            } else {
                let mut s = T::from(0.0);
                for k in j..i {
                    s -= l[i * n + k] * y[k];
                }
                s / l[i * n + i]
            };
        }
        solve_lower_transpose(l, y, col);
        for i in 0..n {
            out[i * n + j] = col[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let x = [0.0, 0.7, 1.5, 3.0];
        let n = x.len();
        let mut k = vec![0.0; n * n];
        gp_exp_quad_cov(&x, 1.3, 0.9, &mut k);
        (0..n).for_each(|i| k[i * n + i] += 1e-10);
        let original = k.clone();
        assert!(cholesky(&mut k, n));
        for i in 0..n {
            for j in 0..n {
                let llt: f64 = (0..n).map(|m| k[i * n + m] * k[j * n + m]).sum();
                assert!((llt - original[i * n + j]).abs() < 1e-12, "({i}, {j})");
            }
        }
        // α² exp(-(0.7)²/(2·0.81)) for (1, 0)
        assert!((original[n] - 1.69 * (-0.49f64 / 1.62).exp()).abs() < 1e-15);
        let mut out = vec![0.0; n];
        lower_mul(&k, &[1.0, 0.0, 0.0, 0.0], &mut out);
        // L₀₀ = √(1.69 + 1e-10) = 1.3 + 3.8e-11
        assert!((out[0] - (1.69f64 + 1e-10).sqrt()).abs() < 1e-14);
        let mut not_pd = vec![1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky(&mut not_pd, 2));
    }
}
