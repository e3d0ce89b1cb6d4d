//! Hostile files for the readers (issue 16, class 1): runs that stopped mid-write,
//! chains of different lengths, CmdStan's saved warm-up, absurd sizes and garbage.
//! The property tests are seeded; they check that no input panics and that a read
//! never yields a draw that was not written.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use tilde_core::LogDensity;
use tilde_samplers::{Mcmc, Nuts, Posterior, Unconstrained};

/// A 2-dimensional standard normal; the sampler names its components `x[0]`, `x[1]`.
struct Gaussian;

impl LogDensity for Gaussian {
    fn dim(&self) -> usize {
        2
    }
    fn logp(&self, x: &[f64]) -> f64 {
        -0.5 * (x[0] * x[0] + x[1] * x[1])
    }
    fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g[0] = -x[0];
        g[1] = -x[1];
        self.logp(x)
    }
}

fn posterior(num_chains: usize) -> Posterior {
    Mcmc::new(Nuts::default())
        .num_warmup(50)
        .num_samples(12)
        .num_chains(num_chains)
        .progress(false)
        .seed(5)
        .run(&Unconstrained::new(Gaussian))
        .expect("the run succeeds")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tilde-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// The draws of every component, chain by chain, as bits.
fn draws(posterior: &Posterior) -> Vec<Vec<Vec<u64>>> {
    posterior
        .names()
        .iter()
        .map(|name| {
            posterior
                .draws_by_chain(name)
                .expect("a known name")
                .into_iter()
                .map(|c| c.into_iter().map(f64::to_bits).collect())
                .collect()
        })
        .collect()
}

/// Every draw of `read` is the written draw at the same chain and index.
fn is_prefix_of(read: &Posterior, written: &Posterior) -> bool {
    read.names() == written.names()
        && read.num_chains() == written.num_chains()
        && read.num_draws() <= written.num_draws()
        && draws(read).iter().zip(draws(written)).all(|(r, w)| {
            r.iter()
                .zip(&w)
                .all(|(rc, wc)| rc.as_slice() == &wc[..rc.len()])
        })
        && (0..read.num_chains())
            .all(|c| read.sample_stats(c) == &written.sample_stats(c)[..read.sample_stats(c).len()])
}

fn truncate(path: &Path, len: usize) {
    let bytes = std::fs::read(path).expect("the file");
    std::fs::write(path, &bytes[..len.min(bytes.len())]).expect("write");
}

#[test]
fn chains_of_different_lengths_are_cut_to_the_common_length() {
    let written = posterior(3);
    let dir = temp_dir("unequal");
    let paths = written.to_csv(&dir, "run").unwrap();
    // chain 2 lost its last 5 rows, chain 3 its last 2 and half a row
    let text = std::fs::read_to_string(&paths[1]).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    std::fs::write(&paths[1], lines[..lines.len() - 5].concat()).unwrap();
    let text = std::fs::read_to_string(&paths[2]).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let torn = &lines[lines.len() - 3][..10];
    std::fs::write(&paths[2], lines[..lines.len() - 3].concat() + torn).unwrap();
    let read = Posterior::from_csv(&paths).unwrap();
    assert_eq!(read.num_draws(), 7);
    assert!(is_prefix_of(&read, &written));
    // every consumer works on what was read
    let summary = read.summary();
    assert_eq!(summary.rows.len(), 2);
    read.print_summary();
    // and the same through JSON: a document whose chains have 12 and 7 draws
    let mut doc: serde_json::Value = serde_json::from_str(&written.to_json()).unwrap();
    let short: serde_json::Value =
        serde_json::from_str(&Posterior::from_csv(&paths[1..2]).unwrap().to_json()).unwrap();
    doc["chains"][1] = short["chains"][0].clone();
    doc["chains"].as_array_mut().unwrap().truncate(2);
    let doc = doc.to_string();
    let read = Posterior::from_json(&doc).unwrap();
    assert_eq!((read.num_chains(), read.num_draws()), (2, 7));
    let _ = read.summary();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_torn_last_row_is_dropped_and_keeps_the_rows_before_it() {
    let written = posterior(1);
    let dir = temp_dir("torn");
    let path = written.to_csv(&dir, "run").unwrap().remove(0);
    let full = std::fs::read(&path).unwrap();
    // cut inside the last number of the last row: "…,0.123" read as 0.12 would be a
    // draw that was never written
    truncate(&path, full.len() - 3);
    let read = Posterior::from_csv(&[&path]).unwrap();
    assert_eq!(read.num_draws(), written.num_draws() - 1);
    assert!(is_prefix_of(&read, &written));
    // the newline alone missing: the row is torn as far as the reader can tell
    truncate(&path, full.len() - 1);
    assert_eq!(
        Posterior::from_csv(&[&path]).unwrap().num_draws(),
        written.num_draws() - 1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cmdstan_saved_warmup_is_not_read_as_draws() {
    let dir = temp_dir("warmup");
    let path = dir.join("cmdstan_1.csv");
    let text = "\
# model = normal_model
# save_warmup = 1
lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,theta.1,theta.2
-9.5,0.5,2.0,1,1,0,10.1,7.0,7.0,7.0
-8.5,0.6,0.5,2,3,0,9.1,6.0,6.0,6.0
# Adaptation terminated
# Step size = 0.8
# Diagonal elements of inverse mass matrix:
# 1.5, 0.25
-1.25,0.9,0.8,2,3,0,2.5,0.1,0.2,0.3
-1.5,0.95,0.8,1,1,0,2.25,0.4,0.5,0.6
# 
#  Elapsed Time: 0.01 seconds (Warm-up)
";
    std::fs::write(&path, text).unwrap();
    let read = Posterior::from_csv(&[&path]).unwrap();
    assert_eq!(read.names(), ["mu", "theta[0]", "theta[1]"]);
    assert_eq!(read.draws("mu").unwrap(), [0.1, 0.4]);
    assert_eq!(read.draws("theta[1]").unwrap(), [0.3, 0.6]);
    assert_eq!(read.adapted()[0].step_size, 0.8);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn absurd_json_dimensions_are_errors() {
    let written = posterior(1);
    let json = written.to_json();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    for dim in ["4294967296", "18446744073709551615", "1e300", "-3", "\"2\""] {
        let mut doc = doc.clone();
        doc["chains"][0]["inverse_mass_matrix"] =
            serde_json::from_str(&format!("{{\"dense\": [], \"dim\": {dim}}}")).unwrap();
        assert!(Posterior::from_json(&doc.to_string()).is_err(), "dim {dim}");
    }
    // draws wider than the names, and statistics shorter than the draws
    let mut wide = doc.clone();
    wide["chains"][0]["values"][3] = serde_json::json!([1.0, 2.0, 3.0]);
    assert!(Posterior::from_json(&wide.to_string()).is_err());
    let mut short = doc.clone();
    short["chains"][0]["stats"]["energy"] = serde_json::json!([1.0]);
    assert!(Posterior::from_json(&short.to_string()).is_err());
    assert!(Posterior::from_json(&"[".repeat(100_000)).is_err());
}

fn config() -> Config {
    Config {
        cases: 48,
        rng_seed: RngSeed::Fixed(16),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn truncated_csv_never_panics_nor_invents_draws(
        cuts in proptest::collection::vec(0.0f64..=1.0, 2)
    ) {
        let written = posterior(2);
        let dir = temp_dir(&format!("prop-csv-{}", cuts[0].to_bits()));
        let paths = written.to_csv(&dir, "run").unwrap();
        let mut lengths = Vec::new();
        for (path, cut) in paths.iter().zip(&cuts) {
            let len = std::fs::metadata(path).unwrap().len() as f64;
            let keep = (cut * len) as usize;
            truncate(path, keep);
            lengths.push(keep);
        }
        if let Ok(read) = Posterior::from_csv(&paths) {
            prop_assert!(is_prefix_of(&read, &written), "cut to {lengths:?}");
            let _ = read.summary();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncated_json_never_panics_nor_invents_draws(cut in 0.0f64..=1.0) {
        let written = posterior(2);
        let json = written.to_json();
        let keep = (cut * json.len() as f64) as usize;
        let keep = (0..=keep).rev().find(|&k| json.is_char_boundary(k)).unwrap_or(0);
        if let Ok(read) = Posterior::from_json(&json[..keep]) {
            prop_assert!(is_prefix_of(&read, &written));
        }
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let dir = temp_dir(&format!("prop-garbage-{}", bytes.len()));
        let path = dir.join("garbage_1.csv");
        std::fs::write(&path, &bytes).unwrap();
        let _ = Posterior::from_csv(&[&path]);
        let text = String::from_utf8_lossy(&bytes);
        let _ = Posterior::from_json(&text);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn garbage_after_a_valid_header_never_panics(
        tail in "[-0-9.,eE#naif \n]{0,200}"
    ) {
        let written = posterior(1);
        let dir = temp_dir(&format!("prop-tail-{}", tail.len()));
        let path = written.to_csv(&dir, "run").unwrap().remove(0);
        let text = std::fs::read_to_string(&path).unwrap();
        let head: String = text.split_inclusive('\n').take(8).collect();
        std::fs::write(&path, head + &tail).unwrap();
        let _ = Posterior::from_csv(&[&path]).map(|p| p.summary());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
