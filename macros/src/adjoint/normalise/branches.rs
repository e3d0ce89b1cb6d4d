//! `match` and `if let` on data as `if` chains; `continue` as an `else`.

use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

/// Writes a `match` on a pure scrutinee as an `if` chain the analysis follows:
/// `if matches!(s, P₁) && g₁ { e₁ } else if … else { eₙ }` (the last arm, without a
/// guard, is what is left when the match is exhaustive). An arm whose pattern binds
/// names (`Some(v) if v > 0.5 => …`, plain bindings only) tests
/// `matches!(s, P if g)` and binds them again at the start of its branch, as
/// [`IfLetsAsIfs`] does: `let P = s else { unreachable!() };`.
pub(crate) struct MatchesAsIfs;

impl MatchesAsIfs {
    fn binds_nothing(pat: &syn::Pat) -> bool {
        match pat {
            syn::Pat::Lit(_) | syn::Pat::Path(_) | syn::Pat::Wild(_) | syn::Pat::Range(_) => true,
            syn::Pat::Or(p) => p.cases.iter().all(Self::binds_nothing),
            syn::Pat::Paren(p) => Self::binds_nothing(&p.pat),
            syn::Pat::Reference(p) => Self::binds_nothing(&p.pat),
            syn::Pat::Tuple(p) => p.elems.iter().all(Self::binds_nothing),
            syn::Pat::TupleStruct(p) => p.elems.iter().all(Self::binds_nothing),
            syn::Pat::Struct(p) => {
                p.rest.is_some() && p.fields.iter().all(|f| Self::binds_nothing(&f.pat))
            }
            _ => false,
        }
    }

    fn as_ifs(m: &syn::ExprMatch) -> Option<Expr> {
        let (last, arms) = m.arms.split_last()?;
        if !m.attrs.is_empty()
            || last.guard.is_some()
            || !super::super::control::pure(&m.expr)
            || !m
                .arms
                .iter()
                .all(|a| IfLetsAsIfs::without_bindings(&a.pat).is_some())
        {
            return None;
        }
        let scrutinee = &m.expr;
        let branch = |arm: &syn::Arm| -> syn::Block {
            let mut block = match &*arm.body {
                Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => b.block.clone(),
                // built, not parsed: a site's placeholder must stay an expression
                other => syn::Block {
                    brace_token: Default::default(),
                    stmts: vec![Stmt::Expr(other.clone(), None)],
                },
            };
            if !Self::binds_nothing(&arm.pat) {
                let pat = &arm.pat;
                block.stmts.insert(
                    0,
                    syn::parse_quote! {
                        #[allow(irrefutable_let_patterns)]
                        let #pat = #scrutinee else { unreachable!() };
                    },
                );
            }
            block
        };
        let mut chain = Expr::Block(syn::ExprBlock {
            attrs: Vec::new(),
            label: None,
            block: branch(last),
        });
        for arm in arms.iter().rev() {
            let pat = &arm.pat;
            let test: Expr = match (&arm.guard, Self::binds_nothing(pat)) {
                (Some((_, guard)), true) => {
                    syn::parse_quote!(matches!(#scrutinee, #pat) && (#guard))
                }
                (Some((_, guard)), false) => {
                    syn::parse_quote!(matches!(#scrutinee, #pat if #guard))
                }
                (None, _) => syn::parse_quote!(matches!(#scrutinee, #pat)),
            };
            // `else if`, not `else { if … }`: the analysis follows `else if` chains
            chain = Expr::If(syn::ExprIf {
                attrs: Vec::new(),
                if_token: Default::default(),
                cond: Box::new(test),
                then_branch: branch(arm),
                else_branch: Some((Default::default(), Box::new(chain))),
            });
        }
        Some(chain)
    }
}

impl VisitMut for MatchesAsIfs {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Match(m) = expr
            && let Some(ifs) = Self::as_ifs(m)
        {
            *expr = ifs;
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Writes `if let P = s { body } else { … }` over a pure scrutinee as
/// `if matches!(s, P₀) { let P = s else { unreachable!() }; body } else { … }`, where
/// `P₀` is `P` with its bindings (lower-case names) as `_`: an `if` the analysis
/// follows around a data `let` (`if let Some(v) = y[i] { sample!(…, obs = v) }`).
pub(crate) struct IfLetsAsIfs;

impl IfLetsAsIfs {
    /// `pat` with its bindings as `_`, or `None` for `ref`, `@` and `mut` bindings.
    fn without_bindings(pat: &syn::Pat) -> Option<syn::Pat> {
        struct Wild(bool);
        impl VisitMut for Wild {
            fn visit_pat_mut(&mut self, pat: &mut syn::Pat) {
                if let syn::Pat::Ident(p) = pat {
                    let lower = p
                        .ident
                        .to_string()
                        .starts_with(|c: char| c.is_lowercase() || c == '_');
                    if p.by_ref.is_some() || p.mutability.is_some() || p.subpat.is_some() {
                        self.0 = false;
                    } else if lower {
                        *pat = syn::parse_quote!(_);
                    }
                    return;
                }
                visit_mut::visit_pat_mut(self, pat);
            }
        }
        let mut pat = pat.clone();
        let mut wild = Wild(true);
        wild.visit_pat_mut(&mut pat);
        wild.0.then_some(pat)
    }
}

impl VisitMut for IfLetsAsIfs {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        let Expr::If(branch) = expr else {
            return;
        };
        let Expr::Let(test) = &*branch.cond else {
            return;
        };
        let (pat, scrutinee) = (&test.pat, &test.expr);
        if !super::super::control::pure(scrutinee) {
            return;
        }
        let Some(plain) = Self::without_bindings(pat) else {
            return;
        };
        let cond: Expr = syn::parse_quote!(matches!(#scrutinee, #plain));
        let bind: Stmt = syn::parse_quote! {
            #[allow(irrefutable_let_patterns)]
            let #pat = #scrutinee else { unreachable!() };
        };
        branch.then_branch.stmts.insert(0, bind);
        *branch.cond = cond;
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Writes `if c { …; continue; }` in a loop's body (an unlabelled `continue` at the end
/// of a branch without `else`, no other jump in it) as `if c { … } else { the rest of
/// the body }`: the same iterations, in a form the analysis follows (`if y[i].is_nan()
/// { continue; }` before the sites of a loop over data).
pub(crate) struct ContinuesAsBranches;

impl ContinuesAsBranches {
    fn rewrite(block: &mut syn::Block) {
        let found = block.stmts.iter().position(|stmt| {
            matches!(stmt, Stmt::Expr(Expr::If(branch), _)
                if branch.else_branch.is_none() && Self::ends_in_continue(&branch.then_branch))
        });
        let Some(at) = found else {
            return;
        };
        let rest = block.stmts.split_off(at + 1);
        let Some(Stmt::Expr(Expr::If(mut branch), _)) = block.stmts.pop() else {
            unreachable!("the statement found above")
        };
        branch.then_branch.stmts.pop();
        let mut otherwise = syn::Block {
            brace_token: Default::default(),
            stmts: rest,
        };
        Self::rewrite(&mut otherwise);
        branch.else_branch = Some((
            Default::default(),
            Box::new(Expr::Block(syn::ExprBlock {
                attrs: Vec::new(),
                label: None,
                block: otherwise,
            })),
        ));
        block.stmts.push(Stmt::Expr(Expr::If(branch), None));
    }

    /// Whether `block` ends in `continue` (unlabelled) and has no other jump.
    fn ends_in_continue(block: &syn::Block) -> bool {
        let Some((last, before)) = block.stmts.split_last() else {
            return false;
        };
        let last_is_continue = matches!(last,
            Stmt::Expr(Expr::Continue(c), _) if c.label.is_none() && c.attrs.is_empty());
        let mut jumps = super::super::analysis::Jumps::default();
        for stmt in before {
            syn::visit::Visit::visit_stmt(&mut jumps, stmt);
        }
        last_is_continue && !jumps.found
    }
}

impl VisitMut for ContinuesAsBranches {
    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        visit_mut::visit_expr_for_loop_mut(self, f);
        if f.label.is_none() {
            Self::rewrite(&mut f.body);
        }
    }
    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        visit_mut::visit_expr_while_mut(self, w);
        if w.label.is_none() {
            Self::rewrite(&mut w.body);
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
