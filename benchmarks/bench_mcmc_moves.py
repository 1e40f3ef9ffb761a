"""MCMC mixing of the calibration's proposal moves on a stand-in posterior (DESIGN.md §4, §7 P6).

A benchmark, not a test: it measures and writes JSON (``benchmarks/results/mcmc_moves.json``),
it asserts nothing. The calibration's cost is evaluations of the synthetic likelihood, and
every MCMC step costs one per walker whatever the moves; so what a move buys is fewer steps
per independent draw: a shorter integrated autocorrelation time.

The real likelihood costs ~0.3 s per evaluation, far too much to run the long chains an
autocorrelation time needs. The stand-in keeps the geometry: a normal density on the unit
cube of the free parameters (zero outside) with the mean and covariance of the shipped
posterior draws (``oligosim/data/calibration/posterior_draws.csv``), and the walkers start at
the shipped last ensemble (``walkers.csv``). ASSUMPTION (of the benchmark only): the real
posterior's mixing is limited by the same correlations; it is not normal and has noise, so
the absolute times are indicative, the ratio between moves is the result.

For each move set (``oligosim.calibration.fit.MOVES``) the script runs ``--steps`` steps and
reports the largest and median emcee integrated autocorrelation time over the parameters
from the whole run after ``--burn`` steps, and from the first 600 steps after the burn-in
(what a 600-step calibration chain would report), plus the acceptance fraction.

Usage (from the repository root)::

    python benchmarks/bench_mcmc_moves.py            # ~30 s
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "oligosim" / "data" / "calibration"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "mcmc_moves.json"


def _unit_rows(frame: pd.DataFrame) -> np.ndarray:
    from oligosim.calibration.free import FREE_PARAMETERS, to_unit

    return np.array([to_unit({p.name: float(r[p.name]) for p in FREE_PARAMETERS})
                     for _, r in frame.iterrows()])


def main() -> None:
    import emcee

    from oligosim.calibration.fit import MOVES, _emcee_moves

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=12_600)
    ap.add_argument("--burn", type=int, default=600)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    draws = _unit_rows(pd.read_csv(DATA / "posterior_draws.csv"))
    start = _unit_rows(pd.read_csv(DATA / "walkers.csv"))
    mean = draws.mean(axis=0)
    cov = np.cov(draws.T)
    prec = np.linalg.inv(cov)
    walkers, d = start.shape

    def log_prob(x: np.ndarray) -> float:
        if np.any(x <= 0.0) or np.any(x >= 1.0):
            return -np.inf
        z = x - mean
        return float(-0.5 * z @ prec @ z)

    results = {}
    for name in MOVES:
        sampler = emcee.EnsembleSampler(walkers, d, log_prob, moves=_emcee_moves(name))
        sampler.random_state = np.random.RandomState(args.seed).get_state()
        t0 = time.perf_counter()
        sampler.run_mcmc(start, args.steps, progress=False)
        seconds = time.perf_counter() - t0
        chain = sampler.get_chain()
        tau_long = emcee.autocorr.integrated_time(chain[args.burn:], quiet=True)
        tau_600 = emcee.autocorr.integrated_time(chain[args.burn:args.burn + 600], quiet=True)
        results[name] = {
            "acceptance_fraction": float(sampler.acceptance_fraction.mean()),
            "tau_max": float(tau_long.max()), "tau_median": float(np.median(tau_long)),
            "tau_max_from_600_steps": float(tau_600.max()),
            "seconds": seconds,
        }
        print(f"{name:8s} acceptance {results[name]['acceptance_fraction']:.2f}  "
              f"tau max {tau_long.max():.0f} (median {np.median(tau_long):.0f}); "
              f"from 600 steps {tau_600.max():.0f}")
    ratio = results["stretch"]["tau_max"] / results["de"]["tau_max"]
    print(f"slowest-direction autocorrelation, stretch / de: {ratio:.1f}")
    out = {
        "benchmark": "mcmc_moves",
        "design_ref": "DESIGN.md §4 (posterior sample), §7 P6 (calibration time)",
        "when": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "emcee": emcee.__version__},
        "settings": {"steps": args.steps, "burn": args.burn, "seed": args.seed,
                     "walkers": walkers, "dimensions": d,
                     "covariance_condition_number": float(np.linalg.cond(cov))},
        "moves": results,
        "tau_max_ratio_stretch_over_de": ratio,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
