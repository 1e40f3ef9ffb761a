"""Scans and RECIST 1.1 (DESIGN.md §2.6; Eisenhauer et al., Eur J Cancer 2009).

A scan measures every living lesion: seen if its true diameter reaches the organ's detection
threshold (CT 5 mm, brain MRI 3 mm), measured with normal error truncated at 0. At baseline
the radiologist picks up to five target lesions, at most two per organ, largest measurable
first; every other visible lesion is a non-target. At each later scan:

* progression (PD): the sum of target diameters (SoD) is ≥ 1.2 × its nadir and ≥ nadir + 5 mm;
  or a new lesion (not part of the reference) is seen; or a non-target progresses
  unequivocally — ASSUMPTION (named in DESIGN §2.6): its volume doubles from its own nadir
  (diameter ≥ 2^(1/3) × nadir), or it reappears after disappearing;
* otherwise complete response (CR) if nothing is seen but nodes under 10 mm, partial
  response (PR) if SoD ≤ 70% of baseline, else stable disease (SD).

Per lesion (for oligo-progression and local failure): a lesion progresses if it is new, or
≥ 1.2 × its own nadir and ≥ nadir + 5 mm. RECIST counts all lung lesions as one organ and the
lymph-node system as one organ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from oligosim.engine._jit import (
    DISTANT_NODE,
    LUNG_MET,
    LUNG_PRIMARY,
    RESP_CR,
    RESP_PD,
    RESP_PR,
    RESP_SD,
    THORACIC_NODE,
)
from oligosim.reference.streams import PatientStreams
from oligosim.reference.tumour import Lesion, diameter_mm

NON_TARGET_PD_RATIO = 2.0 ** (1.0 / 3.0)
"""Diameter ratio of a volume doubling: the named non-target progression rule."""
MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2


def scan(lesions: list[Lesion], t: float, scan_number: int, cells_per_cm3: float,
         sd_mm: float, streams: PatientStreams) -> None:
    """Image every lesion at ``t``: set ``true_mm`` and ``measured_mm`` (0 = not seen).

    A lesion's measurement error at scan ``scan_number`` is its own draw, taken only if the
    lesion is seen, so it does not shift anybody else's.
    """
    for lesion in lesions:
        if not lesion.alive:
            lesion.measured_mm = 0.0
            lesion.true_mm = 0.0
            continue
        d = diameter_mm(lesion.cells_at(t), cells_per_cm3)
        lesion.true_mm = d
        if d >= lesion.organ.detection_mm:
            z = streams.measurement_error(lesion.slot, scan_number) if sd_mm > 0.0 else 0.0
            m = d + sd_mm * z
            lesion.measured_mm = m if m > 0.0 else 0.0
            lesion.ever_visible = True
        else:
            lesion.measured_mm = 0.0


def recist_organ(organ: int) -> int:
    """RECIST organ of a model organ: lung lesions are one organ, lymph nodes another."""
    if organ == LUNG_MET:
        return LUNG_PRIMARY
    if organ == DISTANT_NODE:
        return THORACIC_NODE
    return organ


def select_targets(lesions: list[Lesion]) -> float:
    """Baseline target selection; returns the baseline sum of target diameters (mm)."""
    per_organ: dict[int, int] = {}
    sod = 0.0
    for _ in range(MAX_TARGETS):
        best: Lesion | None = None
        best_d = -1.0
        for lesion in lesions:
            if lesion.target or not lesion.seen:
                continue
            if (lesion.measured_mm < lesion.organ.measurable_mm
                    or per_organ.get(recist_organ(lesion.organ.index), 0)
                    >= MAX_TARGETS_PER_ORGAN):
                continue
            if lesion.measured_mm > best_d:
                best_d = lesion.measured_mm
                best = lesion
        if best is None:
            break
        best.target = True
        ro = recist_organ(best.organ.index)
        per_organ[ro] = per_organ.get(ro, 0) + 1
        sod += best_d
    for lesion in lesions:
        if lesion.seen and not lesion.target:
            lesion.nontarget = True
    return sod


def sum_of_target_diameters(lesions: list[Lesion]) -> float:
    """Current SoD of the living targets (mm)."""
    sod = 0.0
    for lesion in lesions:
        if lesion.target and lesion.alive:
            sod += lesion.measured_mm
    return sod


def lesion_progressing(lesion: Lesion) -> bool:
    """Per-lesion progression: new, or ≥ 1.2 × own nadir and ≥ nadir + 5 mm."""
    if not lesion.seen:
        return False
    if not lesion.reference:
        return True
    nadir = lesion.nadir_mm
    if math.isinf(nadir):
        return False
    return lesion.measured_mm >= 1.2 * nadir and lesion.measured_mm >= nadir + 5.0


@dataclass(frozen=True, slots=True)
class Assessment:
    """The radiologist's read of one scan."""

    sod_mm: float
    response: int
    new_lesion: bool
    progressing: list[Lesion]


def assess(lesions: list[Lesion], sod_nadir: float, baseline_sod: float) -> Assessment:
    """RECIST 1.1 response at this scan against the current reference (nadirs unchanged)."""
    sod = sum_of_target_diameters(lesions)
    sod_pd = (not math.isinf(sod_nadir)) and sod >= 1.2 * sod_nadir and sod >= sod_nadir + 5.0
    new_lesion = False
    nontarget_pd = False
    all_gone = True
    progressing: list[Lesion] = []
    for lesion in lesions:
        if not lesion.alive:
            continue
        seen = lesion.measured_mm > 0.0
        if seen and not lesion.reference:
            new_lesion = True
        if lesion.nontarget and lesion.reference and seen:
            nadir = lesion.nadir_mm
            if not math.isinf(nadir) and (
                    (nadir > 0.0 and lesion.measured_mm >= NON_TARGET_PD_RATIO * nadir)
                    or nadir == 0.0):
                nontarget_pd = True
        if seen:
            node = lesion.organ.index in (THORACIC_NODE, DISTANT_NODE)
            if not (node and lesion.measured_mm < 10.0):
                all_gone = False
        if lesion_progressing(lesion):
            progressing.append(lesion)
    if sod_pd or new_lesion or nontarget_pd:
        response = RESP_PD
    elif all_gone:
        response = RESP_CR
    elif baseline_sod > 0.0 and sod <= 0.7 * baseline_sod:
        response = RESP_PR
    else:
        response = RESP_SD
    return Assessment(sod, response, new_lesion, progressing)


def update_nadirs(lesions: list[Lesion]) -> None:
    """Each reference lesion's nadir follows its smallest measurement."""
    for lesion in lesions:
        if lesion.alive and lesion.reference and lesion.measured_mm < lesion.nadir_mm:
            lesion.nadir_mm = lesion.measured_mm


def rebaseline(lesions: list[Lesion]) -> None:
    """This scan becomes the new reference (after a change of treatment or an oligo-PD
    course): every visible lesion joins it (as a non-target unless a target) and every
    reference lesion's nadir restarts at its current measurement."""
    for lesion in lesions:
        if not lesion.alive:
            continue
        if lesion.measured_mm > 0.0:
            lesion.reference = True
            if not lesion.target:
                lesion.nontarget = True
        if lesion.reference:
            lesion.nadir_mm = lesion.measured_mm
