//! Dense `f64` kernels at the speed of the machine: the dot product and `y += a·x`,
//! in SIMD registers with the widest instruction set the CPU has, detected at run
//! time (AVX2 and FMA on x86-64), so a portable build runs as fast as one compiled
//! for the machine. Linear predictors (`x[n·d + j] · β[j]` summed over `j`) in the
//! generated gradient code, GLM rows and matrix-vector products call these.
//!
//! Results agree with the sequential sums to rounding: the sum is taken in eight
//! independent partial sums (sixteen, in four registers, with AVX2; and fused
//! multiply-adds where the CPU has them), added pairwise at the end.

/// Partial sums of [`dot`]: enough independent additions to keep the adders busy.
const LANES: usize = 8;

/// `Σⱼ aⱼ bⱼ` over the common length of `a` and `b`.
///
/// # Example
/// ```
/// let a = [1.0, 2.0, 3.0];
/// assert_eq!(tilde_core::simd::dot(&a, &[4.0, 5.0, 6.0]), 32.0);
/// ```
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 * LANES {
        // too short for partial sums to pay
        return a[..n].iter().zip(&b[..n]).fold(0.0, |s, (x, y)| s + x * y);
    }
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2_fma() {
        return x86::dot(a, b);
    }
    dot_lanes::<false>(a, b)
}

/// `y[j] += a · x[j]` over the common length of `x` and `y`.
///
/// # Example
/// ```
/// let mut y = [1.0, 1.0];
/// tilde_core::simd::axpy(2.0, &[3.0, 4.0], &mut y);
/// assert_eq!(y, [7.0, 9.0]);
/// ```
#[inline]
pub fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if x.len().min(y.len()) >= 2 * LANES && x86::has_avx2_fma() {
        x86::axpy(a, x, y);
        return;
    }
    axpy_lanes::<false>(a, x, y);
}

/// `y[j] += Σₖ aₖ · xₖ[j]` (`k` in order) over the common length of the rows and `y`:
/// `K` [`axpy`]s with one load and store of `y` for all of them, the same numbers as
/// the `K` calls in turn.
///
/// # Example
/// ```
/// let mut y = [1.0, 1.0];
/// tilde_core::simd::axpy_rows(&[2.0, 1.0], &[&[3.0, 4.0], &[1.0, 1.0]], &mut y);
/// assert_eq!(y, [8.0, 10.0]);
/// ```
#[inline]
pub fn axpy_rows<const K: usize>(a: &[f64; K], x: &[&[f64]; K], y: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if y.len() >= 2 * LANES && x86::has_avx2_fma() {
        x86::axpy_rows(a, x, y);
        return;
    }
    axpy_rows_lanes::<K, false>(a, x, y);
}

/// The sum of partial sums, added pairwise (`(s₀ + s₁) + (s₂ + s₃)`, …).
///
/// # Example
/// ```
/// assert_eq!(tilde_core::simd::pairwise_sum(&[1.0, 2.0, 3.0]), 6.0);
/// ```
#[inline(always)]
pub fn pairwise_sum<const L: usize>(lanes: &[f64; L]) -> f64 {
    // the width the generated code and `dot` use, written out so it compiles to
    // additions in registers (the loop below goes through memory)
    if let Ok(s) = <&[f64; 8]>::try_from(lanes.as_slice()) {
        return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
    let mut sums = *lanes;
    let mut width = L;
    while width > 1 {
        let half = width / 2;
        for j in 0..half {
            sums[j] = sums[2 * j] + sums[2 * j + 1];
        }
        if width % 2 == 1 {
            sums[half] = sums[width - 1];
            width = half + 1;
        } else {
            width = half;
        }
    }
    if L == 0 { 0.0 } else { sums[0] }
}

/// The portable body of [`dot`]; `FUSED` uses `mul_add` (only where the CPU has FMA).
#[inline(always)]
fn dot_lanes<const FUSED: bool>(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; LANES];
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (x, y) in chunks_a.zip(chunks_b) {
        for j in 0..LANES {
            acc[j] = if FUSED {
                x[j].mul_add(y[j], acc[j])
            } else {
                acc[j] + x[j] * y[j]
            };
        }
    }
    for (j, (x, y)) in rest_a.iter().zip(rest_b).enumerate() {
        acc[j] += x * y;
    }
    pairwise_sum(&acc)
}

/// The portable body of [`axpy`].
#[inline(always)]
fn axpy_lanes<const FUSED: bool>(a: f64, x: &[f64], y: &mut [f64]) {
    for (yj, xj) in y.iter_mut().zip(x) {
        *yj = if FUSED {
            a.mul_add(*xj, *yj)
        } else {
            *yj + a * xj
        };
    }
}

/// The portable body of [`axpy_rows`].
#[inline(always)]
fn axpy_rows_lanes<const K: usize, const FUSED: bool>(
    a: &[f64; K],
    x: &[&[f64]; K],
    y: &mut [f64],
) {
    let n = x.iter().fold(y.len(), |n, row| n.min(row.len()));
    let x: [&[f64]; K] = x.map(|row| &row[..n]);
    for (j, yj) in y[..n].iter_mut().enumerate() {
        let mut v = *yj;
        for k in 0..K {
            v = if FUSED {
                a[k].mul_add(x[k][j], v)
            } else {
                v + a[k] * x[k][j]
            };
        }
        *yj = v;
    }
}

/// The AVX2 + FMA versions, compiled for those instructions and called only after the
/// CPU was seen to have them.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    /// Whether the CPU has AVX2 and FMA (the answer is cached by the standard library).
    #[inline]
    pub(super) fn has_avx2_fma() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
        // SAFETY: `has_avx2_fma()` was true before this call: the CPU has the
        // instructions `dot_avx2` is compiled for.
        unsafe { dot_avx2(a, b) }
    }

    pub(super) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
        // SAFETY: as in `dot`.
        unsafe { axpy_avx2(a, x, y) }
    }

    pub(super) fn axpy_rows<const K: usize>(a: &[f64; K], x: &[&[f64]; K], y: &mut [f64]) {
        // SAFETY: as in `dot`.
        unsafe { axpy_rows_avx2(a, x, y) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn axpy_rows_avx2<const K: usize>(a: &[f64; K], x: &[&[f64]; K], y: &mut [f64]) {
        super::axpy_rows_lanes::<K, true>(a, x, y);
    }

    /// [`super::dot`] in four 256-bit registers: sixteen partial sums (the value at `j`
    /// goes to sum `j mod 16`), enough for both fused multiply-add units to start one
    /// every cycle; the registers are added pairwise, then their halves and lanes, and
    /// the last `n mod 4` products are added in order.
    #[target_feature(enable = "avx2,fma")]
    fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
        use std::arch::x86_64::{
            _mm_add_pd, _mm_add_sd, _mm_cvtsd_f64, _mm_unpackhi_pd, _mm256_add_pd,
            _mm256_castpd256_pd128, _mm256_extractf128_pd, _mm256_fmadd_pd, _mm256_loadu_pd,
            _mm256_setzero_pd,
        };
        const WIDTH: usize = 4;
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        // `x[k·WIDTH..]·y[k·WIDTH..]` added to `sum`, four at once
        let fma = |x: &[f64], y: &[f64], k: usize, sum| {
            assert!(x.len().min(y.len()) >= WIDTH * (k + 1));
            // SAFETY: the `WIDTH` values from `WIDTH·k` are in bounds (asserted; the
            // check folds away at every call below); the loads need no alignment.
            let (xv, yv) = unsafe {
                (
                    _mm256_loadu_pd(x.as_ptr().add(WIDTH * k)),
                    _mm256_loadu_pd(y.as_ptr().add(WIDTH * k)),
                )
            };
            _mm256_fmadd_pd(xv, yv, sum)
        };
        let [mut s0, mut s1, mut s2, mut s3] = [_mm256_setzero_pd(); 4];
        let (blocks_a, blocks_b) = (a.chunks_exact(4 * WIDTH), b.chunks_exact(4 * WIDTH));
        let (rest_a, rest_b) = (blocks_a.remainder(), blocks_b.remainder());
        for (x, y) in blocks_a.zip(blocks_b) {
            s0 = fma(x, y, 0, s0);
            s1 = fma(x, y, 1, s1);
            s2 = fma(x, y, 2, s2);
            s3 = fma(x, y, 3, s3);
        }
        // the last whole groups of four, one register each
        let quads = rest_a.len() / WIDTH;
        if quads > 0 {
            s0 = fma(rest_a, rest_b, 0, s0);
        }
        if quads > 1 {
            s1 = fma(rest_a, rest_b, 1, s1);
        }
        if quads > 2 {
            s2 = fma(rest_a, rest_b, 2, s2);
        }
        let (tail_a, tail_b) = (&rest_a[quads * WIDTH..], &rest_b[quads * WIDTH..]);
        let sum = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3));
        let half = _mm_add_pd(_mm256_castpd256_pd128(sum), _mm256_extractf128_pd::<1>(sum));
        let mut total = _mm_cvtsd_f64(_mm_add_sd(half, _mm_unpackhi_pd(half, half)));
        for (x, y) in tail_a.iter().zip(tail_b) {
            total = x.mul_add(*y, total);
        }
        total
    }

    #[target_feature(enable = "avx2,fma")]
    fn axpy_avx2(a: f64, x: &[f64], y: &mut [f64]) {
        super::axpy_lanes::<true>(a, x, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values whose products and sums are exact in `f64`, so every order of summation
    /// gives the same number.
    fn exact(n: usize, seed: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * 7 + seed * 13) % 17) as f64 - 8.0)
            .collect()
    }

    #[test]
    fn dot_and_axpy_equal_the_sequential_loops_at_every_length() {
        for n in 0..70 {
            let (a, b) = (exact(n, 1), exact(n + 3, 2));
            let sequential: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a, &b), sequential, "n = {n}");
            let mut y = exact(n, 3);
            let mut expected = y.clone();
            for (e, x) in expected.iter_mut().zip(&a) {
                *e += 0.5 * x;
            }
            axpy(0.5, &a, &mut y);
            assert_eq!(y, expected, "n = {n}");
            // several rows at once: the same numbers as one axpy after another
            let (b, c) = (exact(n, 4), exact(n, 5));
            let mut together = exact(n, 6);
            let mut in_turn = together.clone();
            axpy_rows(&[0.5, -2.0, 0.25], &[&a, &b, &c], &mut together);
            for (w, row) in [(0.5, &a), (-2.0, &b), (0.25, &c)] {
                axpy(w, row, &mut in_turn);
            }
            assert_eq!(together, in_turn, "n = {n}");
        }
    }

    #[test]
    fn the_portable_and_the_detected_paths_agree_to_rounding() {
        let a: Vec<f64> = (0..1001).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..1001).map(|i| (i as f64 * 0.11).cos()).collect();
        let sequential: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        for value in [dot(&a, &b), dot_lanes::<false>(&a, &b)] {
            assert!((value - sequential).abs() <= 1e-13 * a.len() as f64);
        }
    }

    #[test]
    fn rows_at_once_give_the_numbers_of_axpys_in_turn() {
        for n in [5, 16, 40, 1001] {
            let rows: Vec<Vec<f64>> = (0..4)
                .map(|k| (0..n).map(|j| ((j * 3 + k) as f64 * 0.37).sin()).collect())
                .collect();
            let weights = [0.3, -1.7, 2.9, 1e-3];
            let mut together: Vec<f64> = (0..n).map(|j| (j as f64 * 0.11).cos()).collect();
            let mut in_turn = together.clone();
            axpy_rows(
                &weights,
                &[&rows[0], &rows[1], &rows[2], &rows[3]],
                &mut together,
            );
            for (w, row) in weights.iter().zip(&rows) {
                axpy(*w, row, &mut in_turn);
            }
            assert_eq!(together, in_turn, "n = {n}");
        }
    }

    #[test]
    fn pairwise_sums_of_any_width() {
        assert_eq!(pairwise_sum::<0>(&[]), 0.0);
        assert_eq!(pairwise_sum(&[2.5]), 2.5);
        assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0, 4.0, 5.0]), 15.0);
        assert_eq!(pairwise_sum(&[1.0; 8]), 8.0);
    }
}
