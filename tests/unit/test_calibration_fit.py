"""Calibration: free parameters, objective, CMA-ES + emcee run, resume, CLI (DESIGN §4, §8)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from oligosim.calibration.fit import CalibrationConfig, PhiloxNormal, calibrate
from oligosim.calibration.free import FREE_PARAMETERS, from_unit, to_parameters, to_unit
from oligosim.calibration.objective import UNESTIMABLE_LOG_LIKELIHOOD, Objective, score
from oligosim.calibration.targets import load_targets
from oligosim.cli import main
from oligosim.errors import OligosimInputError
from oligosim.params import SPECS, literature_parameters, load_parameter_file

#: Two selection seeds, not the default six: the tests exercise the choice, not its
#: precision, and each seed costs every run here a rescoring of all candidates.
TINY = CalibrationConfig(n_patients=12, generations=2, popsize=4, walkers=2 * len(
    FREE_PARAMETERS), steps=4, n_draws=40, workers=1, selection_seeds=(20261128, 20261129))
#: One trial scenario (FLAURA) and the closed-form local-control targets keep the runs short;
#: the machinery does not depend on which targets are scored.
SUBSET = [t for t in load_targets() if t.scenario in (None, "flaura.toml")]


def _subset_file(folder: Path) -> Path:
    """The package's targets file cut down to :data:`SUBSET` (same text per target)."""
    from importlib import resources

    text = (resources.files("oligosim") / "data" / "targets.toml").read_text("utf-8")
    head, *blocks = text.split("[[target]]")
    keep = [b for b in blocks if 'scenario = "flaura.toml"' in b or "\nscenario" not in b]
    path = folder / "targets_subset.toml"
    path.write_text(head + "".join("[[target]]" + b for b in keep), encoding="utf-8")
    return path


def test_free_parameters_are_real_parameters_with_priors_inside_their_bounds() -> None:
    names = [p.name for p in FREE_PARAMETERS]
    assert len(names) == len(set(names))
    for p in FREE_PARAMETERS:
        spec = SPECS[p.name]
        assert spec.lo <= p.lo < p.hi <= spec.hi, p.name
        assert p.reason
        assert p.lo > 0 or not p.log


def test_unit_cube_round_trip() -> None:
    u = np.linspace(0.05, 0.95, len(FREE_PARAMETERS))
    np.testing.assert_allclose(to_unit(from_unit(u)), u, atol=1e-12)
    ps = to_parameters(u)
    for p, x in zip(FREE_PARAMETERS, u, strict=True):
        assert ps[p.name] == pytest.approx(p.value(x))
    lo, hi = from_unit(np.zeros(len(u))), from_unit(np.ones(len(u)))
    assert all(lo[p.name] == pytest.approx(p.lo) and hi[p.name] == pytest.approx(p.hi)
               for p in FREE_PARAMETERS)


def test_philox_normal_is_deterministic_and_standard() -> None:
    a, b = PhiloxNormal(5), PhiloxNormal(5)
    x = np.concatenate([a(40, 19).ravel() for _ in range(20)])
    y = np.concatenate([b(40, 19).ravel() for _ in range(20)])
    np.testing.assert_array_equal(x, y)
    n = x.size  # 15,200 draws: mean within 4 SE of 0, variance within 4 SE of 1
    assert abs(x.mean()) < 4 / math.sqrt(n)
    assert abs(x.var() - 1.0) < 4 * math.sqrt(2.0 / n)


def test_objective_is_deterministic_and_penalises_unestimable_targets() -> None:
    obj = Objective(n_patients=15, seed=3, jobs=1)
    u = to_unit(literature_parameters())
    assert obj(u) == obj(u)
    assert obj(np.full(len(u), 1.5)) == -math.inf
    report = obj.report(u)
    broken = report.copy()
    i = broken.index[(broken["weight"] > 0) & broken["log_likelihood"].notna()][0]
    broken.loc[i, "log_likelihood"] = np.nan
    delta = score(broken) - score(report)
    expected = broken.loc[i, "weight"] * (UNESTIMABLE_LOG_LIKELIHOOD
                                          - report.loc[i, "log_likelihood"])
    assert delta == pytest.approx(expected)


def _outputs(out: Path) -> dict[str, pd.DataFrame]:
    work = out.with_name(out.stem + "_calibration")
    return {name: pd.read_csv(work / name) for name in
            ("posterior_draws.csv", "predictive.csv", "cma_log.csv")}


def _state_after_first_report(out: Path, config: CalibrationConfig) -> dict:
    """Run a calibration until its first progress report (a CMA-ES generation, or the first
    MCMC step when there is no search), then read its checkpoint."""
    import pickle

    def stop(stage: str, done: int, _t: int, _b: float) -> None:
        raise _StopError

    with pytest.raises(_StopError):
        calibrate(out, config, targets=SUBSET, progress=stop)
    with (out.with_name(out.stem + "_calibration") / "checkpoint" / "state.pkl").open(
            "rb") as fh:
        return pickle.load(fh)


class _StopError(Exception):
    pass


def test_interrupted_calibration_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    full = calibrate(tmp_path / "a.json", TINY, targets=SUBSET)
    assert len(full.draws) == TINY.n_draws
    assert set(full.draws.columns) >= {p.name for p in FREE_PARAMETERS}
    assert np.isfinite(full.point_log_likelihood)
    # the widening check: median posterior/prior sd in each half of the kept steps
    import pickle

    with (tmp_path / "a_calibration" / "checkpoint" / "state.pkl").open("rb") as fh:
        chain = np.array(pickle.load(fh)["mcmc"]["chain"])
    kept = chain[TINY.steps // 2:]
    halves = [np.median(part.reshape(-1, kept.shape[2]).std(axis=0) * math.sqrt(12.0))
              for part in (kept[:1], kept[1:])]
    np.testing.assert_allclose(full.summary["sd_ratio_median_kept_halves"], halves)
    # the stationarity trace covers the whole chain, burn-in included (4 steps: 1-step windows)
    trace = full.summary["sd_ratio_by_window"]
    assert trace["first_step"] == [1, 2, 3, 4]
    np.testing.assert_allclose(trace["median_ratio"],
                               [np.median(c.std(axis=0) * math.sqrt(12.0)) for c in chain])
    # walkers.csv: the last step's ensemble, which --walkers-from continues from
    from oligosim.calibration.fit import read_walkers

    np.testing.assert_allclose(read_walkers(tmp_path / "a_calibration" / "walkers.csv",
                                            TINY.walkers), np.clip(kept[-1], 0.001, 0.999),
                               atol=1e-9)

    # killed during CMA-ES, resumed, killed during MCMC, resumed to the end
    out = tmp_path / "b.json"
    for stop_at, resume in ((("cma", 1), False), (("mcmc", 2), True)):
        def interrupt(stage: str, done: int, _total: int, _best: float,
                      stop_at: tuple[str, int] = stop_at) -> None:
            if (stage, done) == stop_at:
                raise _StopError

        with pytest.raises(_StopError):
            calibrate(out, TINY, targets=SUBSET, resume=resume, progress=interrupt)
        assert not out.exists()  # nothing half-written
    resumed = calibrate(out, TINY, targets=SUBSET, resume=True)
    np.testing.assert_array_equal(resumed.point_unit, full.point_unit)
    a, b = _outputs(tmp_path / "a.json"), _outputs(out)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])

    # a longer chain on --resume continues the same chain: equal to a run that long
    longer = CalibrationConfig(**{**TINY.__dict__, "steps": 6, "n_draws": 60})
    extended = calibrate(out, longer, targets=SUBSET, resume=True)
    fresh = calibrate(tmp_path / "c.json", longer, targets=SUBSET)
    pd.testing.assert_frame_equal(extended.draws, fresh.draws)

    # the point estimate file loads as a parameter set with calibrated sources
    ps = load_parameter_file(tmp_path / "a.json")
    for p in FREE_PARAMETERS:
        assert ps[p.name] == pytest.approx(full.point[p.name])
        assert ps.sources()[p.name].startswith("calibrated by oligosim calibrate")


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    def stop(stage: str, done: int, _t: int, _b: float) -> None:
        raise _StopError

    with pytest.raises(_StopError):
        calibrate(tmp_path / "c.json", TINY, targets=SUBSET, progress=stop)
    other = CalibrationConfig(**{**TINY.__dict__, "seed": TINY.seed + 1})
    with pytest.raises(OligosimInputError, match="other calibration settings"):
        calibrate(tmp_path / "c.json", other, targets=SUBSET, resume=True)
    with pytest.raises(OligosimInputError, match="other targets"):
        calibrate(tmp_path / "c.json", TINY, targets=SUBSET[:5], resume=True)
    # same ids, one published value changed: the resumed chain would mix two likelihoods
    edited = [SUBSET[0].model_copy(update={"value": SUBSET[0].value * 1.1}), *SUBSET[1:]]
    with pytest.raises(OligosimInputError, match="other targets"):
        calibrate(tmp_path / "c.json", TINY, targets=edited, resume=True)
    # prose is not part of the likelihood: an edited note resumes
    reworded = [SUBSET[0].model_copy(update={"note": "reworded"}), *SUBSET[1:]]
    with pytest.raises(_StopError):
        calibrate(tmp_path / "c.json", TINY, targets=reworded, resume=True, progress=stop)


def test_moves_reach_emcee_and_may_change_on_resume(tmp_path: Path) -> None:
    """A stretch-move chain resumed with DE moves: the steps before the switch are those of
    the stretch run, the steps after differ from a chain that kept the stretch move, and
    the summary records which moves made which steps."""
    import pickle
    from dataclasses import replace

    def chain(folder: Path) -> np.ndarray:
        with (folder / "checkpoint" / "state.pkl").open("rb") as fh:
            return np.array(pickle.load(fh)["mcmc"]["chain"])

    stretch4 = replace(TINY, moves="stretch")
    calibrate(tmp_path / "s.json", stretch4, targets=SUBSET)
    calibrate(tmp_path / "m.json", replace(stretch4, steps=2), targets=SUBSET)
    mixed = calibrate(tmp_path / "m.json", replace(TINY, moves="de"), targets=SUBSET,
                      resume=True)
    a, b = chain(tmp_path / "s_calibration"), chain(tmp_path / "m_calibration")
    np.testing.assert_array_equal(a[:2], b[:2])
    assert not np.array_equal(a[2:], b[2:])
    assert mixed.summary["moves_by_step"] == [[1, "stretch"], [3, "de"]]


def test_start_begins_the_search_at_the_given_parameters(tmp_path: Path) -> None:
    """--start: with a tiny first step every first-generation candidate lies at the start."""
    start = {p.name: p.value(0.3) for p in FREE_PARAMETERS}
    config = CalibrationConfig(**{**TINY.__dict__, "start": start, "sigma0": 1e-4})
    state = _state_after_first_report(tmp_path / "s.json", config)
    np.testing.assert_allclose(state["best"][1], 0.3, atol=1e-3)


def test_a_start_is_a_candidate_for_the_point(tmp_path: Path) -> None:
    """--start: the start is evaluated before the first generation and kept as the best
    point until a candidate beats it, so a refit never ends worse than where it began."""
    start = {p.name: p.value(0.3) for p in FREE_PARAMETERS}
    config = CalibrationConfig(**{**TINY.__dict__, "start": start})
    state = _state_after_first_report(tmp_path / "s.json", config)
    objective = Objective(TINY.n_patients, TINY.seed, targets=SUBSET)
    u0 = to_unit(to_parameters(np.full(len(FREE_PARAMETERS), 0.3)))
    assert state["n_evaluations"] == 1 + TINY.popsize
    assert state["best"][0] >= objective(u0)
    assert state["cma_log"][0]["overall_best"] == state["best"][0]


def test_a_start_outside_the_free_parameters_is_named() -> None:
    bad = CalibrationConfig(**{**TINY.__dict__, "start": {"cells_per_cm3": 1e9}})
    with pytest.raises(OligosimInputError) as err:
        bad.check()
    assert "start" in str(err.value)
    assert "cells_per_cm3" in str(err.value)


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("walkers", 3, "even and >="), ("popsize", 2, ">= 4"), ("sigma0", 0.9, "(0, 0.5]"),
    ("n_draws", 10_000, "<= walkers x"), ("moves", "walk", '"de" or "stretch"'),
    ("selection_seeds", (TINY.seed,), "other than the fit seed"),
    ("selection_seeds", (TINY.validation_seed, 5), "other than the fit seed"),
    ("selection_seeds", (), "one or more seeds"), ("point_candidates", -1, ">= 0")])
def test_bad_settings_are_named(field: str, value: float, allowed: str) -> None:
    bad = CalibrationConfig(**{**TINY.__dict__, field: value})
    with pytest.raises(OligosimInputError) as err:
        bad.check()
    assert field in str(err.value)
    assert allowed in str(err.value)


def test_cli_calibrate_writes_everything_and_validate_reads_it(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture
                                                              ) -> None:
    out = tmp_path / "fit.json"
    subset = _subset_file(tmp_path)
    code = main(["calibrate", "--out", str(out), "--patients", "12", "--generations", "1",
                 "--popsize", "4", "--walkers", str(2 * len(FREE_PARAMETERS)), "--steps", "2",
                 "--draws", "10", "--workers", "2", "--targets", str(subset)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "candidates on the selection seeds" in printed
    work = tmp_path / "fit_calibration"
    for name in ("posterior_draws.csv", "report.csv", "predictive.csv", "cma_log.csv",
                 "walkers.csv",
                 "calibration.png"):
        assert (work / name).stat().st_size > 0, name
    doc = json.loads(out.read_text())
    assert set(doc["free_parameters"]) == {p.name for p in FREE_PARAMETERS}
    assert "effective_sample_size_min" in doc["summary"]
    capsys.readouterr()
    assert main(["validate", "--patients", "10", "--json", "--parameters", str(out),
                 "--targets", str(subset)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["target_id"] for r in rows] == [t.id for t in SUBSET]
    assert main(["calibrate", "--out", str(tmp_path / "x.json"), "--walkers", "3"]) == 2
    assert "walkers" in capsys.readouterr().err
    assert main(["calibrate", "--out", str(tmp_path / "x.toml")]) == 2
    assert ".json" in capsys.readouterr().err
    assert main(["calibrate", "--out", str(tmp_path / "x.json"), "--scenarios-dir",
                 str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text("{not json")
    assert main(["validate", "--patients", "10", "--parameters",
                 str(tmp_path / "junk.json")]) == 2
    assert "junk.json" in capsys.readouterr().err


@pytest.mark.skipif(__import__("os").name != "posix", reason="SIGKILL")
def test_calibrate_resumes_after_sigkill(tmp_path: Path) -> None:
    """Kill `oligosim calibrate` with SIGKILL once a checkpoint exists; --resume finishes it
    with the same posterior as an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    subset = _subset_file(tmp_path)
    args = ["--patients", "12", "--generations", "3", "--popsize", "4", "--walkers",
            str(2 * len(FREE_PARAMETERS)), "--steps", "4", "--draws", "40", "--workers", "1",
            "--targets", str(subset)]
    out = tmp_path / "k.json"
    cmd = [sys.executable, "-m", "oligosim.cli", "calibrate", "--out", str(out), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "k_calibration" / "checkpoint" / "state.pkl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and not state.exists():
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ref = tmp_path / "r.json"
    assert main(["calibrate", "--out", str(ref), *args]) == 0
    a, b = _outputs(ref), _outputs(out)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_effective_sample_size_leaves_out_a_walker_that_never_moved() -> None:
    """A stuck walker (0/0 in emcee's normalisation) used to make the ESS NaN. Independent
    draws have τ ≈ 1, so the ESS is about steps × moving walkers (here 200 × 9 = 1800;
    emcee's estimate of τ for white noise is within ±15% at this length)."""
    from oligosim.calibration.fit import _effective_sample_size

    rng = np.random.default_rng(3)
    chain = rng.standard_normal((200, 10, 2))
    chain[:, 0, :] = 0.25  # the stuck walker
    ess, tau = _effective_sample_size(chain)
    assert np.isfinite(ess).all()
    np.testing.assert_allclose(ess, 1800.0, rtol=0.15)
    np.testing.assert_allclose(ess, 1800.0 / np.maximum(tau, 1.0), rtol=1e-12)


def test_a_short_chain_logs_no_autocorrelation_warning(caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    """emcee logs one warning per parameter for a chain under 50 τ (every default run); the
    summary reports the chain's length in τ instead, so nothing is logged."""
    import logging

    from oligosim.calibration.fit import _effective_sample_size

    chain = np.cumsum(np.random.default_rng(4).standard_normal((20, 8, 3)), axis=0)
    with caplog.at_level(logging.WARNING):
        _ess, tau = _effective_sample_size(chain)
    assert not [r for r in caplog.records if "autocorrelation" in r.getMessage()]
    assert np.isfinite(tau).all()
    assert np.all(50 * tau > 20)  # short: emcee would warn
    assert logging.getLogger("emcee.autocorr").level == logging.NOTSET


def test_steps_over_tau_ignores_missing_and_zero_estimates() -> None:
    from oligosim.calibration.fit import _steps_over_tau

    assert _steps_over_tau(20, np.array([np.nan, 2.0, 4.0, 0.0])) == 5.0
    assert math.isnan(_steps_over_tau(20, np.array([np.nan, 0.0])))


def _draws_file(folder: Path, rows: int) -> tuple[Path, np.ndarray]:
    """A posterior_draws.csv of ``rows`` distinct points inside the priors, and their unit
    coordinates."""
    u = np.random.default_rng(5).uniform(0.1, 0.9, (rows, len(FREE_PARAMETERS)))
    frame = pd.DataFrame([{"draw": i, "log_likelihood": -1.0, **from_unit(x)}
                          for i, x in enumerate(u)])
    path = folder / "posterior_draws.csv"
    frame.to_csv(path, index=False)
    return path, u


def test_walkers_from_start_at_an_earlier_posterior(tmp_path: Path) -> None:
    """--generations 0 --start P --walkers-from CSV: no search (the point is P, evaluated
    once), and the walkers start at CSV rows spread evenly, first and last included."""
    from oligosim.calibration.fit import read_walkers

    path, u = _draws_file(tmp_path, 2 * len(FREE_PARAMETERS) + 9)
    start = {p.name: p.value(0.4) for p in FREE_PARAMETERS}
    # the stretch move, whose geometry (checked below) shows where the walkers started
    config = CalibrationConfig(**{**TINY.__dict__, "generations": 0, "start": start,
                                  "walkers_from": str(path), "moves": "stretch"})
    state = _state_after_first_report(tmp_path / "w.json", config)
    assert state["cma_log"] == []
    np.testing.assert_allclose(state["point"][1], 0.4, atol=1e-12)
    assert state["n_evaluations"] == 1 + 2 * TINY.walkers  # start, walkers, one step
    rows = np.linspace(0, len(u) - 1, TINY.walkers).round().astype(int)
    assert rows[0] == 0
    assert rows[-1] == len(u) - 1
    np.testing.assert_allclose(read_walkers(path, TINY.walkers), u[rows], atol=1e-9)
    # the chain started there: after one stretch move each walker is where it was or on
    # the line through where it was and another walker (Goodman & Weare; the half moved
    # second is stretched towards the first half's new positions)
    start_u, after = u[rows], state["mcmc"]["chain"][0]
    assert not np.array_equal(after, start_u)
    for k in range(TINY.walkers):
        if np.array_equal(after[k], start_u[k]):
            continue
        others = np.delete(np.vstack([start_u, after]), [k, TINY.walkers + k], axis=0)
        step, along = after[k] - others, start_u[k] - others
        cos = np.abs(np.sum(step * along, axis=1)) / (
            np.linalg.norm(step, axis=1) * np.linalg.norm(along, axis=1) + 1e-300)
        assert np.max(cos) == pytest.approx(1.0, abs=1e-9), k


def test_a_walker_that_beats_the_search_becomes_the_point(tmp_path: Path) -> None:
    """The point is the candidate (start and the chain's best distinct positions) with the
    best mean log-likelihood on the selection seeds: a start at a prior corner scores far
    below walkers started inside the cube, so the written point is a chain sample; its
    recorded log-likelihoods are the objective's on the fit seed and on each selection
    seed, and no other candidate beats it there."""
    path, _u = _draws_file(tmp_path, 2 * len(FREE_PARAMETERS) + 9)
    start = {p.name: p.value(0.01) for p in FREE_PARAMETERS}
    config = CalibrationConfig(**{**TINY.__dict__, "generations": 0, "start": start,
                                  "walkers_from": str(path), "point_candidates": 3})
    t0 = time.perf_counter()
    result = calibrate(tmp_path / "c.json", config, targets=SUBSET)
    call_seconds = time.perf_counter() - t0
    objective = Objective(TINY.n_patients, TINY.seed, targets=SUBSET)
    start_ll = objective(to_unit(to_parameters(np.full(len(FREE_PARAMETERS), 0.01))))
    s = result.summary
    assert s["point_source"].startswith("chain step ")
    assert result.point_log_likelihood > start_ll
    assert objective(result.point_unit) == pytest.approx(result.point_log_likelihood,
                                                         abs=1e-9)
    table = s["point_candidates"]
    assert table[0]["source"] == "search"
    assert len(table) == 1 + config.point_candidates
    chosen = [row for row in table if row["chosen"]]
    assert len(chosen) == 1
    assert chosen[0]["source"] == s["point_source"]
    assert chosen[0]["log_likelihood_fit_seed"] == result.point_log_likelihood
    means = [row["log_likelihood_selection_mean"] for row in table]
    assert chosen[0]["log_likelihood_selection_mean"] == max(means)
    assert s["point_log_likelihood_selection_seeds"] == max(means)
    for seed, ll in zip(config.selection_seeds,
                        chosen[0]["log_likelihood_selection_seeds"], strict=True):
        assert Objective(TINY.n_patients, seed, targets=SUBSET)(
            result.point_unit) == pytest.approx(ll, abs=1e-9)
    import pickle

    with (tmp_path / "c_calibration" / "checkpoint" / "state.pkl").open("rb") as fh:
        lp = np.asarray(pickle.load(fh)["mcmc"]["log_prob_chain"])
    # the chain's candidates are its highest positions on the fit seed, best first
    fit = [row["log_likelihood_fit_seed"] for row in table[1:]]
    assert fit[0] == lp.max()
    assert fit == sorted(fit, reverse=True)
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["summary"]["point_source"] == s["point_source"]
    # the search and chain's time plus the finish's make up the call (P6 reads both)
    assert 0.0 < s["finish_wall_seconds"] < call_seconds
    assert s["wall_seconds"] + s["finish_wall_seconds"] <= call_seconds
    # the width check measures drops from the fit seed's maximum, not from the point
    kept = lp[TINY.steps // 2:].reshape(-1)
    assert s["log_likelihood_drop"]["median_observed"] == pytest.approx(
        float(np.median(max(lp.max(), start_ll) - kept[np.isfinite(kept)])), abs=1e-9)


def _chain_state() -> dict[str, Any]:
    """A search point at u = 0.5 (log-likelihood -10) and a 2-step, 3-walker chain whose
    walker 2 never moves (the same position at both steps)."""
    u = np.full(3, 0.5)
    chain = [np.array([[0.1] * 3, [0.2] * 3, [0.3] * 3]),
             np.array([[0.4] * 3, [0.6] * 3, [0.3] * 3])]
    return {"point": (-10.0, u, None),
            "mcmc": {"log_prob_chain": [np.array([-12.0, -9.0, -8.0]),
                                        np.array([-11.0, -10.0, -8.0])],
                     "chain": chain, "values_chain": [np.zeros((3, 1)), np.ones((3, 1))]}}


def test_point_candidates_are_the_search_and_the_best_distinct_positions() -> None:
    from oligosim.calibration.fit import _point_candidates

    state = _chain_state()
    cands = _point_candidates(state, 2, 3)
    # walker 2's position (-8 at both steps) counts once, at the first step it was held
    assert [src for _, src in cands] == ["search", "chain step 1, walker 2",
                                        "chain step 1, walker 1", "chain step 2, walker 1"]
    assert [c[0] for c, _ in cands] == [-10.0, -8.0, -9.0, -10.0]
    np.testing.assert_array_equal(cands[1][0][1], np.full(3, 0.3))
    assert [src for _, src in _point_candidates(state, 2, 1)] == ["search",
                                                                   "chain step 1, walker 2"]
    assert [src for _, src in _point_candidates(state, 2, 0)] == ["search"]
    # steps beyond those asked for are not seen
    state["mcmc"]["log_prob_chain"][1][0] = -1.0
    assert "chain step 2, walker 0" not in [src for _, src in _point_candidates(state, 1, 5)]
    assert _point_candidates(state, 2, 5)[1][1] == "chain step 2, walker 0"


def test_the_point_is_chosen_on_the_selection_seeds_not_the_fit_seed() -> None:
    """The fit seed's best loses to a candidate that is better on the selection seeds; a
    tie keeps the earlier candidate (the search's estimate first)."""
    from oligosim.calibration.fit import _choose_point, _point_candidates

    state = _chain_state()
    cands = _point_candidates(state, 2, 3)
    fresh = {0.5: [-11.0, -13.0], 0.3: [-14.0, -13.0], 0.2: [-12.0, -11.0],
             0.6: [-20.0, -20.0]}
    point, source, table = _choose_point(cands, lambda u: fresh[round(float(u[0]), 1)])
    assert source == "chain step 1, walker 1"  # mean -11.5, though -9 on the fit seed
    assert point[0] == -9.0
    assert [r["chosen"] for r in table] == [False, False, True, False]
    assert [r["log_likelihood_selection_mean"] for r in table] == [-12.0, -13.5, -11.5,
                                                                    -20.0]
    fresh[0.2] = [-12.0, -12.0]  # tie with the search's estimate: the search stands
    assert _choose_point(cands, lambda u: fresh[round(float(u[0]), 1)])[1] == "search"


def test_bad_walkers_file_and_search_free_run_are_named(tmp_path: Path) -> None:
    from oligosim.calibration.fit import read_walkers

    with pytest.raises(OligosimInputError, match="not found") as err:
        read_walkers(tmp_path / "none.csv", 56)
    assert "none.csv" in str(err.value)
    path, _u = _draws_file(tmp_path, 10)
    with pytest.raises(OligosimInputError, match="fewer rows") as err:
        read_walkers(path, 56)
    assert ">= 56" in str(err.value)
    frame = pd.read_csv(path)
    frame.drop(columns=["occult_mu0"]).to_csv(tmp_path / "cols.csv", index=False)
    with pytest.raises(OligosimInputError, match="columns") as err:
        read_walkers(tmp_path / "cols.csv", 4)
    assert "occult_mu0" in str(err.value)
    frame.loc[3, "occult_mu0"] = 99.0
    frame.to_csv(tmp_path / "prior.csv", index=False)
    with pytest.raises(OligosimInputError, match="outside the prior") as err:
        read_walkers(tmp_path / "prior.csv", 4)
    assert "occult_mu0" in str(err.value)
    assert "99" in str(err.value)
    frame["occult_mu0"] = frame["occult_mu0"].astype(object)
    frame.loc[2, "occult_mu0"] = "abc"
    frame.to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(OligosimInputError, match="outside the prior") as err:
        read_walkers(tmp_path / "text.csv", 4)
    assert "abc" in str(err.value)
    no_start = CalibrationConfig(**{**TINY.__dict__, "generations": 0})
    with pytest.raises(OligosimInputError, match="generations") as err:
        no_start.check()
    assert "0 only with a start" in str(err.value)
    # the CLI reports a bad walkers file in one line, before any evaluation
    assert main(["calibrate", "--out", str(tmp_path / "x.json"), "--walkers-from",
                 str(tmp_path / "prior.csv")]) == 2


@pytest.mark.parametrize("c", [1.0, 0.5])
def test_width_check_recovers_the_spread_of_a_normal_sample(c: float) -> None:
    """Draws of spread c × a 28-dimensional normal posterior (log-likelihood -|x|²/2, maximum
    0): the implied width factor is c. With 20,000 draws the median drop's standard error
    is 1 / (2 f(m) √n) ≈ 0.033 on 13.7 (f: the χ²_28/2 density at its median, ≈ 0.107), so
    the factor's relative error is about 0.12%; the bound is 5 of those."""
    from oligosim.calibration.fit import _width_check

    x = c * np.random.default_rng(11).standard_normal((20_000, 28))
    out = _width_check(0.0, -0.5 * np.sum(x * x, axis=1), 28)
    assert out["median_expected_if_stationary"] == pytest.approx(13.67, abs=0.01)
    assert out["implied_width_factor"] == pytest.approx(c, rel=0.006)


def test_sd_ratio_by_window_traces_a_widening_chain_then_a_flat_one() -> None:
    """A chain whose spread in unit coordinates is set exactly per window: the trace returns
    those spreads over the prior sd (1/sqrt 12), drops a last partial window, and numbers
    windows by their first step (1-based). Exact construction, so the tolerance is rounding."""
    from oligosim.calibration.fit import sd_ratio_by_window

    walkers, d, w = 8, 3, 5
    z = np.random.default_rng(3).standard_normal((w * walkers, d))
    z = (z - z.mean(axis=0)) / z.std(axis=0)          # exactly mean 0, sd 1 per parameter
    spreads = [0.05, 0.10, 0.15, 0.15, 0.15]
    chain = np.concatenate([0.5 + s * z.reshape(w, walkers, d) for s in spreads]
                           + [np.full((2, walkers, d), 0.5)])   # a partial last window
    out = sd_ratio_by_window(chain, window=w)
    assert out["window_steps"] == w
    assert out["first_step"] == [1, 6, 11, 16, 21]
    np.testing.assert_allclose(out["median_ratio"], np.array(spreads) * math.sqrt(12.0),
                               rtol=1e-12)
    # default window: 40 steps, or a quarter of a shorter chain
    assert sd_ratio_by_window(np.zeros((400, walkers, d)))["window_steps"] == 40
    assert sd_ratio_by_window(np.zeros((27, walkers, d)))["window_steps"] == 6
    assert sd_ratio_by_window(np.zeros((2, walkers, d)))["window_steps"] == 1


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_exit_when_calibrate_is_killed(tmp_path: Path) -> None:
    """SIGKILL `oligosim calibrate --workers 2` once its workers have scored a generation:
    the workers notice their parent is gone and exit (they used to stay, idle, each holding
    a compiled model)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    cmd = [sys.executable, "-m", "oligosim.cli", "calibrate", "--out", str(tmp_path / "k.json"),
           "--patients", "12", "--generations", "50", "--popsize", "4", "--workers", "2",
           "--targets", str(_subset_file(tmp_path))]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "k_calibration" / "checkpoint" / "state.pkl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and not state.exists():
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert proc.poll() is None, "the run finished before it could be killed"
    assert len(workers) >= 2  # the two workers (and possibly multiprocessing's tracker)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {w for w in alive if Path(f"/proc/{w}").exists()
                 and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1][:3]}
    assert not alive, f"workers {sorted(alive)} outlived the killed calibration"


def test_checkpoints_carry_the_wall_time_so_far(tmp_path: Path) -> None:
    """A run killed outright (SIGKILL: no clean-up) must not lose its wall time: every
    checkpoint holds the seconds elapsed so far, summed over resumed sessions."""
    import pickle
    import time

    state_file = tmp_path / "t_calibration" / "checkpoint" / "state.pkl"
    seen: list[float] = []

    def slow(stage: str, done: int, _t: int, _b: float) -> None:
        with state_file.open("rb") as fh:
            seen.append(pickle.load(fh)["elapsed"])
        time.sleep(0.3)
        if done == 2:
            raise _StopError

    with pytest.raises(_StopError):
        calibrate(tmp_path / "t.json", TINY, targets=SUBSET, progress=slow)
    assert seen[1] >= seen[0] + 0.3  # the first report's pause is in the second checkpoint
    with pytest.raises(_StopError):
        calibrate(tmp_path / "t.json", TINY, targets=SUBSET, resume=True, progress=slow)
    with state_file.open("rb") as fh:
        assert pickle.load(fh)["elapsed"] >= seen[1] + 0.3 * 2


def test_the_shipped_last_ensemble_restarts_the_chain() -> None:
    """The package ships the shipped chain's last walkers (walkers.csv), one per walker of
    the default configuration, inside the priors: --walkers-from continues from them."""
    from importlib import resources

    from oligosim.calibration.fit import read_walkers

    path = resources.files("oligosim") / "data" / "calibration" / "walkers.csv"
    frame = pd.read_csv(str(path))
    assert len(frame) == CalibrationConfig().walkers
    coords = read_walkers(str(path), CalibrationConfig().walkers)
    assert coords.shape == (CalibrationConfig().walkers, len(FREE_PARAMETERS))
    assert len(np.unique(coords, axis=0)) == len(frame)  # every walker, none repeated
