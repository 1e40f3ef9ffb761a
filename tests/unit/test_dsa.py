"""One-way deterministic sensitivity analysis and its tornado (DESIGN.md §2.12, §5.1, §8).

Small cohorts (60 patients): exact properties of the re-pricing and of common random numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import oligosim
from oligosim.cli import main
from oligosim.errors import OligosimInputError
from oligosim.psa import DSA_COLUMNS, calibratable_parameters, run_dsa
from oligosim.report.dsa_figures import write_dsa_figures
from oligosim.scenario import parse_scenario

N = 60
SEED = 5
CONS = {"consolidative_lat": {"time_months": 3.0, "max_lesions": 4}}
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
MAIN = SCENARIOS / "main_comparison.toml"


def scenario(strategies: list[dict] | None = None, economics: dict | None = None,
             parameters: dict | None = None) -> oligosim.Scenario:
    return parse_scenario({
        "name": "dsa_test",
        "run": {"n_patients": N, "seed": SEED, "horizon_months": 60.0},
        "strategy": strategies or [{"name": "tki_alone"}, {"name": "cons", **CONS}],
        "economics": economics or {},
        "parameters": parameters or {},
    })


@pytest.fixture(scope="module")
def two() -> oligosim.Scenario:
    return scenario()


@pytest.fixture(scope="module")
def result(two, tmp_path_factory):
    return run_dsa(two, out_dir=tmp_path_factory.mktemp("dsa") / "out", jobs=2,
                   figures=write_dsa_figures)


# ----------------------------------------------------------------------------- base case

def test_base_case_equals_the_deterministic_run(two, result):
    """Base costs, QALYs and incremental NMB are those of run_scenario on the same cohort."""
    res = oligosim.run_scenario(two, jobs=1)
    means = res.patients.groupby("strategy", observed=True)[["cost_usd", "qaly", "ly"]].mean()
    base = result.base.set_index("strategy")
    np.testing.assert_allclose(base[["cost_usd", "qaly", "ly"]].to_numpy(),
                               means.loc[base.index].to_numpy(), rtol=1e-12)
    wtp = two.economics.willingness_to_pay_per_qaly
    d = means.loc["cons"] - means.loc["tki_alone"]
    inc = result.table["inc_nmb_usd_base"]
    assert inc.nunique() == 1  # the same base on every row
    assert inc.iloc[0] == pytest.approx(wtp * d["qaly"] - d["cost_usd"], rel=1e-11)


def test_low_value_repriced_equals_a_run_at_that_value(two, result):
    """Re-pricing one simulated cohort is exactly a fresh run with the changed price."""
    row = result.table.set_index("parameter").loc["costs.drug_per_month.osimertinib"]
    econ = two.economics.model_dump()
    econ["costs"]["drug_per_month"]["osimertinib"] = float(row["low_value"])
    res = oligosim.run_scenario(scenario(economics=econ), jobs=1)
    m = res.patients.groupby("strategy", observed=True)[["cost_usd", "qaly"]].mean()
    d = m.loc["cons"] - m.loc["tki_alone"]
    assert row["inc_cost_usd_low"] == pytest.approx(d["cost_usd"], rel=1e-11)
    assert row["inc_qaly_low"] == pytest.approx(d["qaly"], rel=1e-11)


def test_low_and_high_are_the_2_5_and_97_5_percent_quantiles(two, result):
    """gamma(cv 0.1) on osimertinib: low/high are scipy's gamma quantiles, stated in bounds."""
    row = result.table.set_index("parameter").loc["costs.drug_per_month.osimertinib"]
    m = two.economics.costs.drug_per_month.osimertinib
    shape, scale = 1 / 0.1**2, m * 0.1**2
    assert row["low_value"] == pytest.approx(stats.gamma.ppf(0.025, shape, scale=scale),
                                             rel=1e-10)
    assert row["high_value"] == pytest.approx(stats.gamma.ppf(0.975, shape, scale=scale),
                                              rel=1e-10)
    assert row["base_value"] == m
    assert row["bounds"] == "2.5%/97.5% quantiles of gamma(cv 0.1)"
    assert row["unit"] == "USD/month"
    assert result.metadata["quantiles"] == [0.025, 0.975]


def test_equal_low_and_high_give_zero_width(tmp_path):
    """A fixed distribution (low = high = its mean) gives a bar of exactly zero width."""
    sc = scenario(economics={"uncertainty": {
        "costs.scan": {"distribution": "fixed"},
        "costs.end_of_life": {"distribution": "gamma", "cv": 0.2}}})
    r = run_dsa(sc, out_dir=tmp_path / "o", jobs=1)
    row = r.table.set_index("parameter").loc["costs.scan"]
    assert row["low_value"] == row["high_value"] == row["base_value"] == 400.0
    assert row["range_usd"] == 0.0
    assert row["inc_nmb_usd_low"] == row["inc_nmb_usd_high"] == row["inc_nmb_usd_base"]
    assert list(r.table["parameter"]) == ["costs.end_of_life", "costs.scan"]  # widest first


# --------------------------------------------------------------------------- the table

def test_outputs_are_written_and_sorted_by_range(result):
    """dsa.csv (DSA_COLUMNS, widest bar first, no NaN or inf), run.json and the tornado."""
    out = result.out_dir
    for name in ("dsa.csv", "run.json", "figures/tornado.png"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*")), "temporary files left behind"
    table = pd.read_csv(out / "dsa.csv")
    assert list(table.columns) == list(DSA_COLUMNS)
    assert set(table["strategy"]) == {"cons"}
    assert set(table["reference"]) == {"tki_alone"}
    assert list(table["range_usd"]) == sorted(table["range_usd"], reverse=True)
    assert set(table["parameter"]) == set(oligosim.load_scenario(MAIN).economics.uncertainty)
    assert np.isfinite(table.select_dtypes("number").to_numpy()).all()
    np.testing.assert_allclose(table["range_usd"],
                               (table["inc_nmb_usd_high"] - table["inc_nmb_usd_low"]).abs())
    meta = json.loads((out / "run.json").read_text())
    assert meta["command"] == "dsa"
    assert meta["seed"] == SEED
    assert meta["n_patients"] == N
    assert meta["reference"] == "tki_alone"
    assert "2.5% and 97.5% quantiles" in meta["bounds_note"]


def test_reference_and_wtp_options(two, result, tmp_path):
    """Against the other reference the increments change sign; a wtp of 0 gives -Δcost."""
    r = run_dsa(two, out_dir=tmp_path / "ref", reference="cons", wtp=0.0, jobs=1)
    a = result.table.set_index("parameter")
    b = r.table.set_index("parameter").loc[a.index]
    assert set(b["strategy"]) == {"tki_alone"}
    np.testing.assert_allclose(b["inc_cost_usd_low"], -a["inc_cost_usd_low"], rtol=1e-12)
    np.testing.assert_array_equal(b["inc_nmb_usd_low"], -b["inc_cost_usd_low"])


def test_a_dirichlet_share_has_one_row_in_its_unit(tmp_path):
    """A group of two shares gives one row (its first share), in the unit 'share'."""
    sc = scenario([{"name": "gef", "tki": "gefitinib"}, {"name": "osi"}],
                  {"costs": {"tki_1g_mix": {}}, "uncertainty": {
                      "costs.tki_1g_mix.share": {"distribution": "dirichlet",
                                                 "counts": {"gefitinib": 8.0,
                                                            "erlotinib": 2.0}}}})
    r = run_dsa(sc, out_dir=tmp_path / "o", jobs=1)
    (row,) = r.table.itertuples()
    assert row.parameter == "costs.tki_1g_mix.share.gefitinib"
    assert row.unit == "share"
    assert row.low_value == pytest.approx(stats.beta.ppf(0.025, 8.0, 2.0), rel=1e-12)
    assert row.bounds.endswith("(Beta marginal)")
    # more gefitinib (the dearer drug) makes the gefitinib strategy dearer: osi gains NMB
    assert row.inc_nmb_usd_high > row.inc_nmb_usd_low
    assert row.range_usd > 0


# ----------------------------------------------------------------------------- biology

def test_biology_at_prior_bounds_with_common_random_numbers(tmp_path):
    """Every calibratable parameter at its prior bounds; one the scenario sets is skipped;
    one no strategy uses (a 1G TKI kill rate under osimertinib) has exactly zero width."""
    sc = scenario(economics={"uncertainty": {}},
                  parameters={"p_later_line": 0.5})
    done: list[int] = []
    r = run_dsa(sc, out_dir=tmp_path / "bio", biology=True, jobs=2,
                progress=lambda d, t: done.append((d, t)))
    priors = calibratable_parameters()
    bio = r.table.set_index("parameter")
    assert (bio["kind"] == "biology").all()
    assert {s["parameter"] for s in r.skipped} >= {"p_later_line"}
    assert set(bio.index) | {s["parameter"] for s in r.skipped} == set(priors)
    for name, row in bio.iterrows():
        assert (row["low_value"], row["high_value"]) == priors[name][:2]
    assert bio.loc["kill_rate_tki_1g_per_month", "range_usd"] == 0.0
    assert bio.loc["kill_rate_osimertinib_per_month", "range_usd"] > 0.0
    total = N * 2 * (1 + 2 * (len(priors) - 1))  # the base case, two per varied parameter
    assert done[-1] == (total, total)


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize(("kwargs", "words"), [
    ({"reference": "nope"}, ["field 'reference'", "'nope'", "allowed: tki_alone, cons"]),
    ({"wtp": -1.0}, ["field 'wtp'", "-1.0", "allowed: 0 to 10,000,000"]),
    ({"wtp": math.nan}, ["field 'wtp'", "nan"]),
    ({"quantiles": (0.9, 0.1)}, ["field 'quantiles'", "0 < low < high < 1"]),
    ({"n_patients": 0}, ["n_patients", "at least 1"]),
    ({"seed": -1}, ["seed", "0 <= seed < 2**63"]),
    ({"jobs": 0}, ["jobs", "at least 1"]),
])
def test_bad_arguments_give_specific_messages(two, tmp_path, kwargs, words):
    """Each bad argument names the field, the value and what is allowed."""
    with pytest.raises(OligosimInputError) as exc:
        run_dsa(two, out_dir=tmp_path / "o", **kwargs)
    for w in words:
        assert w in str(exc.value), str(exc.value)


def test_a_scenario_with_one_strategy_is_refused(tmp_path):
    with pytest.raises(OligosimInputError, match=r"x\.toml: field 'strategy': .*has one "
                                                 r"\(a\).*allowed: a scenario with at least 2"):
        run_dsa(scenario([{"name": "a"}]), out_dir=tmp_path / "o", source="x.toml")


def test_nothing_to_vary_is_refused(tmp_path):
    with pytest.raises(OligosimInputError, match=r"field 'economics\.uncertainty': nothing to "
                                                 r"vary.*--biology"):
        run_dsa(scenario(economics={"uncertainty": {}}), out_dir=tmp_path / "o")


def test_a_capacity_scenario_is_refused(tmp_path):
    sc = oligosim.load_scenario(SCENARIOS / "capacity_example.toml")
    with pytest.raises(OligosimInputError, match=r"field 'capacity'.*not supported"):
        run_dsa(sc, out_dir=tmp_path / "o")


# -------------------------------------------------------------------------------- CLI

def test_cli_dsa_writes_outputs_and_prints_the_widest_bars(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["dsa", str(MAIN), "--patients", "40", "--out", str(out), "--jobs", "1",
                 "--wtp", "150000"]) == 0
    for name in ("dsa.csv", "run.json", "figures/tornado.png"):
        assert (out / name).is_file(), name
    text = capsys.readouterr().out
    assert "incremental NMB vs tki_alone" in text
    assert "WTP 150,000 USD/QALY" in text
    assert "4 parameters × 5 comparisons, 40 patients" in text
    assert json.loads((out / "run.json").read_text())["willingness_to_pay_per_qaly"] == 150000


@pytest.mark.parametrize(("argv", "words"), [
    (["--wtp", "-5"], ["field '--wtp'", "-5.0", "allowed: 0 to 10,000,000"]),
    (["--wtp", "nan"], ["field '--wtp'", "nan"]),
    (["--reference", "nope"], ["main_comparison.toml: field 'reference'", "'nope'",
                               "allowed: tki_alone, upfront_lat_all"]),
    (["--patients", "0"], ["--patients must be at least 1", "0"]),
    (["--jobs", "0"], ["--jobs must be at least 1"]),
    (["--seed", "-3"], ["--seed out of range", "0 <= seed < 2**63"]),
])
def test_cli_dsa_bad_input_exits_2_without_traceback(tmp_path, capsys, argv, words):
    assert main(["dsa", str(MAIN), "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


def test_cli_dsa_missing_scenario_exits_2(tmp_path, capsys):
    assert main(["dsa", str(tmp_path / "nope.toml")]) == 2
    assert "no such scenario file" in capsys.readouterr().err
