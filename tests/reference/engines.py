"""Run the fast and the reference engine on the same patients and explain any difference.

Agreement rule (issue 3, DESIGN §3): a patient agrees if every §2.11 output column is equal —
times (columns in months) within 1e-9 months, everything else exactly (NaN equals NaN) — and
the resource-use accumulators agree within 1e-9. A differing patient is reported with the
columns that differ and both engines' event traces side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oligosim.engine import layout as L
from oligosim.reference import run_batch_reference, trace_patient_reference
from oligosim.reference.record import trace_buffers
from oligosim.runner import _decode_trace, simulate_strategy
from oligosim.scenario import CompiledScenario

TIME_TOLERANCE_MONTHS = 1e-9
TIME_COLUMNS = frozenset(j for j, c in enumerate(L.OUTPUT_COLUMNS) if c.endswith("_months"))


def _equal(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    if tol == 0.0:
        return (a == b) | both_nan
    return (np.abs(a - b) <= tol) | both_nan


@dataclass
class Agreement:
    """Both engines' outputs for one strategy and which patients agree."""

    compiled: CompiledScenario
    strategy_index: int
    seed: int
    patient_ids: np.ndarray
    fast: np.ndarray
    reference: np.ndarray
    fast_use: np.ndarray
    reference_use: np.ndarray

    @property
    def strategy(self) -> str:
        return self.compiled.strategies[self.strategy_index]

    @property
    def column_agrees(self) -> np.ndarray:
        """bool[n, N_OUT]."""
        cols = [_equal(self.fast[:, j], self.reference[:, j],
                       TIME_TOLERANCE_MONTHS if j in TIME_COLUMNS else 0.0)
                for j in range(L.N_OUT)]
        return np.stack(cols, axis=1)

    @property
    def identical(self) -> np.ndarray:
        """bool[n]: the patient agrees in every column and every accumulator."""
        use = _equal(self.fast_use, self.reference_use, TIME_TOLERANCE_MONTHS).all(axis=1)
        return self.column_agrees.all(axis=1) & use

    @property
    def fraction_identical(self) -> float:
        return float(self.identical.mean())

    def report(self, max_patients: int = 3) -> str:
        """The differing patients: differing columns and both engines' traces."""
        bad = np.flatnonzero(~self.identical)
        lines = [f"{self.strategy}: {len(bad)} of {len(self.patient_ids)} patients differ "
                 f"({100 * self.fraction_identical:.2f}% identical)"]
        agrees = self.column_agrees
        for i in bad[:max_patients]:
            pid = int(self.patient_ids[i])
            cols = [f"{L.OUTPUT_COLUMNS[j]}: fast {float(self.fast[i, j])!r} reference "
                    f"{float(self.reference[i, j])!r}" for j in np.flatnonzero(~agrees[i])]
            use = np.flatnonzero(~_equal(self.fast_use[i], self.reference_use[i],
                                         TIME_TOLERANCE_MONTHS))
            cols += [f"{L.ACC_COLUMNS[j]}: fast {float(self.fast_use[i, j])!r} reference "
                     f"{float(self.reference_use[i, j])!r}" for j in use]
            lines.append(f"--- patient {pid}\n  " + "\n  ".join(cols))
            lines.append(side_by_side_traces(self.compiled, self.strategy_index, pid,
                                             self.seed).to_string())
        return "\n".join(lines)


def compare_engines(compiled: CompiledScenario, strategy_index: int, patient_ids: np.ndarray,
                    seed: int) -> Agreement:
    """Simulate ``patient_ids`` on both engines."""
    fast, _, fast_use = simulate_strategy(compiled, strategy_index, patient_ids, seed)
    ref = run_batch_reference(compiled, strategy_index, patient_ids, seed)
    return Agreement(compiled, strategy_index, seed, patient_ids, fast, ref.outputs, fast_use,
                     ref.resource_use)


def side_by_side_traces(compiled: CompiledScenario, strategy_index: int, patient_id: int,
                        seed: int) -> pd.DataFrame:
    """One patient's event trace from both engines, row by row (fast | reference)."""
    name = compiled.strategies[strategy_index]
    _, buffers, _ = simulate_strategy(compiled, strategy_index,
                                      np.array([patient_id], dtype=np.int64), seed, n_traced=1)
    fast = _decode_trace(name, patient_id, buffers, 0).events
    _, trace = trace_patient_reference(compiled, strategy_index, patient_id, seed)
    ref = _decode_trace(name, patient_id, trace_buffers([trace]), 0).events
    return pd.concat({"fast": fast, "reference": ref}, axis=1)
