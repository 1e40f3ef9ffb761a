"""The notebooks run end to end on their small cohorts (STYLE.md §12, DESIGN.md §6).

Each notebook is executed in a fresh ``python3`` kernel with the Agg backend; any cell error
fails the test with the cell's traceback. nbclient, nbformat and ipykernel are dev
dependencies: if one is missing the tests fail (not skip) and say how to install them.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = ("01_quickstart.ipynb", "02_one_patient.ipynb", "03_calibration.ipynb",
             "04_cost_effectiveness.ipynb")
TIMEOUT_SECONDS = 600


def _require(module: str) -> ModuleType:
    """Import a dev dependency or fail with an installation hint (never skip silently)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"{module} is needed to execute the notebooks but cannot be imported "
                    f"({exc}); install the dev extra: pip install -e '.[dev]'")


def _read(name: str):
    nbformat = _require("nbformat")
    return nbformat.read(NOTEBOOKS_DIR / name, as_version=4)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_saved_without_outputs(name: str) -> None:
    """Notebooks are committed clean: valid nbformat v4, python3 kernel, no outputs."""
    nbformat = _require("nbformat")
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{name}: code cells {dirty} have saved outputs; clear them"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_without_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell of the notebook executes without error in a fresh python3 kernel."""
    nbclient = _require("nbclient")
    _require("ipykernel")
    from nbclient.exceptions import CellExecutionError

    # The kernel inherits this environment (oligosim is installed in it); plots are
    # headless. The notebooks' working directory is notebooks/, as in Jupyter.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = _read(name)
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_SECONDS, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    try:
        client.execute(env=dict(os.environ))
    except CellExecutionError as exc:
        pytest.fail(f"{name} failed:\n{exc}")
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"{name}: error outputs {[e.get('ename') for e in errors]}"
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells
                 if cell.cell_type == "code" for out in cell.get("outputs", []))
    assert images >= 3, f"{name}: expected its figures to be displayed, found {images} PNGs"
