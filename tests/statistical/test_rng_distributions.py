"""Goodness-of-fit tests of the rng distributions, fixed seeds, bounds from Monte Carlo error."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.stats

from oligosim.engine import rng

N = 20_000
P_MIN = 1e-3
SE_MAX = 4.0
SEED = np.uint64(8_675_309)
UNIFORM, EXPONENTIAL, NORMAL, POISSON, GEOMETRIC = range(5)


@numba.njit
def _sample(kind, n, param, seed, purpose):
    """n draws of one distribution from one stream of patient 1 (float64[n])."""
    table = rng.new_stream_table(np.array([purpose], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64))
    out = np.empty(n)
    for i in range(n):
        if kind == UNIFORM:
            out[i] = rng.uniform(table, 0, seed, 1)
        elif kind == EXPONENTIAL:
            out[i] = rng.exponential(table, 0, seed, 1)
        elif kind == NORMAL:
            out[i] = rng.normal(table, 0, seed, 1)
        elif kind == POISSON:
            out[i] = rng.poisson(table, 0, seed, 1, param)
        else:
            out[i] = rng.geometric(table, 0, seed, 1, param)
    return out


@pytest.mark.parametrize(("kind", "dist"), [
    (UNIFORM, scipy.stats.uniform()),
    (EXPONENTIAL, scipy.stats.expon()),
    (NORMAL, scipy.stats.norm()),
])
def test_continuous_draws_pass_ks(kind, dist):
    """Uniform, exponential and normal draws pass a Kolmogorov-Smirnov test at n = 20000."""
    x = _sample(kind, N, 0.0, SEED, kind)
    p = scipy.stats.kstest(x, dist.cdf).pvalue
    assert p > P_MIN, f"KS p = {p:.2e} for kind {kind}, n = {N}; required p > {P_MIN}"


def _poisson_bins(lam, n):
    """Upper bin edges (inclusive) and expected counts; tail bins with expected < 5 merged."""
    # Integer bins for small rates; about 60 equal-probability bins at large rates.
    q = np.linspace(0.0, 1.0, 61)[1:-1]
    edges = np.unique(scipy.stats.poisson.ppf(q, lam))
    lo = scipy.stats.poisson.ppf(1e-12, lam)
    hi = scipy.stats.poisson.ppf(1 - 1e-12, lam)
    if hi - lo < 200:
        edges = np.arange(lo, hi + 1)
    cdf = scipy.stats.poisson.cdf(edges, lam)
    probs = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    expected = n * probs
    edges = np.concatenate([edges, [np.inf]])
    while expected[0] < 5:  # merge left tail into its neighbour
        expected[1] += expected[0]
        expected, edges = expected[1:], edges[1:]
    while expected[-1] < 5:  # merge right tail
        expected[-2] += expected[-1]
        expected, edges = expected[:-1], np.concatenate([edges[:-2], [np.inf]])
    return edges, expected


@pytest.mark.parametrize("lam", [0.5, 3.0, 9.9, 10.0, 30.0, 1e3, 1e6])
def test_poisson_chi_square_and_mean(lam):
    """Poisson draws fit scipy's pmf (chi-square on binned counts) and have the right mean."""
    x = _sample(POISSON, N, lam, SEED, 2)
    assert np.all(x == np.floor(x))
    assert x.min() >= 0
    edges, expected = _poisson_bins(lam, N)
    observed = np.bincount(np.searchsorted(edges, x, side="left"), minlength=edges.size)
    p = scipy.stats.chisquare(observed, expected).pvalue
    assert p > P_MIN, f"chi-square p = {p:.2e} for lam = {lam}, {edges.size} bins; need > {P_MIN}"
    se = math.sqrt(lam / N)
    z = (x.mean() - lam) / se
    assert abs(z) < SE_MAX, (
        f"mean {x.mean():.6g} vs lam = {lam}: {z:.2f} MC SE (SE = {se:.3g}); allowed {SE_MAX}")


def test_poisson_mean_at_huge_rate():
    """At lam = 1e15 the mean is within 4 MC SE and the variance is within 5% of lam."""
    lam = 1e15
    x = _sample(POISSON, N, lam, SEED, 3)
    se = math.sqrt(lam / N)
    z = (x.mean() - lam) / se
    assert abs(z) < SE_MAX, f"mean off by {z:.2f} MC SE (SE = {se:.3g}); allowed {SE_MAX}"
    # var of the sample variance ~ 2 lam^2 / N, so 5% is about 7 standard errors.
    ratio = x.var(ddof=1) / lam
    assert abs(ratio - 1) < 0.05, f"variance / lam = {ratio:.4f}; allowed 1 +/- 0.05"


@pytest.mark.parametrize("p", [0.5, 0.01, 1e-6])
def test_geometric_mean(p):
    """Geometric draws have mean 1/p within 4 Monte Carlo standard errors."""
    x = _sample(GEOMETRIC, N, p, SEED, 4)
    assert x.min() >= 1
    se = math.sqrt((1 - p) / p**2 / N)
    z = (x.mean() - 1 / p) / se
    assert abs(z) < SE_MAX, (
        f"mean {x.mean():.6g} vs 1/p = {1 / p:.6g}: {z:.2f} MC SE (SE = {se:.3g}); "
        f"allowed {SE_MAX}")
