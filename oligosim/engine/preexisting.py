"""Layer 2: pre-existing resistance at diagnosis (Luria–Delbrück), DESIGN.md §2.5.

Model
-----
A lesion grew from one cell to ``N`` cells.  Established clone-k lineages arise as a Poisson
process in the lesion's size: their number is ``Poisson(lam)``, ``lam = u * N``, and the
lesion size ``n`` at each lineage's birth is uniform on ``[1, N]``.  A lineage born at ``n``
now has a Geometric number of cells on ``{1, 2, ...}`` with mean

    m(n) = (N / n) ** rho / p_est,     rho = r_k / g0 >= 0,   0 < p_est <= 1,

i.e. success probability ``1 / m(n)``.  With ``rho = 1, p_est = 1`` this is the Lea–Coulson
model, whose mutant count tends (``N -> inf``) to the Luria–Delbrück distribution with
``m = u * N`` given by the Ma–Sandri–Sarkar recursion; ``tests/statistical/
test_luria_delbruck.py`` checks the sampler against it.

Sampling scheme
---------------
*Exact path* (``lam <= LAM_EXACT``): draw the count, then every lineage's birth size and
Geometric size, and add them up.

*Split path* (``lam > LAM_EXACT``): write a birth as ``n = 1 + x (N - 1)`` with ``x``
uniform on [0, 1], and split at ``x* = K_EARLY / lam``, so that ``K_EARLY`` lineages are
expected before the split.

- Early lineages (``x < x*``, ``Poisson(K_EARLY)`` of them) are few and large; they carry the
  heavy Luria–Delbrück tail and are sampled exactly as above.
- Late lineages (``x >= x*``) are many (``Poisson(lam - K_EARLY)``) and small: their mean size
  is at most ``(N / n*) ** rho / p_est ~ (lam / K_EARLY) ** rho / p_est``.  Their number
  ``L`` is drawn exactly; the excess ``sum (G_i - 1)`` over the ``L`` obligatory cells is
  drawn from a Normal with the exact conditional mean ``L (E[m] - 1)`` and variance
  ``L (2 E[m^2] - E[m] - E[m]^2)``, rounded to an integer and truncated at 0.

**Assumption (named).**  The late lineages' excess is Normal given their count.  By the law
of total variance the late total keeps the exact mean ``lam' E[m]`` and variance
``lam' (2 E[m^2] - E[m])`` of the compound-Poisson sum (``lam' = lam - K_EARLY``), but not
its higher cumulants: for ``rho = 1`` its skewness is about ``1.06 / sqrt(K_EARLY) = 0.37``
whatever ``lam`` is (a scaling argument: the late variance is dominated by the lineages
just after the split), against 0 for the Normal.  The early (exact) part dominates the
total's spread: against a reference that samples every lineage (or 1e4 of them at
``lam = 1e6``), the mean of ``log10(1 + cells)`` agrees to about 1e-3 and the 1-90 %
quantiles within the references' Monte Carlo error (0.1-1.5 %) for ``rho`` in [0, 2],
``p_est`` in [0.3, 1] and ``lam`` from 65 to 1e6: no difference beyond Monte Carlo error
was found.  The truncation at 0 binds only just above ``LAM_EXACT`` with
small ``rho`` and ``p_est = 1`` (5 % of draws at ``rho = 0.3, lam = 65``, where the late
excess averages 3 cells, so the mean moves by 0.04 cells); at ``lam >= 1000`` its
probability is below 1e-90.

The moments use the closed forms, for ``n`` uniform on ``[a, N]`` and ``Λ = ln(N / a)``,

    E[(N/n)^q] = f((1 - q) Λ) / f(Λ),     f(y) = (1 - exp(-y)) / y,   f(0) = 1,

evaluated with ``expm1`` and a series near ``y = 0``, so ``q = 1`` (``rho = 1`` for the
mean, ``rho = 1/2`` for the second moment) needs no special case and ``rho = 0, 2`` are
ordinary points.  ``E[m] = E[(N/n)^rho] / p_est`` and ``E[m^2] = E[(N/n)^(2 rho)] / p_est^2``.

Finiteness: single-lineage means are capped at ``M_MAX = 1e250`` (so the Geometric success
probability stays positive) and the total at ``CELLS_MAX = 1e300``.  Both are far beyond any
plausible lesion (they bind only for ``rho`` above about 20 with ``N = 1e11``).

Cost: about ``1 + lam`` lineages are drawn on the exact path and ``1 + K_EARLY`` on the split
path, two uniforms and one power each, so a call costs at most ~17 lineage draws whatever
``lam`` is. K_EARLY = 8 (not 32) because this sampler dominated the engine's cost: with 32
the main scenario ran at ~7,200 patients per CPU-second, with 8 at ~11,900 (measured with
benchmarks' main scenario, one thread); the accuracy tests against forced-exact summation
(tests/statistical/test_luria_delbruck.py) pass unchanged at 8.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from oligosim.engine import rng
from oligosim.engine._jit import JIT

LAM_EXACT = 16.0
"""Expected lineage count up to which every lineage is sampled exactly."""
K_EARLY = 8.0
"""Expected number of exactly sampled (early, large) lineages on the split path."""
M_MAX = 1e250
"""Cap on one lineage's mean size: keeps the Geometric success probability above 0."""
CELLS_MAX = 1e300
"""Cap on the returned total: keeps it finite for absurd ``rho``."""

_SERIES_Y = 1e-5  # below: 3-term series of f(y); relative error < y^3/24 < 1e-16


@numba.njit(**JIT)
def _f(y):
    """``(1 - exp(-y)) / y`` for float64 ``y`` (1.0 at 0), without cancellation."""
    if abs(y) < _SERIES_Y:
        return 1.0 - y * (0.5 - y / 6.0)
    return -math.expm1(-y) / y


@numba.njit(**JIT)
def _power_mean(q, log_ratio):
    """Mean of ``(N / n) ** q`` for ``n`` uniform on ``[a, N]``, given ``log_ratio = ln(N/a)``.

    Parameters
    ----------
    q : float64
        Exponent, ``q >= 0``.
    log_ratio : float64
        ``ln(N / a) >= 0`` (0 gives 1.0, the degenerate interval).

    Returns
    -------
    float64
        ``f((1 - q) Λ) / f(Λ)``; may be ``inf`` if the true value overflows.
    """
    return _f((1.0 - q) * log_ratio) / _f(log_ratio)


@numba.njit(**JIT)
def _late_lineage_moments(log_ratio, rho, p_est):
    """First two moments of one late lineage's mean size ``m(n)``, ``n ~ U[a, N]``.

    Returns
    -------
    (float64, float64)
        ``E[m]`` and ``E[m^2]``, with ``m = (N/n)**rho / p_est`` (cells, cells^2).
    """
    e1 = _power_mean(rho, log_ratio) / p_est
    e2 = _power_mean(2.0 * rho, log_ratio) / (p_est * p_est)
    return e1, e2


# inlined by numba (hot, small): see the note above rng.next_u64
@numba.njit(inline="always", **JIT)
def _lineage_cells(table, s, seed, patient, N, span, rho, p_est):
    """Cells now of one lineage born at ``n = 1 + x * span``, ``x ~ U(0, 1)`` (float64)."""
    n = 1.0 + rng.uniform(table, s, seed, patient) * span
    if rho == 1.0:  # the Lea–Coulson case skips the power
        m = N / n / p_est
    elif rho == 0.0:
        m = 1.0 / p_est
    else:
        m = (N / n) ** rho / p_est
    if m > M_MAX:
        m = M_MAX
    return rng.geometric(table, s, seed, patient, 1.0 / m)


@numba.njit(**JIT)
def _sample_preexisting(table, s, seed, patient, N, u, rho, p_est, lam_exact, k_early):
    """Kernel of :func:`sample_preexisting` with the path thresholds as arguments.

    ``lam_exact = inf`` forces exact summation of every lineage (tests); ``k_early`` is
    the expected number of exactly sampled lineages on the split path (``k_early <
    lam_exact``).  Other arguments and the return value as in :func:`sample_preexisting`.
    """
    if not N >= 1.0:
        raise ValueError("sample_preexisting: the lesion size N must be >= 1 cell.")
    if not u >= 0.0:
        raise ValueError("sample_preexisting: the lineage rate u must be >= 0.")
    if not rho >= 0.0:
        raise ValueError("sample_preexisting: the growth-rate ratio rho must be >= 0.")
    if not (p_est > 0.0 and p_est <= 1.0):
        raise ValueError("sample_preexisting: p_est must lie in (0, 1].")
    lam = u * N
    if lam == 0.0:
        return 0.0
    span_all = N - 1.0
    total = 0.0
    if lam <= lam_exact:
        count = rng.poisson(table, s, seed, patient, lam)
        for _ in range(np.int64(count)):
            total += _lineage_cells(table, s, seed, patient, N, span_all, rho, p_est)
    else:
        x_split = k_early / lam
        span_early = x_split * span_all
        count = rng.poisson(table, s, seed, patient, k_early)
        for _ in range(np.int64(count)):
            total += _lineage_cells(table, s, seed, patient, N, span_early, rho, p_est)
        n_late = rng.poisson(table, s, seed, patient, lam - k_early)
        if n_late > 0.0:
            a = 1.0 + span_early
            e1, e2 = _late_lineage_moments(math.log(N / a), rho, p_est)
            var1 = 2.0 * e2 - e1 - e1 * e1
            if var1 < 0.0:  # rounding when m is nearly constant (rho ~ 0)
                var1 = 0.0
            excess = (n_late * (e1 - 1.0)
                      + math.sqrt(n_late * var1) * rng.normal(table, s, seed, patient))
            if excess > 0.0:
                total += n_late + np.floor(excess + 0.5)  # np: float, no int64 wrap
            elif excess <= 0.0:
                total += n_late
            else:  # nan: inf - inf from moments that overflow
                total = CELLS_MAX
    if not total <= CELLS_MAX:
        total = CELLS_MAX
    return total


@numba.njit(**JIT)
def sample_preexisting(table, s, seed, patient, N, u, rho, p_est):
    """Cells of one resistant clone present in a lesion at diagnosis (Luria–Delbrück).

    Exact for ``u * N <= LAM_EXACT``; above, the early lineages are exact and the late ones
    approximated with their exact mean and variance (module docstring: scheme, named
    assumption, accuracy).

    Parameters
    ----------
    table : uint64[n_streams, 8]
        Stream table (``rng.new_stream_table``); row ``s`` is advanced in place.
    s : int64
        Row of the stream to draw from (purpose ``PURPOSE_PREEXISTING``, substream = lesion).
    seed, patient : uint64
        Root seed and patient id.
    N : float64
        Lesion size at diagnosis, cells, ``N >= 1``.
    u : float64
        Established clone-k lineages per cell of lesion growth, ``u >= 0``.
    rho : float64
        ``r_k / g0``: the clone's untreated net growth rate over the lesion's, ``rho >= 0``.
    p_est : float64
        Establishment probability of a new lineage, in ``(0, 1]``; a lineage born at size
        ``n`` has mean ``(N / n) ** rho / p_est`` cells.

    Returns
    -------
    float64
        Total cells of the clone (integer-valued, ``0.0`` if no lineage), at most
        ``CELLS_MAX``.

    Raises
    ------
    ValueError
        If an argument is outside the ranges above (NaN included).
    """
    return _sample_preexisting(table, s, seed, patient, N, u, rho, p_est, LAM_EXACT, K_EARLY)


@numba.njit(**JIT)
def _sample_many(seed, purpose, n_draws, N, u, rho, p_est, lam_exact, k_early):
    """``n_draws`` independent totals, draw ``i`` as patient ``i`` (float64[n_draws]).

    A test and benchmark helper: one stream of ``purpose``, rewound before every patient
    as the engine does.
    """
    table = rng.new_stream_table(np.array([purpose], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64))
    out = np.empty(n_draws, dtype=np.float64)
    for i in range(n_draws):
        rng.reset_streams(table)
        out[i] = _sample_preexisting(table, 0, seed, np.uint64(i), N, u, rho, p_est,
                                     lam_exact, k_early)
    return out
