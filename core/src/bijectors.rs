//! Bijectors from the unconstrained real line onto a support, following Stan's transforms.
//!
//! A latent site is sampled as an unconstrained `y ∈ ℝ`; its value is `x = f(y)` and the
//! log-density gains `ln |f'(y)|` so that the density of `y` is the density of `x` pushed
//! through `f`. The bijector of a site comes from its support ([`Support::bijector`]).
//!
//! [`Support::bijector`]: crate::Support::bijector

use crate::real::Real;

/// A map from ℝ onto a support, with its log-Jacobian.
///
/// | variant | `x = f(y)` | `ln \|f'(y)\|` |
/// |---|---|---|
/// | `Identity` | `y` | `0` |
/// | `Exp` | `eʸ` | `y` |
/// | `LowerBound(a)` | `a + eʸ` | `y` |
/// | `UpperBound(b)` | `b - eʸ` | `y` |
/// | `Logistic` | `1 / (1 + e⁻ʸ)` | `-ln(1 + e⁻ʸ) - ln(1 + eʸ)` |
/// | `Interval(a, b)` | `a + (b - a) / (1 + e⁻ʸ)` | `ln(b - a) - ln(1 + e⁻ʸ) - ln(1 + eʸ)` |
/// | `Affine(loc, scale)` | `loc + scale · y` | `ln \|scale\|` |
///
/// `Affine` is no support's bijector; apply it element by element for a vector
/// (`ln |det J| = n ln |scale|`), as in a non-centred parameterisation.
///
/// # Example
/// ```
/// use tilde_core::Bijector;
///
/// let b = Bijector::Interval(1.0, 3.0);
/// let (x, ln_jac) = b.forward_and_ln_jac(0.0);
/// assert_eq!(x, 2.0);
/// assert!((ln_jac - (2.0f64 * 0.25).ln()).abs() < 1e-15);
/// assert!((b.inverse(x) - 0.0).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Bijector<T = f64> {
    /// ℝ → ℝ.
    Identity,
    /// ℝ → (0, ∞).
    Exp,
    /// ℝ → (lower, ∞).
    LowerBound(T),
    /// ℝ → (-∞, upper).
    UpperBound(T),
    /// ℝ → (0, 1).
    Logistic,
    /// ℝ → (lower, upper).
    Interval(T, T),
    /// ℝ → ℝ, `x = loc + scale · y` (`scale ≠ 0`).
    Affine(T, T),
}

/// `ln(logistic'(y)) = -ln(1 + e⁻ʸ) - ln(1 + eʸ)`, symmetric and stable in both tails.
#[inline]
fn ln_logistic_jacobian<T: Real>(y: T) -> T {
    let a = y.abs();
    // -ln(1+e^-|y|) - ln(1+e^|y|) = -|y| - 2 ln(1 + e^-|y|)
    -a - (-a).exp().ln_1p() * 2.0
}

/// The logistic function written so that `x` near 1 keeps its precision.
#[inline]
fn logistic<T: Real>(y: T) -> T {
    y.inv_logit()
}

impl<T: Real> Bijector<T> {
    /// The constrained value `x = f(y)` and `ln |f'(y)|`, in one pass.
    #[inline]
    pub fn forward_and_ln_jac(&self, y: T) -> (T, T) {
        match *self {
            Bijector::Identity => (y, T::from(0.0)),
            Bijector::Exp => (y.exp(), y),
            Bijector::LowerBound(a) => (y.exp() + a, y),
            Bijector::UpperBound(b) => (b - y.exp(), y),
            Bijector::Logistic => (logistic(y), ln_logistic_jacobian(y)),
            Bijector::Interval(a, b) => {
                let width = b - a;
                if width.value() == f64::INFINITY && a.is_finite() && b.is_finite() {
                    // `b − a` overflows (bounds near ±f64::MAX): work with half of it
                    let half = b * 0.5 - a * 0.5;
                    let x = if y > 0.0 {
                        b - half * logistic(-y) * 2.0
                    } else {
                        a + half * logistic(y) * 2.0
                    };
                    return (
                        x,
                        half.ln() + std::f64::consts::LN_2 + ln_logistic_jacobian(y),
                    );
                }
                let x = if y > 0.0 {
                    b - width * logistic(-y)
                } else {
                    a + width * logistic(y)
                };
                (x, width.ln() + ln_logistic_jacobian(y))
            }
            Bijector::Affine(loc, scale) => (loc + scale * y, scale.abs().ln()),
        }
    }

    /// The constrained value `x = f(y)`.
    #[inline]
    pub fn forward(&self, y: T) -> T {
        self.forward_and_ln_jac(y).0
    }

    /// `ln |f'(y)|`, the log-determinant of the Jacobian of [`forward`](Self::forward).
    #[inline]
    pub fn ln_abs_det_jacobian(&self, y: T) -> T {
        self.forward_and_ln_jac(y).1
    }

    /// The bijector with its bounds as plain numbers.
    pub fn to_f64(&self) -> Bijector<f64> {
        match *self {
            Bijector::Identity => Bijector::Identity,
            Bijector::Exp => Bijector::Exp,
            Bijector::LowerBound(a) => Bijector::LowerBound(a.value()),
            Bijector::UpperBound(b) => Bijector::UpperBound(b.value()),
            Bijector::Logistic => Bijector::Logistic,
            Bijector::Interval(a, b) => Bijector::Interval(a.value(), b.value()),
            Bijector::Affine(loc, scale) => Bijector::Affine(loc.value(), scale.value()),
        }
    }

    /// The unconstrained value `y = f⁻¹(x)`. A value outside the support gives NaN or ±∞.
    pub fn inverse(&self, x: T) -> T {
        match *self {
            Bijector::Identity => x,
            Bijector::Exp => x.ln(),
            Bijector::LowerBound(a) => (x - a).ln(),
            Bijector::UpperBound(b) => (b - x).ln(),
            Bijector::Logistic => x.logit(),
            Bijector::Interval(a, b) => {
                // logit((x - a) / (b - a)) = ln(x - a) - ln(b - x)
                (x - a).ln() - (b - x).ln()
            }
            Bijector::Affine(loc, scale) => (x - loc) / scale,
        }
    }
}

/// A map from ℝᵐ onto a constrained set of vectors, following Stan's transforms.
///
/// | variant | unconstrained length | `x = f(y)` | `ln \|det J\|` |
/// |---|---|---|---|
/// | `Identity` | `n` | `x = y` | `0` |
/// | `Ordered` | `n` | `x₀ = y₀`, `xₖ = xₖ₋₁ + e^{yₖ}` | `Σₖ₌₁ yₖ` |
/// | `PositiveOrdered` | `n` | `x₀ = e^{y₀}`, `xₖ = xₖ₋₁ + e^{yₖ}` | `Σₖ yₖ` |
/// | `Simplex` | `n - 1` | stick-breaking: `zₖ = logistic(yₖ - ln(n - k - 1))`, `xₖ = (1 - Σⱼ₍ₖ xⱼ) zₖ`, last = remainder | `Σₖ [ln zₖ + ln(1 - zₖ) + ln(1 - Σⱼ₍ₖ xⱼ)]` |
/// | `CholeskyCorr` | `K(K-1)/2` | `zᵢⱼ = tanh yᵢⱼ`, `Lᵢ₀ = zᵢ₀`, `Lᵢⱼ = zᵢⱼ √(1 - Σₘ₍ⱼ Lᵢₘ²)`, `Lᵢᵢ = √(1 - Σₘ₍ᵢ Lᵢₘ²)` | `Σ ln(1 - zᵢⱼ²) + Σⱼ₍₀ ½ ln(1 - Σₘ₍ⱼ Lᵢₘ²)` |
/// | `CholeskyFactor` | `K(K+1)/2` | `Lᵢⱼ = yᵢⱼ` below the diagonal, `Lᵢᵢ = e^{yᵢᵢ}` | `Σᵢ yᵢᵢ` |
/// | `CovMatrix` | `K(K+1)/2` | `Σ = L Lᵀ` with `L` as for `CholeskyFactor` | `K ln 2 + Σᵢ (K - i + 1) yᵢᵢ` |
///
/// The matrix bijectors are Stan's `cholesky_factor_corr`, `cholesky_factor_cov` and
/// `cov_matrix` transforms. A `K × K` matrix is `n = K²` values, row-major (upper
/// triangles of the factors are 0), and the unconstrained values fill the lower
/// triangle row by row (`y₁₀, y₂₀, y₂₁, …` for `CholeskyCorr`; `y₀₀, y₁₀, y₁₁, …` for
/// the others), as in Stan; `i` is 0-based above. `CholeskyCorr` tracks
/// `ln(1 - Σₘ Lᵢₘ²) = Σₘ ln(1 - zᵢₘ²)` in log space, with `ln(1 - tanh² y) =
/// 2 ln 2 - 2|y| - 2 ln(1 + e^{-2|y|})`, so inputs of ±30 stay finite where the
/// direct formula rounds `1 - z²` to 0.
///
/// # Example
/// ```
/// use tilde_core::bijectors::VectorBijector;
///
/// let mut x = [0.0; 3];
/// let ln_jac = VectorBijector::Simplex.forward(&[0.0, 0.0], &mut x);
/// assert!(x.iter().all(|v| (v - 1.0 / 3.0).abs() < 1e-15));   // y = 0 is the centre
/// assert!(ln_jac.is_finite());
/// let y = VectorBijector::Simplex.inverse(&x);
/// assert!(y.iter().all(|v| v.abs() < 1e-15));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VectorBijector {
    /// ℝⁿ → ℝⁿ, unchanged.
    Identity,
    /// ℝⁿ → increasing vectors.
    Ordered,
    /// ℝⁿ → positive increasing vectors.
    PositiveOrdered,
    /// ℝⁿ⁻¹ → the simplex of dimension `n`.
    Simplex,
    /// ℝ^{K(K-1)/2} → Cholesky factors of `K × K` correlation matrices.
    CholeskyCorr,
    /// ℝ^{K(K+1)/2} → lower-triangular `K × K` matrices with positive diagonal.
    CholeskyFactor,
    /// ℝ^{K(K+1)/2} → symmetric positive-definite `K × K` matrices.
    CovMatrix,
}

/// The order `K` of a `K × K` matrix of `n` values.
fn order(n: usize) -> usize {
    n.isqrt()
}

/// `ln(1 - tanh² y) = 2 ln 2 - 2|y| - 2 ln(1 + e^{-2|y|})`, finite for any finite `y`.
#[inline]
fn ln_sech_sq<T: Real>(y: T) -> T {
    let a = y.abs() * 2.0;
    -a - (-a).exp().ln_1p() * 2.0 + 2.0 * std::f64::consts::LN_2
}

/// Writes the lower-triangular factor of `CholeskyFactor` (row-major, `K × K`) into
/// `x` and returns `Σᵢ yᵢᵢ`.
fn cholesky_factor_forward<T: Real>(y: &[T], x: &mut [T], k: usize) -> T {
    let mut pos = 0;
    let mut ln_jac = T::from(0.0);
    for i in 0..k {
        for j in 0..k {
            x[i * k + j] = if j < i {
                pos += 1;
                y[pos - 1]
            } else if j == i {
                pos += 1;
                ln_jac += y[pos - 1];
                y[pos - 1].exp()
            } else {
                T::from(0.0)
            };
        }
    }
    ln_jac
}

/// The unconstrained values of a lower-triangular factor with positive diagonal
/// (row-major, `K × K`).
fn cholesky_factor_inverse(l: &[f64], k: usize) -> Vec<f64> {
    (0..k)
        .flat_map(|i| (0..=i).map(move |j| (i, j)))
        .map(|(i, j)| {
            if i == j {
                l[i * k + i].ln()
            } else {
                l[i * k + j]
            }
        })
        .collect()
}

impl VectorBijector {
    /// The number of unconstrained values for a constrained vector of length `n`.
    /// For the matrix bijectors `n = K²`.
    pub fn unconstrained_len(&self, n: usize) -> usize {
        match self {
            VectorBijector::Simplex => n.saturating_sub(1),
            VectorBijector::CholeskyCorr => order(n) * order(n).saturating_sub(1) / 2,
            VectorBijector::CholeskyFactor | VectorBijector::CovMatrix => {
                order(n) * (order(n) + 1) / 2
            }
            _ => n,
        }
    }

    /// Writes `x = f(y)` into `x` (length `n`, with `y` of [`unconstrained_len`](Self::unconstrained_len))
    /// and returns `ln |det J|`.
    ///
    /// # Panics
    /// When the lengths do not match.
    pub fn forward<T: Real>(&self, y: &[T], x: &mut [T]) -> T {
        assert_eq!(
            y.len(),
            self.unconstrained_len(x.len()),
            "vector bijector: length mismatch"
        );
        if matches!(
            self,
            VectorBijector::CholeskyCorr
                | VectorBijector::CholeskyFactor
                | VectorBijector::CovMatrix
        ) {
            assert_eq!(
                order(x.len()).pow(2),
                x.len(),
                "matrix bijector: {} values do not make a square matrix",
                x.len()
            );
        }
        match self {
            VectorBijector::Identity => {
                x.copy_from_slice(y);
                T::from(0.0)
            }
            VectorBijector::Ordered | VectorBijector::PositiveOrdered => {
                let positive = *self == VectorBijector::PositiveOrdered;
                let mut ln_jac = T::from(0.0);
                for k in 0..x.len() {
                    x[k] = if k == 0 && !positive {
                        y[0]
                    } else {
                        ln_jac += y[k];
                        if k == 0 {
                            y[0].exp()
                        } else {
                            x[k - 1] + y[k].exp()
                        }
                    };
                }
                ln_jac
            }
            VectorBijector::Simplex => {
                let n = x.len();
                let mut remaining = T::from(1.0);
                let mut ln_jac = T::from(0.0);
                for k in 0..n.saturating_sub(1) {
                    let shifted = y[k] - ((n - k - 1) as f64).ln();
                    let z = shifted.inv_logit();
                    // ln z + ln(1 - z) = -|s| - 2 ln(1 + e^{-|s|})
                    let a = shifted.abs();
                    ln_jac += -a - (-a).exp().ln_1p() * 2.0 + remaining.ln();
                    x[k] = remaining * z;
                    remaining -= x[k];
                }
                if n > 0 {
                    x[n - 1] = remaining;
                }
                ln_jac
            }
            VectorBijector::CholeskyCorr => {
                let k = order(x.len());
                let mut pos = 0;
                let mut ln_jac = T::from(0.0);
                x.fill(T::from(0.0));
                if k > 0 {
                    x[0] = T::from(1.0);
                }
                for i in 1..k {
                    // ln(1 - Σₘ₍ⱼ Lᵢₘ²), built up as Σₘ₍ⱼ ln(1 - zᵢₘ²)
                    let mut ln_rest = T::from(0.0);
                    for j in 0..i {
                        let y = y[pos];
                        pos += 1;
                        let z = y.tanh();
                        let ln_dz = ln_sech_sq(y);
                        x[i * k + j] = if j == 0 {
                            z
                        } else {
                            ln_jac += ln_rest * 0.5;
                            z * (ln_rest * 0.5).exp()
                        };
                        ln_jac += ln_dz;
                        ln_rest += ln_dz;
                    }
                    x[i * k + i] = (ln_rest * 0.5).exp();
                }
                ln_jac
            }
            VectorBijector::CholeskyFactor => cholesky_factor_forward(y, x, order(x.len())),
            VectorBijector::CovMatrix => {
                let k = order(x.len());
                cholesky_factor_forward(y, x, k);
                // Σ = L Lᵀ in place: entry (i, j), i ≥ j, needs Lᵢₘ and Lⱼₘ for m ≤ j,
                // which later rows and earlier columns of this order leave untouched.
                for i in (0..k).rev() {
                    for j in (0..=i).rev() {
                        let mut s = T::from(0.0);
                        for m in 0..=j {
                            s += x[i * k + m] * x[j * k + m];
                        }
                        x[i * k + j] = s;
                    }
                }
                for i in 0..k {
                    for j in i + 1..k {
                        x[i * k + j] = x[j * k + i];
                    }
                }
                let mut ln_jac = T::from(k as f64 * std::f64::consts::LN_2);
                for i in 0..k {
                    ln_jac += y[i * (i + 1) / 2 + i] * (k - i + 1) as f64;
                }
                ln_jac
            }
        }
    }

    /// The unconstrained `y = f⁻¹(x)`. Values outside the support give NaN or ±∞.
    ///
    /// # Panics
    /// For the matrix bijectors, when the length of `x` is not a square (a
    /// caller-contract mismatch of shapes).
    pub fn inverse(&self, x: &[f64]) -> Vec<f64> {
        if matches!(
            self,
            VectorBijector::CholeskyCorr
                | VectorBijector::CholeskyFactor
                | VectorBijector::CovMatrix
        ) {
            assert_eq!(
                order(x.len()).pow(2),
                x.len(),
                "matrix bijector: {} values do not make a square matrix",
                x.len()
            );
        }
        match self {
            VectorBijector::Identity => x.to_vec(),
            VectorBijector::Ordered | VectorBijector::PositiveOrdered => x
                .iter()
                .enumerate()
                .map(|(k, &v)| match (k, self) {
                    (0, VectorBijector::Ordered) => v,
                    (0, _) => v.ln(),
                    _ => (v - x[k - 1]).ln(),
                })
                .collect(),
            VectorBijector::Simplex => {
                let n = x.len();
                let mut remaining = 1.0;
                (0..n.saturating_sub(1))
                    .map(|k| {
                        let z = x[k] / remaining;
                        remaining -= x[k];
                        z.ln() - (-z).ln_1p() + ((n - k - 1) as f64).ln()
                    })
                    .collect()
            }
            VectorBijector::CholeskyCorr => {
                let k = order(x.len());
                let mut y = Vec::with_capacity(k * k.saturating_sub(1) / 2);
                for i in 1..k {
                    let mut rest = 1.0;
                    for j in 0..i {
                        let v = x[i * k + j];
                        y.push((v / rest.sqrt()).atanh());
                        rest -= v * v;
                    }
                }
                y
            }
            VectorBijector::CholeskyFactor => cholesky_factor_inverse(x, order(x.len())),
            VectorBijector::CovMatrix => {
                let k = order(x.len());
                let mut l = x.to_vec();
                if !crate::linalg::cholesky(&mut l, k) {
                    return vec![f64::NAN; self.unconstrained_len(x.len())];
                }
                cholesky_factor_inverse(&l, k)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Bijector<f64>> {
        vec![
            Bijector::Identity,
            Bijector::Exp,
            Bijector::LowerBound(-2.5),
            Bijector::UpperBound(4.0),
            Bijector::Logistic,
            Bijector::Interval(-1.0, 3.0),
            Bijector::Interval(0.0, 1e-3),
            Bijector::Affine(1.5, -0.3),
            Bijector::Affine(-2.0, 40.0),
        ]
    }

    /// `ln |det A|` of a square row-major matrix by Gaussian elimination.
    fn ln_abs_det(mut a: Vec<f64>, n: usize) -> f64 {
        let mut total = 0.0;
        for c in 0..n {
            let p = (c..n)
                .max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))
                .unwrap();
            for k in 0..n {
                a.swap(c * n + k, p * n + k);
            }
            let pivot = a[c * n + c];
            total += pivot.abs().ln();
            for r in c + 1..n {
                let f = a[r * n + c] / pivot;
                for k in c..n {
                    a[r * n + k] -= f * a[c * n + k];
                }
            }
        }
        total
    }

    #[test]
    fn vector_bijectors_round_trip_and_jacobians() {
        for b in [
            VectorBijector::Ordered,
            VectorBijector::PositiveOrdered,
            VectorBijector::Simplex,
        ] {
            for y in [
                vec![0.3, -1.2, 2.0, 0.0],
                vec![-30.0, 30.0, -5.0, 1.0],
                vec![4.0, -0.5, 0.1, -2.0],
            ] {
                let n = if b == VectorBijector::Simplex {
                    y.len() + 1
                } else {
                    y.len()
                };
                let m = y.len();
                let mut x = vec![0.0; n];
                let ln_jac = b.forward(&y, &mut x);
                assert!(
                    ln_jac.is_finite() && x.iter().all(|v| v.is_finite()),
                    "{b:?} {y:?}"
                );
                if b == VectorBijector::Simplex {
                    assert!(
                        (x.iter().sum::<f64>() - 1.0).abs() < 1e-14 && x.iter().all(|&v| v >= 0.0)
                    );
                } else {
                    assert!(x.windows(2).all(|w| w[0] <= w[1]), "{b:?}: {x:?}");
                }
                if y.iter().all(|v| v.abs() <= 5.0) {
                    let back = b.inverse(&x);
                    for (a, c) in back.iter().zip(&y) {
                        assert!((a - c).abs() < 1e-10, "{b:?}: {back:?} vs {y:?}");
                    }
                    // Jacobian of y ↦ (x₀ … x_{m-1}) by central differences
                    let mut jac = vec![0.0; m * m];
                    for j in 0..m {
                        let h = 1e-6;
                        let (mut yp, mut ym) = (y.clone(), y.clone());
                        yp[j] += h;
                        ym[j] -= h;
                        let (mut xp, mut xm) = (vec![0.0; n], vec![0.0; n]);
                        b.forward(&yp, &mut xp);
                        b.forward(&ym, &mut xm);
                        for i in 0..m {
                            jac[i * m + j] = (xp[i] - xm[i]) / (2.0 * h);
                        }
                    }
                    let fd = ln_abs_det(jac, m);
                    assert!(
                        (ln_jac - fd).abs() < 1e-6 * fd.abs().max(1.0),
                        "{b:?} {y:?}: {ln_jac} vs {fd}"
                    );
                }
            }
        }
    }

    /// The unconstrained coordinates of a `K × K` matrix bijector, in Stan's order:
    /// `(i, j)` of the lower triangle, row by row, with the diagonal unless `strict`.
    fn free_entries(k: usize, strict: bool) -> Vec<usize> {
        (0..k)
            .flat_map(|i| (0..k).map(move |j| (i, j)))
            .filter(|&(i, j)| if strict { j < i } else { j <= i })
            .map(|(i, j)| i * k + j)
            .collect()
    }

    /// A deterministic point in `[-a, a]ᵐ`.
    fn spread(m: usize, a: f64, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..m)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * a
            })
            .collect()
    }

    #[test]
    fn matrix_bijectors_round_trip_and_jacobians() {
        for b in [
            VectorBijector::CholeskyCorr,
            VectorBijector::CholeskyFactor,
            VectorBijector::CovMatrix,
        ] {
            for k in 1..=4 {
                let n = k * k;
                let m = b.unconstrained_len(n);
                let free = free_entries(k, b == VectorBijector::CholeskyCorr);
                assert_eq!(free.len(), m, "{b:?} K = {k}");
                let mut points: Vec<Vec<f64>> = (1..=3).map(|s| spread(m, 2.0, s)).collect();
                points.push(spread(m, 4.0, 7));
                for y in &points {
                    let mut x = vec![0.0; n];
                    let ln_jac = b.forward(y, &mut x);
                    let back = b.inverse(&x);
                    for (a, c) in back.iter().zip(y) {
                        assert!((a - c).abs() < 1e-9, "{b:?} K = {k}: {back:?} vs {y:?}");
                    }
                    // Jacobian of y ↦ the free entries of x, by central differences
                    let h = 1e-6;
                    let mut jac = vec![0.0; m * m];
                    for j in 0..m {
                        let (mut yp, mut ym) = (y.clone(), y.clone());
                        yp[j] += h;
                        ym[j] -= h;
                        let (mut xp, mut xm) = (vec![0.0; n], vec![0.0; n]);
                        b.forward(&yp, &mut xp);
                        b.forward(&ym, &mut xm);
                        for (i, &e) in free.iter().enumerate() {
                            jac[i * m + j] = (xp[e] - xm[e]) / (2.0 * h);
                        }
                    }
                    let fd = if m == 0 { 0.0 } else { ln_abs_det(jac, m) };
                    assert!(
                        (ln_jac - fd).abs() < 1e-6 * fd.abs().max(1.0),
                        "{b:?} K = {k} at {y:?}: {ln_jac} vs {fd}"
                    );
                }
                // extreme inputs: finite values and log-Jacobian, and still in the support
                for y in [vec![30.0; m], vec![-30.0; m], spread(m, 30.0, 11)] {
                    let mut x = vec![0.0; n];
                    let ln_jac = b.forward(&y, &mut x);
                    assert!(
                        ln_jac.is_finite() && x.iter().all(|v| v.is_finite()),
                        "{b:?} K = {k} at {y:?}: {ln_jac}, {x:?}"
                    );
                    for i in 0..k {
                        match b {
                            VectorBijector::CholeskyCorr => {
                                let norm: f64 = (0..k).map(|j| x[i * k + j].powi(2)).sum();
                                assert!((norm - 1.0).abs() < 1e-12 && x[i * k + i] > 0.0);
                                assert!((i + 1..k).all(|j| x[i * k + j] == 0.0));
                            }
                            VectorBijector::CholeskyFactor => {
                                assert!(x[i * k + i] > 0.0);
                                assert!((i + 1..k).all(|j| x[i * k + j] == 0.0));
                            }
                            _ => {
                                assert!(x[i * k + i] > 0.0);
                                assert!((0..k).all(|j| x[i * k + j] == x[j * k + i]));
                            }
                        }
                    }
                }
            }
        }
        // K = 2 by hand: L = [[1, 0], [tanh y, sech y]], ln J = ln sech² y
        let mut x = [0.0; 4];
        let ln_jac = VectorBijector::CholeskyCorr.forward(&[0.5], &mut x);
        let sech = 1.0 / 0.5f64.cosh();
        assert!((x[2] - 0.5f64.tanh()).abs() < 1e-15 && (x[3] - sech).abs() < 1e-15);
        assert!((ln_jac - 2.0 * sech.ln()).abs() < 1e-15);
        // cov_matrix at y = 0: Σ = I and ln J = K ln 2
        let mut x = [0.0; 9];
        let ln_jac = VectorBijector::CovMatrix.forward(&[0.0; 6], &mut x);
        assert_eq!(x, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert!((ln_jac - 3.0 * 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn round_trip() {
        for b in all() {
            for &y in &[-30.0, -7.3, -1.0, -1e-8, 0.0, 0.4, 2.0, 11.0, 30.0] {
                let x = b.forward(y);
                assert!(x.is_finite(), "{b:?} at {y}");
                let back = b.inverse(x);
                // x carries a rounding error of about ε|x|, which maps back to y divided
                // by f'(y): near a bound that is the transform's own conditioning
                let slope = b.ln_abs_det_jacobian(y).exp();
                let tol = 1e-13 * (1.0 + y.abs()) + 4.0 * f64::EPSILON * x.abs() / slope;
                assert!((back - y).abs() < tol, "{b:?}: {y} -> {x} -> {back}");
            }
        }
    }

    #[test]
    fn ln_jacobian_matches_finite_differences() {
        for b in all() {
            for &y in &[-30.0, -5.0, -0.7, 0.0, 0.3, 4.0, 30.0] {
                let (x, ln_jac) = b.forward_and_ln_jac(y);
                assert!(ln_jac.is_finite(), "{b:?} at {y}");
                let h = 1e-5 * (1.0f64).max(y.abs());
                let d = (b.forward(y + h) - b.forward(y - h)) / (2.0 * h);
                // rounding noise of the difference relative to the derivative itself
                let noise = x.abs().max(1e-300) * f64::EPSILON / h / d.abs();
                if noise < 1e-9 {
                    let fd = d.abs().ln();
                    assert!((ln_jac - fd).abs() < 1e-7, "{b:?} at {y}: {ln_jac} vs {fd}");
                } else {
                    // x sits next to a bound and the difference of x is rounding noise.
                    // A shifted bound is `bound ± exp`, whose Jacobian was checked by
                    // differences through `Exp`; the logistic Jacobian is even in y, and
                    // -y was checked by differences where x is tiny and exact.
                    let reference = match b {
                        Bijector::LowerBound(_) | Bijector::UpperBound(_) => {
                            Bijector::Exp.ln_abs_det_jacobian(y)
                        }
                        Bijector::Logistic | Bijector::Interval(..) => b.ln_abs_det_jacobian(-y),
                        _ => panic!("{b:?} at {y}: differences unexpectedly ill-conditioned"),
                    };
                    assert!((ln_jac - reference).abs() < 1e-12, "{b:?} at {y}");
                }
            }
        }
    }
}
