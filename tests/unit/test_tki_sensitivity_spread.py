"""Between-patient spread of EGFR-TKI effect (ASSUMPTION ``tki_sensitivity_patient_sdlog``).

s = ``tki_sensitivity_patient_sdlog`` gives each patient the multiplier exp(s·Z), Z ~ N(0, 1),
on σ_subtype of every EGFR TKI (DESIGN §2.4); chemotherapy is untouched. The draw follows
the growth draw in the baseline stream and is made whatever s is, so the rest of the patient
is the same (common random numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oligosim.engine import _jit as J
from oligosim.reference.inputs import model_inputs
from oligosim.reference.tumour import clone_rate
from oligosim.scenario import compile_scenario
from tests.conftest import assert_standard_log_normal, make_scenario, tki_alone_patients

N = 2000
S = 0.6
SAME = ["age_years", "female", "subtype", "n_visible_baseline", "n_organs_baseline",
        "n_occult_baseline", "cns_at_baseline", "growth_per_month"]


def _patients(sdlog: float) -> pd.DataFrame:
    return tki_alone_patients({"growth_patient_sdlog": 0.3,
                               "tki_sensitivity_patient_sdlog": sdlog}, N, 23)


@pytest.fixture(scope="module")
def equal() -> pd.DataFrame:
    return _patients(0.0)


@pytest.fixture(scope="module")
def spread() -> pd.DataFrame:
    return _patients(S)


def test_no_spread_gives_every_patient_multiplier_one(equal: pd.DataFrame) -> None:
    assert (equal["tki_sensitivity"] == 1.0).all()


def test_log_multiplier_is_normal_with_the_given_sd(spread: pd.DataFrame) -> None:
    """Mean of ln(m) is 0 and its sd S, each within 4 Monte Carlo SE
    (SE of the mean S/√n = 0.013; of the sd ≈ S/√(2n) = 0.0095)."""
    assert_standard_log_normal(np.log(spread["tki_sensitivity"].to_numpy()), S)


def test_spread_does_not_move_the_other_baseline_draws(equal: pd.DataFrame,
                                                       spread: pd.DataFrame) -> None:
    """Common random numbers: the same patients, growth rates included, whatever s is."""
    pd.testing.assert_frame_equal(equal[SAME], spread[SAME])


def test_less_sensitive_patients_respond_less_and_progress_sooner(spread: pd.DataFrame) -> None:
    """The multiplier reaches the dynamics. Spearman correlations with PFS clearly positive
    (SE ≈ 1/√n = 0.022 at n = 2000), and the response rate of the least sensitive quarter
    below that of the most sensitive quarter by more than 4 SE of the difference
    (each proportion's SE ≤ 0.5/√500 = 0.022, so the difference's ≤ 0.032)."""
    rho = spread["tki_sensitivity"].corr(spread["pfs_months"], method="spearman")
    assert rho > 0.1
    q1, q3 = spread["tki_sensitivity"].quantile([0.25, 0.75])
    responded = spread["best_response"].isin(["CR", "PR"])
    low = responded[spread["tki_sensitivity"] <= q1].mean()
    high = responded[spread["tki_sensitivity"] >= q3].mean()
    assert high - low > 4 * 0.032


def test_multiplier_acts_on_egfr_tkis_only() -> None:
    """σ_subtype·m for gefitinib/erlotinib, afatinib and osimertinib; chemotherapy and the
    untreated rate do not depend on m."""
    cs = compile_scenario(make_scenario([{"name": "tki_alone"}],
                                        parameters={"tki_sensitivity_patient_sdlog": 0.5}))
    inputs = model_inputs(cs, 0)
    d, g = inputs.drugs, inputs.params.growth_untreated_per_month
    for drug in range(J.N_DRUGS):
        for m in (0.5, 2.0):
            got = clone_rate(inputs, J.CLONE_S, J.LUNG_MET, drug, 1, g, m)
            if drug in J.EGFR_TKIS:
                sigma = d.subtype_sigma[1][drug] * m
                want = g - (g + d.kill_rate[drug]) * d.penetration[J.LUNG_MET][drug] * sigma
                assert got == want
                assert got != clone_rate(inputs, J.CLONE_S, J.LUNG_MET, drug, 1, g, 1.0)
            else:
                assert got == clone_rate(inputs, J.CLONE_S, J.LUNG_MET, drug, 1, g, 1.0)
