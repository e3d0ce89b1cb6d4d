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
#[path = "../examples/posteriordb/json.rs"]
mod json;

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
/// Angles within `π - 0.45` of every mean direction the von Mises model reaches
/// (`|μ| ≤ 0.45`).
const Y0_ANGLE: f64 = 0.6;
const YS_ANGLE: [f64; 7] = [-1.2, 0.4, 2.0, -0.7, 0.1, 1.5, -1.9];

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

    /// `a + eᵘ`, with log-Jacobian `u`.
    fn greater_than(&mut self, a: f64) -> f64 {
        a + self.positive()
    }

    /// `b - eᵘ`, with log-Jacobian `u`.
    fn less_than(&mut self, b: f64) -> f64 {
        b - self.positive()
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
fn check<M: Model + tilde::__private::ModelBody>(
    make: impl Fn(Engine) -> M,
    by_hand: fn(&[f64]) -> f64,
) {
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

/// Small degrees of freedom and `10ν + 25`, on both sides of the switch at 30.
#[model]
fn half_student_t_model(y0: f64, ys: &[f64]) {
    let nu = sample!("nu", Exponential::new(1.0));
    let s = sample!("s", Exponential::new(1.0));
    let big_nu = nu * 10.0 + 25.0;
    sample!("x", HalfStudentT::new(nu, s));
    sample!("xs", HalfStudentT::new(nu, s).iid(3));
    sample!("xs_big", HalfStudentT::new(big_nu, s).iid(3));
    sample!("y0", HalfStudentT::new(nu, s), obs = y0);
    sample!("ys", HalfStudentT::new(nu, s).iid(ys.len()), obs = ys);
    sample!(
        "ys_big",
        HalfStudentT::new(big_nu, s).iid(ys.len()),
        obs = ys
    );
}

#[test]
fn half_student_t() {
    check(
        |e| half_student_t_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (nu, s) = (r.positive(), r.positive());
            let d: HalfStudentT = HalfStudentT::new(nu, s);
            let big: HalfStudentT = HalfStudentT::new(nu * 10.0 + 25.0, s);
            let latent: Vec<f64> = (0..4).map(|_| r.positive()).collect();
            let latent_big: Vec<f64> = (0..3).map(|_| r.positive()).collect();
            Exponential::new(1.0).ln_pdf(nu)
                + Exponential::new(1.0).ln_pdf(s)
                + score(&d, latent)
                + score(&big, latent_big)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + score(&big, YS_POS)
                + r.finish()
        },
    );
}

#[model]
fn weibull_model(y0: f64, ys: &[f64]) {
    let shape = sample!("shape", Exponential::new(1.0));
    let scale = sample!("scale", Exponential::new(1.0));
    sample!("x", Weibull::new(shape, scale));
    sample!("xs", Weibull::new(shape, scale).iid(3));
    sample!("y0", Weibull::new(shape, scale), obs = y0);
    sample!("ys", Weibull::new(shape, scale).iid(ys.len()), obs = ys);
}

#[test]
fn weibull() {
    check(
        |e| weibull_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (shape, scale) = (r.positive(), r.positive());
            let d: Weibull = Weibull::new(shape, scale);
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
fn logistic_model(y0: f64, ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let s = sample!("s", Exponential::new(1.0));
    sample!("x", Logistic::new(mu, s));
    sample!("xs", Logistic::new(mu, s).iid(3));
    sample!("y0", Logistic::new(mu, s), obs = y0);
    sample!("ys", Logistic::new(mu, s).iid(ys.len()), obs = ys);
}

#[test]
fn logistic() {
    check(
        |e| logistic_model(Y0_REAL, &YS_REAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, s) = (r.real(), r.positive());
            let d: Logistic = Logistic::new(mu, s);
            let latent: Vec<f64> = (0..4).map(|_| r.real()).collect();
            Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(s)
                + score(&d, latent)
                + d.ln_pdf(Y0_REAL)
                + score(&d, YS_REAL)
                + r.finish()
        },
    );
}

#[model]
fn gumbel_model(y0: f64, ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let b = sample!("b", Exponential::new(1.0));
    sample!("x", Gumbel::new(mu, b));
    sample!("xs", Gumbel::new(mu, b).iid(3));
    sample!("y0", Gumbel::new(mu, b), obs = y0);
    sample!("ys", Gumbel::new(mu, b).iid(ys.len()), obs = ys);
}

#[test]
fn gumbel() {
    check(
        |e| gumbel_model(Y0_REAL, &YS_REAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, b) = (r.real(), r.positive());
            let d: Gumbel = Gumbel::new(mu, b);
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

/// The minimum is a parameter below every datum (`x_m < 0.04 < 0.05`), so the support
/// of the latent sites moves with it.
#[model]
fn pareto_model(y0: f64, ys: &[f64]) {
    let xm = sample!("u", Beta::new(2.0, 2.0)) * 0.04;
    let alpha = sample!("alpha", Exponential::new(1.0));
    sample!("x", Pareto::new(xm, alpha));
    sample!("xs", Pareto::new(xm, alpha).iid(3));
    sample!("y0", Pareto::new(xm, alpha), obs = y0);
    sample!("ys", Pareto::new(xm, alpha).iid(ys.len()), obs = ys);
}

#[test]
fn pareto() {
    check(
        |e| pareto_model(Y0_POS, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (w, alpha) = (r.unit(), r.positive());
            let xm = w * 0.04;
            let d: Pareto = Pareto::new(xm, alpha);
            let latent: Vec<f64> = (0..4).map(|_| r.greater_than(xm)).collect();
            Beta::new(2.0, 2.0).ln_pdf(w)
                + Exponential::new(1.0).ln_pdf(alpha)
                + score(&d, latent)
                + d.ln_pdf(Y0_POS)
                + score(&d, YS_POS)
                + r.finish()
        },
    );
}

/// Concentrations on both sides of the switch from the power series to the asymptotic
/// expansion at κ = 20 (`10κ + 15 ∈ [17, 60]`); the support moves with `μ`.
#[model]
fn von_mises_model(y0: f64, ys: &[f64]) {
    let mu = sample!("m", Normal::new(0.0, 1.0)) * 0.3;
    let kappa = sample!("kappa", Exponential::new(0.5));
    let big = kappa * 10.0 + 15.0;
    sample!("x", VonMises::new(mu, kappa));
    sample!("xs", VonMises::new(mu, kappa).iid(3));
    sample!("xs_big", VonMises::new(mu, big).iid(2));
    sample!("y0", VonMises::new(mu, kappa), obs = y0);
    sample!("ys", VonMises::new(mu, kappa).iid(ys.len()), obs = ys);
    sample!("ys_big", VonMises::new(mu, big).iid(ys.len()), obs = ys);
}

#[test]
fn von_mises() {
    use std::f64::consts::PI;
    check(
        |e| von_mises_model(Y0_ANGLE, &YS_ANGLE).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (m, kappa) = (r.real(), r.positive());
            let mu = m * 0.3;
            let d: VonMises = VonMises::new(mu, kappa);
            let big: VonMises = VonMises::new(mu, kappa * 10.0 + 15.0);
            let latent: Vec<f64> = (0..4).map(|_| r.interval(mu - PI, mu + PI)).collect();
            let latent_big: Vec<f64> = (0..2).map(|_| r.interval(mu - PI, mu + PI)).collect();
            Normal::new(0.0, 1.0).ln_pdf(m)
                + Exponential::new(0.5).ln_pdf(kappa)
                + score(&d, latent)
                + score(&big, latent_big)
                + d.ln_pdf(Y0_ANGLE)
                + score(&d, YS_ANGLE)
                + score(&big, YS_ANGLE)
                + r.finish()
        },
    );
}

/// Shapes up to ±6, where `α z` reaches the asymptotic branch of `ln Φ` below -28.
#[model]
fn skew_normal_model(y0: f64, ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let omega = sample!("omega", Exponential::new(1.0));
    let alpha = sample!("a", Normal::new(0.0, 1.0)) * 4.0;
    sample!("x", SkewNormal::new(mu, omega, alpha));
    sample!("xs", SkewNormal::new(mu, omega, alpha).iid(3));
    sample!("y0", SkewNormal::new(mu, omega, alpha), obs = y0);
    sample!(
        "ys",
        SkewNormal::new(mu, omega, alpha).iid(ys.len()),
        obs = ys
    );
}

#[test]
fn skew_normal() {
    check(
        |e| skew_normal_model(Y0_REAL, &YS_REAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, omega, a) = (r.real(), r.positive(), r.real());
            let d: SkewNormal = SkewNormal::new(mu, omega, a * 4.0);
            let latent: Vec<f64> = (0..4).map(|_| r.real()).collect();
            Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(omega)
                + Normal::new(0.0, 1.0).ln_pdf(a)
                + score(&d, latent)
                + d.ln_pdf(Y0_REAL)
                + score(&d, YS_REAL)
                + r.finish()
        },
    );
}

/// The truncated normal with parameter bounds around the median (the central form of
/// the log-mass), in the upper tail (`[μ + σ, μ + 4σ]`, by `ln_ccdf`) and in the lower
/// tail (`[μ - 4σ, μ - σ]`, by `ln_cdf`), and the other families with a `Cdf`, latent on
/// half-lines and intervals and observed on intervals that hold the data.
#[model]
fn truncated_model(y0: f64, ys: &[f64], ys_pos: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let sigma = sample!("sigma", Exponential::new(1.0));
    let low = sample!("a", Normal::new(0.0, 1.0)) - 3.0;
    let high = sample!("b", Normal::new(0.0, 1.0)) + 3.0;
    let rate = sample!("rate", Exponential::new(1.0));
    let k = sample!("k", Exponential::new(1.0));
    sample!("x", TruncatedNormal::new(mu, sigma, low, high));
    sample!("xs", TruncatedNormal::new(mu, sigma, low, high).iid(3));
    sample!("y0", TruncatedNormal::new(mu, sigma, low, high), obs = y0);
    sample!(
        "ys",
        TruncatedNormal::new(mu, sigma, low, high).iid(ys.len()),
        obs = ys
    );
    let normal = Normal::new(mu, sigma);
    sample!("upper", normal.truncated(mu + sigma, mu + sigma * 4.0));
    sample!(
        "lower",
        normal.truncated(mu - sigma * 4.0, mu - sigma).iid(2)
    );
    sample!("tail", normal.truncated(high, f64::INFINITY));
    sample!("e", Exponential::new(rate).truncated(high, f64::INFINITY));
    let weibull = Weibull::new(k, sigma).truncated(0.01, high + 4.0);
    sample!("w", weibull);
    sample!("ws", weibull.iid(ys_pos.len()), obs = ys_pos);
    let exponential = Exponential::new(rate).truncated(f64::NEG_INFINITY, high + 4.0);
    sample!("es", exponential.iid(ys_pos.len()), obs = ys_pos);
    sample!("l", Logistic::new(mu, sigma).truncated(low, f64::INFINITY));
    sample!(
        "ls",
        Logistic::new(mu, sigma).truncated(low, high).iid(ys.len()),
        obs = ys
    );
    sample!(
        "c",
        Cauchy::new(mu, sigma).truncated(f64::NEG_INFINITY, high)
    );
    sample!(
        "cs",
        Cauchy::new(mu, sigma).truncated(low, high).iid(ys.len()),
        obs = ys
    );
    sample!("g", Gumbel::new(mu, sigma).truncated(low, high));
    sample!(
        "gs",
        Gumbel::new(mu, sigma).truncated(low, high).iid(ys.len()),
        obs = ys
    );
}

#[test]
fn truncated() {
    check(
        |e| truncated_model(Y0_INNER, &YS_INNER, &YS_POS).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (mu, sigma, a, b, rate, k) = (
                r.real(),
                r.positive(),
                r.real(),
                r.real(),
                r.positive(),
                r.positive(),
            );
            let (low, high) = (a - 3.0, b + 3.0);
            let d: TruncatedNormal = TruncatedNormal::new(mu, sigma, low, high);
            let latent: Vec<f64> = (0..4).map(|_| r.interval(low, high)).collect();
            let normal: Normal = Normal::new(mu, sigma);
            let upper = normal.truncated(mu + sigma, mu + sigma * 4.0);
            let x_upper = r.interval(mu + sigma, mu + sigma * 4.0);
            let lower = normal.truncated(mu - sigma * 4.0, mu - sigma);
            let xs_lower: Vec<f64> = (0..2)
                .map(|_| r.interval(mu - sigma * 4.0, mu - sigma))
                .collect();
            let tail = normal.truncated(high, f64::INFINITY);
            let x_tail = r.greater_than(high);
            let exp: Exponential = Exponential::new(rate);
            let x_e = r.greater_than(high);
            let weibull = Weibull::new(k, sigma).truncated(0.01, high + 4.0);
            let x_w = r.interval(0.01, high + 4.0);
            let exponential = exp.truncated(f64::NEG_INFINITY, high + 4.0);
            let logistic: Logistic = Logistic::new(mu, sigma);
            let x_l = r.greater_than(low);
            let cauchy: Cauchy = Cauchy::new(mu, sigma);
            let x_c = r.less_than(high);
            let gumbel: Gumbel = Gumbel::new(mu, sigma);
            let x_g = r.interval(low, high);
            Normal::new(0.0, 1.0).ln_pdf(mu)
                + Exponential::new(1.0).ln_pdf(sigma)
                + Normal::new(0.0, 1.0).ln_pdf(a)
                + Normal::new(0.0, 1.0).ln_pdf(b)
                + Exponential::new(1.0).ln_pdf(rate)
                + Exponential::new(1.0).ln_pdf(k)
                + score(&d, latent)
                + d.ln_pdf(Y0_INNER)
                + score(&d, YS_INNER)
                + upper.ln_pdf(x_upper)
                + score(&lower, xs_lower)
                + tail.ln_pdf(x_tail)
                + exp.truncated(high, f64::INFINITY).ln_pdf(x_e)
                + weibull.ln_pdf(x_w)
                + score(&weibull, YS_POS)
                + score(&exponential, YS_POS)
                + logistic.truncated(low, f64::INFINITY).ln_pdf(x_l)
                + score(&logistic.truncated(low, high), YS_INNER)
                + cauchy.truncated(f64::NEG_INFINITY, high).ln_pdf(x_c)
                + score(&cauchy.truncated(low, high), YS_INNER)
                + gumbel.truncated(low, high).ln_pdf(x_g)
                + score(&gumbel.truncated(low, high), YS_INNER)
                + r.finish()
        },
    );
}

/// Both parameterisations; the dispersion reaches 20 and the mean 90 at the far points.
#[model]
fn negative_binomial_model(ks: &[u64]) {
    let mean = sample!("mean", Exponential::new(0.2));
    let phi = sample!("phi", Exponential::new(0.2));
    let r = sample!("r", Exponential::new(1.0));
    let p = sample!("p", Beta::new(2.0, 2.0));
    sample!("k0", NegativeBinomial::new(mean, phi), obs = 0);
    sample!("k1", NegativeBinomial::new(mean, phi), obs = 5);
    sample!(
        "ks",
        NegativeBinomial::new(mean, phi).iid(ks.len()),
        obs = ks
    );
    sample!("k0_probs", NegativeBinomial::probs(r, p), obs = 0);
    sample!("k1_probs", NegativeBinomial::probs(r, p), obs = 5);
    sample!(
        "ks_probs",
        NegativeBinomial::probs(r, p).iid(ks.len()),
        obs = ks
    );
}

#[test]
fn negative_binomial() {
    check(
        |e| negative_binomial_model(&KS_POISSON).with_engine(e),
        |u| {
            let mut rd = Reader::new(u);
            let (mean, phi, r, p) = (rd.positive(), rd.positive(), rd.positive(), rd.unit());
            let d: NegativeBinomial = NegativeBinomial::new(mean, phi);
            let e: NegativeBinomial = NegativeBinomial::probs(r, p);
            let ks = KS_POISSON.map(|k| k as f64);
            Exponential::new(0.2).ln_pdf(mean)
                + Exponential::new(0.2).ln_pdf(phi)
                + Exponential::new(1.0).ln_pdf(r)
                + Beta::new(2.0, 2.0).ln_pdf(p)
                + score(&d, [0.0, 5.0])
                + score(&d, ks)
                + score(&e, [0.0, 5.0])
                + score(&e, ks)
                + rd.finish()
        },
    );
}

#[model]
fn beta_binomial_model(n: u64, ks: &[u64]) {
    let a = sample!("a", Exponential::new(1.0));
    let b = sample!("b", Exponential::new(1.0));
    sample!("k0", BetaBinomial::new(n, a, b), obs = 4);
    sample!("k1", BetaBinomial::new(n, a, b), obs = n);
    sample!("ks", BetaBinomial::new(n, a, b).iid(ks.len()), obs = ks);
    // n ≥ 64 takes the log-gamma and digamma differences
    sample!("k_big", BetaBinomial::new(100, a, b), obs = 37);
}

#[test]
fn beta_binomial() {
    check(
        |e| beta_binomial_model(TRIALS, &KS_BINOMIAL).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (a, b) = (r.positive(), r.positive());
            let d: BetaBinomial = BetaBinomial::new(TRIALS, a, b);
            let ks = KS_BINOMIAL.map(|k| k as f64);
            Exponential::new(1.0).ln_pdf(a)
                + Exponential::new(1.0).ln_pdf(b)
                + score(&d, [4.0, TRIALS as f64])
                + score(&d, ks)
                + BetaBinomial::new(100, a, b).ln_pdf(37.0)
                + r.finish()
        },
    );
}

#[model]
fn geometric_model(ks: &[u64]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    sample!("k0", Geometric::new(p), obs = 0);
    sample!("k1", Geometric::new(p), obs = 5);
    sample!("ks", Geometric::new(p).iid(ks.len()), obs = ks);
}

#[test]
fn geometric() {
    check(
        |e| geometric_model(&KS_POISSON).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let p = r.unit();
            let d: Geometric = Geometric::new(p);
            let ks = KS_POISSON.map(|k| k as f64);
            Beta::new(2.0, 2.0).ln_pdf(p) + score(&d, [0.0, 5.0]) + score(&d, ks) + r.finish()
        },
    );
}

#[model]
fn zero_inflated_poisson_model(ks: &[u64]) {
    let pi = sample!("pi", Beta::new(2.0, 2.0));
    let rate = sample!("rate", Exponential::new(0.5));
    sample!("k0", ZeroInflatedPoisson::new(pi, rate), obs = 0);
    sample!("k1", ZeroInflatedPoisson::new(pi, rate), obs = 5);
    sample!(
        "ks",
        ZeroInflatedPoisson::new(pi, rate).iid(ks.len()),
        obs = ks
    );
}

#[test]
fn zero_inflated_poisson() {
    check(
        |e| zero_inflated_poisson_model(&KS_POISSON).with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let (pi, rate) = (r.unit(), r.positive());
            let d: ZeroInflatedPoisson = ZeroInflatedPoisson::new(pi, rate);
            let ks = KS_POISSON.map(|k| k as f64);
            Beta::new(2.0, 2.0).ln_pdf(pi)
                + Exponential::new(0.5).ln_pdf(rate)
                + score(&d, [0.0, 5.0])
                + score(&d, ks)
                + r.finish()
        },
    );
}

/// Every `Flat` support, with bounds that are parameters: the log-density is the
/// bijectors' log-Jacobians and nothing else. The point mass observed at its value
/// adds 0.
#[model]
fn flat_model() {
    let alpha1 = sample!("alpha1", Uniform::new(0.0, 1.0));
    sample!("beta1", Flat::interval(0.0, 1.0 - alpha1));
    sample!("free", Flat::new());
    sample!("pos", Flat::positive().iid(2));
    sample!("above", Flat::greater_than(alpha1));
    sample!("below", Flat::less_than(-alpha1));
    sample!("n", Delta::new(3.0), obs = 3);
    sample!("ns", Delta::new(0.5).iid(2), obs = [0.5, 0.5]);
}

#[test]
fn flat() {
    check(
        |e| flat_model().with_engine(e),
        |u| {
            let mut r = Reader::new(u);
            let alpha1 = r.unit();
            r.interval(0.0, 1.0 - alpha1);
            r.real();
            r.positive();
            r.positive();
            r.greater_than(alpha1);
            r.less_than(-alpha1);
            Uniform::new(0.0, 1.0).ln_pdf(alpha1) + r.finish()
        },
    );
}

/// Stan's garch11 `real<lower=0, upper=1-alpha1> beta1;` as a flat density on an
/// interval with a parameter bound: the target is `alpha1`'s terms plus the interval
/// transform's log-Jacobian `ln(1 - α₁) + ln σ(y) + ln(1 - σ(y))`, written out here.
#[model]
fn garch_bounds_model() {
    let alpha1 = sample!("alpha1", Uniform::new(0.0, 1.0));
    let beta1 = sample!("beta1", Flat::interval(0.0, 1.0 - alpha1));
    deterministic!("persistence", alpha1 + beta1);
}

#[test]
fn flat_interval_adds_only_the_jacobian() {
    let sigmoid = |y: f64| 1.0 / (1.0 + (-y).exp());
    let model = garch_bounds_model();
    assert_eq!(model.dim(), 2);
    for seed in [5, 6, 7, 8] {
        let u = point(2, seed);
        let alpha1 = sigmoid(u[0]);
        // Uniform(0, 1) has ln f = 0; its interval (0, 1) transform adds ln σ + ln(1 - σ)
        let alpha1_terms = sigmoid(u[0]).ln() + (1.0 - sigmoid(u[0])).ln();
        let beta1_jacobian = (1.0 - alpha1).ln() + sigmoid(u[1]).ln() + (1.0 - sigmoid(u[1])).ln();
        let want = alpha1_terms + beta1_jacobian;
        let got = model.logp(&u);
        assert!(
            (got - want).abs() <= 1e-14 * want.abs().max(1.0),
            "seed {seed}: logp {got} vs {want}"
        );
        let draw = model.constrain(&u);
        let beta1 = draw.get("beta1").unwrap();
        assert!(beta1 > 0.0 && beta1 < 1.0 - alpha1);
        assert!((beta1 - (1.0 - alpha1) * sigmoid(u[1])).abs() < 1e-15);
    }
    check_engines_and_gradients(
        &garch_bounds_model().with_engine(Engine::Forward),
        &garch_bounds_model().with_engine(Engine::Reverse),
        &SEEDS,
    );
}

/// The point mass: 0 at its value, `-∞` elsewhere, whatever the engine.
#[model]
fn delta_model(n: f64) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    sample!("n", Delta::new(3.0), obs = n);
    sample!("y", Normal::new(mu, 1.0), obs = 0.5);
}

#[test]
fn delta() {
    let x = [0.3];
    let want = Normal::new(0.0, 1.0).ln_pdf(0.3) + Normal::new(0.3, 1.0).ln_pdf(0.5);
    for engine in [Engine::Forward, Engine::Reverse] {
        let model = delta_model(3.0).with_engine(engine);
        let mut grad = [0.0];
        let lp = model.logp_and_grad(&x, &mut grad);
        assert!((lp - want).abs() < 1e-15, "{lp} vs {want}");
        assert!((grad[0] - (-0.3 + 0.2)).abs() < 1e-15, "{grad:?}");
        assert_eq!(
            delta_model(2.0).with_engine(engine).logp(&x),
            f64::NEG_INFINITY
        );
    }
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
