use tilde::prelude::*;

fn m(x: f64) {
    deterministic!("x2", 2.0 * x);
}

fn main() {}
