"""Statistical checks of oligosim.outcomes.survival on synthetic exponential data.

Fixed seeds (``np.random.default_rng``) and tolerances derived from asymptotic standard
errors, stated in each assertion message (DESIGN.md §6, STYLE.md §11).

For exponential event times with rate ``lam`` and independent exponential censoring with rate
``mu``, the number at risk at ``u`` is ``n exp(-(lam + mu) u)`` and Greenwood's variance is

    Var S(t) ~= S(t)^2 * lam / (n (lam + mu)) * (exp((lam + mu) t) - 1),

and the KM median ``m = ln 2 / lam`` has ``SE(m_hat) = SE(S(m)) / f(m)`` with
``f(m) = lam / 2`` (delta method).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from oligosim.outcomes.survival import hazard_ratio, km_curves, landmark_rate, median_with_ci

N_SE = 4.0  # tolerance in asymptotic standard errors (two-sided P(fail) ~ 6e-5 per check)


def _greenwood_se(lam: float, mu: float, n: int, t: float) -> float:
    """Asymptotic SE of the KM estimate S(t) for exponential(lam) events, exponential(mu)
    censoring."""
    s = math.exp(-lam * t)
    return s * math.sqrt(lam / (n * (lam + mu)) * math.expm1((lam + mu) * t))


def _exp_sample(
    rng: np.random.Generator, n: int, lam: float, mu: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exponential(lam) event times censored by independent exponential(mu) times."""
    t_event = rng.exponential(1.0 / lam, n)
    t_cens = rng.exponential(1.0 / mu, n) if mu > 0 else np.full(n, np.inf)
    return np.minimum(t_event, t_cens), (t_event <= t_cens).astype(np.int64)


def test_km_median_of_censored_exponential() -> None:
    """KM median of exponential data is within 4 asymptotic SE of ln2/lam; CI brackets it."""
    rng = np.random.default_rng(20240611)
    n, lam, mu = 2000, math.log(2) / 18.0, 0.02  # true median 18 months
    time, event = _exp_sample(rng, n, lam, mu)
    median, lo, hi = median_with_ci(time, event)
    true_median = math.log(2) / lam
    se = _greenwood_se(lam, mu, n, true_median) / (lam * 0.5)
    assert abs(median - true_median) < N_SE * se, (
        f"KM median {median:.3f} vs true {true_median:.3f}: |diff| must be < {N_SE} SE = "
        f"{N_SE * se:.3f} months (SE = Greenwood SE of S(m) / f(m), n={n})"
    )
    assert lo < median < hi
    # The 95% CI width should be about 2 * 1.96 SE; allow a factor 1.5 either way.
    width = hi - lo
    assert 2 * 1.96 * se / 1.5 < width < 2 * 1.96 * se * 1.5, (
        f"CI width {width:.3f} vs asymptotic 2*1.96*SE = {2 * 1.96 * se:.3f} (factor 1.5)"
    )


def test_km_median_uncensored() -> None:
    """Without censoring the KM median is the sample median, within 4 SE of the truth."""
    rng = np.random.default_rng(7)
    n, lam = 1500, math.log(2) / 30.0
    time, event = _exp_sample(rng, n, lam, 0.0)
    median, lo, hi = median_with_ci(time, event)
    se = _greenwood_se(lam, 0.0, n, 30.0) / (lam * 0.5)
    assert abs(median - 30.0) < N_SE * se, (
        f"KM median {median:.3f} vs 30: |diff| must be < {N_SE} SE = {N_SE * se:.3f}"
    )
    assert lo <= median <= hi


def test_median_not_reached_is_nan_not_inf() -> None:
    """Heavy censoring: the median and the upper bound are NaN, never inf."""
    rng = np.random.default_rng(11)
    time, event = _exp_sample(rng, 300, 0.01, 0.5)  # S stays near 1 over follow-up
    median, lo, hi = median_with_ci(time, event)
    assert math.isnan(median)
    assert math.isnan(hi)
    assert not any(math.isinf(x) for x in (median, lo, hi))


def test_landmark_rate_of_exponential() -> None:
    """KM S(12) is within 4 Greenwood SE of exp(-12 lam); its CI brackets the estimate."""
    rng = np.random.default_rng(12)
    n, lam, mu = 2000, 0.05, 0.03
    time, event = _exp_sample(rng, n, lam, mu)
    rate, lo, hi = landmark_rate(time, event, 12.0)
    truth = math.exp(-12.0 * lam)
    se = _greenwood_se(lam, mu, n, 12.0)
    assert abs(rate - truth) < N_SE * se, (
        f"S(12) {rate:.4f} vs {truth:.4f}: |diff| must be < {N_SE} SE = {N_SE * se:.4f}"
    )
    assert lo < rate < hi


def test_landmark_beyond_follow_up_is_nan() -> None:
    """A landmark past the last follow-up time with S > 0 is NaN; at 0 it is 1."""
    time, event = np.array([1.0, 2.0, 3.0]), np.array([1, 0, 0])
    assert all(math.isnan(x) for x in landmark_rate(time, event, 10.0))
    assert landmark_rate(time, event, 0.0)[0] == 1.0
    assert landmark_rate(np.array([1.0, 2.0]), np.array([1, 1]), 10.0)[0] == 0.0


def _two_arms(
    rng: np.random.Generator, n: int, lam: float, hr: float, *, crn: bool
) -> pd.DataFrame:
    """Two strategies, exponential times, administrative censoring at 60 months.

    With ``crn`` the same patients (same ids, same uniform draw) appear in both arms, as in
    the simulator's common random numbers; otherwise the arms are independent patients.
    """
    u_ref = rng.random(n)
    u_trt = u_ref if crn else rng.random(n)
    t_ref = -np.log(u_ref) / lam
    t_trt = -np.log(u_trt) / (hr * lam)
    ids_trt = np.arange(n) if crn else np.arange(n, 2 * n)
    frames = []
    for name, t, ids in (("ref", t_ref, np.arange(n)), ("trt", t_trt, ids_trt)):
        frames.append(pd.DataFrame({
            "strategy": name, "patient_id": ids,
            "os_months": np.minimum(t, 60.0), "os_event": (t <= 60.0).astype(np.int64),
        }))
    return pd.concat(frames, ignore_index=True)


def test_cox_hr_independent_arms() -> None:
    """Independent exponential arms with HR 0.6: log-HR within 4 SE, SE = sqrt(1/d1 + 1/d2)."""
    rng = np.random.default_rng(606)
    df = _two_arms(rng, 1000, 0.04, 0.6, crn=False)
    hr, lo, hi, p = hazard_ratio(df, "trt", "ref", "os_months", "os_event")
    d = df.groupby("strategy")["os_event"].sum()
    se = math.sqrt(1.0 / d["ref"] + 1.0 / d["trt"])
    assert abs(math.log(hr) - math.log(0.6)) < N_SE * se, (
        f"log HR {math.log(hr):.4f} vs log 0.6 = {math.log(0.6):.4f}: |diff| must be < "
        f"{N_SE} SE = {N_SE * se:.4f} (SE = sqrt(1/d_ref + 1/d_trt))"
    )
    assert lo < hr < hi
    assert p < 1e-6
    # The robust CI of independent arms is close to the model-based one.
    robust_se = (math.log(hi) - math.log(lo)) / (2 * 1.959964)
    assert 0.8 * se < robust_se < 1.25 * se, f"robust SE {robust_se:.4f} vs {se:.4f}"


def test_cox_hr_common_random_numbers() -> None:
    """Same patients in both arms: HR within 4 robust SE of 0.6 and a narrower CI than for
    independent arms (the clustered sandwich variance uses the positive correlation)."""
    rng = np.random.default_rng(607)
    df = _two_arms(rng, 1000, 0.04, 0.6, crn=True)
    hr, lo, hi, _ = hazard_ratio(df, "trt", "ref", "os_months", "os_event")
    robust_se = (math.log(hi) - math.log(lo)) / (2 * 1.959964)
    d = df.groupby("strategy")["os_event"].sum()
    independent_se = math.sqrt(1.0 / d["ref"] + 1.0 / d["trt"])
    assert robust_se < independent_se, (robust_se, independent_se)
    assert abs(math.log(hr) - math.log(0.6)) < N_SE * robust_se, (
        f"log HR {math.log(hr):.4f} vs {math.log(0.6):.4f}: |diff| must be < {N_SE} robust "
        f"SE = {N_SE * robust_se:.4f} (SE from the clustered 95% CI width / 3.92)"
    )


def test_cox_no_events_in_one_arm_gives_nan() -> None:
    """An arm without events yields NaN hazard ratio, CI and p, without raising."""
    rng = np.random.default_rng(3)
    df = _two_arms(rng, 200, 0.04, 0.6, crn=True)
    df.loc[df["strategy"] == "trt", "os_event"] = 0
    result = hazard_ratio(df, "trt", "ref", "os_months", "os_event")
    assert all(math.isnan(x) for x in result)
    assert hazard_ratio(df, "ref", "ref", "os_months", "os_event")[0] == 1.0


def test_km_curves_of_exponential_arms() -> None:
    """KM curves are monotone, bracketed by their band, and track exp(-lam t) within 4 SE."""
    rng = np.random.default_rng(99)
    df = _two_arms(rng, 1000, 0.04, 0.6, crn=True)
    curves = km_curves(df, endpoints=(("os", "os_months", "os_event"),))
    ref = curves.loc[curves["strategy"] == "ref"]
    for t in (6.0, 12.0, 24.0, 48.0):
        s_hat = ref.loc[ref["time_months"] <= t, "survival"].iloc[-1]
        se = _greenwood_se(0.04, 0.0, 1000, t)
        assert abs(s_hat - math.exp(-0.04 * t)) < N_SE * se, (
            f"S({t}) {s_hat:.4f} vs {math.exp(-0.04 * t):.4f}: must be within {N_SE} SE = "
            f"{N_SE * se:.4f}"
        )
    for _, g in curves.groupby(["strategy", "endpoint"]):
        assert np.all(np.diff(g["survival"]) <= 0)
        assert np.all(np.diff(g["n_at_risk"]) <= 0)
        assert np.all(g["survival_lo"] <= g["survival"])
        assert np.all(g["survival"] <= g["survival_hi"])
    assert np.isfinite(curves.select_dtypes("number").to_numpy()).all()
