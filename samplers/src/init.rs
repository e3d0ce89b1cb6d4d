//! Where chains start.

use rand::{Rng, RngExt};
use tilde_core::{Error, LogDensity, Model, Result, Watched};

use crate::kernel::Kernel;

/// How a chain picks its starting point. Every strategy retries up to 100 candidates
/// until the log-density and its gradient are finite.
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// Uniform on `(-r, r)` in unconstrained space, with `r = 2` by default (Stan's).
    Uniform(f64),
    /// The element-wise median of 15 prior draws in unconstrained space (NumPyro's
    /// `init_to_median`).
    PriorMedian,
    /// One draw from the prior.
    PriorDraw,
    /// Constrained values by site name (`("tau", vec![2.0])`); sites left out start
    /// uniformly on `(-2, 2)` in unconstrained space.
    Values(Vec<(String, Vec<f64>)>),
    /// An unconstrained position, given whole.
    Unconstrained(Vec<f64>),
    /// Another strategy's point moved by a uniform jitter on `(-radius, radius)` in
    /// each unconstrained coordinate, drawn per chain: fixed starts
    /// ([`Values`](Init::Values), [`Unconstrained`](Init::Unconstrained)) then give
    /// each chain its own point near the one given, as Stan's `init_radius` around a
    /// user's inits. Spelled [`Init::jitter`]; the point stays inside every site's
    /// support, as any unconstrained point does.
    Jittered(Box<Init>, f64),
}

impl Default for Init {
    /// `Uniform(2.0)`, as Stan.
    fn default() -> Self {
        Init::Uniform(2.0)
    }
}

impl Init {
    /// This strategy's point moved by a uniform jitter on `(-radius, radius)` per
    /// unconstrained coordinate, independently in each chain ([`Init::Jittered`]);
    /// `radius` must be positive and finite (checked when a run starts).
    ///
    /// # Example
    /// ```
    /// use tilde_samplers::Init;
    ///
    /// // every chain near tau = 2, each at its own point
    /// let init = Init::Values(vec![("tau".into(), vec![2.0])]).jitter(0.5);
    /// assert!(matches!(init, Init::Jittered(_, r) if r == 0.5));
    /// ```
    pub fn jitter(self, radius: f64) -> Init {
        Init::Jittered(Box::new(self), radius)
    }

    /// Checks the strategy's settings (radii), before any work.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the radius.
    pub fn validate(&self) -> Result<()> {
        match self {
            // the width 2r of the interval must be finite too, so `f64::MAX` is out
            Init::Uniform(r) if !(*r > 0.0 && (2.0 * r).is_finite()) => {
                Err(Error::InvalidConfig(format!(
                    "the uniform init radius must be positive and at most {:e}, got {r}",
                    f64::MAX / 2.0
                )))
            }
            Init::Jittered(base, r) => {
                if !(*r > 0.0 && (2.0 * r).is_finite()) {
                    return Err(Error::InvalidConfig(format!(
                        "the init jitter radius must be positive and at most {:e}, got {r}",
                        f64::MAX / 2.0
                    )));
                }
                base.validate()
            }
            _ => Ok(()),
        }
    }

    /// One candidate position, its discrete coordinates in their supports.
    fn candidate<M: Model + ?Sized, R: Rng>(&self, model: &M, rng: &mut R) -> Result<Vec<f64>> {
        let mut x = self.continuous_candidate(model, rng)?;
        settle_discrete(model, rng, &mut x);
        Ok(x)
    }

    /// One candidate position, drawn as if every coordinate were continuous.
    fn continuous_candidate<M: Model + ?Sized, R: Rng>(
        &self,
        model: &M,
        rng: &mut R,
    ) -> Result<Vec<f64>> {
        let dim = model.dim();
        let uniform = |rng: &mut R, r: f64| -> Vec<f64> {
            (0..dim).map(|_| rng.random_range(-r..r)).collect()
        };
        match self {
            Init::Uniform(r) => {
                self.validate()?;
                Ok(uniform(rng, *r))
            }
            Init::Jittered(base, r) => {
                self.validate()?;
                let mut x = match base.candidate(model, rng) {
                    Err(Error::InvalidConfig(_))
                        if matches!(**base, Init::PriorMedian | Init::PriorDraw) =>
                    {
                        Init::Uniform(2.0).candidate(model, rng)?
                    }
                    other => other?,
                };
                x.iter_mut().for_each(|v| *v += rng.random_range(-*r..*r));
                Ok(x)
            }
            Init::PriorDraw => prior_draw(model, rng),
            Init::PriorMedian => {
                let draws: Vec<Vec<f64>> = (0..15)
                    .map(|_| prior_draw(model, rng))
                    .collect::<Result<_>>()?;
                Ok((0..dim)
                    .map(|i| {
                        let mut col: Vec<f64> =
                            draws.iter().map(|d| d[i]).filter(|v| !v.is_nan()).collect();
                        col.sort_by(f64::total_cmp);
                        col.get(col.len() / 2).copied().unwrap_or(0.0)
                    })
                    .collect())
            }
            Init::Values(values) => {
                let mut x = uniform(rng, 2.0);
                for (name, value) in values {
                    let site = model
                        .layout()
                        .site(name)
                        .ok_or_else(|| Error::UnknownName {
                            name: name.clone(),
                            known: model.layout().latent().map(|s| s.name.clone()).collect(),
                        })?;
                    let (Some(offset), Some(support)) = (site.offset, site.support) else {
                        return Err(Error::InvalidConfig(format!(
                            "`{name}` is not a latent site"
                        )));
                    };
                    if value.len() != site.shape.len() {
                        return Err(Error::InvalidConfig(format!(
                            "initial value of `{name}` needs {} numbers, got {}",
                            site.shape.len(),
                            value.len()
                        )));
                    }
                    let outside = |k: usize, v: f64| {
                        Error::InvalidConfig(format!(
                            "initial value of `{name}`{} is {v}, outside the site's support {}",
                            if value.len() > 1 {
                                format!(" at index {k}")
                            } else {
                                String::new()
                            },
                            support
                        ))
                    };
                    if let Some((k, v)) = value
                        .iter()
                        .enumerate()
                        .find(|(_, v)| !support.contains(**v))
                    {
                        return Err(outside(k, *v));
                    }
                    if let Some(vector) = support.vector_bijector() {
                        let y = vector.inverse(value);
                        if y.len() != site.num_unconstrained || y.iter().any(|v| !v.is_finite()) {
                            return Err(Error::InvalidConfig(format!(
                                "initial value of `{name}` [{}] is outside the site's \
                                 support {}",
                                tilde_core::short_list(value),
                                support
                            )));
                        }
                        x[offset..offset + y.len()].copy_from_slice(&y);
                        continue;
                    }
                    if support.is_discrete() {
                        // a discrete site's coordinate holds its value
                        x[offset..offset + value.len()].copy_from_slice(value);
                        continue;
                    }
                    let bijector = support.bijector().ok_or_else(|| {
                        Error::InvalidConfig(format!("`{name}` has a discrete support"))
                    })?;
                    for (k, v) in value.iter().enumerate() {
                        let y = bijector.inverse(*v);
                        if !y.is_finite() {
                            return Err(outside(k, *v));
                        }
                        x[offset + k] = y;
                    }
                }
                Ok(x)
            }
            Init::Unconstrained(x) => {
                if x.len() != dim {
                    return Err(Error::DimensionMismatch {
                        expected: dim,
                        found: x.len(),
                    });
                }
                Ok(x.clone())
            }
        }
    }

    /// Whether every candidate is the same point (no point retrying).
    fn is_fixed<M: Model + ?Sized>(&self, model: &M) -> bool {
        match self {
            Init::Unconstrained(_) => true,
            Init::Values(v) => {
                v.iter()
                    .map(|(n, _)| model.layout().site(n).map_or(0, |s| s.num_unconstrained))
                    .sum::<usize>()
                    == model.dim()
            }
            _ => false,
        }
    }

    /// A point where the log-density and its gradient are finite, found by this
    /// strategy (up to 100 candidates): what variational guides and optimisers start
    /// from. `PriorMedian` and `PriorDraw` fall back to `Uniform(2.0)` for a model that
    /// cannot draw from its prior (a hand-written [`LogDensity`](tilde_core::LogDensity)).
    ///
    /// # Errors
    /// [`Error::InitFailed`] naming the site whose log-density is not finite at the last
    /// candidate, the model's structural fault (e.g. [`Error::LayoutChanged`]) behind a
    /// candidate's non-finite log-density, or the strategy's own errors.
    pub fn position<M: Model + ?Sized, R: Rng>(&self, model: &M, rng: &mut R) -> Result<Vec<f64>> {
        let tries = if self.is_fixed(model) { 1 } else { 100 };
        let mut grad = vec![0.0; model.dim()];
        let mut last = Vec::new();
        let watched = Watched::new(model);
        for _ in 0..tries {
            let x = match self.candidate(model, rng) {
                Err(Error::InvalidConfig(_))
                    if matches!(self, Init::PriorMedian | Init::PriorDraw) =>
                {
                    Init::Uniform(2.0).candidate(model, rng)?
                }
                other => other?,
            };
            let lp = watched.logp_and_grad(&x, &mut grad);
            watched.check()?;
            if lp.is_finite() && grad.iter().all(|g| g.is_finite()) {
                return Ok(x);
            }
            last = x;
        }
        Err(Error::InitFailed {
            tries,
            reason: explain(model, &last),
        })
    }

    /// A valid starting state, or an error naming the site whose log-density is not
    /// finite at the last candidate.
    ///
    /// # Errors
    /// [`Error::InitFailed`] after 100 failed candidates, the model's structural fault
    /// behind a candidate's non-finite log-density, or the strategy's own errors.
    pub fn start<M: Model + ?Sized, K: Kernel, R: Rng>(
        &self,
        kernel: &K,
        model: &M,
        rng: &mut R,
    ) -> Result<K::State> {
        let tries = if self.is_fixed(model) { 1 } else { 100 };
        let mut last = Vec::new();
        let watched = Watched::new(model);
        for _ in 0..tries {
            let x = self.candidate(model, rng)?;
            match kernel.init(&watched, &x) {
                Ok(state) => {
                    watched.check()?;
                    return Ok(state);
                }
                // a setting the kernel rejects is not a bad candidate point
                Err(e @ Error::InvalidConfig(_)) => return Err(e),
                Err(_) => watched.check()?,
            }
            last = x;
        }
        Err(Error::InitFailed {
            tries,
            reason: explain(model, &last),
        })
    }
}

/// Puts each discrete coordinate of `x` that is not a value of its site's support (a
/// uniform or jittered candidate's) at a value drawn from the prior, or at 0 for a model
/// that cannot draw one.
fn settle_discrete<M: Model + ?Sized, R: Rng>(model: &M, rng: &mut R, x: &mut [f64]) {
    let layout = model.layout();
    if !layout.has_discrete() {
        return;
    }
    let mut prior: Option<Vec<f64>> = None;
    for site in layout.discrete() {
        let (Some(offset), Some(support)) = (site.offset, site.support) else {
            continue;
        };
        let Some(slot) = x.get_mut(offset) else {
            continue;
        };
        if support.contains(*slot) {
            continue;
        }
        let draw = prior.get_or_insert_with(|| prior_draw(model, rng).unwrap_or_default());
        *slot = draw
            .get(offset)
            .copied()
            .filter(|v| support.contains(*v))
            .unwrap_or(0.0);
    }
}

/// A prior draw in unconstrained space, checked to have the model's dimension (a model
/// whose layout changes with its parameters may draw fewer values).
fn prior_draw<M: Model + ?Sized, R: Rng>(model: &M, rng: &mut R) -> Result<Vec<f64>> {
    let x = model.draw_prior(rng)?;
    if x.len() != model.dim() {
        return Err(Error::LayoutChanged {
            expected: model.dim(),
            found: x.len(),
            site: None,
        });
    }
    Ok(x)
}

/// Which term of a model's log-density (or its gradient) is not finite at the
/// unconstrained point `x`, in words: the site, its value and support. Initialisation
/// and variational inference put it in their errors.
///
/// A point whose length is not the model's dimension is explained as such.
pub fn explain<M: Model + ?Sized>(model: &M, x: &[f64]) -> String {
    if x.len() != model.dim() {
        return format!(
            "the candidate point has {} values where the model's dimension is {}",
            x.len(),
            model.dim()
        );
    }
    if x.iter().any(|v| !v.is_finite()) {
        return format!(
            "the candidate point itself is not finite ([{}])",
            tilde_core::short_list(x)
        );
    }
    let parts = model.logp_breakdown(x);
    if let Some(bad) = parts.iter().find(|p| !p.is_finite()) {
        return format!("site {bad}");
    }
    let mut grad = vec![0.0; x.len()];
    model.logp_and_grad(x, &mut grad);
    let names = model.layout().column_names();
    match grad.iter().position(|g| !g.is_finite()) {
        Some(i) => format!(
            "the gradient is not finite in component {i} (`{}`) although every site's log-density is",
            names.get(i).map_or("?", String::as_str)
        ),
        None => "the log-density is not finite".into(),
    }
}
