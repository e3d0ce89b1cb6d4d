//! Vectors filled by a loop or collected, read as their elements' expressions.

use std::collections::HashSet;

use quote::quote;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

use crate::ast::Site;

use super::super::analysis::{Assigned, mutated};
use super::zips::Deref;
use super::*;

/// Writes Stan's transformed parameters filled by a loop,
/// `let mut a = vec![init; n]; for k in 0..n { a[k] = e(k); }`, as `e(idx)` at each
/// read `a[idx]` (in the body and the sites), and removes the two statements: the
/// analysis then follows the reads as expressions of the parameters. Only where that
/// gives the same value: `a` is bound once and only read by index afterwards, `e`
/// and the indices are pure and read names bound once and never changed, and the loop
/// runs over the vector's whole length.
pub(crate) fn inline_filled_vectors(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
    let changed: HashSet<String> = {
        let mut assigned = Assigned::default();
        assigned.visit_block(body);
        assigned.names.into_iter().chain(mutated(body)).collect()
    };
    let shadow = shadowable(names, body, sites);
    let mut k = 0;
    while k < body.stmts.len() {
        if let Some(fill) = collected_vector(&body.stmts[k], names, &shadow, &changed)
            && fill.rewrite(&mut body.stmts[k + 1..], sites)
        {
            body.stmts.remove(k);
            continue;
        }
        match body
            .stmts
            .get(k + 1)
            .and_then(|next| filled_vector(&body.stmts[k], next, names, &shadow, &changed))
        {
            Some(fill) if fill.rewrite(&mut body.stmts[k + 2..], sites) => {
                body.stmts.drain(k..k + 2);
            }
            _ => k += 1,
        }
    }
}

/// The name and value of `let name = value;` (typed or not, without `else`).
fn named_let(decl: &Stmt) -> Option<(&syn::PatIdent, &syn::LocalInit)> {
    let Stmt::Local(local) = decl else {
        return None;
    };
    let pat = match &local.pat {
        syn::Pat::Type(t) => &*t.pat,
        p => p,
    };
    let syn::Pat::Ident(p) = pat else {
        return None;
    };
    let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
    Some((p, init))
}

/// `let a = xs.iter().map(|x| e(*x)).collect();` (or `|&x| e(x)`) as a [`Filled`]
/// vector whose element `k` is `e(xs[k])`.
fn collected_vector(
    decl: &Stmt,
    names: &Names,
    shadow: &HashSet<String>,
    changed: &HashSet<String>,
) -> Option<Filled> {
    let (p, init) = named_let(decl)?;
    let Expr::MethodCall(collect) = &*init.expr else {
        return None;
    };
    let Expr::MethodCall(map) = &*collect.receiver else {
        return None;
    };
    let Expr::MethodCall(iter) = &*map.receiver else {
        return None;
    };
    if collect.method != "collect"
        || !collect.args.is_empty()
        || map.method != "map"
        || map.args.len() != 1
        || iter.method != "iter"
        || !iter.args.is_empty()
        || !super::super::control::pure(&iter.receiver)
    {
        return None;
    }
    let Expr::Closure(closure) = &map.args[0] else {
        return None;
    };
    if closure.inputs.len() != 1
        || closure.capture.is_some()
        || closure.asyncness.is_some()
        || !super::super::control::pure(&closure.body)
    {
        return None;
    }
    let (param, by_value) = match &closure.inputs[0] {
        syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
            (i.ident.to_string(), false)
        }
        syn::Pat::Reference(r) => match &*r.pat {
            syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                (i.ident.to_string(), true)
            }
            _ => return None,
        },
        _ => return None,
    };
    let name = p.ident.to_string();
    let var = "__collected".to_string();
    let index = syn::Ident::new(&var, proc_macro2::Span::call_site());
    let xs = &*iter.receiver;
    let spec = (param.clone(), by_value);
    let mut deref = Deref {
        names: [(&spec, xs), (&spec, xs)],
        index: &index,
        ok: true,
    };
    let mut value = (*closure.body).clone();
    deref.visit_expr_mut(&mut value);
    let mut stable = deref.ok && !names.twice.contains(&name);
    crate::ast::each_ident(quote!(#value), &mut |i| {
        let read = i.to_string();
        stable &= read != name
            && read != param
            && (read == var || (!shadow.contains(&read) && !changed.contains(&read)));
    });
    stable.then_some(Filled { name, var, value })
}

/// `a`, the loop variable `k` and `e(k)` of a vector filled by a loop.
struct Filled {
    name: String,
    var: String,
    value: Expr,
}

fn filled_vector(
    decl: &Stmt,
    fill: &Stmt,
    names: &Names,
    shadow: &HashSet<String>,
    changed: &HashSet<String>,
) -> Option<Filled> {
    let (p, init) = named_let(decl)?;
    let Expr::Macro(m) = &*init.expr else {
        return None;
    };
    if !m.mac.path.is_ident("vec") {
        return None;
    }
    let (_, len) = m
        .mac
        .parse_body_with(|input: syn::parse::ParseStream| {
            let value: Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            let len: Expr = input.parse()?;
            Ok((value, len))
        })
        .ok()?;
    let name = p.ident.to_string();
    let Stmt::Expr(Expr::ForLoop(f), _) = fill else {
        return None;
    };
    let syn::Pat::Ident(var) = &*f.pat else {
        return None;
    };
    let Expr::Range(range) = &*f.expr else {
        return None;
    };
    let whole = matches!(range.limits, syn::RangeLimits::HalfOpen(_))
        && range
            .start
            .as_deref()
            .is_some_and(|s| quote!(#s).to_string() == "0")
        && range.end.as_deref().is_some_and(|e| {
            let own_len = matches!(e, Expr::MethodCall(m) if m.method == "len"
                && m.args.is_empty()
                && matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident(&name)));
            own_len || quote!(#e).to_string() == quote!(#len).to_string()
        });
    let [Stmt::Expr(Expr::Assign(assign), Some(_))] = f.body.stmts.as_slice() else {
        return None;
    };
    let Expr::Index(target) = &*assign.left else {
        return None;
    };
    let var_name = var.ident.to_string();
    let is = |e: &Expr, n: &str| matches!(e, Expr::Path(p) if p.path.is_ident(n));
    if !whole
        || !is(&target.expr, &name)
        || !is(&target.index, &var_name)
        || names.twice.contains(&name)
        || !f.attrs.is_empty()
        || f.label.is_some()
        || !super::super::control::pure(&assign.right)
    {
        return None;
    }
    let value = (*assign.right).clone();
    let mut stable = true;
    crate::ast::each_ident(quote!(#value), &mut |i| {
        let read = i.to_string();
        stable &= read != name
            && (read == var_name || (!shadow.contains(&read) && !changed.contains(&read)));
    });
    stable.then_some(Filled {
        name,
        var: var_name,
        value,
    })
}

impl Filled {
    /// Rewrites the reads `a[idx]` in `rest` and the sites there; `false` (nothing
    /// changed) when `a` is used otherwise or an index is not pure.
    fn rewrite(&self, rest: &mut [Stmt], sites: &mut [Site]) -> bool {
        let here = sites_in(rest);
        let mut tokens = 0;
        let mut reads = IndexReads {
            name: &self.name,
            count: 0,
            pure: true,
        };
        let mut count = |t: proc_macro2::TokenStream| {
            crate::ast::each_ident(t, &mut |i| tokens += usize::from(i == self.name.as_str()));
        };
        for stmt in rest.iter() {
            count(quote!(#stmt));
            reads.visit_stmt(stmt);
        }
        for &k in &here {
            let Some(site) = sites.get(k) else {
                return false;
            };
            let (n, value, obs) = (&site.name, &site.value, &site.obs);
            count(quote!(#n #value #obs));
            reads.visit_expr(value);
            if let Some(obs) = obs {
                reads.visit_expr(obs);
            }
        }
        if tokens != reads.count || !reads.pure {
            return false;
        }
        let mut this = self;
        for stmt in rest.iter_mut() {
            this.visit_stmt_mut(stmt);
        }
        for k in here {
            let site = &mut sites[k];
            this.visit_expr_mut(&mut site.value);
            if let Some(obs) = &mut site.obs {
                this.visit_expr_mut(obs);
            }
        }
        true
    }
}

impl VisitMut for &Filled {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Index(i) = expr
            && matches!(&*i.expr, Expr::Path(p) if p.path.is_ident(&self.name))
        {
            let mut value = self.value.clone();
            let index = &*i.index;
            Substitute {
                var: &self.var,
                by: &syn::parse_quote!((#index)),
            }
            .visit_expr_mut(&mut value);
            *expr = syn::parse_quote!((#value));
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Counts the reads `name[idx]` and whether every `idx` is pure (a single element) and
/// no element is written.
struct IndexReads<'n> {
    name: &'n str,
    count: usize,
    pure: bool,
}

impl<'a> Visit<'a> for IndexReads<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        let element = |e: &Expr| matches!(e, Expr::Index(i) if matches!(&*i.expr, Expr::Path(p) if p.path.is_ident(self.name)));
        if let Expr::Index(i) = expr
            && element(expr)
        {
            self.count += 1;
            // a range reads a slice, not the element the substitution writes
            self.pure &=
                super::super::control::pure(&i.index) && !matches!(&*i.index, Expr::Range(_));
        }
        // an element updated (`v[0] += a`) is written, not only read
        if let Expr::Binary(b) = expr
            && crate::ast::is_assign_op(&b.op)
            && element(&b.left)
        {
            self.pure = false;
        }
        syn::visit::visit_expr(self, expr);
    }
    fn visit_expr_assign(&mut self, a: &'a syn::ExprAssign) {
        // a write to an element is not a read
        if matches!(&*a.left, Expr::Index(i) if matches!(&*i.expr, Expr::Path(p) if p.path.is_ident(self.name)))
        {
            self.pure = false;
        }
        syn::visit::visit_expr_assign(self, a);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// Replaces the reads of one name by an expression.
struct Substitute<'s> {
    var: &'s str,
    by: &'s Expr,
}

impl VisitMut for Substitute<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if matches!(expr, Expr::Path(p) if p.path.is_ident(self.var)) {
            *expr = self.by.clone();
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
