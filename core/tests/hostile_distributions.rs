//! Hostile parameters and values for every distribution (issue 16): whatever the
//! parameters — NaN, ±∞, zero, negative, huge, tiny — and whatever the value, the
//! log-density is never NaN and nothing panics; a draw may be NaN. The properties are
//! seeded, so a failure reproduces.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tilde_core::vector::data;
use tilde_core::{
    Bernoulli, Beta, BetaBinomial, Binomial, Categorical, Cauchy, Cdf, Delta, Dirichlet,
    Distribution, Exponential, Flat, Gamma, GaussianRandomWalk, Geometric, Gumbel, HalfCauchy,
    HalfNormal, HalfStudentT, InverseGamma, InverseWishart, Laplace, LkjCholesky, LogNormal,
    Logistic, LowRankMultivariateNormal, Mixture, Multinomial, MultivariateNormal,
    NegativeBinomial, Normal, Pareto, Poisson, SkewNormal, StudentT, TruncatedNormal, Uniform,
    VectorDistribution, VonMises, Weibull, Wishart, ZeroInflatedPoisson,
};

fn config() -> Config {
    Config {
        cases: 5000,
        rng_seed: RngSeed::Fixed(16),
        failure_persistence: None,
        ..Config::default()
    }
}

/// A parameter or value as a hostile caller gives it: the special values, the
/// extremes, small integers (counts, boundaries) and ordinary and huge numbers.
fn hostile() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            2.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            1e300,
            -1e300,
            1e-300,
        ]),
        (-5i32..=20).prop_map(f64::from),
        -10.0..10.0f64,
        -1e6..1e6f64,
        prop::num::f64::ANY,
    ]
}

/// The log-density and the observed log-density at `x` are not NaN; drawing,
/// the support and the sums do not panic.
fn check<D: Distribution<Scalar = f64>>(name: &str, d: &D, x: f64) -> Result<(), TestCaseError> {
    let lp = d.ln_pdf(x);
    prop_assert!(!lp.is_nan(), "{name}: ln_pdf({x}) is NaN");
    let lp = d.ln_pdf_obs(x);
    prop_assert!(!lp.is_nan(), "{name}: ln_pdf_obs({x}) is NaN");
    let lp = d.ln_pdf_sum(&[x, 0.5]);
    prop_assert!(!lp.is_nan(), "{name}: ln_pdf_sum([{x}, 0.5]) is NaN");
    let _ = d.support();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(x.to_bits());
    let _ = d.sample(&mut rng);
    Ok(())
}

/// [`check`], and the cumulative functions and their inverses do not panic.
fn check_cdf<D: Cdf + Distribution<Scalar = f64> + Clone>(
    name: &str,
    d: &D,
    x: f64,
) -> Result<(), TestCaseError> {
    check(name, d, x)?;
    let _ = (d.ln_cdf(x), d.ln_ccdf(x));
    let _ = (d.inverse_ln_cdf(-x.abs()), d.inverse_ln_ccdf(-x.abs()));
    let truncated = d.clone().truncated(x.min(0.0) - 1.0, x.abs() + 1.0);
    check(&format!("{name} truncated"), &truncated, x)?;
    check(
        &format!("{name} truncated at x"),
        &d.clone().truncated(x, 2.0),
        0.5,
    )?;
    Ok(())
}

/// The vector log-density at `x` (of the distribution's length) is not NaN, and a
/// draw does not panic.
fn check_vector<D: VectorDistribution<Scalar = f64>>(
    name: &str,
    d: &D,
    x: &[f64],
) -> Result<(), TestCaseError> {
    let lp = d.ln_pdf(x);
    prop_assert!(!lp.is_nan(), "{name}: ln_pdf({x:?}) is NaN");
    let lp = d.ln_pdf_obs(x);
    prop_assert!(!lp.is_nan(), "{name}: ln_pdf_obs({x:?}) is NaN");
    let _ = (d.support(), d.bijector(), d.shape());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let _ = d.draw(&mut rng);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn normal(loc in hostile(), scale in hostile(), x in hostile()) {
        check_cdf("normal", &Normal::new(loc, scale), x)?;
    }

    #[test]
    fn log_normal(loc in hostile(), scale in hostile(), x in hostile()) {
        check("log_normal", &LogNormal::new(loc, scale), x)?;
    }

    #[test]
    fn cauchy(loc in hostile(), scale in hostile(), x in hostile()) {
        check_cdf("cauchy", &Cauchy::new(loc, scale), x)?;
    }

    #[test]
    fn laplace(loc in hostile(), scale in hostile(), x in hostile()) {
        check("laplace", &Laplace::new(loc, scale), x)?;
    }

    #[test]
    fn logistic(loc in hostile(), scale in hostile(), x in hostile()) {
        check_cdf("logistic", &Logistic::new(loc, scale), x)?;
    }

    #[test]
    fn gumbel(loc in hostile(), scale in hostile(), x in hostile()) {
        check_cdf("gumbel", &Gumbel::new(loc, scale), x)?;
    }

    #[test]
    fn von_mises(loc in hostile(), scale in hostile(), x in hostile()) {
        check("von_mises", &VonMises::new(loc, scale), x)?;
    }

    #[test]
    fn uniform(loc in hostile(), scale in hostile(), x in hostile()) {
        check("uniform", &Uniform::new(loc, scale), x)?;
    }

    #[test]
    fn flat(loc in hostile(), scale in hostile(), x in hostile()) {
        check("flat interval", &Flat::interval(loc, scale), x)?;
        check("flat", &Flat::new(), x)?;
        check("delta", &Delta::new(loc), x)?;
    }

    #[test]
    fn half_normal(scale in hostile(), x in hostile()) {
        check("half_normal", &HalfNormal::new(scale), x)?;
    }

    #[test]
    fn half_cauchy(scale in hostile(), x in hostile()) {
        check("half_cauchy", &HalfCauchy::new(scale), x)?;
    }

    #[test]
    fn exponential(scale in hostile(), x in hostile()) {
        check_cdf("exponential", &Exponential::new(scale), x)?;
    }

    #[test]
    fn gamma(a in hostile(), b in hostile(), x in hostile()) {
        check("gamma", &Gamma::new(a, b), x)?;
    }

    #[test]
    fn inverse_gamma(a in hostile(), b in hostile(), x in hostile()) {
        check("inverse_gamma", &InverseGamma::new(a, b), x)?;
    }

    #[test]
    fn beta(a in hostile(), b in hostile(), x in hostile()) {
        check("beta", &Beta::new(a, b), x)?;
    }

    #[test]
    fn weibull(a in hostile(), b in hostile(), x in hostile()) {
        check_cdf("weibull", &Weibull::new(a, b), x)?;
    }

    #[test]
    fn pareto(a in hostile(), b in hostile(), x in hostile()) {
        check("pareto", &Pareto::new(a, b), x)?;
    }

    #[test]
    fn half_student_t(a in hostile(), b in hostile(), x in hostile()) {
        check("half_student_t", &HalfStudentT::new(a, b), x)?;
    }

    #[test]
    fn student_t(a in hostile(), b in hostile(), c in hostile(), x in hostile()) {
        check("student_t", &StudentT::new(a, b, c), x)?;
    }

    #[test]
    fn skew_normal(a in hostile(), b in hostile(), c in hostile(), x in hostile()) {
        check("skew_normal", &SkewNormal::new(a, b, c), x)?;
    }

    #[test]
    fn truncated_normal(a in hostile(), b in hostile(), c in hostile(), d in hostile(), x in hostile()) {
        check("truncated_normal", &TruncatedNormal::new(a, b, c, d), x)?;
    }

    #[test]
    fn count_families(p in hostile(), r in hostile(), n in 0u64..40, k in hostile()) {
        check("bernoulli", &Bernoulli::new(p), k)?;
        check("bernoulli logit", &Bernoulli::logit(p), k)?;
        check("binomial", &Binomial::new(n, p), k)?;
        check("binomial logit", &Binomial::logit(n, p), k)?;
        check("poisson", &Poisson::new(r), k)?;
        check("poisson log_rate", &Poisson::log_rate(r), k)?;
        check("geometric", &Geometric::new(p), k)?;
        check("negative_binomial", &NegativeBinomial::new(r, p), k)?;
        check("negative_binomial probs", &NegativeBinomial::probs(r, p), k)?;
        check("beta_binomial", &BetaBinomial::new(n, p, r), k)?;
        check("zero_inflated_poisson", &ZeroInflatedPoisson::new(p, r), k)?;
    }

    #[test]
    fn mixtures(w in hostile(), loc in hostile(), scale in hostile(), x in hostile()) {
        let components = [Normal::new(loc, 1.0), Normal::new(0.0, scale)];
        let weights = [w, 1.0 - w];
        check("mixture", &Mixture::new(&weights, &components), x)?;
        check("mixture of one weight", &Mixture::new(&weights[..1], &components), x)?;
    }

    #[test]
    fn vector_families(
        params in proptest::collection::vec(hostile(), 9),
        x in proptest::collection::vec(hostile(), 9),
        n in 0u64..10,
    ) {
        let (p2, p4) = (&params[..2], &params[..4]);
        let (x2, x3, x4) = (&x[..2], &x[..3], &x[..4]);
        let (m, s) = (data(p2), data(&params[2..6]));
        for d in [
            MultivariateNormal::<f64, _, _>::covariance(m, s),
            MultivariateNormal::cholesky(m, s),
            MultivariateNormal::precision(m, s),
        ] {
            check_vector("multivariate_normal", &d, x2)?;
        }
        check_vector(
            "low_rank_multivariate_normal",
            &LowRankMultivariateNormal::<f64, _, _, _>::new(data(p2), data(&params[2..6]), data(&params[6..8])),
            x2,
        )?;
        check_vector("dirichlet", &Dirichlet::<f64>::new(&params[..3]), x3)?;
        check_vector("dirichlet symmetric", &Dirichlet::<f64>::symmetric(3, params[0]), x3)?;
        check_vector("multinomial", &Multinomial::<f64, _>::new(n, data(&params[..3])), x3)?;
        check_vector("gaussian_random_walk", &GaussianRandomWalk::<f64>::new(params[0], 4), x4)?;
        check_vector("lkj_cholesky", &LkjCholesky::<f64>::new(2, params[0]), x4)?;
        check_vector("wishart", &Wishart::<f64, _>::new(params[0], data(&params[1..5])), x4)?;
        check_vector(
            "inverse_wishart",
            &InverseWishart::<f64, _>::new(params[0], data(&params[1..5])),
            x4,
        )?;
        check("categorical", &Categorical::<f64, _>::new(data(p4)), x[0])?;
        check("categorical logits", &Categorical::<f64, _>::logits(data(p4)), x[0])?;
    }
}

#[test]
fn sums_at_a_huge_scale_agree_with_the_elements() {
    // `(x − μ)²` and `σ²` both overflow; each element's `z = (x − μ)/σ` does not
    let d: Normal = Normal::new(-2.77e290, f64::MAX);
    let each = d.ln_pdf(0.0) + d.ln_pdf(0.5);
    assert!(each.is_finite());
    assert_eq!(d.ln_pdf_sum(&[0.0, 0.5]), each);
    assert_eq!(d.ln_pdf_obs_sum(&[0.0, 0.5]), each);
    let walk = GaussianRandomWalk::<f64>::new(f64::MAX, 2);
    let lp = walk.ln_pdf(&[f64::MAX, 0.0]);
    // steps MAX and −MAX: z = ±1, so −1 − 2 (ln σ + ln √(2π))
    let want = -1.0 - 2.0 * (f64::MAX.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln());
    assert!((lp - want).abs() <= 1e-12 * want.abs(), "{lp} vs {want}");
}

mod bijectors {
    use super::*;
    use tilde_core::{Bijector, VectorBijector};

    const VECTOR: [VectorBijector; 7] = [
        VectorBijector::Identity,
        VectorBijector::Ordered,
        VectorBijector::PositiveOrdered,
        VectorBijector::Simplex,
        VectorBijector::CholeskyCorr,
        VectorBijector::CholeskyFactor,
        VectorBijector::CovMatrix,
    ];

    proptest! {
        #![proptest_config(config())]

        /// Scalar bijectors with any bounds at any point: no panic; at a finite point
        /// with valid bounds, a value that is not NaN.
        #[test]
        fn scalar_bijectors(a in hostile(), b in hostile(), y in hostile()) {
            for bijector in [
                Bijector::Identity,
                Bijector::Exp,
                Bijector::LowerBound(a),
                Bijector::UpperBound(a),
                Bijector::Logistic,
                Bijector::Interval(a, b),
                Bijector::Affine(a, b),
            ] {
                let (x, ln_jac) = bijector.forward_and_ln_jac(y);
                let _ = (bijector.inverse(y), bijector.ln_abs_det_jacobian(y));
                let valid = a.is_finite() && b.is_finite() && a < b;
                if y.is_finite() && valid {
                    prop_assert!(!x.is_nan(), "{bijector:?}.forward({y}) is NaN");
                    prop_assert!(!ln_jac.is_nan(), "{bijector:?} ln_jac({y}) is NaN");
                }
            }
        }

        /// Vector bijectors: `inverse` of a vector (a square number of values for the
        /// matrices) and `forward` at matching lengths never panic; `forward` at a point
        /// whose exponentials do not overflow is not NaN.
        #[test]
        fn vector_bijectors(values in proptest::collection::vec(hostile(), 0..12), k in 0usize..4) {
            for bijector in VECTOR {
                let n = match bijector {
                    VectorBijector::CholeskyCorr
                    | VectorBijector::CholeskyFactor
                    | VectorBijector::CovMatrix => k * k,
                    _ => values.len(),
                };
                // a matrix of another length is a documented shape panic
                if n <= values.len() {
                    let _ = bijector.inverse(&values[..n]);
                }
                let m = bijector.unconstrained_len(n);
                if m <= values.len() {
                    let y = &values[..m];
                    let mut x = vec![0.0; n];
                    let ln_jac = bijector.forward(y, &mut x);
                    // beyond |y| = 300, exp(2y) overflows and ∞ · 0 may follow
                    if y.iter().all(|v| v.abs() < 300.0) {
                        prop_assert!(!ln_jac.is_nan(), "{bijector:?} ln_jac at {y:?} is NaN");
                        prop_assert!(x.iter().all(|v| !v.is_nan()), "{bijector:?} at {y:?}: {x:?}");
                    }
                }
            }
        }
    }
}

mod math {
    use super::*;
    use tilde_core::math::{
        digamma, erf, erfc, lbeta, lgamma, log_diff_exp, log_mix, log_sum_exp, log1p_exp,
        std_normal_cdf, std_normal_quantile,
    };

    proptest! {
        #![proptest_config(config())]

        /// `tilde::math` at any input: no panic, and NaN exactly where the docs say.
        #[test]
        fn math_functions(x in hostile(), y in hostile(), t in hostile()) {
            let _ = (lgamma(x), erf(x), erfc(x), std_normal_cdf(x), log1p_exp(x));
            let _ = (lbeta(x, y), log_sum_exp(&[x, y]), digamma(x));
            prop_assert!(!lgamma(x).is_nan() || x.is_nan(), "lgamma({x})");
            prop_assert!(!log1p_exp(x).is_nan() || x.is_nan(), "log1p_exp({x})");
            if x <= 0.0 && x == x.floor() || x.is_nan() || x == f64::NEG_INFINITY {
                prop_assert!(digamma(x).is_nan(), "digamma({x})");
            }
            let q = std_normal_quantile(t);
            prop_assert_eq!(q.is_nan(), !(0.0..=1.0).contains(&t), "std_normal_quantile({})", t);
            let d = log_diff_exp(x, y);
            if y > x || x.is_nan() || y.is_nan() {
                prop_assert!(d.is_nan(), "log_diff_exp({x}, {y})");
            }
            if !(0.0..=1.0).contains(&t) {
                prop_assert!(log_mix(t, x, y).is_nan(), "log_mix({t}, {x}, {y})");
            }
        }
    }
}

#[test]
fn special_functions_never_panic_and_stay_in_their_range() {
    use tilde_core::special::{digamma, lgamma, trigamma};
    let runner = || {
        proptest::test_runner::TestRunner::new_with_rng(
            proptest::test_runner::Config {
                cases: 3000,
                ..Default::default()
            },
            proptest::test_runner::TestRng::from_seed(
                proptest::test_runner::RngAlgorithm::ChaCha,
                &[16; 32],
            ),
        )
    };
    let x = proptest::prop_oneof![
        proptest::strategy::Just(f64::NAN),
        proptest::strategy::Just(f64::INFINITY),
        proptest::strategy::Just(f64::NEG_INFINITY),
        proptest::strategy::Just(-0.0),
        proptest::strategy::Just(f64::MIN_POSITIVE / 8.0),
        proptest::strategy::Just(-f64::MAX),
        proptest::arbitrary::any::<f64>(),
        -30.0..30.0f64,
        -1e-3..1e-3f64,
    ];
    runner()
        .run(&x, |x| {
            let (l, d, t) = (lgamma(x), digamma(x), trigamma(x));
            if x > 0.0 {
                // ψ' is positive and decreasing on (0, ∞); ψ increasing; ln Γ not NaN
                proptest::prop_assert!(t >= 0.0, "trigamma({x}) = {t}");
                proptest::prop_assert!(!d.is_nan() && !l.is_nan(), "at {x}: {d}, {l}");
            }
            if x.is_nan() || x == f64::NEG_INFINITY {
                proptest::prop_assert!(d.is_nan() && t.is_nan());
            }
            Ok(())
        })
        .unwrap();
    // the poles
    for pole in [0.0, -1.0, -7.0, -1e300] {
        assert!(digamma(pole).is_nan() && trigamma(pole).is_nan(), "{pole}");
    }
    assert_eq!(trigamma(f64::INFINITY), 0.0);
    assert_eq!(digamma(f64::INFINITY), f64::INFINITY);
}
