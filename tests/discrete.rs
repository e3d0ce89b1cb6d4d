//! Discrete latent sites: typed values in the body, `DiscreteHmcGibbs(Nuts)` against
//! exact posteriors (closed form, and enumeration of every assignment), discrete values
//! in draws, and out-of-support values as `-inf` or errors.

use tilde::prelude::*;
use tilde::samplers::diagnostics::{mcse_mean, mean};
use tilde::{Error, Kernel, SiteKind, Support};

const A: f64 = 2.0;
const B: f64 = 3.0;
const Y_SWITCH: [f64; 3] = [0.9, 1.6, 0.4];
const MU_OFF: f64 = -0.5;
const MU_ON: f64 = 1.5;

/// `p ~ Beta(A, B)`, `z ~ Bernoulli(p)`, `yᵢ ~ N(z ? MU_ON : MU_OFF, 1)`.
#[model]
fn beta_bernoulli(y: &[f64]) {
    let p = sample!("p", Beta::new(A, B));
    let z = sample!("z", Bernoulli::new(p));
    let mu = if z { MU_ON } else { MU_OFF };
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

/// `(P(z = 1 | y), E[p | y])` in closed form: `z`'s prior mass is `E[p] = A / (A + B)`
/// and `p | z ~ Beta(A + z, B + 1 - z)`.
fn beta_bernoulli_exact(y: &[f64]) -> (f64, f64) {
    let log_lik = |mu: f64| -> f64 { y.iter().map(|v| -0.5 * (v - mu).powi(2)).sum() };
    let on = (A / (A + B)).ln() + log_lik(MU_ON);
    let off = (B / (A + B)).ln() + log_lik(MU_OFF);
    let p_on = 1.0 / (1.0 + (off - on).exp());
    let mean_p = p_on * (A + 1.0) / (A + B + 1.0) + (1.0 - p_on) * A / (A + B + 1.0);
    (p_on, mean_p)
}

const W: [f64; 2] = [0.4, 0.6];
const PRIOR_MEANS: [f64; 2] = [-1.0, 1.0];
const PRIOR_SD: f64 = 1.0;
const Y_MIX: [f64; 5] = [-1.8, -0.9, 0.3, 1.4, 2.1];

/// A two-component Gaussian mixture with its assignments sampled:
/// `μₖ ~ N(PRIOR_MEANS[k], PRIOR_SD)`, `zᵢ ~ Categorical(W)`, `yᵢ ~ N(μ[zᵢ], 1)`.
#[model]
fn mixture(y: &[f64]) {
    let mu0 = sample!("mu0", Normal::new(PRIOR_MEANS[0], PRIOR_SD));
    let mu1 = sample!("mu1", Normal::new(PRIOR_MEANS[1], PRIOR_SD));
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Categorical::new(data(&W)));
        let mu = if z == 0 { mu0 } else { mu1 };
        sample!("y[{i}]", Normal::new(mu, 1.0), obs = y[i]);
    }
}

/// The exact posterior means of `μ₀`, `μ₁` and `zᵢ`, by enumerating all `2ⁿ`
/// assignments: given one, each `μₖ` is conjugate normal, and the assignment's weight
/// is its prior mass times the marginal likelihood of each component's points
/// (`N(m·1, I + τ²·11ᵀ)`).
fn mixture_exact(y: &[f64]) -> (f64, f64, Vec<f64>) {
    let n = y.len();
    let tau2 = PRIOR_SD * PRIOR_SD;
    let (mut weights, mut mu_means) = (Vec::new(), Vec::new());
    for assignment in 0..1usize << n {
        let z = |i: usize| (assignment >> i) & 1;
        let mut log_weight = (0..n).map(|i| W[z(i)].ln()).sum::<f64>();
        let mut means = [0.0; 2];
        for (k, mean_k) in means.iter_mut().enumerate() {
            let points: Vec<f64> = (0..n).filter(|&i| z(i) == k).map(|i| y[i]).collect();
            let count = points.len() as f64;
            let d: Vec<f64> = points.iter().map(|v| v - PRIOR_MEANS[k]).collect();
            let sum: f64 = d.iter().sum();
            let squares: f64 = d.iter().map(|v| v * v).sum();
            let denominator = 1.0 + count * tau2;
            log_weight += -0.5 * count * (2.0 * std::f64::consts::PI).ln()
                - 0.5 * denominator.ln()
                - 0.5 * (squares - tau2 * sum * sum / denominator);
            *mean_k = PRIOR_MEANS[k] + tau2 * sum / denominator;
        }
        weights.push(log_weight);
        mu_means.push(means);
    }
    let max = weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let probs: Vec<f64> = weights.iter().map(|w| (w - max).exp()).collect();
    let total: f64 = probs.iter().sum();
    let mut out = (0.0, 0.0, vec![0.0; n]);
    for (assignment, (p, m)) in probs.iter().zip(&mu_means).enumerate() {
        let p = p / total;
        out.0 += p * m[0];
        out.1 += p * m[1];
        for (i, zi) in out.2.iter_mut().enumerate() {
            *zi += p * ((assignment >> i) & 1) as f64;
        }
    }
    out
}

/// `(mean, z)` of a site's draws against `want`.
fn z_score(posterior: &tilde::Posterior, name: &str, want: f64) -> f64 {
    let chains = posterior.draws_by_chain(name).unwrap();
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let z = (mean(&refs) - want) / mcse_mean(&refs);
    eprintln!("{name}: mean {:.5} vs {want:.5} (z {z:.2})", mean(&refs));
    z
}

fn run<K: Kernel + Clone>(
    kernel: K,
    model: &(impl Model + tilde::SampledBy<K> + Sync),
) -> tilde::Posterior {
    Mcmc::new(kernel)
        .num_warmup(1000)
        .num_samples(4000)
        .num_chains(4)
        .seed(14)
        .progress(false)
        .run(model)
        .unwrap()
}

#[test]
fn beta_bernoulli_matches_the_closed_form() {
    let model = beta_bernoulli(&Y_SWITCH);
    let layout = model.layout();
    assert_eq!(model.dim(), 2);
    let z = layout.site("z").unwrap();
    assert!(z.is_discrete() && z.kind == SiteKind::Latent);
    assert_eq!(z.support, Some(Support::Boolean));
    let (p_on, mean_p) = beta_bernoulli_exact(&Y_SWITCH);
    for kernel in [
        DiscreteHmcGibbs::new(Nuts::default()),
        DiscreteHmcGibbs::new(Nuts::default()).modified(true),
        DiscreteHmcGibbs::new(Nuts::default()).random_walk(true),
    ] {
        eprintln!("{kernel:?}");
        let posterior = run(kernel, &model);
        let draws = posterior.draws("z").unwrap();
        assert!(draws.iter().all(|v| *v == 0.0 || *v == 1.0));
        assert!(z_score(&posterior, "z", p_on).abs() < 4.0);
        assert!(z_score(&posterior, "p", mean_p).abs() < 4.0);
    }
}

#[test]
fn gaussian_mixture_matches_enumeration() {
    let model = mixture(&Y_MIX);
    assert_eq!(model.dim(), 2 + Y_MIX.len());
    let (mu0, mu1, z) = mixture_exact(&Y_MIX);
    for kernel in [
        DiscreteHmcGibbs::new(Nuts::default()),
        DiscreteHmcGibbs::new(Nuts::default()).modified(true),
    ] {
        eprintln!("{kernel:?}");
        let posterior = run(kernel, &model);
        assert!(z_score(&posterior, "mu0", mu0).abs() < 4.0);
        assert!(z_score(&posterior, "mu1", mu1).abs() < 4.0);
        for (i, want) in z.iter().enumerate() {
            let name = format!("z[{i}]");
            let draws = posterior.draws(&name).unwrap();
            assert!(draws.iter().all(|v| *v == 0.0 || *v == 1.0));
            assert!(z_score(&posterior, &name, *want).abs() < 4.0);
        }
    }
}

/// `λ ~ Gamma(3, 1)`, `k ~ Poisson(λ)` latent, `y ~ N(k, 1)`: a countable support,
/// updated by the neighbour Metropolis step. The exact posterior of `k` sums the
/// Gamma–Poisson (negative binomial) prior mass over `k`.
#[model]
fn latent_count(y: f64) {
    let rate = sample!("rate", Gamma::new(3.0, 1.0));
    let k = sample!("k", Poisson::new(rate));
    sample!("y", Normal::new(k as f64, 1.0), obs = y);
}

#[test]
fn mixed_hmc_matches_the_exact_posteriors() {
    let (p_on, mean_p) = beta_bernoulli_exact(&Y_SWITCH);
    let model = beta_bernoulli(&Y_SWITCH);
    for kernel in [
        MixedHmc::new(Hmc::new(10)),
        MixedHmc::new(Hmc::new(10)).modified(true),
        MixedHmc::new(Hmc::new(10)).random_walk(true),
    ] {
        eprintln!("{kernel:?}");
        let posterior = run(kernel, &model);
        assert!(z_score(&posterior, "z", p_on).abs() < 4.0);
        assert!(z_score(&posterior, "p", mean_p).abs() < 4.0);
    }
    let model = mixture(&Y_MIX);
    let (mu0, mu1, z) = mixture_exact(&Y_MIX);
    for kernel in [
        MixedHmc::new(Hmc::new(12)),
        MixedHmc::new(Hmc::new(12))
            .modified(true)
            .num_discrete_updates(8),
        MixedHmc::new(Hmc::new(12)).random_walk(true).modified(true),
    ] {
        eprintln!("{kernel:?}");
        let posterior = run(kernel, &model);
        assert!(z_score(&posterior, "mu0", mu0).abs() < 4.0);
        assert!(z_score(&posterior, "mu1", mu1).abs() < 4.0);
        for (i, want) in z.iter().enumerate() {
            assert!(z_score(&posterior, &format!("z[{i}]"), *want).abs() < 4.0);
        }
    }
}

#[test]
fn countable_support_matches_the_exact_sum() {
    let y = 4.2;
    // k ~ NegBinomial(3, 1/2) after integrating the rate out: C(k+2, 2) / 2^(k+3)
    let (mut total, mut mean_k, mut mean_rate) = (0.0, 0.0, 0.0);
    for k in 0..200 {
        let kf = k as f64;
        let prior = (kf + 1.0) * (kf + 2.0) / 2.0 * 0.5f64.powf(kf + 3.0);
        let w = prior * (-0.5 * (y - kf).powi(2)).exp();
        total += w;
        mean_k += w * kf;
        // rate | k ~ Gamma(3 + k, 2)
        mean_rate += w * (3.0 + kf) / 2.0;
    }
    let posterior = run(DiscreteHmcGibbs::new(Nuts::default()), &latent_count(y));
    assert!(z_score(&posterior, "k", mean_k / total).abs() < 4.0);
    assert!(z_score(&posterior, "rate", mean_rate / total).abs() < 4.0);
    let posterior = run(MixedHmc::new(Hmc::new(10)), &latent_count(y));
    assert!(z_score(&posterior, "k", mean_k / total).abs() < 4.0);
    assert!(z_score(&posterior, "rate", mean_rate / total).abs() < 4.0);
}

#[test]
fn out_of_support_values_are_minus_infinity() {
    let model = beta_bernoulli(&Y_SWITCH);
    assert!(model.logp(&[0.0, 1.0]).is_finite());
    assert!(model.logp(&[0.0, 0.0]).is_finite());
    for bad in [0.5, 2.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(model.logp(&[0.0, bad]), f64::NEG_INFINITY, "z = {bad}");
        let mut grad = [0.0; 2];
        assert_eq!(
            model.logp_and_grad(&[0.0, bad], &mut grad),
            f64::NEG_INFINITY
        );
    }
    let mixture = mixture(&Y_MIX);
    let mut x = vec![0.0; mixture.dim()];
    x[2] = 2.0; // Categorical with 2 classes
    assert_eq!(mixture.logp(&x), f64::NEG_INFINITY);
}

#[test]
fn discrete_coordinates_have_no_gradient() {
    assert!(
        beta_bernoulli(&Y_SWITCH)
            .gradient_engine()
            .contains("a discrete latent site")
    );
    for engine in [Engine::Auto, Engine::Forward, Engine::Reverse] {
        let model = beta_bernoulli(&Y_SWITCH).with_engine(engine);
        for z in [0.0, 1.0] {
            let mut grad = [f64::NAN; 2];
            let lp = model.logp_and_grad(&[0.3, z], &mut grad);
            assert_eq!(lp, model.logp(&[0.3, z]), "{engine:?}");
            assert_eq!(grad[1], 0.0, "{engine:?}");
            // the continuous coordinate's gradient against a central difference
            let h = 1e-6;
            let numeric = (model.logp(&[0.3 + h, z]) - model.logp(&[0.3 - h, z])) / (2.0 * h);
            assert!(
                (grad[0] - numeric).abs() < 1e-6,
                "{engine:?}: {} vs {numeric}",
                grad[0]
            );
        }
    }
}

#[test]
fn smc_refuses_discrete_sites() {
    let model = beta_bernoulli(&Y_SWITCH);
    let prior = beta_bernoulli(&[]);
    let error = PriorLikelihood::new(&prior, &model).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidConfig(m) if m.contains("`z`")),
        "{error}"
    );
}

#[test]
fn draws_predictive_and_prior_carry_discrete_values() {
    let model = mixture(&Y_MIX);
    let posterior = Mcmc::new(DiscreteHmcGibbs::new(Nuts::default()))
        .num_warmup(100)
        .num_samples(50)
        .num_chains(1)
        .seed(3)
        .progress(false)
        .run(&model)
        .unwrap();
    assert_eq!(posterior.draws("z[4]").unwrap().len(), 50);
    // Stan's CSV holds the integers as written
    let dir = std::env::temp_dir().join(format!("tilde-discrete-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = posterior.to_csv(&dir, "mixture").unwrap();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let header = text.lines().find(|l| !l.starts_with('#')).unwrap();
    let column = header.split(',').position(|c| c == "z.5").unwrap();
    let z4 = posterior.draws("z[4]").unwrap();
    let written: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').nth(column).unwrap().parse().unwrap())
        .collect();
    assert_eq!(written, z4);
    std::fs::remove_dir_all(&dir).ok();
    let predictive = Predictive::posterior(&model, &posterior, 5).unwrap();
    assert_eq!(
        predictive.draws("z[4]").unwrap(),
        posterior.draws("z[4]").unwrap()
    );
    assert_eq!(predictive.draws("y[4]").unwrap().len(), 50);
    let prior = Predictive::prior(&model, 20, 6).unwrap();
    assert!(
        prior
            .draws("z[0]")
            .unwrap()
            .iter()
            .all(|v| *v == 0.0 || *v == 1.0)
    );
    let mut rng = tilde::samplers::chain_rng(9, 0);
    let prior = model.draw_prior(&mut rng).unwrap();
    for v in &prior[2..] {
        assert!(*v == 0.0 || *v == 1.0, "{v}");
    }
}

/// The distribution is bound to a variable, so `#[model]` cannot see that the site is
/// discrete: runs stop before any work instead.
#[model]
fn hidden(y: f64) {
    let p = sample!("p", Beta::new(1.0, 1.0));
    let dist = Bernoulli::new(p);
    let z = sample!("z", dist);
    sample!("y", Normal::new(if z { 1.0 } else { 0.0 }, 1.0), obs = y);
}

#[test]
fn variational_methods_on_a_hidden_discrete_site_are_errors() {
    let model = hidden(0.3);
    let svi = Svi::new(AutoNormal::new(), Adam::new(0.01))
        .num_steps(10)
        .progress(false)
        .run(&model);
    assert!(
        matches!(&svi, Err(Error::InvalidConfig(m)) if m.contains("`z`")),
        "{:?}",
        svi.err()
    );
    let pathfinder = Pathfinder::new().run(&model);
    assert!(
        matches!(&pathfinder, Err(Error::InvalidConfig(m)) if m.contains("`z`")),
        "{:?}",
        pathfinder.err()
    );
    // under DiscreteHmcGibbs the same model samples as any other
    let posterior = Mcmc::new(DiscreteHmcGibbs::new(Nuts::default()))
        .num_warmup(50)
        .num_samples(50)
        .progress(false)
        .run(&hidden(0.3))
        .unwrap();
    assert!(
        posterior
            .draws("z")
            .unwrap()
            .iter()
            .all(|v| *v == 0.0 || *v == 1.0)
    );
}

#[test]
fn a_gradient_kernel_on_a_hidden_discrete_site_is_an_error() {
    let error = Mcmc::new(Nuts::default())
        .num_warmup(10)
        .num_samples(10)
        .progress(false)
        .run(&hidden(0.3))
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidConfig(m) if m.contains("`z`") && m.contains("DiscreteHmcGibbs")),
        "{error}"
    );
}

#[test]
fn discrete_kernels_need_both_kinds_of_site() {
    let error = Mcmc::new(DiscreteHmcGibbs::new(Nuts::default()))
        .num_warmup(10)
        .num_samples(10)
        .progress(false)
        .run(&beta_bernoulli_continuous())
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidConfig(m) if m.contains("no discrete")),
        "{error}"
    );
}

#[model]
fn beta_bernoulli_continuous() {
    sample!("p", Beta::new(A, B));
}

#[test]
fn a_users_gibbs_update_of_a_discrete_site() {
    let model = beta_bernoulli(&Y_SWITCH);
    // the exact conditional of `z` given `p`: HmcGibbs recovers the closed form too
    let exact = HmcGibbs::new(Nuts::default(), &["z"], |rng, sites| {
        use rand::RngExt;
        let p = sites.value("p")?;
        let log_lik = |mu: f64| -> f64 { Y_SWITCH.iter().map(|v| -0.5 * (v - mu).powi(2)).sum() };
        let on = p.ln() + log_lik(MU_ON);
        let off = (1.0 - p).ln() + log_lik(MU_OFF);
        let p_on = 1.0 / (1.0 + (off - on).exp());
        let z = if rng.random::<f64>() < p_on { 1.0 } else { 0.0 };
        sites.set("z", &[z])
    });
    let (p_on, mean_p) = beta_bernoulli_exact(&Y_SWITCH);
    let posterior = run(exact, &model);
    assert!(z_score(&posterior, "z", p_on).abs() < 4.0);
    assert!(z_score(&posterior, "p", mean_p).abs() < 4.0);
    // a value outside the support is an error, not a panic
    for bad in [0.5, 2.0, -1.0, f64::NAN] {
        let error = Mcmc::new(HmcGibbs::new(Nuts::default(), &["z"], move |_, sites| {
            sites.set("z", &[bad])
        }))
        .num_warmup(5)
        .num_samples(5)
        .progress(false)
        .run(&model)
        .unwrap_err();
        assert!(
            matches!(&error, Error::InvalidUpdate { site, .. } if site == "z"),
            "{bad}: {error}"
        );
    }
    // a discrete site left to the gradient kernel is refused before any work
    let error = Mcmc::new(HmcGibbs::new(Nuts::default(), &["p"], |_, _| Ok(())))
        .num_warmup(5)
        .num_samples(5)
        .progress(false)
        .run(&model)
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidConfig(m) if m.contains("`z`")),
        "{error}"
    );
}
