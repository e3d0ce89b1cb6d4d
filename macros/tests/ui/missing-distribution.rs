use tilde::prelude::*;

#[model]
fn m() {
    sample!("mu");
}

fn main() {}
