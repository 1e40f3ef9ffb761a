"""Dirichlet distributions of groups of shares in [economics.uncertainty] (DESIGN.md §2.12).

The group in the schema is ``costs.tki_1g_mix.share`` (gefitinib and erlotinib market shares
behind the model's single first-generation TKI). Statistical checks use the package's own
Philox streams and fixed seeds; tolerances are multiples of the Monte Carlo standard error,
written in each assertion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oligosim.errors import ScenarioError
from oligosim.outcomes.economics import cost_weights
from oligosim.psa import draw_economics, run_psa
from oligosim.psa.run import PURPOSE_ECONOMICS, psa_uniforms
from oligosim.scenario import parse_scenario
from oligosim.scenario.economics import (
    Economics,
    dirichlet_from_uniforms,
    field_unit,
    share_groups,
    uncertain_fields,
)

GROUP = "costs.tki_1g_mix.share"
GEF, ERL = f"{GROUP}.gefitinib", f"{GROUP}.erlotinib"
#: Tolerance in Monte Carlo standard errors: a 5-MCSE miss has probability ~6e-7 per check.
Z = 5.0


def economics(mix: Mapping | None = MappingProxyType({}), uncertainty: dict | None = None
              ) -> Economics:
    """The [economics] of a scenario with ``tki_1g_mix = mix`` (None: omitted)."""
    econ = {"costs": {} if mix is None else {"tki_1g_mix": dict(mix)},
            "uncertainty": uncertainty if uncertainty is not None else {}}
    return parse_scenario({"name": "d", "strategy": [{"name": "a"}],
                           "economics": econ}).economics


def dirichlet(**kwargs) -> dict:
    return {GROUP: {"distribution": "dirichlet", **kwargs}}


# ----------------------------------------------------------------------------- sampling

def test_draws_from_philox_sum_to_one_and_have_dirichlet_means_and_variances():
    """K = 4, α = (0.5, 2, 7.5, 30): 20,000 draws from the PSA's Philox uniforms."""
    alpha = np.array([0.5, 2.0, 7.5, 30.0])
    a0 = alpha.sum()
    n = 20_000
    u = np.array([psa_uniforms(7, k, PURPOSE_ECONOMICS, alpha.size) for k in range(n)])
    x = dirichlet_from_uniforms(alpha, u)
    assert x.shape == (n, 4)
    assert np.all(x >= 0.0)
    np.testing.assert_allclose(x.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    mean = alpha / a0
    var = mean * (1.0 - mean) / (a0 + 1.0)
    mcse = np.sqrt(var / n)
    err = np.abs(x.mean(axis=0) - mean)
    assert np.all(err < Z * mcse), f"mean error {err} exceeds {Z} MCSE = {Z * mcse}"
    # sample variance: its standard error from the sample's 4th central moment
    s2 = x.var(axis=0, ddof=1)
    m4 = ((x - x.mean(axis=0)) ** 4).mean(axis=0)
    se_s2 = np.sqrt((m4 - s2**2) / n)
    assert np.all(np.abs(s2 - var) < Z * se_s2), \
        f"variance {s2} vs {var}: more than {Z} standard errors {se_s2}"


def test_group_draws_through_the_scenario_have_the_declared_means():
    """counts = {gefitinib 30, erlotinib 10}: mean 0.75, from draw_economics (4,000 draws)."""
    econ = economics(uncertainty=dirichlet(counts={"gefitinib": 30.0, "erlotinib": 10.0}))
    n = 4_000
    draws = pd.DataFrame([draw_economics(econ, 3, k) for k in range(n)])
    assert list(draws.columns) == [GEF, ERL]
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    mcse = math.sqrt(0.75 * 0.25 / 41.0 / n)
    err = abs(draws[GEF].mean() - 0.75)
    assert err < Z * mcse, f"|mean - 0.75| = {err:.3g} >= {Z} MCSE = {Z * mcse:.3g}"


def test_concentration_centres_the_draws_on_the_scenario_shares():
    """concentration α₀ = 200 around shares (0.8, 0.2): mean 0.8, sd √(0.16/201)."""
    econ = economics({"share": {"gefitinib": 0.8, "erlotinib": 0.2}},
                     dirichlet(concentration=200.0))
    n = 4_000
    g = np.array([draw_economics(econ, 5, k)[GEF] for k in range(n)])
    sd = math.sqrt(0.8 * 0.2 / 201.0)
    assert abs(g.mean() - 0.8) < Z * sd / math.sqrt(n), f"mean {g.mean():.4f}, {Z} MCSE"
    assert abs(g.std(ddof=1) - sd) < Z * sd / math.sqrt(2 * n), \
        f"sd {g.std(ddof=1):.4f} vs {sd:.4f} (normal-theory {Z} standard errors)"


def test_draws_are_pure_functions_of_seed_and_draw_index():
    """The same (seed, k) gives the same shares; another k or seed gives others."""
    econ = economics(uncertainty=dirichlet(concentration=20.0))
    assert draw_economics(econ, 1, 4) == draw_economics(econ, 1, 4)
    assert draw_economics(econ, 1, 4) != draw_economics(econ, 1, 5)
    assert draw_economics(econ, 1, 4) != draw_economics(econ, 2, 4)


def test_tiny_concentrations_never_give_nan():
    """Gamma variates that underflow to 0 fall back to their asymptote; shares stay finite."""
    u = np.array([[2.0**-53, 2.0**-53, 2.0**-53], [1e-300 + 2.0**-53, 0.5, 1.0 - 2.0**-53]])
    x = dirichlet_from_uniforms([1e-3, 2e-3, 5e-3], u)
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_a_share_rises_with_its_own_uniform():
    """Inversion: a share is monotone in its own uniform (others fixed)."""
    u = np.column_stack([np.linspace(0.01, 0.99, 50), np.full(50, 0.4)])
    x = dirichlet_from_uniforms([2.0, 3.0], u)
    assert np.all(np.diff(x[:, 0]) > 0)


def test_other_uniforms_keep_their_order_when_a_group_is_added():
    """Each number takes one uniform and a group one per share, in sorted path order: the
    draws of numbers before the group are unchanged by it."""
    scan = {"costs.scan": {"distribution": "gamma", "cv": 0.2}}
    without = economics(uncertainty=scan)
    with_group = economics(uncertainty={**scan, **dirichlet(concentration=10.0)})
    assert without.n_uniforms() == 1
    assert with_group.n_uniforms() == 3
    assert draw_economics(without, 9, 2)["costs.scan"] == \
        draw_economics(with_group, 9, 2)["costs.scan"]


# ------------------------------------------------------------------------------ pricing

def test_the_mix_prices_tki_1g():
    """With tki_1g_mix, tki_1g costs Σ share × price; without it, drug_per_month.tki_1g."""
    from oligosim.engine import layout as L

    econ = economics({"share": {"gefitinib": 0.25, "erlotinib": 0.75},
                      "gefitinib_per_month": 1000.0, "erlotinib_per_month": 2000.0})
    j = L.AQ_DRUG0 + 1  # tki_1g is the second drug accumulator
    assert cost_weights(econ)[j] == pytest.approx(0.25 * 1000.0 + 0.75 * 2000.0, rel=1e-15)
    plain = Economics()
    assert cost_weights(plain)[j] == plain.costs.drug_per_month.tki_1g


def test_psa_writes_the_drawn_shares(tmp_path):
    """psa_parameters.csv has one column per share; every draw's shares sum to 1."""
    sc = parse_scenario({
        "name": "dir", "run": {"n_patients": 30, "seed": 3, "horizon_months": 36.0},
        "strategy": [{"name": "gef", "tki": "gefitinib"}, {"name": "osi"}],
        "economics": {"costs": {"tki_1g_mix": {}},
                      "uncertainty": dirichlet(concentration=10.0)}})
    r = run_psa(sc, 4, out_dir=tmp_path / "psa", jobs=1)
    par = pd.read_csv(tmp_path / "psa" / "psa_parameters.csv")
    assert set(par.columns) == {"draw", GEF, ERL}
    np.testing.assert_allclose(par[GEF] + par[ERL], 1.0, atol=1e-12)
    assert r.draws.loc[r.draws["strategy"] == "gef", "cost_usd"].nunique() == 4


# --------------------------------------------------------------------- one-way bounds

def test_one_way_bounds_of_a_share_are_its_beta_marginal_quantiles():
    """Low/high of a share: Beta(α_i, α₀ - α_i) quantiles; the group still sums to 1."""
    econ = economics(uncertainty=dirichlet(counts={"gefitinib": 12.0, "erlotinib": 4.0}))
    assert econ.one_way_parameters() == [GEF]  # a group of two has one free share
    for q in (0.025, 0.975):
        v = econ.one_way_values(GEF, q)
        assert v[GEF] == pytest.approx(stats.beta.ppf(q, 12.0, 4.0), rel=1e-12)
        assert v[GEF] + v[ERL] == pytest.approx(1.0, abs=1e-15)
        econ.with_values(v)  # valid shares


def test_units_of_every_uncertain_number_and_share():
    """Every number [economics.uncertainty] may name, and every share, has a unit."""
    paths = [*uncertain_fields()] + [f"{g}.{s}" for g, names in share_groups().items()
                                     for s in names]
    units = {p: field_unit(p) for p in paths}
    assert units["costs.drug_per_month.osimertinib"] == "USD/month"
    assert units["costs.tki_1g_mix.erlotinib_per_month"] == "USD/month"
    assert units[GEF] == "share"
    assert units["utilities.progression_free"] == "utility"
    assert units["utilities.grade3_qaly_loss"] == "QALY/event"


# ------------------------------------------------------------------------------ errors

@pytest.mark.parametrize(("mix", "uncertainty", "words"), [
    (None, dirichlet(concentration=5.0), []),
    ({}, {GROUP: {"distribution": "beta", "sd": 0.1}},
     ["share.distribution", "drawn together", "must be dirichlet, not beta"]),
    ({}, dirichlet(sd=0.1), ["share.sd", "takes no sd", "allowed: concentration"]),
    ({}, dirichlet(), ["exactly one of concentration and counts"]),
    ({}, dirichlet(concentration=5.0, counts={"gefitinib": 1.0, "erlotinib": 1.0}),
     ["exactly one of concentration and counts"]),
    ({}, dirichlet(counts={"gefitinib": 3.0}),
     ["share.counts", "allowed: one count for each of gefitinib, erlotinib"]),
    ({}, dirichlet(counts={"gefitinib": 3.0, "erlotinib": 0.0}),
     ["counts.erlotinib", "greater than 0"]),
    ({"share": {"gefitinib": 1.0, "erlotinib": 0.0}}, dirichlet(concentration=5.0),
     ["needs every share > 0", "'costs.tki_1g_mix.share.erlotinib' is 0"]),
    ({}, {GEF: {"distribution": "beta", "sd": 0.1}},
     ["one share of the group 'costs.tki_1g_mix.share'", 'distribution = "dirichlet"']),
    ({}, {"costs.scan": {"distribution": "dirichlet", "concentration": 5.0}},
     ["costs.scan.distribution", "'costs.scan' is one number",
      "dirichlet on costs.tki_1g_mix.share"]),
    ({}, {"costs.scan": {"distribution": "gamma", "cv": 0.1, "concentration": 5.0}},
     ["costs.scan.concentration", "belongs to a dirichlet"]),
    ({}, {"costs.drug_per_month.tki_1g": {"distribution": "gamma", "cv": 0.1}},
     ["not used when costs.tki_1g_mix is given"]),
])
def test_bad_dirichlet_gives_a_clear_error(mix, uncertainty, words):
    """Each mistake names the field, what was found and what is allowed."""
    with pytest.raises(ScenarioError) as exc:
        economics(mix, uncertainty)
    text = str(exc.value)
    assert "field 'economics.uncertainty." in text, text
    if mix is None:
        words = ["belongs to [economics.costs.tki_1g_mix], which this scenario omits"]
    for w in words:
        assert w in text, text


def test_shares_that_do_not_sum_to_one_are_an_error():
    """The group's shares must sum to 1 (1e-6), like population.subtype."""
    with pytest.raises(ScenarioError, match=r"economics\.costs\.tki_1g_mix\.share': the "
                                            r"shares gefitinib \+ erlotinib = 0\.6 \+ 0\.3 = "
                                            r"0\.9, but they must sum to 1"):
        economics({"share": {"gefitinib": 0.6, "erlotinib": 0.3}})
