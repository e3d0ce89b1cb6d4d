//! Transformed data: the data-only `let`s with a type annotation at the top level of the
//! body, which the model computes once, at construction, and stores (Stan's
//! `transformed data`, inferred).
//!
//! A top-level `let name: Type = expr;` is hoisted when
//! - it binds a plain name (not `mut`, not a pattern) with no `else`;
//! - `Type` names no reference, lifetime, `_`, `impl`/`dyn` or the body's scalar `T`
//!   (the value becomes a field of the struct);
//! - `expr` holds no site, no `return`/`?`, and reads no binding of the body other than
//!   the data arguments and earlier hoisted bindings (a binding that depends on a
//!   `sample!`, `factor!` or `deterministic!` value is such a binding);
//! - no statement before it can return early.
//!
//! - the body binds `name` only there.
//!
//! The body then reads the stored value: `let name: Type = self.field;` for a primitive
//! scalar type, `let name: &Type = &self.field;` otherwise (with each later `&name`
//! written `name`, which has the type `&name` had), which the generic body and the
//! generated gradient both see as data.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use std::collections::HashSet;
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Ident, Pat, Stmt, Type};

use crate::ast::{Arg, Hoisted, Site};
use crate::parse::PLACEHOLDER;

/// Primitive scalar types, copied out of the struct rather than borrowed.
pub(crate) const COPIED: &[&str] = &[
    "f64", "f32", "usize", "isize", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool",
    "char",
];

/// Finds the hoistable `let`s of `body`, replaces each with a read of its field, and
/// returns them in order.
pub fn hoist(body: &mut Block, sites: &[Site]) -> Vec<Hoisted> {
    let mut hoisted: Vec<Hoisted> = Vec::new();
    // names of the body that a hoisted expression must not read
    let mut locals: HashSet<String> = ["self", "Self", "T"].map(String::from).into();
    let twice = bound_twice(body);
    // an item of the body is in scope in all of it, and not at construction
    for stmt in &body.stmts {
        if let Stmt::Item(_) = stmt {
            locals.extend(bound_names(stmt));
        }
    }
    for k in 0..body.stmts.len() {
        let (head, later) = body.stmts.split_at_mut(k + 1);
        let stmt = &mut head[k];
        if let Some((ident, ty, expr)) = candidate(stmt)
            && !twice.contains(&ident.to_string())
            && type_storable(&ty)
            && expr_storable(&expr)
        {
            let read = tokens_of(&expr.to_token_stream());
            let by_value = is_copied(&ty);
            if read.iter().all(|n| !locals.contains(n))
                && (by_value || !moved(&ident, later, sites))
            {
                let field = format_ident!("__tilde_data{}", hoisted.len());
                let replacement: Stmt = if by_value {
                    syn::parse_quote!(let #ident: #ty = self.#field;)
                } else {
                    syn::parse_quote!(let #ident: &#ty = &self.#field;)
                };
                *stmt = replacement;
                if !by_value {
                    // `&name` meant a `&Type`, which `name` now is
                    let mut unref = Unref(&ident);
                    for stmt in later.iter_mut() {
                        unref.visit_stmt_mut(stmt);
                    }
                }
                // an argument it shadows is no longer what the name means
                locals.remove(&ident.to_string());
                hoisted.push(Hoisted {
                    ident,
                    ty,
                    expr,
                    field,
                    by_value,
                });
                continue;
            }
        }
        if returns(stmt) || may_change_data(stmt) {
            break;
        }
        // whatever this statement binds (or declares) is off limits from here
        locals.extend(bound_names(stmt));
    }
    hoisted
}

/// Data matrices factored once: a site `MultivariateNormal::precision(mean, data(m))`
/// (or `::covariance`) whose matrix `m` reads only data arguments and hoisted values
/// gets a [`MatrixFactor`] of `m` made at construction (a hidden field like any
/// hoisted value), and reads it as `factored(..)` instead of `data(m)`: no evaluation
/// copies, compares or factors the matrix.
///
/// [`MatrixFactor`]: https://docs.rs/tilde/latest/tilde/vector/struct.MatrixFactor.html
pub fn hoist_factors(
    body: &mut Block,
    sites: &mut [Site],
    args: &[Arg],
    hoisted: &mut Vec<Hoisted>,
) {
    let mut bound = HashSet::new();
    for stmt in &body.stmts {
        bound.extend(bound_names(stmt));
    }
    let once: HashSet<String> = hoisted.iter().map(|h| h.ident.to_string()).collect();
    let arg_names: HashSet<String> = args.iter().map(|a| a.ident.to_string()).collect();
    let readable = |matrix: &Expr| {
        let tokens = tokens_of(&matrix.to_token_stream());
        expr_storable(matrix)
            && tokens
                .iter()
                .all(|t| !bound.contains(t) || once.contains(t))
            && tokens
                .iter()
                .any(|t| arg_names.contains(t) || once.contains(t))
    };
    // The factor is computed at construction after every hoisted value: a name the
    // matrix reads must not be bound again after the site (a later binding would
    // shadow the one the site reads there).
    let site_statement = |k: usize| {
        body.stmts
            .iter()
            .position(|stmt| placeholders(stmt).contains(&k))
    };
    let bound_after = |matrix: &Expr, at: usize| {
        let tokens = tokens_of(&matrix.to_token_stream());
        body.stmts[at..]
            .iter()
            .any(|stmt| bound_names(stmt).iter().any(|n| tokens.contains(n)))
    };
    let statements: Vec<Option<usize>> = (0..sites.len()).map(site_statement).collect();
    let mut reads = Vec::new();
    for (k, site) in sites.iter_mut().enumerate() {
        let Some(matrix) = data_matrix_arg(&mut site.value) else {
            continue;
        };
        let Expr::Call(call) = &*matrix else {
            continue;
        };
        let inner = call.args[0].clone();
        if !readable(&inner) || statements[k].is_none_or(|at| bound_after(&inner, at)) {
            continue;
        }
        let field = format_ident!("__tilde_data{}", hoisted.len());
        let ident = format_ident!("__tilde_factor{}", hoisted.len());
        *matrix = syn::parse_quote!(::tilde::vector::factored(#ident));
        reads.push(syn::parse_quote!(
            let #ident: &::tilde::vector::MatrixFactor = &self.#field;
        ));
        hoisted.push(Hoisted {
            ident,
            ty: syn::parse_quote!(::tilde::vector::MatrixFactor),
            expr: syn::parse_quote!(::tilde::vector::MatrixFactor::new(#inner)),
            field,
            by_value: false,
        });
    }
    body.stmts.splice(0..0, reads);
}

/// The indices of the site placeholders in a statement.
fn placeholders(stmt: &Stmt) -> Vec<usize> {
    struct Found(Vec<usize>);
    impl<'a> Visit<'a> for Found {
        fn visit_macro(&mut self, m: &'a syn::Macro) {
            self.0.extend(crate::parse::placeholder_index(m));
        }
    }
    let mut found = Found(Vec::new());
    found.visit_stmt(stmt);
    found.0
}

/// The matrix argument `data(m)` of `MultivariateNormal::precision(mean, data(m))` or
/// `::covariance` (any path to the type, turbofish included).
fn data_matrix_arg(value: &mut Expr) -> Option<&mut Expr> {
    let segments = crate::parse::call_segments(value)?;
    let Expr::Call(call) = value else {
        return None;
    };
    let n = segments.len();
    if n < 2
        || segments[n - 2] != "MultivariateNormal"
        || !["precision", "covariance"].contains(&segments[n - 1].as_str())
        || call.args.len() != 2
    {
        return None;
    }
    let matrix = call.args.iter_mut().nth(1)?;
    let Expr::Call(data) = &*matrix else {
        return None;
    };
    let is_data = matches!(&*data.func, Expr::Path(p)
        if p.path.segments.last().is_some_and(|s| s.ident == "data"));
    (is_data && data.args.len() == 1).then_some(matrix)
}

/// The names the body binds more than once (a hoisted name must be bound once, so that
/// every later use means it).
fn bound_twice(body: &Block) -> HashSet<String> {
    #[derive(Default)]
    struct Names {
        seen: HashSet<String>,
        twice: HashSet<String>,
    }
    impl<'a> Visit<'a> for Names {
        fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
            let name = p.ident.to_string();
            if !self.seen.insert(name.clone()) {
                self.twice.insert(name);
            }
            visit::visit_pat_ident(self, p);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut names = Names::default();
    names.visit_block(body);
    names.twice
}

/// Methods that read their receiver through a reference (of slices, `Vec`s and
/// `Option`s): a hoisted value read as `&Type` can be their receiver.
const BY_REFERENCE: &[&str] = &[
    "as_ref",
    "as_slice",
    "binary_search",
    "chunks",
    "chunks_exact",
    "clone",
    "contains",
    "ends_with",
    "first",
    "get",
    "is_empty",
    "is_none",
    "is_some",
    "iter",
    "last",
    "len",
    "split_at",
    "starts_with",
    "to_vec",
    "windows",
];

/// Whether `stmts` may use `name`'s value other than through a reference: anywhere but
/// as `name[i]`, `&name` or the receiver of a [`BY_REFERENCE`] method, or the same of
/// one of its fields (`for v in name`, `f(name)`, `let w = name`, `name.0` by itself
/// and `name.unwrap_or_default()` take the value, which a stored value read as `&Type`
/// cannot give), in the statements and the sites' arguments; other macros' arguments
/// are not looked into.
fn moved(name: &Ident, stmts: &[Stmt], sites: &[Site]) -> bool {
    struct Uses<'n> {
        name: &'n Ident,
        sites: &'n [Site],
        moved: bool,
    }
    impl<'a> Visit<'a> for Uses<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            let is_name = |e: &Expr| matches!(e, Expr::Path(p) if p.path.is_ident(self.name));
            // the name or one of its fields, as a place
            let place = |e: &Expr| match e {
                Expr::Field(f) => is_name(&f.base),
                other => is_name(other),
            };
            match expr {
                // a site's arguments, which the body holds as a placeholder
                Expr::Macro(m) => {
                    let site =
                        crate::parse::placeholder_index(&m.mac).and_then(|i| self.sites.get(i));
                    if let Some(site) = site {
                        let sites = self.sites;
                        let mut inner = Uses {
                            name: self.name,
                            sites,
                            moved: false,
                        };
                        inner.visit_expr(&site.value);
                        if let Some(obs) = &site.obs {
                            inner.visit_expr(obs);
                        }
                        self.moved |= inner.moved;
                    }
                }
                Expr::Path(_) if is_name(expr) => self.moved = true,
                Expr::Field(f) if is_name(&f.base) => self.moved = true,
                Expr::Index(i) if place(&i.expr) => self.visit_expr(&i.index),
                Expr::Reference(r) if place(&r.expr) => {}
                Expr::MethodCall(m)
                    if place(&m.receiver)
                        && BY_REFERENCE.contains(&m.method.to_string().as_str()) =>
                {
                    m.args.iter().for_each(|a| self.visit_expr(a));
                }
                _ => visit::visit_expr(self, expr),
            }
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut uses = Uses {
        name,
        sites,
        moved: false,
    };
    stmts.iter().for_each(|s| uses.visit_stmt(s));
    uses.moved
}

/// Rewrites `&name` to `name`, for a hoisted `name` the body now binds as `&Type`.
struct Unref<'a>(&'a Ident);

impl VisitMut for Unref<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Reference(r) = expr
            && r.mutability.is_none()
            && matches!(&*r.expr, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.0))
        {
            *expr = (*r.expr).clone();
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// `let name: Type = expr;` with a plain, immutable name.
fn candidate(stmt: &Stmt) -> Option<(Ident, Type, Expr)> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let Pat::Type(typed) = &local.pat else {
        return None;
    };
    let Pat::Ident(p) = &*typed.pat else {
        return None;
    };
    if p.by_ref.is_some() || p.mutability.is_some() || p.subpat.is_some() {
        return None;
    }
    let init = local.init.as_ref()?;
    if init.diverge.is_some() {
        return None;
    }
    Some((p.ident.clone(), (*typed.ty).clone(), (*init.expr).clone()))
}

/// Whether a value of `ty` can be a field of the struct.
fn type_storable(ty: &Type) -> bool {
    fn ok(tokens: TokenStream) -> bool {
        tokens.into_iter().all(|t| match t {
            TokenTree::Punct(p) => p.as_char() != '&' && p.as_char() != '\'',
            TokenTree::Ident(i) => !matches!(
                i.to_string().as_str(),
                "_" | "impl" | "dyn" | "T" | "Self" | "self"
            ),
            TokenTree::Group(g) => ok(g.stream()),
            TokenTree::Literal(_) => true,
        })
    }
    ok(ty.to_token_stream())
}

/// Whether `expr` can run at construction: no site, no early exit.
fn expr_storable(expr: &Expr) -> bool {
    struct Exits(bool);
    impl<'a> Visit<'a> for Exits {
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Return(_) | Expr::Try(_) | Expr::Await(_) | Expr::Yield(_) => self.0 = true,
                _ => visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut exits = Exits(false);
    exits.visit_expr(expr);
    let tokens = tokens_of(&expr.to_token_stream());
    !exits.0 && !tokens.contains(PLACEHOLDER)
}

/// Whether a statement may return from the body (so later ones may not run).
/// Whether a statement the hoisting passes over may change what a later hoisted value
/// reads (`w.set(2.0)` on a `Cell` argument, a function given `&w`): anything but an
/// item, a site, or a `let` of a site or of a [`pure`](crate::adjoint::pure) value.
/// Hoisting stops there (the value is computed at construction, before the body runs).
fn may_change_data(stmt: &Stmt) -> bool {
    let is_site =
        |e: &Expr| matches!(e, Expr::Macro(m) if crate::parse::placeholder_index(&m.mac).is_some());
    match stmt {
        Stmt::Item(_) => false,
        Stmt::Local(local) => local.init.as_ref().is_some_and(|init| {
            init.diverge.is_some() || !(is_site(&init.expr) || crate::adjoint::pure(&init.expr))
        }),
        Stmt::Expr(e, _) => !is_site(e),
        Stmt::Macro(_) => true,
    }
}

fn returns(stmt: &Stmt) -> bool {
    struct Returns(bool);
    impl<'a> Visit<'a> for Returns {
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Return(_) | Expr::Try(_) => self.0 = true,
                // a closure's `return` leaves the closure only
                Expr::Closure(_) => {}
                _ => visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut r = Returns(false);
    r.visit_stmt(stmt);
    r.0
}

/// The names a top-level statement binds or declares (conservatively: every identifier
/// of an item, and every name bound by a pattern anywhere in it).
fn bound_names(stmt: &Stmt) -> HashSet<String> {
    match stmt {
        Stmt::Item(item) => tokens_of(&item.to_token_stream()),
        Stmt::Macro(m) => tokens_of(&m.mac.tokens),
        _ => {
            struct Patterns(HashSet<String>);
            impl<'a> Visit<'a> for Patterns {
                fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
                    self.0.insert(p.ident.to_string());
                    visit::visit_pat_ident(self, p);
                }
                fn visit_item(&mut self, item: &'a syn::Item) {
                    self.0.extend(tokens_of(&item.to_token_stream()));
                }
            }
            let mut p = Patterns(HashSet::new());
            p.visit_stmt(stmt);
            p.0
        }
    }
}

/// Every identifier in a token stream, macro arguments and closures included.
fn tokens_of(tokens: &TokenStream) -> HashSet<String> {
    fn walk(tokens: TokenStream, out: &mut HashSet<String>) {
        for t in tokens {
            match t {
                TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut out = HashSet::new();
    walk(tokens.clone(), &mut out);
    out
}

fn is_copied(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|i| COPIED.contains(&i.to_string().as_str())))
}

/// The statements that compute the hoisted values at construction, with the arguments
/// bound as the body binds them, ending in a tuple of the values.
pub fn compute(hoisted: &[Hoisted], args: &[Arg]) -> TokenStream {
    if hoisted.is_empty() {
        return TokenStream::new();
    }
    let bindings = args.iter().map(|a| {
        let id = &a.ident;
        if crate::parse::is_copied(&a.ty) {
            quote!(let #id = #id;)
        } else {
            quote!(let #id = &#id;)
        }
    });
    // later expressions read a hoisted name as the body does: copied or borrowed
    let lets = hoisted.iter().map(|h| {
        let (ident, ty, expr, field) = (&h.ident, &h.ty, &h.expr, &h.field);
        if h.by_value {
            quote!(let #field: #ty = #expr; let #ident: #ty = #field;)
        } else {
            quote!(let #field: #ty = #expr; let #ident: &#ty = &#field;)
        }
    });
    let fields: Vec<&Ident> = hoisted.iter().map(|h| &h.field).collect();
    quote! {
        #[allow(unused_variables, clippy::all)]
        let (#(#fields,)*) = {
            #(#bindings)*
            #(#lets)*
            (#(#fields,)*)
        };
    }
}
