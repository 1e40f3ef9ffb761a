"""Layer 4: calibration targets, likelihood and the validation report (DESIGN.md §4).

- :mod:`oligosim.calibration.targets`: the published targets (``oligosim/data/targets.toml``)
  with provenance, their sd on the likelihood scale, and :func:`log_likelihood`;
- :mod:`oligosim.calibration.validate`: :func:`validate`, every target against a model run
  (``oligosim validate``).
"""

from oligosim.calibration.targets import (
    ENDPOINTS,
    Cohort,
    Target,
    load_targets,
    log_likelihood,
    targets_frame,
)
from oligosim.calibration.validate import NOT_COMPUTABLE, REPORT_COLUMNS, model_value, validate

__all__ = ["ENDPOINTS", "NOT_COMPUTABLE", "REPORT_COLUMNS", "Cohort", "Target", "load_targets",
           "log_likelihood", "model_value", "targets_frame", "validate"]
