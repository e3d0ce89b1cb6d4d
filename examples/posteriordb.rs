//! Every posterior of the posteriordb reference set, fitted with NUTS (4 chains ×
//! (1000 + 1000)) and compared with its reference summary.
//!
//! ```text
//! cargo run --release --example posteriordb                  # all nine
//! cargo run --release --example posteriordb -- garch-garch11 # one
//! ```

use std::time::Instant;

#[path = "posteriordb/json.rs"]
mod json;
#[path = "posteriordb/models.rs"]
mod models;

use json::Json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/posteriordb");
    for name in models::NAMES {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let data = Json::parse(&std::fs::read_to_string(root.join(name).join("data.json"))?);
        let reference = Json::parse(&std::fs::read_to_string(
            root.join(name).join("reference_summary.json"),
        )?);
        let start = Instant::now();
        let posterior = models::fit(name, &data, 1, true)?;
        println!("\n== {name} ({:.2} s)", start.elapsed().as_secs_f64());
        posterior.print_summary();
        println!("reference (Stan names are 1-based):");
        for (param, r) in reference.get("params").entries() {
            println!(
                "  {param:>14} mean {:>10.4} sd {:>10.4}",
                r.get("mean").num(),
                r.get("sd").num()
            );
        }
    }
    Ok(())
}
