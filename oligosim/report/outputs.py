"""Write the output folder of ``oligosim run`` atomically (DESIGN.md §5.2)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from oligosim.outcomes.survival import km_curves
from oligosim.report.figures import write_figures
from oligosim.runner import Results, json_safe, replace_folder
from oligosim.scenario import scenario_hash


def run_metadata(results: Results, version: str) -> dict[str, Any]:
    """Provenance recorded in run.json."""
    import numba

    return json_safe({
        "package": "oligosim",
        "version": version,
        "scenario": results.scenario.name,
        "scenario_sha256": scenario_hash(results.scenario),
        "seed": results.seed,
        "n_patients": results.n_patients,
        "strategies": results.strategies,
        "parameter_set": results.parameters.name,
        "parameters": results.parameters.to_dict(),
        "random_streams": "Philox4x64-10 keyed by (seed, purpose); counter (block, patient_id, "
                          "substream, 0) — DESIGN.md §2.13",
        "engine": "numba",
        "timings_seconds": results.timings,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "threads": numba.get_num_threads(),
    })


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_outputs(results: Results, out_dir: str | Path, version: str) -> Path:
    """Write the output folder of DESIGN.md §5.2 into ``out_dir``.

    ``summary.csv``, ``patients.parquet``, ``km.csv``, ``incremental.csv`` (incremental
    cost-effectiveness of mean costs and QALYs, DESIGN §2.12), ``resource_use.parquet``
    (the engines' accumulators), ``run.json`` and ``figures/`` (see
    :func:`oligosim.report.figures.write_figures`; spider and swimmer plots only if the run
    traced patients). Everything is first written into a temporary sibling folder, then
    swapped in with a rename, so a crash never leaves a half-written output folder and an
    existing ``out_dir`` is replaced only once the new one is complete.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        # mkdtemp creates the folder 0700; give the output the permissions of a plain mkdir
        os.chmod(tmp, 0o777 & ~_umask())
        results.summary.to_csv(tmp / "summary.csv", index=False)
        results.patients.to_parquet(tmp / "patients.parquet", index=False)
        km_curves(results.patients).to_csv(tmp / "km.csv", index=False)
        results.incremental().to_csv(tmp / "incremental.csv", index=False)
        if results.resource_use is not None:
            results.resource_use.to_parquet(tmp / "resource_use.parquet", index=False)
        (tmp / "run.json").write_text(json.dumps(run_metadata(results, version), indent=2))
        write_figures(results, tmp / "figures")
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
