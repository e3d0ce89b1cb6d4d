//! The evaluators built on a [`Ctx`]: the log-density in any scalar, traces for
//! layouts, draws and breakdowns, prior draws, simulation, pointwise log-likelihoods,
//! constraining and the structural check.

use std::collections::HashSet;

use rand::Rng;

use super::{Ctx, Latent, Stop, StopReason, Trace, WORK_F64, with_scratch};
use crate::error::{Error, Result};
use crate::layout::{Layout, SiteInfo, SiteKind};
use crate::model::{Draw, ModelBody, ModelState, SiteLogp};
use crate::real::{F64Ops, Real};

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

/// Runs the body once at `x` recording into `trace`; with `values_only`, observed
/// sites score nothing (only the columns of a draw are wanted).
fn trace_into<M: ModelBody + ?Sized>(
    model: &M,
    x: &[f64],
    trace: &mut Trace,
    values_only: bool,
) -> Option<Error> {
    with_scratch(&WORK_F64, model.state().layout.work_len(), 0.0, |work| {
        let mut ctx = Ctx::new(x, work, Some(trace));
        ctx.values_only = values_only;
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
    })
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
    let mode = Mode {
        prior: Some(rng),
        ..Mode::default()
    };
    let trace = traced_run(model, Trace::new(false, false), mode)?;
    let dim = model.state().layout.dim();
    // a body that skipped latent sites in the prior draw changed its layout
    if trace.unconstrained.len() != dim {
        return Err(Error::LayoutChanged {
            expected: dim,
            found: trace.unconstrained.len(),
            site: None,
        });
    }
    Ok(trace.unconstrained)
}

/// How [`traced_run`] runs the body: the fields of [`Ctx`] that pick what its sites do.
#[derive(Default)]
pub(super) struct Mode<'x> {
    pub prior: Option<&'x mut dyn Rng>,
    pub fixed: Option<&'x [f64]>,
    pub simulate: bool,
    pub infer: bool,
}

/// Runs the body once at the zero point (sites take their values from `mode`), recording
/// into `trace`; the fault that stopped it is the error.
pub(super) fn traced_run<M: ModelBody + ?Sized>(
    model: &M,
    mut trace: Trace,
    mode: Mode<'_>,
) -> Result<Trace> {
    let layout = &model.state().layout;
    let x = vec![0.0; layout.dim()];
    let mut work = vec![0.0; layout.work_len()];
    let outcome = {
        let mut ctx = Ctx::new(&x, &mut work, Some(&mut trace));
        if let Some(rng) = mode.prior {
            ctx.prior = Some(rng);
        }
        ctx.fixed = mode.fixed;
        ctx.simulate = mode.simulate;
        ctx.infer = mode.infer;
        model.body(&mut ctx)
    };
    match outcome {
        Err(Stop(StopReason::Fault(e))) => Err(*e),
        _ => Ok(trace),
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
    let mode = Mode {
        prior: Some(rng),
        fixed,
        simulate: true,
        ..Mode::default()
    };
    let trace = traced_run(model, Trace::new(true, false), mode)?;
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
    let mode = Mode {
        fixed: Some(row),
        ..Mode::default()
    };
    let trace = traced_run(model, Trace::new(true, false), mode)?;
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

/// One latent site evaluated alone at the unconstrained coordinates `xs` (the
/// parameter vector from the site on), its values in `work`: its log-density (with its
/// log-Jacobian when `jacobian`), the number of coordinates it read, and its values.
/// `None` when it stops (`work` too short, or a fault). The gradient code `#[model]`
/// generates evaluates the latent vector sites it does not write out with this.
pub fn latent_alone<'x, T: Real, S>(
    site: S,
    xs: &'x [T],
    work: &'x mut [T],
    jacobian: bool,
) -> Option<(T, usize, &'x [T])>
where
    S: Latent<Scalar = T, Value<'x> = &'x [T]>,
{
    let mut ctx = Ctx::new(xs, work, None);
    ctx.jacobian = jacobian;
    let values = site.sample(&mut ctx, &String::new).ok()?;
    Some((ctx.target(), ctx.pos, values))
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
    // the draw's row is the trace's record of values: no buffer in between
    let mut trace = Trace::new(false, false);
    trace.values = std::mem::take(out);
    trace.values.clear();
    trace_into(model, x, &mut trace, true);
    *out = std::mem::take(&mut trace.values);
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
    let mut trace = Trace::new(true, false);
    let fault = trace_into(model, x, &mut trace, false);
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
