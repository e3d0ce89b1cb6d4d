use tilde::prelude::*;

#[model]
async fn m() {
    sample!("mu", Normal::new(0.0, 1.0));
}

fn main() {}
