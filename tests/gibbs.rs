//! The `Gibbs` kernel: blocks of sites with kernels of different types, against exact
//! moments and the posteriordb reference, and its configuration errors.

mod common;
#[path = "../examples/posteriordb/json.rs"]
mod json;
#[path = "../examples/posteriordb/models.rs"]
mod models;

use tilde::prelude::*;
use tilde::samplers::diagnostics::{mcse_mean, mcse_sd, mean, sd};
use tilde::{Error, Kernel};

/// `s ~ LogNormal(0, 0.5)`, `a ~ N(0, 1)`, `b | a ~ N(0.8 a, 0.6)`: `(a, b)` standard
/// normal with correlation 0.8, `s` positive.
#[model]
fn correlated() {
    sample!("s", LogNormal::new(0.0, 0.5));
    let a = sample!("a", Normal::new(0.0, 1.0));
    sample!("b", Normal::new(0.8 * a, 0.6));
}

/// Runs `kernel` on [`correlated`] (4 chains) and checks each site's mean and sd
/// against the exact values within 4 MCSE.
fn recovers_moments<K: Kernel + Clone>(kernel: K, num_samples: usize, seed: u64) {
    let v: f64 = 0.25;
    let exact = [
        ("s", (v / 2.0).exp(), ((v.exp() - 1.0) * v.exp()).sqrt()),
        ("a", 0.0, 1.0),
        ("b", 0.0, 1.0),
    ];
    let posterior = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(num_samples)
        .num_chains(4)
        .seed(seed)
        .progress(false)
        .run(&correlated())
        .unwrap();
    for (name, want_mean, want_sd) in exact {
        let chains = posterior.draws_by_chain(name).unwrap();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let z_mean = (mean(&refs) - want_mean) / mcse_mean(&refs);
        let z_sd = (sd(&refs) - want_sd) / mcse_sd(&refs);
        eprintln!(
            "{name}: mean {:.4} (z {z_mean:.2}), sd {:.4} (z {z_sd:.2})",
            mean(&refs),
            sd(&refs)
        );
        assert!(z_mean.abs() < 4.0, "{name}: mean z {z_mean}");
        assert!(z_sd.abs() < 4.0, "{name}: sd z {z_sd}");
    }
}

#[test]
fn nuts_and_mala_blocks_recover_the_moments() {
    recovers_moments(
        Gibbs::new()
            .block(&["a", "b"], Nuts::default())
            .block(&["s"], Mala::default()),
        2000,
        11,
    );
}

#[test]
fn correlated_coordinates_in_separate_blocks_recover_the_moments() {
    // a and b (correlation 0.8) in different blocks: each moves given the other
    recovers_moments(
        Gibbs::new()
            .block(&["s"], Nuts::default())
            .block(&["a"], Mala::default())
            .block(&["b"], RandomWalkMetropolis::default()),
        4000,
        12,
    );
}

#[test]
fn slice_hmc_and_barker_blocks_recover_the_moments() {
    recovers_moments(
        Gibbs::new()
            .block(&["b"], BarkerMh::default())
            .block(&["s"], SliceSampler::default())
            .block(&["a"], Hmc::new(4)),
        4000,
        13,
    );
}

/// Non-centred eight schools with NUTS on the group means and MALA on the scale, against
/// the posteriordb reference (the rule of its README: R-hat, bulk ESS, then means and
/// sds within 4 MCSE).
#[test]
fn eight_schools_nuts_and_mala_match_the_reference() {
    let name = "eight_schools-eight_schools_noncentered";
    let (data, reference) = common::reference(name);
    let (y, sigma) = (data.get("y").nums(), data.get("sigma").nums());
    let model = models::eight_schools_noncentered(&y, &sigma);
    let kernel = Gibbs::new()
        .block(&["mu", "theta_trans"], Nuts::default())
        .block(&["tau"], Mala::default());
    let posterior = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(4000)
        .num_chains(4)
        .seed(2026)
        .progress(false)
        .run(&model)
        .unwrap();
    let failures = common::compare(&posterior, &reference, &[]);
    assert!(failures.is_empty(), "{failures:#?}");
}

fn run_error(kernel: Gibbs) -> Error {
    Mcmc::new(kernel)
        .num_warmup(10)
        .num_samples(10)
        .num_chains(1)
        .seed(1)
        .progress(false)
        .run(&correlated())
        .unwrap_err()
}

#[test]
fn bad_blocks_are_errors_before_any_work() {
    let unknown = run_error(
        Gibbs::new()
            .block(&["a", "b"], Nuts::default())
            .block(&["s", "sigma"], Mala::default()),
    );
    assert!(
        matches!(&unknown, Error::UnknownName { name, .. } if name == "sigma"),
        "{unknown}"
    );
    let twice = run_error(
        Gibbs::new()
            .block(&["a", "b"], Nuts::default())
            .block(&["s", "a"], Mala::default()),
    );
    assert!(
        matches!(&twice, Error::InvalidConfig(m) if m.contains("`a`") && m.contains("two")),
        "{twice}"
    );
    let missing = run_error(Gibbs::new().block(&["a", "b"], Nuts::default()));
    assert!(
        matches!(&missing, Error::InvalidConfig(m) if m.contains("not in any: s")),
        "{missing}"
    );
    let empty = run_error(Gibbs::new());
    assert!(matches!(empty, Error::InvalidConfig(_)), "{empty}");
    let no_site = run_error(
        Gibbs::new()
            .block(&["a", "b", "s"], Nuts::default())
            .block(&[], Mala::default()),
    );
    assert!(matches!(no_site, Error::InvalidConfig(_)), "{no_site}");
    let cross_chain = run_error(
        Gibbs::new()
            .block(&["a", "b"], Chees::default())
            .block(&["s"], Mala::default()),
    );
    assert!(
        matches!(&cross_chain, Error::InvalidConfig(m) if m.contains("across chains")),
        "{cross_chain}"
    );
}

#[test]
fn an_unbound_kernel_is_an_error() {
    let kernel = Gibbs::new().block(&["a"], Nuts::default());
    let err = kernel.init(&correlated(), &[0.0, 0.0, 0.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
}

/// Each block adapts its own step size during warm-up: driven by hand through the
/// kernel interface, both blocks end with their own step sizes, moved from the start.
#[test]
fn each_block_adapts_its_own_parameters() {
    use tilde::samplers::{Adaptation, chain_rng};
    let model = correlated();
    let kernel = Gibbs::new()
        .block(&["a", "b"], Nuts::default())
        .block(&["s"], Mala::default())
        .bind_layout(model.layout())
        .unwrap()
        .unwrap();
    let dim = model.dim();
    let mut rng = chain_rng(5, 0);
    let mut state = kernel.init(&model, &[0.1, 0.2, -0.1]).unwrap();
    let mut params = kernel.initial_params(dim, None);
    let start: Vec<f64> = params.blocks.iter().map(|p| p.step_size()).collect();
    let mut workspace = kernel.workspace(dim);
    let mut adaptation = kernel.adaptation(dim, 500, true);
    adaptation.init(&kernel, &model, &mut rng, &state, &mut params);
    for _ in 0..500 {
        let info = kernel.transition(&model, &mut rng, &mut state, &params, &mut workspace);
        adaptation.update(&kernel, &model, &mut rng, &state, &info, &mut params);
    }
    adaptation.finalize(&mut params);
    let adapted: Vec<f64> = params.blocks.iter().map(|p| p.step_size()).collect();
    eprintln!("step sizes: start {start:?}, adapted {adapted:?}");
    assert_eq!(params.dims, [2, 1]);
    for (s, a) in start.iter().zip(&adapted) {
        assert!(
            a.is_finite() && *a > 0.0 && a != s,
            "{start:?} → {adapted:?}"
        );
    }
    assert_ne!(adapted[0], adapted[1]);
}

/// `HmcGibbs` on non-centred eight schools: `mu` drawn from its exact normal conditional
/// (prior `N(0, 5²)`, `yᵢ ~ N(mu + tau·θᵢ, σᵢ²)`), NUTS on `tau` and `theta_trans`,
/// against the posteriordb reference.
#[test]
fn eight_schools_exact_mu_and_nuts_match_the_reference() {
    use rand_distr::Distribution as _;
    let name = "eight_schools-eight_schools_noncentered";
    let (data, reference) = common::reference(name);
    let (y, sigma) = (data.get("y").nums(), data.get("sigma").nums());
    let model = models::eight_schools_noncentered(&y, &sigma);
    let (y_fn, sigma_fn) = (y.clone(), sigma.clone());
    let kernel = HmcGibbs::new(Nuts::default(), &["mu"], move |rng, sites| {
        let tau = sites.value("tau")?;
        let raw = sites.get("theta_trans")?;
        let (mut precision, mut weighted) = (1.0 / 25.0, 0.0);
        for i in 0..y_fn.len() {
            let w = sigma_fn[i].powi(-2);
            precision += w;
            weighted += w * (y_fn[i] - tau * raw[i]);
        }
        let mu = rand_distr::Normal::new(weighted / precision, precision.sqrt().recip())
            .map_err(|e| Error::InvalidConfig(e.to_string()))?
            .sample(rng);
        sites.set("mu", &[mu])
    });
    let posterior = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(2000)
        .num_chains(4)
        .seed(2026)
        .progress(false)
        .run(&model)
        .unwrap();
    let failures = common::compare(&posterior, &reference, &[]);
    assert!(failures.is_empty(), "{failures:#?}");
}
