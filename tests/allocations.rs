//! `logp` and `logp_and_grad` do not allocate once the thread's buffers are warm, nor
//! do SVI steps.

#[path = "common/counting.rs"]
mod counting;
use counting::allocations;
use tilde::Engine;
use tilde::prelude::*;

#[model]
fn schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta_raw = sample!("theta_raw", Normal::new(0.0, 1.0).iid(y.len()));
    for i in 0..y.len() {
        let theta = deterministic!("theta[{i}]", mu + tau * theta_raw[i]);
        sample!("y[{i}]", Normal::new(theta, sigma[i]), obs = y[i]);
    }
}

fn allocations_per_call(model: &impl LogDensity) -> (usize, usize) {
    let x: Vec<f64> = (0..model.dim()).map(|i| 0.1 * i as f64 - 0.3).collect();
    let mut grad = vec![0.0; model.dim()];
    model.logp(&x);
    model.logp_and_grad(&x, &mut grad);
    let before = allocations();
    for _ in 0..10 {
        std::hint::black_box(model.logp(&x));
    }
    let after_logp = allocations();
    for _ in 0..10 {
        std::hint::black_box(model.logp_and_grad(&x, &mut grad));
    }
    let after_grad = allocations();
    (after_logp - before, after_grad - after_logp)
}

#[test]
fn no_allocation_after_warm_up() {
    // dimensions 4, 10 and 42 cover the 4- and 16-wide duals and several passes
    for j in [2usize, 8, 40] {
        let y: Vec<f64> = (0..j).map(|i| i as f64).collect();
        let sigma = vec![2.0; j];
        for engine in [
            Engine::Auto,
            Engine::Codegen,
            Engine::Forward,
            Engine::Reverse,
        ] {
            let model = schools(&y, &sigma).with_engine(engine);
            assert_eq!(allocations_per_call(&model), (0, 0), "J = {j}, {engine:?}");
        }
        // generated code with carried state (the value stack) and a branch
        let model = carried(&y);
        assert!(!model.gradient_engine().contains("no gradient code"));
        assert_eq!(allocations_per_call(&model), (0, 0), "carried, J = {j}");
        // a `Glm` site in generated code
        let x: Vec<f64> = (0..j * 20).map(|k| (k as f64 * 0.37).sin()).collect();
        let model = regression(&x, &y, 20);
        assert!(!model.gradient_engine().contains("no gradient code"));
        assert_eq!(allocations_per_call(&model), (0, 0), "Glm, J = {j}");
        // vectors of parameter values written element by element, and `log_sum_exp`
        // of one (the plain evaluation runs the body, whose `vec!`s allocate)
        let model = stored_errors(&y);
        assert!(!model.gradient_engine().contains("no gradient code"));
        assert_eq!(allocations_per_call(&model).1, 0, "buffers, J = {j}");
        // latent vector sites evaluated with duals in generated code
        let model = simplex(&y);
        assert!(!model.gradient_engine().contains("no gradient code"));
        assert_eq!(allocations_per_call(&model), (0, 0), "Dirichlet, J = {j}");
    }
}

/// The draws' columns (`constrain_into`, run once per draw) into a reused row: no
/// allocation once the thread's buffers and the row are warm, and the values the
/// transforms give (an iid site, deterministic quantities, vector sites).
#[test]
fn constraining_a_draw_does_not_allocate() {
    let (y, sigma) = ([28.0, 8.0, -3.0, 7.0], [15.0, 10.0, 16.0, 11.0]);
    let schools = schools(&y, &sigma);
    let simplex = simplex(&y);
    let models: [&dyn Model; 2] = [&schools, &simplex];
    for model in models {
        let x: Vec<f64> = (0..model.dim()).map(|i| 0.1 * i as f64 - 0.3).collect();
        let mut row = Vec::new();
        model.constrain_into(&x, &mut row);
        model.constrain_into(&x, &mut row);
        let before = allocations();
        for _ in 0..10 {
            model.constrain_into(&x, &mut row);
        }
        assert_eq!(
            allocations() - before,
            0,
            "{:?}",
            model.layout().column_names()
        );
        assert_eq!(row.len(), model.layout().column_names().len());
    }
    // mu, tau = e^x₁, theta_raw, then theta[i] = mu + tau theta_raw[i]
    let x = [0.7, -0.4, 0.1, -1.2, 0.5, 2.0];
    let mut row = vec![f64::NAN; 3];
    schools.constrain_into(&x, &mut row);
    let tau = (-0.4f64).exp();
    let mut expected = vec![0.7, tau, 0.1, -1.2, 0.5, 2.0];
    expected.extend(x[2..].iter().map(|r| 0.7 + tau * r));
    assert_eq!(row.len(), expected.len());
    for (a, b) in row.iter().zip(&expected) {
        assert!(
            (a - b).abs() <= 1e-15 * b.abs().max(1.0),
            "{row:?} against {expected:?}"
        );
    }
}

/// A Dirichlet of `y.len()` weights (several passes of duals beyond 17) and an ordered
/// vector: latent vector sites the generated code evaluates with duals.
#[model]
fn simplex(y: &[f64]) {
    let w = sample!("w", Dirichlet::symmetric(y.len(), 2.0));
    let mu = sample!("mu", Normal::new(0.0, 1.0).iid(2).ordered());
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(mu[i % 2] + w[i], 1.0), obs = y[i]);
    }
}

/// MA(1) with its errors stored in a vector the loop fills, and the log-sum-exp of a
/// vector of per-step terms.
#[model]
fn stored_errors(y: &[f64]) {
    let theta = sample!("theta", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    let mut err = vec![T::from(0.0); y.len()];
    let mut lp = vec![T::from(0.0); y.len()];
    for t in 0..y.len() {
        let nu = if t > 0 {
            theta * err[t - 1]
        } else {
            T::from(0.0)
        };
        err[t] = y[t] - nu;
        lp[t] += Normal::<T>::new(nu, sigma).ln_pdf_obs(y[t]);
    }
    factor!("lp", tilde::math::log_sum_exp(&lp));
}

/// A normal linear regression as one `Glm` site.
#[model]
fn regression(x: &[f64], y: &[f64], d: usize) {
    let alpha = sample!("alpha", Normal::new(0.0, 2.0));
    let beta = sample!("beta", Normal::new(0.0, 1.0).iid(d));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    sample!("y", tilde::glm::Glm::normal(x, beta, alpha, sigma), obs = y);
}

/// A volatility carried across iterations and a branch: generated code that uses its
/// value stack.
#[model]
fn carried(y: &[f64]) {
    let a = sample!("a", Beta::new(2.0, 2.0));
    let s0 = sample!("s0", HalfNormal::new(1.0));
    let mut s = s0;
    for t in 0..y.len() {
        if t > 0 {
            s = (0.1 + a * s * s).sqrt();
        }
        sample!("y[{t}]", Normal::new(0.0, s), obs = y[t]);
    }
}

/// Allocations of a whole SVI run of `steps` steps (set-up included).
fn svi_allocations<G: tilde::Guide + Clone>(guide: G, model: &Schools<'_>, steps: usize) -> usize {
    let svi = tilde::Svi::new(guide, tilde::Adam::new(0.01))
        .num_steps(steps)
        .num_particles(2)
        .progress(false);
    svi.run(model).unwrap();
    let before = allocations();
    std::hint::black_box(svi.run(model).unwrap());
    allocations() - before
}

#[test]
fn svi_steps_do_not_allocate() {
    // A run allocates its buffers once: 100 more steps must not add an allocation.
    let y: Vec<f64> = (0..8).map(|i| i as f64).collect();
    let sigma = vec![2.0; 8];
    let model = schools(&y, &sigma);
    let count = |steps| {
        (
            svi_allocations(tilde::AutoNormal::new(), &model, steps),
            svi_allocations(tilde::AutoMultivariateNormal::new(), &model, steps),
            svi_allocations(tilde::AutoLowRankMultivariateNormal::new(), &model, steps),
            svi_allocations(tilde::AutoIafNormal::new(), &model, steps),
        )
    };
    assert_eq!(count(100), count(200));
}

/// Two-state HMM through `math::hmm_marginal`, its buffers on the stack.
#[model]
fn hmm_fixed(y: &[f64]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    let q = sample!("q", Beta::new(2.0, 2.0));
    let mu = sample!("mu", Normal::new(0.0, 3.0));
    let mut log_omega = [T::from(0.0); 12];
    for t in 0..6 {
        log_omega[t] = Normal::<T>::new(mu, 1.0).ln_pdf_obs(y[t]);
        log_omega[6 + t] = Normal::<T>::new(-mu, 1.0).ln_pdf_obs(y[t]);
    }
    let gamma = [p, -p + 1.0, -q + 1.0, q];
    let rho = [T::from(0.5); 2];
    factor!("y", tilde::math::hmm_marginal(&log_omega, &gamma, &rho));
}

#[test]
fn hmm_marginal_does_not_allocate() {
    let y = [0.5, 1.2, -0.7, -1.1, 0.9, 0.2];
    for engine in [Engine::Auto, Engine::Forward, Engine::Reverse] {
        let model = hmm_fixed(&y).with_engine(engine);
        assert_eq!(allocations_per_call(&model), (0, 0), "{engine:?}");
    }
}

/// Allocations of `num` transitions of `kernel`, bound to `model`'s layout, after 10
/// transitions that warm the buffers.
fn transition_allocations<K: tilde::Kernel>(kernel: K, model: &impl Model, num: usize) -> usize {
    let kernel = kernel.bind_layout(model.layout()).unwrap().unwrap();
    let x = vec![0.1; model.dim()];
    let mut state = kernel.init(model, &x).unwrap();
    let params = kernel.initial_params(model.dim(), None);
    let mut workspace = kernel.workspace(model.dim());
    let mut rng = tilde::samplers::chain_rng(3, 0);
    for _ in 0..10 {
        kernel.transition(model, &mut rng, &mut state, &params, &mut workspace);
    }
    let before = allocations();
    for _ in 0..num {
        std::hint::black_box(kernel.transition(
            model,
            &mut rng,
            &mut state,
            &params,
            &mut workspace,
        ));
    }
    allocations() - before
}

#[test]
fn gibbs_transitions_do_not_allocate() {
    let y = [28.0, 8.0, -3.0, 7.0];
    let sigma = [15.0, 10.0, 16.0, 11.0];
    let model = schools(&y, &sigma).with_engine(Engine::Reverse);
    let gibbs = Gibbs::new()
        .block(&["mu", "theta_raw"], Nuts::default())
        .block(&["tau"], Mala::default());
    assert_eq!(transition_allocations(gibbs, &model, 50), 0, "Gibbs");
    let point = Gibbs::new()
        .block(&["theta_raw", "tau"], Mala::default())
        .block(&["mu"], PointEstimate::adam(0.05));
    assert_eq!(
        transition_allocations(point, &model, 50),
        0,
        "PointEstimate"
    );
    let hmc_gibbs = HmcGibbs::new(Nuts::default(), &["mu"], |_, sites| {
        let tau = sites.value("tau")?;
        sites.set("mu", &[0.1 * tau])
    });
    assert_eq!(transition_allocations(hmc_gibbs, &model, 50), 0, "HmcGibbs");
}

/// A location with a switch per observation: `yᵢ ~ N(μ + zᵢ, 1)`, `zᵢ ~ Bernoulli(0.3)`.
#[model]
fn switches(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0));
    for i in 0..y.len() {
        let z = sample!("z[{i}]", Bernoulli::new(0.3));
        sample!(
            "y[{i}]",
            Normal::new(mu + if z { 1.0 } else { 0.0 }, 1.0),
            obs = y[i]
        );
    }
}

/// Allocations of `num` transitions of a kernel for discrete sites, started at
/// `μ = 0.1` and every switch off, after 10 transitions that warm the buffers.
fn discrete_transition_allocations<K: tilde::Kernel>(
    kernel: K,
    model: &impl Model,
    num: usize,
) -> usize {
    let kernel = kernel.bind_layout(model.layout()).unwrap().unwrap();
    let mut x = vec![0.0; model.dim()];
    x[0] = 0.1;
    let mut state = kernel.init(model, &x).unwrap();
    let params = kernel.initial_params(model.dim(), None);
    let mut workspace = kernel.workspace(model.dim());
    let mut rng = tilde::samplers::chain_rng(4, 0);
    for _ in 0..10 {
        kernel.transition(model, &mut rng, &mut state, &params, &mut workspace);
    }
    let before = allocations();
    for _ in 0..num {
        std::hint::black_box(kernel.transition(
            model,
            &mut rng,
            &mut state,
            &params,
            &mut workspace,
        ));
    }
    allocations() - before
}

#[test]
fn discrete_transitions_do_not_allocate() {
    let y = [0.3, 1.4, -0.2, 2.1, 0.8];
    let model = switches(&y);
    for (name, allocated) in [
        (
            "DiscreteHmcGibbs",
            discrete_transition_allocations(DiscreteHmcGibbs::new(Nuts::default()), &model, 50),
        ),
        (
            "DiscreteHmcGibbs modified",
            discrete_transition_allocations(
                DiscreteHmcGibbs::new(Nuts::default()).modified(true),
                &model,
                50,
            ),
        ),
        (
            "MixedHmc",
            discrete_transition_allocations(MixedHmc::new(Hmc::new(10)), &model, 50),
        ),
    ] {
        assert_eq!(allocated, 0, "{name}");
    }
}
