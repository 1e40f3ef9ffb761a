"""Between-patient growth spread and the outputs added for the FLAURA CNS and DoR targets.

``growth_patient_sdlog`` = s gives each patient the untreated growth rate g0·exp(s·Z),
Z ~ N(0, 1) (DESIGN §2.4 g0 per patient; the assumption is named in params/defaults.py).
``response_months`` is the first first-line scan read as CR or PR; ``cns_at_baseline`` says
whether a brain metastasis was visible on the baseline scan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import oligosim
from tests.conftest import assert_standard_log_normal, tki_alone_patients

N = 2000
G0 = oligosim.literature_parameters()["growth_untreated_per_month"]
BASELINE = ["age_years", "female", "subtype", "n_visible_baseline", "n_organs_baseline",
            "n_occult_baseline", "cns_at_baseline"]


def _patients(sdlog: float, n: int = N, **population: object) -> pd.DataFrame:
    return tki_alone_patients({"growth_untreated_per_month": G0, "growth_patient_sdlog": sdlog},
                              n, 11, dict(population))


@pytest.fixture(scope="module")
def homogeneous() -> pd.DataFrame:
    return _patients(0.0)


@pytest.fixture(scope="module")
def spread() -> pd.DataFrame:
    return _patients(0.6)


def test_no_spread_gives_every_patient_g0(homogeneous: pd.DataFrame) -> None:
    assert (homogeneous["growth_per_month"] == G0).all()


def test_log_growth_is_normal_with_the_given_sd(spread: pd.DataFrame) -> None:
    """Mean of ln(g/g0) is 0 and its sd 0.6, each within 4 Monte Carlo SE
    (SE of the mean s/√n = 0.013; of the sd ≈ s/√(2n) = 0.0095)."""
    assert_standard_log_normal(np.log(spread["growth_per_month"].to_numpy() / G0), 0.6)


def test_spread_does_not_move_the_other_baseline_draws(homogeneous: pd.DataFrame,
                                                       spread: pd.DataFrame) -> None:
    """Common random numbers: the same patients whatever the spread."""
    pd.testing.assert_frame_equal(homogeneous[BASELINE], spread[BASELINE])


def test_faster_growers_progress_sooner(spread: pd.DataFrame) -> None:
    """The spread reaches the dynamics: PFS falls with the patient's growth rate
    (Spearman correlation clearly negative; its SE at n = 2000 is ≈ 0.022)."""
    rho = spread["growth_per_month"].corr(spread["pfs_months"], method="spearman")
    assert rho < -0.2


def test_response_time_is_set_exactly_for_responders(spread: pd.DataFrame) -> None:
    responded = spread["best_response"].isin(["CR", "PR"])
    assert responded.any()
    assert (~responded).any()
    assert spread.loc[responded, "response_months"].notna().all()
    assert spread.loc[~responded, "response_months"].isna().all()
    r = spread.loc[responded]
    assert (r["response_months"] > 0.0).all()
    assert (r["response_months"] <= r["pfs_months"]).all()


def test_cns_at_baseline_follows_brain_eligibility() -> None:
    with_brain = _patients(0.0, n=400)
    without = _patients(0.0, n=400, allow_brain=False)
    assert with_brain["cns_at_baseline"].any()
    assert not without["cns_at_baseline"].any()
