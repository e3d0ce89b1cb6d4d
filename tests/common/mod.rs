//! Helpers shared by the integration tests: a minimal JSON reader for the posteriordb
//! reference files, and the reference comparison rule of their README.

#![allow(dead_code)]

use std::path::PathBuf;

pub use crate::json::Json;

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
///
/// Names in `loose` (Stan spelling) skip the convergence gate and the sd comparison:
/// their mean is still compared, with our own MCSE, which poor mixing inflates.
pub fn compare(posterior: &tilde::Posterior, reference: &Json, loose: &[&str]) -> Vec<String> {
    let summary = posterior.summary();
    let mut failures = Vec::new();
    let (mut worst_mean, mut worst_sd) = (0.0f64, 0.0f64);
    for (stan_name, r) in reference.get("params").entries() {
        let name = zero_based(stan_name);
        let Some(ours) = summary.get(&name) else {
            failures.push(format!("{name}: missing from the draws"));
            continue;
        };
        let is_loose = loose.contains(&stan_name.as_str());
        let converged = ours.r_hat < 1.01 && ours.ess_bulk >= 400.0;
        if !is_loose && !converged {
            failures.push(format!(
                "{name}: not converged (r_hat {}, ess_bulk {})",
                ours.r_hat, ours.ess_bulk
            ));
            continue;
        }
        let tol_mean = 4.0 * (r.get("mcse_mean").num().powi(2) + ours.mcse_mean.powi(2)).sqrt();
        worst_mean = worst_mean.max(4.0 * (ours.mean - r.get("mean").num()).abs() / tol_mean);
        if (ours.mean - r.get("mean").num()).abs() > tol_mean {
            failures.push(format!(
                "{name}: mean {} vs reference {} (tolerance {tol_mean})",
                ours.mean,
                r.get("mean").num()
            ));
        }
        if is_loose {
            continue;
        }
        let tol_sd = 4.0 * (r.get("mcse_sd").num().powi(2) + ours.mcse_sd.powi(2)).sqrt();
        worst_sd = worst_sd.max(4.0 * (ours.sd - r.get("sd").num()).abs() / tol_sd);
        if (ours.sd - r.get("sd").num()).abs() > tol_sd {
            failures.push(format!(
                "{name}: sd {} vs reference {} (tolerance {tol_sd})",
                ours.sd,
                r.get("sd").num()
            ));
        }
    }
    eprintln!("largest |z|: mean {worst_mean:.2}, sd {worst_sd:.2}");
    failures
}

/// A deterministic pseudo-random point in [-1.5, 1.5]^dim (the generator of
/// `tests/models.rs`).
pub fn point(dim: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..dim)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 3.0 - 1.5
        })
        .collect()
}

/// The gradient code `#[model]` generated for `model`, if any, against `tape` at `x`:
/// values and gradients equal to 1e-12 relative.
pub fn check_generated_at(
    model: &impl tilde::__private::ModelBody,
    tape: &impl tilde::LogDensity,
    x: &[f64],
) {
    let mut generated = vec![0.0; x.len()];
    let Some(lp) = model.generated_logp_and_grad(x, &mut generated, true) else {
        return;
    };
    let mut reference = vec![0.0; x.len()];
    let lr = tape.logp_and_grad(x, &mut reference);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
    assert!(close(lp, lr), "generated value {lp} vs tape {lr} at {x:?}");
    for (i, (g, r)) in generated.iter().zip(&reference).enumerate() {
        assert!(
            close(*g, *r),
            "generated grad[{i}] {g} vs tape {r} at {x:?}"
        );
    }
}

/// Checks `logp_and_grad` against central differences of `logp` at `x`: relative error
/// below 1e-6 (step 1e-5·(1+|x|): truncation ~1e-10, rounding ~1e-9). Returns the
/// gradient.
pub fn check_gradient_at(model: &impl tilde::LogDensity, x: &[f64]) -> Vec<f64> {
    let dim = model.dim();
    let mut grad = vec![0.0; dim];
    let lp = model.logp_and_grad(x, &mut grad);
    assert!(lp.is_finite(), "logp not finite at {x:?}");
    assert!(
        (lp - model.logp(x)).abs() <= 1e-12 * lp.abs().max(1.0),
        "logp_and_grad value {lp} vs logp {}",
        model.logp(x)
    );
    for i in 0..dim {
        let h = 1e-5 * (1.0 + x[i].abs());
        let mut xp = x.to_vec();
        xp[i] += h;
        let mut xm = x.to_vec();
        xm[i] -= h;
        let fd = (model.logp(&xp) - model.logp(&xm)) / (2.0 * h);
        let err = (grad[i] - fd).abs() / grad[i].abs().max(fd.abs()).max(1e-2);
        assert!(
            err < 1e-6,
            "component {i}: grad {} vs fd {fd} (rel {err:e}) at {x:?}",
            grad[i]
        );
    }
    grad
}

/// At each seed's point: the forward and reverse engines agree on the value and the
/// gradient to 1e-10 relative, and each matches central differences
/// ([`check_gradient_at`]).
pub fn check_engines_and_gradients<M: tilde::LogDensity + tilde::__private::ModelBody>(
    forward: &M,
    reverse: &M,
    seeds: &[u64],
) {
    let dim = forward.dim();
    assert_eq!(dim, reverse.dim());
    for &seed in seeds {
        let x = point(dim, seed);
        check_generated_at(forward, reverse, &x);
        let (mut gf, mut gr) = (vec![0.0; dim], vec![0.0; dim]);
        let lf = forward.logp_and_grad(&x, &mut gf);
        let lr = reverse.logp_and_grad(&x, &mut gr);
        assert!(
            (lf - lr).abs() <= 1e-10 * lf.abs().max(1.0),
            "seed {seed}: value {lf} (forward) vs {lr} (reverse)"
        );
        for i in 0..dim {
            let scale = gf[i].abs().max(gr[i].abs()).max(1.0);
            assert!(
                (gf[i] - gr[i]).abs() <= 1e-10 * scale,
                "seed {seed}, component {i}: {} (forward) vs {} (reverse)",
                gf[i],
                gr[i]
            );
        }
        check_gradient_at(forward, &x);
        check_gradient_at(reverse, &x);
    }
}
