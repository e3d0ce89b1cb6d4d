use tilde::prelude::*;

#[model]
fn m(n: usize) {
    for i in 0..n {
        let x = sample!("x", Normal::new(0.0, 1.0));
        factor!("f[{i}]", x);
    }
}

fn main() {}
