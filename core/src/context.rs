//! The evaluation context a model body runs against, and the evaluators built on it.
//!
//! `#[model]` rewrites each `sample!`, `deterministic!` and `factor!` into a call on a
//! [`Ctx`]. One body serves every purpose:
//! - **density** (the hot path): reads unconstrained values, applies bijectors, adds
//!   log-densities and log-Jacobians; site names are never formatted;
//! - **trace**: the same, and also records each site (name, values, contributions) for
//!   the layout, for draws and for [`Model::logp_breakdown`](crate::Model::logp_breakdown).
//!
//! Vector-valued latent sites hand out slices of a caller-owned work buffer, split off
//! as the body goes, so a density evaluation does not allocate.

use std::cell::RefCell;
use std::collections::HashSet;
use std::thread::LocalKey;

use rand::Rng;

use crate::bijectors::{Bijector, VectorBijector};
use crate::distributions::NormalEach;
use crate::distributions::{
    Continuous, Dirichlet, Distribution, Iid, ObsScalar, ObsVector, Ordered, VectorDistribution,
};
use crate::error::{Error, Result};
use crate::glm::Glm;
use crate::layout::{Layout, Shape, SiteInfo, SiteKind};
use crate::model::{Draw, ModelBody, ModelState, SiteLogp};
use crate::real::{F64Ops, Real};
use crate::support::Support;
use crate::vector::{Affine, Params, VectorExpr, record_values};

mod enumerate;

pub use enumerate::{Enumerable, infer_discrete};

/// How many log-density terms a context gathers before summing them.
const TERMS: usize = 32;

/// Why a model body stopped before its end.
#[derive(Debug)]
pub struct Stop(StopReason);

#[derive(Debug)]
enum StopReason {
    /// Layout discovery ran out of buffer and retries with a larger one.
    Grow,
    /// A structural fault.
    Fault(Box<Error>),
}

impl Stop {
    fn fault(error: Error) -> Self {
        Stop(StopReason::Fault(Box::new(error)))
    }
}

/// The state a model body runs against: the parameters, the work buffer, the running
/// log-density and, when tracing, the record of every site.
pub struct Ctx<'x, T> {
    x: &'x [T],
    pos: usize,
    work: &'x mut [T],
    /// The log-density terms not yet summed; see [`Ctx::add`].
    terms: [T; TERMS],
    num_terms: usize,
    trace: Option<&'x mut Trace>,
    /// Draws latent sites (when `fixed` is `None`) and, when `simulate`, observed ones.
    prior: Option<&'x mut dyn Rng>,
    /// Constrained latent values (a draw's row, in column order) that latent sites take
    /// instead of reading unconstrained values.
    fixed: Option<&'x [f64]>,
    /// Observed sites draw fresh values instead of scoring their data.
    simulate: bool,
    /// Latent sites add their bijectors' log-Jacobians (off for the log joint density
    /// of the constrained values, which maximum a posteriori estimation climbs).
    jacobian: bool,
    /// Enumerated sites draw their value from its conditional and record it in the
    /// trace ([`infer_discrete`]) instead of being summed out.
    infer: bool,
}

/// The record of one traced evaluation.
#[derive(Debug, Default)]
pub struct Trace {
    /// Record names and per-site details (off for draws, which know their names).
    detailed: bool,
    /// Layout discovery: the buffers grow on demand and names must be unique.
    discovering: bool,
    /// Record observed sites and factors as sites (off while discovering the layout,
    /// which keeps only latent and deterministic sites: a record per observation would
    /// cost a formatted name and ~200 bytes each).
    observed: bool,
    sites: Vec<TracedSite>,
    values: Vec<f64>,
    faults: Vec<Error>,
    seen: HashSet<String>,
    /// The unconstrained values of a prior draw.
    unconstrained: Vec<f64>,
    /// The values drawn for enumerated sites by [`infer_discrete`], by name.
    enumerated: Vec<(String, f64)>,
}

#[derive(Debug)]
struct TracedSite {
    info: SiteInfo,
    /// Per-observation log-densities of an observed site (one per element).
    pointwise: Vec<f64>,
    log_density: f64,
    ln_jacobian: f64,
    values: Vec<f64>,
}

impl Trace {
    fn new(detailed: bool, discovering: bool) -> Self {
        Trace {
            detailed,
            discovering,
            observed: !discovering,
            ..Trace::default()
        }
    }

    /// Whether observed sites are recorded (or only their values checked).
    fn records_observed(&self) -> bool {
        self.observed
    }

    /// Checks the values of a vector observation without recording the site (layout
    /// discovery).
    fn check_each(
        &mut self,
        name: &dyn Fn() -> String,
        support: Support<f64>,
        n: usize,
        value: impl Fn(usize) -> f64,
    ) {
        for i in 0..n {
            self.check_obs(name, support, value(i), Some(i));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        name: &dyn Fn() -> String,
        kind: SiteKind,
        shape: Shape,
        support: Option<Support<f64>>,
        offset: Option<(usize, usize)>,
        values: &[f64],
        log_density: f64,
        ln_jacobian: f64,
    ) {
        let is_column = matches!(kind, SiteKind::Latent | SiteKind::Deterministic);
        if is_column {
            self.values.extend_from_slice(values);
        }
        if !self.detailed || !(is_column || self.observed) {
            return;
        }
        let name = name();
        if self.discovering && !self.seen.insert(name.clone()) {
            self.faults
                .push(Error::DuplicateSite { name: name.clone() });
        }
        self.sites.push(TracedSite {
            info: SiteInfo {
                name,
                kind,
                shape,
                support,
                offset: offset.map(|(start, _)| start),
                num_unconstrained: offset.map_or(0, |(_, n)| n),
            },
            log_density,
            ln_jacobian,
            // discovery keeps only the layout
            values: if self.discovering {
                Vec::new()
            } else {
                values.to_vec()
            },
            pointwise: Vec::new(),
        });
    }

    /// Records an observed site: checks its values (while discovering), records them
    /// with the site's log-density, and, in a detailed trace, the per-observation
    /// log-densities from `pointwise`.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn observed(
        &mut self,
        name: &dyn Fn() -> String,
        shape: Shape,
        support: Support<f64>,
        xs: &[f64],
        log_density: f64,
        pointwise: impl FnOnce() -> Vec<f64>,
    ) {
        for (i, &x) in xs.iter().enumerate() {
            let index = (shape != Shape::Scalar).then_some(i);
            self.check_obs(name, support, x, index);
        }
        if !self.observed {
            return;
        }
        self.record(
            name,
            SiteKind::Observed,
            shape,
            Some(support),
            None,
            xs,
            log_density,
            0.0,
        );
        if self.wants_pointwise() {
            self.set_pointwise(pointwise());
        }
    }

    /// Whether per-observation log-densities are wanted (a detailed trace that records
    /// observed sites).
    fn wants_pointwise(&self) -> bool {
        self.detailed && self.observed
    }

    /// Attaches per-observation log-densities to the site recorded last.
    fn set_pointwise(&mut self, values: Vec<f64>) {
        if let Some(site) = self.sites.last_mut() {
            site.pointwise = values;
        }
    }

    /// While discovering the layout, records a fault for an observation that is not
    /// finite or outside a discrete support.
    #[inline]
    fn check_obs(
        &mut self,
        name: &dyn Fn() -> String,
        support: Support<f64>,
        x: f64,
        index: Option<usize>,
    ) {
        if self.discovering && (!x.is_finite() || support.is_discrete() && !support.contains(x)) {
            self.obs_fault(name, support, x, index);
        }
    }

    #[cold]
    fn obs_fault(
        &mut self,
        name: &dyn Fn() -> String,
        support: Support<f64>,
        x: f64,
        index: Option<usize>,
    ) {
        if !x.is_finite() {
            self.faults.push(Error::NonFiniteData {
                site: name(),
                index,
                value: x,
            });
        } else if support.is_discrete() && !support.contains(x) {
            let expected = match support {
                Support::Boolean => "0 or 1",
                Support::IntegersUpTo(_) => "an integer between 0 and the number of trials",
                _ => "a non-negative integer",
            };
            self.faults.push(Error::InvalidObservation {
                site: name(),
                index,
                value: x,
                expected,
            });
        }
    }
}

impl<'x, T: Real> Ctx<'x, T> {
    fn new(x: &'x [T], work: &'x mut [T], trace: Option<&'x mut Trace>) -> Self {
        Ctx {
            x,
            pos: 0,
            work,
            terms: [T::from(0.0); TERMS],
            num_terms: 0,
            trace,
            prior: None,
            fixed: None,
            simulate: false,
            jacobian: true,
            infer: false,
        }
    }

    /// Adds a latent site's log-Jacobian, unless the evaluation leaves it out.
    #[inline]
    fn add_jacobian(&mut self, ln_jac: T) {
        if self.jacobian {
            self.add(ln_jac);
        }
    }

    /// The constrained value of a latent site that the context supplies instead of the
    /// parameter vector: element `k` of the site in a fixed draw, or a draw from `draw`
    /// in a prior draw; `None` when evaluating normally.
    fn supplied(&mut self, k: usize, draw: &mut dyn FnMut(&mut dyn Rng) -> f64) -> Option<f64> {
        if let Some(row) = self.fixed {
            let column = self.trace.as_ref().map_or(0, |t| t.values.len()) + k;
            return Some(row.get(column).copied().unwrap_or(f64::NAN));
        }
        let rng = self.prior.as_deref_mut()?;
        Some(draw(rng))
    }

    /// In a simulation, draws an observed site's values and records them; returns
    /// `true` when it did (the site then scores nothing).
    #[inline]
    fn simulate_observed(
        &mut self,
        name: &dyn Fn() -> String,
        shape: Shape,
        support: impl FnOnce() -> Support<f64>,
        draw: impl FnOnce(&mut dyn Rng) -> Vec<f64>,
    ) -> bool {
        if !self.simulate {
            return false;
        }
        let Some(rng) = self.prior.as_deref_mut() else {
            return false;
        };
        let values = draw(rng);
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.record(
                name,
                SiteKind::Observed,
                shape,
                Some(support()),
                None,
                &values,
                0.0,
                0.0,
            );
        }
        true
    }

    /// In a prior draw or a fixed draw, the value of element `k` of a latent site (drawn
    /// from its distribution, or taken from the draw) mapped to the unconstrained value
    /// that gives it, which the trace records.
    #[inline]
    fn prior_value<D: Distribution<Scalar = T>>(
        &mut self,
        dist: &D,
        bijector: &Bijector<T>,
        k: usize,
    ) -> Option<T> {
        if self.prior.is_none() && self.fixed.is_none() {
            return None;
        }
        let v = self.supplied(k, &mut |rng| rand::distr::Distribution::sample(dist, rng))?;
        let y = Bijector::inverse(&bijector.to_f64(), v);
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.unconstrained.push(y);
        }
        Some(T::from(y))
    }

    /// The running log-density.
    pub fn target(&self) -> T {
        T::fused(
            self.terms[..self.num_terms].iter().map(|t| t.value()).sum(),
            self.terms[..self.num_terms].iter().map(|&t| (t, 1.0)),
        )
    }

    /// Adds a term to the log-density. Terms are gathered and summed `TERMS` at a time
    /// as one fused node, rather than one addition node per term.
    #[inline]
    fn add(&mut self, term: T) {
        if self.num_terms == TERMS {
            let sum = self.target();
            self.terms[0] = sum;
            self.num_terms = 1;
        }
        self.terms[self.num_terms] = term;
        self.num_terms += 1;
    }

    /// A latent site: reads its unconstrained values, returns them constrained.
    #[inline]
    pub fn sample<S: Latent<Scalar = T>>(
        &mut self,
        name: impl Fn() -> String,
        site: S,
    ) -> Result<S::Value<'x>, Stop> {
        site.sample(self, &name)
    }

    /// An observed site: adds the log-density of `value`.
    #[inline]
    pub fn observe<S: Observe<V, Scalar = T>, V>(
        &mut self,
        name: impl Fn() -> String,
        site: S,
        value: V,
    ) -> Result<(), Stop> {
        site.observe(self, &name, value)
    }

    /// A derived quantity, recorded in draws; adds nothing to the log-density.
    #[inline]
    pub fn deterministic<V: Record + ?Sized>(
        &mut self,
        name: impl Fn() -> String,
        value: &V,
    ) -> Result<(), Stop> {
        if let Some(trace) = self.trace.as_deref_mut() {
            let mut values = Vec::new();
            value.write(&mut values);
            trace.record(
                &name,
                SiteKind::Deterministic,
                value.shape(),
                None,
                None,
                &values,
                0.0,
                0.0,
            );
        }
        Ok(())
    }

    /// A term added to the log-density.
    #[inline]
    pub fn factor(&mut self, name: impl Fn() -> String, value: impl Into<T>) -> Result<(), Stop> {
        let value = value.into();
        self.add(value);
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.record(
                &name,
                SiteKind::Factor,
                Shape::Scalar,
                None,
                None,
                &[],
                value.value(),
                0.0,
            );
        }
        Ok(())
    }

    /// Reads the next `n` unconstrained values.
    #[inline]
    fn read(&mut self, n: usize, name: &dyn Fn() -> String) -> Result<(usize, &'x [T]), Stop> {
        let start = self.pos;
        let end = start + n;
        if end > self.x.len() {
            return Err(self.overrun(end, name));
        }
        self.pos = end;
        let x: &'x [T] = self.x;
        Ok((start, &x[start..end]))
    }

    /// Splits `n` slots off the work buffer.
    #[inline]
    fn take_work(&mut self, n: usize, name: &dyn Fn() -> String) -> Result<&'x mut [T], Stop> {
        if n > self.work.len() {
            return Err(self.overrun(self.pos, name));
        }
        let (head, tail) = std::mem::take(&mut self.work).split_at_mut(n);
        self.work = tail;
        Ok(head)
    }

    /// A vector latent site under a vector bijector: reads its unconstrained values,
    /// writes the `n` constrained ones into the work buffer and returns them with the
    /// log-Jacobian. In a prior draw, `draw` gives the constrained values instead.
    fn vector_latent(
        &mut self,
        n: usize,
        bijector: VectorBijector,
        name: &dyn Fn() -> String,
        draw: &mut dyn FnMut(&mut dyn Rng) -> Vec<f64>,
    ) -> Result<(usize, &'x [T], T), Stop> {
        let m = bijector.unconstrained_len(n);
        let (offset, ys) = self.read(m, name)?;
        let out = self.take_work(n, name)?;
        let supplied = match (self.fixed, self.prior.as_deref_mut()) {
            (Some(row), _) => {
                let column = self.trace.as_ref().map_or(0, |t| t.values.len());
                Some(
                    (0..n)
                        .map(|k| row.get(column + k).copied().unwrap_or(f64::NAN))
                        .collect::<Vec<f64>>(),
                )
            }
            (None, Some(rng)) => Some(draw(rng)),
            (None, None) => None,
        };
        if let Some(x) = supplied {
            for (slot, v) in out.iter_mut().zip(&x) {
                *slot = T::from(*v);
            }
            if let Some(trace) = self.trace.as_deref_mut() {
                trace.unconstrained.extend(bijector.inverse(&x));
            }
            return Ok((offset, out, T::from(0.0)));
        }
        let ln_jac = bijector.forward(ys, out);
        Ok((offset, out, ln_jac))
    }

    /// An observation of the wrong length: recorded while discovering the layout (the
    /// evaluation goes on, skipping the site), a stop otherwise.
    #[cold]
    fn length_fault(&mut self, fault: Error) -> Result<(), Stop> {
        match self.trace.as_deref_mut() {
            Some(trace) => {
                if trace.discovering {
                    trace.faults.push(fault);
                }
                Ok(())
            }
            None => Err(Stop::fault(fault)),
        }
    }

    #[cold]
    fn overrun(&self, found: usize, name: &dyn Fn() -> String) -> Stop {
        if self.trace.as_ref().is_some_and(|t| t.discovering) {
            Stop(StopReason::Grow)
        } else {
            Stop::fault(Error::LayoutChanged {
                expected: self.x.len(),
                found,
                site: Some(name()),
            })
        }
    }
}

/// Something a latent `sample!` accepts: a continuous distribution or an `.iid(n)` of
/// one, a vector distribution, or a scalar discrete distribution (`Bernoulli`,
/// `Categorical`, `Poisson`, ...), whose site returns a typed value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a latent site",
    note = "a latent `sample!` takes a continuous scalar distribution, `dist.iid(n)`, `dist.iid(n).ordered()`, `Normal::each(..)`, a vector distribution (`Dirichlet`, `MultivariateNormal`, ...) or a scalar discrete distribution (`Bernoulli`, `Categorical`, `Poisson`, ...); a vector of discrete latent values is written as a loop of scalar sites (`sample!(\"z[{{i}}]\", Bernoulli::new(p))`)"
)]
pub trait Latent {
    /// The model's scalar.
    type Scalar: Real;
    /// What the site returns: a scalar, or a slice for a vector site.
    type Value<'x>;

    /// Reads, constrains and scores the site's values.
    ///
    /// # Errors
    /// A [`Stop`] when the parameter vector is exhausted.
    fn sample<'x>(
        self,
        ctx: &mut Ctx<'x, Self::Scalar>,
        name: &dyn Fn() -> String,
    ) -> Result<Self::Value<'x>, Stop>;
}

/// Something an observed `sample!` accepts with an observation of type `V`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot observe a value of type `{V}`",
    label = "`obs` takes data: a number for a scalar distribution, a slice for `dist.iid(n)`",
    note = "a scalar distribution observes one number (`obs = y[i]`); `dist.iid(n)` observes a slice of n numbers (`obs = &y`)",
    note = "a value computed from parameters (the model's scalar `T`) is not data: add its log-density with `factor!`, as Stan's `target +=`: `factor!(\"err\", Normal::new(0.0, sigma).ln_pdf(err))`"
)]
pub trait Observe<V> {
    /// The model's scalar.
    type Scalar: Real;

    /// Adds the log-density of `value`.
    ///
    /// # Errors
    /// A [`Stop`] when a vector observation's length differs from the site's.
    fn observe(
        self,
        ctx: &mut Ctx<'_, Self::Scalar>,
        name: &dyn Fn() -> String,
        value: V,
    ) -> Result<(), Stop>;
}

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
            let values: Vec<f64> = out.iter().map(|v| v.value()).collect();
            let support = Some(dist.support().to_f64());
            let (l, j) = (lp.value(), ln_jac.value());
            trace.record(
                name,
                SiteKind::Latent,
                Shape::Vector(n),
                support,
                Some((offset, n)),
                &values,
                l,
                j,
            );
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
            let xs: Vec<f64> = values.iter().map(|v| v.value()).collect();
            let m = bijector.unconstrained_len(n);
            trace.record(
                name,
                SiteKind::Latent,
                Shape::Vector(n),
                Some(support),
                Some((offset, m)),
                &xs,
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
            let xs: Vec<f64> = values.iter().map(|v| v.value()).collect();
            trace.record(
                name,
                SiteKind::Latent,
                Shape::Vector(n),
                Some(Support::Real),
                Some((offset, n)),
                &xs,
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
        let xs: Vec<f64> = values.iter().map(|v| v.value()).collect();
        let m = bijector.unconstrained_len(n);
        let support = Some(dist.support());
        trace.record(
            name,
            SiteKind::Latent,
            dist.shape(),
            support,
            Some((offset, m)),
            &xs,
            lp.value(),
            ln_jac.value(),
        );
    }
    Ok(values)
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

impl<T: Real> Record for Params<'_, T> {
    fn shape(&self) -> Shape {
        Shape::Vector(VectorExpr::<T>::len(self).unwrap_or(1))
    }
    fn write(&self, out: &mut Vec<f64>) {
        record_values(self, out);
    }
}

impl<T: Real, E: VectorExpr<T>> Record for Affine<T, E> {
    fn shape(&self) -> Shape {
        match self.len() {
            Some(n) => Shape::Vector(n),
            None => Shape::Scalar,
        }
    }
    fn write(&self, out: &mut Vec<f64>) {
        record_values(self, out);
    }
}

/// A value `deterministic!` can record: a scalar, or a slice, `Vec` or array of them.
#[diagnostic::on_unimplemented(
    message = "`deterministic!` cannot record a value of type `{Self}`",
    note = "record a scalar of the model (`T` or `f64`) or a slice, `Vec` or array of them"
)]
pub trait Record {
    /// The shape of the recorded value.
    fn shape(&self) -> Shape;
    /// Appends the values as `f64`.
    fn write(&self, out: &mut Vec<f64>);
}

impl<R: Real> Record for R {
    fn shape(&self) -> Shape {
        Shape::Scalar
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.push(self.value());
    }
}

impl<R: Real> Record for [R] {
    fn shape(&self) -> Shape {
        Shape::Vector(self.len())
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}

impl<R: Real> Record for &[R] {
    fn shape(&self) -> Shape {
        Shape::Vector(self.len())
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}

impl<R: Real> Record for Vec<R> {
    fn shape(&self) -> Shape {
        Shape::Vector(self.len())
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}

impl<R: Real, const N: usize> Record for [R; N] {
    fn shape(&self) -> Shape {
        Shape::Vector(N)
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.value()));
    }
}

/// Runs `f` on a thread-local scratch buffer of `len` elements, reused across calls so
/// that hot loops do not allocate. Falls back to a fresh buffer when the thread's buffer
/// is already in use (a model evaluated from inside another).
pub fn with_scratch<T: Clone + 'static, R>(
    key: &'static LocalKey<RefCell<Vec<T>>>,
    len: usize,
    fill: T,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, fill);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![fill; len]),
    })
}

thread_local! {
    static WORK_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Frees a thread-local scratch buffer (unless it is in use) and returns the bytes its
/// capacity held.
#[doc(hidden)]
pub fn release_buffer<T: 'static>(key: &'static LocalKey<RefCell<Vec<T>>>) -> usize {
    key.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            let bytes = buf.capacity() * std::mem::size_of::<T>();
            *buf = Vec::new();
            bytes
        }
        Err(_) => 0,
    })
    .unwrap_or(0)
}

/// The bytes a thread-local scratch buffer holds (its capacity).
#[doc(hidden)]
pub fn buffer_bytes<T: 'static>(key: &'static LocalKey<RefCell<Vec<T>>>) -> usize {
    key.try_with(|cell| {
        cell.try_borrow()
            .map_or(0, |buf| buf.capacity() * std::mem::size_of::<T>())
    })
    .unwrap_or(0)
}

/// Frees this thread's scratch buffers of `tilde_core` (the evaluators' work space, the
/// distributions' partials, the multivariate normal's cached factor) and returns the
/// bytes they held. They grow to the largest model evaluated on the thread and are
/// otherwise kept for reuse; the next evaluation allocates them again. Buffers in use
/// (a call from inside a model evaluation) are left alone.
pub fn release_scratch() -> usize {
    release_buffer(&WORK_F64)
        + crate::distributions::release_scratch()
        + crate::glm::release_scratch()
}

/// The bytes this thread's scratch buffers of `tilde_core` hold.
#[doc(hidden)]
pub fn scratch_bytes() -> usize {
    buffer_bytes(&WORK_F64) + crate::distributions::scratch_bytes() + crate::glm::scratch_bytes()
}

/// Evaluates a model's log-density at `x` in any scalar, with `work` of the layout's
/// [`work_len`](Layout::work_len).
///
/// With `jacobian` false, latent sites leave out their bijectors' log-Jacobians: the
/// result is the log joint density of the constrained values.
///
/// # Errors
/// [`Error::LayoutChanged`] or [`Error::ObsLength`] when the body's structure does not
/// match its layout.
#[inline]
pub fn eval<M: ModelBody + ?Sized, T: Real>(
    model: &M,
    x: &[T],
    work: &mut [T],
    jacobian: bool,
) -> Result<T>
where
    f64: F64Ops<T>,
{
    let work_len = work.len();
    let mut ctx = Ctx::new(x, work, None);
    ctx.jacobian = jacobian;
    match model.body(&mut ctx) {
        Ok(()) => {}
        Err(Stop(StopReason::Fault(e))) => return Err(*e),
        Err(Stop(StopReason::Grow)) => unreachable!("only layout discovery grows"),
    }
    if ctx.pos != x.len() || !ctx.work.is_empty() {
        return Err(Error::LayoutChanged {
            expected: x.len(),
            found: ctx.pos.max(work_len - ctx.work.len()),
            site: None,
        });
    }
    Ok(ctx.target())
}

/// The log-density at `x` in `f64`; `-∞` when the evaluation faults.
///
/// # Panics
/// When `x.len()` differs from the model's dimension (a caller-contract mismatch).
pub fn logp<M: ModelBody + ?Sized>(model: &M, x: &[f64]) -> f64 {
    let layout = &model.state().layout;
    assert_eq!(
        x.len(),
        layout.dim(),
        "logp: x has length {}, the model's dimension is {}",
        x.len(),
        layout.dim()
    );
    with_scratch(&WORK_F64, layout.work_len(), 0.0, |work| {
        eval(model, x, work, true)
    })
    .unwrap_or(f64::NEG_INFINITY)
}

/// The log-density at `x`, or the fault that stopped it.
///
/// # Errors
/// [`Error::DimensionMismatch`], [`Error::LayoutChanged`] or [`Error::ObsLength`].
pub fn try_logp<M: ModelBody + ?Sized>(model: &M, x: &[f64]) -> Result<f64> {
    let layout = &model.state().layout;
    if x.len() != layout.dim() {
        return Err(Error::DimensionMismatch {
            expected: layout.dim(),
            found: x.len(),
        });
    }
    with_scratch(&WORK_F64, layout.work_len(), 0.0, |work| {
        eval(model, x, work, true)
    })
}

/// Runs the body once at `x` recording every site.
fn trace<M: ModelBody + ?Sized>(model: &M, x: &[f64], detailed: bool) -> (Trace, Option<Error>) {
    let mut work = vec![0.0; model.state().layout.work_len()];
    let mut trace = Trace::new(detailed, false);
    let fault = {
        let mut ctx = Ctx::new(x, &mut work, Some(&mut trace));
        match model.body(&mut ctx) {
            Ok(()) if ctx.pos == x.len() => None,
            Ok(()) => Some(Error::LayoutChanged {
                expected: x.len(),
                found: ctx.pos,
                site: None,
            }),
            Err(Stop(StopReason::Fault(e))) => Some(*e),
            Err(Stop(StopReason::Grow)) => unreachable!("only layout discovery grows"),
        }
    };
    (trace, fault)
}

/// Builds a model's layout by running its body once, growing buffers as needed, and
/// collects the faults found in its data.
pub fn discover<M: ModelBody + ?Sized>(model: &M) -> ModelState {
    let mut capacity = 64;
    loop {
        let x = vec![0.0; capacity];
        let mut work = vec![0.0; capacity];
        let mut trace = Trace::new(true, true);
        let (pos, work_left, stop) = {
            let mut ctx = Ctx::new(&x, &mut work, Some(&mut trace));
            let outcome = model.body(&mut ctx);
            (ctx.pos, ctx.work.len(), outcome.err())
        };
        match stop {
            Some(Stop(StopReason::Grow)) => {
                capacity *= 4;
                continue;
            }
            Some(Stop(StopReason::Fault(e))) => trace.faults.push(*e),
            None => {}
        }
        let sites: Vec<SiteInfo> = trace.sites.into_iter().map(|s| s.info).collect();
        let layout = Layout::new(sites, capacity - work_left);
        debug_assert_eq!(layout.dim(), pos);
        return ModelState {
            layout,
            faults: trace.faults,
            engine: Default::default(),
            data_constant: Default::default(),
        };
    }
}

/// Builds a model with `build` (a `#[model]` constructor), turning a panic of the body
/// into [`Error::ModelPanicked`] naming `model_name`, and a construction-time fault of
/// the data (what [`check`] reports) into that fault. What the `try_` constructors
/// `#[model]` generates call.
///
/// The panic still goes through the panic hook, which prints it by default; with
/// `panic = "abort"` it aborts as any panic does.
///
/// # Errors
/// [`Error::ModelPanicked`], or the first fault [`check`] would report.
pub fn try_build<M: ModelBody>(model_name: &str, build: impl FnOnce() -> M) -> Result<M> {
    let model =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(build)).map_err(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            Error::ModelPanicked {
                model: model_name.to_string(),
                message,
            }
        })?;
    check(&model)?;
    Ok(model)
}

/// An unconstrained point drawn from the prior: every latent site drawn from its
/// distribution (given the sites before it) and mapped back through its bijector.
///
/// # Errors
/// A structural fault of the model (see [`Error::LayoutChanged`]), including a draw
/// of fewer values than the model's dimension.
pub fn draw_prior<M: ModelBody + ?Sized>(model: &M, rng: &mut dyn Rng) -> Result<Vec<f64>> {
    let layout = &model.state().layout;
    let x = vec![0.0; layout.dim()];
    let mut work = vec![0.0; layout.work_len()];
    let mut trace = Trace::new(false, false);
    let outcome = {
        let mut ctx = Ctx::new(&x, &mut work, Some(&mut trace));
        ctx.prior = Some(rng);
        model.body(&mut ctx)
    };
    match outcome {
        // a body that skipped latent sites in the prior draw changed its layout
        Ok(()) if trace.unconstrained.len() != layout.dim() => Err(Error::LayoutChanged {
            expected: layout.dim(),
            found: trace.unconstrained.len(),
            site: None,
        }),
        Ok(()) => Ok(trace.unconstrained),
        Err(Stop(StopReason::Fault(e))) => Err(*e),
        Err(Stop(StopReason::Grow)) => unreachable!("only layout discovery grows"),
    }
}

/// One simulation of the model: latent sites drawn from their priors (or, with
/// `fixed`, taken from a draw's row of constrained values in column order), observed
/// sites drawn afresh given them, deterministic quantities recorded. Returns every
/// latent, deterministic and observed component by name, in declaration order.
///
/// # Errors
/// A structural fault of the model.
pub fn simulate<M: ModelBody + ?Sized>(
    model: &M,
    rng: &mut dyn Rng,
    fixed: Option<&[f64]>,
) -> Result<Draw> {
    let layout = &model.state().layout;
    let x = vec![0.0; layout.dim()];
    let mut work = vec![0.0; layout.work_len()];
    let mut trace = Trace::new(true, false);
    let outcome = {
        let mut ctx = Ctx::new(&x, &mut work, Some(&mut trace));
        ctx.prior = Some(rng);
        ctx.fixed = fixed;
        ctx.simulate = true;
        model.body(&mut ctx)
    };
    if let Err(Stop(StopReason::Fault(e))) = outcome {
        return Err(*e);
    }
    let (mut names, mut values) = (Vec::new(), Vec::new());
    for site in trace
        .sites
        .iter()
        .filter(|s| s.info.kind != SiteKind::Factor)
    {
        names.extend(site.info.component_names());
        values.extend_from_slice(&site.values);
    }
    Ok(Draw::new(names, values))
}

/// The log-density of every observed value at a draw: `row` holds the draw's
/// constrained values in [`Layout::column_names`] order. Scalar observations are named
/// as their site, elements of vector observations `name[i]`; a multivariate
/// observation counts as one, named as its site.
///
/// # Errors
/// A structural fault of the model, or [`Error::DuplicateSite`] for two observed sites
/// of the same name.
pub fn pointwise_log_likelihood<M: ModelBody + ?Sized>(
    model: &M,
    row: &[f64],
) -> Result<Vec<(String, f64)>> {
    let layout = &model.state().layout;
    let x = vec![0.0; layout.dim()];
    let mut work = vec![0.0; layout.work_len()];
    let mut trace = Trace::new(true, false);
    let outcome = {
        let mut ctx = Ctx::new(&x, &mut work, Some(&mut trace));
        ctx.fixed = Some(row);
        model.body(&mut ctx)
    };
    if let Err(Stop(StopReason::Fault(e))) = outcome {
        return Err(*e);
    }
    let mut out = Vec::new();
    // observed names are formatted here, not when the model is built, so this is where
    // a repeated one shows
    let mut seen = HashSet::new();
    for site in trace
        .sites
        .iter()
        .filter(|s| s.info.kind == SiteKind::Observed)
    {
        if !seen.insert(site.info.name.as_str()) {
            return Err(Error::DuplicateSite {
                name: site.info.name.clone(),
            });
        }
        if site.pointwise.len() == site.info.shape.len() {
            out.extend(
                site.info
                    .component_names()
                    .into_iter()
                    .zip(site.pointwise.iter().copied()),
            );
        } else {
            out.push((site.info.name.clone(), site.pointwise.iter().sum()));
        }
    }
    Ok(out)
}

/// The constrained values and deterministic quantities at `x`.
///
/// # Panics
/// When `x.len()` differs from the model's dimension.
pub fn constrain<M: ModelBody + ?Sized>(model: &M, x: &[f64]) -> Draw {
    let layout = &model.state().layout;
    let mut values = Vec::new();
    constrain_into(model, x, &mut values);
    Draw::new(layout.column_names().to_vec(), values)
}

/// Writes the draw columns at `x` into `out`; NaN where a faulty evaluation stopped.
///
/// # Panics
/// When `x.len()` differs from the model's dimension.
pub fn constrain_into<M: ModelBody + ?Sized>(model: &M, x: &[f64], out: &mut Vec<f64>) {
    let layout = &model.state().layout;
    assert_eq!(
        x.len(),
        layout.dim(),
        "constrain: x has length {}, the model's dimension is {}",
        x.len(),
        layout.dim()
    );
    let (trace, _) = trace(model, x, false);
    out.clear();
    out.extend_from_slice(&trace.values);
    out.resize(layout.column_names().len(), f64::NAN);
}

/// Each site's contribution to the log-density at `x`; a structural fault appears as a
/// last entry of kind [`SiteKind::Factor`] with value `-∞` and the fault as its name.
///
/// # Panics
/// When `x.len()` differs from the model's dimension.
pub fn logp_breakdown<M: ModelBody + ?Sized>(model: &M, x: &[f64]) -> Vec<SiteLogp> {
    let layout = &model.state().layout;
    assert_eq!(
        x.len(),
        layout.dim(),
        "logp_breakdown: x has length {}, the model's dimension is {}",
        x.len(),
        layout.dim()
    );
    let (trace, fault) = trace(model, x, true);
    let mut out: Vec<SiteLogp> = trace
        .sites
        .into_iter()
        .filter(|s| s.info.kind != SiteKind::Deterministic)
        .map(|s| SiteLogp {
            name: s.info.name,
            kind: s.info.kind,
            log_density: s.log_density,
            ln_jacobian: s.ln_jacobian,
            values: s.values,
            support: s.info.support,
        })
        .collect();
    if let Some(fault) = fault {
        out.push(SiteLogp {
            name: fault.to_string(),
            kind: SiteKind::Factor,
            log_density: f64::NEG_INFINITY,
            ln_jacobian: 0.0,
            values: Vec::new(),
            support: None,
        });
    }
    out
}

/// The first construction-time fault of a model.
///
/// # Errors
/// The first fault found in the model's data.
pub fn check<M: ModelBody + ?Sized>(model: &M) -> Result<()> {
    match model.state().faults.first() {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}
