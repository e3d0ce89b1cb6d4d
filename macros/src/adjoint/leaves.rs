//! The leaves of an active expression: the checks that it is one the emitter takes,
//! their replacement by locals, and their evaluation on forward duals.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident};

use crate::ast::Site;
use crate::parse::placeholder_index;

use super::analysis::*;
use super::*;

/// A block that evaluates `body` with the leaves as duals of width `width` (directions
/// `offset..`): `T` is the dual type inside it.
pub(super) fn dual_block(
    leaves: &[Leaf],
    offset: usize,
    width: usize,
    body: TokenStream,
) -> TokenStream {
    let seeds = seed(leaves, offset);
    quote! {{
        #seeds
        #[allow(dead_code)]
        type T = ::tilde::__private::Fwd<#width>;
        #body
    }}
}

/// `let __lk: f64 = <value>;` for each leaf.
pub(super) fn leaf_values(leaves: &[Leaf]) -> TokenStream {
    let values = leaves.iter().enumerate().map(|(k, l)| {
        let ident = format_ident!("__l{}", k);
        let value = &l.value;
        quote!(let #ident: f64 = #value;)
    });
    quote!(#(#values)*)
}

/// `let __lk: f64 = <value>;` for each leaf, then `let __lk = T::variable(__lk, k +
/// offset);` — the caller's block declares `type T` as the dual type, and a block's
/// items are in scope in all of it.
pub(super) fn seed(leaves: &[Leaf], offset: usize) -> TokenStream {
    let values = leaf_values(leaves);
    let duals = leaves.iter().enumerate().map(|(k, _)| {
        let ident = format_ident!("__l{}", k);
        let direction = k + offset;
        quote!(let #ident = T::variable(#ident, #direction);)
    });
    quote!(#values #(#duals)*)
}

/// Checks that an active expression is one the dual evaluation can take.
pub(super) struct Check<'e, 'm> {
    pub(super) emitter: &'e Emitter<'m>,
    pub(super) error: Option<String>,
}

impl<'a> Visit<'a> for Check<'_, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.error.is_some() || !self.emitter.mentions_active(expr) {
            return;
        }
        let fail = |what: &str| Some(format!("{what} over parameters"));
        match expr {
            Expr::Path(p) => match p
                .path
                .get_ident()
                .and_then(|i| self.emitter.active.get(&i.to_string()))
            {
                Some(Kind::Vector) => self.error = fail("a whole vector site (index it: `v[i]`)"),
                Some(Kind::Buffer) => {
                    self.error = fail("a whole vector of parameter values (index it: `v[i]`)")
                }
                _ => {}
            },
            Expr::Lit(_) | Expr::Paren(_) | Expr::Group(_) => visit::visit_expr(self, expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => visit::visit_expr(self, expr),
            Expr::Binary(b) => match b.op {
                syn::BinOp::Add(_)
                | syn::BinOp::Sub(_)
                | syn::BinOp::Mul(_)
                | syn::BinOp::Div(_) => visit::visit_expr(self, expr),
                _ => self.error = fail("a comparison or logical operator"),
            },
            Expr::Index(i) => {
                let vector = ident_of(&i.expr).is_some_and(|n| {
                    matches!(
                        self.emitter.active.get(&n),
                        Some(Kind::Vector | Kind::Buffer)
                    )
                });
                if !vector || self.emitter.mentions_active(&i.index) {
                    self.error = fail("an index");
                } else if !pure(&i.index) {
                    // read once per occurrence, as written (two reads at the same
                    // index's tokens are one leaf here)
                    self.error = Some("an index of a parameter vector with effects".into());
                }
            }
            Expr::MethodCall(m)
                if [
                    "iid",
                    "truncated",
                    "ln_pdf",
                    "ln_pdf_obs",
                    "ln_pdf_obs_sum",
                    "ln_cdf",
                    "ln_ccdf",
                ]
                .contains(&m.method.to_string().as_str())
                    && family(&m.receiver).is_some() =>
            {
                visit::visit_expr(self, expr)
            }
            Expr::MethodCall(m) => {
                // the written-out observations' own terms (a user's `__` name never
                // gets here)
                let method = m.method.to_string();
                let known = REAL_METHODS.contains(&method.as_str())
                    || crate::symbolic::TERMS.iter().any(|(m, _)| *m == method);
                if !known || m.turbofish.is_some() {
                    self.error = Some(format!("the method `{}` over parameters", m.method));
                } else {
                    visit::visit_expr(self, expr);
                }
            }
            Expr::Call(c) => {
                let known = match &*c.func {
                    Expr::Path(p) => {
                        let segments: Vec<String> = p
                            .path
                            .segments
                            .iter()
                            .map(|s| s.ident.to_string())
                            .collect();
                        let last = segments.last().map(String::as_str).unwrap_or("");
                        let n = segments.len();
                        (n >= 2 && segments[n - 2] == "math" && MATH_FUNCTIONS.contains(&last))
                            || (n >= 2
                                && segments[n - 2] == "math"
                                && SLICE_FUNCTIONS.contains(&last)
                                && summed_array(c).is_some())
                            || (n == 2 && segments[0] == "T" && last == "from")
                            || family(expr).is_some_and(|f| {
                                CONTINUOUS.contains(&f.as_str()) || DISCRETE.contains(&f.as_str())
                            })
                    }
                    _ => false,
                };
                if known && let Some(terms) = summed_array(c) {
                    for term in terms {
                        self.visit_expr(term);
                    }
                } else if known {
                    for arg in &c.args {
                        self.visit_expr(arg);
                    }
                } else {
                    let f = &c.func;
                    self.error = Some(format!("the call `{}` over parameters", quote!(#f)));
                }
            }
            Expr::Macro(m) => match placeholder_index(&m.mac)
                .and_then(|i| self.emitter.sites.get(i))
            {
                Some(site) if site.kind == SiteMacro::Deterministic => self.visit_expr(&site.value),
                _ => self.error = fail("a macro"),
            },
            _ => self.error = fail("this kind of expression"),
        }
    }
}

/// Replaces the leaves of an active expression by `__lk` and records them.
pub(super) struct Replace<'e> {
    pub(super) active: &'e HashMap<String, Kind>,
    pub(super) top: &'e HashSet<String>,
    pub(super) reassigned: &'e HashSet<String>,
    pub(super) sites: &'e [Site],
    pub(super) keys: Vec<String>,
    pub(super) leaves: Vec<Leaf>,
    pub(super) indices: Vec<(Ident, Expr)>,
    pub(super) next: &'e mut usize,
}

impl Replace<'_> {
    pub(super) fn leaf(&mut self, key: String, make: impl FnOnce(&mut Self) -> Leaf) -> Expr {
        let k = match self.keys.iter().position(|k| *k == key) {
            Some(k) => k,
            None => {
                let leaf = make(self);
                self.keys.push(key);
                self.leaves.push(leaf);
                self.keys.len() - 1
            }
        };
        let ident = format_ident!("__l{}", k);
        syn::parse_quote!(#ident)
    }
}

impl VisitMut for Replace<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(name) = p.path.get_ident().map(|i| i.to_string())
                    && self.active.get(&name) == Some(&Kind::Scalar)
                {
                    let ident = format_ident!("{}", name);
                    let stable = self.top.contains(&name) && !self.reassigned.contains(&name);
                    *expr = self.leaf(name.clone(), |_| Leaf {
                        value: quote!(#ident),
                        adjoint: {
                            let a = adjoint_of(&name);
                            quote!(#a)
                        },
                        stable,
                    });
                }
            }
            Expr::Index(i) => {
                if let Some(name) = ident_of(&i.expr)
                    && let Some(kind @ (Kind::Vector | Kind::Buffer)) = self.active.get(&name)
                {
                    // a buffer's element may be written again: its value is read once,
                    // here, and the reverse pass uses stored partials
                    let stable = *kind == Kind::Vector;
                    let index = (*i.index).clone();
                    let key = format!("{name}[{}]", quote!(#index));
                    *expr = self.leaf(key, |this| {
                        *this.next += 1;
                        let slot = format_ident!("__i{}", *this.next);
                        this.indices.push((slot.clone(), index));
                        let vector = format_ident!("{}", name);
                        let adjoint = adjoint_of(&name);
                        Leaf {
                            value: quote!(#vector[#slot]),
                            adjoint: quote!(#adjoint[#slot]),
                            stable,
                        }
                    });
                } else {
                    visit_mut::visit_expr_mut(self, expr);
                }
            }
            Expr::Macro(m) => {
                if let Some(site) = placeholder_index(&m.mac).and_then(|i| self.sites.get(i))
                    && site.kind == SiteMacro::Deterministic
                {
                    let mut value = site.value.clone();
                    self.visit_expr_mut(&mut value);
                    *expr = syn::parse_quote!((#value));
                }
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }
}

/// Replaces `deterministic!` placeholders by their values (data code keeps them).
pub(super) struct Unwrap<'m> {
    pub(super) sites: &'m [Site],
}

impl VisitMut for Unwrap<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Macro(m) = expr
            && let Some(site) = placeholder_index(&m.mac).and_then(|i| self.sites.get(i))
            && site.kind == SiteMacro::Deterministic
        {
            let mut value = site.value.clone();
            self.visit_expr_mut(&mut value);
            *expr = syn::parse_quote!((#value));
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// Writes `a.max(b)` and `a.min(b)` over parameter-dependent values (a leaf `__lk` or a
/// `T::…` path in either operand) as `Real::max(a, b)`: in plain `f64` code the method
/// call would be `f64::max`, which returns the other operand for a NaN where the model's
/// `Real::max` (the tape's and the generic body's) returns the NaN.
pub(super) struct RealMinMax;

impl RealMinMax {
    fn parameter_dependent(expr: &Expr) -> bool {
        struct Found(bool);
        impl<'a> syn::visit::Visit<'a> for Found {
            fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
                let first = p.path.segments.first().map(|s| s.ident.to_string());
                let leaf = first.as_deref().is_some_and(|f| {
                    f.strip_prefix("__l")
                        .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
                });
                self.0 |= leaf || (first.as_deref() == Some("T") && p.path.segments.len() > 1);
            }
        }
        let mut found = Found(false);
        syn::visit::Visit::visit_expr(&mut found, expr);
        found.0
    }
}

impl VisitMut for RealMinMax {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::MethodCall(m) = expr
            && m.turbofish.is_none()
            && (m.method == "max" || m.method == "min")
            && m.args.len() == 1
            && (Self::parameter_dependent(&m.receiver) || Self::parameter_dependent(&m.args[0]))
        {
            let (method, receiver, arg) = (&m.method, &m.receiver, &m.args[0]);
            *expr = syn::parse_quote!(::tilde::Real::#method(#receiver, #arg));
        }
    }
}

/// The terms of `math::log_sum_exp(&[e₁, …, eₖ])` or `math::log_mix_k(&[w…], &[l…])`:
/// every argument an array literal (evaluated on forward duals).
fn summed_array(call: &syn::ExprCall) -> Option<impl Iterator<Item = &Expr>> {
    let arrays: Option<Vec<&syn::ExprArray>> = call
        .args
        .iter()
        .map(|arg| match arg {
            Expr::Reference(r) if r.mutability.is_none() => match &*r.expr {
                Expr::Array(a) => Some(a),
                _ => None,
            },
            _ => None,
        })
        .collect();
    Some(arrays?.into_iter().flat_map(|a| a.elems.iter()))
}
