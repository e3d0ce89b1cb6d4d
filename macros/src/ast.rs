//! The parsed form of a `#[model]` function.

use proc_macro2::Span;
use syn::{Attribute, Block, Expr, Ident, LitStr, Type, Visibility};

/// A `#[model]` function, with its site macros replaced by placeholders.
pub struct Model {
    /// The function as written, for the fallback after a signature error.
    pub original: syn::ItemFn,
    /// The function's attributes, by the items they go to.
    pub attrs: Attrs,
    /// The function's visibility, given to the struct and constructor.
    pub vis: Visibility,
    /// The function's name: the constructor's name.
    pub ident: Ident,
    /// The data arguments, with elided lifetimes made explicit.
    pub args: Vec<Arg>,
    /// The lifetimes the struct is generic over.
    pub lifetimes: Vec<syn::Lifetime>,
    /// The body, each site macro replaced by `__tilde_site!(index)`.
    pub body: Block,
    /// The site macros, by placeholder index.
    pub sites: Vec<Site>,
    /// Errors found while parsing (reported with check's).
    pub errors: Vec<syn::Error>,
    /// The data-only `let`s computed once, at construction (see `hoist`).
    pub hoisted: Vec<Hoisted>,
}

/// A data-only `let name: Type = expr;` of the body, computed at construction.
pub struct Hoisted {
    /// The name it binds.
    pub ident: Ident,
    /// Its type as written.
    pub ty: Type,
    /// The expression, as written.
    pub expr: Expr,
    /// The struct's hidden field that holds the value.
    pub field: Ident,
    /// A primitive scalar, which the body copies (others it borrows).
    pub by_value: bool,
}

/// The attributes of the function, by where they go.
#[derive(Default)]
pub struct Attrs {
    /// Doc comments: the constructor's.
    pub docs: Vec<Attribute>,
    /// Lints, `deprecated`, `must_use`, `inline`: both constructors'.
    pub constructor: Vec<Attribute>,
    /// `cfg` and `cfg_attr`: every generated item's.
    pub every: Vec<Attribute>,
    /// The traits of `#[derive(..)]`: the struct's.
    pub derives: Vec<syn::Path>,
}

/// One data argument.
pub struct Arg {
    /// Its name, which is also the struct field's name.
    pub ident: Ident,
    /// Its type, with elided lifetimes named.
    pub ty: Type,
}

/// Which site macro.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SiteMacro {
    /// `sample!`
    Sample,
    /// `deterministic!`
    Deterministic,
    /// `factor!`
    Factor,
}

impl SiteMacro {
    /// The macro's name.
    pub fn name(self) -> &'static str {
        match self {
            SiteMacro::Sample => "sample",
            SiteMacro::Deterministic => "deterministic",
            SiteMacro::Factor => "factor",
        }
    }
}

/// One site macro call.
#[derive(Clone)]
pub struct Site {
    /// Which macro.
    pub kind: SiteMacro,
    /// The name, when it is a string literal.
    pub name: Option<LitStr>,
    /// The span of the name argument (or of the macro when it is missing).
    pub name_span: Span,
    /// The distribution (`sample!`) or value (`deterministic!`, `factor!`).
    pub value: Expr,
    /// `obs = …` of an observed `sample!`.
    pub obs: Option<Expr>,
    /// The span of `enumerate` in `sample!("z", dist, enumerate)`: a site summed out
    /// over its support (see `enumerate`).
    pub enumerate: Option<Span>,
    /// The variables bound by each enclosing `for` loop, outermost first.
    pub loops: Vec<Vec<Ident>>,
    /// The span of the closure the site sits in, if any.
    pub in_closure: Option<Span>,
}

/// Calls `each` with every identifier in `tokens`, nested groups included (a macro's
/// arguments, which the parsers do not see as expressions), and every name a string
/// literal captures as a format argument (`format!("{loc:?}")` reads `loc`).
pub fn each_ident(tokens: proc_macro2::TokenStream, each: &mut impl FnMut(&Ident)) {
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Ident(i) => each(&i),
            proc_macro2::TokenTree::Group(g) => each_ident(g.stream(), each),
            proc_macro2::TokenTree::Literal(l) => {
                for name in format_captures(&l.to_string()) {
                    each(&Ident::new(&name, l.span()));
                }
            }
            _ => {}
        }
    }
}

/// The names a string literal's text (quotes included) would capture as format
/// arguments: `{name}`, `{name:…}`, not `{{` nor positional `{0}` (ASCII names only);
/// nothing for other literals.
fn format_captures(literal: &str) -> Vec<String> {
    if !(literal.starts_with('"') || literal.starts_with("r\"") || literal.starts_with("r#")) {
        return Vec::new();
    }
    format_arguments(literal)
        .into_iter()
        .filter(|name| {
            name.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name != "_"
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .collect()
}

/// What each `{…}` of a format string names, up to its `:` and trimmed (`""` for a
/// positional `{}`, `"0"` for `{0}`); `{{` is not one.
pub fn format_arguments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            continue;
        }
        let inner: String = chars.by_ref().take_while(|&c| c != '}').collect();
        out.push(inner.split(':').next().unwrap_or("").trim().to_string());
    }
    out
}

/// Whether a binary operator is a compound assignment (`+=`, `<<=`, …).
pub fn is_assign_op(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

/// The value and length of the tokens of a `vec![value; n]`.
pub fn vec_repeat(tokens: &proc_macro2::TokenStream) -> Option<(Expr, Expr)> {
    let parser = |input: syn::parse::ParseStream| {
        let value: Expr = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        let len: Expr = input.parse()?;
        Ok((value, len))
    };
    syn::parse::Parser::parse2(parser, tokens.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::{format_arguments, format_captures};

    #[test]
    fn format_strings() {
        assert_eq!(
            format_arguments("a{{b}}[{j:?}]{ k }{}{0}"),
            ["j", "k", "", "0"]
        );
        assert_eq!(
            format_captures("\"{loc:?} {{x}} {0} {} {_} {__y}\""),
            ["loc", "__y"]
        );
        assert_eq!(format_captures("r\"{a}\""), ["a"]);
        // not a string: no captures
        assert!(format_captures("b'{'").is_empty());
        assert!(format_captures("1.5").is_empty());
    }
}
