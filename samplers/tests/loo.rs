//! PSIS-LOO and WAIC against ArviZ 0.23 on fixed draws.
//!
//! `data/loo_reference.txt` holds, per case, the data `y`, draws of `mu` and `sigma`, the
//! `r_eff` ArviZ derived from them, and ArviZ's figures; it is written by
//! `data/loo_reference.py` (see there for the format and how to regenerate it). The test
//! recomputes the normal log-likelihood from the stored draws with the script's formula.
//!
//! The tolerance is relative `1e-6`. Both sides evaluate the same formulas on the same
//! numbers, so they differ only by floating-point rounding: the log-likelihood is
//! recomputed here (a few ulps), NumPy sums pairwise where this crate sums in order, and
//! `exp`/`log1p` come from different libms; those differences stay near `1e-12` relative,
//! even through the Pareto fit, whose figures are smooth functions of the sorted tail. A
//! discrepancy above `1e-6` is a convention mismatch (tail length, prior, truncation,
//! variance divisor) and must be fixed in the implementation, not absorbed by the
//! tolerance.

use std::collections::BTreeMap;

use tilde_samplers::loo::{psis_loo, waic};

const REFERENCE: &str = include_str!("data/loo_reference.txt");

const RELATIVE_TOLERANCE: f64 = 1e-6;

/// The cases `loo_reference.py` writes; checked so that a truncated file fails.
const CASE_NAMES: [&str; 3] = ["outlier_4x250", "short_1x20", "autocorrelated_2x60"];

#[derive(Default)]
struct Case {
    name: String,
    num_chains: usize,
    num_draws: usize,
    y: Vec<f64>,
    mu: Vec<f64>,
    sigma: Vec<f64>,
    r_eff: f64,
    expected: BTreeMap<String, f64>,
    expected_pointwise: BTreeMap<String, Vec<f64>>,
}

fn parse_numbers<'a>(fields: impl Iterator<Item = &'a str>) -> Vec<f64> {
    fields
        .map(|field| {
            field
                .parse()
                .unwrap_or_else(|_| panic!("bad number {field:?}"))
        })
        .collect()
}

fn reference() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in REFERENCE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut fields = line.split_whitespace();
        let tag = fields.next().expect("a record tag");
        if tag == "case" {
            let name = fields.next().expect("case name").to_owned();
            let sizes: Vec<usize> = fields.map(|f| f.parse().expect("a size")).collect();
            cases.push(Case {
                name,
                num_chains: sizes[0],
                num_draws: sizes[1],
                ..Case::default()
            });
            continue;
        }
        let case = cases.last_mut().expect("a record before the first case");
        match tag {
            "y" => case.y = parse_numbers(fields),
            "mu" => case.mu = parse_numbers(fields),
            "sigma" => case.sigma = parse_numbers(fields),
            "r_eff" => case.r_eff = parse_numbers(fields)[0],
            "expect" => {
                let figure = fields.next().expect("figure").to_owned();
                case.expected.insert(figure, parse_numbers(fields)[0]);
            }
            "expect_pointwise" => {
                let figure = fields.next().expect("figure").to_owned();
                case.expected_pointwise
                    .insert(figure, parse_numbers(fields));
            }
            other => panic!("unknown record {other:?}"),
        }
    }
    cases
}

/// `log_lik[chain][draw][obs]` of `y_i ~ normal(mu, sigma)`, as the script computes it.
fn log_lik(case: &Case) -> Vec<Vec<Vec<f64>>> {
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    (0..case.num_chains)
        .map(|c| {
            (0..case.num_draws)
                .map(|d| {
                    let s = c * case.num_draws + d;
                    let (mu, sigma) = (case.mu[s], case.sigma[s]);
                    case.y
                        .iter()
                        .map(|y| -half_ln_2pi - sigma.ln() - 0.5 * ((y - mu) / sigma).powi(2))
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn assert_close(case: &str, figure: &str, actual: f64, expected: f64) {
    let ok = if expected.is_finite() {
        (actual - expected).abs() <= RELATIVE_TOLERANCE * expected.abs().max(1e-300)
    } else {
        actual == expected || (actual.is_nan() && expected.is_nan())
    };
    assert!(
        ok,
        "{case}: {figure} is {actual:.17e}, ArviZ gives {expected:.17e}"
    );
}

#[test]
fn reference_file_has_every_case() {
    let cases = reference();
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, CASE_NAMES);
    for case in &cases {
        let samples = case.num_chains * case.num_draws;
        assert!(
            samples > 0 && !case.y.is_empty(),
            "{}: empty case",
            case.name
        );
        assert_eq!(case.mu.len(), samples, "{}: mu", case.name);
        assert_eq!(case.sigma.len(), samples, "{}: sigma", case.name);
        assert_eq!(case.expected.len(), 9, "{}: scalar figures", case.name);
        for values in case.expected_pointwise.values() {
            assert_eq!(values.len(), case.y.len(), "{}: pointwise", case.name);
        }
        assert_eq!(case.expected_pointwise.len(), 3, "{}", case.name);
    }
}

#[test]
fn psis_loo_matches_arviz() {
    for case in reference() {
        let loo = psis_loo(&log_lik(&case), case.r_eff);
        let name = case.name.as_str();
        let e = &case.expected;
        assert_close(name, "elpd_loo", loo.elpd_loo, e["elpd_loo"]);
        assert_close(name, "se_elpd_loo", loo.se_elpd_loo, e["se_elpd_loo"]);
        assert_close(name, "p_loo", loo.p_loo, e["p_loo"]);
        assert_close(name, "looic", loo.looic, -2.0 * e["elpd_loo"]);
        assert_close(name, "good_k", loo.good_k, e["good_k"]);
        assert_eq!(loo.warning, e["loo_warning"] == 1.0, "{name}: warning");
        let pointwise = &case.expected_pointwise;
        for (i, (k, expected)) in loo.pareto_k.iter().zip(&pointwise["pareto_k"]).enumerate() {
            assert_close(name, &format!("pareto_k[{i}]"), *k, *expected);
        }
        for (i, (v, expected)) in loo.pointwise.iter().zip(&pointwise["loo_i"]).enumerate() {
            assert_close(name, &format!("loo_i[{i}]"), *v, *expected);
        }
        assert_eq!(loo.pareto_k.len(), case.y.len());
        assert_eq!(loo.pointwise.len(), case.y.len());
    }
}

#[test]
fn waic_matches_arviz() {
    for case in reference() {
        let waic = waic(&log_lik(&case));
        let name = case.name.as_str();
        let e = &case.expected;
        assert_close(name, "elpd_waic", waic.elpd_waic, e["elpd_waic"]);
        assert_close(name, "se_elpd_waic", waic.se, e["se_elpd_waic"]);
        assert_close(name, "p_waic", waic.p_waic, e["p_waic"]);
        assert_eq!(waic.warning, e["waic_warning"] == 1.0, "{name}: warning");
        assert_eq!(waic.pointwise.len(), case.y.len());
        for (i, (v, expected)) in waic
            .pointwise
            .iter()
            .zip(&case.expected_pointwise["waic_i"])
            .enumerate()
        {
            assert_close(name, &format!("waic_i[{i}]"), *v, *expected);
        }
    }
}

#[test]
fn outlier_has_the_largest_pareto_k_above_the_warning_threshold() {
    let case = reference().remove(0);
    let loo = psis_loo(&log_lik(&case), case.r_eff);
    let (worst, k) = loo
        .pareto_k
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("observations");
    assert_eq!(
        worst,
        case.y.len() - 1,
        "the outlier is the last observation"
    );
    assert!(*k > 0.7 && loo.warning, "k = {k}");
}

#[test]
#[should_panic(expected = "chain 1 has 2 draws")]
fn unequal_chains_panic() {
    psis_loo(&[vec![vec![0.0]; 3], vec![vec![0.0]; 2]], 1.0);
}
