"""Layer 4: run a scenario through an engine in batches, on threads (DESIGN.md §3, §5.3).

Every patient's randomness is keyed by (seed, patient_id, purpose), so results are identical
for any thread count, batch size or strategy order. Batches bound memory by the batch, not
the cohort (DESIGN §3 streaming).
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from oligosim.engine import _jit as J
from oligosim.engine import layout as L
from oligosim.errors import CapacityError, OligosimInputError, ScenarioError
from oligosim.outcomes.economics import price
from oligosim.outcomes.patients import patients_frame
from oligosim.outcomes.summary import summarise
from oligosim.params import ParameterSet
from oligosim.scenario import CompiledScenario, Scenario, compile_scenario
from oligosim.scenario.capacity import Capacity

DEFAULT_BATCH = 50_000


@dataclass
class Trace:
    """Per-patient trace of one strategy (DESIGN §2.11 trace mode).

    ``events``: DataFrame (time_months, event, lesion, value); ``scans``: DataFrame with one
    row per scan and lesion (time_months, lesion, organ, measured_mm, true_mm, cells_<clone>).
    """

    strategy: str
    patient_id: int
    events: pd.DataFrame
    scans: pd.DataFrame


@dataclass
class Results:
    """What :func:`run_scenario` returns."""

    scenario: Scenario
    strategies: list[str]
    patients: pd.DataFrame
    seed: int
    n_patients: int
    parameters: ParameterSet
    traces: list[Trace] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    resource_use: pd.DataFrame | None = None
    """Per patient and strategy: the engines' accumulators (engine.layout.ACC_COLUMNS)."""
    _summary: pd.DataFrame | None = None

    def incremental(self) -> pd.DataFrame:
        """Incremental cost-effectiveness table of the strategies' mean costs and QALYs."""
        from oligosim.outcomes.cea import incremental_analysis

        g = self.patients.groupby("strategy", observed=True)
        costs = g["cost_usd"].mean().to_dict()
        qalys = g["qaly"].mean().to_dict()
        return incremental_analysis(costs, qalys)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per strategy (DESIGN §5.2 summary.csv), computed on first access."""
        if self._summary is None:
            self._summary = summarise(self.patients, self.strategies)
        return self._summary


def resolve_run_settings(scenario: Scenario, n_patients: int | None,
                         seed: int | None) -> tuple[int, int]:
    """The cohort size and root seed of a run: the arguments, else the scenario's [run]."""
    n = scenario.run.n_patients if n_patients is None else int(n_patients)
    s = scenario.run.seed if seed is None else int(seed)
    if n < 1:
        raise OligosimInputError("n_patients must be at least 1", field="n_patients", value=n)
    if not 0 <= s < 2**63:
        raise OligosimInputError("seed out of range", field="seed", value=s,
                                 allowed="0 <= seed < 2**63")
    return n, s


def json_safe(obj: Any) -> Any:
    """A copy of nested dicts/lists with non-finite floats as None (run.json has no NaN)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def replace_folder(new: Path, dest: Path) -> None:
    """Put the complete folder ``new`` in the place of ``dest`` by renames (DESIGN.md §8:
    outputs are written to a temporary name and renamed). An existing ``dest`` is first moved
    aside to ``.<name>.old`` and removed once ``new`` is in place, so ``dest`` is never
    half-written."""
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
        os.replace(new, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, dest)


def _threads(jobs: int | None) -> int:
    n = jobs if jobs is not None else (os.cpu_count() or 1)
    if n < 1:
        raise OligosimInputError("jobs must be at least 1", field="jobs", value=jobs)
    return min(n, numba.config.NUMBA_NUM_THREADS)


@contextmanager
def _numba_threads(jobs: int | None) -> Iterator[None]:
    """Run the block on ``jobs`` numba threads (default: all cores), then restore."""
    previous = numba.get_num_threads()
    numba.set_num_threads(_threads(jobs))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def simulate_strategy(cs: CompiledScenario, index: int, patient_ids: np.ndarray, seed: int,
                      n_traced: int = 0
                      ) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]:
    """Run one strategy of a compiled scenario for ``patient_ids``.

    Returns the raw outputs (n, N_OUT), the trace buffers and the resource-use
    accumulators (n, N_ACC).
    """
    from oligosim.engine.kernel import simulate_batch

    n = patient_ids.shape[0]
    out = np.empty((n, L.N_OUT))
    acc = np.empty((n, L.N_ACC))
    trace = L.alloc_trace(n_traced)
    kp = cs.kernel
    n_chunks = max(1, min(n, 8 * numba.get_num_threads()))
    simulate_batch(patient_ids, np.uint64(seed), kp.scalars, kp.organ, kp.kill_rate,
                   kp.sensitivity, kp.penetration, kp.subtype_sigma, kp.fitness_cost,
                   kp.mutation_rate, kp.growth_multiplier, cs.policies[index], cs.population,
                   cs.count_cum, cs.met_organ_cum, cs.tropism_cum, n_chunks, out, n_traced,
                   *trace, cs.econ, acc)
    err = out[:, L.O_ERROR]
    if np.any(err == L.ERR_LESION_CAPACITY):
        pid = int(patient_ids[np.argmax(err == L.ERR_LESION_CAPACITY)])
        raise CapacityError(f"patient {pid} needed more than MAX_LESIONS={J.MAX_LESIONS} lesion "
                            "slots (engine/_jit.py); raise the capacity or lower the seeding "
                            "rate / occult burden")
    if np.any(err == L.ERR_ELIGIBILITY):
        raise ScenarioError(f"{cs.scenario.name}: the population's eligibility constraints "
                            "accepted no metastasis draw in 100,000 tries; relax max_per_organ"
                            "/max_organs/allow_brain or change met_count_pmf")
    return out, trace, acc


def _decode_trace(strategy: str, pid: int, trace: tuple[np.ndarray, ...], j: int) -> Trace:
    ev, scan_t, scans, organs = trace
    e = ev[j]
    e = e[~np.isnan(e[:, 0])]
    events = pd.DataFrame({
        "time_months": e[:, 0],
        "event": pd.Categorical.from_codes(e[:, 1].astype(int), list(L.TRACE_EVENTS)),
        "lesion": e[:, 2].astype(int),
        "value": e[:, 3],
    })
    rows = []
    for s in range(scan_t.shape[1]):
        if np.isnan(scan_t[j, s]):
            break
        for les in range(scans.shape[2]):
            if organs[j, les] < 0 and np.isnan(scans[j, s, les, 0]):
                continue
            if np.isnan(scans[j, s, les, 0]):
                continue
            rows.append((scan_t[j, s], les, J.ORGANS[int(organs[j, les])]
                         if organs[j, les] >= 0 else "new", *scans[j, s, les]))
    cols = ["time_months", "lesion", "organ", "measured_mm", "true_mm",
            *[f"cells_{c}" for c in J.CLONES]]
    return Trace(strategy, pid, events, pd.DataFrame(rows, columns=cols))


def iter_batches(cs: CompiledScenario, n_patients: int, seed: int, batch_size: int,
                 n_traced: int = 0, only: Collection[str] | None = None
                 ) -> Iterator[tuple[int, str, np.ndarray, np.ndarray, tuple, np.ndarray]]:
    """Yield (strategy index, name, patient_ids, raw outputs, trace, accumulators) per batch,
    for every strategy or those in ``only``."""
    for i, name in enumerate(cs.strategies):
        if only is not None and name not in only:
            continue
        for start in range(0, n_patients, batch_size):
            ids = np.arange(start, min(start + batch_size, n_patients), dtype=np.int64)
            k = n_traced if start == 0 else 0
            out, trace, acc = simulate_strategy(cs, i, ids, seed, k)
            yield i, name, ids, out, trace, acc


def iter_reference_batches(cs: CompiledScenario, n_patients: int, seed: int, batch_size: int,
                           n_traced: int = 0, capacity: Capacity | None = None
                           ) -> Iterator[tuple[int, str, np.ndarray, np.ndarray, tuple,
                                               np.ndarray, pd.DataFrame | None]]:
    """Like :func:`iter_batches` on the SimPy reference engine, plus a frame of pathway
    columns (``lat_wait_months``, ``arrival_months``) when ``capacity`` is given.

    A capacity-limited cohort shares one department, so it is simulated as one batch.
    """
    from oligosim.reference import (
        PATHWAY_COLUMNS,
        run_batch_reference,
        simulate_cohort_reference,
    )
    from oligosim.reference.record import trace_buffers

    size = n_patients if capacity is not None else batch_size
    for i, name in enumerate(cs.strategies):
        for start in range(0, n_patients, size):
            ids = np.arange(start, min(start + size, n_patients), dtype=np.int64)
            k = n_traced if start == 0 else 0
            if capacity is None:
                batch = run_batch_reference(cs, i, ids, seed, n_traced=k)
                extra = None
            else:
                batch = simulate_cohort_reference(cs, i, ids, seed, capacity, n_traced=k)
                extra = pd.DataFrame(dict(zip(PATHWAY_COLUMNS, (batch.lat_wait_months,
                                                                batch.arrival_months),
                                              strict=True)))
            err = batch.outputs[:, L.O_ERROR]
            if np.any(err == L.ERR_LESION_CAPACITY):
                pid = int(ids[np.argmax(err == L.ERR_LESION_CAPACITY)])
                raise CapacityError(f"patient {pid} needed more than MAX_LESIONS="
                                    f"{J.MAX_LESIONS} lesion slots (engine/_jit.py)")
            if np.any(err == L.ERR_ELIGIBILITY):
                raise ScenarioError(f"{cs.scenario.name}: the population's eligibility "
                                    "constraints accepted no metastasis draw in 100,000 tries")
            yield i, name, ids, batch.outputs, trace_buffers(batch.traces), \
                batch.resource_use, extra


def run_scenario(scenario: Scenario, n_patients: int | None = None, seed: int | None = None,
                 engine: str = "numba", jobs: int | None = None, *,
                 parameters: ParameterSet | None = None, batch_size: int = DEFAULT_BATCH,
                 n_traced: int = 0,
                 progress: Callable[[int, int], None] | None = None,
                 capacity: Capacity | None = None, economics: bool = True) -> Results:
    """Simulate every strategy of ``scenario`` (DESIGN §5.3).

    Parameters
    ----------
    scenario : Scenario
        From :func:`oligosim.load_scenario`.
    n_patients, seed : int, optional
        Override the scenario's ``[run]`` values.
    engine : {"numba", "reference"}
        The fast engine, or the SimPy reference engine (same patients, ~1000x slower;
        the only engine for a capacity-limited pathway).
    jobs : int, optional
        Threads (default: all cores). Results do not depend on it.
    parameters : ParameterSet, optional
        Base parameters (default: :func:`oligosim.default_parameters`); the scenario's
        ``[parameters]`` overrides apply on top.
    batch_size : int
        Patients per kernel call; bounds memory, never changes results.
    n_traced : int
        Trace the first ``n_traced`` patients of every strategy (spider/swimmer plots).
    progress : callable, optional
        Called with (patients done, patients total) after every batch.
    capacity : Capacity, optional
        A capacity-limited LAT pathway (reference engine only; default: the scenario's
        ``capacity`` section if it has one). Adds ``lat_wait_months`` and ``arrival_months``
        to ``.patients``.
    economics : bool
        False skips pricing (no cost/QALY/LY columns) and the resource-use table: the
        calibration's inner loop needs survival and response only.
    """
    if engine not in ("numba", "reference"):
        raise OligosimInputError("unknown engine", field="engine", value=engine,
                                 allowed="'numba', 'reference'")
    if capacity is None:
        capacity = getattr(scenario, "capacity", None)
    if capacity is not None and engine != "reference":
        raise OligosimInputError(
            "a capacity-limited pathway (patients competing for LAT slots) is simulated by "
            "the reference engine only", field="capacity", value=capacity,
            allowed="engine='reference', or no capacity section")
    n, s = resolve_run_settings(scenario, n_patients, seed)
    if batch_size < 1:
        raise OligosimInputError("batch_size must be at least 1", field="batch_size",
                                 value=batch_size)
    cs = compile_scenario(scenario, parameters)
    t0 = time.perf_counter()
    frames: list[pd.DataFrame] = []
    use_frames: list[pd.DataFrame] = []
    traces: list[Trace] = []
    done = 0
    total = n * len(cs.strategies)
    with _numba_threads(jobs):
        batches = (iter_batches(cs, n, s, batch_size, n_traced) if engine == "numba" else
                   iter_reference_batches(cs, n, s, batch_size, n_traced, capacity))
        for _i, name, ids, out, trace, acc, *extra in batches:
            frame = patients_frame(out, ids, name)
            if extra and extra[0] is not None:
                frame = pd.concat([frame, extra[0]], axis=1)
            if economics:
                money = price(acc, scenario.economics)
                frames.append(pd.concat([frame, money], axis=1))
                use_frames.append(pd.DataFrame(acc, columns=list(L.ACC_COLUMNS)).assign(
                    strategy=name, patient_id=ids))
            else:
                frames.append(frame)
            if ids[0] == 0:
                traces.extend(_decode_trace(name, int(ids[j]), trace, j)
                              for j in range(min(n_traced, ids.shape[0])))
            done += ids.shape[0]
            if progress is not None:
                progress(done, total)
    t_sim = time.perf_counter() - t0
    patients = pd.concat(frames, ignore_index=True)
    patients["strategy"] = pd.Categorical(patients["strategy"], categories=list(cs.strategies))
    resource_use = pd.concat(use_frames, ignore_index=True) if use_frames else None
    return Results(scenario, list(cs.strategies), patients, s, n, cs.parameters, traces,
                   {"simulate_seconds": t_sim}, resource_use=resource_use)


def simulate_outputs(scenario: Scenario, n_patients: int | None = None,
                     seed: int | None = None, jobs: int | None = None, *,
                     parameters: ParameterSet | None = None,
                     strategies: Collection[str] | None = None,
                     batch_size: int = DEFAULT_BATCH
                     ) -> tuple[CompiledScenario, dict[str, np.ndarray]]:
    """The numba engine's raw outputs of the strategies, undecoded: calibration's inner loop.

    The same patients and numbers as :func:`run_scenario` (same seed, same kernel calls), but
    no patients table, pricing or traces, and only the ``strategies`` asked for (a
    strategy's patients do not depend on the others: randomness is keyed by patient and
    purpose). Building and slicing the table was about a tenth of a calibration evaluation,
    and ATOM's unused control arm another tenth (§7 P6). Decode columns with
    :func:`oligosim.outcomes.patients.output_arrays`.

    Returns
    -------
    compiled, outputs
        The compiled scenario (its ``parameters`` include the scenario's overrides) and, per
        strategy name simulated, an array (n_patients, ``engine.layout.N_OUT``) whose row i
        is patient i.

    Raises
    ------
    OligosimInputError
        If a name in ``strategies`` is not a strategy of the scenario.
    """
    n, s = resolve_run_settings(scenario, n_patients, seed)
    if batch_size < 1:
        raise OligosimInputError("batch_size must be at least 1", field="batch_size",
                                 value=batch_size)
    cs = compile_scenario(scenario, parameters)
    wanted = list(cs.strategies) if strategies is None else list(strategies)
    unknown = [w for w in wanted if w not in cs.strategies]
    if unknown:
        raise OligosimInputError(f"not a strategy of scenario {scenario.name!r}",
                                 field="strategies", value=unknown,
                                 allowed=", ".join(cs.strategies))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in cs.strategies if name in wanted}
    with _numba_threads(jobs):
        for _i, name, _ids, out, _trace, _acc in iter_batches(cs, n, s, batch_size,
                                                              only=parts.keys()):
            parts[name].append(out)
    return cs, {name: p[0] if len(p) == 1 else np.concatenate(p) for name, p in parts.items()}
