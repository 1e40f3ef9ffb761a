"""Closed-form event clocks and normal quantile/CDF (oligosim.engine.clock, DESIGN §2.4-2.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

from oligosim.engine import clock

_RNG = np.random.default_rng(20_240_611)
MASSES = np.concatenate([[1e-12, 1e-6, 1e-3, 0.5, 1.0, 3.0, 36.0], _RNG.exponential(size=50)])
DTS = np.concatenate([[1e-9, 1e-3, 0.5, 1.0, 4.0], _RNG.uniform(0.0, 20.0, size=50)])
A_VALUES = (1e-9, 1e-3, 0.5, 2.0, 1e4)
R_VALUES = (-2.0, -0.3, -1e-3, -1e-11, -1e-15, 0.0, 1e-15, 1e-11, 1e-3, 0.3, 2.0)


def _lambda_ref(a, r, dt):
    """Reference Λ(dt) = a·expm1(r·dt)/r (a·dt if r = 0), no series branch."""
    if r == 0.0:
        return a * dt
    return a * math.expm1(r * dt) / r


# ---------------------------------------------------------------------------------------
# cumulative / invert
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("r", R_VALUES)
@pytest.mark.parametrize("a", A_VALUES)
def test_cumulative_closed_form(a, r):
    """cumulative(a, r, dt) = a·expm1(r·dt)/r (a·dt at r = 0) to 1e-13 relative."""
    for dt in (1e-9, 1e-3, 0.7, 5.0, 12.0):
        got = clock.cumulative(a, r, dt)
        assert got == pytest.approx(_lambda_ref(a, r, dt), rel=1e-13, abs=0.0), (a, r, dt)


def test_cumulative_degenerate_inputs():
    """No hazard or no time: zero mass."""
    assert clock.cumulative(0.0, 0.3, 5.0) == 0.0
    assert clock.cumulative(1.0, 0.3, 0.0) == 0.0
    assert clock.cumulative(1.0, -0.3, -1.0) == 0.0


@pytest.mark.parametrize("r", R_VALUES)
@pytest.mark.parametrize("a", A_VALUES)
def test_invert_then_cumulative_is_identity(a, r):
    """cumulative(a, r, invert(a, r, m)) = m to 1e-12 relative for every reachable mass m."""
    for m in MASSES:
        if r < 0.0 and m >= 0.999 * a / -r:
            continue  # unreachable or too ill-conditioned to invert (tested separately)
        t = clock.invert(a, r, m)
        assert math.isfinite(t)
        assert t >= 0.0
        back = clock.cumulative(a, r, t)
        assert back == pytest.approx(m, rel=1e-12), (a, r, m, t)


@pytest.mark.parametrize("r", R_VALUES)
@pytest.mark.parametrize("a", [1e-3, 0.5, 2.0])
def test_cumulative_then_invert_is_identity(a, r):
    """invert(a, r, cumulative(a, r, dt)) = dt to 1e-12 relative (|r|·dt ≤ 8 when r < 0)."""
    for dt in DTS:
        if r < 0.0 and -r * dt > 8.0:
            continue  # Λ saturates at a/|r|: dt is not recoverable in floating point
        m = clock.cumulative(a, r, dt)
        assert clock.invert(a, r, m) == pytest.approx(dt, rel=1e-12), (a, r, dt)


@pytest.mark.parametrize(("a", "r"), [(1.0, 1e-14), (1.0, -1e-14), (3.0, 1e-13), (0.2, -5e-13)])
def test_tiny_rate_times_dt_matches_linear_limit(a, r):
    """For tiny |r|·dt both functions reduce to the constant-hazard limit (series branch)."""
    for dt in (0.1, 1.0, 10.0):
        m = clock.cumulative(a, r, dt)
        assert m == pytest.approx(a * dt * (1.0 + 0.5 * r * dt), rel=1e-15)
        assert clock.invert(a, r, m) == pytest.approx(dt, rel=1e-14)


def test_series_branch_is_continuous():
    """cumulative and invert agree on both sides of the |r·dt| = 1e-12 branch switch."""
    a, dt = 1.5, 2.0
    for x in (0.999e-12, 1.001e-12, -0.999e-12, -1.001e-12):
        r = x / dt
        m = clock.cumulative(a, r, dt)
        assert m == pytest.approx(a * dt, rel=2e-12)
        assert clock.invert(a, r, m) == pytest.approx(dt, rel=1e-13)


@pytest.mark.parametrize(("a", "r"), [(0.5, -0.25), (2.0, -0.5), (1.0, -1.0), (0.75, -3.0)])
def test_invert_unreachable_mass_is_inf(a, r):
    """r < 0: Λ never exceeds a/|r|, so a mass ≥ a/|r| never fires (inf)."""
    cap = a / -r
    for m in (cap, cap * (1.0 + 1e-12), cap * 1.5, cap + 10.0, 1e300):
        assert clock.invert(a, r, m) == math.inf, (a, r, m)
    t = clock.invert(a, r, cap * (1.0 - 1e-9))
    assert math.isfinite(t)
    assert t == pytest.approx(math.log(1e-9) / r, rel=1e-6)


def test_invert_degenerate_inputs():
    """Zero mass fires at once; no hazard never fires."""
    assert clock.invert(0.5, 0.3, 0.0) == 0.0
    assert clock.invert(0.0, 0.3, 1.0) == math.inf
    assert clock.invert(0.0, 0.0, 1.0) == math.inf


def test_invert_zero_rate_is_mass_over_a():
    """r = 0: constant hazard, s = m / a."""
    for a, m in ((0.5, 1.0), (2.0, 3.7), (1e-6, 0.2)):
        assert clock.invert(a, 0.0, m) == pytest.approx(m / a, rel=1e-15)


def test_invert_is_monotone_in_mass():
    """Firing time increases with the mass to consume."""
    for a, r in ((0.5, 0.3), (0.5, -0.2), (2.0, 0.0)):
        masses = np.linspace(1e-6, 2.4, 200)
        ts = np.array([clock.invert(a, r, m) for m in masses])
        assert np.all(np.diff(ts) > 0.0)


def test_grow():
    """grow(n0, r, dt) = n0·exp(r·dt); an empty population stays empty."""
    assert clock.grow(1e9, 0.1, 7.0) == pytest.approx(1e9 * math.exp(0.7), rel=1e-15)
    assert clock.grow(0.0, 50.0, 100.0) == 0.0


# ---------------------------------------------------------------------------------------
# norm_ppf / norm_cdf
# ---------------------------------------------------------------------------------------
P_LOWER_AND_CENTRE = np.concatenate([
    [1e-300, 1e-250, 1e-200, 1e-100, 1e-50, 1e-20, 1e-10, 1e-5, 1e-3, 0.02425,
     0.02425 * (1 - 1e-15), 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 0.97575, 0.98, 0.99, 0.999],
    np.logspace(-300, math.log10(0.5), 400),
    np.linspace(0.5, 0.999, 400),
])
P_UPPER_TAIL = np.concatenate([
    1.0 - np.logspace(-16, -3, 200), [1.0 - 1e-16, 1.0 - 1e-12, 1.0 - 1e-8, 0.99999],
])


def _assert_ppf_close(ps, rel):
    got = np.array([clock.norm_ppf(p) for p in ps])
    ref = scipy.stats.norm.ppf(ps)
    err = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    err[ref == 0.0] = np.abs(got[ref == 0.0])
    i = int(np.argmax(err))
    assert err[i] <= rel, (f"norm_ppf({ps[i]!r}) = {got[i]!r}, scipy {ref[i]!r}: "
                           f"relative error {err[i]:.2e} > {rel:.0e}")


def test_norm_ppf_matches_scipy_lower_tail_and_centre():
    """norm_ppf = scipy.stats.norm.ppf to 1e-12 relative for 1e-300 ≤ p ≤ 0.999."""
    _assert_ppf_close(P_LOWER_AND_CENTRE, 1e-12)


def test_norm_ppf_matches_scipy_upper_tail():
    """norm_ppf = scipy.stats.norm.ppf to 1e-12 relative for 0.999 < p ≤ 1 − 1e-16.

    Regression: the Halley step used to cancel catastrophically near p = 1 (7.7e-11 relative
    error at 1 − 1e-8, 7.9e-10 at 1 − 1e-16).
    """
    _assert_ppf_close(P_UPPER_TAIL, 1e-12)


def test_norm_ppf_edges_and_symmetry():
    """ppf(0) = −inf, ppf(1) = +inf, ppf(0.5) = 0, ppf(p) = −ppf(1 − p) in the centre."""
    assert clock.norm_ppf(0.0) == -math.inf
    assert clock.norm_ppf(1.0) == math.inf
    assert clock.norm_ppf(-0.1) == -math.inf
    assert clock.norm_ppf(0.5) == 0.0
    for p in (0.01, 0.1, 0.25, 0.4):
        assert clock.norm_ppf(p) == pytest.approx(-clock.norm_ppf(1.0 - p), rel=1e-14)


def test_norm_ppf_inverts_norm_cdf_lower_tail():
    """ppf(cdf(x)) = x to 1e-12 relative for x in [−37, 0]."""
    for x in np.linspace(-37.0, -0.01, 500):
        assert clock.norm_ppf(clock.norm_cdf(x)) == pytest.approx(x, rel=1e-12)


def test_norm_cdf_matches_scipy():
    """norm_cdf = scipy.stats.norm.cdf: 1e-12 relative on [−37, 37], 1e-16 absolute beyond."""
    xs = np.concatenate([np.linspace(-37.0, 37.0, 20_001), [-1e-300, 0.0, 1e-300]])
    got = np.array([clock.norm_cdf(x) for x in xs])
    ref = scipy.stats.norm.cdf(xs)
    rel = np.abs(got - ref) / ref
    assert rel.max() <= 1e-12, f"max relative error {rel.max():.2e} at x = {xs[rel.argmax()]}"
    for x in (-40.0, -38.5, 38.0, 100.0):
        assert abs(clock.norm_cdf(x) - scipy.special.ndtr(x)) <= 1e-16
    assert clock.norm_cdf(-math.inf) == 0.0
    assert clock.norm_cdf(math.inf) == 1.0
