"""One patient's journey through the clinic, as a SimPy process (DESIGN.md §2, §3).

The story, in the order the clinic sees it:

1. **Diagnosis.** Age, sex, EGFR subtype; a thoracic primary, perhaps involved regional nodes,
   and visible metastases (eligible by the scenario's criteria); occult micrometastases below
   the imaging threshold; resistant clones already present (Luria–Delbrück).
2. **Baseline scan.** RECIST targets and non-targets are chosen.
3. **Upfront decision.** If the strategy gives LAT at diagnosis (all visible lesions, the
   thoracic disease, ...) and the patient is eligible, a course is booked for day 0.
4. **First-line TKI** starts; from now on the disease evolves by itself between visits:
   every clone grows or shrinks at the rate the drug in force allows, and may kill the
   patient, seed a new metastasis or acquire resistance (event clocks, :mod:`.tumour`).
5. **Visits** follow the strategy's imaging schedule. At each scan the radiologist reads
   RECIST 1.1 and the clinician decides: consolidative LAT at the consolidation scan if few
   lesions remain; at progression, LAT to oligo-progressive disease (and stay on the TKI) or
   move to the next line (:mod:`.lines`). Patients on best supportive care are not scanned.
6. **LAT courses** (:mod:`.radiotherapy`) kill cells and may cause toxicity, including death.
7. **Death** from cancer, from other causes (Gompertz), or from treatment; or the horizon.

The process :func:`patient_process` advances SimPy time (``env.now``, months) from event to
event: the next clock firing, scan, LAT course, end of platinum induction, death from other
causes, or the horizon, whichever comes first. Simultaneous events are taken in the fast
engine's order (death from other causes, horizon, LAT, end of induction, scan; a clone's clock
only if strictly earlier), and the fast engine's draws are taken from the same streams in the
same order, so the two engines produce the same patient.

Time: ``Patient.t`` is the patient's own time since diagnosis, kept exactly as the event times
were computed (``env.now`` is the calendar of the whole cohort, which for a patient diagnosed
at month 0 equals ``t`` up to rounding in the sums SimPy makes). In a capacity-limited pathway
(:mod:`.pathway`) a LAT course may have to wait for a tumour board and a free SBRT slot; the
patient's disease goes on evolving meanwhile and the wait is charted.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Protocol

import simpy

from oligosim.engine import layout as L
from oligosim.engine._jit import (
    BRAIN,
    CAUSE_ALIVE,
    CAUSE_BACKGROUND,
    CAUSE_CANCER,
    CAUSE_TREATMENT,
    DRUG_NONE,
    DRUG_PEM_MAINT,
    LINE_BSC,
    LINE_FIRST,
    LINE_SECOND,
    LUNG_PRIMARY,
    MAX_LESIONS,
    N_CLONES,
    N_ORGANS,
    PAT_BOTH,
    PAT_EXISTING,
    PAT_NEW,
    PAT_NONE,
    RESP_NE,
    RESP_PD,
    RESP_PR,
    THORACIC_NODE,
    UPFRONT_ALL,
    UPFRONT_ALL_AND_PRIMARY,
    UPFRONT_NONE,
    UPFRONT_THORACIC,
)
from oligosim.reference import imaging, lines
from oligosim.reference.inputs import ModelInputs, Policy
from oligosim.reference.population import (
    background_death_months,
    draw_demographics,
    draw_metastasis_organs,
    occult_count,
    occult_lesion,
    patient_growth_rate,
    patient_tki_sensitivity,
    seed_preexisting_resistance,
    visible_lesions,
)
from oligosim.reference.radiotherapy import (
    COURSE_CONSOLIDATION,
    COURSE_OLIGO_PD,
    COURSE_UPFRONT,
    treat_lesion,
)
from oligosim.reference.record import Chart, Trace
from oligosim.reference.resources import ResourceUse
from oligosim.reference.streams import PatientStreams
from oligosim.reference.tumour import (
    INF,
    ClonePopulation,
    Lesion,
    Regime,
    grown,
    regime,
)

if TYPE_CHECKING:
    from simpy.resources.resource import Request

# what happens next (in the fast engine's order of precedence at equal times)
CLOCK, BACKGROUND_DEATH, HORIZON, LAT_COURSE, END_OF_INDUCTION, SCAN = (
    "clock", "background_death", "horizon", "lat_course", "end_of_induction", "scan")
SCAN_TIME_SLACK = 1e-9
"""Months of slack when deciding whether a scan still falls in the early, frequent phase."""


class LesionSlotsError(Exception):
    """The patient needs more lesion slots than the model's capacity ``MAX_LESIONS``."""


class CarePathway(Protocol):
    """The hospital's side of LAT (implemented in :mod:`oligosim.reference.pathway`)."""

    def lat_start(self, patient: Patient, delay: float) -> float:
        """Patient time at which a course decided now, needing ``delay`` months of planning,
        is ready to start (after any tumour board)."""
        ...

    def book_slot(self) -> Request | None:
        """A request for a treatment slot (None: slots are unlimited)."""
        ...

    def occupy(self, request: Request) -> None:
        """The course started: keep its slot busy for the course's duration."""
        ...

    def withdraw(self, request: Request) -> None:
        """The patient no longer needs the slot (death, horizon): leave the queue, or give
        the slot back if it was granted at this very moment."""
        ...


def scan_after(policy: Policy, t: float) -> float:
    """The scheduled scan after a scan at ``t``: one early interval later while that stays
    within the early phase (up to ``scan_switch_months``), else one late interval later.

    The baseline scan (t = 0) follows the same rule. (The fast engine always puts the first
    scan one early interval after baseline, even when the early phase is shorter than one
    interval: a kernel bug, reported by tests/reference/test_agreement.py.)
    """
    early = policy.scan_interval_early_months
    if t + early <= policy.scan_switch_months + SCAN_TIME_SLACK:
        return t + early
    return t + policy.scan_interval_late_months


def scan_numbers_nearest(policy: Policy) -> tuple[int, int]:
    """Numbers of the scheduled scans nearest the consolidation time and 3 months.

    The first is where the consolidation decision is taken; the second where the number of
    visible lesions at consolidation is charted (DESIGN §2.11). -1 if none.
    """
    horizon = policy.horizon_months
    consolidation_time = policy.consolidation_time_months
    last = max(consolidation_time, 3.0) + policy.scan_interval_late_months + \
        policy.scan_interval_early_months
    nearest_consolidation = nearest_three_months = -1
    best_c = best_3 = INF
    t = 0.0
    number = 0
    while t <= horizon and t <= last:
        t = scan_after(policy, t)
        number += 1
        if abs(t - consolidation_time) < best_c - 1e-12:
            best_c = abs(t - consolidation_time)
            nearest_consolidation = number
        if abs(t - 3.0) < best_3 - 1e-12:
            best_3 = abs(t - 3.0)
            nearest_three_months = number
    return nearest_consolidation, nearest_three_months


class Patient:
    """One patient under one strategy: disease, imaging record, treatment and chart.

    Parameters
    ----------
    inputs
        The strategy's named inputs (:func:`oligosim.reference.inputs.model_inputs`).
    patient_id, seed
        Address the patient's random streams: the same patient in every strategy.
    traced
        Keep a trace of every event and scan.
    arrival
        Calendar month of diagnosis (the cohort's time origin is 0).
    """

    def __init__(self, inputs: ModelInputs, patient_id: int, seed: int, *,
                 traced: bool = False, arrival: float = 0.0) -> None:
        self.inputs = inputs
        self.params = inputs.params
        self.policy = inputs.policy
        self.patient_id = int(patient_id)
        self.streams = PatientStreams(seed, patient_id)
        self.chart = Chart()
        self.ledger = ResourceUse(inputs.discount_rates)
        self.ledger_mark = 0.0  # start of the current stretch of one drug and one state
        self.trace: Trace | None = Trace() if traced else None
        self.arrival = arrival
        self.t = 0.0
        self.lesions: list[Lesion] = []
        self.subtype = 0
        self.growth = self.params.growth_untreated_per_month  # this patient's g0
        self.tki_sensitivity = 1.0  # this patient's EGFR-TKI sensitivity multiplier
        self.background_death_at = INF
        # imaging
        self.scan_number = 0
        self.next_scan = INF
        self.baseline_sod = 0.0
        self.sod_nadir = INF
        self.consolidation_scan, self.outcome_scan = scan_numbers_nearest(self.policy)
        # treatment
        self.line = LINE_FIRST
        self.drug = int(self.policy.tki)
        self.regime: Regime | None = None
        self.induction_ends = INF
        self.lat_time = INF
        self.course_reason = 0
        self.course_due = INF
        self.awaiting_slot = False
        self.lat_wait_months = 0.0
        self.n_oligo_pd_courses = 0
        self.consolidated = False
        # chart counters
        self.best_response = RESP_NE
        self.cns_baseline_mm = 0.0
        self.first_pd_seen = False
        self.ttd_charted = False
        self.pfs2_charted = False
        self.n_courses = 0
        self.n_ablated = 0
        self.n_local_failures = 0
        self.n_grade3 = 0
        self.cause = CAUSE_ALIVE
        self.death_at = INF

    # ------------------------------------------------------------------------------------
    # diagnosis and the baseline visit
    # ------------------------------------------------------------------------------------
    def diagnose(self) -> bool:
        """Draw the patient at diagnosis. False (chart flags the error) if no eligible
        metastasis pattern could be drawn or the lesions exceed the model's capacity."""
        inputs, streams, chart = self.inputs, self.streams, self.chart
        who = draw_demographics(inputs, streams)
        met_organs = draw_metastasis_organs(inputs, streams)
        chart.age_years = who.age_years
        chart.female = 1.0 if who.female else 0.0
        chart.subtype = who.subtype
        self.subtype = who.subtype
        if met_organs is None:
            chart.error = L.ERR_ELIGIBILITY
            return False
        if 1 + int(who.node_involved) + len(met_organs) > MAX_LESIONS:
            chart.error = L.ERR_LESION_CAPACITY
            return False
        lesions = visible_lesions(inputs, streams, who.node_involved, met_organs)
        self.growth = patient_growth_rate(inputs, streams)
        chart.growth_per_month = self.growth
        self.tki_sensitivity = patient_tki_sensitivity(inputs, streams)
        chart.tki_sensitivity = self.tki_sensitivity
        n_occult = occult_count(inputs, streams, len(met_organs))
        chart.n_occult_baseline = n_occult
        if len(lesions) + n_occult > MAX_LESIONS:
            chart.error = L.ERR_LESION_CAPACITY
            return False
        for _ in range(n_occult):
            lesions.append(occult_lesion(inputs, streams, len(lesions)))
        for lesion in lesions:
            seed_preexisting_resistance(lesion, inputs, streams, self.growth)
            if self.trace is not None:
                self.trace.organs[lesion.slot] = lesion.organ.index
        self.lesions = lesions
        self.background_death_at = background_death_months(inputs, streams, who.age_years,
                                                           who.female)
        return True

    def baseline_visit(self) -> None:
        """Baseline scan: what is visible, in how many organs; RECIST targets."""
        p = self.params
        self.ledger.scan(0.0)
        imaging.scan(self.lesions, 0.0, 0, p.cells_per_cm3, p.measurement_sd_mm, self.streams)
        organs_seen = [False] * N_ORGANS
        n_visible = 0
        for lesion in self.lesions:
            if lesion.measured_mm > 0.0:
                lesion.visible_at_baseline = True
                lesion.reference = True
                lesion.nadir_mm = lesion.measured_mm
                n_visible += 1
                organs_seen[lesion.organ.index] = True
        self.chart.n_visible_baseline = n_visible
        self.chart.n_organs_baseline = sum(organs_seen)
        self.chart.cns_at_baseline = 1.0 if organs_seen[BRAIN] else 0.0
        self.cns_baseline_mm = self._cns_sum()
        self.chart.cns_response = 0.0 if self.cns_baseline_mm > 0.0 else math.nan
        self.baseline_sod = imaging.select_targets(self.lesions)
        self.sod_nadir = self.baseline_sod
        self._trace_scan()
        self.next_scan = scan_after(self.policy, 0.0)

    def plan_upfront_lat(self, pathway: CarePathway | None) -> None:
        """LAT at diagnosis if the strategy gives it and the patient is eligible.

        ``all_visible``: every visible metastasis (not the thoracic disease);
        ``all_visible_and_primary``: every visible lesion; ``thoracic``: the primary and
        involved nodes. Eligibility (not for thoracic RT): at most ``upfront_max_mets``
        visible metastases in at most ``upfront_max_organs`` organs, all ablatable.
        """
        mode = int(self.policy.upfront_mode)
        if mode == UPFRONT_NONE:
            return
        n_mets = 0
        met_organs: set[int] = set()
        eligible = True
        for lesion in self.lesions:
            if not lesion.visible_at_baseline:
                continue
            o = lesion.organ.index
            thoracic = o == LUNG_PRIMARY or o == THORACIC_NODE
            if not thoracic:
                n_mets += 1
                met_organs.add(o)
            if mode == UPFRONT_ALL:
                wanted = not thoracic
            elif mode == UPFRONT_ALL_AND_PRIMARY:
                wanted = True
            else:
                wanted = mode == UPFRONT_THORACIC and thoracic
            if wanted:
                if not lesion.organ.ablatable and mode != UPFRONT_THORACIC:
                    eligible = False
                lesion.planned = True
        if mode != UPFRONT_THORACIC and (n_mets > self.policy.upfront_max_mets
                                         or len(met_organs) > self.policy.upfront_max_organs):
            eligible = False
        if eligible:
            self._book_course(COURSE_UPFRONT, 0.0, pathway)
        else:
            for lesion in self.lesions:
                lesion.planned = False

    def start_first_line(self) -> None:
        """First-line TKI: every clone's clock starts (one unit-exponential draw each)."""
        self.regime = regime(self.inputs, self.drug, self.subtype, self.growth,
                             self.tki_sensitivity)
        for lesion in self.lesions:
            for clone in lesion.clones:
                if clone.cells > 0.0:
                    clone.remaining = self.streams.clock(lesion.slot, clone.index).exponential()
                lesion.set_regime(clone, self.regime, self.inputs)
                clone.schedule(self.t)
        self._event(L.EV_DRUG, -1, self.drug)

    # ------------------------------------------------------------------------------------
    # what happens next
    # ------------------------------------------------------------------------------------
    def next_event(self) -> tuple[float, str, Lesion | None, ClonePopulation | None]:
        """The next event: (time, kind, lesion, clone); lesion and clone only for a clock."""
        fires, lesion, clone = INF, None, None
        for les in self.lesions:
            if not les.alive:
                continue
            for c in les.clones:
                if c.fires_at < fires:
                    fires, lesion, clone = c.fires_at, les, c
        next_visit = self.next_scan if self.line != LINE_BSC else INF
        when = min(next_visit, self.lat_time, self.induction_ends, self.background_death_at,
                   self.policy.horizon_months)
        if fires < when:
            return fires, CLOCK, lesion, clone
        if when == self.background_death_at:
            return when, BACKGROUND_DEATH, None, None
        if when == self.policy.horizon_months:
            return when, HORIZON, None, None
        if when == self.lat_time:
            return when, LAT_COURSE, None, None
        if when == self.induction_ends:
            return when, END_OF_INDUCTION, None, None
        return when, SCAN, None, None

    # ------------------------------------------------------------------------------------
    # the disease's own events
    # ------------------------------------------------------------------------------------
    def clock_fires(self, lesion: Lesion, clone: ClonePopulation) -> bool:
        """A clone's clock fires: cancer death (True), a new metastasis, or resistance.

        The event's kind is drawn in proportion to its share of the clone's hazard; then the
        clock is rewound with a fresh unit-exponential mass.
        """
        p, t, regime = self.params, self.t, self.regime
        lesions_before = len(self.lesions)
        clone.advance(t)
        clone.remaining = 0.0
        stream = self.streams.clock(lesion.slot, clone.index)
        death_share = lesion.death_coefficient(clone, p)
        seeding_share = (p.seeding_rate_per_cell_month * regime.seeding_weight[clone.index]
                         if p.seeding_rate_per_cell_month > 0.0 else 0.0)
        x = stream.uniform() * clone.hazard_coef
        if x < death_share:
            return True
        if x < death_share + seeding_share:
            self._seed_metastasis(clone.index, seeding_share, stream)
        else:
            self._acquire_resistance(lesion, stream)
        clone.remaining = stream.exponential()
        lesion.set_regime(clone, regime, self.inputs)
        clone.schedule(t)
        if len(self.lesions) > lesions_before:
            self._event(L.EV_NEW_LESION, len(self.lesions) - 1, clone.index)
        else:
            self._event(L.EV_MUTATION, lesion.slot, clone.index)
        return False

    def _seed_metastasis(self, k: int, seeding_share: float, stream) -> None:
        """A cell of clone ``k`` founds a new lesion; its organ is drawn ∝ tropism × the
        seed's establishment probability there, and it starts at 1/p_est cells (its size
        given that it survived)."""
        organs, regime, t = self.inputs.organs, self.regime, self.t
        y = stream.uniform() * seeding_share / self.params.seeding_rate_per_cell_month
        acc = 0.0
        organ = N_ORGANS - 1
        p_est = 0.0
        for o in range(N_ORGANS):
            pe_o = regime.p_est[o][k]
            if organs[o].tropism * pe_o > 0.0:
                organ, p_est = o, pe_o
            acc += organs[o].tropism * pe_o
            if y < acc:
                break
        if p_est <= 0.0:
            return
        if len(self.lesions) >= MAX_LESIONS:
            raise LesionSlotsError
        new = Lesion(len(self.lesions), organs[organ])
        for c in new.clones:
            c.anchor = t
        new.clones[k].cells = 1.0 / p_est
        new.clones[k].remaining = self.streams.clock(new.slot, k).exponential()
        for c in new.clones:
            new.set_regime(c, regime, self.inputs)
            c.schedule(t)
        self.lesions.append(new)

    def _acquire_resistance(self, lesion: Lesion, stream) -> None:
        """Sensitive cells give rise to a packet of resistant lineages; the mechanism is
        drawn ∝ u_j · p_est,j and each lineage enters at 1/p_est cells."""
        mutation = self.inputs.drugs.mutation_rate
        p_est = self.regime.p_est[lesion.organ.index]
        total = 0.0
        for j in range(1, N_CLONES):
            total += mutation[j] * p_est[j]
        y = stream.uniform() * total
        acc = 0.0
        mechanism = N_CLONES - 1
        for j in range(1, N_CLONES):
            acc += mutation[j] * p_est[j]
            if y < acc:
                mechanism = j
                break
        if p_est[mechanism] <= 0.0:
            return
        added = lesion.packet / p_est[mechanism]
        resistant = lesion.clones[mechanism]
        was_empty = resistant.cells <= 0.0
        resistant.advance(self.t)
        resistant.cells += added
        if was_empty:
            resistant.remaining = self.streams.clock(lesion.slot, mechanism).exponential()
            lesion.set_regime(resistant, self.regime, self.inputs)
        resistant.schedule(self.t)

    # ------------------------------------------------------------------------------------
    # treatment
    # ------------------------------------------------------------------------------------
    def _book_course(self, reason: int, delay: float, pathway: CarePathway | None) -> None:
        """Book a LAT course to the lesions marked ``planned``, ``delay`` months from now
        (later if the pathway makes it wait for a tumour board)."""
        self.course_reason = reason
        self.course_due = self.t + delay
        self.lat_time = self.course_due if pathway is None else \
            pathway.lat_start(self, delay)

    @property
    def course_pending(self) -> bool:
        """A LAT course is booked and not yet given."""
        return not math.isinf(self.lat_time) or self.awaiting_slot

    def give_course(self) -> bool:
        """Deliver the booked LAT course now to every planned lesion still alive and in an
        ablatable organ. True if it killed the patient (grade 5 toxicity)."""
        t = self.t
        self.lat_time = INF
        self.awaiting_slot = False
        self.lat_wait_months += t - self.course_due
        self.n_courses += 1
        fatal = False
        for lesion in list(self.lesions):
            if not lesion.planned:
                continue
            lesion.planned = False
            if not lesion.alive or not lesion.organ.ablatable:
                continue
            result = treat_lesion(lesion, t, self.course_reason, self.inputs, self.streams)
            self.n_ablated += 1
            self.ledger.lat_lesion(t, result.modality)
            for clone in lesion.clones:
                lesion.set_regime(clone, self.regime, self.inputs)
                clone.schedule(t)
            if result.controlled:
                lesion.alive = False
            if result.grade3:
                self.n_grade3 += 1
                self.ledger.grade3(t)
                self._event(L.EV_TOX, lesion.slot, 3.0)
            if result.grade5:
                fatal = True
            self._event(L.EV_LAT, lesion.slot, 1.0 if result.controlled else 0.0)
        return fatal

    def change_drug(self, drug: int) -> None:
        """Put every living lesion on ``drug`` from now on."""
        self.drug = drug
        self.regime = regime(self.inputs, drug, self.subtype, self.growth, self.tki_sensitivity)
        for lesion in self.lesions:
            if lesion.alive:
                lesion.restart_clocks(self.t, self.regime, self.inputs)

    def end_induction(self) -> None:
        """Four cycles of platinum–pemetrexed done: pemetrexed maintenance."""
        self.induction_ends = INF
        self._close_stretch()
        self.change_drug(DRUG_PEM_MAINT)
        self._event(L.EV_DRUG, -1, self.drug)

    # ------------------------------------------------------------------------------------
    # the visit: scan, RECIST, decision
    # ------------------------------------------------------------------------------------
    def visit(self, pathway: CarePathway | None) -> None:
        """A scheduled scan, its RECIST read, and the clinical decision it triggers."""
        p, t = self.params, self.t
        self.scan_number += 1
        self.ledger.scan(t)
        self.next_scan = scan_after(self.policy, t)
        self._extinguish()
        imaging.scan(self.lesions, t, self.scan_number, p.cells_per_cm3, p.measurement_sd_mm,
                     self.streams)
        read = imaging.assess(self.lesions, self.sod_nadir, self.baseline_sod)
        self._trace_scan()
        self._event(L.EV_SCAN, -1, read.response)
        for lesion in read.progressing:  # a treated lesion growing again: local failure
            if lesion.watch_local_failure:
                self.n_local_failures += 1
                lesion.watch_local_failure = False
                self._event(L.EV_LESION_PD, lesion.slot, 1.0)
        if read.sod_mm < self.sod_nadir:
            self.sod_nadir = read.sod_mm
        imaging.update_nadirs(self.lesions)
        visible_now = [lesion for lesion in self.lesions if lesion.seen]
        if self.line == LINE_FIRST:
            self._first_line_decision(read, visible_now, pathway)
        elif read.response == RESP_PD:
            self._progression_on_later_line()

    def _extinguish(self) -> None:
        """ASSUMPTION (as the fast engine): a clone below one cell at a scan is extinct, and
        a lesion without cells is gone."""
        t = self.t
        for lesion in self.lesions:
            if not lesion.alive:
                continue
            any_left = False
            for clone in lesion.clones:
                if clone.cells <= 0.0:
                    continue
                if grown(clone.cells, clone.rate, t - clone.anchor) < 1.0:
                    clone.cells = 0.0
                    clone.fires_at = INF
                else:
                    any_left = True
            if not any_left:
                lesion.alive = False

    def _cns_sum(self) -> float:
        """Summed measured diameter (mm) of the brain lesions seen at baseline, now."""
        return sum(lesion.measured_mm for lesion in self.lesions
                   if lesion.organ.index == BRAIN and lesion.visible_at_baseline
                   and lesion.alive and lesion.measured_mm > 0.0)

    def _first_line_decision(self, read: imaging.Assessment, visible_now: list[Lesion],
                             pathway: CarePathway | None) -> None:
        """On the first-line TKI: chart the response; at progression, oligo-progression LAT
        or the next line; at the consolidation scan, consolidative LAT."""
        policy = self.policy
        if not self.first_pd_seen and read.response < self.best_response:
            self.best_response = read.response
        if (not self.first_pd_seen and read.response <= RESP_PR
                and math.isnan(self.chart.response_months)):
            self.chart.response_months = self.t  # first scan read as CR or PR (unconfirmed)
        if (not self.first_pd_seen and read.response != RESP_PD
                and self.chart.cns_response == 0.0
                and self._cns_sum() <= L.CNS_RESPONSE_RATIO * self.cns_baseline_mm):
            self.chart.cns_response = 1.0
        if (self.scan_number == self.outcome_scan and not self.first_pd_seen
                and read.response != RESP_PD):
            self.chart.n_visible_at_consolidation = len(visible_now)
            for lesion in visible_now:
                lesion.visible_at_consolidation = True
        if read.response == RESP_PD:
            n_prog = len(read.progressing)
            oligo = 1 <= n_prog <= policy.oligo_pd_max_lesions and all(
                lesion.organ.ablatable for lesion in read.progressing)
            if not self.first_pd_seen:
                self._close_stretch()  # the progression-free stretch ends here
                self.first_pd_seen = True
                self._chart_first_progression(read, oligo)
                self._event(L.EV_PD, -1, n_prog)
            if (policy.oligo_pd > 0.5 and oligo
                    and self.n_oligo_pd_courses < policy.oligo_pd_max_courses
                    and not self.course_pending):
                self.n_oligo_pd_courses += 1
                for lesion in read.progressing:
                    lesion.planned = True
                self._book_course(COURSE_OLIGO_PD, self.params.lat_delay_months, pathway)
                imaging.rebaseline(self.lesions)
                self.sod_nadir = imaging.sum_of_target_diameters(self.lesions)
                self._event(L.EV_OLIGO_PD, -1, n_prog)
                if policy.oligo_pd_continue_tki > 0.5:
                    return
            self._stop_first_line()
            return
        if (policy.consolidation > 0.5 and self.scan_number == self.consolidation_scan
                and not self.consolidated and not self.course_pending):
            self.consolidated = True
            self._event(L.EV_CONS, -1, len(visible_now))
            if (1 <= len(visible_now) <= policy.consolidation_max_lesions
                    and all(lesion.organ.ablatable for lesion in visible_now)):
                for lesion in visible_now:
                    lesion.planned = True
                self._book_course(COURSE_CONSOLIDATION, self.params.lat_delay_months, pathway)

    def _stop_first_line(self) -> None:
        """First-line TKI discontinued at progression: chart time to treatment
        discontinuation, choose the next line, and re-baseline the RECIST reference."""
        t = self.t
        self.chart.ttd_months = t
        self.chart.ttd_event = 1.0
        self.ttd_charted = True
        self._close_stretch()
        nxt = lines.after_first_line(t, self.inputs, self.lesions, self.streams)
        self.chart.second_line = nxt.drug
        self.line = nxt.line
        self.induction_ends = nxt.induction_ends
        self.change_drug(nxt.drug)
        imaging.rebaseline(self.lesions)
        self.sod_nadir = imaging.sum_of_target_diameters(self.lesions)
        self._event(L.EV_DRUG, -1, self.drug)

    def _progression_on_later_line(self) -> None:
        """Progression on the second or later line: next line or supportive care."""
        t = self.t
        self._close_stretch()
        if self.line == LINE_SECOND:
            self.chart.pfs2_months = t
            self.chart.pfs2_event = 1.0
            self.pfs2_charted = True
            nxt = lines.after_second_line(self.inputs, self.streams)
        else:
            nxt = lines.LineDecision(LINE_BSC, DRUG_NONE, INF)
        self.line = nxt.line
        self.induction_ends = INF
        self.change_drug(nxt.drug)
        imaging.rebaseline(self.lesions)
        self.sod_nadir = imaging.sum_of_target_diameters(self.lesions)
        self._event(L.EV_DRUG, -1, self.drug)

    def _chart_first_progression(self, read: imaging.Assessment, oligo: bool) -> None:
        """Patterns of failure at the first RECIST progression (DESIGN §2.11)."""
        chart, t = self.chart, self.t
        chart.pfs_months = t
        chart.pfs_event = 1.0
        existing = new = cns = cns_new = False
        residual_only = self.scan_number > self.outcome_scan and self.outcome_scan > 0
        for lesion in read.progressing:
            if lesion.visible_at_baseline:
                existing = True
            else:
                new = True
            if lesion.organ.index == BRAIN:
                cns = True
                cns_new = cns_new or not lesion.visible_at_baseline
            if not lesion.visible_at_consolidation:
                residual_only = False
        if not read.progressing:  # progression of the sum or of a non-target only
            existing = True
            residual_only = False
        chart.first_pd_pattern = PAT_BOTH if existing and new else (PAT_NEW if new
                                                                    else PAT_EXISTING)
        chart.first_pd_residual_only = 1.0 if residual_only else 0.0
        chart.n_progressing_at_first_pd = len(read.progressing)
        chart.oligo_pd_at_first_pd = 1.0 if oligo else 0.0
        chart.cns_progression = 1.0 if cns else 0.0
        chart.cns_new_lesion_at_first_pd = 1.0 if cns_new else 0.0
        chart.resistance_at_first_pd = lines.dominant_clone(self.lesions, t,
                                                            resistant_only=False)

    # ------------------------------------------------------------------------------------
    # the end
    # ------------------------------------------------------------------------------------
    def close_chart(self) -> None:
        """Overall survival and everything not reached by death or the horizon (censored)."""
        chart = self.chart
        dead = self.cause != CAUSE_ALIVE
        t_end = self.death_at if dead else self.policy.horizon_months
        self._close_stretch(t_end)
        if dead:
            self.ledger.death(t_end)
        self._event(L.EV_DEATH, -1, self.cause, t=t_end)
        event = 1.0 if dead else 0.0
        chart.os_months = t_end
        chart.os_event = event
        chart.death_cause = self.cause
        if not self.first_pd_seen:
            chart.pfs_months = t_end
            chart.pfs_event = event
            chart.first_pd_pattern = PAT_NONE
            chart.first_pd_residual_only = 0.0
            chart.n_progressing_at_first_pd = 0.0
            chart.oligo_pd_at_first_pd = 0.0
            chart.cns_progression = 0.0
            chart.cns_new_lesion_at_first_pd = 0.0
            chart.resistance_at_first_pd = -1.0
        if not self.ttd_charted:
            chart.ttd_months = t_end
            chart.ttd_event = event
        if not self.pfs2_charted:
            chart.pfs2_months = t_end
            chart.pfs2_event = event
        if math.isnan(chart.second_line):
            chart.second_line = -1.0
        chart.best_response = self.best_response
        chart.n_lat_courses = self.n_courses
        chart.n_lesions_ablated = self.n_ablated
        chart.n_local_failures = self.n_local_failures
        chart.n_grade3_toxicity = self.n_grade3
        chart.max_lesions_used = len(self.lesions)

    def _close_stretch(self, until: float | None = None) -> None:
        """Book the time since the last change of drug or state in the ledger."""
        t = self.t if until is None else until
        self.ledger.time_spent(self.ledger_mark, t, self.drug, not self.first_pd_seen)
        self.ledger_mark = t

    def dies(self, cause: int) -> None:
        """Death now, of ``cause``."""
        self.cause = cause
        self.death_at = self.t

    # ------------------------------------------------------------------------------------
    # trace
    # ------------------------------------------------------------------------------------
    def _event(self, code: int, lesion: int, value: float, t: float | None = None) -> None:
        if self.trace is not None:
            self.trace.event(self.t if t is None else t, code, lesion, value)

    def _trace_scan(self) -> None:
        if self.trace is None:
            return
        t = self.t
        rows = []
        for lesion in self.lesions:
            shown = lesion.alive
            rows.append((lesion.measured_mm if shown else 0.0, lesion.true_mm if shown else 0.0,
                         *(c.cells_at(t) for c in lesion.clones)))
        self.trace.scans.append((t, rows))


# ------------------------------------------------------------------------------------------
# the SimPy process
# ------------------------------------------------------------------------------------------
def patient_process(env: simpy.Environment, patient: Patient,
                    pathway: CarePathway | None = None) -> Generator[simpy.Event, object, None]:
    """The patient's life from diagnosis to death or the horizon, as a SimPy process.

    Without a ``pathway`` every LAT course starts when booked. With one, a due course waits
    for a free slot while the disease goes on (clocks fire, scans happen, the patient may
    die); the slot request is withdrawn if the patient dies or reaches the horizon first.
    """
    if not patient.diagnose():
        return
    patient.baseline_visit()
    patient.plan_upfront_lat(pathway)
    patient.start_first_line()
    slot: Request | None = None
    try:
        while True:
            when, kind, lesion, clone = patient.next_event()
            if slot is None:
                yield env.timeout(max(0.0, when - patient.t))
            else:
                got = yield env.timeout(max(0.0, when - patient.t)) | slot
                if slot in got:  # a slot freed up: the waiting course starts now
                    patient.t = max(patient.t, env.now - patient.arrival)
                    pathway.occupy(slot)
                    slot = None
                    if patient.give_course():
                        patient.dies(CAUSE_TREATMENT)
                        break
                    continue
            patient.t = max(when, patient.t)
            if kind == CLOCK:
                if patient.clock_fires(lesion, clone):
                    patient.dies(CAUSE_CANCER)
                    break
            elif kind == BACKGROUND_DEATH:
                patient.dies(CAUSE_BACKGROUND)
                break
            elif kind == HORIZON:
                break
            elif kind == LAT_COURSE:
                request = pathway.book_slot() if pathway is not None else None
                if request is not None and not request.triggered:
                    slot = request  # wait for a slot; the disease does not
                    patient.lat_time = INF
                    patient.awaiting_slot = True
                    continue
                if request is not None:
                    pathway.occupy(request)
                if patient.give_course():
                    patient.dies(CAUSE_TREATMENT)
                    break
            elif kind == END_OF_INDUCTION:
                patient.end_induction()
            else:
                patient.visit(pathway)
    except LesionSlotsError:
        patient.chart.error = L.ERR_LESION_CAPACITY
        return
    finally:
        if slot is not None:
            pathway.withdraw(slot)
        if patient.course_pending and patient.t > patient.course_due:
            patient.lat_wait_months += patient.t - patient.course_due  # waited, never treated
    patient.close_chart()
