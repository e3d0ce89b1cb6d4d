//! The marginal log-density of a hidden Markov model (the forward algorithm), with its
//! gradient by the forward–backward recursions, recorded as one node.

use std::cell::RefCell;

use rand::{Rng, RngExt};

use crate::context::with_scratch;
use crate::error::ParamError;
use crate::real::Real;

/// How far a probability vector (`rho`, a row of `gamma`) may sum from 1.
const SIMPLEX_TOLERANCE: f64 = 1e-8;

thread_local! {
    /// The forward variables, emission ratios and partials of one evaluation.
    static HMM_WORK: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Frees this thread's scratch buffer; returns the bytes it held.
pub(crate) fn release_scratch() -> usize {
    crate::context::release_buffer(&HMM_WORK)
}

/// The bytes this thread's scratch buffer holds.
pub(crate) fn scratch_bytes() -> usize {
    crate::context::buffer_bytes(&HMM_WORK)
}

/// The log marginal density of a hidden Markov model with `K` states over `N` steps,
/// summing over every path of hidden states by the forward algorithm; Stan's
/// `hmm_marginal(log_omega, Gamma, rho)`.
///
/// # Density
/// ```text
/// ln p = ln Σ_{z₀…z_{N-1}} ρ_{z₀} ω_{z₀,0} Πₙ₌₁^{N-1} Γ_{z_{n-1} zₙ} ω_{zₙ,n}
/// ```
/// computed in `O(K² N)` with the scaled forward recursion.
///
/// # Parameters
/// - `log_omega` (`ln ω`): `K × N` row-major, `log_omega[k * N + n]` the log-density
///   of observation `n` under state `k` (Stan's `log_omega[k, n]`). `-∞` is allowed (an
///   observation impossible in a state).
/// - `gamma` (`Γ`): the `K × K` row-major transition matrix,
///   `gamma[i * K + j] = P(zₙ = j | zₙ₋₁ = i)`; each row a probability vector.
/// - `rho` (`ρ`): the initial distribution, a probability vector of length `K`, which
///   fixes `K`.
///
/// # Errors
/// No panic: for inputs [`try_hmm_marginal`] rejects (mismatched lengths, `K = 0`, NaN
/// or `+∞` in `log_omega`, a `gamma` row or `rho` that is not a probability vector to
/// 1e-8) the value is `-∞`, so a sampler rejects the point. Use [`try_hmm_marginal`]
/// to learn which input is wrong.
///
/// # Gradient
/// One node ([`Real::fused`]) whose partials come from the backward recursion:
/// `∂/∂ln ω_{k,n} = P(zₙ = k | y)`, `∂/∂Γ_{ij} = Σₙ α_{n-1}(i) ω_{j,n} β_n(j) / p` and
/// `∂/∂ρₖ = ω_{k,0} β₀(k) / p`, with `α`, `β` the forward and backward variables. The
/// partials with respect to `Γ` and `ρ` are those of the polynomial, without
/// projection onto the simplex (as Stan's).
///
/// # Example
/// ```
/// use tilde_core::math::hmm_marginal;
///
/// // two states, two steps: sum over the four paths by hand
/// let log_omega = [0.1f64.ln(), 0.2f64.ln(), 0.3f64.ln(), 0.4f64.ln()]; // state 0: n = 0, 1
/// let gamma = [0.9, 0.1, 0.2, 0.8];
/// let rho = [0.6, 0.4];
/// let paths: f64 = 0.6 * 0.1 * (0.9 * 0.2 + 0.1 * 0.4) + 0.4 * 0.3 * (0.2 * 0.2 + 0.8 * 0.4);
/// assert!((hmm_marginal(&log_omega, &gamma, &rho) - paths.ln()).abs() < 1e-15);
/// ```
pub fn hmm_marginal<T: Real>(log_omega: &[T], gamma: &[T], rho: &[T]) -> T {
    try_hmm_marginal(log_omega, gamma, rho).unwrap_or_else(|_| T::from(f64::NEG_INFINITY))
}

/// [`hmm_marginal`], with its inputs checked: the error names the first one that is
/// wrong.
///
/// # Errors
/// [`ParamError::Invalid`] when `rho` is empty, when the length of `log_omega` is not a
/// multiple of `K = rho.len()` or that of `gamma` is not `K²`, when `log_omega` holds
/// NaN or `+∞`, or when `rho` or a row of `gamma` is not a probability vector (entries
/// finite and non-negative, summing to 1 within 1e-8).
///
/// ```
/// use tilde_core::math::try_hmm_marginal;
///
/// let err = try_hmm_marginal(&[0.0, 0.0, 0.0], &[1.0, 0.0, 0.0, 1.0], &[0.5, 0.5]);
/// assert!(err.unwrap_err().to_string().contains("log_omega"));
/// ```
pub fn try_hmm_marginal<T: Real>(log_omega: &[T], gamma: &[T], rho: &[T]) -> Result<T, ParamError> {
    let k = rho.len();
    check_inputs(log_omega, gamma, rho)?;
    let n = log_omega.len() / k;
    if n == 0 {
        // no observation: the sum of the initial distribution, ln 1 = 0
        return Ok(T::fused(0.0, rho.iter().map(|&r| (r, 1.0))));
    }
    let track = T::TRACKS_DERIVATIVES;
    // alpha (n-major), scaled emissions (n-major), scales, then for the backward pass:
    // partials of log_omega (k-major), of gamma, of rho, and two vectors of K
    let len = if track {
        3 * k * n + n + k * k + 3 * k
    } else {
        2 * k * n + n
    };
    Ok(with_scratch(&HMM_WORK, len, 0.0, |work| {
        let (alpha, rest) = work.split_at_mut(k * n);
        let (omega, rest) = rest.split_at_mut(k * n);
        let (scale, rest) = rest.split_at_mut(n);
        let value = forward(log_omega, gamma, rho, k, n, alpha, omega, scale);
        if !track || value == f64::NEG_INFINITY {
            return T::from(value);
        }
        let (d_log_omega, rest) = rest.split_at_mut(k * n);
        let (d_gamma, rest) = rest.split_at_mut(k * k);
        let (d_rho, rest) = rest.split_at_mut(k);
        let (beta, next) = rest.split_at_mut(k);
        backward(
            gamma,
            (k, n),
            (alpha, omega, scale),
            (d_log_omega, d_gamma, d_rho),
            (beta, next),
        );
        T::fused(
            value,
            log_omega
                .iter()
                .zip(d_log_omega.iter())
                .chain(gamma.iter().zip(d_gamma.iter()))
                .chain(rho.iter().zip(d_rho.iter()))
                .map(|(&t, &w)| (t, w)),
        )
    }))
}

/// The smoothed probabilities of the hidden states, `P(zₙ = k | every observation)`,
/// written into `out` (`K × N` row-major, as `log_omega`); Stan's
/// `hmm_hidden_state_prob`. Inputs as [`hmm_marginal`]'s.
///
/// # Errors
/// As [`try_hmm_marginal`]; also when `out` is not `K × N`, or when no path of states
/// has positive probability.
///
/// ```
/// use tilde_core::math::hmm_hidden_state_prob;
///
/// let log_omega = [0.9f64.ln(), 0.2f64.ln(), 0.1f64.ln(), 0.8f64.ln()];
/// let mut prob = [0.0; 4];
/// hmm_hidden_state_prob(&log_omega, &[0.5; 4], &[0.5, 0.5], &mut prob)?;
/// assert!((prob[0] - 0.9).abs() < 1e-15);              // independent steps here
/// assert!((prob[0] + prob[2] - 1.0).abs() < 1e-15);
/// # Ok::<(), tilde_core::ParamError>(())
/// ```
pub fn hmm_hidden_state_prob(
    log_omega: &[f64],
    gamma: &[f64],
    rho: &[f64],
    out: &mut [f64],
) -> Result<(), ParamError> {
    check_inputs(log_omega, gamma, rho)?;
    if out.len() != log_omega.len() {
        return Err(ParamError::Invalid {
            name: "out's length",
            requirement: "that of log_omega (K × N)",
            value: out.len() as f64,
        });
    }
    let k = rho.len();
    let n = log_omega.len() / k;
    if n == 0 {
        return Ok(());
    }
    let len = 2 * k * n + n + k * k + 3 * k;
    with_scratch(&HMM_WORK, len, 0.0, |work| {
        let (alpha, rest) = work.split_at_mut(k * n);
        let (omega, rest) = rest.split_at_mut(k * n);
        let (scale, rest) = rest.split_at_mut(n);
        if forward(log_omega, gamma, rho, k, n, alpha, omega, scale) == f64::NEG_INFINITY {
            return Err(no_path());
        }
        let (d_gamma, rest) = rest.split_at_mut(k * k);
        let (d_rho, rest) = rest.split_at_mut(k);
        let (beta, next) = rest.split_at_mut(k);
        backward(
            gamma,
            (k, n),
            (alpha, omega, scale),
            (out, d_gamma, d_rho),
            (beta, next),
        );
        Ok(())
    })
}

/// Draws a path of hidden states from its distribution given every observation
/// (forward filtering, backward sampling), written into `out` (`N` states in `0..K`);
/// Stan's `hmm_latent_rng`. Inputs as [`hmm_marginal`]'s.
///
/// # Errors
/// As [`try_hmm_marginal`]; also when `out` does not hold `N` states, or when no path
/// of states has positive probability.
///
/// ```
/// use tilde_core::math::hmm_latent_sample;
/// use tilde_core::rand::SeedableRng;
/// use tilde_core::rand::rngs::Xoshiro256PlusPlus;
///
/// // state 1 is absorbing and observation 1 impossible in state 0
/// let log_omega = [0.0, f64::NEG_INFINITY, 0.0, 0.0, 0.0, 0.0];
/// let gamma = [0.5, 0.5, 0.0, 1.0];
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
/// let mut path = [0; 3];
/// hmm_latent_sample(&log_omega, &gamma, &[0.5, 0.5], &mut rng, &mut path)?;
/// assert_eq!(path[1..], [1, 1]);
/// # Ok::<(), tilde_core::ParamError>(())
/// ```
pub fn hmm_latent_sample<R: Rng + ?Sized>(
    log_omega: &[f64],
    gamma: &[f64],
    rho: &[f64],
    rng: &mut R,
    out: &mut [usize],
) -> Result<(), ParamError> {
    check_inputs(log_omega, gamma, rho)?;
    let k = rho.len();
    let n = log_omega.len() / k;
    if out.len() != n {
        return Err(ParamError::Invalid {
            name: "out's length",
            requirement: "the number of steps N",
            value: out.len() as f64,
        });
    }
    if n == 0 {
        return Ok(());
    }
    with_scratch(&HMM_WORK, 2 * k * n + n + k, 0.0, |work| {
        let (alpha, rest) = work.split_at_mut(k * n);
        let (omega, rest) = rest.split_at_mut(k * n);
        let (scale, weights) = rest.split_at_mut(n);
        if forward(log_omega, gamma, rho, k, n, alpha, omega, scale) == f64::NEG_INFINITY {
            return Err(no_path());
        }
        out[n - 1] = categorical(&alpha[(n - 1) * k..], rng);
        for t in (0..n - 1).rev() {
            let next = out[t + 1];
            for (i, w) in weights.iter_mut().enumerate() {
                *w = alpha[t * k + i] * gamma[i * k + next];
            }
            out[t] = categorical(weights, rng);
        }
        Ok(())
    })
}

/// An index drawn with probabilities proportional to `weights` (not all zero).
fn categorical<R: Rng + ?Sized>(weights: &[f64], rng: &mut R) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            if u < w {
                return i;
            }
            u -= w;
            last = i;
        }
    }
    // rounding left u at the top: the last state of positive weight
    last
}

/// The error of observations that no path of states can produce.
fn no_path() -> ParamError {
    ParamError::Invalid {
        name: "log_omega",
        requirement: "observations that some path of states can produce",
        value: f64::NEG_INFINITY,
    }
}

/// Checks the shapes and values of the inputs of [`try_hmm_marginal`].
fn check_inputs<T: Real>(log_omega: &[T], gamma: &[T], rho: &[T]) -> Result<(), ParamError> {
    let k = rho.len();
    let invalid = |name, requirement, value| {
        Err(ParamError::Invalid {
            name,
            requirement,
            value,
        })
    };
    if k == 0 {
        return invalid("rho's length (the number of states)", "at least 1", 0.0);
    }
    if !log_omega.len().is_multiple_of(k) {
        return invalid(
            "log_omega's length",
            "a multiple of the number of states K = rho.len() (K × N, row-major)",
            log_omega.len() as f64,
        );
    }
    if gamma.len() != k * k {
        return invalid(
            "gamma's length",
            "K² for K = rho.len() (K × K, row-major)",
            gamma.len() as f64,
        );
    }
    if let Some(v) = log_omega
        .iter()
        .map(|v| v.value())
        .find(|v| v.is_nan() || *v == f64::INFINITY)
    {
        return invalid("an entry of log_omega", "a log-density (not NaN or +∞)", v);
    }
    if let Some(v) = simplex_fault(rho.iter().map(|v| v.value())) {
        return invalid("rho", "a probability vector (entries ≥ 0 summing to 1)", v);
    }
    for row in gamma.chunks_exact(k) {
        if let Some(v) = simplex_fault(row.iter().map(|v| v.value())) {
            return invalid(
                "a row of gamma",
                "a probability vector (entries ≥ 0 summing to 1)",
                v,
            );
        }
    }
    Ok(())
}

/// The offending value of a vector that is not a probability vector (a bad entry, or
/// the sum), or `None`.
fn simplex_fault(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut sum = 0.0;
    for v in values {
        if !(v.is_finite() && v >= 0.0) {
            return Some(v);
        }
        sum += v;
    }
    ((sum - 1.0).abs() > SIMPLEX_TOLERANCE).then_some(sum)
}

/// The scaled forward recursion: `alpha[n * k + i]` the filtered probability of state
/// `i` at step `n`, `omega[n * k + i] = exp(ln ω_{i,n} - maxᵢ ln ω_{i,n})`, `scale[n]`
/// the normaliser of step `n`. Returns `ln p` (`-∞` when no path has positive
/// probability).
#[allow(clippy::too_many_arguments)]
fn forward<T: Real>(
    log_omega: &[T],
    gamma: &[T],
    rho: &[T],
    k: usize,
    n: usize,
    alpha: &mut [f64],
    omega: &mut [f64],
    scale: &mut [f64],
) -> f64 {
    let mut value = 0.0;
    for t in 0..n {
        let max = (0..k)
            .map(|i| log_omega[i * n + t].value())
            .fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        for i in 0..k {
            omega[t * k + i] = (log_omega[i * n + t].value() - max).exp();
        }
        let mut sum = 0.0;
        for j in 0..k {
            let prior = if t == 0 {
                rho[j].value()
            } else {
                (0..k)
                    .map(|i| alpha[(t - 1) * k + i] * gamma[i * k + j].value())
                    .sum()
            };
            let a = prior * omega[t * k + j];
            alpha[t * k + j] = a;
            sum += a;
        }
        if !(sum > 0.0 && sum.is_finite()) {
            return f64::NEG_INFINITY;
        }
        alpha[t * k..(t + 1) * k].iter_mut().for_each(|a| *a /= sum);
        scale[t] = sum;
        value += max + sum.ln();
    }
    value
}

/// The scaled backward recursion, writing the partials of `ln p` with respect to
/// `log_omega` (`K × N`, as the input), `gamma` and `rho`; `beta` and `next` hold `K`
/// values each.
fn backward<T: Real>(
    gamma: &[T],
    (k, n): (usize, usize),
    (alpha, omega, scale): (&[f64], &[f64], &[f64]),
    (d_log_omega, d_gamma, d_rho): (&mut [f64], &mut [f64], &mut [f64]),
    (beta, next): (&mut [f64], &mut [f64]),
) {
    beta.iter_mut().for_each(|b| *b = 1.0);
    d_gamma.iter_mut().for_each(|d| *d = 0.0);
    for t in (0..n).rev() {
        for i in 0..k {
            // the smoothed probability of state i at step t
            d_log_omega[i * n + t] = alpha[t * k + i] * beta[i];
        }
        // omega_t(j) beta_t(j) / s_t, shared by the three partials below
        for j in 0..k {
            next[j] = omega[t * k + j] * beta[j] / scale[t];
        }
        if t == 0 {
            d_rho.copy_from_slice(next);
            break;
        }
        for i in 0..k {
            let a = alpha[(t - 1) * k + i];
            let mut b = 0.0;
            for j in 0..k {
                d_gamma[i * k + j] += a * next[j];
                b += gamma[i * k + j].value() * next[j];
            }
            beta[i] = b;
        }
    }
}

#[cfg(test)]
mod tests;
