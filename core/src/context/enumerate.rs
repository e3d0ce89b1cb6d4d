//! Enumerated sites (`sample!("z", dist, enumerate)`): the site summed out over its
//! finite support by running the rest of its block once per value, and its values
//! drawn afterwards from their conditional ([`infer_discrete`]).

use rand::Rng;

use super::evaluate::{Mode, traced_run};
use super::{Ctx, DiscreteValue, Stop, Trace};
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::layout::{Shape, SiteKind};
use crate::model::{Draw, ModelBody};
use crate::real::Real;
use crate::support::Support;
use crate::vector::VectorExpr;

/// A discrete distribution with a finite support, which `sample!("z", dist, enumerate)`
/// sums out: `Bernoulli` (values `false`, `true`), `Categorical` (`0..K`), `Binomial`
/// and `BetaBinomial` (`0..=n`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be enumerated: its support is not finite",
    label = "`enumerate` sums a site out over every value of its support",
    note = "`Bernoulli`, `Categorical`, `Binomial` and `BetaBinomial` have finite supports and can be enumerated",
    note = "sample a count with an unbounded support (`Poisson`, `Geometric`, ...) with `DiscreteHmcGibbs::new(Nuts::default())` or `MixedHmc`: drop `enumerate`"
)]
pub trait Enumerable: Distribution {
    /// The typed value the enumerated site gives its region.
    type Value: DiscreteValue;
}

macro_rules! enumerable {
    ($(impl<T $(, $p:ident: $b:path)*> for $ty:ty => $value:ty;)*) => {$(
        impl<T: Real $(, $p: $b)*> Enumerable for $ty {
            type Value = $value;
        }
    )*};
}

enumerable! {
    impl<T> for crate::distributions::Bernoulli<T> => bool;
    impl<T, P: VectorExpr<T>> for crate::distributions::Categorical<T, P> => usize;
    impl<T> for crate::distributions::Binomial<T> => u64;
    impl<T> for crate::distributions::BetaBinomial<T> => u64;
}

/// How many branches an enumerated site sums without allocating.
const INLINE_BRANCHES: usize = 16;

/// An index drawn with probabilities `∝ exp(log_weights[k])`; `None` when no weight
/// is positive and finite.
fn draw_branch(log_weights: &[f64], rng: &mut dyn Rng) -> Option<usize> {
    let max = log_weights
        .iter()
        .copied()
        .filter(|w| !w.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return None;
    }
    let weights: Vec<f64> = log_weights
        .iter()
        .map(|&w| if w.is_nan() { 0.0 } else { (w - max).exp() })
        .collect();
    let total: f64 = weights.iter().sum();
    let u: f64 = rand::distr::Distribution::sample(&rand::distr::StandardUniform, rng);
    let mut target = u * total;
    for (k, &w) in weights.iter().enumerate() {
        if target < w {
            return Some(k);
        }
        target -= w;
    }
    weights.iter().rposition(|&w| w > 0.0)
}

impl<'x, T: Real> Ctx<'x, T> {
    /// An enumerated site (`sample!("z", dist, enumerate)`): sums `region` (the rest of
    /// the block after the site) out over every value `k` of the support, adding
    /// `ln Σₖ exp(ln p(z = k) + region(k))`, where `region(k)` is what the region adds
    /// to the log-density with `z = k`. The site reads no parameter.
    ///
    /// In a prior draw or a prior simulation the value is drawn from `dist` and the
    /// region runs once; in a posterior simulation and in [`infer_discrete`] it is drawn
    /// from its conditional given the rest (probabilities `∝ exp` of the branches'
    /// log-densities) and the region runs once with it.
    ///
    /// # Errors
    /// A [`Stop`] from the region, or when no branch has a finite log-density while
    /// drawing from the conditional.
    pub fn enumerate<D: Enumerable<Scalar = T>>(
        &mut self,
        name: impl Fn() -> String,
        dist: D,
        region: impl Fn(&mut Ctx<'x, T>, D::Value) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        let count: u64 = match dist.support() {
            Support::Boolean => 2,
            Support::IntegersUpTo(n) => n.saturating_add(1),
            _ => {
                return Err(Stop::fault(Error::InvalidConfig(format!(
                    "the enumerated site `{}` has no finite support: sample it with \
                     `DiscreteHmcGibbs` or `MixedHmc` instead of `enumerate`",
                    name()
                ))));
            }
        };
        let prior_draw = self.fixed.is_none() && !self.infer;
        if prior_draw && let Some(rng) = self.prior.as_deref_mut() {
            // a prior draw: the value from its distribution
            let k: f64 = rand::distr::Distribution::sample(&dist, rng);
            return region(self, D::Value::from_integer(k as u64));
        }
        if let Some(rng) = self.prior.take() {
            // the conditional given the rest: score every branch, draw one, run it
            let simulate = std::mem::replace(&mut self.simulate, false);
            let infer = std::mem::replace(&mut self.infer, false);
            let trace = self.trace.take();
            let mut log_weights = Vec::with_capacity(count as usize);
            let scored = self.branches(&dist, count, &region, false, |_, lw| {
                log_weights.push(lw.value());
            });
            self.simulate = simulate;
            self.infer = infer;
            self.trace = trace;
            let drawn = draw_branch(&log_weights, &mut *rng);
            self.prior = Some(rng);
            scored?;
            let Some(k) = drawn else {
                return Err(Stop::fault(Error::InvalidConfig(format!(
                    "the enumerated site `{}` has no value of finite log-density at this draw",
                    name()
                ))));
            };
            if self.infer
                && let Some(trace) = self.trace.as_deref_mut()
            {
                trace.enumerated.push((name(), k as f64));
            }
            return region(self, D::Value::from_integer(k as u64));
        }
        let discovering = self.trace.as_ref().is_some_and(|t| t.discovering);
        let trace = self.trace.take();
        let total = if count as usize <= INLINE_BRANCHES {
            let mut terms = [T::from(0.0); INLINE_BRANCHES];
            let mut trace = trace;
            let scored = self.branches_with_trace(
                &dist,
                count,
                &region,
                discovering,
                &mut trace,
                |k, lw| terms[k] = lw,
            );
            self.trace = trace;
            scored?;
            crate::math::log_sum_exp(&terms[..count as usize])
        } else {
            let mut terms = Vec::with_capacity(count as usize);
            let mut trace = trace;
            let scored = self.branches_with_trace(
                &dist,
                count,
                &region,
                discovering,
                &mut trace,
                |_, lw| terms.push(lw),
            );
            self.trace = trace;
            scored?;
            crate::math::log_sum_exp(&terms)
        };
        self.add(total);
        if let Some(trace) = self.trace.as_deref_mut() {
            // the region's marginal log-density, as an observed term: for a region with
            // one observation, its pointwise log-likelihood with the site summed out
            trace.record(
                &name,
                SiteKind::Observed,
                Shape::Scalar,
                None,
                None,
                &[],
                total.value(),
                0.0,
            );
            if trace.wants_pointwise() {
                trace.set_pointwise(vec![total.value()]);
            }
        }
        Ok(())
    }

    /// Runs every branch of an enumerated site with the trace detached, giving each
    /// branch's log-density to `each`.
    fn branches<D: Enumerable<Scalar = T>>(
        &mut self,
        dist: &D,
        count: u64,
        region: &impl Fn(&mut Ctx<'x, T>, D::Value) -> Result<(), Stop>,
        discovering: bool,
        each: impl FnMut(usize, T),
    ) -> Result<(), Stop> {
        let mut none = None;
        self.branches_with_trace(dist, count, region, discovering, &mut none, each)
    }

    /// Runs every branch of an enumerated site, each with a fresh set of terms, giving
    /// its log-density (`ln p(z = k)` plus what the region adds) to `each`; restores
    /// the terms gathered before. `trace` is attached to the first branch while
    /// discovering the layout (which checks the region's data once) and detached
    /// otherwise.
    fn branches_with_trace<D: Enumerable<Scalar = T>>(
        &mut self,
        dist: &D,
        count: u64,
        region: &impl Fn(&mut Ctx<'x, T>, D::Value) -> Result<(), Stop>,
        discovering: bool,
        trace: &mut Option<&'x mut Trace>,
        mut each: impl FnMut(usize, T),
    ) -> Result<(), Stop> {
        let saved_terms = self.terms;
        let saved_num = self.num_terms;
        let pos = self.pos;
        let mut outcome = Ok(());
        for k in 0..count {
            self.num_terms = 0;
            if discovering && k == 0 {
                self.trace = trace.take();
            }
            self.add(dist.ln_pdf_obs(k as f64));
            let ran = region(self, D::Value::from_integer(k));
            if discovering && k == 0 {
                *trace = self.trace.take();
            }
            if let Err(stop) = ran {
                outcome = Err(stop);
                break;
            }
            if self.pos != pos {
                outcome = Err(Stop::fault(Error::LayoutChanged {
                    expected: pos,
                    found: self.pos,
                    site: None,
                }));
                break;
            }
            each(k as usize, self.target());
        }
        self.terms = saved_terms;
        self.num_terms = saved_num;
        outcome
    }
}

/// The enumerated sites' values drawn from their conditional distribution at a draw
/// (NumPyro's `infer_discrete`): `row` holds the draw's constrained values in
/// [`Layout::column_names`](crate::layout::Layout::column_names) order. Each enumerated site's value is drawn with
/// probabilities `∝ exp` of its branches' log-densities, given the draw and the values
/// drawn for the enumerated sites whose region holds it; the sites are named as
/// written (`"z[3]"`), in the order the body reaches them. A model without enumerated
/// sites gives an empty draw.
///
/// # Errors
/// A structural fault of the model, or [`Error::InvalidConfig`] when an enumerated
/// site has no value of finite log-density at the draw.
pub fn infer_discrete<M: ModelBody + ?Sized>(
    model: &M,
    rng: &mut dyn Rng,
    row: &[f64],
) -> Result<Draw> {
    let mode = Mode {
        prior: Some(rng),
        fixed: Some(row),
        infer: true,
        ..Mode::default()
    };
    let trace = traced_run(model, Trace::new(false, false), mode)?;
    let (names, values) = trace.enumerated.into_iter().unzip();
    Ok(Draw::new(names, values))
}
