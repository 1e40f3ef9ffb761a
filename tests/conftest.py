"""Shared fixtures: small scenarios built in code (the bundled files are tested separately)."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from oligosim.scenario import Scenario, parse_scenario


def make_scenario(strategies: list[dict], parameters: dict | None = None,
                  population: dict | None = None, n_patients: int = 200, seed: int = 7,
                  horizon_months: float = 60.0) -> Scenario:
    """A small validated scenario."""
    return parse_scenario({
        "name": "test",
        "run": {"n_patients": n_patients, "seed": seed, "horizon_months": horizon_months},
        "population": population or {},
        "parameters": parameters or {},
        "strategy": strategies,
    })


def tki_alone_patients(parameters: dict, n_patients: int, seed: int,
                       population: dict | None = None) -> pd.DataFrame:
    """The patients table of a ``tki_alone`` cohort (no economics), 2 threads."""
    import oligosim

    sc = make_scenario([{"name": "tki_alone"}], n_patients=n_patients, seed=seed,
                       parameters=parameters, population=population)
    return oligosim.run_scenario(sc, jobs=2, economics=False).patients


@pytest.fixture(scope="session")
def six_strategies() -> list[dict]:
    """The six canonical strategies of DESIGN.md §2.10 on osimertinib."""
    return [
        {"name": "tki_alone"},
        {"name": "upfront_lat_all",
         "upfront_lat": {"mode": "all_visible_and_primary", "max_mets": 5, "max_organs": 3}},
        {"name": "thoracic_rt",
         "upfront_lat": {"mode": "thoracic", "dose_gy": 60.0, "fractions": 30}},
        {"name": "consolidative_lat", "consolidative_lat": {"time_months": 3.0,
                                                            "max_lesions": 4}},
        {"name": "oligo_pd_lat", "oligo_pd_lat": {"max_lesions": 3, "max_courses": 2}},
        {"name": "consolidative_then_oligo_pd",
         "consolidative_lat": {"time_months": 3.0, "max_lesions": 4},
         "oligo_pd_lat": {"max_lesions": 3, "max_courses": 2}},
    ]


def assert_standard_log_normal(log_values: np.ndarray, sdlog: float) -> None:
    """``log_values`` look like N(0, sdlog²): mean and sd each within 4 Monte Carlo SE
    (SE of the mean sdlog/√n; of the sd ≈ sdlog/√(2n))."""
    n = log_values.size
    assert abs(log_values.mean()) < 4 * sdlog / math.sqrt(n)
    assert abs(log_values.std(ddof=1) - sdlog) < 4 * sdlog / math.sqrt(2 * n)
