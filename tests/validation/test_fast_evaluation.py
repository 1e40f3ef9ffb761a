"""Calibration's inner loop computes exactly what the patients table gives (DESIGN.md §4, §7 P6).

``evaluate_targets(..., fast=True)`` skips the patients table: it decodes the kernel's raw
outputs into numpy columns (``output_arrays``) and simulates only the strategies the targets
read (``simulate_outputs(strategies=...)``). Both shortcuts must leave every number unchanged:
the same model value for every target as ``model_value`` on ``run_scenario``'s table, and the
same rows for a strategy simulated alone as within the whole scenario.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from oligosim.calibration.targets import by_scenario, load_targets
from oligosim.calibration.validate import (
    _USED_COLUMNS,
    evaluate_targets,
    load_trial_scenarios,
    model_value,
)
from oligosim.errors import OligosimInputError
from oligosim.outcomes.patients import output_arrays, patients_frame
from oligosim.params import default_parameters
from oligosim.runner import run_scenario, simulate_outputs

TARGETS = load_targets()
SCENARIOS = load_trial_scenarios(TARGETS)
N, SEED = 120, 20261207


def test_fast_report_equals_model_value_on_the_patients_table() -> None:
    """Every target's model value, interval and status: bit-identical (NaN where NaN)."""
    params = default_parameters()
    report = evaluate_targets(TARGETS, SCENARIOS, params, N, SEED, jobs=1, fast=True)
    by_id = report.set_index("target_id")
    compared = 0
    for file, group in by_scenario(TARGETS).items():
        results = run_scenario(SCENARIOS[file], N, SEED, jobs=1, parameters=params)
        for t in group:
            mv = model_value(t, results, fast=True)
            row = by_id.loc[t.id]
            for got, want in ((row["model"], mv.value), (row["model_lo"], mv.lo),
                              (row["model_hi"], mv.hi)):
                assert (math.isnan(got) and math.isnan(want)) or got == want, t.id
            assert row["status"] == mv.status, t.id
            compared += 1
    assert compared >= 60  # the trial targets, not an empty loop


def test_a_strategy_simulated_alone_has_the_rows_it_has_in_the_scenario() -> None:
    """ATOM's targets read one arm; simulating only it gives that arm's rows unchanged."""
    atom = SCENARIOS["atom.toml"]
    _, everything = simulate_outputs(atom, N, SEED, jobs=1)
    _, alone = simulate_outputs(atom, N, SEED, jobs=1, strategies={"consolidative_sabr"})
    assert set(everything) == {s.name for s in atom.strategy}
    assert set(alone) == {"consolidative_sabr"}
    np.testing.assert_array_equal(alone["consolidative_sabr"],
                                  everything["consolidative_sabr"])


def test_simulate_outputs_names_an_unknown_strategy() -> None:
    with pytest.raises(OligosimInputError) as err:
        simulate_outputs(SCENARIOS["atom.toml"], 5, SEED, jobs=1, strategies=["nope"])
    msg = str(err.value)
    assert "strategies" in msg
    assert "nope" in msg
    assert "consolidative_sabr" in msg


def test_output_arrays_decode_as_the_patients_table_does() -> None:
    """Labels, booleans, counts and floats equal the table's; a missing cns_response is
    NaN."""
    _, outputs = simulate_outputs(SCENARIOS["flaura.toml"], N, SEED, jobs=1)
    out = outputs["osimertinib"]
    ids = np.arange(out.shape[0])
    frame = patients_frame(out, ids, "osimertinib")
    arrays = output_arrays(out, ids, _USED_COLUMNS)
    assert set(arrays) == set(_USED_COLUMNS)
    for col in _USED_COLUMNS:
        x, s = arrays[col], frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            assert list(x) == list(s.astype(str)), col
        elif isinstance(s.dtype, pd.BooleanDtype):
            assert np.array_equal(np.isnan(x), s.isna().to_numpy()), col
            assert list(x[~np.isnan(x)] == 1.0) == list(s.dropna().astype(bool)), col
        else:
            np.testing.assert_array_equal(x, s.to_numpy(), err_msg=col)
            assert x.dtype == s.dtype, col
    assert np.isnan(arrays["cns_response"]).any()  # patients without a brain lesion
