"""Layer 1: the parameter set with sources and priors (DESIGN.md §2, §4)."""

from oligosim.params.parameters import (
    SPECS,
    KernelParameters,
    ParameterSet,
    default_parameters,
)

__all__ = ["SPECS", "KernelParameters", "ParameterSet", "default_parameters"]
