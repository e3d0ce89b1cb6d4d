//! Every distribution treats invalid parameters the same way: `try_new` fails, `ln_pdf`
//! and `ln_pdf_obs` are `-∞` (never NaN, never a panic) and a draw is NaN.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tilde_core::{
    Bernoulli, Beta, Binomial, Cauchy, Distribution, Exponential, Gamma, HalfCauchy, HalfNormal,
    InverseGamma, Laplace, LogNormal, Poisson, StudentT, Uniform,
};

/// `ln_pdf` and `ln_pdf_obs` at `xs` are `-∞`, and a draw is NaN.
fn check_invalid<D: Distribution<Scalar = f64>>(name: &str, d: D, xs: &[f64]) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    for &x in xs {
        assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY, "{name}: ln_pdf({x})");
        assert_eq!(
            d.ln_pdf_obs(x),
            f64::NEG_INFINITY,
            "{name}: ln_pdf_obs({x})"
        );
    }
    assert!(d.sample(&mut rng).is_nan(), "{name}: draw");
}

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

#[test]
fn invalid_continuous_parameters() {
    let xs = [0.5, 1.0, 2.0];
    for bad in [0.0, -1.0, NAN, INF] {
        check_invalid("half_normal", HalfNormal::new(bad), &xs);
        check_invalid("log_normal", LogNormal::new(0.0, bad), &xs);
        check_invalid("cauchy", Cauchy::new(0.0, bad), &xs);
        check_invalid("half_cauchy", HalfCauchy::new(bad), &xs);
        check_invalid("student_t nu", StudentT::new(bad, 0.0, 1.0), &xs);
        check_invalid("student_t scale", StudentT::new(3.0, 0.0, bad), &xs);
        check_invalid("laplace", Laplace::new(0.0, bad), &xs);
        check_invalid("exponential", Exponential::new(bad), &xs);
        check_invalid("gamma shape", Gamma::new(bad, 1.0), &xs);
        check_invalid("gamma rate", Gamma::new(2.0, bad), &xs);
        check_invalid("inverse_gamma shape", InverseGamma::new(bad, 1.0), &xs);
        check_invalid("inverse_gamma scale", InverseGamma::new(2.0, bad), &xs);
        check_invalid("beta alpha", Beta::new(bad, 2.0), &[0.3]);
        check_invalid("beta beta", Beta::new(2.0, bad), &[0.3]);
        assert!(HalfNormal::<f64>::try_new(bad).is_err());
        assert!(LogNormal::<f64>::try_new(0.0, bad).is_err());
        assert!(Cauchy::<f64>::try_new(0.0, bad).is_err());
        assert!(HalfCauchy::<f64>::try_new(bad).is_err());
        assert!(StudentT::<f64>::try_new(bad, 0.0, 1.0).is_err());
        assert!(StudentT::<f64>::try_new(3.0, 0.0, bad).is_err());
        assert!(Laplace::<f64>::try_new(0.0, bad).is_err());
        assert!(Exponential::<f64>::try_new(bad).is_err());
        assert!(Gamma::<f64>::try_new(bad, 1.0).is_err());
        assert!(Gamma::<f64>::try_new(2.0, bad).is_err());
        assert!(InverseGamma::<f64>::try_new(bad, 1.0).is_err());
        assert!(InverseGamma::<f64>::try_new(2.0, bad).is_err());
        assert!(Beta::<f64>::try_new(bad, 2.0).is_err());
        assert!(Beta::<f64>::try_new(2.0, bad).is_err());
    }
    for bad in [NAN, INF, -INF] {
        check_invalid("log_normal loc", LogNormal::new(bad, 1.0), &xs);
        check_invalid("cauchy loc", Cauchy::new(bad, 1.0), &xs);
        check_invalid("student_t loc", StudentT::new(3.0, bad, 1.0), &xs);
        check_invalid("laplace loc", Laplace::new(bad, 1.0), &xs);
        check_invalid("uniform low", Uniform::new(bad, 1.0), &[0.5]);
        check_invalid("uniform high", Uniform::new(0.0, bad), &[0.5]);
        assert!(Uniform::<f64>::try_new(bad, 1.0).is_err());
        assert!(Uniform::<f64>::try_new(0.0, bad).is_err());
    }
    check_invalid("uniform empty", Uniform::new(1.0, 1.0), &[1.0]);
    check_invalid("uniform reversed", Uniform::new(2.0, 1.0), &[1.5]);
}

#[test]
fn invalid_discrete_parameters() {
    let ks = [0.0, 1.0];
    for bad in [-0.1, 1.1, NAN, INF] {
        check_invalid("bernoulli", Bernoulli::new(bad), &ks);
        check_invalid("binomial", Binomial::new(3, bad), &ks);
        assert!(Bernoulli::<f64>::try_new(bad).is_err());
        assert!(Binomial::<f64>::try_new(3, bad).is_err());
    }
    for bad in [NAN, INF, -INF] {
        check_invalid("bernoulli logit", Bernoulli::logit(bad), &ks);
        check_invalid("binomial logit", Binomial::logit(3, bad), &ks);
        check_invalid("poisson log_rate", Poisson::log_rate(bad), &ks);
        assert!(Bernoulli::<f64>::try_logit(bad).is_err());
        assert!(Binomial::<f64>::try_logit(3, bad).is_err());
        assert!(Poisson::<f64>::try_log_rate(bad).is_err());
    }
    for bad in [-1.0, NAN, INF] {
        check_invalid("poisson", Poisson::new(bad), &ks);
        assert!(Poisson::<f64>::try_new(bad).is_err());
    }
}

#[test]
fn invalid_parameters_of_the_second_batch() {
    use tilde_core::{
        BetaBinomial, Cdf, Delta, Flat, Geometric, Gumbel, HalfStudentT, Logistic,
        NegativeBinomial, Normal, Pareto, SkewNormal, TruncatedNormal, VonMises, Weibull,
        ZeroInflatedPoisson,
    };
    let xs = [0.5, 1.0, 2.0];
    let ks = [0.0, 1.0];
    for bad in [0.0, -1.0, NAN, INF] {
        check_invalid("half_student_t nu", HalfStudentT::new(bad, 1.0), &xs);
        check_invalid("half_student_t scale", HalfStudentT::new(3.0, bad), &xs);
        check_invalid("weibull shape", Weibull::new(bad, 1.0), &xs);
        check_invalid("weibull scale", Weibull::new(2.0, bad), &xs);
        check_invalid("logistic", Logistic::new(0.0, bad), &xs);
        check_invalid("gumbel", Gumbel::new(0.0, bad), &xs);
        check_invalid("pareto scale", Pareto::new(bad, 2.0), &[3.0]);
        check_invalid("pareto shape", Pareto::new(0.1, bad), &xs);
        check_invalid("skew_normal", SkewNormal::new(0.0, bad, 1.0), &xs);
        check_invalid(
            "truncated normal",
            TruncatedNormal::new(0.0, bad, 0.0, 3.0),
            &xs,
        );
        check_invalid(
            "truncated gumbel",
            Gumbel::new(0.0, bad).truncated(0.0, 3.0),
            &xs,
        );
        check_invalid("negative_binomial", NegativeBinomial::new(2.0, bad), &ks);
        check_invalid(
            "negative_binomial r",
            NegativeBinomial::probs(bad, 0.5),
            &ks,
        );
        check_invalid("beta_binomial alpha", BetaBinomial::new(4, bad, 1.0), &ks);
        check_invalid("beta_binomial beta", BetaBinomial::new(4, 1.0, bad), &ks);
        check_invalid("geometric", Geometric::new(bad), &ks);
        assert!(HalfStudentT::<f64>::try_new(bad, 1.0).is_err());
        assert!(Weibull::<f64>::try_new(2.0, bad).is_err());
        assert!(Logistic::<f64>::try_new(0.0, bad).is_err());
        assert!(Gumbel::<f64>::try_new(0.0, bad).is_err());
        assert!(Pareto::<f64>::try_new(bad, 2.0).is_err());
        assert!(SkewNormal::<f64>::try_new(0.0, bad, 1.0).is_err());
        assert!(TruncatedNormal::<f64>::try_new(0.0, bad, 0.0, 3.0).is_err());
        assert!(NegativeBinomial::<f64>::try_new(2.0, bad).is_err());
        assert!(NegativeBinomial::<f64>::try_probs(bad, 0.5).is_err());
        assert!(BetaBinomial::<f64>::try_new(4, bad, 1.0).is_err());
        assert!(Geometric::<f64>::try_new(bad).is_err());
    }
    for bad in [-1.0, NAN, INF] {
        check_invalid("von_mises", VonMises::new(0.0, bad), &xs);
        check_invalid(
            "negative_binomial mean",
            NegativeBinomial::new(bad, 1.0),
            &ks,
        );
        check_invalid(
            "zero_inflated_poisson rate",
            ZeroInflatedPoisson::new(0.5, bad),
            &ks,
        );
        assert!(VonMises::<f64>::try_new(0.0, bad).is_err());
        assert!(NegativeBinomial::<f64>::try_new(bad, 1.0).is_err());
        assert!(ZeroInflatedPoisson::<f64>::try_new(0.5, bad).is_err());
    }
    for bad in [-0.1, 1.1, NAN] {
        check_invalid(
            "zero_inflated_poisson",
            ZeroInflatedPoisson::new(bad, 1.0),
            &ks,
        );
        check_invalid(
            "negative_binomial p",
            NegativeBinomial::probs(2.0, bad),
            &ks,
        );
        assert!(ZeroInflatedPoisson::<f64>::try_new(bad, 1.0).is_err());
        assert!(NegativeBinomial::<f64>::try_probs(2.0, bad).is_err());
    }
    for bad in [NAN, INF, -INF] {
        check_invalid("von_mises loc", VonMises::new(bad, 1.0), &xs);
        check_invalid("skew_normal alpha", SkewNormal::new(0.0, 1.0, bad), &xs);
        check_invalid("delta", Delta::new(bad), &[bad, 0.0]);
        assert!(SkewNormal::<f64>::try_new(0.0, 1.0, bad).is_err());
        assert!(Delta::<f64>::try_new(bad).is_err());
    }
    // bounds: NaN or reversed
    let n: Normal = Normal::new(0.0, 1.0);
    check_invalid("truncated reversed", n.truncated(2.0, 1.0), &[1.5]);
    check_invalid("truncated NaN", n.truncated(NAN, 1.0), &[0.5]);
    check_invalid("truncated empty", n.truncated(1.0, 1.0), &[1.0]);
    for d in [Flat::<f64>::interval(2.0, 1.0), Flat::interval(0.0, NAN)] {
        for x in [0.5, 1.5] {
            assert_eq!(d.ln_pdf(x), f64::NEG_INFINITY);
            assert_eq!(d.ln_pdf_obs(x), f64::NEG_INFINITY);
        }
    }
}
