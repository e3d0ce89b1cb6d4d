//! Reverse-mode differentiation of one arithmetic expression at compile time.
//!
//! An active statement's expression, with its inputs replaced by the leaves `__l0`,
//! `__l1`, … (see `adjoint`), is a tree of `+ - * /`, negation, elementary methods of
//! `f64` (`exp`, `ln`, `sqrt`, `powi`, …), `max`/`min`, `log_sum_exp` and data
//! subexpressions. [`differentiate`]
//! emits plain-`f64` code for its value, one temporary per node, and the partial of the
//! value with respect to each leaf as an expression over those temporaries: the
//! adjoint of a node is its parent's adjoint times the local derivative, and a leaf's
//! partial is the sum over its occurrences. Constants fold at compile time (`∂(y - ν)/∂ν`
//! is the literal `-1`, which the reverse pass then neither stores nor multiplies by).
//! The local derivatives are those of the forward duals (`Fwd`), so both give the same
//! numbers. An expression with anything else over a leaf (a call, a distribution, a
//! method outside the list) is not differentiated here: the caller evaluates it with
//! forward duals instead.

use proc_macro2::{Literal, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::{BinOp, Expr, Ident, UnOp};

/// The partial derivative of an expression with respect to one leaf.
#[derive(Clone)]
pub enum Partial {
    /// Known when the macro runs (`1` for `x + …`, `-1` for `… - x`).
    Const(f64),
    /// Computed in the forward pass, from the statement's temporaries.
    Expr(TokenStream),
    /// `inner` when the forward pass's `bool` temporary `sel` is `when`, else 0: the
    /// share of one operand of `max`/`min` (the other operand's is exactly 0, with no
    /// `0 · ∞` from its subtree).
    Cond {
        sel: Ident,
        when: bool,
        inner: Box<Partial>,
    },
}

impl Partial {
    /// The partial as an `f64` expression.
    pub fn tokens(&self) -> TokenStream {
        match self {
            Partial::Const(c) => literal(*c),
            Partial::Expr(e) => e.clone(),
            Partial::Cond { sel, when, inner } => {
                let inner = inner.tokens();
                if *when {
                    quote!((if #sel { #inner } else { 0.0 }))
                } else {
                    quote!((if #sel { 0.0 } else { #inner }))
                }
            }
        }
    }

    /// The constant, when the partial is one.
    pub fn as_const(&self) -> Option<f64> {
        match self {
            Partial::Const(c) => Some(*c),
            _ => None,
        }
    }

    fn within(&self, sel: &Ident, when: bool) -> Partial {
        Partial::Cond {
            sel: sel.clone(),
            when,
            inner: Box::new(self.clone()),
        }
    }

    /// `self · other`, folding constants (`1 · x = x` and `-1 · x = -x` exactly); a
    /// product with a conditional share stays inside its condition.
    fn times(&self, other: &Partial) -> Partial {
        match (self, other) {
            (Partial::Cond { sel, when, inner }, x) | (x, Partial::Cond { sel, when, inner }) => {
                inner.times(x).within(sel, *when)
            }
            (Partial::Const(a), Partial::Const(b)) if (a * b).is_finite() => Partial::Const(a * b),
            (Partial::Const(c), x) | (x, Partial::Const(c)) if *c == 1.0 => x.clone(),
            (Partial::Const(c), x) | (x, Partial::Const(c)) if *c == -1.0 => x.negated(),
            _ => {
                let (a, b) = (self.tokens(), other.tokens());
                Partial::Expr(quote!((#a * #b)))
            }
        }
    }

    fn negated(&self) -> Partial {
        match self {
            Partial::Const(c) => Partial::Const(-c),
            Partial::Expr(e) => Partial::Expr(quote!((-#e))),
            Partial::Cond { sel, when, inner } => inner.negated().within(sel, *when),
        }
    }

    fn plus(&self, other: &Partial) -> Partial {
        match (self, other) {
            (Partial::Const(a), Partial::Const(b)) if (a + b).is_finite() => Partial::Const(a + b),
            _ => {
                let (a, b) = (self.tokens(), other.tokens());
                Partial::Expr(quote!((#a + #b)))
            }
        }
    }
}

/// A finite constant as tokens (a negative one as a negation of its magnitude).
pub fn literal(c: f64) -> TokenStream {
    let magnitude = Literal::f64_suffixed(c.abs());
    if c.is_sign_negative() {
        quote!((-#magnitude))
    } else {
        magnitude.to_token_stream()
    }
}

/// The value and partials of one expression.
pub struct Differentiated {
    /// Statements computing the temporaries (inside the caller's block), each with the
    /// temporary it binds.
    code: Vec<(Ident, TokenStream)>,
    /// The value: a temporary.
    pub value: Ident,
    /// `∂ value / ∂ __lk` for each leaf `k`.
    pub partials: Vec<Partial>,
}

/// A node of the expression tree.
enum Node {
    Leaf(usize),
    /// An expression without leaves, evaluated once; a float literal is also known.
    Data(Expr, Option<f64>),
    Neg(Box<Node>),
    Binary(char, Box<Node>, Box<Node>),
    /// An elementary method of the receiver with data arguments.
    Method(String, Box<Node>, Vec<Expr>),
    /// `a.max(b)` (`true`) or `a.min(b)`: the value and derivative of the operand it
    /// picks, as `Real::max`/`min` do.
    Select(bool, Box<Node>, Box<Node>),
    /// `a.log_sum_exp(b)`, as `Real::log_sum_exp` computes it: `hi + ln(1 + e^{lo - hi})`
    /// with `hi` the larger operand (`a` on a tie), or `hi` when it is infinite.
    LogSumExp(Box<Node>, Box<Node>),
}

/// The terms of written-out observations (`observed::split`), written as methods that
/// `f64` does not have: `η.__poisson_log_rate(k)`, the part of a Poisson observation's
/// log-mass that depends on its log-rate (`poisson_log_rate_kernel`), and
/// `w.__ln_1p_sq()`, `ln(1 + w²)` of a Student-t's standardised value (`ln_1p_sq`). A
/// user name beginning with `__` sends the body to the tape, so only that code writes
/// them.
/// Each with the function of `tilde::__private::codegen` that computes it (the
/// receiver first, then the arguments).
pub const TERMS: &[(&str, &str)] = &[
    ("__poisson_log_rate", "poisson_log_rate_kernel"),
    ("__ln_1p_sq", "ln_1p_sq"),
];

/// The elementary methods [`differentiate`] knows, with one argument or none (and the
/// [`TERMS`]).
const METHODS: &[(&str, usize)] = &[
    ("__ln_1p_sq", 0),
    ("__poisson_log_rate", 1),
    ("abs", 0),
    ("atan", 0),
    ("cos", 0),
    ("exp", 0),
    ("exp_m1", 0),
    ("ln", 0),
    ("ln_1p", 0),
    ("powf", 1),
    ("powi", 1),
    ("recip", 0),
    ("sin", 0),
    ("sqrt", 0),
    ("tanh", 0),
];

/// The index `k` of a leaf `__lk`.
fn leaf_index(ident: &Ident) -> Option<usize> {
    let name = ident.to_string();
    let digits = name.strip_prefix("__l")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The leaf `k` when `tokens` are just `__lk` (perhaps in parentheses).
pub fn leaf_of(tokens: &TokenStream) -> Option<usize> {
    let mut iter = tokens.clone().into_iter();
    let (first, rest) = (iter.next()?, iter.next());
    if rest.is_some() {
        return None;
    }
    match first {
        TokenTree::Ident(i) => leaf_index(&i),
        TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Parenthesis => {
            leaf_of(&g.stream())
        }
        _ => None,
    }
}

/// Whether tokens mention a leaf.
fn has_leaf(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Ident(i) => leaf_index(&i).is_some(),
        TokenTree::Group(g) => has_leaf(g.stream()),
        _ => false,
    })
}

fn float_literal(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => float_literal(&u.expr).map(|v| -v),
        Expr::Paren(p) => float_literal(&p.expr),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse().ok(),
        _ => None,
    }
}

fn tree(expr: &Expr) -> Option<Node> {
    if !has_leaf(expr.to_token_stream()) {
        return Some(Node::Data(expr.clone(), float_literal(expr)));
    }
    match expr {
        Expr::Paren(p) => tree(&p.expr),
        Expr::Group(g) => tree(&g.expr),
        Expr::Path(p) if p.qself.is_none() => {
            p.path.get_ident().and_then(leaf_index).map(Node::Leaf)
        }
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => Some(Node::Neg(Box::new(tree(&u.expr)?))),
        Expr::Binary(b) => {
            let op = match b.op {
                BinOp::Add(_) => '+',
                BinOp::Sub(_) => '-',
                BinOp::Mul(_) => '*',
                BinOp::Div(_) => '/',
                _ => return None,
            };
            Some(Node::Binary(
                op,
                Box::new(tree(&b.left)?),
                Box::new(tree(&b.right)?),
            ))
        }
        Expr::MethodCall(m)
            if m.turbofish.is_none()
                && (m.method == "max" || m.method == "min")
                && m.args.len() == 1 =>
        {
            Some(Node::Select(
                m.method == "max",
                Box::new(tree(&m.receiver)?),
                Box::new(tree(&m.args[0])?),
            ))
        }
        Expr::MethodCall(m)
            if m.turbofish.is_none() && m.method == "log_sum_exp" && m.args.len() == 1 =>
        {
            Some(Node::LogSumExp(
                Box::new(tree(&m.receiver)?),
                Box::new(tree(&m.args[0])?),
            ))
        }
        Expr::MethodCall(m) if m.turbofish.is_none() => {
            let name = m.method.to_string();
            let arity = METHODS.iter().find(|(n, _)| *n == name)?.1;
            let args: Vec<Expr> = m.args.iter().cloned().collect();
            if args.len() != arity || args.iter().any(|a| has_leaf(a.to_token_stream())) {
                return None;
            }
            Some(Node::Method(name, Box::new(tree(&m.receiver)?), args))
        }
        _ => None,
    }
}

/// The forward code of a tree: temporaries, and each node's value.
struct Forward<'f> {
    code: Vec<(Ident, TokenStream)>,
    fresh: &'f mut dyn FnMut(&str) -> Ident,
    /// Per leaf: whether its value is the same wherever the statement runs.
    stable: &'f [bool],
}

impl Forward<'_> {
    /// Whether `node`'s value is the same wherever the statement runs: literals and
    /// stable leaves only.
    fn invariant(&self, node: &Node) -> bool {
        match node {
            Node::Leaf(k) => self.stable.get(*k).copied().unwrap_or(false),
            Node::Data(_, c) => c.is_some(),
            Node::Neg(inner) => self.invariant(inner),
            Node::Binary(_, a, b) | Node::Select(_, a, b) | Node::LogSumExp(a, b) => {
                self.invariant(a) && self.invariant(b)
            }
            Node::Method(_, receiver, args) => {
                args.iter().all(|a| float_literal(a).is_some()) && self.invariant(receiver)
            }
        }
    }
}

/// A node with its value and what its children's adjoints need.
enum Evaluated {
    Leaf(usize),
    Data(Partial),
    Neg(Box<Evaluated>),
    /// The operator, the node's value, the operands.
    Binary(char, Ident, Box<Evaluated>, Box<Evaluated>),
    /// The local derivative, the node's value, the operand.
    Method(Partial, Ident, Box<Evaluated>),
    /// Whether the first operand is picked, the node's value, the operands.
    Select(Ident, Ident, Box<Evaluated>, Box<Evaluated>),
    /// Whether the first operand is the larger, the smaller one's weight `e^{lo - t}`,
    /// the node's value, the operands.
    LogSumExp(Ident, Ident, Ident, Box<Evaluated>, Box<Evaluated>),
}

impl Evaluated {
    /// The value as a partial: what a product with this operand multiplies by.
    fn value(&self) -> Partial {
        match self {
            Evaluated::Leaf(k) => {
                let l = format_ident!("__l{}", k);
                Partial::Expr(quote!(#l))
            }
            Evaluated::Data(v) => v.clone(),
            Evaluated::Neg(inner) => inner.value().negated(),
            Evaluated::Binary(_, v, _, _)
            | Evaluated::Method(_, v, _)
            | Evaluated::Select(_, v, _, _)
            | Evaluated::LogSumExp(_, _, v, _, _) => Partial::Expr(quote!(#v)),
        }
    }
}

impl Forward<'_> {
    /// Emits `node`'s temporaries; returns it evaluated and the expression of its value.
    fn eval(&mut self, node: &Node) -> (Evaluated, TokenStream) {
        match node {
            Node::Leaf(k) => {
                let l = format_ident!("__l{}", k);
                (Evaluated::Leaf(*k), quote!(#l))
            }
            Node::Data(expr, Some(c)) => (Evaluated::Data(Partial::Const(*c)), quote!((#expr))),
            Node::Data(expr, None) => {
                let t = (self.fresh)("s");
                self.code.push((t.clone(), quote!(let #t: f64 = #expr;)));
                (Evaluated::Data(Partial::Expr(quote!(#t))), quote!(#t))
            }
            Node::Neg(inner) => {
                let (e, v) = self.eval(inner);
                (Evaluated::Neg(Box::new(e)), quote!((-#v)))
            }
            Node::Binary(op, a, b) => {
                let (ea, va) = self.eval(a);
                let (eb, vb) = self.eval(b);
                let t = (self.fresh)("s");
                let op_tokens = match op {
                    '+' => quote!(+),
                    '-' => quote!(-),
                    '*' => quote!(*),
                    _ => quote!(/),
                };
                let value =
                    if *op == '/' && !matches!(**b, Node::Data(_, Some(_))) && self.invariant(b) {
                        // a division by a value that does not change in a loop: a product
                        // with its reciprocal, which the compiler computes once before the
                        // loop (the partials need `1/b` anyway)
                        quote!(#va * (#vb).recip())
                    } else {
                        quote!(#va #op_tokens #vb)
                    };
                self.code.push((t.clone(), quote!(let #t: f64 = #value;)));
                (
                    Evaluated::Binary(*op, t.clone(), Box::new(ea), Box::new(eb)),
                    quote!(#t),
                )
            }
            Node::Select(max, a, b) => {
                let (ea, va) = self.eval(a);
                let (eb, vb) = self.eval(b);
                let (sel, t) = ((self.fresh)("sel"), (self.fresh)("s"));
                let test = if *max {
                    quote!(#va >= #vb)
                } else {
                    quote!(#va <= #vb)
                };
                self.code
                    .push((sel.clone(), quote!(let #sel: bool = #test;)));
                self.code.push((
                    t.clone(),
                    quote!(let #t: f64 = if #sel { #va } else { #vb };),
                ));
                (
                    Evaluated::Select(sel, t.clone(), Box::new(ea), Box::new(eb)),
                    quote!(#t),
                )
            }
            Node::LogSumExp(a, b) => {
                let (ea, va) = self.eval(a);
                let (eb, vb) = self.eval(b);
                let (sel, hi, lo, w, t) = (
                    (self.fresh)("sel"),
                    (self.fresh)("s"),
                    (self.fresh)("s"),
                    (self.fresh)("s"),
                    (self.fresh)("s"),
                );
                self.code
                    .push((sel.clone(), quote!(let #sel: bool = #va >= #vb;)));
                self.code.push((
                    hi.clone(),
                    quote!(let #hi: f64 = if #sel { #va } else { #vb };),
                ));
                self.code.push((
                    lo.clone(),
                    quote!(let #lo: f64 = if #sel { #vb } else { #va };),
                ));
                // the smaller operand's weight e/(1 + e), e = e^{lo - hi}; the larger's is
                // 1 minus it (0 and 1 at an infinite `hi`, whose value is `hi`)
                self.code.push((
                    w.clone(),
                    quote!(let #w: f64 = if #hi.is_infinite() { 0.0 } else {
                        let __e: f64 = (#lo - #hi).exp();
                        __e * (__e + 1.0).recip()
                    };),
                ));
                self.code.push((
                    t.clone(),
                    quote!(let #t: f64 = if #hi.is_infinite() { #hi } else {
                        #hi + (#lo - #hi).exp().ln_1p()
                    };),
                ));
                (
                    Evaluated::LogSumExp(sel, w, t.clone(), Box::new(ea), Box::new(eb)),
                    quote!(#t),
                )
            }
            Node::Method(name, receiver, args) => {
                let (er, x) = self.eval(receiver);
                let (t, d) = ((self.fresh)("s"), (self.fresh)("s"));
                let m = format_ident!("{}", name);
                let arg = args.first();
                // the value and the local derivative, as the forward duals compute them
                let derivative = match name.as_str() {
                    "abs" => quote!(if #x < 0.0 { -1.0 } else if #x > 0.0 { 1.0 } else { 0.0 }),
                    "atan" => quote!((1.0 + #x * #x).recip()),
                    "cos" => quote!(-#x.sin()),
                    "exp" => quote!(#t),
                    "__poisson_log_rate" => quote!((#arg) - #x.exp()),
                    "__ln_1p_sq" => quote!(::tilde::__private::codegen::ln_1p_sq_slope(#x)),
                    "exp_m1" => quote!(#x.exp()),
                    "ln" => quote!(#x.recip()),
                    "ln_1p" => quote!((#x + 1.0).recip()),
                    "powf" => quote!({
                        let __p: f64 = #arg;
                        if __p == 0.0 { 0.0 } else { __p * #x.powf(__p - 1.0) }
                    }),
                    "powi" => quote!({
                        let __n: i32 = #arg;
                        if __n == 0 { 0.0 } else { f64::from(__n) * #x.powi(__n - 1) }
                    }),
                    "recip" => quote!(-#t * #t),
                    "sin" => quote!(#x.cos()),
                    "sqrt" => quote!(#t * #x.recip() * 0.5),
                    _ => quote!(1.0 - #t * #t), // tanh
                };
                let term = TERMS.iter().find(|(method, _)| method == name);
                let arg: Vec<&Expr> = arg.into_iter().collect();
                let call = match term {
                    Some((_, function)) => {
                        let f = format_ident!("{}", function);
                        quote!(::tilde::__private::codegen::#f(#x #(, #arg)*))
                    }
                    None => quote!(#x.#m(#(#arg)*)),
                };
                self.code.push((t.clone(), quote!(let #t: f64 = #call;)));
                self.code
                    .push((d.clone(), quote!(let #d: f64 = #derivative;)));
                (
                    Evaluated::Method(Partial::Expr(quote!(#d)), t.clone(), Box::new(er)),
                    quote!(#t),
                )
            }
        }
    }
}

/// Sends `adjoint` (of `node`) down to the leaves, adding to `partials`.
fn backward(node: &Evaluated, adjoint: Partial, partials: &mut [Option<Partial>]) {
    match node {
        Evaluated::Leaf(k) => {
            partials[*k] = Some(match &partials[*k] {
                Some(p) => p.plus(&adjoint),
                None => adjoint,
            });
        }
        Evaluated::Data(_) => {}
        Evaluated::Neg(inner) => backward(inner, adjoint.negated(), partials),
        Evaluated::Binary(op, value, a, b) => match op {
            '+' => {
                backward(a, adjoint.clone(), partials);
                backward(b, adjoint, partials);
            }
            '-' => {
                backward(a, adjoint.clone(), partials);
                backward(b, adjoint.negated(), partials);
            }
            '*' => {
                backward(a, adjoint.times(&b.value()), partials);
                backward(b, adjoint.times(&a.value()), partials);
            }
            _ => {
                // q = a / b: ∂q/∂a = 1/b, ∂q/∂b = -q/b = -q · (1/b), one division for
                // both (the compiler computes the shared `1/b` once)
                let denominator = b.value().tokens();
                let inverse = match b.value() {
                    Partial::Const(c) if c.recip().is_finite() => Partial::Const(c.recip()),
                    _ => Partial::Expr(quote!((#denominator).recip())),
                };
                backward(a, adjoint.times(&inverse), partials);
                let inverse_tokens = inverse.tokens();
                let slope = Partial::Expr(quote!((-#value * #inverse_tokens)));
                backward(b, adjoint.times(&slope), partials);
            }
        },
        Evaluated::Select(sel, _, a, b) => {
            backward(a, adjoint.within(sel, true), partials);
            backward(b, adjoint.within(sel, false), partials);
        }
        Evaluated::LogSumExp(sel, w, _, a, b) => {
            let larger = Partial::Expr(quote!((if #sel { 1.0 - #w } else { #w })));
            let smaller = Partial::Expr(quote!((if #sel { #w } else { 1.0 - #w })));
            backward(a, adjoint.times(&larger), partials);
            backward(b, adjoint.times(&smaller), partials);
        }
        Evaluated::Method(derivative, _, inner) => {
            backward(inner, adjoint.times(derivative), partials)
        }
    }
}

/// The value and partials of `expr` with respect to its `num_leaves` leaves, or `None`
/// when it holds something over a leaf that this does not differentiate.
///
/// `stable[k]` says whether leaf `k`'s value is the same wherever the statement runs (a
/// parameter never reassigned): a division by an expression of such leaves and
/// literals becomes a product with the reciprocal.
pub fn differentiate(
    expr: &Expr,
    stable: &[bool],
    fresh: &mut dyn FnMut(&str) -> Ident,
) -> Option<Differentiated> {
    let num_leaves = stable.len();
    let node = tree(expr)?;
    let mut forward = Forward {
        code: Vec::new(),
        fresh,
        stable,
    };
    let (evaluated, value_expr) = forward.eval(&node);
    let value = (forward.fresh)("s");
    let mut code = forward.code;
    code.push((value.clone(), quote!(let #value: f64 = #value_expr;)));
    let mut partials = vec![None; num_leaves];
    backward(&evaluated, Partial::Const(1.0), &mut partials);
    Some(Differentiated {
        code,
        value,
        partials: partials
            .into_iter()
            .map(|p| p.unwrap_or(Partial::Const(0.0)))
            .collect(),
    })
}

impl Differentiated {
    /// The statements that compute the value (when `value`) and the partials not
    /// known at compile time, and nothing else; with the leaves they read. A reverse
    /// sweep that recomputes partials leaves out the value's own arithmetic and the
    /// reads of leaves no partial needs.
    pub fn code_for(&self, value: bool) -> (TokenStream, Vec<usize>) {
        let mut needed = std::collections::HashSet::new();
        for p in &self.partials {
            if p.as_const().is_none() {
                collect_idents(p.tokens(), &mut needed);
            }
        }
        if value {
            needed.insert(self.value.to_string());
        }
        let mut kept = Vec::new();
        for (ident, stmt) in self.code.iter().rev() {
            if needed.contains(&ident.to_string()) {
                collect_idents(stmt.clone(), &mut needed);
                kept.push(stmt.clone());
            }
        }
        kept.reverse();
        let mut leaves: Vec<usize> = needed
            .iter()
            .filter_map(|n| leaf_index(&Ident::new(n, proc_macro2::Span::call_site())))
            .collect();
        leaves.sort_unstable();
        (quote!(#(#kept)*), leaves)
    }
}

/// Every identifier in `tokens`.
fn collect_idents(tokens: TokenStream, out: &mut std::collections::HashSet<String>) {
    for t in tokens {
        match t {
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            TokenTree::Group(g) => collect_idents(g.stream(), out),
            _ => {}
        }
    }
}
