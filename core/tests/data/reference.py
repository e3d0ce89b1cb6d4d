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

The second batch of families (appended after the rows above) maps as: half_student_t
= ln 2 + t(nu, 0, scale) on x > 0, weibull_min(c=shape, scale), logistic(loc, scale),
gumbel_r(loc, scale), pareto(b=shape, scale), vonmises(kappa, loc) (periodic in scipy;
tilde's support is the window loc +- pi, so rows outside it are -inf), skewnorm(a=alpha,
loc, scale), nbinom(n=r, p), betabinom(n, a, b) and geom(p) at k + 1 (scipy counts
trials). negative_binomial (mean, dispersion) and zero_inflated_poisson come from mpmath
(scipy has neither parameterisation) and are checked against nbinom(phi, phi/(mu + phi))
and the mixture formula with scipy's poisson. Truncated distributions are written to
truncated_reference.csv (see truncated_rows below).

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


# ---- families added with the second batch of distributions (appended, so the rows
# above keep their order and values).

def mp_half_student_t(nu, s, x):
    if x <= 0:
        return None
    return mp.log(2) + mp_student_t(nu, 0, s, x)


def mp_weibull(k, lam, x):
    if x <= 0:
        return None
    return mp.log(k) - mp.log(lam) + (k - 1) * mp.log(x / lam) - (x / lam) ** k


def mp_logistic(mu, s, x):
    z = (x - mu) / s
    return -z - 2 * mp.log(1 + mp.exp(-z)) - mp.log(s)


def mp_gumbel(mu, b, x):
    z = (x - mu) / b
    return -z - mp.exp(-z) - mp.log(b)


def mp_pareto(xm, alpha, x):
    if x <= xm:
        return None
    return mp.log(alpha) + alpha * mp.log(xm) - (alpha + 1) * mp.log(x)


def mp_von_mises(mu, kappa, x):
    if not abs(x - mu) < mp.pi:
        return None
    return kappa * mp.cos(x - mu) - mp.log(2 * mp.pi) - mp.log(mp.besseli(0, kappa))


def mp_skew_normal(xi, omega, alpha, x):
    z = (x - xi) / omega
    return mp.log(2) - mp.log(omega) - mp.log(2 * mp.pi) / 2 - z * z / 2 + mp.log(mp.ncdf(alpha * z))


def mp_nbinom(r, p, k):
    """Failures before the r-th success; p given exactly (it may be 1)."""
    if not is_count(k):
        return None
    v = mp.loggamma(k + r) - mp.loggamma(k + 1) - mp.loggamma(r) + r * mp.log(p)
    if k > 0:
        if p == 1:
            return None
        v += k * mp.log(1 - p)
    return v


def mp_negative_binomial(mu, phi, k):
    if mu == 0:
        return mp.mpf(0) if k == 0 else None
    return mp_nbinom(phi, phi / (mu + phi), k)


def mp_beta_binomial(n, a, b, k):
    if not is_count(k) or k > n:
        return None
    lbeta = lambda u, v: mp.loggamma(u) + mp.loggamma(v) - mp.loggamma(u + v)
    lchoose = mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
    return lchoose + lbeta(k + a, n - k + b) - lbeta(a, b)


def mp_geometric(p, k):
    return mp_nbinom(1, p, k)


def mp_zero_inflated_poisson(pi, lam, k):
    if not is_count(k):
        return None
    if k == 0:
        return mp.log(pi + (1 - pi) * mp.exp(-lam))
    if pi == 1 or lam == 0:
        return None
    return mp.log(1 - pi) + mp_poisson(lam, k)


def sp_von_mises(mu, kappa, x):
    # scipy's vonmises is periodic on all of R; tilde's support is the window
    # (mu - pi, mu + pi), as Stan's, so rows outside it are -inf.
    if not abs(x - mu) < np.pi:
        return NEG_INF
    return stats.vonmises(kappa, loc=mu).logpdf(x)


def sp_zero_inflated_poisson(pi, lam, k):
    pois = stats.poisson(lam).logpmf(k)
    with np.errstate(divide="ignore"):  # log 0 = -inf at pi = 0 and pi = 1
        if k == 0:
            return np.logaddexp(np.log(pi), np.log1p(-pi) + pois)
        return np.log1p(-pi) + pois


SCIPY.update({
    "half_student_t": lambda nu, s, x: np.log(2) + stats.t(nu, 0, s).logpdf(x) if x > 0 else NEG_INF,
    "weibull": lambda k, lam, x: stats.weibull_min(k, scale=lam).logpdf(x),
    "logistic": lambda mu, s, x: stats.logistic(mu, s).logpdf(x),
    "gumbel": lambda mu, b, x: stats.gumbel_r(mu, b).logpdf(x),
    "pareto": lambda xm, alpha, x: stats.pareto(b=alpha, scale=xm).logpdf(x),
    "von_mises": sp_von_mises,
    "skew_normal": lambda xi, omega, alpha, x: stats.skewnorm(alpha, xi, omega).logpdf(x),
    "negative_binomial_probs": lambda r, p, k: stats.nbinom(r, p).logpmf(k),
    "beta_binomial": lambda n, a, b, k: stats.betabinom(n, a, b).logpmf(k),
    "geometric": lambda p, k: stats.geom(p).logpmf(k + 1),
    # sanity checks only: scipy.stats lacks these parameterisations
    "negative_binomial": lambda mu, phi, k: stats.nbinom(phi, phi / (mu + phi)).logpmf(k),
    "zero_inflated_poisson": sp_zero_inflated_poisson,
})

MPMATH.update({
    "half_student_t": mp_half_student_t,
    "weibull": mp_weibull,
    "logistic": mp_logistic,
    "gumbel": mp_gumbel,
    "pareto": mp_pareto,
    "von_mises": mp_von_mises,
    "skew_normal": mp_skew_normal,
    "negative_binomial_probs": mp_nbinom,
    "beta_binomial": mp_beta_binomial,
    "geometric": mp_geometric,
    "negative_binomial": mp_negative_binomial,
    "zero_inflated_poisson": mp_zero_inflated_poisson,
})

# negative_binomial (Stan's neg_binomial_2): scipy needs p = phi/(mu + phi), rounded, so
# its values come from mpmath and scipy only checks them where that rounding is harmless.
# zero_inflated_poisson: scipy.stats has no such family; the formula with scipy's poisson
# is the check.
FROM_MPMATH |= {"negative_binomial", "zero_inflated_poisson"}
CHECKABLE = {
    "negative_binomial": lambda params, x: params[1] <= 1e3 and x <= 1e3,
    "zero_inflated_poisson": lambda params, x: True,
}

CASES.update({
    "half_student_t": [
        ((3.0, 1.0), [1e-300, 0.5, 1.0, 40.0, 0.0, -1.0]),
        ((0.5, 2.0), [1e-3, 3.0, 1e10]),
        ((30.0, 0.3), [0.1, 0.9, 5.0]),
        ((1e6, 1.0), [0.5, 2.0, -0.5]),
    ],
    "weibull": [
        ((1.5, 2.0), [1e-300, 1e-4, 0.5, 2.0, 9.0, 0.0, -1.0]),
        ((0.4, 1.0), [1e-10, 1.0, 300.0]),
        ((1.0, 0.5), [0.2, 3.0]),
        ((12.0, 3.0), [2.5, 3.0, 3.6, -2.0]),
    ],
    "logistic": [
        ((0.0, 1.0), [0.0, 1e-8, 1.0, -3.0, 30.0, -700.0]),
        ((2.0, 0.5), [2.0, 2.7, -5.0]),
        ((-100.0, 20.0), [-100.0, 0.0, 1e4]),
    ],
    "gumbel": [
        ((0.0, 1.0), [0.0, 1.0, -2.0, 5.0, 600.0, -6.0]),
        ((3.0, 0.5), [3.0, 2.0, 10.0]),
        ((-50.0, 10.0), [-50.0, -70.0, 100.0]),
    ],
    "pareto": [
        ((1.0, 3.0), [1.0000001, 1.5, 2.0, 1e5, 0.5, -1.0]),
        ((2.5, 0.5), [2.6, 10.0, 1e100]),
        ((1e-3, 20.0), [1.1e-3, 2e-3, 1e-4]),
    ],
    "von_mises": [
        ((0.0, 2.0), [0.0, 0.5, -1.5, 3.1, 3.2, -4.0]),
        ((1.0, 1e-8), [1.0, -2.0, 4.0]),
        ((-2.0, 0.5), [-2.0, 0.0, -5.1]),
        ((0.5, 19.9), [0.5, 0.8, -1.0]),
        ((0.5, 20.0), [0.5, 0.8, -1.0]),
        ((3.0, 1e3), [3.0, 3.05, 2.5, 7.0]),
        ((0.0, 1e6), [0.0, 1e-3, 0.01]),
    ],
    "skew_normal": [
        ((0.0, 1.0, 0.0), [0.0, 1.0, -2.0]),
        ((1.0, 2.0, 3.0), [1.0, 4.0, 0.0, -5.0, -20.0]),
        ((0.0, 1.0, -4.0), [-1.0, 0.5, 2.0, 10.0]),
        ((-2.0, 0.5, 50.0), [-2.0, -1.0, -2.5, -3.0]),
    ],
    "negative_binomial": [
        ((3.0, 2.0), [0.0, 1.0, 3.0, 20.0, -1.0, 2.5]),
        ((0.5, 0.1), [0.0, 1.0, 5.0]),
        ((100.0, 30.0), [0.0, 80.0, 100.0, 300.0]),
        ((1e4, 5.0), [1e4, 50.0, 0.0]),
        ((4.0, 1e6), [0.0, 4.0, 12.0]),
        ((2.0, 1e12), [0.0, 2.0, 7.0]),
        ((0.0, 3.0), [0.0, 1.0]),
    ],
    "negative_binomial_probs": [
        ((2.0, 0.5), [0.0, 1.0, 2.0, 10.0, -1.0, 0.5]),
        ((0.3, 0.1), [0.0, 1.0, 7.0, 100.0]),
        ((50.0, 0.7), [0.0, 21.0, 60.0]),
        ((5.0, 1.0), [0.0, 1.0]),
        ((60.0, 0.95), [0.0, 1.0, 4.0]),
    ],
    "beta_binomial": [
        ((10.0, 2.0, 3.0), [0.0, 1.0, 4.0, 10.0, -1.0, 11.0, 2.5]),
        ((1.0, 0.5, 0.5), [0.0, 1.0]),
        ((50.0, 0.2, 0.9), [0.0, 3.0, 25.0, 50.0]),
        ((200.0, 30.0, 70.0), [0.0, 60.0, 150.0]),
        ((0.0, 1.0, 2.0), [0.0, 1.0]),
    ],
    "geometric": [
        ((0.3,), [0.0, 1.0, 5.0, 100.0, -1.0, 1.5]),
        ((1e-6,), [0.0, 1e6, 3e7]),
        ((0.999,), [0.0, 1.0, 4.0]),
        ((1.0,), [0.0, 1.0]),
    ],
    "zero_inflated_poisson": [
        ((0.3, 2.0), [0.0, 1.0, 4.0, 20.0, -1.0, 0.5]),
        ((0.0, 3.0), [0.0, 2.0]),
        ((1.0, 3.0), [0.0, 2.0]),
        ((0.05, 40.0), [0.0, 40.0, 1.0]),
        ((0.9, 1e-6), [0.0, 1.0]),
        ((0.5, 0.0), [0.0, 1.0]),
    ],
})


# ---- truncated distributions: truncated_reference.csv, columns
#
#     dist,p1,p2,low,high,x,ln_pdf
#
# with p1, p2 the parameters of the distribution before truncation (p2 empty for the
# exponential) and low, high the bounds (inf and -inf allowed). Values: ln g(x) -
# ln(G(b) - G(a)) in mpmath at 60 digits, with the mass from the survival function when
# the interval lies above the median; checked against scipy.stats.truncnorm and
# truncexpon for those two families and, for the others, against scipy's logpdf minus
# the log-mass from its logcdf / logsf.

def mp_std_cdfs(family, p1, p2):
    """(ln g, G, 1 - G) of a family in mpmath."""
    if family == "normal":
        return (lambda x: mp_normal(p1, p2, x),
                lambda x: mp.ncdf((x - p1) / p2),
                lambda x: mp.ncdf((p1 - x) / p2))
    if family == "exponential":
        return (lambda x: mp_exponential(p1, x),
                lambda x: 1 - mp.exp(-p1 * x) if x > 0 else mp.mpf(0),
                lambda x: mp.exp(-p1 * x) if x > 0 else mp.mpf(1))
    if family == "logistic":
        return (lambda x: mp_logistic(p1, p2, x),
                lambda x: 1 / (1 + mp.exp(-(x - p1) / p2)),
                lambda x: 1 / (1 + mp.exp((x - p1) / p2)))
    if family == "cauchy":
        return (lambda x: mp_cauchy(p1, p2, x),
                lambda x: mp.mpf(1) / 2 + mp.atan((x - p1) / p2) / mp.pi,
                lambda x: mp.mpf(1) / 2 - mp.atan((x - p1) / p2) / mp.pi)
    if family == "gumbel":
        return (lambda x: mp_gumbel(p1, p2, x),
                lambda x: mp.exp(-mp.exp(-(x - p1) / p2)),
                lambda x: -mp.expm1(-mp.exp(-(x - p1) / p2)))
    if family == "weibull":
        return (lambda x: mp_weibull(p1, p2, x),
                lambda x: -mp.expm1(-(x / p2) ** p1) if x > 0 else mp.mpf(0),
                lambda x: mp.exp(-(x / p2) ** p1) if x > 0 else mp.mpf(1))
    raise ValueError(family)


def mp_truncated(family, p1, p2, lo, hi, x):
    with mp.workdps(60):
        ln_g, cdf, ccdf = mp_std_cdfs(family, M(p1), M(p2) if p2 is not None else None)
        lo_m = mp.mpf(lo) if math.isfinite(lo) else None
        hi_m = mp.mpf(hi) if math.isfinite(hi) else None
        if not (lo <= x <= hi):
            return NEG_INF
        v = ln_g(M(x))
        if v is None:
            return NEG_INF
        if lo_m is not None and cdf(lo_m) > mp.mpf(1) / 2:
            mass = ccdf(lo_m) - (ccdf(hi_m) if hi_m is not None else 0)
        else:
            mass = (cdf(hi_m) if hi_m is not None else 1) - (cdf(lo_m) if lo_m is not None else 0)
        if mass <= 0:
            return NEG_INF
        return float(v - mp.log(mass))


SCIPY_FAMILIES = {
    "normal": lambda p1, p2: stats.norm(p1, p2),
    "exponential": lambda p1, p2: stats.expon(scale=1 / p1),
    "logistic": lambda p1, p2: stats.logistic(p1, p2),
    "cauchy": lambda p1, p2: stats.cauchy(p1, p2),
    "gumbel": lambda p1, p2: stats.gumbel_r(p1, p2),
    "weibull": lambda p1, p2: stats.weibull_min(p1, scale=p2),
}


def sp_truncated(family, p1, p2, lo, hi, x):
    if not (lo <= x <= hi):
        return NEG_INF
    if family == "normal":
        return stats.truncnorm((lo - p1) / p2, (hi - p1) / p2, p1, p2).logpdf(x)
    if family == "exponential" and lo >= 0:
        if math.isinf(hi):
            return stats.expon(loc=lo, scale=1 / p1).logpdf(x)
        return stats.truncexpon((hi - lo) * p1, loc=lo, scale=1 / p1).logpdf(x)
    d = SCIPY_FAMILIES[family](p1, p2)
    if d.logcdf(lo) > -np.log(2):
        mass = d.logsf(lo) + np.log1p(-np.exp(d.logsf(hi) - d.logsf(lo)))
    else:
        mass = d.logcdf(hi) + np.log1p(-np.exp(d.logcdf(lo) - d.logcdf(hi)))
    return d.logpdf(x) - mass


INF = float("inf")
TRUNCATED_CASES = {
    "normal": [
        ((0.0, 1.0, -1.0, 2.0), [-1.0, 0.5, 2.0, -1.5, 2.5]),
        ((0.0, 1.0, -0.1, 0.1), [0.0, 0.09]),
        ((0.0, 1.0, -8.0, 8.0), [0.0, 7.5]),
        ((0.0, 1.0, 10.0, 11.0), [10.0, 10.3, 11.0, 9.0]),
        ((0.0, 1.0, -INF, -30.0), [-30.0, -30.5, -31.0, -29.0]),
        ((1.0, 2.0, 3.0, INF), [3.0, 5.0, 40.0, 2.0]),
        ((5.0, 3.0, -38.0, -37.5), [-37.9, -37.6]),
        ((-2.0, 0.5, -INF, INF), [-2.0, 1.0]),
    ],
    "exponential": [
        ((2.0, None, 0.0, 1.0), [1e-9, 0.5, 1.0, 1.5]),
        ((0.5, None, 3.0, INF), [3.0, 4.0, 100.0, 2.0]),
        ((1.0, None, 50.0, 60.0), [50.0, 55.0, 61.0]),
        ((3.0, None, -1.0, 2.0), [0.1, 1.9, -0.5]),
    ],
    "logistic": [
        ((0.0, 1.0, -2.0, 3.0), [-2.0, 0.0, 3.0, 4.0]),
        ((1.0, 0.5, 20.0, INF), [20.0, 21.0, 19.0]),
        ((0.0, 2.0, -INF, -100.0), [-100.0, -120.0, -90.0]),
    ],
    "cauchy": [
        ((0.0, 1.0, -1.0, 1.0), [-1.0, 0.3, 1.0, 2.0]),
        ((2.0, 0.5, 1e6, INF), [1e6, 3e6, 1e20, 0.0]),
        ((0.0, 1.0, -INF, -1e8), [-1e8, -5e8, 0.0]),
    ],
    "gumbel": [
        ((0.0, 1.0, -1.0, 2.0), [-1.0, 0.5, 2.0, 3.0]),
        ((0.0, 2.0, 30.0, 40.0), [30.0, 35.0, 41.0]),
        ((1.0, 1.0, -INF, -3.0), [-3.0, -3.5, 0.0]),
    ],
    "weibull": [
        ((1.5, 2.0, 0.5, 3.0), [0.5, 1.0, 3.0, 0.1]),
        ((0.7, 1.0, 20.0, INF), [20.0, 50.0, 10.0]),
        ((3.0, 1.0, 0.0, 0.01), [1e-3, 0.01, 0.02]),
    ],
}


def truncated_rows():
    rows = []
    worst = (0.0, "", (), 0.0)
    for family, cases in TRUNCATED_CASES.items():
        for (p1, p2, lo, hi), xs in cases:
            for x in xs:
                exact = mp_truncated(family, p1, p2, lo, hi, x)
                sp = float(sp_truncated(family, p1, p2, lo, hi, x))
                if math.isfinite(sp) and math.isfinite(exact):
                    dev = abs(sp - exact) / max(abs(exact), 1.0)
                    worst = max(worst, (dev, family, (p1, p2, lo, hi), x))
                if not agree(sp, exact, SCIPY_TOL):
                    raise SystemExit(f"truncated {family}{(p1, p2, lo, hi)} x={x}: scipy {sp!r} vs mpmath {exact!r}")
                ps = [repr(float(p1)), "" if p2 is None else repr(float(p2))]
                rows.append(["truncated_" + family, *ps, repr(float(lo)), repr(float(hi)), repr(float(x)), repr(exact)])
    return rows, worst


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
                    if dist in CHECKABLE:
                        checkable = CHECKABLE[dist](params, x)
                    else:
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

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "truncated_reference.csv")
    rows, worst = truncated_rows()
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dist", "p1", "p2", "low", "high", "x", "ln_pdf"])
        w.writerows(rows)
    n_inf = sum(r[-1] == "-inf" for r in rows)
    print(f"wrote {len(rows)} rows ({n_inf} at -inf) to {out}")
    print("largest scipy vs mpmath disagreement: {:.2e} at truncated {}{} x={}".format(*worst))
    write_multivariate()


def multivariate_rows():
    """Rows of mvn_reference.csv: columns dist,params,x,ln_pdf, with params and x
    space-separated lists of repr() floats.

      * mvn_cholesky / mvn_covariance / mvn_precision: params = mean (n values) then
        the n x n matrix row-major (L lower-triangular, Sigma, Lambda = inv(Sigma));
        ln_pdf = scipy.stats.multivariate_normal(mean, Sigma).logpdf(x), with Sigma =
        L L^T for the Cholesky rows and inv(Lambda) for the precision rows. Each is
        checked against mpmath at 50 digits (the formula of the docs) to SCIPY_TOL.
      * categorical, categorical_logits, multinomial: see the comment above their rows.
    """
    rng = np.random.default_rng(20240611)
    rows = []
    for n in [1, 2, 3, 5]:
        for case in range(3):
            a = rng.normal(size=(n, n))
            cov = a @ a.T + (0.3 + case) * np.eye(n)
            mean = rng.normal(size=n) * 2.0
            x = mean + rng.normal(size=n) * (1.0 + 3.0 * case)
            chol = np.linalg.cholesky(cov)
            prec = np.linalg.inv(cov)
            for dist, mat, sigma in [
                ("mvn_cholesky", chol, chol @ chol.T),
                ("mvn_covariance", cov, cov),
                ("mvn_precision", prec, np.linalg.inv(prec)),
            ]:
                sp = float(stats.multivariate_normal(mean, sigma).logpdf(x))
                m_sigma = mp.matrix([[mp.mpf(float(v)) for v in row] for row in sigma])
                if dist == "mvn_precision":
                    m_sigma = mp.matrix([[mp.mpf(float(v)) for v in row] for row in prec]) ** -1
                if dist == "mvn_cholesky":
                    m_l = mp.matrix([[mp.mpf(float(v)) for v in row] for row in chol])
                    m_sigma = m_l * m_l.T
                r = mp.matrix([mp.mpf(float(x[i])) - mp.mpf(float(mean[i])) for i in range(n)])
                quad = (r.T * (m_sigma ** -1) * r)[0]
                exact = float(-n * mp.log(2 * mp.pi) / 2 - mp.log(mp.det(m_sigma)) / 2 - quad / 2)
                if not agree(sp, exact, SCIPY_TOL):
                    raise SystemExit(f"{dist} n={n}: scipy {sp!r} vs mpmath {exact!r}")
                params = list(mean) + list(mat.reshape(-1))
                rows.append([dist, " ".join(repr(float(v)) for v in params),
                             " ".join(repr(float(v)) for v in x), repr(sp)])
    # categorical (0-based k): scipy.stats.multinomial(1, p).logpmf(one-hot k);
    # categorical_logits: scipy.special.log_softmax(theta)[k]; multinomial: params =
    # [n] + p, scipy.stats.multinomial(n, p).logpmf(x).
    for k in [2, 3, 6]:
        for case in range(2):
            p = rng.dirichlet(np.full(k, 0.5 + case))
            theta = rng.normal(size=k) * (1.0 + 10.0 * case)
            for j in range(k):
                onehot = np.eye(k)[j]
                rows.append(["categorical", " ".join(repr(float(v)) for v in p), repr(float(j)),
                             repr(float(stats.multinomial(1, p).logpmf(onehot)))])
                rows.append(["categorical_logits", " ".join(repr(float(v)) for v in theta),
                             repr(float(j)), repr(float(special.log_softmax(theta)[j]))])
            for n in [1, 7, 40]:
                x = rng.multinomial(n, p)
                rows.append(["multinomial", " ".join(repr(float(v)) for v in [n, *p]),
                             " ".join(repr(float(v)) for v in x),
                             repr(float(stats.multinomial(n, p).logpmf(x)))])
    return rows


def write_multivariate():
    """Writes mvn_reference.csv only (python3 -c 'import reference; reference.write_multivariate()')."""
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mvn_reference.csv")
    rows = multivariate_rows()
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dist", "params", "x", "ln_pdf"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
