use tilde::prelude::*;

#[model]
fn m(n: usize, k: usize) {
    for i in 0..n {
        for k in 0..k {
            sample!("z[{i}]", Normal::new(0.0, 1.0));
        }
    }
}

fn main() {}
