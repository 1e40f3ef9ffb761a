"""A capacity-limited LAT pathway: one cohort, one department, one SimPy environment.

Patients are diagnosed one after another (a Poisson stream of referrals, or all at month 0)
and each lives through :func:`oligosim.reference.patient.patient_process`. They share the
department's resources (:class:`oligosim.scenario.capacity.Capacity`):

* **Tumour board.** If the board meets every ``tumour_board_interval_weeks``, a LAT decision
  taken at a scan waits for the next meeting (on or after the decision); planning, of
  ``lat_delay_months``, starts there.
* **Treatment slots.** The department starts at most ``sbrt_slots_per_week`` courses a week: a
  SimPy ``Resource`` whose units are slots; a course takes a slot when it starts and frees it a
  week later. A course whose planning is done waits, first come first served, for a slot.

While a course waits the patient's disease goes on: clones grow, scans happen, the patient may
progress, move to the next line or die (the request is then withdrawn). No new LAT course is
booked while one is waiting. The wait of each course, from when it would have started with
unlimited capacity to when it starts, is summed per patient in ``lat_wait_months``.

With unlimited slots and no board nothing waits and every patient is exactly the patient of
the uncapacitated run (the tests check this).
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
import simpy
from simpy.resources.resource import Request

from oligosim.engine._jit import DAYS_PER_MONTH
from oligosim.reference.inputs import model_inputs
from oligosim.reference.patient import Patient, patient_process
from oligosim.reference.record import ReferenceBatch, collect
from oligosim.reference.streams import Stream
from oligosim.scenario import CompiledScenario
from oligosim.scenario.capacity import Capacity

WEEK_MONTHS = 7.0 / DAYS_PER_MONTH
COURSE_SLOT_WEEKS = 1.0
"""How long a course holds its treatment slot (weeks)."""
ARRIVAL_PURPOSE = 1 << 32
"""Stream purpose of the referral stream: outside the per-patient purposes of
``engine._jit.STREAM_PURPOSES`` (small integers), so it shifts no patient's draws."""
PATHWAY_COLUMNS = ("lat_wait_months", "arrival_months")
"""Extra per-patient columns of a capacity-limited run."""


class Department:
    """The hospital side of the pathway: tumour board and treatment slots."""

    def __init__(self, env: simpy.Environment, capacity: Capacity) -> None:
        self.env = env
        self.capacity = capacity
        self.slots = (simpy.Resource(env, capacity=capacity.sbrt_slots_per_week)
                      if capacity.sbrt_slots_per_week is not None else None)
        self.board_every = (capacity.tumour_board_interval_weeks * WEEK_MONTHS
                            if capacity.tumour_board_interval_weeks is not None else None)

    def next_board(self, calendar: float) -> float:
        """Calendar month of the first board meeting on or after ``calendar``."""
        meeting = math.ceil(calendar / self.board_every) * self.board_every
        if meeting < calendar:
            meeting += self.board_every
        return meeting

    def lat_start(self, patient: Patient, delay: float) -> float:
        """Patient time when a course decided now is ready: after the next board meeting (if
        any) and ``delay`` months of planning."""
        if self.board_every is None:
            return patient.t + delay
        meeting = self.next_board(patient.arrival + patient.t) - patient.arrival
        return max(patient.t, meeting) + delay

    def book_slot(self) -> Request | None:
        """Ask for a treatment slot (None if slots are unlimited)."""
        return self.slots.request() if self.slots is not None else None

    def occupy(self, request: Request) -> None:
        """A course started on ``request``'s slot: free it a week later."""
        self.env.process(self._hold(request))

    def withdraw(self, request: Request) -> None:
        """Leave the queue; a slot granted but not yet used is freed at once."""
        if request.triggered:
            self.slots.release(request)
        else:
            request.cancel()

    def _hold(self, request: Request) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(COURSE_SLOT_WEEKS * WEEK_MONTHS)
        self.slots.release(request)


def arrival_months(patient_ids: np.ndarray, seed: int,
                   arrivals_per_month: float | None) -> np.ndarray:
    """Calendar month of each patient's diagnosis: a Poisson stream in ``patient_ids`` order.

    Patient i's gap after the previous referral is its own exponential draw (from a stream
    keyed by its id), so a patient's gap is the same in every strategy. ``None``: all at 0.
    """
    out = np.zeros(len(patient_ids))
    if arrivals_per_month is None:
        return out
    clock = 0.0
    for i, pid in enumerate(patient_ids):
        clock += Stream(seed, int(pid), ARRIVAL_PURPOSE).exponential() / arrivals_per_month
        out[i] = clock
    return out


def _referral(env: simpy.Environment, patient: Patient,
              department: Department) -> Generator[simpy.Event, object, None]:
    """The patient is diagnosed at their arrival month, then follows the pathway."""
    yield env.timeout(patient.arrival)
    yield from patient_process(env, patient, department)


def simulate_cohort_reference(compiled: CompiledScenario, strategy_index: int,
                              patient_ids: np.ndarray, seed: int, capacity: Capacity, *,
                              n_traced: int = 0) -> ReferenceBatch:
    """Simulate one strategy's cohort through a capacity-limited LAT pathway.

    Parameters
    ----------
    compiled
        The compiled scenario.
    strategy_index
        Which of its strategies.
    patient_ids
        int64 ids; they are referred in this order.
    seed
        Root seed.
    capacity
        Slots, tumour board and referral rate.
    n_traced
        Trace the first ``n_traced`` patients.

    Returns
    -------
    ReferenceBatch
        Outputs and resource use as for an uncapacitated batch, plus ``lat_wait_months``
        (per patient, summed over its courses, including a course still waiting at death)
        and ``arrival_months`` (calendar month of diagnosis).
    """
    inputs = model_inputs(compiled, strategy_index)
    env = simpy.Environment()
    department = Department(env, capacity)
    arrivals = arrival_months(patient_ids, seed, capacity.arrivals_per_month)
    patients = []
    for i, (pid, arrival) in enumerate(zip(patient_ids, arrivals, strict=True)):
        patient = Patient(inputs, int(pid), seed, traced=i < n_traced, arrival=float(arrival))
        patients.append(patient)
        env.process(_referral(env, patient, department))
    env.run()
    batch = collect(patients)
    batch.lat_wait_months = np.array([p.lat_wait_months for p in patients])
    batch.arrival_months = arrivals
    return batch
