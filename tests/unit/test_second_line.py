"""Second line after a first-generation TKI (DESIGN §2.9 and the ASSUMPTION in
``oligosim.reference.lines``): the T790M test reads the same clone as the mechanism recorded
at first progression."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import oligosim

REPO = Path(__file__).resolve().parents[2]
N = 3000


@pytest.fixture(scope="module")
def first_generation_arm():
    scenario = oligosim.load_scenario(REPO / "scenarios" / "trials" / "flaura.toml")
    results = oligosim.run_scenario(scenario, n_patients=N, seed=7, jobs=2)
    p = results.patients
    return p[p["strategy"] == "gefitinib_or_erlotinib"], results.parameters


def test_osimertinib_second_line_only_after_a_t790m_led_progression(first_generation_arm):
    arm, _ = first_generation_arm
    osi = arm[arm["second_line"].astype(str) == "osimertinib"]
    assert len(osi) > 100  # the check below is not vacuous
    assert (osi["resistance_at_first_pd"].astype(str) == "t790m").all()


def test_t790m_led_progressions_get_osimertinib_at_access_times_test_sensitivity(
        first_generation_arm):
    """Among T790M-led first progressions (FLAURA's comparator discontinues at its first
    progression), osimertinib follows with probability p_second_line × t790m_test_sensitivity
    (two independent uniforms). Binomial tolerance: 4 standard errors."""
    arm, params = first_generation_arm
    led = arm[arm["resistance_at_first_pd"].astype(str) == "t790m"]
    n = len(led)
    assert n > 500
    expected = params["p_second_line"] * params["t790m_test_sensitivity"]
    share = float(np.mean(led["second_line"].astype(str) == "osimertinib"))
    se = math.sqrt(expected * (1.0 - expected) / n)
    assert abs(share - expected) < 4.0 * se, (share, expected, se)
