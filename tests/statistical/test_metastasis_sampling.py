"""Baseline population draws: constrained metastases and truncated sizes (DESIGN §2.1)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numba
import numpy as np
import pytest
import scipy.stats

from oligosim.engine import population, rng
from oligosim.engine._jit import (
    BONE_OTHER,
    BRAIN,
    LIVER,
    LUNG_MET,
    N_ORGANS,
    N_POPULATION_FIELDS,
    POP_ALLOW_BRAIN,
    POP_MAX_METS,
    POP_MAX_ORGANS,
    POP_MAX_PER_ORGAN,
    PURPOSE_BASELINE,
)

N = 20_000
P_MIN = 1e-3
SEED = 27_182_818

COUNT_PMF = np.array([0.10, 0.30, 0.25, 0.20, 0.15])  # 0..4 metastases
ORGAN_WEIGHTS = {LUNG_MET: 0.40, BRAIN: 0.20, BONE_OTHER: 0.25, LIVER: 0.15}


def _pop(max_per_organ, max_organs, allow_brain, max_mets=15):
    pop = np.zeros(N_POPULATION_FIELDS)
    pop[POP_MAX_METS] = max_mets
    pop[POP_MAX_PER_ORGAN] = max_per_organ
    pop[POP_MAX_ORGANS] = max_organs
    pop[POP_ALLOW_BRAIN] = 1.0 if allow_brain else 0.0
    return pop


def _cum(p):
    c = np.cumsum(np.asarray(p, dtype=float))
    c /= c[-1]
    c[-1] = 1.0
    return c


def _organ_cum(weights):
    w = np.zeros(N_ORGANS)
    for o, x in weights.items():
        w[o] = x
    return _cum(w)


@numba.njit
def _draw_many(n, count_cum, organ_cum, pop, seed):
    """draw_metastases for patients 0..n-1 on the baseline row; (count, organs) per patient."""
    table = rng.new_stream_table(np.array([PURPOSE_BASELINE], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64))
    counts = np.empty(n, dtype=np.int64)
    organs = np.full((n, 64), -1, dtype=np.int64)
    buf = np.empty(64, dtype=np.int64)
    for pid in range(n):
        rng.reset_streams(table)
        k = population.draw_metastases(table, 0, seed, pid, count_cum, organ_cum, pop, buf)
        counts[pid] = k
        for j in range(max(k, 0)):
            organs[pid, j] = buf[j]
    return counts, organs


def _exact_conditional(count_pmf, weights, max_per_organ, max_organs, allow_brain):
    """Enumerate every ordered organ tuple: P(count, sorted multiset | admissible)."""
    total_w = sum(weights.values())
    probs: Counter = Counter()
    for n, pn in enumerate(count_pmf):
        for tup in itertools.product(sorted(weights), repeat=n):
            per = Counter(tup)
            if any(v > max_per_organ for v in per.values()) or len(per) > max_organs:
                continue
            if not allow_brain and per[BRAIN] > 0:
                continue
            probs[(n, tuple(sorted(tup)))] += pn * math.prod(weights[o] / total_w for o in tup)
    z = sum(probs.values())
    return {k: v / z for k, v in probs.items()}


def _chi_square(observed: Counter, expected_p: dict, n: int):
    """Pearson chi-square with cells of expected count < 5 pooled; returns (stat, dof, p)."""
    keys = sorted(expected_p, key=lambda k: expected_p[k])
    unexpected = set(observed) - set(expected_p)
    assert not unexpected, f"draws outside the admissible support: {sorted(unexpected)[:5]}"
    obs, exp = [], []
    pool_o, pool_e = 0.0, 0.0
    for k in keys:
        e = n * expected_p[k]
        if e < 5.0:
            pool_o += observed.get(k, 0)
            pool_e += e
        else:
            obs.append(observed.get(k, 0))
            exp.append(e)
    if pool_e > 0.0:
        obs.append(pool_o)
        exp.append(pool_e)
    obs_a, exp_a = np.array(obs, dtype=float), np.array(exp)
    stat = float(np.sum((obs_a - exp_a) ** 2 / exp_a))
    dof = len(obs) - 1
    return stat, dof, float(scipy.stats.chi2.sf(stat, dof))


@pytest.mark.parametrize(("max_per_organ", "max_organs", "allow_brain"), [
    (2, 2, False),   # the brief's setting: ≤ 2 per organ, ≤ 2 organs, no brain
    (1, 3, True),
    (4, 4, True),    # unconstrained: the unconditional distribution
])
def test_constrained_metastases_match_enumerated_conditional(max_per_organ, max_organs,
                                                             allow_brain):
    """(count, organ multiset) matches the enumerated conditional law (chi-square p > 1e-3)."""
    pop = _pop(max_per_organ, max_organs, allow_brain)
    counts, organs = _draw_many(N, _cum(COUNT_PMF), _organ_cum(ORGAN_WEIGHTS), pop, SEED)
    assert np.all(counts >= 0)
    observed = Counter((int(c), tuple(sorted(int(o) for o in organs[i, :c])))
                       for i, c in enumerate(counts))
    expected = _exact_conditional(COUNT_PMF, ORGAN_WEIGHTS, max_per_organ, max_organs,
                                  allow_brain)
    stat, dof, p = _chi_square(observed, expected, N)
    assert p > P_MIN, (f"chi-square {stat:.1f} on {dof} dof, p = {p:.2e}, n = {N}; "
                       f"required p > {P_MIN}")


def test_constrained_count_marginal():
    """Marginal of the count under the brief's constraints (chi-square p > 1e-3)."""
    pop = _pop(2, 2, False)
    counts, _ = _draw_many(N, _cum(COUNT_PMF), _organ_cum(ORGAN_WEIGHTS), pop, SEED + 1)
    expected = _exact_conditional(COUNT_PMF, ORGAN_WEIGHTS, 2, 2, False)
    marg = Counter()
    for (n, _), v in expected.items():
        marg[n] += v
    exp = np.array([N * marg[n] for n in range(5)])
    obs = np.bincount(counts, minlength=5)[:5]
    assert obs.sum() == N
    p = scipy.stats.chisquare(obs, exp).pvalue
    assert p > P_MIN, f"count marginal {obs} vs {exp.round(1)}: p = {p:.2e}; need p > {P_MIN}"


def test_draw_metastases_is_deterministic_per_patient():
    """Same seed and patient id give the same draw."""
    pop = _pop(2, 2, False)
    a = _draw_many(200, _cum(COUNT_PMF), _organ_cum(ORGAN_WEIGHTS), pop, SEED)
    b = _draw_many(200, _cum(COUNT_PMF), _organ_cum(ORGAN_WEIGHTS), pop, SEED)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(("count_pmf", "weights", "pop"), [
    ([0, 0, 0, 1.0], ORGAN_WEIGHTS, _pop(2, 0, True)),       # 3 mets in at most 0 organs
    ([0, 1.0], {BRAIN: 1.0}, _pop(2, 2, False)),             # brain only, brain disallowed
    ([0, 0, 0, 1.0], {LIVER: 1.0}, _pop(2, 2, True)),        # 3 in one organ, ≤ 2 per organ
])
def test_draw_metastases_returns_minus_one_when_nothing_admissible(count_pmf, weights, pop):
    """Constraints that admit no draw give −1 (after MAX_REJECTIONS tries)."""
    counts, _ = _draw_many(2, _cum(count_pmf), _organ_cum(weights), pop, SEED)
    assert list(counts) == [-1, -1]


def test_zero_metastases_admissible_with_no_organs():
    """A count pmf all on 0 satisfies max_organs = 0."""
    counts, _ = _draw_many(5, _cum([1.0, 0.0]), _organ_cum(ORGAN_WEIGHTS), _pop(0, 0, False),
                           SEED)
    assert list(counts) == [0] * 5


# ---------------------------------------------------------------------------------------
# truncated size and age distributions
# ---------------------------------------------------------------------------------------
@numba.njit
def _lognormal_above_many(n, median, sdlog, lo, seed):
    table = rng.new_stream_table(np.array([PURPOSE_BASELINE], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64))
    out = np.empty(n)
    for pid in range(n):
        rng.reset_streams(table)
        out[pid] = population.lognormal_above(table, 0, seed, pid, median, sdlog, lo)
    return out


@numba.njit
def _truncated_normal_many(n, mean, sd, lo, hi, seed):
    table = rng.new_stream_table(np.array([PURPOSE_BASELINE], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64))
    out = np.empty(n)
    for pid in range(n):
        rng.reset_streams(table)
        out[pid] = population.truncated_normal(table, 0, seed, pid, mean, sd, lo, hi)
    return out


@pytest.mark.parametrize(("median", "sdlog", "lo"), [
    (30.0, 0.5, 5.0),                          # primary above a 5 mm CT threshold
    (12.0, 0.6, 3.0),                          # brain MRI threshold
    (10.0, 0.6, 15.0),                         # threshold above the median
    (20.0, 0.8, 20.0 * math.exp(0.8 * 3.0)),   # threshold 3 sdlog above the median
])
def test_lognormal_above_matches_scipy(median, sdlog, lo):
    """lognormal_above ~ LogNormal(log median, sdlog) | X ≥ lo (KS p > 1e-3), all ≥ lo."""
    x = _lognormal_above_many(N, median, sdlog, lo, SEED)
    assert np.all(x >= lo * (1 - 1e-12))
    mu = math.log(median)
    ref = scipy.stats.truncnorm((math.log(lo) - mu) / sdlog, np.inf, loc=mu, scale=sdlog)
    p = scipy.stats.kstest(np.log(x), ref.cdf).pvalue
    assert p > P_MIN, f"KS p = {p:.2e}, n = {N}; required p > {P_MIN}"


def test_lognormal_above_zero_sdlog():
    """sdlog = 0 gives max(median, lo)."""
    assert _lognormal_above_many(1, 20.0, 0.0, 5.0, SEED)[0] == 20.0
    assert _lognormal_above_many(1, 20.0, 0.0, 25.0, SEED)[0] == 25.0


@pytest.mark.parametrize(("mean", "sd", "lo", "hi"), [
    (65.0, 10.0, 30.0, 90.0),           # age
    (0.3, 0.15, 0.0, math.inf),         # radiosensitivity α > 0
    (0.0, 1.0, 1.5, 2.5),               # narrow upper-tail window
    (0.0, 1.0, -math.inf, -2.0),        # lower tail
    (0.0, 1.0, -math.inf, math.inf),    # untruncated
])
def test_truncated_normal_matches_scipy(mean, sd, lo, hi):
    """truncated_normal ~ Normal(mean, sd) | [lo, hi] (KS p > 1e-3), all inside [lo, hi]."""
    x = _truncated_normal_many(N, mean, sd, lo, hi, SEED)
    assert np.all((x >= lo) & (x <= hi))
    ref = scipy.stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)
    p = scipy.stats.kstest(x, ref.cdf).pvalue
    assert p > P_MIN, f"KS p = {p:.2e}, n = {N}; required p > {P_MIN}"


def test_truncated_normal_zero_sd_clips():
    """sd = 0 gives the mean clipped to [lo, hi]."""
    assert _truncated_normal_many(1, 65.0, 0.0, 30.0, 90.0, SEED)[0] == 65.0
    assert _truncated_normal_many(1, 95.0, 0.0, 30.0, 90.0, SEED)[0] == 90.0
    assert _truncated_normal_many(1, 10.0, 0.0, 30.0, 90.0, SEED)[0] == 30.0
