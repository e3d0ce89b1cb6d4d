//! Zips over a latent vector as loops over indices.

use quote::quote;
use syn::Expr;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};

use crate::ast::Site;

use super::*;

/// Writes `for (a, b) in xs.iter().zip(ys) { … *a … *b … }` (also `zip(ys.iter())`,
/// and `&a`, `&b` patterns read as `a`, `b`) as a loop over indices,
/// `for __zk in 0..xs.len().min(ys.len()) { … xs[__zk] … ys[__zk] … }`, which the
/// analysis follows when `ys` is a latent vector. Only where every read of `a` and
/// `b` is a dereference (or a plain read for `&a`) and `xs`, `ys` are pure.
pub(crate) struct ZipsAsIndices<'s> {
    pub(crate) sites: &'s mut [Site],
    pub(crate) next: usize,
}

impl ZipsAsIndices<'_> {
    /// `xs` of `xs.iter()`, `xs` itself otherwise.
    fn sequence(e: &Expr) -> &Expr {
        match e {
            Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => &m.receiver,
            Expr::Reference(r) if r.mutability.is_none() => &r.expr,
            other => other,
        }
    }

    fn rewrite(&mut self, f: &mut syn::ExprForLoop) -> Option<()> {
        let Expr::MethodCall(zip) = &*f.expr else {
            return None;
        };
        if zip.method != "zip" || zip.args.len() != 1 || !f.attrs.is_empty() {
            return None;
        }
        let Expr::MethodCall(iter) = &*zip.receiver else {
            return None;
        };
        if iter.method != "iter" || !iter.args.is_empty() {
            return None;
        }
        let (xs, ys) = (
            Self::sequence(&zip.receiver).clone(),
            Self::sequence(&zip.args[0]).clone(),
        );
        let syn::Pat::Tuple(pair) = &*f.pat else {
            return None;
        };
        if pair.elems.len() != 2
            || !super::super::control::pure(&xs)
            || !super::super::control::pure(&ys)
        {
            return None;
        }
        // (name, whether the pattern takes the value: `&a`)
        let name = |p: &syn::Pat| -> Option<(String, bool)> {
            match p {
                syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                    Some((i.ident.to_string(), false))
                }
                syn::Pat::Reference(r) => match &*r.pat {
                    syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                        Some((i.ident.to_string(), true))
                    }
                    _ => None,
                },
                _ => None,
            }
        };
        let (a, b) = (name(&pair.elems[0])?, name(&pair.elems[1])?);
        self.next += 1;
        let index = quote::format_ident!("__z{}", self.next);
        let mut deref = Deref {
            names: [(&a, &xs), (&b, &ys)],
            index: &index,
            ok: true,
        };
        let mut body = f.body.clone();
        deref.visit_block_mut(&mut body);
        let here = sites_in(&body.stmts);
        let mut values: Vec<(usize, Expr, Option<Expr>)> = Vec::new();
        for k in here {
            let site = self.sites.get(k)?;
            let (mut value, mut obs) = (site.value.clone(), site.obs.clone());
            deref.visit_expr_mut(&mut value);
            if let Some(obs) = &mut obs {
                deref.visit_expr_mut(obs);
            }
            values.push((k, value, obs));
        }
        let mut left = 0;
        let mut count = |t: proc_macro2::TokenStream| {
            crate::ast::each_ident(t, &mut |i| {
                left += usize::from(*i == a.0 || *i == b.0);
            });
        };
        count(quote!(#body));
        for (k, value, obs) in &values {
            let name = &self.sites[*k].name;
            count(quote!(#name #value #obs));
        }
        // the sequences are read where the pairs were: no binding or item in the body
        // may change what their names mean there
        let shadow = shadowable(&Names::default(), &f.body, self.sites);
        let mut bound = Names::default();
        bound.visit_block(&f.body);
        let mut rebound = false;
        crate::ast::each_ident(quote!(#xs #ys), &mut |i| {
            let n = i.to_string();
            rebound |= shadow.contains(&n) || bound.seen.contains(&n);
        });
        if !deref.ok || left > 0 || rebound {
            return None;
        }
        for (k, value, obs) in values {
            self.sites[k].value = value;
            self.sites[k].obs = obs;
        }
        *f.pat = syn::parse_quote!(#index);
        *f.expr = syn::parse_quote!(0..(#xs).len().min((#ys).len()));
        f.body = body;
        Some(())
    }
}

impl VisitMut for ZipsAsIndices<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::ForLoop(f) = expr {
            let _ = self.rewrite(f);
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Replaces `*a` (or `a` for a value pattern) by `xs[index]`.
pub(super) struct Deref<'d> {
    pub(super) names: [(&'d (String, bool), &'d Expr); 2],
    pub(super) index: &'d syn::Ident,
    pub(super) ok: bool,
}

impl Deref<'_> {
    fn sequence_of(&self, e: &Expr, by_value: bool) -> Option<&Expr> {
        let Expr::Path(p) = e else {
            return None;
        };
        let ident = p.path.get_ident()?;
        self.names
            .iter()
            .find(|((n, value), _)| ident == n && *value == by_value)
            .map(|(_, xs)| *xs)
    }
}

impl VisitMut for Deref<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        let index = self.index;
        if let Expr::Unary(u) = expr
            && matches!(u.op, syn::UnOp::Deref(_))
            && let Some(xs) = self.sequence_of(&u.expr, false)
        {
            *expr = syn::parse_quote!((#xs)[#index]);
            return;
        }
        if let Some(xs) = self.sequence_of(expr, true) {
            *expr = syn::parse_quote!((#xs)[#index]);
            return;
        }
        // a pattern or closure binding one of the names again: left as it is
        if let Expr::Closure(_) = expr {
            self.ok = false;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        if self.names.iter().any(|((n, _), _)| p.ident == n) {
            self.ok = false;
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
