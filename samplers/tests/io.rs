//! Saving and loading draws: CSV and JSON round trips, streaming writes, and (when Python
//! and ArviZ are installed) ArviZ reading the CSV.
//!
//! A read-back posterior must equal the written one (`==`), and its draws must be
//! bit-identical (`to_bits`, so NaN and -0.0 count too).

use std::path::{Path, PathBuf};
use std::process::Command;

use tilde_core::{Error, LogDensity};
use tilde_samplers::{CsvWriter, Mcmc, Nuts, Posterior, SampleStats, Unconstrained};

/// A correlated 3-dimensional Gaussian; the sampler names its components `x[0]`..`x[2]`.
struct Gaussian;

impl LogDensity for Gaussian {
    fn dim(&self) -> usize {
        3
    }
    fn logp(&self, x: &[f64]) -> f64 {
        -0.5 * (x[0] * x[0] + (x[1] - 0.5 * x[0]).powi(2) / 0.25 + x[2] * x[2] / 4.0)
    }
    fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g[0] = -x[0] + 0.5 * (x[1] - 0.5 * x[0]) / 0.25;
        g[1] = -(x[1] - 0.5 * x[0]) / 0.25;
        g[2] = -x[2] / 4.0;
        self.logp(x)
    }
}

fn posterior(dense: bool) -> Posterior {
    Mcmc::new(Nuts::default().dense_mass(dense))
        .num_warmup(150)
        .num_samples(60)
        .num_chains(3)
        .seed(7)
        .run(&Unconstrained::new(Gaussian))
        .expect("the run succeeds")
}

/// A fresh, empty directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tilde-io-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Everything the formats store, bit for bit (`to_bits`, so NaN and -0.0 count too).
fn assert_same_draws(read: &Posterior, written: &Posterior) {
    assert_eq!(read.names(), written.names());
    assert_eq!(read.num_chains(), written.num_chains());
    assert_eq!(read.num_draws(), written.num_draws());
    let bits = |v: Vec<Vec<f64>>| -> Vec<Vec<u64>> {
        v.into_iter()
            .map(|c| c.into_iter().map(f64::to_bits).collect())
            .collect()
    };
    for name in written.names() {
        assert_eq!(
            bits(read.draws_by_chain(name).unwrap()),
            bits(written.draws_by_chain(name).unwrap()),
            "{name}"
        );
    }
    for chain in 0..written.num_chains() {
        assert_eq!(read.sample_stats(chain), written.sample_stats(chain));
    }
    assert_eq!(read.adapted(), written.adapted());
    assert_eq!(read.num_gradient_evals(), written.num_gradient_evals());
}

#[test]
fn csv_round_trip_is_identical() {
    for dense in [false, true] {
        let written = posterior(dense);
        let dir = temp_dir(&format!("round-trip-{dense}"));
        let paths = written.to_csv(&dir, "run").unwrap();
        let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(names, ["run_1.csv", "run_2.csv", "run_3.csv"]);
        let text = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(text.contains(
            "\nlp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,x.1,x.2,x.3\n"
        ));
        assert!(text.contains("\n# Step size = "));
        let metric_line = if dense {
            "\n# Elements of inverse mass matrix:\n"
        } else {
            "\n# Diagonal elements of inverse mass matrix:\n"
        };
        assert!(text.contains(metric_line), "{text}");
        let read = Posterior::from_csv(&paths).unwrap();
        assert_same_draws(&read, &written);
        assert_eq!(read, written);
        // and a second round trip too
        let dir2 = temp_dir(&format!("round-trip-again-{dense}"));
        let again = Posterior::from_csv(&read.to_csv(&dir2, "run").unwrap()).unwrap();
        assert_eq!(again, read);
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&dir2).unwrap();
    }
}

#[test]
fn json_round_trip_is_identical() {
    for dense in [false, true] {
        let written = posterior(dense);
        let json = written.to_json();
        let read = Posterior::from_json(&json).unwrap();
        assert_same_draws(&read, &written);
        assert_eq!(Posterior::from_json(&read.to_json()).unwrap(), read);
    }
}

#[test]
fn non_finite_values_and_awkward_numbers_round_trip() {
    let dir = temp_dir("non-finite");
    let path = dir.join("odd_1.csv");
    let params = posterior(false).adapted().remove(0);
    let names = ["a".to_string(), "z[1,0]".to_string()];
    let mut writer = CsvWriter::create(&path, &names, 0, &params).unwrap();
    let stats = SampleStats {
        log_density: f64::NEG_INFINITY,
        acceptance_rate: 0.1 + 0.2,
        step_size: 1e-300,
        tree_depth: 10,
        num_integration_steps: 1023,
        is_divergent: true,
        energy: f64::INFINITY,
        kernel_stat: f64::NAN,
    };
    let rows = [[5e-324, -0.0], [f64::MAX, 1.0 / 3.0]];
    for row in &rows {
        writer.write_draw(row, &stats).unwrap();
    }
    let read = Posterior::from_csv(&[&path]).unwrap();
    assert_eq!(read.names(), names);
    assert_eq!(read.sample_stats(0), [stats, stats]);
    assert_eq!(read.draws("a").unwrap(), [5e-324, f64::MAX]);
    let z = read.draws("z[1,0]").unwrap();
    assert_eq!(z[0].to_bits(), (-0.0f64).to_bits());
    assert_eq!(z[1], 1.0 / 3.0);
    assert_eq!(Posterior::from_json(&read.to_json()).unwrap(), read);

    // NaN is stored as NaN (it is not equal to itself, so compare separately).
    let mut writer = CsvWriter::create(&path, &names, 0, &params).unwrap();
    writer.write_draw(&[f64::NAN, 1.0], &stats).unwrap();
    let read = Posterior::from_csv(&[&path]).unwrap();
    assert!(read.draws("a").unwrap()[0].is_nan());
    assert!(
        Posterior::from_json(&read.to_json())
            .unwrap()
            .draws("a")
            .unwrap()[0]
            .is_nan()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn streaming_keeps_draws_written_before_a_failure() {
    let written = posterior(false);
    let dir = temp_dir("streaming");
    let path = dir.join("partial_1.csv");
    let values: Vec<Vec<f64>> = written
        .names()
        .iter()
        .map(|n| written.draws_by_chain(n).unwrap().remove(0))
        .collect();
    {
        let mut writer =
            CsvWriter::create(&path, written.names(), 0, &written.adapted()[0]).unwrap();
        for draw in 0..10 {
            let row: Vec<f64> = values.iter().map(|col| col[draw]).collect();
            writer
                .write_draw(&row, &written.sample_stats(0)[draw])
                .unwrap();
            // Every row is on disk as soon as it is written, with the writer still open.
            let partial = Posterior::from_csv(&[&path]).unwrap();
            assert_eq!(partial.num_draws(), draw + 1);
        }
        // The run "fails" here: the writer is dropped without any closing call.
    }
    let partial = Posterior::from_csv(&[&path]).unwrap();
    assert_eq!(partial.sample_stats(0), &written.sample_stats(0)[..10]);
    assert_eq!(partial.draws("x[1]").unwrap(), values[1][..10]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_an_error_naming_the_file() {
    let dir = temp_dir("bad");
    assert!(matches!(
        Posterior::from_csv(&[dir.join("missing.csv")]),
        Err(Error::Io(msg)) if msg.contains("missing.csv")
    ));
    assert!(matches!(
        Posterior::from_csv(&[] as &[&Path]),
        Err(Error::InvalidConfig(_))
    ));
    let written = posterior(false);
    let paths = written.to_csv(&dir, "run").unwrap();
    // A truncated last row without its newline is torn: dropped, not an error (issue
    // 16), and the other chains are cut to its length.
    let text = std::fs::read_to_string(&paths[0]).unwrap();
    let cut = text.trim_end().rfind(',').unwrap();
    std::fs::write(&paths[0], &text[..cut]).unwrap();
    let read = Posterior::from_csv(&paths).unwrap();
    assert_eq!(read.num_draws(), written.num_draws() - 1);
    // A short row that ends with its newline is not torn but malformed.
    std::fs::write(&paths[0], format!("{}\n", &text[..cut])).unwrap();
    let err = Posterior::from_csv(&paths).unwrap_err().to_string();
    assert!(err.contains("run_1.csv") && err.contains("fields"), "{err}");
    // Files of different models.
    std::fs::write(&paths[0], text.replace("x.3", "y")).unwrap();
    let err = Posterior::from_csv(&paths).unwrap_err().to_string();
    assert!(
        err.contains("run_2.csv") && err.contains("columns"),
        "{err}"
    );
    // A name with no Stan form that reads back as itself.
    let params = written.adapted().remove(0);
    let err = CsvWriter::create(dir.join("x_1.csv"), &["x.1".to_string()], 0, &params).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
    // JSON that is not tilde's.
    for bad in [
        "",
        "{}",
        "[1, 2]",
        "{\"format\": \"tilde-posterior\", \"version\": 2}",
    ] {
        assert!(
            matches!(Posterior::from_json(bad), Err(Error::Io(_))),
            "{bad:?}"
        );
    }
    let json = written.to_json();
    assert!(Posterior::from_json(&json[..json.len() / 2]).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `data/read_csv_with_arviz.py` on a written posterior, when Python has ArviZ.
#[test]
fn arviz_reads_the_csv() {
    let has_arviz = Command::new("python3")
        .args(["-c", "import arviz"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_arviz {
        println!("skipped: `python3 -c \"import arviz\"` fails, so ArviZ cannot be run");
        return;
    }
    let dir = temp_dir("arviz");
    posterior(false).to_csv(&dir, "gaussian").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/read_csv_with_arviz.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .arg("gaussian")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ArviZ failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("x[0]") && stdout.contains("3 chains x 60 draws"),
        "{stdout}"
    );
    println!("{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_kernels_own_statistic_round_trips_as_a_column() {
    let written = Mcmc::new(tilde_samplers::ReplicaExchange::new(
        Nuts::default(),
        &[1.0, 0.5],
    ))
    .num_warmup(100)
    .num_samples(40)
    .num_chains(2)
    .seed(3)
    .progress(false)
    .run(&Unconstrained::new(Gaussian))
    .unwrap();
    assert_eq!(written.kernel_stat_name(), Some("swap_accept__"));
    let swaps: Vec<f64> = (0..2)
        .flat_map(|c| written.sample_stats(c).iter().map(|s| s.kernel_stat))
        .collect();
    // two replicas: every other transition proposes their swap, the others none (NaN)
    let proposed: Vec<f64> = swaps.iter().copied().filter(|a| !a.is_nan()).collect();
    assert_eq!(proposed.len(), swaps.len() / 2, "{swaps:?}");
    assert!(
        proposed.iter().all(|a| (0.0..=1.0).contains(a)),
        "{swaps:?}"
    );
    let dir = temp_dir("kernel-stat");
    let paths = written.to_csv(&dir, "run").unwrap();
    let text = std::fs::read_to_string(&paths[0]).unwrap();
    assert!(text.contains("\nlp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,swap_accept__,x.1,x.2,x.3\n"));
    let read = Posterior::from_csv(&paths).unwrap();
    assert_same_draws(&read, &written);
    assert_eq!(read, written);
    assert_eq!(Posterior::from_json(&written.to_json()).unwrap(), written);
    // a kernel without its own statistic writes none
    let plain = posterior(false);
    assert_eq!(plain.kernel_stat_name(), None);
    assert!(!plain.to_json().contains("kernel_stat"));
    std::fs::remove_dir_all(&dir).unwrap();
}
