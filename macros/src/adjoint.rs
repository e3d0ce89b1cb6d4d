//! Gradient code generated from the body: a plain-`f64` forward pass and reverse-mode
//! adjoint code (source transformation), with no tape.
//!
//! - **Activity.** A binding is *active* when its value depends on a latent `sample!`
//!   (a scalar, or the slice of a latent `dist.iid(n)` site); everything else is data
//!   and runs as written, in `f64`.
//! - **Statements.** Each active statement (`let`, assignment, compound assignment,
//!   site, `factor!`) is evaluated once with its active inputs (*leaves*: active
//!   scalars and elements `v[i]` of active vectors) seeded as forward duals of a width
//!   known here, which gives its value and its local partials; the reverse pass adds
//!   `adjoint(output) · partial` to each leaf's adjoint.
//! - **Control flow.** A `for` loop whose iterations neither assign an active binding
//!   declared outside it nor read one that is ever reassigned runs its reverse sweep at
//!   the end of each iteration (*immediate*); other loops and `if` branches push what
//!   their sweep needs on a value stack and pop it in the reverse pass, in reverse.
//!
//! What this does not analyse (a closure or block over parameters, a call that is not
//! an elementary function, a vector site whose distribution depends on parameters,
//! `return`, a name bound twice, …) makes [`generate`] return the reason; the model
//! then runs on the tape, and `gradient_engine()` says why.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Pat, Stmt};

use crate::ast::{Model, Site, SiteMacro};
use crate::observed;
use crate::parse::placeholder_index;
use crate::symbolic;

/// Scalar families with a continuous density: latent sites of these are analysed.
const CONTINUOUS: &[&str] = &[
    "Normal",
    "HalfNormal",
    "LogNormal",
    "Cauchy",
    "HalfCauchy",
    "StudentT",
    "HalfStudentT",
    "Laplace",
    "Exponential",
    "Gamma",
    "InverseGamma",
    "Beta",
    "Uniform",
    "Logistic",
    "Gumbel",
    "Weibull",
    "Pareto",
    "SkewNormal",
    "VonMises",
    "Flat",
];

/// Scalar families that are only observed here (counts).
const DISCRETE: &[&str] = &[
    "Bernoulli",
    "Binomial",
    "Poisson",
    "NegativeBinomial",
    "Geometric",
    "BetaBinomial",
    "ZeroInflatedPoisson",
];

/// Methods of `tilde::Real` that map scalars to a scalar.
const REAL_METHODS: &[&str] = &[
    "abs",
    "atan",
    "cos",
    "digamma",
    "erf",
    "erfc",
    "exp",
    "exp_m1",
    "inv_logit",
    "lgamma",
    "ln",
    "ln_1p",
    "log1m_exp",
    "log1p_exp",
    "log_inv_logit",
    "logit",
    "max",
    "min",
    "pow",
    "powf",
    "powi",
    "recip",
    "sin",
    "sqrt",
    "tan",
    "tanh",
];

/// Functions of `tilde::math` over scalars that return a scalar.
const MATH_FUNCTIONS: &[&str] = &[
    "log1p_exp",
    "lgamma",
    "digamma",
    "lbeta",
    "erf",
    "erfc",
    "std_normal_cdf",
    "std_normal_quantile",
    "log_diff_exp",
    "log_mix",
];

type Outcome<T> = Result<T, String>;

/// What an active binding holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Scalar,
    /// The slice of a latent `dist.iid(n)` site.
    Vector,
}

/// The generated `generated_logp_and_grad` body and whether it runs loops (then
/// `Engine::Auto` prefers it, see `ModelBody::prefers_generated`), or why there is none.
pub fn generate(model: &Model) -> Outcome<(TokenStream, bool)> {
    // vectorised `Normal::each` observations as scalar loops, in this code only
    let rewritten = crate::vector_sites::rewrite(&model.body, &model.sites);
    let (body, sites) = match &rewritten {
        Some((body, sites)) => (body, sites.as_slice()),
        None => (&model.body, model.sites.as_slice()),
    };
    if sites.iter().any(crate::discrete::is_discrete_latent) {
        return Err("a discrete latent site".to_string());
    }
    let mut names = Names::default();
    for arg in &model.args {
        names.bind(&arg.ident.to_string());
    }
    names.visit_block(body);
    let active = activity(body, sites)?;
    if let Some(twice) = names.twice.iter().find(|n| active.contains_key(*n)) {
        return Err(format!(
            "the parameter-dependent name `{twice}` is bound more than once"
        ));
    }
    let mut assigned = Assigned::default();
    assigned.visit_block(body);
    let mut emitter = Emitter {
        sites,
        active,
        reassigned: assigned.names,
        twice: names.twice.clone(),
        next: 0,
        vectors: Vec::new(),
        top: HashSet::new(),
        // the arguments and the transformed data computed at construction
        slices: model
            .args
            .iter()
            .map(|a| (&a.ident, &a.ty))
            .chain(model.hoisted.iter().map(|h| (&h.ident, &h.ty)))
            .filter(|(_, ty)| is_f64_slice(ty))
            .map(|(ident, _)| ident.to_string())
            .filter(|n| !names.twice.contains(n))
            .collect(),
        active_branches: 0,
        data_constant: false,
    };
    let top = emitter.block(&body.stmts, Mode::Top)?;
    let adjoints = emitter.adjoint_decls(&top.declared);
    let forward = &top.forward;
    let reverse: Vec<&TokenStream> = top.reverse.iter().rev().collect();
    let give: Vec<TokenStream> = emitter
        .vectors
        .iter()
        .map(|v| quote!(__pool.give(#v);))
        .collect();
    // the data-only terms, summed at the first evaluation and kept by the model
    let (known, add_known) = if emitter.data_constant {
        (
            quote! {
                let __known_constant: ::core::option::Option<f64> =
                    self.__tilde_state.data_constant.get();
                let mut __constant: f64 = 0.0;
            },
            quote! {
                match __known_constant {
                    ::core::option::Option::Some(__c) => __target += __c,
                    ::core::option::Option::None => {
                        self.__tilde_state.data_constant.set(__constant);
                        __target += __constant;
                    }
                }
            },
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let code = quote! {
        #[allow(unused_imports)]
        use ::tilde::Real as _;
        #[allow(dead_code)]
        type T = f64;
        __grad.iter_mut().for_each(|g| *g = 0.0);
        let mut __pos: usize = 0;
        let mut __target: f64 = 0.0;
        #known
        #adjoints
        #forward
        if __pos != __x.len() {
            return ::core::option::Option::None;
        }
        #(#reverse)*
        #(#give)*
        #add_known
        if !__target.is_finite() {
            __grad.iter_mut().for_each(|g| *g = 0.0);
            // a NaN (a scale below zero in a written-out density) is a rejection too
            __target = __target.max(f64::NEG_INFINITY);
        }
        ::core::option::Option::Some(__target)
    };
    Ok((code, has_loop(body)))
}

/// Whether the body has a `for` loop: the generated code is what `Engine::Auto` runs
/// then (see `ModelBody::prefers_generated`).
fn has_loop(body: &syn::Block) -> bool {
    struct Loops(bool);
    impl<'a> Visit<'a> for Loops {
        fn visit_expr_for_loop(&mut self, _: &'a syn::ExprForLoop) {
            self.0 = true;
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut loops = Loops(false);
    loops.visit_block(body);
    loops.0
}

/// Every name the body binds, and those it binds more than once (activity is a
/// property of names, so a parameter-dependent one must be bound once).
#[derive(Default)]
struct Names {
    seen: HashSet<String>,
    twice: HashSet<String>,
}

impl Names {
    fn bind(&mut self, name: &str) {
        if !self.seen.insert(name.to_string()) {
            self.twice.insert(name.to_string());
        }
    }
}

impl<'a> Visit<'a> for Names {
    fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
        self.bind(&p.ident.to_string());
        visit::visit_pat_ident(self, p);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// The names assigned (`x = …`, `x += …`) anywhere in the body.
#[derive(Default)]
struct Assigned {
    names: HashSet<String>,
}

fn assignment(expr: &Expr) -> Option<(&Expr, &Expr, Option<syn::BinOp>)> {
    match expr {
        Expr::Assign(a) => Some((&a.left, &a.right, None)),
        Expr::Binary(b)
            if matches!(
                b.op,
                syn::BinOp::AddAssign(_)
                    | syn::BinOp::SubAssign(_)
                    | syn::BinOp::MulAssign(_)
                    | syn::BinOp::DivAssign(_)
                    | syn::BinOp::RemAssign(_)
                    | syn::BinOp::BitAndAssign(_)
                    | syn::BinOp::BitOrAssign(_)
                    | syn::BinOp::BitXorAssign(_)
                    | syn::BinOp::ShlAssign(_)
                    | syn::BinOp::ShrAssign(_)
            ) =>
        {
            Some((&b.left, &b.right, Some(b.op)))
        }
        _ => None,
    }
}

fn ident_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        Expr::Paren(p) => ident_of(&p.expr),
        _ => None,
    }
}

impl<'a> Visit<'a> for Assigned {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Some((left, _, _)) = assignment(expr)
            && let Some(name) = ident_of(left)
        {
            self.names.insert(name);
        }
        visit::visit_expr(self, expr);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// The single-segment names an expression reads, and whether it holds a latent site.
/// `v.len()` does not read `v`'s values.
struct Mentions<'m> {
    sites: &'m [Site],
    names: HashSet<String>,
    latent: bool,
    other_site: bool,
}

impl<'m> Mentions<'m> {
    fn of(sites: &'m [Site], expr: &Expr) -> Self {
        let mut m = Mentions {
            sites,
            names: HashSet::new(),
            latent: false,
            other_site: false,
        };
        m.visit_expr(expr);
        m
    }

    fn of_tokens(tokens: &TokenStream) -> HashSet<String> {
        let mut out = HashSet::new();
        fn walk(tokens: TokenStream, out: &mut HashSet<String>) {
            for t in tokens {
                match t {
                    proc_macro2::TokenTree::Ident(i) => {
                        out.insert(i.to_string());
                    }
                    proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                    _ => {}
                }
            }
        }
        walk(tokens.clone(), &mut out);
        out
    }

    fn any_in(&self, active: &HashMap<String, Kind>) -> bool {
        self.latent || self.names.iter().any(|n| active.contains_key(n))
    }
}

impl<'a> Visit<'a> for Mentions<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(i) = p.path.get_ident() {
                    self.names.insert(i.to_string());
                }
            }
            Expr::MethodCall(m) if m.method == "len" && ident_of(&m.receiver).is_some() => {}
            Expr::Macro(m) => match placeholder_index(&m.mac).and_then(|i| self.sites.get(i)) {
                Some(site) => {
                    match (site.kind, &site.obs) {
                        (SiteMacro::Sample, None) => self.latent = true,
                        (SiteMacro::Deterministic, _) => {}
                        _ => self.other_site = true,
                    }
                    self.visit_expr(&site.value);
                    if let Some(obs) = &site.obs {
                        self.visit_expr(obs);
                    }
                }
                None => {
                    self.names.extend(Self::of_tokens(&m.mac.tokens));
                }
            },
            _ => visit::visit_expr(self, expr),
        }
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// The site behind a placeholder expression, if `expr` is one.
fn site_of<'m>(sites: &'m [Site], expr: &Expr) -> Option<&'m Site> {
    match expr {
        Expr::Macro(m) => placeholder_index(&m.mac).and_then(|i| sites.get(i)),
        Expr::Paren(p) => site_of(sites, &p.expr),
        _ => None,
    }
}

/// `Family::ctor(..)` → the family's name.
fn family(expr: &Expr) -> Option<String> {
    let segments = crate::parse::call_segments(expr)?;
    let n = segments.len();
    if n < 2 || segments[n - 1] == "each" {
        return None;
    }
    Some(segments[n - 2].clone())
}

/// `inner.iid(n)` → `(inner, n)`.
fn iid(expr: &Expr) -> Option<(&Expr, &Expr)> {
    match expr {
        Expr::MethodCall(m) if m.method == "iid" && m.args.len() == 1 => {
            Some((&m.receiver, &m.args[0]))
        }
        _ => None,
    }
}

/// The active bindings, by a fixpoint over `let`s and assignments.
fn activity(body: &syn::Block, sites: &[Site]) -> Outcome<HashMap<String, Kind>> {
    struct Pass<'m> {
        sites: &'m [Site],
        active: HashMap<String, Kind>,
        changed: bool,
        error: Option<String>,
    }
    impl Pass<'_> {
        fn mark(&mut self, name: String, kind: Kind) {
            if let std::collections::hash_map::Entry::Vacant(e) = self.active.entry(name) {
                e.insert(kind);
                self.changed = true;
            }
        }
    }
    impl<'a> Visit<'a> for Pass<'_> {
        fn visit_local(&mut self, local: &'a syn::Local) {
            if let Some(init) = &local.init {
                let m = Mentions::of(self.sites, &init.expr);
                if m.any_in(&self.active) {
                    let mut pat = &local.pat;
                    if let Pat::Type(t) = pat {
                        pat = &t.pat;
                    }
                    match pat {
                        Pat::Ident(p) => {
                            let vector = site_of(self.sites, &init.expr).is_some_and(|s| {
                                s.kind == SiteMacro::Sample
                                    && s.obs.is_none()
                                    && iid(&s.value).is_some()
                            });
                            let kind = if vector { Kind::Vector } else { Kind::Scalar };
                            self.mark(p.ident.to_string(), kind);
                        }
                        _ => {
                            self.error.get_or_insert_with(|| {
                                "a pattern `let` binds a parameter-dependent value".into()
                            });
                        }
                    }
                }
            }
            visit::visit_local(self, local);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Some((left, right, _)) = assignment(expr)
                && Mentions::of(self.sites, right).any_in(&self.active)
            {
                match ident_of(left) {
                    Some(name) => self.mark(name, Kind::Scalar),
                    None => {
                        self.error.get_or_insert_with(|| {
                            "a parameter-dependent value is assigned to an element or field".into()
                        });
                    }
                }
            }
            visit::visit_expr(self, expr);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut pass = Pass {
        sites,
        active: HashMap::new(),
        changed: true,
        error: None,
    };
    while pass.changed {
        pass.changed = false;
        pass.visit_block(body);
    }
    match pass.error {
        Some(e) => Err(e),
        None => Ok(pass.active),
    }
}

/// Where a block's code goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The body itself: its reverse pass runs after its forward pass.
    Top,
    /// An immediate loop's body: its reverse sweep ends each iteration.
    Immediate,
    /// Inside a branch: stored values go on the stack as each statement runs.
    Stack,
    /// A stack loop's body: its statements' stored values go on the stack together,
    /// in one push at the end of each iteration (one pop in the reverse sweep).
    Deferred,
}

impl Mode {
    /// Whether the block's reverse code runs from values kept on the stack.
    fn is_stacked(self) -> bool {
        matches!(self, Mode::Stack | Mode::Deferred)
    }
}

/// A block's forward code, its statements' reverse code (in forward order), the
/// active scalars it declares and, in [`Mode::Deferred`], the values its statements
/// store.
#[derive(Default)]
struct Emitted {
    forward: TokenStream,
    reverse: Vec<TokenStream>,
    declared: Vec<String>,
    deferred: Vec<Stored>,
}

/// One input of an active statement.
struct Leaf {
    /// The `f64` value, read in the forward pass.
    value: TokenStream,
    /// The adjoint it feeds, written in the reverse pass.
    adjoint: TokenStream,
    /// Its value and adjoint live for the whole body (an element of a vector site, or a
    /// scalar of the body's top level that is never reassigned): the reverse pass may
    /// read the value, and a term may add to the adjoint as it runs.
    stable: bool,
}

/// Where the partial of a statement with respect to one leaf is.
enum PartialAt {
    /// Known at compile time: neither stored nor computed.
    Const(f64),
    /// The value of a stable leaf, read where it is needed.
    Value(TokenStream),
    /// Element `i` of the statement's stored partials.
    Stored(usize),
}

/// A statement differentiated in plain `f64` (see [`Emitter::symbolic`]).
struct Symbolic {
    /// Evaluates to `(value, [f64; width])`.
    block: TokenStream,
    width: usize,
    /// Per leaf.
    partials: Vec<PartialAt>,
}

impl Symbolic {
    /// The reverse code adding each leaf's share to its adjoint: `__a · ∂` when
    /// `scaled` (the statement's output has the adjoint `__a`), else `∂` (a term of the
    /// log-density); the stored partials are in the array `stored`.
    fn updates(&self, leaves: &[Leaf], stored: &Ident, scaled: bool) -> TokenStream {
        self.updates_of(leaves, stored, scaled, |_| true)
    }

    /// [`updates`](Self::updates) for the leaves `which` selects.
    fn updates_of(
        &self,
        leaves: &[Leaf],
        stored: &Ident,
        scaled: bool,
        which: impl Fn(&Leaf) -> bool,
    ) -> TokenStream {
        let updates = leaves
            .iter()
            .zip(&self.partials)
            .filter(|(l, _)| which(l))
            .map(|(l, p)| {
                let a = &l.adjoint;
                let partial = match p {
                    PartialAt::Const(c) => symbolic::literal(*c),
                    PartialAt::Value(v) => v.clone(),
                    PartialAt::Stored(i) => quote!(#stored[#i]),
                };
                match (p, scaled) {
                    (PartialAt::Const(k), true) if *k == 1.0 => quote!(#a += __a;),
                    (PartialAt::Const(k), true) if *k == -1.0 => quote!(#a -= __a;),
                    (_, true) => quote!(#a += __a * #partial;),
                    (_, false) => quote!(#a += #partial;),
                }
            });
        quote!(#(#updates)*)
    }
}

/// A value the reverse pass needs: in a local, and on the stack in stack mode.
enum Stored {
    Usize(Ident),
    Bool(Ident),
    Array(Ident, usize),
}

struct Emitter<'m> {
    sites: &'m [Site],
    active: HashMap<String, Kind>,
    reassigned: HashSet<String>,
    /// Names bound more than once (data only): a reduction's reverse sweep must not
    /// read one, since a later binding may shadow it there.
    twice: HashSet<String>,
    next: usize,
    /// The buffers of vector sites, returned to the pool at the end.
    vectors: Vec<Ident>,
    /// The active scalars declared at the top level so far.
    top: HashSet<String>,
    /// Data arguments and transformed data that are `f64` slices (or vectors, arrays)
    /// and never rebound: a reduction's term may read them as a contiguous range.
    slices: HashSet<String>,
    /// How many branches on parameter-dependent conditions enclose the statement
    /// being emitted: a site there may run at some points and not at others.
    active_branches: usize,
    /// Whether a data-only term went into the model's cached constant.
    data_constant: bool,
}

fn adjoint_of(name: &str) -> Ident {
    format_ident!("__adj_{}", name)
}

impl Emitter<'_> {
    fn fresh(&mut self, prefix: &str) -> Ident {
        self.next += 1;
        format_ident!("__{}{}", prefix, self.next)
    }

    fn adjoint_decls(&self, declared: &[String]) -> TokenStream {
        let idents = declared.iter().map(|n| adjoint_of(n));
        // -0.0, the exact additive identity: `-0.0 + x` is `x` for every `x` (`0.0 + -0.0`
        // is `+0.0`), so the compiler drops the first addition to an adjoint and turns
        // `-0.0 - x` into a negation, which shortens a reverse sweep's serial chain
        quote!(#(#[allow(unused_mut, unused_variables)] let mut #idents: f64 = -0.0;)*)
    }

    fn mentions_active(&self, expr: &Expr) -> bool {
        Mentions::of(self.sites, expr).any_in(&self.active)
    }

    fn has_site(&self, expr: &Expr) -> bool {
        let m = Mentions::of(self.sites, expr);
        m.latent || m.other_site
    }

    /// Forward code pushing `stored`, and reverse code popping it (stack mode only).
    fn stash(stored: &[Stored], mode: Mode) -> (TokenStream, TokenStream) {
        if mode != Mode::Stack {
            return (quote!(), quote!());
        }
        let push = stored.iter().map(|s| match s {
            Stored::Usize(i) => quote!(__pool.push(#i as f64);),
            Stored::Bool(i) => quote!(__pool.push(if #i { 1.0 } else { 0.0 });),
            Stored::Array(i, _) => quote!(__pool.push_all(&#i);),
        });
        let pop = stored.iter().rev().map(|s| match s {
            Stored::Usize(i) => quote!(let #i: usize = __pool.pop() as usize;),
            Stored::Bool(i) => quote!(let #i: bool = __pool.pop() != 0.0;),
            Stored::Array(i, k) => quote!(let #i: [f64; #k] = __pool.pop_all::<#k>();),
        });
        (quote!(#(#push)*), quote!(#(#pop)*))
    }

    /// Forward code pushing a deferred block's stored values as one array, and reverse
    /// code popping it and binding each value again.
    fn stash_together(stored: &[Stored]) -> (TokenStream, TokenStream) {
        let Some((values, binds)) = Self::stored_together(stored) else {
            return (quote!(), quote!());
        };
        let width = values.len();
        (
            quote!(__pool.push_all(&[#(#values),*]);),
            quote!(let __it: [f64; #width] = __pool.pop_all::<#width>(); #(#binds)*),
        )
    }

    /// A deferred block's stored values as the elements of one array, and the code that
    /// binds each again from that array `__it`; `None` when nothing is stored.
    fn stored_together(stored: &[Stored]) -> Option<(Vec<TokenStream>, Vec<TokenStream>)> {
        let mut values = Vec::new();
        let mut binds = Vec::new();
        for s in stored {
            let at = values.len();
            match s {
                Stored::Usize(i) => {
                    values.push(quote!(#i as f64));
                    binds.push(quote!(let #i: usize = __it[#at] as usize;));
                }
                Stored::Bool(i) => {
                    values.push(quote!(if #i { 1.0 } else { 0.0 }));
                    binds.push(quote!(let #i: bool = __it[#at] != 0.0;));
                }
                Stored::Array(i, k) => {
                    let slots: Vec<usize> = (at..at + k).collect();
                    values.extend((0..*k).map(|j| quote!(#i[#j])));
                    binds.push(quote!(let #i: [f64; #k] = [#(__it[#slots]),*];));
                }
            }
        }
        (!values.is_empty()).then_some((values, binds))
    }

    fn block(&mut self, stmts: &[Stmt], mode: Mode) -> Outcome<Emitted> {
        let mut out = Emitted::default();
        for stmt in stmts {
            self.stmt(stmt, mode, &mut out)?;
            if mode == Mode::Top {
                self.top.extend(out.declared.iter().cloned());
            }
        }
        Ok(out)
    }

    fn stmt(&mut self, stmt: &Stmt, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        match stmt {
            Stmt::Local(local) => self.local(local, mode, out),
            Stmt::Item(item) => {
                out.forward.extend(quote!(#item));
                Ok(())
            }
            Stmt::Macro(m) => {
                let names = Mentions::of_tokens(&m.mac.tokens);
                if names.iter().any(|n| self.active.contains_key(n)) {
                    return Err("a macro other than the site macros reads a parameter".into());
                }
                out.forward.extend(quote!(#m));
                Ok(())
            }
            Stmt::Expr(expr, semi) => self.expr_stmt(expr, semi.is_some(), mode, out),
        }
    }

    fn local(&mut self, local: &syn::Local, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        let mut pat = &local.pat;
        if let Pat::Type(t) = pat {
            pat = &t.pat;
        }
        let name = match pat {
            Pat::Ident(p) => Some((p.ident.clone(), p.mutability.is_some())),
            _ => None,
        };
        let kind = name
            .as_ref()
            .and_then(|(i, _)| self.active.get(&i.to_string()).copied());
        let Some(kind) = kind else {
            // data: as written, with `deterministic!` unwrapped
            if let Some(init) = &local.init
                && self.has_site(&init.expr)
            {
                return Err("a site's value is bound by a pattern or ignored".into());
            }
            let mut local = local.clone();
            Unwrap { sites: self.sites }.visit_local_mut(&mut local);
            out.forward.extend(quote!(#local));
            return Ok(());
        };
        let Some((ident, mutable)) = name else {
            return Err("a pattern `let` binds a parameter-dependent value".into());
        };
        let Some(init) = &local.init else {
            return Err("a parameter-dependent `let` without a value".into());
        };
        if init.diverge.is_some() {
            return Err("`let … else` over parameters".into());
        }
        if let Expr::If(branch) = &*init.expr {
            // `let x = if c { a } else { b };` is `let mut x = 0; if c { x = a } else { x = b }`
            let assigned = assign_tails(branch, &ident)?;
            let declare: Stmt = syn::parse_quote!(let mut #ident = 0.0;);
            let assign = Stmt::Expr(Expr::If(assigned), None);
            self.reassigned.insert(ident.to_string());
            for stmt in [declare, assign] {
                self.stmt(&stmt, mode, out)?;
            }
            return Ok(());
        }
        let mutability = mutable.then(|| quote!(mut));
        if let Some(site) = site_of(self.sites, &init.expr)
            && site.kind == SiteMacro::Sample
            && site.obs.is_none()
        {
            return match kind {
                Kind::Vector if mode == Mode::Top => self.latent_vector(&ident, site, out),
                Kind::Vector => Err("a vector site inside a loop or branch".into()),
                Kind::Scalar => {
                    out.declared.push(ident.to_string());
                    self.latent_scalar(&ident, mutability, site, mode, out)
                }
            };
        }
        if kind == Kind::Vector {
            return Err("a parameter-dependent vector other than a site's".into());
        }
        let init = self.lift(&init.expr, mode, out)?;
        out.declared.push(ident.to_string());
        let value = self.fresh("v");
        let (code, stored, reverse) = self.active_value(&init, &value, &ident, false)?;
        out.forward
            .extend(quote!(#code #[allow(unused_mut)] let #mutability #ident: f64 = #value;));
        self.finish(stored, reverse, mode, out);
        Ok(())
    }

    /// Emits the latent scalar sites nested in `expr` (`sample!("a", …) - 3.0`) as
    /// statements of their own, in evaluation order, and returns `expr` reading them.
    fn lift(&mut self, expr: &Expr, mode: Mode, out: &mut Emitted) -> Outcome<Expr> {
        struct Lift<'m> {
            sites: &'m [Site],
            found: Vec<(Ident, &'m Site)>,
            next: usize,
        }
        impl VisitMut for Lift<'_> {
            fn visit_expr_mut(&mut self, expr: &mut Expr) {
                if let Expr::Macro(m) = expr
                    && let Some(site) = placeholder_index(&m.mac).and_then(|i| self.sites.get(i))
                    && site.kind == SiteMacro::Sample
                    && site.obs.is_none()
                    && iid(&site.value).is_none()
                {
                    self.next += 1;
                    let ident = format_ident!("__lifted{}", self.next);
                    self.found.push((ident.clone(), site));
                    *expr = syn::parse_quote!(#ident);
                    return;
                }
                visit_mut::visit_expr_mut(self, expr);
            }
        }
        let mut lift = Lift {
            sites: self.sites,
            found: Vec::new(),
            next: self.next,
        };
        let mut expr = expr.clone();
        lift.visit_expr_mut(&mut expr);
        self.next = lift.next;
        for (ident, site) in lift.found {
            if self.has_site(&site.value) {
                return Err("a site inside another site's arguments".into());
            }
            self.active.insert(ident.to_string(), Kind::Scalar);
            out.declared.push(ident.to_string());
            self.latent_scalar(&ident, None, site, mode, out)?;
        }
        Ok(expr)
    }

    /// Appends a statement's stash and reverse code.
    fn finish(&self, stored: Vec<Stored>, reverse: TokenStream, mode: Mode, out: &mut Emitted) {
        if mode == Mode::Deferred {
            out.deferred.extend(stored);
            out.reverse.push(quote!({ #reverse }));
            return;
        }
        let (push, pop) = Self::stash(&stored, mode);
        out.forward.extend(push);
        out.reverse.push(quote!({ #pop #reverse }));
    }

    /// The leaves of an active expression, checking that the expression is one the dual
    /// evaluation can take; returns the expression with its leaves replaced.
    fn leaves(&mut self, expr: &Expr) -> Outcome<(Expr, Vec<Leaf>, Vec<Stored>, TokenStream)> {
        let mut check = Check {
            emitter: self,
            error: None,
        };
        check.visit_expr(expr);
        if let Some(e) = check.error {
            return Err(e);
        }
        let mut replace = Replace {
            active: &self.active,
            top: &self.top,
            reassigned: &self.reassigned,
            sites: self.sites,
            keys: Vec::new(),
            leaves: Vec::new(),
            indices: Vec::new(),
            next: &mut self.next,
        };
        let mut expr = expr.clone();
        replace.visit_expr_mut(&mut expr);
        let Replace {
            leaves, indices, ..
        } = replace;
        let mut code = TokenStream::new();
        let mut stored = Vec::new();
        for (ident, index) in indices {
            code.extend(quote!(let #ident: usize = #index;));
            stored.push(Stored::Usize(ident));
        }
        Ok((expr, leaves, stored, code))
    }

    /// The value and partials of an active expression (its leaves replaced) in plain
    /// `f64` ([`symbolic::differentiate`]): a block evaluating to `(value, [f64; m])`
    /// with the `m` partials not known at compile time, and where each leaf's partial
    /// is. Without `value` (a reverse sweep recomputing partials) the value is NaN and
    /// only what the partials need is computed. `None` when the expression needs
    /// forward duals.
    fn symbolic(&mut self, expr: &Expr, leaves: &[Leaf], value: bool) -> Option<Symbolic> {
        let next = &mut self.next;
        let mut fresh = |prefix: &str| {
            *next += 1;
            format_ident!("__{}{}", prefix, *next)
        };
        let d = symbolic::differentiate(expr, leaves.len(), &mut fresh)?;
        let (code, read) = d.code_for(value);
        let mut kept = Vec::new();
        let partials = d
            .partials
            .iter()
            .map(|p| match p.as_const() {
                Some(c) => PartialAt::Const(c),
                None => {
                    let e = p.tokens();
                    match symbolic::leaf_of(&e) {
                        // a stable leaf's value is still there in the reverse pass
                        Some(k) if leaves[k].stable => PartialAt::Value(leaves[k].value.clone()),
                        _ => {
                            kept.push(e);
                            PartialAt::Stored(kept.len() - 1)
                        }
                    }
                }
            })
            .collect();
        let values = read.iter().map(|&k| {
            let ident = format_ident!("__l{}", k);
            let leaf = &leaves[k].value;
            quote!(let #ident: f64 = #leaf;)
        });
        let width = kept.len();
        let result = if value {
            let v = &d.value;
            quote!(#v)
        } else {
            quote!(f64::NAN)
        };
        Some(Symbolic {
            block: quote!({ #(#values)* #code (#result, [#(#kept),*]) }),
            width,
            partials,
        })
    }

    /// Forward code that evaluates the active expression `expr` into the local `value`
    /// with its partials, and the reverse code that sends the adjoint of `target` to the
    /// leaves (zeroing it first when `assign`: the old value is overwritten, not kept).
    fn active_value(
        &mut self,
        expr: &Expr,
        value: &Ident,
        target: &Ident,
        assign: bool,
    ) -> Outcome<(TokenStream, Vec<Stored>, TokenStream)> {
        let (expr, leaves, mut stored, mut code) = self.leaves(expr)?;
        let partials = self.fresh("d");
        let adjoint = adjoint_of(&target.to_string());
        let zero = assign.then(|| quote!(#adjoint = -0.0;));
        let updates = if let Some(sym) = self.symbolic(&expr, &leaves, true) {
            let (block, width) = (&sym.block, sym.width);
            code.extend(quote!(let (#value, #partials): (f64, [f64; #width]) = #block;));
            if width > 0 {
                stored.push(Stored::Array(partials.clone(), width));
            }
            sym.updates(&leaves, &partials, true)
        } else {
            let k = leaves.len();
            let block = dual_block(
                &leaves,
                0,
                k,
                quote! {
                    let __r: T = ::core::convert::Into::<T>::into(#expr);
                    (::tilde::Real::value(__r), __r.gradient())
                },
            );
            code.extend(quote!(let (#value, #partials): (f64, [f64; #k]) = #block;));
            stored.push(Stored::Array(partials.clone(), k));
            let updates = leaves.iter().enumerate().map(|(i, l)| {
                let a = &l.adjoint;
                quote!(#a += __a * #partials[#i];)
            });
            quote!(#(#updates)*)
        };
        let reverse = quote! {
            let __a = #adjoint;
            #zero
            #updates
        };
        Ok((code, stored, reverse))
    }

    fn latent_scalar(
        &mut self,
        ident: &Ident,
        mutability: Option<TokenStream>,
        site: &Site,
        mode: Mode,
        out: &mut Emitted,
    ) -> Outcome<()> {
        let dist = &site.value;
        if family(dist).is_none_or(|f| !CONTINUOUS.contains(&f.as_str())) {
            return Err(format!(
                "a latent site of a distribution other than the scalar families ({})",
                quote!(#dist)
            ));
        }
        let (dist, leaves, mut stored, mut code) = self.leaves(dist)?;
        let n = leaves.len() + 1;
        let (offset, dv, dl, value) = (
            self.fresh("o"),
            self.fresh("dv"),
            self.fresh("dl"),
            self.fresh("v"),
        );
        let block = dual_block(
            &leaves,
            1,
            n,
            quote! {
                let __dist = #dist;
                ::tilde::__private::codegen::latent::<#n, _>(&__dist, __x[#offset], __jacobian, &mut __target)
            },
        );
        code.extend(quote! {
            if __pos >= __x.len() {
                return ::core::option::Option::None;
            }
            let #offset: usize = __pos;
            __pos += 1;
            let (#value, #dv, #dl): (f64, [f64; #n], [f64; #n]) = #block;
            #[allow(unused_mut)]
            let #mutability #ident: f64 = #value;
        });
        stored.push(Stored::Usize(offset.clone()));
        stored.push(Stored::Array(dv.clone(), n));
        stored.push(Stored::Array(dl.clone(), n));
        let adjoint = adjoint_of(&ident.to_string());
        let updates = leaves.iter().enumerate().map(|(i, l)| {
            let a = &l.adjoint;
            let i = i + 1;
            quote!(#a += __a * #dv[#i] + #dl[#i];)
        });
        let reverse = quote! {
            let __a = #adjoint;
            __grad[#offset] += __a * #dv[0] + #dl[0];
            #(#updates)*
        };
        out.forward.extend(code);
        self.finish(stored, reverse, mode, out);
        Ok(())
    }

    fn latent_vector(&mut self, ident: &Ident, site: &Site, out: &mut Emitted) -> Outcome<()> {
        let Some((inner, len)) = iid(&site.value) else {
            return Err("a latent vector site other than `dist.iid(n)`".into());
        };
        if family(inner).is_none_or(|f| !CONTINUOUS.contains(&f.as_str())) {
            return Err(
                "a latent vector site of a distribution other than the scalar families".into(),
            );
        }
        if self.mentions_active(len) || self.has_site(&site.value) {
            return Err("a latent `dist.iid(n)` site whose length depends on parameters".into());
        }
        if let Some((loc, scale)) = observed::normal_args(inner)
            && !self.mentions_active(inner)
        {
            return self.normal_latent_vector(ident, (loc, scale), len, out);
        }
        // indices of the leaves are top-level locals, in scope for the reverse pass
        let (dist, leaves, _, mut code) = self.leaves(&site.value)?;
        let width = leaves.len() + 1;
        let (values, slopes, adjoint, n, offset, dl) = (
            self.fresh("values"),
            self.fresh("slopes"),
            adjoint_of(&ident.to_string()),
            self.fresh("n"),
            self.fresh("o"),
            self.fresh("dl"),
        );
        self.vectors
            .extend([values.clone(), slopes.clone(), adjoint.clone()]);
        let block = dual_block(
            &leaves,
            1,
            width,
            quote! {
                let __site = #dist;
                let (__lp, __partials) = ::tilde::__private::codegen::latent_iid::<#width, _>(
                    &__site,
                    &__x[#offset..#offset + #n],
                    &mut #values,
                    &mut #slopes,
                    &mut __grad[#offset..#offset + #n],
                    __jacobian,
                );
                __target += __lp;
                __partials
            },
        );
        code.extend(quote! {
            let #n: usize = #len;
            if __pos + #n > __x.len() {
                return ::core::option::Option::None;
            }
            let #offset: usize = __pos;
            __pos += #n;
            let mut #values = __pool.take(#n);
            let mut #slopes = __pool.take(#n * #width);
            #[allow(unused_mut)]
            let mut #adjoint = __pool.take(#n);
            let #dl: [f64; #width] = #block;
            let #ident: &[f64] = &#values;
        });
        out.forward.extend(code);
        let updates = leaves.iter().enumerate().map(|(k, l)| {
            let a = &l.adjoint;
            let k = k + 1;
            quote!(#a += #dl[#k] + (0..#n).map(|__j| #adjoint[__j] * #slopes[__j * #width + #k]).sum::<f64>();)
        });
        out.reverse.push(quote! {
            for __j in 0..#n {
                __grad[#offset + __j] += #adjoint[__j] * #slopes[__j * #width];
            }
            #(#updates)*
        });
        Ok(())
    }

    /// `Normal::new(μ, σ).iid(n)` over data `μ`, `σ`: the values are the unconstrained
    /// coordinates themselves, `-½ Σ ((xⱼ - μ)/σ)²` and its gradient in one plain `f64`
    /// loop, `n (-ln σ - ln √(2π))` in the model's cached constant.
    fn normal_latent_vector(
        &mut self,
        ident: &Ident,
        (loc, scale): (&Expr, &Expr),
        len: &Expr,
        out: &mut Emitted,
    ) -> Outcome<()> {
        let (adjoint, n, offset) = (
            adjoint_of(&ident.to_string()),
            self.fresh("n"),
            self.fresh("o"),
        );
        let (mut loc, mut scale) = (loc.clone(), scale.clone());
        Unwrap { sites: self.sites }.visit_expr_mut(&mut loc);
        Unwrap { sites: self.sites }.visit_expr_mut(&mut scale);
        self.vectors.push(adjoint.clone());
        let codegen = quote!(::tilde::__private::codegen);
        let constant = self.data_term(quote!(#codegen::normal_iid_constant(#scale, #n)));
        out.forward.extend(quote! {
            let #n: usize = #len;
            if __pos + #n > __x.len() {
                return ::core::option::Option::None;
            }
            let #offset: usize = __pos;
            __pos += #n;
            #[allow(unused_mut)]
            let mut #adjoint = __pool.take(#n);
            __target += #codegen::normal_latent_iid(
                #loc,
                #scale,
                &__x[#offset..#offset + #n],
                &mut __grad[#offset..#offset + #n],
            );
            #constant
            let #ident: &[f64] = &__x[#offset..#offset + #n];
        });
        out.reverse.push(quote! {
            for (__g, __a) in __grad[#offset..#offset + #n].iter_mut().zip(&#adjoint) {
                *__g += __a;
            }
        });
        Ok(())
    }

    /// The forward code of a data-only term of the log-density: added to the model's
    /// cached constant when the statement runs at every evaluation (outside branches on
    /// parameters), else to the target each time.
    fn data_term(&mut self, term: TokenStream) -> TokenStream {
        if self.active_branches > 0 {
            return quote!(__target += { #term };);
        }
        self.data_constant = true;
        quote! {
            if __known_constant.is_none() {
                __constant += { #term };
            }
        }
    }

    /// An observed site, or a `factor!`: a term of the log-density.
    fn term(&mut self, site: &Site, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        let value = match site.kind {
            SiteMacro::Sample => {
                let Some(obs) = &site.obs else {
                    // a latent site whose value is not used: bound to a name of its own
                    let ident = self.fresh("unused");
                    if iid(&site.value).is_some() {
                        if mode != Mode::Top {
                            return Err("a vector site inside a loop or branch".into());
                        }
                        self.active.insert(ident.to_string(), Kind::Vector);
                        return self.latent_vector(&ident, site, out);
                    }
                    self.active.insert(ident.to_string(), Kind::Scalar);
                    out.declared.push(ident.to_string());
                    return self.latent_scalar(&ident, None, site, mode, out);
                };
                let dist = &site.value;
                let analysed = |d: &Expr| {
                    family(d).is_some_and(|f| {
                        CONTINUOUS.contains(&f.as_str()) || DISCRETE.contains(&f.as_str())
                    })
                };
                let inner = iid(dist).map_or(dist, |(inner, _)| inner);
                if !analysed(inner) {
                    return Err(format!(
                        "an observed site of a distribution other than the scalar families ({})",
                        quote!(#dist)
                    ));
                }
                if let Some((_, len)) = iid(dist)
                    && self.mentions_active(len)
                {
                    return Err("an `iid` length that depends on parameters".into());
                }
                if self.mentions_active(obs) || self.has_site(obs) {
                    return Err("an observation that depends on parameters".into());
                }
                (dist.clone(), Some(obs.clone()))
            }
            SiteMacro::Factor => (site.value.clone(), None),
            SiteMacro::Deterministic => return Ok(()),
        };
        let (expr, obs) = value;
        let expr = self.lift(&expr, mode, out)?;
        if self.has_site(&expr) {
            return Err("a site inside another site's arguments".into());
        }
        if !self.mentions_active(&expr) {
            let mut expr = expr;
            Unwrap { sites: self.sites }.visit_expr_mut(&mut expr);
            let code = match &obs {
                Some(obs) => {
                    self.data_term(quote!(::tilde::__private::codegen::observed_data(#expr, #obs)?))
                }
                None => quote!(__target += ::core::convert::Into::<f64>::into(#expr);),
            };
            out.forward.extend(code);
            return Ok(());
        }
        // an observed site of a family written out: its parameter-dependent part in
        // plain `f64`, its data-only part once per model
        let mut split = None;
        if let Some(obs) = &obs {
            let y = self.fresh("y");
            let mut unwrapped = expr.clone();
            Unwrap { sites: self.sites }.visit_expr_mut(&mut unwrapped);
            let is_active = |e: &Expr| self.mentions_active(e);
            if let (Some(written), Some(data)) = (
                observed::split(&expr, &y, is_active),
                observed::split(&unwrapped, &y, is_active),
            ) {
                let value = quote!(let #y: f64 = ::tilde::__private::codegen::obs_value(#obs););
                let constant = self.data_term(data.constant);
                split = Some((written.active, quote!(#value #constant)));
            }
        }
        let (expr, leaves, stored, mut code) = match &split {
            Some((written, _)) => self.leaves(written)?,
            None => self.leaves(&expr)?,
        };
        let k = leaves.len();
        let partials = self.fresh("d");
        if (obs.is_none() || split.is_some())
            && let Some(sym) = self.symbolic(&expr, &leaves, true)
        {
            if let Some((_, first)) = split {
                code = quote!(#first #code);
            }
            let (block, width, value) = (&sym.block, sym.width, self.fresh("v"));
            // a term's partials are final as it runs: stable leaves take theirs now
            let now = sym.updates_of(&leaves, &partials, false, |l| l.stable);
            code.extend(quote! {
                let (#value, #partials): (f64, [f64; #width]) = #block;
                __target += #value;
                #now
            });
            let later: Vec<(&Leaf, TokenStream)> = leaves
                .iter()
                .zip(&sym.partials)
                .filter(|(l, _)| !l.stable)
                .map(|(l, p)| {
                    let partial = match p {
                        PartialAt::Const(c) => symbolic::literal(*c),
                        PartialAt::Value(v) => v.clone(),
                        PartialAt::Stored(i) => quote!(#partials[#i]),
                    };
                    (l, partial)
                })
                .collect();
            out.forward.extend(code);
            self.later_updates(&later, stored, mode, out);
            return Ok(());
        }
        if split.is_some() {
            return Err(
                "a written-out observed site the symbolic differentiation does not take".into(),
            );
        }
        let term = match &obs {
            Some(obs) => quote!(::tilde::__private::codegen::observed(#expr, #obs)?),
            None => quote!(::core::convert::Into::<T>::into(#expr)),
        };
        let block = dual_block(
            &leaves,
            0,
            k,
            quote! {
                let __r: T = #term;
                __target += ::tilde::Real::value(__r);
                __r.gradient()
            },
        );
        code.extend(quote!(let #partials: [f64; #k] = #block;));
        let mut later = Vec::new();
        for (i, l) in leaves.iter().enumerate() {
            if l.stable {
                let a = &l.adjoint;
                code.extend(quote!(#a += #partials[#i];));
            } else {
                later.push((l, quote!(#partials[#i])));
            }
        }
        out.forward.extend(code);
        self.later_updates(&later, stored, mode, out);
        Ok(())
    }

    /// The reverse code of a term's leaves whose adjoints the reverse pass settles
    /// (each with its partial, an expression of the forward pass): the partials are
    /// copied into one stored array.
    fn later_updates(
        &mut self,
        later: &[(&Leaf, TokenStream)],
        mut stored: Vec<Stored>,
        mode: Mode,
        out: &mut Emitted,
    ) {
        if later.is_empty() {
            // only the indices of stable leaves, which nothing reads again
            return;
        }
        let kept = self.fresh("d");
        let width = later.len();
        let values = later.iter().map(|(_, p)| p);
        out.forward
            .extend(quote!(let #kept: [f64; #width] = [#(#values),*];));
        stored.push(Stored::Array(kept.clone(), width));
        let updates = later.iter().enumerate().map(|(i, (l, _))| {
            let a = &l.adjoint;
            quote!(#a += #kept[#i];)
        });
        self.finish(stored, quote!(#(#updates)*), mode, out);
    }

    fn expr_stmt(&mut self, expr: &Expr, semi: bool, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        if let Some(site) = site_of(self.sites, expr) {
            return self.term(site, mode, out);
        }
        if let Some((left, right, op)) = assignment(expr) {
            let Some(name) = ident_of(left) else {
                if self.mentions_active(expr) || self.has_site(expr) {
                    return Err("an assignment to an element or field over parameters".into());
                }
                out.forward.extend(quote!(#expr;));
                return Ok(());
            };
            if !self.active.contains_key(&name) {
                if self.mentions_active(right) || self.has_site(right) {
                    return Err(format!("`{name}` takes parameter-dependent values"));
                }
                out.forward.extend(quote!(#expr;));
                return Ok(());
            }
            if self.active.get(&name) == Some(&Kind::Vector) {
                return Err(format!("the vector site `{name}` is reassigned"));
            }
            let ident = Ident::new(&name, Span::call_site());
            // `x += e` and `x -= e`: x's adjoint passes through unchanged, so only `e`
            // is differentiated (one direction fewer than `x = x + e`)
            let increment: Option<Expr> = match op {
                Some(syn::BinOp::AddAssign(_)) => Some((*right).clone()),
                Some(syn::BinOp::SubAssign(_)) => Some(syn::parse_quote!(-(#right))),
                _ => None,
            };
            if let Some(increment) = increment {
                let increment = self.lift(&increment, mode, out)?;
                let value = self.fresh("v");
                let (code, stored, reverse) =
                    self.active_value(&increment, &value, &ident, false)?;
                out.forward.extend(quote!(#code #ident += #value;));
                self.finish(stored, reverse, mode, out);
                return Ok(());
            }
            let rhs: Expr = match op {
                None => (*right).clone(),
                Some(op) => {
                    let binary = match op {
                        syn::BinOp::AddAssign(_) => quote!(+),
                        syn::BinOp::SubAssign(_) => quote!(-),
                        syn::BinOp::MulAssign(_) => quote!(*),
                        syn::BinOp::DivAssign(_) => quote!(/),
                        _ => return Err("a bitwise or remainder assignment over parameters".into()),
                    };
                    syn::parse_quote!(#ident #binary (#right))
                }
            };
            let rhs = self.lift(&rhs, mode, out)?;
            let value = self.fresh("v");
            let (code, stored, reverse) = self.active_value(&rhs, &value, &ident, true)?;
            out.forward.extend(quote!(#code #ident = #value;));
            self.finish(stored, reverse, mode, out);
            return Ok(());
        }
        match expr {
            Expr::ForLoop(f) => self.for_loop(f, mode, out),
            Expr::If(i) => self.branch(i, mode, out),
            _ => {
                if self.mentions_active(expr) || self.has_site(expr) {
                    return Err(
                        "a statement other than `let`, assignment, site, `for` or `if` reads a parameter"
                            .into(),
                    );
                }
                if let Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) = expr {
                    return Err("`return`, `break` or `continue` in the body".into());
                }
                let mut visitor = Jumps::default();
                visitor.visit_expr(expr);
                if visitor.found {
                    return Err("`return`, `break` or `continue` in the body".into());
                }
                let semi = semi.then(|| quote!(;));
                out.forward.extend(quote!(#expr #semi));
                Ok(())
            }
        }
    }

    fn for_loop(&mut self, f: &syn::ExprForLoop, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        let iterable = &f.expr;
        if self.mentions_active(iterable) || self.has_site(iterable) {
            return Err("a loop over parameter-dependent values".into());
        }
        if f.label.is_some() {
            return Err("a labelled loop".into());
        }
        let pat = &f.pat;
        let immediate = !mode.is_stacked() && self.is_immediate(f);
        if immediate {
            let body = self.block(&f.body.stmts, Mode::Immediate)?;
            let decls = self.adjoint_decls(&body.declared);
            let forward = &body.forward;
            let reverse = body.reverse.iter().rev();
            out.forward.extend(quote! {
                for #pat in #iterable {
                    #decls
                    #forward
                    #(#reverse)*
                }
            });
            return Ok(());
        }
        if !mode.is_stacked()
            && let Some(reduction) = self.reduction(f)
        {
            return self.reduction_loop(f, reduction, out);
        }
        let body = self.block(&f.body.stmts, Mode::Deferred)?;
        let count = self.fresh("c");
        let decls = self.adjoint_decls(&body.declared);
        let forward = &body.forward;
        let reverse = body.reverse.iter().rev();
        if !mode.is_stacked()
            && let Some((values, binds)) = Self::stored_together(&body.deferred)
        {
            // a loop not nested in stacked code keeps its iterations' values in a record
            // sized before the loop: no capacity check (and no call that would make the
            // compiler keep the carried values in memory) in the loop
            let (iter, record, slots, slot) = (
                self.fresh("iter"),
                self.fresh("record"),
                self.fresh("slots"),
                self.fresh("slot"),
            );
            let width = values.len();
            out.forward.extend(quote! {
                let #iter = ::core::iter::IntoIterator::into_iter(#iterable);
                let mut #record: ::std::vec::Vec<f64> =
                    __pool.take(::tilde::__private::codegen::record_len(&#iter, #width));
                let (#slots, _) = #record.as_chunks_mut::<#width>();
                let mut #count: usize = 0;
                for #pat in #iter {
                    #forward
                    // an iterator longer than its length bound: the tape runs the model
                    let ::core::option::Option::Some(#slot) = #slots.get_mut(#count) else {
                        return ::core::option::Option::None;
                    };
                    *#slot = [#(#values),*];
                    #count += 1;
                }
            });
            out.reverse.push(quote! {
                for __it in #slots[..#count].iter().rev() {
                    #decls
                    #(#binds)*
                    #(#reverse)*
                }
                __pool.give(#record);
            });
            return Ok(());
        }
        let (push, pop) = Self::stash_together(&body.deferred);
        out.forward.extend(quote! {
            let mut #count: usize = 0;
            for #pat in #iterable {
                #count += 1;
                #forward
                #push
            }
        });
        let reverse = quote! {
            for _ in 0..#count {
                #decls
                #pop
                #(#reverse)*
            }
        };
        self.finish(vec![Stored::Usize(count)], reverse, mode, out);
        Ok(())
    }

    fn branch(&mut self, i: &syn::ExprIf, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        let cond = &i.cond;
        if self.has_site(cond) {
            return Err("a site in a condition".into());
        }
        let mut cond = (**cond).clone();
        Unwrap { sites: self.sites }.visit_expr_mut(&mut cond);
        let on_parameters = usize::from(self.mentions_active(&cond));
        self.active_branches += on_parameters;
        let branches = self.branches(i);
        self.active_branches -= on_parameters;
        let (then, otherwise) = branches?;
        let flag = self.fresh("b");
        let (then_fwd, else_fwd) = (&then.forward, &otherwise.forward);
        out.forward.extend(quote! {
            let #flag: bool = #cond;
            if #flag { #then_fwd } else { #else_fwd }
        });
        let (then_decls, else_decls) = (
            self.adjoint_decls(&then.declared),
            self.adjoint_decls(&otherwise.declared),
        );
        let then_rev = then.reverse.iter().rev();
        let else_rev = otherwise.reverse.iter().rev();
        let reverse = quote! {
            if #flag { #then_decls #(#then_rev)* } else { #else_decls #(#else_rev)* }
        };
        self.finish(vec![Stored::Bool(flag)], reverse, mode, out);
        Ok(())
    }

    /// The code of an `if`'s two branches.
    fn branches(&mut self, i: &syn::ExprIf) -> Outcome<(Emitted, Emitted)> {
        let then = self.block(&i.then_branch.stmts, Mode::Stack)?;
        let otherwise = match &i.else_branch {
            None => Emitted::default(),
            Some((_, e)) => match &**e {
                Expr::Block(b) => self.block(&b.block.stmts, Mode::Stack)?,
                Expr::If(_) => {
                    let stmt = Stmt::Expr((**e).clone(), None);
                    self.block(std::slice::from_ref(&stmt), Mode::Stack)?
                }
                _ => return Err("an `else` that is not a block".into()),
            },
        };
        Ok((then, otherwise))
    }

    /// A *reduction*: a loop over a range whose body only adds terms to accumulators
    /// declared outside it (`acc += e`, `acc -= e`, `acc = acc + e`), where no term reads
    /// an accumulator or anything else the body or the program reassigns. Its reverse
    /// sweep runs the range again (forwards: the terms are independent, and the compiler
    /// vectorises a forward range) and recomputes each term's partials from values
    /// that are still there, so nothing goes on the stack. Returns the accumulators and
    /// terms (`-e` for a subtraction).
    fn reduction(&self, f: &syn::ExprForLoop) -> Option<Vec<(Ident, Expr)>> {
        let Pat::Ident(var) = &*f.pat else {
            return None;
        };
        if var.mutability.is_some() || var.subpat.is_some() || var.by_ref.is_some() {
            return None;
        }
        let Expr::Range(range) = &*f.expr else {
            return None;
        };
        range.start.as_ref()?;
        range.end.as_ref()?;
        let loop_var = var.ident.to_string();
        let mut terms = Vec::new();
        for stmt in &f.body.stmts {
            let Stmt::Expr(expr, Some(_)) = stmt else {
                return None;
            };
            let (left, right, op) = assignment(expr)?;
            let name = ident_of(left)?;
            if self.active.get(&name) != Some(&Kind::Scalar) {
                return None;
            }
            let ident = Ident::new(&name, Span::call_site());
            let term: Expr = match op {
                Some(syn::BinOp::AddAssign(_)) => (*right).clone(),
                Some(syn::BinOp::SubAssign(_)) => syn::parse_quote!(-(#right)),
                None => match right {
                    Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
                        if ident_of(&b.left).as_deref() == Some(name.as_str()) {
                            (*b.right).clone()
                        } else if ident_of(&b.right).as_deref() == Some(name.as_str()) {
                            (*b.left).clone()
                        } else {
                            return None;
                        }
                    }
                    Expr::Binary(b)
                        if matches!(b.op, syn::BinOp::Sub(_))
                            && ident_of(&b.left).as_deref() == Some(name.as_str()) =>
                    {
                        let r = &b.right;
                        syn::parse_quote!(-(#r))
                    }
                    _ => return None,
                },
                Some(_) => return None,
            };
            if self.has_site(&term) {
                return None;
            }
            let reads = Mentions::of(self.sites, &term);
            if reads
                .names
                .iter()
                .any(|n| *n != loop_var && (self.reassigned.contains(n) || self.twice.contains(n)))
            {
                return None;
            }
            terms.push((ident, term));
        }
        (!terms.is_empty()).then_some(terms)
    }

    fn reduction_loop(
        &mut self,
        f: &syn::ExprForLoop,
        terms: Vec<(Ident, Expr)>,
        out: &mut Emitted,
    ) -> Outcome<()> {
        let Expr::Range(range) = &*f.expr else {
            return Err("a reduction over a range".into());
        };
        let (Some(start), Some(end)) = (&range.start, &range.end) else {
            return Err("a reduction over a bounded range".into());
        };
        let (first, last) = (self.fresh("start"), self.fresh("end"));
        let limits = match range.limits {
            syn::RangeLimits::HalfOpen(_) => quote!(..),
            syn::RangeLimits::Closed(_) => quote!(..=),
        };
        let pat = &f.pat;
        let mut forward = TokenStream::new();
        let mut lanes = Vec::new();
        let mut reverse = Vec::new();
        let (mut dots_forward, mut dots_reverse) = (TokenStream::new(), Vec::new());
        let half_open = matches!(range.limits, syn::RangeLimits::HalfOpen(_));
        for (target, term) in terms {
            if half_open && let Some(dot) = self.dot_term(&term, &f.pat) {
                let (fwd, rev) = dot.emit(&target, &first, &last);
                dots_forward.extend(fwd);
                dots_reverse.push(rev);
                continue;
            }
            let (expr, leaves, _, indices) = self.leaves(&term)?;
            let k = leaves.len();
            let values = leaf_values(&leaves);
            let lane = self.fresh("lanes");
            forward.extend(quote! {
                #lane[__lane] += {
                    #indices
                    #values
                    #[allow(dead_code)]
                    type T = f64;
                    ::core::convert::Into::<f64>::into(#expr)
                };
            });
            lanes.push((target.clone(), lane));
            let adjoint = adjoint_of(&target.to_string());
            let partials = format_ident!("__d");
            let (partials_code, updates) = match self.symbolic(&expr, &leaves, false) {
                Some(sym) => {
                    let (block, width) = (&sym.block, sym.width);
                    (
                        quote!(let (_, #partials): (f64, [f64; #width]) = #block;),
                        sym.updates(&leaves, &partials, true),
                    )
                }
                None => {
                    let block = dual_block(
                        &leaves,
                        0,
                        k,
                        quote! {
                            let __r: T = ::core::convert::Into::<T>::into(#expr);
                            __r.gradient()
                        },
                    );
                    let updates = leaves.iter().enumerate().map(|(j, l)| {
                        let a = &l.adjoint;
                        quote!(#a += __a * #partials[#j];)
                    });
                    (
                        quote!(let #partials: [f64; #k] = #block;),
                        quote!(#(#updates)*),
                    )
                }
            };
            reverse.push(quote! {
                {
                    #indices
                    #partials_code
                    let __a = #adjoint;
                    #updates
                }
            });
        }
        // The forward sum runs in `LANES` independent partial sums (lane `j` takes the
        // terms `first + j`, `first + j + LANES`, …), so consecutive additions do not
        // wait for each other and the compiler packs the lanes into SIMD registers; the
        // lanes are added pairwise at the end. A closed range keeps one lane.
        const LANES: usize = 8;
        let (decls, totals): (Vec<_>, Vec<_>) = lanes
            .iter()
            .map(|(target, lane)| {
                (
                    quote!(let mut #lane = [0.0f64; #LANES];),
                    quote!(#target += ::tilde::__private::codegen::pairwise_sum(&#lane);),
                )
            })
            .unzip();
        let chunked = match range.limits {
            syn::RangeLimits::HalfOpen(_) => {
                let base = self.fresh("base");
                // unsuffixed, so that it takes the range's integer type
                let step = proc_macro2::Literal::usize_unsuffixed(LANES);
                quote! {
                    let mut #base = #first;
                    while #base < #last && #last - #base >= #step {
                        for __j in 0..#step {
                            let #pat = #base + __j;
                            let __lane = __j as usize;
                            #forward
                        }
                        #base += #step;
                    }
                    for #pat in #base..#last {
                        let __lane = 0usize;
                        #forward
                    }
                }
            }
            syn::RangeLimits::Closed(_) => quote! {
                for #pat in #first #limits #last {
                    let __lane = 0usize;
                    #forward
                }
            },
        };
        let reverse = reverse.iter().rev();
        let dots_reverse = dots_reverse.iter().rev();
        if lanes.is_empty() {
            out.forward.extend(quote! {
                let #first = #start;
                let #last = #end;
                #dots_forward
            });
            out.reverse.push(quote!(#(#dots_reverse)*));
            return Ok(());
        }
        out.forward.extend(quote! {
            let #first = #start;
            let #last = #end;
            #dots_forward
            #(#decls)*
            #chunked
            #(#totals)*
        });
        out.reverse.push(quote! {
            for #pat in #first #limits #last {
                #(#reverse)*
            }
            #(#dots_reverse)*
        });
        Ok(())
    }

    /// A reduction's term that is a linear predictor's: the product of an element of a
    /// latent vector site and an element of a data slice, both at the loop variable
    /// plus an offset that does not change in the loop (`x[n * d + j] * beta[j]`,
    /// negated for `acc -= …`). The whole range is then one [`dot`] forwards and one
    /// [`axpy`] backwards over contiguous slices, in SIMD registers.
    ///
    /// [`dot`]: tilde_core::simd::dot
    /// [`axpy`]: tilde_core::simd::axpy
    fn dot_term(&self, term: &Expr, pat: &Pat) -> Option<DotTerm> {
        let Pat::Ident(var) = pat else {
            return None;
        };
        let var = var.ident.to_string();
        let (term, negated) = match strip_parens(term) {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => (strip_parens(&u.expr), true),
            other => (other, false),
        };
        let Expr::Binary(product) = term else {
            return None;
        };
        if !matches!(product.op, syn::BinOp::Mul(_)) {
            return None;
        }
        // `(name, offset)` of `name[var]`, `name[offset + var]` or `name[var + offset]`
        let element = |e: &Expr| -> Option<(String, Option<Expr>)> {
            let Expr::Index(index) = strip_parens(e) else {
                return None;
            };
            let name = ident_of(&index.expr)?;
            let offset = match strip_parens(&index.index) {
                i if ident_of(i).as_deref() == Some(var.as_str()) => None,
                Expr::Binary(sum) if matches!(sum.op, syn::BinOp::Add(_)) => {
                    let offset = if ident_of(&sum.right).as_deref() == Some(var.as_str()) {
                        &sum.left
                    } else if ident_of(&sum.left).as_deref() == Some(var.as_str()) {
                        &sum.right
                    } else {
                        return None;
                    };
                    let reads = Mentions::of(self.sites, offset);
                    if reads.latent || reads.other_site || reads.names.contains(&var) {
                        return None;
                    }
                    if reads.names.iter().any(|n| self.active.contains_key(n)) {
                        return None;
                    }
                    Some((**offset).clone())
                }
                _ => return None,
            };
            Some((name, offset))
        };
        let (left, right) = (element(&product.left)?, element(&product.right)?);
        let is_vector = |n: &str| self.active.get(n) == Some(&Kind::Vector);
        let ((vector, vector_offset), (data, data_offset)) =
            match (is_vector(&left.0), is_vector(&right.0)) {
                (true, false) => (left, right),
                (false, true) => (right, left),
                _ => return None,
            };
        if !self.slices.contains(&data) {
            return None;
        }
        Some(DotTerm {
            vector: Ident::new(&vector, Span::call_site()),
            adjoint: adjoint_of(&vector),
            vector_offset,
            data: Ident::new(&data, Span::call_site()),
            data_offset,
            negated,
        })
    }

    /// A loop runs its reverse sweep per iteration when it assigns no active binding
    /// declared outside it and reads none that is ever reassigned.
    fn is_immediate(&self, f: &syn::ExprForLoop) -> bool {
        let mut inside = Names::default();
        inside.visit_pat(&f.pat);
        inside.visit_block(&f.body);
        let mut assigned = Assigned::default();
        assigned.visit_block(&f.body);
        let mut read = Mentions {
            sites: self.sites,
            names: HashSet::new(),
            latent: false,
            other_site: false,
        };
        read.visit_block(&f.body);
        let outer_active = |n: &String| self.active.contains_key(n) && !inside.seen.contains(n);
        !assigned.names.iter().any(outer_active)
            && !read
                .names
                .iter()
                .any(|n| outer_active(n) && self.reassigned.contains(n))
    }
}

/// A reduction's term `± vector[o₁ + k] · data[o₂ + k]` (see [`Emitter::dot_term`]).
struct DotTerm {
    vector: Ident,
    adjoint: Ident,
    vector_offset: Option<Expr>,
    data: Ident,
    data_offset: Option<Expr>,
    negated: bool,
}

impl DotTerm {
    /// The forward code adding the term over `first..last` to `target`, and the
    /// reverse code adding `target`'s adjoint times the data to the vector's adjoint.
    fn emit(&self, target: &Ident, first: &Ident, last: &Ident) -> (TokenStream, TokenStream) {
        let range = |offset: &Option<Expr>| match offset {
            None => quote!(#first..#last),
            Some(o) => quote!((#o) + #first..(#o) + #last),
        };
        let (vector, adjoint, data) = (&self.vector, &self.adjoint, &self.data);
        let (vector_range, data_range) = (range(&self.vector_offset), range(&self.data_offset));
        let target_adjoint = adjoint_of(&target.to_string());
        let (op, scale) = if self.negated {
            (quote!(-=), quote!(-#target_adjoint))
        } else {
            (quote!(+=), quote!(#target_adjoint))
        };
        let forward = quote! {
            if #first < #last {
                #target #op ::tilde::__private::codegen::dot(
                    &#data[#data_range],
                    &#vector[#vector_range],
                );
            }
        };
        let reverse = quote! {
            if #first < #last {
                ::tilde::__private::codegen::axpy(
                    #scale,
                    &#data[#data_range],
                    &mut #adjoint[#vector_range],
                );
            }
        };
        (forward, reverse)
    }
}

/// `e` without enclosing parentheses.
fn strip_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Whether an argument's type is a contiguous run of `f64` that slices by a range:
/// `[f64]`, `[f64; N]` or `Vec<f64>`, behind any references.
fn is_f64_slice(ty: &syn::Type) -> bool {
    let is_f64 = |t: &syn::Type| matches!(t, syn::Type::Path(p) if p.path.is_ident("f64"));
    match ty {
        syn::Type::Reference(r) => is_f64_slice(&r.elem),
        syn::Type::Paren(p) => is_f64_slice(&p.elem),
        syn::Type::Slice(s) => is_f64(&s.elem),
        syn::Type::Array(a) => is_f64(&a.elem),
        syn::Type::Path(p) => {
            p.qself.is_none()
                && p.path.segments.len() == 1
                && p.path.segments[0].ident == "Vec"
                && matches!(
                    &p.path.segments[0].arguments,
                    syn::PathArguments::AngleBracketed(a)
                        if a.args.len() == 1
                            && matches!(&a.args[0], syn::GenericArgument::Type(t) if is_f64(t))
                )
        }
        _ => false,
    }
}

/// The `if` of `let x = if … { a } else { b };` with each branch's value assigned to
/// `x` (`else if` chains included); every branch must end in a value.
fn assign_tails(branch: &syn::ExprIf, ident: &Ident) -> Outcome<syn::ExprIf> {
    fn assign_tail(block: &mut syn::Block, ident: &Ident) -> Outcome<()> {
        match block.stmts.pop() {
            Some(Stmt::Expr(tail, None)) => {
                block.stmts.push(syn::parse_quote!(#ident = #tail;));
                Ok(())
            }
            _ => Err("an `if` value whose branch does not end in a value".into()),
        }
    }
    let mut branch = branch.clone();
    assign_tail(&mut branch.then_branch, ident)?;
    match branch.else_branch.as_mut() {
        None => return Err("an `if` value without `else`".into()),
        Some((_, otherwise)) => match &mut **otherwise {
            Expr::Block(b) => assign_tail(&mut b.block, ident)?,
            Expr::If(inner) => *inner = assign_tails(inner, ident)?,
            _ => return Err("an `else` that is not a block".into()),
        },
    }
    Ok(branch)
}

/// A block that evaluates `body` with the leaves as duals of width `width` (directions
/// `offset..`): `T` is the dual type inside it.
fn dual_block(leaves: &[Leaf], offset: usize, width: usize, body: TokenStream) -> TokenStream {
    let seeds = seed(leaves, offset);
    quote! {{
        #seeds
        #[allow(dead_code)]
        type T = ::tilde::__private::Fwd<#width>;
        #body
    }}
}

/// `let __lk: f64 = <value>;` for each leaf.
fn leaf_values(leaves: &[Leaf]) -> TokenStream {
    let values = leaves.iter().enumerate().map(|(k, l)| {
        let ident = format_ident!("__l{}", k);
        let value = &l.value;
        quote!(let #ident: f64 = #value;)
    });
    quote!(#(#values)*)
}

/// `let __lk: f64 = <value>;` for each leaf, then `let __lk = T::variable(__lk, k +
/// offset);` — the caller's block declares `type T` as the dual type, and a block's
/// items are in scope in all of it.
fn seed(leaves: &[Leaf], offset: usize) -> TokenStream {
    let values = leaf_values(leaves);
    let duals = leaves.iter().enumerate().map(|(k, _)| {
        let ident = format_ident!("__l{}", k);
        let direction = k + offset;
        quote!(let #ident = T::variable(#ident, #direction);)
    });
    quote!(#values #(#duals)*)
}

/// Checks that an active expression is one the dual evaluation can take.
struct Check<'e, 'm> {
    emitter: &'e Emitter<'m>,
    error: Option<String>,
}

impl<'a> Visit<'a> for Check<'_, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.error.is_some() || !self.emitter.mentions_active(expr) {
            return;
        }
        let fail = |what: &str| Some(format!("{what} over parameters"));
        match expr {
            Expr::Path(p) => {
                if p.path
                    .get_ident()
                    .is_some_and(|i| self.emitter.active.get(&i.to_string()) == Some(&Kind::Vector))
                {
                    self.error = fail("a whole vector site (index it: `v[i]`)");
                }
            }
            Expr::Lit(_) | Expr::Paren(_) | Expr::Group(_) => visit::visit_expr(self, expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => visit::visit_expr(self, expr),
            Expr::Binary(b) => match b.op {
                syn::BinOp::Add(_)
                | syn::BinOp::Sub(_)
                | syn::BinOp::Mul(_)
                | syn::BinOp::Div(_) => visit::visit_expr(self, expr),
                _ => self.error = fail("a comparison or logical operator"),
            },
            Expr::Index(i) => {
                let vector = ident_of(&i.expr)
                    .is_some_and(|n| self.emitter.active.get(&n) == Some(&Kind::Vector));
                if !vector || self.emitter.mentions_active(&i.index) {
                    self.error = fail("an index");
                }
            }
            Expr::MethodCall(m)
                if ["iid", "ln_pdf", "ln_pdf_obs"].contains(&m.method.to_string().as_str())
                    && family(&m.receiver).is_some() =>
            {
                visit::visit_expr(self, expr)
            }
            Expr::MethodCall(m) => {
                if !REAL_METHODS.contains(&m.method.to_string().as_str()) || m.turbofish.is_some() {
                    self.error = Some(format!("the method `{}` over parameters", m.method));
                } else {
                    visit::visit_expr(self, expr);
                }
            }
            Expr::Call(c) => {
                let known = match &*c.func {
                    Expr::Path(p) => {
                        let segments: Vec<String> = p
                            .path
                            .segments
                            .iter()
                            .map(|s| s.ident.to_string())
                            .collect();
                        let last = segments.last().map(String::as_str).unwrap_or("");
                        let n = segments.len();
                        (n >= 2 && segments[n - 2] == "math" && MATH_FUNCTIONS.contains(&last))
                            || (n == 2 && segments[0] == "T" && last == "from")
                            || family(expr).is_some_and(|f| {
                                CONTINUOUS.contains(&f.as_str()) || DISCRETE.contains(&f.as_str())
                            })
                    }
                    _ => false,
                };
                if known {
                    for arg in &c.args {
                        self.visit_expr(arg);
                    }
                } else {
                    let f = &c.func;
                    self.error = Some(format!("the call `{}` over parameters", quote!(#f)));
                }
            }
            Expr::Macro(m) => match placeholder_index(&m.mac)
                .and_then(|i| self.emitter.sites.get(i))
            {
                Some(site) if site.kind == SiteMacro::Deterministic => self.visit_expr(&site.value),
                _ => self.error = fail("a macro"),
            },
            _ => self.error = fail("this kind of expression"),
        }
    }
}

/// Replaces the leaves of an active expression by `__lk` and records them.
struct Replace<'e> {
    active: &'e HashMap<String, Kind>,
    top: &'e HashSet<String>,
    reassigned: &'e HashSet<String>,
    sites: &'e [Site],
    keys: Vec<String>,
    leaves: Vec<Leaf>,
    indices: Vec<(Ident, Expr)>,
    next: &'e mut usize,
}

impl Replace<'_> {
    fn leaf(&mut self, key: String, make: impl FnOnce(&mut Self) -> Leaf) -> Expr {
        let k = match self.keys.iter().position(|k| *k == key) {
            Some(k) => k,
            None => {
                let leaf = make(self);
                self.keys.push(key);
                self.leaves.push(leaf);
                self.keys.len() - 1
            }
        };
        let ident = format_ident!("__l{}", k);
        syn::parse_quote!(#ident)
    }
}

impl VisitMut for Replace<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(name) = p.path.get_ident().map(|i| i.to_string())
                    && self.active.get(&name) == Some(&Kind::Scalar)
                {
                    let ident = Ident::new(&name, Span::call_site());
                    let stable = self.top.contains(&name) && !self.reassigned.contains(&name);
                    *expr = self.leaf(name.clone(), |_| Leaf {
                        value: quote!(#ident),
                        adjoint: {
                            let a = adjoint_of(&name);
                            quote!(#a)
                        },
                        stable,
                    });
                }
            }
            Expr::Index(i) => {
                if let Some(name) = ident_of(&i.expr)
                    && self.active.get(&name) == Some(&Kind::Vector)
                {
                    let index = (*i.index).clone();
                    let key = format!("{name}[{}]", quote!(#index));
                    *expr = self.leaf(key, |this| {
                        *this.next += 1;
                        let slot = format_ident!("__i{}", *this.next);
                        this.indices.push((slot.clone(), index));
                        let vector = Ident::new(&name, Span::call_site());
                        let adjoint = adjoint_of(&name);
                        Leaf {
                            value: quote!(#vector[#slot]),
                            adjoint: quote!(#adjoint[#slot]),
                            stable: true,
                        }
                    });
                } else {
                    visit_mut::visit_expr_mut(self, expr);
                }
            }
            Expr::Macro(m) => {
                if let Some(site) = placeholder_index(&m.mac).and_then(|i| self.sites.get(i))
                    && site.kind == SiteMacro::Deterministic
                {
                    let mut value = site.value.clone();
                    self.visit_expr_mut(&mut value);
                    *expr = syn::parse_quote!((#value));
                }
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }
}

/// Replaces `deterministic!` placeholders by their values (data code keeps them).
struct Unwrap<'m> {
    sites: &'m [Site],
}

impl VisitMut for Unwrap<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Macro(m) = expr
            && let Some(site) = placeholder_index(&m.mac).and_then(|i| self.sites.get(i))
            && site.kind == SiteMacro::Deterministic
        {
            let mut value = site.value.clone();
            self.visit_expr_mut(&mut value);
            *expr = syn::parse_quote!((#value));
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// Whether an expression holds `return`, `break` or `continue` outside closures.
#[derive(Default)]
struct Jumps {
    found: bool,
}

impl<'a> Visit<'a> for Jumps {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => self.found = true,
            Expr::Closure(_) => {}
            _ => visit::visit_expr(self, expr),
        }
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}
