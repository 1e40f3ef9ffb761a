"""P1 of DESIGN.md §7: fast engine vs SimPy reference engine, same scenario and seeds.

A benchmark, not a test: it measures and writes JSON, it asserts nothing.

For each scenario the same patients (ids 0..n-1, same seed) are simulated by the reference
engine once and by the fast engine (one numba thread, JIT warm, best of ``--repeats``), every
strategy of the scenario in turn; rates are patients per wall second (and per CPU second).
The run also checks that both engines produced the same outputs (``identical_fraction``).
P1 = fast rate / reference rate; target >= 500.

Scenarios: the P2 reference scenario of bench_engine.py (all-comers, osimertinib,
consolidative LAT, 10-year horizon) — the headline P1 — and scenarios/main_comparison.toml
(six strategies).

Usage (from the repository root)::

    python benchmarks/bench_reference.py            # -> benchmarks/results/reference.json
    python benchmarks/bench_reference.py --patients 100 --repeats 2   # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "reference.json"
MAIN_SCENARIO = REPO / "scenarios" / "main_comparison.toml"
P1_TARGET = 500.0


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - w0, time.process_time() - c0


def _measure(cs, seed: int, n: int, repeats: int) -> dict[str, Any]:
    import numba
    import numpy as np

    from oligosim.reference import run_batch_reference
    from oligosim.runner import simulate_strategy

    ids = np.arange(n, dtype=np.int64)
    numba.set_num_threads(1)
    for i in range(len(cs.strategies)):  # warm-up: JIT compile / cache load, both engines
        simulate_strategy(cs, i, ids[:20], seed)
        run_batch_reference(cs, i, ids[:5], seed)
    fast_wall = fast_cpu = ref_wall = ref_cpu = 0.0
    identical = 0
    for i in range(len(cs.strategies)):
        best = None
        for _ in range(repeats):
            (out, _, acc), wall, cpu = _timed(lambda i=i: simulate_strategy(cs, i, ids, seed))
            if best is None or wall < best[0]:
                best = (wall, cpu)
        fast_wall += best[0]
        fast_cpu += best[1]
        ref, wall, cpu = _timed(lambda i=i: run_batch_reference(cs, i, ids, seed))
        ref_wall += wall
        ref_cpu += cpu
        same = (np.isclose(out, ref.outputs, rtol=0.0, atol=1e-9, equal_nan=True).all(axis=1)
                & np.isclose(acc, ref.resource_use, rtol=0.0, atol=1e-9).all(axis=1))
        identical += int(same.sum())
    total = n * len(cs.strategies)
    fast_rate, ref_rate = total / fast_wall, total / ref_wall
    return {
        "strategies": list(cs.strategies),
        "patients_per_strategy": n,
        "seed": seed,
        "fast_patients_per_second": round(fast_rate, 1),
        "fast_patients_per_cpu_second": round(total / fast_cpu, 1) if fast_cpu else None,
        "reference_patients_per_second": round(ref_rate, 2),
        "reference_patients_per_cpu_second": round(total / ref_cpu, 2) if ref_cpu else None,
        "p1_ratio": round(fast_rate / ref_rate, 1),
        "fast_seconds_best": round(fast_wall, 4),
        "reference_seconds": round(ref_wall, 3),
        "identical_fraction": identical / total,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=1000,
                    help="patients per strategy on both engines (default 1000)")
    ap.add_argument("--repeats", type=int, default=5,
                    help="fast-engine repeats per strategy; the fastest is kept (default 5)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_engine import REFERENCE_SCENARIO, SEED

    import oligosim
    from oligosim.scenario import compile_scenario, load_scenario, parse_scenario

    load_start = [round(x, 2) for x in os.getloadavg()]
    reference = _measure(compile_scenario(parse_scenario(REFERENCE_SCENARIO)), SEED,
                         args.patients, args.repeats)
    main_sc = load_scenario(MAIN_SCENARIO)
    main = _measure(compile_scenario(main_sc), main_sc.run.seed, args.patients, args.repeats)
    result = {
        "benchmark": "bench_reference.py",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "oligosim": oligosim.__version__,
                    "load_average_start": load_start,
                    "load_average_end": [round(x, 2) for x in os.getloadavg()]},
        "command": "python benchmarks/bench_reference.py " + " ".join(argv or sys.argv[1:]),
        "measures": {"P1": {"value": reference["p1_ratio"], "unit": "ratio", "target": P1_TARGET,
                            "target_op": ">=", "pass": reference["p1_ratio"] >= P1_TARGET,
                            "details": {"reference_scenario": reference,
                                        "main_comparison": main}}},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.out)
    for name, m in (("reference scenario", reference), ("main_comparison", main)):
        print(f"{name}: fast {m['fast_patients_per_second']:.0f}/s, reference "
              f"{m['reference_patients_per_second']:.1f}/s, ratio {m['p1_ratio']:.0f}x, "
              f"identical {100 * m['identical_fraction']:.2f}%")
    print(f"P1 = {reference['p1_ratio']:.0f} (target >= {P1_TARGET:.0f}); wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
