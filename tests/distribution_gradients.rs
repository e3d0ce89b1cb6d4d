//! The analytic partials of every distribution's log-density, through `#[model]`s whose
//! parameters are latent sites.
//!
//! Each model scores, with the distribution under test, a latent value and a latent
//! `.iid(3)` vector (continuous distributions: `ln_pdf`, `ln_pdf_sum`), one observed
//! scalar (`ln_pdf_obs`) and an observed `.iid(7)` slice (`ln_pdf_obs_sum`). At three
//! fixed points the forward and reverse engines must agree to 1e-10 relative and both
//! match central differences of `logp` to 1e-6 relative; at a fourth point `logp` must
//! equal the sum of the `f64` `ln_pdf` values of every site, written out by hand, plus
//! the log-Jacobians (1e-12 relative), so the fused nodes leave the values unchanged.

mod common;

use common::{check_engines_and_gradients, point};
use tilde::Engine;
use tilde::prelude::*;

/// The points of the gradient checks.
const SEEDS: [u64; 3] = [1, 2, 3];
/// The point of the value check.
const VALUE_SEED: u64 = 4;

const Y0_REAL: f64 = 0.8;
const YS_REAL: [f64; 7] = [-1.3, 0.4, 2.2, -0.7, 0.1, 3.5, -2.4];
const Y0_POS: f64 = 1.4;
const YS_POS: [f64; 7] = [0.3, 1.7, 0.9, 4.2, 0.05, 2.6, 1.1];
const Y0_UNIT: f64 = 0.3;
const YS_UNIT: [f64; 7] = [0.12, 0.55, 0.91, 0.34, 0.68, 0.07, 0.45];
/// Inside every `Uniform(low, high)` the uniform model reaches (`low ≤ -1.5`,
/// `high ≥ 1.5`).
const Y0_INNER: f64 = 0.7;
const YS_INNER: [f64; 7] = [-1.2, 0.3, 1.1, -0.5, 0.9, 0.0, 1.35];
const YS_BOOL: [bool; 7] = [true, false, true, true, false, true, false];
/// Counts out of `TRIALS`, with both ends of the support.
const TRIALS: u64 = 12;
const KS_BINOMIAL: [u64; 7] = [0, 5, 12, 3, 7, 9, 1];
const KS_POISSON: [u64; 7] = [0, 3, 1, 7, 2, 0, 12];

/// Reads a point's coordinates in layout order, constrained as the models' bijectors do,
/// and sums their log-Jacobians.
struct Reader<'a> {
    u: &'a [f64],
    next: usize,
    ln_jacobian: f64,
}

impl<'a> Reader<'a> {
    fn new(u: &'a [f64]) -> Self {
        Reader {
            u,
            next: 0,
            ln_jacobian: 0.0,
        }
    }

    fn raw(&mut self) -> f64 {
        self.next += 1;
        self.u[self.next - 1]
    }

    fn real(&mut self) -> f64 {
        self.raw()
    }

    /// `exp`, with log-Jacobian `u`.
    fn positive(&mut self) -> f64 {
        let u = self.raw();
        self.ln_jacobian += u;
        u.exp()
    }

    /// `a + (b - a) / (1 + e⁻ᵘ)`, with log-Jacobian `ln(b - a) + ln s + ln(1 - s)`.
    fn interval(&mut self, a: f64, b: f64) -> f64 {
        let s = 1.0 / (1.0 + (-self.raw()).exp());
        self.ln_jacobian += (b - a).ln() + s.ln() + (1.0 - s).ln();
        a + (b - a) * s
    }

    fn unit(&mut self) -> f64 {
        self.interval(0.0, 1.0)
    }

    /// The log-Jacobian; every coordinate must have been read.
    fn finish(self) -> f64 {
        assert_eq!(self.next, self.u.len(), "coordinates left unread");
        self.ln_jacobian
    }
}

/// `Σ ln_pdf(xᵢ)` with the scalar `f64` `ln_pdf`.
fn score<D: Distribution<Scalar = f64>>(d: &D, xs: impl IntoIterator<Item = f64>) -> f64 {
    xs.into_iter().map(|x| d.ln_pdf(x)).sum()
}

/// Gradients at [`SEEDS`] by both engines, and the value at [`VALUE_SEED`] against
/// `by_hand`; `make` builds the model with a gradient engine.
fn check<M: Model>(make: impl Fn(Engine) -> M, by_hand: fn(&[f64]) -> f64) {
    let model = make(Engine::Auto);
    model.check().unwrap();
    check_engines_and_gradients(&make(Engine::Forward), &make(Engine::Reverse), &SEEDS);
    let x = point(model.dim(), VALUE_SEED);
    let (got, want) = (model.logp(&x), by_hand(&x));
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "logp {got} vs {want} by hand"
    );
}

#[model]
fn normal_model(y0: f64, ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", Exponential::new(1.0));
    sample!("x", Normal::new(mu, sigma));
    sample!("xs", Normal::new(mu, sigma).iid(3));
    sample!("y0", Normal::new(mu, sigma), obs = y0);
    sample!("ys", Normal::new(mu, sigma).iid(ys.len()), obs = ys);
}

#[test]
fn normal() {
    check(
        |e| normal_model(Y0_REAL, &YS_REAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, sigma) = (r.real(), r.positive());
            let d: Normal = Normal::new(mu, sigma);
            let latent: Vec<f64> = (0..4).map(|_| r.real()).collect();
            Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(sigma)
                + score(&d, latent)
                + d.ln_pdf(Y0_REAL)
                + score(&d, YS_REAL)
                + r.finish()
        },
    );
}

#[model]
fn half_normal_model(y0: f64, ys: &[f64]) {
    let sigma = sample!("sigma", Exponential::new(1.0));
    sample!("x", HalfNormal::new(sigma));
    sample!("xs", HalfNormal::new(sigma).iid(3));
    sample!("y0", HalfNormal::new(sigma), obs = y0);
    sample!("ys", HalfNormal::new(sigma).iid(ys.len()), obs = ys);
}

#[test]
fn half_normal() {
    check(
        |e| half_normal_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let sigma = r.positive();
            let d: HalfNormal = HalfNormal::new(sigma);
            let latent: Vec<f64> = (0..4).map(|_| r.positive()).collect();
            Exponential::new(1.0).ln_pdf(sigma)
                + score(&d, latent)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + r.finish()
        },
    );
}

#[model]
fn log_normal_model(y0: f64, ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", Exponential::new(1.0));
    sample!("x", LogNormal::new(mu, sigma));
    sample!("xs", LogNormal::new(mu, sigma).iid(3));
    sample!("y0", LogNormal::new(mu, sigma), obs = y0);
    sample!("ys", LogNormal::new(mu, sigma).iid(ys.len()), obs = ys);
}

#[test]
fn log_normal() {
    check(
        |e| log_normal_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, sigma) = (r.real(), r.positive());
            let d: LogNormal = LogNormal::new(mu, sigma);
            let latent: Vec<f64> = (0..4).map(|_| r.positive()).collect();
            Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(sigma)
                + score(&d, latent)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + r.finish()
        },
    );
}

#[model]
fn cauchy_model(y0: f64, ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", Exponential::new(1.0));
    sample!("x", Cauchy::new(mu, sigma));
    sample!("xs", Cauchy::new(mu, sigma).iid(3));
    sample!("y0", Cauchy::new(mu, sigma), obs = y0);
    sample!("ys", Cauchy::new(mu, sigma).iid(ys.len()), obs = ys);
}

#[test]
fn cauchy() {
    check(
        |e| cauchy_model(Y0_REAL, &YS_REAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, sigma) = (r.real(), r.positive());
            let d: Cauchy = Cauchy::new(mu, sigma);
            let latent: Vec<f64> = (0..4).map(|_| r.real()).collect();
            Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(sigma)
                + score(&d, latent)
                + d.ln_pdf(Y0_REAL)
                + score(&d, YS_REAL)
                + r.finish()
        },
    );
}

#[model]
fn half_cauchy_model(y0: f64, ys: &[f64]) {
    let s = sample!("s", Exponential::new(1.0));
    sample!("x", HalfCauchy::new(s));
    sample!("xs", HalfCauchy::new(s).iid(3));
    sample!("y0", HalfCauchy::new(s), obs = y0);
    sample!("ys", HalfCauchy::new(s).iid(ys.len()), obs = ys);
}

#[test]
fn half_cauchy() {
    check(
        |e| half_cauchy_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let s = r.positive();
            let d: HalfCauchy = HalfCauchy::new(s);
            let latent: Vec<f64> = (0..4).map(|_| r.positive()).collect();
            Exponential::new(1.0).ln_pdf(s)
                + score(&d, latent)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + r.finish()
        },
    );
}

/// Small degrees of freedom (the log-gamma form of the normalising constant) and
/// `10ν + 25 ∈ [27, 70]` (both sides of the switch to its asymptotic series at 30).
#[model]
fn student_t_model(y0: f64, ys: &[f64]) {
    let nu = sample!("nu", Exponential::new(1.0));
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", Exponential::new(1.0));
    let big_nu = nu * 10.0 + 25.0;
    sample!("x", StudentT::new(nu, mu, sigma));
    sample!("xs", StudentT::new(nu, mu, sigma).iid(3));
    sample!("xs_big", StudentT::new(big_nu, mu, sigma).iid(3));
    sample!("y0", StudentT::new(nu, mu, sigma), obs = y0);
    sample!("y0_big", StudentT::new(big_nu, mu, sigma), obs = y0);
    sample!("ys", StudentT::new(nu, mu, sigma).iid(ys.len()), obs = ys);
    sample!(
        "ys_big",
        StudentT::new(big_nu, mu, sigma).iid(ys.len()),
        obs = ys
    );
}

#[test]
fn student_t() {
    check(
        |e| student_t_model(Y0_REAL, &YS_REAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (nu, mu, sigma) = (r.positive(), r.real(), r.positive());
            let d: StudentT = StudentT::new(nu, mu, sigma);
            let big: StudentT = StudentT::new(nu * 10.0 + 25.0, mu, sigma);
            let latent: Vec<f64> = (0..4).map(|_| r.real()).collect();
            let latent_big: Vec<f64> = (0..3).map(|_| r.real()).collect();
            Exponential::new(1.0).ln_pdf(nu)
                + Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(sigma)
                + score(&d, latent)
                + score(&big, latent_big)
                + d.ln_pdf(Y0_REAL)
                + big.ln_pdf(Y0_REAL)
                + score(&d, YS_REAL)
                + score(&big, YS_REAL)
                + r.finish()
        },
    );
}

#[model]
fn laplace_model(y0: f64, ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let b = sample!("b", Exponential::new(1.0));
    sample!("x", Laplace::new(mu, b));
    sample!("xs", Laplace::new(mu, b).iid(3));
    sample!("y0", Laplace::new(mu, b), obs = y0);
    sample!("ys", Laplace::new(mu, b).iid(ys.len()), obs = ys);
}

#[test]
fn laplace() {
    check(
        |e| laplace_model(Y0_REAL, &YS_REAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, b) = (r.real(), r.positive());
            let d: Laplace = Laplace::new(mu, b);
            let latent: Vec<f64> = (0..4).map(|_| r.real()).collect();
            Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(b)
                + score(&d, latent)
                + d.ln_pdf(Y0_REAL)
                + score(&d, YS_REAL)
                + r.finish()
        },
    );
}

#[model]
fn exponential_model(y0: f64, ys: &[f64]) {
    let rate = sample!("rate", Gamma::new(2.0, 1.0));
    sample!("x", Exponential::new(rate));
    sample!("xs", Exponential::new(rate).iid(3));
    sample!("y0", Exponential::new(rate), obs = y0);
    sample!("ys", Exponential::new(rate).iid(ys.len()), obs = ys);
}

#[test]
fn exponential() {
    check(
        |e| exponential_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let rate = r.positive();
            let d: Exponential = Exponential::new(rate);
            let latent: Vec<f64> = (0..4).map(|_| r.positive()).collect();
            Gamma::new(2.0, 1.0).ln_pdf(rate)
                + score(&d, latent)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + r.finish()
        },
    );
}

#[model]
fn gamma_model(y0: f64, ys: &[f64]) {
    let shape = sample!("shape", Exponential::new(1.0));
    let rate = sample!("rate", Exponential::new(1.0));
    sample!("x", Gamma::new(shape, rate));
    sample!("xs", Gamma::new(shape, rate).iid(3));
    sample!("y0", Gamma::new(shape, rate), obs = y0);
    sample!("ys", Gamma::new(shape, rate).iid(ys.len()), obs = ys);
}

#[test]
fn gamma() {
    check(
        |e| gamma_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (shape, rate) = (r.positive(), r.positive());
            let d: Gamma = Gamma::new(shape, rate);
            let latent: Vec<f64> = (0..4).map(|_| r.positive()).collect();
            Exponential::new(1.0).ln_pdf(shape)
                + Exponential::new(1.0).ln_pdf(rate)
                + score(&d, latent)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + r.finish()
        },
    );
}

#[model]
fn inverse_gamma_model(y0: f64, ys: &[f64]) {
    let shape = sample!("shape", Exponential::new(1.0));
    let scale = sample!("scale", Exponential::new(1.0));
    sample!("x", InverseGamma::new(shape, scale));
    sample!("xs", InverseGamma::new(shape, scale).iid(3));
    sample!("y0", InverseGamma::new(shape, scale), obs = y0);
    sample!(
        "ys",
        InverseGamma::new(shape, scale).iid(ys.len()),
        obs = ys
    );
}

#[test]
fn inverse_gamma() {
    check(
        |e| inverse_gamma_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (shape, scale) = (r.positive(), r.positive());
            let d: InverseGamma = InverseGamma::new(shape, scale);
            let latent: Vec<f64> = (0..4).map(|_| r.positive()).collect();
            Exponential::new(1.0).ln_pdf(shape)
                + Exponential::new(1.0).ln_pdf(scale)
                + score(&d, latent)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + r.finish()
        },
    );
}

#[model]
fn beta_model(y0: f64, ys: &[f64]) {
    let a = sample!("a", Exponential::new(1.0));
    let b = sample!("b", Exponential::new(1.0));
    sample!("x", Beta::new(a, b));
    sample!("xs", Beta::new(a, b).iid(3));
    sample!("y0", Beta::new(a, b), obs = y0);
    sample!("ys", Beta::new(a, b).iid(ys.len()), obs = ys);
}

#[test]
fn beta() {
    check(
        |e| beta_model(Y0_UNIT, &YS_UNIT).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (a, b) = (r.positive(), r.positive());
            let d: Beta = Beta::new(a, b);
            let latent: Vec<f64> = (0..4).map(|_| r.unit()).collect();
            Exponential::new(1.0).ln_pdf(a)
                + Exponential::new(1.0).ln_pdf(b)
                + score(&d, latent)
                + d.ln_pdf(Y0_UNIT)
                + score(&d, YS_UNIT)
                + r.finish()
        },
    );
}

/// Bounds that are parameters, with data inside every interval the model reaches.
#[model]
fn uniform_model(y0: f64, ys: &[f64]) {
    let low = sample!("a", Normal::new(0.0, 1.0)) - 3.0;
    let high = sample!("b", Normal::new(0.0, 1.0)) + 3.0;
    sample!("x", Uniform::new(low, high));
    sample!("xs", Uniform::new(low, high).iid(3));
    sample!("y0", Uniform::new(low, high), obs = y0);
    sample!("ys", Uniform::new(low, high).iid(ys.len()), obs = ys);
}

#[test]
fn uniform() {
    check(
        |e| uniform_model(Y0_INNER, &YS_INNER).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (a, b) = (r.real(), r.real());
            let (low, high) = (a - 3.0, b + 3.0);
            let d: Uniform = Uniform::new(low, high);
            let latent: Vec<f64> = (0..4).map(|_| r.interval(low, high)).collect();
            Normal::new(0.0, 1.0).ln_pdf(a)
                + Normal::new(0.0, 1.0).ln_pdf(b)
                + score(&d, latent)
                + d.ln_pdf(Y0_INNER)
                + score(&d, YS_INNER)
                + r.finish()
        },
    );
}

/// Both parameterisations; the log-odds reach ±12, where `p` or `1 - p` rounds.
#[model]
fn bernoulli_model(ys: &[bool]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    let eta = sample!("eta", Normal::new(0.0, 1.0));
    let logit = eta * 8.0;
    sample!("y0", Bernoulli::new(p), obs = true);
    sample!("y1", Bernoulli::new(p), obs = false);
    sample!("ys", Bernoulli::new(p).iid(ys.len()), obs = ys);
    sample!("y0_logit", Bernoulli::logit(logit), obs = true);
    sample!("y1_logit", Bernoulli::logit(logit), obs = 0);
    sample!("ys_logit", Bernoulli::logit(logit).iid(ys.len()), obs = ys);
}

#[test]
fn bernoulli() {
    check(
        |e| bernoulli_model(&YS_BOOL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (p, eta) = (r.unit(), r.real());
            let (d, e): (Bernoulli, Bernoulli) = (Bernoulli::new(p), Bernoulli::logit(eta * 8.0));
            let ys = YS_BOOL.map(f64::from);
            Beta::new(2.0, 2.0).ln_pdf(p)
                + Normal::new(0.0, 1.0).ln_pdf(eta)
                + score(&d, [1.0, 0.0])
                + score(&d, ys)
                + score(&e, [1.0, 0.0])
                + score(&e, ys)
                + r.finish()
        },
    );
}

#[model]
fn binomial_model(n: u64, ks: &[u64]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    let eta = sample!("eta", Normal::new(0.0, 1.0));
    let logit = eta * 3.0;
    sample!("k0", Binomial::new(n, p), obs = 4);
    sample!("k1", Binomial::new(n, p), obs = 0);
    sample!("ks", Binomial::new(n, p).iid(ks.len()), obs = ks);
    sample!("k0_logit", Binomial::logit(n, logit), obs = 4);
    sample!("k1_logit", Binomial::logit(n, logit), obs = n);
    sample!(
        "ks_logit",
        Binomial::logit(n, logit).iid(ks.len()),
        obs = ks
    );
}

#[test]
fn binomial() {
    check(
        |e| binomial_model(TRIALS, &KS_BINOMIAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (p, eta) = (r.unit(), r.real());
            let d: Binomial = Binomial::new(TRIALS, p);
            let e: Binomial = Binomial::logit(TRIALS, eta * 3.0);
            let ks = KS_BINOMIAL.map(|k| k as f64);
            Beta::new(2.0, 2.0).ln_pdf(p)
                + Normal::new(0.0, 1.0).ln_pdf(eta)
                + score(&d, [4.0, 0.0])
                + score(&d, ks)
                + score(&e, [4.0, TRIALS as f64])
                + score(&e, ks)
                + r.finish()
        },
    );
}

/// Both parameterisations; the log-rate `3η` reaches rates from 0.01 to 90.
#[model]
fn poisson_model(ks: &[u64]) {
    let rate = sample!("rate", Exponential::new(0.5));
    let eta = sample!("eta", Normal::new(0.0, 1.0));
    let log_rate = eta * 3.0;
    sample!("k0", Poisson::new(rate), obs = 0);
    sample!("k1", Poisson::new(rate), obs = 5);
    sample!("ks", Poisson::new(rate).iid(ks.len()), obs = ks);
    sample!("k0_log", Poisson::log_rate(log_rate), obs = 0);
    sample!("k1_log", Poisson::log_rate(log_rate), obs = 5);
    sample!(
        "ks_log",
        Poisson::log_rate(log_rate).iid(ks.len()),
        obs = ks
    );
}

#[test]
fn poisson() {
    check(
        |e| poisson_model(&KS_POISSON).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (rate, eta) = (r.positive(), r.real());
            let d: Poisson = Poisson::new(rate);
            let e: Poisson = Poisson::log_rate(eta * 3.0);
            let ks = KS_POISSON.map(|k| k as f64);
            Exponential::new(0.5).ln_pdf(rate)
                + Normal::new(0.0, 1.0).ln_pdf(eta)
                + score(&d, [0.0, 5.0])
                + score(&d, ks)
                + score(&e, [0.0, 5.0])
                + score(&e, ks)
                + r.finish()
        },
    );
}

/// Where a probability or rate sits on the edge of its range, or the log-odds in a far
/// tail, the log-mass is finite and so must be its partial (one forward direction: the
/// parameter). A zero count drops its term, so `1/p` at `p = 0` never enters.
#[test]
fn partials_are_finite_at_the_edges() {
    use tilde_autodiff::Fwd;
    let var = |v: f64| Fwd::<1>::variable(v, 0);
    let check = |what: &str, lp: Fwd<1>, value: f64, partial: f64| {
        assert_eq!(lp.value(), value, "{what}: value");
        let got = lp.gradient()[0];
        assert!(
            (got - partial).abs() <= 1e-15 * partial.abs().max(1.0),
            "{what}: partial {got}, want {partial}"
        );
    };
    check(
        "bernoulli p = 0 at 0",
        Bernoulli::new(var(0.0)).ln_pdf_obs(0.0),
        0.0,
        -1.0,
    );
    check(
        "bernoulli p = 1 at 1",
        Bernoulli::new(var(1.0)).ln_pdf_obs(1.0),
        0.0,
        1.0,
    );
    check(
        "bernoulli p = 0 at [0, 0, 0]",
        Bernoulli::new(var(0.0)).ln_pdf_obs_sum(&[0, 0, 0]),
        0.0,
        -3.0,
    );
    check(
        "bernoulli p = 1 at [1, 1]",
        Bernoulli::new(var(1.0)).ln_pdf_obs_sum(&[true, true]),
        0.0,
        2.0,
    );
    // η = -40: p ≈ 4.2e-18 rounds 1 - p to 1, but ln p and ∂/∂η ln(1 - p) = -p do not.
    let p = 1.0 / (1.0 + 40f64.exp());
    let at_one: Fwd<1> = Bernoulli::logit(var(-40.0)).ln_pdf_obs(1.0);
    assert_eq!(at_one.gradient(), [1.0]);
    check(
        "bernoulli η = -40 at 0",
        Bernoulli::logit(var(-40.0)).ln_pdf_obs(0.0),
        -p,
        -p,
    );
    check(
        "bernoulli η = 800 at 0",
        Bernoulli::logit(var(800.0)).ln_pdf_obs(0.0),
        -800.0,
        -1.0,
    );
    check(
        "binomial p = 0 at 0",
        Binomial::new(6, var(0.0)).ln_pdf_obs(0.0),
        0.0,
        -6.0,
    );
    check(
        "binomial p = 1 at n",
        Binomial::new(6, var(1.0)).ln_pdf_obs(6.0),
        0.0,
        6.0,
    );
    check(
        "binomial p = 0 at [0, 0]",
        Binomial::new(6, var(0.0)).ln_pdf_obs_sum(&[0, 0]),
        0.0,
        -12.0,
    );
    check(
        "binomial n = 0",
        Binomial::new(0, var(0.3)).ln_pdf_obs(0.0),
        0.0,
        0.0,
    );
    let tail: Fwd<1> = Binomial::logit(30, var(-40.0)).ln_pdf_obs(3.0);
    assert!(tail.value().is_finite() && (tail.gradient()[0] - 3.0).abs() < 1e-12);
    check(
        "poisson λ = 0 at 0",
        Poisson::new(var(0.0)).ln_pdf_obs(0.0),
        0.0,
        -1.0,
    );
    check(
        "poisson λ = 0 at [0, 0, 0]",
        Poisson::new(var(0.0)).ln_pdf_obs_sum(&[0, 0, 0]),
        0.0,
        -3.0,
    );
    let tail: Fwd<1> = Poisson::log_rate(var(-30.0)).ln_pdf_obs(3.0);
    let rate = (-30f64).exp();
    assert!(tail.value().is_finite() && tail.gradient() == [3.0 - rate]);
    check(
        "poisson η = -800 at 0",
        Poisson::log_rate(var(-800.0)).ln_pdf_obs(0.0),
        -0.0,
        -0.0,
    );
    // far tails of the heavy-tailed densities, where 1 + z² overflows
    let tails: [Fwd<1>; 4] = [
        Cauchy::new(var(0.0), 1.0).ln_pdf_obs(1e200),
        StudentT::new(3.0, var(0.0), 1.0).ln_pdf_obs(1e200),
        StudentT::new(var(3.0), 0.0, 1.0).ln_pdf_obs(-1e200),
        HalfCauchy::new(var(1.0)).ln_pdf_obs(1e200),
    ];
    for lp in tails {
        assert!(
            lp.value().is_finite() && lp.gradient()[0].is_finite(),
            "{lp:?}"
        );
    }
    // outside the support: -∞ and no partial
    let out: Fwd<1> = Binomial::new(6, var(0.5)).ln_pdf_obs(7.0);
    assert_eq!((out.value(), out.gradient()), (f64::NEG_INFINITY, [0.0]));
    let out: Fwd<1> = Gamma::new(var(2.0), 1.0).ln_pdf_obs_sum(&[1.0, -1.0]);
    assert_eq!((out.value(), out.gradient()), (f64::NEG_INFINITY, [0.0]));
}
