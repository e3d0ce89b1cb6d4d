//! Eight schools (Rubin 1981), non-centred: NUTS with 4 chains × (1000 warm-up + 1000
//! draws), then the summary. Reference: posteriordb `eight_schools_noncentered`
//! (mu 4.41 ± 3.31, tau 3.60 ± 3.20).
//!
//! ```text
//! cargo run --release --example eight_schools
//! cargo run --release --example eight_schools -- --csv out   # also stream Stan CSV to out/
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
    Ok(())
}
