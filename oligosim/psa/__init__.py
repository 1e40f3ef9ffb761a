"""Layer 4: probabilistic sensitivity analysis (DESIGN.md §2.12, §3, §5.1).

``run_psa`` draws economic parameters from the scenario's ``[economics.uncertainty]``
distributions (and, optionally, the biology from its prior), simulates every strategy on the
same patients within a draw, prices the engines' accumulators, checkpoints every finished
draw and writes ``psa_draws.csv``, ``icer.csv``, ``ceac.csv``, ``ceaf.csv``, ``evpi.csv``,
``ce_plane.csv``, ``psa_parameters.csv`` and ``run.json``.

``run_dsa`` is the one-way sensitivity analysis: each uncertain parameter at its low and high
value (2.5%/97.5% quantiles; biology at its prior bounds), the incremental net monetary benefit
of every strategy against a reference; ``dsa.csv`` and a tornado figure.
"""

from oligosim.psa.dsa import DSA_COLUMNS, DSAResult, run_dsa
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

__all__ = ["BIOLOGY_MODES", "DRAW_COLUMNS", "DSA_COLUMNS", "DSAResult", "PSAResult",
           "calibratable_parameters", "draw_economics", "draw_parameters", "run_dsa",
           "run_psa", "wtp_grid"]
