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
pub(super) struct SplitTuples<'s> {
    pub(super) sites: &'s [Site],
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
        for k in Renamer::sites_in(&value_stmts) {
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

/// The names an expression moved from where it is written to where it is read may mean
/// something else at: those the body binds more than once, those bound inside the
/// sites' arguments (blocks, closures), and every name an item in the body or the sites
/// mentions (an inner `const`, `fn` or `use` shadows one of the module).
fn shadowable(names: &Names, body: &syn::Block, sites: &[Site]) -> HashSet<String> {
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

/// The distribution `let`s [`inline_distributions`] may rewrite: `(name, constructor)`.
struct Candidates<'c> {
    names: &'c Names,
    shadow: &'c HashSet<String>,
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
                stable &= !self.shadow.contains(&read) && !self.changed.contains(&read);
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

/// Gives each `let` inside a loop's or a branch's block whose name the body binds more
/// than once (`let eta = …` in two sibling loops) a name of its own, `__b{k}_eta`, with
/// every read of it in the rest of its block and in the sites there. Only where no
/// later pattern there binds the name again and every token of the name there is a
/// plain read (not in a macro or a format string): then each read means this binding.
pub(super) fn rename_inner_bindings(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
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
    /// The sites whose placeholders `stmts` hold.
    fn sites_in(stmts: &[Stmt]) -> Vec<usize> {
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
            let sites = Self::sites_in(rest);
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

/// Writes a `match` on a pure scrutinee whose patterns bind no name (literals, paths,
/// `_`, ranges, `|` and nestings of those) as an `if` chain the analysis follows:
/// `if matches!(s, P₁) && g₁ { e₁ } else if … else { eₙ }` (the last arm, without a
/// guard, is what is left when the match is exhaustive).
pub(super) struct MatchesAsIfs;

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
            || !super::control::pure(&m.expr)
            || !m.arms.iter().all(|a| Self::binds_nothing(&a.pat))
        {
            return None;
        }
        let scrutinee = &m.expr;
        let branch = |body: &Expr| -> syn::Block {
            match body {
                Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => b.block.clone(),
                // built, not parsed: a site's placeholder must stay an expression
                other => syn::Block {
                    brace_token: Default::default(),
                    stmts: vec![Stmt::Expr(other.clone(), None)],
                },
            }
        };
        let mut chain = Expr::Block(syn::ExprBlock {
            attrs: Vec::new(),
            label: None,
            block: branch(&last.body),
        });
        for arm in arms.iter().rev() {
            let pat = &arm.pat;
            let test: Expr = match &arm.guard {
                Some((_, guard)) => syn::parse_quote!(matches!(#scrutinee, #pat) && (#guard)),
                None => syn::parse_quote!(matches!(#scrutinee, #pat)),
            };
            // `else if`, not `else { if … }`: the analysis follows `else if` chains
            chain = Expr::If(syn::ExprIf {
                attrs: Vec::new(),
                if_token: Default::default(),
                cond: Box::new(test),
                then_branch: branch(&arm.body),
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
pub(super) struct IfLetsAsIfs;

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
        if !super::control::pure(scrutinee) {
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

/// Writes Stan's transformed parameters filled by a loop,
/// `let mut a = vec![init; n]; for k in 0..n { a[k] = e(k); }`, as `e(idx)` at each
/// read `a[idx]` (in the body and the sites), and removes the two statements: the
/// analysis then follows the reads as expressions of the parameters. Only where that
/// gives the same value: `a` is bound once and only read by index afterwards, `e`
/// and the indices are pure and read names bound once and never changed, and the loop
/// runs over the vector's whole length.
pub(super) fn inline_filled_vectors(body: &mut syn::Block, sites: &mut [Site], names: &Names) {
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

/// `let a = xs.iter().map(|x| e(*x)).collect();` (or `|&x| e(x)`) as a [`Filled`]
/// vector whose element `k` is `e(xs[k])`.
fn collected_vector(
    decl: &Stmt,
    names: &Names,
    shadow: &HashSet<String>,
    changed: &HashSet<String>,
) -> Option<Filled> {
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
        || !super::control::pure(&iter.receiver)
    {
        return None;
    }
    let Expr::Closure(closure) = &map.args[0] else {
        return None;
    };
    if closure.inputs.len() != 1
        || closure.capture.is_some()
        || closure.asyncness.is_some()
        || !super::control::pure(&closure.body)
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
        || !super::control::pure(&assign.right)
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
        let here = Renamer::sites_in(rest);
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

/// Counts the reads `name[idx]` and whether every `idx` is pure.
struct IndexReads<'n> {
    name: &'n str,
    count: usize,
    pure: bool,
}

impl<'a> Visit<'a> for IndexReads<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Index(i) = expr
            && matches!(&*i.expr, Expr::Path(p) if p.path.is_ident(self.name))
        {
            self.count += 1;
            self.pure &= super::control::pure(&i.index);
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

/// Writes `for (a, b) in xs.iter().zip(ys) { … *a … *b … }` (also `zip(ys.iter())`,
/// and `&a`, `&b` patterns read as `a`, `b`) as a loop over indices,
/// `for __zk in 0..xs.len().min(ys.len()) { … xs[__zk] … ys[__zk] … }`, which the
/// analysis follows when `ys` is a latent vector. Only where every read of `a` and
/// `b` is a dereference (or a plain read for `&a`) and `xs`, `ys` are pure.
pub(super) struct ZipsAsIndices<'s> {
    pub(super) sites: &'s mut [Site],
    pub(super) next: usize,
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
        if pair.elems.len() != 2 || !super::control::pure(&xs) || !super::control::pure(&ys) {
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
        let here = Renamer::sites_in(&body.stmts);
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
struct Deref<'d> {
    names: [(&'d (String, bool), &'d Expr); 2],
    index: &'d syn::Ident,
    ok: bool,
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
