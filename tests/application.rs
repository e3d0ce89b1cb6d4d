//! tilde inside an application: refitting on new data (continuing a driver, warm
//! starts), models behind `Box<dyn Model>` and `Arc`, cloning a driver, and reading
//! results as a program would.

use std::sync::Arc;

use tilde::prelude::*;


#[model]
fn regression(x: &[f64], y: &[f64]) {
    let alpha = sample!("alpha", Normal::new(0.0, 10.0));
    let beta = sample!("beta", Normal::new(0.0, 10.0));
    let sigma = sample!("sigma", HalfNormal::new(5.0));
    for i in 0..x.len() {
        sample!("y[{i}]", Normal::new(alpha + beta * x[i], sigma), obs = y[i]);
    }
}

/// `n` observations of `y = 1 + 2 x + noise`, noise of sd about 1 from a fixed
/// low-discrepancy sequence (data, not a random test: the same for every run).
fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| -1.0 + 2.0 * i as f64 / n as f64).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let u = (i as f64 * 0.618_033_988_749_895).fract();
            1.0 + 2.0 * x + 3.4 * (u - 0.5)
        })
        .collect();
    (x, y)
}

fn driver(seed: u64) -> Mcmc<Nuts> {
    Mcmc::new(Nuts::default())
        .num_warmup(1000)
        .num_samples(1000)
        .num_chains(4)
        .seed(seed)
        .progress(false)
}

#[test]
fn boxed_and_shared_models_run() {
    let (x, y) = data(20);
    let mcmc = driver(7).num_warmup(200).num_samples(100);
    let reference = mcmc.clone().run(&regression(&x, &y)).unwrap();
    let boxed: Box<dyn Model + Send + Sync + '_> = Box::new(regression(&x, &y));
    assert_eq!(mcmc.clone().run(&boxed).unwrap(), reference);
    assert_eq!(mcmc.clone().run(&*boxed).unwrap(), reference);
    let shared = Arc::new(regression(&x, &y));
    assert_eq!(mcmc.clone().run(&shared).unwrap(), reference);
    let by_ref = &regression(&x, &y);
    assert_eq!(mcmc.clone().run(&by_ref).unwrap(), reference);
}

#[test]
fn a_cloned_driver_continues_like_the_original() {
    let (x, y) = data(20);
    let model = regression(&x, &y);
    let mut original = driver(9).num_warmup(200).num_samples(100);
    original.run(&model).unwrap();
    let mut copy = original.clone();
    assert_eq!(original.run(&model).unwrap(), copy.run(&model).unwrap());
}
