use tilde::prelude::*;

#[model]
fn m() -> f64 {
    sample!("mu", Normal::new(0.0, 1.0));
    0.0
}

fn main() {}
