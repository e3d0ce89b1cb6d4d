//! Enumerated discrete sites (`sample!("z[{i}]", dist, enumerate)`): the log-density
//! against the hand-marginalised model at random points, gradients on every engine
//! against each other and finite differences, plain NUTS against exact posteriors
//! (means and sds within 4 MCSE), `infer_discrete` draws against the exact conditional
//! probabilities, and the prior/posterior simulations of enumerated models.

use tilde::prelude::*;
use tilde::samplers::diagnostics::{mcse_mean, mcse_sd, mean, sd};
use tilde::samplers::infer_discrete;
use tilde::{SiteKind, math::log_sum_exp};

// ---------------------------------------------------------------------------------
// Models and their hand-marginalised twins

/// Two-component Gaussian mixture with unknown means and weight, assignments summed
/// out: `μ₀ ~ N(-1, 1)`, `μ₁ ~ N(1, 1)`, `p ~ Beta(2, 2)`, `zᵢ ~ Bernoulli(p)`,
/// `yᵢ ~ N(μ[zᵢ], 1)`.
#[model]
fn mixture(y: &[f64]) {
    let mu0 = sample!("mu0", Normal::new(MU_PRIOR[0], 1.0));
    let mu1 = sample!("mu1", Normal::new(MU_PRIOR[1], 1.0));
    let p = sample!("p", Beta::new(P_PRIOR.0, P_PRIOR.1));
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Bernoulli::new(p), enumerate);
        let mu = if z { mu1 } else { mu0 };
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

/// [`mixture`] marginalised by hand with `factor!`.
#[model]
fn mixture_by_hand(y: &[f64]) {
    let mu0 = sample!("mu0", Normal::new(MU_PRIOR[0], 1.0));
    let mu1 = sample!("mu1", Normal::new(MU_PRIOR[1], 1.0));
    let p = sample!("p", Beta::new(P_PRIOR.0, P_PRIOR.1));
    for i in 0..y.len() {
        let off = (1.0 - p).ln() + Normal::<T>::new(mu0, 1.0).ln_pdf_obs(y[i]);
        let on = p.ln() + Normal::<T>::new(mu1, 1.0).ln_pdf_obs(y[i]);
        factor!("y[{i}]", log_sum_exp(&[off, on]));
    }
}

const MU_PRIOR: [f64; 2] = [-1.0, 1.0];
const P_PRIOR: (f64, f64) = (2.0, 2.0);
const Y_MIX: [f64; 6] = [-1.8, -0.9, 0.3, 1.4, 2.1, -1.2];

/// Three components with Dirichlet weights and a categorical assignment.
#[model]
fn categorical_mixture(y: &[f64]) {
    let w = sample!("w", Dirichlet::new(&[1.5, 1.0, 2.0]));
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(3));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let z: usize = sample!("z[{i}]", Categorical::new(params(w)), enumerate);
        sample!("y[{i}]", Normal::new(mu[z], sigma), obs = y[i]);
    }
}

#[model]
fn categorical_mixture_by_hand(y: &[f64]) {
    let w = sample!("w", Dirichlet::new(&[1.5, 1.0, 2.0]));
    let mu = sample!("mu", Normal::new(0.0, 3.0).iid(3));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    for i in 0..y.len() {
        let terms: [T; 3] =
            [0, 1, 2].map(|k| w[k].ln() + Normal::<T>::new(mu[k], sigma).ln_pdf_obs(y[i]));
        factor!("y[{i}]", log_sum_exp(&terms));
    }
}

/// Counts summed out: `kᵢ ~ Binomial(4, q)` scales a mean, `mᵢ ~ BetaBinomial(3, a, b)`
/// shifts it; two sequential enumerated sites in one region (5 × 4 branches).
#[model]
fn counts(y: &[f64]) {
    let q = sample!("q", Beta::new(2.0, 3.0));
    let a = sample!("a", Gamma::new(2.0, 1.0));
    let scale = sample!("scale", Normal::new(1.0, 1.0));
    for i in 0..y.len() {
        let k = sample!("k[{i}]", Binomial::new(4, q), enumerate);
        let m: u64 = sample!("m[{i}]", BetaBinomial::new(3, a, 2.0), enumerate);
        let mean = scale * (k as f64) - 0.5 * (m as f64);
        sample!("y[{i}]", Normal::new(mean, 1.0), obs = y[i]);
    }
}

#[model]
fn counts_by_hand(y: &[f64]) {
    let q = sample!("q", Beta::new(2.0, 3.0));
    let a = sample!("a", Gamma::new(2.0, 1.0));
    let scale = sample!("scale", Normal::new(1.0, 1.0));
    for i in 0..y.len() {
        let mut terms: Vec<T> = Vec::new();
        for k in 0..=4u64 {
            for m in 0..=3u64 {
                let mean = scale * (k as f64) - 0.5 * (m as f64);
                terms.push(
                    Binomial::<T>::new(4, q).ln_pdf_obs(k as f64)
                        + BetaBinomial::<T>::new(3, a, 2.0).ln_pdf_obs(m as f64)
                        + Normal::<T>::new(mean, 1.0).ln_pdf_obs(y[i]),
                );
            }
        }
        factor!("y[{i}]", log_sum_exp(&terms));
    }
}

/// Dependent sequential sites: `b`'s distribution depends on `a`, and a nested block
/// holds a further enumerated site whose region ends with its block.
#[model]
fn dependent(y: &[f64]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2));
    for i in 0..y.len() {
        let a = sample!("a[{i}]", Bernoulli::new(p), enumerate);
        let pb = if a { p * 0.9 } else { 1.0 - p * 0.7 };
        let b = sample!("b[{i}]", Bernoulli::new(pb), enumerate);
        let shift = if a { mu[0] } else { -mu[0] };
        let scale = if b { 1.0 } else { 2.0 };
        sample!("y[{i}]", Normal::new(shift + mu[1], scale), obs = y[i]);
        {
            let c = sample!(
                "c[{i}]",
                Categorical::new(data(&[0.2, 0.5, 0.3])),
                enumerate
            );
            let extra: f64 = [0.0, 1.0, -1.0][c];
            factor!(
                "extra[{i}]",
                Normal::<T>::new(mu[1] * extra, 1.0).ln_pdf_obs(y[i] * 0.5)
            );
        }
    }
}

#[model]
fn dependent_by_hand(y: &[f64]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 2.0).iid(2));
    for i in 0..y.len() {
        let mut terms: Vec<T> = Vec::new();
        for a in [false, true] {
            let pb = if a { p * 0.9 } else { 1.0 - p * 0.7 };
            for b in [false, true] {
                let shift = if a { mu[0] } else { -mu[0] };
                let scale = if b { 1.0 } else { 2.0 };
                let mut inner: Vec<T> = Vec::new();
                for (c, extra) in [0.0, 1.0, -1.0].into_iter().enumerate() {
                    inner.push(
                        [0.2f64, 0.5, 0.3][c].ln()
                            + Normal::<T>::new(mu[1] * extra, 1.0).ln_pdf_obs(y[i] * 0.5),
                    );
                }
                terms.push(
                    Bernoulli::<T>::new(p).ln_pdf_obs(if a { 1.0 } else { 0.0 })
                        + Bernoulli::<T>::new(pb).ln_pdf_obs(if b { 1.0 } else { 0.0 })
                        + Normal::<T>::new(shift + mu[1], scale).ln_pdf_obs(y[i])
                        + log_sum_exp(&inner),
                );
            }
        }
        factor!("y[{i}]", log_sum_exp(&terms));
    }
}

const Y_SMALL: [f64; 4] = [0.7, -1.3, 2.2, 0.1];

// ---------------------------------------------------------------------------------
// Log-density and gradients

/// A reproducible stream of points in `[-1.5, 1.5]^dim`.
fn points(dim: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| (0..dim).map(|_| 3.0 * next() - 1.5).collect())
        .collect()
}

fn grad(model: &impl LogDensity, x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let lp = model.logp_and_grad(x, &mut g);
    (lp, g)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

/// The enumerated model's log-density equals the hand-marginalised one's (relative
/// 1e-12) at random points; its gradient on the forward, reverse and automatic engines
/// equals the hand model's reverse gradient and central finite differences.
fn agrees<E, H>(enumerated: impl Fn(Engine) -> E, by_hand: &H, seed: u64)
where
    E: Model,
    H: Model,
{
    let base = enumerated(Engine::Auto);
    assert_eq!(base.dim(), by_hand.dim());
    for x in points(base.dim(), 8, seed) {
        let lp = base.logp(&x);
        let want = by_hand.logp(&x);
        assert!(lp.is_finite());
        assert!(close(lp, want, 1e-12), "logp {lp} vs by hand {want}");
        let (_, g_hand) = grad(by_hand, &x);
        let h = 1e-6;
        for engine in [
            Engine::Auto,
            Engine::Forward,
            Engine::Reverse,
            Engine::Codegen,
        ] {
            let model = enumerated(engine);
            let (lp_e, g) = grad(&model, &x);
            assert!(close(lp_e, want, 1e-12), "{engine:?}: {lp_e} vs {want}");
            for j in 0..x.len() {
                assert!(
                    close(g[j], g_hand[j], 1e-10),
                    "{engine:?} ∂{j}: {} vs by hand {}",
                    g[j],
                    g_hand[j]
                );
                let (mut up, mut down) = (x.clone(), x.clone());
                up[j] += h;
                down[j] -= h;
                let fd = (model.logp(&up) - model.logp(&down)) / (2.0 * h);
                assert!(
                    (g[j] - fd).abs() <= 1e-5 * g[j].abs().max(1.0),
                    "{engine:?} ∂{j}: {} vs finite difference {fd}",
                    g[j]
                );
            }
        }
    }
}

#[test]
fn mixture_log_density_and_gradient() {
    agrees(
        |e| mixture(&Y_MIX).with_engine(e),
        &mixture_by_hand(&Y_MIX),
        1,
    );
}

#[test]
fn categorical_log_density_and_gradient() {
    agrees(
        |e| categorical_mixture(&Y_SMALL).with_engine(e),
        &categorical_mixture_by_hand(&Y_SMALL),
        2,
    );
}

#[test]
fn binomial_and_beta_binomial_log_density_and_gradient() {
    agrees(
        |e| counts(&Y_SMALL).with_engine(e),
        &counts_by_hand(&Y_SMALL),
        3,
    );
}

#[test]
fn dependent_sites_log_density_and_gradient() {
    agrees(
        |e| dependent(&Y_SMALL).with_engine(e),
        &dependent_by_hand(&Y_SMALL),
        4,
    );
}

#[test]
fn enumerated_sites_add_no_dimension() {
    let model = mixture(&Y_MIX);
    assert_eq!(model.dim(), 3);
    assert_eq!(model.layout().column_names(), ["mu0", "mu1", "p"]);
    // no generated gradient code: the tape sums the branches
    let engine = model.gradient_engine();
    assert!(engine.contains("enumerate"), "{engine}");
    assert!(model.check().is_ok());
    // the breakdown lists each region's marginal log-density under the site's name
    let x = [0.3, -0.2, 0.1];
    let breakdown = model.logp_breakdown(&x);
    let regions: Vec<_> = breakdown
        .iter()
        .filter(|s| s.name.starts_with("z["))
        .collect();
    assert_eq!(regions.len(), Y_MIX.len());
    assert!(regions.iter().all(|s| s.kind == SiteKind::Observed));
    let total: f64 = breakdown
        .iter()
        .map(|s| s.log_density + s.ln_jacobian)
        .sum();
    assert!(close(total, model.logp(&x), 1e-12));
}

/// The pointwise log-likelihood of an enumerated region with one observation is the
/// observation's log-likelihood with the site summed out.
#[test]
fn pointwise_log_likelihood_sums_the_site_out() {
    let model = mixture(&Y_MIX);
    let row = [-0.8, 1.1, 0.4];
    let pointwise = model.pointwise_log_likelihood(&row).unwrap();
    assert_eq!(pointwise.len(), Y_MIX.len());
    for (i, (name, value)) in pointwise.iter().enumerate() {
        assert_eq!(name, &format!("z[{i}]"));
        let normal =
            |mu: f64, y: f64| -0.5 * (y - mu).powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln();
        let want = log_sum_exp(&[
            (0.6f64).ln() + normal(-0.8, Y_MIX[i]),
            (0.4f64).ln() + normal(1.1, Y_MIX[i]),
        ]);
        assert!(close(*value, want, 1e-12), "{value} vs {want}");
    }
}

// ---------------------------------------------------------------------------------
// Exact posteriors

/// Moments `(E[x], E[x²])`.
#[derive(Clone, Copy, Default, Debug)]
struct Moments(f64, f64);

impl Moments {
    fn sd(self) -> f64 {
        (self.1 - self.0 * self.0).sqrt()
    }
}

/// The exact posterior of [`mixture`] by enumerating all `2ⁿ` assignments: given one,
/// `p` is `Beta(2 + n₁, 2 + n₀)` and each `μₖ` conjugate normal; the assignment's weight
/// is the beta-binomial mass of its counts times each component's marginal likelihood
/// (`N(m·1, I + 11ᵀ)`). Returns the moments of `μ₀`, `μ₁`, `p` and `P(zᵢ = 1 | y)`.
fn mixture_exact(y: &[f64]) -> ([Moments; 3], Vec<f64>) {
    let n = y.len();
    let ln_beta = |a: f64, b: f64| ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    let (mut log_weights, mut moments) = (Vec::new(), Vec::new());
    for assignment in 0..1usize << n {
        let z = |i: usize| (assignment >> i) & 1;
        let n1 = (0..n).filter(|&i| z(i) == 1).count() as f64;
        let n0 = n as f64 - n1;
        let (a, b) = (P_PRIOR.0 + n1, P_PRIOR.1 + n0);
        let mut log_weight = ln_beta(a, b) - ln_beta(P_PRIOR.0, P_PRIOR.1);
        let mut m = [Moments::default(); 3];
        for k in 0..2 {
            let d: Vec<f64> = (0..n)
                .filter(|&i| z(i) == k)
                .map(|i| y[i] - MU_PRIOR[k])
                .collect();
            let count = d.len() as f64;
            let sum: f64 = d.iter().sum();
            let squares: f64 = d.iter().map(|v| v * v).sum();
            let denominator = 1.0 + count;
            log_weight += -0.5 * count * (2.0 * std::f64::consts::PI).ln()
                - 0.5 * denominator.ln()
                - 0.5 * (squares - sum * sum / denominator);
            let mean = MU_PRIOR[k] + sum / denominator;
            m[k] = Moments(mean, mean * mean + 1.0 / denominator);
        }
        m[2] = Moments(a / (a + b), a * (a + 1.0) / ((a + b) * (a + b + 1.0)));
        log_weights.push(log_weight);
        moments.push(m);
    }
    let total = log_sum_exp(&log_weights);
    let mut out = [Moments::default(); 3];
    let mut z_on = vec![0.0; n];
    for (assignment, (lw, m)) in log_weights.iter().zip(&moments).enumerate() {
        let w = (lw - total).exp();
        for (o, mk) in out.iter_mut().zip(m) {
            o.0 += w * mk.0;
            o.1 += w * mk.1;
        }
        for (i, zi) in z_on.iter_mut().enumerate() {
            *zi += w * ((assignment >> i) & 1) as f64;
        }
    }
    (out, z_on)
}

/// `ln Γ(x)` for `x > 0`.
fn ln_gamma(x: f64) -> f64 {
    tilde::special::lgamma(x)
}

/// `(mean, sd)` of a column against the exact moments, each within 4 MCSE.
fn within_4_mcse(posterior: &tilde::Posterior, name: &str, exact: Moments) {
    let chains = posterior.draws_by_chain(name).unwrap();
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let (m, s) = (mean(&refs), sd(&refs));
    let (mcse_m, mcse_s) = (mcse_mean(&refs), mcse_sd(&refs));
    let z_mean = (m - exact.0) / mcse_m;
    let z_sd = (s - exact.sd()) / mcse_s;
    eprintln!(
        "{name}: mean {m:.5} vs {:.5} (mcse {mcse_m:.5}, z {z_mean:.2}); sd {s:.5} vs {:.5} (mcse {mcse_s:.5}, z {z_sd:.2})",
        exact.0,
        exact.sd()
    );
    assert!(z_mean.abs() < 4.0, "{name}: mean off by {z_mean:.2} MCSE");
    assert!(z_sd.abs() < 4.0, "{name}: sd off by {z_sd:.2} MCSE");
}

fn nuts<M: Model + tilde::SampledBy<Nuts> + Sync>(model: &M) -> tilde::Posterior {
    Mcmc::new(Nuts::default())
        .num_warmup(1000)
        .num_samples(4000)
        .num_chains(4)
        .seed(14)
        .progress(false)
        .run(model)
        .unwrap()
}

#[test]
fn gaussian_mixture_under_nuts_matches_the_exact_posterior() {
    let model = mixture(&Y_MIX);
    let posterior = nuts(&model);
    let (exact, z_on) = mixture_exact(&Y_MIX);
    for (name, m) in ["mu0", "mu1", "p"].iter().zip(exact) {
        within_4_mcse(&posterior, name, m);
    }
    // the assignments drawn afterwards from their conditionals
    let with_z = infer_discrete(&model, &posterior, 7).unwrap();
    assert_eq!(with_z.num_draws(), posterior.num_draws());
    assert_eq!(
        with_z.draws("mu0").unwrap(),
        posterior.draws("mu0").unwrap()
    );
    for (i, want) in z_on.iter().enumerate() {
        let name = format!("z[{i}]");
        let draws = with_z.draws(&name).unwrap();
        assert!(draws.iter().all(|v| *v == 0.0 || *v == 1.0));
        let chains = with_z.draws_by_chain(&name).unwrap();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let z = (mean(&refs) - want) / mcse_mean(&refs);
        eprintln!(
            "{name}: P(z = 1) {:.5} vs {want:.5} (z {z:.2})",
            mean(&refs)
        );
        assert!(z.abs() < 4.0);
    }
    // reproducible for a seed
    assert_eq!(
        infer_discrete(&model, &posterior, 7)
            .unwrap()
            .draws("z[2]")
            .unwrap(),
        with_z.draws("z[2]").unwrap()
    );
}

const A: f64 = 2.0;
const B: f64 = 3.0;
const Y_SWITCH: [f64; 3] = [0.9, 1.6, 0.4];
const MU_OFF: f64 = -0.5;
const MU_ON: f64 = 1.5;

/// `p ~ Beta(A, B)`, `z ~ Bernoulli(p)` summed out, `yᵢ ~ N(z ? MU_ON : MU_OFF, 1)`.
#[model]
fn beta_bernoulli(y: &[f64]) {
    let p = sample!("p", Beta::new(A, B));
    let z = sample!("z", Bernoulli::new(p), enumerate);
    let mu = if z { MU_ON } else { MU_OFF };
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

/// `P(z = 1 | y)` and the moments of `p | y` in closed form: `z`'s prior mass is
/// `E[p] = A / (A + B)` and `p | z ~ Beta(A + z, B + 1 - z)`.
fn beta_bernoulli_exact(y: &[f64]) -> (f64, Moments) {
    let log_lik = |mu: f64| -> f64 { y.iter().map(|v| -0.5 * (v - mu).powi(2)).sum() };
    let on = (A / (A + B)).ln() + log_lik(MU_ON);
    let off = (B / (A + B)).ln() + log_lik(MU_OFF);
    let p_on = 1.0 / (1.0 + (off - on).exp());
    let beta = |a: f64, b: f64| Moments(a / (a + b), a * (a + 1.0) / ((a + b) * (a + b + 1.0)));
    let (m_on, m_off) = (beta(A + 1.0, B), beta(A, B + 1.0));
    (
        p_on,
        Moments(
            p_on * m_on.0 + (1.0 - p_on) * m_off.0,
            p_on * m_on.1 + (1.0 - p_on) * m_off.1,
        ),
    )
}

#[test]
fn beta_bernoulli_under_nuts_matches_the_closed_form() {
    let model = beta_bernoulli(&Y_SWITCH);
    assert_eq!(model.dim(), 1);
    let posterior = nuts(&model);
    let (p_on, p) = beta_bernoulli_exact(&Y_SWITCH);
    within_4_mcse(&posterior, "p", p);
    let with_z = infer_discrete(&model, &posterior, 3).unwrap();
    let chains = with_z.draws_by_chain("z").unwrap();
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let z = (mean(&refs) - p_on) / mcse_mean(&refs);
    eprintln!("z: P(z = 1) {:.5} vs {p_on:.5} (z {z:.2})", mean(&refs));
    assert!(z.abs() < 4.0);
}

/// Sequential sites of one region are drawn jointly by `infer_discrete`: the
/// frequencies of `(a, b)` given fixed parameters match the exact conditional.
#[test]
fn infer_discrete_draws_dependent_sites_jointly() {
    let model = dependent(&Y_SMALL[..1]);
    let row = [0.35, 0.8, -0.4];
    let (p, mu0, mu1) = (row[0], row[1], row[2]);
    let y = Y_SMALL[0];
    let normal = |m: f64, s: f64, v: f64| -0.5 * ((v - m) / s).powi(2) - s.ln();
    let mut log_weights = Vec::new();
    for a in [false, true] {
        let pb: f64 = if a { p * 0.9 } else { 1.0 - p * 0.7 };
        for b in [false, true] {
            let shift = if a { mu0 } else { -mu0 };
            let scale = if b { 1.0 } else { 2.0 };
            log_weights.push(
                if a { p.ln() } else { (1.0 - p).ln() }
                    + if b { pb.ln() } else { (1.0 - pb).ln() }
                    + normal(shift + mu1, scale, y),
            );
        }
    }
    let total = log_sum_exp(&log_weights);
    let exact: Vec<f64> = log_weights.iter().map(|w| (w - total).exp()).collect();
    let n = 20_000;
    let mut counts = [0usize; 4];
    let mut rng = tilde::samplers::chain_rng(5, 0);
    for _ in 0..n {
        let draw = model.infer_discrete(&mut rng, &row).unwrap();
        assert_eq!(draw.names(), ["a[0]", "b[0]", "c[0]"]);
        let (a, b) = (draw.values()[0], draw.values()[1]);
        counts[2 * a as usize + b as usize] += 1;
    }
    for (k, (&c, &q)) in counts.iter().zip(&exact).enumerate() {
        let freq = c as f64 / n as f64;
        let se = (q * (1.0 - q) / n as f64).sqrt();
        eprintln!(
            "(a, b) = {k:02b}: {freq:.4} vs {q:.4} (z {:.2})",
            (freq - q) / se
        );
        assert!((freq - q).abs() < 4.0 * se);
    }
}

/// A prior simulation draws an enumerated site from its prior and the observations
/// given it: `E[y] = P(z = 1)·MU_ON + P(z = 0)·MU_OFF`.
#[test]
fn prior_predictive_draws_enumerated_sites_from_their_prior() {
    let model = beta_bernoulli(&[0.0; 2]);
    let prior = Predictive::prior(&model, 20_000, 11).unwrap();
    let y = prior.draws("y[0]").unwrap();
    let p_on = A / (A + B);
    let want = p_on * MU_ON + (1.0 - p_on) * MU_OFF;
    let var = 1.0 + p_on * (1.0 - p_on) * (MU_ON - MU_OFF).powi(2);
    let got = y.iter().sum::<f64>() / y.len() as f64;
    let se = (var / y.len() as f64).sqrt();
    eprintln!("E[y] {got:.4} vs {want:.4} (z {:.2})", (got - want) / se);
    assert!((got - want).abs() < 4.0 * se);
    // the posterior predictive runs, with `z` drawn from its conditional per draw
    let posterior = Mcmc::new(Nuts::default())
        .num_warmup(200)
        .num_samples(200)
        .num_chains(1)
        .seed(1)
        .progress(false)
        .run(&model)
        .unwrap();
    let replicated = Predictive::posterior(&model, &posterior, 2).unwrap();
    assert!(
        replicated
            .draws("y[1]")
            .unwrap()
            .iter()
            .all(|v| v.is_finite())
    );
}
