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
