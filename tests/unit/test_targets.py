"""The calibration targets file and its likelihood (DESIGN.md §4, TARGETS.md §1, §2, §4).

- the package's targets.toml loads, ids are unique, every target has its provenance;
- sds are derived as DESIGN §4 says (checked against numbers worked out by hand);
- weights are documented (SINDAS and CURB down-weighted, [NV] excluded);
- every scenario/arm a target names exists in scenarios/trials;
- the loader names the file, target and field of a bad record;
- log_likelihood matches hand-computed Normal and binomial values.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from pathlib import Path

import pytest

from oligosim.calibration.targets import (
    ENDPOINTS,
    Target,
    derive_sd,
    load_targets,
    log_likelihood,
    target_interval,
    targets_frame,
    wilson_interval,
)
from oligosim.errors import OligosimInputError
from oligosim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
TRIALS = ROOT / "scenarios" / "trials"
TARGETS = load_targets()
BY_ID = {t.id: t for t in TARGETS}
RAW = tomllib.loads(
    (importlib.resources.files("oligosim") / "data" / "targets.toml").read_text("utf-8"))


def _base(**kw) -> dict:
    record = {"id": "x.y.z", "trial": "X", "citation": "C", "population": "P",
              "endpoint": "median_pfs_months", "value": 10.0, "tag": "A", "weight": 1.0,
              "note": "n"}
    record.update(kw)
    return record


# ----------------------------------------------------------------------------------------------
# the file
# ----------------------------------------------------------------------------------------------

def test_package_file_loads_every_target() -> None:
    """load_targets() returns one record per [[target]] table, in file order."""
    assert [t.id for t in TARGETS] == [r["id"] for r in RAW["target"]]
    assert len(TARGETS) >= 80


def test_ids_are_unique() -> None:
    """No two [[target]] tables share an id."""
    ids = [r["id"] for r in RAW["target"]]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_target_has_provenance() -> None:
    """Trial, citation, population, endpoint, tag, weight and a note on every target."""
    for t in TARGETS:
        for field in ("trial", "citation", "population", "note"):
            assert getattr(t, field), f"{t.id}: empty {field}"
        assert t.tag in ("A", "S", "NV", "A/S"), t.id
        assert t.endpoint in ENDPOINTS, t.id
        assert 0.0 <= t.weight <= 1.0, t.id


def test_trials_of_targets_md_section_1_are_all_present() -> None:
    """SINDAS, NROG-CN-002, ATOM, CURB and FLAURA each have targets."""
    trials = {t.trial for t in TARGETS}
    assert {"SINDAS", "NROG-CN-002", "ATOM", "CURB", "FLAURA"} <= trials


def test_mechanism_and_local_control_targets_are_present() -> None:
    """TARGETS.md §2 mechanism shares and §4 local-control figures are encoded."""
    endpoints = {t.endpoint for t in TARGETS}
    assert {"share_resistance_t790m", "share_resistance_bypass", "share_resistance_c797s",
            "share_resistance_transformed"} <= endpoints
    sites = {t.site for t in TARGETS if t.endpoint == "local_control_at_months"}
    assert {"lung", "brain", "liver", "bone_spine", "adrenal"} <= sites


def test_every_target_with_a_value_has_an_sd() -> None:
    """Each weighted target has a likelihood: a value and an sd on its scale."""
    for t in TARGETS:
        if t.weight > 0:
            assert t.value is not None, t.id
            assert t.sd is not None, t.id
            assert t.sd >= 0.0, t.id
            assert t.sd_basis != "none", t.id


# ----------------------------------------------------------------------------------------------
# sd derivation, checked by hand
# ----------------------------------------------------------------------------------------------

def test_median_sd_from_ci_by_hand() -> None:
    """FLAURA osimertinib mPFS 18.9 (15.2–21.4): sd = (ln 21.4 − ln 15.2)/3.92 = 0.08727."""
    t = BY_ID["flaura.osi.pfs_median"]
    assert t.sd_basis == "95% CI"
    assert t.sd == pytest.approx(0.087271, rel=1e-4)


def test_hazard_ratio_sd_from_ci_by_hand() -> None:
    """FLAURA PFS HR 0.46 (0.37–0.57): sd = (ln 0.57 − ln 0.37)/3.92 = 0.11024."""
    t = BY_ID["flaura.osi.hr_pfs"]
    assert t.sd == pytest.approx(0.110240, rel=1e-4)
    assert t.scale == "log"


def test_hazard_ratio_sd_from_p_value_by_hand() -> None:
    """NROG-CN-002 PFS HR 0.57, P=.004: sd = |ln 0.57| / z(0.998) = 0.56212/2.87816 = 0.19530."""
    t = BY_ID["nrog.rt.hr_pfs"]
    assert t.sd_basis == "P value"
    assert t.sd == pytest.approx(0.195305, rel=1e-4)


def test_median_sd_from_events_by_hand() -> None:
    """A median with 100 events and no CI: sd = 1/√100 = 0.1 exactly."""
    t = Target.model_validate(_base(events=100))
    sd, basis = derive_sd(t)
    assert basis == "events"
    assert sd == pytest.approx(0.1, abs=1e-15)


def test_median_sd_from_n_is_flagged_as_a_lower_bound() -> None:
    """SINDAS TKI mPFS 12.5, n=65, no CI or events: sd = 1/√65 = 0.12403, a lower bound."""
    t = BY_ID["sindas.tki.pfs_median"]
    assert t.sd == pytest.approx(0.124035, rel=1e-4)
    assert "lower bound" in t.sd_basis


def test_median_sd_from_a_hazard_ratio_ci_by_hand() -> None:
    """CURB NSCLC medians: sd(log HR) of 0.41 (0.22–0.75) over √2 = 0.31288/1.41421 = 0.22124."""
    for tid in ("curb.nsclc.soc.pfs_median", "curb.nsclc.sbrt.pfs_median"):
        t = BY_ID[tid]
        assert t.sd == pytest.approx(0.221236, rel=1e-4), tid
        assert "curb.nsclc.sbrt.hr_pfs" in t.sd_basis


def test_proportion_sd_is_binomial_by_hand() -> None:
    """FLAURA osimertinib ORR 80%, n=279: sd = √(0.8·0.2/279) = 0.023947."""
    t = BY_ID["flaura.osi.orr"]
    assert t.scale == "binomial"
    assert t.sd == pytest.approx(0.023947, rel=1e-4)


def test_wilson_interval_by_hand() -> None:
    """0 of 68 (SINDAS, no grade 5): Wilson upper bound = (z²/68)/(1 + z²/68) = 0.053471."""
    lo, hi = wilson_interval(0.0, 68)
    assert lo == 0.0
    assert hi == pytest.approx(0.053471, rel=1e-4)
    lo, hi, kind = target_interval(BY_ID["sindas.rt.treatment_deaths"])
    assert (lo, kind) == (0.0, "Wilson ±1.96 sd")
    assert hi == pytest.approx(0.053471, rel=1e-4)


def test_interval_is_the_published_ci_when_there_is_one() -> None:
    """NROG-CN-002 thoracic-RT mOS 34.4 (30.4–52.2) is judged against its own CI."""
    assert target_interval(BY_ID["nrog.rt.os_median"]) == (30.4, 52.2, "95% CI")


def test_interval_without_ci_is_plus_minus_196_sd_on_the_log_scale() -> None:
    """A median without CI: value·exp(∓1.96 sd)."""
    t = BY_ID["sindas.tki.os_median"]
    lo, hi, kind = target_interval(t)
    assert kind == "±1.96 sd"
    assert math.log(t.value / lo) == pytest.approx(1.959964 * t.sd, rel=1e-6)
    assert math.log(hi / t.value) == pytest.approx(1.959964 * t.sd, rel=1e-6)


# ----------------------------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------------------------

def test_sindas_is_weighted_down_for_its_expression_of_concern() -> None:
    """Every SINDAS target has weight 0.25 and says why."""
    sindas = [t for t in TARGETS if t.trial == "SINDAS"]
    assert sindas
    for t in sindas:
        assert t.weight == 0.25, t.id
        assert "expression of concern" in t.note, t.id


def test_curb_is_weighted_down_as_a_non_egfr_cohort() -> None:
    """CURB NSCLC targets weigh 0.25 (not EGFR-specific); whole-trial ones 0 (breast cancer)."""
    for t in (t for t in TARGETS if t.trial == "CURB"):
        if t.id.startswith("curb.nsclc."):
            assert t.weight == 0.25, t.id
            assert "EGFR" in t.note, t.id
        else:
            assert t.weight == 0.0, t.id
            assert "breast" in t.note, t.id


def test_not_verified_figures_are_excluded_or_widened() -> None:
    """TARGETS.md: never calibrate on an [NV] number without a wide sd, and say so. An [NV]
    target carries weight 0, or at most 0.25 with at most 30 effective patients (a binomial
    sd of ≥ 0.065 at 15%); its note says which."""
    nv = [t for t in TARGETS if t.tag == "NV"]
    assert {t.id for t in nv} >= {"atom.sabr.pfs_median", "mech.osi.transformed"}
    for t in nv:
        assert "[NV]" in t.note, t.id
        if t.weight == 0.0:
            assert "weight 0" in t.note.lower(), t.id
        else:
            assert t.weight <= 0.25, t.id
            assert t.effective_n is not None, t.id
            assert t.effective_n <= 30, t.id
            assert "wide sd" in t.note.lower(), t.id


def test_every_reduced_weight_is_explained() -> None:
    """A weight below 1 comes with a note that mentions the weight."""
    for t in TARGETS:
        if t.weight < 1.0:
            assert "weight" in t.note.lower(), t.id


def test_assumed_pseudo_counts_are_flagged() -> None:
    """effective_n (not a data value) appears only with ASSUMED in the note."""
    for t in TARGETS:
        if t.effective_n is not None:
            assert "ASSUMED" in t.note, t.id
            assert t.n is None, t.id


# ----------------------------------------------------------------------------------------------
# scenarios and arms
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [t for t in TARGETS if t.scenario is not None],
                         ids=lambda t: t.id)
def test_scenario_and_arms_exist(target: Target) -> None:
    """The scenario file is in scenarios/trials and has the target's arm(s) as strategies."""
    path = TRIALS / target.scenario
    assert path.is_file(), f"{target.id}: {path} missing"
    names = {s.name for s in load_scenario(path).strategy}
    arms = [target.arm, target.reference_arm,
            *(c.defined_in for c in (target.cohort, target.reference_cohort) if c)]
    for arm in arms:
        assert arm is None or arm in names, f"{target.id}: {arm!r} not in {sorted(names)}"


def test_local_control_targets_have_no_scenario() -> None:
    """TARGETS.md §4 rows are per lesion by site, not a trial arm."""
    for t in TARGETS:
        if t.endpoint in ("local_control_at_months", "local_failure_at_months"):
            assert t.scenario is None, t.id
            assert t.site is not None, t.id


def test_targets_frame_lists_every_target() -> None:
    """targets_frame(): one row per target with its interval and sd."""
    df = targets_frame(TARGETS)
    assert list(df["target_id"]) == [t.id for t in TARGETS]
    assert {"value", "lo", "hi", "interval", "sd", "sd_basis", "weight", "citation"} <= set(df)


# ----------------------------------------------------------------------------------------------
# the loader's errors
# ----------------------------------------------------------------------------------------------

def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "targets.toml"
    p.write_text(body, encoding="utf-8")
    return p


_GOOD = """[[target]]
id = "a.b.c"
trial = "T"
citation = "C"
population = "P"
endpoint = "median_pfs_months"
value = 10.0
ci_lo = 8.0
ci_hi = 12.0
tag = "A"
weight = 1.0
note = "n"
"""


def test_loader_accepts_a_minimal_file(tmp_path: Path) -> None:
    """One valid target loads with its sd derived from the CI."""
    (t,) = load_targets(_write(tmp_path, _GOOD))
    assert t.sd == pytest.approx((math.log(12) - math.log(8)) / (2 * 1.959964), rel=1e-6)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (('endpoint = "median_pfs_months"', 'endpoint = "median_pfs"'), "unknown endpoint"),
        (("value = 10.0", "value = 13.0"), "outside its CI"),
        (("weight = 1.0", "weight = 1.0\nsd = 0.1"), "derived"),
        (("weight = 1.0", "weight = 2.0"), "weight"),
        (('tag = "A"', 'tag = "B"'), "tag"),
        (("weight = 1.0", "weight = 1.0\ncolour = 1"), "colour"),
        (('endpoint = "median_pfs_months"', 'endpoint = "hr_pfs"'), "reference_arm"),
        (('endpoint = "median_pfs_months"', 'endpoint = "pfs_rate_at_months"'), "at_months"),
    ],
)
def test_loader_names_file_target_and_problem(tmp_path: Path, edit: tuple[str, str],
                                              match: str) -> None:
    """A bad record raises OligosimInputError naming the file, the target and the problem."""
    path = _write(tmp_path, _GOOD.replace(*edit))
    with pytest.raises(OligosimInputError, match=match) as info:
        load_targets(path)
    assert str(path) in str(info.value)
    assert "a.b.c" in str(info.value)


def test_loader_rejects_duplicate_ids(tmp_path: Path) -> None:
    """Two targets with one id are an error naming the id."""
    with pytest.raises(OligosimInputError, match=r"duplicate target id.*a\.b\.c"):
        load_targets(_write(tmp_path, _GOOD + "\n" + _GOOD))


def test_loader_rejects_a_dangling_sd_from(tmp_path: Path) -> None:
    """sd_from must name an existing hazard ratio."""
    body = _GOOD.replace("ci_lo = 8.0\nci_hi = 12.0\n", 'sd_from = "no.such.target"\n')
    with pytest.raises(OligosimInputError, match="sd_from"):
        load_targets(_write(tmp_path, body))


def test_loader_reports_toml_syntax_errors(tmp_path: Path) -> None:
    """Broken TOML is an input error naming the file."""
    with pytest.raises(OligosimInputError, match="not valid TOML"):
        load_targets(_write(tmp_path, "[[target]\n"))


# ----------------------------------------------------------------------------------------------
# log-likelihood
# ----------------------------------------------------------------------------------------------

def test_log_likelihood_normal_on_the_log_scale_by_hand() -> None:
    """At the published value: −½ ln 2π − ln sd; one sd away (log scale): that minus ½."""
    t = BY_ID["flaura.osi.pfs_median"]
    peak = -0.5 * math.log(2 * math.pi) - math.log(t.sd)
    assert log_likelihood(t, 18.9) == pytest.approx(peak, rel=1e-12)
    assert log_likelihood(t, 18.9 * math.exp(t.sd)) == pytest.approx(peak - 0.5, rel=1e-12)


def test_log_likelihood_adds_the_monte_carlo_variance() -> None:
    """model_se widens the Normal: variance sd² + se²."""
    t = BY_ID["flaura.osi.hr_pfs"]
    se = 0.05
    expected = -0.5 * math.log(2 * math.pi) - 0.5 * math.log(t.sd**2 + se**2)
    assert log_likelihood(t, 0.46, se) == pytest.approx(expected, rel=1e-12)


def test_log_likelihood_binomial_by_hand() -> None:
    """5 of 10 with model p = 0.5: ln C(10,5) + 10 ln 0.5 = ln 252 − 6.93147 = −1.40204."""
    t = _target_from_dict(_base(endpoint="orr", value=0.5, n=10))
    assert log_likelihood(t, 0.5) == pytest.approx(-1.4020427, rel=1e-6)


def test_beta_binomial_matches_scipy_and_tends_to_the_binomial() -> None:
    """model_se > 0: scipy's beta-binomial with mean p and variance se² (integer k); a tiny
    se gives the binomial; a model far from the data is penalised less when uncertain."""
    from scipy.stats import betabinom

    t = _target_from_dict(_base(endpoint="orr", value=0.5, n=10))
    c = 0.3 * 0.7 / 0.05**2 - 1.0
    assert log_likelihood(t, 0.3, 0.05) == pytest.approx(
        betabinom.logpmf(5, 10, 0.3 * c, 0.7 * c), rel=1e-10)
    assert log_likelihood(t, 0.3, 1e-7) == pytest.approx(log_likelihood(t, 0.3), rel=1e-9)
    assert log_likelihood(t, 0.1, 0.2) > log_likelihood(t, 0.1)


def test_log_likelihood_of_impossible_model_values_is_minus_infinity() -> None:
    """NaN, a non-positive median, or a proportion outside [0, 1] score −inf."""
    assert log_likelihood(BY_ID["flaura.osi.pfs_median"], math.nan) == -math.inf
    assert log_likelihood(BY_ID["flaura.osi.pfs_median"], 0.0) == -math.inf
    assert log_likelihood(BY_ID["flaura.osi.orr"], 1.2) == -math.inf


def test_log_likelihood_refuses_a_target_without_sd() -> None:
    """A figure with no CI, n, events or P has no likelihood."""
    with pytest.raises(ValueError, match="no likelihood"):
        log_likelihood(BY_ID["curb.all.soc.pfs_median"], 3.0)


def _target_from_dict(record: dict) -> Target:
    """A single validated target with its sd derived, without a file."""
    t = Target.model_validate(record)
    sd, basis = derive_sd(t)
    return t.model_copy(update={"sd": sd, "sd_basis": basis})


def test_a_simulated_share_of_zero_is_an_estimate_not_an_exact_zero() -> None:
    """The report's likelihood centres a share of x in m simulated patients on the Jeffreys
    posterior mean (x + 1/2)/(m + 1): 0 of 90 scores close to 1 of 90 (within 3 log-units),
    not ~50 log-units below it as a beta-binomial centred on exactly 0 would."""
    from oligosim.calibration.validate import ModelValue, _row

    t = next(x for x in TARGETS if x.id == "flaura.cns.osi.new_cns_lesions")
    ll = {}
    for x in (0, 1):
        lo, hi = wilson_interval(x / 90, 90)
        ll[x] = _row(t, ModelValue(x / 90, lo, hi, n=90.0))["log_likelihood"]
    assert math.isfinite(ll[0])
    assert ll[1] - 3.0 < ll[0] < ll[1]
    lo, hi = wilson_interval(0.12, 400)
    row = _row(t, ModelValue(0.12, lo, hi, n=400.0))
    assert row["log_likelihood"] == pytest.approx(
        log_likelihood(t, 48.5 / 401.0, (hi - lo) / (2 * 1.959963984540054)), rel=1e-9)


def test_an_uncensored_landmark_of_zero_is_scored_as_a_share() -> None:
    """A Kaplan–Meier landmark with nobody censored before it is the share x/m: it gets the
    share's Wilson interval, n = m and so the Jeffreys centre. 0 of 400 event-free at 60
    months then scores within 4 log-units of 3 of 400 (NROG-CN-002's 5-year PFS, 2.7% of 59),
    not ~35 below it. With censoring before the landmark the KM estimate is left alone."""
    import numpy as np

    from oligosim.calibration.validate import ModelValue, _as_share, _row
    from oligosim.outcomes.fast_survival import km_landmark

    t = BY_ID["nrog.tki.pfs_60m"]
    ll = {}
    for x in (0, 3):
        time = np.r_[np.linspace(1.0, 59.0, 400 - x), np.full(x, 120.0)]
        event = np.r_[np.ones(400 - x, dtype=int), np.zeros(x, dtype=int)]
        km = ModelValue(*km_landmark(time, event, 60.0))
        mv = _as_share(km, time, event, 60.0)
        assert mv.value == x / 400 == pytest.approx(km.value, abs=1e-12)
        assert mv.n == 400.0
        assert (mv.lo, mv.hi) == wilson_interval(x / 400, 400)
        ll[x] = _row(t, mv)["log_likelihood"]
    assert math.isfinite(ll[0])
    assert ll[3] - 4.0 < ll[0] < ll[3]
    time = np.r_[np.linspace(1.0, 59.0, 399), 30.0]
    event = np.r_[np.ones(399, dtype=int), 0]
    km = ModelValue(*km_landmark(time, event, 60.0))
    assert _as_share(km, time, event, 60.0) is km
