"""Lesions, their clones, and how they grow and shrink under the drug in force.

Between events every clone population follows N(t) = N(t0)·exp(r·(t − t0)) (DESIGN.md §2.4):

    r = g0·(1 − c_k)                            clone k resistant to the drug in force
    r = g0 − (g0 + δ_D)·π_{organ,D}·σ_subtype   clone k sensitive to drug D
    r = g0                                      off treatment

(g0 times the clone's growth multiplier: histologic transformation grows faster; for an EGFR
TKI, σ_subtype times the patient's EGFR-TKI sensitivity multiplier, an ASSUMPTION named in
params/defaults.py ``tki_sensitivity_patient_sdlog``).

Each clone carries one *event clock*: a hazard proportional to its cells, the sum of

* cancer death            κ·w_organ·N / 10^12
* metastatic seeding      ν·N, weighted by where a seed can establish
* acquired resistance     (sensitive cells only) b·Σ_j u_j·p_est,j·N

Because the hazard is c·N0·exp(r·s), its integral is closed form and the clock's firing time
is found by inverting it: the clock holds the unit-exponential "mass" still to be consumed,
and when the rate, coefficient or population changes the consumed part is subtracted and the
firing time recomputed (next-reaction method). No time stepping anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from oligosim.engine._jit import CLONE_S, DRUG_NONE, EGFR_TKIS, N_CLONES, N_ORGANS
from oligosim.reference.inputs import ModelInputs, Organ, Parameters

INF = math.inf
CELLS_PER_DEATH_UNIT = 1e12
"""The cancer death hazard is κ per 10^12 organ-weighted cells (DESIGN §2.5)."""
PACKETS_PER_EFOLD = 4.0
"""A shrinking sensitive clone releases acquired-resistance packets at least 4 times per
e-fold of decline (see :meth:`ClonePopulation.set_regime`)."""


# ------------------------------------------------------------------------------------------
# growth laws
# ------------------------------------------------------------------------------------------
def grown(cells: float, rate: float, dt: float) -> float:
    """Cells after ``dt`` months of exponential growth at ``rate`` per month."""
    if cells == 0.0:
        return 0.0
    return cells * math.exp(rate * dt)


def establishment_probability(rate: float, birth_rate: float) -> float:
    """Survival probability of a new lineage: max(0, r/b), at most 1 (DESIGN §2.5)."""
    if rate <= 0.0:
        return 0.0
    p = rate / birth_rate
    return 1.0 if p > 1.0 else p


def diameter_mm(cells: float, cells_per_cm3: float) -> float:
    """Diameter (mm) of a sphere of ``cells`` at ``cells_per_cm3`` (DESIGN §2.6)."""
    if cells <= 0.0:
        return 0.0
    return 10.0 * (6.0 * cells / (math.pi * cells_per_cm3)) ** (1.0 / 3.0)


def cells_for_diameter(diameter: float, cells_per_cm3: float) -> float:
    """Cells of a sphere ``diameter`` mm across."""
    d_cm = diameter / 10.0
    return cells_per_cm3 * math.pi * d_cm * d_cm * d_cm / 6.0


def cumulative_hazard(a: float, r: float, dt: float) -> float:
    """∫₀^dt a·exp(r·s) ds (a ≥ 0 per month, r per month, dt ≥ 0 months)."""
    if a <= 0.0 or dt <= 0.0:
        return 0.0
    x = r * dt
    if abs(x) < 1e-12:
        return a * dt * (1.0 + 0.5 * x)
    return a * math.expm1(x) / r


def time_to_hazard(a: float, r: float, mass: float) -> float:
    """Months until ∫ a·exp(r·s) ds reaches ``mass`` (inf if it never does)."""
    if mass <= 0.0:
        return 0.0
    if a <= 0.0:
        return INF
    y = mass * r / a
    if abs(y) < 1e-12:
        return mass / a * (1.0 - 0.5 * y)
    if y <= -1.0:
        return INF
    return math.log1p(y) / r


# ------------------------------------------------------------------------------------------
# the drug in force
# ------------------------------------------------------------------------------------------
class Regime:
    """What the drug in force fixes for one patient (EGFR subtype, untreated growth rate,
    EGFR-TKI sensitivity multiplier), tabulated once.

    ``rate[o][k]`` net growth of clone k in organ o; ``p_est[o][k]`` its establishment
    probability; ``acquisition_per_cell[o]`` = b·Σ_j u_j·p_est,j, the acquired-resistance
    hazard per sensitive cell; ``seeding_weight[k]`` = Σ_o tropism_o·p_est(k, o), so that
    seeding at rate ν·seeding_weight only produces seeds that establish.
    """

    __slots__ = ("acquisition_per_cell", "drug", "p_est", "rate", "seeding_weight")

    def __init__(self, inputs: ModelInputs, drug: int, subtype: int, growth: float,
                 tki_sensitivity: float = 1.0) -> None:
        p, d, organs = inputs.params, inputs.drugs, inputs.organs
        b = p.birth_rate_per_month
        self.drug = drug
        self.rate = [[0.0] * N_CLONES for _ in range(N_ORGANS)]
        self.p_est = [[0.0] * N_CLONES for _ in range(N_ORGANS)]
        for o in range(N_ORGANS):
            for k in range(N_CLONES):
                r = clone_rate(inputs, k, o, drug, subtype, growth, tki_sensitivity)
                self.rate[o][k] = r
                self.p_est[o][k] = establishment_probability(r, b)
        self.acquisition_per_cell = [0.0] * N_ORGANS
        for o in range(N_ORGANS):
            tot = 0.0
            for j in range(1, N_CLONES):
                if d.mutation_rate[j] > 0.0:
                    tot += d.mutation_rate[j] * self.p_est[o][j]
            self.acquisition_per_cell[o] = b * tot
        self.seeding_weight = [0.0] * N_CLONES
        for k in range(N_CLONES):
            tot = 0.0
            for o in range(N_ORGANS):
                w = organs[o].tropism
                if w > 0.0:
                    tot += w * self.p_est[o][k]
            self.seeding_weight[k] = tot


def regime(inputs: ModelInputs, drug: int, subtype: int, growth: float,
           tki_sensitivity: float = 1.0) -> Regime:
    """The regime of ``drug`` for a patient of ``subtype`` whose untreated growth rate is
    ``growth`` and EGFR-TKI sensitivity multiplier ``tki_sensitivity``. Tabulated once per
    strategy when every patient has the median growth rate and multiplier 1; with a
    between-patient spread each patient's values are their own, so nothing is cached."""
    if growth != inputs.params.growth_untreated_per_month or tki_sensitivity != 1.0:
        return Regime(inputs, drug, subtype, growth, tki_sensitivity)
    key = (drug, subtype)
    found = inputs.regimes.get(key)
    if found is None:
        found = inputs.regimes[key] = Regime(inputs, drug, subtype, growth)
    return found


def clone_rate(inputs: ModelInputs, clone: int, organ: int, drug: int, subtype: int,
               growth: float, tki_sensitivity: float = 1.0) -> float:
    """Net growth rate (per month) of a clone in an organ under a drug (DESIGN §2.4), for a
    patient whose untreated growth rate is ``growth``; an EGFR TKI's σ_subtype is multiplied
    by the patient's ``tki_sensitivity``.

    A fractional sensitivity mixes the sensitive and resistant rates linearly.
    """
    d = inputs.drugs
    g = growth * d.growth_multiplier[clone]
    if drug == DRUG_NONE:
        return g
    s = d.sensitivity[drug][clone]
    sigma = d.subtype_sigma[subtype][drug]
    if drug in EGFR_TKIS:
        sigma = sigma * tki_sensitivity
    r_sensitive = g - (g + d.kill_rate[drug]) * d.penetration[organ][drug] * sigma
    r_resistant = g * (1.0 - d.fitness_cost[clone])
    return s * r_sensitive + (1.0 - s) * r_resistant


# ------------------------------------------------------------------------------------------
# clones and lesions
# ------------------------------------------------------------------------------------------
class ClonePopulation:
    """One clone type in one lesion: its cells and its event clock.

    ``cells`` at ``anchor`` (months); ``rate`` per month; ``hazard_coef`` (per cell per month);
    ``remaining`` unit-exponential mass still to be consumed; ``fires_at`` absolute time.
    """

    __slots__ = ("anchor", "cells", "fires_at", "hazard_coef", "index", "rate", "remaining")

    def __init__(self, index: int) -> None:
        self.index = index
        self.cells = 0.0
        self.anchor = 0.0
        self.rate = 0.0
        self.hazard_coef = 0.0
        self.remaining = 0.0
        self.fires_at = INF

    def cells_at(self, t: float) -> float:
        """Cells at time ``t`` (no state change)."""
        if self.cells > 0.0:
            return grown(self.cells, self.rate, t - self.anchor)
        return 0.0

    def advance(self, t: float) -> None:
        """Grow to ``t``, consume the clock's hazard on the way, and re-anchor at ``t``."""
        n = self.cells
        dt = t - self.anchor
        if n > 0.0 and dt > 0.0:
            left = self.remaining - cumulative_hazard(self.hazard_coef * n, self.rate, dt)
            self.remaining = left if left > 0.0 else 0.0
            self.cells = grown(n, self.rate, dt)
        self.anchor = t

    def schedule(self, t: float) -> None:
        """Recompute when the clock fires, from its state at ``t``."""
        if self.cells <= 0.0:
            self.fires_at = INF
        else:
            self.fires_at = t + time_to_hazard(self.hazard_coef * self.cells, self.rate,
                                               self.remaining)


@dataclass(slots=True, eq=False)
class Lesion:
    """A tumour deposit: its organ, its clones and its imaging/RECIST record.

    ``slot`` is its number in order of appearance (it addresses the lesion's random streams).
    Imaging fields: ``measured_mm``/``true_mm`` at the last scan; ``visible_at_baseline``,
    ``reference`` (part of the current RECIST reference: seen at baseline or a re-baseline),
    ``target``/``nontarget`` (RECIST roles), ``nadir_mm`` (own smallest measurement since the
    reference or since its last LAT), ``visible_at_consolidation``. Treatment fields:
    ``planned`` for the next LAT course, ``courses`` received, ``watch_local_failure`` (a
    treated lesion not yet seen to progress), ``alpha_per_gy`` (drawn at first treatment).
    ``packet`` is the current acquired-resistance packet size of its sensitive clone.
    """

    slot: int
    organ: Organ
    clones: list[ClonePopulation] = field(default_factory=list)
    alive: bool = True
    visible_at_baseline: bool = False
    reference: bool = False
    target: bool = False
    nontarget: bool = False
    nadir_mm: float = INF
    measured_mm: float = 0.0
    true_mm: float = 0.0
    ever_visible: bool = False
    alpha_per_gy: float = math.nan
    courses: int = 0
    planned: bool = False
    visible_at_consolidation: bool = False
    watch_local_failure: bool = False
    packet: float = 0.0

    def __post_init__(self) -> None:
        if not self.clones:
            self.clones = [ClonePopulation(k) for k in range(N_CLONES)]

    @property
    def seen(self) -> bool:
        """Alive and visible at the last scan."""
        return self.alive and self.measured_mm > 0.0

    def cells_at(self, t: float) -> float:
        """Total cells at ``t``."""
        tot = 0.0
        for c in self.clones:
            if c.cells > 0.0:
                tot += grown(c.cells, c.rate, t - c.anchor)
        return tot

    def death_coefficient(self, clone: ClonePopulation, p: Parameters) -> float:
        """Cancer-death hazard per cell of ``clone`` (DESIGN §2.5): κ·w_organ/10^12.

        ASSUMPTION (``death_regressing_factor`` = φ): a clone that is shrinking (net rate < 0)
        contributes φ times that; φ = 1 is DESIGN §2.5 as written.
        """
        c = p.death_kappa_per_month * self.organ.death_weight / CELLS_PER_DEATH_UNIT
        if clone.rate < 0.0:
            c *= p.death_regressing_factor
        return c

    def set_regime(self, clone: ClonePopulation, regime: Regime, inputs: ModelInputs) -> None:
        """Give ``clone`` (already advanced to now) the rate and hazard of ``regime``.

        Acquired-resistance packets (NUMERICAL, as in the fast engine): when the sensitive
        clone's acquisition hazard is large, each clock event adds ``q`` lineages at once at
        1/q of the rate, q = ⌊hazard × τ⌋ ≥ 1 with τ the packet duration, shortened to
        1/(4·|r|) while the clone shrinks. The expected inflow of resistant cells is unchanged.
        """
        p = inputs.params
        o = self.organ.index
        clone.rate = regime.rate[o][clone.index]
        c = self.death_coefficient(clone, p)
        if p.seeding_rate_per_cell_month > 0.0:
            c += p.seeding_rate_per_cell_month * regime.seeding_weight[clone.index]
        if clone.index == CLONE_S:
            m = regime.acquisition_per_cell[o]
            q = 1.0
            tau = p.acquisition_packet_months
            if tau > 0.0:
                r_s = clone.rate
                if r_s < 0.0 and PACKETS_PER_EFOLD * -r_s * tau > 1.0:
                    tau = 1.0 / (PACKETS_PER_EFOLD * -r_s)
                q = float(math.floor(m * clone.cells * tau))
                if q < 1.0:
                    q = 1.0
            self.packet = q
            c += m / q
        clone.hazard_coef = c

    def restart_clocks(self, t: float, regime: Regime, inputs: ModelInputs) -> None:
        """Advance every clone to ``t`` and put it on ``regime`` (a change of drug)."""
        for clone in self.clones:
            clone.advance(t)
            self.set_regime(clone, regime, inputs)
            clone.schedule(t)
