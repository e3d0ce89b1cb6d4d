//! The `#[model]` attribute and the site macros of tilde.
//!
//! `#[model]` turns a free function whose arguments are the data into a struct holding
//! that data, a constructor of the function's name, and implementations of
//! `tilde::LogDensity` and `tilde::Model`. Its body is re-emitted generic over the
//! scalar `T: tilde::Real`, with each `sample!`, `deterministic!` and `factor!` rewritten
//! into a call on the evaluation context. See the `tilde` crate for the user guide.
//! Data-only `let` bindings with a type annotation are computed once, at construction,
//! and stored in the struct (see `hoist`).
//!
//! The pipeline is `parse` (syn → `ast::Model`, site macros replaced by placeholders,
//! transformed data found by `hoist`), `check` (every validation, all errors collected),
//! then `expand` (quote only).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod adjoint;
mod ast;
mod check;
mod discrete;
mod enumerate;
mod expand;
mod hoist;
mod observed;
mod parse;
mod symbolic;
mod vector_sites;

/// Turns a function into a probabilistic model. See the `tilde` crate's documentation.
#[proc_macro_attribute]
pub fn model(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let input = proc_macro2::TokenStream::from(input);
    parse::parse(args, input)
        .map(|model| {
            let checked = check::check(&model);
            expand::expand(&model, checked)
        })
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn outside(name: &str) -> TokenStream {
    let message = format!(
        "`{name}!` can only be used inside a `#[model]` function: add `#[model]` to the \
         enclosing function (site macros in a nested fn or inside another macro's arguments \
         are not seen by `#[model]`)"
    );
    syn::Error::new(proc_macro2::Span::call_site(), message)
        .into_compile_error()
        .into()
}

/// A random-variable site: `sample!("name", dist)` or `sample!("name", dist, obs = y)`.
///
/// Only meaningful inside a `#[model]` function, which rewrites it; anywhere else it is
/// a compile error.
#[proc_macro]
pub fn sample(_input: TokenStream) -> TokenStream {
    outside("sample")
}

/// A derived quantity recorded in every draw: `deterministic!("name", expr)`.
///
/// Only meaningful inside a `#[model]` function; anywhere else it is a compile error.
#[proc_macro]
pub fn deterministic(_input: TokenStream) -> TokenStream {
    outside("deterministic")
}

/// A term added to the log-density: `factor!("name", expr)`.
///
/// Only meaningful inside a `#[model]` function; anywhere else it is a compile error.
#[proc_macro]
pub fn factor(_input: TokenStream) -> TokenStream {
    outside("factor")
}
