"""Capacity-limited LAT pathway (reference engine only; DESIGN §3, issue 3).

Both directions: with unlimited slots and no tumour board every patient is exactly the patient
of the uncapacitated run; with demand above capacity courses wait and progression comes
earlier. Also the queue's mechanics, the tumour board, the schema and the fast engine's refusal.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydantic
import pytest

import oligosim
from oligosim.engine import layout as L
from oligosim.errors import OligosimInputError
from oligosim.reference import run_batch_reference, simulate_cohort_reference
from oligosim.reference.pathway import WEEK_MONTHS
from oligosim.scenario import CompiledScenario, compile_scenario, load_scenario
from oligosim.scenario.capacity import Capacity
from tests.conftest import make_scenario

REPO = Path(__file__).resolve().parents[2]
WEEKS_PER_MONTH = 1.0 / WEEK_MONTHS


@pytest.fixture(scope="module")
def main_compiled() -> CompiledScenario:
    return compile_scenario(load_scenario(REPO / "scenarios" / "main_comparison.toml"))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


@pytest.mark.parametrize("capacity", [Capacity(), Capacity(arrivals_per_month=10.0)],
                         ids=["all_at_month_0", "poisson_referrals"])
@pytest.mark.parametrize("strategy", ["upfront_lat_all", "consolidative_then_oligo_pd"])
def test_unlimited_capacity_reproduces_uncapacitated_run(main_compiled: CompiledScenario,
                                                         capacity: Capacity,
                                                         strategy: str) -> None:
    """No slot limit, no board: every output and accumulator bit-identical, no wait."""
    i = main_compiled.strategies.index(strategy)
    ids = np.arange(300, dtype=np.int64)
    free = run_batch_reference(main_compiled, i, ids, 20261126)
    cohort = simulate_cohort_reference(main_compiled, i, ids, 20261126, capacity)
    assert _same(cohort.outputs, free.outputs)
    assert _same(cohort.resource_use, free.resource_use)
    assert np.all(cohort.lat_wait_months == 0.0)


def test_demand_above_capacity_waits_and_loses_pfs(main_compiled: CompiledScenario) -> None:
    """Upfront LAT for ~90% of 10 referrals a month, 2 courses a week: queues and PFS loss.

    Statistical test: paired (same patients, common random numbers) one-sided z-test on the
    per-patient PFS difference capacity − unlimited; the loss must exceed 3 standard errors
    (false-alarm probability 0.13% if there were no loss). Seed fixed (the scenario's).
    """
    i = main_compiled.strategies.index("upfront_lat_all")
    n, seed = 1000, 20261126
    ids = np.arange(n, dtype=np.int64)
    capacity = Capacity(sbrt_slots_per_week=2, arrivals_per_month=10.0)
    free = run_batch_reference(main_compiled, i, ids, seed)
    limited = simulate_cohort_reference(main_compiled, i, ids, seed, capacity)
    demand = free.outputs[:, L.O_NLAT].mean() * capacity.arrivals_per_month
    supply = capacity.sbrt_slots_per_week * WEEKS_PER_MONTH
    assert demand > supply, f"demand {demand:.2f} courses/month is not above {supply:.2f}"
    assert limited.lat_wait_months.mean() > 0.0
    loss = limited.outputs[:, L.O_PFS] - free.outputs[:, L.O_PFS]
    se = loss.std(ddof=1) / math.sqrt(n)
    assert loss.mean() < -3.0 * se, (
        f"PFS change {loss.mean():.3f} months (SE {se:.3f}) is not below -3 SE; mean wait "
        f"{limited.lat_wait_months.mean():.3f} months")


def test_slots_are_first_come_first_served(main_compiled: CompiledScenario) -> None:
    """Everyone referred at month 0 with upfront LAT, 2 slots a week: the k-th eligible
    patient (in referral order) starts k // 2 weeks late."""
    i = main_compiled.strategies.index("upfront_lat_all")
    ids = np.arange(12, dtype=np.int64)
    free = run_batch_reference(main_compiled, i, ids, 20261126)
    limited = simulate_cohort_reference(main_compiled, i, ids, 20261126,
                                        Capacity(sbrt_slots_per_week=2))
    treated = np.flatnonzero(free.outputs[:, L.O_NLAT] > 0)
    expected = np.arange(len(treated)) // 2 * WEEK_MONTHS
    np.testing.assert_allclose(limited.lat_wait_months[treated], expected, atol=1e-9)
    assert np.all(limited.lat_wait_months[free.outputs[:, L.O_NLAT] == 0] == 0.0)


def test_tumour_board_delays_each_course_by_less_than_its_interval(
        main_compiled: CompiledScenario) -> None:
    """A board every 2 weeks, unlimited slots: each course waits in [0, 2 weeks]."""
    i = main_compiled.strategies.index("consolidative_then_oligo_pd")
    ids = np.arange(300, dtype=np.int64)
    capacity = Capacity(tumour_board_interval_weeks=2.0, arrivals_per_month=10.0)
    cohort = simulate_cohort_reference(main_compiled, i, ids, 7, capacity)
    courses = cohort.outputs[:, L.O_NLAT]
    wait = cohort.lat_wait_months
    assert wait.mean() > 0.0
    assert np.all(wait >= 0.0)
    # a course still waiting at death adds at most one more interval
    assert np.all(wait <= (courses + 1) * 2.0 * WEEK_MONTHS + 1e-9)


def test_run_scenario_reference_with_capacity_adds_columns(six_strategies: list[dict]) -> None:
    """run_scenario(engine='reference', capacity=...) reports waits and referral months."""
    sc = make_scenario(six_strategies[:2], n_patients=40)
    res = oligosim.run_scenario(sc, engine="reference",
                                capacity=Capacity(sbrt_slots_per_week=1, arrivals_per_month=20.0))
    p = res.patients
    assert {"lat_wait_months", "arrival_months"} <= set(p.columns)
    upfront = p[p["strategy"] == "upfront_lat_all"]
    assert upfront["lat_wait_months"].mean() > 0.0
    assert np.all(np.diff(upfront["arrival_months"].to_numpy()) > 0.0)


def test_fast_engine_refuses_capacity(six_strategies: list[dict]) -> None:
    """Asking the numba engine for a capacity-limited pathway names the field."""
    sc = make_scenario(six_strategies[:1], n_patients=10)
    with pytest.raises(OligosimInputError, match="capacity") as err:
        oligosim.run_scenario(sc, engine="numba", capacity=Capacity(sbrt_slots_per_week=3))
    assert err.value.field == "capacity"


@pytest.mark.parametrize("bad", [{"sbrt_slots_per_week": 0}, {"sbrt_slots_per_week": 1.5},
                                 {"tumour_board_interval_weeks": 0.0},
                                 {"arrivals_per_month": -1.0}, {"slots": 3}])
def test_capacity_schema_rejects_bad_values(bad: dict) -> None:
    """Out-of-range values, floats for integers and unknown keys are errors."""
    with pytest.raises(pydantic.ValidationError):
        Capacity(**bad)
