//! Names bound again in blocks, and distributions bound to names.

use std::collections::HashSet;

use quote::quote;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

use crate::ast::Site;

use super::super::analysis::{
    Assigned, CONTINUOUS, DISCRETE, SLICE_FUNCTIONS, family, ident_of, mutated,
};
use super::super::control::pure_distribution;
use super::*;

/// Writes each use of `let d = Family::new(args);` (a scalar family's constructor) as
/// the constructor itself, in the body and in the sites' arguments, so that
/// `d.ln_pdf_obs(y)` and `d.ln_pdf(x)` are calls the analysis knows, and removes the
/// `let`. Only where that gives the same value: the arguments are pure and read names
/// bound once and never changed, `d` is bound once and read only as a plain name (not
/// in a macro or a format string).
pub(crate) fn inline_distributions(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    let changed: HashSet<String> = {
        let mut assigned = Assigned::default();
        assigned.visit_block(body);
        assigned.names.into_iter().chain(mutated(body)).collect()
    };
    let mut candidates = Vec::new();
    let shadow = shadowable(names, body, sites);
    Candidates {
        names,
        shadow: &shadow,
        changed: &changed,
        found: &mut candidates,
    }
    .visit_block(body);
    if candidates.is_empty() {
        return;
    }
    // every occurrence of the name, as a token, must be a read the rewrite sees
    let tokens = token_counts(body, sites);
    let mut reads = Reads::default();
    visit_with_sites(body, sites, &mut reads);
    // the binding itself is one token
    candidates.retain(|(name, _)| tokens.get(name).copied().unwrap_or(0) == reads.count(name) + 1);
    rewrite_with_sites(body, sites, &mut Inline { candidates });
}

/// Writes `let w = [e₁, …, eₖ];`, read only as `&w` by `math::log_sum_exp` or
/// `math::log_mix_k` (a mixture's terms, named inside its loop), as one
/// `let __w_j = eⱼ;` per element where the array was bound, and each `&w` as
/// `&[__w_0, …]`: the terms are evaluated where they were written, in order, each a
/// statement of its own (differentiated with the parameters it reads alone), and the
/// call reads an array literal. `w` is bound once, without `mut` or a type.
pub(crate) fn split_summed_arrays(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    let mut arrays = Arrays {
        twice: &names.twice,
        found: Vec::new(),
    };
    arrays.visit_block(body);
    if arrays.found.is_empty() {
        return;
    }
    // every token of the name but its binding is an argument `&w` of such a call
    let tokens = token_counts(body, sites);
    let mut found = arrays.found;
    found.retain(|(name, _)| {
        let mut sums = Summed { name, count: 0 };
        visit_with_sites(body, sites, &mut sums);
        tokens.get(name).copied().unwrap_or(0) == sums.count + 1
    });
    rewrite_with_sites(body, sites, &mut Split { arrays: found });

    /// The `let w = [e₁, …, eₖ];` of plain names bound once: `(w, k)`.
    struct Arrays<'n> {
        twice: &'n HashSet<String>,
        found: Vec<(String, usize)>,
    }
    impl<'a> Visit<'a> for Arrays<'_> {
        fn visit_local(&mut self, local: &'a syn::Local) {
            if let Some((name, init)) = plain_let(local)
                && let Expr::Array(array) = init
                && !self.twice.contains(&name.to_string())
            {
                self.found.push((name.to_string(), array.elems.len()));
            }
            syn::visit::visit_local(self, local);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }

    /// The arguments `&name` of `math::log_sum_exp` and `math::log_mix_k`.
    struct Summed<'n> {
        name: &'n str,
        count: usize,
    }
    impl<'a> Visit<'a> for Summed<'_> {
        fn visit_expr_call(&mut self, call: &'a syn::ExprCall) {
            let segments =
                crate::parse::call_segments(&Expr::Call(call.clone())).unwrap_or_default();
            if segments.len() >= 2
                && segments[segments.len() - 2] == "math"
                && SLICE_FUNCTIONS.contains(&segments[segments.len() - 1].as_str())
            {
                self.count += call
                    .args
                    .iter()
                    .filter(|arg| matches!(arg, Expr::Reference(r)
                        if r.mutability.is_none() && ident_of(&r.expr).as_deref() == Some(self.name)))
                    .count();
            }
            syn::visit::visit_expr_call(self, call);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }

    /// The rewrite: element `let`s for the binding, array literals of them for reads.
    struct Split {
        arrays: Vec<(String, usize)>,
    }
    impl Split {
        fn element(name: &str, j: usize) -> syn::Ident {
            quote::format_ident!("__{}_{}", name.trim_start_matches("r#"), j)
        }
        fn length(&self, name: &str) -> Option<usize> {
            self.arrays.iter().find(|(n, _)| n == name).map(|(_, k)| *k)
        }
    }
    impl VisitMut for Split {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            let mut stmts = Vec::with_capacity(block.stmts.len());
            for mut stmt in std::mem::take(&mut block.stmts) {
                self.visit_stmt_mut(&mut stmt);
                let split = match &stmt {
                    Stmt::Local(local) => match (&local.pat, &local.init) {
                        (syn::Pat::Ident(p), Some(init)) => match &*init.expr {
                            Expr::Array(array) if self.length(&p.ident.to_string()).is_some() => {
                                let name = p.ident.to_string();
                                Some(
                                    array
                                        .elems
                                        .iter()
                                        .enumerate()
                                        .map(|(j, e)| {
                                            let ident = Self::element(&name, j);
                                            syn::parse_quote!(let #ident = #e;)
                                        })
                                        .collect::<Vec<Stmt>>(),
                                )
                            }
                            _ => None,
                        },
                        _ => None,
                    },
                    _ => None,
                };
                match split {
                    Some(lets) => stmts.extend(lets),
                    None => stmts.push(stmt),
                }
            }
            block.stmts = stmts;
        }
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            if let Expr::Path(p) = expr
                && p.qself.is_none()
                && let Some(ident) = p.path.get_ident()
                && let Some(k) = self.length(&ident.to_string())
            {
                let name = ident.to_string();
                let elements = (0..k).map(|j| Self::element(&name, j));
                *expr = syn::parse_quote!([#(#elements),*]);
                return;
            }
            visit_mut::visit_expr_mut(self, expr);
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
}

/// The distribution `let`s [`inline_distributions`] may rewrite: `(name, constructor)`.
struct Candidates<'c> {
    names: &'c Names,
    shadow: &'c HashSet<String>,
    changed: &'c HashSet<String>,
    found: &'c mut Vec<(String, Expr)>,
}

impl<'a> Visit<'a> for Candidates<'_> {
    fn visit_local(&mut self, local: &'a syn::Local) {
        if let Some((name, expr)) = plain_let(local)
            && family(expr)
                .is_some_and(|f| CONTINUOUS.contains(&f.as_str()) || DISCRETE.contains(&f.as_str()))
            && matches!(expr, Expr::Call(_))
            && pure_distribution(expr)
        {
            let name = name.to_string();
            let mut stable = !self.names.twice.contains(&name);
            crate::ast::each_ident(quote!(#expr), &mut |i| {
                let read = i.to_string();
                stable &= !self.shadow.contains(&read) && !self.changed.contains(&read);
            });
            if stable {
                self.found.push((name, expr.clone()));
            }
        }
        syn::visit::visit_local(self, local);
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

/// Gives each `let` inside a loop's or a branch's block whose name the body binds more
/// than once (`let eta = …` in two sibling loops) a name of its own, `__b{k}_eta`, with
/// every read of it in the rest of its block and in the sites there. Only where no
/// later pattern there binds the name again and every token of the name there is a
/// plain read (not in a macro or a format string): then each read means this binding.
pub(crate) fn rename_inner_bindings(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    let mut renamer = Renamer {
        twice: &names.twice,
        sites,
        next: 0,
    };
    for stmt in &mut body.stmts {
        renamer.visit_stmt_mut(stmt);
    }
}

struct Renamer<'r> {
    twice: &'r HashSet<String>,
    sites: &'r mut [Site],
    next: usize,
}

impl Renamer<'_> {
    /// Whether `name` can be renamed in `rest` (the statements after its `let`) and
    /// the sites there: not bound again, and only read as a plain name.
    fn renamable(&self, name: &str, rest: &[Stmt], sites: &[usize]) -> bool {
        let mut names = Names::default();
        let mut reads = Reads::default();
        let mut tokens = 0;
        let mut count = |t: proc_macro2::TokenStream| {
            crate::ast::each_ident(t, &mut |i| tokens += usize::from(i == name));
        };
        for stmt in rest {
            names.visit_stmt(stmt);
            reads.visit_stmt(stmt);
            count(quote!(#stmt));
        }
        for &k in sites {
            let Some(site) = self.sites.get(k) else {
                return false;
            };
            let (n, value, obs) = (&site.name, &site.value, &site.obs);
            names.visit_expr(value);
            reads.visit_expr(value);
            if let Some(obs) = obs {
                names.visit_expr(obs);
                reads.visit_expr(obs);
            }
            count(quote!(#n #value #obs));
        }
        !names.seen.contains(name) && tokens == reads.count(name)
    }
}

impl VisitMut for Renamer<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        // inner blocks first: their own bindings are renamed before this block's are
        // checked for a binding again
        visit_mut::visit_block_mut(self, block);
        for k in 0..block.stmts.len() {
            let Stmt::Local(local) = &block.stmts[k] else {
                continue;
            };
            let pat = match &local.pat {
                syn::Pat::Type(t) => &*t.pat,
                p => p,
            };
            let syn::Pat::Ident(p) = pat else {
                continue;
            };
            let name = p.ident.to_string();
            let rest = &block.stmts[k + 1..];
            let sites = sites_in(rest);
            if !self.twice.contains(&name) || !self.renamable(&name, rest, &sites) {
                continue;
            }
            self.next += 1;
            let new = quote::format_ident!("__b{}_{}", self.next, name);
            let mut rename = Rename {
                from: &name,
                to: &new,
            };
            if let Stmt::Local(local) = &mut block.stmts[k] {
                let pat = match &mut local.pat {
                    syn::Pat::Type(t) => &mut *t.pat,
                    p => p,
                };
                if let syn::Pat::Ident(p) = pat {
                    p.ident = new.clone();
                }
            }
            for stmt in &mut block.stmts[k + 1..] {
                rename.visit_stmt_mut(stmt);
            }
            for k in sites {
                let site = &mut self.sites[k];
                rename.visit_expr_mut(&mut site.value);
                if let Some(obs) = &mut site.obs {
                    rename.visit_expr_mut(obs);
                }
            }
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Renames the reads of one name.
struct Rename<'n> {
    from: &'n str,
    to: &'n syn::Ident,
}

impl VisitMut for Rename<'_> {
    fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
        if p.qself.is_none()
            && let Some(ident) = p.path.get_ident()
            && ident == self.from
        {
            p.path = self.to.clone().into();
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
