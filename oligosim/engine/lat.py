"""Local ablative therapy: linear-quadratic cell kill with Poisson TCP, and surgery (§2.8).

A lesion receiving total dose D in fractions of d survives with fraction
SF = exp(−α·D·(1 + d/(α/β))), α drawn once per lesion ~ Normal(ᾱ, σα) truncated > 0 and
multiplied by the organ's site adjustment. Each clone's clonogens (cells × clonogen fraction)
are thinned: survivors ~ Poisson(clonogens × SF) (the Poisson limit of binomial thinning); the
lesion is controlled when no clonogen survives. ASSUMPTION: the clonogen fraction of the
surviving population is unchanged, so surviving cells = surviving clonogens / fraction.
Brain SRS dose follows RTOG 90-05 by diameter: 24 Gy ≤ 20 mm, 18 Gy ≤ 30 mm, else 15 Gy.
"""

from __future__ import annotations

import math

import numba as nb

from oligosim.engine import rng
from oligosim.engine._jit import BRAIN, JIT, MOD_SRS, MOD_SURGERY, N_CLONES


@nb.njit(**JIT)
def surviving_fraction(alpha, dose_gy, fractions, alpha_beta_gy):
    """LQ surviving fraction exp(−α·D·(1 + d/(α/β))) with d = D / fractions."""
    d = dose_gy / fractions
    return math.exp(-alpha * dose_gy * (1.0 + d / alpha_beta_gy))


@nb.njit(**JIT)
def bed_gy(dose_gy, fractions, alpha_beta_gy):
    """Biologically effective dose D·(1 + d/(α/β))."""
    return dose_gy * (1.0 + dose_gy / fractions / alpha_beta_gy)


@nb.njit(**JIT)
def srs_dose_gy(diameter):
    """RTOG 90-05 single-fraction SRS dose by lesion diameter (mm)."""
    if diameter <= 20.0:
        return 24.0
    if diameter <= 30.0:
        return 18.0
    return 15.0


@nb.njit(**JIT)
def treat_lesion(cells, new_cells, organ, modality, dose_gy, fractions, diameter, alpha,
                 clonogen_fraction, alpha_beta_gy, p_r0, residual_fraction,
                 table, s, seed, pid):
    """Apply one course to one lesion; ``cells[k]`` before, ``new_cells[k]`` after.

    ``alpha`` already includes the site multiplier. ``s`` is the lesion's kill stream row.
    Returns True if the lesion is controlled (no cell survives).
    """
    if modality == MOD_SURGERY:
        u = rng.uniform(table, s, seed, pid)
        frac = 0.0 if u < p_r0 else residual_fraction
        alive = False
        for k in range(N_CLONES):
            new_cells[k] = cells[k] * frac
            if new_cells[k] > 0.0:
                alive = True
        return not alive
    if organ == BRAIN and modality == MOD_SRS:
        dose_gy = srs_dose_gy(diameter)
        fractions = 1.0
    sf = surviving_fraction(alpha, dose_gy, fractions, alpha_beta_gy)
    alive = False
    for k in range(N_CLONES):
        if cells[k] <= 0.0:
            new_cells[k] = 0.0
            continue
        survivors = rng.poisson(table, s, seed, pid, cells[k] * clonogen_fraction * sf)
        new_cells[k] = survivors / clonogen_fraction
        if survivors > 0.0:
            alive = True
    return not alive
