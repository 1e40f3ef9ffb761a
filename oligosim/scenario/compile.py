"""Compile a validated scenario into the flat arrays the kernels read (DESIGN.md §2.10)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligosim.engine import _jit as J
from oligosim.params import KernelParameters, ParameterSet, default_parameters
from oligosim.scenario.schema import Imaging, Scenario, Strategy

DAYS_PER_WEEK = 7.0
ARS_OLIGO_PD_MAX_LESIONS = 3  # DESIGN.md §2.7: American Radium Society oligo-progression


@dataclass(frozen=True)
class CompiledScenario:
    """Everything a kernel needs, as arrays; ``policies[i]`` belongs to ``strategies[i]``."""

    scenario: Scenario
    parameters: ParameterSet
    kernel: KernelParameters
    strategies: tuple[str, ...]
    policies: np.ndarray          # (n_strategies, N_POLICY_FIELDS)
    population: np.ndarray        # (N_POPULATION_FIELDS,)
    count_cum: np.ndarray         # cumulative pmf of the number of metastases
    met_organ_cum: np.ndarray     # (N_ORGANS,) cumulative organ distribution of metastases
    tropism_cum: np.ndarray       # (N_ORGANS,) cumulative tropism of occult/new lesions
    econ: np.ndarray              # (2,) continuous discount rates per month: costs, effects


def _months(weeks: float) -> float:
    return weeks * DAYS_PER_WEEK / J.DAYS_PER_MONTH


def compile_policy(strategy: Strategy, imaging: Imaging, horizon_months: float) -> np.ndarray:
    """Strategy → numeric policy record (layout ``engine._jit.POLICY_FIELDS``)."""
    pol = np.zeros(J.N_POLICY_FIELDS)
    pol[J.POL_TKI] = J.FIRST_LINE_TKIS[strategy.tki]
    up = strategy.upfront_lat
    if up is not None:
        pol[J.POL_UPFRONT] = J.UPFRONT_MODES.index(up.mode)
        pol[J.POL_UP_MAX_METS] = up.max_mets
        pol[J.POL_UP_MAX_ORGANS] = up.max_organs
        if up.dose_gy is not None and up.fractions is not None:
            pol[J.POL_UP_DOSE] = up.dose_gy
            pol[J.POL_UP_FX] = up.fractions
    cons = strategy.consolidative_lat
    pol[J.POL_CONS_TIME] = 3.0
    if cons is not None:
        pol[J.POL_CONS] = 1.0
        pol[J.POL_CONS_TIME] = cons.time_months
        pol[J.POL_CONS_MAX] = cons.max_lesions
    opd = strategy.oligo_pd_lat
    # the oligo-PD *outcome* (oligo_pd_at_first_pd) uses the strategy's threshold when it has
    # an oligo-PD rule, else the American Radium Society definition, <= 3 lesions (§2.7)
    pol[J.POL_OPD_MAX] = ARS_OLIGO_PD_MAX_LESIONS
    if opd is not None:
        pol[J.POL_OPD] = 1.0
        pol[J.POL_OPD_MAX] = opd.max_lesions
        pol[J.POL_OPD_COURSES] = opd.max_courses
        pol[J.POL_OPD_CONT] = 1.0 if opd.continue_tki else 0.0
    pol[J.POL_T790M_OSI] = 1.0 if strategy.second_line.t790m_osimertinib else 0.0
    img = strategy.imaging or imaging
    pol[J.POL_SCAN1] = _months(img.early_interval_weeks)
    pol[J.POL_SCAN_SWITCH] = img.switch_months
    pol[J.POL_SCAN2] = _months(img.late_interval_weeks)
    pol[J.POL_HORIZON] = horizon_months
    return pol


def compile_scenario(scenario: Scenario, parameters: ParameterSet | None = None
                     ) -> CompiledScenario:
    """Compile ``scenario`` (its parameter overrides applied on top of ``parameters``)."""
    base = parameters if parameters is not None else default_parameters()
    params = base.replace(**scenario.parameters) if scenario.parameters else base
    kp = params.to_arrays()
    pop = scenario.population
    rec = np.zeros(J.N_POPULATION_FIELDS)
    rec[J.POP_MAX_METS] = pop.max_mets
    rec[J.POP_MAX_PER_ORGAN] = pop.max_per_organ
    rec[J.POP_MAX_ORGANS] = pop.max_organs
    rec[J.POP_ALLOW_BRAIN] = 1.0 if pop.allow_brain else 0.0
    rec[J.POP_P_EX19] = pop.subtype.exon19del
    rec[J.POP_P_L858R] = pop.subtype.l858r
    rec[J.POP_P_UNCOMMON] = pop.subtype.uncommon
    counts = np.zeros(pop.max_mets + 1)
    m = min(len(pop.met_count_pmf), pop.max_mets + 1)
    counts[:m] = pop.met_count_pmf[:m]
    count_cum = np.cumsum(counts) / counts.sum()
    count_cum[-1] = 1.0
    if pop.met_organ_weights is not None:
        w = np.array([pop.met_organ_weights.get(o, 0.0) for o in J.ORGANS])
    else:
        w = kp.organ[:, J.O_MET_WEIGHT].copy()
    w[J.LUNG_PRIMARY] = 0.0
    w[J.THORACIC_NODE] = 0.0
    if w.sum() <= 0:
        w[J.LUNG_MET] = 1.0
    met_cum = np.cumsum(w) / w.sum()
    met_cum[-1] = 1.0
    tw = kp.organ[:, J.O_TROPISM].copy()
    trop_cum = np.cumsum(tw) / tw.sum()
    trop_cum[-1] = 1.0
    horizon = scenario.run.horizon_months
    policies = np.stack([compile_policy(s, scenario.imaging, horizon)
                         for s in scenario.strategy])
    econ = np.array([continuous_rate_per_month(scenario.economics.discount_rate_costs_per_year),
                     continuous_rate_per_month(
                         scenario.economics.discount_rate_effects_per_year)])
    return CompiledScenario(scenario, params, kp, tuple(s.name for s in scenario.strategy),
                            policies, rec, count_cum, met_cum, trop_cum, econ)


def continuous_rate_per_month(annual_rate: float) -> float:
    """Continuous monthly rate equivalent to an annual rate: ln(1 + annual) / 12."""
    return float(np.log1p(annual_rate) / J.MONTHS_PER_YEAR)
