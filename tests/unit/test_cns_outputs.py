"""CNS outputs for FLAURA's CNS targets: ``cns_response`` and ``cns_new_lesion_at_first_pd``.

``cns_response`` (ASSUMPTION standing in for CNS RECIST, engine/layout.py): missing without a
brain lesion on the baseline scan; True if the brain lesions seen at baseline sum to ≤ 70% of
their baseline diameter on a first-line scan before the first PD. ``cns_new_lesion_at_first_pd``:
a brain lesion not seen at baseline is among those progressing at the first PD.
"""

from __future__ import annotations

import pandas as pd
import pytest

import oligosim
from tests.conftest import make_scenario

N = 1500
# All-comers with brain metastases common; no measurement error, so "shrank by 30%" is true
# shrinkage, not noise.
POPULATION = {"met_count_pmf": [0.0, 0.3, 0.3, 0.4], "max_mets": 3,
              "met_organ_weights": {"lung_met": 0.2, "brain": 0.6, "liver": 0.2}}


def _patients(tki: str = "osimertinib", **parameters: float) -> pd.DataFrame:
    sc = make_scenario([{"name": tki, "tki": tki}], n_patients=N, seed=21,
                       parameters={"measurement_sd_mm": 0.0, **parameters},
                       population=POPULATION)
    return oligosim.run_scenario(sc, jobs=2, economics=False).patients


@pytest.fixture(scope="module")
def default() -> pd.DataFrame:
    """First-generation TKI: the brain is a sanctuary, so new brain lesions do progress."""
    return _patients("tki_1g")


def test_cns_response_is_missing_exactly_without_baseline_brain(default: pd.DataFrame) -> None:
    cns = default["cns_at_baseline"]
    assert cns.any()
    assert (~cns).any()
    assert default.loc[~cns, "cns_response"].isna().all()
    assert default.loc[cns, "cns_response"].notna().all()


def test_full_penetration_and_strong_kill_make_brain_lesions_respond() -> None:
    """Osimertinib at full brain penetration with a kill rate of 3/month shrinks every
    sensitive brain lesion ~10-fold in diameter by the first scan (6 weeks): every patient
    with a brain lesion who reaches that scan before a PD responds. No between-patient
    spread of TKI effect: with it a patient's kill rate can be a fraction of 3/month."""
    p = _patients(penetration_brain_osimertinib=1.0, kill_rate_osimertinib_per_month=3.0,
                  mutation_rate_c797s=0.0, mutation_rate_bypass=0.0,
                  mutation_rate_transformed=0.0, tki_sensitivity_patient_sdlog=0.0)
    reached = p["cns_at_baseline"] & (p["pfs_months"] > 1.5)
    assert reached.sum() > 300
    assert p.loc[reached, "cns_response"].all()


def test_a_sanctuary_gives_no_cns_response() -> None:
    """With no brain penetration the brain lesions grow from the first day: none shrinks."""
    p = _patients(penetration_brain_osimertinib=0.0)
    assert p["cns_at_baseline"].sum() > 300
    assert not p["cns_response"].dropna().any()


def test_new_cns_lesion_is_a_cns_progression_with_a_new_lesion(default: pd.DataFrame) -> None:
    new = default["cns_new_lesion_at_first_pd"]
    assert new.any()
    assert default.loc[new, "cns_progression"].all()
    assert default.loc[new, "first_pd_pattern"].isin(["new_only", "both"]).all()


def test_without_baseline_brain_every_cns_progression_is_new(default: pd.DataFrame) -> None:
    no_brain = default[~default["cns_at_baseline"]]
    assert no_brain["cns_progression"].any()
    pd.testing.assert_series_equal(no_brain["cns_progression"],
                                   no_brain["cns_new_lesion_at_first_pd"], check_names=False)
