use tilde::prelude::*;

#[model]
fn m() {
    let name = "mu";
    sample!(name, Normal::new(0.0, 1.0));
}

fn main() {}
