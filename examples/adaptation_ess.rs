//! ESS per gradient (warm-up included) of NUTS on every posteriordb reference posterior,
//! with each metric adaptation: the Fisher diagonal (the default), Stan's windows and
//! the low-rank update (with NUTS's default late symmetric warm-up), and the Fisher
//! diagonal with the restarted warm-up (`.late_symmetric_warmup(false)`). Prints one
//! markdown row per posterior (min bulk ESS over every reported component per 1000
//! gradients, median over the seeds) and the median ratios.
//!
//! ```text
//! cargo run --release --example adaptation_ess              # seeds 1, 2, 3
//! cargo run --release --example adaptation_ess -- 1 2 3 4 5 # other seeds
//! ```

#[path = "posteriordb/json.rs"]
mod json;
#[path = "posteriordb/models.rs"]
mod models;

use json::Json;
use tilde::MetricAdaptation;

/// Min bulk ESS per 1000 gradients of one run, and its gradients.
fn ess_per_gradient(posterior: &tilde::Posterior) -> (f64, usize) {
    let min_ess = posterior
        .summary()
        .rows
        .iter()
        .map(|r| r.ess_bulk)
        .filter(|e| e.is_finite())
        .fold(f64::INFINITY, f64::min);
    let gradients = posterior.num_gradient_evals();
    (1000.0 * min_ess / gradients as f64, gradients)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seeds: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    if seeds.is_empty() {
        seeds = vec![1, 2, 3];
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/posteriordb");
    // (adaptation, late symmetric warm-up): the default, Stan's windows, low rank, and
    // the Fisher diagonal with the restarted warm-up
    let adaptations = [
        (MetricAdaptation::Fisher, true),
        (MetricAdaptation::StanWindows, true),
        (MetricAdaptation::low_rank(), true),
        (MetricAdaptation::Fisher, false),
    ];
    println!(
        "seeds {seeds:?}; min bulk ESS per 1000 gradients (gradients, thousands), median over seeds"
    );
    println!(
        "| posterior | Fisher | Stan windows | low rank | Fisher, restarted | Fisher / Stan \
         | low rank / Stan | Fisher / restarted |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let (mut fisher_ratios, mut low_rank_ratios, mut restarted_ratios) =
        (Vec::new(), Vec::new(), Vec::new());
    for name in models::NAMES {
        let data = Json::parse(&std::fs::read_to_string(root.join(name).join("data.json"))?);
        let mut cells = Vec::new();
        let mut values = Vec::new();
        for (adaptation, late) in adaptations {
            let (mut ess, mut grads) = (Vec::new(), Vec::new());
            for &seed in &seeds {
                let posterior = models::fit_with(name, &data, seed, false, adaptation, late)?;
                let (e, g) = ess_per_gradient(&posterior);
                ess.push(e);
                grads.push(g as f64);
            }
            let (e, g) = (median(ess), median(grads));
            cells.push(format!("{e:.1} ({:.0} k)", g / 1000.0));
            values.push(e);
        }
        fisher_ratios.push(values[0] / values[1]);
        low_rank_ratios.push(values[2] / values[1]);
        restarted_ratios.push(values[0] / values[3]);
        println!(
            "| {name} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            values[0] / values[1],
            values[2] / values[1],
            values[0] / values[3]
        );
    }
    println!(
        "\nmedian ratio: Fisher / Stan {:.2}, low rank / Stan {:.2}, Fisher / restarted {:.2}",
        median(fisher_ratios),
        median(low_rank_ratios),
        median(restarted_ratios)
    );
    Ok(())
}
