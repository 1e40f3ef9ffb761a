"""Decode the kernels' per-patient output arrays into the §2.11 patients table.

Besides the §2.11 columns the table carries what calibration and subgroup analyses need:
``age_years``, ``female``, ``subtype``, ``n_occult_baseline`` (occult micrometastases drawn at
diagnosis), ``growth_per_month`` (the patient's untreated growth rate: g0·exp(s·Z) with
s = ``growth_patient_sdlog``), ``tki_sensitivity`` (the patient's multiplier on the effect of
every EGFR TKI: exp(s·Z) with s = ``tki_sensitivity_patient_sdlog``), ``cns_at_baseline``
(a brain metastasis visible on the baseline scan: the FLAURA CNS subgroup),
``response_months`` (first first-line scan read as CR or PR, unconfirmed; NaN without a
response: duration of response),
``cns_new_lesion_at_first_pd`` (a brain lesion not seen at baseline progresses at the first
RECIST PD), ``cns_response`` (missing without a brain lesion at baseline; True if the summed
diameter of the brain lesions seen at baseline fell by ≥ 30% on a first-line scan before the
first PD — an ASSUMPTION standing in for CNS RECIST/RANO response, unconfirmed),
``second_line`` and ``max_lesions_used``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from oligosim.engine import _jit as J
from oligosim.engine import layout as L

_CODES = {
    "death_cause": J.DEATH_CAUSES,
    "best_response": J.RESPONSES,
    "first_pd_pattern": J.PD_PATTERNS,
    "subtype": J.SUBTYPES,
}
_BOOL = ("first_pd_residual_only", "oligo_pd_at_first_pd", "cns_progression",
         "cns_new_lesion_at_first_pd", "female", "cns_at_baseline")
# True/False, or missing (pandas' nullable boolean) where the question does not apply
_NULLABLE_BOOL = ("cns_response",)
_INT = ("pfs_event", "os_event", "ttd_event", "pfs2_event", "n_visible_baseline",
        "n_organs_baseline", "n_progressing_at_first_pd", "n_lat_courses", "n_lesions_ablated",
        "n_local_failures", "n_grade3_toxicity", "n_occult_baseline", "max_lesions_used")
_CLONE_OR_NONE = ("none", *J.CLONES)
_DRUG_OR_NONE = ("not_reached", "best_supportive_care", *J.DRUGS[1:])


def _categories(col: str) -> tuple[tuple[str, ...], int] | None:
    """(categories, offset added to the raw code) of a coded column, else None."""
    if col in _CODES:
        return tuple(_CODES[col]), 0
    if col == "resistance_at_first_pd":
        return _CLONE_OR_NONE, 1
    if col == "second_line":
        return _DRUG_OR_NONE, 1
    return None


def output_arrays(out: np.ndarray, patient_ids: np.ndarray,
                  columns: Sequence[str]) -> dict[str, np.ndarray]:
    """The patients-table ``columns`` of ``out`` as plain numpy arrays, for calibration's
    inner loop (no DataFrame): coded columns as object arrays of their labels, booleans as
    bool, counts as int64, and ``cns_response`` as float 1/0 with NaN where it is missing.
    ``patient_id`` may be among the columns; ``strategy`` may not."""
    cols: dict[str, np.ndarray] = {}
    for col in columns:
        if col == "patient_id":
            cols[col] = patient_ids.astype(np.int64)
            continue
        x = out[:, L.OUTPUT_COLUMNS.index(col)]
        coded = _categories(col)
        if coded is not None:
            labels, offset = coded
            cols[col] = np.asarray(labels, dtype=object)[x.astype(np.int64) + offset]
        elif col in _BOOL:
            cols[col] = x.astype(bool)
        elif col in _INT:
            cols[col] = x.astype(np.int64)
        else:  # floats, and the nullable booleans as 1/0/NaN
            cols[col] = x.copy()
    return cols


def patients_frame(out: np.ndarray, patient_ids: np.ndarray, strategy: str) -> pd.DataFrame:
    """One row per patient: ids, strategy, and every OUTPUT_COLUMNS entry, decoded.

    The columns are decoded into a dict and the frame built once: setting ~30 columns one
    by one on a frame cost more than the simulation of a 400-patient calibration arm.
    """
    n = out.shape[0]
    cols: dict[str, object] = {"strategy": np.full(n, strategy, dtype=object),
                               "patient_id": patient_ids.astype(np.int64)}
    for j, col in enumerate(L.OUTPUT_COLUMNS):
        if col == "error":
            continue
        x = out[:, j]
        coded = _categories(col)
        if coded is not None:
            labels, offset = coded
            cols[col] = pd.Categorical.from_codes(x.astype(np.int64) + offset,
                                                  categories=list(labels))
        elif col in _BOOL:
            cols[col] = x.astype(bool)
        elif col in _NULLABLE_BOOL:
            cols[col] = pd.array(x, dtype="boolean")
        elif col in _INT:
            cols[col] = x.astype(np.int64)
        else:
            cols[col] = x.copy()
    return pd.DataFrame(cols)
