"""The paired Monte Carlo standard errors of oligosim.outcomes.cea against repeated cohorts.

K = 400 synthetic cohorts of n = 1,000 patients, each patient simulated under two strategies
with shared patient-level randomness (common random numbers). The empirical standard
deviation across cohorts of the mean difference (and of the ICER) is the true MCSE up to
sampling noise; the root-mean-square of the per-cohort MCSE estimates must match it.

Tolerance: the cohort means are close to normal (n = 1,000), so the sample variance of K of
them has relative SD sqrt(2 / (K - 1)) and the sample SD relative SD 1 / sqrt(2 (K - 1)) =
0.0354 for K = 400. The RMS of K per-cohort MCSEs is far more precise (relative SD
~ sqrt((2 + excess kurtosis) / (n - 1)) / (2 sqrt(K)) < 0.003) and is neglected. We allow
4 SDs: |ratio - 1| < 0.142 (two-sided P(fail) ~ 6e-5 for a fixed seed, STYLE.md §11).
"""

from __future__ import annotations

import math

import numpy as np

from oligosim.outcomes.cea import icer_mcse, paired_mean_difference

K, N = 400, 1_000
TOL = 4.0 / math.sqrt(2.0 * (K - 1))  # 4 SDs of a sample SD from K near-normal values


def _cohort(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Per-patient (cost_new, qaly_new, cost_ref, qaly_ref) sharing patient-level draws.

    Skewed (gamma) patient costs and QALYs, the new strategy scaling them and adding an
    independent component: true mean incremental cost 0.1 * 50,000 + 30,000 = 35,000 and
    QALY 0.15 * 2 + 0.1 = 0.4.
    """
    base_cost = rng.gamma(2.0, 25_000.0, N)
    base_qaly = rng.gamma(4.0, 0.5, N)
    cost_new = 1.1 * base_cost + 30_000.0 + rng.normal(0.0, 5_000.0, N)
    qaly_new = 1.15 * base_qaly + 0.1 + rng.normal(0.0, 0.1, N)
    return cost_new, qaly_new, base_cost, base_qaly


def _repeat() -> dict[str, np.ndarray]:
    """Estimates and MCSEs of the K cohorts (fixed seed)."""
    rng = np.random.default_rng(20240917)
    out: dict[str, list[float]] = {k: [] for k in
                                   ("dc", "dc_se", "dc_unpaired_se", "icer", "icer_se")}
    for _ in range(K):
        cn, qn, cr, qr = _cohort(rng)
        dc, se = paired_mean_difference(cn, cr)
        out["dc"].append(dc)
        out["dc_se"].append(se)
        out["dc_unpaired_se"].append(math.sqrt((cn.var(ddof=1) + cr.var(ddof=1)) / N))
        icer, icer_se = icer_mcse(cn, qn, cr, qr)
        out["icer"].append(icer)
        out["icer_se"].append(icer_se)
    return {k: np.asarray(v) for k, v in out.items()}


RESULTS = _repeat()


def _rms(x: np.ndarray) -> float:
    """Root mean square."""
    return float(np.sqrt(np.mean(x**2)))


def test_paired_mcse_matches_spread_of_mean_difference() -> None:
    """RMS paired MCSE is within 4 sampling SDs of the empirical SD of the mean difference."""
    empirical = float(RESULTS["dc"].std(ddof=1))
    ratio = empirical / _rms(RESULTS["dc_se"])
    assert abs(ratio - 1.0) < TOL, (
        f"empirical SD / RMS paired MCSE = {ratio:.4f}; allowed 1 ± {TOL:.3f} "
        f"(4 x 1/sqrt(2(K-1)), K = {K})"
    )
    # The unpaired formula ignores the CRN correlation and is far too wide: the test can tell.
    unpaired_ratio = _rms(RESULTS["dc_unpaired_se"]) / empirical
    assert unpaired_ratio > 1.0 + 10 * TOL, f"unpaired SE / empirical SD = {unpaired_ratio:.2f}"


def test_mean_difference_is_unbiased() -> None:
    """The mean of K cohort estimates is within 4 of its SEs of the true 35,000."""
    se_of_mean = float(RESULTS["dc"].std(ddof=1)) / math.sqrt(K)
    bias = float(RESULTS["dc"].mean()) - 35_000.0
    assert abs(bias) < 4.0 * se_of_mean, f"bias {bias:.1f}; allowed 4 x {se_of_mean:.1f}"


def test_delta_method_icer_mcse_matches_spread_of_icer() -> None:
    """RMS delta-method ICER MCSE is within 4 sampling SDs of the empirical SD of the ICER."""
    # |mean dE| / MCSE(dE) ~ 0.4 / 0.006 ~ 70 here, so the ratio estimator is close to normal
    # and the delta method's O(1/n) error is far below the tolerance.
    empirical = float(RESULTS["icer"].std(ddof=1))
    ratio = empirical / _rms(RESULTS["icer_se"])
    assert abs(ratio - 1.0) < TOL, (
        f"empirical SD / RMS delta-method MCSE = {ratio:.4f}; allowed 1 ± {TOL:.3f} "
        f"(4 x 1/sqrt(2(K-1)), K = {K})"
    )
