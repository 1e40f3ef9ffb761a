"""oligosim: simulate EGFR-TKI and local ablative therapy strategies in oligometastatic,
oligo-residual and oligo-progressive EGFR-mutant NSCLC (see DESIGN.md).

Public API (DESIGN.md §5.3)::

    import oligosim
    scenario = oligosim.load_scenario("scenarios/main_comparison.toml")
    results = oligosim.run_scenario(scenario, n_patients=2000, seed=1)
    results.patients      # one row per patient per strategy (DESIGN §2.11)
    results.summary       # one row per strategy (DESIGN §5.2)
    oligosim.default_parameters()   # the calibrated point shipped in the package
    oligosim.posterior_draws()      # its posterior draws (PSA samples biology from these)
"""

from importlib.metadata import PackageNotFoundError, version

from oligosim.params import (
    ParameterSet,
    default_parameters,
    literature_parameters,
    posterior_draws,
)
from oligosim.runner import Results, run_scenario
from oligosim.scenario import Scenario, load_scenario

try:
    __version__ = version("oligosim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["ParameterSet", "Results", "Scenario", "__version__", "default_parameters",
           "literature_parameters", "load_scenario", "posterior_draws", "run_scenario"]
