"""Local ablative therapy of one lesion: radiotherapy (linear-quadratic) and surgery (§2.8).

Radiotherapy: a lesion receiving total dose D in fractions of d survives with fraction
SF = exp(−α·D·(1 + d/(α/β))); α is drawn once per lesion, at its first course, from
Normal(ᾱ, σα) truncated > 0, and scaled by the organ's site adjustment. Each clone's
clonogens (cells × clonogen fraction) are thinned to Poisson(clonogens × SF) survivors; the
lesion is controlled when none survive (Poisson TCP). ASSUMPTION: survivors keep the clonogen
fraction, so surviving cells = surviving clonogens / fraction.

Brain metastases get single-fraction SRS dosed by diameter (RTOG 90-05): 24 Gy up to 20 mm,
18 Gy up to 30 mm, else 15 Gy. Surgery removes the lesion with probability p_R0, otherwise
leaves a residual fraction of every clone.

After the course the grade ≥ 3 and grade 5 toxicities of that organ are drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from oligosim.engine._jit import BRAIN, MOD_SBRT, MOD_SRS, MOD_SURGERY, N_CLONES
from oligosim.reference.distributions import truncated_normal
from oligosim.reference.inputs import ModelInputs
from oligosim.reference.streams import PatientStreams
from oligosim.reference.tumour import INF, Lesion, diameter_mm

COURSE_UPFRONT, COURSE_CONSOLIDATION, COURSE_OLIGO_PD = 1, 2, 3
"""Why a course is given: at diagnosis, to residual disease, to oligo-progression."""


def srs_dose_gy(diameter: float) -> float:
    """RTOG 90-05 single-fraction SRS dose (Gy) for a brain lesion ``diameter`` mm across."""
    if diameter <= 20.0:
        return 24.0
    if diameter <= 30.0:
        return 18.0
    return 15.0


def surviving_fraction(alpha: float, dose_gy: float, fractions: float,
                       alpha_beta_gy: float) -> float:
    """Linear-quadratic surviving fraction exp(−α·D·(1 + d/(α/β))), d = D / fractions."""
    d = dose_gy / fractions
    return math.exp(-alpha * dose_gy * (1.0 + d / alpha_beta_gy))


@dataclass(frozen=True, slots=True)
class CourseResult:
    """What one lesion's course did."""

    controlled: bool
    grade3: bool
    grade5: bool
    modality: int


def treat_lesion(lesion: Lesion, t: float, reason: int, inputs: ModelInputs,
                 streams: PatientStreams) -> CourseResult:
    """Give ``lesion`` its course at ``t``: kill cells, then draw toxicity.

    The organ's default modality and schedule apply, except that an upfront course with a
    strategy-specified dose uses that dose and fractionation (as radiotherapy, never surgery).
    The lesion's clones are left at their post-treatment size, anchored at ``t``; its own
    nadir restarts and it is watched for local failure.
    """
    p = inputs.params
    organ = lesion.organ
    for clone in lesion.clones:
        clone.advance(t)
    before = [clone.cells for clone in lesion.clones]
    modality = organ.modality
    dose = organ.dose_gy
    fractions = organ.fractions
    policy = inputs.policy
    if reason == COURSE_UPFRONT and policy.upfront_dose_gy > 0.0:
        dose = policy.upfront_dose_gy
        fractions = policy.upfront_fractions
        if modality == MOD_SURGERY:
            modality = MOD_SBRT
    if math.isnan(lesion.alpha_per_gy):
        lesion.alpha_per_gy = truncated_normal(streams.radiosensitivity(lesion.slot),
                                               p.alpha_mean_per_gy, p.alpha_sd_per_gy, 0.0, INF)
    alpha = lesion.alpha_per_gy * organ.alpha_multiplier
    diameter = diameter_mm(lesion.cells_at(t), p.cells_per_cm3)
    kill_stream = streams.lat_kill(lesion.slot)
    after = [0.0] * N_CLONES
    survived = False
    if modality == MOD_SURGERY:
        residual = 0.0 if kill_stream.uniform() < p.surgery_p_r0 else p.surgery_residual_fraction
        for k in range(N_CLONES):
            after[k] = before[k] * residual
            if after[k] > 0.0:
                survived = True
    else:
        if organ.index == BRAIN and modality == MOD_SRS:
            dose = srs_dose_gy(diameter)
            fractions = 1.0
        sf = surviving_fraction(alpha, dose, fractions, p.alpha_beta_gy)
        for k in range(N_CLONES):
            if before[k] <= 0.0:
                continue
            clonogens = kill_stream.poisson(before[k] * p.clonogen_fraction * sf)
            after[k] = clonogens / p.clonogen_fraction
            if clonogens > 0.0:
                survived = True
    for clone, cells in zip(lesion.clones, after, strict=True):
        clone.cells = cells
    lesion.courses += 1
    lesion.nadir_mm = INF
    lesion.watch_local_failure = True
    grade3 = streams.toxicity.uniform() < organ.p_tox_g3
    grade5 = streams.toxicity.uniform() < organ.p_tox_g5
    return CourseResult(not survived, grade3, grade5, modality)
