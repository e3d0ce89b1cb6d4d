use tilde::prelude::*;

#[model]
fn mix(y: &[f64]) {
    let mu0 = sample!("mu0", Normal::new(-1.0, 1.0));
    let mu1 = sample!("mu1", Normal::new(1.0, 1.0));
    let p = sample!("p", Beta::new(2.0, 2.0));
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Bernoulli::new(p), enumerate);
        let mu = if z { mu1 } else { mu0 };
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

#[test]
fn smoke() {
    let m = mix(&[0.1, 1.0, -2.0]);
    assert_eq!(m.dim(), 3);
    println!("{}", m.logp(&[0.1, 0.2, 0.3]));
}
