use tilde::prelude::*;

#[model]
fn m((a, b): (f64, f64)) {
    sample!("mu", Normal::new(a, b));
}

fn main() {}
