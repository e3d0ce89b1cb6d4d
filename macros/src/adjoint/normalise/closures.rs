//! Closures bound to a name and only ever called (`let emission = |t, k|
//! Normal::<T>::new(mu[k], 1.0).ln_pdf_obs(y[t]);` then `emission(t, 0)`) read as their
//! bodies at each call, with the arguments put for the parameters.

use std::collections::{HashMap, HashSet};

use quote::quote;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

use crate::ast::Site;

use super::super::analysis::{Assigned, CONTINUOUS, DISCRETE, Jumps, Names, REAL_METHODS, mutated};
use super::{Reads, plain_let, rewrite_with_sites, shadowable, token_counts, visit_with_sites};

/// A closure [`inline_closures`] may rewrite.
struct Closure {
    params: Vec<(String, Option<syn::Type>)>,
    body: Expr,
}

/// Reads each call of a closure bound to a name as the closure's body, when that gives
/// the same value: the closure binds no name, returns from nowhere and holds no macro;
/// the names its body reads mean the same at every call (bound once, not changed); its
/// name is only ever called, with as many arguments as it takes, each free of effects
/// (see [`effect_free`]: a parameter read twice or never then reads its argument twice
/// or never, with the same value).
pub(crate) fn inline_closures(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    let changed: HashSet<String> = {
        let mut assigned = Assigned::default();
        assigned.visit_block(body);
        assigned.names.into_iter().chain(mutated(body)).collect()
    };
    let shadow = shadowable(names, body, sites);
    let mut candidates = Candidates {
        names,
        shadow: &shadow,
        changed: &changed,
        found: HashMap::new(),
    };
    candidates.visit_block(body);
    let mut found = candidates.found;
    if found.is_empty() {
        return;
    }
    // the closures whose bodies are free of effects (calls of such closures in an
    // argument are too), to a fixed point
    let mut quiet = HashSet::new();
    loop {
        let more: Vec<String> = found
            .iter()
            .filter(|(name, c)| !quiet.contains(*name) && effect_free(&c.body, &quiet))
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        quiet.extend(more);
    }
    // every token of the name is the binding or the callee of a call the rewrite takes
    let tokens = token_counts(body, sites);
    let mut calls = Calls {
        closures: &found,
        quiet: &quiet,
        counts: HashMap::new(),
    };
    let mut reads = Reads::default();
    visit_with_sites(body, sites, &mut calls);
    visit_with_sites(body, sites, &mut reads);
    let counts = calls.counts;
    found.retain(|name, _| {
        let calls = counts.get(name).copied().unwrap_or(0);
        calls > 0
            && reads.count(name) == calls
            && tokens.get(name).copied().unwrap_or(0) == calls + 1
    });
    if found.is_empty() {
        return;
    }
    rewrite_with_sites(body, sites, &mut Inline { closures: &found });
}

/// The integer types whose parameters take their argument with `as` (a literal
/// argument then has the parameter's type, as at the call).
fn is_integer(ty: &syn::Type) -> bool {
    const INTEGERS: &[&str] = &[
        "usize", "isize", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
    ];
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && INTEGERS.iter().any(|i| p.path.is_ident(i)))
}

struct Candidates<'c> {
    names: &'c Names,
    shadow: &'c HashSet<String>,
    changed: &'c HashSet<String>,
    found: HashMap<String, Closure>,
}

impl Candidates<'_> {
    fn closure(&self, closure: &syn::ExprClosure) -> Option<Closure> {
        if closure.asyncness.is_some()
            || closure.constness.is_some()
            || closure.movability.is_some()
            || !closure.attrs.is_empty()
        {
            return None;
        }
        let mut params = Vec::new();
        for input in &closure.inputs {
            let (pat, ty) = match input {
                syn::Pat::Type(t) => (&*t.pat, Some((*t.ty).clone())),
                pat => (pat, None),
            };
            let syn::Pat::Ident(p) = pat else { return None };
            if p.by_ref.is_some() || p.mutability.is_some() || p.subpat.is_some() {
                return None;
            }
            params.push((p.ident.to_string(), ty));
        }
        let body = &*closure.body;
        // binds nothing, jumps nowhere, no `?`, macro or inner closure
        let mut bound = Names::default();
        bound.visit_expr(body);
        let mut jumps = Jumps::default();
        jumps.visit_expr(body);
        let mut plain = Plain(true);
        plain.visit_expr(body);
        if !bound.seen.is_empty() || jumps.found || !plain.0 {
            return None;
        }
        let mut captured_stable = true;
        crate::ast::each_ident(quote!(#body), &mut |i| {
            let name = i.to_string();
            if !params.iter().any(|(p, _)| *p == name) {
                captured_stable &= !self.shadow.contains(&name) && !self.changed.contains(&name);
            }
        });
        captured_stable.then(|| Closure {
            params,
            body: body.clone(),
        })
    }
}

impl<'a> Visit<'a> for Candidates<'_> {
    fn visit_local(&mut self, local: &'a syn::Local) {
        if let Some((name, init)) = plain_let(local)
            && let Expr::Closure(closure) = init
            && !self.names.twice.contains(&name.to_string())
            && let Some(found) = self.closure(closure)
        {
            self.found.insert(name.to_string(), found);
        }
        syn::visit::visit_local(self, local);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// No `?`, macro or closure inside.
struct Plain(bool);

impl<'a> Visit<'a> for Plain {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if matches!(
            expr,
            Expr::Try(_) | Expr::Macro(_) | Expr::Closure(_) | Expr::Async(_) | Expr::Await(_)
        ) {
            self.0 = false;
            return;
        }
        syn::visit::visit_expr(self, expr);
    }
    fn visit_macro(&mut self, _: &'a syn::Macro) {
        self.0 = false;
    }
    fn visit_item(&mut self, _: &'a syn::Item) {
        self.0 = false;
    }
}

/// Whether evaluating `expr` has no effect but its value: operators, indexing, the
/// elementary and `tilde::math` functions, distributions' constructors and
/// log-densities, and calls of the closures in `quiet`.
fn effect_free(expr: &Expr, quiet: &HashSet<String>) -> bool {
    struct Quiet<'q> {
        quiet: &'q HashSet<String>,
        ok: bool,
    }
    impl<'a> Visit<'a> for Quiet<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Call(c) => {
                    let known = match &*c.func {
                        Expr::Path(p) if p.qself.is_none() => {
                            let segments: Vec<String> = p
                                .path
                                .segments
                                .iter()
                                .map(|s| s.ident.to_string())
                                .collect();
                            let n = segments.len();
                            segments.iter().any(|s| s == "math")
                                || segments.first().is_some_and(|s| s == "f64" || s == "T")
                                || (n >= 2
                                    && (CONTINUOUS.contains(&segments[n - 2].as_str())
                                        || DISCRETE.contains(&segments[n - 2].as_str())))
                                || (n == 1 && self.quiet.contains(&segments[0]))
                        }
                        _ => false,
                    };
                    self.ok &= known;
                }
                Expr::MethodCall(m) => {
                    let method = m.method.to_string();
                    self.ok &= REAL_METHODS.contains(&method.as_str())
                        || ["len", "ln_pdf", "ln_pdf_obs", "ln_cdf", "ln_ccdf"]
                            .contains(&method.as_str());
                }
                Expr::Macro(_)
                | Expr::Closure(_)
                | Expr::Block(_)
                | Expr::Unsafe(_)
                | Expr::Assign(_)
                | Expr::Try(_) => self.ok = false,
                Expr::Binary(b) if crate::ast::is_assign_op(&b.op) => self.ok = false,
                _ => {}
            }
            syn::visit::visit_expr(self, expr);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {
            self.ok = false;
        }
    }
    let mut visitor = Quiet { quiet, ok: true };
    visitor.visit_expr(expr);
    visitor.ok
}

/// The calls of each candidate with as many arguments as it takes, each free of
/// effects.
struct Calls<'c> {
    closures: &'c HashMap<String, Closure>,
    quiet: &'c HashSet<String>,
    counts: HashMap<String, usize>,
}

impl<'a> Visit<'a> for Calls<'_> {
    fn visit_expr_call(&mut self, call: &'a syn::ExprCall) {
        if let Some(name) = callee(call)
            && let Some(closure) = self.closures.get(&name)
            && call.args.len() == closure.params.len()
            && call.args.iter().all(|a| effect_free(a, self.quiet))
        {
            *self.counts.entry(name).or_default() += 1;
        }
        syn::visit::visit_expr_call(self, call);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

fn callee(call: &syn::ExprCall) -> Option<String> {
    match &*call.func {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

struct Inline<'c> {
    closures: &'c HashMap<String, Closure>,
}

impl VisitMut for Inline<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        block.stmts.retain(|stmt| {
            !matches!(stmt, Stmt::Local(local)
                if matches!(&local.pat, syn::Pat::Ident(p)
                    if self.closures.contains_key(&p.ident.to_string())))
        });
        visit_mut::visit_block_mut(self, block);
    }
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        // the arguments first: a call's argument may call a closure too
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Call(call) = expr
            && let Some(name) = callee(call)
            && let Some(closure) = self.closures.get(&name)
        {
            let args: Vec<Expr> = closure
                .params
                .iter()
                .zip(&call.args)
                .map(|((_, ty), arg)| match ty {
                    Some(ty) if is_integer(ty) => syn::parse_quote!(((#arg) as #ty)),
                    _ => syn::parse_quote!((#arg)),
                })
                .collect();
            let mut body = closure.body.clone();
            Substitute {
                params: &closure.params,
                args: &args,
            }
            .visit_expr_mut(&mut body);
            *expr = syn::parse_quote!((#body));
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Puts the arguments for the parameters' reads.
struct Substitute<'s> {
    params: &'s [(String, Option<syn::Type>)],
    args: &'s [Expr],
}

impl VisitMut for Substitute<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Path(p) = expr
            && p.qself.is_none()
            && let Some(ident) = p.path.get_ident()
            && let Some(k) = self.params.iter().position(|(name, _)| ident == name)
        {
            *expr = self.args[k].clone();
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}
