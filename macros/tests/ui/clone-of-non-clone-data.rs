use tilde::prelude::*;

struct Blob(Vec<f64>);

#[model]
fn blob_model(blob: Blob) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0).iid(blob.0.len()), obs = &blob.0);
}

fn main() {
    let model = blob_model(Blob(vec![1.0]));
    let _ = model.clone();
}
