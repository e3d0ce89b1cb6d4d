//! Eight schools by variational inference: AutoNormal, AutoMultivariateNormal and
//! Pathfinder, each summarised beside a NUTS run, then NUTS warm-started by Pathfinder.
//! Reference: posteriordb `eight_schools_noncentered` (mu 4.41 ± 3.31, tau 3.60 ± 3.20).
//!
//! ```text
//! cargo run --release --example vi_eight_schools
//! cargo run --release --example vi_eight_schools -- --plots out   # also the ELBO traces as SVG
//! ```

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

/// The rows of mu, tau and theta[0] of a summary.
fn show(label: &str, summary: &tilde::Summary, seconds: f64) {
    println!("{label} ({:.0} ms)", seconds * 1e3);
    println!(
        "{:>10} {:>8} {:>8} {:>8} {:>8}",
        "", "mean", "sd", "5%", "95%"
    );
    for name in ["mu", "tau", "theta[0]"] {
        if let Some(r) = summary.get(name) {
            println!(
                "{name:>10} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                r.mean, r.sd, r.q5, r.q95
            );
        }
    }
    println!();
}

fn main() -> Result<(), tilde::Error> {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let model = eight_schools(&y, &sigma);
    let steps = 5000;
    let adam = Adam::new(0.05).schedule(Schedule::Cosine { steps, floor: 0.01 });

    let start = Instant::now();
    let normal = Svi::new(AutoNormal::new(), adam.clone())
        .num_steps(steps)
        .num_particles(4)
        .seed(1)
        .run(&model)?;
    let draws = normal.sample_posterior(4000, 2)?;
    show(
        "AutoNormal",
        &draws.summary(),
        start.elapsed().as_secs_f64(),
    );

    let start = Instant::now();
    let full = Svi::new(AutoMultivariateNormal::new(), adam)
        .num_steps(steps)
        .num_particles(4)
        .seed(1)
        .run(&model)?;
    let draws = full.sample_posterior(4000, 2)?;
    show(
        "AutoMultivariateNormal",
        &draws.summary(),
        start.elapsed().as_secs_f64(),
    );

    let start = Instant::now();
    let pathfinder = Pathfinder::new().seed(1).run(&model)?;
    show(
        &format!("Pathfinder (Pareto k {:.2})", pathfinder.pareto_k()),
        &pathfinder.posterior()?.summary(),
        start.elapsed().as_secs_f64(),
    );

    let start = Instant::now();
    let nuts = Mcmc::new(Nuts::default())
        .num_chains(4)
        .seed(42)
        .run(&model)?;
    show(
        "NUTS, 4 × (1000 + 1000)",
        &nuts.summary(),
        start.elapsed().as_secs_f64(),
    );

    let start = Instant::now();
    let warm = Mcmc::new(Nuts::default())
        .initializer(Pathfinder::new())
        .num_warmup(200)
        .num_chains(4)
        .seed(42)
        .run(&model)?;
    show(
        "NUTS warm-started by Pathfinder, 4 × (200 + 1000)",
        &warm.summary(),
        start.elapsed().as_secs_f64(),
    );
    println!(
        "gradient evaluations: NUTS {}, Pathfinder + NUTS {}",
        nuts.num_gradient_evals(),
        warm.num_gradient_evals() + pathfinder.num_gradient_evals()
    );
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--plots") {
        let dir = args.get(i + 1).map_or("out", String::as_str);
        write_plots(
            &[
                ("normal", normal.elbo_trace()),
                ("multivariate", full.elbo_trace()),
            ],
            dir,
        )?;
    }
    Ok(())
}

/// The ELBO trace of each fit, as `elbo_<label>.svg` in `dir`.
#[cfg(feature = "plots")]
fn write_plots(traces: &[(&str, &[f64])], dir: &str) -> Result<(), tilde::Error> {
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| tilde::Error::Io(format!("cannot create `{}`: {e}", dir.display())))?;
    for (label, trace) in traces {
        let path = dir.join(format!("elbo_{label}.svg"));
        tilde::plots::elbo(trace, &path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(not(feature = "plots"))]
fn write_plots(_: &[(&str, &[f64])], _: &str) -> Result<(), tilde::Error> {
    Err(tilde::Error::InvalidConfig(
        "--plots needs tilde's `plots` feature (on by default)".into(),
    ))
}
