"""Named, read-only views of a compiled scenario for the reference engine.

The fast engine reads flat arrays indexed by integer constants; the reference engine reads the
same numbers by name (``params.lat_delay_months``, ``organ.detection_mm``,
``policy.consolidation_time_months``), built once per strategy from
:class:`oligosim.scenario.CompiledScenario`. Names are those of the layouts in
:mod:`oligosim.engine._jit`, so each value is traceable to the parameter set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from oligosim.engine import _jit as J
from oligosim.scenario import CompiledScenario


@dataclass(frozen=True, slots=True)
class Parameters:
    """Scalar model parameters (DESIGN.md §2; names and units of ``_jit.SCALAR_PARAMS``)."""

    birth_rate_per_month: float
    growth_untreated_per_month: float
    growth_transformed_multiplier: float
    growth_patient_sdlog: float
    seeding_rate_per_cell_month: float
    occult_mu0: float
    occult_mu1: float
    occult_min_cells: float
    death_kappa_per_month: float
    death_regressing_factor: float
    cells_per_cm3: float
    measurement_sd_mm: float
    clonogen_fraction: float
    alpha_mean_per_gy: float
    alpha_sd_per_gy: float
    alpha_beta_gy: float
    surgery_p_r0: float
    surgery_residual_fraction: float
    t790m_test_sensitivity: float
    p_second_line: float
    p_later_line: float
    platinum_induction_months: float
    lat_delay_months: float
    acquisition_packet_months: float
    primary_diameter_median_mm: float
    primary_diameter_sdlog: float
    met_diameter_median_mm: float
    met_diameter_sdlog: float
    node_diameter_median_mm: float
    p_thoracic_node: float
    age_mean_years: float
    age_sd_years: float
    p_female: float
    gompertz_a_male_per_year: float
    gompertz_b_male_per_year: float
    gompertz_a_female_per_year: float
    gompertz_b_female_per_year: float
    tki_sensitivity_patient_sdlog: float


@dataclass(frozen=True, slots=True)
class Organ:
    """One organ's properties (DESIGN.md §2.2; ``_jit.ORGAN_FIELDS``)."""

    index: int
    name: str
    detection_mm: float
    measurable_mm: float
    ablatable: bool
    death_weight: float
    modality: int
    dose_gy: float
    fractions: float
    alpha_multiplier: float
    p_tox_g3: float
    p_tox_g5: float
    tropism: float
    met_weight: float


@dataclass(frozen=True, slots=True)
class Pharmacology:
    """Drug and clone tables (DESIGN.md §2.3-2.4), as nested lists of floats.

    ``kill_rate[drug]``, ``sensitivity[drug][clone]``, ``penetration[organ][drug]``,
    ``subtype_sigma[subtype][drug]``, ``fitness_cost[clone]``, ``mutation_rate[clone]``
    (established lineages per cell), ``growth_multiplier[clone]``.
    """

    kill_rate: list[float]
    sensitivity: list[list[float]]
    penetration: list[list[float]]
    subtype_sigma: list[list[float]]
    fitness_cost: list[float]
    mutation_rate: list[float]
    growth_multiplier: list[float]


@dataclass(frozen=True, slots=True)
class Policy:
    """A strategy's decision rules (DESIGN.md §2.10; ``_jit.POLICY_FIELDS``)."""

    tki: float
    upfront_mode: float
    upfront_max_mets: float
    upfront_max_organs: float
    upfront_dose_gy: float
    upfront_fractions: float
    consolidation: float
    consolidation_time_months: float
    consolidation_max_lesions: float
    oligo_pd: float
    oligo_pd_max_lesions: float
    oligo_pd_max_courses: float
    oligo_pd_continue_tki: float
    t790m_osimertinib: float
    scan_interval_early_months: float
    scan_switch_months: float
    scan_interval_late_months: float
    horizon_months: float


@dataclass(frozen=True, slots=True)
class Population:
    """Who is eligible and how their metastases are distributed (DESIGN.md §2.1).

    ``count_cum``: cumulative probabilities of 0, 1, 2, ... visible metastases;
    ``met_organ_cum`` / ``tropism_cum``: cumulative organ distributions of baseline metastases
    and of occult or newly seeded lesions (float64 arrays, read by the categorical sampler).
    """

    max_mets: float
    max_per_organ: float
    max_organs: float
    allow_brain: float
    p_exon19del: float
    p_l858r: float
    p_uncommon: float
    count_cum: np.ndarray
    met_organ_cum: np.ndarray
    tropism_cum: np.ndarray


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """Everything one strategy's reference simulation reads."""

    params: Parameters
    organs: tuple[Organ, ...]
    drugs: Pharmacology
    policy: Policy
    population: Population
    discount_rates: tuple[float, float]
    """Continuous monthly discount rates of costs and of effects (DESIGN §2.12)."""
    regimes: dict = field(default_factory=dict, compare=False)
    """Cache of tabulated regimes by (drug, subtype) at the median growth rate, filled by
    ``tumour.regime``."""


def _floats(a: np.ndarray) -> list:
    return a.tolist()


def model_inputs(compiled: CompiledScenario, strategy_index: int) -> ModelInputs:
    """Named view of ``compiled`` for its strategy number ``strategy_index``."""
    kp = compiled.kernel
    params = Parameters(**dict(zip(J.SCALAR_PARAMS, _floats(kp.scalars), strict=True)))
    organs = []
    for o, name in enumerate(J.ORGANS):
        row = dict(zip(J.ORGAN_FIELDS, _floats(kp.organ[o]), strict=True))
        row["ablatable"] = row["ablatable"] >= 0.5
        row["modality"] = int(row["modality"])
        organs.append(Organ(index=o, name=name, **row))
    drugs = Pharmacology(_floats(kp.kill_rate), _floats(kp.sensitivity),
                         _floats(kp.penetration), _floats(kp.subtype_sigma),
                         _floats(kp.fitness_cost), _floats(kp.mutation_rate),
                         _floats(kp.growth_multiplier))
    policy_names = [f.name for f in fields(Policy)]
    assert tuple(policy_names) == J.POLICY_FIELDS, "Policy fields out of step with _jit"
    policy = Policy(**dict(zip(policy_names,
                               _floats(compiled.policies[strategy_index]), strict=True)))
    pop = dict(zip(J.POPULATION_FIELDS, _floats(compiled.population), strict=True))
    population = Population(**pop,
                            count_cum=np.ascontiguousarray(compiled.count_cum, np.float64),
                            met_organ_cum=np.ascontiguousarray(compiled.met_organ_cum,
                                                               np.float64),
                            tropism_cum=np.ascontiguousarray(compiled.tropism_cum, np.float64))
    rates = (float(compiled.econ[0]), float(compiled.econ[1]))
    return ModelInputs(params, tuple(organs), drugs, policy, population, rates)
