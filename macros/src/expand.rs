//! Code generation: the model struct, its constructor and its trait implementations.
//! Everything here is `quote!`; nothing fails.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident};

use crate::ast::{Model, Site, SiteMacro};
use crate::check::Checked;
use crate::parse::{is_copied, placeholder_index};

/// `eight_schools` → `EightSchools`.
pub fn upper_camel(ident: &Ident) -> Ident {
    let mut out = String::new();
    for part in ident.to_string().split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    format_ident!("{}", out, span = ident.span())
}

/// The code of one site, which replaces its placeholder.
fn site_code(site: &Site) -> Expr {
    let span = site.name_span;
    let name = match &site.name {
        Some(lit) => quote_spanned!(span=> || ::std::format!(#lit)),
        None => quote_spanned!(span=> || ::std::string::String::new()),
    };
    let value = &site.value;
    // `match` rather than `let`: temporaries in the arguments (`Glm::normal(x, &[beta],
    // ..)`) live to the end of the site, as they would in a plain call
    let tokens = match (site.kind, &site.obs) {
        (SiteMacro::Sample, None) => quote_spanned! {span=>
            match #value {
                __tilde_dist => __tilde_ctx.sample(#name, __tilde_dist)?,
            }
        },
        (SiteMacro::Sample, Some(obs)) => quote_spanned! {span=>
            match (#value, #obs) {
                (__tilde_dist, __tilde_obs) => __tilde_ctx.observe(#name, __tilde_dist, __tilde_obs)?,
            }
        },
        (SiteMacro::Deterministic, _) => quote_spanned! {span=>
            {
                let __tilde_value = #value;
                __tilde_ctx.deterministic(#name, &__tilde_value)?;
                __tilde_value
            }
        },
        (SiteMacro::Factor, _) => quote_spanned! {span=>
            match #value {
                __tilde_value => __tilde_ctx.factor(#name, __tilde_value)?,
            }
        },
    };
    syn::parse_quote!(#tokens)
}

/// Replaces the placeholders of parse with the sites' code.
struct Fill<'m> {
    sites: &'m [Site],
}

impl VisitMut for Fill<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Macro(m) = expr
            && let Some(site) = placeholder_index(&m.mac).and_then(|i| self.sites.get(i))
        {
            let mut code = site_code(site);
            // the site's own arguments hold placeholders of nested sites
            visit_mut::visit_expr_mut(self, &mut code);
            *expr = code;
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_stmt_mut(&mut self, stmt: &mut syn::Stmt) {
        // a placeholder statement re-parsed from tokens (a region of `enumerate`) is a
        // macro statement
        if let syn::Stmt::Macro(m) = stmt
            && placeholder_index(&m.mac).is_some()
        {
            let mut expr = Expr::Macro(syn::ExprMacro {
                attrs: m.attrs.clone(),
                mac: m.mac.clone(),
            });
            self.visit_expr_mut(&mut expr);
            *stmt = syn::Stmt::Expr(expr, Some(m.semi_token.unwrap_or_default()));
            return;
        }
        visit_mut::visit_stmt_mut(self, stmt);
    }
}

/// Writes each binary `+ - * / %` as a call of `tilde::__private::ops`, so that plain
/// `f64` arithmetic type-checks beside the body's `where f64: F64Ops<T>` bound (see
/// `tilde_core::ops`).
///
/// A float literal the arithmetic reads (`1.0 + c * 0.5`), or an untyped `let` binds
/// (`let c = 2.0;`), is written as an `f64` literal: an operand whose type is still
/// open meets that bound first and would be taken for `T`.
struct OperatorCalls;

/// `e` with an unsuffixed float literal (under parentheses and minus signs) written as
/// an `f64` literal.
fn f64_literal(e: &mut Expr) {
    match e {
        Expr::Paren(p) => f64_literal(&mut p.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => f64_literal(&mut u.expr),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) if f.suffix().is_empty() => {
            if let Ok(value) = f.base10_parse::<f64>() {
                let mut typed = proc_macro2::Literal::f64_suffixed(value);
                typed.set_span(f.span());
                *f = syn::LitFloat::from(typed);
            }
        }
        _ => {}
    }
}

impl VisitMut for OperatorCalls {
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        visit_mut::visit_local_mut(self, local);
        if let (syn::Pat::Ident(_), Some(init)) = (&local.pat, &mut local.init) {
            f64_literal(&mut init.expr);
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Binary(binary) = expr {
            let function = match binary.op {
                syn::BinOp::Add(_) => "add",
                syn::BinOp::Sub(_) => "sub",
                syn::BinOp::Mul(_) => "mul",
                syn::BinOp::Div(_) => "div",
                syn::BinOp::Rem(_) => "rem",
                _ => return,
            };
            f64_literal(&mut binary.left);
            f64_literal(&mut binary.right);
            let function = Ident::new(function, proc_macro2::Span::mixed_site());
            let (left, right) = (&binary.left, &binary.right);
            let span = syn::spanned::Spanned::span(&binary.op);
            *expr = syn::parse_quote_spanned! {span=>
                { let __tilde_l = #left; let __tilde_r = #right; ::tilde::__private::ops::#function((__tilde_r, __tilde_l)) }
            };
        }
    }

    /// The arguments of the standard macros that take expressions (`vec![y[0] * 2.0; n]`,
    /// `assert!(…)`, `format!(…)`, …), when they parse as expressions.
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        const STANDARD: &[&str] = &[
            "vec",
            "assert",
            "assert_eq",
            "assert_ne",
            "debug_assert",
            "debug_assert_eq",
            "debug_assert_ne",
            "format",
            "print",
            "println",
            "eprint",
            "eprintln",
            "panic",
        ];
        if !STANDARD.iter().any(|m| mac.path.is_ident(m)) {
            return;
        }
        type Args = syn::punctuated::Punctuated<Expr, syn::Token![,]>;
        if mac.path.is_ident("vec")
            && let Some((mut value, mut len)) = crate::ast::vec_repeat(&mac.tokens)
        {
            self.visit_expr_mut(&mut value);
            self.visit_expr_mut(&mut len);
            mac.tokens = quote!(#value; #len);
        } else if let Ok(mut args) =
            syn::parse::Parser::parse2(Args::parse_terminated, mac.tokens.clone())
        {
            for arg in args.iter_mut() {
                self.visit_expr_mut(arg);
            }
            mac.tokens = quote!(#args);
        }
    }

    // patterns (`1..=3` ranges in `match`) and types (`[f64; 2 * N]`) stay as written
    fn visit_pat_mut(&mut self, _: &mut syn::Pat) {}
    fn visit_type_mut(&mut self, _: &mut syn::Type) {}
}

/// The whole expansion. After errors, the struct and its impls are still emitted (with
/// an empty body) so that code using the model reports no secondary errors; a signature
/// that cannot become a struct is re-emitted as a plain function instead.
pub fn expand(model: &Model, checked: Checked) -> TokenStream {
    let errors: TokenStream = checked
        .errors
        .iter()
        .map(syn::Error::to_compile_error)
        .collect();
    if checked.bad_signature {
        let mut original = model.original.clone();
        // a derive on a function is an error of its own
        original.attrs.retain(|a| !a.path().is_ident("derive"));
        original.block = syn::parse_quote!({ ::core::panic!("this `#[model]` did not compile") });
        return quote!(#errors #[allow(unused_variables)] #original);
    }

    let Model {
        attrs,
        vis,
        ident,
        args,
        lifetimes,
        ..
    } = model;
    let struct_ident = upper_camel(ident);
    let generics = if lifetimes.is_empty() {
        quote!()
    } else {
        quote!(<#(#lifetimes),*>)
    };
    // the struct's lifetimes, before another generic parameter
    let lifetimes_before = quote!(#(#lifetimes,)*);
    let arg_idents: Vec<&Ident> = args.iter().map(|a| &a.ident).collect();
    let arg_types: Vec<&syn::Type> = args.iter().map(|a| &a.ty).collect();
    let bindings = args.iter().map(|a| {
        let id = &a.ident;
        if is_copied(&a.ty) {
            quote!(let #id = self.#id;)
        } else {
            quote!(let #id = &self.#id;)
        }
    });

    let body = if checked.errors.is_empty() {
        let mut block = model.body.clone();
        crate::enumerate::restructure(&mut block, &model.sites);
        Fill {
            sites: &model.sites,
        }
        .visit_block_mut(&mut block);
        OperatorCalls.visit_block_mut(&mut block);
        let stmts = &block.stmts;
        quote!(#[allow(unreachable_code)] { #(#stmts)* })
    } else {
        quote!()
    };

    // the generated gradient, or why there is none
    let codegen = if !checked.errors.is_empty() {
        Err("the model did not compile".to_string())
    } else if crate::enumerate::has_enumerated(model) {
        // the log-sum-exp over an enumerated site's branches is the tape's
        Err("the model enumerates a discrete site (`enumerate`), which the generated code does not sum out".to_string())
    } else {
        crate::adjoint::generate(model)
    };
    let bindings: Vec<TokenStream> = bindings.collect();
    let (generated, status) = match codegen {
        Ok((code, has_loop)) => (
            quote! {
                #[allow(unused_variables, unused_mut, unused_braces, unused_parens, non_snake_case, clippy::all)]
                fn generated_logp_and_grad(
                    &self,
                    __x: &[f64],
                    __grad: &mut [f64],
                    __jacobian: bool,
                ) -> ::core::option::Option<f64> {
                    #(#bindings)*
                    ::tilde::__private::codegen::with_pool(|__pool| { #code })
                }

                fn codegen_unsupported(&self) -> ::core::option::Option<&'static str> {
                    ::core::option::Option::None
                }

                fn prefers_generated(&self) -> bool {
                    #has_loop
                }
            },
            "compile-time generated gradient code (`Engine::Codegen`)".to_string(),
        ),
        Err(reason) => {
            let text = format!("`#[model]` generated no gradient code: {reason}");
            (
                quote! {
                    fn codegen_unsupported(&self) -> ::core::option::Option<&'static str> {
                        ::core::option::Option::Some(#text)
                    }
                },
                text,
            )
        }
    };
    let engine_doc = format!("The gradient engine of `Engine::Auto` for this model: {status}.");

    let doc = format!(
        "The model built by [`{ident}`]: its data, layout and log-density.\n\n\
         It is `Clone` and `Debug` when its data are (a clone is an independent model)."
    );
    // data computed once, at construction (none after an error: the body is not emitted)
    let hoisted: &[crate::ast::Hoisted] = if checked.errors.is_empty() {
        &model.hoisted
    } else {
        &[]
    };
    let data_fields: Vec<&Ident> = hoisted.iter().map(|h| &h.field).collect();
    let data_types: Vec<&syn::Type> = hoisted.iter().map(|h| &h.ty).collect();
    let data_names = hoisted.iter().map(|h| h.ident.to_string());
    let compute = crate::hoist::compute(hoisted, args);
    let try_ident = format_ident!("try_{}", ident);
    let model_name = ident.to_string();
    let every = &attrs.every;
    let constructor_attrs = &attrs.constructor;
    let deprecated = attrs
        .constructor
        .iter()
        .filter(|a| a.path().is_ident("deprecated"));
    let docs = if attrs.docs.is_empty() {
        let line = format!("Builds the model [`{struct_ident}`] from its data.");
        quote!(#[doc = #line])
    } else {
        let docs = &attrs.docs;
        quote!(#(#docs)*)
    };
    let panics_doc = format!(
        "# Panics\n\
         When the body panics while the model is built: the constructor runs it once, at a \
         point of zeros, to lay out its sites (an index out of range of the data panics \
         here). Faults in the data (non-finite observations, `obs` lengths that differ from \
         `.iid(n)`) do not panic: `check()` reports them. [`{try_ident}`] returns both as \
         a `tilde::Error`."
    );
    let try_doc = format!(
        "Builds the model like [`{ident}`], or says why it cannot be used.\n\n\
         # Errors\n\
         `tilde::Error::ModelPanicked` (naming `{ident}`) when the body panics while the \
         model is built, an index out of range of the data say (the panic hook still \
         prints the panic; with `panic = \"abort\"` it aborts); otherwise the first fault \
         found in the data, what `check()` would report (`tilde::Error::NonFiniteData`, \
         `tilde::Error::ObsLength`, …)."
    );
    // which kernels may sample the model: any, unless it has discrete latent sites
    let has_discrete = model.sites.iter().any(crate::discrete::is_discrete_latent);
    let kernel_impls = if has_discrete {
        quote! {
            #(#every)*
            #[diagnostic::do_not_recommend]
            impl<#lifetimes_before __TildeK: ?::core::marker::Sized + ::tilde::SamplesDiscrete> ::tilde::SampledBy<__TildeK> for #struct_ident #generics {}
        }
    } else {
        quote! {
            #(#every)*
            impl<#lifetimes_before __TildeK: ?::core::marker::Sized> ::tilde::SampledBy<__TildeK> for #struct_ident #generics {}

            #(#every)*
            impl #generics ::tilde::ContinuousModel for #struct_ident #generics {}
        }
    };

    let derived = |name: &str| {
        attrs
            .derives
            .iter()
            .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
    };
    let derives = &attrs.derives;
    let derive_attr = if derives.is_empty() {
        quote!()
    } else {
        quote!(#[derive(#(#derives),*)])
    };
    // `for<'__x>` keeps a bound on a concrete type from being a (rejected) trivial bound
    // when it does not hold: the impl then just does not apply
    let clone_impl = (!derived("Clone")).then(|| {
        quote! {
            #(#every)*
            impl #generics ::core::clone::Clone for #struct_ident #generics
            where
                #(for<'__tilde_x> #arg_types: ::core::clone::Clone,)*
                #(for<'__tilde_x> #data_types: ::core::clone::Clone,)*
            {
                fn clone(&self) -> Self {
                    #struct_ident {
                        #(#arg_idents: ::core::clone::Clone::clone(&self.#arg_idents),)*
                        #(#data_fields: ::core::clone::Clone::clone(&self.#data_fields),)*
                        __tilde_state: ::core::clone::Clone::clone(&self.__tilde_state),
                    }
                }
            }
        }
    });
    let debug_impl = (!derived("Debug")).then(|| {
        let struct_name = struct_ident.to_string();
        let arg_names = arg_idents.iter().map(|i| i.to_string());
        quote! {
            #(#every)*
            impl #generics ::core::fmt::Debug for #struct_ident #generics
            where
                #(for<'__tilde_x> #arg_types: ::core::fmt::Debug,)*
                #(for<'__tilde_x> #data_types: ::core::fmt::Debug,)*
            {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#struct_name)
                        #(.field(#arg_names, &self.#arg_idents))*
                        #(.field(#data_names, &self.#data_fields))*
                        .field("layout", &self.__tilde_state.layout)
                        .finish_non_exhaustive()
                }
            }
        }
    });
    quote! {
        #errors

        #(#every)*
        #[doc = #doc]
        #derive_attr
        #vis struct #struct_ident #generics {
            #(#arg_idents: #arg_types,)*
            #(#data_fields: #data_types,)*
            __tilde_state: ::tilde::__private::ModelState,
        }

        #clone_impl
        #debug_impl
        #kernel_impls

        #(#every)*
        #docs
        #[doc = ""]
        #[doc = #panics_doc]
        #(#constructor_attrs)*
        #vis fn #ident #generics (#(#arg_idents: #arg_types),*) -> #struct_ident #generics {
            #compute
            let mut model = #struct_ident {
                #(#arg_idents,)*
                #(#data_fields,)*
                __tilde_state: ::core::default::Default::default(),
            };
            model.__tilde_state = ::tilde::__private::discover(&model);
            model
        }

        #(#every)*
        #[doc = #try_doc]
        #(#deprecated)*
        #[allow(dead_code)]
        #vis fn #try_ident #generics (#(#arg_idents: #arg_types),*) -> ::tilde::Result<#struct_ident #generics> {
            ::tilde::__private::try_build(#model_name, move || #ident(#(#arg_idents),*))
        }

        #(#every)*
        impl #generics #struct_ident #generics {
            /// Chooses the gradient engine of `logp_and_grad` (default: `Engine::Auto`).
            #[allow(dead_code)]
            #vis fn with_engine(mut self, engine: ::tilde::Engine) -> Self {
                self.__tilde_state.engine = engine;
                self
            }

            /// Which gradient engine `logp_and_grad` runs, and why.
            #[doc = #engine_doc]
            #[allow(dead_code)]
            #vis fn gradient_engine(&self) -> ::std::string::String {
                ::tilde::__private::describe_engine(self)
            }
        }

        #(#every)*
        impl #generics ::tilde::__private::ModelBody for #struct_ident #generics {
            #[allow(unused_variables, unused_mut, unused_braces, unused_parens, non_snake_case, clippy::all)]
            fn body<T: ::tilde::Real>(
                &self,
                __tilde_ctx: &mut ::tilde::__private::Ctx<'_, T>,
            ) -> ::core::result::Result<(), ::tilde::__private::Stop>
            where
                f64: ::tilde::__private::F64Ops<T>,
            {
                #(#bindings)*
                #body
                ::core::result::Result::Ok(())
            }

            fn state(&self) -> &::tilde::__private::ModelState {
                &self.__tilde_state
            }

            #generated
        }

        #(#every)*
        impl #generics ::tilde::LogDensity for #struct_ident #generics {
            fn dim(&self) -> usize {
                self.__tilde_state.layout.dim()
            }
            fn logp(&self, x: &[f64]) -> f64 {
                ::tilde::__private::logp(self, x)
            }
            fn logp_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
                ::tilde::__private::logp_and_grad(self, x, grad)
            }
        }

        #(#every)*
        impl #generics ::tilde::Model for #struct_ident #generics {
            fn layout(&self) -> &::tilde::Layout {
                &self.__tilde_state.layout
            }
            fn constrain(&self, x: &[f64]) -> ::tilde::Draw {
                ::tilde::__private::constrain(self, x)
            }
            fn constrain_into(&self, x: &[f64], out: &mut ::std::vec::Vec<f64>) {
                ::tilde::__private::constrain_into(self, x, out)
            }
            fn log_joint_and_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
                ::tilde::__private::log_joint_and_grad(self, x, grad)
            }
            fn logp_breakdown(&self, x: &[f64]) -> ::std::vec::Vec<::tilde::SiteLogp> {
                ::tilde::__private::logp_breakdown(self, x)
            }
            fn check(&self) -> ::tilde::Result<()> {
                ::tilde::__private::check(self)
            }
            fn try_logp(&self, x: &[f64]) -> ::tilde::Result<f64> {
                ::tilde::__private::try_logp(self, x)
            }
            fn draw_prior(&self, rng: &mut dyn ::tilde::__private::Rng) -> ::tilde::Result<::std::vec::Vec<f64>> {
                ::tilde::__private::draw_prior(self, rng)
            }
            fn simulate(
                &self,
                rng: &mut dyn ::tilde::__private::Rng,
                fixed: ::core::option::Option<&[f64]>,
            ) -> ::tilde::Result<::tilde::Draw> {
                ::tilde::__private::simulate(self, rng, fixed)
            }
            fn pointwise_log_likelihood(
                &self,
                row: &[f64],
            ) -> ::tilde::Result<::std::vec::Vec<(::std::string::String, f64)>> {
                ::tilde::__private::pointwise_log_likelihood(self, row)
            }
            fn infer_discrete(
                &self,
                rng: &mut dyn ::tilde::__private::Rng,
                row: &[f64],
            ) -> ::tilde::Result<::tilde::Draw> {
                ::tilde::__private::infer_discrete(self, rng, row)
            }
        }
    }
}
