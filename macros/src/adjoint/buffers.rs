//! Vectors the body fills with parameter-dependent values element by element ([`Kind::
//! Buffer`]): Stan's `vector[T] err;` written `let mut err = vec![0.0; n];` and filled
//! as the loop goes (`err[t] = y[t] - nu;`, `lp[s] += …`). Their values and adjoints
//! are buffers of the pool; each element write is a statement of its own, whose reverse
//! code reads the element's adjoint (and clears it when the write overwrites the old
//! value); each element read is a leaf that is not stable (a later write may change the
//! value, so the reverse pass uses stored partials, never the value).

use quote::{format_ident, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident};

use super::*;

/// The value and length of `vec![value; n]` or `[value; n]`.
fn repeated(expr: &Expr) -> Option<(Expr, Expr)> {
    match expr {
        Expr::Macro(m) if m.mac.path.is_ident("vec") => crate::ast::vec_repeat(&m.mac.tokens),
        Expr::Repeat(r) => Some(((*r.expr).clone(), (*r.len).clone())),
        _ => None,
    }
}

impl Emitter<'_> {
    /// `let mut v = vec![value; n];` of a vector whose elements the body writes with
    /// parameter-dependent values, or `let v = [a, b, …];` of parameter-dependent
    /// values: its values and adjoints from the pool.
    pub(super) fn buffer(
        &mut self,
        ident: &Ident,
        init: &Expr,
        mode: Mode,
        out: &mut Emitted,
    ) -> Outcome<()> {
        if mode != Mode::Top {
            return Err(format!(
                "the vector `{ident}` of parameter values is declared inside a loop or branch"
            ));
        }
        // `[a, b, …]`: a vector of that length whose elements are written in turn
        let elements = match init {
            Expr::Array(array) => Some(array.elems.iter().cloned().collect::<Vec<Expr>>()),
            _ => None,
        };
        let (value, len) = match &elements {
            Some(elements) => {
                let len = elements.len();
                (syn::parse_quote!(0.0), syn::parse_quote!(#len))
            }
            None => repeated(init).ok_or_else(|| {
                format!(
                    "the vector `{ident}` of parameter values is not made by `vec![value; n]`, \
                     `[value; n]` or `[a, b, …]`"
                )
            })?,
        };
        if [&value, &len]
            .iter()
            .any(|e| self.mentions_active(e) || self.has_site(e))
        {
            return Err(format!(
                "the vector `{ident}` of parameter values starts from parameter-dependent values"
            ));
        }
        if !pure(&value) || !pure(&len) {
            return Err(format!(
                "the vector `{ident}` of parameter values is made from values with effects"
            ));
        }
        let adjoint = adjoint_of(&ident.to_string());
        let (n, fill) = (self.fresh("n"), self.fresh("fill"));
        out.forward.extend(quote! {
            let #n: usize = #len;
            let #fill: f64 = #value;
            #[allow(unused_mut)]
            let mut #ident: ::std::vec::Vec<f64> = __pool.take_record(#n);
            #ident.fill(#fill);
            let mut #adjoint: ::std::vec::Vec<f64> = __pool.take(#n);
        });
        // back to the pool where the reverse pass has gone back past the declaration:
        // the pool is a stack, so each buffer serves the same vector next time
        out.reverse
            .push(quote!(__pool.give(#adjoint); __pool.give(#ident);));
        let name = ident.to_string();
        for (k, element) in elements.iter().flatten().enumerate() {
            let index: Expr = syn::parse_quote!(#k);
            self.element_assignment(&name, &index, element, None, mode, out)?;
        }
        Ok(())
    }

    /// `v[i] = e`, `v[i] += e`, `v[i] *= e`, … of a [`Kind::Buffer`] vector `v`.
    pub(super) fn element_assignment(
        &mut self,
        name: &str,
        index: &Expr,
        right: &Expr,
        op: Option<syn::BinOp>,
        mode: Mode,
        out: &mut Emitted,
    ) -> Outcome<()> {
        if self.mentions_active(index) || self.has_site(index) {
            return Err(format!(
                "an element of `{name}` at a parameter-dependent index is written"
            ));
        }
        if !pure(index) {
            return Err(format!(
                "an element of `{name}` at an index with effects is written"
            ));
        }
        let vector = format_ident!("{}", name);
        let adjoint = adjoint_of(name);
        let slot = self.fresh("i");
        let element = quote!(#adjoint[#slot]);
        let data = !self.mentions_active(right) && !self.has_site(right);
        let increment: Option<Expr> = match op {
            Some(syn::BinOp::AddAssign(_)) => Some(right.clone()),
            Some(syn::BinOp::SubAssign(_)) => Some(syn::parse_quote!(-(#right))),
            _ => None,
        };
        if let Some(increment) = increment {
            if data {
                // the element's adjoint passes through unchanged
                out.forward.extend(quote!(#vector[#index] += #increment;));
                return Ok(());
            }
            let increment = self.lift(&increment, mode, out)?;
            let value = self.fresh("v");
            let (code, mut stored, reverse) =
                self.active_value(&increment, &value, element, false)?;
            out.forward
                .extend(quote!(let #slot: usize = #index; #code #vector[#slot] += #value;));
            stored.push(Stored::Usize(slot));
            self.finish(stored, reverse, mode, out);
            return Ok(());
        }
        if data && op.is_none() {
            // overwritten by data: the old value's adjoint is zero from here back
            out.forward
                .extend(quote!(let #slot: usize = #index; #vector[#slot] = #right;));
            let stored = vec![Stored::Usize(slot.clone())];
            self.finish(stored, quote!(#element = -0.0;), mode, out);
            return Ok(());
        }
        // the element read at the index already computed (evaluated once, as written)
        let rhs: Expr = match op {
            None => right.clone(),
            Some(syn::BinOp::MulAssign(_)) => syn::parse_quote!(#vector[#slot] * (#right)),
            Some(syn::BinOp::DivAssign(_)) => syn::parse_quote!(#vector[#slot] / (#right)),
            Some(_) => return Err("a bitwise or remainder assignment over parameters".into()),
        };
        let rhs = self.lift(&rhs, mode, out)?;
        let value = self.fresh("v");
        let (code, mut stored, reverse) = self.active_value(&rhs, &value, element, true)?;
        out.forward
            .extend(quote!(let #slot: usize = #index; #code #vector[#slot] = #value;));
        stored.push(Stored::Usize(slot));
        self.finish(stored, reverse, mode, out);
        Ok(())
    }

    /// Emits each `math::log_sum_exp(&v)` of a buffer `v` in `expr` as a statement of
    /// its own, whose value `expr` then reads: the value, and the weights
    /// `exp(v_k - value)` the reverse pass sends its adjoint back through (kept in a
    /// buffer: a later write may change `v`).
    pub(super) fn lift_buffer_sums(
        &mut self,
        expr: &mut Expr,
        mode: Mode,
        out: &mut Emitted,
    ) -> Outcome<()> {
        struct Sums<'e> {
            active: &'e std::collections::HashMap<String, Kind>,
            found: Vec<(Ident, Ident)>,
            next: &'e mut usize,
        }
        impl VisitMut for Sums<'_> {
            fn visit_expr_mut(&mut self, expr: &mut Expr) {
                if let Some(vector) = buffer_sum(expr, self.active) {
                    *self.next += 1;
                    let ident = format_ident!("__lse{}", *self.next);
                    self.found.push((ident.clone(), vector));
                    *expr = syn::parse_quote!(#ident);
                    return;
                }
                visit_mut::visit_expr_mut(self, expr);
            }
        }
        let mut sums = Sums {
            active: &self.active,
            found: Vec::new(),
            next: &mut self.next,
        };
        sums.visit_expr_mut(expr);
        let found = sums.found;
        for (ident, vector) in found {
            if mode != Mode::Top {
                return Err(format!(
                    "`log_sum_exp` of the vector `{vector}` of parameter values inside a loop or branch"
                ));
            }
            let (adjoint, vector_adjoint) = (
                adjoint_of(&ident.to_string()),
                adjoint_of(&vector.to_string()),
            );
            let weights = self.fresh("weights");
            out.forward.extend(quote! {
                let #ident: f64 = ::tilde::math::log_sum_exp::<f64>(&#vector);
                let mut #weights: ::std::vec::Vec<f64> = __pool.take_record(#vector.len());
                for (__w, __v) in #weights.iter_mut().zip(#vector.iter()) {
                    *__w = (__v - #ident).exp();
                }
            });
            out.reverse.push(quote! {{
                let __a = #adjoint;
                for (__g, __w) in #vector_adjoint.iter_mut().zip(#weights.iter()) {
                    *__g += __a * __w;
                }
                __pool.give(#weights);
            }});
            self.active.insert(ident.to_string(), Kind::Scalar);
            out.declared.push(ident.to_string());
        }
        Ok(())
    }
}

/// The buffer `v` of `math::log_sum_exp(&v)` (or `&v[..]`), when `v` is one.
fn buffer_sum(expr: &Expr, active: &std::collections::HashMap<String, Kind>) -> Option<Ident> {
    let Expr::Call(call) = expr else { return None };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let n = segments.len();
    if n < 2
        || segments[n - 2] != "math"
        || segments[n - 1] != "log_sum_exp"
        || call.args.len() != 1
    {
        return None;
    }
    let Expr::Reference(reference) = &call.args[0] else {
        return None;
    };
    let inner = match &*reference.expr {
        Expr::Index(i) if matches!(&*i.index, Expr::Range(r) if r.start.is_none() && r.end.is_none()) => {
            &i.expr
        }
        other => other,
    };
    let name = ident_of(inner)?;
    (active.get(&name) == Some(&Kind::Buffer)).then(|| format_ident!("{}", name))
}
