//! A radix-2 fast Fourier transform and the autocovariances it gives in `O(N log N)`:
//! what the ESS of [`diagnostics`](crate::diagnostics) needs beyond its first lags.
//!
//! # Formula
//!
//! For real series `xₘ` of length `N`, zero-padded to a power of two `L ≥ 2N − 1` (so
//! the circular correlation is the linear one),
//!
//! ```text
//! Σₘ Σₙ₌₀^{N−t−1} xₘ,ₙ xₘ,ₙ₊ₜ = (1/L) IDFT( Σₘ |DFT(xₘ)|² )(t),    t < N
//! ```
//!
//! Two real series ride in one complex transform, `z = xₐ + i x_b`: then
//! `|Xₐ(k)|² + |X_b(k)|² = (|Z(k)|² + |Z(L − k)|²) / 2`, so `M` chains cost `⌈M/2⌉`
//! forward transforms and one inverse.

/// Twiddle factors of a transform of length `len` (a power of two).
pub(crate) struct Fft {
    len: usize,
    /// `cos(2πk/len)` and `sin(2πk/len)` for `k < len/2`, each computed directly so
    /// that rounding does not accumulate along the table.
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl Fft {
    /// The transform of length `len`.
    ///
    /// # Panics
    /// When `len` is not a power of two (an internal invariant: callers pad).
    pub(crate) fn new(len: usize) -> Self {
        assert!(
            len.is_power_of_two(),
            "fft length must be a power of two, got {len}"
        );
        let (sin, cos) = (0..len / 2)
            .map(|k| (std::f64::consts::TAU * k as f64 / len as f64).sin_cos())
            .unzip();
        Fft { len, cos, sin }
    }

    /// In place: `(re, im) ← Σₙ (re + i im)ₙ e^{sign · 2πi kn/len}`, unnormalised.
    fn transform(&self, re: &mut [f64], im: &mut [f64], sign: f64) {
        let n = self.len;
        assert!(
            re.len() == n && im.len() == n,
            "fft buffers must have length {n}"
        );
        let bits = n.trailing_zeros();
        if bits == 0 {
            return;
        }
        for i in 0..n {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if i < j {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let mut width = 2;
        while width <= n {
            let half = width / 2;
            let stride = n / width;
            for start in (0..n).step_by(width) {
                for k in 0..half {
                    let (c, s) = (self.cos[k * stride], sign * self.sin[k * stride]);
                    let (a, b) = (start + k, start + k + half);
                    let xr = re[b] * c - im[b] * s;
                    let xi = re[b] * s + im[b] * c;
                    re[b] = re[a] - xr;
                    im[b] = im[a] - xi;
                    re[a] += xr;
                    im[a] += xi;
                }
            }
            width *= 2;
        }
    }

    /// The discrete Fourier transform, in place (`e^{−2πi kn/len}`).
    pub(crate) fn forward(&self, re: &mut [f64], im: &mut [f64]) {
        self.transform(re, im, -1.0);
    }

    /// The inverse transform without the `1/len` factor, in place.
    pub(crate) fn inverse_unscaled(&self, re: &mut [f64], im: &mut [f64]) {
        self.transform(re, im, 1.0);
    }
}

/// `out[t] = Σₘ Σₙ₌₀^{N−t−1} xₘ,ₙ xₘ,ₙ₊ₜ` for `t < N`, where the chains (each of length
/// `N`) are given as is: centre them first for autocovariances.
pub(crate) fn lagged_product_sums<'a>(
    chains: impl Iterator<Item = &'a [f64]>,
    num_draws: usize,
) -> Vec<f64> {
    let len = (2 * num_draws).max(1).next_power_of_two();
    let fft = Fft::new(len);
    let mut power = vec![0.0; len];
    let (mut re, mut im) = (vec![0.0; len], vec![0.0; len]);
    let mut chains = chains.peekable();
    while let Some(a) = chains.next() {
        let b = chains.next();
        re.fill(0.0);
        im.fill(0.0);
        re[..num_draws].copy_from_slice(a);
        if let Some(b) = b {
            im[..num_draws].copy_from_slice(b);
        }
        fft.forward(&mut re, &mut im);
        for k in 0..len {
            let j = (len - k) % len;
            let here = re[k] * re[k] + im[k] * im[k];
            let mirror = re[j] * re[j] + im[j] * im[j];
            power[k] += 0.5 * (here + mirror);
        }
    }
    im.fill(0.0);
    fft.inverse_unscaled(&mut power, &mut im);
    power.truncate(num_draws);
    for p in &mut power {
        *p /= len as f64;
    }
    power
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    use super::*;

    fn direct(chains: &[Vec<f64>]) -> Vec<f64> {
        let n = chains[0].len();
        (0..n)
            .map(|t| {
                chains
                    .iter()
                    .map(|x| (0..n - t).map(|i| x[i] * x[i + t]).sum::<f64>())
                    .sum()
            })
            .collect()
    }

    #[test]
    fn transform_of_a_known_signal() {
        // x = [1, 2, 3, 4]: DFT = [10, −2 + 2i, −2, −2 − 2i]
        let fft = Fft::new(4);
        let (mut re, mut im) = (vec![1.0, 2.0, 3.0, 4.0], vec![0.0; 4]);
        fft.forward(&mut re, &mut im);
        let expected = [(10.0, 0.0), (-2.0, 2.0), (-2.0, 0.0), (-2.0, -2.0)];
        for (k, (r, i)) in expected.iter().enumerate() {
            assert!(
                (re[k] - r).abs() < 1e-14 && (im[k] - i).abs() < 1e-14,
                "{k}"
            );
        }
        fft.inverse_unscaled(&mut re, &mut im);
        for (k, x) in [1.0, 2.0, 3.0, 4.0].iter().enumerate() {
            assert!((re[k] / 4.0 - x).abs() < 1e-14 && im[k].abs() < 1e-14);
        }
    }

    #[test]
    fn lagged_sums_equal_the_direct_sums() {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(17);
        // odd and even chain counts (pairing), lengths around powers of two
        for (num_chains, n) in [(1, 1), (1, 5), (3, 64), (4, 65), (8, 500), (5, 1000)] {
            let chains: Vec<Vec<f64>> = (0..num_chains)
                .map(|_| {
                    let mut x = 0.0;
                    (0..n)
                        .map(|_| {
                            x = 0.9 * x + rng.random_range(-1.0..1.0);
                            x
                        })
                        .collect()
                })
                .collect();
            let fft = lagged_product_sums(chains.iter().map(Vec::as_slice), n);
            let direct = direct(&chains);
            let scale = direct[0];
            for (t, (a, b)) in fft.iter().zip(&direct).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-12 * scale,
                    "{num_chains} chains of {n}, lag {t}: {a} vs {b}"
                );
            }
        }
    }
}
