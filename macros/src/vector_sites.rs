//! Vectorised observed sites the generated gradient code runs as scalar loops.
//!
//! `sample!("y", Normal::each(loc, scale), obs = y)`, whose location and scale are
//! vector expressions built from `params(..)`, `data(..)`, `scalar(..)`, `.scale(..)`
//! and `.shift(..)` (written inline or bound by a top-level `let`), becomes, in the
//! generated code only,
//!
//! ```text
//! let n = each_len(&[loc's length, scale's length], y.len())?;
//! for i in 0..n { sample!("y", Normal::new(locᵢ, scaleᵢ), obs = y[i]); }
//! ```
//!
//! which the generated code writes out like any scalar observation (no tape node; the
//! data-only terms once per model). The elements are the vector expressions' own
//! (`shift + scale · base`); lengths that disagree hand the evaluation to the tape,
//! which reports them. The generic body keeps the vectorised site.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::visit::{self, Visit};
use syn::{Block, Expr, Ident, Pat, Stmt};

use crate::ast::{Site, SiteMacro};
use crate::parse::{PLACEHOLDER, call_segments, placeholder_index};

/// A vector expression's element `i` and its length (`None` for a broadcast scalar).
#[derive(Clone)]
struct Elements {
    at: Expr,
    len: Option<Expr>,
}

/// The body and sites with every rewritable `Normal::each` site as a scalar loop, and
/// the vector-expression `let`s they read removed; `None` when there is no such site,
/// or when a bound vector expression is read anywhere else (then nothing is rewritten
/// and the analysis sees the body as written).
///
/// `unstable` are the names that may mean another value at a site than at a binding
/// above it (bound twice, or changed): a binding reading one keeps the body as written.
pub fn rewrite(
    body: &Block,
    sites: &[Site],
    unstable: &std::collections::HashSet<String>,
) -> Option<(Block, Vec<Site>)> {
    let index = Ident::new("__each_i", Span::call_site());
    let mut bound: HashMap<String, Elements> = HashMap::new();
    let mut binding_stmts = Vec::new();
    let mut new_sites = sites.to_vec();
    let mut stmts = Vec::with_capacity(body.stmts.len());
    let mut rewritten = 0usize;
    let mut reads_in_sites: HashMap<String, usize> = HashMap::new();
    // in order: a site reads the bindings above it
    for (k, stmt) in body.stmts.iter().enumerate() {
        if let Stmt::Local(local) = stmt
            && let Pat::Ident(p) = &local.pat
            && p.by_ref.is_none()
            && p.subpat.is_none()
            && let Some(init) = &local.init
            && init.diverge.is_none()
            && let value = recorded_value(&init.expr, sites)
            && let Some(e) = elements(value, &bound, &index)
        {
            if names_read(value, sites)
                .iter()
                .any(|n| unstable.contains(n))
            {
                return None;
            }
            if bound.insert(p.ident.to_string(), e).is_some() {
                // a name bound twice: which binding a read means is left to the analysis
                return None;
            }
            binding_stmts.push(k);
            continue;
        }
        // a bound name bound again by anything else: which binding a site means is left
        // to the analysis
        if let Stmt::Local(local) = stmt {
            let pat = &local.pat;
            let mut rebinds = false;
            crate::ast::each_ident(quote!(#pat), &mut |i| {
                rebinds |= bound.contains_key(&i.to_string());
            });
            if rebinds {
                return None;
            }
        }
        let Some((site, loc, scale, obs)) = each_site(stmt, sites) else {
            stmts.push(stmt.clone());
            continue;
        };
        // the observation is read for its length and once per element
        let (Some(loc_e), Some(scale_e), true) = (
            elements(loc, &bound, &index),
            elements(scale, &bound, &index),
            crate::adjoint::pure(obs),
        ) else {
            stmts.push(stmt.clone());
            continue;
        };
        for arg in [loc, scale] {
            for name in names_read(arg, sites) {
                *reads_in_sites.entry(name).or_default() += 1;
            }
        }
        rewritten += 1;
        let (n, i) = (
            format_ident!("__each_n{}", rewritten),
            format_ident!("__each_i{}", rewritten),
        );
        let lens: Vec<&Expr> = [&loc_e.len, &scale_e.len].into_iter().flatten().collect();
        let (loc_at, scale_at) = (
            with_index(&loc_e.at, &index, &i),
            with_index(&scale_e.at, &index, &i),
        );
        let mut scalar = site.clone();
        scalar.value = syn::parse_quote!(Normal::new(#loc_at, #scale_at));
        scalar.obs = Some(syn::parse_quote!((#obs)[#i]));
        scalar.loops.push(vec![i.clone()]);
        let placeholder = Ident::new(PLACEHOLDER, Span::call_site());
        let at = new_sites.len();
        new_sites.push(scalar);
        stmts.push(syn::parse_quote! {
            let #n: usize = ::tilde::__private::codegen::each_len(&[#(#lens),*], (#obs).len())?;
        });
        let mut for_loop: syn::ExprForLoop = syn::parse_quote!(for #i in 0..#n {});
        // the site as the parser leaves one: an expression statement (parsing would
        // make `__tilde_site!(k);` a macro statement)
        let site: Expr = syn::parse_quote!(#placeholder!(#at));
        for_loop
            .body
            .stmts
            .push(Stmt::Expr(site, Some(Default::default())));
        stmts.push(Stmt::Expr(Expr::ForLoop(for_loop), None));
    }
    if rewritten == 0 {
        return None;
    }
    // a bound vector expression read anywhere but as a rewritten site's argument keeps
    // the body as written
    let mut all_reads: HashMap<String, usize> = HashMap::new();
    for (k, stmt) in body.stmts.iter().enumerate() {
        if !binding_stmts.contains(&k) {
            for name in names_read_stmt(stmt, sites) {
                *all_reads.entry(name).or_default() += 1;
            }
        }
    }
    if bound.keys().any(|name| {
        all_reads.get(name).copied().unwrap_or(0) != reads_in_sites.get(name).copied().unwrap_or(0)
    }) {
        return None;
    }
    let block = Block {
        brace_token: body.brace_token,
        stmts,
    };
    Some((block, new_sites))
}

/// The value of `deterministic!(_, value)` (the generated code records no deterministic
/// quantity: the generic body does, for draws), else `expr`.
fn recorded_value<'e>(expr: &'e Expr, sites: &'e [Site]) -> &'e Expr {
    match expr {
        Expr::Macro(m) => match placeholder_index(&m.mac).and_then(|i| sites.get(i)) {
            Some(site) if site.kind == SiteMacro::Deterministic => &site.value,
            _ => expr,
        },
        _ => expr,
    }
}

/// `sample!(_, Normal::each(loc, scale), obs = y);` as a statement → its site, `loc`,
/// `scale` and `y`.
fn each_site<'s>(
    stmt: &Stmt,
    sites: &'s [Site],
) -> Option<(&'s Site, &'s Expr, &'s Expr, &'s Expr)> {
    let Stmt::Expr(Expr::Macro(m), Some(_)) = stmt else {
        return None;
    };
    let site = sites.get(placeholder_index(&m.mac)?)?;
    if site.kind != SiteMacro::Sample || site.enumerate.is_some() {
        return None;
    }
    let obs = site.obs.as_ref()?;
    let segments = call_segments(&site.value)?;
    let n = segments.len();
    if n < 2 || segments[n - 2] != "Normal" || segments[n - 1] != "each" {
        return None;
    }
    let Expr::Call(call) = &site.value else {
        return None;
    };
    let mut args = call.args.iter();
    let (Some(loc), Some(scale), None) = (args.next(), args.next(), args.next()) else {
        return None;
    };
    Some((site, loc, scale, obs))
}

/// The elements of a vector expression over the index `i`, or `None` for anything but
/// `params(v)`, `data(d)`, `scalar(x)`, a bound name and `.scale(..)`/`.shift(..)` of
/// those.
fn elements(expr: &Expr, bound: &HashMap<String, Elements>, i: &Ident) -> Option<Elements> {
    if has_site(expr) {
        // a site moved into the loop would run once per element
        return None;
    }
    match expr {
        Expr::Paren(p) => elements(&p.expr, bound, i),
        Expr::Path(p) if p.qself.is_none() => bound.get(&p.path.get_ident()?.to_string()).cloned(),
        Expr::Call(call) if call.args.len() == 1 => {
            let Expr::Path(f) = &*call.func else {
                return None;
            };
            let arg = strip_reference(&call.args[0]);
            // read once per element, and where the site is rather than where a binding
            // of it stands: only what gives the same value there
            if !crate::adjoint::pure(arg) {
                return None;
            }
            match f.path.segments.last()?.ident.to_string().as_str() {
                "params" => {
                    // a latent vector site's values, by name
                    let Expr::Path(v) = arg else {
                        return None;
                    };
                    let v = v.path.get_ident()?;
                    Some(Elements {
                        at: syn::parse_quote!(#v[#i]),
                        len: Some(syn::parse_quote!(#v.len())),
                    })
                }
                "data" => Some(Elements {
                    at: syn::parse_quote!((#arg)[#i]),
                    len: Some(syn::parse_quote!((#arg).len())),
                }),
                "scalar" => Some(Elements {
                    at: syn::parse_quote!((#arg)),
                    len: None,
                }),
                _ => None,
            }
        }
        Expr::MethodCall(m) if m.args.len() == 1 && m.turbofish.is_none() => {
            let base = elements(&m.receiver, bound, i)?;
            let (arg, at) = (&m.args[0], &base.at);
            if !crate::adjoint::pure(arg) {
                return None;
            }
            let at = match m.method.to_string().as_str() {
                "scale" => syn::parse_quote!(((#arg) * #at)),
                "shift" => syn::parse_quote!(((#arg) + #at)),
                _ => return None,
            };
            Some(Elements { at, len: base.len })
        }
        _ => None,
    }
}

/// Whether `expr` holds a site macro's placeholder.
fn has_site(expr: &Expr) -> bool {
    struct Found(bool);
    impl<'a> Visit<'a> for Found {
        fn visit_macro(&mut self, m: &'a syn::Macro) {
            self.0 |= placeholder_index(m).is_some();
        }
    }
    let mut found = Found(false);
    found.visit_expr(expr);
    found.0
}

fn strip_reference(expr: &Expr) -> &Expr {
    match expr {
        Expr::Reference(r) if r.mutability.is_none() => strip_reference(&r.expr),
        Expr::Paren(p) => strip_reference(&p.expr),
        _ => expr,
    }
}

/// `expr` with the identifier `from` renamed `to`.
fn with_index(expr: &Expr, from: &Ident, to: &Ident) -> Expr {
    let tokens = quote!(#expr);
    fn rename(
        tokens: proc_macro2::TokenStream,
        from: &Ident,
        to: &Ident,
    ) -> proc_macro2::TokenStream {
        tokens
            .into_iter()
            .map(|t| match t {
                proc_macro2::TokenTree::Ident(i) if i == *from => {
                    proc_macro2::TokenTree::Ident(to.clone())
                }
                proc_macro2::TokenTree::Group(g) => {
                    let mut group =
                        proc_macro2::Group::new(g.delimiter(), rename(g.stream(), from, to));
                    group.set_span(g.span());
                    proc_macro2::TokenTree::Group(group)
                }
                other => other,
            })
            .collect()
    }
    syn::parse2(rename(tokens, from, to)).expect("a renamed expression parses")
}

/// The single-segment names `expr` reads (through site placeholders), with repeats.
fn names_read(expr: &Expr, sites: &[Site]) -> Vec<String> {
    let mut reads = Reads {
        sites,
        names: Vec::new(),
    };
    reads.visit_expr(expr);
    reads.names
}

fn names_read_stmt(stmt: &Stmt, sites: &[Site]) -> Vec<String> {
    let mut reads = Reads {
        sites,
        names: Vec::new(),
    };
    reads.visit_stmt(stmt);
    reads.names
}

struct Reads<'s> {
    sites: &'s [Site],
    names: Vec<String>,
}

impl<'a> Visit<'a> for Reads<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(i) = p.path.get_ident() {
                    self.names.push(i.to_string());
                }
            }
            Expr::Macro(m) => match placeholder_index(&m.mac).and_then(|k| self.sites.get(k)) {
                Some(site) => {
                    self.visit_expr(&site.value);
                    if let Some(obs) = &site.obs {
                        self.visit_expr(obs);
                    }
                }
                // another macro: any identifier in it counts as read
                None => self.tokens(m.mac.tokens.clone()),
            },
            _ => visit::visit_expr(self, expr),
        }
    }
    fn visit_stmt_macro(&mut self, m: &'a syn::StmtMacro) {
        self.tokens(m.mac.tokens.clone());
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

impl Reads<'_> {
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        crate::ast::each_ident(tokens, &mut |i| self.names.push(i.to_string()));
    }
}
