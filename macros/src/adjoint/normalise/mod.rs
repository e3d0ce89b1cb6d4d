//! Rewrites of the body the analysis then follows, in the generated code only (the
//! generic body keeps what the user wrote): tuple `let`s as one `let` per name
//! ([`tuples`]); names bound again in blocks given names of their own and
//! distributions bound to names read as their constructors, and the arrays of a
//! `log_sum_exp` bound to names split into their elements ([`names`]); closures bound
//! to names read as their bodies at each call ([`closures`]); arrays of arrays as one
//! array and arrays assigned whole as their elements ([`arrays`]); `match` and
//! `if let` on data as `if` chains, and `if c { continue; }` as an `else` around the
//! rest of the loop's body ([`branches`]); vectors filled by a loop or
//! collected read as their elements' expressions ([`vectors`]); zips over a latent
//! vector as loops over indices ([`zips`]).

mod arrays;
mod branches;
mod closures;
mod names;
mod tuples;
mod vectors;
mod zips;

use std::collections::{HashMap, HashSet};

use quote::quote;
use syn::Stmt;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use crate::ast::Site;

use super::analysis::Names;

pub(crate) use arrays::{SplitArrayAssignments, flatten_nested_arrays, scalar_arrays};
pub(crate) use branches::{ContinuesAsBranches, IfLetsAsIfs, MatchesAsIfs};
pub(crate) use closures::inline_closures;
pub(crate) use names::{inline_distributions, rename_inner_bindings, split_summed_arrays};
pub(crate) use tuples::SplitTuples;
pub(crate) use vectors::inline_filled_vectors;
pub(crate) use zips::ZipsAsIndices;

/// The names an expression moved from where it is written to where it is read may mean
/// something else at: those the body binds more than once, those bound inside the
/// sites' arguments (blocks, closures), and every name an item in the body or the sites
/// mentions (an inner `const`, `fn` or `use` shadows one of the module).
pub(super) fn shadowable(names: &Names, body: &syn::Block, sites: &[Site]) -> HashSet<String> {
    #[derive(Default)]
    struct Items(HashSet<String>);
    impl<'a> Visit<'a> for Items {
        fn visit_item(&mut self, item: &'a syn::Item) {
            crate::ast::each_ident(quote!(#item), &mut |i| {
                self.0.insert(i.to_string());
            });
        }
    }
    let mut items = Items::default();
    items.visit_block(body);
    let mut bound = Names::default();
    for site in sites {
        items.visit_expr(&site.value);
        bound.visit_expr(&site.value);
        if let Some(obs) = &site.obs {
            items.visit_expr(obs);
            bound.visit_expr(obs);
        }
    }
    names
        .twice
        .iter()
        .cloned()
        .chain(items.0)
        .chain(bound.seen)
        .collect()
}

/// How many tokens of each identifier the body and the sites (names and arguments)
/// hold: a rewrite of a name checks that it sees every one of them.
pub(super) fn token_counts(body: &syn::Block, sites: &[Site]) -> HashMap<String, usize> {
    let mut tokens = HashMap::new();
    let mut count = |t: proc_macro2::TokenStream| {
        crate::ast::each_ident(t, &mut |i| *tokens.entry(i.to_string()).or_default() += 1);
    };
    count(quote!(#body));
    for site in sites {
        let (name, value, obs) = (&site.name, &site.value, &site.obs);
        count(quote!(#name #value #obs));
    }
    tokens
}

/// Runs `visitor` over the body and every site's arguments (its value and observation).
pub(super) fn visit_with_sites<'a>(
    body: &'a syn::Block,
    sites: &'a [Site],
    visitor: &mut impl Visit<'a>,
) {
    visitor.visit_block(body);
    for site in sites {
        visitor.visit_expr(&site.value);
        if let Some(obs) = &site.obs {
            visitor.visit_expr(obs);
        }
    }
}

/// Rewrites the body and every site's arguments with `visitor`.
pub(super) fn rewrite_with_sites(
    body: &mut syn::Block,
    sites: &mut [Site],
    visitor: &mut impl VisitMut,
) {
    visitor.visit_block_mut(body);
    for site in sites.iter_mut() {
        visitor.visit_expr_mut(&mut site.value);
        if let Some(obs) = &mut site.obs {
            visitor.visit_expr_mut(obs);
        }
    }
}

/// How many times each name is read as a plain path expression.
#[derive(Default)]
pub(super) struct Reads(HashMap<String, usize>);

impl Reads {
    pub(super) fn count(&self, name: &str) -> usize {
        self.0.get(name).copied().unwrap_or(0)
    }
}

impl<'a> Visit<'a> for Reads {
    fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
        if p.qself.is_none()
            && let Some(ident) = p.path.get_ident()
        {
            *self.0.entry(ident.to_string()).or_default() += 1;
        }
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// `let name = init;` with a plain name (no `ref`, `mut`, sub-pattern, attribute, type
/// or `else`): the name and the initialiser.
pub(super) fn plain_let(local: &syn::Local) -> Option<(&syn::Ident, &syn::Expr)> {
    match (&local.pat, &local.init) {
        (syn::Pat::Ident(p), Some(init))
            if p.by_ref.is_none()
                && p.mutability.is_none()
                && p.subpat.is_none()
                && local.attrs.is_empty()
                && init.diverge.is_none() =>
        {
            Some((&p.ident, &init.expr))
        }
        _ => None,
    }
}

/// The sites whose placeholders `stmts` hold.
pub(super) fn sites_in(stmts: &[Stmt]) -> Vec<usize> {
    struct Found(Vec<usize>);
    impl<'a> Visit<'a> for Found {
        fn visit_macro(&mut self, m: &'a syn::Macro) {
            if let Some(k) = crate::parse::placeholder_index(m) {
                self.0.push(k);
            }
        }
    }
    let mut found = Found(Vec::new());
    for stmt in stmts {
        found.visit_stmt(stmt);
    }
    found.0
}
