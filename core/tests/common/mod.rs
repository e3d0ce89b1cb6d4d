//! The reference-table reader and check shared by the vector- and matrix-valued
//! reference tests: CSV rows `dist,params,x,ln_pdf` with space-separated vectors.

/// One reference value: a family, its parameters, a point and the log-density there.
pub struct Row {
    pub dist: String,
    pub params: Vec<f64>,
    pub x: Vec<f64>,
    pub ln_pdf: f64,
}

fn floats(s: &str) -> Vec<f64> {
    s.split_whitespace().map(|v| v.parse().unwrap()).collect()
}

/// The rows of `tests/data/{file}`.
pub fn rows(file: &str) -> Vec<Row> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 4, "{line}");
            Row {
                dist: f[0].to_string(),
                params: floats(f[1]),
                x: floats(f[2]),
                ln_pdf: f[3].parse().unwrap(),
            }
        })
        .collect()
}

/// Checks every row of `file` with `ln_pdf` at relative `tolerance` (absolute below 1
/// in magnitude), and that each of `families` has rows.
pub fn check(file: &str, tolerance: f64, ln_pdf: impl Fn(&Row) -> Option<f64>, families: &[&str]) {
    let mut seen = std::collections::BTreeSet::new();
    for row in &rows(file) {
        let got = ln_pdf(row).unwrap_or_else(|| panic!("unknown family {}", row.dist));
        let tol = tolerance * row.ln_pdf.abs().max(1.0);
        assert!(
            (got - row.ln_pdf).abs() <= tol,
            "{} {:?} at {:?}: {got} vs {}",
            row.dist,
            row.params,
            row.x,
            row.ln_pdf
        );
        seen.insert(row.dist.clone());
    }
    for family in families {
        assert!(seen.contains(*family), "no rows for {family}");
    }
}
