//! What a latent `sample!` accepts ([`Latent`]): continuous distributions, `.iid(n)`
//! and `.ordered()` of them, `Normal::each`, vector distributions and scalar discrete
//! distributions (whose values are [`DiscreteValue`]s).

use rand::Rng;

use super::{Ctx, Latent, Stop};
use crate::bijectors::{Bijector, VectorBijector};
use crate::distributions::NormalEach;
use crate::distributions::{Continuous, Distribution, Iid, Ordered};
use crate::error::{Error, Result};
use crate::layout::{Shape, SiteKind};
use crate::real::Real;
use crate::support::Support;
use crate::vector::VectorExpr;

#[inline]
fn bijector_of<D: Distribution>(dist: &D) -> Bijector<D::Scalar> {
    dist.support().bijector().unwrap_or(Bijector::Identity)
}

impl<D: Continuous> Latent for D {
    type Scalar = D::Scalar;
    type Value<'x> = D::Scalar;

    #[inline]
    fn sample<'x>(
        self,
        ctx: &mut Ctx<'x, D::Scalar>,
        name: &dyn Fn() -> String,
    ) -> Result<D::Scalar, Stop> {
        let (offset, ys) = ctx.read(1, name)?;
        let bijector = bijector_of(&self);
        let y = match ctx.prior_value(&self, &bijector, 0) {
            Some(y) => y,
            None => ys[0],
        };
        let (value, ln_jac) = bijector.forward_and_ln_jac(y);
        let lp = self.ln_pdf(value);
        ctx.add(lp);
        ctx.add_jacobian(ln_jac);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            let support = Some(self.support().to_f64());
            let (v, l, j) = (value.value(), lp.value(), ln_jac.value());
            trace.record(
                name,
                SiteKind::Latent,
                Shape::Scalar,
                support,
                Some((offset, 1)),
                &[v],
                l,
                j,
            );
        }
        Ok(value)
    }
}

impl<D: Continuous> Latent for Iid<D> {
    type Scalar = D::Scalar;
    type Value<'x> = &'x [D::Scalar];

    #[inline]
    fn sample<'x>(
        self,
        ctx: &mut Ctx<'x, D::Scalar>,
        name: &dyn Fn() -> String,
    ) -> Result<&'x [D::Scalar], Stop> {
        let n = self.len();
        let (offset, ys) = ctx.read(n, name)?;
        let out = ctx.take_work(n, name)?;
        let dist = self.dist();
        let bijector = bijector_of(dist);
        let mut ln_jac = D::Scalar::from(0.0);
        if bijector == Bijector::Identity {
            for (k, (slot, &y)) in out.iter_mut().zip(ys).enumerate() {
                *slot = ctx.prior_value(dist, &bijector, k).unwrap_or(y);
            }
        } else {
            for (k, (slot, &y)) in out.iter_mut().zip(ys).enumerate() {
                let y = ctx.prior_value(dist, &bijector, k).unwrap_or(y);
                let (value, j) = bijector.forward_and_ln_jac(y);
                *slot = value;
                ln_jac += j;
            }
        }
        let lp = dist.ln_pdf_sum(out);
        ctx.add(lp);
        ctx.add_jacobian(ln_jac);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            let support = dist.support().to_f64();
            let (l, j) = (lp.value(), ln_jac.value());
            trace.record_latent(name, Shape::Vector(n), support, (offset, n), out, l, j);
        }
        Ok(out)
    }
}

impl<D: Continuous> Latent for Ordered<D> {
    type Scalar = D::Scalar;
    type Value<'x> = &'x [D::Scalar];

    fn sample<'x>(
        self,
        ctx: &mut Ctx<'x, D::Scalar>,
        name: &dyn Fn() -> String,
    ) -> Result<&'x [D::Scalar], Stop> {
        let (dist, n) = (self.iid().dist(), self.iid().len());
        let (bijector, support) = if self.is_positive() {
            (VectorBijector::PositiveOrdered, Support::PositiveOrdered)
        } else {
            (VectorBijector::Ordered, Support::Ordered)
        };
        let mut draw = |rng: &mut dyn Rng| {
            let mut x: Vec<f64> = (0..n)
                .map(|_| rand::distr::Distribution::sample(dist, rng))
                .collect();
            x.sort_by(f64::total_cmp);
            x
        };
        let (offset, values, ln_jac) = ctx.vector_latent(n, bijector, name, &mut draw)?;
        let lp = dist.ln_pdf_sum(values);
        ctx.add(lp);
        ctx.add_jacobian(ln_jac);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            let m = bijector.unconstrained_len(n);
            trace.record_latent(
                name,
                Shape::Vector(n),
                support,
                (offset, m),
                values,
                lp.value(),
                ln_jac.value(),
            );
        }
        Ok(values)
    }
}

/// `Normal::each(loc, scale)` as a latent site: a vector of independent normals whose
/// length the parameters fix, on the real line (no bijector).
impl<T: Real, L: VectorExpr<T>, S: VectorExpr<T>> Latent for NormalEach<T, L, S> {
    type Scalar = T;
    type Value<'x> = &'x [T];

    fn sample<'x>(self, ctx: &mut Ctx<'x, T>, name: &dyn Fn() -> String) -> Result<&'x [T], Stop> {
        let n = match self.len() {
            Ok(Some(n)) => n,
            Ok(None) => {
                return Err(Stop::fault(Error::SiteLength {
                    site: name(),
                    reason: "`Normal::each` with a scalar location and scale has no length; \
                             write `Normal::new(loc, scale).iid(n)`"
                        .into(),
                }));
            }
            Err((a, b)) => {
                return Err(Stop::fault(Error::SiteLength {
                    site: name(),
                    reason: format!(
                        "`Normal::each` has a location of length {a} and a scale of length {b}; \
                         make the lengths agree"
                    ),
                }));
            }
        };
        let mut draw = |rng: &mut dyn Rng| self.draw(n, rng);
        let (offset, values, ln_jac) =
            ctx.vector_latent(n, VectorBijector::Identity, name, &mut draw)?;
        let lp = self.ln_pdf_params(values);
        ctx.add(lp);
        ctx.add_jacobian(ln_jac);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            trace.record_latent(
                name,
                Shape::Vector(n),
                Support::Real,
                (offset, n),
                values,
                lp.value(),
                ln_jac.value(),
            );
        }
        Ok(values)
    }
}

/// The typed value of a discrete latent site: `bool` for `Bernoulli`, `usize` for
/// `Categorical`, `u64` for counts.
pub trait DiscreteValue: Copy {
    /// The value of the integer `k` of the site's support.
    fn from_integer(k: u64) -> Self;
}

impl DiscreteValue for bool {
    #[inline]
    fn from_integer(k: u64) -> Self {
        k != 0
    }
}

impl DiscreteValue for usize {
    #[inline]
    fn from_integer(k: u64) -> Self {
        usize::try_from(k).unwrap_or(usize::MAX)
    }
}

impl DiscreteValue for u64 {
    #[inline]
    fn from_integer(k: u64) -> Self {
        k
    }
}

/// A discrete latent site: reads its value, an integer held as an `f64`, from the
/// parameter vector (no bijector, no Jacobian) and adds its log-mass. The coordinate is
/// a constant to the gradient engines. A value outside the support (not an integer,
/// out of range, not finite) makes the log-density `-∞` and reaches the body as 0
/// (`false`), which every support holds.
#[inline]
fn discrete_latent_site<T: Real, D: Distribution<Scalar = T>, V: DiscreteValue>(
    dist: &D,
    ctx: &mut Ctx<'_, T>,
    name: &dyn Fn() -> String,
) -> Result<V, Stop> {
    let (offset, ys) = ctx.read(1, name)?;
    let supplied = if ctx.prior.is_some() || ctx.fixed.is_some() {
        ctx.supplied(0, &mut |rng| rand::distr::Distribution::sample(dist, rng))
    } else {
        None
    };
    let value = match supplied {
        Some(v) => {
            if let Some(trace) = ctx.trace.as_deref_mut() {
                trace.unconstrained.push(v);
            }
            v
        }
        None => ys[0].value(),
    };
    let support = dist.support().to_f64();
    let is_valid = support.contains(value);
    let lp = if is_valid {
        dist.ln_pdf_obs(value)
    } else {
        T::from(f64::NEG_INFINITY)
    };
    ctx.add(lp);
    if let Some(trace) = ctx.trace.as_deref_mut() {
        trace.record(
            name,
            SiteKind::Latent,
            Shape::Scalar,
            Some(support),
            Some((offset, 1)),
            &[value],
            lp.value(),
            0.0,
        );
    }
    // `as` saturates; the value is a non-negative integer when valid
    Ok(V::from_integer(if is_valid { value as u64 } else { 0 }))
}

/// Implements [`Latent`] for scalar discrete distributions, with the typed value each
/// site returns.
macro_rules! discrete_sites {
    ($(impl<T $(, $p:ident: $b:path)*> for $ty:ty => $value:ty;)*) => {$(
        impl<T: Real $(, $p: $b)*> Latent for $ty {
            type Scalar = T;
            type Value<'x> = $value;

            #[inline]
            fn sample<'x>(self, ctx: &mut Ctx<'x, T>, name: &dyn Fn() -> String) -> Result<$value, Stop> {
                discrete_latent_site(&self, ctx, name)
            }
        }
    )*};
}

discrete_sites! {
    impl<T> for crate::distributions::Bernoulli<T> => bool;
    impl<T, P: VectorExpr<T>> for crate::distributions::Categorical<T, P> => usize;
    impl<T> for crate::distributions::Binomial<T> => u64;
    impl<T> for crate::distributions::BetaBinomial<T> => u64;
    impl<T> for crate::distributions::Poisson<T> => u64;
    impl<T> for crate::distributions::Geometric<T> => u64;
    impl<T> for crate::distributions::NegativeBinomial<T> => u64;
    impl<T> for crate::distributions::ZeroInflatedPoisson<T> => u64;
}
