"""The engines' resource-use accumulators and their pricing (DESIGN.md §2.12)."""

from __future__ import annotations

import numpy as np
import pytest

import oligosim
from oligosim.engine._jit import MONTHS_PER_YEAR
from tests.conftest import make_scenario

STRATEGIES = [{"name": "tki"},
              {"name": "cons", "consolidative_lat": {"time_months": 3.0, "max_lesions": 4}},
              {"name": "opd", "oligo_pd_lat": {"max_lesions": 3}}]


@pytest.fixture(scope="module")
def results():
    """A small run of three strategies."""
    return oligosim.run_scenario(make_scenario(STRATEGIES, n_patients=300), jobs=2)


def test_state_times_add_up_to_survival(results):
    """Progression-free plus post-progression time, and the time on all regimens, equal OS."""
    use = results.resource_use
    os_months = results.patients["os_months"].to_numpy()
    pf_pp = (use["time_progression_free_months"] + use["time_post_progression_months"])
    drugs = use.filter(regex=r"^time_on_[a-z0-9_]+_months$").sum(axis=1)
    np.testing.assert_allclose(pf_pp, os_months, rtol=1e-12)
    np.testing.assert_allclose(drugs, os_months, rtol=1e-12)


def test_progression_free_time_is_pfs(results):
    """Time progression-free is the PFS time (first RECIST PD or death/censoring)."""
    np.testing.assert_allclose(results.resource_use["time_progression_free_months"],
                               results.patients["pfs_months"], rtol=1e-12)


def test_discounting_matches_closed_form(results):
    """Discounted life-years equal ∫ exp(−r t) dt over survival, r = ln(1.03)/12 per month."""
    r = np.log1p(0.03) / MONTHS_PER_YEAR
    os_months = results.patients["os_months"].to_numpy()
    expected = (1.0 - np.exp(-r * os_months)) / r / MONTHS_PER_YEAR
    np.testing.assert_allclose(results.patients["ly"], expected, rtol=1e-10)
    np.testing.assert_allclose(results.patients["ly_undiscounted"], os_months / 12.0,
                               rtol=1e-12)


def test_constant_utility_qaly_closed_form():
    """With utility u in both states and no toxicity, QALY = u·(1 − e^{−rT})/r per patient."""
    sc = make_scenario(STRATEGIES[:1], n_patients=100)
    econ = sc.economics.model_copy(update={"utilities": sc.economics.utilities.model_copy(
        update={"progression_free": 0.75, "post_progression": 0.75})})
    sc = sc.model_copy(update={"economics": econ})
    p = oligosim.run_scenario(sc, jobs=1).patients
    r = np.log1p(0.03)  # per year
    t_years = p["os_months"].to_numpy() / 12.0
    np.testing.assert_allclose(p["qaly"], 0.75 * (1.0 - np.exp(-r * t_years)) / r, rtol=1e-10)


def test_scans_and_courses_counted(results):
    """Undiscounted LAT counts equal the lesions ablated; every patient has a baseline scan."""
    use = results.resource_use
    lat = use[[f"n_lat_{m}" for m in ("sbrt", "srs", "conventional_rt", "surgery")]]
    lat = lat.sum(axis=1).to_numpy()
    np.testing.assert_array_equal(lat, results.patients["n_lesions_ablated"].to_numpy())
    assert (use["n_scans"] >= 1).all()
    np.testing.assert_array_equal(use["n_grade3_events"],
                                  results.patients["n_grade3_toxicity"])


def test_identical_strategies_zero_increment():
    """Two identically declared strategies have exactly zero incremental cost and QALY."""
    spec = {"consolidative_lat": {"time_months": 3.0, "max_lesions": 4}}
    r = oligosim.run_scenario(make_scenario([{"name": "a", **spec}, {"name": "b", **spec}],
                                            n_patients=150), jobs=2)
    p = r.patients
    a, b = p[p.strategy == "a"], p[p.strategy == "b"]
    assert (a["cost_usd"].to_numpy() - b["cost_usd"].to_numpy() == 0.0).all()
    assert (a["qaly"].to_numpy() - b["qaly"].to_numpy() == 0.0).all()
    inc = r.incremental()
    assert set(inc["status"]) == {"frontier"}
