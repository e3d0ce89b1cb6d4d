use tilde::prelude::*;

struct Data {
    y: Vec<f64>,
}

impl Data {
    #[model]
    fn m(&self) {
        let mu = sample!("mu", Normal::new(0.0, 1.0));
        sample!("y", Normal::new(mu, 1.0).iid(self.y.len()), obs = &self.y);
    }
}

fn main() {}
