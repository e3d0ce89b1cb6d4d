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
//!
//! Here: the context ([`Ctx`]), its record ([`Trace`]) and what sites accept
//! ([`Latent`], [`Observe`]). Beside it: those traits for scalar distributions and
//! their `.iid(n)`s (`latent`, `observe`), sites of vector
//! distributions (`vector_sites`), what `deterministic!` records (`record`), the
//! evaluators built on the context (`evaluate`), thread-local scratch buffers
//! (`scratch`) and enumeration of discrete sites (`enumerate`).

use std::collections::HashSet;

use rand::Rng;

use crate::bijectors::{Bijector, VectorBijector};
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::layout::{Shape, SiteInfo, SiteKind};
use crate::real::Real;
use crate::support::Support;

mod enumerate;
mod evaluate;
mod latent;
mod observe;
mod record;
mod scratch;
mod vector_sites;

pub use enumerate::{Enumerable, infer_discrete};
pub use evaluate::*;
pub use latent::DiscreteValue;
pub use record::Record;
pub use scratch::*;

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
    /// Only the latent and deterministic values are wanted ([`constrain_into`]):
    /// observed sites score nothing.
    values_only: bool,
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

/// What a trace records of a site besides its name and values: its kind, shape,
/// support, and its offset and length in the unconstrained vector (latent sites).
type SiteHead = (
    SiteKind,
    Shape,
    Option<Support<f64>>,
    Option<(usize, usize)>,
);

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
        let write = |out: &mut Vec<f64>| out.extend_from_slice(values);
        let site = (kind, shape, support, offset);
        self.record_with(name, site, write, log_density, ln_jacobian);
    }

    /// [`record`](Self::record) with the site's values appended by `write` (the
    /// columns of a draw take them without a buffer in between); `site` is its kind,
    /// shape, support and unconstrained offset and length.
    fn record_with(
        &mut self,
        name: &dyn Fn() -> String,
        site: SiteHead,
        write: impl FnOnce(&mut Vec<f64>),
        log_density: f64,
        ln_jacobian: f64,
    ) {
        let (kind, shape, support, offset) = site;
        let is_column = matches!(kind, SiteKind::Latent | SiteKind::Deterministic);
        if !self.detailed || !(is_column || self.observed) {
            if is_column {
                write(&mut self.values);
            }
            return;
        }
        let start = self.values.len();
        write(&mut self.values);
        // discovery keeps only the layout
        let values = if self.discovering {
            Vec::new()
        } else {
            self.values[start..].to_vec()
        };
        if !is_column {
            self.values.truncate(start);
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
            values,
            pointwise: Vec::new(),
        });
    }

    /// Records a vector latent site from its values in the model's scalar.
    #[allow(clippy::too_many_arguments)]
    fn record_latent<T: Real>(
        &mut self,
        name: &dyn Fn() -> String,
        shape: Shape,
        support: Support<f64>,
        offset: (usize, usize),
        values: &[T],
        log_density: f64,
        ln_jacobian: f64,
    ) {
        let site = (SiteKind::Latent, shape, Some(support), Some(offset));
        let write = |out: &mut Vec<f64>| out.extend(values.iter().map(|v| v.value()));
        self.record_with(name, site, write, log_density, ln_jacobian);
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
            values_only: false,
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
        if self.values_only {
            return Ok(());
        }
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
            let site = (SiteKind::Deterministic, value.shape(), None, None);
            trace.record_with(&name, site, |out| value.write(out), 0.0, 0.0);
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
