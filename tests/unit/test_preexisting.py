"""Exact unit tests of the pre-existing resistance sampler (oligosim.engine.preexisting)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
from hypothesis import given, settings
from hypothesis import strategies as st

from oligosim.engine import preexisting as pre
from oligosim.engine import rng
from oligosim.engine._jit import PURPOSE_PREEXISTING

SEED = np.uint64(20240611)
PATIENT = np.uint64(17)


def _table(substream=0):
    return rng.new_stream_table(np.array([PURPOSE_PREEXISTING], dtype=np.int64),
                                np.array([substream], dtype=np.int64))


def _quad_power_mean(q, N, a):
    """Mean of (N/n)**q over n ~ U[a, N] by quadrature in w = ln(N/n).

    With dn = -n dw the mean is  int_0^L exp((q-1) w) dw / (1 - exp(-L)),  L = ln(N/a); the
    normaliser (N - a)/N is written through L so narrow intervals lose no digits.
    """
    log_ratio = math.log(N / a)
    value, _ = scipy.integrate.quad(lambda w: math.exp((q - 1.0) * w), 0.0, log_ratio,
                                    epsabs=0.0, epsrel=1e-12, limit=200)
    return value / -math.expm1(-log_ratio)


def test_zero_rate_gives_zero_and_consumes_nothing():
    """u = 0 returns 0.0 and leaves the stream untouched."""
    table = _table()
    before = table.copy()
    assert pre.sample_preexisting(table, 0, SEED, PATIENT, 1e10, 0.0, 1.0, 0.5) == 0.0
    np.testing.assert_array_equal(table, before)


def test_single_cell_lesion_with_tiny_rate_is_zero():
    """N = 1 and u = 1e-9: 2000 patients all have 0 cells (P(any > 0) ~ 2e-6)."""
    draws = pre._sample_many(SEED, PURPOSE_PREEXISTING, 2000, 1.0, 1e-9, 1.0, 1.0,
                             pre.LAM_EXACT, pre.K_EARLY)
    assert np.all(draws == 0.0)


def test_same_stream_same_value():
    """Rewinding the stream reproduces the draw, on both paths; another patient differs."""
    for u in (3e-9, 1e-4):  # u*N = 30 (exact path) and 1e6 (split path)
        table = _table()
        first = pre.sample_preexisting(table, 0, SEED, PATIENT, 1e10, u, 0.9, 0.4)
        rng.reset_streams(table)
        again = pre.sample_preexisting(table, 0, SEED, PATIENT, 1e10, u, 0.9, 0.4)
        rng.reset_streams(table)
        other = pre.sample_preexisting(table, 0, SEED, PATIENT + np.uint64(1), 1e10, u, 0.9,
                                       0.4)
        assert first == again
        assert first != other


def test_public_function_is_the_kernel_with_default_thresholds():
    """sample_preexisting equals _sample_preexisting(LAM_EXACT, K_EARLY) draw for draw."""
    for u in (1e-9, 1e-6, 1e-3):
        t1, t2 = _table(), _table()
        a = pre.sample_preexisting(t1, 0, SEED, PATIENT, 1e9, u, 1.2, 0.7)
        b = pre._sample_preexisting(t2, 0, SEED, PATIENT, 1e9, u, 1.2, 0.7, pre.LAM_EXACT,
                                    pre.K_EARLY)
        assert a == b


@pytest.mark.parametrize("q", [0.0, 0.5, 1.0, 2.0, 1.7, 3.4, 4.0,
                               1.0 - 1e-9, 1.0 + 1e-9, 1.0 + 1e-6, 0.5 + 1e-9])
@pytest.mark.parametrize(("N", "a"), [(1e10, 1e10 * 32 / 1e4), (1e11, 1.0 + 1e11 * 32 / 1e8),
                                      (1e6, 5e5), (2.0, 1.5), (1e8, 1e8 * (1 - 1e-7))])
def test_power_mean_matches_quadrature(q, N, a):
    """Closed-form E[(N/n)^q], n ~ U[a, N], equals quadrature to 1e-9 relative."""
    got = pre._power_mean(q, math.log(N / a))
    assert got == pytest.approx(_quad_power_mean(q, N, a), rel=1e-9)


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0, 2.0, 1.7])
def test_late_lineage_moments_match_quadrature(rho):
    """E[m] and E[m^2] of a late lineage equal quadrature for the singular and generic rho."""
    N, a, p_est = 1e10, 3.2e6, 0.3
    e1, e2 = pre._late_lineage_moments(math.log(N / a), rho, p_est)
    assert e1 == pytest.approx(_quad_power_mean(rho, N, a) / p_est, rel=1e-9)
    assert e2 == pytest.approx(_quad_power_mean(2 * rho, N, a) / p_est**2, rel=1e-9)


def test_degenerate_interval_gives_constant_mean():
    """ln(N/a) = 0 (a = N) gives E[(N/n)^q] = 1 without 0/0."""
    for q in (0.0, 0.5, 1.0, 2.0):
        assert pre._power_mean(q, 0.0) == 1.0


@pytest.mark.parametrize(("N", "u", "rho", "p_est", "match"), [
    (0.5, 1e-6, 1.0, 1.0, "N must be"),
    (math.nan, 1e-6, 1.0, 1.0, "N must be"),
    (1e9, -1e-6, 1.0, 1.0, "rate u"),
    (1e9, 1e-6, -0.1, 1.0, "rho"),
    (1e9, 1e-6, 1.0, 0.0, "p_est"),
    (1e9, 1e-6, 1.0, 1.5, "p_est"),
])
def test_bad_arguments_raise(N, u, rho, p_est, match):
    """Arguments outside their ranges (NaN included) raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=match):
        pre.sample_preexisting(_table(), 0, SEED, PATIENT, N, u, rho, p_est)


def test_absurd_growth_ratio_stays_finite():
    """rho = 40 with N = 1e11 (means far above 1e308) returns a finite total <= CELLS_MAX."""
    for u in (1e-10, 1e-3):
        draws = pre._sample_many(SEED, PURPOSE_PREEXISTING, 50, 1e11, u, 40.0, 0.1,
                                 pre.LAM_EXACT, pre.K_EARLY)
        assert np.all(np.isfinite(draws))
        assert np.all((draws >= 0.0) & (draws <= pre.CELLS_MAX))


def test_lineages_above_two_to_the_63_cells_do_not_wrap():
    """rho = 8, N = 1e11: lineages of >2**63 cells stay positive (no int64 rounding)."""
    for u in (3e-10, 1e-5):  # exact path (u*N = 30) and split path (u*N = 1e6)
        draws = pre._sample_many(SEED, PURPOSE_PREEXISTING, 500, 1e11, u, 8.0, 1.0,
                                 pre.LAM_EXACT, pre.K_EARLY)
        assert draws.max() > 2.0**63
        assert np.all(draws >= 0.0)


@settings(max_examples=60, deadline=None)
@given(log_n=st.floats(0.0, 11.0), log_u=st.floats(-12.0, -3.0), rho=st.floats(0.0, 3.0),
       p_est=st.floats(1e-3, 1.0), patient=st.integers(0, 2**63))
def test_total_is_a_finite_nonnegative_integer(log_n, log_u, rho, p_est, patient):
    """Any valid input gives a finite, non-negative, integer-valued cell count."""
    table = _table()
    x = pre.sample_preexisting(table, 0, SEED, np.uint64(patient), 10.0**log_n, 10.0**log_u,
                               rho, p_est)
    assert math.isfinite(x)
    assert x >= 0.0
    assert x == math.floor(x)
