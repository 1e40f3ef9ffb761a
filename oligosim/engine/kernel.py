"""The fast engine: one patient's history, exact between events, and the batch kernel.

A patient is a set of lesions, each a set of clone populations growing exponentially between
events (DESIGN.md §2.4). Stochastic events come from per lesion-clone clocks
(:mod:`oligosim.engine.clock`) whose hazard is proportional to that clone's cells:

* cancer death  κ·w_organ·N/10^12             (DESIGN §2.5; ×φ while N shrinks, below)
* seeding       ν·N, a seed establishing with p_est in an organ drawn by tropism
* acquisition   (sensitive clone only) b·Σ_j u_j·p_est,j·N, clone j drawn ∝ u_j·p_est,j

plus a background-death clock (Gompertz, closed form) and scheduled events: scans, LAT
courses, the end of platinum induction, the horizon. The strategy is a numeric policy record
(DESIGN §2.10); there are no Python callbacks in the loop.

Acquired-resistance *packets* (NUMERICAL, named): when the acquisition hazard is large,
thousands of lineages of ~1/p_est cells each arise within weeks. Each clock event then adds a
packet of q lineages at 1/q of the rate, q = ⌊hazard × τ⌋ ≥ 1 with τ =
``acquisition_packet_months``, shortened to 1/(4·|r_S|) while the sensitive clone shrinks so
that a decline still gets ~4 packets per e-fold. The expected inflow of resistant cells is
unchanged, q = 1 (exact single lineages) whenever the hazard is below 1/τ, and
``acquisition_packet_months = 0`` makes every event a single lineage.

Regressing disease (ASSUMPTION, ``death_regressing_factor`` = φ): a population whose net
rate is negative contributes φ·κ·w·N instead of κ·w·N to the cancer-death hazard. φ = 1 is
DESIGN §2.5 as written; see ``params/defaults.py`` for why the calibration frees it.

Extinction (ASSUMPTION): at each scan a clone with fewer than one cell is set to zero.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from oligosim.engine import rng
from oligosim.engine._jit import (
    BRAIN,
    CAUSE_ALIVE,
    CAUSE_BACKGROUND,
    CAUSE_CANCER,
    CAUSE_TREATMENT,
    CLONE_S,
    CLONE_T790M,
    DRUG_LATER,
    DRUG_NONE,
    DRUG_OSI,
    DRUG_PEM_MAINT,
    DRUG_PLATINUM,
    DRUG_TKI1G,
    DRUG_TKI2G,
    JIT,
    JIT_PARALLEL,
    LINE_BSC,
    LINE_FIRST,
    LINE_LATER,
    LINE_SECOND,
    LUNG_PRIMARY,
    MAX_LESIONS,
    MOD_SURGERY,
    N_CLONES,
    N_ORGANS,
    O_ABLATABLE,
    O_ALPHA_MULT,
    O_DEATH_W,
    O_DETECT,
    O_DOSE,
    O_FRACTIONS,
    O_MODALITY,
    O_TOX3,
    O_TOX5,
    O_TROPISM,
    P_AB,
    P_AGE_MEAN,
    P_AGE_SD,
    P_ALPHA_MEAN,
    P_ALPHA_SD,
    P_BIRTH,
    P_CLONOGEN,
    P_FEMALE,
    P_G0,
    P_G_SDLOG,
    P_GOMP_A_F,
    P_GOMP_A_M,
    P_GOMP_B_F,
    P_GOMP_B_M,
    P_KAPPA,
    P_KAPPA_REGRESSING,
    P_LAT_DELAY,
    P_LATER_LINE,
    P_MEAS_SD,
    P_MET_MED,
    P_MET_SD,
    P_MU0,
    P_MU1,
    P_NODE_MED,
    P_NODE_P,
    P_NU,
    P_OCC_MIN,
    P_PACKET,
    P_PLATINUM_MONTHS,
    P_PRIM_MED,
    P_PRIM_SD,
    P_RHO,
    P_SECOND_LINE,
    P_SURG_R0,
    P_SURG_RESID,
    P_T790M_SENS,
    P_TKI_SDLOG,
    PAT_BOTH,
    PAT_EXISTING,
    PAT_NEW,
    PAT_NONE,
    POL_CONS,
    POL_CONS_MAX,
    POL_CONS_TIME,
    POL_HORIZON,
    POL_OPD,
    POL_OPD_CONT,
    POL_OPD_COURSES,
    POL_OPD_MAX,
    POL_SCAN1,
    POL_SCAN2,
    POL_SCAN_SWITCH,
    POL_T790M_OSI,
    POL_TKI,
    POL_UP_DOSE,
    POL_UP_FX,
    POL_UP_MAX_METS,
    POL_UP_MAX_ORGANS,
    POL_UPFRONT,
    POP_P_EX19,
    POP_P_L858R,
    PURPOSE_BASELINE,
    PURPOSE_CLOCK,
    PURPOSE_DEATH,
    PURPOSE_LATKILL,
    PURPOSE_OCCULT,
    PURPOSE_PREEXISTING,
    PURPOSE_RADIO,
    PURPOSE_TEST,
    PURPOSE_TOX,
    RESP_NE,
    RESP_PD,
    RESP_PR,
    THORACIC_NODE,
    UPFRONT_ALL,
    UPFRONT_ALL_AND_PRIMARY,
    UPFRONT_NONE,
    UPFRONT_THORACIC,
)
from oligosim.engine.biology import cells_from_diameter, clone_rate, diameter_mm, p_establish
from oligosim.engine.clock import INF, cumulative, grow, invert
from oligosim.engine.lat import treat_lesion
from oligosim.engine.layout import (
    AQ_DEATH,
    AQ_DRUG0,
    AQ_LAT0,
    AQ_PF,
    AQ_PP,
    AQ_SCAN,
    AQ_TOX,
    C_C,
    C_E,
    C_F,
    C_N,
    C_R,
    C_T,
    CNS_RESPONSE_RATIO,
    ERR_ELIGIBILITY,
    ERR_LESION_CAPACITY,
    ERR_NONE,
    EV_CONS,
    EV_DEATH,
    EV_DRUG,
    EV_LAT,
    EV_LESION_PD,
    EV_MUTATION,
    EV_NEW_LESION,
    EV_OLIGO_PD,
    EV_PD,
    EV_SCAN,
    EV_TOX,
    LF_ALIVE,
    LF_ALPHA,
    LF_FMIN,
    LF_KMIN,
    LF_LF_OPEN,
    LF_NADIR,
    LF_ORGAN,
    LF_PACKET,
    LF_PLANNED,
    LF_REF_VIS,
    LF_TREATED,
    LF_VIS_BASE,
    LF_VIS_CONS,
    N_ACC_Q,
    N_CF,
    N_FIXED_ROWS,
    N_LF,
    N_ROWS_PER_LESION,
    N_STREAM_ROWS,
    O_AGE,
    O_BOR,
    O_CAUSE,
    O_CNS,
    O_CNS_BASE,
    O_CNS_NEW,
    O_CNS_RESP,
    O_ERROR,
    O_FEMALE,
    O_GROWTH,
    O_MAXL,
    O_NABL,
    O_NLAT,
    O_NLF,
    O_NOCC,
    O_NORG,
    O_NPROG,
    O_NTOX,
    O_NVIS,
    O_NVIS_CONS,
    O_OLIGO_PD,
    O_OS,
    O_OS_EV,
    O_PATTERN,
    O_PFS,
    O_PFS2,
    O_PFS2_EV,
    O_PFS_EV,
    O_RESID_ONLY,
    O_RESIST,
    O_RESP_T,
    O_SECOND,
    O_SUBTYPE,
    O_TKI_SENS,
    O_TTD,
    O_TTD_EV,
    R_CLOCK0,
    R_LATKILL,
    R_PREEXIST,
    R_RADIO,
    ROW_BASELINE,
    ROW_DEATH,
    ROW_OCCULT,
    ROW_TEST,
    ROW_TOX,
)
from oligosim.engine.population import (
    draw_metastases,
    lognormal_above,
    loguniform,
    truncated_normal,
)
from oligosim.engine.preexisting import sample_preexisting
from oligosim.engine.recist import (
    evaluate,
    lesion_cells,
    measure,
    rebaseline,
    scan_cells,
    select_targets,
    sum_of_diameters,
    update_nadirs,
)

CELLS_PER_DEATH_UNIT = 1e12  # DESIGN §2.5: tumour death hazard per 10^12 weighted cells
PACKETS_PER_EFOLD = 4.0  # packets per e-fold decline of a shrinking sensitive clone

# courses
COURSE_NONE, COURSE_UPFRONT, COURSE_CONSOLIDATION, COURSE_OLIGO_PD = range(4)


# ------------------------------------------------------------------------------------------
# stream rows
# ------------------------------------------------------------------------------------------
@nb.njit(**JIT)
def _row(l, offset):
    return N_FIXED_ROWS + l * N_ROWS_PER_LESION + offset


@nb.njit(**JIT)
def make_stream_table():
    """Stream table with the fixed rows and every lesion slot's rows (DESIGN §2.13)."""
    purposes = np.zeros(N_STREAM_ROWS, dtype=np.int64)
    subs = np.zeros(N_STREAM_ROWS, dtype=np.int64)
    purposes[ROW_BASELINE] = PURPOSE_BASELINE
    purposes[ROW_OCCULT] = PURPOSE_OCCULT
    purposes[ROW_DEATH] = PURPOSE_DEATH
    purposes[ROW_TEST] = PURPOSE_TEST
    purposes[ROW_TOX] = PURPOSE_TOX
    for l in range(MAX_LESIONS):
        purposes[_row(l, R_PREEXIST)] = PURPOSE_PREEXISTING
        subs[_row(l, R_PREEXIST)] = l
        purposes[_row(l, R_RADIO)] = PURPOSE_RADIO
        subs[_row(l, R_RADIO)] = l
        purposes[_row(l, R_LATKILL)] = PURPOSE_LATKILL
        subs[_row(l, R_LATKILL)] = l
        for k in range(N_CLONES):
            purposes[_row(l, R_CLOCK0 + k)] = PURPOSE_CLOCK
            subs[_row(l, R_CLOCK0 + k)] = l * N_CLONES + k
    return rng.new_stream_table(purposes, subs)


# ------------------------------------------------------------------------------------------
# clocks
# ------------------------------------------------------------------------------------------
@nb.njit(**JIT)
def _advance(clone, l, k, t):
    """Consume clock (l, k) up to t and re-anchor its population at t."""
    n = clone[l, k, C_N]
    dt = t - clone[l, k, C_T]
    if n > 0.0 and dt > 0.0:
        r = clone[l, k, C_R]
        e = clone[l, k, C_E] - cumulative(clone[l, k, C_C] * n, r, dt)
        clone[l, k, C_E] = e if e > 0.0 else 0.0
        clone[l, k, C_N] = grow(n, r, dt)
    clone[l, k, C_T] = t


@nb.njit(**JIT)
def _schedule(clone, l, k, t):
    """Recompute the absolute firing time of clock (l, k) from its state at t."""
    n = clone[l, k, C_N]
    if n <= 0.0:
        clone[l, k, C_F] = INF
    else:
        clone[l, k, C_F] = t + invert(clone[l, k, C_C] * n, clone[l, k, C_R], clone[l, k, C_E])


@nb.njit(**JIT)
def _refresh_next(lesion, clone, l):
    """Cache lesion l's earliest clock: ``LF_FMIN`` its firing time, ``LF_KMIN`` its clone.

    Call after any firing time of the lesion changes. The event loop then scans lesions, not
    lesion-clones; taking the first strict minimum at both levels picks the same clock as a
    scan over every (l, k) in order, so results are unchanged.
    """
    fmin = INF
    kmin = -1
    for k in range(N_CLONES):
        f = clone[l, k, C_F]
        if f < fmin:
            fmin = f
            kmin = k
    lesion[l, LF_FMIN] = fmin
    lesion[l, LF_KMIN] = kmin


@nb.njit(**JIT)
def _advance_fired(clone, l, k, t):
    """``_advance`` for a clock that fires at t: its mass is spent, so only N is re-anchored.

    Skips the cumulative hazard ``_advance`` would subtract from a mass that is then reset to
    zero anyway (one ``expm1`` per event); the state afterwards is the same.
    """
    n = clone[l, k, C_N]
    dt = t - clone[l, k, C_T]
    if n > 0.0 and dt > 0.0:
        clone[l, k, C_N] = grow(n, clone[l, k, C_R], dt)
    clone[l, k, C_E] = 0.0
    clone[l, k, C_T] = t


REG_MUT = 2 * N_CLONES      # reg[o, REG_MUT]: b·Σ_j u_j·p_est,j in organ o
REG_SEED = 2 * N_CLONES + 1  # reg[k, REG_SEED]: Σ_o tropism_o·p_est(k, o)
N_REG_COLS = 2 * N_CLONES + 2


@nb.njit(**JIT)
def fill_regime(reg, drug, subtype, g0, sc, org, gmult, kill, sens, pen, sigma, cost, mut,
                tki_mult=1.0):
    """Tabulate everything a regime (drug in force, EGFR subtype, the patient's untreated
    growth rate ``g0`` and EGFR-TKI sensitivity multiplier ``tki_mult``) fixes, once per
    regime.

    ``reg[o, k]`` net rate of clone k in organ o; ``reg[o, N_CLONES + k]`` its p_est;
    ``reg[o, REG_MUT]`` the acquisition hazard per sensitive cell, b·Σ_j u_j·p_est,j;
    ``reg[k, REG_SEED]`` the establishment-weighted seeding Σ_o tropism_o·p_est(k, o).
    Folding establishment into the seeding rate (instead of thinning failed seeds) is exact
    and spends no events on seeds that die out.
    """
    b = sc[P_BIRTH]
    for o in range(N_ORGANS):
        for k in range(N_CLONES):
            r = clone_rate(k, o, drug, subtype, g0, gmult, kill, sens, pen, sigma, cost,
                           tki_mult)
            reg[o, k] = r
            reg[o, N_CLONES + k] = p_establish(r, b)
    for o in range(N_ORGANS):
        tot = 0.0
        for j in range(1, N_CLONES):
            if mut[j] > 0.0:
                tot += mut[j] * reg[o, N_CLONES + j]
        reg[o, REG_MUT] = b * tot
    for k in range(N_CLONES):
        tot = 0.0
        for o in range(N_ORGANS):
            w = org[o, O_TROPISM]
            if w > 0.0:
                tot += w * reg[o, N_CLONES + k]
        reg[k, REG_SEED] = tot


@nb.njit(**JIT)
def death_coefficient(sc, org, o, r):
    """Cancer-death hazard per cell of a population in organ ``o`` with net rate ``r``."""
    c = sc[P_KAPPA] * org[o, O_DEATH_W] / CELLS_PER_DEATH_UNIT
    if r < 0.0:
        c *= sc[P_KAPPA_REGRESSING]
    return c


# inlined by numba (hot, small): see the note above rng.next_u64
@nb.njit(inline="always", **JIT)
def _set_clock_params(lesion, clone, l, k, reg, sc, org):
    """Set rate and hazard coefficient of clone (l, k) for the regime tabulated in ``reg``.

    The clone must already be advanced to the current time. The packet size of the
    sensitive clone's acquisition hazard is refreshed here (see module docstring).
    """
    o = int(lesion[l, LF_ORGAN])
    clone[l, k, C_R] = reg[o, k]
    c = death_coefficient(sc, org, o, clone[l, k, C_R])
    if sc[P_NU] > 0.0:
        c += sc[P_NU] * reg[k, REG_SEED]
    if k == CLONE_S:
        m = reg[o, REG_MUT]
        q = 1.0
        tau = sc[P_PACKET]
        if tau > 0.0:
            r_s = clone[l, k, C_R]
            if r_s < 0.0 and PACKETS_PER_EFOLD * -r_s * tau > 1.0:
                tau = 1.0 / (PACKETS_PER_EFOLD * -r_s)
            q = np.floor(m * clone[l, k, C_N] * tau)  # np: float; math.floor is int64
            if q < 1.0:
                q = 1.0
        lesion[l, LF_PACKET] = q
        c += m / q
    clone[l, k, C_C] = c


# ------------------------------------------------------------------------------------------
# the patient
# ------------------------------------------------------------------------------------------
@nb.njit(**JIT)
def simulate_patient(pid, seed, sc, org, kill, sens, pen, sigma, cost, mut, gmult, pol, pop,
                     count_cum, met_organ_cum, tropism_cum, table, lesion, clone, meas, truth,
                     prog, cells_tmp, cells_new, reg, out, tr_ev, tr_scan_t, tr_scans, tr_organs,
                     traced, econ, acc, rows_dirty=N_STREAM_ROWS):
    """Simulate one patient under one strategy; write one row of outputs into ``out``.

    Parameters are the compiled arrays of ``ParameterSet.to_arrays`` (``sc`` scalars, ``org``
    organ table, ...), the policy record ``pol``, the population record ``pop`` and the
    cumulative distributions of the metastasis count, metastasis organs and tropism.
    ``table``, ``lesion``, ``clone``, ``meas``, ``truth``, ``prog``, ``cells_tmp``,
    ``cells_new`` and ``reg`` are workspace. ``econ`` holds the continuous discount rates
    per month (costs, effects); ``acc`` (N_ACC) receives the resource-use accumulators.
    Only the first ``rows_dirty`` rows of ``table`` (and the lesion slots they cover) are
    reset: the caller passes how many the previous patient may have used. If ``traced``
    is True, events and scans go into the trace buffers (``tr_*``, first axis already
    sliced to this patient).
    """
    rng.reset_streams(table[:rows_dirty])
    acc[:] = 0.0
    out[:] = np.nan
    out[O_ERROR] = ERR_NONE
    # only the slots the previous patient of this chunk used need clearing (the rest are
    # still clean): clearing all MAX_LESIONS slots cost ~10 µs per patient at 256 slots
    n_clear = (rows_dirty - N_FIXED_ROWS + N_ROWS_PER_LESION - 1) // N_ROWS_PER_LESION
    n_clear = min(max(n_clear, 0), MAX_LESIONS)
    lesion[:n_clear, :] = 0.0
    clone[:n_clear, :, :] = 0.0
    for l in range(n_clear):
        lesion[l, LF_NADIR] = INF
        lesion[l, LF_ALPHA] = np.nan
        lesion[l, LF_FMIN] = INF
        lesion[l, LF_KMIN] = -1.0
        for k in range(N_CLONES):
            clone[l, k, C_F] = INF
    n_ev = 0
    n_scan_tr = 0
    rho = sc[P_RHO]
    b = sc[P_BIRTH]

    # ---------------- baseline (DESIGN §2.1) ----------------
    rb = ROW_BASELINE
    age = truncated_normal(table, rb, seed, pid, sc[P_AGE_MEAN], sc[P_AGE_SD], 30.0, 90.0)
    female = rng.uniform(table, rb, seed, pid) < sc[P_FEMALE]
    u = rng.uniform(table, rb, seed, pid)
    subtype = 0 if u < pop[POP_P_EX19] else (1 if u < pop[POP_P_EX19] + pop[POP_P_L858R] else 2)
    node = rng.uniform(table, rb, seed, pid) < sc[P_NODE_P]
    met_organs = np.empty(64, dtype=np.int64)
    n_mets = draw_metastases(table, rb, seed, pid, count_cum, met_organ_cum, pop, met_organs)
    out[O_AGE] = age
    out[O_FEMALE] = 1.0 if female else 0.0
    out[O_SUBTYPE] = subtype
    if n_mets < 0:
        out[O_ERROR] = ERR_ELIGIBILITY
        return
    nles = 0
    # primary, node, metastases: visible at baseline by construction (≥ detection threshold)
    n_vis0 = 1 + (1 if node else 0) + n_mets
    if n_vis0 > MAX_LESIONS:
        out[O_ERROR] = ERR_LESION_CAPACITY
        return
    for j in range(n_vis0):
        if j == 0:
            o = LUNG_PRIMARY
            med, sd = sc[P_PRIM_MED], sc[P_PRIM_SD]
        elif node and j == 1:
            o = THORACIC_NODE
            med, sd = sc[P_NODE_MED], sc[P_MET_SD]
        else:
            o = met_organs[j - 1 - (1 if node else 0)]
            med, sd = sc[P_MET_MED], sc[P_MET_SD]
        d = lognormal_above(table, rb, seed, pid, med, sd, org[o, O_DETECT])
        lesion[nles, LF_ORGAN] = o
        lesion[nles, LF_ALIVE] = 1.0
        clone[nles, CLONE_S, C_N] = cells_from_diameter(d, rho)
        nles += 1
    # between-patient spread of tumour growth (DESIGN §2.4 g0 per patient): every untreated
    # rate of this patient is g0·exp(s·Z), Z ~ N(0, 1), median g0 (s = 0: one g0 for all).
    # The draw is always made, so s never shifts the other baseline draws.
    z_growth = rng.normal(table, rb, seed, pid)
    g0 = sc[P_G0] * math.exp(sc[P_G_SDLOG] * z_growth)
    out[O_GROWTH] = g0
    # ASSUMPTION (params/defaults.py tki_sensitivity_patient_sdlog): a patient-level
    # multiplier exp(s·Z) on the effect of every EGFR TKI, shared by the patient's lesions and
    # drugs; drawn whatever s is, like Z above.
    z_tki = rng.normal(table, rb, seed, pid)
    tki_mult = math.exp(sc[P_TKI_SDLOG] * z_tki)
    out[O_TKI_SENS] = tki_mult
    # occult micrometastases: Poisson(μ0 + μ1·n_visible_mets), log-uniform sizes
    ro = ROW_OCCULT
    n_occ = int(rng.poisson(table, ro, seed, pid, sc[P_MU0] + sc[P_MU1] * n_mets))
    out[O_NOCC] = n_occ
    if nles + n_occ > MAX_LESIONS:
        out[O_ERROR] = ERR_LESION_CAPACITY
        return
    for _ in range(n_occ):
        o = rng.categorical(table, ro, seed, pid, tropism_cum)
        hi = cells_from_diameter(org[o, O_DETECT], rho)
        lo = min(sc[P_OCC_MIN], hi)
        lesion[nles, LF_ORGAN] = o
        lesion[nles, LF_ALIVE] = 1.0
        clone[nles, CLONE_S, C_N] = loguniform(table, ro, seed, pid, lo, hi)
        nles += 1
    # pre-existing resistance (Luria-Delbrück), per lesion and resistant clone.
    # ASSUMPTION: before diagnosis every lineage grows with its lesion (exponent ρ = 1; a
    # faster clone would have taken the lesion over), and the resistant cells are part of
    # the lesion's N cells: the sensitive clone keeps N − Σ resistant (at least none).
    for l in range(nles):
        n_tot = clone[l, CLONE_S, C_N]
        res = 0.0
        for k in range(1, N_CLONES):
            if mut[k] > 0.0:
                pe = p_establish(g0 * gmult[k], b)
                x = sample_preexisting(table, _row(l, R_PREEXIST), seed, pid, n_tot, mut[k], 1.0,
                                       pe)
                clone[l, k, C_N] = min(x, n_tot)
                res += clone[l, k, C_N]
        if res > 0.0:
            if res >= n_tot:
                for k in range(1, N_CLONES):
                    clone[l, k, C_N] *= n_tot / res
                clone[l, CLONE_S, C_N] = 0.0
            else:
                clone[l, CLONE_S, C_N] = n_tot - res
        if traced:
            tr_organs[l] = lesion[l, LF_ORGAN]
    # background death: Gompertz, inverted in closed form (per year -> months)
    ga = sc[P_GOMP_A_F] if female else sc[P_GOMP_A_M]
    gb = sc[P_GOMP_B_F] if female else sc[P_GOMP_B_M]
    e_bg = rng.exponential(table, ROW_DEATH, seed, pid)
    t_bg = 12.0 * invert(ga * math.exp(gb * age), gb, e_bg)

    # ---------------- policy ----------------
    tki = int(pol[POL_TKI])
    horizon = pol[POL_HORIZON]
    int1 = pol[POL_SCAN1]
    switch = pol[POL_SCAN_SWITCH]
    int2 = pol[POL_SCAN2]
    cons_scan = -1
    outcome_cons_scan = -1
    # scan schedule is deterministic: find the scans nearest the consolidation times
    best_p = INF
    best_o = INF
    ts = 0.0
    idx = 0
    while ts <= horizon and ts <= max(pol[POL_CONS_TIME], 3.0) + int2 + int1:
        ts = ts + int1 if ts + int1 <= switch + 1e-9 else ts + int2
        idx += 1
        if abs(ts - pol[POL_CONS_TIME]) < best_p - 1e-12:
            best_p = abs(ts - pol[POL_CONS_TIME])
            cons_scan = idx
        if abs(ts - 3.0) < best_o - 1e-12:
            best_o = abs(ts - 3.0)
            outcome_cons_scan = idx

    # ---------------- baseline scan and RECIST targets ----------------
    t = 0.0
    scan_no = 0
    _acc_event(acc, econ, t, AQ_SCAN)
    scan_cells(lesion, clone, nles, t, truth)
    measure(lesion, nles, org, rho, sc[P_MEAS_SD], seed, pid, scan_no, meas, truth)
    n_vis = 0
    seen = np.zeros(N_ORGANS, dtype=np.int64)
    for l in range(nles):
        if meas[l] > 0.0:
            lesion[l, LF_VIS_BASE] = 1.0
            lesion[l, LF_REF_VIS] = 1.0
            lesion[l, LF_NADIR] = meas[l]
            n_vis += 1
            seen[int(lesion[l, LF_ORGAN])] = 1
    out[O_NVIS] = n_vis
    out[O_NORG] = seen.sum()
    out[O_CNS_BASE] = 1.0 if seen[BRAIN] > 0 else 0.0
    cns_base = _cns_sum(lesion, nles, meas)
    out[O_CNS_RESP] = 0.0 if cns_base > 0.0 else np.nan
    base_sod = select_targets(lesion, nles, meas, org)
    sod_nadir = base_sod
    if traced:
        n_scan_tr = _trace_scan(tr_scan_t, tr_scans, n_scan_tr, t, lesion, clone, nles, meas,
                                truth)

    # ---------------- counters and state ----------------
    line = LINE_FIRST
    drug = tki
    t_mark = 0.0  # start of the current (drug, progression-free) interval for `acc`
    chemo_switch = INF
    lat_time = INF
    course_kind = COURSE_NONE
    n_courses = 0
    n_opd_courses = 0
    n_ablated = 0
    n_lf = 0
    n_tox = 0
    best = RESP_NE
    first_pd = False
    consolidated = False
    cause = CAUSE_ALIVE
    t_death = INF
    ttd_done = False
    pfs2_done = False
    next_scan = int1 if int1 <= switch + 1e-9 else int2  # the rule of every later scan

    # ---------------- upfront LAT (DESIGN §2.10) ----------------
    mode = int(pol[POL_UPFRONT])
    if mode != UPFRONT_NONE:
        n_up = 0
        n_up_org = 0
        ok = True
        seen[:] = 0
        for l in range(nles):
            o = int(lesion[l, LF_ORGAN])
            if lesion[l, LF_VIS_BASE] < 0.5:
                continue
            if o != LUNG_PRIMARY and o != THORACIC_NODE:
                n_up += 1
                if seen[o] == 0:
                    n_up_org += 1
                    seen[o] = 1
            want = (mode == UPFRONT_ALL or mode == UPFRONT_ALL_AND_PRIMARY) or (
                mode == UPFRONT_THORACIC and (o == LUNG_PRIMARY or o == THORACIC_NODE))
            if mode == UPFRONT_ALL and (o == LUNG_PRIMARY or o == THORACIC_NODE):
                want = False
            if want:
                if org[o, O_ABLATABLE] < 0.5 and mode != UPFRONT_THORACIC:
                    ok = False
                lesion[l, LF_PLANNED] = 1.0
        if mode != UPFRONT_THORACIC and (n_up > pol[POL_UP_MAX_METS]
                                          or n_up_org > pol[POL_UP_MAX_ORGANS]):
            ok = False
        if ok:
            lat_time = 0.0
            course_kind = COURSE_UPFRONT
        else:
            for l in range(nles):
                lesion[l, LF_PLANNED] = 0.0

    # start first-line drug: set every clock
    fill_regime(reg, drug, subtype, g0, sc, org, gmult, kill, sens, pen, sigma, cost, mut,
                tki_mult)
    for l in range(nles):
        for k in range(N_CLONES):
            if clone[l, k, C_N] > 0.0:
                clone[l, k, C_E] = rng.exponential(table, _row(l, R_CLOCK0 + k), seed, pid)
            _set_clock_params(lesion, clone, l, k, reg, sc, org)
            _schedule(clone, l, k, t)
        _refresh_next(lesion, clone, l)
    if traced:
        n_ev = _trace(tr_ev, n_ev, t, EV_DRUG, -1, drug)

    # ---------------- event loop ----------------
    while True:
        # next clock
        tc = INF
        lc = -1
        kc = -1
        for l in range(nles):
            if lesion[l, LF_ALIVE] < 0.5:
                continue
            f = lesion[l, LF_FMIN]
            if f < tc:
                tc = f
                lc = l
        if lc >= 0:
            kc = int(lesion[lc, LF_KMIN])
        tn = next_scan if line != LINE_BSC else INF
        tn = min(tn, lat_time, chemo_switch, t_bg, horizon)
        if tc < tn:
            t = tc
            nles_before = nles
            died, nles, err = _fire_clock(lc, kc, t, nles, reg, sc, org, mut, table, seed, pid,
                                          lesion, clone)
            if err:
                out[O_ERROR] = ERR_LESION_CAPACITY
                return
            if died:
                cause = CAUSE_CANCER
                t_death = t
                break
            if traced:
                code = EV_NEW_LESION if nles > nles_before else EV_MUTATION
                n_ev = _trace(tr_ev, n_ev, t, code, lc if code == EV_MUTATION else nles - 1, kc)
            continue
        t = tn
        if t == t_bg:
            cause = CAUSE_BACKGROUND
            t_death = t
            break
        if t == horizon:
            break
        if t == lat_time:
            lat_time = INF
            n_courses += 1
            tdead = False
            for l in range(nles):
                if lesion[l, LF_PLANNED] < 0.5:
                    continue
                lesion[l, LF_PLANNED] = 0.0
                if lesion[l, LF_ALIVE] < 0.5:
                    continue
                o = int(lesion[l, LF_ORGAN])
                if org[o, O_ABLATABLE] < 0.5:
                    continue
                controlled, g3, g5, modality = _treat(l, o, t, course_kind, pol, sc, org, table,
                                                      seed, pid, lesion, clone, cells_tmp,
                                                      cells_new, rho)
                n_ablated += 1
                _acc_event(acc, econ, t, AQ_LAT0 + modality)
                for k in range(N_CLONES):
                    _set_clock_params(lesion, clone, l, k, reg, sc, org)
                    _schedule(clone, l, k, t)
                _refresh_next(lesion, clone, l)
                if controlled:
                    lesion[l, LF_ALIVE] = 0.0
                if g3:
                    n_tox += 1
                    _acc_event(acc, econ, t, AQ_TOX)
                    if traced:
                        n_ev = _trace(tr_ev, n_ev, t, EV_TOX, l, 3.0)
                if g5:
                    tdead = True
                if traced:
                    n_ev = _trace(tr_ev, n_ev, t, EV_LAT, l, 1.0 if controlled else 0.0)
            if tdead:
                cause = CAUSE_TREATMENT
                t_death = t
                break
            continue
        if t == chemo_switch:
            chemo_switch = INF
            _acc_interval(acc, econ, t_mark, t, drug, not first_pd)
            t_mark = t
            drug = DRUG_PEM_MAINT
            fill_regime(reg, drug, subtype, g0, sc, org, gmult, kill, sens, pen, sigma, cost,
                        mut, tki_mult)
            _set_regime(nles, t, reg, sc, org, lesion, clone)
            if traced:
                n_ev = _trace(tr_ev, n_ev, t, EV_DRUG, -1, drug)
            continue
        # ---------------- scan ----------------
        scan_no += 1
        _acc_event(acc, econ, t, AQ_SCAN)
        next_scan = t + int1 if t + int1 <= switch + 1e-9 else t + int2
        _extinguish(lesion, clone, nles, t, truth)
        measure(lesion, nles, org, rho, sc[P_MEAS_SD], seed, pid, scan_no, meas, truth)
        sod, resp, _new, n_prog = evaluate(lesion, nles, meas, org, sod_nadir, base_sod, prog)
        if traced:
            n_scan_tr = _trace_scan(tr_scan_t, tr_scans, n_scan_tr, t, lesion, clone, nles,
                                    meas, truth)
            n_ev = _trace(tr_ev, n_ev, t, EV_SCAN, -1, resp)
        # local failures: a treated lesion progressing by the per-lesion rule
        for l in range(nles):
            if prog[l] > 0.5 and lesion[l, LF_LF_OPEN] > 0.5:
                n_lf += 1
                lesion[l, LF_LF_OPEN] = 0.0
                if traced:
                    n_ev = _trace(tr_ev, n_ev, t, EV_LESION_PD, l, 1.0)
        if sod < sod_nadir:
            sod_nadir = sod
        update_nadirs(lesion, nles, meas)
        n_vis_now = 0
        all_abl = True
        for l in range(nles):
            if meas[l] > 0.0 and lesion[l, LF_ALIVE] > 0.5:
                n_vis_now += 1
                if org[int(lesion[l, LF_ORGAN]), O_ABLATABLE] < 0.5:
                    all_abl = False
        if line == LINE_FIRST:
            if not first_pd and resp < best:
                best = resp
            if not first_pd and resp <= RESP_PR and np.isnan(out[O_RESP_T]):
                out[O_RESP_T] = t  # first scan read as CR or PR (unconfirmed)
            if (not first_pd and resp != RESP_PD and out[O_CNS_RESP] == 0.0
                    and _cns_sum(lesion, nles, meas) <= CNS_RESPONSE_RATIO * cns_base):
                out[O_CNS_RESP] = 1.0
            if scan_no == outcome_cons_scan and not first_pd and resp != RESP_PD:
                out[O_NVIS_CONS] = n_vis_now
                for l in range(nles):
                    if meas[l] > 0.0 and lesion[l, LF_ALIVE] > 0.5:
                        lesion[l, LF_VIS_CONS] = 1.0
            if resp == RESP_PD:
                oligo = n_prog >= 1 and n_prog <= pol[POL_OPD_MAX]
                for l in range(nles):
                    if prog[l] > 0.5 and org[int(lesion[l, LF_ORGAN]), O_ABLATABLE] < 0.5:
                        oligo = False
                if not first_pd:
                    _acc_interval(acc, econ, t_mark, t, drug, True)
                    t_mark = t
                    first_pd = True
                    _record_first_pd(out, t, lesion, clone, nles, prog, n_prog, oligo,
                                     outcome_cons_scan, scan_no)
                    if traced:
                        n_ev = _trace(tr_ev, n_ev, t, EV_PD, -1, n_prog)
                if (pol[POL_OPD] > 0.5 and oligo and n_opd_courses < pol[POL_OPD_COURSES]
                        and math.isinf(lat_time)):
                    n_opd_courses += 1
                    for l in range(nles):
                        if prog[l] > 0.5:
                            lesion[l, LF_PLANNED] = 1.0
                    lat_time = t + sc[P_LAT_DELAY]
                    course_kind = COURSE_OLIGO_PD
                    rebaseline(lesion, nles, meas)
                    sod_nadir = sum_of_diameters(lesion, nles, meas)
                    if traced:
                        n_ev = _trace(tr_ev, n_ev, t, EV_OLIGO_PD, -1, n_prog)
                    if pol[POL_OPD_CONT] > 0.5:
                        continue
                # discontinue the first-line TKI
                out[O_TTD] = t
                out[O_TTD_EV] = 1.0
                ttd_done = True
                _acc_interval(acc, econ, t_mark, t, drug, not first_pd)
                t_mark = t
                line, drug, chemo_switch = _next_line(t, tki, pol, sc, lesion, clone, nles,
                                                      table, seed, pid, out)
                fill_regime(reg, drug, subtype, g0, sc, org, gmult, kill, sens, pen, sigma, cost,
                            mut, tki_mult)
                _set_regime(nles, t, reg, sc, org, lesion, clone)
                rebaseline(lesion, nles, meas)
                sod_nadir = sum_of_diameters(lesion, nles, meas)
                if traced:
                    n_ev = _trace(tr_ev, n_ev, t, EV_DRUG, -1, drug)
                continue
            if (pol[POL_CONS] > 0.5 and scan_no == cons_scan and not consolidated
                    and math.isinf(lat_time)):
                consolidated = True
                if traced:
                    n_ev = _trace(tr_ev, n_ev, t, EV_CONS, -1, n_vis_now)
                if n_vis_now >= 1 and n_vis_now <= pol[POL_CONS_MAX] and all_abl:
                    for l in range(nles):
                        if meas[l] > 0.0 and lesion[l, LF_ALIVE] > 0.5:
                            lesion[l, LF_PLANNED] = 1.0
                    lat_time = t + sc[P_LAT_DELAY]
                    course_kind = COURSE_CONSOLIDATION
        elif resp == RESP_PD:
            _acc_interval(acc, econ, t_mark, t, drug, not first_pd)
            t_mark = t
            if line == LINE_SECOND:
                out[O_PFS2] = t
                out[O_PFS2_EV] = 1.0
                pfs2_done = True
                u = rng.uniform(table, ROW_TEST, seed, pid)
                if u < sc[P_LATER_LINE]:
                    line = LINE_LATER
                    drug = DRUG_LATER
                else:
                    line = LINE_BSC
                    drug = DRUG_NONE
            else:
                line = LINE_BSC
                drug = DRUG_NONE
            chemo_switch = INF
            fill_regime(reg, drug, subtype, g0, sc, org, gmult, kill, sens, pen, sigma, cost,
                        mut, tki_mult)
            _set_regime(nles, t, reg, sc, org, lesion, clone)
            rebaseline(lesion, nles, meas)
            sod_nadir = sum_of_diameters(lesion, nles, meas)
            if traced:
                n_ev = _trace(tr_ev, n_ev, t, EV_DRUG, -1, drug)

    # ---------------- outcomes ----------------
    dead = cause != CAUSE_ALIVE
    t_end = t_death if dead else horizon
    _acc_interval(acc, econ, t_mark, t_end, drug, not first_pd)
    if dead:
        _acc_event(acc, econ, t_end, AQ_DEATH)
    if traced:
        n_ev = _trace(tr_ev, n_ev, t_end, EV_DEATH, -1, cause)
    out[O_OS] = t_end
    out[O_OS_EV] = 1.0 if dead else 0.0
    out[O_CAUSE] = cause
    if not first_pd:
        out[O_PFS] = t_end
        out[O_PFS_EV] = 1.0 if dead else 0.0
        out[O_PATTERN] = PAT_NONE
        out[O_RESID_ONLY] = 0.0
        out[O_NPROG] = 0.0
        out[O_OLIGO_PD] = 0.0
        out[O_CNS] = 0.0
        out[O_CNS_NEW] = 0.0
        out[O_RESIST] = -1.0
    if not ttd_done:
        out[O_TTD] = t_end
        out[O_TTD_EV] = 1.0 if dead else 0.0
    if not pfs2_done:
        out[O_PFS2] = t_end
        out[O_PFS2_EV] = 1.0 if dead else 0.0
    if math.isnan(out[O_SECOND]):
        out[O_SECOND] = -1.0
    out[O_BOR] = best
    out[O_NLAT] = n_courses
    out[O_NABL] = n_ablated
    out[O_NLF] = n_lf
    out[O_NTOX] = n_tox
    out[O_MAXL] = nles


@nb.njit(**JIT)
def _set_regime(nles, t, reg, sc, org, lesion, clone):
    """Switch every clock to the regime tabulated in ``reg`` (already filled) from t."""
    for l in range(nles):
        if lesion[l, LF_ALIVE] < 0.5:
            continue
        for k in range(N_CLONES):
            _advance(clone, l, k, t)
            _set_clock_params(lesion, clone, l, k, reg, sc, org)
            _schedule(clone, l, k, t)
        _refresh_next(lesion, clone, l)


@nb.njit(**JIT)
def _extinguish(lesion, clone, nles, t, cells):
    """ASSUMPTION: a clone below one cell at a scan is extinct (see module docstring).

    Also writes ``cells[l]``, the cells of every live lesion at ``t`` (its surviving clones
    summed in clone order, exactly as :func:`~oligosim.engine.recist.lesion_cells` would),
    so the scan's measurement does not grow every clone a second time.
    """
    for l in range(nles):
        if lesion[l, LF_ALIVE] < 0.5:
            continue
        alive = False
        zeroed = False
        tot = 0.0
        for k in range(N_CLONES):
            n = clone[l, k, C_N]
            if n <= 0.0:
                continue
            g = grow(n, clone[l, k, C_R], t - clone[l, k, C_T])
            if g < 1.0:
                clone[l, k, C_N] = 0.0
                clone[l, k, C_F] = INF
                zeroed = True
            else:
                alive = True
                tot += g
        cells[l] = tot
        if not alive:
            lesion[l, LF_ALIVE] = 0.0
        if zeroed:  # only a zeroed clone changes a firing time: the cache is valid otherwise
            _refresh_next(lesion, clone, l)


@nb.njit(**JIT)
def _fire_clock(l, k, t, nles, reg, sc, org, mut, table, seed, pid, lesion, clone):
    """Clock (l, k) fires at t: cancer death, seeding or acquired resistance.

    Returns (died, nles, capacity_error).
    """
    _advance_fired(clone, l, k, t)
    row = _row(l, R_CLOCK0 + k)
    o = int(lesion[l, LF_ORGAN])
    c_death = death_coefficient(sc, org, o, clone[l, k, C_R])
    c_seed = sc[P_NU] * reg[k, REG_SEED] if sc[P_NU] > 0.0 else 0.0
    x = rng.uniform(table, row, seed, pid) * clone[l, k, C_C]
    if x < c_death:
        return True, nles, False
    if x < c_death + c_seed:
        # organ ∝ tropism_o·p_est(k, o): the seed is established by construction
        y = rng.uniform(table, row, seed, pid) * c_seed / sc[P_NU]
        acc = 0.0
        o_new = N_ORGANS - 1
        pe = 0.0
        for oo in range(N_ORGANS):
            pe_o = reg[oo, N_CLONES + k]
            if org[oo, O_TROPISM] * pe_o > 0.0:
                o_new = oo
                pe = pe_o
            acc += org[oo, O_TROPISM] * pe_o
            if y < acc:
                break
        if pe > 0.0:
            if nles >= MAX_LESIONS:
                return False, nles, True
            m = nles
            nles += 1
            lesion[m, LF_ORGAN] = o_new
            lesion[m, LF_ALIVE] = 1.0
            clone[m, k, C_N] = 1.0 / pe
            clone[m, k, C_T] = t
            clone[m, k, C_E] = rng.exponential(table, _row(m, R_CLOCK0 + k), seed, pid)
            for kk in range(N_CLONES):
                clone[m, kk, C_T] = t
                _set_clock_params(lesion, clone, m, kk, reg, sc, org)
                _schedule(clone, m, kk, t)
            _refresh_next(lesion, clone, m)
    else:
        # acquired resistance: clone j ∝ u_j·p_est,j, a packet of q lineages of 1/p_est cells
        tot = 0.0
        for j in range(1, N_CLONES):
            tot += mut[j] * reg[o, N_CLONES + j]
        y = rng.uniform(table, row, seed, pid) * tot
        acc = 0.0
        jj = N_CLONES - 1
        for j in range(1, N_CLONES):
            acc += mut[j] * reg[o, N_CLONES + j]
            if y < acc:
                jj = j
                break
        pj = reg[o, N_CLONES + jj]
        if pj > 0.0:
            add = lesion[l, LF_PACKET] / pj
            was_empty = clone[l, jj, C_N] <= 0.0
            _advance(clone, l, jj, t)
            clone[l, jj, C_N] += add
            if was_empty:
                clone[l, jj, C_E] = rng.exponential(table, _row(l, R_CLOCK0 + jj), seed, pid)
                _set_clock_params(lesion, clone, l, jj, reg, sc, org)
            _schedule(clone, l, jj, t)
    # fresh mass for the clock that fired
    clone[l, k, C_E] = rng.exponential(table, row, seed, pid)
    _set_clock_params(lesion, clone, l, k, reg, sc, org)
    _schedule(clone, l, k, t)
    _refresh_next(lesion, clone, l)
    return False, nles, False


@nb.njit(**JIT)
def _treat(l, o, t, course_kind, pol, sc, org, table, seed, pid, lesion, clone, cells_tmp,
           cells_new, rho):
    """One lesion in one LAT course at t; returns (controlled, grade3, grade5, modality)."""
    for k in range(N_CLONES):
        _advance(clone, l, k, t)
        cells_tmp[k] = clone[l, k, C_N]
    modality = int(org[o, O_MODALITY])
    dose = org[o, O_DOSE]
    fx = org[o, O_FRACTIONS]
    if course_kind == COURSE_UPFRONT and pol[POL_UP_DOSE] > 0.0:
        dose = pol[POL_UP_DOSE]
        fx = pol[POL_UP_FX]
        if modality == MOD_SURGERY:
            modality = 0
    if math.isnan(lesion[l, LF_ALPHA]):
        lesion[l, LF_ALPHA] = truncated_normal(table, _row(l, R_RADIO), seed, pid, sc[P_ALPHA_MEAN],
                                  sc[P_ALPHA_SD], 0.0, INF)
    alpha = lesion[l, LF_ALPHA] * org[o, O_ALPHA_MULT]
    diam = diameter_mm(lesion_cells(clone, l, t), rho)
    controlled = treat_lesion(cells_tmp, cells_new, o, modality, dose, fx, diam, alpha,
                              sc[P_CLONOGEN], sc[P_AB], sc[P_SURG_R0], sc[P_SURG_RESID], table,
                              _row(l, R_LATKILL), seed, pid)
    for k in range(N_CLONES):
        clone[l, k, C_N] = cells_new[k]
    lesion[l, LF_TREATED] += 1.0
    lesion[l, LF_NADIR] = INF
    lesion[l, LF_LF_OPEN] = 1.0
    g3 = rng.uniform(table, ROW_TOX, seed, pid) < org[o, O_TOX3]
    g5 = rng.uniform(table, ROW_TOX, seed, pid) < org[o, O_TOX5]
    return controlled, g3, g5, modality


@nb.njit(**JIT)
def _dominant_clone(clone, lesion, nles, t, resistant_only):
    """Clone type with the most cells over all lesions at t."""
    tot = np.zeros(N_CLONES)
    for l in range(nles):
        if lesion[l, LF_ALIVE] < 0.5:
            continue
        for k in range(N_CLONES):
            n = clone[l, k, C_N]
            if n > 0.0:
                tot[k] += grow(n, clone[l, k, C_R], t - clone[l, k, C_T])
    start = 1 if resistant_only else 0
    best = start
    for k in range(start, N_CLONES):
        if tot[k] > tot[best]:
            best = k
    return best


@nb.njit(**JIT)
def _cns_sum(lesion, nles, meas):
    """Summed measured diameter (mm) of the brain lesions seen at baseline, now."""
    s = 0.0
    for l in range(nles):
        if (int(lesion[l, LF_ORGAN]) == BRAIN and lesion[l, LF_VIS_BASE] > 0.5
                and lesion[l, LF_ALIVE] > 0.5 and meas[l] > 0.0):
            s += meas[l]
    return s


@nb.njit(**JIT)
def _record_first_pd(out, t, lesion, clone, nles, prog, n_prog, oligo, cons_scan, scan_no):
    """Patterns of failure at the first RECIST progression (DESIGN §2.11)."""
    out[O_PFS] = t
    out[O_PFS_EV] = 1.0
    existing = False
    new = False
    cns = False
    cns_new = False
    resid_only = scan_no > cons_scan and cons_scan > 0
    for l in range(nles):
        if prog[l] < 0.5:
            continue
        if lesion[l, LF_VIS_BASE] > 0.5:
            existing = True
        else:
            new = True
        if int(lesion[l, LF_ORGAN]) == BRAIN:
            cns = True
            if lesion[l, LF_VIS_BASE] < 0.5:
                cns_new = True
        if lesion[l, LF_VIS_CONS] < 0.5:
            resid_only = False
    if n_prog == 0:
        existing = True
        resid_only = False
    if existing and new:
        out[O_PATTERN] = PAT_BOTH
    elif new:
        out[O_PATTERN] = PAT_NEW
    else:
        out[O_PATTERN] = PAT_EXISTING
    out[O_RESID_ONLY] = 1.0 if resid_only else 0.0
    out[O_NPROG] = n_prog
    out[O_OLIGO_PD] = 1.0 if oligo else 0.0
    out[O_CNS] = 1.0 if cns else 0.0
    out[O_CNS_NEW] = 1.0 if cns_new else 0.0
    out[O_RESIST] = _dominant_clone(clone, lesion, nles, t, False)


@nb.njit(**JIT)
def _next_line(t, tki, pol, sc, lesion, clone, nles, table, seed, pid, out):
    """Second line at first-line failure (DESIGN §2.9): returns (line, drug, chemo_switch).

    ASSUMPTION (deviation from DESIGN §2.9, explained in :mod:`oligosim.reference.lines`):
    the T790M test reads the dominant clone of all, as the mechanism at first progression.
    """
    u = rng.uniform(table, ROW_TEST, seed, pid)
    v = rng.uniform(table, ROW_TEST, seed, pid)
    if u >= sc[P_SECOND_LINE]:
        out[O_SECOND] = DRUG_NONE
        return LINE_BSC, DRUG_NONE, INF
    first_gen = tki == DRUG_TKI1G or tki == DRUG_TKI2G
    if (first_gen and pol[POL_T790M_OSI] > 0.5 and v < sc[P_T790M_SENS]
            and _dominant_clone(clone, lesion, nles, t, False) == CLONE_T790M):
        out[O_SECOND] = DRUG_OSI
        return LINE_SECOND, DRUG_OSI, INF
    out[O_SECOND] = DRUG_PLATINUM
    return LINE_SECOND, DRUG_PLATINUM, t + sc[P_PLATINUM_MONTHS]


# ------------------------------------------------------------------------------------------
# resource-use accumulators (DESIGN §2.12)
# ------------------------------------------------------------------------------------------
@nb.njit(**JIT)
def _disc_duration(t0, t1, r):
    """∫_{t0}^{t1} exp(−r·t) dt (months; r per month, continuous)."""
    if r == 0.0:
        return t1 - t0
    return (math.exp(-r * t0) - math.exp(-r * t1)) / r


@nb.njit(**JIT)
def _acc_interval(acc, econ, t0, t1, drug, pf):
    """Add the time from t0 to t1 on ``drug``, progression-free or not, to every variant."""
    if t1 <= t0:
        return
    for v in range(3):
        d = t1 - t0 if v == 0 else _disc_duration(t0, t1, econ[v - 1])
        acc[v * N_ACC_Q + (AQ_PF if pf else AQ_PP)] += d
        acc[v * N_ACC_Q + AQ_DRUG0 + drug] += d


@nb.njit(**JIT)
def _acc_event(acc, econ, t, q):
    """Count one event of quantity ``q`` at time t in every variant."""
    for v in range(3):
        acc[v * N_ACC_Q + q] += 1.0 if v == 0 else math.exp(-econ[v - 1] * t)


# ------------------------------------------------------------------------------------------
# trace
# ------------------------------------------------------------------------------------------
@nb.njit(**JIT)
def _trace(tr_ev, n, t, code, l, value):
    if n < tr_ev.shape[0]:
        tr_ev[n, 0] = t
        tr_ev[n, 1] = code
        tr_ev[n, 2] = l
        tr_ev[n, 3] = value
        return n + 1
    return n


@nb.njit(**JIT)
def _trace_scan(tr_scan_t, tr_scans, n, t, lesion, clone, nles, meas, truth):
    if n >= tr_scan_t.shape[0]:
        return n
    tr_scan_t[n] = t
    for l in range(nles):
        tr_scans[n, l, 0] = meas[l] if lesion[l, LF_ALIVE] > 0.5 else 0.0
        tr_scans[n, l, 1] = truth[l] if lesion[l, LF_ALIVE] > 0.5 else 0.0
        for k in range(N_CLONES):
            c = clone[l, k, C_N]
            tr_scans[n, l, 2 + k] = grow(c, clone[l, k, C_R], t - clone[l, k, C_T]) if c > 0 \
                else 0.0
    return n + 1


# ------------------------------------------------------------------------------------------
# batch
# ------------------------------------------------------------------------------------------
@nb.njit(**JIT_PARALLEL)
def simulate_batch(patient_ids, seed, sc, org, kill, sens, pen, sigma, cost, mut, gmult, pol,
                   pop, count_cum, met_organ_cum, tropism_cum, n_chunks, out, n_traced, tr_ev,
                   tr_scan_t, tr_scans, tr_organs, econ, acc):
    """Simulate ``patient_ids`` (int64[n]) under one policy; fill ``out`` (float64[n, N_OUT])
    and the resource-use accumulators ``acc`` (float64[n, N_ACC]) discounted at ``econ``.

    Patients are split into ``n_chunks`` contiguous chunks run in parallel (``prange``); each
    chunk allocates its workspace once. Patient ``i`` draws only from streams keyed by
    (seed, patient_ids[i], purpose), so results do not depend on chunking or thread count.
    The first ``n_traced`` patients of the batch are traced.
    """
    n = patient_ids.shape[0]
    for c in nb.prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        table = make_stream_table()
        lesion = np.zeros((MAX_LESIONS, N_LF))
        clone = np.zeros((MAX_LESIONS, N_CLONES, N_CF))
        meas = np.zeros(MAX_LESIONS)
        truth = np.zeros(MAX_LESIONS)
        prog = np.zeros(MAX_LESIONS)
        cells_tmp = np.zeros(N_CLONES)
        cells_new = np.zeros(N_CLONES)
        reg = np.zeros((N_ORGANS, N_REG_COLS))
        dirty = N_STREAM_ROWS
        for i in range(lo, hi):
            tr = min(i, tr_ev.shape[0] - 1)
            simulate_patient(patient_ids[i], seed, sc, org, kill, sens, pen, sigma, cost, mut,
                             gmult, pol, pop, count_cum, met_organ_cum, tropism_cum, table,
                             lesion, clone, meas, truth, prog, cells_tmp, cells_new, reg, out[i],
                             tr_ev[tr], tr_scan_t[tr], tr_scans[tr], tr_organs[tr],
                             i < n_traced, econ, acc[i], dirty)
            used = out[i, O_MAXL]
            dirty = N_STREAM_ROWS if math.isnan(used) else \
                N_FIXED_ROWS + int(used) * N_ROWS_PER_LESION
