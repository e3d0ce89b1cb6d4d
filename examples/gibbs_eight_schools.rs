//! Eight schools (non-centred) three ways, each printed beside the others: NUTS on every
//! site; `Gibbs` blocks, NUTS on the school effects and MALA on the scale; and
//! `HmcGibbs`, whose own function draws the population mean `mu` from its exact normal
//! conditional while NUTS samples the rest.
//!
//! ```text
//! cargo run --release --example gibbs_eight_schools
//! ```

use rand_distr::{Distribution as _, Normal as NormalDist};
use tilde::prelude::*;

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        let theta = deterministic!("theta[{i}]", mu + tau * theta_raw[i]);
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

/// `mu | tau, theta_raw, y`: the prior `N(0, 5²)` times `yᵢ ~ N(mu + tau·rawᵢ, σᵢ²)` is
/// normal with precision `1/25 + Σ 1/σᵢ²`.
fn draw_mu(rng: &mut dyn rand::Rng, sites: &mut GibbsSites<'_>) -> tilde::Result<()> {
    let tau = sites.value("tau")?;
    let raw = sites.get("theta_raw")?;
    let (mut precision, mut weighted) = (1.0 / 25.0, 0.0);
    for i in 0..Y.len() {
        let w = 1.0 / (SIGMA[i] * SIGMA[i]);
        precision += w;
        weighted += w * (Y[i] - tau * raw[i]);
    }
    let conditional = NormalDist::new(weighted / precision, precision.sqrt().recip())
        .map_err(|e| tilde::Error::InvalidConfig(e.to_string()))?;
    let mu = conditional.sample(rng);
    sites.set("mu", &[mu])
}

fn run<K: tilde::Kernel + Clone>(name: &str, kernel: K) -> tilde::Result<()> {
    let posterior = Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(2000)
        .num_chains(4)
        .seed(42)
        .progress(false)
        .run(&eight_schools(&Y, &SIGMA))?;
    let summary = posterior.summary();
    for site in ["mu", "tau", "theta[0]"] {
        if let Some(row) = summary.get(site) {
            println!(
                "{name:<8} {site:<9} mean {:>6.2}  sd {:>5.2}  ess_bulk {:>6.0}  r_hat {:.3}",
                row.mean, row.sd, row.ess_bulk, row.r_hat
            );
        }
    }
    Ok(())
}

fn main() -> tilde::Result<()> {
    run("nuts", Nuts::default())?;
    run(
        "gibbs",
        Gibbs::new()
            .block(&["mu", "theta_raw"], Nuts::default())
            .block(&["tau"], Mala::default()),
    )?;
    run("hmcgibbs", HmcGibbs::new(Nuts::default(), &["mu"], draw_mu))?;
    Ok(())
}
