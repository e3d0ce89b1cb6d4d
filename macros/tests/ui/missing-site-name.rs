use tilde::prelude::*;

#[model]
fn m() {
    sample!();
}

fn main() {}
