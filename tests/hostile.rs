//! Hostile input: settings, sizes and models that used to panic, abort or give a
//! silently wrong result must give a clear `tilde::Error` (issue 16). The readers'
//! property tests are in `samplers/tests/hostile_io.rs`.

use tilde::prelude::*;
use tilde::{Error, HmcParams, Kernel, Metric, Posterior, Unconstrained};

/// A standard normal with scale `scale` in one dimension, by hand.
struct Gauss {
    scale: f64,
}

impl LogDensity for Gauss {
    fn dim(&self) -> usize {
        1
    }
    fn logp(&self, x: &[f64]) -> f64 {
        -0.5 * (x[0] / self.scale).powi(2)
    }
    fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g[0] = -x[0] / (self.scale * self.scale);
        self.logp(x)
    }
}

/// A standard normal whose log-density is `+∞` beyond `x = 1.5`: a target fault that
/// a sampler must reject, not take as a point of infinite density.
struct PlusInfinity;

impl LogDensity for PlusInfinity {
    fn dim(&self) -> usize {
        1
    }
    fn logp(&self, x: &[f64]) -> f64 {
        if x[0] > 1.5 {
            f64::INFINITY
        } else {
            -0.5 * x[0] * x[0]
        }
    }
    fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g[0] = -x[0];
        self.logp(x)
    }
}

fn quiet<K: Kernel>(kernel: K) -> Mcmc<K> {
    Mcmc::new(kernel)
        .num_warmup(100)
        .num_samples(100)
        .progress(false)
        .seed(3)
}

fn is_invalid_config<T: std::fmt::Debug>(result: tilde::Result<T>, needle: &str) {
    match result {
        Err(Error::InvalidConfig(message)) => {
            assert!(message.contains(needle), "`{message}` lacks `{needle}`")
        }
        other => panic!("expected an InvalidConfig error about {needle}, got {other:?}"),
    }
}

// ------------------------------------------------------------------- class 2: no frozen chain

#[test]
fn a_plus_infinite_log_density_is_rejected_not_accepted() {
    let model = Unconstrained::new(PlusInfinity);
    for posterior in [
        quiet(Nuts::default()).num_samples(400).run(&model).unwrap(),
        quiet(Hmc::new(8)).num_samples(400).run(&model).unwrap(),
    ] {
        let draws = posterior.draws("x[0]").unwrap();
        // a chain that accepted +∞ stays there: every later draw would be that point
        assert!(draws.iter().all(|&x| x <= 1.5), "a draw beyond 1.5");
        let mut distinct = draws.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert!(
            distinct.len() > 100,
            "only {} distinct draws",
            distinct.len()
        );
        assert!(posterior.num_divergences() > 0);
    }
}

#[model]
fn shape_shifting() {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let n = if mu > 0.5 {
        2
    } else if mu < -0.5 {
        4
    } else {
        3
    };
    let z = sample!("z", Normal::new(0.0, 1.0).iid(n));
    deterministic!("z_sum", z.iter().copied().sum::<T>());
}

#[test]
fn a_layout_that_changes_with_the_parameters_stops_the_run() {
    let model = shape_shifting();
    let result = quiet(Nuts::default())
        .init(Init::Unconstrained(vec![0.0; 4]))
        .run(&model);
    assert!(
        matches!(result, Err(Error::LayoutChanged { .. })),
        "{:?}",
        result.map(|p| p.summary().to_string())
    );
}

#[test]
fn bad_adapted_parameters_are_rejected() {
    let model = Unconstrained::new(Gauss { scale: 1.0 });
    let params = |step_size: f64, diagonal: Vec<f64>| {
        vec![HmcParams {
            step_size,
            inverse_mass_matrix: Metric::Diagonal(diagonal),
        }]
    };
    for (step_size, diagonal, needle) in [
        (0.5, vec![0.0], "entry 0"),
        (0.5, vec![-1.0], "got -1"),
        (0.5, vec![f64::NAN], "got NaN"),
        (f64::NAN, vec![1.0], "step_size"),
        (0.0, vec![1.0], "step_size"),
        (f64::INFINITY, vec![1.0], "step_size"),
    ] {
        is_invalid_config(
            quiet(Nuts::default())
                .with_adapted(params(step_size, diagonal))
                .run(&model),
            needle,
        );
    }
    assert!(Metric::Diagonal(vec![1.0, 0.0]).validate().is_err());
    assert!(Metric::unit(3).validate().is_ok());
}

#[test]
fn no_warmup_still_finds_a_usable_step_size() {
    // a unit step size on a scale of 0.01 rejects almost every proposal
    let model = Unconstrained::new(Gauss { scale: 0.01 });
    let posterior = quiet(Nuts::default())
        .num_warmup(0)
        .num_samples(200)
        .run(&model)
        .unwrap();
    let step_size = posterior.adapted()[0].step_size;
    assert!(step_size < 0.1, "step size {step_size}");
    let stats = posterior.sample_stats(0);
    let acceptance = stats.iter().map(|s| s.acceptance_rate).sum::<f64>() / stats.len() as f64;
    assert!(acceptance > 0.5, "mean acceptance {acceptance}");
}

#[test]
fn divergence_threshold_must_be_positive() {
    let model = Unconstrained::new(Gauss { scale: 1.0 });
    for threshold in [0.0, -1.0, f64::NAN] {
        is_invalid_config(
            quiet(Nuts::default().divergence_threshold(threshold)).run(&model),
            "divergence_threshold",
        );
        is_invalid_config(
            quiet(Hmc::new(4).divergence_threshold(threshold)).run(&model),
            "divergence_threshold",
        );
    }
}

// ------------------------------------------------------------ class 3: no panic from settings

#[test]
fn an_overflowing_init_radius_is_an_error() {
    let model = Unconstrained::new(Gauss { scale: 1.0 });
    for radius in [f64::MAX, f64::INFINITY, f64::NAN, 0.0, -1.0] {
        is_invalid_config(
            quiet(Nuts::default())
                .init(Init::Uniform(radius))
                .run(&model),
            "radius",
        );
    }
}

#[test]
fn sizes_that_overflow_or_exhaust_memory_are_errors() {
    let model = Unconstrained::new(Gauss { scale: 1.0 });
    is_invalid_config(
        quiet(Nuts::default())
            .num_samples(usize::MAX / 2 + 1)
            .thinning(2)
            .run(&model),
        "overflows",
    );
    is_invalid_config(
        quiet(Nuts::default())
            .num_warmup(usize::MAX)
            .num_samples(1)
            .run(&model),
        "overflows",
    );
    is_invalid_config(
        quiet(Nuts::default())
            .num_samples(usize::MAX / 16)
            .run(&model),
        "memory",
    );
    is_invalid_config(
        Predictive::prior(
            &Unconstrained::new(Gauss { scale: 1.0 }),
            usize::MAX / 16,
            1,
        ),
        "memory",
    );
}

#[test]
fn an_infinite_trajectory_length_is_an_error() {
    let model = Unconstrained::new(Gauss { scale: 1.0 });
    for length in [f64::INFINITY, f64::NAN, 0.0, -2.0] {
        is_invalid_config(
            quiet(Hmc::new(4).trajectory_length(length)).run(&model),
            "trajectory_length",
        );
    }
}

#[test]
fn an_mcmc_reused_on_a_model_of_another_dimension_is_an_error() {
    let mut mcmc = quiet(Nuts::default()).num_warmup(20).num_samples(5);
    mcmc.run(&Unconstrained::new(Gauss { scale: 1.0 })).unwrap();
    for result in [
        mcmc.run(&shape_shifting()).map(|_| ()),
        mcmc.warmup(&shape_shifting()),
    ] {
        assert!(
            matches!(
                result,
                Err(Error::DimensionMismatch {
                    expected: 1,
                    found: 4
                })
            ),
            "{result:?}"
        );
    }
}

// ----------------------------------------------------------- class 4: no NaN without an error

#[model]
fn normal_mean(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0).iid(y.len()), obs = y);
}

#[test]
fn log_likelihood_checks_the_data() {
    let model = normal_mean(&[0.5, f64::NAN]);
    let posterior = Posterior::from_draws(vec!["mu".into()], vec![vec![0.1, 0.2, 0.3]]).unwrap();
    let result = tilde::samplers::log_likelihood(&model, &posterior);
    assert!(
        matches!(result, Err(Error::NonFiniteData { .. })),
        "{result:?}"
    );
}

#[test]
fn sbc_with_fits_of_no_draws_is_an_error() {
    let model = normal_mean(&[0.0; 3]);
    let result = tilde::samplers::sbc::sbc(&model, &["mu"], 4, 1, |_, _| {
        Posterior::from_draws(vec!["mu".into()], vec![vec![]])
    });
    is_invalid_config(result, "no draws");
}

#[test]
fn elbo_of_no_draws_is_an_error() {
    let model = normal_mean(&[0.3, -0.1]);
    let fit = Svi::new(AutoNormal::new(), Adam::new(0.05))
        .num_steps(20)
        .seed(2)
        .progress(false)
        .run(&model)
        .unwrap();
    is_invalid_config(fit.elbo(0, 1), "num_draws = 0");
    assert!(fit.elbo(10, 1).unwrap().is_finite());
}

#[model]
fn flat_prior(y: &[f64]) {
    let b = sample!("b", Flat::new());
    sample!("y", Normal::new(b, 1.0).iid(y.len()), obs = y);
}

#[test]
fn prior_predictive_of_a_flat_prior_is_an_error() {
    let result = Predictive::prior(&flat_prior(&[0.0; 2]), 10, 1);
    match result {
        Err(Error::ImproperPrior { site }) => assert_eq!(site, "b"),
        other => panic!("expected ImproperPrior, got {other:?}"),
    }
}

// ------------------------------------------------------------------- class 6: messages

#[model]
fn scale_model(y: &[f64]) {
    let tau = sample!("tau", HalfNormal::new(1.0));
    sample!("y", Normal::new(0.0, tau).iid(y.len()), obs = y);
}

#[test]
fn an_initial_value_outside_the_support_names_the_site_and_value() {
    let model = scale_model(&[0.4, -0.2]);
    let result = quiet(Nuts::default())
        .init(Init::Values(vec![("tau".into(), vec![-1.5])]))
        .run(&model);
    match result {
        Err(Error::InvalidConfig(message)) => {
            assert!(
                message.contains("`tau`") && message.contains("-1.5"),
                "{message}"
            )
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn log_likelihood_of_no_draws_or_no_observations_is_an_error() {
    let model = normal_mean(&[0.5, 0.1]);
    let empty = Posterior::from_draws(vec!["mu".into()], vec![vec![]]).unwrap();
    is_invalid_config(tilde::samplers::log_likelihood(&model, &empty), "no draws");
    let unobserved = normal_mean(&[]);
    let posterior = Posterior::from_draws(vec!["mu".into()], vec![vec![0.1, 0.2]]).unwrap();
    is_invalid_config(
        tilde::samplers::log_likelihood(&unobserved, &posterior),
        "no observed sites",
    );
}

#[test]
fn too_many_chains_for_memory_is_an_error() {
    let model = Unconstrained::new(Gauss { scale: 1.0 });
    is_invalid_config(
        quiet(Nuts::default())
            .num_chains(usize::MAX / 4)
            .run(&model),
        "memory",
    );
}

#[test]
fn pathfinder_on_a_layout_that_changes_is_an_error() {
    let result = Pathfinder::new().seed(4).run(&shape_shifting());
    assert!(
        matches!(result, Err(Error::LayoutChanged { .. })),
        "{:?}",
        result.map(|r| r.pareto_k())
    );
}

#[test]
fn variational_sizes_too_large_for_memory_are_errors() {
    let model = normal_mean(&[0.3, -0.1]);
    let fit = Svi::new(AutoNormal::new(), Adam::new(0.05))
        .num_steps(5)
        .seed(2)
        .progress(false)
        .run(&model)
        .unwrap();
    is_invalid_config(fit.sample_posterior(usize::MAX / 16, 1), "memory");
    is_invalid_config(
        Pathfinder::new().num_draws(usize::MAX / 16).run(&model),
        "memory",
    );
    is_invalid_config(
        Pathfinder::new()
            .draws_per_path(usize::MAX / 16)
            .run(&model),
        "memory",
    );
}

/// A model whose layout grows when the likelihood has pulled `mu` above 0.5: it is
/// found at `mu = 0` (one `z`), and every optimiser drifts to `mu ≈ 1.4`, where the
/// body reads two.
#[model]
fn drifting_layout(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 0.5).iid(y.len()), obs = y);
    let n = if mu > 0.5 { 2 } else { 1 };
    sample!("z", Normal::new(0.0, 1.0).iid(n));
}

/// `what` failed with `Error::LayoutChanged`; otherwise what it gave, for the list of
/// entry points that did not.
fn layout_changed<T>(what: &str, result: tilde::Result<T>) -> Option<String> {
    match result {
        Err(Error::LayoutChanged { .. }) => None,
        Err(other) => Some(format!("{what}: the error {other}")),
        Ok(_) => Some(format!("{what}: Ok")),
    }
}

#[test]
fn every_variational_entry_point_reports_a_layout_that_changes() {
    let model = drifting_layout(&[1.5; 10]);
    assert_eq!(model.dim(), 2);
    let origin = || Init::Unconstrained(vec![0.0; 2]);
    let mut wrong = Vec::new();
    let svi = |guide| {
        Svi::new(guide, Adam::new(0.05))
            .num_steps(400)
            .seed(1)
            .progress(false)
            .init(origin())
    };
    wrong.extend(layout_changed(
        "AutoNormal",
        svi(AutoNormal::new()).run(&model),
    ));
    wrong.extend(layout_changed(
        "AutoMultivariateNormal",
        Svi::new(AutoMultivariateNormal::new(), Adam::new(0.05))
            .num_steps(400)
            .progress(false)
            .init(origin())
            .run(&model),
    ));
    wrong.extend(layout_changed(
        "AutoDelta",
        Svi::new(AutoDelta::new(), Adam::new(0.05))
            .num_steps(400)
            .progress(false)
            .init(origin())
            .run(&model),
    ));
    wrong.extend(layout_changed(
        "AutoLaplaceApproximation",
        Svi::new(AutoLaplaceApproximation::new(), Adam::new(0.05))
            .num_steps(400)
            .progress(false)
            .init(origin())
            .run(&model),
    ));
    // L-BFGS climbs into the region: Pathfinder and Laplace must not step around it
    wrong.extend(layout_changed(
        "Pathfinder",
        Pathfinder::new().seed(2).init(origin()).run(&model),
    ));
    let laplace = tilde::LaplaceInitializer::new().init(origin());
    wrong.extend(layout_changed(
        "LaplaceInitializer::fit",
        laplace.fit(&model, 3),
    ));
    wrong.extend(layout_changed(
        "Mcmc with a Laplace initializer",
        quiet(Nuts::default()).initializer(laplace).run(&model),
    ));
    wrong.extend(layout_changed(
        "Mcmc with a Pathfinder initializer",
        quiet(Nuts::default())
            .initializer(Pathfinder::new().init(origin()))
            .run(&model),
    ));
    assert!(wrong.is_empty(), "not LayoutChanged:\n{}", wrong.join("\n"));
}

#[test]
fn a_fitted_guide_reports_a_layout_that_changes_at_its_draws() {
    // one tiny step from the origin with a wide guide: the fit starts where the layout
    // holds, and about a third of the guide's draws fall where it does not
    let model = drifting_layout(&[0.0; 2]);
    let fit = Svi::new(AutoNormal::new().init_scale(0.5), Adam::new(1e-6))
        .num_steps(1)
        .progress(false)
        .init(Init::Unconstrained(vec![0.0; 2]));
    let fit = (0..50)
        .find_map(|seed| fit.clone().seed(seed).run(&model).ok())
        .expect("a one-step fit whose draw stays below 0.5");
    let wrong: Vec<String> = [
        layout_changed("SviResult::elbo", fit.elbo(200, 1)),
        layout_changed("SviResult::sample_posterior", fit.sample_posterior(200, 1)),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(wrong.is_empty(), "not LayoutChanged:\n{}", wrong.join("\n"));
}

/// A model whose layout holds only at `|mu| ≤ 1e-9`: almost every initial candidate
/// hits the fault.
#[model]
fn fragile_layout() {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let n = if mu > 1e-9 || mu < -1e-9 { 2 } else { 1 };
    sample!("z", Normal::new(0.0, 1.0).iid(n));
}

#[test]
fn initialisation_reports_a_layout_that_changes() {
    // the first candidate that hits the fault is the error, not one of 100 failed tries
    let model = fragile_layout();
    let mut wrong = Vec::new();
    wrong.extend(layout_changed(
        "Init::start (Mcmc)",
        quiet(Nuts::default()).init(Init::Uniform(2.0)).run(&model),
    ));
    wrong.extend(layout_changed(
        "Init::position (Svi)",
        Svi::new(AutoNormal::new(), Adam::new(0.05))
            .num_steps(5)
            .progress(false)
            .init(Init::Uniform(2.0))
            .run(&model),
    ));
    assert!(wrong.is_empty(), "not LayoutChanged:\n{}", wrong.join("\n"));
}

#[test]
fn variational_counts_too_large_for_memory_are_errors() {
    let model = normal_mean(&[0.3, -0.1]);
    let fit = Svi::new(AutoNormal::new(), Adam::new(0.05))
        .num_steps(5)
        .seed(2)
        .progress(false)
        .run(&model)
        .unwrap();
    is_invalid_config(fit.sample_unconstrained(usize::MAX / 16, 1), "memory");
    assert_eq!(fit.sample_unconstrained(3, 1).unwrap().len(), 3);
    is_invalid_config(
        Svi::new(AutoNormal::new(), Adam::new(0.05))
            .num_steps(usize::MAX / 16)
            .progress(false)
            .run(&model)
            .map(|_| ()),
        "memory",
    );
    for (flows, hidden) in [(usize::MAX / 16, 4), (2, usize::MAX / 4)] {
        let result = Svi::new(
            AutoIafNormal::new().num_flows(flows).hidden_dim(hidden),
            Adam::new(0.05),
        )
        .num_steps(5)
        .progress(false)
        .run(&model);
        assert!(
            matches!(&result, Err(Error::InvalidConfig(m)) if m.contains("memory") || m.contains("overflows")),
            "num_flows {flows}, hidden_dim {hidden}: {:?}",
            result.map(|_| ())
        );
    }
    use tilde::samplers::Initializer;
    let huge = usize::MAX / 16;
    is_invalid_config(
        tilde::LaplaceInitializer::new().initialize(&model, huge, 1),
        "memory",
    );
    is_invalid_config(
        Pathfinder::new()
            .num_draws(50)
            .draws_per_path(50)
            .initialize(&model, huge, 1),
        "memory",
    );
}

#[model]
fn many_sites() {
    let a = sample!("a", Normal::new(0.0, 1.0));
    for i in 0..30 {
        sample!("x[{i}]", Normal::new(a, 1.0));
    }
}

#[test]
fn long_lists_of_names_are_shortened() {
    let model = many_sites();
    let guide = AutoGuideList::new().add(&["a"], AutoNormal::new());
    let result = Svi::new(guide, Adam::new(0.05))
        .num_steps(2)
        .progress(false)
        .run(&model)
        .map(|_| ());
    is_invalid_config(result, "x[19], … and 10 more");
    let unknown = Posterior::from_draws(
        (0..30).map(|i| format!("x[{i}]")).collect(),
        vec![vec![0.0; 30]],
    )
    .unwrap()
    .draws("y")
    .unwrap_err()
    .to_string();
    assert!(unknown.ends_with("x[19], … and 10 more"), "{unknown}");
}

// ------------------------------------------- the audit of public functions (issue 16)

/// One latent value and many observed ones: a draw is mostly its observation.
#[model]
fn wide_observation(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("y", Normal::new(mu, 1.0).iid(y.len()), obs = y);
}

#[test]
fn predictive_counts_the_observed_values_of_every_draw() {
    // 2³¹ draws of one latent value fit in 16 GiB, but each draw also holds 2¹⁷
    // observed values: 2⁵¹ bytes, which must be an error before any draw is simulated
    let y = vec![0.0; 1 << 17];
    let model = wide_observation(&y);
    is_invalid_config(Predictive::prior(&model, 1 << 31, 1), "memory");
    // and the bound does not get in the way of an ordinary simulation
    let prior = Predictive::prior(&model, 3, 1).unwrap();
    assert_eq!(prior.names().len(), 1 + (1 << 17));
    assert_eq!(prior.num_draws(), 3);
}

#[test]
fn prior_initialisation_reports_a_layout_that_changes() {
    // prior draws of `shape_shifting` read 2, 3 or 4 values of `z`: a shorter draw was
    // taken as a position (and `PriorMedian` indexed past its end)
    let model = shape_shifting();
    for init in [Init::PriorMedian, Init::PriorDraw] {
        let result = quiet(Nuts::default()).init(init.clone()).run(&model);
        assert!(
            matches!(result, Err(Error::LayoutChanged { .. })),
            "{init:?}: {result:?}"
        );
    }
}
