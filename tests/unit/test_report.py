"""The output folder of ``oligosim run`` and its figures (DESIGN.md §5.2, §2.11 trace mode)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from oligosim import load_scenario, run_scenario
from oligosim.engine._jit import DEATH_CAUSES
from oligosim.report import figures as F
from oligosim.report import outputs
from oligosim.report.outputs import write_outputs
from oligosim.runner import Results
from oligosim.scenario import parse_scenario

MAIN = Path(__file__).resolve().parents[2] / "scenarios" / "main_comparison.toml"
SUBSET = ("tki_alone", "consolidative_lat", "oligo_pd_lat")
N_PATIENTS = 60
N_TRACED = 2
PUBLISHED = {"tki_alone": {"pfs": 18.9, "os": 38.6}}  # FLAURA osimertinib arm, for marking
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXPECTED_FIGURES = {"km_pfs.png", "km_os.png", "patterns_of_failure.png",
                    "spider_tki_alone.png", "spider_consolidative_lat.png", "swimmer.png"}
DATA_FILES = {"summary.csv", "patients.parquet", "km.csv", "incremental.csv",
              "resource_use.parquet", "run.json"}


@pytest.fixture(scope="module")
def results() -> Results:
    """60 patients of three main-comparison strategies, two traced, with a published median."""
    data = load_scenario(MAIN).model_dump()
    data["strategy"] = [s for s in data["strategy"] if s["name"] in SUBSET]
    data["published"] = PUBLISHED
    return run_scenario(parse_scenario(data), n_patients=N_PATIENTS, seed=11,
                        n_traced=N_TRACED)


@pytest.fixture(scope="module")
def untraced(results: Results) -> Results:
    """The same run without traces."""
    return dataclasses.replace(results, traces=[])


def _data_axes(fig: Figure) -> list:
    """The axes that plot data (not the numbers-at-risk table)."""
    return [ax for ax in fig.axes if ax.get_label() != F.AT_RISK_LABEL]


def test_write_outputs_writes_every_file(results: Results, tmp_path: Path) -> None:
    """summary.csv, patients.parquet, km.csv, run.json and every figure are written."""
    out = write_outputs(results, tmp_path / "run", "test")
    assert out == tmp_path / "run"
    assert {p.name for p in out.iterdir()} == DATA_FILES | {"figures"}
    assert {p.name for p in (out / "figures").iterdir()} == EXPECTED_FIGURES
    for name in EXPECTED_FIGURES:
        head = (out / "figures" / name).read_bytes()[:8]
        assert head == PNG_MAGIC, f"{name} is not a PNG (starts {head!r})"
    assert list(pd.read_csv(out / "summary.csv")["strategy"]) == list(SUBSET)
    assert len(pd.read_parquet(out / "patients.parquet")) == N_PATIENTS * len(SUBSET)
    assert json.loads((out / "run.json").read_text())["n_patients"] == N_PATIENTS
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "temporary folders left behind"


def test_write_outputs_replaces_an_existing_folder(results: Results, tmp_path: Path) -> None:
    """Writing again replaces the folder's content and leaves no .old or temporary folder."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier run")
    write_outputs(results, out, "test")
    assert not (out / "stale.txt").exists()
    assert (out / "figures" / "km_pfs.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_write_outputs_output_is_readable_like_a_plain_folder(results: Results,
                                                              tmp_path: Path) -> None:
    """The output folder gets umask permissions, not mkdtemp's owner-only 0700."""
    import os

    mask = os.umask(0o022)
    try:
        out = write_outputs(results, tmp_path / "run", "test")
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o755


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("disk full while drawing")


def test_failure_mid_write_creates_nothing(results: Results, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """If writing the figures fails, neither the folder nor a temporary folder remains."""
    monkeypatch.setattr(outputs, "write_figures", _boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(results, tmp_path / "run", "test")
    assert not (tmp_path / "run").exists()
    assert list(tmp_path.iterdir()) == [], "temporary folder left behind"


def test_failure_mid_write_keeps_the_previous_output(results: Results, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed rewrite leaves the previous complete output folder untouched."""
    out = write_outputs(results, tmp_path / "run", "test")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    monkeypatch.setattr(outputs, "write_figures", _boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(results, out, "test")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_write_figures_without_traces_skips_spider_and_swimmer(untraced: Results,
                                                               tmp_path: Path) -> None:
    """Without traced patients only the KM and patterns figures are written."""
    written = F.write_figures(untraced, tmp_path / "figures")
    assert [p.name for p in written] == ["km_pfs.png", "km_os.png", "patterns_of_failure.png"]


def _all_figures(results: Results) -> dict[str, Figure]:
    trace = next(t for t in results.traces if t.strategy == "consolidative_lat")
    return {
        "km_pfs": F.km_figure(results, "pfs"),
        "km_os": F.km_figure(results, "os"),
        "patterns": F.patterns_figure(results),
        "spider": F.spider_figure(results, "consolidative_lat"),
        "swimmer": F.swimmer_figure(results),
        "clones": F.clones_figure(trace),
    }


def test_figures_have_labelled_axes_titles_and_legends(results: Results) -> None:
    """Every data axes has x and y labels, time axes say months; every figure has a legend."""
    for name, fig in _all_figures(results).items():
        axes = _data_axes(fig)
        assert axes, name
        for ax in axes:
            assert ax.get_xlabel(), f"{name}: axes without an x label"
            assert ax.get_ylabel(), f"{name}: axes without a y label"
            if name != "patterns":
                assert "months" in ax.get_xlabel(), f"{name}: {ax.get_xlabel()!r}"
            else:
                assert "%" in ax.get_xlabel(), f"{name}: {ax.get_xlabel()!r}"
        titled = bool(fig.get_suptitle()) or any(ax.get_title() for ax in axes)
        assert titled, f"{name} has no title"
        legends = list(fig.legends) + [ax.get_legend() for ax in axes if ax.get_legend()]
        assert legends, f"{name} has no legend"


def test_figures_leave_pyplot_alone(results: Results) -> None:
    """Building figures registers nothing in pyplot's global figure list."""
    before = plt.get_fignums()
    _all_figures(results)
    assert plt.get_fignums() == before


def test_km_legend_gives_each_median_and_marks_published(results: Results) -> None:
    """The legend names each strategy with its median; published medians are marked."""
    fig = F.km_figure(results, "pfs")
    ax = _data_axes(fig)[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for s in SUBSET:
        assert any(label.startswith(f"{s}: ") for label in labels), labels
    assert "published median (trial)" in labels
    assert any(t.get_text().startswith("published") for t in ax.texts)


def test_km_without_published_medians_marks_none(results: Results) -> None:
    """No published medians in the scenario: nothing labelled published."""
    plain = dataclasses.replace(
        results, scenario=results.scenario.model_copy(update={"published": {}}))
    ax = _data_axes(F.km_figure(plain, "os"))[0]
    assert not any("published" in t.get_text() for t in ax.texts)
    assert not any("published" in t.get_text() for t in ax.get_legend().get_texts())


def test_km_numbers_at_risk_start_with_the_cohort(results: Results) -> None:
    """The numbers-at-risk table has one row per strategy starting at n_patients."""
    fig = F.km_figure(results, "os")
    (table,) = [ax for ax in fig.axes if ax.get_label() == F.AT_RISK_LABEL]
    at_zero = [t.get_text() for t in table.texts if t.get_position()[0] == 0.0]
    assert at_zero == [str(N_PATIENTS)] * len(SUBSET)


def test_km_rejects_an_unknown_endpoint(results: Results) -> None:
    """Only pfs and os are plotted."""
    with pytest.raises(ValueError, match="endpoint must be one of"):
        F.km_figure(results, "ttd")


def test_trace_figures_need_traced_patients(untraced: Results) -> None:
    """Spider and swimmer plots say how to trace patients when there are none."""
    with pytest.raises(ValueError, match="n_traced"):
        F.spider_figure(untraced, "tki_alone")
    with pytest.raises(ValueError, match="n_traced"):
        F.swimmer_figure(untraced)


def test_spider_rejects_unknown_strategy_and_untraced_patient(results: Results) -> None:
    """Asking for a strategy not run, or a patient not traced, names what is available."""
    with pytest.raises(ValueError, match="not in this run"):
        F.spider_figure(results, "upfront_lat_all")
    with pytest.raises(ValueError, match="not traced"):
        F.spider_figure(results, "tki_alone", patient_ids=[N_PATIENTS - 1])


def test_swimmer_has_one_bar_row_per_traced_patient(results: Results) -> None:
    """One labelled row per traced patient per strategy."""
    ax = _data_axes(F.swimmer_figure(results))[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{s} · #{i}" for s in SUBSET for i in range(N_TRACED)]


def test_trace_event_table_decodes_events(results: Results) -> None:
    """Drug codes, causes of death and organs are decoded into words."""
    trace = next(t for t in results.traces if t.strategy == "consolidative_lat")
    table = F.trace_event_table(trace)
    assert list(table.columns) == ["time_months", "event", "lesion", "organ", "value",
                                   "detail"]
    assert table.iloc[0]["event"] == "drug_start"
    assert table.iloc[0]["detail"] == "osimertinib"
    death = table.loc[table["event"] == "death", "detail"]
    assert death.isin(DEATH_CAUSES).all()
    lat = table.loc[table["event"] == "lat"]
    assert (lat["organ"] != "").all()
