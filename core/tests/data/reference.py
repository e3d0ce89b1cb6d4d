#!/usr/bin/env python3
"""Reference log-densities for tilde's distributions.

Writes ln_pdf_reference.csv next to this file, with columns

    dist,p1,p2,p3,x,ln_pdf

where p1..p3 are the constructor arguments in tilde's order (empty when unused) and
ln_pdf is written with repr(), which round-trips the double exactly (at most 17
significant digits). Run it from anywhere: python3 reference.py

Sources
  * Families that scipy.stats has in tilde's parameterisation (all but the logit and
    log-rate forms): scipy.stats logpdf / logpmf (scipy 1.17). Stan's parameterisations
    are mapped as: gamma(a=shape, scale=1/rate), invgamma(a=shape, scale=scale),
    lognorm(s=scale, scale=exp(loc)), t(df=nu, loc, scale), uniform(loc=low,
    scale=high-low), binom(n, p), poisson(mu), bernoulli(p).
  * bernoulli_logit, binomial_logit, poisson_log_rate: scipy.stats has no such
    parameterisation, and turning eta into p = expit(eta) or mu = exp(eta) in double
    precision before calling it loses the very accuracy these rows test (1 - p rounds
    to 0 for eta = 40), as does scipy's gammaln(n + 1) for n beyond about 1000. Their
    values come from mpmath at 50 digits; where |eta| <= 5 and n <= 1000 they are also
    checked against scipy.stats at p = expit(eta) / mu = exp(eta).
  * Every scipy value is checked against the same formula in mpmath at 50 digits
    (relative SCIPY_TOL = 2.5e-13, absolute when |value| < 1), so the file is
    accurate to a quarter of the 1e-12 tolerance of core/tests/reference_values.rs.
    A row where they disagree stops the script; the largest disagreement is printed.
    (scipy loses accuracy through cancellation: a few 1e-14 in t for large nu, via
    poch(nu/2, 1/2), and about 2e-13 in binom for n = 1000 and in poisson for
    mu = 1000, via gammaln.)

scipy.stats.laplace has no logpdf of its own (it takes the log of an underflowing pdf
beyond about 745 scales), so its rows stay within that range.

Rows with ln_pdf = -inf lie outside the support; scipy returns -inf for them too. Points
on the boundary of an open support (x = 0 for the half-line families, the ends of the
uniform and beta), where scipy returns the density's limit but tilde returns -inf, are
left out here and tested in the distributions' unit tests.
"""

import csv
import math
import os

import mpmath as mp
import numpy as np
import scipy
from scipy import special, stats

mp.mp.dps = 50
NEG_INF = float("-inf")
# How far a scipy value may be from mpmath: a quarter of the Rust test's tolerance.
SCIPY_TOL = 2.5e-13


def M(v):
    """The exact value of a double in mpmath."""
    return mp.mpf(float(v))


def mp_or_ninf(f):
    def g(*args):
        v = f(*[M(a) for a in args])
        return NEG_INF if v is None else float(v)

    return g


# ---- mpmath formulas, one per family: f(params..., x) -> ln density or None for -inf.

def mp_normal(mu, s, x):
    z = (x - mu) / s
    return -z * z / 2 - mp.log(s) - mp.log(2 * mp.pi) / 2


def mp_half_normal(s, x):
    if x <= 0:
        return None
    return mp.log(2) - (x / s) ** 2 / 2 - mp.log(s) - mp.log(2 * mp.pi) / 2


def mp_log_normal(mu, s, x):
    if x <= 0:
        return None
    z = (mp.log(x) - mu) / s
    return -z * z / 2 - mp.log(x) - mp.log(s) - mp.log(2 * mp.pi) / 2


def mp_cauchy(mu, s, x):
    z = (x - mu) / s
    return -mp.log(1 + z * z) - mp.log(s) - mp.log(mp.pi)


def mp_half_cauchy(s, x):
    if x <= 0:
        return None
    return mp.log(2) - mp.log(1 + (x / s) ** 2) - mp.log(s) - mp.log(mp.pi)


def mp_student_t(nu, mu, s, x):
    z = (x - mu) / s
    return (mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(nu * mp.pi) / 2
            - mp.log(s) - (nu + 1) / 2 * mp.log(1 + z * z / nu))


def mp_laplace(mu, b, x):
    return -abs(x - mu) / b - mp.log(b) - mp.log(2)


def mp_exponential(rate, x):
    if x <= 0:
        return None
    return mp.log(rate) - rate * x


def mp_gamma(a, b, x):
    if x <= 0:
        return None
    return a * mp.log(b) - mp.loggamma(a) + (a - 1) * mp.log(x) - b * x


def mp_inverse_gamma(a, b, x):
    if x <= 0:
        return None
    return a * mp.log(b) - mp.loggamma(a) - (a + 1) * mp.log(x) - b / x


def mp_beta(a, b, x):
    if x <= 0 or x >= 1:
        return None
    lbeta = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
    return (a - 1) * mp.log(x) + (b - 1) * mp.log(1 - x) - lbeta


def mp_uniform(lo, hi, x):
    if x <= lo or x >= hi:
        return None
    return -mp.log(hi - lo)


def is_count(k):
    return k >= 0 and k == mp.floor(k)


def mp_binomial_p(n, p, k):
    if not is_count(k) or k > n:
        return None
    v = mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
    if k > 0:
        if p == 0:
            return None
        v += k * mp.log(p)
    if n - k > 0:
        if p == 1:
            return None
        v += (n - k) * mp.log(1 - p)
    return v


def mp_bernoulli(p, x):
    return mp_binomial_p(1, p, x)


def expit(eta):
    return 1 / (1 + mp.exp(-eta))


def mp_bernoulli_logit(eta, x):
    return mp_binomial_p(1, expit(eta), x)


def mp_binomial_logit(n, eta, k):
    return mp_binomial_p(n, expit(eta), k)


def mp_poisson(mu, k):
    if not is_count(k):
        return None
    if k == 0:
        return -mu
    if mu == 0:
        return None
    return k * mp.log(mu) - mu - mp.loggamma(k + 1)


def mp_poisson_log_rate(eta, k):
    return mp_poisson(mp.exp(eta), k)


# ---- scipy.stats, in tilde's parameter order.

SCIPY = {
    "normal": lambda mu, s, x: stats.norm(mu, s).logpdf(x),
    "half_normal": lambda s, x: stats.halfnorm(scale=s).logpdf(x),
    "log_normal": lambda mu, s, x: stats.lognorm(s=s, scale=np.exp(mu)).logpdf(x),
    "cauchy": lambda mu, s, x: stats.cauchy(mu, s).logpdf(x),
    "half_cauchy": lambda s, x: stats.halfcauchy(scale=s).logpdf(x),
    "student_t": lambda nu, mu, s, x: stats.t(nu, mu, s).logpdf(x),
    "laplace": lambda mu, b, x: stats.laplace(mu, b).logpdf(x),
    "exponential": lambda rate, x: stats.expon(scale=1 / rate).logpdf(x),
    "gamma": lambda a, b, x: stats.gamma(a, scale=1 / b).logpdf(x),
    "inverse_gamma": lambda a, b, x: stats.invgamma(a, scale=b).logpdf(x),
    "beta": lambda a, b, x: stats.beta(a, b).logpdf(x),
    "uniform": lambda lo, hi, x: stats.uniform(loc=lo, scale=hi - lo).logpdf(x),
    "bernoulli": lambda p, x: stats.bernoulli(p).logpmf(x),
    "binomial": lambda n, p, k: stats.binom(n, p).logpmf(k),
    "poisson": lambda mu, k: stats.poisson(mu).logpmf(k),
    # sanity checks only (see the module docstring)
    "bernoulli_logit": lambda eta, x: stats.bernoulli(special.expit(eta)).logpmf(x),
    "binomial_logit": lambda n, eta, k: stats.binom(n, special.expit(eta)).logpmf(k),
    "poisson_log_rate": lambda eta, k: stats.poisson(np.exp(eta)).logpmf(k),
}

MPMATH = {
    "normal": mp_normal,
    "half_normal": mp_half_normal,
    "log_normal": mp_log_normal,
    "cauchy": mp_cauchy,
    "half_cauchy": mp_half_cauchy,
    "student_t": mp_student_t,
    "laplace": mp_laplace,
    "exponential": mp_exponential,
    "gamma": mp_gamma,
    "inverse_gamma": mp_inverse_gamma,
    "beta": mp_beta,
    "uniform": mp_uniform,
    "bernoulli": mp_bernoulli,
    "binomial": mp_binomial_p,
    "poisson": mp_poisson,
    "bernoulli_logit": mp_bernoulli_logit,
    "binomial_logit": mp_binomial_logit,
    "poisson_log_rate": mp_poisson_log_rate,
}

FROM_MPMATH = {"bernoulli_logit", "binomial_logit", "poisson_log_rate"}

# ---- cases: dist -> list of (params, xs). Tails, near-boundary points and points
# outside the support (expected -inf) for every family.

CASES = {
    "normal": [
        ((0.0, 1.0), [0.0, 1.0, -2.5, 8.0, -37.0]),
        ((1.0, 2.0), [2.0, -3.0, 100.0]),
        ((-3.0, 0.1), [2.0, -3.05, -3.0]),
        ((1e3, 1e-3), [1e3, 1000.004, 999.9]),
    ],
    "half_normal": [
        ((1.0,), [1e-300, 1e-8, 0.5, 1.0, 3.0, 38.0, -1.0]),
        ((0.5,), [0.25, 2.0, 1e-4]),
        ((30.0,), [1.0, 30.0, 400.0, -1e-10]),
    ],
    "log_normal": [
        ((0.0, 1.0), [1e-300, 1e-5, 0.5, 1.0, 7.5, 1e10, 0.0, -1.0]),
        ((2.0, 0.5), [1.0, 7.389056098930650, 20.0, 1e3]),
        ((-1.0, 3.0), [1e-20, 0.3, 1e20]),
    ],
    "cauchy": [
        ((0.0, 1.0), [0.0, 1e-9, 0.5, 1.0, -3.0, 1e8, -1e200]),
        ((2.0, 0.5), [2.0, 2.4, -10.0]),
        ((-1e3, 20.0), [-1e3, 0.0, 1e6]),
    ],
    "half_cauchy": [
        ((1.0,), [1e-300, 0.1, 1.0, 10.0, 1e6, 1e100, -1.0]),
        ((0.2,), [0.05, 0.2, 7.0]),
        ((1e4,), [1.0, 1e4, 3e8, -5.0]),
    ],
    "student_t": [
        ((1.0, 0.0, 1.0), [0.0, 1.0, -30.0]),
        ((2.5, 1.0, 2.0), [1.0, 3.0, -20.0, 1e5]),
        ((0.3, 0.0, 1.0), [0.0, 2.0, 1e10]),
        ((4.0, -2.0, 0.5), [-2.0, -1.0, 3.0]),
        ((29.5, 0.0, 1.0), [0.0, 1.5, -6.0]),
        ((30.0, 0.0, 1.0), [0.0, 1.5, -6.0]),
        ((100.0, -2.0, 0.5), [-2.0, 0.0, -9.0]),
        ((1e6, 0.0, 1.0), [0.0, 1.0, 5.0]),
    ],
    "laplace": [
        ((0.0, 1.0), [0.0, 1e-10, 1.0, -2.0, 700.0]),
        ((-2.0, 0.3), [-2.0, -1.7, 5.0]),
        ((100.0, 50.0), [100.0, -1e4, 3e4]),
    ],
    "exponential": [
        ((1.0,), [1e-300, 1e-3, 1.0, 10.0, 700.0, -1.0]),
        ((0.01,), [0.5, 100.0, 1e5]),
        ((250.0,), [1e-6, 0.004, 2.0, -1e-9]),
    ],
    "gamma": [
        ((2.0, 3.0), [1e-300, 1e-10, 0.5, 1.0, 10.0, 0.0, -1.0]),
        ((0.5, 1.0), [1e-12, 0.1, 1.0, 30.0]),
        ((1.0, 2.0), [1e-8, 0.5, 4.0]),
        ((7.5, 0.25), [1.0, 30.0, 200.0]),
        ((100.0, 10.0), [5.0, 10.0, 15.0]),
        ((0.01, 0.01), [1e-100, 1.0, 1e3]),
        ((3.0, 1e4), [1e-4, 3e-4, 1e-2]),
    ],
    "inverse_gamma": [
        ((2.0, 1.0), [1e-3, 0.1, 0.5, 1.0, 2.0, 1e5, 0.0, -1.0]),
        ((0.5, 3.0), [0.5, 6.0, 1e8]),
        ((10.0, 20.0), [0.5, 2.0, 40.0]),
        ((100.0, 50.0), [0.3, 0.5, 0.9]),
    ],
    "beta": [
        ((2.0, 3.0), [1e-300, 1e-10, 0.2, 0.5, 0.999999, 0.0, 1.0, -0.1, 1.5]),
        ((0.5, 0.5), [1e-12, 0.5, 0.9999999999]),
        ((1.0, 1.0), [0.3, 0.999]),
        ((1.0, 5.0), [0.01, 0.5]),
        ((20.0, 0.3), [0.5, 0.99, 0.9999999]),
        ((200.0, 300.0), [0.3, 0.4, 0.55]),
    ],
    "uniform": [
        ((0.0, 1.0), [1e-300, 0.5, 0.999999, -0.5, 1.5]),
        ((-3.0, 5.0), [-2.999, 0.0, 4.0, -4.0, 6.0]),
        ((1e-3, 2e-3), [1.5e-3, 3e-3]),
        ((-1e6, 1e6), [0.0, 999999.0]),
    ],
    "bernoulli": [
        ((0.3,), [0.0, 1.0, 2.0, 0.5, -1.0]),
        ((1e-10,), [0.0, 1.0]),
        ((0.999,), [0.0, 1.0]),
        ((0.0,), [0.0, 1.0]),
        ((1.0,), [0.0, 1.0]),
    ],
    "bernoulli_logit": [
        ((-40.0,), [0.0, 1.0]),
        ((-3.0,), [0.0, 1.0, 0.5]),
        ((0.0,), [0.0, 1.0]),
        ((2.5,), [0.0, 1.0, 2.0]),
        ((40.0,), [0.0, 1.0]),
    ],
    "binomial": [
        ((10.0, 0.3), [0.0, 1.0, 3.0, 10.0, -1.0, 11.0, 2.5]),
        ((1.0, 0.5), [0.0, 1.0]),
        ((100.0, 0.01), [0.0, 1.0, 5.0, 60.0]),
        ((1000.0, 0.5), [500.0, 450.0, 0.0]),
        ((20.0, 0.0), [0.0, 1.0]),
        ((20.0, 1.0), [20.0, 19.0]),
        ((0.0, 0.4), [0.0, 1.0]),
    ],
    "binomial_logit": [
        ((10.0, -2.0), [0.0, 1.0, 4.0, 10.0, 11.0]),
        ((50.0, 30.0), [50.0, 49.0, 0.0]),
        ((50.0, -30.0), [0.0, 1.0, 50.0]),
        ((1000.0, 0.1), [500.0, 525.0, 2.5]),
        ((1e5, 0.3), [57444.0, 57000.0, 0.0, 1e5]),
        ((1e6, -4.0), [17986.0, 1.0, 999999.0]),
    ],
    "poisson": [
        ((0.5,), [0.0, 1.0, 4.0, 30.0, -1.0, 2.5]),
        ((3.0,), [0.0, 3.0, 12.0]),
        ((1000.0,), [1000.0, 900.0, 0.0]),
        ((1e-8,), [0.0, 1.0, 3.0]),
        ((0.0,), [0.0, 1.0]),
    ],
    "poisson_log_rate": [
        ((-5.0,), [0.0, 1.0, 4.0]),
        ((0.0,), [0.0, 1.0, 10.0, 0.5]),
        ((2.0,), [5.0, 20.0]),
        ((10.0,), [22026.0, 20000.0]),
        ((50.0,), [0.0, 5.184705528587072e21]),
    ],
}


def agree(a, b, tol):
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(abs(b), 1.0)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ln_pdf_reference.csv")
    rows = []
    worst = (0.0, "", (), 0.0)
    for dist, cases in CASES.items():
        for params, xs in cases:
            for x in xs:
                exact = mp_or_ninf(MPMATH[dist])(*params, x)
                sp = float(SCIPY[dist](*params, x))
                if dist in FROM_MPMATH:
                    value = exact
                    checkable = abs(params[-1]) <= 5 and (dist != "binomial_logit" or params[0] <= 1000)
                    if checkable and not agree(sp, exact, SCIPY_TOL):
                        raise SystemExit(f"{dist}{params} x={x}: scipy {sp!r} vs mpmath {exact!r}")
                else:
                    value = sp
                    if math.isfinite(sp) and math.isfinite(exact):
                        dev = abs(sp - exact) / max(abs(exact), 1.0)
                        worst = max(worst, (dev, dist, params, x))
                    if not agree(sp, exact, SCIPY_TOL):
                        raise SystemExit(f"{dist}{params} x={x}: scipy {sp!r} vs mpmath {exact!r}")
                ps = [repr(float(p)) for p in params] + [""] * (3 - len(params))
                rows.append([dist, *ps, repr(float(x)), repr(value)])
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dist", "p1", "p2", "p3", "x", "ln_pdf"])
        w.writerows(rows)
    n_inf = sum(r[-1] == "-inf" for r in rows)
    print(f"wrote {len(rows)} rows ({n_inf} at -inf) to {out} with scipy {scipy.__version__}")
    print("largest scipy vs mpmath disagreement: {:.2e} at {}{} x={}".format(*worst))


if __name__ == "__main__":
    main()
