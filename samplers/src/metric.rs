//! The metric of Hamiltonian Monte Carlo: the inverse mass matrix, diagonal, dense,
//! block-diagonal, or diagonal with a low-rank update.

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
    /// A block-diagonal `M⁻¹`: dense within groups of coordinates, diagonal elsewhere
    /// (NumPyro's `dense_mass=[("x", "y")]`).
    Block(BlockMetric),
    /// A diagonal `M⁻¹` with a low-rank update, `S (I + U (Λ − I) Uᵀ) S`
    /// ([`LowRankMetric`]): what [`MetricAdaptation::LowRank`](crate::MetricAdaptation)
    /// estimates.
    LowRank(LowRankMetric),
}

/// A diagonal inverse mass matrix with a low-rank update (Seyboldt, Carlson & Carpenter
/// 2026, arXiv 2603.18845):
///
/// ```text
/// M⁻¹ = S (I + U (Λ − I) Uᵀ) S
/// ```
///
/// with `S = diag(scale)` (`scaleᵢ = σᵢ`, `σᵢ²` the variance of coordinate `i` before
/// the update), `U` a `dim × k` matrix of orthonormal columns (`vectors`) and
/// `Λ = diag(values)` their eigenvalues; directions outside the span of `U` keep
/// eigenvalue 1. Every product costs `O(dim · k)` and needs no buffer: the columns being
/// orthonormal, the `k` rank-one updates can be applied one after the other.
#[derive(Clone, Debug, PartialEq)]
pub struct LowRankMetric {
    /// `σᵢ`, the square root of the diagonal part.
    scale: Vec<f64>,
    /// The columns of `U`, one after the other (`k × dim` values).
    vectors: Vec<f64>,
    /// `λⱼ`, the eigenvalue of each column.
    values: Vec<f64>,
}

impl LowRankMetric {
    /// `σᵢ`: the square root of the diagonal part `S²`.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// The rank `k` of the update.
    pub fn rank(&self) -> usize {
        self.values.len()
    }

    /// The eigenvalues `λⱼ` of the update.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Column `j` of `U` (a unit vector of length `dim`).
    pub fn vector(&self, j: usize) -> &[f64] {
        let n = self.scale.len();
        &self.vectors[j * n..(j + 1) * n]
    }

    /// `x ← x + Σⱼ uⱼ (fⱼ − 1)(uⱼᵀ x)` with `fⱼ = f(λⱼ)`: `(I + U (f(Λ) − I) Uᵀ) x` in
    /// place (exact for orthonormal columns, whose updates do not interact).
    fn apply(&self, f: impl Fn(f64) -> f64, x: &mut [f64]) {
        for (j, &lambda) in self.values.iter().enumerate() {
            let u = self.vector(j);
            let dot: f64 = u.iter().zip(x.iter()).map(|(a, b)| a * b).sum();
            let c = (f(lambda) - 1.0) * dot;
            for (xi, ui) in x.iter_mut().zip(u) {
                *xi += c * ui;
            }
        }
    }
}
/// A block-diagonal inverse mass matrix: a dense block over each group of coordinates
/// (the groups disjoint, each in increasing order), a diagonal over the others.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockMetric {
    /// The diagonal of `M⁻¹` over every coordinate (inside a block, the block's own
    /// diagonal).
    diagonal: Vec<f64>,
    /// Each dense block: its coordinates and its matrix over them.
    blocks: Vec<(Vec<usize>, DenseMetric)>,
}

impl BlockMetric {
    /// The diagonal of `M⁻¹`.
    pub fn diagonal(&self) -> &[f64] {
        &self.diagonal
    }

    /// The dense blocks: the coordinates of each and its `M⁻¹` over them.
    pub fn blocks(&self) -> &[(Vec<usize>, DenseMetric)] {
        &self.blocks
    }

    /// Whether each coordinate is in a block.
    fn in_block(&self) -> Vec<bool> {
        let mut inside = vec![false; self.diagonal.len()];
        for (indices, _) in &self.blocks {
            indices.iter().for_each(|&i| inside[i] = true);
        }
        inside
    }
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
    /// A block-diagonal metric: `diagonal` holds `M⁻¹ᵢᵢ` of the coordinates in no
    /// block (its entries inside blocks are replaced by the blocks' diagonals), and
    /// each block gives its coordinates (distinct, increasing, disjoint from the
    /// other blocks') and its dense `M⁻¹` over them, row-major.
    ///
    /// ```
    /// use tilde_samplers::Metric;
    ///
    /// // coordinates 0 and 2 correlated, 1 on its own
    /// let metric = Metric::block(vec![1.0, 0.5, 1.0], vec![(vec![0, 2], vec![2.0, 0.6, 0.6, 0.5])])?;
    /// let mut v = [0.0; 3];
    /// metric.velocity(&[1.0, 1.0, 2.0], &mut v);
    /// assert_eq!(v, [3.2, 0.5, 1.6]);
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a coordinate is out of range or in two blocks, a
    /// block's matrix has the wrong size or is not positive-definite, or a diagonal
    /// entry outside the blocks is not positive and finite.
    pub fn block(mut diagonal: Vec<f64>, blocks: Vec<(Vec<usize>, Vec<f64>)>) -> Result<Self> {
        let dim = diagonal.len();
        let mut seen = vec![false; dim];
        let mut dense_blocks = Vec::with_capacity(blocks.len());
        for (indices, matrix) in blocks {
            for (k, &i) in indices.iter().enumerate() {
                if i >= dim || seen[i] || (k > 0 && indices[k - 1] >= i) {
                    return Err(Error::InvalidConfig(format!(
                        "block coordinate {i} is out of range, repeated or out of order \
                         (dimension {dim})"
                    )));
                }
                seen[i] = true;
            }
            let n = indices.len();
            if n.checked_mul(n) != Some(matrix.len()) {
                return Err(Error::InvalidConfig(format!(
                    "a block of {n} coordinates needs {n}² entries, got {}",
                    matrix.len()
                )));
            }
            let factor = cholesky(&matrix, n).ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "the inverse mass matrix block over coordinates {indices:?} is not \
                     positive-definite"
                ))
            })?;
            let dense = DenseMetric {
                dim: n,
                inverse: matrix,
                factor,
            };
            for (k, &i) in indices.iter().enumerate() {
                diagonal[i] = dense.inverse[k * dense.dim + k];
            }
            dense_blocks.push((indices, dense));
        }
        if let Some((i, v)) = diagonal
            .iter()
            .enumerate()
            .filter(|(i, _)| !seen[*i])
            .find(|(_, v)| !(**v > 0.0 && v.is_finite()))
        {
            return Err(Error::InvalidConfig(format!(
                "inverse mass matrix entry {i} must be positive and finite, got {v}"
            )));
        }
        Ok(Metric::Block(BlockMetric {
            diagonal,
            blocks: dense_blocks,
        }))
    }

    /// The same covariance restricted to dense `blocks` of coordinates and a diagonal
    /// elsewhere ([`Metric::Block`]); a diagonal metric when `blocks` is empty.
    ///
    /// # Panics
    /// When a block's coordinate is not below [`dim`](Self::dim).
    pub fn for_blocks(&self, blocks: &[Vec<usize>]) -> Metric {
        if blocks.is_empty() {
            return self.for_kernel(false);
        }
        let dim = self.dim();
        let diagonal: Vec<f64> = (0..dim).map(|i| self.variance(i)).collect();
        let full = self.to_dense_matrix();
        let blocks = blocks
            .iter()
            .map(|indices| {
                let m = indices
                    .iter()
                    .flat_map(|&i| indices.iter().map(move |&j| (i, j)))
                    .map(|(i, j)| full[i * dim + j])
                    .collect();
                (indices.clone(), m)
            })
            .collect();
        // a principal block of a positive-definite matrix is positive-definite
        Metric::block(diagonal, blocks).unwrap_or_else(|_| Metric::unit(dim))
    }

    /// `M⁻¹` as a full row-major matrix.
    pub fn to_dense_matrix(&self) -> Vec<f64> {
        let n = self.dim();
        match self {
            Metric::Dense(m) => m.inverse.clone(),
            Metric::Diagonal(d) => {
                let mut full = vec![0.0; n * n];
                d.iter().enumerate().for_each(|(i, v)| full[i * n + i] = *v);
                full
            }
            Metric::Block(b) => {
                let mut full = vec![0.0; n * n];
                b.diagonal
                    .iter()
                    .enumerate()
                    .for_each(|(i, v)| full[i * n + i] = *v);
                for (indices, m) in &b.blocks {
                    for (k, &i) in indices.iter().enumerate() {
                        for (l, &j) in indices.iter().enumerate() {
                            full[i * n + j] = m.inverse[k * m.dim + l];
                        }
                    }
                }
                full
            }
            Metric::LowRank(m) => {
                let mut full = vec![0.0; n * n];
                for (i, row) in full.chunks_mut(n.max(1)).enumerate().take(n) {
                    row[i] = 1.0;
                    m.apply(|l| l, row);
                    for (j, v) in row.iter_mut().enumerate() {
                        *v *= m.scale[i] * m.scale[j];
                    }
                }
                full
            }
        }
    }

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

    /// A diagonal metric with a low-rank update ([`LowRankMetric`]):
    /// `M⁻¹ = S (I + U (Λ − I) Uᵀ) S` with `S² = diag(diagonal)`, the columns of `U` the
    /// orthonormal `vectors` (each of length `diagonal.len()`) and `Λ = diag(values)`.
    ///
    /// ```
    /// use tilde_samplers::Metric;
    ///
    /// // unit scales, eigenvalue 9 along (1, 1)/√2: M⁻¹ = [[5, 4], [4, 5]]
    /// let r = 0.5f64.sqrt();
    /// let metric = Metric::low_rank(vec![1.0, 1.0], vec![vec![r, r]], vec![9.0])?;
    /// let mut v = [0.0; 2];
    /// metric.velocity(&[1.0, 0.0], &mut v);
    /// assert!((v[0] - 5.0).abs() < 1e-12 && (v[1] - 4.0).abs() < 1e-12);
    /// # Ok::<(), tilde_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a diagonal entry or an eigenvalue is not positive
    /// and finite, the numbers of vectors and values differ, a vector has the wrong
    /// length, or the vectors are not orthonormal (to 10⁻⁸).
    pub fn low_rank(diagonal: Vec<f64>, vectors: Vec<Vec<f64>>, values: Vec<f64>) -> Result<Self> {
        let dim = diagonal.len();
        Metric::diagonal(diagonal.clone())?;
        if vectors.len() != values.len() {
            return Err(Error::InvalidConfig(format!(
                "a low-rank metric needs one eigenvalue per vector, got {} vectors and {} values",
                vectors.len(),
                values.len()
            )));
        }
        if let Some(v) = vectors.iter().find(|v| v.len() != dim) {
            return Err(Error::InvalidConfig(format!(
                "a low-rank metric of dimension {dim} has a vector of length {}",
                v.len()
            )));
        }
        let metric = LowRankMetric {
            scale: diagonal.iter().map(|d| d.sqrt()).collect(),
            vectors: vectors.concat(),
            values,
        };
        Metric::LowRank(metric.clone()).validate()?;
        Ok(Metric::LowRank(metric))
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
            Metric::Block(b) => {
                let blocks = b
                    .blocks
                    .iter()
                    .map(|(indices, m)| {
                        Metric::Dense(m.clone()).validate()?;
                        if m.dim != indices.len() {
                            return Err(Error::InvalidConfig(format!(
                                "a block of {} coordinates has a matrix of dimension {}",
                                indices.len(),
                                m.dim
                            )));
                        }
                        Ok((indices.clone(), m.inverse.clone()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Metric::block(b.diagonal.clone(), blocks).map(|_| ())
            }
            Metric::LowRank(m) => {
                let (n, k) = (m.scale.len(), m.values.len());
                if n.checked_mul(k) != Some(m.vectors.len()) {
                    return Err(Error::InvalidConfig(format!(
                        "a low-rank metric of dimension {n} and rank {k} has {} vector entries",
                        m.vectors.len()
                    )));
                }
                if let Some((i, v)) = m
                    .scale
                    .iter()
                    .chain(&m.values)
                    .enumerate()
                    .find(|(_, v)| !(**v > 0.0 && v.is_finite()))
                {
                    return Err(Error::InvalidConfig(format!(
                        "low-rank metric scale or eigenvalue {i} must be positive and finite, \
                         got {v}"
                    )));
                }
                for a in 0..k {
                    for b in 0..=a {
                        let dot: f64 = m
                            .vector(a)
                            .iter()
                            .zip(m.vector(b))
                            .map(|(x, y)| x * y)
                            .sum();
                        let want = if a == b { 1.0 } else { 0.0 };
                        if (dot - want).abs() >= 1e-8 || dot.is_nan() {
                            return Err(Error::InvalidConfig(format!(
                                "the low-rank metric's vectors {a} and {b} are not orthonormal \
                                 (dot product {dot})"
                            )));
                        }
                    }
                }
                Ok(())
            }
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
            Metric::Block(b) => b.diagonal.len(),
            Metric::LowRank(m) => m.scale.len(),
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
            (Metric::Block(b), false) => Metric::Diagonal(b.diagonal.clone()),
            (Metric::LowRank(_), false) => {
                Metric::Diagonal((0..self.dim()).map(|i| self.variance(i)).collect())
            }
            (Metric::Block(_) | Metric::LowRank(_), true) => {
                let n = self.dim();
                Metric::dense(self.to_dense_matrix(), n).unwrap_or_else(|_| Metric::dense_unit(n))
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
            Metric::Block(b) => {
                for ((vi, pi), di) in v.iter_mut().zip(p).zip(&b.diagonal) {
                    *vi = pi * di;
                }
                for (indices, m) in &b.blocks {
                    let n = m.dim;
                    for (k, &i) in indices.iter().enumerate() {
                        let row = &m.inverse[k * n..(k + 1) * n];
                        v[i] = row.iter().zip(indices).map(|(a, &j)| a * p[j]).sum();
                    }
                }
            }
            Metric::LowRank(m) => {
                // S (I + U (Λ − I) Uᵀ) S p
                for ((vi, pi), si) in v.iter_mut().zip(p).zip(&m.scale) {
                    *vi = pi * si;
                }
                m.apply(|l| l, v);
                for (vi, si) in v.iter_mut().zip(&m.scale) {
                    *vi *= si;
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
            Metric::Block(b) => {
                for ((o, ui), di) in out.iter_mut().zip(u).zip(&b.diagonal) {
                    *o = di.sqrt() * ui;
                }
                for (indices, m) in &b.blocks {
                    let n = m.dim;
                    for (k, &i) in indices.iter().enumerate() {
                        let row = &m.factor[k * n..k * n + k + 1];
                        out[i] = row.iter().zip(indices).map(|(a, &j)| a * u[j]).sum();
                    }
                }
            }
            Metric::LowRank(m) => {
                // L = S (I + U (Λ^½ − I) Uᵀ): L Lᵀ = M⁻¹ with the symmetric inner root
                out.copy_from_slice(u);
                m.apply(f64::sqrt, out);
                for (o, si) in out.iter_mut().zip(&m.scale) {
                    *o *= si;
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
            Metric::Block(b) => {
                for ((o, gi), di) in out.iter_mut().zip(g).zip(&b.diagonal) {
                    *o = di.sqrt() * gi;
                }
                for (indices, m) in &b.blocks {
                    let n = m.dim;
                    for (l, &j) in indices.iter().enumerate() {
                        out[j] = (l..n).map(|k| m.factor[k * n + l] * g[indices[k]]).sum();
                    }
                }
            }
            Metric::LowRank(m) => {
                // Lᵀ g = (I + U (Λ^½ − I) Uᵀ) S g
                for ((o, gi), si) in out.iter_mut().zip(g).zip(&m.scale) {
                    *o = gi * si;
                }
                m.apply(f64::sqrt, out);
            }
        }
    }

    /// The diagonal of `M⁻¹`: the variances it stands for.
    pub fn variance(&self, i: usize) -> f64 {
        match self {
            Metric::Diagonal(d) => d[i],
            Metric::Dense(m) => m.inverse[i * m.dim + i],
            Metric::Block(b) => b.diagonal[i],
            Metric::LowRank(m) => {
                let n = m.scale.len();
                let update: f64 = m
                    .values
                    .iter()
                    .enumerate()
                    .map(|(j, l)| m.vectors[j * n + i].powi(2) * (l - 1.0))
                    .sum();
                m.scale[i] * m.scale[i] * (1.0 + update)
            }
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
            Metric::Block(b) => {
                let inside = b.in_block();
                for ((pi, di), inside) in p.iter_mut().zip(&b.diagonal).zip(inside) {
                    if !inside {
                        *pi /= di.sqrt();
                    }
                }
                // each block as the dense case, on its own coordinates
                for (indices, m) in &b.blocks {
                    let n = m.dim;
                    for k in (0..n).rev() {
                        let mut s = p[indices[k]];
                        for l in k + 1..n {
                            s -= m.factor[l * n + k] * p[indices[l]];
                        }
                        p[indices[k]] = s / m.factor[k * n + k];
                    }
                }
            }
            Metric::LowRank(m) => {
                // p = S⁻¹ (I + U (Λ^-½ − I) Uᵀ) z: Cov(p) = S⁻¹ (I + U (Λ⁻¹ − I) Uᵀ) S⁻¹ = M
                m.apply(|l| 1.0 / l.sqrt(), p);
                for (pi, si) in p.iter_mut().zip(&m.scale) {
                    *pi /= si;
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
    fn a_block_metric_acts_as_its_full_matrix() {
        // coordinates 0 and 2 in a block, 1 and 3 diagonal
        let block = Metric::block(
            vec![9.0, 0.5, 9.0, 3.0],
            vec![(vec![0, 2], vec![2.0, 0.6, 0.6, 0.5])],
        )
        .unwrap();
        let full = block.to_dense_matrix();
        let dense = Metric::dense(full.clone(), 4).unwrap();
        assert_eq!(full[2], 0.6);
        assert_eq!(block.variance(0), 2.0);
        let x = [1.0, -2.0, 0.5, 4.0];
        let (mut a, mut b) = ([0.0; 4], [0.0; 4]);
        for op in [Metric::velocity, Metric::scale, Metric::scale_transpose] {
            op(&block, &x, &mut a);
            op(&dense, &x, &mut b);
            assert!(
                a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-14),
                "{a:?} {b:?}"
            );
        }
        // momenta: same draws from the same stream
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        block.sample_momentum(&mut rng, &mut a);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        dense.sample_momentum(&mut rng, &mut b);
        assert!(
            a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-14),
            "{a:?} {b:?}"
        );
        assert!(block.validate().is_ok());
        assert_eq!(dense.for_blocks(&[vec![0, 2]]), block);
        assert!(Metric::block(vec![1.0; 2], vec![(vec![1, 1], vec![1.0; 4])]).is_err());
        assert!(Metric::block(vec![1.0; 2], vec![(vec![0, 2], vec![1.0, 0.0, 0.0, 1.0])]).is_err());
    }

    /// `S (I + U (Λ − I) Uᵀ) S` in 3-d, rank 2: `U`'s columns `(1, 1, 0)/√2` and
    /// `(1, −1, 1)/√3`, `Λ = (9, 0.25)`, `S = diag(0.5, 2, 1)`.
    fn low_rank_3d() -> (Metric, Vec<f64>) {
        let (r2, r3) = (0.5f64.sqrt(), (1.0f64 / 3.0).sqrt());
        let u = [[r2, r2, 0.0], [r3, -r3, r3]];
        let (values, scale) = ([9.0, 0.25], [0.5, 2.0, 1.0]);
        let metric = Metric::low_rank(
            scale.iter().map(|s| s * s).collect(),
            u.iter().map(|c| c.to_vec()).collect(),
            values.to_vec(),
        )
        .unwrap();
        // the matrix it stands for, entry by entry
        let mut full = vec![0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                let inner = f64::from(u8::from(i == j))
                    + (0..2)
                        .map(|k| u[k][i] * u[k][j] * (values[k] - 1.0))
                        .sum::<f64>();
                full[i * 3 + j] = scale[i] * inner * scale[j];
            }
        }
        (metric, full)
    }

    #[test]
    fn a_low_rank_metric_acts_as_its_full_matrix() {
        let (metric, full) = low_rank_3d();
        assert!(metric.validate().is_ok());
        let got = metric.to_dense_matrix();
        assert!(
            got.iter().zip(&full).all(|(a, b)| (a - b).abs() < 1e-14),
            "{got:?}"
        );
        let dense = Metric::dense(full.clone(), 3).unwrap();
        for i in 0..3 {
            assert!((metric.variance(i) - full[i * 3 + i]).abs() < 1e-14);
        }
        // velocity = M⁻¹ p, as the dense matrix computes it
        let p = [1.0, -2.0, 0.5];
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        metric.velocity(&p, &mut a);
        dense.velocity(&p, &mut b);
        assert!(
            a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-13),
            "{a:?} {b:?}"
        );
        // scale and scale_transpose are L and Lᵀ of one factor with L Lᵀ = M⁻¹:
        // build L column by column and multiply
        let mut l = [[0.0; 3]; 3];
        for j in 0..3 {
            let mut e = [0.0; 3];
            e[j] = 1.0;
            let mut col = [0.0; 3];
            metric.scale(&e, &mut col);
            (0..3).for_each(|i| l[i][j] = col[i]);
            let mut row = [0.0; 3];
            metric.scale_transpose(&e, &mut row);
            (0..3).for_each(|i| assert!((row[i] - l[j][i]).abs() < 1e-14 || l[j][i] == 0.0));
        }
        for i in 0..3 {
            for j in 0..3 {
                let llt: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((llt - full[i * 3 + j]).abs() < 1e-13, "({i},{j}) {llt}");
            }
        }
        // Lᵀ again, against the columns just built (after all of them exist)
        let mut row = [0.0; 3];
        metric.scale_transpose(&p, &mut row);
        for (j, r) in row.iter().enumerate() {
            let want: f64 = (0..3).map(|i| l[i][j] * p[i]).sum();
            assert!((r - want).abs() < 1e-13);
        }
        // a momentum draw is the symmetric root of M applied to the normal draw z: its
        // kinetic energy pᵀ M⁻¹ p is exactly zᵀ z, and p solves M⁻¹ p = M^-½ z
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut z = [0.0; 3];
        z.iter_mut()
            .for_each(|z| *z = StandardNormal.sample(&mut rng));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut p = [0.0; 3];
        metric.sample_momentum(&mut rng, &mut p);
        metric.velocity(&p, &mut a);
        let kinetic: f64 = p.iter().zip(&a).map(|(p, v)| p * v).sum();
        let zz: f64 = z.iter().map(|z| z * z).sum();
        assert!(
            (kinetic - zz).abs() < 1e-12 * zz.max(1.0),
            "{kinetic} vs {zz}"
        );
        // and over many draws, Cov(p) = M: E[(M⁻¹p)(M⁻¹p)ᵀ] = M⁻¹
        let n = 100_000;
        let mut second = [0.0; 9];
        for _ in 0..n {
            metric.sample_momentum(&mut rng, &mut p);
            metric.velocity(&p, &mut a);
            for i in 0..3 {
                for j in 0..3 {
                    second[i * 3 + j] += a[i] * a[j] / n as f64;
                }
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                let se = ((full[i * 3 + i] * full[j * 3 + j] + full[i * 3 + j].powi(2)) / n as f64)
                    .sqrt();
                assert!(
                    (second[i * 3 + j] - full[i * 3 + j]).abs() < 5.0 * se,
                    "({i},{j})"
                );
            }
        }
        // the structures derived from it keep its covariance
        assert_eq!(metric.for_kernel(true).to_dense_matrix(), got);
        let Metric::Diagonal(d) = metric.for_kernel(false) else {
            panic!("diagonal expected")
        };
        assert!((0..3).all(|i| (d[i] - full[i * 3 + i]).abs() < 1e-14));
    }

    #[test]
    fn bad_low_rank_metrics_are_errors() {
        let r = 0.5f64.sqrt();
        assert!(Metric::low_rank(vec![1.0; 2], vec![vec![r, r]], vec![0.0]).is_err());
        assert!(Metric::low_rank(vec![1.0; 2], vec![vec![1.0, 1.0]], vec![2.0]).is_err());
        assert!(Metric::low_rank(vec![1.0; 2], vec![vec![r, r]; 2], vec![2.0; 2]).is_err());
        assert!(Metric::low_rank(vec![1.0; 2], vec![vec![1.0]], vec![2.0]).is_err());
        assert!(Metric::low_rank(vec![-1.0, 1.0], vec![], vec![]).is_err());
        assert!(Metric::low_rank(vec![1.0; 2], vec![vec![r, r]], vec![]).is_err());
        assert!(Metric::low_rank(vec![1.0; 2], vec![], vec![]).is_ok());
    }

    #[test]
    fn bad_metrics_are_errors() {
        assert!(Metric::diagonal(vec![1.0, 0.0]).is_err());
        assert!(Metric::dense(vec![1.0, 2.0, 2.0, 1.0], 2).is_err());
        assert!(Metric::dense(vec![1.0; 3], 2).is_err());
    }
}
