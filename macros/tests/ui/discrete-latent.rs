use tilde::prelude::*;

#[model]
fn m() {
    let k = sample!("k", Poisson::new(3.0));
    let _ = k;
}

fn main() {}
