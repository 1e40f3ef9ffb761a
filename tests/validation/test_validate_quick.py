"""The validation report against the trial targets (DESIGN.md §4, §5.1; issue 5).

Quick tier (runs in CI): small cohorts (300 patients per strategy) — the report's structure,
one row per target, a finite model value for every computable target, the JSON contract of
``oligosim validate --json``, bad input exit 2, the scenario folder found from the source
checkout or given explicitly, and thread-count invariance. ``within`` for the calibrated
point is asserted in test_calibrated_fit.py.

Slow tier (``-m slow``): the full-size report, asserting that every computable target lies
inside its published 95% interval — expected to fail for the targets the calibration cannot
reconcile (issue 5's closing note).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from oligosim.calibration.targets import load_targets
from oligosim.calibration.validate import NOT_COMPUTABLE, REPORT_COLUMNS, validate
from oligosim.cli import VALIDATE_JSON_KEYS, main
from oligosim.errors import OligosimInputError

ROOT = Path(__file__).resolve().parents[2]
TARGETS = load_targets()
QUICK_PATIENTS = 300
SEED = 20240601


@pytest.fixture(scope="module")
def report() -> pd.DataFrame:
    return validate(QUICK_PATIENTS, SEED, jobs=2)


_LOCAL_CONTROL = ("local_control_at_months", "local_failure_at_months")


def _expected_not_computable() -> set[str]:
    return {t.id for t in TARGETS
            if (t.scenario is None and t.endpoint not in _LOCAL_CONTROL)
            or t.endpoint in NOT_COMPUTABLE or t.value is None}


def test_report_has_one_row_per_target_in_order(report: pd.DataFrame) -> None:
    """Columns REPORT_COLUMNS; rows in the targets file's order, ids unique."""
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert list(report["target_id"]) == [t.id for t in TARGETS]
    assert report["within"].dtype == bool


def test_every_computable_target_has_a_finite_model_value(report: pd.DataFrame) -> None:
    """Status ok/proxy -> finite model value inside its own Monte Carlo interval.

    A median the uncalibrated model does not reach within the horizon is reported as
    'not reached' (a model outcome, not a missing computation): allowed for medians only.
    """
    for r in report.itertuples():
        if r.status.startswith(("ok", "proxy:")):
            assert math.isfinite(r.model), f"{r.target_id}: {r.status}"
            if math.isfinite(r.model_lo) and math.isfinite(r.model_hi):
                assert r.model_lo <= r.model <= r.model_hi, r.target_id
        elif r.status.startswith("not reached"):
            assert r.endpoint.startswith("median_"), r.target_id
            assert math.isfinite(r.log_likelihood), r.target_id
        else:
            assert r.status.startswith("not computable: "), f"{r.target_id}: {r.status}"


def test_exactly_the_structurally_missing_targets_are_not_computable(
        report: pd.DataFrame) -> None:
    """Not computable = no scenario, an endpoint the engine cannot give, or no single value."""
    got = set(report.loc[report["status"].str.startswith("not computable"), "target_id"])
    assert got == _expected_not_computable()
    nc = report[report["target_id"].isin(got)]
    assert nc["model"].isna().all()
    assert not nc["within"].any()


def test_local_control_is_reported_from_the_closed_form(report: pd.DataFrame) -> None:
    """TARGETS.md §4 local control: a value in [0, 1] for every target with a value, marked
    as the closed-form proxy, with a finite log-likelihood."""
    lc = report[report["endpoint"].isin(_LOCAL_CONTROL)]
    assert len(lc) >= 10
    assert lc["model"].between(0.0, 1.0).all()
    assert lc["status"].str.startswith("proxy: closed-form radiobiology").all()
    assert lc["log_likelihood"].map(math.isfinite).all()


def test_within_agrees_with_the_interval(report: pd.DataFrame) -> None:
    """within <=> lo <= model <= hi, with lo < hi for every target that has a value and sd."""
    for r in report.itertuples():
        if math.isfinite(r.model) and math.isfinite(r.lo):
            assert r.within == (r.lo <= r.model <= r.hi), r.target_id
        else:
            assert not r.within, r.target_id
    sized = report[report["sd"].notna() & report["published"].notna()]
    assert (sized["lo"] <= sized["published"]).all()
    assert (sized["published"] <= sized["hi"]).all()
    assert (sized["lo"] < sized["hi"]).all()


def test_log_likelihood_is_finite_for_computed_targets(report: pd.DataFrame) -> None:
    """Every computed target with an sd has a finite (unweighted) log-likelihood."""
    rows = report[report["model"].notna() & report["sd"].notna()]
    assert rows["log_likelihood"].map(math.isfinite).all()


def test_results_do_not_depend_on_threads() -> None:
    """The same seed gives the same model values with 1 and 2 threads (FLAURA targets)."""
    flaura = [t for t in TARGETS if t.scenario == "flaura.toml"]
    a = validate(150, 7, jobs=1, targets=flaura)
    b = validate(150, 7, jobs=2, targets=flaura)
    pd.testing.assert_series_equal(a["model"], b["model"])


def test_scenarios_dir_can_be_given_explicitly() -> None:
    """scenarios_dir may be the scenarios folder or its trials/ subfolder."""
    nrog = [t for t in TARGETS if t.id == "nrog.tki.pfs_median"]
    for folder in (ROOT / "scenarios", ROOT / "scenarios" / "trials"):
        r = validate(100, 3, jobs=1, scenarios_dir=folder, targets=nrog)
        assert math.isfinite(r.loc[0, "model"])


def test_missing_scenarios_dir_is_an_input_error(tmp_path: Path) -> None:
    """A folder without trial scenarios is refused, naming the folder."""
    with pytest.raises(OligosimInputError, match="no trial scenario files"):
        validate(100, 3, jobs=1, scenarios_dir=tmp_path, targets=TARGETS[:1])


def test_cli_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    """`oligosim validate --json`: a list of {target_id, ..., within}, NaN as null, exit 0."""
    code = main(["validate", "--patients", "100", "--seed", "5", "--jobs", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = json.loads(out)
    assert [r["target_id"] for r in rows] == [t.id for t in TARGETS]
    for r in rows:
        assert tuple(r) == VALIDATE_JSON_KEYS
        assert isinstance(r["within"], bool)
        assert r["model"] is None or isinstance(r["model"], float)
    trae = next(r for r in rows if r["target_id"] == "nrog.tki.g3_trae")
    assert trae["model"] is None  # not computable (no TKI toxicity): NaN becomes null
    assert trae["within"] is False


_ONE_TARGET = """[[target]]
id = "nrog.tki.pfs_median"
trial = "NROG-CN-002"
citation = "Sun H et al., J Clin Oncol 2025;43(4):412-421"
population = "icotinib alone"
scenario = "nrog_cn_002.toml"
arm = "tki_alone"
endpoint = "median_pfs_months"
value = 10.6
ci_lo = 8.8
ci_hi = 16.6
tag = "A"
weight = 1.0
note = "a one-target file for the CLI test"
"""


def test_cli_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--targets FILE; the table names each target and ends with a count; exit 0."""
    path = tmp_path / "targets.toml"
    path.write_text(_ONE_TARGET, encoding="utf-8")
    code = main(["validate", "--patients", "100", "--seed", "5", "--jobs", "1",
                 "--targets", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "nrog.tki.pfs_median" in out
    assert "targets:" in out
    assert "within their 95% interval" in out


@pytest.mark.parametrize("args", [["--patients", "0"], ["--jobs", "0"], ["--seed", "-1"],
                                  ["--patients", "many"],
                                  ["--targets", "/no/such/targets.toml"],
                                  ["--scenarios-dir", "/no/such/dir"]])
def test_cli_bad_input_exits_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad arguments: exit 2 with a message, before anything is simulated."""
    try:
        code = main(["validate", *args])
    except SystemExit as exc:  # argparse type errors
        code = exc.code
    assert code == 2
    assert capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="the calibrated model misses some targets by design "
                   "of their weights (SINDAS vs FLAURA control OS, CURB's non-EGFR cohort) "
                   "and some by structure (NROG 5-year tails): see issue 5's closing note")
def test_full_validation_every_computable_target_within() -> None:
    """Full-size cohorts (each scenario's n_patients): every computable target within its
    published 95% interval (or ±1.96 sd where no CI is published)."""
    full = validate(jobs=None)
    computable = full[~full["status"].str.startswith("not computable")]
    missed = computable.loc[~computable["within"],
                            ["target_id", "published", "lo", "hi", "model", "status"]]
    assert missed.empty, f"{len(missed)} of {len(computable)} targets missed:\n" \
                         f"{missed.to_string()}"
