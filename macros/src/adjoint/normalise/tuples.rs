//! Tuple `let`s as one `let` per name.

use std::collections::HashSet;

use quote::quote;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

use crate::ast::Site;

use super::*;

/// Writes `let (a, b) = (x, y);` as `let a = x; let b = y;` (each element bound to a
/// name, none of the elements reading one of those names), which the analysis follows.
pub(crate) struct SplitTuples<'s> {
    pub(crate) sites: &'s [Site],
}

impl SplitTuples<'_> {
    /// The `let`s one tuple `let` stands for, or `None` when it is another pattern.
    fn split(&self, local: &syn::Local) -> Option<Vec<syn::Stmt>> {
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
        // the elements, and the arguments of the sites among them (placeholders here)
        let mut reads_a_name = false;
        let mut read = |t: proc_macro2::TokenStream| {
            crate::ast::each_ident(t, &mut |i| reads_a_name |= names.contains(&i.to_string()));
        };
        read(quote!(#values));
        let value_stmts: Vec<Stmt> = values
            .elems
            .iter()
            .map(|v| Stmt::Expr(v.clone(), Some(Default::default())))
            .collect();
        for k in sites_in(&value_stmts) {
            let site = self.sites.get(k)?;
            let (n, value, obs) = (&site.name, &site.value, &site.obs);
            read(quote!(#n #value #obs));
        }
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

impl VisitMut for SplitTuples<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let stmts = std::mem::take(&mut block.stmts);
        for stmt in stmts {
            match &stmt {
                syn::Stmt::Local(local) => match self.split(local) {
                    Some(lets) => block.stmts.extend(lets),
                    None => block.stmts.push(stmt),
                },
                _ => block.stmts.push(stmt),
            }
        }
        visit_mut::visit_block_mut(self, block);
    }
}
