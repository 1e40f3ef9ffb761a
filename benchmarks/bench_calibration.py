"""Calibration wall time: P6 of DESIGN.md §7 (calibration to all targets ≤ 30 min on 2 cores).

A benchmark, not a test: it measures and writes JSON (``benchmarks/results/calibration.json``),
it asserts nothing. Two figures, in one run:

- ``short``: the real command with the default settings but a short budget (``--generations
  G --steps S``, default 3 and 2) in a fresh process; evaluations per second of wall time
  (both worker processes busy), and the default budget's wall time extrapolated from it
  (``extrapolated: true``): evaluations of the default budget / that rate.
- ``shipped``: the wall time and evaluation count recorded by the calibration shipped in the
  package (``oligosim/data/calibration/calibrated.json``), when it ran in full on this
  machine kind. Other work on the machine during that run slows it; its record says so.

Usage (from the repository root)::

    python benchmarks/bench_calibration.py            # ~2-3 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "calibration.json"
TARGET = {"id": "P6", "what": "calibration to all targets", "cores": 2,
          "target_seconds": 1800.0, "op": "<="}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    from oligosim.calibration.fit import CalibrationConfig

    cfg = CalibrationConfig()
    default_evals = cfg.generations * cfg.popsize + 1 + cfg.walkers * (cfg.steps + 1)
    with tempfile.TemporaryDirectory(dir=REPO / "benchmarks") as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [sys.executable, "-m", "oligosim.cli", "calibrate", "--out", str(out),
               "--generations", str(args.generations), "--steps", str(args.steps),
               "--draws", str(cfg.walkers * (args.steps - args.steps // 2))]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        summary = json.loads(out.read_text())["summary"]
    rate = summary["n_evaluations"] / summary["wall_seconds"]
    short = {"command": "oligosim " + " ".join(cmd[3:5]) + " FILE " + " ".join(cmd[6:]),
             "process_wall_seconds": wall, "fit_wall_seconds": summary["wall_seconds"],
             "evaluations": summary["n_evaluations"], "evaluations_per_second": rate,
             "default_budget_evaluations": default_evals,
             "default_budget_seconds": default_evals / rate, "extrapolated": True}
    shipped_path = REPO / "oligosim" / "data" / "calibration" / "calibrated.json"
    shipped = None
    if shipped_path.is_file():
        doc = json.loads(shipped_path.read_text())
        s = doc["summary"]
        shipped = {"wall_seconds": s["wall_seconds"], "evaluations": s["n_evaluations"],
                   "config": doc["config"], "created": doc["created"],
                   "note": doc.get("note", "")}
    result = {
        "benchmark": "calibration", "target": TARGET,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "short": short, "shipped": shipped,
        "met": (short["default_budget_seconds"] <= TARGET["target_seconds"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"done in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    sys.exit(code)
