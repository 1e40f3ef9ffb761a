"""PSA wall time: P4 of DESIGN.md §7 (1,000 draws × 1,000 patients × 2 strategies ≤ 15 s on
2 cores).

A benchmark, not a test: it measures and writes JSON (``benchmarks/results/psa.json``), it
asserts nothing. Each mode runs the real command in a fresh process::

    oligosim psa benchmarks/psa_two_strategies.toml --draws D --patients 1000 --jobs 2 \\
        --biology MODE --out <tmp>

(the two-strategy scenario is scenarios/main_comparison.toml restricted to tki_alone vs
consolidative_lat). ``--biology fixed`` runs all 1,000 draws (one simulation, re-priced per
draw). ``--biology prior`` and ``--biology posterior`` (the calibration's draws) re-simulate
every draw; they run ``--prior-draws`` draws (default 50) and extrapolate linearly to 1,000
(``extrapolated: true`` in the JSON).

Usage (from the repository root, not /tmp)::

    python benchmarks/bench_psa.py                 # ~1 minute
    python benchmarks/bench_psa.py --prior-draws 1000   # the prior mode measured in full
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
SCENARIO = REPO / "benchmarks" / "psa_two_strategies.toml"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "psa.json"
TARGET = {"id": "P4", "draws": 1000, "patients": 1000, "strategies": 2, "cores": 2,
          "target_seconds": 15.0, "op": "<="}


def _run(draws: int, patients: int, jobs: int, biology: str) -> dict:
    with tempfile.TemporaryDirectory(dir=REPO / "benchmarks") as tmp:
        out = Path(tmp) / "psa"
        cmd = [sys.executable, "-m", "oligosim.cli", "psa", str(SCENARIO), "--draws",
               str(draws), "--patients", str(patients), "--jobs", str(jobs), "--biology",
               biology, "--out", str(out)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-2000:], "command": " ".join(cmd[1:])}
        meta = json.loads((out / "run.json").read_text())
    return {"command": "oligosim " + " ".join(cmd[3:-2]) + " --out DIR", "draws": draws,
            "process_wall_seconds": wall, "run_psa_seconds": meta["timings_seconds"],
            "biology_rejected_draws": meta.get("biology_rejected_draws")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--fixed-draws", type=int, default=1000)
    ap.add_argument("--prior-draws", type=int, default=50,
                    help="draws of the re-simulating modes (prior, posterior), extrapolated")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    args = ap.parse_args()

    # a first tiny run warms numba's on-disk cache so neither mode pays for compilation
    _run(2, 50, args.jobs, "fixed")
    measures = {}
    for mode, draws in (("fixed", args.fixed_draws), ("prior", args.prior_draws),
                        ("posterior", args.prior_draws)):
        r = _run(draws, args.patients, args.jobs, mode)
        if "error" not in r:
            scale = TARGET["draws"] / draws
            total = r["run_psa_seconds"]["total"]
            r["seconds_for_1000_draws"] = {
                "run_psa": total * scale if mode != "fixed" else total,
                "process": (r["process_wall_seconds"] if mode == "fixed" else
                            r["process_wall_seconds"] - total + total * scale)}
            r["extrapolated"] = draws != TARGET["draws"]
            r["pass"] = r["seconds_for_1000_draws"]["process"] <= TARGET["target_seconds"]
        measures[mode] = r
        print(f"{mode:6s} {json.dumps(r.get('seconds_for_1000_draws', r))}")
    result = {
        "benchmark": "psa", "target": TARGET, "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_average": os.getloadavg()},
        "settings": vars(args), "measures": measures,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
