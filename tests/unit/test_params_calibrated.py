"""The shipped calibration: default_parameters(), posterior_draws() (issue 5, DESIGN §4, §5.3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import oligosim
from oligosim.calibration.free import FREE_PARAMETERS
from oligosim.errors import ParameterError
from oligosim.params import (
    SPECS,
    load_parameter_file,
    shipped_calibration,
    shipped_calibration_table,
)

FREE = {p.name: p for p in FREE_PARAMETERS}


def test_default_parameters_are_the_shipped_calibrated_point() -> None:
    doc = shipped_calibration()
    assert doc is not None, "the package ships a calibration"
    ps = oligosim.default_parameters()
    lit = oligosim.literature_parameters()
    assert set(doc["free_parameters"]) == set(FREE)
    for name in SPECS:
        if name in FREE:
            assert ps[name] == doc["free_parameters"][name]["value"]
            assert FREE[name].lo <= ps[name] <= FREE[name].hi
            assert ps.sources()[name].startswith("calibrated by oligosim calibrate")
        else:
            assert ps[name] == lit[name], name
            assert ps.sources()[name] == lit.sources()[name]
    assert ps.name.startswith("calibrated-")


def test_runs_use_the_calibrated_point_by_default() -> None:
    sc = oligosim.load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "trials"
                                / "flaura.toml")
    res = oligosim.run_scenario(sc, n_patients=20, seed=1, jobs=1)
    assert res.parameters.name == oligosim.default_parameters().name


def test_posterior_draws_ship_at_least_200_draws_inside_the_priors() -> None:
    draws = oligosim.posterior_draws()
    assert len(draws) >= 200
    assert draws["draw"].is_unique
    assert np.isfinite(draws["log_likelihood"]).all()
    for name, p in FREE.items():
        assert draws[name].between(p.lo, p.hi).all(), name
    # the draws are not all the same point: the posterior has spread in every parameter
    assert (draws[list(FREE)].std() > 0).all()


def test_shipped_tables_cover_every_target() -> None:
    from oligosim.calibration.targets import load_targets

    ids = [t.id for t in load_targets()]
    for name in ("report", "predictive"):
        assert list(shipped_calibration_table(name)["target_id"]) == ids
    with pytest.raises(ParameterError, match="unknown calibration table"):
        shipped_calibration_table("bogus")


def test_parameter_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="not found"):
        load_parameter_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"free_parameters": {}}))
    with pytest.raises(ParameterError, match=r"bad\.json") as err:
        load_parameter_file(bad)
    assert "created" in str(err.value)
    out_of_range = tmp_path / "oor.json"
    doc = shipped_calibration()
    doc["free_parameters"]["occult_mu0"]["value"] = -1.0
    out_of_range.write_text(json.dumps(doc))
    with pytest.raises(ParameterError, match="occult_mu0"):
        load_parameter_file(out_of_range)


@pytest.mark.parametrize(("edit", "field"), [
    (lambda f: f.update(bogus_rate={"value": 1.0}), "free_parameters.bogus_rate"),
    (lambda f: f["occult_mu0"].pop("value"), "free_parameters.occult_mu0.value"),
    (lambda f: f["occult_mu0"].update(value="high"), "free_parameters.occult_mu0.value"),
    (lambda f: f["occult_mu0"].update(value=float("nan")), "free_parameters.occult_mu0.value"),
])
def test_parameter_file_entry_errors_name_file_and_field(tmp_path: Path, edit, field) -> None:
    doc = shipped_calibration()
    edit(doc["free_parameters"])
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ParameterError, match=r"edited\.json") as err:
        load_parameter_file(path)
    assert field in str(err.value)


def test_parameter_file_without_prior_records_still_loads(tmp_path: Path) -> None:
    """A hand-edited start file (``calibrate --start``) may give only values."""
    doc = shipped_calibration()
    doc["free_parameters"] = {k: {"value": v["value"]}
                              for k, v in doc["free_parameters"].items()}
    path = tmp_path / "values_only.json"
    path.write_text(json.dumps(doc))
    ps = load_parameter_file(path)
    assert ps["occult_mu0"] == doc["free_parameters"]["occult_mu0"]["value"]
    assert "not recorded" in ps.sources()["occult_mu0"]
