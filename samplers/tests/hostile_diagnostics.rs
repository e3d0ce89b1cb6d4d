//! Hostile input for the diagnostics, PSIS and the SBC test (issue 16): chains of
//! equal length holding NaN, ±∞ and extreme values, and any rank counts, never panic.
//! (Chains of unequal lengths are a documented caller-contract panic.)

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tilde_samplers::diagnostics::{
    e_bfmi, ess_bulk, ess_mean, ess_tail, mcse_mean, mcse_sd, mean, quantile, quantiles, rhat, sd,
};
use tilde_samplers::loo::{psis, psis_loo, waic};
use tilde_samplers::sbc::uniformity_p_value;

fn hostile() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(f64::MIN_POSITIVE / 8.0),
        any::<f64>(),
        -5.0..5.0f64,
        -5.0..5.0f64,
        -5.0..5.0f64,
    ]
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[16; 32]),
    )
}

#[test]
fn diagnostics_of_hostile_chains_never_panic() {
    let chains = (1usize..5, 0usize..40).prop_flat_map(|(m, n)| {
        proptest::collection::vec(proptest::collection::vec(hostile(), n), m)
    });
    runner(400)
        .run(&(chains, hostile()), |(chains, q)| {
            let views: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            for f in [
                mean, sd, rhat, ess_bulk, ess_tail, ess_mean, mcse_mean, mcse_sd,
            ] {
                let _ = f(&views);
            }
            let _ = quantile(&views, q);
            prop_assert_eq!(quantiles(&views, &[q, 0.5]).len(), 2);
            let _ = e_bfmi(&chains[0]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn psis_of_hostile_log_likelihoods_never_panics() {
    let log_lik = (1usize..3, 1usize..30, 1usize..4).prop_flat_map(|(c, d, o)| {
        proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(hostile(), o), d),
            c,
        )
    });
    runner(300)
        .run(&log_lik, |log_lik| {
            let loo = psis_loo(&log_lik, 1.0);
            prop_assert_eq!(loo.pointwise.len(), log_lik[0][0].len());
            let _ = waic(&log_lik);
            let mut ratios: Vec<f64> = log_lik.iter().flatten().flatten().copied().collect();
            let _ = psis(&mut ratios);
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_uniformity_test_takes_any_counts() {
    let ranks = proptest::collection::vec(any::<usize>(), 0..20);
    runner(500)
        .run(
            &(ranks, any::<usize>(), 0usize..40),
            |(ranks, num_draws, bins)| {
                let p = uniformity_p_value(&ranks, num_draws, bins);
                prop_assert!(p.is_nan() || (0.0..=1.0 + 1e-12).contains(&p), "{p}");
                Ok(())
            },
        )
        .unwrap();
    // no bins, no ranks, or more bins than ranks can fill: NaN, not a panic
    assert!(uniformity_p_value(&[1, 2], 10, 0).is_nan());
    assert!(uniformity_p_value(&[], 10, 4).is_nan());
    assert!(uniformity_p_value(&[0, 1], 1, 3).is_nan());
    assert!(uniformity_p_value(&[usize::MAX], usize::MAX, 20).is_finite());
}
