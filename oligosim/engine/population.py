"""Baseline patient draws (DESIGN.md §2.1): demographics, visible lesions, occult lesions.

Metastases are drawn from the scenario's count and organ distributions and accepted only if
they satisfy the eligibility constraints: rejection sampling, which gives the exact
conditional distribution (no truncation that distorts it).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from oligosim.engine import rng
from oligosim.engine._jit import (
    BRAIN,
    JIT,
    N_ORGANS,
    POP_ALLOW_BRAIN,
    POP_MAX_ORGANS,
    POP_MAX_PER_ORGAN,
)
from oligosim.engine.clock import norm_cdf, norm_ppf

MAX_REJECTIONS = 100_000


@nb.njit(**JIT)
def truncated_normal(table, s, seed, pid, mean, sd, lo, hi):
    """Normal(mean, sd) conditioned on [lo, hi], by inversion (one uniform, exact)."""
    if sd <= 0.0:
        return min(max(mean, lo), hi)
    plo = norm_cdf((lo - mean) / sd)
    phi = norm_cdf((hi - mean) / sd)
    u = rng.uniform(table, s, seed, pid)
    return mean + sd * norm_ppf(plo + u * (phi - plo))


@nb.njit(**JIT)
def lognormal_above(table, s, seed, pid, median, sdlog, lo):
    """LogNormal(log median, sdlog) conditioned on ≥ lo, by inversion (exact)."""
    if sdlog <= 0.0:
        return max(median, lo)
    plo = norm_cdf((math.log(lo) - math.log(median)) / sdlog)
    u = rng.uniform(table, s, seed, pid)
    return median * math.exp(sdlog * norm_ppf(plo + u * (1.0 - plo)))


@nb.njit(**JIT)
def draw_metastases(table, s, seed, pid, count_cum, organ_cum, pop, organs_out):
    """Draw the visible metastases' organs into ``organs_out``; return their number.

    ``count_cum``: cumulative pmf of the number of metastases (index = count, from 0).
    ``organ_cum``: cumulative organ distribution over N_ORGANS organs.
    Returns −1 if no draw was accepted within MAX_REJECTIONS tries (eligibility that admits
    (almost) no patient; the scenario layer checks this before running).
    """
    per_organ = np.zeros(N_ORGANS, dtype=np.int64)
    for _ in range(MAX_REJECTIONS):
        n = rng.categorical(table, s, seed, pid, count_cum)
        per_organ[:] = 0
        for j in range(n):
            o = rng.categorical(table, s, seed, pid, organ_cum)
            organs_out[j] = o
            per_organ[o] += 1
        ok = True
        n_org = 0
        for o in range(N_ORGANS):
            if per_organ[o] > 0:
                n_org += 1
            if per_organ[o] > pop[POP_MAX_PER_ORGAN]:
                ok = False
        if n_org > pop[POP_MAX_ORGANS]:
            ok = False
        if pop[POP_ALLOW_BRAIN] < 0.5 and per_organ[BRAIN] > 0:
            ok = False
        if ok:
            return n
    return -1


@nb.njit(**JIT)
def loguniform(table, s, seed, pid, lo, hi):
    """Log-uniform on [lo, hi]."""
    u = rng.uniform(table, s, seed, pid)
    return lo * math.exp(u * math.log(hi / lo))
