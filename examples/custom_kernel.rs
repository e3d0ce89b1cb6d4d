//! A user's own kernel in the `Mcmc` driver: the seeds' barebones random-walk
//! Metropolis (fixed step size, no adaptation), sampling a `#[model]`.
//!
//! `cargo run --release --example custom_kernel`

use rand::{Rng, RngExt};
use rand_distr::{Distribution as RandDistribution, StandardNormal};
use tilde::prelude::*;
use tilde::samplers::{DensityState, Kernel, MhInfo, NoAdaptation};
use tilde::{LogDensity, Metric};

/// Random-walk Metropolis with a fixed step size.
#[derive(Clone)]
struct MyRwm {
    step_size: f64,
}

impl Kernel for MyRwm {
    type State = DensityState;
    type Params = ();
    type Info = MhInfo;
    type Workspace = Vec<f64>;
    type Adaptation = NoAdaptation;
    fn init<L: LogDensity + ?Sized>(&self, target: &L, x: &[f64]) -> tilde::Result<DensityState> {
        DensityState::new(target, x)
    }
    fn workspace(&self, dim: usize) -> Vec<f64> {
        vec![0.0; dim]
    }
    fn initial_params(&self, _: usize, _: Option<&Metric>) {}
    fn adaptation(&self, _: usize, _: usize, _: bool) -> NoAdaptation {
        NoAdaptation
    }
    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut DensityState,
        _: &(),
        proposal: &mut Vec<f64>,
    ) -> MhInfo {
        for (y, x) in proposal.iter_mut().zip(&state.position) {
            *y = x + self.step_size * RandDistribution::<f64>::sample(&StandardNormal, rng);
        }
        let log_density = target.logp(proposal);
        let log_ratio = log_density - state.log_density;
        let accept = log_ratio > rng.random::<f64>().ln();
        if accept {
            state.position.copy_from_slice(proposal);
            state.log_density = log_density;
        }
        MhInfo::from_log_ratio(log_ratio, accept) // a NaN log_ratio rejected above
    }
}

#[model]
fn normal_mean(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", HalfNormal::new(5.0));
    sample!("y", Normal::new(mu, sigma).iid(y.len()), obs = y);
}

fn main() -> tilde::Result<()> {
    let y = [2.1, 1.4, 3.3, 2.8, 1.9, 2.5, 3.0, 2.2];
    let mut mcmc = Mcmc::new(MyRwm { step_size: 0.4 })
        .num_samples(20_000)
        .num_chains(4)
        .seed(1);
    let posterior = mcmc.run(&normal_mean(&y))?;
    posterior.print_summary();
    let mean_mu = posterior.means()[0];
    let sample_mean = y.iter().sum::<f64>() / y.len() as f64;
    println!("posterior mean of mu {mean_mu:.3}; the data's mean {sample_mean:.3}");
    assert!((mean_mu - sample_mean).abs() < 0.1);
    Ok(())
}
