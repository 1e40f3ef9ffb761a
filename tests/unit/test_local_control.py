"""Closed-form local control against a Monte Carlo of the engine's own radiobiology."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from oligosim.calibration.local_control import local_control, local_control_value
from oligosim.calibration.targets import load_targets
from oligosim.params import literature_parameters


def _monte_carlo(params, organ: str, dose: float, fx: float, months: float,
                 band: tuple[float, float], n: int, seed: int) -> float:
    """Sample lesions as the module docstring describes, independently of its quadrature."""
    rng = np.random.default_rng(seed)
    a_mean, a_sd = params["alpha_mean_per_gy"], params["alpha_sd_per_gy"]
    a = stats.truncnorm.rvs(-a_mean / a_sd, np.inf, loc=a_mean, scale=a_sd, size=n,
                            random_state=rng) * params[f"{organ}_alpha_multiplier"]
    d = np.exp(rng.uniform(np.log(band[0]), np.log(band[1]), n))
    cf, dens = params["clonogen_fraction"], params["cells_per_cm3"]
    clonogens = dens * math.pi * (d / 10.0) ** 3 / 6.0 * cf
    bed = dose * (1.0 + dose / fx / params["alpha_beta_gy"])
    k = rng.poisson(clonogens * np.exp(-a * bed))
    n_detect = dens * math.pi * (params[f"{organ}_detection_mm"] / 10.0) ** 3 / 6.0
    g = params["growth_untreated_per_month"] * np.exp(
        params["growth_patient_sdlog"] * rng.standard_normal(n))
    visible = k / cf * np.exp(g * months) >= n_detect
    return float(np.mean((k == 0) | ~visible))


@pytest.mark.parametrize(("organ", "dose", "fx", "months"), [
    ("lung_met", 60.0, 15, 36.0), ("brain", 18.0, 1, 12.0), ("bone_spine", 24.0, 2, 24.0),
    ("liver", 45.0, 3, 12.0)])
@pytest.mark.parametrize("growth_sdlog", [0.0, 0.6])
def test_closed_form_matches_monte_carlo(organ: str, dose: float, fx: int,
                                         months: float, growth_sdlog: float) -> None:
    p = literature_parameters().replace(alpha_mean_per_gy=0.2, alpha_sd_per_gy=0.1,
                                        growth_patient_sdlog=growth_sdlog)
    band = (10.0, 40.0)
    exact = local_control(p, organ, dose, fx, months, band)
    n = 200_000
    mc = _monte_carlo(p, organ, dose, fx, months, band, n, seed=1)
    se = math.sqrt(max(mc * (1 - mc), 1e-4) / n)
    # quadrature error (48 alpha quantiles x 12 diameters x 16 growth quantiles) is below
    # 0.01 (checked against 400 x 100 x 64 points); the Monte Carlo part is 4 standard errors
    assert abs(exact - mc) < 0.01 + 4 * se


def test_local_control_is_monotone_in_dose_time_and_radiosensitivity() -> None:
    p = literature_parameters()
    lc = [local_control(p, "liver", d, 3, 24.0) for d in (30.0, 40.0, 50.0, 60.0)]
    assert np.all(np.diff(lc) >= 0)
    assert lc[-1] > lc[0]
    over_time = [local_control(p, "liver", 30.0, 3, t) for t in (6.0, 12.0, 24.0, 60.0)]
    assert np.all(np.diff(over_time) <= 0)
    lo = local_control(p.replace(alpha_mean_per_gy=0.2), "lung_met", 54.0, 3, 24.0)
    hi = local_control(p.replace(alpha_mean_per_gy=0.4), "lung_met", 54.0, 3, 24.0)
    assert hi > lo


def test_every_local_control_target_has_a_value_in_0_1() -> None:
    p = literature_parameters()
    ts = [t for t in load_targets()
          if t.endpoint in ("local_control_at_months", "local_failure_at_months")]
    assert len(ts) >= 10
    for t in ts:
        v = local_control_value(t, p)
        assert 0.0 <= v <= 1.0, t.id
