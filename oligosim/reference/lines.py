"""Treatment lines after first-line TKI failure (DESIGN.md §2.9).

1. First line: the strategy's TKI, until RECIST progression (or past oligo-progression
   treated with LAT, if the strategy says so).
2. At TKI discontinuation the patient may get no further treatment (best supportive care).
   Otherwise, after a 1st/2nd-generation TKI, a tissue/plasma test finds T790M (with some
   sensitivity) when it is the dominant clone, and the patient gets osimertinib; everyone
   else gets platinum–pemetrexed induction, then pemetrexed maintenance.

   ASSUMPTION (a deviation from DESIGN §2.9, which says "the dominant resistant clone"): the
   test reads the clone with the most cells of all, sensitive included, the same readout as
   the resistance mechanism recorded at first progression, which is calibrated to T790M in
   62% of first-generation progressions (TARGETS.md §2). Reading the dominant *resistant*
   clone would call T790M in nearly every progression that has a few T790M cells, including
   progressions led by sensitive disease in a sanctuary, so a perfect test would find T790M
   far more often than the 62% the same model reports as the mechanism.
3. At progression on the second line: a weaker later line for some, best supportive care
   for the rest; at progression on the later line, best supportive care.
"""

from __future__ import annotations

from dataclasses import dataclass

from oligosim.engine._jit import (
    CLONE_T790M,
    DRUG_LATER,
    DRUG_NONE,
    DRUG_OSI,
    DRUG_PLATINUM,
    DRUG_TKI1G,
    DRUG_TKI2G,
    LINE_BSC,
    LINE_LATER,
    LINE_SECOND,
    N_CLONES,
)
from oligosim.reference.inputs import ModelInputs
from oligosim.reference.streams import PatientStreams
from oligosim.reference.tumour import INF, Lesion


@dataclass(frozen=True, slots=True)
class LineDecision:
    """The next line: its number, its drug and when platinum induction ends (inf if never)."""

    line: int
    drug: int
    induction_ends: float


def dominant_clone(lesions: list[Lesion], t: float, resistant_only: bool) -> int:
    """Clone type with the most cells over all living lesions at ``t`` (the biopsy's answer)."""
    totals = [0.0] * N_CLONES
    for lesion in lesions:
        if not lesion.alive:
            continue
        for k, clone in enumerate(lesion.clones):
            if clone.cells > 0.0:
                totals[k] += clone.cells_at(t)
    first = 1 if resistant_only else 0
    best = first
    for k in range(first, N_CLONES):
        if totals[k] > totals[best]:
            best = k
    return best


def after_first_line(t: float, inputs: ModelInputs, lesions: list[Lesion],
                     streams: PatientStreams) -> LineDecision:
    """Second line at first-line TKI failure (two draws from the testing stream: access to
    further treatment, and whether the T790M test finds the mutation)."""
    p = inputs.params
    u = streams.testing.uniform()
    v = streams.testing.uniform()
    if u >= p.p_second_line:
        return LineDecision(LINE_BSC, DRUG_NONE, INF)
    first_line_drug = int(inputs.policy.tki)
    earlier_generation = first_line_drug == DRUG_TKI1G or first_line_drug == DRUG_TKI2G
    if (earlier_generation and inputs.policy.t790m_osimertinib > 0.5
            and v < p.t790m_test_sensitivity
            and dominant_clone(lesions, t, resistant_only=False) == CLONE_T790M):
        return LineDecision(LINE_SECOND, DRUG_OSI, INF)
    return LineDecision(LINE_SECOND, DRUG_PLATINUM, t + p.platinum_induction_months)


def after_second_line(inputs: ModelInputs, streams: PatientStreams) -> LineDecision:
    """At progression on the second line: a later line for some, else supportive care."""
    if streams.testing.uniform() < inputs.params.p_later_line:
        return LineDecision(LINE_LATER, DRUG_LATER, INF)
    return LineDecision(LINE_BSC, DRUG_NONE, INF)
