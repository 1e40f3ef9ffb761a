"""Event times sampled by clock inversion follow the analytic distributions (DESIGN §2.5)."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.stats

from oligosim.engine import clock, rng
from oligosim.engine._jit import (
    P_GOMP_A_F,
    P_GOMP_A_M,
    P_GOMP_B_F,
    P_GOMP_B_M,
    PURPOSE_CLOCK,
    PURPOSE_DEATH,
)
from oligosim.params import default_parameters

N = 20_000
P_MIN = 1e-3
Z_MAX = 3.29  # two-sided p > 1e-3 for a normal approximation to the binomial
SEED = 31_415_926


@numba.njit
def _exponentials_from_streams(n, purpose, seed, patient):
    """One unit exponential from each of n streams (substreams 0..n-1) of one patient."""
    table = rng.new_stream_table(np.full(n, purpose, dtype=np.int64),
                                 np.arange(n, dtype=np.int64))
    out = np.empty(n)
    for s in range(n):
        out[s] = rng.exponential(table, s, seed, patient)
    return out


@numba.njit
def _exponentials_from_patients(n, purpose, seed):
    """One unit exponential from the same stream row of patients 0..n-1."""
    table = rng.new_stream_table(np.array([purpose], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64))
    out = np.empty(n)
    for pid in range(n):
        rng.reset_streams(table)
        out[pid] = rng.exponential(table, 0, seed, pid)
    return out


@numba.njit
def _event_times(a, r, e):
    out = np.empty(e.shape[0])
    for i in range(e.shape[0]):
        out[i] = clock.invert(a, r, e[i])
    return out


def _cdf(a, r, t):
    """P(T ≤ t) = 1 − exp(−Λ(t)), Λ(t) = a·(exp(r·t) − 1)/r (a·t at r = 0)."""
    t = np.asarray(t, dtype=float)
    lam = a * t if r == 0.0 else a * np.expm1(r * t) / r
    return -np.expm1(-lam)


def test_unit_exponentials_from_many_streams():
    """The masses themselves are Exp(1) across streams (KS p > 1e-3)."""
    e = _exponentials_from_streams(N, PURPOSE_CLOCK, SEED, 3)
    p = scipy.stats.kstest(e, scipy.stats.expon().cdf).pvalue
    assert p > P_MIN, f"KS p = {p:.2e}, n = {N}; required p > {P_MIN}"


@pytest.mark.parametrize(("a", "r"), [(0.5, 0.3), (2.0, 0.0), (0.05, 1.5)])
def test_event_time_matches_analytic_cdf(a, r):
    """t = invert(a, r, E) has CDF 1 − exp(−Λ(t)) (KS p > 1e-3), also vs scipy's Gompertz."""
    t = _event_times(a, r, _exponentials_from_streams(N, PURPOSE_CLOCK, SEED, 11))
    assert np.all(np.isfinite(t))
    assert np.all(t > 0.0)
    p = scipy.stats.kstest(t, lambda x: _cdf(a, r, x)).pvalue
    assert p > P_MIN, f"(a, r) = ({a}, {r}): KS p = {p:.2e}, n = {N}; required p > {P_MIN}"
    # independent reference: hazard a·exp(r t) is Gompertz(c = a/r, scale = 1/r); r = 0: Exp(a)
    ref = scipy.stats.expon(scale=1 / a) if r == 0.0 else scipy.stats.gompertz(a / r,
                                                                             scale=1 / r)
    p = scipy.stats.kstest(t, ref.cdf).pvalue
    assert p > P_MIN, f"vs scipy reference: KS p = {p:.2e}, n = {N}; required p > {P_MIN}"


@pytest.mark.parametrize(("a", "r"), [(0.5, -0.2), (1.0, -0.5), (0.3, -0.05)])
def test_defective_event_time_with_decaying_hazard(a, r):
    """r < 0: P(T = inf) = exp(−a/|r|) (binomial z < 3.29); finite T ~ F(t)/F(inf) (KS)."""
    t = _event_times(a, r, _exponentials_from_streams(N, PURPOSE_CLOCK, SEED, 12))
    finite = np.isfinite(t)
    assert np.all(np.isposinf(t[~finite]))
    p_esc = math.exp(-a / -r)
    se = math.sqrt(p_esc * (1.0 - p_esc) / N)
    z = (np.mean(~finite) - p_esc) / se
    assert abs(z) < Z_MAX, (f"(a, r) = ({a}, {r}): escape fraction {np.mean(~finite):.4f} vs "
                            f"exp(−a/|r|) = {p_esc:.4f}, z = {z:.2f}; required |z| < {Z_MAX}")
    f_inf = 1.0 - p_esc
    p = scipy.stats.kstest(t[finite], lambda x: _cdf(a, r, x) / f_inf).pvalue
    assert p > P_MIN, (f"(a, r) = ({a}, {r}): conditional KS p = {p:.2e}, "
                       f"n = {finite.sum()}; required p > {P_MIN}")


def test_event_times_from_many_patients_one_stream_row():
    """Same check across patients of one stream row (how the kernel draws): KS p > 1e-3."""
    a, r = 0.5, 0.3
    t = _event_times(a, r, _exponentials_from_patients(N, PURPOSE_CLOCK, SEED))
    p = scipy.stats.kstest(t, lambda x: _cdf(a, r, x)).pvalue
    assert p > P_MIN, f"KS p = {p:.2e}, n = {N}; required p > {P_MIN}"


def _gompertz_months(a_per_year, b_per_year, age, e):
    """Background death time as in kernel.simulate_patient: 12·invert(a·e^{b·age}, b, E)."""
    return 12.0 * _event_times(a_per_year * math.exp(b_per_year * age), b_per_year, e)


def _gompertz_survival_months(a, b, age, t_months):
    """S(t) = exp(−a·e^{b·age}·(e^{b·t/12} − 1)/b), hazard a·e^{b·(age + years)} per year."""
    years = np.asarray(t_months) / 12.0
    return np.exp(-a * math.exp(b * age) * np.expm1(b * years) / b)


def test_gompertz_background_death_time():
    """Gompertz death time (a = 4.5e-5, b = 0.09, age 65) matches S(t) (KS p > 1e-3)."""
    a, b, age = 4.5e-5, 0.09, 65.0
    e = _exponentials_from_patients(N, PURPOSE_DEATH, SEED)
    t = _gompertz_months(a, b, age, e)
    assert np.all(np.isfinite(t))
    p = scipy.stats.kstest(t, lambda x: 1.0 - _gompertz_survival_months(a, b, age, x)).pvalue
    assert p > P_MIN, f"KS p = {p:.2e}, n = {N}; required p > {P_MIN}"
    # scipy's Gompertz, c = a·e^{b·age}/b, scale 12/b months
    ref = scipy.stats.gompertz(a * math.exp(b * age) / b, scale=12.0 / b)
    p = scipy.stats.kstest(t, ref.cdf).pvalue
    assert p > P_MIN, f"vs scipy.stats.gompertz: KS p = {p:.2e}, n = {N}; required p > {P_MIN}"
    # median remaining life at 65: closed form, 3-SE band of the sample median
    med = 12.0 / b * math.log1p(b * math.log(2.0) / (a * math.exp(b * age)))
    dens = ref.pdf(med)
    se_med = math.sqrt(0.25 / N) / dens
    assert abs(np.median(t) - med) < 4 * se_med, (
        f"sample median {np.median(t):.2f} vs {med:.2f} months; tolerance 4 SE = "
        f"{4 * se_med:.2f}")


@pytest.mark.parametrize("sex", ["male", "female"])
@pytest.mark.parametrize("age", [45.0, 80.0])
def test_gompertz_background_death_with_default_parameters(sex, age):
    """Default fitted Gompertz parameters give S(t) at both sexes and ages (KS p > 1e-3)."""
    sc = default_parameters().to_arrays().scalars
    a = sc[P_GOMP_A_M] if sex == "male" else sc[P_GOMP_A_F]
    b = sc[P_GOMP_B_M] if sex == "male" else sc[P_GOMP_B_F]
    t = _gompertz_months(a, b, age, _exponentials_from_patients(N, PURPOSE_DEATH, SEED + 1))
    p = scipy.stats.kstest(t, lambda x: 1.0 - _gompertz_survival_months(a, b, age, x)).pvalue
    assert p > P_MIN, f"{sex}, age {age}: KS p = {p:.2e}, n = {N}; required p > {P_MIN}"
