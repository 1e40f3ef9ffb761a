"""Resistant cells already present at diagnosis: the Luria–Delbrück sampler (DESIGN.md §2.5).

A lesion grew from one cell to ``N`` cells. Established resistant lineages arose as a Poisson
process in the lesion's size, ``u`` per cell of growth, so there are Poisson(u·N) of them,
each born when the lesion had ``n`` cells, ``n`` uniform on [1, N]. A lineage born at ``n``
now holds a Geometric number of cells with mean (N/n)^ρ / p_est (ρ: the lineage's growth rate
relative to the lesion's; p_est: its establishment probability).

Few lineages (expected count ≤ 16): every lineage is drawn. Many: the earliest ones, which are
few, large and carry the heavy Luria–Delbrück tail, are drawn one by one (8 expected); the many
small late ones are summed as their exact count plus a Normal excess with the exact mean and
variance (a named approximation, justified in the fast engine's module
``engine/preexisting.py`` and tested against the exact Ma–Sandri–Sarkar distribution).
"""

from __future__ import annotations

import math

import numpy as np

from oligosim.reference.streams import Stream

EXACT_UP_TO_LINEAGES = 16.0
"""Expected lineage count up to which every lineage is drawn."""
EARLY_LINEAGES = 8.0
"""Expected number of early lineages drawn one by one when there are more."""
MAX_LINEAGE_MEAN = 1e250
"""Cap on one lineage's mean size (keeps the Geometric success probability positive)."""
MAX_CELLS = 1e300
"""Cap on the total (finite even for absurd growth-rate ratios)."""
_SERIES_BELOW = 1e-5


def preexisting_resistant_cells(stream: Stream, lesion_cells: float, lineages_per_cell: float,
                                growth_ratio: float, p_establish: float) -> float:
    """Cells of one resistant clone in a lesion of ``lesion_cells`` cells at diagnosis.

    Parameters
    ----------
    stream
        The lesion's pre-existing-resistance stream.
    lesion_cells
        N ≥ 1, the lesion's size at diagnosis.
    lineages_per_cell
        u ≥ 0, established resistant lineages per cell of lesion growth.
    growth_ratio
        ρ ≥ 0, the lineage's net growth rate over the lesion's.
    p_establish
        Establishment probability of a new lineage, in (0, 1].

    Returns
    -------
    float
        Total cells (integer-valued; 0.0 without lineages), at most ``MAX_CELLS``.
    """
    N = lesion_cells
    if not N >= 1.0:
        raise ValueError("preexisting_resistant_cells: the lesion must hold at least 1 cell.")
    if not lineages_per_cell >= 0.0:
        raise ValueError("preexisting_resistant_cells: the lineage rate must be >= 0.")
    if not growth_ratio >= 0.0:
        raise ValueError("preexisting_resistant_cells: the growth-rate ratio must be >= 0.")
    if not 0.0 < p_establish <= 1.0:
        raise ValueError("preexisting_resistant_cells: p_establish must lie in (0, 1].")
    expected_lineages = lineages_per_cell * N
    if expected_lineages == 0.0:
        return 0.0
    span = N - 1.0  # birth sizes run over [1, N]
    total = 0.0
    if expected_lineages <= EXACT_UP_TO_LINEAGES:
        count = int(stream.poisson(expected_lineages))
        for _ in range(count):
            total += _one_lineage(stream, N, span, growth_ratio, p_establish)
    else:
        # early lineages: births on [1, 1 + early_span], expected EARLY_LINEAGES of them
        early_span = EARLY_LINEAGES / expected_lineages * span
        count = int(stream.poisson(EARLY_LINEAGES))
        for _ in range(count):
            total += _one_lineage(stream, N, early_span, growth_ratio, p_establish)
        # late lineages: exact count, Normal excess over one cell each
        n_late = stream.poisson(expected_lineages - EARLY_LINEAGES)
        if n_late > 0.0:
            first_late_birth = 1.0 + early_span
            m1, m2 = _late_lineage_moments(math.log(N / first_late_birth), growth_ratio,
                                           p_establish)
            var_one = 2.0 * m2 - m1 - m1 * m1
            if var_one < 0.0:  # rounding when the mean size hardly varies (ρ ~ 0)
                var_one = 0.0
            excess = (n_late * (m1 - 1.0)
                      + math.sqrt(n_late * var_one) * stream.normal())
            if excess > 0.0:
                total += n_late + float(np.floor(excess + 0.5))  # inf-safe rounding
            elif excess <= 0.0:
                total += n_late
            else:  # NaN: moments that overflow
                total = MAX_CELLS
    if not total <= MAX_CELLS:
        total = MAX_CELLS
    return total


def _one_lineage(stream: Stream, N: float, span: float, growth_ratio: float,
                 p_establish: float) -> float:
    """Cells now of one lineage born at n = 1 + x·span cells, x uniform (two draws)."""
    n = 1.0 + stream.uniform() * span
    if growth_ratio == 1.0:
        mean = N / n / p_establish
    elif growth_ratio == 0.0:
        mean = 1.0 / p_establish
    else:
        mean = (N / n) ** growth_ratio / p_establish
    if mean > MAX_LINEAGE_MEAN:
        mean = MAX_LINEAGE_MEAN
    return stream.geometric(1.0 / mean)


def _f(y: float) -> float:
    """(1 − e^(−y)) / y, 1 at y = 0, without cancellation."""
    if abs(y) < _SERIES_BELOW:
        return 1.0 - y * (0.5 - y / 6.0)
    return -math.expm1(-y) / y


def _late_lineage_moments(log_ratio: float, growth_ratio: float,
                          p_establish: float) -> tuple[float, float]:
    """E[m] and E[m²] of a late lineage's mean size m = (N/n)^ρ / p_est, n ~ U[a, N].

    With Λ = ln(N/a): E[(N/n)^q] = f((1 − q)Λ) / f(Λ).
    """
    m1 = _f((1.0 - growth_ratio) * log_ratio) / _f(log_ratio) / p_establish
    m2 = (_f((1.0 - 2.0 * growth_ratio) * log_ratio) / _f(log_ratio)
          / (p_establish * p_establish))
    return m1, m2
