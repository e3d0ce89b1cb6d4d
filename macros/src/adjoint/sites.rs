//! The sites: latent scalars and vectors, observed sites and `factor!` terms.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident};

use crate::ast::{Site, SiteMacro};
use crate::observed;
use crate::symbolic;

use super::analysis::*;
use super::control::{pure, pure_distribution, strip_parens};
use super::leaves::*;
use super::*;

impl Emitter<'_> {
    pub(super) fn latent_scalar(
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

    pub(super) fn latent_vector(
        &mut self,
        ident: &Ident,
        site: &Site,
        out: &mut Emitted,
    ) -> Outcome<()> {
        if factored_mvn(&site.value) {
            if self.mentions_active(&site.value) || self.has_site(&site.value) {
                return Err("a multivariate normal whose mean depends on parameters".into());
            }
            return self.factored_mvn_vector(ident, site, out);
        }
        if dense_vector(&site.value) {
            if self.mentions_active(&site.value) || self.has_site(&site.value) {
                return Err("a latent vector site whose arguments depend on parameters".into());
            }
            return self.dense_latent_vector(ident, site, out);
        }
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

    /// A latent vector site over data arguments that is not written out (see
    /// [`dense_vector`]): its values, log-density and Jacobian from forward duals
    /// (`codegen::latent_dense`); the reverse pass sends the adjoints of its values
    /// through the Jacobian to its coordinates.
    fn dense_latent_vector(
        &mut self,
        ident: &Ident,
        site: &Site,
        out: &mut Emitted,
    ) -> Outcome<()> {
        let mut value = site.value.clone();
        Unwrap { sites: self.sites }.visit_expr_mut(&mut value);
        // built once per pass: only arguments that give the same value each time
        let inner = match &value {
            Expr::MethodCall(m) if m.method == "ordered" || m.method == "positive_ordered" => {
                &*m.receiver
            }
            other => other,
        };
        let data_argument = |a: &Expr| {
            pure(a)
                || matches!(strip_parens(a), Expr::Call(c)
                    if matches!(&*c.func, Expr::Path(p) if p.path.segments.last()
                        .is_some_and(|s| s.ident == "data" || s.ident == "scalar"))
                        && c.args.iter().all(pure))
        };
        let arguments = match (iid(inner), strip_parens(inner)) {
            (Some(_), _) => pure_distribution(inner),
            (None, Expr::Call(call)) => call.args.iter().all(data_argument),
            _ => false,
        };
        if !arguments {
            return Err(
                "a latent vector site whose data arguments may change as they are read".into(),
            );
        }
        let (values, jac, adjoint, n, offset, lp) = (
            self.fresh("values"),
            self.fresh("jac"),
            adjoint_of(&ident.to_string()),
            self.fresh("n"),
            self.fresh("o"),
            self.fresh("lp"),
        );
        self.vectors
            .extend([values.clone(), jac.clone(), adjoint.clone()]);
        out.forward.extend(quote! {
            if __pos > __x.len() {
                return ::core::option::Option::None;
            }
            let mut #values = __pool.take(0);
            let mut #jac = __pool.take(0);
            let (#lp, #n): (f64, usize) = ::tilde::__private::codegen::latent_dense(
                || {
                    #[allow(dead_code)]
                    type T = f64;
                    #value
                },
                || {
                    #[allow(dead_code)]
                    type T = ::tilde::__private::Fwd<16>;
                    #value
                },
                &__x[__pos..],
                __jacobian,
                &mut #values,
                &mut #jac,
                &mut __grad[__pos..],
            )?;
            let #offset: usize = __pos;
            __pos += #n;
            __target += #lp;
            #[allow(unused_mut)]
            let mut #adjoint = __pool.take(#values.len());
            let #ident: &[f64] = &#values;
        });
        out.reverse.push(quote! {
            for __j in 0..#n {
                __grad[#offset + __j] += (0..#adjoint.len())
                    .map(|__i| #adjoint[__i] * #jac[__i * #n + __j])
                    .sum::<f64>();
            }
        });
        Ok(())
    }

    /// `Normal::new(μ, σ).iid(n)` over data `μ`, `σ`: the values are the unconstrained
    /// coordinates themselves, `-½ Σ ((xⱼ - μ)/σ)²` and its gradient in one plain `f64`
    /// loop, `n (-ln σ - ln √(2π))` in the model's cached constant.
    pub(super) fn normal_latent_vector(
        &mut self,
        ident: &Ident,
        (loc, scale): (&Expr, &Expr),
        len: &Expr,
        out: &mut Emitted,
    ) -> Outcome<()> {
        let (mut loc, mut scale) = (loc.clone(), scale.clone());
        Unwrap { sites: self.sites }.visit_expr_mut(&mut loc);
        Unwrap { sites: self.sites }.visit_expr_mut(&mut scale);
        if ![&loc, &scale, len].into_iter().all(pure) {
            return Err(
                "a latent normal vector whose data arguments may change as they are read".into(),
            );
        }
        let codegen = quote!(::tilde::__private::codegen);
        let n = self.fresh("n");
        let constant = self.data_term(quote!(#codegen::normal_iid_constant(#scale, #n)), true);
        self.coordinates_vector(ident, &n, quote!(#len), out, |x, grad| {
            quote! {
                __target += #codegen::normal_latent_iid(#loc, #scale, #x, #grad);
                #constant
            }
        });
        Ok(())
    }

    /// A Gaussian over a data matrix factored at construction, with a data mean: its
    /// values are the unconstrained coordinates, its log-density and gradient one
    /// matrix-vector product (`MultivariateNormal::ln_pdf_and_grad_prepared`).
    pub(super) fn factored_mvn_vector(
        &mut self,
        ident: &Ident,
        site: &Site,
        out: &mut Emitted,
    ) -> Outcome<()> {
        let (n, dist) = (self.fresh("n"), self.fresh("mvn"));
        let mut value = site.value.clone();
        Unwrap { sites: self.sites }.visit_expr_mut(&mut value);
        out.forward.extend(quote! {
            let #dist: ::tilde::MultivariateNormal<f64, _, _> = #value;
        });
        let len = quote!(::tilde::VectorDistribution::len(&#dist));
        self.coordinates_vector(
            ident,
            &n,
            len,
            out,
            |x, grad| quote!(__target += #dist.ln_pdf_and_grad_prepared(#x, #grad)?;),
        );
        Ok(())
    }

    /// A latent vector site whose values are its `n = len` unconstrained coordinates
    /// (no transform): claims them, binds `ident` to them, runs `density(x, grad)` (code
    /// adding the site's log-density to the target and its gradient to `grad`, the
    /// coordinates' slice of the gradient), and adds the adjoints the body's uses of
    /// the values gather to the gradient in the reverse pass.
    fn coordinates_vector(
        &mut self,
        ident: &Ident,
        n: &Ident,
        len: TokenStream,
        out: &mut Emitted,
        density: impl FnOnce(TokenStream, TokenStream) -> TokenStream,
    ) {
        let (adjoint, offset) = (adjoint_of(&ident.to_string()), self.fresh("o"));
        self.vectors.push(adjoint.clone());
        let density = density(
            quote!(&__x[#offset..#offset + #n]),
            quote!(&mut __grad[#offset..#offset + #n]),
        );
        out.forward.extend(quote! {
            let #n: usize = #len;
            if __pos + #n > __x.len() {
                return ::core::option::Option::None;
            }
            let #offset: usize = __pos;
            __pos += #n;
            #[allow(unused_mut)]
            let mut #adjoint = __pool.take(#n);
            #density
            let #ident: &[f64] = &__x[#offset..#offset + #n];
        });
        out.reverse.push(quote! {
            for (__g, __a) in __grad[#offset..#offset + #n].iter_mut().zip(&#adjoint) {
                *__g += __a;
            }
        });
    }

    /// An observed `Glm::normal|bernoulli_logit|poisson_log(x, β, α[, σ])` site over a
    /// data matrix `x`: its log-density and partials from one pass over the rows
    /// (`Glm::ln_pdf_obs_and_grad`), added to the adjoints as the term runs. `β` is data,
    /// a latent vector site or an array of scalars (`&[b₀, v[0]]`: scalars, elements of
    /// latent vectors at data indices, data); `α`, `σ` and those scalars data or
    /// scalars that are never reassigned.
    fn glm_site(&mut self, dist: &Expr, obs: &Expr, out: &mut Emitted) -> Outcome<()> {
        let Expr::Call(call) = dist else {
            return Err("a `Glm` site that is not a constructor call".into());
        };
        let method = crate::parse::call_segments(dist)
            .and_then(|s| s.last().cloned())
            .unwrap_or_default();
        let arity = match method.as_str() {
            "normal" => 4,
            "bernoulli_logit" | "poisson_log" => 3,
            _ => return Err(format!("`Glm::{method}`")),
        };
        if call.args.len() != arity {
            return Err(format!(
                "`Glm::{method}` with {} arguments",
                call.args.len()
            ));
        }
        let args: Vec<&Expr> = call.args.iter().collect();
        if self.mentions_active(args[0]) || self.mentions_active(obs) {
            return Err("a `Glm` site over a parameter-dependent matrix or observation".into());
        }
        // the adjoint of an argument, `None` for data
        let adjoint = |arg: &Expr, kind: Kind| -> Outcome<Option<Ident>> {
            if !self.mentions_active(arg) {
                return Ok(None);
            }
            match ident_of(arg) {
                Some(name)
                    if self.active.get(&name) == Some(&kind)
                        && (kind == Kind::Vector
                            || (self.top.contains(&name) && !self.reassigned.contains(&name))) =>
                {
                    Ok(Some(adjoint_of(&name)))
                }
                _ => Err("a `Glm` argument computed from parameters".into()),
            }
        };
        // `β` as a latent vector, data, or an array of scalars (`&[b₀, b₁]`, each a
        // scalar parameter or data) whose partials go to the scalars' adjoints
        let coefficients = match strip_parens(args[1]) {
            Expr::Reference(r) if r.mutability.is_none() => match &*r.expr {
                Expr::Array(a) if self.mentions_active(args[1]) => Some(a),
                _ => None,
            },
            _ => None,
        };
        let (beta, declare_beta, add_beta) = match coefficients {
            Some(array) => {
                let partials = format_ident!("__gb");
                let k = array.elems.len();
                let mut adds = Vec::new();
                for (j, element) in array.elems.iter().enumerate() {
                    // an element of a latent vector at an index of data
                    if let Expr::Index(i) = strip_parens(element)
                        && let Some(name) = ident_of(&i.expr)
                        && self.active.get(&name) == Some(&Kind::Vector)
                        && !self.mentions_active(&i.index)
                        && pure(&i.index)
                    {
                        let (a, index) = (adjoint_of(&name), &i.index);
                        adds.push(quote!(#a[#index] += #partials[#j];));
                    } else if let Some(a) = adjoint(element, Kind::Scalar)? {
                        adds.push(quote!(#a += #partials[#j];));
                    }
                }
                (
                    quote!(&mut #partials[..]),
                    quote!(let mut #partials = [0.0f64; #k];),
                    quote!(#(#adds)*),
                )
            }
            None => match adjoint(args[1], Kind::Vector)? {
                Some(a) => (quote!(&mut #a[..]), quote!(), quote!()),
                None => (quote!(&mut []), quote!(), quote!()),
            },
        };
        let add = |arg: Option<&Expr>, partial: &Ident| -> Outcome<TokenStream> {
            Ok(
                match arg.map(|a| adjoint(a, Kind::Scalar)).transpose()?.flatten() {
                    Some(a) => quote!(#a += #partial;),
                    None => quote!(),
                },
            )
        };
        let (intercept, scale) = (format_ident!("__gi"), format_ident!("__gs"));
        let add_intercept = add(Some(args[2]), &intercept)?;
        let add_scale = add(args.get(3).copied(), &scale)?;
        let (mut dist, mut obs) = (dist.clone(), obs.clone());
        Unwrap { sites: self.sites }.visit_expr_mut(&mut dist);
        Unwrap { sites: self.sites }.visit_expr_mut(&mut obs);
        out.forward.extend(quote! {{
            let (mut #intercept, mut #scale): (f64, f64) = (0.0, 0.0);
            #declare_beta
            __target += ::tilde::__private::codegen::glm(
                &#dist,
                #obs,
                &mut #intercept,
                #beta,
                &mut #scale,
            )?;
            #add_intercept
            #add_scale
            #add_beta
        }});
        Ok(())
    }

    /// The forward code of a data-only term of the log-density: added to the model's
    /// cached constant when the statement runs at every evaluation (outside branches on
    /// parameters), else to the target each time.
    pub(super) fn data_term(&mut self, term: TokenStream, pure: bool) -> TokenStream {
        if self.active_branches > 0 || !pure {
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
    pub(super) fn term(&mut self, site: &Site, mode: Mode, out: &mut Emitted) -> Outcome<()> {
        let value = match site.kind {
            SiteMacro::Sample => {
                let Some(obs) = &site.obs else {
                    // a latent site whose value is not used: bound to a name of its own
                    let ident = self.fresh("unused");
                    if is_latent_vector(&site.value) {
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
                if family(dist).as_deref() == Some("Glm") {
                    return self.glm_site(dist, obs, out);
                }
                let analysed = |d: &Expr| {
                    family(d).is_some_and(|f| {
                        CONTINUOUS.contains(&f.as_str()) || DISCRETE.contains(&f.as_str())
                    })
                };
                let inner = iid(dist).map_or(dist, |(inner, _)| inner);
                // a truncated family: its log-density and normaliser on forward duals
                let inner = truncated(inner).unwrap_or(inner);
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
                let mut obs = obs.clone();
                Unwrap { sites: self.sites }.visit_expr_mut(&mut obs);
                (dist.clone(), Some(obs))
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
                    let pure = pure_distribution(&expr) && pure(obs);
                    let term = quote!(::tilde::__private::codegen::observed_data(#expr, #obs)?);
                    self.data_term(term, pure)
                }
                None => quote!(__target += ::core::convert::Into::<f64>::into(#expr);),
            };
            out.forward.extend(code);
            return Ok(());
        }
        // an observed site of a family written out: its parameter-dependent part in
        // plain `f64`, its data-only part once per model
        // (only over arguments that give the same value however often they are read: the
        // data ones are read in both parts, the data part once per model)
        let mut split = None;
        if let Some(obs) = obs.as_ref().filter(|o| pure(o) && pure_distribution(&expr)) {
            let y = self.fresh("y");
            let mut unwrapped = expr.clone();
            Unwrap { sites: self.sites }.visit_expr_mut(&mut unwrapped);
            let is_active = |e: &Expr| self.mentions_active(e);
            if let (Some(written), Some(data)) = (
                observed::split(&expr, &y, is_active),
                observed::split(&unwrapped, &y, is_active),
            ) {
                let value = quote!(let #y: f64 = ::tilde::__private::codegen::obs_value(#obs););
                let constant = self.data_term(data.constant, true);
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
    pub(super) fn later_updates(
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
}
