"""Public entry points of the reference engine: one patient, a batch, with or without trace.

Each patient lives in its own SimPy environment unless a ``capacity`` is given: then the
cohort shares one environment and one department (:mod:`oligosim.reference.pathway`).
Outputs are rows in the fast engine's layouts: :data:`oligosim.engine.layout.OUTPUT_COLUMNS`
for outcomes and :data:`oligosim.engine.layout.ACC_COLUMNS` for resource use.
"""

from __future__ import annotations

import numpy as np
import simpy

from oligosim.reference.inputs import ModelInputs, model_inputs
from oligosim.reference.pathway import simulate_cohort_reference
from oligosim.reference.patient import Patient, patient_process
from oligosim.reference.record import ReferenceBatch, Trace, collect
from oligosim.scenario import CompiledScenario
from oligosim.scenario.capacity import Capacity


def run_patient(inputs: ModelInputs, patient_id: int, seed: int, *,
                traced: bool = False) -> Patient:
    """Simulate one patient (diagnosed at month 0) in a SimPy environment of their own."""
    env = simpy.Environment()
    patient = Patient(inputs, patient_id, seed, traced=traced)
    env.process(patient_process(env, patient))
    env.run()
    return patient


def run_batch_reference(compiled: CompiledScenario, strategy_index: int,
                        patient_ids: np.ndarray, seed: int, *, n_traced: int = 0,
                        capacity: Capacity | None = None) -> ReferenceBatch:
    """Patients ``patient_ids`` under strategy ``strategy_index``; the first ``n_traced``
    are traced. With a ``capacity`` they form one cohort of a capacity-limited pathway
    (:func:`oligosim.reference.pathway.simulate_cohort_reference`)."""
    if capacity is not None:
        return simulate_cohort_reference(compiled, strategy_index, patient_ids, seed, capacity,
                                         n_traced=n_traced)
    inputs = model_inputs(compiled, strategy_index)
    return collect([run_patient(inputs, int(pid), seed, traced=i < n_traced)
                    for i, pid in enumerate(patient_ids)])


def simulate_patient_reference(compiled: CompiledScenario, strategy_index: int,
                               patient_id: int, seed: int) -> np.ndarray:
    """One patient under one strategy: float64[N_OUT] in ``OUTPUT_COLUMNS`` order."""
    inputs = model_inputs(compiled, strategy_index)
    return run_patient(inputs, patient_id, seed).chart.to_row()


def trace_patient_reference(compiled: CompiledScenario, strategy_index: int, patient_id: int,
                            seed: int) -> tuple[np.ndarray, Trace]:
    """Like :func:`simulate_patient_reference`, plus the patient's trace (every event and
    scan; ``Trace.to_arrays()`` gives the fast engine's trace buffers)."""
    inputs = model_inputs(compiled, strategy_index)
    patient = run_patient(inputs, patient_id, seed, traced=True)
    assert patient.trace is not None
    return patient.chart.to_row(), patient.trace


def simulate_batch_reference(compiled: CompiledScenario, strategy_index: int,
                             patient_ids: np.ndarray, seed: int, *,
                             capacity: Capacity | None = None) -> np.ndarray:
    """Patients ``patient_ids`` under one strategy: float64[n, N_OUT] (``OUTPUT_COLUMNS``).

    With a ``capacity`` the patients share a capacity-limited pathway; their waits are in
    :func:`run_batch_reference`'s ``lat_wait_months``.
    """
    return run_batch_reference(compiled, strategy_index, patient_ids, seed,
                               capacity=capacity).outputs
