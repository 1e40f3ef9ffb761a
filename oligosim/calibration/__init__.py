"""Layer 4: calibration targets, likelihood, fit and the validation report (DESIGN.md §4).

- :mod:`oligosim.calibration.targets`: the published targets (``oligosim/data/targets.toml``)
  with provenance, their sd on the likelihood scale, and :func:`log_likelihood`;
- :mod:`oligosim.calibration.local_control`: local control by site from the engine's
  radiobiology in closed form;
- :mod:`oligosim.calibration.validate`: :func:`validate`, every target against a model run
  (``oligosim validate``);
- :mod:`oligosim.calibration.free`: the free parameters, their priors and reasons;
- :mod:`oligosim.calibration.objective`: the weighted synthetic log-likelihood;
- :mod:`oligosim.calibration.fit`: :func:`calibrate`, CMA-ES then emcee, resumable
  (``oligosim calibrate``).
"""

from oligosim.calibration.fit import CalibrationConfig, CalibrationResult, calibrate
from oligosim.calibration.free import FREE_PARAMETERS, FreeParameter
from oligosim.calibration.targets import (
    ENDPOINTS,
    Cohort,
    Target,
    load_targets,
    log_likelihood,
    targets_frame,
)
from oligosim.calibration.validate import NOT_COMPUTABLE, REPORT_COLUMNS, model_value, validate

__all__ = ["ENDPOINTS", "FREE_PARAMETERS", "NOT_COMPUTABLE", "REPORT_COLUMNS",
           "CalibrationConfig", "CalibrationResult", "Cohort", "FreeParameter", "Target",
           "calibrate", "load_targets", "log_likelihood", "model_value", "targets_frame",
           "validate"]
