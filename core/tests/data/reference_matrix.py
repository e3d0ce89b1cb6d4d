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


# ---- matrix_reference.csv


def lkj_log_normaliser_eq16(k, eta):
    """ln of c_K(eta) = integral of det(Omega)^(eta-1) over K x K correlation matrices,
    Lewandowski, Kurowicka and Joe (2009), eq. 16 (the onion method's product of beta
    functions) in mpmath."""
    eta = M(eta)
    ln_c = mp.mpf(0)
    for i in range(1, k):
        ln_c += (2 * eta - 2 + k - i) * (k - i) * mp.log(2)
        b = eta + mp.mpf(k - i - 1) / 2
        ln_c += (k - i) * mp.log(mp.beta(b, b))
    return ln_c


def lkj_log_normaliser_quadrature(eta):
    """ln c_3(eta) by integration over 3 x 3 correlation matrices: for fixed r12, r13,
    det(Omega) = w^2 - (r23 - r12 r13)^2 with w^2 = (1 - r12^2)(1 - r13^2), so the
    r23 integral is w^(2 eta - 1) B(1/2, eta); the remaining (r12, r13) integral is
    done numerically."""
    inner = special.beta(0.5, eta)
    f = lambda r13, r12: ((1 - r12 ** 2) * (1 - r13 ** 2)) ** (eta - 0.5) * inner
    v, err = integrate.dblquad(f, -1, 1, -1, 1, epsabs=1e-14, epsrel=1e-12)
    return math.log(v)


def stan_lkj_constant(k, eta):
    """Stan's do_lkj_constant (general branch), the formula tilde implements."""
    km1 = k - 1
    c = km1 * mp.loggamma(M(eta) + mp.mpf(km1) / 2)
    for i in range(1, k):
        c -= mp.mpf(i) / 2 * mp.log(mp.pi) + mp.loggamma(M(eta) + mp.mpf(km1 - i) / 2)
    return c


def numeric_log_jacobian(f, u):
    """ln |det J| of f at u (lists of mpf), by central differences at 50 digits."""
    h = mp.mpf(10) ** -18
    cols = []
    for j in range(len(u)):
        up = list(u); um = list(u)
        up[j] += h; um[j] -= h
        cols.append([(a - b) / (2 * h) for a, b in zip(f(up), f(um))])
    J = mp.matrix(len(u), len(u))
    for j, col in enumerate(cols):
        for i, v in enumerate(col):
            J[i, j] = v
    return mp.log(abs(mp.det(J)))


def corr_factor_from_strict(k, u):
    """L from its strictly lower entries (row by row), with L_ii = sqrt(1 - row sum)."""
    L = [[mp.mpf(0)] * k for _ in range(k)]
    L[0][0] = mp.mpf(1)
    pos = 0
    for i in range(1, k):
        for j in range(i):
            L[i][j] = u[pos]; pos += 1
        L[i][i] = mp.sqrt(1 - mp.fsum(L[i][j] ** 2 for j in range(i)))
    return L


def lower_of_product(L, k, strict):
    """The lower (strictly lower if strict) entries of L L^T, row by row."""
    out = []
    for i in range(k):
        for j in range(i if strict else i + 1):
            out.append(mp.fsum(L[i][m] * L[j][m] for m in range(k)))
    return out


def random_corr_factor(rng, k):
    L = np.zeros((k, k))
    L[0, 0] = 1.0
    for i in range(1, k):
        rest = 1.0
        for j in range(i):
            z = rng.uniform(-0.85, 0.85)
            L[i, j] = z * math.sqrt(rest)
            rest *= 1 - z * z
        L[i, i] = math.sqrt(rest)
    return L


def random_factor(rng, k, scale=1.0):
    L = np.tril(rng.normal(size=(k, k)) * 0.5 * scale)
    L[np.diag_indices(k)] = rng.uniform(0.5, 1.5, size=k) * scale
    return L


def lkj_rows(rng):
    # the normalising constant: eq. 16 against quadrature (K = 3) and Stan's formula
    for eta in [1.0, 2.5, 0.7, 6.0]:
        quad = lkj_log_normaliser_quadrature(eta)
        eq16 = float(lkj_log_normaliser_eq16(3, eta))
        if not math.isclose(quad, eq16, rel_tol=1e-8, abs_tol=1e-8):
            raise SystemExit(f"LKJ K=3 eta={eta}: quadrature {quad} vs eq. 16 {eq16}")
    for k in [2, 3, 4, 6]:
        for eta in [0.5, 1.0, 2.5, 10.0]:
            if abs(float(lkj_log_normaliser_eq16(k, eta) + stan_lkj_constant(k, eta))) > 1e-12:
                raise SystemExit(f"LKJ K={k} eta={eta}: eq. 16 vs Stan's constant")
    rows = []
    for k in [1, 2, 3, 4, 5]:
        for eta in [0.5, 1.0, 2.5, 10.0]:
            L = random_corr_factor(rng, k)
            u = [M(L[i, j]) for i in range(k) for j in range(i)]
            Lm = corr_factor_from_strict(k, u)
            omega = mp.matrix([[mp.fsum(Lm[i][m] * Lm[j][m] for m in range(k)) for j in range(k)] for i in range(k)])
            ln_jac = numeric_log_jacobian(lambda v: lower_of_product(corr_factor_from_strict(k, v), k, True), u) if u else 0
            # the Jacobian of L -> Omega is prod_i L_ii^(K - i - 1) (0-based i)
            closed = mp.fsum((k - i - 1) * mp.log(Lm[i][i]) for i in range(k))
            if abs(ln_jac - closed) > 1e-15:
                raise SystemExit(f"LKJ K={k}: numeric Jacobian {ln_jac} vs {closed}")
            value = -lkj_log_normaliser_eq16(k, eta) + (M(eta) - 1) * mp.log(mp.det(omega)) + ln_jac
            x = [float(Lm[i][j]) for i in range(k) for j in range(k)]
            rows.append(["lkj_cholesky", fl([k, eta]), fl(x), repr(float(value))])
    return rows


def wishart_rows(rng):
    """ln f(L_W) = scipy.stats.(inv)wishart(nu, S).logpdf(L_W L_W^T) + ln |J|, with
    ln |J| = K ln 2 + sum_k (K - k + 1) ln (L_W)_kk (1-based k), checked here against
    a numeric Jacobian of L -> lower(L L^T); scipy's logpdf checked against the
    density's formula in mpmath."""
    rows = []
    worst = 0.0
    for k in [1, 2, 3, 4]:
        for nu in [k - 0.5, k + 1.5, 10.3]:
            for inverse in [False, True]:
                LS = random_factor(rng, k)
                LW = random_factor(rng, k, scale=1.0 if not inverse else 0.6)
                S, W = LS @ LS.T, LW @ LW.T
                d = stats.invwishart(df=nu, scale=S) if inverse else stats.wishart(df=nu, scale=S)
                sp = float(d.logpdf(W))
                Sm, Wm = mp_matrix(S.reshape(-1), k), mp_matrix(W.reshape(-1), k)
                mvgamma = k * (k - 1) / mp.mpf(4) * mp.log(mp.pi) + mp.fsum(mp.loggamma(M(nu) / 2 - mp.mpf(i) / 2) for i in range(k))
                if inverse:
                    exact = (M(nu) / 2 * mp.log(mp.det(Sm)) - M(nu) * k / 2 * mp.log(2) - mvgamma
                             - (M(nu) + k + 1) / 2 * mp.log(mp.det(Wm)) - sum((Sm * Wm ** -1)[i, i] for i in range(k)) / 2)
                else:
                    exact = (-M(nu) * k / 2 * mp.log(2) - mvgamma - M(nu) / 2 * mp.log(mp.det(Sm))
                             + (M(nu) - k - 1) / 2 * mp.log(mp.det(Wm)) - sum((Sm ** -1 * Wm)[i, i] for i in range(k)) / 2)
                worst = max(worst, abs(sp - float(exact)) / max(abs(float(exact)), 1))
                if not math.isclose(sp, float(exact), rel_tol=1e-10, abs_tol=1e-10):
                    raise SystemExit(f"wishart K={k} nu={nu} inverse={inverse}: scipy {sp} vs {exact}")
                ln_jac = k * math.log(2) + sum((k - i) * math.log(LW[i, i]) for i in range(k))
                if k in (2, 3):
                    u = [M(LW[i, j]) for i in range(k) for j in range(i + 1)]
                    def to_lower_w(v):
                        L = [[mp.mpf(0)] * k for _ in range(k)]
                        pos = 0
                        for i in range(k):
                            for j in range(i + 1):
                                L[i][j] = v[pos]; pos += 1
                        return lower_of_product(L, k, False)
                    num = numeric_log_jacobian(to_lower_w, u)
                    if abs(float(num) - ln_jac) > 1e-12:
                        raise SystemExit(f"wishart Jacobian K={k}: numeric {num} vs {ln_jac}")
                name = "inv_wishart_cholesky" if inverse else "wishart_cholesky"
                rows.append([name, fl([nu, *LS.reshape(-1)]), fl(LW.reshape(-1)), repr(sp + ln_jac)])
    print(f"largest scipy vs mpmath disagreement for the Wisharts: {worst:.2e}")
    return rows


def low_rank_rows(rng):
    """params = n, r, mean (n), W (n x r row-major), d (n);
    ln_pdf = scipy.stats.multivariate_normal(mean, W W^T + diag(d)).logpdf(x), checked
    against the dense formula in mpmath."""
    rows = []
    for n, r in [(1, 1), (3, 1), (4, 2), (6, 3), (5, 0)]:
        for case in range(2):
            mean = rng.normal(size=n)
            W = rng.normal(size=(n, r)) * (1.0 + case)
            d = rng.uniform(0.2, 2.0, size=n)
            x = mean + rng.normal(size=n) * (1.0 + 2.0 * case)
            cov = W @ W.T + np.diag(d)
            sp = float(stats.multivariate_normal(mean, cov).logpdf(x))
            C = mp_matrix(cov.reshape(-1), n)
            res = mp.matrix([M(x[i]) - M(mean[i]) for i in range(n)])
            exact = -n * mp.log(2 * mp.pi) / 2 - mp.log(mp.det(C)) / 2 - (res.T * C ** -1 * res)[0] / 2
            if not math.isclose(sp, float(exact), rel_tol=1e-12, abs_tol=1e-12):
                raise SystemExit(f"low-rank n={n} r={r}: scipy {sp} vs {exact}")
            rows.append(["low_rank_mvn", fl([n, r, *mean, *W.reshape(-1), *d]), fl(x), repr(sp)])
    return rows


def mixture_rows():
    """mixture_normal: params = (w, loc, scale) per component; mixture_poisson: params
    = (w, rate) per component. ln_pdf = ln sum_k w_k f_k(x) in mpmath, checked against
    scipy.special.logsumexp of scipy's component log-densities plus ln w_k."""
    rows = []
    normal_cases = [
        ([0.3, 0.7], [-1.0, 2.0], [0.5, 1.0], [-1.0, 0.4, 3.0, 30.0, -200.0]),
        ([0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 2.0, 3.0], [1.0, 0.1, 2.0, 0.5], [1.0, 2.5, -4.0]),
        ([1.0], [0.5], [2.0], [0.0, 7.0]),
        (list(np.arange(1, 11) / 55.0), list(np.linspace(-5, 5, 10)), [0.3] * 10, [-5.2, 0.0, 4.9, 12.0]),
        ([0.999999, 1e-6], [0.0, 10.0], [1.0, 1.0], [0.0, 10.0, 40.0]),
    ]
    for w, mu, sd, xs in normal_cases:
        for x in xs:
            exact = mp.log(mp.fsum(M(wk) * mp.npdf(M(x), M(m), M(s)) for wk, m, s in zip(w, mu, sd)))
            if exact == -mp.inf:
                raise SystemExit("underflow in mpmath")
            sp = special.logsumexp([stats.norm(m, s).logpdf(x) + math.log(wk) for wk, m, s in zip(w, mu, sd)])
            if not math.isclose(sp, float(exact), rel_tol=1e-12, abs_tol=1e-12):
                raise SystemExit(f"mixture normal {w} at {x}: scipy {sp} vs {exact}")
            params = [v for triple in zip(w, mu, sd) for v in triple]
            rows.append(["mixture_normal", fl(params), fl([x]), repr(float(exact))])
    for w, rates, ks in [([0.4, 0.6], [1.0, 6.0], [0, 3, 12]), ([0.2, 0.5, 0.3], [0.5, 20.0, 100.0], [0, 1, 20, 95, 300])]:
        for k in ks:
            exact = mp.log(mp.fsum(M(wk) * mp.exp(k * mp.log(M(r)) - M(r) - mp.loggamma(k + 1)) for wk, r in zip(w, rates)))
            sp = special.logsumexp([stats.poisson(r).logpmf(k) + math.log(wk) for wk, r in zip(w, rates)])
            if not math.isclose(sp, float(exact), rel_tol=1e-11, abs_tol=1e-12):
                raise SystemExit(f"mixture poisson {w} at {k}: scipy {sp} vs {exact}")
            params = [v for pair in zip(w, rates) for v in pair]
            rows.append(["mixture_poisson", fl(params), fl([k]), repr(float(exact))])
    return rows


def matrix_rows():
    rng = np.random.default_rng(20240802)
    return lkj_rows(rng) + wishart_rows(rng) + low_rank_rows(rng) + mixture_rows()


def write_matrix():
    out = os.path.join(HERE, "matrix_reference.csv")
    rows = matrix_rows()
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dist", "params", "x", "ln_pdf"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {out} with scipy {scipy.__version__}")


if __name__ == "__main__":
    write_math()
    write_matrix()
