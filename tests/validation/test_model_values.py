"""Exact tests of how validate computes a target's model value (oligosim.calibration.validate).

A five-patient, two-arm patients table written by hand, so every cohort, time origin and
share can be checked with pencil and paper: ATOM-style cohorts (1..4 residual lesions at the
scan nearest 3 months, times from that scan), CURB-style cohorts (oligo-progression as judged
by the LAT arm, times from the first progression, "PFS" = the next progression on any line),
resistance shares among first progressions, and the not-computable endpoints.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from oligosim.calibration.targets import ENDPOINTS, Target, derive_sd
from oligosim.calibration.validate import _scan_nearest, _times, model_value
from oligosim.errors import OligosimInputError
from oligosim.params import default_parameters
from oligosim.runner import Results
from tests.conftest import make_scenario

#: The scan nearest 3 months on the default schedule (every 6 weeks): week 12 = 84 days.
SCAN_12_WEEKS = 84.0 / 30.4375

ARMS = ["tki_alone", "lat"]
NAN = math.nan


def _patients() -> pd.DataFrame:
    """Five patients per arm; the arms differ only after the first progression (CRN)."""
    common = {
        "patient_id": [0, 1, 2, 3, 4],
        "pfs_months": [10.0, 12.0, 8.0, 30.0, 6.0],
        "pfs_event": [1, 1, 1, 1, 1],
        "os_months": [40.0, 45.0, 20.0, 50.0, 30.0],
        "os_event": [1, 1, 1, 1, 1],
        "first_pd_pattern": ["existing_only", "new_only", "both", "none", "existing_only"],
        "oligo_pd_at_first_pd": [True, True, False, False, True],
        "n_progressing_at_first_pd": [1, 2, 7, 0, 1],
        "n_visible_at_consolidation": [3.0, NAN, 6.0, 1.0, 4.0],
        "resistance_at_first_pd": ["t790m", "t790m", "sensitive", "none", "bypass"],
        "best_response": ["CR", "PR", "SD", "PD", "PR"],
        "death_cause": ["cancer", "treatment", "cancer", "background", "cancer"],
        "second_line": ["osimertinib", "platinum_pemetrexed", "osimertinib",
                        "not_reached", "best_supportive_care"],
        "cns_progression": [False, True, False, False, False],
        "cns_at_baseline": [True, True, False, False, False],
        "cns_new_lesion_at_first_pd": [False, True, False, False, False],
        "cns_response": pd.array([True, False, None, None, None], dtype="boolean"),
        "response_months": [2.0, 3.0, NAN, NAN, 1.5],
        "n_grade3_toxicity": [0, 0, 1, 0, 0],
    }
    tki = pd.DataFrame({**common, "strategy": "tki_alone",
                        "ttd_months": [10.0, 12.0, 8.0, 30.0, 6.0], "ttd_event": 1,
                        "pfs2_months": [15.0, 20.0, 9.0, 30.0, 16.0], "pfs2_event": 1})
    lat = pd.DataFrame({**common, "strategy": "lat",
                        "ttd_months": [22.0, 15.0, 8.0, 30.0, 20.0], "ttd_event": 1,
                        "pfs2_months": [25.0, 22.0, 9.0, 30.0, 24.0], "pfs2_event": 1})
    return pd.concat([tki, lat], ignore_index=True)


@pytest.fixture(scope="module")
def results() -> Results:
    scenario = make_scenario([{"name": "tki_alone"},
                              {"name": "lat", "oligo_pd_lat": {"max_lesions": 5,
                                                               "max_courses": 1}}])
    return Results(scenario, ARMS, _patients(), seed=1, n_patients=5,
                   parameters=default_parameters())


def _target(**kw) -> Target:
    record = {"id": "t.x.y", "trial": "T", "citation": "C", "population": "P",
              "scenario": "s.toml", "arm": "tki_alone", "value": 0.5, "n": 10, "tag": "A",
              "weight": 1.0, "note": "n"}
    record.update(kw)
    t = Target.model_validate(record)
    sd, basis = derive_sd(t)
    return t.model_copy(update={"sd": sd, "sd_basis": basis})


_CURB = {"kind": "oligo_progression_at_first_pd", "min_lesions": 1, "max_lesions": 5,
         "defined_in": "lat"}
_ATOM = {"kind": "residual_at_consolidation", "min_lesions": 1, "max_lesions": 4}


def test_scan_nearest_three_months_is_week_12(results: Results) -> None:
    """Scans every 6 weeks: 1.38, 2.76, 4.14 months; the nearest to 3 is week 12."""
    assert _scan_nearest(results.scenario, "tki_alone", 3.0) == pytest.approx(SCAN_12_WEEKS)


def test_next_progression_after_first_pd() -> None:
    """From the first PD: TKI continued (LAT) -> its discontinuation; else PD on line 2."""
    rows = pd.DataFrame({"pfs_months": [10.0, 10.0], "ttd_months": [15.0, 10.0],
                         "ttd_event": [1, 0], "pfs2_months": [30.0, 18.0],
                         "pfs2_event": [0, 1]})
    t, e = _times(rows, "pfs", "first_pd", 0.0)
    np.testing.assert_allclose(t, [5.0, 8.0])
    np.testing.assert_array_equal(e, [1, 1])


def test_curb_cohort_medians_from_first_progression(results: Results) -> None:
    """Cohort = patients 0, 1, 4 (oligo, 1..5 lesions in the LAT arm), in both arms.

    SoC: PD on line 2 minus first PD = 5, 8, 10 -> median 8.
    LAT: TKI stop minus first PD = 12, 3, 14 -> median 12.
    """
    common = {"endpoint": "median_pfs_months", "value": 5.0, "cohort": _CURB,
              "time_origin": "first_pd"}
    soc = model_value(_target(**common), results)
    lat = model_value(_target(**common, arm="lat"), results)
    assert (soc.value, soc.status) == (8.0, "ok")
    assert lat.value == 12.0


def test_curb_cohort_hazard_ratio_is_computed_on_the_cohort(results: Results) -> None:
    """The HR compares the same three patients in both arms; LAT delays progression (HR<1)."""
    mv = model_value(_target(endpoint="hr_pfs", value=0.4, arm="lat", reference_arm="tki_alone",
                             cohort=_CURB, time_origin="first_pd", n=None, p_value=0.01),
                     results)
    assert mv.status == "ok"
    assert 0.0 < mv.value < 1.0


def test_atom_cohort_and_time_origin(results: Results) -> None:
    """Cohort = 1..4 residual lesions (patients 0, 3, 4); OS from week 12: median 40 − 2.76."""
    mv = model_value(_target(endpoint="median_os_months", value=40.0, cohort=_ATOM,
                             time_origin="consolidation_scan"), results)
    assert mv.value == pytest.approx(40.0 - SCAN_12_WEEKS)


def test_landmark_rate_from_the_consolidation_scan(results: Results) -> None:
    """PFS from week 12 in the ATOM cohort: 7.24, 27.24, 3.24 -> S(12) = 1/3."""
    mv = model_value(_target(endpoint="pfs_rate_at_months", at_months=12.0, cohort=_ATOM,
                             time_origin="consolidation_scan"), results)
    assert mv.value == pytest.approx(1.0 / 3.0)
    assert mv.lo < mv.value < mv.hi


@pytest.mark.parametrize(
    ("endpoint", "expected", "proxy"),
    [
        ("orr", 3 / 5, False),                            # CR, PR, PR of 5
        ("share_resistance_t790m", 2 / 4, False),         # among the 4 first progressions
        ("share_resistance_bypass", 1 / 4, True),         # bypass pools MET and HER2
        ("share_resistance_transformed", 0.0, False),
        ("treatment_death_share", 1 / 5, False),
        ("second_line_osimertinib_share", 2 / 5, False),
        ("cns_progression_share", 1 / 5, True),           # CNS at first PD only
        ("cns_new_lesion_progression_share", 1 / 5, True),  # new brain lesion at first PD
        ("cns_orr", 1 / 2, True),                         # of the 2 with brain lesions
        ("grade3_pneumonitis_share", 1 / 5, True),        # any grade-3 LAT toxicity
    ],
)
def test_shares(results: Results, endpoint: str, expected: float, proxy: bool) -> None:
    """Shares by hand, with a Wilson 95% interval around them; proxies are labelled."""
    mv = model_value(_target(endpoint=endpoint, value=0.5), results)
    assert mv.value == pytest.approx(expected)
    assert mv.lo <= mv.value <= mv.hi
    assert mv.status.startswith("proxy:") == proxy, mv.status


def test_baseline_cns_cohort_selects_patients_with_brain_metastases(results: Results) -> None:
    """The FLAURA CNS subgroup: patients 0 and 1 (one CNS progression of two)."""
    mv = model_value(_target(endpoint="cns_progression_share", value=0.2,
                             cohort={"kind": "baseline_cns"}), results)
    assert mv.value == pytest.approx(1 / 2)
    assert "baseline CNS status" not in mv.status
    assert "CNS involvement at the first RECIST progression" in mv.status


def test_duration_of_response_counts_responders_from_their_first_response(
        results: Results) -> None:
    """DoR: responders 0, 1, 4 (CR, PR, PR) progress 8, 9 and 4.5 months after their first
    response; the Kaplan-Meier median of three events is the second, 8."""
    mv = model_value(_target(endpoint="median_dor_months", value=8.5), results)
    assert mv.value == pytest.approx(8.0)
    assert mv.status == "ok"


@pytest.mark.parametrize("endpoint", ["share_resistance_her2_amplification",
                                      "grade3_trae_share"])
def test_not_computable_endpoints_give_nan_and_a_reason(results: Results,
                                                        endpoint: str) -> None:
    """Endpoints the engine cannot give yet are reported, not faked."""
    value = 10.0 if endpoint.startswith("median") else 0.5
    mv = model_value(_target(endpoint=endpoint, value=value), results)
    assert math.isnan(mv.value)
    assert mv.status.startswith("not computable: ")


def test_local_control_comes_from_the_closed_form_of_the_run_parameters(
        results: Results) -> None:
    """Local control is the engine's radiobiology in closed form at the run's parameters."""
    from oligosim.calibration.local_control import local_control_value

    t = _target(endpoint="local_control_at_months", value=0.85, at_months=12.0)
    t = t.model_copy(update={"site": "liver", "scenario": None})
    mv = model_value(t, results)
    assert mv.value == local_control_value(t, results.parameters)
    assert mv.lo == mv.hi == mv.value
    assert mv.status.startswith("proxy: closed-form radiobiology")


def test_unreached_median_reports_the_follow_up(results: Results) -> None:
    """A median beyond follow-up is NaN with status 'not reached' and the bound it exceeds."""
    p = results.patients.copy()
    p["os_event"] = 0
    res = Results(results.scenario, ARMS, p, 1, 5, results.parameters)
    mv = model_value(_target(endpoint="median_os_months", value=30.0), res)
    assert math.isnan(mv.value)
    assert mv.status.startswith("not reached")
    assert mv.bound == 50.0


@pytest.mark.parametrize("endpoint", ["median_pfs_months", "orr",
                                      "share_resistance_t790m", "cns_orr"])
def test_an_arm_without_patients_in_the_table_is_not_estimable(results: Results,
                                                               endpoint: str) -> None:
    """A strategy of the run with no rows in the table (a table cut to one arm): no
    simulated patient, so NaN with the 'not estimable' reason, not an error."""
    p = results.patients.loc[results.patients["strategy"] == "tki_alone"]
    res = Results(results.scenario, ARMS, p, 1, 5, results.parameters)
    mv = model_value(_target(endpoint=endpoint, value=0.5, arm="lat"), res)
    assert math.isnan(mv.value)
    assert mv.status.startswith("not estimable: no simulated patient"), mv.status


def test_unknown_arm_is_an_input_error(results: Results) -> None:
    """A target naming a strategy the scenario lacks is refused with the allowed names."""
    with pytest.raises(OligosimInputError, match="tki_alone, lat"):
        model_value(_target(endpoint="orr", arm="osimertinib"), results)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_endpoint_is_computed_or_declared_not_computable(results: Results,
                                                               endpoint: str) -> None:
    """No endpoint of the vocabulary falls through model_value."""
    kw: dict = {"endpoint": endpoint, "value": 10.0 if ENDPOINTS[endpoint] == "log" else 0.5}
    if endpoint.startswith("hr_"):
        kw.update(arm="lat", reference_arm="tki_alone", n=None, p_value=0.05)
    if endpoint.endswith("_at_months"):
        kw["at_months"] = 12.0
    mv = model_value(_target(**kw), results)
    assert mv.status.startswith(("ok", "proxy:", "not computable: ")), mv.status
