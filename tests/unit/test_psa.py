"""Probabilistic sensitivity analysis (DESIGN.md §2.12, §3 checkpointing, §5.1, §8).

Small runs (3-5 draws × 60 patients): exact properties, not statistics.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import oligosim
from oligosim.cli import main
from oligosim.errors import OligosimInputError, ScenarioError
from oligosim.outcomes.economics import price
from oligosim.psa import DRAW_COLUMNS, draw_economics, draw_parameters, run_psa
from oligosim.psa import run as psa_run
from oligosim.psa.run import PURPOSE_ECONOMICS, psa_uniforms
from oligosim.report.psa_figures import write_psa_figures
from oligosim.scenario import parse_scenario
from oligosim.scenario.economics import Distribution, Economics

N = 60
SEED = 11
LAT = {"upfront_lat": {"mode": "all_visible_and_primary", "max_mets": 5, "max_organs": 3}}
CONS = {"consolidative_lat": {"time_months": 3.0, "max_lesions": 4}}
OUTPUTS = ("psa_draws.csv", "psa_parameters.csv", "icer.csv", "ceac.csv", "ceaf.csv",
           "evpi.csv", "ce_plane.csv", "run.json", "figures/ce_plane.png", "figures/ceac.png",
           "figures/evpi.png")


def scenario(strategies: list[dict], economics: dict | None = None):
    return parse_scenario({
        "name": "psa_test",
        "run": {"n_patients": N, "seed": SEED, "horizon_months": 60.0},
        "strategy": strategies,
        "economics": economics or {},
    })


@pytest.fixture(scope="module")
def two() -> oligosim.Scenario:
    return scenario([{"name": "tki_alone"}, {"name": "consolidative_lat", **CONS}])


# ------------------------------------------------------------------ scenario uncertainty

def test_default_uncertainty_is_declared_and_sourced():
    unc = Economics().uncertainty
    assert unc["costs.drug_per_month.osimertinib"].distribution == "gamma"
    assert unc["utilities.progression_free"].distribution == "beta"
    assert all(d.source for d in unc.values())


@pytest.mark.parametrize(("key", "spec", "words"), [
    ("costs.drug_per_month.osimertnib", {"distribution": "gamma", "cv": 0.1},
     ["economics.uncertainty.costs.drug_per_month.osimertnib", "allowed",
      "Did you mean 'costs.drug_per_month.osimertinib'"]),
    ("discount_rate_costs_per_year", {"distribution": "beta", "sd": 0.01},
     ["is not a cost or utility", "allowed"]),
    ("utilities.progression_free", {"distribution": "beta", "sd": 0.5},
     ["utilities.progression_free.sd", "too large for a beta", "allowed: sd <"]),
    ("utilities.progression_free", {"distribution": "gamma", "sd": 0.05},
     ["can leave its allowed range", "beta or normal"]),
    ("costs.scan", {"distribution": "gamma", "sd": 10.0, "cv": 0.1}, ["both sd", "cv"]),
    ("costs.scan", {"distribution": "gamma"}, ["needs sd > 0", "fixed"]),
    ("costs.scan", {"distribution": "weibull", "sd": 1.0},
     ["costs.scan.distribution", "'beta', 'gamma', 'lognormal', 'normal', 'fixed'"]),
    ("costs.scan", {"distribution": "normal", "mean": -5.0, "sd": 1.0},
     ["costs.scan.mean", "allowed: 0 to"]),
])
def test_bad_uncertainty_gives_a_clear_error(key, spec, words):
    with pytest.raises(ScenarioError) as exc:
        scenario([{"name": "a"}], {"uncertainty": {key: spec}})
    text = str(exc.value)
    assert "field 'economics.uncertainty." in text
    for w in words:
        assert w in text, text


def test_bad_uncertainty_path_in_a_file_names_the_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('name = "x"\n[[strategy]]\nname = "a"\n[economics.uncertainty]\n'
                 '"costs.nope" = { distribution = "gamma", cv = 0.1 }\n')
    with pytest.raises(ScenarioError, match=r"bad\.toml: field 'economics\.uncertainty\."
                                            r"costs\.nope'"):
        oligosim.load_scenario(f)
    assert main(["check", str(f)]) == 2


@pytest.mark.parametrize(("family", "mean", "sd"), [
    ("beta", 0.7, 0.05), ("gamma", 12_000.0, 1_200.0), ("lognormal", 500.0, 200.0),
    ("normal", 0.5, 0.1)])
def test_method_of_moments(family, mean, sd):
    u = np.random.default_rng(3).random(200_000)  # tests may use numpy.random
    x = Distribution(distribution=family, sd=sd).ppf(u, mean)
    # 6 standard errors of the mean and of the sd (sd of s ~ sd / sqrt(2n), loosely x2 for
    # the skewed lognormal)
    assert abs(x.mean() - mean) < 6 * sd / math.sqrt(x.size)
    assert abs(x.std() - sd) < 12 * sd / math.sqrt(2 * x.size)
    assert Distribution(distribution="fixed").ppf(0.3, mean) == mean
    assert Distribution(distribution="fixed", mean=2.0).ppf(0.3, mean) == 2.0


def test_psa_uniforms_are_philox_words():
    from oligosim.engine.rng import philox4x64_10

    u = psa_uniforms(9, 4, PURPOSE_ECONOMICS, 3)
    w0 = philox4x64_10(np.uint64(2), np.uint64(4), np.uint64(0), np.uint64(0), np.uint64(9),
                       np.uint64(PURPOSE_ECONOMICS))[0]
    assert u[2] == ((int(w0) >> 12) + 0.5) * 2.0**-52
    assert ((u > 0) & (u < 1)).all()
    assert len(set(u)) == 3


def test_draws_are_keyed_by_seed_and_draw_only():
    econ = Economics()
    assert draw_economics(econ, 5, 3) == draw_economics(econ, 5, 3)
    assert draw_economics(econ, 5, 3) != draw_economics(econ, 5, 4)
    assert draw_economics(econ, 5, 3) != draw_economics(econ, 6, 3)
    p = draw_parameters(5, 3)
    assert p == draw_parameters(5, 3)
    spec = oligosim.params.parameters.SPECS
    for name, v in p.items():
        lo, hi = spec[name].prior
        assert lo <= v <= hi


# --------------------------------------------------------------------------- run_psa

def test_identical_strategies_give_zero_increments_in_every_draw(tmp_path):
    sc = scenario([{"name": "a", **CONS}, {"name": "b", **CONS}])
    r = run_psa(sc, 3, N, SEED, tmp_path / "out", biology="prior", jobs=2)
    assert len(r.ce_plane) == 3
    assert (r.ce_plane["inc_cost"] == 0.0).all()
    assert (r.ce_plane["inc_qaly"] == 0.0).all()
    # the prior draws do change the biology between draws
    assert r.draws.loc[r.draws["strategy"] == "a", "qaly"].nunique() == 3


def test_posterior_biology_resamples_the_shipped_draws(tmp_path):
    """biology="posterior": each draw takes one shipped posterior row (recorded), identical
    strategies still differ by exactly zero, and the draw's biology is that row's."""
    post = oligosim.posterior_draws()
    sc = scenario([{"name": "a", **CONS}, {"name": "b", **CONS}])
    r = run_psa(sc, 4, N, SEED, tmp_path / "out", biology="posterior", jobs=2)
    assert (r.ce_plane["inc_cost"] == 0.0).all()
    assert (r.ce_plane["inc_qaly"] == 0.0).all()
    par = r.parameters
    assert par["posterior_draw"].between(0, len(post) - 1).all()
    for _, row in par.iterrows():
        src = post.loc[post["draw"] == row["posterior_draw"]].iloc[0]
        for name in post.columns.drop(["draw", "log_likelihood"]):
            assert row[name] == src[name], name
    assert psa_run.posterior_index(SEED, 2, len(post)) == psa_run.posterior_index(
        SEED, 2, len(post))


def test_outputs_written_and_evpi_nonnegative(tmp_path, two):
    out = tmp_path / "psa"
    r = run_psa(two, 4, N, SEED, out, figures=write_psa_figures)
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    assert not (out / psa_run.PARTIAL).exists()
    assert not (out / psa_run.CHECKPOINT).exists()
    draws = pd.read_csv(out / "psa_draws.csv", float_precision="round_trip")
    assert list(draws.columns) == list(DRAW_COLUMNS)
    assert len(draws) == 4 * 2
    assert sorted(draws["draw"].unique()) == [0, 1, 2, 3]
    np.testing.assert_array_equal(draws["nmb"], r.wtp * draws["qaly"] - draws["cost_usd"])
    evpi = pd.read_csv(out / "evpi.csv")
    assert len(evpi) == 61
    assert evpi["wtp"].iloc[-1] == 3 * r.wtp
    assert (evpi["evpi"] >= 0).all()
    ceac = pd.read_csv(out / "ceac.csv")
    np.testing.assert_allclose(ceac.groupby("wtp")["prob_cost_effective"].sum(), 1.0)
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == SEED
    assert meta["draws"] == 4
    assert meta["n_patients"] == N
    assert meta["biology"] == "fixed"
    assert len(meta["scenario_sha256"]) == 64
    assert set(pd.read_csv(out / "psa_parameters.csv").columns) == \
        {"draw", *two.economics.uncertainty}
    for f in (out / "icer.csv", out / "ceac.csv", out / "ceaf.csv"):
        assert not pd.read_csv(f).select_dtypes("number").isin([np.inf, -np.inf]).any().any()


def test_evpi_is_zero_when_one_strategy_wins_every_draw(tmp_path):
    # LAT courses at the maximum price (no uncertainty on them): the LAT strategy costs
    # ~1e7 more per course than its QALY gain is worth at any wtp of the grid
    lat = {"sbrt": 1e7, "srs": 1e7, "conventional_rt": 1e7, "surgery": 1e7}
    sc = scenario([{"name": "tki_alone"}, {"name": "upfront", **LAT}],
                  {"costs": {"lat_course": lat},
                   "uncertainty": {"costs.drug_per_month.osimertinib":
                                   {"distribution": "gamma", "cv": 0.3},
                                   "utilities.post_progression":
                                   {"distribution": "beta", "sd": 0.1}}})
    r = run_psa(sc, 5, N, SEED, tmp_path / "o")
    assert (r.evpi["evpi"] == 0.0).all()
    assert (r.ceac.loc[r.ceac["strategy"] == "tki_alone", "prob_cost_effective"] == 1.0).all()


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path, two, monkeypatch):
    ref = tmp_path / "ref"
    run_psa(two, 5, N, SEED, ref, biology="prior")

    class KilledError(Exception):
        pass

    def die_after_second(k: int) -> None:
        if k == 1:
            raise KilledError

    out = tmp_path / "resumed"
    monkeypatch.setattr(psa_run, "_after_checkpoint", die_after_second)
    with pytest.raises(KilledError):
        run_psa(two, 5, N, SEED, out, biology="prior")
    monkeypatch.undo()
    partial = out / psa_run.PARTIAL
    assert not (out / "psa_draws.csv").exists()
    assert len(partial.read_text().splitlines()) == 1 + 2 * 2  # header + 2 draws × 2
    with open(partial, "a") as f:  # a torn write of draw 2 (killed mid-line)
        f.write("2,tki_alone,1234.5")
    # without --resume the unfinished run is not silently thrown away
    with pytest.raises(OligosimInputError, match="--resume"):
        run_psa(two, 5, N, SEED, out, biology="prior")
    # resuming with other settings is refused
    with pytest.raises(OligosimInputError, match="different seed"):
        run_psa(two, 5, N, SEED + 1, out, resume=True, biology="prior")
    done = []
    r = run_psa(two, 5, N, SEED, out, resume=True, biology="prior",
                progress=lambda d, t: done.append(d))
    assert done == [3, 4, 5]  # only the missing draws were simulated
    assert r.metadata["resumed_from_draw"] == 2
    for name in ("psa_draws.csv", "icer.csv", "ceac.csv", "ceaf.csv", "evpi.csv",
                 "ce_plane.csv", "psa_parameters.csv"):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name


def test_fixed_shortcut_equals_simulating_every_draw(tmp_path, two):
    r = run_psa(two, 3, N, SEED, tmp_path / "o", biology="fixed")
    base = oligosim.default_parameters()
    econ0 = two.economics
    wtp = econ0.willingness_to_pay_per_qaly
    for k in range(3):
        econ = econ0.with_values(draw_economics(econ0, SEED, k))
        res = oligosim.run_scenario(two, N, SEED, parameters=base, jobs=1)
        use = res.resource_use
        d = r.draws[r.draws["draw"] == k].set_index("strategy")
        for s in res.strategies:
            acc = use.loc[use["strategy"] == s].drop(columns=["strategy", "patient_id"])
            acc = acc.to_numpy(np.float64)
            # bit-identical to the shortcut's own pricing of a fresh simulation ...
            assert psa_run._means(acc, econ, wtp) == tuple(d.loc[s, ["cost_usd", "qaly", "ly",
                                                                       "nmb"]])
            # ... and equal (to rounding of the mean) to the runner's per-patient price()
            money = price(acc, econ)
            np.testing.assert_allclose(d.loc[s, ["cost_usd", "qaly", "ly"]].to_numpy(float),
                                       money[["cost_usd", "qaly", "ly"]].mean().to_numpy(),
                                       rtol=1e-12)


def test_results_do_not_depend_on_threads(tmp_path, two):
    a = run_psa(two, 2, N, SEED, tmp_path / "a", biology="prior", jobs=1)
    b = run_psa(two, 2, N, SEED, tmp_path / "b", biology="prior", jobs=2)
    pd.testing.assert_frame_equal(a.draws, b.draws, check_exact=True)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"draws": 0}, "draws"), ({"biology": "bogus"}, "biology"),
    ({"n_patients": 0}, "n_patients"), ({"seed": -1}, "seed")])
def test_bad_arguments(tmp_path, two, kwargs, match):
    args = {"draws": 2, "n_patients": N, "seed": SEED, "out_dir": tmp_path / "o", **kwargs}
    with pytest.raises(OligosimInputError, match=match):
        run_psa(two, **args)


# ------------------------------------------------------------------------------- CLI

def test_cli_psa_writes_outputs(tmp_path, capsys):
    out = tmp_path / "cli"
    sc = Path(__file__).resolve().parents[2] / "scenarios" / "main_comparison.toml"
    assert main(["psa", str(sc), "--draws", "3", "--patients", "40", "--out", str(out),
                 "--jobs", "1"]) == 0
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    text = capsys.readouterr().out
    assert "EVPI per patient" in text
    assert "3 draws × 40 patients × 6 strategies" in text


@pytest.mark.parametrize("argv", [
    ["--draws", "0"], ["--draws", "2", "--patients", "0"], ["--draws", "2", "--jobs", "0"],
    ["--draws", "2", "--seed", "-3"]])
def test_cli_psa_bad_input_exits_2(tmp_path, capsys, argv):
    sc = Path(__file__).resolve().parents[2] / "scenarios" / "main_comparison.toml"
    assert main(["psa", str(sc), "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "Traceback" not in err


def test_cli_psa_missing_scenario_exits_2(tmp_path, capsys):
    assert main(["psa", str(tmp_path / "nope.toml"), "--draws", "2"]) == 2
    assert "no such scenario file" in capsys.readouterr().err
