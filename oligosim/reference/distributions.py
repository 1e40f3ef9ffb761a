"""Continuous distributions sampled by inversion (DESIGN.md §2.1: exact, no distorting
truncation): the standard normal's CDF and quantile, truncated normal, log-normal above a
threshold, log-uniform.

Each sampler takes exactly one uniform from the stream it is given (none when the
distribution is degenerate), the same count as the fast engine, so later draws line up.
"""

from __future__ import annotations

import math

from oligosim.reference.streams import Stream

INF = math.inf

# Acklam's rational approximation of the normal quantile (coefficients as published)
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)
_P_LOW = 0.02425


def normal_cdf(x: float) -> float:
    """Standard-normal cumulative probability Φ(x)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """Standard-normal quantile Φ⁻¹(p): Acklam's approximation refined by one Halley step.

    Accurate to ~1e-15 relative; ±inf at p = 0 and 1. The upper half uses the symmetry
    Φ⁻¹(p) = −Φ⁻¹(1 − p), where 1 − p is exact.
    """
    if p <= 0.0:
        return -INF
    if p >= 1.0:
        return INF
    if p > 0.5:
        return -_lower_half_quantile(1.0 - p)
    return _lower_half_quantile(p)


def _lower_half_quantile(p: float) -> float:
    """Φ⁻¹(p) for 0 < p ≤ 1/2."""
    a1, a2, a3, a4, a5, a6 = _A
    b1, b2, b3, b4, b5 = _B
    c1, c2, c3, c4, c5, c6 = _C
    d1, d2, d3, d4 = _D
    if p < _P_LOW:  # lower tail
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / \
            ((((d1 * q + d2) * q + d3) * q + d4) * q + 1.0)
    elif p <= 1.0 - _P_LOW:  # central region
        q = p - 0.5
        r = q * q
        x = (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q / \
            (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1.0)
    else:  # not reached for p <= 1/2; kept so the function is the whole approximation
        q = math.sqrt(-2.0 * math.log1p(-p))
        x = -(((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / \
            ((((d1 * q + d2) * q + d3) * q + d4) * q + 1.0)
    # one Halley step against the exact CDF
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


def truncated_normal(stream: Stream, mean: float, sd: float, lo: float, hi: float) -> float:
    """Normal(mean, sd) conditioned on [lo, hi] (one uniform; the clamped mean if sd ≤ 0)."""
    if sd <= 0.0:
        return min(max(mean, lo), hi)
    p_lo = normal_cdf((lo - mean) / sd)
    p_hi = normal_cdf((hi - mean) / sd)
    u = stream.uniform()
    return mean + sd * normal_quantile(p_lo + u * (p_hi - p_lo))


def lognormal_above(stream: Stream, median: float, sdlog: float, lo: float) -> float:
    """LogNormal(log median, sdlog) conditioned on ≥ lo (one uniform; if sdlog ≤ 0 the
    larger of median and lo)."""
    if sdlog <= 0.0:
        return max(median, lo)
    p_lo = normal_cdf((math.log(lo) - math.log(median)) / sdlog)
    u = stream.uniform()
    return median * math.exp(sdlog * normal_quantile(p_lo + u * (1.0 - p_lo)))


def loguniform(stream: Stream, lo: float, hi: float) -> float:
    """Log-uniform on [lo, hi] (one uniform)."""
    u = stream.uniform()
    return lo * math.exp(u * math.log(hi / lo))
