"""Layer 4: per-lesion local control by site implied by the model's radiobiology (§2.8, §4).

The local-control targets (TARGETS.md §4) are single-institution series of lesions treated
with SBRT or radiosurgery, mostly without an EGFR-TKI. Their model value is computed from the
engine's own radiobiology rather than from a simulated trial, in closed form:

- a lesion of diameter ``D`` holds ``N = cells_per_cm3 · πD³/6 · clonogen_fraction``
  clonogens; its radiosensitivity is ``α = a · m_site`` with ``a ~ Normal(ᾱ, σα)`` truncated
  to ``a > 0`` and ``m_site`` the organ's ``alpha_multiplier`` (as in the engine,
  :func:`oligosim.engine.lat.treat_lesion`);
- surviving clonogens ``K ~ Poisson(N · SF(α))`` with the LQ surviving fraction of the course;
- a lesion with ``K`` survivors regrows at its patient's untreated rate
  ``g = g0 · exp(s·Z)``, ``Z ~ Normal(0, 1)`` (``growth_untreated_per_month`` and
  ``growth_patient_sdlog``, as in the engine; ASSUMPTION: the series' patients were not on an
  EGFR-TKI) and is a local failure once it is visible again (the organ's detection diameter:
  RECIST 1.1 progression of a lesion that had disappeared). So it is controlled at ``t`` when
  ``K / clonogen_fraction · exp(g t) < N_detect``:

  ``LC(t) = E_{α, D, Z}[ PoissonCDF(⌈k*(t)⌉ − 1; N·SF(α)) ]`` with
  ``k*(t) = N_detect · clonogen_fraction · exp(−g t)`` (at least the ``K = 0`` term).

The expectation is a deterministic quadrature (48 quantiles of α, 12 log-spaced diameters,
16 quantiles of Z), so the value is smooth in the parameters, which the optimiser needs.

ASSUMPTIONS (named, not from a paper): treated-lesion diameters are log-uniform on
10–40 mm (brain: RTOG 90-05's bands by dose, ≤20 mm for 24 Gy, 21–30 mm for 18 Gy, 31–40 mm
for 15 Gy); a target without a dose uses the organ's default course (params ORGAN_DEFAULTS);
"BED10 ≥ 100 Gy" uses the lung default 54 Gy/3 (BED10 151 Gy); regrowth is deterministic at
the untreated rate; a series without a time point is read at 24 months.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special, stats

from oligosim.calibration.targets import Target
from oligosim.params import ParameterSet

__all__ = ["LOCAL_CONTROL_ENDPOINTS", "local_control", "local_control_value"]

LOCAL_CONTROL_ENDPOINTS = ("local_control_at_months", "local_failure_at_months")

_N_ALPHA = 48
_N_DIAM = 12
_N_GROWTH = 16
_DEFAULT_MONTHS = 24.0  # ASSUMPTION: a series without a time point is read at 2 years
_DIAMETERS_MM = {None: (10.0, 40.0), 24.0: (5.0, 20.0), 18.0: (20.0, 30.0), 15.0: (30.0, 40.0)}
_SITE_ORGAN = {"lung": "lung_met"}


def _course(target: Target, params: ParameterSet, organ: str) -> tuple[float, float]:
    if target.dose_gy is not None:
        return float(target.dose_gy), float(target.fractions or 1)
    return params[f"{organ}_dose_gy"], params[f"{organ}_fractions"]


#: Quantiles of Z ~ Normal(0, 1) for the patients' growth rates.
_Z_GROWTH = stats.norm.ppf((np.arange(_N_GROWTH) + 0.5) / _N_GROWTH)


@functools.lru_cache(maxsize=16)
def _alpha_quantiles(a_mean: float, a_sd: float) -> np.ndarray:
    """The _N_ALPHA mid-quantiles of Normal(ᾱ, σα) truncated to a > 0 (cached: every
    local-control target of one calibration evaluation shares them)."""
    q = (np.arange(_N_ALPHA) + 0.5) / _N_ALPHA
    if a_sd > 0.0:
        out = stats.truncnorm.ppf(q, (0.0 - a_mean) / a_sd, np.inf, loc=a_mean, scale=a_sd)
    else:
        out = np.full(_N_ALPHA, a_mean)
    out.setflags(write=False)
    return out


def local_control(params: ParameterSet, organ: str, dose_gy: float, fractions: float,
                  at_months: float, diameters_mm: tuple[float, float] = (10.0, 40.0)
                  ) -> float:
    """Model-implied probability that an irradiated lesion is locally controlled at
    ``at_months`` (see the module docstring for the closed form and its assumptions).

    Parameters
    ----------
    params : ParameterSet
        Uses ``alpha_mean_per_gy``, ``alpha_sd_per_gy``, ``alpha_beta_gy``, ``cells_per_cm3``,
        ``clonogen_fraction``, ``growth_untreated_per_month``, ``growth_patient_sdlog`` and
        the organ's
        ``alpha_multiplier`` and ``detection_mm``.
    organ : str
        An organ of :data:`oligosim.engine._jit.ORGANS`.
    dose_gy, fractions : float
        The course.
    at_months : float
        Time after treatment.
    diameters_mm : (float, float)
        Range of the log-uniform distribution of treated diameters.
    """
    a_mean, a_sd = params["alpha_mean_per_gy"], params["alpha_sd_per_gy"]
    mult = params[f"{organ}_alpha_multiplier"]
    ab = params["alpha_beta_gy"]
    cf = params["clonogen_fraction"]
    density = params["cells_per_cm3"]
    s = params["growth_patient_sdlog"]
    z = _Z_GROWTH if s > 0.0 else np.zeros(1)
    g = params["growth_untreated_per_month"] * np.exp(s * z)
    alpha = _alpha_quantiles(a_mean, a_sd) * mult
    d = np.exp(np.log(diameters_mm[0]) + (np.arange(_N_DIAM) + 0.5) / _N_DIAM
               * (np.log(diameters_mm[1]) - np.log(diameters_mm[0])))
    clonogens = density * math.pi * (d / 10.0) ** 3 / 6.0 * cf
    bed = dose_gy * (1.0 + dose_gy / fractions / ab)
    lam = clonogens[None, :] * np.exp(-alpha[:, None] * bed)
    n_detect = density * math.pi * (params[f"{organ}_detection_mm"] / 10.0) ** 3 / 6.0
    k_star = n_detect * cf * np.exp(-g * at_months)
    k_max = np.maximum(np.ceil(k_star) - 1.0, 0.0)
    # P(K <= k_max) for K ~ Poisson(lam): the regularised upper incomplete gamma function.
    p = special.gammaincc(k_max[:, None, None] + 1.0, lam[None, :, :])
    return float(p.mean())


def local_control_value(target: Target, params: ParameterSet) -> float:
    """The model value of a ``local_control_at_months`` / ``local_failure_at_months`` target."""
    site = target.site or "lung"
    organ = _SITE_ORGAN.get(site, site)
    dose, fx = _course(target, params, organ)
    band = _DIAMETERS_MM[dose if organ == "brain" and dose in _DIAMETERS_MM else None]
    months = target.at_months if target.at_months is not None else _DEFAULT_MONTHS
    lc = local_control(params, organ, dose, fx, months, band)
    return lc if target.endpoint == "local_control_at_months" else 1.0 - lc
