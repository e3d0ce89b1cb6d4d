//! Every diagnostic against ArviZ 0.23 on fixed draws.
//!
//! `data/diagnostics_reference.txt` holds the draws and ArviZ's figures; it is written by
//! `data/diagnostics_reference.py` (see there for the format and how to regenerate it).
//!
//! The tolerance is relative `1e-6`. Both sides are deterministic evaluations of the same
//! formulas on the same numbers, so they differ only by floating-point rounding: ArviZ
//! computes autocovariances by FFT and sums with NumPy's pairwise summation, this crate
//! sums directly, and those differences stay near `1e-13` relative. A discrepancy above
//! `1e-6` is a convention mismatch (split, ranks, quantile rule, truncation) and must be
//! fixed in the implementation, not absorbed by the tolerance.

use std::collections::BTreeMap;

use tilde_samplers::diagnostics::{
    e_bfmi, ess_bulk, ess_mean, ess_tail, mcse_mean, mcse_sd, mean, quantile, rhat, sd,
};

const REFERENCE: &str = include_str!("data/diagnostics_reference.txt");

const RELATIVE_TOLERANCE: f64 = 1e-6;

/// The cases `diagnostics_reference.py` writes; checked so that a truncated file fails.
const CASE_NAMES: [&str; 13] = [
    "iid_normal",
    "ar1_phi_0.9",
    "shifted_means",
    "student_t_2",
    "single_chain_odd",
    "odd_length_3x51",
    "ar1_phi_-0.3",
    "poisson_ties",
    "offset",
    "constant",
    "four_draws",
    "three_draws",
    "quantile_on_a_draw",
];

const ENERGY_NAMES: [&str; 2] = ["energy_iid", "energy_sticky"];

struct Case {
    name: String,
    chains: Vec<Vec<f64>>,
    expected: BTreeMap<String, f64>,
}

struct Energy {
    name: String,
    values: Vec<f64>,
    expected_bfmi: f64,
}

fn parse_numbers(fields: std::str::SplitWhitespace<'_>) -> Vec<f64> {
    fields
        .map(|field| {
            field
                .parse()
                .unwrap_or_else(|_| panic!("bad number {field:?}"))
        })
        .collect()
}

fn reference() -> (Vec<Case>, Vec<Energy>) {
    let mut cases: Vec<Case> = Vec::new();
    let mut energies: Vec<Energy> = Vec::new();
    // Whether the latest `expect` lines belong to an energy series rather than a case.
    let mut in_energy = false;
    for line in REFERENCE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("case") => {
                let name = fields.next().expect("case name").to_owned();
                let num_chains: usize = fields.next().unwrap().parse().unwrap();
                let num_draws: usize = fields.next().unwrap().parse().unwrap();
                cases.push(Case {
                    name,
                    chains: Vec::with_capacity(num_chains),
                    expected: BTreeMap::new(),
                });
                // Remember the declared shape in the map under a reserved key.
                let case = cases.last_mut().unwrap();
                case.expected
                    .insert("#num_chains".into(), num_chains as f64);
                case.expected.insert("#num_draws".into(), num_draws as f64);
                in_energy = false;
            }
            Some("chain") => {
                let case = cases.last_mut().expect("chain before case");
                case.chains.push(parse_numbers(fields));
            }
            Some("energy") => {
                let name = fields.next().expect("energy name").to_owned();
                energies.push(Energy {
                    name,
                    values: parse_numbers(fields),
                    expected_bfmi: f64::NAN,
                });
                in_energy = true;
            }
            Some("expect") => {
                let figure = fields.next().expect("figure name").to_owned();
                let value: f64 = fields.next().expect("figure value").parse().unwrap();
                if in_energy {
                    assert_eq!(figure, "bfmi");
                    energies.last_mut().unwrap().expected_bfmi = value;
                } else {
                    cases.last_mut().unwrap().expected.insert(figure, value);
                }
            }
            other => panic!("unexpected line kind {other:?}"),
        }
    }
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, CASE_NAMES, "reference cases changed");
    let names: Vec<&str> = energies.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ENERGY_NAMES, "reference energies changed");
    for case in &cases {
        let num_chains = case.expected["#num_chains"] as usize;
        let num_draws = case.expected["#num_draws"] as usize;
        assert_eq!(case.chains.len(), num_chains, "{}: chain count", case.name);
        for chain in &case.chains {
            assert_eq!(chain.len(), num_draws, "{}: chain length", case.name);
        }
    }
    (cases, energies)
}

/// `actual` equals `expected` to [`RELATIVE_TOLERANCE`]; NaN must meet NaN, and an expected
/// zero must be met exactly.
fn agrees(actual: f64, expected: f64) -> bool {
    if expected.is_nan() {
        return actual.is_nan();
    }
    (actual - expected).abs() <= RELATIVE_TOLERANCE * expected.abs()
}

/// Compares `f` with ArviZ's `figure` on every case and reports all disagreements at once.
fn check(figure: &str, f: impl Fn(&[&[f64]]) -> f64) {
    let (cases, _) = reference();
    let mut failures = Vec::new();
    for case in &cases {
        let expected = *case
            .expected
            .get(figure)
            .unwrap_or_else(|| panic!("{}: no reference {figure}", case.name));
        let chains: Vec<&[f64]> = case.chains.iter().map(Vec::as_slice).collect();
        let actual = f(&chains);
        if !agrees(actual, expected) {
            failures.push(format!(
                "{}: {figure} = {actual:.17e}, ArviZ {expected:.17e} (relative error {:.1e})",
                case.name,
                ((actual - expected) / expected).abs()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn mean_matches_numpy() {
    check("mean", mean);
}

#[test]
fn sd_matches_numpy() {
    check("sd", sd);
}

#[test]
fn quantiles_match_numpy() {
    check("q05", |chains| quantile(chains, 0.05));
    check("q50", |chains| quantile(chains, 0.5));
    check("q95", |chains| quantile(chains, 0.95));
}

#[test]
fn rhat_matches_arviz() {
    // ArviZ gives no R-hat for a single chain, where tilde compares its halves (the
    // unit tests of diagnostics.rs check that case)
    check("rhat", |chains| {
        if chains.len() == 1 {
            f64::NAN
        } else {
            rhat(chains)
        }
    });
}

#[test]
fn ess_bulk_matches_arviz() {
    check("ess_bulk", ess_bulk);
}

#[test]
fn ess_tail_matches_arviz() {
    check("ess_tail", ess_tail);
}

#[test]
fn ess_mean_matches_arviz() {
    check("ess_mean", ess_mean);
}

#[test]
fn mcse_mean_matches_arviz() {
    check("mcse_mean", mcse_mean);
}

#[test]
fn mcse_sd_matches_arviz() {
    check("mcse_sd", mcse_sd);
}

#[test]
fn e_bfmi_matches_arviz() {
    let (_, energies) = reference();
    for energy in &energies {
        let actual = e_bfmi(&energy.values);
        assert!(
            agrees(actual, energy.expected_bfmi),
            "{}: e_bfmi = {actual:.17e}, ArviZ {:.17e}",
            energy.name,
            energy.expected_bfmi
        );
    }
}

#[test]
fn reference_covers_the_cases_the_brief_asks_for() {
    // Guards the comparisons above against a reference that silently lost its hard cases.
    let (cases, _) = reference();
    let figure =
        |name: &str, figure: &str| cases.iter().find(|c| c.name == name).unwrap().expected[figure];
    assert!(
        figure("shifted_means", "rhat") > 1.1,
        "bad R-hat case is not bad"
    );
    assert!(
        figure("ar1_phi_-0.3", "ess_bulk") > 4000.0,
        "antithetic case has ESS ≤ N"
    );
    assert!(
        figure("ar1_phi_0.9", "ess_bulk") < 200.0,
        "AR(1) case is not autocorrelated"
    );
    assert!(figure("single_chain_odd", "rhat").is_nan());
    assert!(figure("three_draws", "ess_bulk").is_nan());
}
