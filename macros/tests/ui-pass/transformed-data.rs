//! Data-only `let`s with a type annotation are computed once, at construction; the body
//! reads them (a primitive scalar copied, anything else borrowed).
use tilde::prelude::*;

const OFFSET: f64 = 1.0;

#[model]
fn earnings(earn: &[f64], height: Vec<f64>, scale: f64) {
    let log_earn: Vec<f64> = earn.iter().map(|e| (e + OFFSET).ln()).collect();
    let n: usize = log_earn.len();
    let centred: Vec<f64> = height.iter().map(|h| h - height[0]).collect();
    let pairs: Vec<(f64, usize)> = centred.iter().copied().zip(0..n).collect();
    let prior_scale: f64 = scale * 2.0;
    let a = sample!("a", Normal::new(0.0, prior_scale));
    let b = sample!("b", Normal::new(0.0, prior_scale));
    let sigma = sample!("sigma", HalfNormal::new(5.0));
    for &(h, i) in &pairs {
        sample!("y[{i}]", Normal::new(a + b * h, sigma), obs = log_earn[i]);
    }
    sample!("all", Normal::new(a, sigma).iid(n), obs = &log_earn);
    sample!("all_again", Normal::new(a, sigma).iid(log_earn.len()), obs = log_earn.as_slice());
}

fn main() -> Result<(), tilde::Error> {
    let model = try_earnings(&[10.0, 20.0, 30.0], vec![150.0, 160.0, 170.0], 5.0)?;
    let copy = model.clone();
    let x = [0.1, 0.2, 0.3];
    assert_eq!(model.logp(&x), copy.logp(&x));
    let mut grad = [0.0; 3];
    assert!(model.logp_and_grad(&x, &mut grad).is_finite());
    println!("{model:?}");
    Ok(())
}
