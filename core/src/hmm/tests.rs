//! Values against sums over every path, and the draws of paths against their
//! probabilities.

use super::*;

/// A deterministic pseudo-random number in (0, 1).
fn uniform(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

fn probability_vector(k: usize, state: &mut u64) -> Vec<f64> {
    let v: Vec<f64> = (0..k).map(|_| uniform(state) + 0.05).collect();
    let sum: f64 = v.iter().sum();
    v.iter().map(|x| x / sum).collect()
}

/// `ln p` by summing over all `K^N` paths.
fn brute_force(log_omega: &[f64], gamma: &[f64], rho: &[f64]) -> f64 {
    let k = rho.len();
    let n = log_omega.len() / k;
    let mut total = 0.0;
    for code in 0..k.pow(n as u32) {
        let path: Vec<usize> = (0..n).map(|t| code / k.pow(t as u32) % k).collect();
        let mut p = rho[path[0]] * log_omega[path[0] * n].exp();
        for t in 1..n {
            p *= gamma[path[t - 1] * k + path[t]] * log_omega[path[t] * n + t].exp();
        }
        total += p;
    }
    total.ln()
}

#[test]
fn matches_the_sum_over_paths() {
    let mut state = 7;
    for (k, n) in [(1, 4), (2, 1), (2, 6), (3, 5), (4, 4)] {
        let rho = probability_vector(k, &mut state);
        let gamma: Vec<f64> = (0..k)
            .flat_map(|_| probability_vector(k, &mut state))
            .collect();
        let log_omega: Vec<f64> = (0..k * n).map(|_| -3.0 * uniform(&mut state)).collect();
        let want = brute_force(&log_omega, &gamma, &rho);
        let got = hmm_marginal(&log_omega, &gamma, &rho);
        assert!(
            (got - want).abs() < 1e-13 * want.abs().max(1.0),
            "K = {k}, N = {n}: {got} vs {want}"
        );
    }
}

#[test]
fn survives_emissions_far_below_underflow() {
    // every emission shifted by -2000 per step: the value shifts by -2000 N exactly
    let (gamma, rho) = ([0.7, 0.3, 0.4, 0.6], [0.5, 0.5]);
    let base = [-0.5, -1.0, -2.0, -0.1, -0.3, -4.0];
    let shifted: Vec<f64> = base.iter().map(|v| v - 2000.0).collect();
    let want = brute_force(&base, &gamma, &rho) - 2000.0 * 3.0;
    let got = hmm_marginal(&shifted, &gamma, &rho);
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
}

#[test]
fn impossible_observations() {
    let (gamma, rho) = ([1.0, 0.0, 0.0, 1.0], [1.0, 0.0]);
    // state 0 forever, and observation 1 impossible in state 0
    let log_omega = [0.0, f64::NEG_INFINITY, 0.0, 0.0];
    assert_eq!(hmm_marginal(&log_omega, &gamma, &rho), f64::NEG_INFINITY);
    // possible in state 1 only, which the chain never reaches
    let log_omega = [0.0, -1.0, f64::NEG_INFINITY, f64::NEG_INFINITY];
    assert!((hmm_marginal(&log_omega, &gamma, &rho) + 1.0).abs() < 1e-15);
}

#[test]
fn no_observation_is_probability_one() {
    assert_eq!(
        hmm_marginal::<f64>(&[], &[0.5, 0.5, 0.5, 0.5], &[0.3, 0.7]),
        0.0
    );
}

#[test]
fn bad_inputs_are_errors_and_minus_infinity() {
    let (gamma, rho) = ([0.5, 0.5, 0.5, 0.5], [0.5, 0.5]);
    type Case<'a> = (&'a [f64], &'a [f64], &'a [f64], &'a str);
    let cases: [Case; 8] = [
        (&[0.0; 4], &gamma, &[], "rho's length"),
        (&[0.0; 3], &gamma, &rho, "log_omega's length"),
        (&[0.0; 4], &[0.5; 3], &rho, "gamma's length"),
        (&[0.0, f64::NAN, 0.0, 0.0], &gamma, &rho, "log_omega"),
        (&[0.0, f64::INFINITY, 0.0, 0.0], &gamma, &rho, "log_omega"),
        (&[0.0; 4], &gamma, &[0.5, 0.6], "rho"),
        (&[0.0; 4], &[0.5, 0.5, -0.5, 1.5], &rho, "a row of gamma"),
        (
            &[0.0; 4],
            &[0.5, 0.5, f64::NAN, 0.5],
            &rho,
            "a row of gamma",
        ),
    ];
    for (log_omega, gamma, rho, name) in cases {
        let err = try_hmm_marginal(log_omega, gamma, rho).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(hmm_marginal(log_omega, gamma, rho), f64::NEG_INFINITY);
    }
}

/// Every path's probability given the observations, by brute force: `(path, p)`.
fn path_posterior(log_omega: &[f64], gamma: &[f64], rho: &[f64]) -> Vec<(Vec<usize>, f64)> {
    let k = rho.len();
    let n = log_omega.len() / k;
    let paths: Vec<(Vec<usize>, f64)> = (0..k.pow(n as u32))
        .map(|code| {
            let path: Vec<usize> = (0..n).map(|t| code / k.pow(t as u32) % k).collect();
            let mut p = rho[path[0]] * log_omega[path[0] * n].exp();
            for t in 1..n {
                p *= gamma[path[t - 1] * k + path[t]] * log_omega[path[t] * n + t].exp();
            }
            (path, p)
        })
        .collect();
    let total: f64 = paths.iter().map(|(_, p)| p).sum();
    paths
        .into_iter()
        .map(|(path, p)| (path, p / total))
        .collect()
}

fn example(k: usize, n: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut state = seed;
    let rho = probability_vector(k, &mut state);
    let gamma: Vec<f64> = (0..k)
        .flat_map(|_| probability_vector(k, &mut state))
        .collect();
    let log_omega: Vec<f64> = (0..k * n).map(|_| -3.0 * uniform(&mut state)).collect();
    (log_omega, gamma, rho)
}

#[test]
fn hidden_state_probabilities_match_the_sum_over_paths() {
    for (k, n) in [(2, 1), (2, 5), (3, 4)] {
        let (log_omega, gamma, rho) = example(k, n, 11);
        let mut prob = vec![0.0; k * n];
        hmm_hidden_state_prob(&log_omega, &gamma, &rho, &mut prob).unwrap();
        let paths = path_posterior(&log_omega, &gamma, &rho);
        for i in 0..k {
            for t in 0..n {
                let want: f64 = paths
                    .iter()
                    .filter(|(z, _)| z[t] == i)
                    .map(|(_, p)| p)
                    .sum();
                assert!(
                    (prob[i * n + t] - want).abs() < 1e-13,
                    "K {k}, N {n}: {i}, {t}"
                );
            }
        }
    }
}

#[test]
fn latent_paths_follow_their_posterior() {
    use rand::SeedableRng;
    let (k, n) = (2, 4);
    let (log_omega, gamma, rho) = example(k, n, 5);
    let paths = path_posterior(&log_omega, &gamma, &rho);
    let mut counts = vec![0usize; paths.len()];
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
    let mut z = [0usize; 4];
    let draws = 200_000;
    for _ in 0..draws {
        hmm_latent_sample(&log_omega, &gamma, &rho, &mut rng, &mut z).unwrap();
        let code: usize = (0..n).map(|t| z[t] * k.pow(t as u32)).sum();
        counts[code] += 1;
    }
    for ((path, p), c) in paths.iter().zip(&counts) {
        // binomial count: within 4 standard deviations
        let (mean, sd) = (draws as f64 * p, (draws as f64 * p * (1.0 - p)).sqrt());
        assert!(
            (*c as f64 - mean).abs() < 4.0 * sd.max(1.0),
            "path {path:?}: {c} draws, expected {mean:.1} ± {sd:.1}"
        );
    }
}

#[test]
fn hidden_state_functions_check_their_inputs() {
    let (gamma, rho) = ([0.5; 4], [0.5, 0.5]);
    let mut prob = [0.0; 3];
    assert!(hmm_hidden_state_prob(&[0.0; 4], &gamma, &rho, &mut prob).is_err());
    let mut path = [0; 3];
    let mut rng = <rand::rngs::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(1);
    assert!(hmm_latent_sample(&[0.0; 4], &gamma, &rho, &mut rng, &mut path).is_err());
    let impossible = [f64::NEG_INFINITY; 4];
    let mut prob = [0.0; 4];
    assert!(hmm_hidden_state_prob(&impossible, &gamma, &rho, &mut prob).is_err());
}
