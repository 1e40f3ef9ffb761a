"""Cancer-death hazard of shrinking disease (``death_regressing_factor`` = φ, DESIGN §2.5).

A population with a negative net rate contributes φ·κ·w·N to the death hazard (named
ASSUMPTION in params/defaults.py; φ = 1 is §2.5 as written). The test patient has one
lesion, a 35 mm primary, and nothing else: no metastases, no occult lesions, no resistance,
no seeding, one growth rate and one TKI effect. On osimertinib its cells shrink at
r = g0 − (g0 + δ) = −δ (lung penetration and exon19del sensitivity are 1), so the cumulative
cancer-death hazard over the whole decline is Λ = φ·κ·w·N0/(10^12·δ) and
P(cancer death) = 1 − exp(−Λ), whatever φ does to the timing. The patients are 40, so
background deaths (which compete) are ~0.02% over the months in which the cancer deaths
happen; the tolerance is 4 binomial standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import oligosim
from tests.conftest import make_scenario

N = 4000
KAPPA = 20.0
KILL = 1.0
DIAMETER_MM = 35.0
RHO = 1e9
N0 = math.pi / 6.0 * (DIAMETER_MM / 10.0) ** 3 * RHO
SOLO_PRIMARY = {
    "growth_untreated_per_month": 0.3, "growth_patient_sdlog": 0.0,
    "tki_sensitivity_patient_sdlog": 0.0,
    "death_kappa_per_month": KAPPA, "kill_rate_osimertinib_per_month": KILL,
    "primary_diameter_median_mm": DIAMETER_MM, "primary_diameter_sdlog": 0.0,
    "cells_per_cm3": RHO, "p_thoracic_node": 0.0, "occult_mu0": 0.0, "occult_mu1": 0.0,
    "seeding_rate_per_cell_month": 0.0, "mutation_rate_t790m": 0.0,
    "mutation_rate_c797s": 0.0, "mutation_rate_bypass": 0.0, "mutation_rate_transformed": 0.0,
    "age_mean_years": 40.0, "age_sd_years": 1.0,
}


def _patients(phi: float, engine: str = "numba", n: int = N) -> pd.DataFrame:
    sc = make_scenario([{"name": "tki_alone", "tki": "osimertinib"}], n_patients=n, seed=5,
                       parameters={**SOLO_PRIMARY, "death_regressing_factor": phi},
                       population={"met_count_pmf": [1.0], "max_mets": 0,
                                   "subtype": {"exon19del": 1.0, "l858r": 0.0,
                                               "uncommon": 0.0}})
    return oligosim.run_scenario(sc, jobs=2, economics=False, engine=engine).patients


@pytest.mark.parametrize("phi", [1.0, 0.25])
def test_cancer_deaths_of_a_shrinking_tumour_match_the_closed_form(phi: float) -> None:
    p = _patients(phi)
    observed = (p["death_cause"] == "cancer").mean()
    expected = 1.0 - math.exp(-phi * KAPPA * N0 / 1e12 / KILL)
    se = math.sqrt(expected * (1.0 - expected) / N)
    assert abs(observed - expected) < 4.0 * se, (observed, expected)


def test_no_cancer_death_from_disease_that_only_shrinks() -> None:
    p = _patients(0.0)
    assert (p["death_cause"] != "cancer").all()


def test_the_factor_does_not_move_other_draws() -> None:
    """Common random numbers: baseline columns identical whatever φ."""
    cols = ["age_years", "female", "n_visible_baseline", "n_occult_baseline",
            "growth_per_month"]
    pd.testing.assert_frame_equal(_patients(1.0, n=500)[cols], _patients(0.25, n=500)[cols])


def test_reference_engine_agrees() -> None:
    """The reference engine applies the same factor: identical death times and causes."""
    fast = _patients(0.25, n=300)
    ref = _patients(0.25, engine="reference", n=300)
    assert (fast["death_cause"].to_numpy() == ref["death_cause"].to_numpy()).all()
    np.testing.assert_allclose(fast["os_months"], ref["os_months"], rtol=0, atol=1e-9)
