"""Layer 4: the calibration objective — weighted synthetic log-likelihood of all targets (§4).

``log L(θ) = Σ_i w_i · ℓ_i(θ)`` over the targets with a value, where ``ℓ_i`` is
:func:`oligosim.calibration.targets.log_likelihood` (log-medians and log-HRs Normal with the
published sd plus the model's Monte Carlo variance — a synthetic likelihood; proportions
beta-binomial, a simulated share centred on its Jeffreys posterior mean). Every evaluation
simulates the same patients (common random numbers: one seed for all θ), so ``log L`` is a
deterministic function of θ and differences between nearby θ are not blurred by patient
noise.

A target the model cannot estimate at θ although it can in general (no event in an arm, a
landmark beyond follow-up) scores :data:`UNESTIMABLE_LOG_LIKELIHOOD` (ASSUMPTION: a fixed
penalty, about a 7-sd miss), so such regions are avoided without stopping the search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from oligosim.calibration.free import to_parameters
from oligosim.calibration.targets import Target, load_targets
from oligosim.calibration.validate import evaluate_targets, load_trial_scenarios
from oligosim.errors import CapacityError
from oligosim.params import ParameterSet
from oligosim.scenario import Scenario

__all__ = ["UNESTIMABLE_LOG_LIKELIHOOD", "Objective", "score"]

#: Log-likelihood of a target the model cannot estimate at θ (ASSUMPTION: ~7 sd miss).
UNESTIMABLE_LOG_LIKELIHOOD = -25.0


def score(report: pd.DataFrame) -> float:
    """Weighted log-likelihood of a validation report (:func:`evaluate_targets`)."""
    usable = report["weight"] > 0
    computable = ~report["status"].str.startswith("not computable")
    ll = report["log_likelihood"].where(~(usable & computable & report["log_likelihood"].isna()),
                                        UNESTIMABLE_LOG_LIKELIHOOD)
    ll = ll.where(usable & computable, 0.0)
    return float((ll * report["weight"]).sum())


@dataclass
class Objective:
    """log L at unit-cube points, with the scenarios loaded once.

    Parameters
    ----------
    n_patients : int
        Patients per strategy per trial scenario.
    seed : int
        The common-random-numbers seed of every evaluation.
    jobs : int
        Threads per evaluation (1 when evaluations run in parallel processes).
    base : ParameterSet, optional
        Values of the parameters that are not free (default: literature defaults).
    """

    n_patients: int
    seed: int
    jobs: int | None = 1
    base: ParameterSet | None = None
    scenarios_dir: str | Path | None = None
    targets: Sequence[Target] = field(default_factory=load_targets)
    _scenarios: dict[str, Scenario] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.targets = list(self.targets)
        self._scenarios = load_trial_scenarios(self.targets, self.scenarios_dir)
        if self.base is None:
            self.base = ParameterSet()

    def parameters(self, u: npt.ArrayLike) -> ParameterSet:
        """The parameter set at unit-cube point ``u``."""
        return to_parameters(u, self.base)

    def report(self, u: npt.ArrayLike, *, fast: bool = True) -> pd.DataFrame:
        """The full target report at ``u``."""
        return evaluate_targets(self.targets, self._scenarios, self.parameters(u),
                                self.n_patients, self.seed, self.jobs, fast=fast)

    def evaluate(self, u: npt.ArrayLike) -> tuple[float, npt.NDArray[np.float64]]:
        """(weighted log-likelihood, model value per target) at ``u``; ``-inf`` and NaNs
        outside the unit cube (zero prior) or where the engine's capacity overflows."""
        u = np.asarray(u, dtype=np.float64)
        if np.any(u < 0.0) or np.any(u > 1.0) or not np.all(np.isfinite(u)):
            return -math.inf, np.full(len(self.targets), np.nan)
        try:
            report = self.report(u)
        except CapacityError:  # a parameter region that overflows the lesion slots
            return -math.inf, np.full(len(self.targets), np.nan)
        return score(report), report["model"].to_numpy(dtype=np.float64)

    def __call__(self, u: npt.ArrayLike) -> float:
        """Weighted log-likelihood at ``u`` (see :meth:`evaluate`)."""
        return self.evaluate(u)[0]
