"""Layer 4: probabilistic sensitivity analysis (DESIGN.md §2.12, §3, §5.1).

``run_psa`` draws economic parameters from the scenario's ``[economics.uncertainty]``
distributions (and, optionally, the biology from its prior), simulates every strategy on the
same patients within a draw, prices the engines' accumulators, checkpoints every finished
draw and writes ``psa_draws.csv``, ``icer.csv``, ``ceac.csv``, ``ceaf.csv``, ``evpi.csv``,
``ce_plane.csv``, ``psa_parameters.csv`` and ``run.json``.
"""

from oligosim.psa.run import (
    BIOLOGY_MODES,
    DRAW_COLUMNS,
    PSAResult,
    calibratable_parameters,
    draw_economics,
    draw_parameters,
    run_psa,
    wtp_grid,
)

__all__ = ["BIOLOGY_MODES", "DRAW_COLUMNS", "PSAResult", "calibratable_parameters",
           "draw_economics", "draw_parameters", "run_psa", "wtp_grid"]
