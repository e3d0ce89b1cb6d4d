//! Log-densities of the matrix-valued distributions, the low-rank multivariate normal
//! and mixtures against reference values.
//!
//! Source: `tests/data/matrix_reference.csv`, written by `tests/data/reference_matrix.py`
//! (`write_matrix`):
//! - `lkj_cholesky`: `-ln c_K(η) + (η - 1) ln det Ω + ln |J|` in mpmath, with `c_K` from
//!   eq. 16 of Lewandowski et al. (2009) (checked there against quadrature for K = 3 and
//!   against Stan's `do_lkj_constant`) and `ln |J|` the numeric Jacobian of `L ↦ Ω`;
//! - `wishart_cholesky` / `inv_wishart_cholesky`: scipy.stats `wishart` / `invwishart`
//!   `logpdf(L_W L_Wᵀ)` plus `K ln 2 + Σₖ (K - k + 1) ln (L_W)ₖₖ`, a formula checked there
//!   against a numeric Jacobian;
//! - `low_rank_mvn`: scipy.stats.multivariate_normal with `Σ = W Wᵀ + diag(d)`;
//! - `mixture`: `ln Σₖ wₖ fₖ(x)` in mpmath, with scipy's component densities.
//!
//! Tolerance: relative 1e-12 (absolute below 1 in magnitude), as for the other
//! multivariate references: the Rust side does `O(K³)` triangular solves on
//! well-conditioned factors, which lose a few ulps.

use tilde_core::vector::data;
use tilde_core::{
    Distribution, InverseWishart, LkjCholesky, LowRankMultivariateNormal, Mixture, Normal, Poisson,
    VectorDistribution, Wishart,
};

mod common;

use common::Row;

const TOLERANCE: f64 = 1e-12;

/// The log-density of a vector distribution at `x`, checking that the latent and the
/// observed paths agree.
fn both(d: &impl VectorDistribution<Scalar = f64>, x: &[f64]) -> f64 {
    let obs = d.ln_pdf_obs(x);
    assert_eq!(obs, d.ln_pdf(x));
    obs
}

fn ln_pdf(row: &Row) -> Option<f64> {
    let p = &row.params;
    Some(match row.dist.as_str() {
        "lkj_cholesky" => both(&LkjCholesky::<f64>::new(p[0] as usize, p[1]), &row.x),
        "wishart_cholesky" => both(&Wishart::<f64, _>::new(p[0], data(&p[1..])), &row.x),
        "inv_wishart_cholesky" => both(&InverseWishart::<f64, _>::new(p[0], data(&p[1..])), &row.x),
        "low_rank_mvn" => {
            let (n, r) = (p[0] as usize, p[1] as usize);
            let (mean, rest) = p[2..].split_at(n);
            let (w, d) = rest.split_at(n * r);
            both(
                &LowRankMultivariateNormal::<f64, _, _, _>::new(data(mean), data(w), data(d)),
                &row.x,
            )
        }
        "mixture_normal" => {
            let weights: Vec<f64> = p.chunks(3).map(|c| c[0]).collect();
            let components: Vec<Normal> = p.chunks(3).map(|c| Normal::new(c[1], c[2])).collect();
            let d = Mixture::new(&weights, &components);
            assert_eq!(d.ln_pdf(row.x[0]), d.ln_pdf_obs(row.x[0]));
            d.ln_pdf(row.x[0])
        }
        "mixture_poisson" => {
            let weights: Vec<f64> = p.chunks(2).map(|c| c[0]).collect();
            let components: Vec<Poisson> = p.chunks(2).map(|c| Poisson::new(c[1])).collect();
            Mixture::new(&weights, &components).ln_pdf_obs(row.x[0])
        }
        _ => return None,
    })
}

#[test]
fn matrix_reference_values() {
    common::check(
        "matrix_reference.csv",
        TOLERANCE,
        ln_pdf,
        &[
            "lkj_cholesky",
            "wishart_cholesky",
            "inv_wishart_cholesky",
            "low_rank_mvn",
            "mixture_normal",
            "mixture_poisson",
        ],
    );
}
