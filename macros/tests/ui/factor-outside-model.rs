use tilde::prelude::*;

fn m(x: f64) {
    factor!("penalty", -x * x);
}

fn main() {}
