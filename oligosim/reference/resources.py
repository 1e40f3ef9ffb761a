"""The patient's resource-use ledger (DESIGN.md §2.12), priced later by the outcomes layer.

As the patient goes through the pathway the ledger records months progression-free and
after progression, months on each drug (best supportive care included), and counts of scans,
LAT courses by modality, grade ≥ 3 toxicity events and death. Each quantity is kept three
times: undiscounted, discounted continuously at the cost rate, and at the effect rate (a
stretch of time from t0 to t1 counts ∫ exp(−r·t) dt; an event at t counts exp(−r·t)). Costs
and QALYs are linear in these, so the economics layer prices them without re-simulating.

Layout: the fast engine's (:data:`oligosim.engine.layout.ACC_COLUMNS`), entries added in the
same order so that sums agree to the last bit.
"""

from __future__ import annotations

import math

import numpy as np

from oligosim.engine import layout as L

N_VARIANTS = 3  # undiscounted, discounted at the cost rate, at the effect rate


def discounted_duration(t0: float, t1: float, rate: float) -> float:
    """∫ from t0 to t1 of exp(−rate·t) dt (months; rate per month)."""
    if rate == 0.0:
        return t1 - t0
    return (math.exp(-rate * t0) - math.exp(-rate * t1)) / rate


class ResourceUse:
    """One patient's ledger; ``rates`` are the continuous monthly discount rates (costs,
    effects)."""

    __slots__ = ("rates", "totals")

    def __init__(self, rates: tuple[float, float]) -> None:
        self.rates = rates
        self.totals = [0.0] * L.N_ACC

    def time_spent(self, t0: float, t1: float, drug: int, progression_free: bool) -> None:
        """Months from ``t0`` to ``t1`` on ``drug``, progression-free or not."""
        if t1 <= t0:
            return
        state = L.AQ_PF if progression_free else L.AQ_PP
        for v in range(N_VARIANTS):
            d = t1 - t0 if v == 0 else discounted_duration(t0, t1, self.rates[v - 1])
            self.totals[v * L.N_ACC_Q + state] += d
            self.totals[v * L.N_ACC_Q + L.AQ_DRUG0 + drug] += d

    def event(self, t: float, quantity: int) -> None:
        """One event of ``quantity`` (a scan, a course, a toxicity, death) at ``t``."""
        for v in range(N_VARIANTS):
            self.totals[v * L.N_ACC_Q + quantity] += \
                1.0 if v == 0 else math.exp(-self.rates[v - 1] * t)

    def scan(self, t: float) -> None:
        """A scan at ``t``."""
        self.event(t, L.AQ_SCAN)

    def lat_lesion(self, t: float, modality: int) -> None:
        """One lesion treated at ``t`` with ``modality`` (counted per lesion)."""
        self.event(t, L.AQ_LAT0 + modality)

    def grade3(self, t: float) -> None:
        """A grade ≥ 3 toxicity at ``t``."""
        self.event(t, L.AQ_TOX)

    def death(self, t: float) -> None:
        """Death at ``t`` (end-of-life costs)."""
        self.event(t, L.AQ_DEATH)

    def to_row(self) -> np.ndarray:
        """float64[N_ACC] in ``ACC_COLUMNS`` order."""
        return np.array(self.totals, dtype=np.float64)
