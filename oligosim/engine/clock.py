"""Closed-form event clocks for hazards proportional to an exponentially changing population.

Between decisions every population follows N(t) = N0·exp(r·(t − t0)) (DESIGN.md §2.4), so a
hazard c·N(t) has the cumulative intensity Λ(s) = c·N0·(exp(r·s) − 1)/r, which inverts in
closed form. Each lesion-clone keeps one such clock in the style of the next-reaction method
(Gibson & Bruck 2000; Anderson 2007): it stores the unit-exponential mass still to be
consumed and the absolute time it will fire; when its coefficient, rate or population jumps
the consumed mass is subtracted and the firing time recomputed. The mass is only ever drawn
from the clock's own random stream, so strategies share every draw they can (DESIGN.md §2.13).
"""

from __future__ import annotations

import math

import numba as nb

from oligosim.engine._jit import JIT

INF = math.inf


@nb.njit(**JIT)
def cumulative(a, r, dt):
    """Λ over [0, dt] of the hazard a·exp(r·s); a ≥ 0 (per month), r (per month), dt ≥ 0."""
    if a <= 0.0 or dt <= 0.0:
        return 0.0
    x = r * dt
    if abs(x) < 1e-12:
        return a * dt * (1.0 + 0.5 * x)
    return a * math.expm1(x) / r


@nb.njit(**JIT)
def invert(a, r, mass):
    """Smallest s ≥ 0 with cumulative(a, r, s) = mass, or +inf if the hazard never gets there."""
    if mass <= 0.0:
        return 0.0
    if a <= 0.0:
        return INF
    y = mass * r / a
    if abs(y) < 1e-12:
        return mass / a * (1.0 - 0.5 * y)
    if y <= -1.0:
        return INF
    return math.log1p(y) / r


@nb.njit(**JIT)
def grow(n0, r, dt):
    """N0·exp(r·dt)."""
    if n0 == 0.0:
        return 0.0
    return n0 * math.exp(r * dt)


@nb.njit(**JIT)
def norm_ppf(p):
    """Standard-normal quantile (Acklam's rational approximation plus one Halley step).

    Accurate to ~1e-15 relative in (1e-300, 1 − 1e-16); used for exact inversion sampling of
    truncated distributions (DESIGN.md §2.1: no distorting truncation).
    """
    if p <= 0.0:
        return -INF
    if p >= 1.0:
        return INF
    if p > 0.5:
        # symmetry: 1 - p is exact here (Sterbenz) and avoids cancellation in the tail
        return -_norm_ppf_lower(1.0 - p)
    return _norm_ppf_lower(p)


@nb.njit(**JIT)
def _norm_ppf_lower(p):
    """norm_ppf for 0 < p <= 0.5."""
    a1, a2, a3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
    a4, a5, a6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
    b1, b2, b3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
    b4, b5 = 6.680131188771972e01, -1.328068155288572e01
    c1, c2, c3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
    c4, c5, c6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
    d1, d2, d3, d4 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, \
        3.754408661907416e00
    plow = 0.02425
    if p < plow:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / \
            ((((d1 * q + d2) * q + d3) * q + d4) * q + 1.0)
    elif p <= 1.0 - plow:
        q = p - 0.5
        r = q * q
        x = (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q / \
            (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1.0)
    else:
        q = math.sqrt(-2.0 * math.log1p(-p))
        x = -(((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / \
            ((((d1 * q + d2) * q + d3) * q + d4) * q + 1.0)
    # one Halley refinement against the exact CDF
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@nb.njit(**JIT)
def norm_cdf(x):
    """Standard-normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))
