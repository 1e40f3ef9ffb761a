"""Engine speed and memory benchmarks: P2, P3, P5 and P7 of DESIGN.md §7.

This is a benchmark, not a test: it measures and writes JSON, it asserts nothing
(DESIGN §7: "Speed is measured in benchmarks/ (JSON output, ratios in one run), never by timed
tests"). See benchmarks/README.md.

Measures
--------
P2  patient histories per second per core, reference scenario (all-comers, osimertinib,
    consolidative LAT, 10-year horizon), one numba thread, best of ``--repeats``.
P3  parallel efficiency with 2 threads: rate(2 threads) / (2 * rate(1 thread)), same run.
P5  peak RSS of a fresh process streaming ``--p5-patients`` patients in batches of 50,000
    through the engine, keeping only running aggregates.
P7  ``import oligosim`` + a first 100-patient ``run_scenario`` of scenarios/main_comparison.toml
    in a fresh process, with a warm JIT cache.

Usage (from the repository root)::

    python benchmarks/bench_engine.py            # full run -> benchmarks/results/engine.json
    python benchmarks/bench_engine.py --quick    # smoke run with small cohorts
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "engine.json"
MAIN_SCENARIO = REPO / "scenarios" / "main_comparison.toml"

SEED = 20261126
P5_BATCH = 50_000
P5_BUDGET_SECONDS = 480.0  # cap the P5 stream at ~8 minutes at the measured rate

# DESIGN.md §7 targets
TARGETS = {
    "P2": {"target": 170_000.0, "op": ">=", "unit": "patients/s/core"},
    "P3": {"target": 0.85, "op": ">=", "unit": "ratio"},
    "P5": {"target": 1e9, "op": "<=", "unit": "bytes", "target_cohort": 10**7},
    "P7": {"target": 3.0, "op": "<=", "unit": "s"},
}

# all-comers: 0..15 visible metastases, no oligometastatic eligibility limits
ALL_COMERS_PMF = [0.05, 0.15, 0.15, 0.13, 0.11, 0.09, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02,
                  0.02, 0.01, 0.005, 0.005]

REFERENCE_SCENARIO: dict[str, Any] = {
    "name": "bench_reference_all_comers",
    "description": "DESIGN §7 reference scenario: all-comers, osimertinib, consolidative LAT, "
                   "10-year horizon",
    "run": {"horizon_months": 120.0, "seed": SEED},
    "population": {"met_count_pmf": ALL_COMERS_PMF, "max_mets": 15},
    "strategy": [{"name": "consolidative_lat", "tki": "osimertinib",
                  "consolidative_lat": {"time_months": 3.0, "max_lesions": 4}}],
}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def _compiled_reference():
    from oligosim.scenario import compile_scenario, parse_scenario

    return compile_scenario(parse_scenario(REFERENCE_SCENARIO, source="bench_engine.py"))


def _simulate(cs, ids):
    """``simulate_strategy`` for strategy 0; a CapacityError is caught and returned.

    The engine checks capacity after the whole batch has been simulated, so the time and
    memory of a batch that raises are those of a completed batch; only its outputs are lost.
    """
    from oligosim.errors import CapacityError
    from oligosim.runner import simulate_strategy

    try:
        out, _, _ = simulate_strategy(cs, 0, ids, SEED)
    except CapacityError as exc:
        return None, str(exc)
    return out, None


def _ids(start: int, stop: int):
    import numpy as np

    return np.arange(start, stop, dtype=np.int64)


def _git_commit() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                               timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain")
    return {"commit": commit, "dirty": bool(status) if status is not None else None,
            "note": None if commit else "no commit available (git missing or no commits yet)"}


def _machine() -> dict[str, Any]:
    import numba
    import numpy as np

    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_num_threads_max": numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer_config": numba.config.THREADING_LAYER,
        "git": _git_commit(),
    }
    try:
        import oligosim

        info["oligosim"] = oligosim.__version__
    except ImportError:  # pragma: no cover
        info["oligosim"] = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import psutil

        info["memory_total_bytes"] = psutil.virtual_memory().total
    except ImportError:
        info["memory_total_bytes"] = None
    return info


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _judge(pid: str, value: float | None) -> bool | None:
    if value is None:
        return None
    t = TARGETS[pid]
    return value >= t["target"] if t["op"] == ">=" else value <= t["target"]


def _measure(pid: str, name: str, value: float | None, **details: Any) -> dict[str, Any]:
    t = TARGETS[pid]
    return {"id": pid, "measure": name, "value": value, "unit": t["unit"],
            "target": t["target"], "target_op": t["op"], "pass": _judge(pid, value),
            "details": details}


def _run_worker(args: list[str], timeout: float) -> tuple[dict[str, Any], float]:
    """Run this script as a fresh worker process; return its JSON answer and wall seconds."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], cwd=REPO,
                       capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"worker {args} failed (exit {r.returncode}):\n{r.stderr[-4000:]}")
    last = [ln for ln in r.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(last), wall


# --------------------------------------------------------------------------------------------
# P2 / P3: throughput, 1 and 2 threads (in this process)
# --------------------------------------------------------------------------------------------

def bench_throughput(n_patients: int, repeats: int) -> tuple[dict[str, Any], dict[str, Any]]:
    import numba

    t0 = time.perf_counter()
    cs = _compiled_reference()
    t_compile_scenario = time.perf_counter() - t0

    ids = _ids(0, n_patients)
    previous = numba.get_num_threads()
    # warm-up: JIT compile (or load from the on-disk cache) on a small batch, both thread counts
    t0 = time.perf_counter()
    _simulate(cs, ids[:min(200, n_patients)])
    t_warm = time.perf_counter() - t0

    max_threads = numba.config.NUMBA_NUM_THREADS
    thread_counts = [1, 2] if max_threads >= 2 else [1]
    runs: dict[int, dict[str, Any]] = {}
    try:
        for nt in thread_counts:
            numba.set_num_threads(nt)
            _simulate(cs, ids[:min(200, n_patients)])  # settle the thread pool
            walls, cpus = [], []
            for _ in range(repeats):
                c0, w0 = time.process_time(), time.perf_counter()
                out, err = _simulate(cs, ids)
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
                del out
            best = min(walls)
            runs[nt] = {
                "threads": nt,
                "patients": n_patients,
                "wall_seconds": [round(w, 4) for w in walls],
                "cpu_seconds": [round(c, 4) for c in cpus],
                "best_wall_seconds": round(best, 4),
                "patients_per_second": n_patients / best,
                "patients_per_cpu_second": n_patients / min(cpus),
                "capacity_error": err,
            }
    finally:
        numba.set_num_threads(previous)

    rate1 = runs[1]["patients_per_second"]
    p2 = _measure("P2", "reference scenario, patient histories per second per core (1 thread)",
                  rate1, runs=list(runs.values()), warm_seconds=round(t_warm, 3),
                  compile_scenario_seconds=round(t_compile_scenario, 4),
                  note="warm_seconds = first simulate_strategy call (numba JIT compile or "
                       "cache load), excluded from the rates")
    if 2 in runs:
        rate2 = runs[2]["patients_per_second"]
        eff = rate2 / (2.0 * rate1)
        cpu_eff = runs[2]["patients_per_cpu_second"] / runs[1]["patients_per_cpu_second"]
        p3 = _measure("P3", "parallel efficiency, 2 threads: rate2 / (2 * rate1)", eff,
                      rate_1_thread=rate1, rate_2_threads=rate2,
                      cpu_time_efficiency=cpu_eff,
                      note="value uses wall-clock rates; cpu_time_efficiency (patients per "
                           "CPU-second, 2 threads / 1 thread) is a proxy that other processes "
                           "on a loaded machine disturb less, but it misses idle load imbalance")
    else:
        p3 = _measure("P3", "parallel efficiency, 2 threads: rate2 / (2 * rate1)", None,
                      note=f"numba allows only {max_threads} thread(s) here")
    return p2, p3


# --------------------------------------------------------------------------------------------
# P5: peak RSS while streaming (fresh worker process)
# --------------------------------------------------------------------------------------------

def _worker_p5(n_patients: int, batch: int, budget_seconds: float) -> dict[str, Any]:
    import numba
    import numpy as np
    import psutil

    from oligosim.engine.layout import OUTPUT_COLUMNS

    proc = psutil.Process()
    col = OUTPUT_COLUMNS.index("os_months")
    rss_start = proc.memory_info().rss
    cs = _compiled_reference()
    _simulate(cs, _ids(0, 200))  # warm-up (JIT cache load)
    rss_warm = proc.memory_info().rss

    peak = [rss_warm]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    simulated, count, os_sum = 0, 0, 0.0
    capacity_errors: list[dict[str, Any]] = []
    rss_after_batch: list[int] = []
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        for start in range(0, n_patients, batch):
            ids = _ids(start, min(start + batch, n_patients))
            out, err = _simulate(cs, ids)
            simulated += ids.shape[0]
            if out is None:
                capacity_errors.append({"batch_start": start, "error": err})
            else:
                count += out.shape[0]
                os_sum += float(np.sum(out[:, col]))
            del out, ids
            rss_after_batch.append(proc.memory_info().rss)
            elapsed = time.perf_counter() - t0
            if elapsed * (len(rss_after_batch) + 1) / len(rss_after_batch) > budget_seconds:
                break  # the next batch would overrun the time budget
    finally:
        stop.set()
        sampler.join()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    n_b = len(rss_after_batch)
    return {
        "patients": simulated,
        "patients_aggregated": count,
        "stopped_by_time_budget": simulated < n_patients,
        "batches_lost_to_capacity_error": len(capacity_errors),
        "capacity_errors": capacity_errors[:20],
        "batch_size": batch,
        "batches": n_b,
        "threads": numba.get_num_threads(),
        "stream_seconds": wall,
        "patients_per_second": simulated / wall,
        "stream_cpu_seconds": cpu,
        "mean_os_months": os_sum / count if count else None,
        "rss_start_bytes": rss_start,
        "rss_after_warmup_bytes": rss_warm,
        "rss_after_first_batch_bytes": rss_after_batch[0],
        "rss_after_last_batch_bytes": rss_after_batch[-1],
        "rss_growth_first_to_last_batch_bytes": rss_after_batch[-1] - rss_after_batch[0],
        "rss_after_batch_sample_bytes": rss_after_batch[:: max(1, n_b // 20)],
        "peak_rss_sampled_bytes": peak[0],
        "peak_rss_ru_maxrss_bytes": maxrss,
        "peak_rss_bytes": max(peak[0], maxrss),
    }


def bench_p5(requested: int, batch: int, rate_estimate: float | None,
             budget_seconds: float) -> dict[str, Any]:
    n = requested
    capped = False
    est = requested / rate_estimate if rate_estimate else None
    if est is not None and est > budget_seconds:
        n = max(batch, int(budget_seconds * rate_estimate) // batch * batch)
        capped = n < requested
    timeout = max(600.0, 4.0 * min(budget_seconds, n / rate_estimate if rate_estimate
                                   else 3600.0))
    res, wall = _run_worker(["--worker", "p5", "--n", str(n), "--batch", str(batch),
                             "--budget", str(budget_seconds)], timeout)
    peak = res["peak_rss_bytes"]
    return _measure(
        "P5", "peak RSS streaming the reference scenario, fresh process", peak,
        peak_rss_mib=round(peak / 2**20, 1), cohort_patients=res["patients"],
        cohort_requested=requested,
        cohort_capped_by_time_budget=capped or res["stopped_by_time_budget"],
        time_budget_seconds=budget_seconds,
        estimated_seconds_for_requested=round(est, 1) if est is not None else None,
        target_cohort=TARGETS["P5"]["target_cohort"], process_wall_seconds=round(wall, 2),
        note="target is for 10^7 patients; memory is bounded by the batch, so compare "
             "rss_growth_first_to_last_batch_bytes (should be ~0) to judge extrapolation. "
             "A batch whose simulate_strategy raised CapacityError was fully simulated (the "
             "check follows the kernel) but is left out of the aggregates",
        **res)


# --------------------------------------------------------------------------------------------
# P7: import + first simulation with a warm JIT cache (fresh worker processes)
# --------------------------------------------------------------------------------------------

def _worker_p7(n_patients: int) -> dict[str, Any]:
    c0, t0 = time.process_time(), time.perf_counter()
    import oligosim

    t1 = time.perf_counter()
    scenario = oligosim.load_scenario(MAIN_SCENARIO)
    res = oligosim.run_scenario(scenario, n_patients=n_patients, jobs=1)
    t2 = time.perf_counter()
    return {"import_seconds": t1 - t0, "first_run_seconds": t2 - t1, "total_seconds": t2 - t0,
            "cpu_seconds": time.process_time() - c0, "rows": len(res.patients),
            "strategies": len(res.strategies)}


def _import_breakdown(top: int = 12) -> list[dict[str, Any]] | None:
    """Largest cumulative import times of ``import oligosim`` (python -X importtime)."""
    try:
        r = subprocess.run([sys.executable, "-X", "importtime", "-c", "import oligosim"],
                           cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    rows = []
    for line in r.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        rows.append({"module": name.strip(), "depth": (len(name) - len(name.lstrip())) // 2,
                     "cumulative_seconds": int(parts[1]) / 1e6})
    rows.sort(key=lambda x: -x["cumulative_seconds"])
    return rows[:top]


def bench_p7(repeats: int, n_patients: int = 100) -> dict[str, Any]:
    warm, warm_wall = _run_worker(["--worker", "p7", "--n", str(n_patients)], 1800)
    runs = []
    for _ in range(repeats):
        r, wall = _run_worker(["--worker", "p7", "--n", str(n_patients)], 600)
        r["process_wall_seconds"] = wall
        runs.append(r)
    totals = [r["total_seconds"] for r in runs]
    value = statistics.median(totals)
    return _measure(
        "P7", "import oligosim + first run_scenario (main_comparison.toml, 100 patients, jobs=1),"
              " warm JIT cache, fresh process (median)", value,
        scenario=str(MAIN_SCENARIO.relative_to(REPO)), n_patients=n_patients, jobs=1,
        repeats=repeats, min_seconds=min(totals), max_seconds=max(totals),
        cache_warming_run=dict(warm, process_wall_seconds=warm_wall),
        import_breakdown=_import_breakdown(),
        runs=[{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
              for r in runs],
        note="value is measured inside the child, from before `import oligosim` to the end of "
             "run_scenario; process_wall_seconds adds interpreter start-up")


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------

def _fmt(m: dict[str, Any]) -> str:
    v = m["value"]
    if v is None:
        return "n/a"
    if m["id"] == "P5":
        return f"{v / 2**20:,.0f} MiB"
    if m["id"] == "P2":
        return f"{v:,.0f} /s"
    if m["id"] == "P7":
        return f"{v:.2f} s"
    return f"{v:.3f}"


def _target(m: dict[str, Any]) -> str:
    t = m["target"]
    if m["id"] == "P5":
        return f"{m['target_op']} {t / 1e9:g} GB"
    if m["id"] == "P2":
        return f"{m['target_op']} {t:,.0f} /s"
    return f"{m['target_op']} {t:g}"


def print_table(result: dict[str, Any]) -> None:
    rows = [("id", "measure", "value", "target", "pass")]
    for m in result["measures"].values():
        ok = {True: "PASS", False: "FAIL", None: "-"}[m["pass"]]
        rows.append((m["id"], m["measure"][:62], _fmt(m), _target(m), ok))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    m = result["measures"]
    for x in m.values():
        if "error" in x["details"]:
            print(f"  {x['id']} ERROR: {x['details']['error'][:300]}")
    if "runs" in m.get("P2", {}).get("details", {}):
        for run in m["P2"]["details"]["runs"]:
            print(f"  P2 {run['threads']} thread(s): {run['patients_per_second']:,.0f} patients/s"
                  f" (wall), {run['patients_per_cpu_second']:,.0f} patients/CPU-s")
            if run["capacity_error"]:
                print(f"     capacity error: {run['capacity_error']}")
        print(f"  P2 warm-up (JIT compile / cache load): {m['P2']['details']['warm_seconds']} s")
    if "cohort_patients" in m.get("P5", {}).get("details", {}):
        d = m["P5"]["details"]
        growth = d["rss_growth_first_to_last_batch_bytes"] / 2**20
        print(f"  P5 cohort {d['cohort_patients']:,} (requested {d['cohort_requested']:,}), "
              f"RSS growth first->last batch {growth:+.1f} MiB, "
              f"{d['patients_per_second']:,.0f} patients/s")
        if d["batches_lost_to_capacity_error"]:
            print(f"     {d['batches_lost_to_capacity_error']} batch(es) raised CapacityError "
                  f"(left out of the aggregates), e.g. {d['capacity_errors'][0]['error']}")
    print(f"  load average start/end: {result['machine']['load_average_start']} / "
          f"{result['machine']['load_average_end']}")


def write_json(result: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=None,
                    help="P2/P3 cohort per timed call (default 20000; --quick 2000)")
    ap.add_argument("--p5-patients", type=int, default=None,
                    help="P5 streamed cohort (default 1000000; --quick 20000)")
    ap.add_argument("--p5-batch", type=int, default=None,
                    help=f"P5 batch size (default {P5_BATCH}; --quick 5000)")
    ap.add_argument("--p5-budget-seconds", type=float, default=P5_BUDGET_SECONDS,
                    help="shrink the P5 cohort (to whole batches) if streaming it would take "
                         "longer than this at the P2 rate (default %(default)s; 0 = no cap)")
    ap.add_argument("--repeats", type=int, default=3, help="P2 repeats, best kept (default 3)")
    ap.add_argument("--p7-repeats", type=int, default=None,
                    help="P7 fresh-process repeats, median kept (default 3; --quick 1)")
    ap.add_argument("--only", default="P2,P5,P7",
                    help="comma list of measure groups to run: P2 (includes P3), P5, P7")
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    ap.add_argument("--worker", choices=["p5", "p7"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, default=float("inf"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker == "p5":
        print(json.dumps(_worker_p5(a.n, a.batch, a.budget)))
        return 0
    if a.worker == "p7":
        print(json.dumps(_worker_p7(a.n)))
        return 0

    n_p2 = a.patients or (2_000 if a.quick else 20_000)
    n_p5 = a.p5_patients or (20_000 if a.quick else 1_000_000)
    batch = a.p5_batch or (5_000 if a.quick else P5_BATCH)
    p7_repeats = a.p7_repeats or (1 if a.quick else 3)
    only = {s.strip().upper() for s in a.only.split(",") if s.strip()}

    started = datetime.now(UTC)
    load_start = _load()
    measures: dict[str, Any] = {}
    if "P2" in only:
        print(f"P2/P3: {n_p2:,} patients x {a.repeats} repeats, 1 and 2 threads ...", flush=True)
        try:
            measures["P2"], measures["P3"] = bench_throughput(n_p2, a.repeats)
        except Exception as exc:  # record and go on: one failure must not lose the rest
            measures["P2"] = _measure("P2", "reference scenario throughput", None,
                                      error=repr(exc))
    if "P5" in only:
        rate = None
        if "runs" in measures.get("P2", {}).get("details", {}):
            # P5 streams on all threads: use the best measured wall rate
            rate = max(r["patients_per_second"] for r in measures["P2"]["details"]["runs"])
        budget = a.p5_budget_seconds if a.p5_budget_seconds > 0 else float("inf")
        print(f"P5: streaming up to {n_p5:,} patients in batches of {batch:,} ...", flush=True)
        try:
            measures["P5"] = bench_p5(n_p5, batch, rate, budget)
        except Exception as exc:
            measures["P5"] = _measure("P5", "peak RSS streaming", None, error=repr(exc))
    if "P7" in only:
        print(f"P7: warm the cache, then {p7_repeats} fresh process(es) ...", flush=True)
        try:
            measures["P7"] = bench_p7(p7_repeats)
        except Exception as exc:
            measures["P7"] = _measure("P7", "import + first simulation", None, error=repr(exc))

    machine = _machine()
    machine["load_average_start"] = load_start
    machine["load_average_end"] = _load()
    result = {
        "benchmark": "engine",
        "design_ref": "DESIGN.md §7 (P2, P3, P5, P7)",
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]] if argv is None else argv,
        "machine": machine,
        "settings": {
            "quick": a.quick,
            "seed": SEED,
            "p2_patients": n_p2,
            "p2_repeats": a.repeats,
            "p2_thread_counts": [r["threads"] for r in measures["P2"]["details"]["runs"]]
            if "runs" in measures.get("P2", {}).get("details", {}) else None,
            "p5_patients_requested": n_p5,
            "p5_batch": batch,
            "p5_budget_seconds": a.p5_budget_seconds,
            "p7_repeats": p7_repeats,
            "p7_scenario": str(MAIN_SCENARIO.relative_to(REPO)),
            "reference_scenario": REFERENCE_SCENARIO,
        },
        "measures": measures,
    }
    write_json(result, a.out)
    print_table(result)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
