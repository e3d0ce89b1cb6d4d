//! Observed sites whose log-density the generated gradient code writes out itself: the
//! part that depends on parameters as an expression [`symbolic`](crate::symbolic)
//! differentiates in plain `f64` (no forward duals), the part that depends on data only
//! as a call the model computes once (see `DataConstant` in `tilde_core`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, Ident};

/// An observed site's log-density in two parts.
pub struct Split {
    /// The parameter-dependent part, over the distribution's arguments and the
    /// observation's `f64` local.
    pub active: Expr,
    /// The data-only part, an `f64` expression (`-∞` for data outside the support).
    pub constant: TokenStream,
}

/// The split of `dist` observing the local `y`, for the families written out here:
/// `Normal::new(μ, σ)` is `-½((y - μ)/σ)²` plus `-ln σ - ln √(2π)`, where `-ln σ` is
/// data-only when `σ` is. `is_active` tells whether an argument depends on parameters.
/// `None` for any other distribution (its site runs on forward duals).
pub fn split(dist: &Expr, y: &Ident, is_active: impl Fn(&Expr) -> bool) -> Option<Split> {
    let (loc, scale) = normal_args(dist)?;
    let codegen = quote!(::tilde::__private::codegen);
    Some(if is_active(scale) {
        Split {
            active: syn::parse_quote!(-0.5 * ((#y - (#loc)) / (#scale)).powi(2) - (#scale).ln()),
            constant: quote!(#codegen::normal_constant_obs(#y)),
        }
    } else {
        Split {
            active: syn::parse_quote!(-0.5 * ((#y - (#loc)) / (#scale)).powi(2)),
            constant: quote!(#codegen::normal_constant(#scale, #y)),
        }
    })
}

/// `Normal::new(μ, σ)` → `(μ, σ)`.
pub fn normal_args(dist: &Expr) -> Option<(&Expr, &Expr)> {
    let segments = crate::parse::call_segments(dist)?;
    let Expr::Call(call) = dist else {
        return None;
    };
    let n = segments.len();
    if n < 2 || segments[n - 2] != "Normal" || segments[n - 1] != "new" || call.args.len() != 2 {
        return None;
    }
    Some((&call.args[0], &call.args[1]))
}
