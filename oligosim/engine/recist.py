"""Imaging and RECIST 1.1 (DESIGN.md §2.6; Eisenhauer et al., Eur J Cancer 2009).

A scan measures every lesion: visible if its true diameter reaches the organ's detection
threshold, measured with normal error (truncated at 0). RECIST picks up to five targets at
baseline (≤ 2 per organ, largest measurable first); progression is a 20% and 5 mm rise of
the sum of target diameters over its nadir, a new lesion, or unequivocal non-target
progression. ASSUMPTION (named in DESIGN §2.6): a non-target progresses unequivocally when
its volume doubles from its own nadir, i.e. its diameter reaches 2^(1/3) × nadir, or when a
non-target that had disappeared reappears.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from oligosim.engine import rng
from oligosim.engine._jit import (
    DISTANT_NODE,
    JIT,
    LUNG_MET,
    LUNG_PRIMARY,
    N_CLONES,
    O_DETECT,
    O_MEASURABLE,
    PURPOSE_MEASURE,
    RESP_CR,
    RESP_PD,
    RESP_PR,
    RESP_SD,
    THORACIC_NODE,
)
from oligosim.engine.biology import diameter_mm
from oligosim.engine.clock import grow
from oligosim.engine.layout import (
    C_N,
    C_R,
    C_T,
    LF_ALIVE,
    LF_EVER_VIS,
    LF_NADIR,
    LF_NONTARGET,
    LF_ORGAN,
    LF_REF_VIS,
    LF_TARGET,
)

NT_VOLUME_DOUBLING = 2.0 ** (1.0 / 3.0)
MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2


@nb.njit(**JIT)
def lesion_cells(clone, l, t):
    """Total cells of lesion ``l`` at time ``t``."""
    tot = 0.0
    for k in range(N_CLONES):
        n = clone[l, k, C_N]
        if n > 0.0:
            tot += grow(n, clone[l, k, C_R], t - clone[l, k, C_T])
    return tot


@nb.njit(**JIT)
def scan_cells(lesion, clone, nles, t, cells):
    """``cells[l]``: total cells of every live lesion slot at ``t`` (what :func:`measure`
    reads)."""
    for l in range(nles):
        if lesion[l, LF_ALIVE] > 0.5:
            cells[l] = lesion_cells(clone, l, t)


@nb.njit(**JIT)
def measure(lesion, nles, organ_tab, rho, sd_mm, seed, pid, scan_no, meas, truth):
    """Scan every lesion slot: ``truth[l]`` true diameter, ``meas[l]`` measured (0 = unseen).

    On entry ``truth[l]`` holds the cells of each live lesion (:func:`scan_cells`, or the
    kernel's extinction pass, which has just grown every clone to the scan date); on return
    it holds the true diameter. The measurement error of lesion ``l`` at scan ``scan_no`` is
    the stateless normal addressed by (lesion slot, scan number): identical in every
    strategy, and drawn only for visible lesions without shifting anyone else's draws.
    """
    for l in range(nles):
        if lesion[l, LF_ALIVE] < 0.5:
            meas[l] = 0.0
            truth[l] = 0.0
            continue
        d = diameter_mm(truth[l], rho)
        truth[l] = d
        o = int(lesion[l, LF_ORGAN])
        if d >= organ_tab[o, O_DETECT]:
            z = rng.normal_at(seed, pid, PURPOSE_MEASURE, l, scan_no) if sd_mm > 0.0 else 0.0
            m = d + sd_mm * z
            meas[l] = m if m > 0.0 else 0.0
            lesion[l, LF_EVER_VIS] = 1.0
        else:
            meas[l] = 0.0


@nb.njit(**JIT)
def visible(lesion, l, meas):
    """True if lesion ``l`` is alive and was seen at the last scan."""
    return lesion[l, LF_ALIVE] > 0.5 and meas[l] > 0.0


@nb.njit(**JIT)
def recist_organ(o):
    """RECIST organ of a model organ: all lung lesions are one organ, all nodes another
    (RECIST 1.1 counts paired organs and the lymph-node system as one organ each)."""
    if o == LUNG_MET:
        return LUNG_PRIMARY
    if o == DISTANT_NODE:
        return THORACIC_NODE
    return o


@nb.njit(**JIT)
def select_targets(lesion, nles, meas, organ_tab):
    """Baseline target/non-target selection; returns the baseline sum of diameters (mm)."""
    per_organ = np.zeros(16, dtype=np.int64)
    n_t = 0
    sod = 0.0
    for _ in range(MAX_TARGETS):
        best = -1
        best_d = -1.0
        for l in range(nles):
            if lesion[l, LF_TARGET] > 0.5 or not visible(lesion, l, meas):
                continue
            o = int(lesion[l, LF_ORGAN])
            if (meas[l] < organ_tab[o, O_MEASURABLE]
                    or per_organ[recist_organ(o)] >= MAX_TARGETS_PER_ORGAN):
                continue
            if meas[l] > best_d:
                best_d = meas[l]
                best = l
        if best < 0:
            break
        lesion[best, LF_TARGET] = 1.0
        per_organ[recist_organ(int(lesion[best, LF_ORGAN]))] += 1
        n_t += 1
        sod += best_d
    for l in range(nles):
        if visible(lesion, l, meas) and lesion[l, LF_TARGET] < 0.5:
            lesion[l, LF_NONTARGET] = 1.0
    return sod


@nb.njit(**JIT)
def sum_of_diameters(lesion, nles, meas):
    """Current sum of target diameters (mm)."""
    sod = 0.0
    for l in range(nles):
        if lesion[l, LF_TARGET] > 0.5 and lesion[l, LF_ALIVE] > 0.5:
            sod += meas[l]
    return sod


@nb.njit(**JIT)
def lesion_progressing(lesion, l, meas):
    """Per-lesion progression (DESIGN §2.6): new, or ≥ 1.2 × own nadir and ≥ nadir + 5 mm."""
    if not visible(lesion, l, meas):
        return False
    if lesion[l, LF_REF_VIS] < 0.5:
        return True
    nadir = lesion[l, LF_NADIR]
    if math.isinf(nadir):
        return False
    return meas[l] >= 1.2 * nadir and meas[l] >= nadir + 5.0


@nb.njit(**JIT)
def evaluate(lesion, nles, meas, organ_tab, sod_nadir, base_sod, prog):
    """RECIST 1.1 assessment of one scan against the current reference.

    Returns (sod_mm, response_code, new_lesion, n_progressing); ``prog[l]`` is set to 1.0 for
    every lesion progressing by the per-lesion rule. Nadirs are not updated here.
    """
    sod = sum_of_diameters(lesion, nles, meas)
    pd_sod = (not math.isinf(sod_nadir)) and sod >= 1.2 * sod_nadir and sod >= sod_nadir + 5.0
    new_lesion = False
    nt_pd = False
    n_prog = 0
    all_gone = True
    for l in range(nles):
        prog[l] = 0.0
        if lesion[l, LF_ALIVE] < 0.5:
            continue
        v = meas[l] > 0.0
        o = int(lesion[l, LF_ORGAN])
        if v and lesion[l, LF_REF_VIS] < 0.5:
            new_lesion = True
        if lesion[l, LF_NONTARGET] > 0.5 and lesion[l, LF_REF_VIS] > 0.5 and v:
            nadir = lesion[l, LF_NADIR]
            if not math.isinf(nadir) and (
                    (nadir > 0.0 and meas[l] >= NT_VOLUME_DOUBLING * nadir) or nadir == 0.0):
                nt_pd = True
        if v:
            node = o == THORACIC_NODE or o == DISTANT_NODE
            if not (node and meas[l] < 10.0):
                all_gone = False
        if lesion_progressing(lesion, l, meas):
            prog[l] = 1.0
            n_prog += 1
    if pd_sod or new_lesion or nt_pd:
        resp = RESP_PD
    elif all_gone:
        resp = RESP_CR
    elif base_sod > 0.0 and sod <= 0.7 * base_sod:
        resp = RESP_PR
    else:
        resp = RESP_SD
    return sod, resp, new_lesion, n_prog


@nb.njit(**JIT)
def update_nadirs(lesion, nles, meas):
    """Per-lesion nadirs of reference lesions (reset ones restart at the first measurement)."""
    for l in range(nles):
        if (lesion[l, LF_ALIVE] > 0.5 and lesion[l, LF_REF_VIS] > 0.5
                and meas[l] < lesion[l, LF_NADIR]):
            lesion[l, LF_NADIR] = meas[l]


@nb.njit(**JIT)
def rebaseline(lesion, nles, meas):
    """New reference at this scan: every visible lesion becomes a reference (non-target if it
    was not a target) and its nadir restarts at its current measurement."""
    for l in range(nles):
        if lesion[l, LF_ALIVE] < 0.5:
            continue
        if meas[l] > 0.0:
            lesion[l, LF_REF_VIS] = 1.0
            if lesion[l, LF_TARGET] < 0.5:
                lesion[l, LF_NONTARGET] = 1.0
        if lesion[l, LF_REF_VIS] > 0.5:
            lesion[l, LF_NADIR] = meas[l]
