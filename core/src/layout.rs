//! Where each site of a model lives: names, shapes, supports and offsets.

use crate::support::Support;

/// What a site does in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SiteKind {
    /// A latent `sample!`: a parameter, read from the unconstrained vector.
    Latent,
    /// An observed `sample!` (`obs = …`): adds the log-density of data.
    Observed,
    /// A `deterministic!`: a derived quantity recorded in every draw.
    Deterministic,
    /// A `factor!`: an arbitrary term added to the log-density.
    Factor,
}

/// The shape of a site's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// One value.
    Scalar,
    /// A vector of the given length.
    Vector(usize),
    /// A `rows × cols` matrix, stored row-major.
    Matrix(usize, usize),
}

impl Shape {
    /// The number of scalar components.
    pub fn len(&self) -> usize {
        match *self {
            Shape::Scalar => 1,
            Shape::Vector(n) => n,
            Shape::Matrix(rows, cols) => rows * cols,
        }
    }

    /// `true` for an empty vector.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One site of a model, as laid out by its first evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteInfo {
    /// The site's name, with loop variables interpolated (`"y[3]"`).
    pub name: String,
    /// What the site does.
    pub kind: SiteKind,
    /// The shape of its value.
    pub shape: Shape,
    /// The support of a latent or observed site (bounds at the layout point).
    pub support: Option<Support<f64>>,
    /// Where a latent site starts in the unconstrained vector.
    pub offset: Option<usize>,
    /// How many unconstrained values a latent site reads (a simplex of `K` reads
    /// `K - 1`); 0 for other sites.
    pub num_unconstrained: usize,
}

impl SiteInfo {
    /// `true` for a discrete latent site (`Bernoulli`, `Categorical`, counts): its
    /// coordinate holds an integer of its support, with no bijector and no gradient.
    pub fn is_discrete(&self) -> bool {
        self.kind == SiteKind::Latent && self.support.is_some_and(|s| s.is_discrete())
    }

    /// The names of the scalar components: the name itself for a scalar site,
    /// `name[k]` for each element of a vector site, `name[i,j]` (0-based, row-major
    /// order) for a matrix site.
    pub fn component_names(&self) -> Vec<String> {
        match self.shape {
            Shape::Scalar => vec![self.name.clone()],
            Shape::Vector(n) => (0..n).map(|k| format!("{}[{k}]", self.name)).collect(),
            Shape::Matrix(rows, cols) => (0..rows * cols)
                .map(|k| format!("{}[{},{}]", self.name, k / cols, k % cols))
                .collect(),
        }
    }
}

/// The latent and deterministic sites of a model in declaration order, and the size of
/// its parameter space.
///
/// Observed sites and factors are not part of the layout: a model whose body loops
/// over `N` observations would otherwise keep `N` records (a formatted name each) and
/// pay for them at construction. [`Model::logp_breakdown`](crate::Model::logp_breakdown)
/// and [`Model::pointwise_log_likelihood`](crate::Model::pointwise_log_likelihood) list
/// them, computed when asked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    sites: Vec<SiteInfo>,
    dim: usize,
    work_len: usize,
    columns: Vec<String>,
}

impl Layout {
    /// A layout from its sites; `work_len` is the scratch a density evaluation needs for
    /// vector-valued latent sites.
    pub fn new(sites: Vec<SiteInfo>, work_len: usize) -> Self {
        let dim = sites.iter().map(|s| s.num_unconstrained).sum();
        let columns = sites
            .iter()
            .filter(|s| matches!(s.kind, SiteKind::Latent | SiteKind::Deterministic))
            .flat_map(SiteInfo::component_names)
            .collect();
        Layout {
            sites,
            dim,
            work_len,
            columns,
        }
    }

    /// The length of the unconstrained parameter vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Every latent and deterministic site, in declaration order.
    pub fn sites(&self) -> &[SiteInfo] {
        &self.sites
    }

    /// The latent sites, in declaration order.
    pub fn latent(&self) -> impl Iterator<Item = &SiteInfo> {
        self.sites.iter().filter(|s| s.kind == SiteKind::Latent)
    }

    /// The discrete latent sites, in declaration order.
    pub fn discrete(&self) -> impl Iterator<Item = &SiteInfo> {
        self.sites.iter().filter(|s| s.is_discrete())
    }

    /// `true` when the model has a discrete latent site.
    pub fn has_discrete(&self) -> bool {
        self.discrete().next().is_some()
    }

    /// The latent or deterministic site with this name.
    pub fn site(&self, name: &str) -> Option<&SiteInfo> {
        self.sites.iter().find(|s| s.name == name)
    }

    /// The names of the scalar components a draw holds: latent sites (constrained) and
    /// deterministic sites, in declaration order (`"mu"`, `"theta_raw[0]"`, …).
    pub fn column_names(&self) -> &[String] {
        &self.columns
    }

    /// Scratch length for vector-valued latent sites (used by the evaluators).
    pub fn work_len(&self) -> usize {
        self.work_len
    }
}
