//! Run-time faults of tilde.

use crate::real::Real;

/// `Result` with tilde's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A run-time fault: bad data, a model whose structure depends on its parameters, an
/// unknown site name, an initialisation that found no finite point.
///
/// Messages are lowercase and name the site and value at fault.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An observed value is NaN or infinite.
    #[error("observed site `{site}` has a non-finite value {value}{}", index_note(*index))]
    NonFiniteData {
        /// The site's name.
        site: String,
        /// The element of a vector observation, if any.
        index: Option<usize>,
        /// The offending value.
        value: f64,
    },
    /// A count distribution was given a value that is not a non-negative integer.
    #[error("observed site `{site}` needs {expected}, got {value}{}", index_note(*index))]
    InvalidObservation {
        /// The site's name.
        site: String,
        /// The element of a vector observation, if any.
        index: Option<usize>,
        /// The offending value.
        value: f64,
        /// What the distribution accepts.
        expected: &'static str,
    },
    /// An `obs` slice whose length differs from the site's `.iid(n)`.
    #[error(
        "observed site `{site}` is `.iid({expected})` but its `obs` has {found} values; \
         make the lengths agree"
    )]
    ObsLength {
        /// The site's name.
        site: String,
        /// `n` of `.iid(n)`.
        expected: usize,
        /// The length of the observation.
        found: usize,
    },
    /// Two sites produced the same name.
    #[error(
        "site name `{name}` is used twice; site names must be unique (interpolate the loop variable: `\"x[{{i}}]\"`)"
    )]
    DuplicateSite {
        /// The repeated name.
        name: String,
    },
    /// The model read a different number of latent values than its layout holds.
    #[error(
        "the model read {found} latent values where its layout has {expected}{}: \
         the number and sizes of latent sites must not depend on parameter values",
        site_note(site)
    )]
    LayoutChanged {
        /// The number of unconstrained values in the layout.
        expected: usize,
        /// The number the evaluation asked for (at least).
        found: usize,
        /// The site at which the mismatch showed, when known.
        site: Option<String>,
    },
    /// A latent vector site whose parameters do not fix its length, or fix two.
    #[error("latent site `{site}`: {reason}")]
    SiteLength {
        /// The site's name.
        site: String,
        /// What is wrong with the lengths, and the fix.
        reason: String,
    },
    /// A parameter vector of the wrong length.
    #[error("expected a parameter vector of length {expected}, got {found}")]
    DimensionMismatch {
        /// The model's dimension.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A name that is not among a model's sites or draws. The message lists the first
    /// 20 names and counts the rest.
    #[error("no site or draw named `{name}`; the names are: {}", name_list(known))]
    UnknownName {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// No starting point with a finite log-density and gradient was found.
    #[error(
        "initialisation failed after {tries} tries: {reason}; \
         give initial values, or check the priors' supports and the data"
    )]
    InitFailed {
        /// How many candidate points were tried.
        tries: usize,
        /// What was not finite at the last candidate: the site, its value and support.
        reason: String,
    },
    /// Variational inference met a non-finite evidence lower bound or gradient.
    #[error(
        "the ELBO is not finite at step {step}: {reason}; \
         lower the learning rate, use ClippedAdam, a smaller init_scale or other initial values"
    )]
    NonFiniteElbo {
        /// The optimisation step (0-based).
        step: usize,
        /// What was not finite: the site, its value and support, or the gradient entry.
        reason: String,
    },
    /// A sampler or driver setting that cannot work.
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
    /// Saved draws could not be written or read back: a file could not be created,
    /// written or opened, or its contents are not in the layout tilde writes. The message
    /// names the file (and line) at fault.
    #[error("saving or loading draws failed: {0}")]
    Io(String),
    /// Prior simulation met a latent site with an improper (flat) prior, which has no
    /// draws.
    #[error(
        "latent site `{site}` has an improper (flat) prior, which cannot be drawn from; \
         give it a proper prior to simulate from the prior"
    )]
    ImproperPrior {
        /// The site's name.
        site: String,
    },
    /// A computation whose inputs leave nothing to compute with: importance weights
    /// that are all zero, no draws to rank. The message says what and why.
    #[error("degenerate result: {0}")]
    Degenerate(String),
    /// A user's Gibbs update gave a site a value it cannot take (outside its support,
    /// of the wrong length, not finite) or named a site it does not update.
    #[error("the Gibbs update of site `{site}` is invalid: {reason}")]
    InvalidUpdate {
        /// The site's name.
        site: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// A model's body panicked while the model was built (its layout discovery, or data
    /// it computes once at construction): an index out of range of the data, say.
    #[error(
        "building model `{model}` panicked: {message}; check that the data have the lengths the body indexes"
    )]
    ModelPanicked {
        /// The model's name (the function's).
        model: String,
        /// The panic's message.
        message: String,
    },
    /// An invalid distribution or algorithm parameter.
    #[error(transparent)]
    Param(#[from] ParamError),
}

fn name_list(known: &[String]) -> String {
    short_list(known)
}

/// How many items [`short_list`] shows (and an [`Error::UnknownName`] message lists).
pub const ITEMS_SHOWN: usize = 20;

/// A list as messages print it: the first [`ITEMS_SHOWN`] items, comma-separated, then
/// how many more there are, so that a model of 10⁵ sites or a point of 10⁵ values
/// gives a readable error.
///
/// # Example
/// ```
/// use tilde_core::short_list;
///
/// assert_eq!(short_list(&["mu", "tau"]), "mu, tau");
/// let names: Vec<String> = (0..25).map(|i| format!("x[{i}]")).collect();
/// let shown = short_list(&names);
/// assert!(shown.starts_with("x[0], x[1], ") && shown.ends_with("x[19], … and 5 more"));
/// ```
pub fn short_list<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(ITEMS_SHOWN)
        .map(ToString::to_string)
        .collect();
    let shown = shown.join(", ");
    match items.len().saturating_sub(ITEMS_SHOWN) {
        0 => shown,
        rest => format!("{shown}, … and {rest} more"),
    }
}

fn index_note(index: Option<usize>) -> String {
    index.map(|i| format!(" at index {i}")).unwrap_or_default()
}

fn site_note(site: &Option<String>) -> String {
    site.as_ref()
        .map(|s| format!(" (at site `{s}`)"))
        .unwrap_or_default()
}

/// A distribution parameter outside its valid range, from a `try_new` constructor.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The named parameter fails its requirement.
    #[error("{name} must be {requirement}, got {value}")]
    Invalid {
        /// The parameter's name.
        name: &'static str,
        /// What it must be.
        requirement: &'static str,
        /// The value given.
        value: f64,
    },
}

impl ParamError {
    /// Checks that `value` is finite.
    pub fn check_finite<T: Real>(name: &'static str, value: T) -> Result<(), ParamError> {
        Self::require(name, "finite", value, |v| v.is_finite())
    }

    /// Checks that `value` is positive and finite.
    pub fn check_positive<T: Real>(name: &'static str, value: T) -> Result<(), ParamError> {
        Self::require(name, "positive and finite", value, |v| {
            v > 0.0 && v.is_finite()
        })
    }

    /// Checks that `value` lies in `[0, 1]`.
    pub fn check_probability<T: Real>(name: &'static str, value: T) -> Result<(), ParamError> {
        Self::require(name, "in [0, 1]", value, |v| (0.0..=1.0).contains(&v))
    }

    /// Checks `ok(value)`, reporting `requirement` when it fails.
    pub fn require<T: Real>(
        name: &'static str,
        requirement: &'static str,
        value: T,
        ok: impl FnOnce(f64) -> bool,
    ) -> Result<(), ParamError> {
        let v = value.value();
        if ok(v) {
            Ok(())
        } else {
            Err(ParamError::Invalid {
                name,
                requirement,
                value: v,
            })
        }
    }
}

/// An empty buffer with room for `rows × width` values, or [`Error::InvalidConfig`]
/// naming the setting `what` when that does not fit in memory (rather than an abort).
///
/// # Errors
/// When `rows × width` overflows or cannot be reserved.
pub fn try_buffer<T>(rows: usize, width: usize, what: &str) -> Result<Vec<T>> {
    let too_large = || {
        Error::InvalidConfig(format!(
            "{what} = {rows} needs {rows} × {width} values, which do not fit in memory"
        ))
    };
    let len = rows.checked_mul(width).ok_or_else(too_large)?;
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(len).map_err(|_| too_large())?;
    Ok(buffer)
}
