//! Which latent sites are discrete, as far as the written distribution shows.

use syn::Expr;

use crate::ast::{Site, SiteMacro};

/// The discrete distributions a latent `sample!` may draw from.
const DISCRETE: &[&str] = &[
    "Bernoulli",
    "Categorical",
    "Binomial",
    "BetaBinomial",
    "Poisson",
    "Geometric",
    "NegativeBinomial",
    "ZeroInflatedPoisson",
];

/// `true` for a latent `sample!` whose distribution is written as a constructor of a
/// discrete distribution (`Bernoulli::new(p)`, `tilde::Categorical::logits(&w)`) and
/// that is not enumerated (an enumerated site is summed out and adds no coordinate).
pub fn is_discrete_latent(site: &Site) -> bool {
    site.kind == SiteMacro::Sample
        && site.obs.is_none()
        && site.enumerate.is_none()
        && is_discrete_expr(&site.value)
}

fn is_discrete_expr(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => match &*call.func {
            Expr::Path(path) => {
                let segments = &path.path.segments;
                segments.len() >= 2
                    && DISCRETE.contains(&segments[segments.len() - 2].ident.to_string().as_str())
            }
            _ => false,
        },
        Expr::Paren(inner) => is_discrete_expr(&inner.expr),
        Expr::Group(inner) => is_discrete_expr(&inner.expr),
        _ => false,
    }
}
