//! Control flow: loops (immediate, reductions, loops that carry state) and branches.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Pat, Stmt};

use super::analysis::*;
use super::leaves::*;
use super::*;

impl Emitter<'_> {
    pub(super) fn for_loop(
        &mut self,
        f: &syn::ExprForLoop,
        mode: Mode,
        out: &mut Emitted,
    ) -> Outcome<()> {
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
            let looped = quote! {
                for #pat in #iter {
                    #forward
                    // an iterator longer than its length bound: the tape runs the model
                    let ::core::option::Option::Some(#slot) = #slots.get_mut(#count) else {
                        return ::core::option::Option::None;
                    };
                    *#slot = [#(#values),*];
                    #count += 1;
                }
            };
            let looped = accumulated_locally(looped);
            out.forward.extend(quote! {
                let #iter = ::core::iter::IntoIterator::into_iter(#iterable);
                let mut #record: ::std::vec::Vec<f64> =
                    __pool.take_record(::tilde::__private::codegen::record_len(&#iter, #width));
                let (#slots, _) = #record.as_chunks_mut::<#width>();
                let mut #count: usize = 0;
                #looped
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
        self.stacked_loop(quote!(for #pat in #iterable), &body, mode, out);
        Ok(())
    }

    /// A loop (its `header`: `for pat in iter` or `while cond`) whose iterations are
    /// counted and each push their stored values on the stack in one array; the reverse
    /// sweep pops them, last iteration first.
    fn stacked_loop(&mut self, header: TokenStream, body: &Emitted, mode: Mode, out: &mut Emitted) {
        let count = self.fresh("c");
        let decls = self.adjoint_decls(&body.declared);
        let forward = &body.forward;
        let reverse = body.reverse.iter().rev();
        let (push, pop) = Self::stash_together(&body.deferred);
        out.forward.extend(quote! {
            let mut #count: usize = 0;
            #header {
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
    }

    /// A `while` loop on a data condition: its iterations are counted and each keeps its
    /// stored values on the stack, as a `for` loop nested in stacked code does.
    pub(super) fn while_loop(
        &mut self,
        w: &syn::ExprWhile,
        mode: Mode,
        out: &mut Emitted,
    ) -> Outcome<()> {
        let whole = Expr::While(w.clone());
        if !self.mentions_active(&whole) && !self.has_site(&whole) {
            out.forward.extend(quote!(#whole;));
            return Ok(());
        }
        if self.mentions_active(&w.cond) || self.has_site(&w.cond) {
            return Err("a `while` loop on a parameter-dependent condition".into());
        }
        if matches!(&*w.cond, Expr::Let(_)) {
            return Err("a `while let` loop over parameters".into());
        }
        if w.label.is_some() {
            return Err("a labelled loop".into());
        }
        let cond = &w.cond;
        let body = self.block(&w.body.stmts, Mode::Deferred)?;
        self.stacked_loop(quote!(while #cond), &body, mode, out);
        Ok(())
    }

    pub(super) fn branch(&mut self, i: &syn::ExprIf, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        let cond = &i.cond;
        if let Expr::Let(_) = &**cond {
            // `if let`: as written when it only reads data, else the tape
            let whole = Expr::If(i.clone());
            if self.mentions_active(&whole) || self.has_site(&whole) {
                return Err("an `if let` over parameters or with sites".into());
            }
            out.forward.extend(quote!(#whole));
            return Ok(());
        }
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
    pub(super) fn branches(&mut self, i: &syn::ExprIf) -> Outcome<(Emitted, Emitted)> {
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
    pub(super) fn reduction(&self, f: &syn::ExprForLoop) -> Option<Vec<(Ident, Expr)>> {
        let Pat::Ident(var) = &*f.pat else {
            return None;
        };
        if var.mutability.is_some() || var.subpat.is_some() || var.by_ref.is_some() {
            return None;
        }
        let Expr::Range(range) = &*f.expr else {
            return None;
        };
        // the lanes step through the range by integer arithmetic: not over `char`s
        let is_char = |e: &Expr| {
            matches!(strip_parens(e), Expr::Lit(l) if matches!(l.lit, syn::Lit::Char(_)))
                || matches!(strip_parens(e), Expr::Cast(c) if quote!(#c).to_string().ends_with("char"))
        };
        if range.start.as_deref().is_none_or(is_char) || range.end.as_deref().is_none_or(is_char) {
            return None;
        }
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
            let ident = format_ident!("{}", name);
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
            if self.has_site(&term) || !pure(&term) {
                return None;
            }
            // the reverse sweep reads the term's names again, lengths included
            let reads = Mentions::of(self.sites, &term);
            let changes = |n: &String| {
                *n != loop_var
                    && (self.reassigned.contains(n)
                        || self.twice.contains(n)
                        || self.mutated.contains(n)
                        || (self.moved.contains(n) && !self.active.contains_key(n)))
            };
            if reads.names.iter().chain(&reads.lengths).any(changes) {
                return None;
            }
            terms.push((ident, term));
        }
        (!terms.is_empty()).then_some(terms)
    }

    pub(super) fn reduction_loop(
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
            let mut value = expr.clone();
            RealMinMax.visit_expr_mut(&mut value);
            forward.extend(quote! {
                #lane[__lane] += {
                    #indices
                    #values
                    #[allow(dead_code)]
                    type T = f64;
                    ::core::convert::Into::<f64>::into(#value)
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
                let chunks = self.fresh("chunks");
                // unsuffixed, so that it takes the range's integer type
                let step = proc_macro2::Literal::usize_unsuffixed(LANES);
                // The whole chunks are counted from the range's length (a method of the
                // range, not of its possibly still unsettled integer type), so no
                // subtraction of its ends overflows (`-100i8..100`), and `base` never
                // passes `last`.
                quote! {
                    let mut #base = #first;
                    let mut #chunks: usize =
                        ::core::iter::Iterator::size_hint(&(#first..#last)).0 / #LANES;
                    while #chunks > 0 {
                        for __j in 0..#step {
                            let #pat = #base + __j;
                            let __lane = __j as usize;
                            #forward
                        }
                        #base += #step;
                        #chunks -= 1;
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
    pub(super) fn dot_term(&self, term: &Expr, pat: &Pat) -> Option<DotTerm> {
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
            vector: format_ident!("{}", vector),
            adjoint: adjoint_of(&vector),
            vector_offset,
            data: format_ident!("{}", data),
            data_offset,
            negated,
        })
    }

    /// A loop runs its reverse sweep per iteration when it assigns no active binding
    /// declared outside it and reads none that is ever reassigned.
    pub(super) fn is_immediate(&self, f: &syn::ExprForLoop) -> bool {
        let mut inside = Names::default();
        inside.visit_pat(&f.pat);
        inside.visit_block(&f.body);
        let mut assigned = Assigned::default();
        assigned.visit_block(&f.body);
        let mut read = Mentions::new(self.sites);
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
pub(super) struct DotTerm {
    pub(super) vector: Ident,
    pub(super) adjoint: Ident,
    pub(super) vector_offset: Option<Expr>,
    pub(super) data: Ident,
    pub(super) data_offset: Option<Expr>,
    pub(super) negated: bool,
}

impl DotTerm {
    /// The forward code adding the term over `first..last` to `target`, and the
    /// reverse code adding `target`'s adjoint times the data to the vector's adjoint.
    pub(super) fn emit(
        &self,
        target: &Ident,
        first: &Ident,
        last: &Ident,
    ) -> (TokenStream, TokenStream) {
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
/// `code` (a loop) with the log-density and the adjoints it only adds to
/// (`__target += …`, `__adj_x -= …`, never read) summed in locals of the loop, added
/// to the outer ones after it. The outer ones live across the calls of the whole
/// function, and the compiler kept them in memory, with a store and a reload on each
/// iteration's path through them.
fn accumulated_locally(code: TokenStream) -> TokenStream {
    use proc_macro2::TokenTree;
    // per name: whether every occurrence is the left side of `+=` or `-=`
    fn scan(code: TokenStream, only_added: &mut Vec<(String, bool)>) {
        let mut tokens = code.into_iter().peekable();
        while let Some(token) = tokens.next() {
            match token {
                TokenTree::Group(g) => scan(g.stream(), only_added),
                TokenTree::Ident(i) => {
                    let name = i.to_string();
                    if name != "__target" && !name.starts_with("__adj_") {
                        continue;
                    }
                    let added = match tokens.peek() {
                        Some(TokenTree::Punct(p))
                            if (p.as_char() == '+' || p.as_char() == '-')
                                && p.spacing() == proc_macro2::Spacing::Joint =>
                        {
                            let mut ahead = tokens.clone();
                            ahead.next();
                            matches!(ahead.next(), Some(TokenTree::Punct(q)) if q.as_char() == '=')
                        }
                        _ => false,
                    };
                    match only_added.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, all)) => *all &= added,
                        None => only_added.push((name, added)),
                    }
                }
                _ => {}
            }
        }
    }
    let mut only_added = Vec::new();
    scan(code.clone(), &mut only_added);
    let names: Vec<Ident> = only_added
        .into_iter()
        .filter(|(_, all)| *all)
        .map(|(n, _)| format_ident!("{}", n))
        .collect();
    if names.is_empty() {
        return code;
    }
    let sums: Vec<Ident> = (0..names.len())
        .map(|k| format_ident!("__sum{}", k))
        .collect();
    quote! {
        let (#(#sums,)*) = {
            #(let mut #names: f64 = -0.0;)*
            #code
            (#(#names,)*)
        };
        #(#names += #sums;)*
    }
}

/// Whether evaluating `term` twice gives the same value and changes nothing: no call
/// but to a function of `tilde::math` or a path of the standard library's `f64`, no
/// method but the elementary ones and `len`, no macro, no assignment and no `&mut`
/// borrow (`math::cholesky(&mut m, n)` writes its argument; a reduction
/// evaluates its terms again in its reverse sweep, and a site's data arguments are
/// read once per model or twice per evaluation; a closure, `Cell::get` or
/// `Iterator::next` may not give the same value then).
pub(crate) fn pure(term: &Expr) -> bool {
    struct Pure(bool);
    impl<'a> Visit<'a> for Pure {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Call(c) => {
                    let known = matches!(&*c.func, Expr::Path(p) if {
                        let segments: Vec<String> =
                            p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                        // `math::…`, `T::from`, and the primitive types' functions
                        // (`f64::max`, `usize::from`)
                        const PRIMITIVE: &[&str] = &[
                            "f64", "f32", "T", "usize", "isize", "u8", "u16", "u32", "u64",
                            "i8", "i16", "i32", "i64",
                        ];
                        segments.iter().any(|s| s == "math")
                            || segments.first().is_some_and(|s| PRIMITIVE.contains(&s.as_str()))
                    });
                    self.0 &= known;
                }
                Expr::MethodCall(m) => {
                    let method = m.method.to_string();
                    self.0 &= REAL_METHODS.contains(&method.as_str()) || method == "len";
                }
                Expr::Macro(_)
                | Expr::Closure(_)
                | Expr::Block(_)
                | Expr::Unsafe(_)
                | Expr::Assign(_) => self.0 = false,
                Expr::Binary(b) if crate::ast::is_assign_op(&b.op) => self.0 = false,
                Expr::Reference(r) if r.mutability.is_some() => self.0 = false,
                _ => {}
            }
            syn::visit::visit_expr(self, expr);
        }
    }
    let mut pure = Pure(true);
    pure.visit_expr(term);
    pure.0
}

/// [`pure`] for a site's distribution: its constructor's arguments (and an `.iid(n)`'s
/// length) are.
pub(super) fn pure_distribution(dist: &Expr) -> bool {
    let (inner, len) = match super::analysis::iid(dist) {
        Some((inner, len)) => (inner, Some(len)),
        None => (dist, None),
    };
    let arguments = match strip_parens(inner) {
        Expr::Call(call) => call.args.iter().all(pure),
        other => pure(other),
    };
    arguments && len.is_none_or(pure)
}

pub(super) fn strip_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// `if c { …; a } else { …; b }` assigned to `place` with `op` (`=`, `+=`, …): the same
/// `if` with `place op a;` and `place op b;` as its branches' last statements (Rust
/// evaluates the value before the place; the places taken here are free of effects).
pub(super) fn assign_tails(
    branch: &syn::ExprIf,
    place: &Expr,
    op: &TokenStream,
) -> Outcome<syn::ExprIf> {
    let assign_tail = |block: &mut syn::Block| -> Outcome<()> {
        match block.stmts.pop() {
            Some(Stmt::Expr(tail, None)) => {
                block.stmts.push(syn::parse_quote!(#place #op #tail;));
                Ok(())
            }
            _ => Err("an `if` value whose branch does not end in a value".into()),
        }
    };
    let mut branch = branch.clone();
    assign_tail(&mut branch.then_branch)?;
    match branch.else_branch.as_mut() {
        None => return Err("an `if` value without `else`".into()),
        Some((_, otherwise)) => match &mut **otherwise {
            Expr::Block(b) => assign_tail(&mut b.block)?,
            Expr::If(inner) => *inner = assign_tails(inner, place, op)?,
            _ => return Err("an `else` that is not a block".into()),
        },
    }
    Ok(branch)
}
