"""Exact tests of oligosim.outcomes.summary (summary.csv) and the survival helpers' edges."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from oligosim.outcomes import (
    hazard_ratio,
    km_curves,
    landmark_rate,
    median_with_ci,
    patterns_of_failure,
    summarise,
)
from oligosim.outcomes.summary import SUMMARY_COLUMNS
from oligosim.outcomes.survival import KM_COLUMNS

STRATEGIES = ["tki_alone", "tki_consolidative_lat", "tki_lat_at_oligo_pd"]


def _patients(n: int = 120, seed: int = 2024, economics: bool = True) -> pd.DataFrame:
    """A synthetic §2.11 patients table: exponential PFS/OS, common patient ids per strategy."""
    rng = np.random.default_rng(seed)
    frames = []
    base_u = rng.random(n)
    for k, strategy in enumerate(STRATEGIES):
        hr = (1.0, 0.7, 0.85)[k]
        pfs = -np.log(base_u) / (hr * 0.06)
        os_ = pfs + rng.exponential(20.0, n)
        follow = 60.0
        pattern = rng.choice(["none", "existing_only", "new_only", "both"], n)
        frame = pd.DataFrame({
            "strategy": strategy,
            "patient_id": np.arange(n),
            "pfs_months": np.minimum(pfs, follow),
            "pfs_event": (pfs <= follow).astype(np.int64),
            "os_months": np.minimum(os_, follow),
            "os_event": (os_ <= follow).astype(np.int64),
            "ttd_months": np.minimum(pfs + 1.0, follow),
            "ttd_event": (pfs + 1.0 <= follow).astype(np.int64),
            "pfs2_months": np.minimum(pfs + 8.0, follow),
            "pfs2_event": (pfs + 8.0 <= follow).astype(np.int64),
            "death_cause": rng.choice(["alive", "cancer", "background", "treatment"], n),
            "best_response": rng.choice(["CR", "PR", "SD", "PD", "NE"], n),
            "n_visible_baseline": rng.integers(1, 6, n).astype(float),
            "n_organs_baseline": rng.integers(1, 4, n).astype(float),
            "n_visible_at_consolidation": np.where(rng.random(n) < 0.2, np.nan, 2.0),
            "first_pd_pattern": pattern,
            "first_pd_residual_only": (pattern == "existing_only") & (rng.random(n) < 0.5),
            "n_progressing_at_first_pd": np.where(pattern == "none", 0, rng.integers(1, 6, n)),
            "oligo_pd_at_first_pd": (pattern != "none") & (rng.random(n) < 0.4),
            "cns_progression": rng.random(n) < 0.1,
            "resistance_at_first_pd": np.where(
                pattern == "none", "none", rng.choice(["sensitive", "t790m", "bypass"], n)),
            "n_lat_courses": rng.integers(0, 3, n) * (k > 0),
            "n_lesions_ablated": rng.integers(0, 4, n),
            "n_local_failures": rng.integers(0, 2, n),
            "n_grade3_toxicity": rng.integers(0, 2, n),
        })
        if economics:
            frame["cost_usd"] = rng.gamma(2.0, 50_000.0, n)
            frame["qaly"] = rng.uniform(0.5, 4.0, n)
            frame["ly"] = frame["qaly"] / 0.8
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _no_inf(frame: pd.DataFrame) -> bool:
    numbers = frame.select_dtypes("number").to_numpy(dtype=float)
    return not np.isinf(numbers).any()


def test_summarise_columns_and_order() -> None:
    """Columns follow DESIGN.md §5.2 order, economics last; rows follow the strategies."""
    table = summarise(_patients(), STRATEGIES)
    assert list(table.columns) == [*SUMMARY_COLUMNS, "mean_cost_usd", "mean_qaly", "mean_ly"]
    assert list(table["strategy"]) == STRATEGIES
    assert list(table["n_patients"]) == [120, 120, 120]
    assert table["n_patients"].dtype == np.int64


def test_summarise_reverse_order_changes_reference() -> None:
    """The first strategy given is the hazard-ratio reference, whatever the table's order."""
    order = STRATEGIES[::-1]
    table = summarise(_patients(), order)
    assert list(table["strategy"]) == order
    assert table.loc[0, "hr_pfs"] == 1.0


def test_summarise_first_row_hr_is_one_with_nan_ci() -> None:
    """The reference strategy has HR exactly 1.0 and NaN CI; others have finite HRs."""
    table = summarise(_patients(), STRATEGIES)
    first = table.iloc[0]
    for endpoint in ("pfs", "os"):
        assert first[f"hr_{endpoint}"] == 1.0
        assert math.isnan(first[f"hr_{endpoint}_lo"])
        assert math.isnan(first[f"hr_{endpoint}_hi"])
        rest = table.iloc[1:]
        assert np.isfinite(rest[[f"hr_{endpoint}", f"hr_{endpoint}_lo",
                                 f"hr_{endpoint}_hi"]].to_numpy(dtype=float)).all()
    assert table.loc[1, "hr_pfs"] < 1.0  # the synthetic consolidative arm has HR 0.7


def test_summarise_exact_shares_and_means() -> None:
    """ORR, LAT courses, PD-pattern, CNS and cancer-death shares equal direct counts."""
    patients = _patients()
    table = summarise(patients, STRATEGIES).set_index("strategy")
    for s in STRATEGIES:
        rows = patients.loc[patients["strategy"] == s]
        pd_rows = rows.loc[rows["first_pd_pattern"] != "none"]
        row = table.loc[s]
        assert row["orr"] == pytest.approx(rows["best_response"].isin(["CR", "PR"]).mean())
        assert row["mean_n_lat_courses"] == pytest.approx(rows["n_lat_courses"].mean())
        assert row["share_oligo_pd_at_first_pd"] == pytest.approx(
            pd_rows["oligo_pd_at_first_pd"].mean())
        for p in ("existing_only", "new_only", "both"):
            assert row[f"share_pd_{p}"] == pytest.approx((pd_rows["first_pd_pattern"] == p)
                                                         .mean())
        assert row["share_cns_progression"] == pytest.approx(rows["cns_progression"].mean())
        assert row["share_death_cancer"] == pytest.approx(
            (rows["death_cause"] == "cancer").mean())
        assert row["mean_cost_usd"] == pytest.approx(rows["cost_usd"].mean())
        assert row["mean_qaly"] == pytest.approx(rows["qaly"].mean())
        assert row["mean_ly"] == pytest.approx(rows["ly"].mean())
        assert row["median_pfs_months"] == pytest.approx(
            median_with_ci(rows["pfs_months"], rows["pfs_event"])[0])
        assert row["pfs_12m"] == pytest.approx(
            landmark_rate(rows["pfs_months"], rows["pfs_event"], 12.0)[0])
        assert row["os_24m"] == pytest.approx(
            landmark_rate(rows["os_months"], rows["os_event"], 24.0)[0])
        assert (row["median_pfs_months_lo"] <= row["median_pfs_months"]
                <= row["median_pfs_months_hi"])


def test_summarise_no_inf_and_optional_columns() -> None:
    """Without economics or ttd_event the columns are skipped / TTD treated as all events."""
    patients = _patients(economics=False).drop(columns="ttd_event")
    table = summarise(patients, STRATEGIES)
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert _no_inf(table)
    rows = patients.loc[patients["strategy"] == STRATEGIES[0]]
    expected = float(np.median(rows["ttd_months"]))  # all events: KM median = sample median
    assert table.loc[0, "median_ttd_months"] == pytest.approx(expected, abs=1.0)


def test_summarise_median_not_reached_is_nan() -> None:
    """A strategy whose OS never falls to 50% reports NaN, never inf."""
    patients = _patients()
    patients["os_event"] = 0
    patients.loc[patients.index[:3], "os_event"] = 1
    table = summarise(patients, STRATEGIES)
    assert table["median_os_months"].isna().all()
    assert table["hr_os"].iloc[1:].isna().all()  # no OS events in the other arms
    assert _no_inf(table)


def test_summarise_share_without_progression_is_nan() -> None:
    """With no first PD at all, shares among progressors are NaN (empty denominator)."""
    patients = _patients()
    patients["first_pd_pattern"] = "none"
    table = summarise(patients, STRATEGIES)
    assert table["share_pd_both"].isna().all()
    assert table["share_oligo_pd_at_first_pd"].isna().all()


@pytest.mark.parametrize(
    ("strategies", "match"),
    [([], "at least one"), (["tki_alone", "tki_alone"], "distinct"),
     (["tki_alone", "nope"], "nope")],
)
def test_summarise_rejects_bad_strategies(strategies: list[str], match: str) -> None:
    """Empty, duplicated or unknown strategies raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=match):
        summarise(_patients(), strategies)


def test_summarise_names_missing_column() -> None:
    """A missing required column is named in the error."""
    with pytest.raises(ValueError, match="best_response"):
        summarise(_patients().drop(columns="best_response"), STRATEGIES)


def test_patterns_of_failure_shares() -> None:
    """Pattern shares among all patients sum to 1; counts match the table."""
    patients = _patients()
    pof = patterns_of_failure(patients, STRATEGIES)
    assert list(pof.columns) == ["strategy", "group", "category", "n", "denominator", "share"]
    assert list(pof["strategy"].unique()) == STRATEGIES
    for s in STRATEGIES:
        rows = patients.loc[patients["strategy"] == s]
        sub = pof.loc[pof["strategy"] == s].set_index(["group", "category"])
        assert sub.loc["first_pd_pattern", "share"].sum() == pytest.approx(1.0)
        assert sub.loc["first_pd_pattern_among_pd", "share"].sum() == pytest.approx(1.0)
        assert sub.loc["resistance_at_first_pd", "share"].sum() == pytest.approx(1.0)
        n_pd = int((rows["first_pd_pattern"] != "none").sum())
        assert sub.loc[("oligo_pd_at_first_pd", "oligo"), "n"] == int(
            rows["oligo_pd_at_first_pd"].sum())
        assert sub.loc[("oligo_pd_at_first_pd", "oligo"), "denominator"] == n_pd
        assert sub.loc[("resistance_at_first_pd", "c797s"), "n"] == 0  # listed though absent
        assert sub.loc[("cns_progression", "cns"), "n"] == int(rows["cns_progression"].sum())


def test_km_curves_shape_and_columns() -> None:
    """km.csv: one block per strategy × endpoint starting at (0, 1), non-increasing."""
    patients = _patients()
    curves = km_curves(patients)
    assert list(curves.columns) == list(KM_COLUMNS)
    blocks = curves.groupby(["strategy", "endpoint"], sort=False)
    assert len(blocks) == len(STRATEGIES) * 3
    assert list(curves["strategy"].unique()) == STRATEGIES
    assert list(curves["endpoint"].unique()) == ["pfs", "os", "pfs2"]
    for (strategy, endpoint), g in blocks:
        rows = patients.loc[patients["strategy"] == strategy]
        assert g["time_months"].iloc[0] == 0.0
        assert g["survival"].iloc[0] == 1.0
        assert g["n_at_risk"].iloc[0] == len(rows)
        assert len(g) == rows[f"{endpoint}_months"].nunique() + 1 - int(
            (rows[f"{endpoint}_months"] == 0).any())
        assert (np.diff(g["time_months"]) > 0).all()
        assert (np.diff(g["survival"]) <= 0).all()
        assert (np.diff(g["n_at_risk"]) <= 0).all()
        assert (g["survival_lo"] <= g["survival"]).all()
        assert (g["survival"] <= g["survival_hi"]).all()
        assert g[["survival", "survival_lo", "survival_hi"]].stack().between(0, 1).all()
    assert not curves.isna().any().any()
    assert _no_inf(curves)


def test_km_curves_missing_column() -> None:
    """A missing endpoint column is named in the error."""
    with pytest.raises(ValueError, match="pfs2_event"):
        km_curves(_patients().drop(columns="pfs2_event"))


def test_small_exact_km() -> None:
    """Hand-computed KM: times 1,2,3,4 with the 2nd censored."""
    time, event = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 1, 1])
    # S(1) = 3/4, S(3) = 3/4 * 1/2 = 3/8, S(4) = 0; median = 3 (first time S <= 0.5).
    assert median_with_ci(time, event)[0] == 3.0
    assert landmark_rate(time, event, 2.5)[0] == pytest.approx(0.75)
    assert landmark_rate(time, event, 3.0)[0] == pytest.approx(0.375)
    assert landmark_rate(time, event, 100.0)[0] == 0.0


def test_empty_and_bad_input() -> None:
    """Empty samples give NaN; negative times and non-0/1 events raise."""
    assert all(math.isnan(x) for x in median_with_ci([], []))
    with pytest.raises(ValueError, match="non-negative"):
        median_with_ci([-1.0, 2.0], [1, 1])
    with pytest.raises(ValueError, match="0/1"):
        median_with_ci([1.0, 2.0], [1, 2])
    with pytest.raises(ValueError, match="same length"):
        median_with_ci([1.0, 2.0], [1])
    with pytest.raises(ValueError, match="at_months"):
        landmark_rate([1.0], [1], -1.0)


def test_hazard_ratio_unknown_strategy() -> None:
    """An unknown strategy is an error naming it."""
    with pytest.raises(ValueError, match="nope"):
        hazard_ratio(_patients(), "nope", "tki_alone", "pfs_months", "pfs_event")
