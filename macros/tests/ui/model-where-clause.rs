use tilde::prelude::*;

#[model]
fn m<'a>(y: &'a [f64])
where
    'a: 'static,
{
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0).iid(y.len()), obs = y);
}

fn main() {}
