"""Layer 3: decision analysis — discounting, incremental analysis, MCSEs and PSA summaries.

Pure functions of numbers and pandas tables (DESIGN.md §2.12, §6); nothing here runs a
simulation. The decision-analysis conventions follow dampack (``calculate_icers``, ``ceac``,
``calc_evpi``) and hesim (``cea``, ``icer``):

- **Discounting** is continuous. An *annual* rate ``a`` (3%/yr US, Sanders 2016; 3.5%/yr
  NICE; TARGETS.md §5) is converted to the continuous rate ``r = ln(1 + a)``, so that a unit
  at ``t`` years is worth ``exp(-r t) = (1 + a) ** -t`` today: the annual convention and the
  continuous one agree at whole years.
- **Incremental analysis**: strategies ordered by cost; strongly dominated strategies removed,
  then extendedly dominated ones, each iteratively; ICERs along the efficiency frontier.
- **Never inf**: a quantity that does not exist (the ICER of the reference, of a dominated
  strategy, or of a zero-effect difference) is NaN and the ``status`` column says why.
- **PSA tables** are long, keyed by ``draw`` and ``strategy`` (STYLE.md §10), with columns
  ``cost`` and ``qaly``; net monetary benefit is ``wtp * qaly - cost``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from oligosim.errors import OligosimInputError, ParameterError

__all__ = [
    "ICER_COLUMNS",
    "STATUSES",
    "ce_plane",
    "ceac",
    "ceaf",
    "continuous_rate",
    "discount_factor",
    "discounted_duration",
    "evpi",
    "icer_mcse",
    "incremental_analysis",
    "net_health_benefit",
    "net_monetary_benefit",
    "paired_mean_difference",
]

FloatArray = npt.NDArray[np.float64]

#: Columns of the incremental-analysis table (icer.csv), in order.
ICER_COLUMNS: tuple[str, ...] = (
    "strategy", "cost", "effect", "inc_cost", "inc_effect", "icer", "status", "comparator",
)
#: Values of the ``status`` column.
STATUSES: tuple[str, ...] = ("frontier", "dominated", "extendedly dominated")

# Relative tolerance of the extended-dominance test: ICERs equal to ~1e-12 are "not
# increasing" only because of rounding, and collinear frontier points stay on the frontier.
_EXT_RTOL = 1e-12


# --------------------------------------------------------------------------- discounting

def continuous_rate(annual_rate: float | npt.ArrayLike) -> FloatArray | float:
    """Continuous discount rate equivalent to an annual rate: ``r = ln(1 + annual_rate)``.

    Parameters
    ----------
    annual_rate : float or array_like
        Annual discount rate as a fraction (0.03 for 3%/yr); finite and >= 0.

    Returns
    -------
    float or ndarray
        The continuous rate per year.

    Raises
    ------
    ParameterError
        If a rate is negative or not finite.
    """
    a = np.asarray(annual_rate, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ParameterError("The annual discount rate must be finite and >= 0",
                             value=annual_rate, allowed="[0, inf)")
    r = np.log1p(a)
    return float(r) if r.ndim == 0 else r


def _check_times(t: FloatArray, name: str) -> None:
    """Reject NaN and negative times (``inf`` is allowed: a unit that never arrives)."""
    if np.any(np.isnan(t)) or np.any(t < 0):
        raise OligosimInputError(f"Times '{name}' must be >= 0 and not NaN",
                                 allowed="[0, inf]")


def discount_factor(t_years: npt.ArrayLike, rate_per_year: float | npt.ArrayLike
                    ) -> FloatArray | float:
    """Present value of one unit (a cost of an event) at time ``t_years``: ``exp(-r t)``.

    Parameters
    ----------
    t_years : array_like of float
        Event times in years from the start of the simulation; >= 0 (``inf`` gives 0).
    rate_per_year : float or array_like
        *Annual* discount rate (0.03 = 3%/yr); converted with ``r = ln(1 + rate)`` so that
        ``exp(-r t) = (1 + rate) ** -t``. Broadcast against ``t_years``.

    Returns
    -------
    float or ndarray
        Discount factors in (0, 1], a float for scalar input.
    """
    t = np.asarray(t_years, dtype=np.float64)
    _check_times(t, "t_years")
    r = np.asarray(continuous_rate(rate_per_year))
    with np.errstate(invalid="ignore"):  # 0 * inf at rate 0 is handled below
        out = np.where(r == 0.0, 1.0, np.exp(-r * t))
    return float(out) if out.ndim == 0 else out


def discounted_duration(t0_years: npt.ArrayLike, t1_years: npt.ArrayLike,
                        rate_per_year: float | npt.ArrayLike) -> FloatArray | float:
    """Discounted length of the interval [t0, t1]: ``∫ exp(-r t) dt`` in closed form.

    ``(exp(-r t0) - exp(-r t1)) / r``, computed as ``exp(-r t0) * -expm1(-r (t1 - t0)) / r``
    for accuracy at small ``r (t1 - t0)``; ``t1 - t0`` when the rate is 0. Multiply by a
    utility to get discounted QALYs, by a monthly cost times 12 to get a discounted cost.

    Parameters
    ----------
    t0_years, t1_years : array_like of float
        Interval bounds in years, broadcast together; ``0 <= t0 <= t1`` (``t1 = inf`` is
        allowed when the rate is positive and gives ``exp(-r t0) / r``).
    rate_per_year : float or array_like
        *Annual* discount rate, converted to ``r = ln(1 + rate)`` as in
        :func:`discount_factor`.

    Returns
    -------
    float or ndarray
        Discounted durations in years, a float for scalar input.

    Raises
    ------
    OligosimInputError
        If a bound is NaN or negative, or ``t1 < t0``.
    """
    t0 = np.asarray(t0_years, dtype=np.float64)
    t1 = np.asarray(t1_years, dtype=np.float64)
    _check_times(t0, "t0_years")
    _check_times(t1, "t1_years")
    if np.any(t1 < t0):
        raise OligosimInputError("Each interval needs t1_years >= t0_years")
    r = np.asarray(continuous_rate(rate_per_year))
    safe_r = np.where(r == 0.0, 1.0, r)
    with np.errstate(invalid="ignore"):  # inf - inf for t0 = t1 = inf; inf * 0 at rate 0
        width = t1 - t0
        width = np.where(t1 == t0, 0.0, width)
        discounted = np.exp(-safe_r * t0) * -np.expm1(-safe_r * width) / safe_r
        out = np.where(r == 0.0, width, discounted)
    return float(out) if out.ndim == 0 else out


# ------------------------------------------------------------------ incremental analysis

def _as_series(values: Mapping[Any, float] | pd.Series, name: str) -> pd.Series:
    """A float Series indexed by strategy, with every value finite."""
    series = pd.Series(values, dtype=np.float64) if not isinstance(values, pd.Series) \
        else values.astype(np.float64)
    if series.empty:
        raise OligosimInputError(f"'{name}' needs at least one strategy")
    if not series.index.is_unique:
        raise OligosimInputError(f"'{name}' names a strategy twice")
    if not np.all(np.isfinite(series.to_numpy())):
        bad = list(series.index[~np.isfinite(series.to_numpy())])
        raise OligosimInputError(f"'{name}' must be finite for every strategy", value=bad)
    return series


def _aligned(costs: Mapping[Any, float] | pd.Series, effects: Mapping[Any, float] | pd.Series
             ) -> tuple[pd.Series, pd.Series]:
    """Cost and effect Series with the same strategies, in the order of ``costs``."""
    c = _as_series(costs, "costs")
    e = _as_series(effects, "effects")
    if set(c.index) != set(e.index):
        raise OligosimInputError("'costs' and 'effects' must name the same strategies",
                                 value=sorted(map(str, set(c.index) ^ set(e.index))))
    return c, e.reindex(c.index)


def incremental_analysis(
    costs: Mapping[Any, float] | pd.Series,
    effects: Mapping[Any, float] | pd.Series,
    cost_se: Mapping[Any, float] | pd.Series | None = None,
    effect_se: Mapping[Any, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Efficiency frontier and ICERs with strong and extended dominance removed.

    Strategies are ordered by cost (ties: higher effect first, then by name as text). Then

    1. **strong dominance**: a strategy is ``"dominated"`` if another one costs no more and
       is at least as effective, strictly better in one of the two (it has higher cost and
       lower-or-equal effect, or equal cost and lower effect). Its comparator is the first
       non-dominated strategy that dominates it.
    2. **extended dominance**: along the remaining strategies (costs and effects now both
       increasing) ICERs must increase; the first strategy whose ICER exceeds the next one's
       is ``"extendedly dominated"``, removed, ICERs recomputed, until none is left (dampack
       ``calculate_icers``). Collinear points (equal ICERs) stay on the frontier. The
       comparator of an extendedly dominated strategy is the cheaper frontier neighbour.
    3. the rest is the ``"frontier"``: the cheapest is the reference (comparator ``None``,
       ICER NaN); each other has the ICER against the previous frontier strategy.

    Strategies with identical cost and effect are one point: the first by name is analysed,
    the others take its status and have it as comparator, with ``inc_cost = inc_effect = 0``
    and ICER NaN. Output never contains ``inf``.

    Parameters
    ----------
    costs, effects : mapping or Series, strategy -> float
        Mean (discounted) cost and effect (QALYs) of each strategy; finite; same keys.
    cost_se, effect_se : mapping or Series, optional
        Monte Carlo standard errors of the means, copied to columns ``cost_se`` and
        ``effect_se``. (Standard errors of *incremental* quantities need the per-patient
        pairs: see :func:`paired_mean_difference` and :func:`icer_mcse`.)

    Returns
    -------
    DataFrame
        One row per strategy, ordered as above, with the columns of :data:`ICER_COLUMNS`
        (plus ``cost_se`` / ``effect_se`` after ``effect`` when given). ``inc_cost`` and
        ``inc_effect`` are against ``comparator`` (NaN for the reference); ``icer`` is finite
        on frontier strategies other than the reference and its duplicates, NaN elsewhere.
    """
    c, e = _aligned(costs, effects)
    names = list(c.index)
    order = sorted(range(len(names)), key=lambda i: (c.iloc[i], -e.iloc[i], str(names[i])))
    cost = [float(c.iloc[i]) for i in order]
    eff = [float(e.iloc[i]) for i in order]
    n = len(order)

    # Duplicates (same cost and effect) are represented by their first member in `order`.
    rep = list(range(n))
    for k in range(1, n):
        if cost[k] == cost[k - 1] and eff[k] == eff[k - 1]:
            rep[k] = rep[k - 1]
    points = [k for k in range(n) if rep[k] == k]

    status: dict[int, str] = {}
    comparator: dict[int, int | None] = {}
    # 1. Strong dominance. Dominance is a strict partial order, so removing every dominated
    # point at once equals removing them one at a time; each has an undominated dominator.
    for k in points:
        for j in points:
            if j != k and cost[j] <= cost[k] and eff[j] >= eff[k] \
                    and (cost[j] < cost[k] or eff[j] > eff[k]):
                status[k] = "dominated"
                break
    for k in points:
        if status.get(k) == "dominated":
            comparator[k] = next(j for j in points if j not in status and cost[j] <= cost[k]
                                 and eff[j] >= eff[k])
    # 2. Extended dominance, one strategy at a time. Costs and effects strictly increase along
    # `front`, so every inc_effect below is > 0. Compare ICERs by cross-multiplication.
    front = [k for k in points if k not in status]
    removed = True
    while removed:
        removed = False
        for m in range(1, len(front) - 1):
            a, b, d = front[m - 1], front[m], front[m + 1]
            lhs = (cost[b] - cost[a]) * (eff[d] - eff[b])  # ICER(b|a) > ICER(d|b) ⇔ lhs > rhs
            rhs = (cost[d] - cost[b]) * (eff[b] - eff[a])
            if lhs - rhs > _EXT_RTOL * max(abs(lhs), abs(rhs)):
                status[b] = "extendedly dominated"
                del front[m]
                removed = True
                break
    for k in points:
        if status.get(k) == "extendedly dominated":
            comparator[k] = max((j for j in front if cost[j] <= cost[k]), key=lambda j: cost[j])
    # 3. Frontier.
    for m, k in enumerate(front):
        status[k] = "frontier"
        comparator[k] = front[m - 1] if m > 0 else None

    rows = []
    for k in range(n):
        if rep[k] != k:  # a duplicate: same status, compared with its representative
            st, comp = status[rep[k]], rep[k]
            inc_c, inc_e, icer = 0.0, 0.0, math.nan
        else:
            st, comp = status[k], comparator[k]
            if comp is None:
                inc_c = inc_e = icer = math.nan
            else:
                inc_c, inc_e = cost[k] - cost[comp], eff[k] - eff[comp]
                icer = inc_c / inc_e if st == "frontier" else math.nan
                icer = icer if math.isfinite(icer) else math.nan
        rows.append((names[order[k]], cost[k], eff[k], inc_c, inc_e, icer, st,
                     None if comp is None else names[order[comp]]))
    table = pd.DataFrame(rows, columns=list(ICER_COLUMNS))
    table["comparator"] = table["comparator"].astype(object)
    position = 3
    for se, col in ((cost_se, "cost_se"), (effect_se, "effect_se")):
        if se is not None:
            s = pd.Series(se, dtype=np.float64) if not isinstance(se, pd.Series) else se
            missing = set(c.index) - set(s.index)
            if missing:
                raise OligosimInputError(f"'{col}' lacks strategies",
                                         value=sorted(map(str, missing)))
            table.insert(position, col, s.reindex(table["strategy"]).to_numpy(np.float64))
            position += 1
    return table


def net_monetary_benefit(costs: Any, effects: Any, wtp: float | npt.ArrayLike) -> Any:
    """Net monetary benefit ``wtp * effect - cost``.

    Parameters
    ----------
    costs, effects : mapping/Series (strategy -> float) or array_like
        Costs and effects (QALYs). Mappings are aligned by strategy; arrays broadcast with
        ``wtp``.
    wtp : float or array_like
        Willingness to pay per unit of effect (currency per QALY); a scalar for mappings.

    Returns
    -------
    Series or ndarray
        A Series indexed by strategy for mapping input, else a float array.
    """
    if isinstance(costs, Mapping | pd.Series):
        c, e = _aligned(costs, effects)
        return float(wtp) * e - c  # type: ignore[arg-type]
    return np.asarray(wtp, np.float64) * np.asarray(effects, np.float64) \
        - np.asarray(costs, np.float64)


def net_health_benefit(costs: Any, effects: Any, wtp: float | npt.ArrayLike) -> Any:
    """Net health benefit ``effect - cost / wtp`` (QALYs), for ``wtp > 0``.

    Parameters and return value as :func:`net_monetary_benefit`.

    Raises
    ------
    ParameterError
        If a willingness to pay is not positive and finite.
    """
    w = np.asarray(wtp, dtype=np.float64)
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ParameterError("The willingness to pay must be positive and finite",
                             value=wtp, allowed="(0, inf)")
    if isinstance(costs, Mapping | pd.Series):
        c, e = _aligned(costs, effects)
        return e - c / float(w)
    return np.asarray(effects, np.float64) - np.asarray(costs, np.float64) / w


# ------------------------------------------------------------ Monte Carlo standard errors

def _paired(*arrays: npt.ArrayLike) -> list[FloatArray]:
    """1-D float arrays of one common length >= 2, all finite (per-patient pairs)."""
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    n = out[0].shape
    if any(a.ndim != 1 or a.shape != n for a in out):
        raise OligosimInputError("Paired outcomes must be 1-D arrays of equal length "
                                 "(the same patients in both strategies)",
                                 value=[a.shape for a in out])
    if n[0] < 2:
        raise OligosimInputError("A Monte Carlo standard error needs at least 2 patients",
                                 value=n[0])
    if not all(np.all(np.isfinite(a)) for a in out):
        raise OligosimInputError("Paired outcomes must be finite")
    return out


def paired_mean_difference(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[float, float]:
    """Mean of ``a - b`` over paired patients and its Monte Carlo standard error.

    Under common random numbers the same simulated patient appears in both strategies, so
    ``a[i]`` and ``b[i]`` are correlated and the MCSE must come from the paired differences
    ``d = a - b``: ``sd(d, ddof=1) / sqrt(n)``. (The unpaired ``sqrt(var a / n + var b / n)``
    overstates it by the factor ``sqrt(1 + 2 cov / var d)``.)

    Parameters
    ----------
    a, b : array_like of float, shape (n,)
        Per-patient outcomes (cost, QALYs, ...) of patient ``i`` under two strategies.

    Returns
    -------
    tuple of float
        ``(mean difference, MCSE)``.
    """
    x, y = _paired(a, b)
    d = x - y
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


def icer_mcse(cost_new: npt.ArrayLike, effect_new: npt.ArrayLike, cost_ref: npt.ArrayLike,
              effect_ref: npt.ArrayLike) -> tuple[float, float]:
    """ICER of paired per-patient outcomes and its Monte Carlo standard error (delta method).

    With paired differences ``dC_i``, ``dE_i`` and their means ``ΔC``, ``ΔE``, the ICER is
    ``R = ΔC / ΔE`` and

        Var(R) ≈ [Var(ΔC) - 2 R Cov(ΔC, ΔE) + R² Var(ΔE)] / ΔE²,

    where ``Var(ΔC) = var(dC) / n`` and so on, from the sample covariance matrix of the pairs.
    The approximation needs ``|ΔE|`` to be several of its MCSEs away from 0.

    Parameters
    ----------
    cost_new, effect_new, cost_ref, effect_ref : array_like of float, shape (n,)
        Per-patient costs and effects of the same ``n`` patients under the new strategy and
        the reference.

    Returns
    -------
    tuple of float
        ``(icer, MCSE)``; both NaN when ``ΔE == 0``.
    """
    cn, en, cr, er = _paired(cost_new, effect_new, cost_ref, effect_ref)
    dc, de = cn - cr, en - er
    mean_c, mean_e = float(dc.mean()), float(de.mean())
    if mean_e == 0.0:
        return math.nan, math.nan
    icer = mean_c / mean_e
    cov = np.cov(np.vstack([dc, de]), ddof=1) / dc.size
    var = (cov[0, 0] - 2.0 * icer * cov[0, 1] + icer**2 * cov[1, 1]) / mean_e**2
    se = math.sqrt(max(float(var), 0.0))
    if not (math.isfinite(icer) and math.isfinite(se)):
        return math.nan, math.nan
    return icer, se


# ---------------------------------------------------------------------------- PSA tables

def _psa_matrices(draws: pd.DataFrame
                  ) -> tuple[list[Hashable], FloatArray, FloatArray, npt.NDArray[Any]]:
    """Strategies (order of first appearance), (n_draws, n_strategies) cost and QALY arrays,
    and the draw ids (sorted) labelling their rows."""
    missing = {"draw", "strategy", "cost", "qaly"} - set(draws.columns)
    if missing:
        raise OligosimInputError("The PSA table lacks columns", value=sorted(missing),
                                 allowed="draw, strategy, cost, qaly")
    if draws.empty:
        raise OligosimInputError("The PSA table has no rows")
    if draws.duplicated(["draw", "strategy"]).any():
        raise OligosimInputError("The PSA table has a (draw, strategy) pair twice")
    strategies = list(pd.unique(draws["strategy"]))
    wide = draws.pivot(index="draw", columns="strategy", values=["cost", "qaly"])
    cost = wide["cost"].reindex(columns=strategies).to_numpy(np.float64)
    qaly = wide["qaly"].reindex(columns=strategies).to_numpy(np.float64)
    if not (np.all(np.isfinite(cost)) and np.all(np.isfinite(qaly))):
        raise OligosimInputError("Every draw needs a finite cost and qaly for every strategy")
    return strategies, cost, qaly, wide.index.to_numpy()


def _wtp_grid(wtp_grid: npt.ArrayLike) -> FloatArray:
    """A 1-D array of finite, non-negative willingness-to-pay values."""
    w = np.atleast_1d(np.asarray(wtp_grid, dtype=np.float64))
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ParameterError("The willingness-to-pay grid must be a non-empty 1-D array of "
                             "finite values >= 0", value=wtp_grid)
    return w


def _win_shares(nmb: FloatArray) -> FloatArray:
    """Per strategy, the share of draws with the highest NMB; a tie of k splits 1/k each."""
    best = nmb == nmb.max(axis=1, keepdims=True)
    return (best / best.sum(axis=1, keepdims=True)).mean(axis=0)


def ceac(draws: pd.DataFrame, wtp_grid: npt.ArrayLike) -> pd.DataFrame:
    """Cost-effectiveness acceptability curves: P(highest NMB) per strategy and wtp.

    Parameters
    ----------
    draws : DataFrame
        Long PSA table with columns ``draw``, ``strategy``, ``cost``, ``qaly`` and one row per
        (draw, strategy), every strategy present in every draw.
    wtp_grid : array_like of float
        Willingness-to-pay values (currency per QALY), >= 0.

    Returns
    -------
    DataFrame
        Columns ``wtp``, ``strategy``, ``prob_cost_effective``: the share of draws in which
        the strategy has the highest net monetary benefit. A tie between ``k`` strategies in
        a draw credits ``1/k`` to each, so the probabilities sum to 1 at every wtp.
    """
    strategies, cost, qaly, _ = _psa_matrices(draws)
    w = _wtp_grid(wtp_grid)
    probs = np.vstack([_win_shares(x * qaly - cost) for x in w])
    return pd.DataFrame({
        "wtp": np.repeat(w, len(strategies)),
        "strategy": strategies * w.size,
        "prob_cost_effective": probs.ravel(),
    })


def ceaf(draws: pd.DataFrame, wtp_grid: npt.ArrayLike) -> pd.DataFrame:
    """Cost-effectiveness acceptability frontier: the optimal strategy at each wtp.

    The optimal strategy maximises the *expected* net monetary benefit (ties: the first in
    order of appearance in ``draws``); the frontier reports its probability of being cost
    effective (its CEAC value), which need not be the highest probability (Barton 2008).

    Parameters
    ----------
    draws, wtp_grid
        As for :func:`ceac`.

    Returns
    -------
    DataFrame
        Columns ``wtp``, ``strategy``, ``expected_nmb``, ``prob_cost_effective``; one row per
        wtp.
    """
    strategies, cost, qaly, _ = _psa_matrices(draws)
    w = _wtp_grid(wtp_grid)
    rows = []
    for x in w:
        nmb = x * qaly - cost
        mean_nmb = nmb.mean(axis=0)
        best = int(np.argmax(mean_nmb))
        rows.append((x, strategies[best], float(mean_nmb[best]), float(_win_shares(nmb)[best])))
    return pd.DataFrame(rows, columns=["wtp", "strategy", "expected_nmb", "prob_cost_effective"])


def evpi(draws: pd.DataFrame, wtp_grid: npt.ArrayLike) -> pd.DataFrame:
    """Expected value of perfect information per decision: ``E[max NMB] - max E[NMB]``.

    Computed as the mean over draws of ``max_s NMB - NMB_opt`` where ``opt`` maximises the
    expected NMB: the same number, but every term is exactly >= 0 in floating point, so the
    EVPI is >= 0 and exactly 0 when one strategy wins every draw.

    Parameters
    ----------
    draws, wtp_grid
        As for :func:`ceac`.

    Returns
    -------
    DataFrame
        Columns ``wtp`` and ``evpi`` (currency per patient; multiply by the population that
        the decision affects for the population EVPI).
    """
    _, cost, qaly, _ = _psa_matrices(draws)
    w = _wtp_grid(wtp_grid)
    values = np.empty(w.size)
    for i, x in enumerate(w):
        nmb = x * qaly - cost
        best = int(np.argmax(nmb.mean(axis=0)))
        values[i] = float((nmb.max(axis=1) - nmb[:, best]).mean())
    return pd.DataFrame({"wtp": w, "evpi": values})


def ce_plane(draws: pd.DataFrame, reference: Hashable) -> pd.DataFrame:
    """Incremental cost and QALYs of each strategy against ``reference``, draw by draw.

    Parameters
    ----------
    draws : DataFrame
        As for :func:`ceac`.
    reference : hashable
        The comparator strategy; must appear in ``draws``.

    Returns
    -------
    DataFrame
        Columns ``draw``, ``strategy``, ``inc_cost``, ``inc_qaly`` for every strategy other
        than the reference, ordered by strategy (order of appearance) then draw. Two
        strategies with identical results in a draw give exactly 0 and 0.
    """
    strategies, cost, qaly, draw_ids = _psa_matrices(draws)
    if reference not in strategies:
        raise OligosimInputError("The reference strategy is not in the PSA table",
                                 value=reference, allowed=", ".join(map(str, strategies)))
    r = strategies.index(reference)
    others = [s for s in range(len(strategies)) if s != r]
    return pd.DataFrame({
        "draw": np.tile(draw_ids, len(others)),
        "strategy": np.repeat(np.array([strategies[s] for s in others], dtype=object),
                              draw_ids.size),
        "inc_cost": np.concatenate([cost[:, s] - cost[:, r] for s in others])
        if others else np.empty(0),
        "inc_qaly": np.concatenate([qaly[:, s] - qaly[:, r] for s in others])
        if others else np.empty(0),
    })
