"""Layer 4: the free parameters of the calibration, their priors and why each is free (§4).

One place lists what the calibration may move. A parameter is free when (a) no paper pins it
for this model (its default is a named ASSUMPTION or a wide literature range) and (b) a
target informs it. Everything else stays at its cited default (params/defaults.py).

Priors are independent uniforms on the natural or the log scale over the ranges below (the
``prior`` of :data:`oligosim.params.parameters.SPECS` unless a narrower or a missing one is
given here, with its reason). The optimiser and the sampler work on the unit cube: ``u`` in
[0, 1]^d maps to the prior's quantile, so a flat density on the cube is the prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from oligosim.params import ParameterSet
from oligosim.params.parameters import SPECS

__all__ = ["FREE_PARAMETERS", "FreeParameter", "from_unit", "to_parameters", "to_unit"]


@dataclass(frozen=True)
class FreeParameter:
    """One calibrated parameter: prior range, scale and the targets that inform it."""

    name: str
    lo: float
    hi: float
    log: bool
    reason: str

    def value(self, u: float) -> float:
        """The prior quantile at ``u`` in [0, 1]."""
        if self.log:
            return math.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo)))
        return self.lo + u * (self.hi - self.lo)

    def unit(self, x: float) -> float:
        """Inverse of :meth:`value`."""
        if self.log:
            return (math.log(x) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return (x - self.lo) / (self.hi - self.lo)


def _p(name: str, reason: str, lo: float | None = None, hi: float | None = None,
       log: bool | None = None) -> FreeParameter:
    spec = SPECS[name]
    if spec.prior is not None:
        lo = spec.prior[0] if lo is None else lo
        hi = spec.prior[1] if hi is None else hi
    if lo is None or hi is None:
        raise ValueError(f"{name}: no prior range in SPECS; give lo and hi")
    return FreeParameter(name, float(lo), float(hi),
                         spec.log_prior if log is None else log, reason)


#: The calibration's free parameters, in the order of the unit-cube coordinates.
FREE_PARAMETERS: tuple[FreeParameter, ...] = (
    _p("growth_untreated_per_month", "sets every time scale (PFS, OS, regrowth after "
       "ablation); Bozic's 0.3/month is one series' estimate"),
    _p("seeding_rate_per_cell_month", "ASSUMPTION in the defaults; new lesions decide whether "
       "LAT delays progression (SINDAS, NROG-CN-002, ATOM PFS). Upper bound 1e-10, not the "
       "spec's 1e-9: above it late-stage patients overflow the engine's 256 lesion slots",
       hi=1e-10),
    _p("occult_mu0", "occult micrometastases are unobservable; the LAT benefit (PFS and OS "
       "HRs of SINDAS, NROG-CN-002, ATOM) is what identifies them. ASSUMPTION: prior up to "
       "15, not the spec's 5: with at most 5 the first calibration overstated every LAT "
       "benefit (SINDAS RT PFS 42.8 vs 20.2 months)", hi=15.0),
    _p("occult_mu1", "as occult_mu0: the rise of occult burden with visible metastases "
       "(ASSUMPTION: prior up to 8, not 3, for the same reason)", hi=8.0),
    _p("growth_patient_sdlog", "between-patient spread of tumour growth: the long tails of "
       "PFS and OS (NROG-CN-002 5-year OS 12.8%, PFS 2.7%), which one growth rate for every "
       "patient cannot give (the first calibration: 0.0-0.4%)"),
    _p("tki_sensitivity_patient_sdlog", "between-patient spread of EGFR-TKI effect "
       "(ASSUMPTION, params/defaults.py): FLAURA's ORR 80%/76% and 1st-generation duration of "
       "response 8.5 months, which one sensitivity per subtype overshoots (0.88/0.84 and 9.7 "
       "at the 27-parameter fit; freeing the L858R sensitivity alone did not close the gap)"),
    _p("death_kappa_per_month", "links tumour burden to cancer death; OS medians and "
       "landmarks after progression"),
    _p("death_regressing_factor", "ASSUMPTION 1 in the defaults (DESIGN §2.5 as written): "
       "how much shrinking disease counts towards cancer death. At 1, 13% of FLAURA-like "
       "patients died of their baseline burden before the first scan; the early OS "
       "landmarks (FLAURA 18-month, NROG-CN-002 12-month) identify it"),
    _p("alpha_mean_per_gy", "radiosensitivity: local control by site and dose (TARGETS §4)"),
    _p("alpha_sd_per_gy", "heterogeneity of radiosensitivity: the spread of local control "
       "across doses (brain SRS 24/18/15 Gy, lung 60 Gy/15)"),
    _p("bone_spine_alpha_multiplier", "TARGETS §4: the LQ model under-predicts 1-2 fraction "
       "spine SBRT; fitted to spine local control 83.9% at 2 years", lo=1.0, hi=2.0,
       log=False),
    _p("brain_alpha_multiplier", "ASSUMPTION 1 in the defaults; single-fraction SRS is where "
       "LQ is least reliable; fitted to the RTOG 90-05 dose-response", lo=0.5, hi=1.5,
       log=False),
    _p("liver_alpha_multiplier", "ASSUMPTION 1 in the defaults; site adjustment of "
       "radiosensitivity fitted to liver SBRT local control (1 y 87%, n = 668; 2 y 82%). "
       "Prior 0.5-2 (ASSUMPTION, as for the brain)", lo=0.5, hi=2.0, log=False),
    _p("bone_other_alpha_multiplier", "ASSUMPTION 1 in the defaults; non-spine bone SBRT "
       "fails far less often (7% at 2 y, 13.5% at 3 y) than the lung-like α predicts at its "
       "lower dose (30 Gy/3): site adjustment, prior 0.5-2 (ASSUMPTION)", lo=0.5, hi=2.0,
       log=False),
    _p("adrenal_alpha_multiplier", "ASSUMPTION 1 in the defaults; adrenal SBRT local control "
       "(1 y 96.5%, 2 y 92.6% and 84.8%) fitted by a site adjustment, prior 0.5-2 "
       "(ASSUMPTION)", lo=0.5, hi=2.0, log=False),
    _p("p_second_line", "share treated after first progression: FLAURA crossover, OS"),
    _p("p_later_line", "share treated after second progression: OS tails (NROG 60-month)"),
    _p("mutation_rate_t790m", "pre-existing T790M: T790M 62.5% of 1G resistance"),
    _p("mutation_rate_c797s", "C797S 6% of osimertinib resistance"),
    _p("mutation_rate_bypass", "MET/HER2 bypass: 16% of osimertinib, ~18% of 1G resistance"),
    _p("mutation_rate_transformed", "small-cell transformation 3% after 1G"),
    _p("growth_transformed_multiplier", "ASSUMPTION 2 in the defaults: a transformed "
       "lineage that outgrows every other takes over its lesion, which gave 58% "
       "transformation after osimertinib against ~15% [NV]; that target (weight 0.25, wide "
       "sd) and transformation 3% after 1G identify it"),
    _p("fitness_cost_t790m", "growth of T790M clones on a 1G TKI: 1G PFS, FLAURA PFS HR"),
    _p("kill_rate_tki_1g_per_month", "depth of response: ORR and PFS on 1G TKIs (Bozic's "
       "0.9/month gives ~78% complete responses, far above FLAURA's)"),
    _p("kill_rate_osimertinib_per_month", "as 1G, for osimertinib (FLAURA ORR 80%)"),
    _p("penetration_brain_tki_1g", "CNS progression on 1G TKIs (FLAURA CNS 39%)"),
    _p("penetration_brain_osimertinib", "DESIGN §2.2 gives ~0.8, an approximate figure; "
       "at 0.8 the calibrated kill rate left FLAURA's CNS subgroup on osimertinib with "
       "10% CNS progression (published 20%) and no new CNS lesions (12%). The FLAURA CNS "
       "progression, new-lesion and CNS response figures identify it"),
    _p("sensitivity_l858r", "ASSUMPTION in the defaults (L858R responds less than exon 19 "
       "deletions); at the default 0.85 the model gave too few non-responders (FLAURA ORR "
       "87% and 84% against 80% and 76%). ORR and PFS of both FLAURA arms (37% L858R in its "
       "scenario) identify it"),
)


def from_unit(u: npt.ArrayLike) -> dict[str, float]:
    """Unit-cube coordinates -> {name: value} (clipped to the cube)."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if u.shape != (len(FREE_PARAMETERS),):
        raise ValueError(f"expected {len(FREE_PARAMETERS)} coordinates, got shape {u.shape}")
    return {p.name: p.value(float(x)) for p, x in zip(FREE_PARAMETERS, u, strict=True)}


def to_unit(values: ParameterSet | dict[str, float]) -> npt.NDArray[np.float64]:
    """{name: value} (or a parameter set) -> unit-cube coordinates."""
    return np.array([p.unit(float(values[p.name])) for p in FREE_PARAMETERS])


def to_parameters(u: npt.ArrayLike, base: ParameterSet | None = None,
                  name: str = "calibration-candidate") -> ParameterSet:
    """The parameter set at unit-cube point ``u`` (other parameters from ``base``)."""
    base = base if base is not None else ParameterSet()
    return base.replace(name=name, **from_unit(u))
