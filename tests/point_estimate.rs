//! A site held as a point estimate (`PointEstimate` in a `Gibbs` block) while the rest
//! is sampled converges to the mode of its marginal posterior, found here independently
//! by a golden-section search on the marginal computed by quadrature.

use tilde::prelude::*;
use tilde::samplers::diagnostics::{mcse_mean, mean};

const Y: [u64; 10] = [0, 3, 1, 5, 2, 8, 1, 0, 4, 2];

/// Poisson counts with log-rates `z_j ~ N(mu, 1)`, `mu ~ N(0, 10)`.
#[model]
fn poisson_effects(y: &[u64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let z = sample!("z", Normal::new(mu, 1.0).iid(y.len()));
    for j in 0..y.len() {
        sample!("y[{j}]", Poisson::log_rate(z[j]), obs = y[j]);
    }
}

/// `ln p(mu | y)` up to a constant: the normal prior plus, for each count, the log of
/// `∫ N(z | mu, 1) Poisson(y | e^z) dz` by the trapezoid rule on [-20, 10] (60 001
/// points; the integrand is smooth and negligible at both ends).
fn ln_marginal(mu: f64) -> f64 {
    let (lo, hi, n) = (-20.0, 10.0, 60_000);
    let h = (hi - lo) / n as f64;
    let mut total = -0.5 * (mu / 10.0).powi(2);
    for &y in &Y {
        let terms: Vec<f64> = (0..=n)
            .map(|i| {
                let z = lo + i as f64 * h;
                let w = if i == 0 || i == n { 0.5 } else { 1.0 };
                w.ln() - 0.5 * (z - mu).powi(2) + y as f64 * z - z.exp()
            })
            .collect();
        let max = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        total += max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln();
    }
    total
}

/// The maximiser of `f` on `[a, b]` by golden-section search, to `tol`.
fn golden_section(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > tol {
        if fc > fd {
            b = d;
            (d, fd) = (c, fc);
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            (c, fc) = (d, fd);
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

#[test]
fn optimised_site_converges_to_its_marginal_mode() {
    let map = golden_section(ln_marginal, -3.0, 5.0, 1e-9);
    let kernel = Gibbs::new()
        .block(&["z"], Nuts::default())
        .block(&["mu"], PointEstimate::adam(0.05));
    let posterior = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(4000)
        .num_chains(4)
        .seed(7)
        .progress(false)
        .run(&poisson_effects(&Y))
        .unwrap();
    let chains = posterior.draws_by_chain("mu").unwrap();
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    // Polyak–Ruppert: the mean of the iterates over the sampling phase
    let (average, mcse) = (mean(&refs), mcse_mean(&refs));
    let last: Vec<f64> = chains.iter().map(|c| c[c.len() - 1]).collect();
    eprintln!(
        "marginal mode {map:.6}; average {average:.6} (mcse {mcse:.2e}, z {:.2}); last {last:?}",
        (average - map) / mcse
    );
    assert!(
        (average - map).abs() < 4.0 * mcse,
        "average {average} vs mode {map}"
    );
}

const Y_SCALE: [f64; 10] = [2.5, -1.8, 0.4, 3.1, -2.2, 1.0, -0.6, 2.9, -3.4, 1.7];

/// `y_j ~ N(z_j, 1)`, `z_j ~ N(0, sigma)`, `sigma ~ LogNormal(0, 1)`: marginally
/// `y_j ~ N(0, √(1 + sigma²))`.
#[model]
fn normal_scale(y: &[f64]) {
    let sigma = sample!("sigma", LogNormal::new(0.0, 1.0));
    let z = sample!("z", Normal::new(0.0, sigma).iid(y.len()));
    for j in 0..y.len() {
        sample!("y[{j}]", Normal::new(z[j], 1.0), obs = y[j]);
    }
}

/// `ln p(sigma | y)` up to a constant, in closed form.
fn ln_marginal_scale(sigma: f64) -> f64 {
    let v = 1.0 + sigma * sigma;
    -sigma.ln() - 0.5 * sigma.ln().powi(2)
        + Y_SCALE
            .iter()
            .map(|y| -0.5 * v.ln() - 0.5 * y * y / v)
            .sum::<f64>()
}

/// The Polyak average of `sigma` under `estimate` (NUTS on `z`), its MCSE.
fn averaged_scale(estimate: PointEstimate) -> (f64, f64) {
    let kernel = Gibbs::new()
        .block(&["z"], Nuts::default())
        .block(&["sigma"], estimate);
    let posterior = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(4000)
        .num_chains(4)
        .seed(8)
        .progress(false)
        .run(&normal_scale(&Y_SCALE))
        .unwrap();
    let chains = posterior.draws_by_chain("sigma").unwrap();
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    (mean(&refs), mcse_mean(&refs))
}

/// A positive site: without the log-Jacobian (the default) the estimate is the mode of
/// `p(sigma | y)`; with it, the mode of the density of `ln sigma`.
#[test]
fn positive_site_converges_to_the_mode_with_or_without_the_jacobian() {
    let map = golden_section(ln_marginal_scale, 0.05, 20.0, 1e-10);
    let map_log = golden_section(|u| ln_marginal_scale(u.exp()) + u, -3.0, 3.0, 1e-10).exp();
    for (estimate, want, what) in [
        (PointEstimate::adam(0.05), map, "log joint"),
        (
            PointEstimate::adam(0.05).jacobian(true),
            map_log,
            "with log-Jacobian",
        ),
    ] {
        let (average, mcse) = averaged_scale(estimate);
        eprintln!(
            "{what}: mode {want:.6}, average {average:.6} (mcse {mcse:.2e}, z {:.2})",
            (average - want) / mcse
        );
        assert!(
            (average - want).abs() < 4.0 * mcse,
            "{what}: {average} vs {want}"
        );
    }
    assert!(
        (map - map_log).abs() > 0.05,
        "the two modes differ: {map} vs {map_log}"
    );
}

#[test]
fn bad_settings_are_errors() {
    for (kernel, what) in [
        (PointEstimate::adam(0.0), "learning rate"),
        (PointEstimate::adam(f64::NAN), "learning rate"),
        (PointEstimate::adam(0.1).steps_per_iteration(0), "step"),
        (PointEstimate::adam(0.1).decay(0.5), "decay"),
        (PointEstimate::adam(0.1).decay(1.5), "decay"),
    ] {
        let err = Mcmc::new(
            Gibbs::new()
                .block(&["z"], Nuts::default())
                .block(&["mu"], kernel),
        )
        .num_warmup(10)
        .num_samples(10)
        .num_chains(1)
        .progress(false)
        .run(&poisson_effects(&Y))
        .unwrap_err();
        assert!(
            matches!(&err, tilde::Error::InvalidConfig(m) if m.contains(what)),
            "{err}"
        );
    }
}

#[model]
fn with_simplex() {
    sample!("w", Dirichlet::symmetric(3, 2.0));
    sample!("x", Normal::new(0.0, 1.0));
}

#[test]
fn a_vector_constraint_needs_the_jacobian() {
    let run = |estimate: PointEstimate| {
        Mcmc::new(
            Gibbs::new()
                .block(&["x"], Nuts::default())
                .block(&["w"], estimate),
        )
        .num_warmup(20)
        .num_samples(20)
        .num_chains(1)
        .progress(false)
        .run(&with_simplex())
    };
    let err = run(PointEstimate::adam(0.1)).unwrap_err();
    assert!(
        matches!(&err, tilde::Error::InvalidConfig(m) if m.contains("jacobian(true)")),
        "{err}"
    );
    assert!(run(PointEstimate::adam(0.1).jacobian(true)).is_ok());
}
