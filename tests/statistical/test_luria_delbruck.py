"""Statistical tests of the pre-existing resistance sampler against Luria–Delbrück theory.

Fixed seeds; every bound is derived from the Monte Carlo standard error (MCSE) or a
chi-square p-value and is written in the assertion message (STYLE.md §11).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from oligosim.engine import preexisting as pre
from oligosim.engine._jit import PURPOSE_PREEXISTING

SEED = np.uint64(31415926)
P_MIN = 1e-3    # chi-square p-value below which the sampler is rejected
Z_MAX = 4.0     # bound on |estimate - reference| in combined MCSEs


def _draws(n, N, u, rho, p_est, lam_exact=pre.LAM_EXACT, k_early=pre.K_EARLY, seed=SEED):
    return pre._sample_many(np.uint64(seed), PURPOSE_PREEXISTING, n, N, u, rho, p_est,
                            lam_exact, k_early)


def ma_sandri_sarkar(m, k_max):
    """Luria–Delbrück (Lea–Coulson) probabilities p_0..p_k_max for expected mutations m.

    Ma, Sandri & Sarkar (1992): p_0 = exp(-m), p_n = (m/n) sum_{i<n} p_i / (n - i + 1).
    """
    p = np.zeros(k_max + 1)
    p[0] = math.exp(-m)
    for n in range(1, k_max + 1):
        i = np.arange(n)
        p[n] = m / n * np.sum(p[:n] / (n - i + 1))
    return p


@pytest.mark.parametrize("m", [0.5, 2.0, 5.0])
def test_exact_path_matches_ma_sandri_sarkar(m):
    """rho = 1, p_est = 1, N = 1e6: 20000 counts fit the exact LD distribution (chi-square)."""
    n_draws, N = 20000, 1e6
    assert m <= pre.LAM_EXACT  # the exact path is under test
    x = _draws(n_draws, N, m / N, 1.0, 1.0)
    expected = n_draws * ma_sandri_sarkar(m, 5000)
    k_max = int(np.max(np.nonzero(expected >= 5.0)[0]))  # bins 0..k_max, tail pooled
    observed = np.array([np.sum(x == k) for k in range(k_max + 1)] + [np.sum(x > k_max)])
    expected = np.append(expected[:k_max + 1], n_draws - expected[:k_max + 1].sum())
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    p_value = scipy.stats.chi2.sf(chi2, df=len(expected) - 1)
    assert p_value > P_MIN, (
        f"m={m}: chi-square {chi2:.1f} on {len(expected) - 1} df, p={p_value:.2e} <= {P_MIN}")


def _compare(approx, reference, label):
    """Mean of log10(1 + cells) within Z_MAX MCSEs, and the median by its rank."""
    la, lr = np.log10(1.0 + approx), np.log10(1.0 + reference)
    se = math.sqrt(la.var(ddof=1) / la.size + lr.var(ddof=1) / lr.size)
    diff = la.mean() - lr.mean()
    assert abs(diff) < Z_MAX * se, (
        f"{label}: mean log10(1+cells) {la.mean():.4f} vs reference {lr.mean():.4f}, "
        f"|diff| {abs(diff):.4f} >= {Z_MAX} x combined MCSE {se:.4f}")
    # Medians: the share of reference draws below the approximate median is 1/2 under the
    # null, with standard error sqrt(1/4n_ref + 1/4n_approx) (both medians are estimates).
    median = np.median(approx)
    share = float(np.mean(reference < median))
    se_share = math.sqrt(0.25 / reference.size + 0.25 / approx.size)
    assert abs(share - 0.5) < Z_MAX * se_share, (
        f"{label}: approximate median {median:.4g} has {share:.4f} of the reference below it "
        f"(reference median {np.median(reference):.4g}); |share - 1/2| >= {Z_MAX} x MCSE "
        f"{se_share:.4f}")


@pytest.mark.parametrize(("lam", "ref_lam_exact", "ref_k_early"), [
    (1e4, math.inf, pre.K_EARLY),   # reference: every one of the ~1e4 lineages exact
    (1e6, pre.LAM_EXACT, 1e4),      # reference: 1e4 early lineages exact (300x the default)
])
def test_split_path_matches_larger_cap(lam, ref_lam_exact, ref_k_early):
    """N = 1e10, rho = 1: the split path's log-size mean and median match a larger exact cap.

    With ``k_early = 1e4`` the reference's Normal part covers only lineages of mean size
    <= lam / 1e4 = 100 cells, with skewness ~1.06/sqrt(1e4) = 0.01.
    """
    N = 1e10
    approx = _draws(20000, N, lam / N, 1.0, 1.0)
    reference = _draws(2000, N, lam / N, 1.0, 1.0, ref_lam_exact, ref_k_early,
                       seed=SEED + np.uint64(1))
    _compare(approx, reference, f"u*N={lam:g}")


@pytest.mark.slow
def test_split_path_matches_fully_exact_at_one_million():
    """u*N = 1e6, N = 1e10, rho = 0.8, p_est = 0.5: split path vs all 1e6 lineages exact."""
    N, lam = 1e10, 1e6
    approx = _draws(20000, N, lam / N, 0.8, 0.5)
    reference = _draws(300, N, lam / N, 0.8, 0.5, math.inf, pre.K_EARLY,
                       seed=SEED + np.uint64(2))
    _compare(approx, reference, "u*N=1e6 fully exact")


def test_split_path_keeps_compound_poisson_moments_at_rho_zero():
    """rho = 0: the total is compound Poisson-Geometric; mean and variance are exact."""
    n_draws, N, lam, p_est = 20000, 1e10, 1e4, 0.25
    x = _draws(n_draws, N, lam / N, 0.0, p_est)
    mean = lam / p_est
    var = lam * (2.0 / p_est**2 - 1.0 / p_est)
    se_mean = math.sqrt(var / n_draws)
    se_var = var * math.sqrt(2.0 / (n_draws - 1))  # near-Normal total (lam = 1e4)
    assert abs(x.mean() - mean) < Z_MAX * se_mean, (
        f"mean {x.mean():.1f} vs {mean:.1f}: beyond {Z_MAX} x MCSE {se_mean:.2f}")
    assert abs(x.var(ddof=1) - var) < Z_MAX * se_var, (
        f"variance {x.var(ddof=1):.4g} vs {var:.4g}: beyond {Z_MAX} x MCSE {se_var:.3g}")


def test_split_path_mean_matches_closed_form():
    """rho = 0.5, N = 1e8, u*N = 1e3: the sample mean equals lam * E[m] over n ~ U[1, N]."""
    n_draws, N, lam, rho, p_est = 20000, 1e8, 1e3, 0.5, 0.5
    x = _draws(n_draws, N, lam / N, rho, p_est)
    e1, e2 = pre._late_lineage_moments(math.log(N), rho, p_est)
    mean, var = lam * e1, lam * (2.0 * e2 - e1)
    se = math.sqrt(var / n_draws)
    assert abs(x.mean() - mean) < Z_MAX * se, (
        f"mean {x.mean():.1f} vs closed form {mean:.1f}: beyond {Z_MAX} x MCSE {se:.2f}")
