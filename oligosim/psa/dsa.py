"""One-way deterministic sensitivity analysis with a tornado (DESIGN.md §2.12).

Each parameter in turn is set to a low and a high value, every other parameter staying at its
base value, and the incremental net monetary benefit (NMB) of every strategy against a
reference strategy is recomputed at the willingness to pay (WTP).

- **Economic parameters** — every entry of ``[economics.uncertainty]``: low and high are the
  **2.5% and 97.5% quantiles** of the declared distribution
  (:meth:`oligosim.scenario.economics.Economics.one_way_values`; a share of a dirichlet group
  takes its Beta marginal's quantiles, the group's other shares rescaled). Costs and QALYs
  are linear in the engines' accumulators, so the cohort is simulated once and each value is
  a re-pricing, exactly as :func:`oligosim.psa.run_psa` does with ``biology="fixed"``.
- **Biological parameters** (``biology=True``) — every calibratable parameter at the **lower
  and upper bound of its prior range** (:func:`oligosim.psa.calibratable_parameters`; the
  calibration posterior's interval replaces them when it ships), the cohort re-simulated
  with the same seed: common random numbers, so a bar measures the parameter, not patient
  noise. A parameter that the scenario's ``[parameters]`` sets is skipped (its override would
  win over the bound), and so is one whose bound the engine cannot simulate (capacity
  exceeded); both are listed in ``run.json`` under ``skipped``.

The base case is the deterministic run of the scenario: the same patients, base parameters,
base prices, so its incremental NMB equals that of :func:`oligosim.run_scenario`.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from oligosim.errors import CapacityError, OligosimInputError
from oligosim.params import ParameterSet, default_parameters
from oligosim.params.parameters import SPECS
from oligosim.psa.run import (
    _atomic_text,
    _atomic_write,
    _means,
    _simulate,
    _version,
    calibratable_parameters,
    write_figures_folder,
)
from oligosim.runner import _threads, json_safe, resolve_run_settings
from oligosim.scenario import Scenario, scenario_hash
from oligosim.scenario.economics import Economics, field_unit, field_value

__all__ = ["DSA_COLUMNS", "QUANTILES", "DSAResult", "run_dsa"]

#: Quantiles of an economic parameter's distribution used as its low and high values: its
#: central 95% interval (one-way ranges from the parameters' confidence intervals, Briggs et
#: al., ISPOR-SMDM Modeling Good Research Practices Task Force-6, Med Decis Making 2012;32:
#: 722-732).
QUANTILES = (0.025, 0.975)
#: Columns of dsa.csv, in order: one row per parameter and non-reference strategy.
DSA_COLUMNS = (
    "parameter", "kind", "unit", "bounds", "base_value", "low_value", "high_value",
    "strategy", "reference",
    "inc_cost_usd_base", "inc_qaly_base", "inc_nmb_usd_base",
    "inc_cost_usd_low", "inc_qaly_low", "inc_nmb_usd_low",
    "inc_cost_usd_high", "inc_qaly_high", "inc_nmb_usd_high",
    "range_usd",
)
MAX_WTP = 1e7  # the schema's bound of willingness_to_pay_per_qaly

Means = dict[str, tuple[float, float, float, float]]  # strategy -> cost, qaly, ly, nmb


@dataclass
class DSAResult:
    """What :func:`run_dsa` returns (and wrote to ``out_dir``)."""

    scenario: Scenario
    strategies: list[str]
    reference: str
    wtp: float
    base: pd.DataFrame
    """One row per strategy: cost_usd, qaly, ly, nmb_usd of the base case (means)."""
    table: pd.DataFrame
    """dsa.csv: columns :data:`DSA_COLUMNS`, sorted by strategy then range (widest first)."""
    skipped: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None


def _evaluate(accs: Sequence[np.ndarray], econ: Economics, strategies: list[str], wtp: float
              ) -> Means:
    """Mean cost, QALY, LY and NMB of each strategy from its accumulators."""
    return {s: _means(acc, econ, wtp) for s, acc in zip(strategies, accs, strict=True)}


def _increments(means: Means, strategy: str, reference: str) -> tuple[float, float, float]:
    """Incremental cost, QALYs and NMB of ``strategy`` against ``reference``."""
    c, q, _, b = means[strategy]
    c0, q0, _, b0 = means[reference]
    return c - c0, q - q0, b - b0


def _check_inputs(scenario: Scenario, reference: str | None, wtp: float | None,
                  quantiles: tuple[float, float], source: str | None) -> tuple[str, float]:
    """The reference strategy and WTP, or a located error naming what is allowed."""
    strategies = [st.name for st in scenario.strategy]
    if len(strategies) < 2:
        raise OligosimInputError(
            f"a one-way sensitivity analysis compares strategies, but scenario "
            f"'{scenario.name}' has one ({strategies[0]})", file=source, field="strategy",
            allowed="a scenario with at least 2 [[strategy]] tables")
    if getattr(scenario, "capacity", None) is not None:
        raise OligosimInputError("a DSA of a capacity-limited pathway (reference engine) is "
                                 "not supported", file=source, field="capacity",
                                 allowed="a scenario without a capacity section")
    ref = strategies[0] if reference is None else reference
    if ref not in strategies:
        raise OligosimInputError("the reference is not a strategy of the scenario",
                                 file=source, field="reference", value=reference,
                                 allowed=", ".join(strategies))
    w = float(scenario.economics.willingness_to_pay_per_qaly if wtp is None else wtp)
    if isinstance(wtp, bool) or not (math.isfinite(w) and 0.0 <= w <= MAX_WTP):
        raise OligosimInputError("the willingness to pay must be a number of currency units "
                                 "per QALY", field="wtp", value=wtp,
                                 allowed=f"0 to {MAX_WTP:,.0f}")
    lo, hi = quantiles
    if not 0.0 < lo < hi < 1.0:
        raise OligosimInputError("the quantiles must satisfy 0 < low < high < 1",
                                 field="quantiles", value=quantiles, allowed="e.g. (0.025, "
                                                                             "0.975)")
    return ref, w


def run_dsa(scenario: Scenario, n_patients: int | None = None, seed: int | None = None,
            out_dir: str | Path = "out/dsa", jobs: int | None = None, *,
            wtp: float | None = None, reference: str | None = None, biology: bool = False,
            quantiles: tuple[float, float] = QUANTILES,
            parameters: ParameterSet | None = None,
            progress: Callable[[int, int], None] | None = None,
            figures: Callable[[DSAResult, Path], list[Path]] | None = None,
            source: str | None = None) -> DSAResult:
    """One-way sensitivity analysis of every strategy against ``reference`` (DESIGN §2.12).

    Parameters
    ----------
    scenario : Scenario
        From :func:`oligosim.load_scenario`, with at least two strategies; its
        ``[economics.uncertainty]`` lists the economic parameters to vary.
    n_patients, seed : int, optional
        Patients per strategy and root seed (default: the scenario's ``[run]`` values). Every
        evaluation uses the same patients.
    out_dir : path
        Output folder: ``dsa.csv``, ``run.json`` and (with ``figures``) ``figures/``, each
        written to a temporary name and renamed.
    jobs : int, optional
        Numba threads (default: all cores); results do not depend on it.
    wtp : float, optional
        Willingness to pay per QALY for the NMB (default: the scenario's
        ``willingness_to_pay_per_qaly``); 0 to 1e7.
    reference : str, optional
        The strategy every other is compared with (default: the first of the scenario).
    biology : bool
        Also vary every calibratable parameter between the bounds of its prior range
        (re-simulating the cohort twice per parameter).
    quantiles : (float, float)
        Quantiles of an economic parameter's distribution used as its low and high values
        (default 2.5% and 97.5%).
    parameters : ParameterSet, optional
        Base biological parameters (default :func:`oligosim.default_parameters`); the
        scenario's ``[parameters]`` overrides apply on top.
    progress : callable, optional
        Called with (patient histories simulated, total) after every simulation of the
        cohort (the base case, and two per biological parameter; re-pricing is not counted).
    figures : callable, optional
        ``figures(result, folder) -> paths`` (the CLI passes
        :func:`oligosim.report.dsa_figures.write_dsa_figures`).
    source : str, optional
        The scenario's file, named in error messages about its content.

    Returns
    -------
    DSAResult
        The base case, the dsa.csv table (one row per parameter and compared strategy) and
        the provenance written to run.json.

    Raises
    ------
    OligosimInputError
        Fewer than two strategies, a capacity section, an unknown reference, a WTP outside
        0 to 1e7, bad quantiles, nothing to vary, or bad ``n_patients``/``seed``/``jobs``.
    """
    t_start = time.perf_counter()
    ref, w = _check_inputs(scenario, reference, wtp, quantiles, source)
    n, s = resolve_run_settings(scenario, n_patients, seed)
    threads = _threads(jobs)
    econ0 = scenario.economics
    econ_params = econ0.one_way_parameters()
    bio = {k: v for k, v in calibratable_parameters().items()
           if k not in scenario.parameters} if biology else {}
    skipped: list[dict[str, Any]] = [
        {"parameter": k, "reason": "set by the scenario's [parameters]"}
        for k in calibratable_parameters() if biology and k in scenario.parameters]
    if not econ_params and not bio:
        raise OligosimInputError(
            "nothing to vary: [economics.uncertainty] is empty" +
            ("" if biology else " and biology is off"), file=source,
            field="economics.uncertainty",
            allowed="declare distributions in [economics.uncertainty], or vary the biology "
                    "(--biology)")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OligosimInputError(f"{out} exists and is not a folder", field="out",
                                 value=str(out))
    base_ps = parameters if parameters is not None else default_parameters()
    strategies = [st.name for st in scenario.strategy]
    others = [x for x in strategies if x != ref]
    per_cohort = n * len(strategies)  # patient histories of one simulation
    total = per_cohort * (1 + 2 * len(bio))
    done = 0

    def tick() -> None:
        nonlocal done
        done += per_cohort
        if progress is not None:
            progress(done, total)

    rows: list[tuple[Any, ...]] = []

    def add_rows(name: str, kind: str, unit: str, bounds: str, base_value: float,
                 lo_value: float, hi_value: float, low: Means, high: Means) -> None:
        for x in others:
            b, lo, hi = (_increments(m, x, ref) for m in (base, low, high))
            rows.append((name, kind, unit, bounds, base_value, lo_value, hi_value, x, ref,
                         *b, *lo, *hi, abs(hi[2] - lo[2])))

    t_sim = t_price = 0.0
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        t0 = time.perf_counter()
        accs = _simulate(scenario, base_ps, n, s)
        t_sim += time.perf_counter() - t0
        base = _evaluate(accs, econ0, strategies, w)
        tick()
        t0 = time.perf_counter()
        for p in econ_params:
            values = [econ0.one_way_values(p, q) for q in quantiles]
            lo_m, hi_m = (_evaluate(accs, econ0.with_values(v), strategies, w) for v in values)
            group = p.rpartition(".")[0]
            dist = econ0.uncertainty.get(p) or econ0.uncertainty[group]
            bounds = (f"{100 * quantiles[0]:g}%/{100 * quantiles[1]:g}% quantiles of "
                      f"{dist!r}" + (" (Beta marginal)" if p not in econ0.uncertainty else ""))
            add_rows(p, "economic", field_unit(p, econ0.currency), bounds,
                     field_value(econ0, p), values[0][p], values[1][p], lo_m, hi_m)
        t_price += time.perf_counter() - t0
        for name, (lo, hi, log) in bio.items():
            t0 = time.perf_counter()
            results: list[Means] = []
            for bound in (lo, hi):
                ps = base_ps.replace(name=f"{base_ps.name}+dsa:{name}={bound:g}",
                                     **{name: bound})
                try:
                    results.append(_evaluate(_simulate(scenario, ps, n, s), econ0,
                                             strategies, w))
                except CapacityError as exc:
                    skipped.append({"parameter": name, "value": bound,
                                    "reason": f"engine capacity exceeded: {exc}"})
                    break
            for _ in range(2):  # both bounds count as done, simulated or not
                tick()
            t_sim += time.perf_counter() - t0
            if len(results) == 2:
                add_rows(name, "biology", SPECS[name].unit,
                         "prior range" + (" (log-uniform)" if log else ""),
                         float(base_ps[name]), lo, hi, results[0], results[1])
    finally:
        numba.set_num_threads(previous)

    table = pd.DataFrame(rows, columns=list(DSA_COLUMNS))
    order = {x: i for i, x in enumerate(others)}
    table = table.assign(_o=table["strategy"].map(order)).sort_values(
        ["_o", "range_usd", "parameter"], ascending=[True, False, True], kind="mergesort"
    ).drop(columns="_o").reset_index(drop=True)
    base_frame = pd.DataFrame([(x, *base[x]) for x in strategies],
                              columns=["strategy", "cost_usd", "qaly", "ly", "nmb_usd"])
    meta = {
        "package": "oligosim", "version": _version(), "command": "dsa",
        "scenario": scenario.name, "scenario_sha256": scenario_hash(scenario),
        "seed": s, "n_patients": n, "strategies": strategies, "reference": ref,
        "willingness_to_pay_per_qaly": w, "quantiles": list(quantiles), "biology": biology,
        "bounds_note": (f"economic parameters: the {100 * quantiles[0]:g}% and "
                        f"{100 * quantiles[1]:g}% quantiles of their [economics.uncertainty] "
                        "distributions (a dirichlet share: its Beta marginal, the other "
                        "shares rescaled); biology: the bounds of each prior range"),
        "parameter_set": base_ps.name,
        "random_streams": "patients: Philox keyed by (seed, purpose), the same in every "
                          "evaluation (common random numbers, DESIGN.md §2.13)",
        "base": base_frame.to_dict(orient="records"),
        "skipped": skipped,
        "timings_seconds": {"simulate": t_sim, "price": t_price},
        "threads": threads, "python": platform.python_version(), "numpy": np.__version__,
        "numba": numba.__version__,
    }
    result = DSAResult(scenario, strategies, ref, w, base_frame, table, skipped, meta, out)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "dsa.csv", lambda p: table.to_csv(p, index=False))
    if figures is not None:
        write_figures_folder(out, lambda folder: figures(result, folder))
    meta["timings_seconds"]["total"] = time.perf_counter() - t_start
    _atomic_text(out / "run.json", json.dumps(json_safe(meta), indent=2))
    return result
