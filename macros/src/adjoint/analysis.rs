//! What the analysis knows: the families, methods and functions it differentiates,
//! which bindings are active, and the syntactic facts the emitter asks about.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use syn::visit::{self, Visit};
use syn::{Expr, Pat};

use crate::ast::{Site, SiteMacro};
use crate::parse::placeholder_index;

use super::Outcome;

/// Scalar families with a continuous density: latent sites of these are analysed.
pub(super) const CONTINUOUS: &[&str] = &[
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
    "TruncatedNormal",
];

/// Scalar families that are only observed here (counts).
pub(super) const DISCRETE: &[&str] = &[
    "Bernoulli",
    "Binomial",
    "Poisson",
    "NegativeBinomial",
    "Geometric",
    "BetaBinomial",
    "ZeroInflatedPoisson",
];

/// Methods of `tilde::Real` that map scalars to a scalar (of the receiver and at most one
/// argument).
pub(super) const REAL_METHODS: &[&str] = &[
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
    "log_sum_exp",
    "logit",
    "Phi",
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
pub(super) const MATH_FUNCTIONS: &[&str] = &[
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

/// Functions of `tilde::math` over slices of scalars that return a scalar, taken with
/// array literals (`math::log_sum_exp(&[a, b])`).
pub(super) const SLICE_FUNCTIONS: &[&str] = &["log_sum_exp", "log_mix_k"];

/// What an active binding holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Scalar,
    /// The slice of a latent `dist.iid(n)` site.
    Vector,
    /// A vector the body fills with parameter-dependent values element by element
    /// (`let mut e = vec![0.0; n]; … e[t] = y[t] - nu;`): its values and adjoints are
    /// buffers of the pool, each element write a statement of its own.
    Buffer,
}

/// Whether the body has a `for` or `while` loop: the generated code is what `Engine::Auto` runs
/// then (see `ModelBody::prefers_generated`).
pub(super) fn has_loop(body: &syn::Block) -> bool {
    struct Loops(bool);
    impl<'a> Visit<'a> for Loops {
        fn visit_expr_for_loop(&mut self, _: &'a syn::ExprForLoop) {
            self.0 = true;
        }
        fn visit_expr_while(&mut self, _: &'a syn::ExprWhile) {
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
pub(super) struct Names {
    pub(super) seen: HashSet<String>,
    pub(super) twice: HashSet<String>,
    /// How many times each name is bound.
    pub(super) count: HashMap<String, usize>,
}

impl Names {
    pub(super) fn bind(&mut self, name: &str) {
        if !self.seen.insert(name.to_string()) {
            self.twice.insert(name.to_string());
        }
        *self.count.entry(name.to_string()).or_default() += 1;
    }
}

impl<'a> Visit<'a> for Names {
    fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
        self.bind(&p.ident.to_string());
        visit::visit_pat_ident(self, p);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// The names assigned (`x = …`, `x += …`, or an element: `v[i] = …`) anywhere in the
/// body.
#[derive(Default)]
pub(super) struct Assigned {
    pub(super) names: HashSet<String>,
}

pub(super) fn assignment(expr: &Expr) -> Option<(&Expr, &Expr, Option<syn::BinOp>)> {
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

pub(super) fn ident_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        Expr::Paren(p) => ident_of(&p.expr),
        _ => None,
    }
}

impl<'a> Visit<'a> for Assigned {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Some((left, _, _)) = assignment(expr) {
            let element = match left {
                Expr::Index(i) => ident_of(&i.expr),
                _ => None,
            };
            self.names.extend(ident_of(left).or(element));
        }
        visit::visit_expr(self, expr);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// The single-segment names an expression reads, and whether it holds a latent site.
/// `v.len()` does not read `v`'s values: such a `v` is in `lengths`, not in `names`.
pub(super) struct Mentions<'m> {
    pub(super) sites: &'m [Site],
    pub(super) names: HashSet<String>,
    /// The names whose length the expression reads (`v.len()`).
    pub(super) lengths: HashSet<String>,
    pub(super) latent: bool,
    pub(super) other_site: bool,
}

impl<'m> Mentions<'m> {
    /// Nothing read yet; a visit adds what it reads.
    pub(super) fn new(sites: &'m [Site]) -> Self {
        Mentions {
            sites,
            names: HashSet::new(),
            lengths: HashSet::new(),
            latent: false,
            other_site: false,
        }
    }

    pub(super) fn of(sites: &'m [Site], expr: &Expr) -> Self {
        let mut m = Self::new(sites);
        m.visit_expr(expr);
        m
    }

    pub(super) fn of_tokens(tokens: &TokenStream) -> HashSet<String> {
        let mut out = HashSet::new();
        crate::ast::each_ident(tokens.clone(), &mut |i| {
            out.insert(i.to_string());
        });
        out
    }

    pub(super) fn any_in(&self, active: &HashMap<String, Kind>) -> bool {
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
            Expr::MethodCall(m) if m.method == "len" && ident_of(&m.receiver).is_some() => {
                self.lengths.extend(ident_of(&m.receiver));
            }
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
pub(super) fn site_of<'m>(sites: &'m [Site], expr: &Expr) -> Option<&'m Site> {
    match expr {
        Expr::Macro(m) => placeholder_index(&m.mac).and_then(|i| sites.get(i)),
        Expr::Paren(p) => site_of(sites, &p.expr),
        _ => None,
    }
}

/// `Family::ctor(..)` → the family's name.
pub(super) fn family(expr: &Expr) -> Option<String> {
    let segments = crate::parse::call_segments(expr)?;
    let n = segments.len();
    if n < 2 || segments[n - 1] == "each" {
        return None;
    }
    Some(segments[n - 2].clone())
}

/// `inner.iid(n)` → `(inner, n)`.
pub(super) fn iid(expr: &Expr) -> Option<(&Expr, &Expr)> {
    match expr {
        Expr::MethodCall(m) if m.method == "iid" && m.args.len() == 1 => {
            Some((&m.receiver, &m.args[0]))
        }
        _ => None,
    }
}

/// `inner.truncated(low, high)` → `inner`.
pub(super) fn truncated(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::MethodCall(m) if m.method == "truncated" && m.args.len() == 2 => Some(&m.receiver),
        _ => None,
    }
}

/// `MultivariateNormal::precision(mean, factored(m))` or `::covariance`: a Gaussian
/// over a data matrix the model factored at construction (see `hoist`).
pub(super) fn factored_mvn(expr: &Expr) -> bool {
    let Some(segments) = crate::parse::call_segments(expr) else {
        return false;
    };
    let n = segments.len();
    let Expr::Call(call) = expr else {
        return false;
    };
    n >= 2
        && segments[n - 2] == "MultivariateNormal"
        && ["precision", "covariance"].contains(&segments[n - 1].as_str())
        && call.args.len() == 2
        && matches!(&call.args[1], Expr::Call(c) if matches!(&*c.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "factored")))
}

/// Whether a latent site's distribution gives a vector: `dist.iid(n)` or a Gaussian
/// over a factored data matrix.
pub(super) fn is_latent_vector(value: &Expr) -> bool {
    iid(value).is_some() || factored_mvn(value) || dense_vector(value)
}

/// Distributions over vectors whose latent sites the generated code evaluates with
/// forward duals (`codegen::latent_dense`; each has a `Latent` impl whose value is a
/// slice).
const DENSE_VECTORS: &[&str] = &[
    "Dirichlet",
    "GaussianRandomWalk",
    "InverseWishart",
    "LkjCholesky",
    "LowRankMultivariateNormal",
    "MultivariateNormal",
    "Wishart",
];

/// A latent vector site the generated code evaluates with forward duals: a vector
/// distribution of [`DENSE_VECTORS`] (but a Gaussian factored at construction), or
/// `dist.iid(n).ordered()` / `.positive_ordered()` of a scalar family.
pub(super) fn dense_vector(expr: &Expr) -> bool {
    match expr {
        Expr::MethodCall(m)
            if (m.method == "ordered" || m.method == "positive_ordered")
                && m.args.is_empty()
                && m.turbofish.is_none() =>
        {
            iid(&m.receiver)
                .and_then(|(inner, _)| family(inner))
                .is_some_and(|f| CONTINUOUS.contains(&f.as_str()))
        }
        _ => {
            family(expr).is_some_and(|f| DENSE_VECTORS.contains(&f.as_str())) && !factored_mvn(expr)
        }
    }
}

/// The active bindings, by a fixpoint over `let`s and assignments.
pub(super) fn activity(body: &syn::Block, sites: &[Site]) -> Outcome<HashMap<String, Kind>> {
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
                                    && is_latent_vector(&s.value)
                            });
                            let array = matches!(&*init.expr, Expr::Array(_));
                            let kind = match (vector, array) {
                                (true, _) => Kind::Vector,
                                (_, true) => Kind::Buffer,
                                _ => Kind::Scalar,
                            };
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
                let element = match left {
                    Expr::Index(i) => ident_of(&i.expr),
                    _ => None,
                };
                match (ident_of(left), element) {
                    (Some(name), _) => self.mark(name, Kind::Scalar),
                    (None, Some(name)) => self.mark(name, Kind::Buffer),
                    (None, None) => {
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

/// The name an assignment or borrow changes: `w` of `w`, `w[i]`, `w.f`, `*w`.
pub(super) fn base_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Index(i) => base_of(&i.expr),
        Expr::Field(f) => base_of(&f.base),
        Expr::Paren(p) => base_of(&p.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => base_of(&u.expr),
        _ => ident_of(expr),
    }
}

/// The names the body may change after binding them: those assigned (`x = …`,
/// `x[i] += …`, `x.f = …`), borrowed `&mut`, bound `mut` (which any change of an
/// owned value needs), or the receiver of a method that may change it (`Cell::set`).
pub(super) fn mutated(body: &syn::Block) -> HashSet<String> {
    #[derive(Default)]
    struct Changes {
        changed: HashSet<String>,
        /// Receivers of methods that may change them (a binding of the body's only
        /// counts: the data arguments are shared references).
        receivers: HashSet<String>,
        bound: HashSet<String>,
    }
    impl<'a> Visit<'a> for Changes {
        fn visit_expr(&mut self, expr: &'a Expr) {
            let changed = match expr {
                Expr::Reference(r) if r.mutability.is_some() => base_of(&r.expr),
                Expr::MethodCall(m) if !reads_only(&m.method) => {
                    self.receivers.extend(base_of(&m.receiver));
                    None
                }
                _ => assignment(expr).and_then(|(left, _, _)| base_of(left)),
            };
            self.changed.extend(changed);
            visit::visit_expr(self, expr);
        }
        fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
            self.bound.insert(p.ident.to_string());
            if p.mutability.is_some() {
                self.changed.insert(p.ident.to_string());
            }
            visit::visit_pat_ident(self, p);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut changes = Changes::default();
    changes.visit_block(body);
    let Changes {
        mut changed,
        receivers,
        bound,
    } = changes;
    changed.extend(receivers.into_iter().filter(|r| bound.contains(r)));
    changed
}

/// The bindings of the body that it may move (use by value where a copy is not
/// certain): a bare name as a `for` loop's iterable, a function's or method's argument,
/// a `let`'s or an assignment's whole value, an element of an array, tuple or struct,
/// a site's observation, the value of an `if`, `match` or block, or an operand of an
/// operator (unless it is bound only to numbers). A sum's reverse sweep, which runs at the end of the body,
/// must not read one.
pub(super) fn moved(body: &syn::Block, sites: &[Site]) -> HashSet<String> {
    struct Moves<'m> {
        sites: &'m [Site],
        bound: HashSet<String>,
        /// Bindings whose every `let` gives a number (see [`numbers`]).
        numbers: HashSet<String>,
        moved: HashSet<String>,
    }
    impl Moves<'_> {
        /// `e`'s value is taken: a bare name, or one that an `if`, `match` or block
        /// hands on as its value.
        fn by_value(&mut self, e: &Expr) {
            match e {
                Expr::If(i) => {
                    self.tail(&i.then_branch);
                    if let Some((_, other)) = &i.else_branch {
                        self.by_value(other);
                    }
                }
                Expr::Match(m) => m.arms.iter().for_each(|a| self.by_value(&a.body)),
                Expr::Block(b) => self.tail(&b.block),
                Expr::Paren(p) => self.by_value(&p.expr),
                _ => {
                    if let Some(name) = ident_of(e)
                        && self.bound.contains(&name)
                    {
                        self.moved.insert(name);
                    }
                }
            }
        }
        fn tail(&mut self, block: &syn::Block) {
            if let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last() {
                self.by_value(tail);
            }
        }
        /// An operand of an operator is taken by value, unless the name is bound only
        /// to numbers (`Copy`).
        fn operand(&mut self, e: &Expr) {
            if ident_of(e).is_none_or(|n| !self.numbers.contains(&n)) {
                self.by_value(e);
            }
        }
    }
    impl<'a> Visit<'a> for Moves<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::ForLoop(f) => self.by_value(&f.expr),
                Expr::Call(c) => c.args.iter().for_each(|a| self.by_value(a)),
                Expr::MethodCall(m) => m.args.iter().for_each(|a| self.by_value(a)),
                Expr::Array(a) => a.elems.iter().for_each(|e| self.by_value(e)),
                Expr::Tuple(t) => t.elems.iter().for_each(|e| self.by_value(e)),
                Expr::Struct(s) => s.fields.iter().for_each(|f| self.by_value(&f.expr)),
                Expr::Assign(a) => self.by_value(&a.right),
                Expr::Match(m) => self.by_value(&m.expr),
                Expr::Let(l) => self.by_value(&l.expr),
                Expr::Return(r) => r.expr.iter().for_each(|e| self.by_value(e)),
                Expr::Break(b) => b.expr.iter().for_each(|e| self.by_value(e)),
                Expr::Binary(b) if !crate::ast::is_assign_op(&b.op) => {
                    self.operand(&b.left);
                    self.operand(&b.right);
                }
                Expr::Unary(u) if !matches!(u.op, syn::UnOp::Deref(_)) => self.operand(&u.expr),
                // a `move` closure takes whatever it names
                Expr::Closure(c) if c.capture.is_some() => {
                    let names = Mentions::of_tokens(&quote::ToTokens::to_token_stream(&c.body));
                    self.moved
                        .extend(names.into_iter().filter(|n| self.bound.contains(n)));
                }
                Expr::Macro(m) => {
                    if let Some(site) = placeholder_index(&m.mac).and_then(|i| self.sites.get(i)) {
                        if let Some(obs) = &site.obs {
                            self.by_value(obs);
                            self.visit_expr(obs);
                        }
                        self.visit_expr(&site.value);
                    }
                }
                _ => {}
            }
            visit::visit_expr(self, expr);
        }
        fn visit_local(&mut self, local: &'a syn::Local) {
            if let Some(init) = &local.init {
                self.by_value(&init.expr);
            }
            visit::visit_local(self, local);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut bound = Names::default();
    bound.visit_block(body);
    let mut moves = Moves {
        sites,
        bound: bound.seen,
        numbers: numbers(body),
        moved: HashSet::new(),
    };
    moves.visit_block(body);
    moves.moved
}

/// The bindings of the body whose every `let` gives a number, which operators copy: a
/// literal, a cast, an element of an indexed value (moving out of one does not
/// compile, so it is `Copy`), a length, an elementary function of one, or arithmetic
/// on them, or a `let` typed as a primitive number; and the variables of loops over
/// ranges.
fn numbers(body: &syn::Block) -> HashSet<String> {
    fn number(e: &Expr) -> bool {
        match e {
            Expr::Lit(_) | Expr::Cast(_) | Expr::Index(_) => true,
            Expr::Paren(p) => number(&p.expr),
            Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && number(&u.expr),
            Expr::Binary(b) => number(&b.left) && number(&b.right),
            Expr::MethodCall(m) => {
                let method = m.method.to_string();
                method == "len" || (REAL_METHODS.contains(&method.as_str()) && number(&m.receiver))
            }
            _ => false,
        }
    }
    struct Lets {
        numbers: HashSet<String>,
        others: HashSet<String>,
    }
    impl<'a> Visit<'a> for Lets {
        fn visit_local(&mut self, local: &'a syn::Local) {
            let (pat, ty) = match &local.pat {
                Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
                other => (other, None),
            };
            let typed = ty.is_some_and(|t| {
                let t = quote::ToTokens::to_token_stream(t).to_string();
                crate::hoist::COPIED.contains(&t.as_str())
            });
            if let Pat::Ident(p) = pat {
                let name = p.ident.to_string();
                let init_is_number = local.init.as_ref().is_some_and(|i| number(&i.expr));
                if typed || init_is_number {
                    self.numbers.insert(name);
                } else {
                    self.others.insert(name);
                }
            }
            visit::visit_local(self, local);
        }
        // a loop over a range binds integers
        fn visit_expr_for_loop(&mut self, f: &'a syn::ExprForLoop) {
            if let Pat::Ident(p) = &*f.pat {
                let name = p.ident.to_string();
                if matches!(&*f.expr, Expr::Range(_)) {
                    self.numbers.insert(name);
                } else {
                    self.others.insert(name);
                }
            }
            visit::visit_expr_for_loop(self, f);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut lets = Lets {
        numbers: HashSet::new(),
        others: HashSet::new(),
    };
    lets.visit_block(body);
    lets.numbers.retain(|n| !lets.others.contains(n));
    lets.numbers
}

/// Methods that read a collection without changing it.
const READ_ONLY_METHODS: &[&str] = &[
    "len", "is_empty", "iter", "get", "first", "last", "contains", "clone", "to_vec",
];

/// Whether a method only reads its receiver: a collection's reader or a scalar
/// function.
fn reads_only(method: &syn::Ident) -> bool {
    let method = method.to_string();
    READ_ONLY_METHODS.contains(&method.as_str()) || REAL_METHODS.contains(&method.as_str())
}

/// An error when code that runs only on a condition over parameters changes a value
/// that is not parameter-dependent by its data flow (`if mu > 0.0 { sd = 2.0 }`): the
/// value then depends on the parameters through the branch taken, which the analysis
/// (of data flow) does not follow, so the tape runs such a model.
pub(super) fn changed_under_parameters(
    body: &syn::Block,
    sites: &[Site],
    active: &HashMap<String, Kind>,
    arguments: &HashSet<String>,
) -> Outcome<()> {
    struct Pass<'m> {
        sites: &'m [Site],
        active: &'m HashMap<String, Kind>,
        everywhere: Names,
        arguments: &'m HashSet<String>,
        /// The names bound only inside each enclosing branch on parameters.
        local: Vec<HashSet<String>>,
        error: Option<String>,
    }
    impl Pass<'_> {
        fn on_parameters(&self, e: &Expr) -> bool {
            Mentions::of(self.sites, e).any_in(self.active)
        }
        fn conditional(&mut self, bound_in: &dyn Fn(&mut Names), visit: &dyn Fn(&mut Self)) {
            let mut inside = Names::default();
            bound_in(&mut inside);
            let only_inside = inside
                .count
                .into_iter()
                .filter(|(n, k)| self.everywhere.count.get(n) == Some(k))
                .map(|(n, _)| n)
                .collect();
            self.local.push(only_inside);
            visit(self);
            self.local.pop();
        }
        /// An error when `name` is a value from outside the enclosing branches: a
        /// binding of the body, or an argument when `arguments`.
        fn check(&mut self, name: Option<String>, arguments: bool) {
            let Some(name) = name else { return };
            let argument = arguments && self.arguments.contains(&name);
            if !self.everywhere.seen.contains(&name) && !argument {
                // a function or a constant
                return;
            }
            let outer = !self.local.iter().any(|l| l.contains(&name));
            if !self.local.is_empty() && outer && !self.active.contains_key(&name) {
                self.error.get_or_insert_with(|| {
                    format!("`{name}` is changed in code that runs on a condition over parameters")
                });
            }
        }
    }
    impl<'a> Visit<'a> for Pass<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                // the condition too: what follows a parameter's comparison in `&&` or
                // `||` runs only as the comparison allows
                Expr::If(i) if self.on_parameters(&i.cond) => {
                    self.conditional(
                        &|n| {
                            n.visit_expr(&i.cond);
                            n.visit_block(&i.then_branch);
                            if let Some((_, e)) = &i.else_branch {
                                n.visit_expr(e);
                            }
                        },
                        &|p| {
                            p.visit_expr(&i.cond);
                            p.visit_block(&i.then_branch);
                            if let Some((_, e)) = &i.else_branch {
                                p.visit_expr(e);
                            }
                        },
                    );
                    return;
                }
                Expr::Match(m) if self.on_parameters(&m.expr) => {
                    self.conditional(&|n| m.arms.iter().for_each(|a| n.visit_arm(a)), &|p| {
                        m.arms.iter().for_each(|a| p.visit_arm(a))
                    });
                    return;
                }
                Expr::While(w) if self.on_parameters(&w.cond) => {
                    self.conditional(
                        &|n| {
                            n.visit_expr(&w.cond);
                            n.visit_block(&w.body)
                        },
                        &|p| {
                            p.visit_expr(&w.cond);
                            p.visit_block(&w.body)
                        },
                    );
                    return;
                }
                // a site's arguments, which the body holds as a placeholder
                Expr::Macro(m) => {
                    let site = placeholder_index(&m.mac).and_then(|i| self.sites.get(i));
                    if let Some(site) = site {
                        self.visit_expr(&site.value);
                        if let Some(obs) = &site.obs {
                            self.visit_expr(obs);
                        }
                    }
                    return;
                }
                Expr::Reference(r) if r.mutability.is_some() => self.check(base_of(&r.expr), true),
                // a method may change its receiver (`push`, or `Cell::set` through `&`)
                // (through `&`: `Cell::set` on an argument too)
                Expr::MethodCall(m) if !reads_only(&m.method) => {
                    self.check(base_of(&m.receiver), true)
                }
                // a closure of the body may change what it captured, and a function
                // what it is lent (`widen(&cell)`)
                Expr::Call(c) => {
                    self.check(ident_of(&c.func), false);
                    for arg in &c.args {
                        if let Expr::Reference(r) = arg {
                            self.check(base_of(&r.expr), true);
                        }
                    }
                }
                _ => {
                    if let Some((left, _, _)) = assignment(expr) {
                        self.check(base_of(left), true);
                    }
                }
            }
            visit::visit_expr(self, expr);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut everywhere = Names::default();
    everywhere.visit_block(body);
    let mut pass = Pass {
        sites,
        active,
        everywhere,
        arguments,
        local: Vec::new(),
        error: None,
    };
    pass.visit_block(body);
    pass.error.map_or(Ok(()), Err)
}

/// Whether the body defines a `macro_rules!` anywhere (in a nested block too).
pub(super) fn has_local_macro(body: &syn::Block) -> bool {
    struct Found(bool);
    impl<'a> Visit<'a> for Found {
        fn visit_item_macro(&mut self, _: &'a syn::ItemMacro) {
            self.0 = true;
        }
        fn visit_stmt_macro(&mut self, m: &'a syn::StmtMacro) {
            self.0 |= m.mac.path.is_ident("macro_rules");
        }
    }
    let mut found = Found(false);
    found.visit_block(body);
    found.0
}

/// Whether an expression holds `return`, `break` or `continue` outside closures.
#[derive(Default)]
pub(super) struct Jumps {
    pub(super) found: bool,
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

/// Whether an argument's type is a contiguous run of `f64` that slices by a range:
/// `[f64]`, `[f64; N]` or `Vec<f64>`, behind any references.
pub(super) fn is_f64_slice(ty: &syn::Type) -> bool {
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
