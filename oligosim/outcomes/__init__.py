"""Layer 3: outcomes computed from the engine's per-patient table (DESIGN.md §2.11, §6).

Survival summaries (Kaplan–Meier medians, curves and landmark rates; Cox hazard ratios) live
in :mod:`oligosim.outcomes.survival`; the per-strategy summary table and patterns of failure
in :mod:`oligosim.outcomes.summary`. Everything here reads pandas tables and imports only
from layers 0-3.
"""

from __future__ import annotations

from oligosim.outcomes.summary import patterns_of_failure, summarise
from oligosim.outcomes.survival import hazard_ratio, km_curves, landmark_rate, median_with_ci

__all__ = [
    "hazard_ratio",
    "km_curves",
    "landmark_rate",
    "median_with_ci",
    "patterns_of_failure",
    "summarise",
]
