"""Public entry points of the reference engine: one patient, a batch, with or without trace.

Each patient lives in its own SimPy environment (patients do not interact unless they share a
capacity-limited pathway: :mod:`oligosim.reference.pathway`). Outputs are rows in the fast
engine's layouts: :data:`oligosim.engine.layout.OUTPUT_COLUMNS` for outcomes and
:data:`oligosim.engine.layout.ACC_COLUMNS` for resource use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from oligosim.engine import layout as L
from oligosim.reference.inputs import ModelInputs, model_inputs
from oligosim.reference.patient import Patient, patient_process
from oligosim.reference.record import Trace
from oligosim.scenario import CompiledScenario


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


def run_patient(inputs: ModelInputs, patient_id: int, seed: int, *,
                traced: bool = False) -> Patient:
    """Simulate one patient (diagnosed at month 0) in a SimPy environment of their own."""
    env = simpy.Environment()
    patient = Patient(inputs, patient_id, seed, traced=traced)
    env.process(patient_process(env, patient))
    env.run()
    return patient


def collect(patients: Sequence[Patient]) -> ReferenceBatch:
    """Stack the patients' charts, ledgers and traces."""
    out = np.empty((len(patients), L.N_OUT))
    acc = np.empty((len(patients), L.N_ACC))
    for i, patient in enumerate(patients):
        out[i] = patient.chart.to_row()
        acc[i] = patient.ledger.to_row()
    traces = [p.trace for p in patients if p.trace is not None]
    return ReferenceBatch(out, acc, traces)


def run_batch_reference(compiled: CompiledScenario, strategy_index: int,
                        patient_ids: np.ndarray, seed: int, *,
                        n_traced: int = 0) -> ReferenceBatch:
    """Patients ``patient_ids`` under strategy ``strategy_index``; the first ``n_traced``
    are traced."""
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
                             patient_ids: np.ndarray, seed: int) -> np.ndarray:
    """Patients ``patient_ids`` under one strategy: float64[n, N_OUT] (``OUTPUT_COLUMNS``)."""
    return run_batch_reference(compiled, strategy_index, patient_ids, seed).outputs
