//! `HmcGibbs`: NUTS on some sites, a user's exact conditional draw on the others,
//! against a closed-form posterior; a user's invalid values are errors.

use rand_distr::{Distribution as _, Normal as NormalDist};
use tilde::prelude::*;
use tilde::samplers::diagnostics::{mcse_mean, mcse_sd, mean, sd};
use tilde::{Error, Kernel};

const Y: [f64; 12] = [2.1, 0.4, 1.7, 3.2, 1.1, 2.6, 0.9, 1.8, 2.4, 1.3, 3.0, 1.6];
const M0: f64 = 1.0;
const K0: f64 = 0.5;
const A0: f64 = 3.0;
const B0: f64 = 2.0;

/// Normal–inverse-gamma: `σ² ~ InvGamma(A0, B0)`, `μ | σ² ~ N(M0, σ²/K0)`,
/// `yᵢ ~ N(μ, σ²)`.
#[model]
fn normal_inverse_gamma(y: &[f64]) {
    let sigma2 = sample!("sigma2", InverseGamma::new(A0, B0));
    let mu = sample!("mu", Normal::new(M0, (sigma2 / K0).sqrt()));
    let scale = sigma2.sqrt();
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, scale), obs = y[i]);
    }
}

/// The posterior's parameters `(m_n, k_n, a_n, b_n)`.
fn posterior_parameters() -> (f64, f64, f64, f64) {
    let n = Y.len() as f64;
    let ybar = Y.iter().sum::<f64>() / n;
    let ss: f64 = Y.iter().map(|y| (y - ybar).powi(2)).sum();
    let k_n = K0 + n;
    let m_n = (K0 * M0 + n * ybar) / k_n;
    let a_n = A0 + n / 2.0;
    let b_n = B0 + 0.5 * ss + K0 * n * (ybar - M0).powi(2) / (2.0 * k_n);
    (m_n, k_n, a_n, b_n)
}

/// The exact conditional `μ | σ², y ~ N(m_n, σ²/k_n)`, drawn by the Gibbs function.
fn exact_mu_update() -> HmcGibbs<Nuts> {
    HmcGibbs::new(Nuts::default(), &["mu"], |rng, sites| {
        let (m_n, k_n, _, _) = posterior_parameters();
        let sigma2 = sites.value("sigma2")?;
        let dist = NormalDist::new(m_n, (sigma2 / k_n).sqrt())
            .map_err(|e| Error::InvalidConfig(e.to_string()))?;
        sites.set("mu", &[dist.sample(rng)])
    })
}

#[test]
fn exact_conditional_and_nuts_match_the_closed_form() {
    let (m_n, k_n, a_n, b_n) = posterior_parameters();
    // μ | y is Student-t with 2 a_n degrees of freedom; σ² | y ~ InvGamma(a_n, b_n)
    let exact = [
        ("mu", m_n, (b_n / ((a_n - 1.0) * k_n)).sqrt()),
        (
            "sigma2",
            b_n / (a_n - 1.0),
            b_n / ((a_n - 1.0) * (a_n - 2.0).sqrt()),
        ),
    ];
    let posterior = Mcmc::new(exact_mu_update())
        .num_warmup(1000)
        .num_samples(4000)
        .num_chains(4)
        .seed(31)
        .progress(false)
        .run(&normal_inverse_gamma(&Y))
        .unwrap();
    for (name, want_mean, want_sd) in exact {
        let chains = posterior.draws_by_chain(name).unwrap();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let z_mean = (mean(&refs) - want_mean) / mcse_mean(&refs);
        let z_sd = (sd(&refs) - want_sd) / mcse_sd(&refs);
        eprintln!(
            "{name}: mean {:.5} vs {want_mean:.5} (z {z_mean:.2}), sd {:.5} vs {want_sd:.5} (z {z_sd:.2})",
            mean(&refs),
            sd(&refs)
        );
        assert!(z_mean.abs() < 4.0, "{name}: mean z {z_mean}");
        assert!(z_sd.abs() < 4.0, "{name}: sd z {z_sd}");
    }
}

fn run_error(kernel: HmcGibbs<Nuts>) -> Error {
    Mcmc::new(kernel)
        .num_warmup(20)
        .num_samples(20)
        .num_chains(1)
        .seed(1)
        .progress(false)
        .run(&normal_inverse_gamma(&Y))
        .unwrap_err()
}

#[test]
fn invalid_updates_are_errors_not_panics() {
    let negative = run_error(HmcGibbs::new(Nuts::default(), &["sigma2"], |_, sites| {
        sites.set("sigma2", &[-1.0])
    }));
    assert!(
        matches!(&negative, Error::InvalidUpdate { site, reason } if site == "sigma2" && reason.contains("support")),
        "{negative}"
    );
    let nan = run_error(HmcGibbs::new(Nuts::default(), &["mu"], |_, sites| {
        sites.set("mu", &[f64::NAN])
    }));
    assert!(matches!(&nan, Error::InvalidUpdate { .. }), "{nan}");
    let length = run_error(HmcGibbs::new(Nuts::default(), &["mu"], |_, sites| {
        sites.set("mu", &[1.0, 2.0])
    }));
    assert!(matches!(&length, Error::InvalidUpdate { .. }), "{length}");
    let not_owned = run_error(HmcGibbs::new(Nuts::default(), &["mu"], |_, sites| {
        sites.set("sigma2", &[1.0])
    }));
    assert!(
        matches!(&not_owned, Error::InvalidUpdate { site, .. } if site == "sigma2"),
        "{not_owned}"
    );
    let unknown_read = run_error(HmcGibbs::new(Nuts::default(), &["mu"], |_, sites| {
        sites.value("tau").map(|_| ())
    }));
    assert!(
        matches!(&unknown_read, Error::UnknownName { name, .. } if name == "tau"),
        "{unknown_read}"
    );
    let user = run_error(HmcGibbs::new(Nuts::default(), &["mu"], |_, _| {
        Err(Error::InvalidConfig("the user's own error".into()))
    }));
    assert!(
        matches!(&user, Error::InvalidConfig(m) if m.contains("own error")),
        "{user}"
    );
}

#[test]
fn bad_site_lists_are_errors_before_any_work() {
    let unknown = run_error(HmcGibbs::new(Nuts::default(), &["tau"], |_, _| Ok(())));
    assert!(
        matches!(&unknown, Error::UnknownName { name, .. } if name == "tau"),
        "{unknown}"
    );
    let all = run_error(HmcGibbs::new(Nuts::default(), &["mu", "sigma2"], |_, _| {
        Ok(())
    }));
    assert!(matches!(all, Error::InvalidConfig(_)), "{all}");
    let none = run_error(HmcGibbs::new(Nuts::default(), &[], |_, _| Ok(())));
    assert!(matches!(none, Error::InvalidConfig(_)), "{none}");
    let unbound = HmcGibbs::new(Nuts::default(), &["mu"], |_, _| Ok(()))
        .init(&normal_inverse_gamma(&Y), &[0.0, 0.0])
        .unwrap_err();
    assert!(matches!(unbound, Error::InvalidConfig(_)), "{unbound}");
}

/// Each draw holds every site, the user's and the inner kernel's.
#[test]
fn draws_hold_every_site() {
    let posterior = Mcmc::new(exact_mu_update())
        .num_warmup(50)
        .num_samples(50)
        .num_chains(1)
        .seed(2)
        .progress(false)
        .run(&normal_inverse_gamma(&Y))
        .unwrap();
    assert_eq!(posterior.draws("mu").unwrap().len(), 50);
    assert!(posterior.draws("sigma2").unwrap().iter().all(|v| *v > 0.0));
}

const ALPHA: [f64; 3] = [1.5, 2.0, 1.0];
const K: [u64; 10] = [0, 2, 1, 1, 2, 0, 1, 1, 0, 1];

/// A simplex site updated by the user (conjugate Dirichlet–categorical), NUTS on an
/// unrelated positive site.
#[model]
fn dirichlet_categorical(k: &[u64]) {
    let theta = sample!("theta", Dirichlet::new(&ALPHA));
    sample!("scale", LogNormal::new(0.0, 0.5));
    sample!("k", Categorical::new(params(theta)).iid(k.len()), obs = k);
}

/// The Dirichlet posterior's moments and the lognormal's, checked on `posterior` within
/// 4 MCSE.
fn check_dirichlet_categorical(posterior: &tilde::Posterior) {
    let mut posterior_alpha = ALPHA;
    for &k in &K {
        posterior_alpha[k as usize] += 1.0;
    }
    let a0: f64 = posterior_alpha.iter().sum();
    let v: f64 = 0.25;
    let mut exact: Vec<(String, f64, f64)> = posterior_alpha
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let sd = (a * (a0 - a) / (a0 * a0 * (a0 + 1.0))).sqrt();
            (format!("theta[{i}]"), a / a0, sd)
        })
        .collect();
    exact.push((
        "scale".into(),
        (v / 2.0).exp(),
        ((v.exp() - 1.0) * v.exp()).sqrt(),
    ));
    for (name, want_mean, want_sd) in exact {
        let chains = posterior.draws_by_chain(&name).unwrap();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let z_mean = (mean(&refs) - want_mean) / mcse_mean(&refs);
        let z_sd = (sd(&refs) - want_sd) / mcse_sd(&refs);
        eprintln!("{name}: mean z {z_mean:.2}, sd z {z_sd:.2}");
        assert!(z_mean.abs() < 4.0, "{name}: mean z {z_mean}");
        assert!(z_sd.abs() < 4.0, "{name}: sd z {z_sd}");
    }
}

fn run_dirichlet_categorical<Kn: Kernel + Clone>(kernel: Kn) -> tilde::Posterior {
    Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(2000)
        .num_chains(4)
        .seed(17)
        .progress(false)
        .run(&dirichlet_categorical(&K))
        .unwrap()
}

#[test]
fn simplex_site_from_its_exact_conditional() {
    let mut posterior_alpha = ALPHA;
    for &k in &K {
        posterior_alpha[k as usize] += 1.0;
    }
    let kernel = HmcGibbs::new(Nuts::default(), &["theta"], move |rng, sites| {
        let mut theta = [0.0; 3];
        for (t, &a) in theta.iter_mut().zip(&posterior_alpha) {
            *t = rand_distr::Gamma::new(a, 1.0)
                .map_err(|e| Error::InvalidConfig(e.to_string()))?
                .sample(rng);
        }
        let sum: f64 = theta.iter().sum();
        theta.iter_mut().for_each(|t| *t /= sum);
        sites.set("theta", &theta)
    });
    check_dirichlet_categorical(&run_dirichlet_categorical(kernel));
}

/// The simplex (2 unconstrained coordinates for 3 values) as a `Gibbs` block.
#[test]
fn simplex_site_as_a_gibbs_block() {
    let kernel = Gibbs::new()
        .block(&["scale"], Nuts::default())
        .block(&["theta"], Mala::default());
    check_dirichlet_categorical(&run_dirichlet_categorical(kernel));
}

#[test]
fn a_vector_outside_the_simplex_is_an_error() {
    let err = Mcmc::new(HmcGibbs::new(Nuts::default(), &["theta"], |_, sites| {
        sites.set("theta", &[0.5, 0.6, -0.1])
    }))
    .num_warmup(10)
    .num_samples(10)
    .num_chains(1)
    .progress(false)
    .run(&dirichlet_categorical(&K))
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUpdate { site, .. } if site == "theta"),
        "{err}"
    );
}
