use tilde::prelude::*;

#[model(foo)]
fn m() {
    sample!("mu", Normal::new(0.0, 1.0));
}

fn main() {}
