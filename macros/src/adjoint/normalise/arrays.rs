//! Arrays the analysis reads element by element: arrays of arrays as one flat array,
//! and arrays assigned whole as assignments of their elements.

use std::collections::HashMap;

use quote::format_ident;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

use crate::ast::Site;

use super::super::analysis::{Names, ident_of};
use super::{rewrite_with_sites, token_counts, visit_with_sites};

/// Writes `name = [e₀, …, eₖ₋₁];` as `let __a{n}_0 = e₀; …` then `name[0] = __a{n}_0;
/// …`: every element is computed before any is written, as the whole assignment reads
/// the old values (an HMM's forward variables, `gamma = [f(gamma[0], gamma[1]), …]`).
#[derive(Default)]
pub(crate) struct SplitArrayAssignments {
    next: usize,
}

impl SplitArrayAssignments {
    fn split(&mut self, stmt: &Stmt) -> Option<Vec<Stmt>> {
        let Stmt::Expr(Expr::Assign(assign), Some(_)) = stmt else {
            return None;
        };
        let Expr::Array(values) = &*assign.right else {
            return None;
        };
        if !assign.attrs.is_empty() || values.elems.is_empty() {
            return None;
        }
        let name = ident_of(&assign.left)?;
        let name = format_ident!("{}", name);
        self.next += 1;
        let temps: Vec<syn::Ident> = (0..values.elems.len())
            .map(|k| format_ident!("__a{}_{}", self.next, k))
            .collect();
        let mut stmts: Vec<Stmt> = temps
            .iter()
            .zip(&values.elems)
            .map(|(t, v)| syn::parse_quote!(let #t = #v;))
            .collect();
        stmts.extend(
            temps
                .iter()
                .enumerate()
                .map(|(k, t)| -> Stmt { syn::parse_quote!(#name[#k] = #t;) }),
        );
        Some(stmts)
    }
}

impl VisitMut for SplitArrayAssignments {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let stmts = std::mem::take(&mut block.stmts);
        for stmt in stmts {
            match self.split(&stmt) {
                Some(split) => block.stmts.extend(split),
                None => block.stmts.push(stmt),
            }
        }
        visit_mut::visit_block_mut(self, block);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Writes `let x = [[a, b], [c, d]];` (rows of one length `m`, `x` bound once, no type
/// written) as `let x = [a, b, c, d];` and each `x[i][j]` as `x[(i) * m + (j)]`, when
/// every token of `x` is the binding or such a double index.
pub(crate) fn flatten_nested_arrays(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    // rows of one length: the row length
    let rows = |init: &Expr| match init {
        Expr::Array(rows) => match rows.elems.first() {
            Some(Expr::Array(first))
                if !first.elems.is_empty()
                    && rows.elems.iter().all(
                        |r| matches!(r, Expr::Array(a) if a.elems.len() == first.elems.len()),
                    ) =>
            {
                Some(first.elems.len())
            }
            _ => None,
        },
        _ => None,
    };
    let found = fully_indexed(body, sites, names, &rows, &|e, found| {
        double_index(e, found).map(|(name, i, j)| (name, vec![i, j]))
    });
    if found.is_empty() {
        return;
    }
    rewrite_with_sites(body, sites, &mut Flatten { found: &found });
}

/// Reads `found[x]` of an index use of a candidate array: its name and the
/// expressions inside it still to be visited (`None` when `expr` is not one).
type IndexUse<'f> =
    dyn for<'e> Fn(&'e Expr, &HashMap<String, usize>) -> Option<(String, Vec<&'e Expr>)> + 'f;

/// The arrays bound once by a `let` whose value `length` takes (with the length it
/// gives) and each of whose tokens, in the body and the sites, is the binding or a use
/// `index_use` recognises.
fn fully_indexed(
    body: &syn::Block,
    sites: &[Site],
    names: &Names,
    length: &dyn Fn(&Expr) -> Option<usize>,
    index_use: &IndexUse<'_>,
) -> HashMap<String, usize> {
    struct Candidates<'l> {
        length: &'l dyn Fn(&Expr) -> Option<usize>,
        found: HashMap<String, usize>,
    }
    impl<'a> Visit<'a> for Candidates<'_> {
        fn visit_local(&mut self, local: &'a syn::Local) {
            if let syn::Pat::Ident(p) = &local.pat
                && p.by_ref.is_none()
                && p.subpat.is_none()
                && let Some(init) = &local.init
                && init.diverge.is_none()
                && let Some(len) = (self.length)(&init.expr)
            {
                self.found.insert(p.ident.to_string(), len);
            }
            syn::visit::visit_local(self, local);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    struct Uses<'f, 'u> {
        found: &'f HashMap<String, usize>,
        index_use: &'u IndexUse<'u>,
        counts: HashMap<String, usize>,
    }
    impl<'a> Visit<'a> for Uses<'_, '_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Some((name, inner)) = (self.index_use)(expr, self.found) {
                *self.counts.entry(name).or_default() += 1;
                for e in inner {
                    self.visit_expr(e);
                }
                return;
            }
            syn::visit::visit_expr(self, expr);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut candidates = Candidates {
        length,
        found: HashMap::new(),
    };
    candidates.visit_block(body);
    let mut found = candidates.found;
    found.retain(|name, _| !names.twice.contains(name));
    if found.is_empty() {
        return found;
    }
    let mut uses = Uses {
        found: &found,
        index_use,
        counts: HashMap::new(),
    };
    visit_with_sites(body, sites, &mut uses);
    let (counts, tokens) = (uses.counts, token_counts(body, sites));
    found.retain(|name, _| {
        tokens.get(name).copied().unwrap_or(0) == counts.get(name).copied().unwrap_or(0) + 1
    });
    found
}

/// `x[i][j]` of a candidate `x`: its name and the two indices.
fn double_index<'e>(
    expr: &'e Expr,
    found: &HashMap<String, usize>,
) -> Option<(String, &'e Expr, &'e Expr)> {
    let Expr::Index(outer) = expr else {
        return None;
    };
    let Expr::Index(inner) = &*outer.expr else {
        return None;
    };
    let name = ident_of(&inner.expr)?;
    found
        .contains_key(&name)
        .then_some((name, &*inner.index, &*outer.index))
}

struct Flatten<'f> {
    found: &'f HashMap<String, usize>,
}

impl VisitMut for Flatten<'_> {
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        if let syn::Pat::Ident(p) = &local.pat
            && self.found.contains_key(&p.ident.to_string())
            && let Some(init) = &mut local.init
            && let Expr::Array(rows) = &*init.expr
        {
            let elements: Vec<&Expr> = rows
                .elems
                .iter()
                .flat_map(|r| match r {
                    Expr::Array(a) => a.elems.iter().collect::<Vec<_>>(),
                    _ => Vec::new(),
                })
                .collect();
            *init.expr = syn::parse_quote!([#(#elements),*]);
        }
        visit_mut::visit_local_mut(self, local);
    }
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Some((name, i, j)) = double_index(expr, self.found) {
            let m = self.found[&name];
            let (mut i, mut j) = (i.clone(), j.clone());
            self.visit_expr_mut(&mut i);
            self.visit_expr_mut(&mut j);
            let ident = format_ident!("{}", name);
            *expr = syn::parse_quote!(#ident[(#i) * #m + (#j)]);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Writes an array whose elements are only ever read or written at constant indices
/// (`let mut gamma = [a, b];` … `gamma[0]`, `gamma[1] = …`, as an HMM's forward
/// variables are once assigned whole) as one name per element, `__e{n}_gamma_{k}`: the
/// analysis then carries scalars, with no vector buffer and no stored indices.
pub(crate) fn scalar_arrays(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    let elements = |init: &Expr| match init {
        Expr::Array(elements) if !elements.elems.is_empty() => Some(elements.elems.len()),
        _ => None,
    };
    let found = fully_indexed(body, sites, names, &elements, &|e, found| {
        constant_element(e, found).map(|(name, _)| (name, Vec::new()))
    });
    if found.is_empty() {
        return;
    }
    let mut scalars = Scalars {
        found: &found,
        next: 0,
        named: HashMap::new(),
    };
    rewrite_with_sites(body, sites, &mut scalars);
}

/// An integer expression of literals (`1`, `(0) * 2 + (1)`, `0usize`), folded.
fn constant_index(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        Expr::Paren(p) => constant_index(&p.expr),
        Expr::Group(g) => constant_index(&g.expr),
        Expr::Binary(b) => {
            let (l, r) = (constant_index(&b.left)?, constant_index(&b.right)?);
            match b.op {
                syn::BinOp::Add(_) => l.checked_add(r),
                syn::BinOp::Sub(_) => l.checked_sub(r),
                syn::BinOp::Mul(_) => l.checked_mul(r),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `x[c]` of a candidate `x` at a constant index within its length.
fn constant_element(expr: &Expr, found: &HashMap<String, usize>) -> Option<(String, usize)> {
    let Expr::Index(i) = expr else { return None };
    let name = ident_of(&i.expr)?;
    let len = *found.get(&name)?;
    let k = constant_index(&i.index)?;
    (k < len).then_some((name, k))
}

struct Scalars<'f> {
    found: &'f HashMap<String, usize>,
    next: usize,
    /// Per array, the number its elements' names carry.
    named: HashMap<String, usize>,
}

impl Scalars<'_> {
    fn element(&self, name: &str, k: usize) -> syn::Ident {
        let n = self.named.get(name).copied().unwrap_or(0);
        format_ident!("__e{}_{}_{}", n, name.trim_start_matches("r#"), k)
    }
}

impl VisitMut for Scalars<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let stmts = std::mem::take(&mut block.stmts);
        for mut stmt in stmts {
            if let Stmt::Local(local) = &stmt
                && let syn::Pat::Ident(p) = &local.pat
                && self.found.contains_key(&p.ident.to_string())
                && let Some(init) = &local.init
                && let Expr::Array(elements) = &*init.expr
            {
                let name = p.ident.to_string();
                self.next += 1;
                self.named.insert(name.clone(), self.next);
                let mutability = p.mutability;
                for (k, element) in elements.elems.iter().enumerate() {
                    let mut element = element.clone();
                    self.visit_expr_mut(&mut element);
                    let ident = self.element(&name, k);
                    block
                        .stmts
                        .push(syn::parse_quote!(let #mutability #ident = #element;));
                }
                continue;
            }
            self.visit_stmt_mut(&mut stmt);
            block.stmts.push(stmt);
        }
    }
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Some((name, k)) = constant_element(expr, self.found) {
            let ident = self.element(&name, k);
            *expr = syn::parse_quote!(#ident);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
