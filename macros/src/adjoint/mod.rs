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

mod analysis;
mod buffers;
mod control;
mod leaves;
mod normalise;
mod sites;

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Pat, Stmt};

use crate::ast::{Model, Site, SiteMacro};
use crate::parse::placeholder_index;
use crate::symbolic;

use analysis::*;
use control::assign_tails;
pub(crate) use control::pure;
use leaves::*;

type Outcome<T> = Result<T, String>;

/// The generated `generated_logp_and_grad` body and whether `Engine::Auto` prefers it
/// to the tape (see `ModelBody::prefers_generated`), or why there is none.
pub fn generate(model: &Model) -> Outcome<(TokenStream, bool)> {
    // this code's own names begin with `__`: a user name that does too could clash (the
    // parser's placeholders and hidden fields are ours; the body is read before the
    // `Normal::each` rewrite, whose loop names begin with `__each_`)
    let mut clash = None;
    let body = &model.body;
    let tokens = model.sites.iter().map(|s| {
        let (value, obs) = (&s.value, &s.obs);
        quote!(#value #obs)
    });
    for tokens in std::iter::once(quote!(#body)).chain(tokens) {
        crate::ast::each_ident(tokens, &mut |i| {
            let name = i.to_string();
            let ours = ["__tilde", "__private"].iter().any(|p| name.starts_with(p));
            if name.starts_with("__") && !ours {
                clash.get_or_insert(name);
            }
        });
    }
    if let Some(name) = clash {
        return Err(format!(
            "the name `{name}` (this code's names begin with `__`)"
        ));
    }
    // vectorised `Normal::each` observations as scalar loops, in this code only
    let mut unstable = mutated(&model.body);
    unstable.extend(bindings(model, &model.body).twice);
    let rewritten = crate::vector_sites::rewrite(&model.body, &model.sites, &unstable);
    let (body, sites) = match &rewritten {
        Some((body, sites)) => (body, sites.as_slice()),
        None => (&model.body, model.sites.as_slice()),
    };
    if sites.iter().any(crate::discrete::is_discrete_latent) {
        return Err("a discrete latent site".to_string());
    }
    // `deterministic!` values are plain expressions here (this code records nothing)
    let mut body = body.clone();
    Unwrap { sites }.visit_block_mut(&mut body);
    normalise::SplitTuples { sites }.visit_block_mut(&mut body);
    normalise::SplitArrayAssignments::default().visit_block_mut(&mut body);
    normalise::MatchesAsIfs.visit_block_mut(&mut body);
    normalise::IfLetsAsIfs.visit_block_mut(&mut body);
    normalise::ContinuesAsBranches.visit_block_mut(&mut body);
    let mut sites = sites.to_vec();
    normalise::ZipsAsIndices {
        sites: &mut sites,
        next: 0,
    }
    .visit_block_mut(&mut body);
    let bound = bindings(model, &body);
    normalise::rename_inner_bindings(&mut body, &mut sites, &bound);
    let bound = bindings(model, &body);
    normalise::flatten_nested_arrays(&mut body, &mut sites, &bound);
    let bound = bindings(model, &body);
    normalise::inline_closures(&mut body, &mut sites, &bound);
    let bound = bindings(model, &body);
    normalise::scalar_arrays(&mut body, &mut sites, &bound);
    let bound = bindings(model, &body);
    normalise::inline_distributions(&mut body, &mut sites, &bound);
    normalise::split_summed_arrays(&mut body, &mut sites, &bound);
    normalise::inline_filled_vectors(&mut body, &mut sites, &bound);
    let (body, sites) = (&body, sites.as_slice());
    // a jump leaves a statement half done, and the generic body's `return` is not this
    // code's
    let mut jumps = Jumps::default();
    jumps.visit_block(body);
    if jumps.found {
        return Err("`return`, `break` or `continue` in the body".into());
    }
    // a macro defined in the body may read or change anything, unseen
    if body
        .stmts
        .iter()
        .any(|s| matches!(s, Stmt::Item(syn::Item::Macro(_))))
        || has_local_macro(body)
    {
        return Err("a `macro_rules!` in the body".into());
    }
    let names = bindings(model, body);
    let active = activity(body, sites)?;
    let arguments: HashSet<String> = model.args.iter().map(|a| a.ident.to_string()).collect();
    changed_under_parameters(body, sites, &active, &arguments)?;
    if let Some(twice) = names.twice.iter().find(|n| active.contains_key(*n)) {
        return Err(format!(
            "the parameter-dependent name `{twice}` is bound more than once"
        ));
    }
    let mut assigned = Assigned::default();
    assigned.visit_block(body);
    let changed = mutated(body);
    let mut emitter = Emitter {
        sites,
        active,
        reassigned: assigned.names,
        twice: names.twice.clone(),
        mutated: changed.clone(),
        moved: moved(body, sites),
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
            .filter(|n| !names.twice.contains(n) && !changed.contains(n))
            .collect(),
        active_branches: 0,
        data_constant: false,
    };
    let top = emitter.block(&body.stmts, Mode::Top)?;
    let adjoints = emitter.adjoint_decls(&top.declared);
    let forward = &top.forward;
    let reverse: Vec<&TokenStream> = top.reverse.iter().rev().collect();
    // back in the reverse order of taking: the pool is a stack, so each buffer serves
    // the same site at the next evaluation, with the capacity it grew to
    let give: Vec<TokenStream> = emitter
        .vectors
        .iter()
        .rev()
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
        if __target == f64::INFINITY || (__target.is_finite() && __grad.iter().any(|g| !g.is_finite())) {
            // an overflow here that the tape's order of operations may avoid (`a · (1/b)`
            // for `a / b` at a subnormal `b`), or a zero adjoint that met an infinite
            // local derivative (`√x` at 0 times 0): the tape, which skips zero adjoints,
            // gives the value and the gradient
            return ::core::option::Option::None;
        }
        if !__target.is_finite() {
            __grad.iter_mut().for_each(|g| *g = 0.0);
            // a NaN (a scale below zero in a written-out density) is a rejection too
            __target = __target.max(f64::NEG_INFINITY);
        }
        ::core::option::Option::Some(__target)
    };
    // loops save a tape node per operation; a Gaussian over a factored matrix is one
    // matrix-vector product, and a `Glm` site one pass over its rows, without the
    // tape's set-up and copies
    let prefers = has_loop(body)
        || sites.iter().any(|s| {
            s.kind == SiteMacro::Sample
                && match s.obs {
                    None => factored_mvn(&s.value),
                    Some(_) => family(&s.value).as_deref() == Some("Glm"),
                }
        });
    Ok((code, prefers))
}

/// The names the model's arguments and `body` bind.
fn bindings(model: &Model, body: &syn::Block) -> Names {
    let mut names = Names::default();
    for arg in &model.args {
        names.bind(&arg.ident.to_string());
    }
    names.visit_block(body);
    names
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
    /// Names the body may change after binding them (see [`mutated`]) or move (see
    /// [`moved`]): a reduction's reverse sweep must not read one either.
    mutated: HashSet<String>,
    moved: HashSet<String>,
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
    // `r#type`'s adjoint is `__adj_type`: a raw identifier's `r#` is not part of a name
    format_ident!("__adj_{}", name.trim_start_matches("r#"))
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
            let assigned = assign_tails(branch, &syn::parse_quote!(#ident), &quote!(=))?;
            let declare: Stmt = syn::parse_quote!(let mut #ident = 0.0;);
            let assign = Stmt::Expr(Expr::If(assigned), None);
            self.reassigned.insert(ident.to_string());
            for stmt in [declare, assign] {
                self.stmt(&stmt, mode, out)?;
            }
            return Ok(());
        }
        if kind == Kind::Buffer {
            return self.buffer(&ident, &init.expr, mode, out);
        }
        let mutability = mutable.then(|| quote!(mut));
        if let Some(site) = site_of(self.sites, &init.expr)
            && site.kind == SiteMacro::Sample
            && site.obs.is_none()
        {
            return match kind {
                Kind::Vector if mode == Mode::Top => self.latent_vector(&ident, site, out),
                Kind::Vector => Err("a vector site inside a loop or branch".into()),
                Kind::Buffer => Err("a site's value written element by element".into()),
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
        let adjoint = adjoint_of(&ident.to_string());
        let (code, stored, reverse) = self.active_value(&init, &value, quote!(#adjoint), false)?;
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
                    && !is_latent_vector(&site.value)
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
        self.lift_buffer_sums(&mut expr, mode, out)?;
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
        // a stable scalar does not change in a loop; a vector's element is read at an
        // index that may
        let stable: Vec<bool> = leaves
            .iter()
            .map(|l| l.stable && syn::parse2::<Ident>(l.value.clone()).is_ok())
            .collect();
        let d = symbolic::differentiate(expr, &stable, &mut fresh)?;
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
    /// with its partials, and the reverse code that sends the target's `adjoint` to the
    /// leaves (zeroing it first when `assign`: the old value is overwritten, not kept).
    fn active_value(
        &mut self,
        expr: &Expr,
        value: &Ident,
        adjoint: TokenStream,
        assign: bool,
    ) -> Outcome<(TokenStream, Vec<Stored>, TokenStream)> {
        let (expr, leaves, mut stored, mut code) = self.leaves(expr)?;
        let partials = self.fresh("d");
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
}

impl Emitter<'_> {
    fn expr_stmt(&mut self, expr: &Expr, semi: bool, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        if let Some(site) = site_of(self.sites, expr) {
            return self.term(site, mode, out);
        }
        if let Some((left, right, op)) = assignment(expr) {
            if let Expr::If(branch) = right
                && (self.mentions_active(expr) || self.has_site(expr))
            {
                // `x = if c { a } else { b }` (or `v[t] += …`) is `if c { x = a } else { x = b }`
                let op = op.map_or_else(|| quote!(=), |op| quote!(#op));
                let assigned = assign_tails(branch, left, &op)?;
                return self.stmt(&Stmt::Expr(Expr::If(assigned), None), mode, out);
            }
            if let Expr::Index(element) = left
                && let Some(name) = ident_of(&element.expr)
                && self.active.get(&name) == Some(&Kind::Buffer)
            {
                return self.element_assignment(&name, &element.index, right, op, mode, out);
            }
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
            match self.active.get(&name) {
                Some(Kind::Vector) => {
                    return Err(format!("the vector site `{name}` is reassigned"));
                }
                Some(Kind::Buffer) => {
                    return Err(format!(
                        "the vector `{name}` of parameter values is assigned whole (write its elements)"
                    ));
                }
                _ => {}
            }
            let ident = format_ident!("{}", name);
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
                let adjoint = adjoint_of(&name);
                let (code, stored, reverse) =
                    self.active_value(&increment, &value, quote!(#adjoint), false)?;
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
            let adjoint = adjoint_of(&name);
            let (code, stored, reverse) =
                self.active_value(&rhs, &value, quote!(#adjoint), true)?;
            out.forward.extend(quote!(#code #ident = #value;));
            self.finish(stored, reverse, mode, out);
            return Ok(());
        }
        match expr {
            Expr::ForLoop(f) => self.for_loop(f, mode, out),
            Expr::While(w) => self.while_loop(w, mode, out),
            Expr::If(i) => self.branch(i, mode, out),
            _ => {
                if semi && self.mentions_active(expr) && !self.has_site(expr) && pure(expr) {
                    // a value computed and dropped, as a `deterministic!` statement of its
                    // own reads here (the generic body records it): nothing to
                    // differentiate, nothing to run
                    return Ok(());
                }
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
}
