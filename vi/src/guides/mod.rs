//! The automatic guides: each works on any model, with no per-model code.

mod delta;
mod iaf;
mod laplace;
mod list;
mod low_rank;
mod multivariate;
mod normal;

pub use delta::AutoDelta;
pub use iaf::AutoIafNormal;
pub use laplace::AutoLaplaceApproximation;
pub(crate) use laplace::covariance_from_hessian;
pub use list::AutoGuideList;
pub use low_rank::AutoLowRankMultivariateNormal;
pub use multivariate::AutoMultivariateNormal;
pub use normal::{AutoDiagonalNormal, AutoNormal};
