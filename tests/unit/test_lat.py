"""Local ablative therapy: LQ kill, Poisson TCP and surgery (oligosim.engine.lat, DESIGN §2.8)."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.stats

from oligosim.engine import lat, rng
from oligosim.engine._jit import (
    BRAIN,
    CLONE_S,
    CLONE_T790M,
    LIVER,
    LUNG_MET,
    MOD_SBRT,
    MOD_SRS,
    MOD_SURGERY,
    N_CLONES,
    PURPOSE_LATKILL,
)

SEED = 20_240_611
N_PATIENTS = 20_000
Z_MAX = 3.29  # two-sided p > 1e-3 for a normal approximation to the binomial


def _table():
    return rng.new_stream_table(np.array([PURPOSE_LATKILL], dtype=np.int64),
                                np.zeros(1, dtype=np.int64))


def _cells(**per_clone):
    cells = np.zeros(N_CLONES)
    for k, v in per_clone.items():
        cells[{"s": CLONE_S, "t790m": CLONE_T790M}[k]] = v
    return cells


def _treat(cells, *, organ=LUNG_MET, modality=MOD_SBRT, dose=54.0, fx=3.0, diameter=20.0,
           alpha=0.3, f=1.0, ab=10.0, p_r0=0.9, resid=0.01, pid=1, table=None):
    new = np.full(N_CLONES, np.nan)
    if table is None:
        table = _table()
    controlled = lat.treat_lesion(cells, new, organ, modality, dose, fx, diameter, alpha, f, ab,
                                  p_r0, resid, table, 0, SEED, pid)
    return controlled, new


# ---------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------
def test_bed_54_gy_in_3_fractions():
    """BED of 54 Gy / 3 fractions at α/β 10 Gy is 151.2 Gy."""
    assert lat.bed_gy(54.0, 3.0, 10.0) == pytest.approx(151.2, rel=1e-15)


@pytest.mark.parametrize(("dose", "fx", "ab", "bed"), [
    (60.0, 30.0, 10.0, 72.0),
    (50.0, 5.0, 10.0, 100.0),
    (24.0, 1.0, 10.0, 81.6),
    (24.0, 2.0, 3.0, 120.0),
    (30.0, 3.0, 2.0, 180.0),
])
def test_bed_closed_form(dose, fx, ab, bed):
    """BED = D·(1 + d/(α/β)) for common schedules."""
    assert lat.bed_gy(dose, fx, ab) == pytest.approx(bed, rel=1e-14)


@pytest.mark.parametrize(("alpha", "dose", "fx", "ab"), [
    (0.3, 54.0, 3.0, 10.0),
    (0.05, 60.0, 30.0, 10.0),
    (0.15, 24.0, 1.0, 3.0),
    (0.0, 54.0, 3.0, 10.0),
])
def test_surviving_fraction_is_exp_minus_alpha_bed(alpha, dose, fx, ab):
    """SF = exp(−α·BED)."""
    sf = lat.surviving_fraction(alpha, dose, fx, ab)
    assert sf == pytest.approx(math.exp(-alpha * lat.bed_gy(dose, fx, ab)), rel=1e-13)


def test_surviving_fraction_54_gy_value():
    """α = 0.3 /Gy, 54 Gy/3, α/β 10: SF = exp(−45.36)."""
    assert lat.surviving_fraction(0.3, 54.0, 3.0, 10.0) == pytest.approx(math.exp(-45.36),
                                                                         rel=1e-13)


@pytest.mark.parametrize(("diameter", "dose"), [
    (0.0, 24.0), (5.0, 24.0), (20.0, 24.0), (20.000001, 18.0), (25.0, 18.0), (30.0, 18.0),
    (30.000001, 15.0), (45.0, 15.0),
])
def test_srs_dose_thresholds(diameter, dose):
    """RTOG 90-05: 24 Gy ≤ 20 mm, 18 Gy ≤ 30 mm, else 15 Gy."""
    assert lat.srs_dose_gy(diameter) == dose


# ---------------------------------------------------------------------------------------
# treat_lesion: radiotherapy
# ---------------------------------------------------------------------------------------
def test_huge_lesion_tiny_dose_not_controlled():
    """1e11 clonogens at 1 Gy survive; survivors ≈ N·SF within Poisson noise."""
    cells = _cells(s=1e11, t790m=1e9)
    controlled, new = _treat(cells, dose=1.0, fx=1.0, alpha=0.3, f=0.5)
    assert not controlled
    sf = lat.surviving_fraction(0.3, 1.0, 1.0, 10.0)
    for k in (CLONE_S, CLONE_T790M):
        mean = cells[k] * sf
        sd_cells = math.sqrt(cells[k] * 0.5 * sf) / 0.5
        assert abs(new[k] - mean) < 6 * sd_cells, "survivors outside 6 Poisson sd"
    assert np.all(new[[2, 3, 4]] == 0.0)


def test_zero_cells_controlled_and_no_draw():
    """A lesion with no cells is controlled and consumes no random number."""
    table = _table()
    controlled, new = _treat(np.zeros(N_CLONES), dose=0.0, table=table)
    assert controlled
    assert np.all(new == 0.0)
    assert table[0, 2] == 0  # no block generated


def test_surviving_cells_are_clonogens_over_fraction():
    """Surviving cells = surviving clonogens / clonogen fraction (an integer multiple of 1/f)."""
    f = 0.25
    controlled, new = _treat(_cells(s=1e6), dose=2.0, fx=1.0, alpha=0.1, f=f)
    assert not controlled
    assert (new[CLONE_S] * f) == np.round(new[CLONE_S] * f)


def test_brain_srs_dose_follows_diameter():
    """Brain SRS ignores the given dose and uses the RTOG 90-05 dose for the diameter."""
    cells = _cells(s=1e9, t790m=1e7)
    for diameter, dose in ((15.0, 24.0), (25.0, 18.0), (35.0, 15.0)):
        c_srs, new_srs = _treat(cells, organ=BRAIN, modality=MOD_SRS, dose=60.0, fx=30.0,
                                diameter=diameter, alpha=0.1)
        c_ref, new_ref = _treat(cells, organ=LIVER, modality=MOD_SBRT, dose=dose, fx=1.0,
                                diameter=diameter, alpha=0.1)
        assert c_srs == c_ref
        np.testing.assert_array_equal(new_srs, new_ref)


def test_srs_outside_brain_uses_given_dose():
    """SRS modality in a non-brain organ keeps the prescribed dose."""
    cells = _cells(s=1e9)
    _, new_a = _treat(cells, organ=LIVER, modality=MOD_SRS, dose=5.0, fx=1.0, alpha=0.1)
    _, new_b = _treat(cells, organ=LIVER, modality=MOD_SBRT, dose=5.0, fx=1.0, alpha=0.1)
    np.testing.assert_array_equal(new_a, new_b)


@numba.njit
def _control_rate(cells, n, alpha, dose, fx, f, ab, seed):
    """Fraction controlled over patients 0..n-1 (one lesion each, own kill stream)."""
    new = np.empty(cells.shape[0])
    table = rng.new_stream_table(np.array([PURPOSE_LATKILL], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64))
    hits = 0
    for pid in range(n):
        rng.reset_streams(table)
        if lat.treat_lesion(cells, new, LUNG_MET, MOD_SBRT, dose, fx, 20.0, alpha, f, ab, 0.9,
                            0.01, table, 0, seed, pid):
            hits += 1
    return hits / n


@pytest.mark.parametrize(("two_clones", "tcp_log"), [
    (False, -1.0),   # TCP = e^-1
    (False, -0.2),   # TCP ≈ 0.82
    (False, -3.0),   # TCP ≈ 0.05
    (True, -1.0),    # two clones sharing the expected survivors
])
def test_empirical_tcp_matches_poisson(two_clones, tcp_log):
    """Control probability over many patients equals exp(−N·f·SF) (binomial z < 3.29)."""
    alpha, dose, fx, f, ab = 0.2, 54.0, 3.0, 0.1, 10.0
    sf = lat.surviving_fraction(alpha, dose, fx, ab)
    n_total = -tcp_log / (f * sf)  # so that N·f·SF = −log TCP
    cells = _cells(s=0.3 * n_total, t790m=0.7 * n_total) if two_clones else _cells(s=n_total)
    p_hat = _control_rate(cells, N_PATIENTS, alpha, dose, fx, f, ab, SEED)
    tcp = math.exp(-cells.sum() * f * sf)
    se = math.sqrt(tcp * (1 - tcp) / N_PATIENTS)
    z = (p_hat - tcp) / se
    assert abs(z) < Z_MAX, (f"control rate {p_hat:.4f} vs Poisson TCP {tcp:.4f}: z = {z:.2f}, "
                            f"n = {N_PATIENTS}; required |z| < {Z_MAX} (p > 1e-3)")


def test_empirical_tcp_binomial_exact_test():
    """Same check with an exact binomial test at e^-1 (p > 1e-3)."""
    alpha, dose, fx, f, ab = 0.3, 54.0, 3.0, 1.0, 10.0
    sf = lat.surviving_fraction(alpha, dose, fx, ab)
    cells = _cells(s=1.0 / sf)
    p_hat = _control_rate(cells, N_PATIENTS, alpha, dose, fx, f, ab, SEED + 1)
    k = round(p_hat * N_PATIENTS)
    p = scipy.stats.binomtest(k, N_PATIENTS, math.exp(-1.0)).pvalue
    assert p > 1e-3, f"controlled {k}/{N_PATIENTS} vs TCP e^-1: binomial p = {p:.2e} ≤ 1e-3"


# ---------------------------------------------------------------------------------------
# treat_lesion: surgery
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("pid", range(50))
def test_surgery_r0_certain_always_controls(pid):
    """p_R0 = 1: the lesion is removed (controlled, no cells) for every patient."""
    controlled, new = _treat(_cells(s=1e10, t790m=1e6), modality=MOD_SURGERY, p_r0=1.0,
                             resid=0.05, pid=pid)
    assert controlled
    assert np.all(new == 0.0)


@pytest.mark.parametrize("pid", range(50))
def test_surgery_r0_impossible_leaves_residual_fraction(pid):
    """p_R0 = 0: every clone keeps residual_fraction of its cells."""
    cells = _cells(s=1e10, t790m=1e6)
    controlled, new = _treat(cells, modality=MOD_SURGERY, p_r0=0.0, resid=0.05, pid=pid)
    assert not controlled
    np.testing.assert_array_equal(new, cells * 0.05)


def test_surgery_ignores_dose():
    """Surgery outcome does not depend on dose, fractions or alpha."""
    cells = _cells(s=1e8)
    a = _treat(cells, modality=MOD_SURGERY, p_r0=0.5, dose=0.0, alpha=0.0, pid=7)
    b = _treat(cells, modality=MOD_SURGERY, p_r0=0.5, dose=80.0, alpha=1.0, pid=7)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


def test_surgery_r0_rate():
    """Fraction of R0 resections matches p_R0 = 0.7 (binomial z < 3.29)."""
    n = 5_000
    cells = _cells(s=1e8)
    hits = sum(_treat(cells, modality=MOD_SURGERY, p_r0=0.7, pid=pid)[0] for pid in range(n))
    se = math.sqrt(0.7 * 0.3 / n)
    z = (hits / n - 0.7) / se
    assert abs(z) < Z_MAX, f"R0 rate {hits / n:.4f} vs 0.7: z = {z:.2f}; required |z| < {Z_MAX}"
