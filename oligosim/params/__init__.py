"""Layer 1: the parameter set with sources and priors (DESIGN.md §2, §4)."""

from oligosim.params.parameters import (
    SPECS,
    KernelParameters,
    ParameterSet,
    default_parameters,
    draw_parameters,
    literature_parameters,
    load_parameter_file,
    posterior_draws,
    shipped_calibration,
    shipped_calibration_table,
)

__all__ = ["SPECS", "KernelParameters", "ParameterSet", "default_parameters",
           "draw_parameters", "literature_parameters", "load_parameter_file",
           "posterior_draws", "shipped_calibration", "shipped_calibration_table"]
