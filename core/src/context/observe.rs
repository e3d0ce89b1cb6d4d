//! What an observed `sample!` accepts ([`Observe`]): scalar and vector distributions,
//! `.iid(n)`, `Glm` and `Normal::each`, each with its observation type.

use rand::Rng;

use super::{Ctx, Observe, Stop};
use crate::distributions::NormalEach;
use crate::distributions::{Distribution, Iid, ObsScalar, ObsVector};
use crate::error::{Error, Result};
use crate::glm::Glm;
use crate::layout::Shape;
use crate::real::Real;
use crate::support::Support;
use crate::vector::VectorExpr;

// `do_not_recommend`: an observation that is not data (a parameter `T`) reports
// `Observe`'s message, which says what `obs` takes, rather than a bound on `T` whose
// suggested fix is no valid code
#[diagnostic::do_not_recommend]
impl<D: Distribution, E: ObsScalar> Observe<E> for D {
    type Scalar = D::Scalar;

    #[inline]
    fn observe(
        self,
        ctx: &mut Ctx<'_, D::Scalar>,
        name: &dyn Fn() -> String,
        value: E,
    ) -> Result<(), Stop> {
        let support = || self.support().to_f64();
        let draw = |rng: &mut dyn Rng| vec![rand::distr::Distribution::sample(&self, rng)];
        if ctx.simulate_observed(name, Shape::Scalar, support, draw) {
            return Ok(());
        }
        let x = value.to_f64();
        let lp = self.ln_pdf_obs(x);
        ctx.add(lp);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            let support = self.support().to_f64();
            trace.observed(name, Shape::Scalar, support, &[x], lp.value(), || {
                vec![lp.value()]
            });
        }
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl<D: Distribution, V: ObsVector> Observe<V> for Iid<D> {
    type Scalar = D::Scalar;

    #[inline]
    fn observe(
        self,
        ctx: &mut Ctx<'_, D::Scalar>,
        name: &dyn Fn() -> String,
        value: V,
    ) -> Result<(), Stop> {
        let n = self.len();
        let support = || self.dist().support().to_f64();
        let draw = |rng: &mut dyn Rng| {
            (0..n)
                .map(|_| rand::distr::Distribution::sample(self.dist(), rng))
                .collect()
        };
        if ctx.simulate_observed(name, Shape::Vector(n), support, draw) {
            return Ok(());
        }
        if value.len() != n {
            let fault = Error::ObsLength {
                site: name(),
                expected: n,
                found: value.len(),
            };
            return ctx.length_fault(fault);
        }
        let dist = self.dist();
        let lp = dist.ln_pdf_obs_sum(&value);
        ctx.add(lp);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            let support = dist.support().to_f64();
            if !trace.records_observed() {
                trace.check_each(name, support, n, |i| value.get_f64(i));
                return Ok(());
            }
            let xs: Vec<f64> = (0..n).map(|i| value.get_f64(i)).collect();
            trace.observed(name, Shape::Vector(n), support, &xs, lp.value(), || {
                xs.iter().map(|&x| dist.ln_pdf_obs(x).value()).collect()
            });
        }
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl<T: Real, V: ObsVector> Observe<V> for Glm<'_, T> {
    type Scalar = T;

    #[inline]
    fn observe(
        self,
        ctx: &mut Ctx<'_, T>,
        name: &dyn Fn() -> String,
        value: V,
    ) -> Result<(), Stop> {
        let rows = self.rows();
        let shape = Shape::Vector(rows.unwrap_or(0));
        if ctx.simulate_observed(name, shape, || self.support(), |rng| self.draw(rng)) {
            return Ok(());
        }
        if rows != Some(value.len()) {
            let fault = Error::ObsLength {
                site: name(),
                expected: rows.unwrap_or(0),
                found: value.len(),
            };
            return ctx.length_fault(fault);
        }
        let lp = self.ln_pdf_obs(&value);
        ctx.add(lp);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            if !trace.records_observed() {
                trace.check_each(name, self.support(), value.len(), |i| value.get_f64(i));
                return Ok(());
            }
            let xs: Vec<f64> = (0..value.len()).map(|i| value.get_f64(i)).collect();
            trace.observed(
                name,
                Shape::Vector(xs.len()),
                self.support(),
                &xs,
                lp.value(),
                || self.ln_pdf_rows(&xs),
            );
        }
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl<T: Real, L: VectorExpr<T>, S: VectorExpr<T>, V: ObsVector> Observe<V> for NormalEach<T, L, S> {
    type Scalar = T;

    #[inline]
    fn observe(
        self,
        ctx: &mut Ctx<'_, T>,
        name: &dyn Fn() -> String,
        value: V,
    ) -> Result<(), Stop> {
        let m = match self.len() {
            Ok(Some(m)) => m,
            _ => value.len(),
        };
        if ctx.simulate_observed(
            name,
            Shape::Vector(m),
            || Support::Real,
            |rng| self.draw(m, rng),
        ) {
            return Ok(());
        }
        let n = value.len();
        match self.len() {
            Ok(None) => {}
            Ok(Some(m)) if m == n => {}
            Ok(Some(m)) | Err((m, _)) => {
                return ctx.length_fault(Error::ObsLength {
                    site: name(),
                    expected: m,
                    found: n,
                });
            }
        }
        let lp = self.ln_pdf_obs(&value);
        ctx.add(lp);
        if let Some(trace) = ctx.trace.as_deref_mut() {
            if !trace.records_observed() {
                trace.check_each(name, Support::Real, n, |i| value.get_f64(i));
                return Ok(());
            }
            let xs: Vec<f64> = (0..n).map(|i| value.get_f64(i)).collect();
            trace.observed(
                name,
                Shape::Vector(n),
                Support::Real,
                &xs,
                lp.value(),
                || self.ln_pdf_each(&xs),
            );
        }
        Ok(())
    }
}
