use tilde::prelude::*;

#[model]
fn m() {
    fn helper() {
        sample!("mu", Normal::new(0.0, 1.0));
    }
    helper();
}

fn main() {}
