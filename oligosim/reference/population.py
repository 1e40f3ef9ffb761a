"""Who walks into clinic (DESIGN.md §2.1): demographics, EGFR subtype, visible lesions,
occult micrometastases, resistance already present, and the date of death from other causes.

Visible metastases are drawn from the scenario's count and organ distributions and kept only
if they satisfy the eligibility criteria (rejection sampling: the exact conditional
distribution). Every patient has a thoracic primary and, with some probability, involved
regional nodes. Occult lesions (below the imaging threshold) number
Poisson(μ0 + μ1 · visible metastases) with log-uniform sizes between 10^3 cells and the
detection threshold of their organ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from oligosim.engine._jit import (
    BRAIN,
    LUNG_PRIMARY,
    N_CLONES,
    N_ORGANS,
    THORACIC_NODE,
)
from oligosim.reference.distributions import lognormal_above, loguniform, truncated_normal
from oligosim.reference.inputs import ModelInputs
from oligosim.reference.luria import preexisting_resistant_cells
from oligosim.reference.streams import PatientStreams
from oligosim.reference.tumour import (
    Lesion,
    cells_for_diameter,
    establishment_probability,
    time_to_hazard,
)

MAX_REJECTIONS = 100_000
"""Metastasis draws tried before declaring the eligibility criteria (almost) unsatisfiable."""
AGE_RANGE_YEARS = (30.0, 90.0)


@dataclass(frozen=True, slots=True)
class Demographics:
    """Age, sex, EGFR subtype (0 exon 19 deletion, 1 L858R, 2 uncommon), regional nodes."""

    age_years: float
    female: bool
    subtype: int
    node_involved: bool


def draw_demographics(inputs: ModelInputs, streams: PatientStreams) -> Demographics:
    """Age (truncated normal), sex, subtype and nodal involvement: four baseline draws."""
    p, pop, s = inputs.params, inputs.population, streams.baseline
    age = truncated_normal(s, p.age_mean_years, p.age_sd_years, *AGE_RANGE_YEARS)
    female = s.uniform() < p.p_female
    u = s.uniform()
    if u < pop.p_exon19del:
        subtype = 0
    elif u < pop.p_exon19del + pop.p_l858r:
        subtype = 1
    else:
        subtype = 2
    node = s.uniform() < p.p_thoracic_node
    return Demographics(age, female, subtype, node)


def draw_metastasis_organs(inputs: ModelInputs, streams: PatientStreams) -> list[int] | None:
    """Organs of the visible metastases, drawn until eligible (None if never eligible)."""
    pop, s = inputs.population, streams.baseline
    for _ in range(MAX_REJECTIONS):
        n = s.categorical(pop.count_cum)
        organs = [s.categorical(pop.met_organ_cum) for _ in range(n)]
        per_organ = [organs.count(o) for o in range(N_ORGANS)]
        eligible = (all(c <= pop.max_per_organ for c in per_organ)
                    and sum(1 for c in per_organ if c > 0) <= pop.max_organs
                    and not (pop.allow_brain < 0.5 and per_organ[BRAIN] > 0))
        if eligible:
            return organs
    return None


def visible_lesions(inputs: ModelInputs, streams: PatientStreams, node: bool,
                    met_organs: list[int]) -> list[Lesion]:
    """Primary, involved node, metastases: sizes log-normal above the detection threshold."""
    p, organs = inputs.params, inputs.organs
    sites = [(LUNG_PRIMARY, p.primary_diameter_median_mm, p.primary_diameter_sdlog)]
    if node:
        sites.append((THORACIC_NODE, p.node_diameter_median_mm, p.met_diameter_sdlog))
    sites += [(o, p.met_diameter_median_mm, p.met_diameter_sdlog) for o in met_organs]
    lesions = []
    for slot, (o, median, sdlog) in enumerate(sites):
        d = lognormal_above(streams.baseline, median, sdlog, organs[o].detection_mm)
        lesion = Lesion(slot, organs[o])
        lesion.clones[0].cells = cells_for_diameter(d, p.cells_per_cm3)
        lesions.append(lesion)
    return lesions


def patient_growth_rate(inputs: ModelInputs, streams: PatientStreams) -> float:
    """This patient's untreated growth rate g0·exp(s·Z), Z ~ N(0, 1) (median g0).

    ASSUMPTION (as in the fast engine): tumour growth varies between patients log-normally;
    s = ``growth_patient_sdlog`` (0: one rate for everyone). Z is drawn whatever s is, so
    s never shifts the other baseline draws.
    """
    p = inputs.params
    z = streams.baseline.normal()
    return p.growth_untreated_per_month * math.exp(p.growth_patient_sdlog * z)


def patient_tki_sensitivity(inputs: ModelInputs, streams: PatientStreams) -> float:
    """This patient's EGFR-TKI sensitivity multiplier exp(s·Z), Z ~ N(0, 1) (median 1).

    ASSUMPTION (as in the fast engine; params/defaults.py ``tki_sensitivity_patient_sdlog``):
    the effect of every EGFR TKI varies between patients log-normally, one multiplier for
    all the patient's lesions and TKIs. Z is drawn whatever s is, after the growth draw.
    """
    z = streams.baseline.normal()
    return math.exp(inputs.params.tki_sensitivity_patient_sdlog * z)


def occult_count(inputs: ModelInputs, streams: PatientStreams, n_mets: int) -> int:
    """Number of occult micrometastases: Poisson(μ0 + μ1 · visible metastases)."""
    p = inputs.params
    return int(streams.occult.poisson(p.occult_mu0 + p.occult_mu1 * n_mets))


def occult_lesion(inputs: ModelInputs, streams: PatientStreams, slot: int) -> Lesion:
    """One occult lesion: organ by tropism, log-uniform size below the detection threshold."""
    p, s = inputs.params, streams.occult
    o = s.categorical(inputs.population.tropism_cum)
    hi = cells_for_diameter(inputs.organs[o].detection_mm, p.cells_per_cm3)
    lo = min(p.occult_min_cells, hi)
    lesion = Lesion(slot, inputs.organs[o])
    lesion.clones[0].cells = loguniform(s, lo, hi)
    return lesion


def seed_preexisting_resistance(lesion: Lesion, inputs: ModelInputs,
                                streams: PatientStreams, growth: float) -> None:
    """Resistant clones present at diagnosis (Luria–Delbrück), carved out of the lesion.

    ASSUMPTION (as in the fast engine): before diagnosis every lineage grew with its lesion
    (growth ratio 1), and resistant cells are part of the lesion's cells, so the sensitive
    clone keeps the rest (if resistant cells would exceed the lesion they are scaled down).
    """
    p, d = inputs.params, inputs.drugs
    clones = lesion.clones
    total = clones[0].cells
    resistant = 0.0
    for k in range(1, N_CLONES):
        if d.mutation_rate[k] > 0.0:
            pe = establishment_probability(growth * d.growth_multiplier[k],
                                           p.birth_rate_per_month)
            x = preexisting_resistant_cells(streams.preexisting(lesion.slot), total,
                                            d.mutation_rate[k], 1.0, pe)
            clones[k].cells = min(x, total)
            resistant += clones[k].cells
    if resistant > 0.0:
        if resistant >= total:
            for k in range(1, N_CLONES):
                clones[k].cells *= total / resistant
            clones[0].cells = 0.0
        else:
            clones[0].cells = total - resistant


def background_death_months(inputs: ModelInputs, streams: PatientStreams, age: float,
                            female: bool) -> float:
    """Months until death from other causes: Gompertz hazard a·exp(b·age) per year, by sex
    (parameters fitted to a national life table), sampled by inversion."""
    p = inputs.params
    a = p.gompertz_a_female_per_year if female else p.gompertz_a_male_per_year
    b = p.gompertz_b_female_per_year if female else p.gompertz_b_male_per_year
    mass = streams.background_death.exponential()
    return 12.0 * time_to_hazard(a * math.exp(b * age), b, mass)
