//! Log-densities of the multivariate distributions (and the categorical) against
//! reference values.
//!
//! Source: `tests/data/mvn_reference.csv`, written by `tests/data/reference.py`
//! (`write_multivariate`) from scipy.stats 1.17, each value checked there against
//! mpmath at 50 digits to 2.5e-13 relative.
//!
//! Tolerance: relative 1e-12 (absolute below 1 in magnitude).

use tilde_core::vector::data;
use tilde_core::{Categorical, Distribution, Multinomial, MultivariateNormal, VectorDistribution};

mod common;

use common::Row;

const TOLERANCE: f64 = 1e-12;

fn ln_pdf(row: &Row) -> Option<f64> {
    let p = &row.params;
    Some(match row.dist.as_str() {
        "mvn_cholesky" | "mvn_covariance" | "mvn_precision" => {
            let n = row.x.len();
            let (mean, mat) = p.split_at(n);
            let d = match row.dist.as_str() {
                "mvn_cholesky" => MultivariateNormal::<f64, _, _>::cholesky(data(mean), data(mat)),
                "mvn_covariance" => MultivariateNormal::covariance(data(mean), data(mat)),
                _ => MultivariateNormal::precision(data(mean), data(mat)),
            };
            let from_data = d.ln_pdf_obs(&row.x);
            assert_eq!(from_data, d.ln_pdf(&row.x));
            from_data
        }
        "categorical" => {
            let d = Categorical::<f64, _>::new(data(p));
            assert_eq!(d.ln_pdf(row.x[0]), d.ln_pdf_obs(row.x[0]));
            d.ln_pdf_obs(row.x[0])
        }
        "categorical_logits" => Categorical::<f64, _>::logits(data(p)).ln_pdf_obs(row.x[0]),
        "multinomial" => {
            let d = Multinomial::<f64, _>::new(p[0] as u64, data(&p[1..]));
            assert_eq!(d.ln_pdf(&row.x), d.ln_pdf_obs(&row.x));
            d.ln_pdf_obs(&row.x)
        }
        _ => return None,
    })
}

#[test]
fn multivariate_reference_values() {
    common::check(
        "mvn_reference.csv",
        TOLERANCE,
        ln_pdf,
        &[
            "mvn_cholesky",
            "mvn_covariance",
            "mvn_precision",
            "categorical",
            "categorical_logits",
            "multinomial",
        ],
    );
}
