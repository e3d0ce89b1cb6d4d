//! Every posteriordb reference posterior, fitted with NUTS (4 chains × (1000 + 1000))
//! and compared with its reference by the rule of the reference README: R-hat < 1.01 and
//! bulk ESS ≥ 400, then means and sds within 4·√(mcse_ref² + mcse_ours²).
//!
//! All nine run in the default test run (about 30 s on 2 cores; the enumerated
//! `low_dim_gauss_mix` below adds about 20 s):
//! `cargo test --release --test posteriordb`.

mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;
#[path = "../examples/posteriordb/models.rs"]
mod models;

fn check(name: &str, loose: &[&str]) -> tilde::Posterior {
    let (data, reference) = common::reference(name);
    let posterior = models::fit(name, &data, 2026, false).unwrap();
    let failures = common::compare(&posterior, &reference, loose);
    assert!(failures.is_empty(), "{name}: {failures:#?}");
    posterior
}

#[test]
fn eight_schools_noncentered() {
    check("eight_schools-eight_schools_noncentered", &[]);
}

/// The funnel, a diagnostics test (reference README): Stan itself diverges and
/// under-samples small tau here. The run is at target_accept 0.99 with 4000 draws per
/// chain (the README asks for adapt_delta ≥ 0.95 and long runs); divergences must be
/// reported, mu and theta pass the strict rule, tau's mean is compared with our own
/// (inflated) MCSE and no convergence gate.
#[test]
fn eight_schools_centered() {
    let posterior = check("eight_schools-eight_schools_centered", &["tau"]);
    assert!(posterior.num_divergences() > 0);
}

#[test]
fn garch11() {
    check("garch-garch11", &[]);
}

#[test]
fn gp_pois_regr() {
    check("gp_pois_regr-gp_pois_regr", &[]);
}

#[test]
fn low_dim_gauss_mix() {
    check("low_dim_gauss_mix-low_dim_gauss_mix", &[]);
}

#[test]
fn ar_k() {
    check("arK-arK", &[]);
}

#[test]
fn kidscore_momiq() {
    check("kidiq-kidscore_momiq", &[]);
}

#[test]
fn hmm_example() {
    check("hmm_example-hmm_example", &[]);
}

#[test]
fn blr() {
    check("sblrc-blr", &[]);
}

/// `hmm_example` written with `tilde::math::hmm_marginal`, against the same reference.
#[test]
fn hmm_example_with_hmm_marginal() {
    let (data, reference) = common::reference("hmm_example-hmm_example");
    let posterior = tilde::Mcmc::new(tilde::Nuts::default())
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(2026)
        .progress(false)
        .run(&models::hmm_example_marginal(&data.get("y").nums()))
        .unwrap();
    let failures = common::compare(&posterior, &reference, &[]);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// `low_dim_gauss_mix` with each observation's component a `Bernoulli(theta)` site
/// summed out by `enumerate` (where the posteriordb model writes the log-mix by hand).
#[tilde::model]
fn low_dim_gauss_mix_enumerated(y: &[f64]) {
    use tilde::prelude::*;
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2).ordered());
    let sigma = sample!("sigma", HalfNormal::new(2.0).iid(2));
    let theta = sample!("theta", Beta::new(5.0, 5.0));
    for n in 0..y.len() {
        // the first component with probability theta
        let first = sample!("z[{n}]", Bernoulli::new(theta), enumerate);
        let k = usize::from(!first);
        sample!("y[{n}]", Normal::new(mu[k], sigma[k]), obs = y[n]);
    }
}

/// The enumerated `low_dim_gauss_mix` has the hand-marginalised model's log-density
/// (relative 1e-12) and gradient at random points, and its posterior matches the
/// reference under plain NUTS. (`hmm_example` is a chain of 100 states: summing each
/// state out by enumeration would take 2¹⁰⁰ branches, so it is covered by
/// `hmm_marginal` above, not by `enumerate`.)
#[test]
fn low_dim_gauss_mix_with_enumerate() {
    use tilde::{LogDensity, Model};
    let name = "low_dim_gauss_mix-low_dim_gauss_mix";
    let (data, reference) = common::reference(name);
    let y = data.get("y").nums();
    let enumerated = low_dim_gauss_mix_enumerated(&y);
    let by_hand = models::low_dim_gauss_mix(&y);
    assert_eq!(
        enumerated.layout().column_names(),
        by_hand.layout().column_names()
    );
    for seed in 0..5 {
        let x = common::point(enumerated.dim(), seed);
        let (mut g, mut g_hand) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let lp = enumerated.logp_and_grad(&x, &mut g);
        let want = by_hand.logp_and_grad(&x, &mut g_hand);
        assert!((lp - want).abs() <= 1e-12 * want.abs(), "{lp} vs {want}");
        for (a, b) in g.iter().zip(&g_hand) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
    let start = std::time::Instant::now();
    let posterior = tilde::Mcmc::new(tilde::Nuts::default())
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(2026)
        .progress(false)
        .run(&enumerated)
        .unwrap();
    eprintln!("NUTS on the enumerated model: {:.1?}", start.elapsed());
    let failures = common::compare(&posterior, &reference, &[]);
    assert!(failures.is_empty(), "{failures:#?}");
}
