//! Predictive checks: a posterior-predictive check on eight schools and a
//! prior-predictive check on a linear regression.
//!
//! ```text
//! cargo run --release --example predictive_checks
//! ```

use tilde::glm::Glm;
use tilde::prelude::*;

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

#[model]
fn regression(x: &[f64], y: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 2.5).iid(1));
    let sigma = sample!("sigma", Exponential::new(1.0));
    sample!("y", Glm::normal(x, beta, alpha, sigma), obs = y);
}

fn main() -> Result<(), tilde::Error> {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let model = eight_schools(&y, &sigma);
    let posterior = Mcmc::new(Nuts::default())
        .num_chains(4)
        .seed(1)
        .run(&model)?;
    let replicated = Predictive::posterior(&model, &posterior, 2)?;

    println!("posterior-predictive check, eight schools:");
    println!("school  observed  replicated mean   5%     95%   P(y_rep > y)");
    for (i, &observed) in y.iter().enumerate() {
        let mut reps = replicated.draws(&format!("y[{i}]"))?;
        let above = reps.iter().filter(|&&r| r > observed).count() as f64 / reps.len() as f64;
        reps.sort_by(f64::total_cmp);
        let mean = reps.iter().sum::<f64>() / reps.len() as f64;
        let q = |p: f64| reps[((reps.len() - 1) as f64 * p) as usize];
        println!(
            "{i:>6} {observed:>9.1} {mean:>16.2} {:>7.1} {:>7.1} {above:>12.2}",
            q(0.05),
            q(0.95)
        );
    }
    let columns: Vec<Vec<f64>> = (0..8)
        .map(|i| replicated.draws(&format!("y[{i}]")))
        .collect::<Result<_, _>>()?;
    let max_rep: Vec<f64> = (0..columns[0].len())
        .map(|d| columns.iter().map(|c| c[d]).fold(f64::MIN, f64::max))
        .collect();
    let p_max = max_rep.iter().filter(|&&m| m >= 28.0).count() as f64 / max_rep.len() as f64;
    println!("test statistic max(y) = 28: P(max(y_rep) >= 28) = {p_max:.2}");

    println!("\nprior-predictive check, linear regression (x from -2 to 2):");
    let x: Vec<f64> = (0..5).map(|i| i as f64 - 2.0).collect();
    let prior = Predictive::prior(&regression(&x, &[0.0; 5]), 4000, 3)?;
    print!("{}", prior.summary());
    Ok(())
}
