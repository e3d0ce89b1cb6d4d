use tilde::prelude::*;

#[model]
fn m<T>(y: &[T]) {
    sample!("mu", Normal::new(0.0, 1.0));
}

fn main() {}
