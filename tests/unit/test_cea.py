"""Exact tests of oligosim.outcomes.cea: discounting, incremental analysis, NMB, PSA summaries.

The incremental-analysis cases are worked by hand in the comments next to each test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from oligosim.errors import OligosimInputError, ParameterError
from oligosim.outcomes.cea import (
    ICER_COLUMNS,
    ce_plane,
    ceac,
    ceaf,
    continuous_rate,
    discount_factor,
    discounted_duration,
    evpi,
    icer_mcse,
    incremental_analysis,
    net_health_benefit,
    net_monetary_benefit,
    paired_mean_difference,
)

# ------------------------------------------------------------------------------ helpers

def _by_strategy(table: pd.DataFrame) -> pd.DataFrame:
    """The incremental table indexed by strategy."""
    return table.set_index("strategy")


def _no_inf(table: pd.DataFrame) -> bool:
    """True if no numeric column of ``table`` holds +-inf."""
    numeric = table.select_dtypes(include="number").to_numpy(dtype=np.float64)
    return not np.isinf(numeric).any()


def _psa_table(cost: np.ndarray, qaly: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Long PSA table (draw, strategy, cost, qaly) from (n_draws, n_strategies) arrays."""
    n_draws, n_strat = cost.shape
    return pd.DataFrame({
        "draw": np.repeat(np.arange(n_draws), n_strat),
        "strategy": names * n_draws,
        "cost": cost.ravel(),
        "qaly": qaly.ravel(),
    })


def _random_psa(seed: int, n_draws: int = 500) -> pd.DataFrame:
    """Random, correlated PSA draws of three strategies with overlapping NMB distributions."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n_draws, 1))
    qaly = 2.0 + 0.3 * common + np.array([0.0, 0.25, 0.35]) + rng.normal(0, 0.2, (n_draws, 3))
    cost = 50_000 + 5_000 * common + np.array([0.0, 20_000, 45_000]) \
        + rng.normal(0, 8_000, (n_draws, 3))
    return _psa_table(cost, qaly, ["soc", "lat", "lat_plus"])


WTP = np.array([0.0, 10_000, 50_000, 100_000, 150_000, 200_000, 500_000, 1e6])

# --------------------------------------------------------------------------- discounting


def test_continuous_rate_matches_annual_compounding() -> None:
    """exp(-ln(1+a) t) equals (1+a)^-t, the annual convention, at any t."""
    t = np.array([0.0, 0.5, 1.0, 2.0, 7.25])
    np.testing.assert_allclose(discount_factor(t, 0.03), 1.03 ** -t, rtol=1e-14)
    assert continuous_rate(0.035) == pytest.approx(math.log(1.035), rel=1e-15)
    assert discount_factor(0.0, 0.03) == 1.0
    assert discount_factor(math.inf, 0.03) == 0.0
    np.testing.assert_array_equal(discount_factor(t, 0.0), np.ones_like(t))


@pytest.mark.parametrize("annual", [0.03, 0.035, 0.10])
@pytest.mark.parametrize("T", [0.25, 1.0, 5.0, 40.0])
def test_constant_utility_closed_form(annual: float, T: float) -> None:
    """Utility u over T years discounts to u (1 - e^{-rT}) / r with r = ln(1 + annual)."""
    u, r = 0.81, math.log1p(annual)
    expected = u * (1.0 - math.exp(-r * T)) / r
    assert u * discounted_duration(0.0, T, annual) == pytest.approx(expected, rel=1e-13)
    numeric, _ = integrate.quad(lambda t: u * math.exp(-r * t), 0.0, T)
    assert u * discounted_duration(0.0, T, annual) == pytest.approx(numeric, rel=1e-10)


def test_zero_rate_limit() -> None:
    """At rate 0 the discounted duration is t1 - t0, and tiny rates approach it continuously."""
    t0, t1 = np.array([0.0, 1.0, 2.5]), np.array([3.0, 1.0, 10.0])
    np.testing.assert_array_equal(discounted_duration(t0, t1, 0.0), t1 - t0)
    np.testing.assert_allclose(discounted_duration(t0, t1, 1e-12), t1 - t0, rtol=1e-10)


def test_discounted_duration_is_additive_and_vectorised() -> None:
    """∫0^T = ∫0^s + ∫s^T elementwise; shapes broadcast; [t, inf) gives e^{-rt}/r."""
    rng = np.random.default_rng(1)
    s = rng.uniform(0, 5, (4, 3))
    T = s + rng.uniform(0, 5, (4, 3))
    whole = discounted_duration(0.0, T, 0.03)
    parts = discounted_duration(0.0, s, 0.03) + discounted_duration(s, T, 0.03)
    assert whole.shape == (4, 3)
    np.testing.assert_allclose(whole, parts, rtol=1e-13)
    r = math.log(1.03)
    assert discounted_duration(2.0, math.inf, 0.03) == pytest.approx(math.exp(-2 * r) / r)
    assert discounted_duration(math.inf, math.inf, 0.03) == 0.0


def test_discounting_rejects_bad_input() -> None:
    """Negative rates, negative or NaN times and t1 < t0 are errors that name the problem."""
    with pytest.raises(ParameterError, match="annual discount rate"):
        discount_factor(1.0, -0.01)
    with pytest.raises(OligosimInputError, match="t_years"):
        discount_factor([1.0, math.nan], 0.03)
    with pytest.raises(OligosimInputError, match="t1_years >= t0_years"):
        discounted_duration(2.0, 1.0, 0.03)


# ------------------------------------------------------------------ incremental analysis


def test_strong_dominance() -> None:
    """Higher cost with lower effect, and equal cost with lower effect, are dominated."""
    # By cost (ties: higher effect first): A (100, 1.0), D (100, 0.9), B (200, 0.8), C (300, 2.0)
    # D: same cost as A, lower effect -> dominated by A.
    # B: costs more than A and is less effective -> dominated by A.
    # Frontier A -> C: ICER = (300 - 100) / (2.0 - 1.0) = 200.
    table = incremental_analysis({"A": 100, "B": 200, "C": 300, "D": 100},
                                 {"A": 1.0, "B": 0.8, "C": 2.0, "D": 0.9})
    assert list(table.columns) == list(ICER_COLUMNS)
    assert list(table["strategy"]) == ["A", "D", "B", "C"]
    t = _by_strategy(table)
    assert list(t["status"]) == ["frontier", "dominated", "dominated", "frontier"]
    assert t.loc["D", "comparator"] == "A"
    assert t.loc["B", "comparator"] == "A"
    assert t.loc["B", "inc_cost"] == 100.0
    assert t.loc["B", "inc_effect"] == pytest.approx(-0.2)
    assert math.isnan(t.loc["B", "icer"])
    assert math.isnan(t.loc["A", "icer"])
    assert t.loc["C", "icer"] == pytest.approx(200.0)
    assert t.loc["A", "comparator"] is None
    assert _no_inf(table)


def test_extended_dominance() -> None:
    """Costs 0/10/40/50, effects 0/1/1.5/3: C is extendedly dominated, frontier A-B-D."""
    # No strong dominance (cost and effect both increase). ICERs along A, B, C, D:
    #   B|A = 10/1 = 10,  C|B = 30/0.5 = 60,  D|C = 10/1.5 = 6.67.
    # 60 > 6.67, so C is extendedly dominated (a mix of B and D beats it). Recompute:
    #   B|A = 10,  D|B = 40/2 = 20: increasing, done. Frontier A, B, D with ICERs 10, 20.
    table = incremental_analysis({"A": 0, "B": 10, "C": 40, "D": 50},
                                 {"A": 0, "B": 1, "C": 1.5, "D": 3})
    t = _by_strategy(table)
    assert list(t["status"]) == ["frontier", "frontier", "extendedly dominated", "frontier"]
    assert t.loc["B", "icer"] == pytest.approx(10.0)
    assert t.loc["D", "icer"] == pytest.approx(20.0)
    assert t.loc["D", "comparator"] == "B"
    assert t.loc["C", "comparator"] == "B"
    assert math.isnan(t.loc["C", "icer"])
    assert t.loc["C", "inc_cost"] == 30.0
    assert t.loc["C", "inc_effect"] == 0.5
    assert _no_inf(table)


def test_iterated_dominance_eight_strategies() -> None:
    """Eight strategies needing both dominance rules and two rounds of extended dominance."""
    # Sorted by cost: 1 (0, 4.21), 6 (3000, 5.5), 3 (3200, 4.62), 2 (5777, 4.433),
    #   7 (10000, 7.7), 8 (11000, 12), 4 (12571, 6.825), 5 (12706, 4.826).
    # Strong: 3 and 2 by 6 (cheaper, more effective); 4 by 7; 5 by 6.
    # Left 1, 6, 7, 8. ICERs: 6|1 = 3000/1.29 = 2325.6, 7|6 = 7000/2.2 = 3181.8,
    #   8|7 = 1000/4.3 = 232.6 -> 7 extendedly dominated (3181.8 > 232.6).
    # Left 1, 6, 8: 6|1 = 2325.6, 8|6 = 8000/6.5 = 1230.8 -> 6 extendedly dominated.
    # Frontier 1, 8: ICER 11000 / 7.79 = 1412.07.
    names = [f"s{i}" for i in range(1, 9)]
    cost = dict(zip(names, [0, 5777, 3200, 12571, 12706, 3000, 10000, 11000], strict=True))
    qaly = dict(zip(names, [4.21, 4.433, 4.62, 6.825, 4.826, 5.5, 7.7, 12], strict=True))
    table = incremental_analysis(cost, qaly)
    t = _by_strategy(table)
    assert list(table["strategy"]) == ["s1", "s6", "s3", "s2", "s7", "s8", "s4", "s5"]
    assert set(t.index[t["status"] == "dominated"]) == {"s2", "s3", "s4", "s5"}
    assert set(t.index[t["status"] == "extendedly dominated"]) == {"s6", "s7"}
    assert list(t.index[t["status"] == "frontier"]) == ["s1", "s8"]
    assert t.loc["s8", "icer"] == pytest.approx(11000 / 7.79)
    assert t.loc["s8", "comparator"] == "s1"
    assert t.loc["s3", "comparator"] == "s6"
    assert t.loc["s4", "comparator"] == "s7"
    assert _no_inf(table)


def test_input_order_does_not_matter() -> None:
    """Permuting the input mappings gives the same table."""
    names = ["a", "b", "c", "d", "e"]
    cost, qaly = [5.0, 1.0, 9.0, 3.0, 7.0], [2.0, 0.5, 2.2, 1.9, 1.0]
    first = incremental_analysis(dict(zip(names, cost, strict=True)),
                                 dict(zip(names, qaly, strict=True)))
    perm = [3, 0, 4, 2, 1]
    second = incremental_analysis({names[i]: cost[i] for i in perm},
                                  {names[i]: qaly[i] for i in perm})
    pd.testing.assert_frame_equal(first, second)


def test_one_dominant_strategy() -> None:
    """A strategy cheaper and better than all others is the only frontier point, ICER NaN."""
    # X (10, 3) costs less and gives more than Y (20, 2) and Z (30, 2.5): both dominated by X.
    table = incremental_analysis({"Y": 20, "X": 10, "Z": 30}, {"Y": 2, "X": 3, "Z": 2.5})
    t = _by_strategy(table)
    assert t.loc["X", "status"] == "frontier"
    assert math.isnan(t.loc["X", "icer"])
    assert t.loc["X", "comparator"] is None
    assert math.isnan(t.loc["X", "inc_cost"])
    assert math.isnan(t.loc["X", "inc_effect"])
    assert (t.loc[["Y", "Z"], "status"] == "dominated").all()
    assert (t.loc[["Y", "Z"], "comparator"] == "X").all()
    assert t["icer"].isna().all()
    assert _no_inf(table)


def test_single_strategy() -> None:
    """One strategy alone is the frontier reference with NaN incrementals."""
    table = incremental_analysis({"only": 5.0}, {"only": 1.0})
    assert table["status"].tolist() == ["frontier"]
    assert table[["inc_cost", "inc_effect", "icer"]].isna().all(axis=None)


@pytest.mark.parametrize("order", [("P", "Q"), ("Q", "P")])
def test_identical_strategies(order: tuple[str, str]) -> None:
    """Identical strategies: the first by name is analysed, the other has 0/0 against it."""
    # P and Q both (100, 2); R (300, 3): frontier P -> R with ICER 200/1 = 200, and Q sits on
    # P's point: status frontier, comparator P, inc_cost = inc_effect = 0, ICER NaN.
    cost = {order[0]: 100.0, order[1]: 100.0, "R": 300.0}
    qaly = {order[0]: 2.0, order[1]: 2.0, "R": 3.0}
    table = incremental_analysis(cost, qaly)
    t = _by_strategy(table)
    assert list(table["strategy"]) == ["P", "Q", "R"]
    assert t.loc["Q", "status"] == "frontier"
    assert t.loc["Q", "comparator"] == "P"
    assert t.loc["Q", "inc_cost"] == 0.0
    assert t.loc["Q", "inc_effect"] == 0.0
    assert math.isnan(t.loc["Q", "icer"])
    assert t.loc["R", "comparator"] == "P"
    assert t.loc["R", "icer"] == pytest.approx(200.0)
    assert _no_inf(table)


def test_identical_dominated_strategies() -> None:
    """Two identical dominated strategies are both dominated, the second compared with the
    first."""
    table = _by_strategy(incremental_analysis({"A": 1, "B": 5, "C": 5}, {"A": 2, "B": 1, "C": 1}))
    assert list(table["status"]) == ["frontier", "dominated", "dominated"]
    assert table.loc["B", "comparator"] == "A"
    assert table.loc["C", "comparator"] == "B"
    assert table.loc["C", "inc_cost"] == 0.0
    assert table.loc["C", "inc_effect"] == 0.0


def test_collinear_points_stay_on_frontier() -> None:
    """Equal ICERs (collinear points) are not extended dominance."""
    table = incremental_analysis({"a": 0.0, "b": 0.1, "c": 0.3}, {"a": 0.0, "b": 1.0, "c": 3.0})
    assert (table["status"] == "frontier").all()
    np.testing.assert_allclose(table["icer"].iloc[1:], [0.1, 0.1])


def test_standard_errors_are_copied() -> None:
    """cost_se and effect_se become columns aligned by strategy."""
    table = incremental_analysis({"a": 2, "b": 1}, {"a": 2, "b": 1},
                                 cost_se={"a": 0.2, "b": 0.1}, effect_se={"b": 0.01, "a": 0.02})
    assert list(table.columns[:5]) == ["strategy", "cost", "effect", "cost_se", "effect_se"]
    assert table["cost_se"].tolist() == [0.1, 0.2]
    assert table["effect_se"].tolist() == [0.01, 0.02]


def test_incremental_analysis_rejects_bad_input() -> None:
    """Mismatched strategies and non-finite values are errors."""
    with pytest.raises(OligosimInputError, match="same strategies"):
        incremental_analysis({"a": 1, "b": 2}, {"a": 1, "c": 2})
    with pytest.raises(OligosimInputError, match="finite"):
        incremental_analysis({"a": 1, "b": math.inf}, {"a": 1, "b": 2})
    with pytest.raises(OligosimInputError, match="at least one"):
        incremental_analysis({}, {})


# ----------------------------------------------------------------------------- NMB, NHB


@pytest.mark.parametrize("case", ["extended", "eight"])
def test_nmb_ordering_matches_frontier(case: str) -> None:
    """Between consecutive frontier ICERs the NMB-maximising strategy is the frontier one."""
    if case == "extended":
        cost = {"A": 0, "B": 10, "C": 40, "D": 50}
        qaly = {"A": 0, "B": 1, "C": 1.5, "D": 3}
    else:
        names = [f"s{i}" for i in range(1, 9)]
        cost = dict(zip(names, [0, 5777, 3200, 12571, 12706, 3000, 10000, 11000], strict=True))
        qaly = dict(zip(names, [4.21, 4.433, 4.62, 6.825, 4.826, 5.5, 7.7, 12], strict=True))
    table = incremental_analysis(cost, qaly)
    front = table[table["status"] == "frontier"]
    icers = front["icer"].to_numpy()[1:]
    cuts = np.concatenate([[0.0], icers, [2 * icers[-1]]])
    for j, name in enumerate(front["strategy"]):
        wtp = 0.5 * (cuts[j] + cuts[j + 1])  # strictly between ICER_j and ICER_{j+1}
        nmb = net_monetary_benefit(cost, qaly, wtp)
        assert nmb.idxmax() == name, f"wtp {wtp}: {nmb.to_dict()}"
    for j, lam in enumerate(icers):  # at an ICER the two neighbours tie
        nmb = net_monetary_benefit(cost, qaly, lam)
        a, b = front["strategy"].iloc[j], front["strategy"].iloc[j + 1]
        assert nmb[a] == pytest.approx(nmb[b], rel=1e-12)
        assert nmb[a] == pytest.approx(nmb.max(), rel=1e-12)


def test_nhb_is_nmb_over_wtp() -> None:
    """NHB = NMB / wtp, for mappings and for arrays."""
    cost, qaly = {"a": 1000.0, "b": 3000.0}, {"a": 1.0, "b": 1.1}
    pd.testing.assert_series_equal(net_health_benefit(cost, qaly, 20_000),
                                   net_monetary_benefit(cost, qaly, 20_000) / 20_000)
    w = np.array([1e3, 1e4, 1e5])
    np.testing.assert_allclose(net_health_benefit(500.0, 0.2, w) * w,
                               net_monetary_benefit(500.0, 0.2, w))
    with pytest.raises(ParameterError, match="willingness to pay"):
        net_health_benefit(cost, qaly, 0.0)


# -------------------------------------------------------------------------------- MCSE


def test_paired_mean_difference_by_hand() -> None:
    """a - b = (1, 2, 3): mean 2, sd 1, MCSE 1/sqrt(3)."""
    mean, se = paired_mean_difference([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert mean == 2.0
    assert se == pytest.approx(1.0 / math.sqrt(3.0), rel=1e-15)
    with pytest.raises(OligosimInputError, match="equal length"):
        paired_mean_difference([1.0, 2.0], [1.0, 2.0, 3.0])


def test_icer_mcse_exact_cases() -> None:
    """dC = k dE for every patient gives ICER k with MCSE 0; zero mean dE gives NaN."""
    rng = np.random.default_rng(3)
    e_ref = rng.uniform(1, 3, 50)
    de = rng.uniform(0.1, 0.5, 50)
    c_ref = rng.uniform(1e4, 5e4, 50)
    icer, se = icer_mcse(c_ref + 30_000 * de, e_ref + de, c_ref, e_ref)
    assert icer == pytest.approx(30_000, rel=1e-12)
    assert se == pytest.approx(0.0, abs=1e-6 * 30_000)
    icer, se = icer_mcse([1.0, 2.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0])
    assert math.isnan(icer)
    assert math.isnan(se)


# -------------------------------------------------------------------------- PSA summaries


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_evpi_non_negative_on_random_draws(seed: int) -> None:
    """EVPI >= 0 at every wtp on random draws, and positive where decisions are uncertain."""
    table = evpi(_random_psa(seed), WTP)
    assert list(table.columns) == ["wtp", "evpi"]
    assert (table["evpi"] >= 0).all()
    assert (table["evpi"] > 0).any()
    assert _no_inf(table)


def test_evpi_zero_when_one_strategy_always_wins() -> None:
    """A strategy cheaper and better in every draw leaves no value of information."""
    rng = np.random.default_rng(7)
    qaly = rng.uniform(1, 2, (300, 3))
    cost = rng.uniform(1e4, 5e4, (300, 3))
    qaly[:, 1] = qaly.max(axis=1) + 0.01  # strategy 1 dominates in every draw
    cost[:, 1] = cost.min(axis=1) - 1.0
    draws = _psa_table(cost, qaly, ["a", "b", "c"])
    table = evpi(draws, WTP)
    assert (table["evpi"] == 0.0).all()
    curve = ceac(draws, WTP)
    assert (curve.loc[curve["strategy"] == "b", "prob_cost_effective"] == 1.0).all()


@pytest.mark.parametrize("seed", [0, 5])
def test_ceac_sums_to_one(seed: int) -> None:
    """CEAC probabilities lie in [0, 1] and sum to 1 at every wtp."""
    curve = ceac(_random_psa(seed), WTP)
    assert list(curve.columns) == ["wtp", "strategy", "prob_cost_effective"]
    assert len(curve) == 3 * WTP.size
    assert curve["prob_cost_effective"].between(0, 1).all()
    sums = curve.groupby("wtp")["prob_cost_effective"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=0, atol=1e-12)
    # At wtp 0 only cost matters: P(soc cheapest) is the share of draws where it is cheapest.
    draws = _random_psa(seed).pivot(index="draw", columns="strategy", values="cost")
    cheapest = (draws.idxmin(axis=1) == "soc").mean()
    p0 = curve[(curve["wtp"] == 0) & (curve["strategy"] == "soc")]["prob_cost_effective"]
    assert p0.item() == pytest.approx(cheapest, abs=1e-15)


def test_ceac_splits_ties_between_identical_strategies() -> None:
    """Identical strategies share the win: probabilities 1/2 each, still summing to 1."""
    draws = _random_psa(11)
    twin = draws[draws["strategy"] == "lat_plus"].assign(strategy="twin")
    both = pd.concat([draws, twin], ignore_index=True)
    curve = ceac(both, WTP).pivot(index="wtp", columns="strategy", values="prob_cost_effective")
    np.testing.assert_array_equal(curve["twin"], curve["lat_plus"])
    np.testing.assert_allclose(curve.sum(axis=1), 1.0, atol=1e-12)


def test_ceaf_picks_highest_expected_nmb() -> None:
    """The acceptability frontier follows the highest mean NMB and reports its CEAC value."""
    draws = _random_psa(4)
    frontier = ceaf(draws, WTP)
    curve = ceac(draws, WTP).set_index(["wtp", "strategy"])["prob_cost_effective"]
    means = draws.groupby("strategy")[["cost", "qaly"]].mean()
    for row in frontier.itertuples():
        nmb = row.wtp * means["qaly"] - means["cost"]
        assert row.strategy == nmb.idxmax()
        assert row.expected_nmb == pytest.approx(nmb.max(), rel=1e-12)
        assert row.prob_cost_effective == curve[(row.wtp, row.strategy)]
    assert _no_inf(frontier)


def test_ce_plane_incrementals() -> None:
    """CE plane rows are per-draw differences; an identical strategy gives exactly 0, 0."""
    draws = _random_psa(9, n_draws=50)
    twin = draws[draws["strategy"] == "soc"].assign(strategy="soc_copy")
    plane = ce_plane(pd.concat([draws, twin], ignore_index=True), "soc")
    assert list(plane.columns) == ["draw", "strategy", "inc_cost", "inc_qaly"]
    assert set(plane["strategy"]) == {"lat", "lat_plus", "soc_copy"}
    copy = plane[plane["strategy"] == "soc_copy"]
    assert len(copy) == 50
    assert (copy["inc_cost"] == 0.0).all()
    assert (copy["inc_qaly"] == 0.0).all()
    wide = draws.pivot(index="draw", columns="strategy", values="cost")
    lat = plane[plane["strategy"] == "lat"].set_index("draw")["inc_cost"]
    np.testing.assert_array_equal(lat.to_numpy(), (wide["lat"] - wide["soc"]).to_numpy())
    with pytest.raises(OligosimInputError, match="reference strategy"):
        ce_plane(draws, "nope")


def test_psa_table_validation() -> None:
    """Missing columns and incomplete draws are errors."""
    draws = _random_psa(2, n_draws=5)
    with pytest.raises(OligosimInputError, match="lacks columns"):
        ceac(draws.drop(columns="qaly"), WTP)
    with pytest.raises(OligosimInputError, match="every strategy"):
        evpi(draws.iloc[1:], WTP)
    with pytest.raises(ParameterError, match="willingness-to-pay grid"):
        ceaf(draws, [-1.0])
