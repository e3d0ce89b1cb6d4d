//! syn → [`ast::Model`]: the signature's data arguments and the body, whose site macros
//! are parsed and replaced by placeholders.

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, FnArg, Ident, Lifetime, Pat, Stmt, Token, Type};

use crate::ast::{Arg, Attrs, Model, Site, SiteMacro};

/// The placeholder macro that stands for site `k` between parse and expand.
pub const PLACEHOLDER: &str = "__tilde_site";

/// Parses the attribute's arguments and the function.
pub fn parse(args: TokenStream, input: TokenStream) -> syn::Result<Model> {
    let mut errors = Vec::new();
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
            &args,
            "`#[model]` takes no arguments: write `#[model]`",
        ));
    }
    let func: syn::ItemFn = syn::parse2(input)?;

    let declared: Vec<Lifetime> = func
        .sig
        .generics
        .lifetimes()
        .map(|l| l.lifetime.clone())
        .collect();
    let anon_name = if declared.iter().any(|l| l.ident == "a") {
        "'__a"
    } else {
        "'a"
    };
    let mut namer = ElidedLifetimes {
        name: Lifetime::new(anon_name, Span::call_site()),
        used: false,
    };

    let mut args = Vec::new();
    for input in &func.sig.inputs {
        let FnArg::Typed(typed) = input else { continue };
        let Pat::Ident(pat) = &*typed.pat else {
            continue;
        };
        let mut ty = (*typed.ty).clone();
        namer.visit_type_mut(&mut ty);
        args.push(Arg {
            ident: pat.ident.clone(),
            ty,
        });
    }
    let mut lifetimes = declared;
    if namer.used {
        lifetimes.push(namer.name.clone());
    }

    let mut rewriter = Rewriter {
        sites: Vec::new(),
        loops: Vec::new(),
        closure: None,
        errors: Vec::new(),
    };
    let mut body = (*func.block).clone();
    rewriter.visit_block_mut(&mut body);
    errors.extend(rewriter.errors);
    let mut hoisted = crate::hoist::hoist(&mut body, &rewriter.sites);
    crate::hoist::hoist_factors(&mut body, &mut rewriter.sites, &args, &mut hoisted);

    let attrs = attributes(&func, &mut errors);

    Ok(Model {
        attrs,
        vis: func.vis.clone(),
        ident: func.sig.ident.clone(),
        args,
        lifetimes,
        body,
        sites: rewriter.sites,
        errors,
        hoisted,
        original: func,
    })
}

/// The derives the model struct takes: what its hidden fields (layout, faults, engine)
/// implement.
const DERIVES: &[&str] = &["Clone", "Debug", "PartialEq"];

/// Sorts the function's attributes by the items they go to; an attribute with no place
/// is an error rather than dropped.
fn attributes(func: &syn::ItemFn, errors: &mut Vec<syn::Error>) -> Attrs {
    let mut out = Attrs::default();
    let struct_name = crate::expand::upper_camel(&func.sig.ident);
    for attr in &func.attrs {
        let path = attr.path();
        let name = path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        match name.as_str() {
            "doc" => out.docs.push(attr.clone()),
            "allow" | "expect" | "warn" | "deny" | "forbid" | "deprecated" | "must_use"
            | "inline" | "cold" => out.constructor.push(attr.clone()),
            "cfg" | "cfg_attr" => out.every.push(attr.clone()),
            "derive" => {
                let parsed = attr.parse_args_with(
                    Punctuated::<syn::Path, Token![,]>::parse_terminated,
                );
                match parsed {
                    Ok(paths) => {
                        for path in paths {
                            let last = path
                                .segments
                                .last()
                                .map(|s| s.ident.to_string())
                                .unwrap_or_default();
                            if DERIVES.contains(&last.as_str()) {
                                out.derives.push(path);
                            } else {
                                errors.push(syn::Error::new_spanned(
                                    &path,
                                    format!(
                                        "`#[model]` cannot derive `{last}` for `{struct_name}`, which holds the model's layout beside its data: derive `Clone`, `Debug` or `PartialEq` (the struct implements `Clone` and `Debug` already when its data do), or implement `{last}` by hand on `{struct_name}`"
                                    ),
                                ));
                            }
                        }
                    }
                    Err(e) => errors.push(e),
                }
            }
            _ => errors.push(syn::Error::new_spanned(
                attr,
                format!(
                    "`#[model]` does not know where this attribute goes: the function becomes the struct `{struct_name}` and its constructors; `#[model]` keeps docs, lint attributes, `deprecated`, `must_use`, `inline`, `cfg` and `derive`; move this one to a function that calls the constructor"
                ),
            )),
        }
    }
    out
}

/// Names every elided lifetime of an argument type, so it can be a struct field.
struct ElidedLifetimes {
    name: Lifetime,
    used: bool,
}

impl VisitMut for ElidedLifetimes {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        if r.lifetime.is_none() {
            r.lifetime = Some(self.name.clone());
            self.used = true;
        }
        visit_mut::visit_type_reference_mut(self, r);
    }

    fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
        if l.ident == "_" {
            *l = self.name.clone();
            self.used = true;
        }
    }
}

/// Finds the site macros in a body, records where they sit, and swaps in placeholders.
struct Rewriter {
    sites: Vec<Site>,
    loops: Vec<Vec<Ident>>,
    closure: Option<Span>,
    errors: Vec<syn::Error>,
}

fn site_macro(mac: &syn::Macro) -> Option<SiteMacro> {
    let last = mac.path.segments.last()?;
    match last.ident.to_string().as_str() {
        "sample" => Some(SiteMacro::Sample),
        "deterministic" => Some(SiteMacro::Deterministic),
        "factor" => Some(SiteMacro::Factor),
        _ => None,
    }
}

fn pattern_idents(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                pattern_idents(sub, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| pattern_idents(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| pattern_idents(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| pattern_idents(&f.pat, out)),
        Pat::Reference(r) => pattern_idents(&r.pat, out),
        Pat::Paren(p) => pattern_idents(&p.pat, out),
        Pat::Slice(s) => s.elems.iter().for_each(|p| pattern_idents(p, out)),
        Pat::Type(t) => pattern_idents(&t.pat, out),
        _ => {}
    }
}

impl Rewriter {
    /// Parses one site macro and returns the placeholder that replaces it.
    fn site(&mut self, kind: SiteMacro, mac: &syn::Macro) -> Expr {
        let parsed = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated);
        let args = match parsed {
            Ok(args) => args,
            Err(e) => {
                self.errors.push(e);
                return syn::parse_quote!(());
            }
        };
        let macro_span = mac.path.span();
        let mut args = args.into_iter();
        let usage = match kind {
            SiteMacro::Sample => {
                "`sample!(\"name\", dist)` or `sample!(\"name\", dist, obs = value)`"
            }
            SiteMacro::Deterministic => "`deterministic!(\"name\", value)`",
            SiteMacro::Factor => "`factor!(\"name\", log_density_term)`",
        };
        let Some(name_expr) = args.next() else {
            self.errors.push(syn::Error::new(
                macro_span,
                format!("missing site name: write {usage}"),
            ));
            return syn::parse_quote!(());
        };
        let name = match &name_expr {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.clone()),
            other => {
                self.errors.push(syn::Error::new_spanned(
                    other,
                    "a site name must be a string literal: write `\"mu\"`, or `\"x[{i}]\"` inside a loop",
                ));
                None
            }
        };
        let Some(mut value) = args.next() else {
            let what = if kind == SiteMacro::Sample {
                "a distribution"
            } else {
                "a value"
            };
            self.errors.push(syn::Error::new_spanned(
                &name_expr,
                format!("`{}!` needs {what}: write {usage}", kind.name()),
            ));
            return syn::parse_quote!(());
        };
        let mut obs: Option<Expr> = None;
        let mut enumerate: Option<Span> = None;
        for extra in args {
            if kind != SiteMacro::Sample {
                self.errors.push(syn::Error::new_spanned(
                    &extra,
                    format!("unexpected argument: write {usage}"),
                ));
                continue;
            }
            match extra {
                Expr::Assign(assign) if is_obs(&assign.left) => {
                    if obs.is_some() {
                        self.errors.push(syn::Error::new_spanned(
                            &assign,
                            "`obs` is given twice: a site observes one value (use `dist.iid(n)` with `obs = &y` for a vector)",
                        ));
                    } else {
                        obs = Some(*assign.right);
                    }
                }
                Expr::Assign(assign) => self.errors.push(syn::Error::new_spanned(
                    &assign.left,
                    "unknown option: `sample!` takes `obs = value` or `enumerate`",
                )),
                Expr::Path(p) if p.path.is_ident("enumerate") => {
                    if enumerate.is_some() {
                        self.errors.push(syn::Error::new_spanned(
                            &p,
                            "`enumerate` is given twice: write it once",
                        ));
                    } else {
                        enumerate = Some(p.span());
                    }
                }
                Expr::Path(p) if p.path.is_ident("obs") => self.errors.push(
                    syn::Error::new_spanned(p, "`obs` needs a value: write `obs = y`"),
                ),
                other => self.errors.push(syn::Error::new_spanned(
                    other,
                    "expected `obs = value` or `enumerate` after the distribution",
                )),
            }
        }
        if let (Some(span), Some(_)) = (enumerate, &obs) {
            self.errors.push(syn::Error::new(
                span,
                "an observed site is not enumerated: `enumerate` sums a latent site out; remove `enumerate` or `obs`",
            ));
            enumerate = None;
        }
        // Site macros nested in the arguments are sites too.
        self.visit_expr_mut(&mut value);
        if let Some(o) = &mut obs {
            self.visit_expr_mut(o);
        }
        let index = self.sites.len();
        self.sites.push(Site {
            kind,
            name,
            name_span: name_expr.span(),
            value,
            obs,
            enumerate,
            loops: self.loops.clone(),
            in_closure: self.closure,
        });
        let placeholder = Ident::new(PLACEHOLDER, Span::call_site());
        syn::parse_quote!(#placeholder!(#index))
    }
}

fn is_obs(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(p) if p.path.is_ident("obs"))
}

impl VisitMut for Rewriter {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Macro(m) => {
                if let Some(kind) = site_macro(&m.mac) {
                    *expr = self.site(kind, &m.mac.clone());
                }
            }
            Expr::Return(r) if self.closure.is_none() => {
                if let Some(value) = &r.expr {
                    self.errors.push(syn::Error::new_spanned(
                        value,
                        "a `#[model]` body returns nothing: write `return;`",
                    ));
                } else {
                    let span = r.return_token.span;
                    *expr = syn::parse_quote_spanned!(span=> return ::core::result::Result::Ok(()));
                }
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        if let Stmt::Macro(m) = stmt
            && let Some(kind) = site_macro(&m.mac)
        {
            let placeholder = self.site(kind, &m.mac.clone());
            *stmt = Stmt::Expr(placeholder, m.semi_token.or(Some(Default::default())));
            return;
        }
        visit_mut::visit_stmt_mut(self, stmt);
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut f.expr);
        let mut vars = Vec::new();
        pattern_idents(&f.pat, &mut vars);
        self.loops.push(vars);
        self.visit_block_mut(&mut f.body);
        self.loops.pop();
    }

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        let outer = self.closure.replace(c.or1_token.span);
        visit_mut::visit_expr_closure_mut(self, c);
        self.closure = outer;
    }

    fn visit_item_mut(&mut self, _item: &mut syn::Item) {
        // A nested item is not part of the model: its site macros stay unexpanded and
        // report that they are outside a `#[model]`.
    }
}

/// The path segments of the function a call `a::b::c(..)` names (`["a", "b", "c"]`).
pub fn call_segments(expr: &syn::Expr) -> Option<Vec<String>> {
    let syn::Expr::Call(call) = expr else {
        return None;
    };
    let syn::Expr::Path(path) = &*call.func else {
        return None;
    };
    Some(
        path.path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect(),
    )
}

/// `true` for types whose values are copied into the body rather than borrowed.
pub fn is_copied(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) => true,
        Type::Path(p) if p.qself.is_none() => p.path.get_ident().is_some_and(|id| {
            matches!(
                id.to_string().as_str(),
                "f64"
                    | "f32"
                    | "usize"
                    | "isize"
                    | "u8"
                    | "u16"
                    | "u32"
                    | "u64"
                    | "i8"
                    | "i16"
                    | "i32"
                    | "i64"
                    | "bool"
                    | "char"
            )
        }),
        _ => false,
    }
}

/// The tokens of a placeholder's index, for expand to read back.
pub fn placeholder_index(mac: &syn::Macro) -> Option<usize> {
    if !mac.path.is_ident(PLACEHOLDER) {
        return None;
    }
    let lit: syn::LitInt = syn::parse2(mac.tokens.clone()).ok()?;
    lit.base10_parse().ok()
}
