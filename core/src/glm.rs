//! Generalised linear models as single observation sites: the likelihood of a whole
//! data vector under a linear predictor `η = α + X β`, recorded as one node with
//! analytic partials (Stan's `normal_id_glm`, `bernoulli_logit_glm`, `poisson_log_glm`).
//!
//! Written element by element, `y[i] ~ Bernoulli(logit(α + x[i]·β))` records `O(n·d)`
//! nodes; as a GLM site it records one, and its gradient costs about twice a plain
//! evaluation whatever `n` and `d` are.
//!
//! In a model: `sample!("y", Glm::bernoulli_logit(x, beta, alpha), obs = y)` with `x`
//! the row-major `n × d` design matrix, `beta` a latent `.iid(d)` site and `alpha` a
//! scalar. On its own:
//!
//! ```
//! use tilde_core::glm::Glm;
//!
//! let x = [0.5, -1.0, 1.5, 0.2];                   // 2 rows × 2 columns, row-major
//! let beta = [0.3, -0.4];
//! let glm = Glm::bernoulli_logit(&x, &beta, 0.1);
//! // η = (0.65, 0.47): ln σ(0.65) + ln(1 - σ(0.47))
//! let want = -(1.0 + (-0.65f64).exp()).ln() - (1.0 + 0.47f64.exp()).ln();
//! assert!((glm.ln_pdf_obs(&[true, false]) - want).abs() < 1e-14);
//! ```

use std::cell::RefCell;

use crate::context::with_scratch;
use crate::distributions::ObsVector;
use crate::real::Real;
use crate::support::Support;

/// The observation model of a [`Glm`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Family<T> {
    /// `yᵢ ~ Normal(ηᵢ, scale)`.
    Normal {
        /// The standard deviation.
        scale: T,
    },
    /// `yᵢ ~ Bernoulli(logit⁻¹(ηᵢ))`, `yᵢ ∈ {0, 1}`.
    BernoulliLogit,
    /// `yᵢ ~ Poisson(exp(ηᵢ))`, `yᵢ ∈ {0, 1, 2, …}`.
    PoissonLog,
}

/// A generalised linear model over a data matrix: an observed site for a whole vector.
///
/// `x` is the `n × d` design matrix in row-major order (`x[i * d + j]`), `d` is
/// `beta.len()`, and the observation must have `n = x.len() / d` values.
///
/// # Density
/// ```text
/// ηᵢ = α + Σⱼ xᵢⱼ βⱼ
/// normal:          ln p = Σᵢ [ -(yᵢ - ηᵢ)² / (2σ²) - ln σ - ln √(2π) ]
/// bernoulli_logit: ln p = Σᵢ [ yᵢ ηᵢ - ln(1 + e^{ηᵢ}) ]
/// poisson_log:     ln p = Σᵢ [ yᵢ ηᵢ - e^{ηᵢ} - ln yᵢ! ]
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Glm<'a, T> {
    x: &'a [f64],
    beta: &'a [T],
    intercept: T,
    family: Family<T>,
}

impl<'a, T: Real> Glm<'a, T> {
    /// `yᵢ ~ Normal(α + xᵢ·β, σ)`.
    pub fn normal(
        x: &'a [f64],
        beta: &'a [T],
        intercept: impl Into<T>,
        scale: impl Into<T>,
    ) -> Self {
        Glm {
            x,
            beta,
            intercept: intercept.into(),
            family: Family::Normal {
                scale: scale.into(),
            },
        }
    }

    /// `yᵢ ~ Bernoulli(logit⁻¹(α + xᵢ·β))`.
    pub fn bernoulli_logit(x: &'a [f64], beta: &'a [T], intercept: impl Into<T>) -> Self {
        Glm {
            x,
            beta,
            intercept: intercept.into(),
            family: Family::BernoulliLogit,
        }
    }

    /// `yᵢ ~ Poisson(exp(α + xᵢ·β))`.
    pub fn poisson_log(x: &'a [f64], beta: &'a [T], intercept: impl Into<T>) -> Self {
        Glm {
            x,
            beta,
            intercept: intercept.into(),
            family: Family::PoissonLog,
        }
    }

    /// The number of observations the design matrix has rows for; `None` when its
    /// length is not a multiple of `beta.len()`.
    pub fn rows(&self) -> Option<usize> {
        let d = self.beta.len();
        if d == 0 {
            return Some(0);
        }
        self.x.len().is_multiple_of(d).then_some(self.x.len() / d)
    }

    /// The family.
    pub fn family(&self) -> Family<T> {
        self.family
    }

    /// The support of each observation.
    pub fn support(&self) -> Support<f64> {
        match self.family {
            Family::Normal { .. } => Support::Real,
            Family::BernoulliLogit => Support::Boolean,
            Family::PoissonLog => Support::NonNegativeIntegers,
        }
    }

    /// The log-density of `y` (length [`rows`](Self::rows)), one node with partials in
    /// `α`, `β` and the scale. `-∞` for invalid values or parameters.
    ///
    /// # Panics
    /// When `y` does not have one value per row (a caller-contract mismatch; the
    /// `sample!` site reports it as an error instead).
    pub fn ln_pdf_obs<V: ObsVector + ?Sized>(&self, y: &V) -> T {
        let d = self.beta.len();
        assert_eq!(
            self.rows(),
            Some(y.len()),
            "Glm: the design matrix needs one row of {d} values per observation"
        );
        let alpha = self.intercept.value();
        let family = match self.family {
            Family::Normal { scale } => Family::Normal {
                scale: scale.value(),
            },
            Family::BernoulliLogit => Family::BernoulliLogit,
            Family::PoissonLog => Family::PoissonLog,
        };
        with_scratch(&ROW_SCRATCH, 2 * d, 0.0, |scratch| {
            let (beta, grad_beta) = scratch.split_at_mut(d);
            for (b, p) in beta.iter_mut().zip(self.beta) {
                *b = p.value();
            }
            grad_beta.iter_mut().for_each(|g| *g = 0.0);
            let (mut grad_alpha, mut grad_scale) = (0.0, 0.0);
            let gradient = T::TRACKS_DERIVATIVES.then_some(Gradient {
                intercept: &mut grad_alpha,
                beta: grad_beta,
                scale: &mut grad_scale,
            });
            let total = value_and_gradient(self.x, beta, alpha, family, y, gradient);
            if !total.is_finite() {
                return T::from(f64::NEG_INFINITY);
            }
            let scale_term = match self.family {
                Family::Normal { scale } => Some((scale, grad_scale)),
                _ => None,
            };
            let head = std::iter::once((self.intercept, grad_alpha)).chain(scale_term);
            T::fused(
                total,
                head.chain(self.beta.iter().copied().zip(grad_beta.iter().copied())),
            )
        })
    }
}

impl Glm<'_, f64> {
    /// The log-density of `y` (length [`rows`](Self::rows)), `-∞` for invalid values or
    /// parameters, with its partials in `α`, the scale (0 but for the normal family)
    /// and `β` **added** to `grad_intercept`, `grad_scale` and `grad_beta` (left as
    /// they are when `grad_beta` is empty: `β` is data). The gradient code `#[model]`
    /// generates calls this.
    ///
    /// # Panics
    /// When `y` does not have one value per row, or `grad_beta` is neither empty nor
    /// of `β`'s length (caller-contract mismatches).
    pub fn ln_pdf_obs_and_grad<V: ObsVector + ?Sized>(
        &self,
        y: &V,
        grad_intercept: &mut f64,
        grad_beta: &mut [f64],
        grad_scale: &mut f64,
    ) -> f64 {
        let d = self.beta.len();
        assert_eq!(
            self.rows(),
            Some(y.len()),
            "Glm: the design matrix needs one row of {d} values per observation"
        );
        assert!(
            grad_beta.is_empty() || grad_beta.len() == d,
            "Glm: a gradient of β needs {d} values"
        );
        with_scratch(&ROW_SCRATCH, 2 * d, 0.0, |scratch| {
            let (beta, gb) = scratch.split_at_mut(d);
            beta.copy_from_slice(self.beta);
            gb.iter_mut().for_each(|g| *g = 0.0);
            let gradient = Gradient {
                intercept: grad_intercept,
                beta: if grad_beta.is_empty() { &mut [] } else { gb },
                scale: grad_scale,
            };
            let total =
                value_and_gradient(self.x, beta, self.intercept, self.family, y, Some(gradient));
            for (g, b) in grad_beta.iter_mut().zip(gb.iter()) {
                *g += b;
            }
            total
        })
    }
}

/// Where [`value_and_gradient`] adds the partials (of `β` only when `beta` is not
/// empty).
struct Gradient<'g> {
    intercept: &'g mut f64,
    beta: &'g mut [f64],
    scale: &'g mut f64,
}

/// The log-density of `y` under the GLM at `f64` parameter values (`-∞` for invalid
/// values or parameters), and its partials added to `gradient` when there is one.
fn value_and_gradient<V: ObsVector + ?Sized>(
    x: &[f64],
    beta: &[f64],
    alpha: f64,
    family: Family<f64>,
    y: &V,
    mut gradient: Option<Gradient<'_>>,
) -> f64 {
    let d = beta.len();
    let scale = match family {
        Family::Normal { scale } => {
            if !(scale > 0.0 && scale.is_finite()) {
                return f64::NEG_INFINITY;
            }
            scale
        }
        _ => 1.0,
    };
    // the rows' contributions to β's gradient, added `ROWS_AT_ONCE` rows at a time (one
    // pass over the gradient for rows that are still in cache)
    let mut pending: [(f64, usize); ROWS_AT_ONCE] = [(0.0, 0); ROWS_AT_ONCE];
    let mut waiting = 0;
    let (mut total, mut grad_alpha, mut grad_scale) = (0.0, 0.0, 0.0);
    let inv_var = 1.0 / (scale * scale);
    for i in 0..y.len() {
        let row = &x[i * d..(i + 1) * d];
        let eta = alpha + crate::simd::dot(row, beta);
        let yi = y.get_f64(i);
        let (value, g) = match family {
            Family::Normal { .. } => {
                let r = yi - eta;
                grad_scale += r * r * inv_var / scale - 1.0 / scale;
                (
                    -0.5 * r * r * inv_var - scale.ln() - 0.918_938_533_204_672_8,
                    r * inv_var,
                )
            }
            Family::BernoulliLogit => {
                if yi != 0.0 && yi != 1.0 {
                    return f64::NEG_INFINITY;
                }
                // y η - ln(1 + e^η) = ln p or ln(1 - p), derivative y - p
                let v = crate::distributions::ProbValues::of_logit(eta);
                if yi == 1.0 {
                    (v.ln_p, v.q)
                } else {
                    (v.ln_q, -v.p)
                }
            }
            Family::PoissonLog => {
                if yi < 0.0 || yi.fract() != 0.0 {
                    return f64::NEG_INFINITY;
                }
                let rate = eta.exp();
                (
                    yi * eta - rate - crate::special::lgamma(yi + 1.0),
                    yi - rate,
                )
            }
        };
        total += value;
        let Some(gradient) = gradient.as_mut().filter(|g| !g.beta.is_empty()) else {
            grad_alpha += g;
            continue;
        };
        grad_alpha += g;
        if d < ROWS_AT_ONCE_FROM {
            crate::simd::axpy(g, row, gradient.beta);
        } else {
            pending[waiting] = (g, i);
            waiting += 1;
            if waiting == ROWS_AT_ONCE {
                let weights = pending.map(|(g, _)| g);
                let rows = pending.map(|(_, r)| &x[r * d..(r + 1) * d]);
                crate::simd::axpy_rows(&weights, &rows, gradient.beta);
                waiting = 0;
            }
        }
    }
    if let Some(gradient) = gradient {
        for &(g, r) in &pending[..waiting] {
            crate::simd::axpy(g, &x[r * d..(r + 1) * d], gradient.beta);
        }
        *gradient.intercept += grad_alpha;
        *gradient.scale += grad_scale;
    }
    total
}

/// How many rows' gradient contributions [`Glm::ln_pdf_obs`] adds in one pass.
const ROWS_AT_ONCE: usize = 8;

/// The row length from which [`Glm::ln_pdf_obs`] adds rows' contributions together
/// (shorter rows are added one by one, as cheaply).
const ROWS_AT_ONCE_FROM: usize = 16;

impl<T: Real> Glm<'_, T> {
    /// The log-density of each row's observation, at the parameters' values.
    ///
    /// # Panics
    /// When `y` does not have one value per row (a caller-contract mismatch, as
    /// [`ln_pdf_obs`](Self::ln_pdf_obs)).
    pub fn ln_pdf_rows(&self, y: &[f64]) -> Vec<f64> {
        assert_eq!(
            self.rows(),
            Some(y.len()),
            "Glm: the design matrix needs one row of {} values per observation",
            self.beta.len()
        );
        let d = self.beta.len();
        y.iter()
            .enumerate()
            .map(|(i, &yi)| {
                let row = Glm {
                    x: &self.x[i * d..(i + 1) * d],
                    ..*self
                };
                row.ln_pdf_obs(&[yi]).value()
            })
            .collect()
    }

    /// One simulated observation per row, at the parameters' values; NaN for a row
    /// whose parameters are invalid (a negative or non-finite scale, a NaN linear
    /// predictor, a rate too large to draw from), and no values when the design matrix's length is not a multiple of
    /// `beta.len()` (see [`rows`](Self::rows)).
    pub fn draw(&self, rng: &mut dyn rand::Rng) -> Vec<f64> {
        use rand_distr::Distribution as _;
        let d = self.beta.len().max(1);
        let rows = self.rows().unwrap_or(0);
        (0..rows)
            .map(|i| {
                let row = &self.x[i * d..(i + 1) * d];
                let eta = self.intercept.value()
                    + row
                        .iter()
                        .zip(self.beta)
                        .map(|(a, b)| a * b.value())
                        .sum::<f64>();
                match self.family {
                    Family::Normal { scale } => rand_distr::Normal::new(eta, scale.value())
                        .map_or(f64::NAN, |n| n.sample(rng)),
                    Family::BernoulliLogit => {
                        f64::from(u8::from(rand::RngExt::random::<f64>(rng) < eta.inv_logit()))
                    }
                    // a rate that underflows to 0 draws 0 (rand_distr refuses a zero rate)
                    Family::PoissonLog if eta.exp() == 0.0 => 0.0,
                    Family::PoissonLog => {
                        rand_distr::Poisson::new(eta.exp()).map_or(f64::NAN, |p| p.sample(rng))
                    }
                }
            })
            .collect()
    }
}

thread_local! {
    static ROW_SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn release_scratch() -> usize {
    crate::context::release_buffer(&ROW_SCRATCH)
}

pub(crate) fn scratch_bytes() -> usize {
    crate::context::buffer_bytes(&ROW_SCRATCH)
}

/// `Σⱼ xⱼ βⱼ` of data `x` and parameters `β`, one node with partials `xⱼ`.
///
/// # Panics
/// When the lengths differ.
pub fn dot<T: Real>(x: &[f64], beta: &[T]) -> T {
    assert_eq!(
        x.len(),
        beta.len(),
        "dot: lengths {} and {} differ",
        x.len(),
        beta.len()
    );
    let value = x.iter().zip(beta).map(|(a, b)| a * b.value()).sum();
    T::fused(value, beta.iter().copied().zip(x.iter().copied()))
}

/// A design matrix built column by column, for [`Glm`]: numeric columns, dummy
/// (one-hot) columns from categorical data, and products of columns, with a name per
/// column; [`matrix`](Self::matrix) gives the row-major slice `Glm` takes. The
/// intercept is `Glm`'s own argument, so no column of ones is added.
///
/// ```
/// use tilde_core::glm::Design;
///
/// let height = [1.5, 1.8, 1.6, 1.7];
/// let group = ["a", "b", "c", "b"];            // any labels: strings, integers, …
/// let design = Design::new(4)
///     .column("height", &height)?
///     .dummies("group", &group)?               // `group[b]`, `group[c]`; `a` is the reference
///     .product("height:group[b]", "height", "group[b]")?;
/// assert_eq!(design.names(), ["height", "group[b]", "group[c]", "height:group[b]"]);
/// assert_eq!(design.num_columns(), 4);
/// assert_eq!(&design.matrix()[4..8], &[1.8, 1.0, 0.0, 1.8]);   // the second row
/// # Ok::<(), tilde_core::Error>(())
/// ```
///
/// In a model, with `beta` a latent `.iid(design.num_columns())` site:
/// `sample!("y", Glm::normal(x, beta, alpha, sigma), obs = y)` where `x` is
/// `&design.matrix()` passed as data.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    num_rows: usize,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl Design {
    /// An empty design for `num_rows` observations.
    pub fn new(num_rows: usize) -> Self {
        Design {
            num_rows,
            names: Vec::new(),
            columns: Vec::new(),
        }
    }

    /// Adds a numeric column.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when `values` does not hold
    /// one value per row, holds a non-finite value, or the name is taken.
    pub fn column(mut self, name: &str, values: &[f64]) -> crate::Result<Self> {
        self.check_new(name, values.len())?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(crate::Error::InvalidConfig(format!(
                "design column `{name}` has a non-finite value {} at row {i}",
                values[i]
            )));
        }
        self.names.push(name.to_string());
        self.columns.push(values.to_vec());
        Ok(self)
    }

    /// Adds one 0/1 column per level of `labels` but the first in sorted order (the
    /// reference level, absorbed by the intercept), named `name[level]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when `labels` does not hold
    /// one label per row, or a column name is taken.
    pub fn dummies<L: Ord + Clone + std::fmt::Display>(
        mut self,
        name: &str,
        labels: &[L],
    ) -> crate::Result<Self> {
        self.check_new(name, labels.len())?;
        let mut levels: Vec<&L> = labels.iter().collect();
        levels.sort();
        levels.dedup();
        for level in levels.into_iter().skip(1) {
            let column = format!("{name}[{level}]");
            self.check_new(&column, labels.len())?;
            let values = labels
                .iter()
                .map(|l| if l == level { 1.0 } else { 0.0 })
                .collect();
            self.names.push(column);
            self.columns.push(values);
        }
        Ok(self)
    }

    /// Adds the element-wise product of two existing columns (an interaction).
    ///
    /// # Errors
    /// [`Error::UnknownName`](crate::Error::UnknownName) for a column that is not in the
    /// design; [`Error::InvalidConfig`](crate::Error::InvalidConfig) when the name is
    /// taken.
    pub fn product(mut self, name: &str, a: &str, b: &str) -> crate::Result<Self> {
        let (i, j) = (self.index(a)?, self.index(b)?);
        let values: Vec<f64> = self.columns[i]
            .iter()
            .zip(&self.columns[j])
            .map(|(x, y)| x * y)
            .collect();
        self.check_new(name, values.len())?;
        self.names.push(name.to_string());
        self.columns.push(values);
        Ok(self)
    }

    /// The column names, in column order (the order of `beta`).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of columns (`beta`'s length).
    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }

    /// The number of rows (observations).
    pub fn num_rows(&self) -> usize {
        self.num_rows
    }

    /// The matrix row-major, `num_rows × num_columns` values: what [`Glm`] takes.
    pub fn matrix(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.num_rows * self.columns.len());
        for row in 0..self.num_rows {
            out.extend(self.columns.iter().map(|c| c[row]));
        }
        out
    }

    fn index(&self, name: &str) -> crate::Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| crate::Error::UnknownName {
                name: name.to_string(),
                known: self.names.clone(),
            })
    }

    fn check_new(&self, name: &str, len: usize) -> crate::Result<()> {
        if len != self.num_rows {
            return Err(crate::Error::InvalidConfig(format!(
                "design column `{name}` has {len} values for {} rows",
                self.num_rows
            )));
        }
        if self.names.iter().any(|n| n == name) {
            return Err(crate::Error::InvalidConfig(format!(
                "design column `{name}` is already in the design; rename it"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod design_tests {
    use super::{Design, Glm};

    #[test]
    fn dummies_drop_the_first_level_and_work_on_integers() {
        let design = Design::new(5).dummies("g", &[2u8, 0, 1, 2, 0]).unwrap();
        assert_eq!(design.names(), ["g[1]", "g[2]"]);
        assert_eq!(
            design.matrix(),
            [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        );
        let beta = [0.5, -1.0];
        let x = design.matrix();
        let glm = Glm::normal(&x, &beta, 0.0, 1.0);
        assert_eq!(glm.rows(), Some(5));
    }

    #[test]
    fn bad_columns_are_errors() {
        assert!(Design::new(2).column("a", &[1.0]).is_err());
        assert!(Design::new(2).column("a", &[1.0, f64::NAN]).is_err());
        let d = Design::new(2).column("a", &[1.0, 2.0]).unwrap();
        assert!(d.clone().column("a", &[3.0, 4.0]).is_err());
        assert!(d.clone().product("ab", "a", "b").is_err());
        assert!(d.dummies("c", &["x"]).is_err());
        assert_eq!(Design::new(0).matrix(), Vec::<f64>::new());
    }
}
