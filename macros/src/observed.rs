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

/// The split of `dist` observing the local `y`, for the families written out here;
/// `is_active` tells whether an argument depends on parameters:
/// - `Normal::new(μ, σ)`: `-½((y - μ)/σ)²` plus `-ln σ - ln √(2π)` (`-ln σ` in the
///   active part when `σ` is active);
/// - `Poisson::log_rate(η)`: `-bd0(y, e^η)` (`y η - e^η - (y ln y - y)`, without
///   the cancellation of its terms at large counts) plus `-stirlerr(y) - ½ ln(2πy)`;
/// - `StudentT::new(ν, μ, σ)` with data `ν`: `-(ν+1)/2 ln(1 + w²)`, `w = (y - μ)/(σ√ν)`
///   (without overflow at large `|w|`), plus
///   `ln Γ((ν+1)/2) - ln Γ(ν/2) - ½ ln(νπ) - ln σ`.
///
/// `None` for any other distribution (its site runs on forward duals).
pub fn split(dist: &Expr, y: &Ident, is_active: impl Fn(&Expr) -> bool) -> Option<Split> {
    let (family, ctor, args) = call(dist)?;
    let codegen = quote!(::tilde::__private::codegen);
    Some(match (family.as_str(), ctor.as_str(), args.as_slice()) {
        ("Normal", "new", [loc, scale]) if is_active(scale) => Split {
            active: syn::parse_quote!(-0.5 * ((#y - (#loc)) / (#scale)).powi(2) - (#scale).ln()),
            constant: quote!(#codegen::normal_constant_obs(#y)),
        },
        ("Normal", "new", [loc, scale]) => Split {
            active: syn::parse_quote!(-0.5 * ((#y - (#loc)) / (#scale)).powi(2)),
            constant: quote!(#codegen::normal_constant(#scale, #y)),
        },
        ("Poisson", "log_rate", [eta]) => Split {
            active: syn::parse_quote!((#eta).__poisson_log_rate(#y)),
            constant: quote!(#codegen::poisson_constant(#y)),
        },
        ("StudentT", "new", [nu, loc, scale]) if !is_active(nu) => {
            // `ln(1 + w²)` of `w = (y - μ)/σ/√ν` without overflow at large `|w|`
            let core: Expr = syn::parse_quote!(-(0.5 * (#nu) + 0.5) * (((#y - (#loc)) / (#scale)) / (#nu).sqrt()).__ln_1p_sq());
            if is_active(scale) {
                Split {
                    active: syn::parse_quote!(#core - (#scale).ln()),
                    constant: quote!(#codegen::student_t_constant(#nu, None, #y)),
                }
            } else {
                Split {
                    active: core,
                    constant: quote!(#codegen::student_t_constant(#nu, Some(#scale), #y)),
                }
            }
        }
        _ => return None,
    })
}

/// `Normal::new(μ, σ)` → `(μ, σ)`.
pub fn normal_args(dist: &Expr) -> Option<(&Expr, &Expr)> {
    match call(dist)? {
        (family, ctor, args) if family == "Normal" && ctor == "new" && args.len() == 2 => {
            Some((args[0], args[1]))
        }
        _ => None,
    }
}

/// `Family::ctor(args)` → its family, constructor and arguments.
fn call(dist: &Expr) -> Option<(String, String, Vec<&Expr>)> {
    let segments = crate::parse::call_segments(dist)?;
    let Expr::Call(call) = dist else {
        return None;
    };
    let n = segments.len();
    if n < 2 {
        return None;
    }
    let args = call.args.iter().collect();
    Some((segments[n - 2].clone(), segments[n - 1].clone(), args))
}
