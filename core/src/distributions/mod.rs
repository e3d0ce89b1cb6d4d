//! Probability distributions, one family per file.
//!
//! Every distribution is a struct generic over the model's scalar `T: Real`, so that
//! gradients reach its parameters. Constructors are infallible and take `f64` or `T` in
//! any mix (`Normal::new(0.0, 5.0)`, `Normal::new(theta, sigma[i])`); parameters outside
//! their valid range make [`Distribution::ln_pdf`] return `-∞` instead of panicking. A
//! `try_new` twin checks them up front for callers outside a model.
//!
//! Outside a model the scalar is usually `f64`; name it once so inference has a type:
//! `let d: Normal = Normal::new(0.0, 1.0);`.

use std::cell::RefCell;

use rand::Rng;

use crate::real::Real;
use crate::support::Support;

/// The constructors, accessors and validity check every location-scale family shares:
/// `new` (never fails), `try_new` (checks `loc` finite and `scale` positive), `loc`,
/// `scale`, and `is_valid` for the log-density's parameter check.
macro_rules! loc_scale {
    ($ty:ident, $article:literal, loc: $loc_doc:literal, scale: $scale_doc:literal) => {
        impl<T: Real> $ty<T> {
            #[doc = concat!($article, " distribution; never fails (see the type's `# Parameters`).")]
            #[inline]
            pub fn new(loc: impl Into<T>, scale: impl Into<T>) -> Self {
                $ty {
                    loc: loc.into(),
                    scale: scale.into(),
                }
            }

            #[doc = concat!($article, " distribution whose parameters are checked.")]
            ///
            /// # Errors
            /// [`ParamError`] when `loc` is not finite or `scale` is not positive and finite.
            pub fn try_new(loc: impl Into<T>, scale: impl Into<T>) -> Result<Self, ParamError> {
                let d = Self::new(loc, scale);
                ParamError::check_finite("loc", d.loc)?;
                ParamError::check_positive("scale", d.scale)?;
                Ok(d)
            }

            #[doc = $loc_doc]
            pub fn loc(&self) -> T {
                self.loc
            }

            #[doc = $scale_doc]
            pub fn scale(&self) -> T {
                self.scale
            }

            #[inline]
            fn is_valid(&self) -> bool {
                is_pos(self.scale) && self.loc.is_finite()
            }
        }
    };
}

mod bernoulli;
mod beta;
mod beta_binomial;
mod binomial;
mod categorical;
mod cauchy;
mod delta;
mod dirichlet;
mod exponential;
mod flat;
mod gamma;
mod gaussian_random_walk;
mod geometric;
mod gumbel;
mod half_cauchy;
mod half_normal;
mod half_student_t;
mod iid;
mod inverse_gamma;
mod inverse_wishart;
mod laplace;
mod lkj_cholesky;
mod log_normal;
mod logistic;
mod low_rank_multivariate_normal;
mod mixture;
mod multinomial;
mod multivariate_normal;
mod negative_binomial;
mod normal;
mod pareto;
mod pointwise;
mod poisson;
mod skew_normal;
pub(crate) mod student_t;
mod truncated;
mod uniform;
mod von_mises;
mod weibull;
mod wishart;
mod zero_inflated_poisson;

pub use bernoulli::Bernoulli;
pub(crate) use bernoulli::ProbValues;
pub use beta::Beta;
pub use beta_binomial::BetaBinomial;
pub use binomial::Binomial;
pub use categorical::Categorical;
pub use cauchy::Cauchy;
pub(crate) use cauchy::{ln_1p_sq, ln_1p_sq_partials};
pub use delta::Delta;
pub use dirichlet::Dirichlet;
pub use exponential::Exponential;
pub use flat::Flat;
pub use gamma::Gamma;
pub use gaussian_random_walk::GaussianRandomWalk;
pub use geometric::Geometric;
pub use gumbel::Gumbel;
pub use half_cauchy::HalfCauchy;
pub use half_normal::HalfNormal;
pub use half_student_t::HalfStudentT;
pub use iid::{Iid, Ordered};
pub use inverse_gamma::InverseGamma;
pub use inverse_wishart::InverseWishart;
pub use laplace::Laplace;
pub use lkj_cholesky::LkjCholesky;
pub use log_normal::LogNormal;
pub use logistic::Logistic;
pub use low_rank_multivariate_normal::LowRankMultivariateNormal;
pub use mixture::Mixture;
pub use multinomial::Multinomial;
pub use multivariate_normal::MultivariateNormal;
pub use negative_binomial::NegativeBinomial;
pub use normal::{Normal, NormalEach};
pub use pareto::Pareto;
pub use poisson::Poisson;
pub(crate) use poisson::{bd0, stirlerr};
pub use skew_normal::SkewNormal;
pub use student_t::StudentT;
pub use truncated::{Cdf, Truncated, TruncatedNormal};
pub use uniform::Uniform;
pub use von_mises::VonMises;
pub use weibull::Weibull;
pub use wishart::Wishart;
pub use zero_inflated_poisson::ZeroInflatedPoisson;

/// A univariate distribution whose log-density is generic over the model's scalar.
///
/// `ln_pdf` includes every normalising constant, so values can be compared with other
/// libraries. For a discrete distribution it is the log-probability mass at `x`, which
/// must hold an integer in the support. Sampling goes through
/// [`rand::distr::Distribution<f64>`], using the parameters' values.
pub trait Distribution: rand::distr::Distribution<f64> {
    /// The scalar the parameters are held in (`f64`, a dual number, …).
    type Scalar: Real;

    /// The log-density (or log-mass) at `x`; `-∞` outside the support or when a
    /// parameter is outside its valid range.
    fn ln_pdf(&self, x: Self::Scalar) -> Self::Scalar;

    /// The log-density at an observed data value. The default converts `x` to the
    /// scalar; distributions may override it to skip work on constants.
    #[inline]
    fn ln_pdf_obs(&self, x: f64) -> Self::Scalar {
        self.ln_pdf(Self::Scalar::from(x))
    }

    /// The support, with bounds at the current parameter values.
    fn support(&self) -> Support<Self::Scalar>;

    /// `Σᵢ ln_pdf(xᵢ)`: the joint log-density of the values of an `.iid(n)` latent site.
    /// Distributions override it to record one node with analytic partials
    /// ([`Real::fused`]) instead of one per element.
    #[inline]
    fn ln_pdf_sum(&self, xs: &[Self::Scalar]) -> Self::Scalar {
        xs.iter().map(|&x| self.ln_pdf(x)).sum()
    }

    /// `Σᵢ ln_pdf_obs(yᵢ)`: the joint log-density of the data of an `.iid(n)` observed
    /// site, with the same role as [`ln_pdf_sum`](Self::ln_pdf_sum).
    #[inline]
    fn ln_pdf_obs_sum<V: ObsVector + ?Sized>(&self, ys: &V) -> Self::Scalar {
        (0..ys.len()).map(|i| self.ln_pdf_obs(ys.get_f64(i))).sum()
    }

    /// `n` independent draws from this distribution, as one vector-valued site.
    ///
    /// ```
    /// use tilde_core::{Distribution, Normal};
    ///
    /// let d: Normal = Normal::new(0.0, 1.0);
    /// let v = d.iid(3);
    /// assert_eq!(v.len(), 3);
    /// ```
    fn iid(self, n: usize) -> Iid<Self>
    where
        Self: Sized,
    {
        Iid::new(self, n)
    }
}

/// A distribution over vectors of a fixed length (Dirichlet, multivariate normal, …).
///
/// A latent `sample!` of it reads [`VectorBijector::unconstrained_len`](crate::bijectors::VectorBijector::unconstrained_len)(crate::bijectors::VectorBijector::unconstrained_len) values, maps
/// them through [`bijector`](Self::bijector) and returns a slice of [`len`](Self::len)
/// constrained values; an observed one (`obs = &y`) scores a slice of that length.
/// `context.rs` lists the types that are sites through its `vector_sites!` macro.
pub trait VectorDistribution {
    /// The model's scalar.
    type Scalar: Real;

    /// The length of the vectors.
    fn len(&self) -> usize;

    /// `true` for vectors of length 0.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of a value: a vector of [`len`](Self::len) by default; `K × K`
    /// matrices (stored row-major) for distributions over matrices, whose draws are then
    /// named `name[i,j]`.
    fn shape(&self) -> crate::layout::Shape {
        crate::layout::Shape::Vector(self.len())
    }

    /// The map from unconstrained values onto the support.
    fn bijector(&self) -> crate::bijectors::VectorBijector;

    /// The support, for layouts and messages.
    fn support(&self) -> Support<f64>;

    /// The log-density at `x` (length `len()`), with all normalising constants; one
    /// fused node where possible.
    fn ln_pdf(&self, x: &[Self::Scalar]) -> Self::Scalar;

    /// The log-density at data `x`.
    fn ln_pdf_obs(&self, x: &[f64]) -> Self::Scalar {
        let xs: Vec<Self::Scalar> = x.iter().map(|&v| Self::Scalar::from(v)).collect();
        self.ln_pdf(&xs)
    }

    /// One draw (NaNs for invalid parameters).
    fn draw(&self, rng: &mut dyn rand::Rng) -> Vec<f64>;
}

/// Marker for distributions over a continuum, which can be latent sites.
///
/// Discrete distributions (`Bernoulli`, `Binomial`, `Poisson`) have no unconstrained
/// form and can only be observed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a latent site",
    label = "not a latent site's distribution",
    note = "a latent `sample!` takes a continuous scalar distribution (`Normal::new(..)`), \
            `dist.iid(n)`, `dist.iid(n).ordered()`, `Normal::each(..)` or a vector \
            distribution (`Dirichlet`, `MultivariateNormal`, `LkjCholesky`, ...)",
    note = "a discrete distribution is observed (`sample!(\"name\", dist, obs = value)`); \
            a discrete latent variable is summed out by hand, with `factor!` and \
            `tilde::math::log_sum_exp`"
)]
pub trait Continuous: Distribution {}

/// An observation value for a scalar site: a float, an integer or a bool.
///
/// Count distributions accept integers and floats that hold an integer. A model
/// parameter (a `T`) is not an observation: its log-density is a `factor!`.
#[diagnostic::on_unimplemented(
    message = "`obs = ..` needs a number here, and `{Self}` is not one",
    label = "a scalar distribution observes one number of data (`f64`, an integer or `bool`)",
    note = "a value computed from parameters (the model's scalar `T`) is not data: add its \
            log-density with `factor!`, as Stan's `target +=`: \
            `factor!(\"err\", Normal::new(0.0, sigma).ln_pdf(err))`",
    note = "a slice of data is observed by `dist.iid(n)` (`obs = &y`)"
)]
pub trait ObsScalar: Copy {
    /// The value as `f64`.
    fn to_f64(self) -> f64;
}

macro_rules! obs_scalar {
    ($($t:ty),*) => {$(
        impl ObsScalar for $t {
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
obs_scalar!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl ObsScalar for bool {
    #[inline]
    fn to_f64(self) -> f64 {
        if self { 1.0 } else { 0.0 }
    }
}

/// Observation values for a vector site (`.iid(n)`): a slice, `Vec` or array of
/// [`ObsScalar`], or a reference to one.
pub trait ObsVector {
    /// The number of values.
    fn len(&self) -> usize;
    /// `true` when there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Value `i` as `f64`. `i` must be below `len()`.
    fn get_f64(&self, i: usize) -> f64;
}

impl<E: ObsScalar> ObsVector for [E] {
    #[inline]
    fn len(&self) -> usize {
        <[E]>::len(self)
    }
    #[inline]
    fn get_f64(&self, i: usize) -> f64 {
        self[i].to_f64()
    }
}

impl<E: ObsScalar> ObsVector for Vec<E> {
    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }
    #[inline]
    fn get_f64(&self, i: usize) -> f64 {
        self[i].to_f64()
    }
}

impl<E: ObsScalar, const N: usize> ObsVector for [E; N] {
    #[inline]
    fn len(&self) -> usize {
        N
    }
    #[inline]
    fn get_f64(&self, i: usize) -> f64 {
        self[i].to_f64()
    }
}

impl<V: ObsVector + ?Sized> ObsVector for &V {
    #[inline]
    fn len(&self) -> usize {
        (**self).len()
    }
    #[inline]
    fn get_f64(&self, i: usize) -> f64 {
        (**self).get_f64(i)
    }
}

/// Draws one value and returns NaN when the parameters are invalid, shared by the
/// `rand` implementations of the distributions that wrap `rand_distr`.
pub(crate) fn sample_or_nan<D, R>(dist: Result<D, impl std::fmt::Debug>, rng: &mut R) -> f64
where
    D: rand::distr::Distribution<f64>,
    R: Rng + ?Sized,
{
    match dist {
        Ok(d) => d.sample(rng),
        Err(_) => f64::NAN,
    }
}

std::thread_local! {
    /// The values of a latent factor as `f64`.
    static VALUES: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Frees the scratch buffers of the distributions on this thread; returns their bytes.
pub(crate) fn release_scratch() -> usize {
    use crate::context::release_buffer;
    release_buffer(&VALUES)
        + release_buffer(&normal::EACH_PARTIALS)
        + release_buffer(&categorical::CATEGORICAL_PARTIALS)
        + release_buffer(&multinomial::MULTINOMIAL_PARTIALS)
        + release_buffer(&low_rank_multivariate_normal::LOW_RANK_WORK)
        + release_buffer(&wishart::WISHART_WORK)
        + multivariate_normal::release_scratch()
        + crate::hmm::release_scratch()
}

/// The bytes the distributions' scratch buffers hold on this thread.
pub(crate) fn scratch_bytes() -> usize {
    use crate::context::buffer_bytes;
    buffer_bytes(&VALUES)
        + buffer_bytes(&normal::EACH_PARTIALS)
        + buffer_bytes(&categorical::CATEGORICAL_PARTIALS)
        + buffer_bytes(&multinomial::MULTINOMIAL_PARTIALS)
        + buffer_bytes(&low_rank_multivariate_normal::LOW_RANK_WORK)
        + buffer_bytes(&wishart::WISHART_WORK)
        + multivariate_normal::scratch_bytes()
        + crate::hmm::scratch_bytes()
}

/// Runs `f` on the values of `x` as `f64`, in a reused thread-local buffer.
pub(crate) fn with_values<T: Real, R>(x: &[T], f: impl FnOnce(&[f64]) -> R) -> R {
    crate::context::with_scratch(&VALUES, x.len(), 0.0, |values| {
        for (v, xi) in values.iter_mut().zip(x) {
            *v = xi.value();
        }
        f(values)
    })
}

/// `ln √(2π)`.
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// `-∞` in the scalar type.
#[inline]
pub(crate) fn neg_inf<T: Real>() -> T {
    T::from(f64::NEG_INFINITY)
}

/// `true` when `v` is finite and strictly positive (false for NaN).
#[inline]
pub(crate) fn is_pos<T: Real>(v: T) -> bool {
    v > 0.0 && v.is_finite()
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Shared checks for the distribution tests.
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    /// Sample mean and variance of `n` draws with a fixed seed.
    pub fn moments<D: rand::distr::Distribution<f64>>(d: &D, n: usize, seed: u64) -> (f64, f64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (mean, var)
    }

    /// Checks sample moments against the distribution's mean and variance.
    ///
    /// The mean is within 4 standard errors `√(var/n)`; the variance within 4 standard
    /// errors `√((μ₄ - σ⁴)/n)`, with the fourth central moment `mu4` supplied.
    pub fn check_moments<D: rand::distr::Distribution<f64>>(
        d: &D,
        mean: f64,
        var: f64,
        mu4: f64,
        seed: u64,
    ) {
        let n = 200_000;
        let (m, v) = moments(d, n, seed);
        let se_mean = (var / n as f64).sqrt();
        let se_var = ((mu4 - var * var) / n as f64).sqrt();
        assert!(
            (m - mean).abs() < 4.0 * se_mean,
            "mean {m} vs {mean} (se {se_mean})"
        );
        assert!(
            (v - var).abs() < 4.0 * se_var,
            "variance {v} vs {var} (se {se_var})"
        );
    }

    /// The fourth central moment from the raw moments `[E X, E X², E X³, E X⁴]`.
    pub fn central_fourth(raw: [f64; 4]) -> f64 {
        let [m1, m2, m3, m4] = raw;
        m4 - 4.0 * m1 * m3 + 6.0 * m1 * m1 * m2 - 3.0 * m1.powi(4)
    }

    /// Checks sample quantiles of a distribution that may lack moments.
    ///
    /// For each `(q, p)` with `P(X ≤ q) = p`, the number of `n` draws at or below `q` is
    /// Binomial(n, p); it must lie within 4 of its standard deviations `√(n p (1 - p))`
    /// of `n p` (a two-sided normal tail probability of about 6e-5 per check).
    pub fn check_quantiles<D: rand::distr::Distribution<f64>>(
        d: &D,
        quantiles: &[(f64, f64)],
        seed: u64,
    ) {
        let n = 200_000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        for &(q, p) in quantiles {
            let count = xs.iter().filter(|&&x| x <= q).count() as f64;
            let expected = n as f64 * p;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (count - expected).abs() < 4.0 * sd,
                "P(X <= {q}): {count} of {n} draws, expected {expected} (sd {sd})"
            );
        }
    }
}
