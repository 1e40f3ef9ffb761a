"""Growth rates, establishment probabilities and size conversions (DESIGN.md §2.3-2.6)."""

from __future__ import annotations

import math

import numba as nb

from oligosim.engine._jit import DRUG_NONE, EGFR_TKIS, JIT


@nb.njit(**JIT)
def clone_rate(k, organ, drug, subtype, g0, gmult, kill, sens, pen, sigma, cost, tki_mult=1.0):
    """Net growth rate (per month) of clone ``k`` in ``organ`` under ``drug`` (DESIGN §2.4).

    Resistant clones grow at g0_k·(1 − c_k); sensitive clones at
    g0_k − (g0_k + δ_D)·π_{organ,D}·σ_subtype; off drug every clone grows at g0_k, where
    g0_k = g0·gmult[k] (the transformed clone grows faster). ``sens[D, k]`` may be fractional,
    which mixes the two rates linearly. For an EGFR TKI σ_subtype is multiplied by the
    patient's ``tki_mult`` (ASSUMPTION ``tki_sensitivity_patient_sdlog``, params/defaults.py).
    """
    g = g0 * gmult[k]
    if drug == DRUG_NONE:
        return g
    s = sens[drug, k]
    sig = sigma[subtype, drug]
    if drug in EGFR_TKIS:
        sig = sig * tki_mult
    r_sens = g - (g + kill[drug]) * pen[organ, drug] * sig
    r_res = g * (1.0 - cost[k])
    return s * r_sens + (1.0 - s) * r_res


@nb.njit(**JIT)
def p_establish(rate, birth):
    """Survival probability of a new lineage, max(0, r/b) capped at 1 (DESIGN §2.5)."""
    if rate <= 0.0:
        return 0.0
    p = rate / birth
    return 1.0 if p > 1.0 else p


@nb.njit(**JIT)
def diameter_mm(cells, cells_per_cm3):
    """Diameter (mm) of a sphere holding ``cells`` at ``cells_per_cm3`` (DESIGN §2.6)."""
    if cells <= 0.0:
        return 0.0
    return 10.0 * (6.0 * cells / (math.pi * cells_per_cm3)) ** (1.0 / 3.0)


@nb.njit(**JIT)
def cells_from_diameter(d_mm, cells_per_cm3):
    """Inverse of :func:`diameter_mm`."""
    d_cm = d_mm / 10.0
    return cells_per_cm3 * math.pi * d_cm * d_cm * d_cm / 6.0
