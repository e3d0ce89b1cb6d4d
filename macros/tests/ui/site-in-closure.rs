use tilde::prelude::*;

#[model]
fn m(n: usize) {
    let draw = |i: usize| sample!("x[{i}]", Normal::new(0.0, 1.0));
    for i in 0..n {
        draw(i);
    }
}

fn main() {}
