"""Layer 3: the per-strategy cohort summary (summary.csv) and patterns of failure.

:func:`summarise` turns the per-patient table of DESIGN.md §2.11 into one row per strategy
(DESIGN.md §5.2): KM medians with 95% CIs, Cox hazard ratios against the first strategy,
landmark rates, objective response rate, time to treatment discontinuation, LAT use, patterns
of first progression, causes of death and, when present, mean costs, QALYs and life-years.
:func:`patterns_of_failure` gives the long table behind the patterns-of-failure figure.

Shares are proportions in [0, 1]. A share whose denominator is empty (e.g. the share of
oligo-progression when nobody progressed) is NaN, as are medians that are not reached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from oligosim.engine._jit import CLONES, PD_PATTERNS
from oligosim.outcomes.survival import hazard_ratio, landmark_rate, median_with_ci

__all__ = ["ECONOMIC_COLUMNS", "SUMMARY_COLUMNS", "patterns_of_failure", "summarise"]

#: Columns of summary.csv always present, in order (DESIGN.md §5.2).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "strategy",
    "n_patients",
    "median_pfs_months",
    "median_pfs_months_lo",
    "median_pfs_months_hi",
    "median_os_months",
    "median_os_months_lo",
    "median_os_months_hi",
    "hr_pfs",
    "hr_pfs_lo",
    "hr_pfs_hi",
    "hr_os",
    "hr_os_lo",
    "hr_os_hi",
    "pfs_12m",
    "os_24m",
    "orr",
    "median_ttd_months",
    "mean_n_lat_courses",
    "share_oligo_pd_at_first_pd",
    "share_pd_existing_only",
    "share_pd_new_only",
    "share_pd_both",
    "share_cns_progression",
    "share_death_cancer",
)

#: Per-patient economic accumulator (§2.12) -> summary column; included only when present.
ECONOMIC_COLUMNS: dict[str, str] = {
    "cost_usd": "mean_cost_usd",
    "qaly": "mean_qaly",
    "ly": "mean_ly",
}

_PFS_LANDMARK_MONTHS = 12.0
_OS_LANDMARK_MONTHS = 24.0
_RESPONDERS = ("CR", "PR")  # RECIST 1.1 objective response

_REQUIRED = (
    "strategy",
    "patient_id",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
    "ttd_months",
    "best_response",
    "n_lat_courses",
    "first_pd_pattern",
    "oligo_pd_at_first_pd",
    "cns_progression",
    "death_cause",
)


def _share(mask: pd.Series | np.ndarray, among: pd.Series | np.ndarray | None = None) -> float:
    """Proportion of ``True`` in ``mask`` (restricted to ``among``); NaN for no denominator."""
    m = np.asarray(mask, dtype=bool)
    if among is not None:
        m = m[np.asarray(among, dtype=bool)]
    return float(m.mean()) if m.size else math.nan


def _check(patients: pd.DataFrame, strategies: Sequence[str], required: Sequence[str]) -> None:
    """Raise ``ValueError`` for missing columns, empty or duplicated or unknown strategies."""
    missing = [c for c in required if c not in patients.columns]
    if missing:
        raise ValueError(
            f"patients table lacks column(s) {missing}; has {list(patients.columns)}"
        )
    if len(strategies) == 0:
        raise ValueError("strategies must name at least one strategy")
    if len(set(strategies)) != len(strategies):
        raise ValueError(f"strategies must be distinct (got {list(strategies)})")
    present = set(patients["strategy"].unique())
    absent = [s for s in strategies if s not in present]
    if absent:
        raise ValueError(
            f"strategy {absent} has no rows in the patients table; has {sorted(present)}"
        )


def _strategy_row(
    patients: pd.DataFrame, rows: pd.DataFrame, strategy: str, reference: str
) -> dict[str, float | int | str]:
    """Summary of one strategy's rows (see :func:`summarise` for the columns)."""
    out: dict[str, float | int | str] = {"strategy": strategy, "n_patients": len(rows)}
    for name in ("pfs", "os"):
        med, lo, hi = median_with_ci(rows[f"{name}_months"], rows[f"{name}_event"])
        out[f"median_{name}_months"] = med
        out[f"median_{name}_months_lo"] = lo
        out[f"median_{name}_months_hi"] = hi
    for name in ("pfs", "os"):
        if strategy == reference:
            hr, lo, hi = 1.0, math.nan, math.nan
        else:
            hr, lo, hi, _ = hazard_ratio(
                patients, strategy, reference, f"{name}_months", f"{name}_event"
            )
        out[f"hr_{name}"] = hr
        out[f"hr_{name}_lo"] = lo
        out[f"hr_{name}_hi"] = hi
    out["pfs_12m"] = landmark_rate(rows["pfs_months"], rows["pfs_event"],
                                   _PFS_LANDMARK_MONTHS)[0]
    out["os_24m"] = landmark_rate(rows["os_months"], rows["os_event"], _OS_LANDMARK_MONTHS)[0]
    out["orr"] = _share(rows["best_response"].isin(_RESPONDERS))
    ttd_event = rows["ttd_event"] if "ttd_event" in rows.columns else np.ones(len(rows))
    out["median_ttd_months"] = median_with_ci(rows["ttd_months"], ttd_event)[0]
    out["mean_n_lat_courses"] = float(rows["n_lat_courses"].mean())
    pattern = rows["first_pd_pattern"]
    progressed = pattern != "none"
    out["share_oligo_pd_at_first_pd"] = _share(rows["oligo_pd_at_first_pd"], among=progressed)
    out["share_pd_existing_only"] = _share(pattern == "existing_only", among=progressed)
    out["share_pd_new_only"] = _share(pattern == "new_only", among=progressed)
    out["share_pd_both"] = _share(pattern == "both", among=progressed)
    out["share_cns_progression"] = _share(rows["cns_progression"])
    out["share_death_cancer"] = _share(rows["death_cause"] == "cancer")
    for source, column in ECONOMIC_COLUMNS.items():
        if source in rows.columns:
            out[column] = float(rows[source].mean())
    return out


def summarise(patients: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    """One summary row per strategy (summary.csv, DESIGN.md §5.2).

    Parameters
    ----------
    patients : DataFrame
        The per-patient table of DESIGN.md §2.11, one row per patient per strategy.
    strategies : list of str
        Strategies to summarise, in output order. The first is the reference of the hazard
        ratios.

    Returns
    -------
    DataFrame
        One row per strategy, columns in this order:

        - ``strategy``, ``n_patients``;
        - ``median_pfs_months``, ``median_os_months``, each followed by its 95% CI
          ``_lo``/``_hi`` (Kaplan–Meier; NaN where not reached);
        - ``hr_pfs``, ``hr_os`` with ``_lo``/``_hi``: Cox hazard ratio versus the first
          strategy with a robust CI clustered on ``patient_id``; exactly 1.0 with NaN CI for
          the first strategy, NaN when an arm has no event;
        - ``pfs_12m``, ``os_24m``: Kaplan–Meier landmark rates at 12 and 24 months;
        - ``orr``: share of patients whose best response is CR or PR (all patients in the
          denominator);
        - ``median_ttd_months``: Kaplan–Meier median time to first-line TKI discontinuation,
          censored where ``ttd_event`` is 0 (every time is an event if the column is absent);
        - ``mean_n_lat_courses``;
        - ``share_oligo_pd_at_first_pd``, ``share_pd_existing_only``, ``share_pd_new_only``,
          ``share_pd_both``: shares among patients with a first RECIST progression
          (``first_pd_pattern != "none"``), NaN if there is none;
        - ``share_cns_progression``, ``share_death_cancer``: shares among all patients;
        - ``mean_cost_usd``, ``mean_qaly``, ``mean_ly``: means of ``cost_usd``, ``qaly``,
          ``ly``, each only if that column is in ``patients``.

    Raises
    ------
    ValueError
        If a required column is missing, ``strategies`` is empty or has duplicates, or a
        strategy has no rows.
    """
    _check(patients, strategies, _REQUIRED)
    reference = strategies[0]
    records = [
        _strategy_row(patients, patients.loc[patients["strategy"] == s], s, reference)
        for s in strategies
    ]
    columns = list(SUMMARY_COLUMNS) + [
        c for s, c in ECONOMIC_COLUMNS.items() if s in patients.columns
    ]
    table = pd.DataFrame.from_records(records, columns=columns)
    table["n_patients"] = table["n_patients"].astype(np.int64)
    return table


def patterns_of_failure(patients: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    """Patterns of first progression per strategy, as a long table for figures.

    Parameters
    ----------
    patients : DataFrame
        The per-patient table of DESIGN.md §2.11 (needs ``strategy``, ``first_pd_pattern``,
        ``oligo_pd_at_first_pd``, ``first_pd_residual_only``, ``cns_progression`` and
        ``resistance_at_first_pd``).
    strategies : list of str
        Strategies in output order.

    Returns
    -------
    DataFrame
        Columns ``strategy, group, category, n, denominator, share`` (``share = n /
        denominator``, NaN if the denominator is 0). Every category of a group is listed,
        also when its count is 0. The groups are:

        - ``first_pd_pattern``: ``none``, ``existing_only``, ``new_only``, ``both`` among all
          patients (the shares sum to 1);
        - ``first_pd_pattern_among_pd``: ``existing_only``, ``new_only``, ``both`` among
          patients with a first progression;
        - ``oligo_pd_at_first_pd``: ``oligo``, ``non_oligo`` among patients with a first
          progression;
        - ``first_pd_residual_only``: ``residual_only``, ``other`` among patients with a
          first progression;
        - ``cns_progression``: ``cns`` among all patients;
        - ``resistance_at_first_pd``: dominant clone type (``sensitive``, ``t790m``,
          ``c797s``, ``bypass``, ``transformed``, then any other recorded label) among
          patients with a first progression.

    Raises
    ------
    ValueError
        If a required column is missing, ``strategies`` is empty or has duplicates, or a
        strategy has no rows.
    """
    required = ("strategy", "first_pd_pattern", "oligo_pd_at_first_pd",
                "first_pd_residual_only", "cns_progression", "resistance_at_first_pd")
    _check(patients, strategies, required)
    progressed_all = patients["first_pd_pattern"] != "none"
    extra_clones = sorted(
        set(patients.loc[progressed_all, "resistance_at_first_pd"].astype(str))
        - set(CLONES) - {"none"}
    )
    clone_categories = [*CLONES, *extra_clones]
    records: list[dict[str, object]] = []

    def add(strategy: str, group: str, counts: dict[str, int], denominator: int) -> None:
        for category, n in counts.items():
            records.append({
                "strategy": strategy, "group": group, "category": category, "n": int(n),
                "denominator": int(denominator),
                "share": n / denominator if denominator else math.nan,
            })

    for s in strategies:
        rows = patients.loc[patients["strategy"] == s]
        pattern = rows["first_pd_pattern"]
        progressed = (pattern != "none").to_numpy()
        n_all, n_pd = len(rows), int(progressed.sum())
        add(s, "first_pd_pattern", {p: int((pattern == p).sum()) for p in PD_PATTERNS}, n_all)
        add(s, "first_pd_pattern_among_pd",
            {p: int((pattern == p).sum()) for p in PD_PATTERNS if p != "none"}, n_pd)
        oligo = rows["oligo_pd_at_first_pd"].to_numpy(dtype=bool)[progressed]
        add(s, "oligo_pd_at_first_pd",
            {"oligo": int(oligo.sum()), "non_oligo": int((~oligo).sum())}, n_pd)
        residual = rows["first_pd_residual_only"].to_numpy(dtype=bool)[progressed]
        add(s, "first_pd_residual_only",
            {"residual_only": int(residual.sum()), "other": int((~residual).sum())}, n_pd)
        add(s, "cns_progression", {"cns": int(rows["cns_progression"].to_numpy(bool).sum())},
            n_all)
        clones = rows["resistance_at_first_pd"].astype(str).to_numpy()[progressed]
        add(s, "resistance_at_first_pd",
            {c: int((clones == c).sum()) for c in clone_categories}, n_pd)
    return pd.DataFrame.from_records(
        records, columns=["strategy", "group", "category", "n", "denominator", "share"]
    )
