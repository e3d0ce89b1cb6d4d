//! Eight schools (Rubin 1981), non-centred: NUTS with 4 chains × (1000 warm-up + 1000
//! draws), then the summary. Reference: posteriordb `eight_schools_noncentered`
//! (mu 4.41 ± 3.31, tau 3.60 ± 3.20).
//!
//! ```text
//! cargo run --release --example eight_schools
//! cargo run --release --example eight_schools -- --csv out   # also stream Stan CSV to out/
//! cargo run --release --example eight_schools -- --plots out # also write SVG plots to out/
//! ```
//! The CSV files read with ArviZ's `from_cmdstan` (see
//! `samplers/tests/data/read_csv_with_arviz.py`).

use std::time::Instant;

use tilde::prelude::*;

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let j = y.len();
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(j));
    for i in 0..j {
        let theta = deterministic!("theta[{i}]", mu + tau * theta_raw[i]);
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

fn main() -> Result<(), tilde::Error> {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let start = Instant::now();
    let model = eight_schools(&y, &sigma);
    model.check()?;

    let mut mcmc = Mcmc::new(Nuts::default())
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(42);
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--csv") {
        let dir = args.get(i + 1).map_or("out", String::as_str);
        mcmc = mcmc.save_csv(dir, "eight_schools");
    }
    let posterior = mcmc.run(&model)?;
    let elapsed = start.elapsed();

    posterior.print_summary();
    let gradients = posterior.num_gradient_evals();
    println!(
        "\n{:.0} ms from model construction to summary; {gradients} gradient evaluations \
         in {} parallel chains ({:.2} µs of wall time per gradient, whole sampler)",
        elapsed.as_secs_f64() * 1e3,
        posterior.num_chains(),
        elapsed.as_secs_f64() * 1e6 / gradients as f64,
    );
    if let Some(i) = args.iter().position(|a| a == "--plots") {
        let dir = args.get(i + 1).map_or("out", String::as_str);
        write_plots(&posterior, dir)?;
    }
    Ok(())
}

/// Trace, rank, energy, pair and forest plots of the posterior, as SVG files in `dir`.
#[cfg(feature = "plots")]
fn write_plots(posterior: &tilde::Posterior, dir: &str) -> Result<(), tilde::Error> {
    use tilde::plots;

    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| tilde::Error::Io(format!("cannot create `{}`: {e}", dir.display())))?;
    plots::trace(posterior, &["mu", "tau"], dir.join("trace.svg"))?;
    plots::rank(posterior, &["mu", "tau"], dir.join("rank.svg"))?;
    plots::energy(posterior, dir.join("energy.svg"))?;
    plots::pair(
        posterior,
        &["mu", "tau", "theta_raw[0]"],
        dir.join("pair.svg"),
    )?;
    plots::forest(posterior, &["mu", "tau", "theta"], dir.join("forest.svg"))?;
    println!(
        "wrote trace.svg, rank.svg, energy.svg, pair.svg and forest.svg to {}",
        dir.display()
    );
    Ok(())
}

#[cfg(not(feature = "plots"))]
fn write_plots(_: &tilde::Posterior, _: &str) -> Result<(), tilde::Error> {
    Err(tilde::Error::InvalidConfig(
        "--plots needs tilde's `plots` feature (on by default)".into(),
    ))
}
