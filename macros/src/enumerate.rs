//! Enumerated sites: `let z = sample!("z", dist, enumerate);` sums `z` out over its
//! finite support.
//!
//! The *region* of an enumerated site is the rest of the block after its `let`. It runs
//! once for each value of the support, as a closure given to `Ctx::enumerate`, which
//! adds the log-sum-exp of the branches' log-densities. [`check`] makes sure the region
//! can be run that way: no value of `z` leaves it (no assignment to a variable declared
//! outside it, no `deterministic!`, no `return`, no `break`/`continue` out of it, no
//! value at the end of its block), and it reads no parameter (no latent `sample!`, which
//! would be read once per branch). [`restructure`] rewrites the body accordingly.

use std::collections::HashSet;

use proc_macro2::Span;
use quote::{ToTokens, quote_spanned};
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Ident, Pat, Stmt};

use crate::ast::{Model, Site, SiteMacro};
use crate::parse::placeholder_index;

/// The index of the enumerated site a statement `let pat = sample!(.., enumerate);`
/// binds, with the statement's `let`.
fn enumerated_let<'s>(stmt: &'s Stmt, sites: &[Site]) -> Option<(usize, &'s syn::Local)> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let init = local.init.as_ref()?;
    if init.diverge.is_some() {
        return None;
    }
    let Expr::Macro(m) = &*init.expr else {
        return None;
    };
    let index = placeholder_index(&m.mac)?;
    sites
        .get(index)
        .filter(|s| s.enumerate.is_some())
        .map(|_| (index, local))
}

/// `true` when the model has an enumerated site.
pub fn has_enumerated(model: &Model) -> bool {
    model.sites.iter().any(|s| s.enumerate.is_some())
}

/// The names a pattern binds.
fn bound_names(pat: &Pat, out: &mut HashSet<String>) {
    struct Names<'a>(&'a mut HashSet<String>);
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.insert(p.ident.to_string());
            visit::visit_pat_ident(self, p);
        }
        // a type in a pattern binds nothing
        fn visit_type(&mut self, _: &'ast syn::Type) {}
    }
    Names(out).visit_pat(pat);
}

/// Checks every enumerated site and its region.
pub fn check(model: &Model, errors: &mut Vec<syn::Error>) {
    if !has_enumerated(model) {
        return;
    }
    let mut finder = Finder {
        sites: &model.sites,
        bound: HashSet::new(),
        errors: Vec::new(),
    };
    finder.visit_block(&model.body);
    for (index, site) in model.sites.iter().enumerate() {
        if let Some(span) = site.enumerate
            && !finder.bound.contains(&index)
            && site.in_closure.is_none()
        {
            finder.errors.push(syn::Error::new(
                span,
                "an enumerated site must be bound by its own `let`: write \
                 `let z = sample!(\"z\", dist, enumerate);` — the rest of the enclosing block \
                 is the region summed over the values of `z`",
            ));
        }
    }
    // a site inside nested regions is reported once
    let mut seen = HashSet::new();
    for e in finder.errors {
        let key = format!("{:?} {}", e.span(), e);
        if seen.insert(key) {
            errors.push(e);
        }
    }
}

/// Finds the enumerated `let`s and checks their regions.
struct Finder<'m> {
    sites: &'m [Site],
    bound: HashSet<usize>,
    errors: Vec<syn::Error>,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_block(&mut self, block: &'ast Block) {
        for (i, stmt) in block.stmts.iter().enumerate() {
            if let Some((index, local)) = enumerated_let(stmt, self.sites) {
                self.bound.insert(index);
                self.region(index, local, &block.stmts[i + 1..]);
            }
        }
        visit::visit_block(self, block);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl Finder<'_> {
    fn region(&mut self, index: usize, local: &syn::Local, stmts: &[Stmt]) {
        let mut names = HashSet::new();
        bound_names(&local.pat, &mut names);
        let var = match &local.pat {
            Pat::Ident(p) => p.ident.to_string(),
            Pat::Type(t) => match &*t.pat {
                Pat::Ident(p) => p.ident.to_string(),
                other => other.to_token_stream().to_string(),
            },
            other => other.to_token_stream().to_string(),
        };
        let site_name = self.sites[index]
            .name
            .as_ref()
            .map(|l| l.value())
            .unwrap_or_default();
        if let Some(Stmt::Expr(tail, None)) = stmts.last()
            && gives_value(tail)
        {
            self.errors.push(syn::Error::new_spanned(
                tail,
                format!(
                    "this block ends with a value, which would carry `{var}` out of its \
                     enumeration region (the rest of the block after `let {var} = \
                     sample!(\"{site_name}\", .., enumerate)`, run once for each value of \
                     `{var}`): end it with `;` and add what depends on `{var}` to the \
                     log-density inside the region (an observed `sample!` or `factor!`)"
                ),
            ));
        }
        let mut check = Region {
            sites: self.sites,
            var: &var,
            scopes: vec![names],
            loops: 0,
            labels: Vec::new(),
            closures: 0,
            errors: Vec::new(),
        };
        for stmt in stmts {
            check.visit_stmt(stmt);
        }
        self.errors.extend(check.errors);
    }
}

/// `true` when an expression ending a block may give the block a value (`mu[z]`,
/// `if z { 1.0 } else { 0.0 }`); loops, site placeholders, other macros and blocks,
/// `if`s and `match`es whose branches end with a statement give none.
fn gives_value(expr: &Expr) -> bool {
    let block = |b: &Block| match b.stmts.last() {
        Some(Stmt::Expr(tail, None)) => gives_value(tail),
        _ => false,
    };
    match expr {
        Expr::If(i) => {
            block(&i.then_branch) || i.else_branch.as_ref().is_some_and(|(_, e)| gives_value(e))
        }
        Expr::Match(m) => m.arms.iter().any(|arm| gives_value(&arm.body)),
        Expr::Block(b) => block(&b.block),
        Expr::Unsafe(u) => block(&u.block),
        Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) | Expr::Macro(_) => false,
        Expr::Tuple(t) => !t.elems.is_empty(),
        Expr::Paren(p) => gives_value(&p.expr),
        _ => true,
    }
}

/// The variable an assignment writes to: `acc` in `acc += ..`, `v[i].x = ..`.
fn assigned_root(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        Expr::Field(f) => assigned_root(&f.base),
        Expr::Index(i) => assigned_root(&i.expr),
        Expr::Paren(p) => assigned_root(&p.expr),
        Expr::Group(g) => assigned_root(&g.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => assigned_root(&u.expr),
        _ => None,
    }
}

/// Checks one region: what could carry the enumerated value out of it, and sites that
/// cannot run once per branch.
struct Region<'m> {
    sites: &'m [Site],
    /// The enumerated variable, for messages.
    var: &'m str,
    /// The names declared inside the region, by scope.
    scopes: Vec<HashSet<String>>,
    /// Loops entered inside the region.
    loops: usize,
    /// Loop labels declared inside the region.
    labels: Vec<String>,
    /// Closures entered inside the region (whose `return` and `break` stay inside).
    closures: usize,
    errors: Vec<syn::Error>,
}

impl Region<'_> {
    fn declared(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    fn declare(&mut self, pat: &Pat) {
        let scope = self.scopes.last_mut().expect("a scope");
        bound_names(pat, scope);
    }

    fn region_words(&self) -> String {
        let var = self.var;
        format!(
            "the enumeration region of `{var}` (the rest of the block after `let {var} = \
             sample!(.., enumerate)`), which runs once for each value of `{var}`"
        )
    }

    fn assignment(&mut self, whole: &Expr, left: &Expr) {
        let Some(root) = assigned_root(left) else {
            return;
        };
        let name = root.to_string();
        if self.declared(&name) {
            return;
        }
        let var = self.var;
        let region = self.region_words();
        self.errors.push(syn::Error::new_spanned(
            whole,
            format!(
                "`{name}` is declared outside {region}: this assignment would run once per \
                 value and carry `{var}` out of its region. Declare `{name}` inside the \
                 region, or add what depends on `{var}` to the log-density there (an \
                 observed `sample!` or `factor!`); draws of `{var}` come from \
                 `tilde::samplers::infer_discrete`"
            ),
        ));
    }

    fn site(&mut self, index: usize) {
        let Some(site) = self.sites.get(index) else {
            return;
        };
        let var = self.var;
        let region = self.region_words();
        let message = match site.kind {
            SiteMacro::Sample if site.obs.is_none() && site.enumerate.is_none() => format!(
                "a latent `sample!` inside {region}, would be read once per value: declare \
                 it before `let {var} = sample!(.., enumerate)`, or end the region earlier by \
                 putting the enumerated site and the code that uses it in their own block \
                 `{{ .. }}`"
            ),
            SiteMacro::Deterministic => format!(
                "`deterministic!` inside {region}, would record one value per value of \
                 `{var}` and carry `{var}` out of its region: record it outside the region; \
                 draws of `{var}` come from `tilde::samplers::infer_discrete`"
            ),
            _ => return,
        };
        self.errors.push(syn::Error::new(site.name_span, message));
    }
}

impl<'ast> Visit<'ast> for Region<'_> {
    fn visit_block(&mut self, block: &'ast Block) {
        self.scopes.push(HashSet::new());
        visit::visit_block(self, block);
        self.scopes.pop();
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        self.declare(&local.pat);
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        match expr {
            Expr::Macro(m) => {
                if let Some(index) = placeholder_index(&m.mac) {
                    self.site(index);
                }
            }
            Expr::Assign(a) => {
                self.assignment(expr, &a.left);
                visit::visit_expr(self, expr);
            }
            Expr::Binary(b) if crate::ast::is_assign_op(&b.op) => {
                self.assignment(expr, &b.left);
                visit::visit_expr(self, expr);
            }
            Expr::Return(_) if self.closures == 0 => {
                let region = self.region_words();
                self.errors.push(syn::Error::new_spanned(
                    expr,
                    format!(
                        "`return` inside {region}, would end one branch only: use `if` to \
                         skip the rest of the region"
                    ),
                ));
            }
            Expr::Break(syn::ExprBreak { label, .. })
            | Expr::Continue(syn::ExprContinue { label, .. })
                if self.closures == 0 =>
            {
                let inside = match label {
                    Some(l) => self.labels.contains(&l.ident.to_string()),
                    None => self.loops > 0,
                };
                if !inside {
                    let region = self.region_words();
                    let word = if matches!(expr, Expr::Break(_)) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.errors.push(syn::Error::new_spanned(
                        expr,
                        format!(
                            "`{word}` inside {region}, cannot leave a loop outside the \
                             region: use `if` to skip the rest of the region"
                        ),
                    ));
                }
                visit::visit_expr(self, expr);
            }
            Expr::ForLoop(f) => {
                self.visit_expr(&f.expr);
                self.scopes.push(HashSet::new());
                self.declare(&f.pat);
                self.looped(f.label.as_ref(), |s| s.visit_block(&f.body));
                self.scopes.pop();
            }
            Expr::While(w) => {
                self.scopes.push(HashSet::new());
                self.visit_expr(&w.cond);
                self.looped(w.label.as_ref(), |s| s.visit_block(&w.body));
                self.scopes.pop();
            }
            Expr::Loop(l) => self.looped(l.label.as_ref(), |s| s.visit_block(&l.body)),
            Expr::Let(l) => {
                self.visit_expr(&l.expr);
                self.declare(&l.pat);
            }
            Expr::Closure(c) => {
                self.scopes.push(HashSet::new());
                for input in &c.inputs {
                    self.declare(input);
                }
                let loops = std::mem::replace(&mut self.loops, 0);
                self.closures += 1;
                self.visit_expr(&c.body);
                self.closures -= 1;
                self.loops = loops;
                self.scopes.pop();
            }
            _ => visit::visit_expr(self, expr),
        }
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.scopes.push(HashSet::new());
        self.declare(&arm.pat);
        if let Some((_, guard)) = &arm.guard {
            self.visit_expr(guard);
        }
        self.visit_expr(&arm.body);
        self.scopes.pop();
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl Region<'_> {
    fn looped(&mut self, label: Option<&syn::Label>, body: impl FnOnce(&mut Self)) {
        if let Some(l) = label {
            self.labels.push(l.name.ident.to_string());
        }
        self.loops += 1;
        body(self);
        self.loops -= 1;
        if label.is_some() {
            self.labels.pop();
        }
    }
}

/// Rewrites each enumerated `let` and its region into a call of `Ctx::enumerate` whose
/// closure runs the region for one value; sequential enumerated sites of one block nest.
pub fn restructure(block: &mut Block, sites: &[Site]) {
    Restructure { sites }.visit_block_mut(block);
}

struct Restructure<'m> {
    sites: &'m [Site],
}

impl VisitMut for Restructure<'_> {
    fn visit_block_mut(&mut self, block: &mut Block) {
        let Some((at, index)) = block
            .stmts
            .iter()
            .enumerate()
            .find_map(|(i, s)| enumerated_let(s, self.sites).map(|(k, _)| (i, k)))
        else {
            visit_mut::visit_block_mut(self, block);
            return;
        };
        let rest = block.stmts.split_off(at + 1);
        let Some(Stmt::Local(local)) = block.stmts.pop() else {
            unreachable!("found above")
        };
        for stmt in &mut block.stmts {
            self.visit_stmt_mut(stmt);
        }
        let mut region = Block {
            brace_token: Default::default(),
            stmts: rest,
        };
        self.visit_block_mut(&mut region);
        block
            .stmts
            .push(enumerate_call(&self.sites[index], &local.pat, region));
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn enumerate_call(site: &Site, pat: &Pat, region: Block) -> Stmt {
    let span: Span = site.name_span;
    let name = match &site.name {
        Some(lit) => quote_spanned!(span=> || ::std::format!(#lit)),
        None => quote_spanned!(span=> || ::std::string::String::new()),
    };
    let value = &site.value;
    let stmts = &region.stmts;
    syn::parse_quote_spanned! {span=>
        match #value {
            __tilde_dist => __tilde_ctx.enumerate(#name, __tilde_dist, |__tilde_ctx, __tilde_value| {
                let #pat = __tilde_value;
                #(#stmts)*
                ::core::result::Result::Ok(())
            })?,
        };
    }
}
