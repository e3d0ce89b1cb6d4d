//! Log-densities of every distribution against reference values.
//!
//! Source: `tests/data/ln_pdf_reference.csv`, written by `tests/data/reference.py` from
//! scipy.stats 1.17 `logpdf` / `logpmf` (and, for the logit and log-rate forms, which
//! scipy.stats lacks, from mpmath at 50 digits). The script checks every scipy value
//! against mpmath to 2.5e-13, so the file is accurate to a quarter of the tolerance here.
//!
//! Tolerance: relative 1e-12, absolute 1e-12 when the value is below 1 in magnitude.
//! Rows at `-inf` (points outside the support) must be exactly `-∞`.
//!
//! Truncated distributions, whose rows need two bounds besides the parameters, are in
//! `tests/data/truncated_reference.csv` from the same script (mpmath at 60 digits,
//! checked against scipy's `truncnorm`, `truncexpon` and `logpdf - ln(mass)`), at the
//! same tolerance.

use tilde_core::{
    Bernoulli, Beta, Binomial, Cauchy, Distribution, Exponential, Gamma, HalfCauchy, HalfNormal,
    InverseGamma, Laplace, LogNormal, Normal, Poisson, StudentT, Uniform,
};
use tilde_core::{
    BetaBinomial, Cdf, Geometric, Gumbel, HalfStudentT, Logistic, NegativeBinomial, Pareto,
    SkewNormal, TruncatedNormal, VonMises, Weibull, ZeroInflatedPoisson,
};

const TOLERANCE: f64 = 1e-12;

/// Every family and parameterisation the file must cover.
const FAMILIES: [&str; 30] = [
    "normal",
    "half_normal",
    "log_normal",
    "cauchy",
    "half_cauchy",
    "student_t",
    "laplace",
    "exponential",
    "gamma",
    "inverse_gamma",
    "beta",
    "uniform",
    "bernoulli",
    "bernoulli_logit",
    "binomial",
    "binomial_logit",
    "poisson",
    "poisson_log_rate",
    "half_student_t",
    "weibull",
    "logistic",
    "gumbel",
    "pareto",
    "von_mises",
    "skew_normal",
    "negative_binomial",
    "negative_binomial_probs",
    "beta_binomial",
    "geometric",
    "zero_inflated_poisson",
];

struct Row {
    line: usize,
    dist: String,
    params: Vec<f64>,
    x: f64,
    want: f64,
}

fn parse_f64(s: &str, line: usize) -> f64 {
    s.parse()
        .unwrap_or_else(|e| panic!("line {line}: cannot parse {s:?}: {e}"))
}

fn read_rows() -> Vec<Row> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ln_pdf_reference.csv"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().expect("the file has a header");
    assert_eq!(header, "dist,p1,p2,p3,x,ln_pdf");
    lines
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            let line = i + 1;
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), 6, "line {line}: {l}");
            Row {
                line,
                dist: fields[0].to_string(),
                params: fields[1..4]
                    .iter()
                    .filter(|f| !f.is_empty())
                    .map(|f| parse_f64(f, line))
                    .collect(),
                x: parse_f64(fields[4], line),
                want: parse_f64(fields[5], line),
            }
        })
        .collect()
}

/// A count parameter, which the file writes as a float.
fn count(v: f64) -> u64 {
    assert!(v >= 0.0 && v.fract() == 0.0, "not a count: {v}");
    v as u64
}

/// `(ln_pdf(x), ln_pdf_obs(x))` of the row's distribution.
fn evaluate(row: &Row) -> (f64, f64) {
    fn both<D: Distribution<Scalar = f64>>(d: D, x: f64) -> (f64, f64) {
        (d.ln_pdf(x), d.ln_pdf_obs(x))
    }
    let p = &row.params;
    let x = row.x;
    match (row.dist.as_str(), p.as_slice()) {
        ("normal", &[loc, scale]) => both(Normal::new(loc, scale), x),
        ("half_normal", &[scale]) => both(HalfNormal::new(scale), x),
        ("log_normal", &[loc, scale]) => both(LogNormal::new(loc, scale), x),
        ("cauchy", &[loc, scale]) => both(Cauchy::new(loc, scale), x),
        ("half_cauchy", &[scale]) => both(HalfCauchy::new(scale), x),
        ("student_t", &[nu, loc, scale]) => both(StudentT::new(nu, loc, scale), x),
        ("laplace", &[loc, scale]) => both(Laplace::new(loc, scale), x),
        ("exponential", &[rate]) => both(Exponential::new(rate), x),
        ("gamma", &[shape, rate]) => both(Gamma::new(shape, rate), x),
        ("inverse_gamma", &[shape, scale]) => both(InverseGamma::new(shape, scale), x),
        ("beta", &[a, b]) => both(Beta::new(a, b), x),
        ("uniform", &[low, high]) => both(Uniform::new(low, high), x),
        ("bernoulli", &[prob]) => both(Bernoulli::new(prob), x),
        ("bernoulli_logit", &[logit]) => both(Bernoulli::logit(logit), x),
        ("binomial", &[n, prob]) => both(Binomial::new(count(n), prob), x),
        ("binomial_logit", &[n, logit]) => both(Binomial::logit(count(n), logit), x),
        ("poisson", &[rate]) => both(Poisson::new(rate), x),
        ("poisson_log_rate", &[log_rate]) => both(Poisson::log_rate(log_rate), x),
        ("half_student_t", &[nu, scale]) => both(HalfStudentT::new(nu, scale), x),
        ("weibull", &[shape, scale]) => both(Weibull::new(shape, scale), x),
        ("logistic", &[loc, scale]) => both(Logistic::new(loc, scale), x),
        ("gumbel", &[loc, scale]) => both(Gumbel::new(loc, scale), x),
        ("pareto", &[scale, shape]) => both(Pareto::new(scale, shape), x),
        ("von_mises", &[loc, kappa]) => both(VonMises::new(loc, kappa), x),
        ("skew_normal", &[loc, scale, alpha]) => both(SkewNormal::new(loc, scale, alpha), x),
        ("negative_binomial", &[mean, dispersion]) => {
            both(NegativeBinomial::new(mean, dispersion), x)
        }
        ("negative_binomial_probs", &[r, prob]) => both(NegativeBinomial::probs(r, prob), x),
        ("beta_binomial", &[n, a, b]) => both(BetaBinomial::new(count(n), a, b), x),
        ("geometric", &[prob]) => both(Geometric::new(prob), x),
        ("zero_inflated_poisson", &[zero_prob, rate]) => {
            both(ZeroInflatedPoisson::new(zero_prob, rate), x)
        }
        (dist, params) => panic!("line {}: unknown row {dist} {params:?}", row.line),
    }
}

fn matches(got: f64, want: f64) -> bool {
    if want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= TOLERANCE * want.abs().max(1.0)
    }
}

#[test]
fn ln_pdf_matches_reference() {
    let rows = read_rows();
    let mut failures = Vec::new();
    for row in &rows {
        let (got, got_obs) = evaluate(row);
        for (what, v) in [("ln_pdf", got), ("ln_pdf_obs", got_obs)] {
            if !matches(v, row.want) {
                failures.push(format!(
                    "line {}: {} {:?} x = {:e}: {what} = {v:e}, want {:e} (rel err {:.1e})",
                    row.line,
                    row.dist,
                    row.params,
                    row.x,
                    row.want,
                    ((v - row.want) / row.want.abs().max(1.0)).abs(),
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn reference_covers_every_family_inside_and_outside_the_support() {
    let rows = read_rows();
    for family in FAMILIES {
        let finite = rows
            .iter()
            .filter(|r| r.dist == family && r.want.is_finite())
            .count();
        let outside = rows
            .iter()
            .filter(|r| r.dist == family && r.want == f64::NEG_INFINITY);
        assert!(finite >= 5, "{family}: only {finite} finite rows");
        // Every family except the normal (support ℝ, no finite point outside) has
        // rows outside its support.
        if !matches!(
            family,
            "normal" | "cauchy" | "student_t" | "laplace" | "logistic" | "gumbel" | "skew_normal"
        ) {
            assert!(outside.count() >= 1, "{family}: no row outside the support");
        }
    }
    assert!(rows.iter().all(|r| !r.want.is_nan()), "the file holds NaN");
}

/// A row of `truncated_reference.csv`: `(family, p1, p2, low, high, x, ln_pdf)`.
struct TruncatedRow {
    line: usize,
    family: String,
    p1: f64,
    p2: Option<f64>,
    low: f64,
    high: f64,
    x: f64,
    want: f64,
}

fn read_truncated_rows() -> Vec<TruncatedRow> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/truncated_reference.csv"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().expect("the file has a header");
    assert_eq!(header, "dist,p1,p2,low,high,x,ln_pdf");
    lines
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            let line = i + 1;
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 7, "line {line}: {l}");
            TruncatedRow {
                line,
                family: f[0].to_string(),
                p1: parse_f64(f[1], line),
                p2: (!f[2].is_empty()).then(|| parse_f64(f[2], line)),
                low: parse_f64(f[3], line),
                high: parse_f64(f[4], line),
                x: parse_f64(f[5], line),
                want: parse_f64(f[6], line),
            }
        })
        .collect()
}

/// `(ln_pdf(x), ln_pdf_obs(x))` of the row's truncated distribution.
fn evaluate_truncated(row: &TruncatedRow) -> (f64, f64) {
    fn both<D: Cdf<Scalar = f64>>(d: D, low: f64, high: f64, x: f64) -> (f64, f64) {
        let t = d.truncated(low, high);
        (t.ln_pdf(x), t.ln_pdf_obs(x))
    }
    let (p1, low, high, x) = (row.p1, row.low, row.high, row.x);
    let p2 = || {
        row.p2
            .unwrap_or_else(|| panic!("line {}: needs p2", row.line))
    };
    match row.family.as_str() {
        "truncated_normal" => {
            let d: TruncatedNormal = TruncatedNormal::new(p1, p2(), low, high);
            (d.ln_pdf(x), d.ln_pdf_obs(x))
        }
        "truncated_exponential" => both(Exponential::new(p1), low, high, x),
        "truncated_logistic" => both(Logistic::new(p1, p2()), low, high, x),
        "truncated_cauchy" => both(Cauchy::new(p1, p2()), low, high, x),
        "truncated_gumbel" => both(Gumbel::new(p1, p2()), low, high, x),
        "truncated_weibull" => both(Weibull::new(p1, p2()), low, high, x),
        family => panic!("line {}: unknown family {family}", row.line),
    }
}

#[test]
fn truncated_ln_pdf_matches_reference() {
    let rows = read_truncated_rows();
    let mut failures = Vec::new();
    for row in &rows {
        let (got, got_obs) = evaluate_truncated(row);
        for (what, v) in [("ln_pdf", got), ("ln_pdf_obs", got_obs)] {
            if !matches(v, row.want) {
                failures.push(format!(
                    "line {}: {} ({}, {:?}) on [{}, {}] x = {:e}: {what} = {v:e}, want {:e}",
                    row.line, row.family, row.p1, row.p2, row.low, row.high, row.x, row.want,
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    // every family with finite rows, rows outside the interval, and infinite bounds
    for family in [
        "normal",
        "exponential",
        "logistic",
        "cauchy",
        "gumbel",
        "weibull",
    ] {
        let family = format!("truncated_{family}");
        let of = || rows.iter().filter(|r| r.family == family);
        assert!(of().filter(|r| r.want.is_finite()).count() >= 5, "{family}");
        assert!(of().any(|r| r.want == f64::NEG_INFINITY), "{family}");
    }
    assert!(rows.iter().any(|r| r.low == f64::NEG_INFINITY));
    assert!(rows.iter().any(|r| r.high == f64::INFINITY));
}
