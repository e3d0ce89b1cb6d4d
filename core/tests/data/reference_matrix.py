#!/usr/bin/env python3
"""Reference values for tilde's `math` module and its matrix-valued distributions.

A sibling of reference.py. Writes, next to this file,

  * math_reference.csv with columns  func,args,values
    (args and values are space-separated lists of repr() floats; most functions have
    one value, log_softmax has one per argument). Values come from mpmath at 50
    digits, which is independent of the Rust code (libm, Acklam's approximation).
  * matrix_reference.csv with columns  dist,params,x,ln_pdf
    for lkj_cholesky, wishart_cholesky, inv_wishart_cholesky, low_rank_mvn and
    mixture; see matrix_rows() for each family's sources.

Run it from anywhere: python3 reference_matrix.py
"""

import csv
import itertools
import math
import os

import mpmath as mp
import numpy as np
import scipy
from scipy import integrate, special, stats

mp.mp.dps = 50
HERE = os.path.dirname(os.path.abspath(__file__))


def M(v):
    """The exact value of a double in mpmath."""
    return mp.mpf(float(v))


def fl(xs):
    return " ".join(repr(float(v)) for v in xs)


# ---- math_reference.csv


def mp_lse(xs):
    xs = [M(x) for x in xs if x != -math.inf]
    if not xs:
        return -math.inf
    return mp.log(mp.fsum(mp.exp(x) for x in xs))


def mp_quantile(p):
    """Φ⁻¹(p) by Newton's method on Φ(x) = p in mpmath, from scipy's ndtri as the
    starting point (any start in the basin gives the same root)."""
    p = M(p)
    x = mp.mpf(float(special.ndtri(float(p))))
    for _ in range(20):
        x -= (mp.ncdf(x) - p) / mp.npdf(x)
    assert abs(mp.ncdf(x) / p - 1) < mp.mpf(10) ** -40
    return x


def mp_matrix(a, n):
    return mp.matrix([[M(a[i * n + j]) for j in range(n)] for i in range(n)])


MATH_CASES = {
    "log_sum_exp": [[1.0, 2.0, 3.0], [1000.0, 1000.0], [-1000.0, 0.0, -50.0], [-math.inf, 0.5], [5.0],
                    [-745.0, -746.0, -800.0]],
    "log1p_exp": [[-800.0], [-30.0], [-1.0], [0.0], [1e-10], [3.0], [40.0], [800.0]],
    "log_softmax": [[1.0, 2.0, 3.0], [-500.0, 500.0, 0.0], [0.1, 0.1]],
    "lgamma": [[0.5], [1e-8], [3.7], [100.5], [-2.5], [1e5]],
    "digamma": [[0.1], [1.0], [2.5], [30.0], [-0.5], [1e-6]],
    "lbeta": [[2.0, 3.0], [0.5, 0.5], [100.0, 200.0], [1e-3, 5.0], [7.5, 0.01]],
    "erf": [[-3.0], [-0.5], [1e-10], [0.7], [2.0]],
    "erfc": [[-1.0], [0.5], [5.0], [20.0], [26.0]],
    "std_normal_cdf": [[-37.0], [-10.0], [-1.0], [0.0], [0.3], [5.0], [8.0]],
    "std_normal_quantile": [[1e-300], [1e-20], [0.01], [0.02425], [0.3], [0.5], [0.9], [0.975],
                            [0.99999], [1.0 - 1e-10]],
    "log_diff_exp": [[0.0, -1.0], [1.0, 1.0 - 1e-12], [5.0, -40.0], [700.0, 699.0], [-3.0, -3.5]],
    "log_mix": [[0.3, -1.0, -2.0], [0.99, -800.0, -1.0], [1e-10, 0.0, 5.0], [0.5, 100.0, 100.0]],
    # weights (k values) then lps (k values)
    "log_mix_k": [[0.2, 0.5, 0.3, -1.0, -2.0, -800.0], [0.25, 0.25, 0.25, 0.25, 3.0, 1.0, -1.0, 2.0],
                  [1.0, 0.0, -4.0, 2.0]],
}


def math_value(func, a):
    if func == "log_sum_exp":
        return [mp_lse(a)]
    if func == "log1p_exp":
        return [mp.log1p(mp.exp(M(a[0])))]
    if func == "log_softmax":
        lse = mp_lse(a)
        return [M(x) - lse for x in a]
    if func == "lgamma":
        return [mp.log(abs(mp.gamma(M(a[0]))))]
    if func == "digamma":
        return [mp.digamma(M(a[0]))]
    if func == "lbeta":
        return [mp.log(mp.beta(M(a[0]), M(a[1])))]
    if func == "erf":
        return [mp.erf(M(a[0]))]
    if func == "erfc":
        return [mp.erfc(M(a[0]))]
    if func == "std_normal_cdf":
        return [mp.ncdf(M(a[0]))]
    if func == "std_normal_quantile":
        return [mp_quantile(a[0])]
    if func == "log_diff_exp":
        return [mp.log(mp.exp(M(a[0])) - mp.exp(M(a[1])))]
    if func == "log_mix":
        t, l1, l2 = (M(v) for v in a)
        return [mp.log(t * mp.exp(l1) + (1 - t) * mp.exp(l2))]
    if func == "log_mix_k":
        k = len(a) // 2
        return [mp.log(mp.fsum(M(a[i]) * mp.exp(M(a[k + i])) for i in range(k)))]
    if func in ("determinant", "log_determinant_spd"):
        n = int(round(math.sqrt(len(a))))
        d = mp.det(mp_matrix(a, n))
        return [d if func == "determinant" else mp.log(d)]
    if func == "inv_quad_form":
        # a = A (n x n, SPD) then x (n)
        n = int(round((-1 + math.sqrt(1 + 4 * len(a))) / 2))
        A = mp_matrix(a[: n * n], n)
        x = mp.matrix([M(v) for v in a[n * n:]])
        return [(x.T * A ** -1 * x)[0]]
    raise ValueError(func)


def matrix_cases(rng):
    cases = []
    for n in [2, 3, 4]:
        a = rng.normal(size=(n, n))
        cases.append(("determinant", list(a.reshape(-1))))
        spd = a @ a.T + 0.5 * np.eye(n)
        cases.append(("log_determinant_spd", list(spd.reshape(-1))))
        x = rng.normal(size=n) * 2.0
        cases.append(("inv_quad_form", list(spd.reshape(-1)) + list(x)))
    return cases


def write_math():
    rng = np.random.default_rng(20240801)
    rows = []
    cases = [(f, a) for f, args in MATH_CASES.items() for a in args] + matrix_cases(rng)
    # scipy cross-checks of the mpmath formulas, where scipy has the function
    check = {
        "log_sum_exp": lambda a: [special.logsumexp(a)],
        "log_softmax": lambda a: list(special.log_softmax(a)),
        "lgamma": lambda a: [special.gammaln(a[0])],
        "digamma": lambda a: [special.digamma(a[0])],
        "lbeta": lambda a: [special.betaln(a[0], a[1])],
        "erf": lambda a: [special.erf(a[0])],
        "erfc": lambda a: [special.erfc(a[0])],
        "std_normal_cdf": lambda a: [special.ndtr(a[0])],
        "std_normal_quantile": lambda a: [special.ndtri(a[0])],
        "determinant": lambda a: [np.linalg.det(np.reshape(a, (int(math.isqrt(len(a))),) * 2))],
    }
    for func, a in cases:
        vals = [float(v) for v in math_value(func, a)]
        if func in check:
            for got, want in zip(check[func](a), vals):
                if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                    raise SystemExit(f"{func}{a}: scipy {got!r} vs mpmath {want!r}")
        rows.append([func, fl(a), fl(vals)])
    out = os.path.join(HERE, "math_reference.csv")
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["func", "args", "values"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    write_math()
