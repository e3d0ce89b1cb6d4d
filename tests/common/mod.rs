//! Helpers shared by the integration tests: a minimal JSON reader for the posteriordb
//! reference files, and the reference comparison rule of their README.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub fn parse(text: &str) -> Json {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing characters in JSON");
        v
    }

    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or_else(|| panic!("no key {key}")),
            _ => panic!("not an object"),
        }
    }

    pub fn num(&self) -> f64 {
        match self {
            Json::Num(v) => *v,
            _ => panic!("not a number: {self:?}"),
        }
    }

    pub fn nums(&self) -> Vec<f64> {
        match self {
            Json::Arr(a) => a.iter().map(Json::num).collect(),
            _ => panic!("not an array"),
        }
    }

    pub fn entries(&self) -> &BTreeMap<String, Json> {
        match self {
            Json::Obj(m) => m,
            _ => panic!("not an object"),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                loop {
                    self.ws();
                    if self.s[self.i] == b'}' {
                        self.i += 1;
                        return Json::Obj(m);
                    }
                    let Json::Str(k) = self.value() else {
                        panic!("object key")
                    };
                    self.ws();
                    assert_eq!(self.s[self.i], b':');
                    self.i += 1;
                    let v = self.value();
                    m.insert(k, v);
                    self.ws();
                    if self.s[self.i] == b',' {
                        self.i += 1;
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                loop {
                    self.ws();
                    if self.s[self.i] == b']' {
                        self.i += 1;
                        return Json::Arr(a);
                    }
                    a.push(self.value());
                    self.ws();
                    if self.s[self.i] == b',' {
                        self.i += 1;
                    }
                }
            }
            b'"' => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != b'"' {
                    self.i += 1;
                }
                self.i += 1;
                Json::Str(String::from_utf8_lossy(&self.s[start..self.i - 1]).into_owned())
            }
            b't' => {
                self.i += 4;
                Json::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Json::Bool(false)
            }
            b'n' => {
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                Json::Num(text.parse().unwrap_or_else(|_| panic!("bad number {text}")))
            }
        }
    }
}

/// The folder of one reference posterior.
pub fn posteriordb(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/posteriordb")
        .join(name)
}

/// `data.json` and `reference_summary.json` of a reference posterior.
pub fn reference(name: &str) -> (Json, Json) {
    let dir = posteriordb(name);
    let data = std::fs::read_to_string(dir.join("data.json")).unwrap();
    let summary = std::fs::read_to_string(dir.join("reference_summary.json")).unwrap();
    (Json::parse(&data), Json::parse(&summary))
}

/// Stan's 1-based `theta[1]` → tilde's 0-based `theta[0]`.
pub fn zero_based(stan_name: &str) -> String {
    match stan_name.split_once('[') {
        Some((base, rest)) => {
            let idx: Vec<String> = rest
                .trim_end_matches(']')
                .split(',')
                .map(|i| (i.trim().parse::<usize>().unwrap() - 1).to_string())
                .collect();
            format!("{base}[{}]", idx.join(","))
        }
        None => stan_name.to_string(),
    }
}

/// The README's rule: R-hat < 1.01 and bulk ESS ≥ 400, then means and sds within
/// 4·√(mcse_ref² + mcse_ours²). Returns the names that failed, with details.
pub fn compare(posterior: &tilde::Posterior, reference: &Json, skip_sd: &[&str]) -> Vec<String> {
    let summary = posterior.summary();
    let mut failures = Vec::new();
    for (stan_name, r) in reference.get("params").entries() {
        let name = zero_based(stan_name);
        let Some(ours) = summary.get(&name) else {
            failures.push(format!("{name}: missing from the draws"));
            continue;
        };
        if !(ours.r_hat < 1.01 && ours.ess_bulk >= 400.0) {
            failures.push(format!(
                "{name}: not converged (r_hat {}, ess_bulk {})",
                ours.r_hat, ours.ess_bulk
            ));
            continue;
        }
        let tol_mean = 4.0 * (r.get("mcse_mean").num().powi(2) + ours.mcse_mean.powi(2)).sqrt();
        if (ours.mean - r.get("mean").num()).abs() > tol_mean {
            failures.push(format!(
                "{name}: mean {} vs reference {} (tolerance {tol_mean})",
                ours.mean,
                r.get("mean").num()
            ));
        }
        if skip_sd.contains(&stan_name.as_str()) {
            continue;
        }
        let tol_sd = 4.0 * (r.get("mcse_sd").num().powi(2) + ours.mcse_sd.powi(2)).sqrt();
        if (ours.sd - r.get("sd").num()).abs() > tol_sd {
            failures.push(format!(
                "{name}: sd {} vs reference {} (tolerance {tol_sd})",
                ours.sd,
                r.get("sd").num()
            ));
        }
    }
    failures
}
