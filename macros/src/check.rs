//! Every validation of a `#[model]` function, with all errors collected.

use std::collections::HashMap;

use syn::spanned::Spanned;
use syn::{FnArg, GenericParam, Pat, ReturnType};

use crate::ast::{Model, SiteMacro};

/// The outcome of checking: the errors, and whether the signature itself is unusable.
pub struct Checked {
    /// Every error found, parse errors included.
    pub errors: Vec<syn::Error>,
    /// The function cannot become a struct (a method, generic, async or const fn, …).
    pub bad_signature: bool,
}

/// Checks the signature and every site.
pub fn check(model: &Model) -> Checked {
    let mut errors: Vec<syn::Error> = model.errors.clone();
    let bad_signature = check_signature(model, &mut errors);
    check_sites(model, &mut errors);
    crate::enumerate::check(model, &mut errors);
    Checked {
        errors,
        bad_signature,
    }
}

fn check_signature(model: &Model, errors: &mut Vec<syn::Error>) -> bool {
    let sig = &model.original.sig;
    let before = errors.len();
    let mut errors_spanned = Vec::new();
    let mut error =
        |span: proc_macro2::Span, message: &str| errors.push(syn::Error::new(span, message));
    if let Some(t) = &sig.constness {
        error(t.span, "`#[model]` cannot be a `const fn`: remove `const`");
    }
    if let Some(t) = &sig.asyncness {
        error(
            t.span,
            "`#[model]` cannot be an `async fn`: a log-density is evaluated synchronously; remove `async`",
        );
    }
    if let Some(t) = &sig.unsafety {
        error(
            t.span,
            "`#[model]` cannot be an `unsafe fn`: remove `unsafe`",
        );
    }
    if let Some(abi) = &sig.abi {
        error(abi.span(), "`#[model]` cannot have an ABI: remove `extern`");
    }
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            _ => error(
                param.span(),
                "`#[model]` cannot be generic: the macro makes the body generic over its scalar `T`; \
                 take data as concrete types such as `&[f64]`",
            ),
        }
    }
    if let Some(w) = &sig.generics.where_clause {
        errors_spanned.push(syn::Error::new_spanned(
            w,
            "`#[model]` cannot have a `where` clause: take data as concrete types",
        ));
    }
    if let Some(v) = &sig.variadic {
        error(v.span(), "`#[model]` cannot be variadic");
    }
    if let ReturnType::Type(..) = &sig.output {
        errors_spanned.push(syn::Error::new_spanned(
            &sig.output,
            "a `#[model]` function returns nothing: remove the return type (its log-density comes from its sites)",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors_spanned.push(syn::Error::new_spanned(
                r,
                "`#[model]` goes on a free function, not a method: move it out of the `impl` block \
                 and pass the data as arguments",
            )),
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p)
                    if p.ident
                        .to_string()
                        .trim_start_matches("r#")
                        .starts_with("__") =>
                {
                    errors_spanned.push(syn::Error::new_spanned(
                        &p.ident,
                        format!(
                            "names beginning with `__` are reserved for the code `#[model]` \
                             generates: rename the argument `{}` (say `{}`)",
                            p.ident,
                            p.ident.to_string().trim_start_matches('_')
                        ),
                    ))
                }
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {}
                other => errors_spanned.push(syn::Error::new_spanned(
                    other,
                    "a data argument needs a plain name, such as `y: &[f64]`",
                )),
            },
        }
    }
    errors.extend(errors_spanned);
    errors.len() > before
}

/// The names a site-name literal interpolates (`"z[{i},{k}]"` → `i`, `k`), or an error
/// for a positional `{}`.
fn interpolated(name: &str) -> Result<Vec<String>, String> {
    let names = crate::ast::format_arguments(name);
    if names
        .iter()
        .any(|n| n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Err(
            "a site name interpolates variables by name: write `\"x[{i}]\"`, not `\"x[{}]\"`"
                .into(),
        );
    }
    Ok(names)
}

fn check_sites(model: &Model, errors: &mut Vec<syn::Error>) {
    let mut fixed_names: HashMap<String, proc_macro2::Span> = HashMap::new();
    for site in &model.sites {
        if site.in_closure.is_some() {
            errors.push(syn::Error::new(
                site.name_span,
                format!(
                    "`{}!` cannot be used inside a closure: write a `for` loop instead",
                    site.kind.name()
                ),
            ));
        }
        let Some(lit) = &site.name else { continue };
        let name = lit.value();
        let vars = match interpolated(&name) {
            Ok(vars) => vars,
            Err(message) => {
                errors.push(syn::Error::new_spanned(lit, message));
                continue;
            }
        };
        let missing: Vec<String> = site
            .loops
            .iter()
            .filter(|level| {
                !level.is_empty() && !level.iter().any(|v| vars.contains(&v.to_string()))
            })
            .map(|level| level[0].to_string())
            .collect();
        if !missing.is_empty() {
            let base = name.split('[').next().unwrap_or(&name);
            let all: Vec<String> = vars
                .iter()
                .chain(&missing)
                .map(|v| format!("{{{v}}}"))
                .collect();
            let kind = match site.kind {
                SiteMacro::Sample if site.obs.is_none() => "a latent site",
                _ => "a site",
            };
            let which = missing
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            errors.push(syn::Error::new_spanned(
                lit,
                format!(
                    "{kind} inside a loop needs the loop variable {which} in its name, or every \
                     iteration reuses the name: write `\"{base}[{}]\"`",
                    all.join(",")
                ),
            ));
        }
        if vars.is_empty() {
            if let Some(first) = fixed_names.get(&name) {
                let mut e = syn::Error::new_spanned(
                    lit,
                    format!(
                        "duplicate site name `{name}`: site names must be unique; rename one of them"
                    ),
                );
                e.combine(syn::Error::new(
                    *first,
                    format!("`{name}` is first used here"),
                ));
                errors.push(e);
            } else {
                fixed_names.insert(name, lit.span());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::interpolated;

    #[test]
    fn interpolation() {
        assert_eq!(interpolated("mu").unwrap(), Vec::<String>::new());
        assert_eq!(interpolated("z[{i},{ k }]").unwrap(), vec!["i", "k"]);
        assert_eq!(interpolated("a{{b}}[{j:?}]").unwrap(), vec!["j"]);
        assert!(interpolated("x[{}]").is_err());
        assert!(interpolated("x[{0}]").is_err());
    }
}
