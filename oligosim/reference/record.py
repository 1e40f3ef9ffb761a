"""A patient's chart: the outcomes of DESIGN.md §2.11, optionally a trace; batches of them.

The chart is written as the patient goes through the pathway and turned into one row of the
fast engine's output layout (:data:`oligosim.engine.layout.OUTPUT_COLUMNS`) at the end, so both
engines feed the same outcome tables. The trace lists every event as
``(time_months, event_code, lesion, value)`` with the codes of ``layout.TRACE_EVENTS``, and
every scan's lesions, exactly as the fast engine's trace mode records them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from oligosim.engine import layout as L
from oligosim.engine._jit import MAX_LESIONS, TRACE_MAX_EVENTS, TRACE_MAX_SCANS

if TYPE_CHECKING:
    from oligosim.reference.patient import Patient

NAN = math.nan


@dataclass(slots=True)
class Chart:
    """Outcomes of one patient under one strategy (NaN = not reached / not applicable).

    Field names are the output columns; codes (death cause, response, pattern, clone, drug)
    are those of :mod:`oligosim.engine._jit`.
    """

    pfs_months: float = NAN
    pfs_event: float = NAN
    os_months: float = NAN
    os_event: float = NAN
    ttd_months: float = NAN
    ttd_event: float = NAN
    pfs2_months: float = NAN
    pfs2_event: float = NAN
    death_cause: float = NAN
    best_response: float = NAN
    response_months: float = NAN
    n_visible_baseline: float = NAN
    n_organs_baseline: float = NAN
    cns_at_baseline: float = NAN
    n_visible_at_consolidation: float = NAN
    first_pd_pattern: float = NAN
    first_pd_residual_only: float = NAN
    n_progressing_at_first_pd: float = NAN
    oligo_pd_at_first_pd: float = NAN
    cns_progression: float = NAN
    cns_new_lesion_at_first_pd: float = NAN
    cns_response: float = NAN
    resistance_at_first_pd: float = NAN
    n_lat_courses: float = NAN
    n_lesions_ablated: float = NAN
    n_local_failures: float = NAN
    n_grade3_toxicity: float = NAN
    age_years: float = NAN
    female: float = NAN
    subtype: float = NAN
    n_occult_baseline: float = NAN
    growth_per_month: float = NAN
    tki_sensitivity: float = NAN
    second_line: float = NAN
    max_lesions_used: float = NAN
    error: float = float(L.ERR_NONE)

    def to_row(self) -> np.ndarray:
        """The chart as one float64 row in ``OUTPUT_COLUMNS`` order."""
        return np.array([getattr(self, name) for name in L.OUTPUT_COLUMNS], dtype=np.float64)


@dataclass(slots=True)
class Trace:
    """Every event and every scan of one patient (DESIGN §2.11 trace mode).

    ``events``: (time_months, event_code, lesion, value); ``scans``: (time_months, per-lesion
    rows of (measured_mm, true_mm, cells of each clone)); ``organs``: organ of each slot.
    """

    events: list[tuple[float, int, int, float]] = field(default_factory=list)
    scans: list[tuple[float, list[tuple[float, ...]]]] = field(default_factory=list)
    organs: dict[int, int] = field(default_factory=dict)

    def event(self, t: float, code: int, lesion: int, value: float) -> None:
        """Record one event."""
        self.events.append((t, code, lesion, float(value)))

    def to_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The fast engine's trace buffers for one patient (first axis of length 1),
        truncated to its capacities ``TRACE_MAX_EVENTS`` and ``TRACE_MAX_SCANS``."""
        events, scan_t, scans, organs = L.alloc_trace(1)
        for j, ev in enumerate(self.events[:TRACE_MAX_EVENTS]):
            events[0, j] = ev
        for s, (t, rows) in enumerate(self.scans[:TRACE_MAX_SCANS]):
            scan_t[0, s] = t
            for slot, row in enumerate(rows):
                scans[0, s, slot] = row
        for slot, organ in self.organs.items():
            if slot < MAX_LESIONS:
                organs[0, slot] = organ
        return events, scan_t, scans, organs


def trace_buffers(traces: list[Trace]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stack traces into the fast engine's trace buffers (first axis: traced patient)."""
    if not traces:
        return L.alloc_trace(0)
    parts = [t.to_arrays() for t in traces]
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(4))  # type: ignore[return-value]


@dataclass
class ReferenceBatch:
    """What the reference engine returns for a batch of patients under one strategy.

    ``outputs`` float64[n, N_OUT] (``OUTPUT_COLUMNS``), ``resource_use`` float64[n, N_ACC]
    (``ACC_COLUMNS``), ``traces`` of the first traced patients; for a capacity-limited
    cohort also ``lat_wait_months`` and ``arrival_months`` (float64[n]), else None.
    """

    outputs: np.ndarray
    resource_use: np.ndarray
    traces: list[Trace] = field(default_factory=list)
    lat_wait_months: np.ndarray | None = None
    arrival_months: np.ndarray | None = None


def collect(patients: Sequence[Patient]) -> ReferenceBatch:
    """Stack the patients' charts, ledgers and traces."""
    out = np.empty((len(patients), L.N_OUT))
    acc = np.empty((len(patients), L.N_ACC))
    for i, patient in enumerate(patients):
        out[i] = patient.chart.to_row()
        acc[i] = patient.ledger.to_row()
    traces = [p.trace for p in patients if p.trace is not None]
    return ReferenceBatch(out, acc, traces)
