"""Gompertz background mortality fitted to the US 2019 life table (NVSR 70(19))."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from oligosim.errors import ParameterError
from oligosim.params import background_mortality as bm

AGES_45_90 = np.arange(45, 91, dtype=float)

# Largest |Gompertz interval hazard / table mu(x) - 1| over ages 45-90, measured with the
# fitted literals: total 0.241, male 0.193, female 0.317, all at age 45 (the table's log
# hazard curves upward, so the straight line undershoots in midlife). The misfit is
# deterministic, not noise; the ~0.02 margin only absorbs a legitimate refit (e.g. a change
# in weighting precision). Anything larger means the table or the method changed.
MAX_REL_ERROR_45_90 = {"total": 0.26, "male": 0.21, "female": 0.34}


def test_table_has_every_age_40_to_95_for_each_sex() -> None:
    for sex in bm.SEXES:
        ages, q = bm.life_table_qx(sex)
        np.testing.assert_array_equal(ages, np.arange(40, 96))
        assert np.all((q > 0) & (q < 1))
        assert np.all(np.diff(q) > 0), f"{sex}: q(x) should rise with age over 40-95"


def test_table_spot_values_are_the_published_ones() -> None:
    """NVSR 70(19) Tables 1-3, q(65) and q(90)."""
    expected = {"total": (0.012621, 0.139038), "male": (0.016003, 0.160250),
                "female": (0.009573, 0.127590)}
    for sex, (q65, q90) in expected.items():
        ages, q = bm.life_table_qx(sex)
        assert q[ages == 65][0] == q65
        assert q[ages == 90][0] == q90


def test_literals_equal_a_refit_from_the_csv() -> None:
    for sex in bm.SEXES:
        refit = bm.fit_gompertz(sex)
        np.testing.assert_allclose(bm.GOMPERTZ_FIT[sex], refit, rtol=1e-6, atol=0)


def test_b_is_in_the_plausible_human_range() -> None:
    for sex in bm.SEXES:
        _, b_per_year = bm.GOMPERTZ_FIT[sex]
        assert 0.07 <= b_per_year <= 0.11, (sex, b_per_year)


@pytest.mark.parametrize("sex", ["total", "male", "female"])
def test_fit_reproduces_table_hazards_45_to_90(sex: str) -> None:
    ages, mu = bm.table_hazard_per_year(sex)
    in_range = (ages >= 45) & (ages <= 90)
    fitted = bm.gompertz_interval_hazard_per_year(ages[in_range], sex)
    rel_error = np.abs(fitted / mu[in_range] - 1.0)
    assert rel_error.max() <= MAX_REL_ERROR_45_90[sex], (sex, rel_error.max())


def test_female_hazard_below_male_at_every_age_45_to_90() -> None:
    female = bm.gompertz_hazard_per_year(AGES_45_90, "female")
    male = bm.gompertz_hazard_per_year(AGES_45_90, "male")
    assert np.all(female < male)
    # and the table itself says the same, so the ordering is not an artefact of the fit
    ages, q_female = bm.life_table_qx("female")
    _, q_male = bm.life_table_qx("male")
    in_range = (ages >= 45) & (ages <= 90)
    assert np.all(q_female[in_range] < q_male[in_range])


@pytest.mark.parametrize("sex", ["total", "male", "female"])
def test_life_expectancy_at_65_within_one_year_of_table(sex: str) -> None:
    # fit vs table: total 19.08 vs 19.6, male 17.69 vs 18.2, female 20.32 vs 20.8
    e65_fit = bm.gompertz_life_expectancy_years(65.0, sex)
    assert abs(e65_fit - bm.table_life_expectancy_65_years(sex)) < 1.0


@pytest.mark.parametrize("sex", ["male", "female"])
def test_closed_form_life_expectancy_matches_numeric_integration(sex: str) -> None:
    a, b = bm.GOMPERTZ_FIT[sex]
    h65 = a * np.exp(b * 65.0)

    def survival(t: float) -> float:
        return float(np.exp(-h65 / b * np.expm1(b * t)))

    numeric, _ = quad(survival, 0.0, 80.0, limit=200)  # S(80 years on) < 1e-20
    assert bm.gompertz_life_expectancy_years(65.0, sex) == pytest.approx(numeric, rel=1e-8)


def test_per_month_is_per_year_over_twelve() -> None:
    for sex in bm.SEXES:
        a, b = bm.GOMPERTZ_FIT[sex]
        assert bm.gompertz_hazard_per_month(70.0, sex) == pytest.approx(a * np.exp(b * 70) / 12)
        np.testing.assert_allclose(bm.gompertz_hazard_per_month(AGES_45_90, sex),
                                   bm.gompertz_hazard_per_year(AGES_45_90, sex) / 12.0)


def test_source_cites_the_report() -> None:
    assert "United States Life Tables, 2019" in bm.SOURCE
    assert "vol 70 no 19" in bm.SOURCE


def test_unknown_sex_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="sex"):
        bm.gompertz_hazard_per_month(60.0, "unknown")
    with pytest.raises(ParameterError):
        bm.fit_gompertz("M")
