//! Rewrites of the body the analysis then follows, in the generated code only (the
//! generic body keeps what the user wrote): tuple `let`s as one `let` per name, and
//! distributions bound to a name as their constructors where they are used.

use std::collections::HashSet;

use quote::quote;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

use crate::ast::Site;

use super::analysis::{Assigned, CONTINUOUS, DISCRETE, Names, family, mutated};
use super::control::pure_distribution;

/// Writes `let (a, b) = (x, y);` as `let a = x; let b = y;` (each element bound to a
/// name, none of the elements reading one of those names), which the analysis follows.
pub(super) struct SplitTuples;

impl SplitTuples {
    /// The `let`s one tuple `let` stands for, or `None` when it is another pattern.
    fn split(local: &syn::Local) -> Option<Vec<syn::Stmt>> {
        // `let (a, b): (A, B) = …` gives each name its type
        let (pat, types) = match &local.pat {
            syn::Pat::Type(t) => match (&*t.pat, &*t.ty) {
                (syn::Pat::Tuple(p), syn::Type::Tuple(ty)) if p.elems.len() == ty.elems.len() => {
                    (p, Some(&ty.elems))
                }
                _ => return None,
            },
            syn::Pat::Tuple(p) => (p, None),
            _ => return None,
        };
        let Some(init) = &local.init else {
            return None;
        };
        let Expr::Tuple(values) = &*init.expr else {
            return None;
        };
        if init.diverge.is_some()
            || !local.attrs.is_empty()
            || pat.elems.len() != values.elems.len()
        {
            return None;
        }
        let mut names = HashSet::new();
        for p in &pat.elems {
            match p {
                syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                    names.insert(i.ident.to_string());
                }
                _ => return None,
            }
        }
        let mut reads_a_name = false;
        crate::ast::each_ident(quote!(#values), &mut |i| {
            reads_a_name |= names.contains(&i.to_string());
        });
        if reads_a_name || names.len() != pat.elems.len() {
            return None;
        }
        Some(
            pat.elems
                .iter()
                .zip(&values.elems)
                .enumerate()
                .map(|(k, (p, v))| match types {
                    Some(types) => {
                        let ty = &types[k];
                        syn::parse_quote!(let #p: #ty = #v;)
                    }
                    None => syn::parse_quote!(let #p = #v;),
                })
                .collect(),
        )
    }
}

impl VisitMut for SplitTuples {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let stmts = std::mem::take(&mut block.stmts);
        for stmt in stmts {
            match &stmt {
                syn::Stmt::Local(local) => match Self::split(local) {
                    Some(lets) => block.stmts.extend(lets),
                    None => block.stmts.push(stmt),
                },
                _ => block.stmts.push(stmt),
            }
        }
        visit_mut::visit_block_mut(self, block);
    }
}

/// Writes each use of `let d = Family::new(args);` (a scalar family's constructor) as
/// the constructor itself, in the body and in the sites' arguments, so that
/// `d.ln_pdf_obs(y)` and `d.ln_pdf(x)` are calls the analysis knows, and removes the
/// `let`. Only where that gives the same value: the arguments are pure and read names
/// bound once and never changed, `d` is bound once and read only as a plain name (not
/// in a macro or a format string).
pub(super) fn inline_distributions(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    let changed: HashSet<String> = {
        let mut assigned = Assigned::default();
        assigned.visit_block(body);
        assigned.names.into_iter().chain(mutated(body)).collect()
    };
    let mut candidates = Vec::new();
    Candidates {
        names,
        changed: &changed,
        found: &mut candidates,
    }
    .visit_block(body);
    if candidates.is_empty() {
        return;
    }
    // every occurrence of the name, as a token, must be a plain read the rewrite sees
    let mut tokens = std::collections::HashMap::<String, usize>::new();
    let mut reads = Reads::default();
    let mut count = |tokens_of: proc_macro2::TokenStream| {
        crate::ast::each_ident(tokens_of, &mut |i| {
            *tokens.entry(i.to_string()).or_default() += 1;
        });
    };
    count(quote!(#body));
    reads.visit_block(body);
    for site in sites.iter() {
        let (name, value) = (&site.name, &site.value);
        count(quote!(#name #value));
        reads.visit_expr(value);
        if let Some(obs) = &site.obs {
            count(quote!(#obs));
            reads.visit_expr(obs);
        }
    }
    // the binding itself is one token
    candidates.retain(|(name, _)| tokens.get(name).copied().unwrap_or(0) == reads.count(name) + 1);
    let mut inline = Inline { candidates };
    inline.visit_block_mut(body);
    for site in sites.iter_mut() {
        inline.visit_expr_mut(&mut site.value);
        if let Some(obs) = &mut site.obs {
            inline.visit_expr_mut(obs);
        }
    }
}

/// The distribution `let`s [`inline_distributions`] may rewrite: `(name, constructor)`.
struct Candidates<'c> {
    names: &'c Names,
    changed: &'c HashSet<String>,
    found: &'c mut Vec<(String, Expr)>,
}

impl<'a> Visit<'a> for Candidates<'_> {
    fn visit_local(&mut self, local: &'a syn::Local) {
        if let syn::Pat::Ident(p) = &local.pat
            && p.by_ref.is_none()
            && p.mutability.is_none()
            && p.subpat.is_none()
            && local.attrs.is_empty()
            && let Some(init) = &local.init
            && init.diverge.is_none()
            && family(&init.expr)
                .is_some_and(|f| CONTINUOUS.contains(&f.as_str()) || DISCRETE.contains(&f.as_str()))
            && matches!(&*init.expr, Expr::Call(_))
            && pure_distribution(&init.expr)
        {
            let name = p.ident.to_string();
            let mut stable = !self.names.twice.contains(&name);
            let expr = &init.expr;
            crate::ast::each_ident(quote!(#expr), &mut |i| {
                let read = i.to_string();
                stable &= !self.names.twice.contains(&read) && !self.changed.contains(&read);
            });
            if stable {
                self.found.push((name, (*init.expr).clone()));
            }
        }
        syn::visit::visit_local(self, local);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// How many times each name is read as a plain path expression.
#[derive(Default)]
struct Reads(std::collections::HashMap<String, usize>);

impl Reads {
    fn count(&self, name: &str) -> usize {
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

/// Replaces the candidates' reads by their constructors and removes their `let`s.
struct Inline {
    candidates: Vec<(String, Expr)>,
}

impl Inline {
    fn constructor(&self, name: &str) -> Option<&Expr> {
        self.candidates
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }
}

impl VisitMut for Inline {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        block.stmts.retain(|stmt| {
            !matches!(stmt, Stmt::Local(local)
                if matches!(&local.pat, syn::Pat::Ident(p)
                    if self.constructor(&p.ident.to_string()).is_some()))
        });
        visit_mut::visit_block_mut(self, block);
    }
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Path(p) = expr
            && p.qself.is_none()
            && let Some(ident) = p.path.get_ident()
            && let Some(constructor) = self.constructor(&ident.to_string())
        {
            // a call binds tighter than any operator: no parentheses needed (and the
            // analysis recognises `Family::new(..).ln_pdf_obs(..)` as written)
            *expr = constructor.clone();
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
