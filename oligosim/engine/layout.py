"""Layout of the kernel's per-patient state, random-stream rows and outputs.

Kernels keep each patient's state in a handful of fixed-capacity arrays (struct of arrays,
DESIGN.md §3). The integer constants here name their columns; nothing here allocates except
:func:`alloc_workspace`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from oligosim.engine._jit import JIT, MAX_LESIONS, N_CLONES, TRACE_MAX_EVENTS, TRACE_MAX_SCANS

# --- per-lesion float state: lesion[l, LF_*] --------------------------------------------
LESION_FIELDS = (
    "organ", "alive", "visible_baseline", "target", "nontarget", "ref_visible",
    "nadir_mm", "last_mm", "alpha_per_gy", "treated", "planned", "visible_consolidation",
    "packet_lineages", "local_fail_open", "ever_visible", "next_fire_months", "next_fire_clone",
)
(LF_ORGAN, LF_ALIVE, LF_VIS_BASE, LF_TARGET, LF_NONTARGET, LF_REF_VIS, LF_NADIR, LF_LAST,
 LF_ALPHA, LF_TREATED, LF_PLANNED, LF_VIS_CONS, LF_PACKET, LF_LF_OPEN, LF_EVER_VIS, LF_FMIN,
 LF_KMIN) = \
    range(len(LESION_FIELDS))
N_LF = len(LESION_FIELDS)

# --- per lesion-clone clock state: clone[l, k, C_*] --------------------------------------
CLONE_FIELDS = ("cells", "anchor_months", "rate_per_month", "coef", "remaining", "fire_months")
C_N, C_T, C_R, C_C, C_E, C_F = range(len(CLONE_FIELDS))
N_CF = len(CLONE_FIELDS)

# --- random-stream rows: fixed rows then N_ROWS_PER_LESION rows per lesion slot -----------
ROW_BASELINE, ROW_OCCULT, ROW_DEATH, ROW_TEST, ROW_TOX = range(5)
N_FIXED_ROWS = 5
R_PREEXIST, R_RADIO, R_LATKILL, R_CLOCK0 = range(4)
N_ROWS_PER_LESION = 3 + N_CLONES  # measurement error is addressed statelessly (rng.normal_at)
N_STREAM_ROWS = N_FIXED_ROWS + MAX_LESIONS * N_ROWS_PER_LESION

# --- patient outputs: out[i, O_*] (float64; codes decoded by the Python layer) ------------
OUTPUT_COLUMNS = (
    "pfs_months", "pfs_event", "os_months", "os_event", "ttd_months", "ttd_event",
    "pfs2_months", "pfs2_event", "death_cause", "best_response", "response_months",
    "n_visible_baseline", "n_organs_baseline", "cns_at_baseline", "n_visible_at_consolidation",
    "first_pd_pattern",
    "first_pd_residual_only", "n_progressing_at_first_pd", "oligo_pd_at_first_pd",
    "cns_progression", "cns_new_lesion_at_first_pd", "cns_response", "resistance_at_first_pd",
    "n_lat_courses", "n_lesions_ablated",
    "n_local_failures", "n_grade3_toxicity", "age_years", "female", "subtype",
    "n_occult_baseline", "growth_per_month", "tki_sensitivity",
    "second_line", "max_lesions_used", "error",
)
(O_PFS, O_PFS_EV, O_OS, O_OS_EV, O_TTD, O_TTD_EV, O_PFS2, O_PFS2_EV, O_CAUSE, O_BOR, O_RESP_T,
 O_NVIS, O_NORG, O_CNS_BASE, O_NVIS_CONS, O_PATTERN, O_RESID_ONLY, O_NPROG, O_OLIGO_PD, O_CNS,
 O_CNS_NEW, O_CNS_RESP, O_RESIST, O_NLAT,
 O_NABL, O_NLF, O_NTOX, O_AGE, O_FEMALE, O_SUBTYPE, O_NOCC, O_GROWTH, O_TKI_SENS, O_SECOND,
 O_MAXL, O_ERROR) = \
    range(len(OUTPUT_COLUMNS))
N_OUT = len(OUTPUT_COLUMNS)
# cns_response, ASSUMPTION (stands in for CNS RECIST/RANO, unconfirmed): a first-line scan
# before the first PD on which the brain lesions seen at baseline sum to <= 70% of their
# baseline diameter (RECIST 1.1's 30% partial-response threshold, Eisenhauer 2009; all gone
# counts too).
CNS_RESPONSE_RATIO = 0.7

# --- resource-use accumulators (DESIGN.md §2.12): acc[i, v * N_ACC_Q + q] -------------
# Quantities q (time in months, counts of events); variants v: 0 undiscounted, 1 discounted
# continuously at the cost rate, 2 at the effect rate. Costs and QALYs are linear in these,
# so the economics layer prices them (and PSA re-prices them) without re-simulating.
ACC_QUANTITIES = (
    "time_progression_free_months", "time_post_progression_months",
    *(f"time_on_{d}_months" for d in ("best_supportive_care", "tki_1g", "tki_2g",
                                       "osimertinib", "platinum_pemetrexed",
                                       "pemetrexed_maintenance", "later_line_chemo")),
    "n_scans",
    *(f"n_lat_{m}" for m in ("sbrt", "srs", "conventional_rt", "surgery")),
    "n_grade3_events", "death",
)
N_ACC_Q = len(ACC_QUANTITIES)
AQ_PF, AQ_PP, AQ_DRUG0 = 0, 1, 2
AQ_SCAN = AQ_DRUG0 + 7
AQ_LAT0 = AQ_SCAN + 1
AQ_TOX = AQ_LAT0 + 4
AQ_DEATH = AQ_TOX + 1
ACC_VARIANTS = ("", "_disc_cost", "_disc_effect")
N_ACC = N_ACC_Q * len(ACC_VARIANTS)
ACC_COLUMNS = tuple(q + v for v in ACC_VARIANTS for q in ACC_QUANTITIES)

# error codes in out[:, O_ERROR]
ERR_NONE, ERR_LESION_CAPACITY, ERR_ELIGIBILITY, ERR_TRACE = range(4)

# --- trace (DESIGN.md §2.11 trace mode) --------------------------------------------------
TRACE_EVENTS = (
    "drug_start", "scan", "recist_pd", "lat", "new_lesion", "consolidation_scan",
    "oligo_pd", "death", "acquired_resistance", "toxicity_grade3", "extinct", "lesion_pd",
)
(EV_DRUG, EV_SCAN, EV_PD, EV_LAT, EV_NEW_LESION, EV_CONS, EV_OLIGO_PD, EV_DEATH, EV_MUTATION,
 EV_TOX, EV_EXTINCT, EV_LESION_PD) = range(len(TRACE_EVENTS))
# trace_events[p, j, :] = (time_months, event_code, lesion, value)
# trace_scans[p, s, l, :] = (measured_mm, true_mm, cells of each clone...)
N_TRACE_SCAN_FIELDS = 2 + N_CLONES


def alloc_workspace() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allocate one patient's state arrays (reused across patients of a chunk)."""
    return _alloc()


@nb.njit(**JIT)
def _alloc():
    lesion = np.zeros((MAX_LESIONS, N_LF))
    clone = np.zeros((MAX_LESIONS, N_CLONES, N_CF))
    meas = np.zeros(MAX_LESIONS)
    return lesion, clone, meas


def alloc_trace(n_traced: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trace buffers for ``n_traced`` patients: events, scan times, per-scan lesion states."""
    n = max(n_traced, 1)
    events = np.full((n, TRACE_MAX_EVENTS, 4), np.nan)
    scan_t = np.full((n, TRACE_MAX_SCANS), np.nan)
    scans = np.full((n, TRACE_MAX_SCANS, MAX_LESIONS, N_TRACE_SCAN_FIELDS), np.nan)
    organs = np.full((n, MAX_LESIONS), -1.0)
    return events, scan_t, scans, organs
