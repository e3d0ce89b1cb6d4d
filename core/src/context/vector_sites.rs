//! Sites of distributions over vectors ([`VectorDistribution`]s, and the only-observed
//! multinomial): one vector of `len()` values, latent or observed.

use rand::Rng;

use super::{Ctx, Latent, Observe, Stop};
use crate::distributions::{Dirichlet, ObsVector, VectorDistribution};
use crate::error::{Error, Result};
use crate::real::Real;
use crate::vector::VectorExpr;

/// Implements [`Latent`] and [`Observe`] (for vector observations) for distributions
/// over vectors that implement [`VectorDistribution`].
macro_rules! vector_sites {
    ($(impl<$($lt:lifetime,)? T $(, $p:ident: $b:path)*> for $ty:ty;)*) => {$(
        impl<$($lt,)? T: Real $(, $p: $b)*> Latent for $ty {
            type Scalar = T;
            type Value<'x> = &'x [T];

            fn sample<'x>(self, ctx: &mut Ctx<'x, T>, name: &dyn Fn() -> String) -> Result<&'x [T], Stop> {
                vector_latent_site(&self, ctx, name)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$($lt,)? T: Real $(, $p: $b)*, V: ObsVector> Observe<V> for $ty {
            type Scalar = T;

            fn observe(self, ctx: &mut Ctx<'_, T>, name: &dyn Fn() -> String, value: V) -> Result<(), Stop> {
                vector_observed_site(&self, ctx, name, &value)
            }
        }
    )*};
}

vector_sites! {
    impl<'a, T> for Dirichlet<'a, T>;
    impl<T, M: VectorExpr<T>, S: VectorExpr<T>> for crate::distributions::MultivariateNormal<T, M, S>;
    impl<T> for crate::distributions::GaussianRandomWalk<T>;
    impl<T> for crate::distributions::LkjCholesky<T>;
    impl<T, M: VectorExpr<T>, F: VectorExpr<T>, D: VectorExpr<T>> for crate::distributions::LowRankMultivariateNormal<T, M, F, D>;
    impl<T, S: VectorExpr<T>> for crate::distributions::Wishart<T, S>;
    impl<T, S: VectorExpr<T>> for crate::distributions::InverseWishart<T, S>;
}

/// A latent site of a [`VectorDistribution`].
fn vector_latent_site<'x, T: Real, D: VectorDistribution<Scalar = T>>(
    dist: &D,
    ctx: &mut Ctx<'x, T>,
    name: &dyn Fn() -> String,
) -> Result<&'x [T], Stop> {
    let n = dist.len();
    let bijector = dist.bijector();
    let mut draw = |rng: &mut dyn Rng| dist.draw(rng);
    let (offset, values, ln_jac) = ctx.vector_latent(n, bijector, name, &mut draw)?;
    let lp = dist.ln_pdf(values);
    ctx.add(lp);
    ctx.add_jacobian(ln_jac);
    if let Some(trace) = ctx.trace.as_deref_mut() {
        let m = bijector.unconstrained_len(n);
        trace.record_latent(
            name,
            dist.shape(),
            dist.support(),
            (offset, m),
            values,
            lp.value(),
            ln_jac.value(),
        );
    }
    Ok(values)
}

/// A multinomial is only observed: no [`Latent`] impl, so a latent `sample!` of it
/// does not compile.
#[diagnostic::do_not_recommend]
impl<T: Real, P: VectorExpr<T>, V: ObsVector> Observe<V>
    for crate::distributions::Multinomial<T, P>
{
    type Scalar = T;

    fn observe(
        self,
        ctx: &mut Ctx<'_, T>,
        name: &dyn Fn() -> String,
        value: V,
    ) -> Result<(), Stop> {
        vector_observed_site(&self, ctx, name, &value)
    }
}

/// An observed site of a [`VectorDistribution`]: one vector of `len()` values.
fn vector_observed_site<T: Real, D: VectorDistribution<Scalar = T>, V: ObsVector>(
    dist: &D,
    ctx: &mut Ctx<'_, T>,
    name: &dyn Fn() -> String,
    value: &V,
) -> Result<(), Stop> {
    let n = dist.len();
    if ctx.simulate_observed(name, dist.shape(), || dist.support(), |rng| dist.draw(rng)) {
        return Ok(());
    }
    if value.len() != n {
        return ctx.length_fault(Error::ObsLength {
            site: name(),
            expected: n,
            found: value.len(),
        });
    }
    let xs: Vec<f64> = (0..n).map(|i| value.get_f64(i)).collect();
    let lp = dist.ln_pdf_obs(&xs);
    ctx.add(lp);
    if let Some(trace) = ctx.trace.as_deref_mut() {
        let support = dist.support();
        trace.observed(name, dist.shape(), support, &xs, lp.value(), || {
            vec![lp.value()]
        });
    }
    Ok(())
}
