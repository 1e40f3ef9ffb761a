"""Layer 4: the validation report — every target against the model (DESIGN.md §4, §5.1).

:func:`validate` runs each trial scenario that a target names (``scenarios/trials/<file>``)
and compares the model with the published figure, one row per target. :func:`model_value`
computes one target's model estimate from a :class:`~oligosim.runner.Results`, so calibration
can score targets without going through the report.

How model values are computed (all estimates from :mod:`oligosim.outcomes.survival`, the same
lifelines-backed functions the run summary uses):

- medians: Kaplan–Meier median with its 95% CI; hazard ratios: Cox HR of ``arm`` vs
  ``reference_arm`` with the CI clustered on ``patient_id`` (common random numbers);
  landmark rates: Kaplan–Meier survival at ``at_months``;
- ORR and other shares: proportion of the arm's patients, with a Wilson 95% CI; resistance
  shares: ``resistance_at_first_pd`` among patients with a first RECIST progression;
- cohorts and time origins for trials that enrol late (ATOM at the 3-month scan, CURB at
  oligo-progression): see :class:`~oligosim.calibration.targets.Cohort`. From a first
  progression, "PFS" is the next progression on any line: the first-line TKI's
  discontinuation when LAT let it continue, else progression on the second line.

Each row has a ``status``: ``ok``; ``proxy: ...`` (computed, but not exactly the published
quantity — the reason is given); ``not reached: ...`` / ``not estimable: ...`` (the model's
median lies beyond the follow-up, or a hazard ratio or landmark rate cannot be estimated:
model NaN); or ``not computable: ...`` (model NaN, ``within`` False), for example grade ≥3
TKI toxicity, which the model does not simulate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oligosim.calibration.local_control import LOCAL_CONTROL_ENDPOINTS, local_control_value
from oligosim.calibration.targets import (
    Cohort,
    Target,
    by_scenario,
    load_targets,
    log_likelihood,
    model_se_from_interval,
    target_interval,
    wilson_interval,
)
from oligosim.engine import _jit as J
from oligosim.errors import OligosimInputError
from oligosim.outcomes import fast_survival
from oligosim.outcomes.patients import output_arrays
from oligosim.outcomes.survival import hazard_ratio, landmark_rate, median_with_ci
from oligosim.params import ParameterSet, default_parameters
from oligosim.runner import Results, run_scenario, simulate_outputs
from oligosim.scenario import Scenario, load_scenario

__all__ = ["NOT_COMPUTABLE", "REPORT_COLUMNS", "ModelValue", "evaluate_targets",
           "find_trials_dir", "load_trial_scenarios", "model_value", "validate"]

#: Endpoints the engine's output cannot give yet, with the reason (shown in the report).
NOT_COMPUTABLE: dict[str, str] = {
    "grade3_toxicity_per_lesion": "needs per-lesion toxicity by site, which the engine does "
                                  "not output yet",
    "vertebral_fracture_per_segment": "needs per-lesion toxicity by site, which the engine "
                                      "does not output yet",
    "grade2_pneumonitis_share": "the engine records grade >=3 LAT toxicity only",
    "grade3_trae_share": "includes TKI toxicity, which the model does not simulate",
    "share_resistance_her2_amplification": "the model's bypass clone pools HER2 with MET "
                                           "amplification",
}

#: Endpoints computed from a stand-in quantity, with what stands in.
_PROXY_ENDPOINTS: dict[str, str] = {
    "grade3_pneumonitis_share": "share of patients with any grade >=3 LAT toxicity (the "
                                "toxicity type is not recorded)",
    "oesophagitis_share": "share of patients with any grade >=3 LAT toxicity (the toxicity "
                          "type and grade are not matched)",
    "cns_progression_share": "CNS involvement at the first RECIST progression (later CNS "
                             "progression is not recorded)",
    "cns_new_lesion_progression_share": "a new brain lesion among those progressing at the "
                                        "first RECIST progression (later CNS progression is "
                                        "not recorded)",
    "cns_orr": "brain lesions seen at baseline shrinking by >= 30% in summed diameter on a "
               "first-line scan before the first progression (unconfirmed; stands in for "
               "CNS RECIST)",
}
_PROXY_BYPASS = "the model's bypass clone pools MET and HER2 amplification"
_PROXY_SCREEN = "screen failures modelled as >= 5 visible lesions at the consolidation scan"
_RANGE_ONLY = "published as a range only (no single value)"
_PROXY_LC = ("closed-form radiobiology of the engine (LQ, Poisson TCP, regrowth to "
             "visibility) over assumed lesion sizes; see calibration/local_control.py")

#: Columns of the report, in order.
REPORT_COLUMNS: tuple[str, ...] = (
    "target_id", "trial", "scenario", "arm", "endpoint", "at_months", "published", "lo", "hi",
    "interval", "model", "model_lo", "model_hi", "model_se", "within", "weight", "tag", "sd",
    "sd_basis", "log_likelihood", "status",
)
_RESPONDERS = ("CR", "PR")
_OUTCOME_SCAN_MONTHS = 3.0  # n_visible_at_consolidation: the scan nearest 3 months (§2.11)


@dataclass(frozen=True)
class ModelValue:
    """A model estimate with its 95% Monte Carlo interval and how it was obtained."""

    value: float
    lo: float
    hi: float
    status: str = "ok"
    #: For a median not reached: the follow-up it exceeds (months), else NaN.
    bound: float = math.nan
    #: For a share: the number of simulated patients it is a share of, else NaN.
    n: float = math.nan

    @classmethod
    def not_computable(cls, reason: str) -> ModelValue:
        return cls(math.nan, math.nan, math.nan, f"not computable: {reason}")

    def with_proxy(self, reason: str) -> ModelValue:
        """The same estimate marked as a proxy (reasons accumulate)."""
        status = f"proxy: {reason}" if self.status == "ok" else f"{self.status}; {reason}"
        return ModelValue(self.value, self.lo, self.hi, status, self.bound, self.n)


# ---------------------------------------------------------------------------------------------
# scenario files
# ---------------------------------------------------------------------------------------------

def find_trials_dir(scenarios_dir: str | Path | None = None) -> Path:
    """The folder holding the trial scenarios (``<scenarios>/trials``).

    Parameters
    ----------
    scenarios_dir : path, optional
        A ``scenarios`` folder containing ``trials/``, or the ``trials`` folder itself.
        Default: ``scenarios/`` next to the package (a source checkout), then ``./scenarios``.

    Raises
    ------
    OligosimInputError
        If the folder does not exist or holds no trial scenario files.
    """
    if scenarios_dir is not None:
        base = Path(scenarios_dir)
        for candidate in (base / "trials", base):
            if candidate.is_dir() and any(candidate.glob("*.toml")):
                return candidate
        raise OligosimInputError("no trial scenario files (*.toml) in this folder or its "
                                 "trials/ subfolder", field="scenarios_dir",
                                 value=str(base))
    for base in (Path(__file__).resolve().parents[2] / "scenarios", Path.cwd() / "scenarios"):
        candidate = base / "trials"
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    raise OligosimInputError("cannot find the trial scenarios (scenarios/trials/*.toml next "
                             "to the package or in the current folder); pass scenarios_dir "
                             "(oligosim validate --scenarios-dir DIR)", field="scenarios_dir")


def _scan_nearest(scenario: Scenario, arm: str, months: float) -> float:
    """Time of the scheduled scan nearest ``months`` for ``arm`` (first one on a tie).

    Mirrors the engine's deterministic schedule (DESIGN §2.6): every early interval up to
    the switch, then every late interval.
    """
    strategy = next(s for s in scenario.strategy if s.name == arm)
    img = strategy.imaging or scenario.imaging
    per_month = 7.0 / J.DAYS_PER_MONTH
    int1, int2 = img.early_interval_weeks * per_month, img.late_interval_weeks * per_month
    ts, best_t, best_d = 0.0, math.nan, math.inf
    while ts <= scenario.run.horizon_months and ts <= months + int1 + int2:
        ts = ts + int1 if ts + int1 <= img.switch_months + 1e-9 else ts + int2
        if abs(ts - months) < best_d - 1e-12:
            best_d, best_t = abs(ts - months), ts
    return best_t


# ---------------------------------------------------------------------------------------------
# cohorts and time origins
# ---------------------------------------------------------------------------------------------

def _between(x: np.ndarray, lo: int | None, hi: int | None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    mask = ~np.isnan(x)
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x <= hi
    return mask


def _plain(column: pd.Series) -> np.ndarray:
    """A patients-table column as the plain numpy array :func:`oligosim.outcomes.patients.
    output_arrays` gives: labels as objects, a nullable boolean as float 1/0/NaN."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.to_numpy(dtype=object)
    if isinstance(column.dtype, pd.BooleanDtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return column.to_numpy()


class _Rows:
    """Some rows of one arm: ``rows[column]`` is a numpy array, ``rows.where(mask)`` the
    rows where ``mask`` holds. Columns are sliced only when read: a target reads a few of
    ~25 (building and slicing a pandas table took ~0.11 s of a ~1.3 s calibration
    evaluation, §7 P6)."""

    __slots__ = ("_columns", "_index", "_n")

    def __init__(self, columns: dict[str, np.ndarray], index: np.ndarray | None = None
                 ) -> None:
        self._columns = columns
        self._index = index
        self._n = (len(next(iter(columns.values()))) if columns else 0) if index is None \
            else int(index.size)

    def __getitem__(self, column: str) -> np.ndarray:
        x = self._columns[column]
        return x if self._index is None else x[self._index]

    def __len__(self) -> int:
        return self._n

    @property
    def empty(self) -> bool:
        return self._n == 0

    def where(self, mask: np.ndarray) -> _Rows:
        mask = np.asarray(mask, dtype=bool)
        index = np.flatnonzero(mask) if self._index is None else self._index[mask]
        return _Rows(self._columns, index)


class _Arms:
    """The rows of each arm, built once and shared by every target of the scenario."""

    def __init__(self, arms: dict[str, dict[str, np.ndarray]]) -> None:
        self._arms = {name: _Rows(columns) for name, columns in arms.items()}

    @classmethod
    def from_frame(cls, patients: pd.DataFrame) -> _Arms:
        """From a patients table (``results.patients`` or a subset of its columns)."""
        strategy = patients["strategy"].to_numpy(dtype=object)
        columns = {c: _plain(patients[c]) for c in patients.columns if c != "strategy"}
        return cls({arm: {c: x[strategy == arm] for c, x in columns.items()}
                    for arm in pd.unique(strategy)})

    def __getitem__(self, arm: str) -> _Rows:
        rows = self._arms.get(arm)
        if rows is None:  # a strategy with no patients in the table: no rows, same columns
            some = next(iter(self._arms.values()), None)
            columns = {} if some is None else some._columns
            rows = _Rows({c: x[:0] for c, x in columns.items()})
        return rows


def _cohort_rows(arms: _Arms, arm: str, cohort: Cohort | None) -> tuple[_Rows, str | None]:
    """The arm's rows in ``cohort`` and, if the selection is a stand-in, why."""
    rows = arms[arm]
    if cohort is None or cohort.kind == "all":
        return rows, None
    if cohort.kind == "residual_at_consolidation":
        return rows.where(_between(rows["n_visible_at_consolidation"], cohort.min_lesions,
                                   cohort.max_lesions)), None
    if cohort.kind == "oligo_progression_at_first_pd":
        source = arms[cohort.defined_in or arm]
        mask = ((source["first_pd_pattern"] != "none")
                & source["oligo_pd_at_first_pd"].astype(bool)
                & _between(source["n_progressing_at_first_pd"], cohort.min_lesions,
                           cohort.max_lesions))
        ids = source["patient_id"][mask]
        return rows.where(np.isin(rows["patient_id"], ids)), None
    # baseline_cns: a brain metastasis visible on the baseline scan
    return rows.where(rows["cns_at_baseline"].astype(bool)), None


def _times(rows: _Rows | pd.DataFrame, kind: str, origin: str, t0: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """(time, event) of ``kind`` in {pfs, os, ttd, dor} measured from ``origin``.

    ``dor``, duration of response: from the first scan read as CR or PR to progression or
    death (the PFS event), among the rows that responded (the caller selects them).
    """
    if kind == "dor":
        t = (np.asarray(rows["pfs_months"], dtype=float)
             - np.asarray(rows["response_months"], dtype=float))
        return np.maximum(t, 0.0), np.asarray(rows["pfs_event"], dtype=int)
    if origin == "first_pd":
        start = np.asarray(rows["pfs_months"], dtype=float)
        if kind == "pfs":
            continued = np.asarray(rows["ttd_months"], dtype=float) > start
            t = np.where(continued, rows["ttd_months"], rows["pfs2_months"])
            e = np.where(continued, rows["ttd_event"], rows["pfs2_event"])
        else:
            t = np.asarray(rows[f"{kind}_months"], dtype=float)
            e = np.asarray(rows[f"{kind}_event"])
        return np.maximum(np.asarray(t, dtype=float) - start, 0.0), np.asarray(e, dtype=int)
    t = np.asarray(rows[f"{kind}_months"], dtype=float)
    e = np.asarray(rows[f"{kind}_event"], dtype=int)
    if origin == "consolidation_scan":
        t = np.maximum(t - t0, 0.0)
    return t, e


_EMPTY = ModelValue(math.nan, math.nan, math.nan, "not estimable: no simulated patient in the "
                    "cohort or denominator")


def _share(mask: np.ndarray) -> ModelValue:
    m = int(mask.size)
    if m == 0:
        return _EMPTY
    p = float(mask.mean())
    lo, hi = wilson_interval(p, m)
    return ModelValue(p, lo, hi, n=float(m))


def _as_share(km: ModelValue, t: np.ndarray, ev: np.ndarray, at: float) -> ModelValue:
    """A Kaplan–Meier landmark scored as the share it is when nobody is censored before it.

    Without censoring before ``at`` the KM estimate is exactly x/m (x of the m patients
    event-free at ``at``), so it gets a share's Wilson interval and its n, and with it the
    Jeffreys likelihood centre of :func:`_likelihood_centre`: a landmark of 0 (no simulated
    patient left, which a 60-month PFS of a few percent gives at 400 patients) is then an
    estimate, not an exact 0 that scores the published figure as almost impossible (~35
    log-units between seeds for three simulated patients more or less). With censoring
    before ``at`` the KM estimate and its log-log interval are kept as they are.
    """
    if not math.isfinite(km.value) or t.size == 0 or np.any((ev == 0) & (t < at)):
        return km
    m = int(t.size)
    share = np.count_nonzero((t > at) | (ev == 0)) / m  # = km.value, without the rounding
    lo, hi = wilson_interval(share, m)
    return ModelValue(share, lo, hi, km.status, km.bound, float(m))


# ---------------------------------------------------------------------------------------------
# one target
# ---------------------------------------------------------------------------------------------

#: The patients-table columns the targets read (calibration narrows the table to them).
_USED_COLUMNS = ("patient_id", "pfs_months", "pfs_event", "os_months", "os_event",
                 "ttd_months", "ttd_event", "pfs2_months", "pfs2_event", "first_pd_pattern",
                 "oligo_pd_at_first_pd", "n_progressing_at_first_pd",
                 "n_visible_at_consolidation", "best_response", "resistance_at_first_pd",
                 "cns_progression", "second_line", "death_cause", "n_grade3_toxicity",
                 "response_months", "cns_at_baseline", "cns_new_lesion_at_first_pd",
                 "cns_response")


def model_value(target: Target, results: Results, *, fast: bool = False,
                patients: pd.DataFrame | _Arms | None = None) -> ModelValue:
    """The model's estimate of ``target`` from a run of the target's scenario.

    Parameters
    ----------
    target : Target
        With ``scenario`` set; ``results`` must come from that scenario.
    results : Results
        From :func:`oligosim.run_scenario`.
    fast : bool
        Use the estimators of :mod:`oligosim.outcomes.fast_survival` (calibration's inner
        loop) instead of lifelines: the same medians, rates and hazard ratios; hazard-ratio
        CIs are model-based, not clustered on the patient (wider).
    patients : DataFrame, optional
        ``results.patients`` or a subset of its columns holding :data:`_USED_COLUMNS`, or
        that table's ``_Arms`` shared by the targets of one scenario.

    Returns
    -------
    ModelValue
        Value and 95% Monte Carlo interval on the natural scale, and the status.

    Raises
    ------
    OligosimInputError
        If the target's arm, reference arm or cohort arm is not a strategy of the run.
    """
    if not isinstance(patients, _Arms):
        patients = _Arms.from_frame(results.patients if patients is None else patients)
    return _model_value(target, patients, results.scenario, results.strategies,
                        results.parameters, fast=fast)


def _model_value(target: Target, arms: _Arms, scenario: Scenario, strategies: Sequence[str],
                 parameters: ParameterSet, *, fast: bool) -> ModelValue:
    """:func:`model_value` from the arms of a run of ``scenario`` with ``parameters``."""
    e = target.endpoint
    if e in NOT_COMPUTABLE:
        return ModelValue.not_computable(NOT_COMPUTABLE[e])
    if e in LOCAL_CONTROL_ENDPOINTS and target.value is not None:
        return _local_control(target, parameters)
    if target.value is None:
        return ModelValue.not_computable(_RANGE_ONLY)
    named = [target.arm, target.reference_arm,
             *(c.defined_in for c in (target.cohort, target.reference_cohort) if c is not None)]
    for a in named:
        if a is not None and a not in strategies:
            raise OligosimInputError(f"target {target.id}: arm {a!r} is not a strategy of "
                                     f"scenario {scenario.name!r}",
                                     allowed=", ".join(strategies))
    t0 = (_scan_nearest(scenario, target.arm, _OUTCOME_SCAN_MONTHS)
          if target.time_origin == "consolidation_scan" else 0.0)
    rows, proxy = _cohort_rows(arms, target.arm, target.cohort)
    origin = target.time_origin
    if origin == "first_pd":
        rows = rows.where(rows["first_pd_pattern"] != "none")

    if e.startswith("median_"):
        kind = e.removeprefix("median_").removesuffix("_months")
        if kind == "dor":
            rows = rows.where(~np.isnan(np.asarray(rows["response_months"], dtype=float)))
        if rows.empty:
            return _EMPTY
        t, ev = _times(rows, kind, origin, t0)
        out = ModelValue(*(fast_survival.km_median(t, ev) if fast else median_with_ci(t, ev)))
        if not math.isfinite(out.value):
            follow_up = float(t.max())
            out = ModelValue(math.nan, out.lo, out.hi, "not reached: the model's median "
                             f"exceeds the follow-up ({follow_up:.0f} months)", follow_up)
    elif e in ("hr_pfs", "hr_os"):
        kind = e.removeprefix("hr_")
        ref_rows, ref_proxy = _cohort_rows(arms, target.reference_arm,
                                           target.reference_cohort or target.cohort)
        if origin == "first_pd":
            ref_rows = ref_rows.where(ref_rows["first_pd_pattern"] != "none")
        if rows.empty or ref_rows.empty:
            return _EMPTY
        t1, e1 = _times(rows, kind, origin, t0)
        t2, e2 = _times(ref_rows, kind, origin, t0)
        ids = np.concatenate([rows["patient_id"], ref_rows["patient_id"]])
        time, event = np.concatenate([t1, t2]), np.concatenate([e1, e2])
        if fast:
            treated = np.arange(time.size) < t1.size
            hr, lo, hi = fast_survival.cox_hr(time, event, treated)
        else:
            frame = pd.DataFrame({"strategy": ["arm"] * len(t1) + ["reference"] * len(t2),
                                  "patient_id": ids, "time": time, "event": event})
            hr, lo, hi, _ = hazard_ratio(frame, "arm", "reference", "time", "event")
        out = ModelValue(hr, lo, hi) if math.isfinite(hr) else ModelValue(
            math.nan, math.nan, math.nan, "not estimable: no events in an arm, or the Cox "
            "fit did not converge")
        proxy = proxy or ref_proxy
        if target.reference_cohort is not None and target.arm == target.reference_arm:
            proxy = _PROXY_SCREEN if proxy is None else f"{proxy}; {_PROXY_SCREEN}"
    elif e in ("pfs_rate_at_months", "os_rate_at_months"):
        if rows.empty:
            return _EMPTY
        kind = e.split("_", 1)[0]
        rate = fast_survival.km_landmark if fast else landmark_rate
        t, ev = _times(rows, kind, origin, t0)
        out = _as_share(ModelValue(*rate(t, ev, target.at_months)), t, ev, target.at_months)
        if not math.isfinite(out.value):
            out = ModelValue(math.nan, math.nan, math.nan,
                             f"not estimable: {target.at_months:g} months is beyond the "
                             "cohort's follow-up")
    elif e == "orr":
        out = _share(np.isin(rows["best_response"], _RESPONDERS))
    elif e.startswith("share_resistance_"):
        clone = e.removeprefix("share_resistance_")
        progressed = rows.where(rows["first_pd_pattern"] != "none")
        out = _share(progressed["resistance_at_first_pd"] == clone)
        if clone == "bypass":
            out = out.with_proxy(_PROXY_BYPASS)
    elif e == "cns_progression_share":
        out = _share(np.asarray(rows["cns_progression"], dtype=bool))
    elif e == "cns_new_lesion_progression_share":
        out = _share(np.asarray(rows["cns_new_lesion_at_first_pd"], dtype=bool))
    elif e == "cns_orr":  # patients without a brain lesion at baseline have no CNS response
        response = np.asarray(rows["cns_response"], dtype=float)
        out = _share(response[~np.isnan(response)] != 0.0)
    elif e == "second_line_osimertinib_share":
        out = _share(rows["second_line"] == "osimertinib")
    elif e == "treatment_death_share":
        out = _share(rows["death_cause"] == "treatment")
    elif e in ("grade3_pneumonitis_share", "oesophagitis_share"):
        out = _share(np.asarray(rows["n_grade3_toxicity"]) >= 1)
    else:  # pragma: no cover - ENDPOINTS and this function are kept in step by a test
        raise AssertionError(f"endpoint {e} has no computation")
    if e in _PROXY_ENDPOINTS:
        out = out.with_proxy(_PROXY_ENDPOINTS[e])
    if proxy is not None:
        out = out.with_proxy(proxy)
    return out


def _local_control(target: Target, parameters: ParameterSet) -> ModelValue:
    """Closed-form local control (deterministic: the interval is the value itself)."""
    v = local_control_value(target, parameters)
    return ModelValue(v, v, v, f"proxy: {_PROXY_LC}")


def _likelihood_centre(target: Target, mv: ModelValue) -> float:
    """The model value the likelihood is centred on.

    For a share of x among m simulated patients, the Jeffreys posterior mean
    (x + 1/2)/(m + 1), not x/m: a share of 0 is an estimate, not an exact 0, and a
    beta-binomial centred on 0 scores any published count as almost impossible (a jump of
    ~50 log-units between seeds for one simulated patient more or less). Kaplan–Meier
    landmarks without censoring before them are shares too (:func:`_as_share`). Everything
    else (medians, hazard ratios, censored landmarks) uses the value.
    """
    if math.isfinite(mv.n) and mv.n > 0.0:  # only shares carry n
        return (mv.value * mv.n + 0.5) / (mv.n + 1.0)
    return mv.value


def _row(target: Target, mv: ModelValue) -> dict[str, object]:
    """One report row. A median not reached scores its log-likelihood at the follow-up it
    exceeds: an upper bound of the likelihood when the published median is shorter."""
    lo, hi, kind = target_interval(target)
    finite = math.isfinite(mv.value)
    within = bool(finite and math.isfinite(lo) and math.isfinite(hi) and lo <= mv.value <= hi)
    se = model_se_from_interval(target, mv.lo, mv.hi) if finite else math.nan
    ll = math.nan
    if target.value is not None and target.sd is not None:
        if finite:
            ll = log_likelihood(target, _likelihood_centre(target, mv),
                                se if math.isfinite(se) else 0.0)
        elif math.isfinite(mv.bound) and target.value < mv.bound:
            ll = log_likelihood(target, mv.bound)
    return {
        "target_id": target.id, "trial": target.trial, "scenario": target.scenario,
        "arm": target.arm, "endpoint": target.endpoint, "at_months": target.at_months,
        "published": math.nan if target.value is None else target.value, "lo": lo, "hi": hi,
        "interval": kind, "model": mv.value, "model_lo": mv.lo, "model_hi": mv.hi,
        "model_se": se, "within": within, "weight": target.weight, "tag": target.tag,
        "sd": math.nan if target.sd is None else target.sd, "sd_basis": target.sd_basis,
        "log_likelihood": ll, "status": mv.status,
    }


# ---------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------

def validate(n_patients: int | None = None, seed: int | None = None, jobs: int | None = None,
             *, parameters: ParameterSet | None = None,
             scenarios_dir: str | Path | None = None,
             targets: Sequence[Target] | None = None,
             progress: Callable[[int, int, str], None] | None = None,
             fast: bool = False) -> pd.DataFrame:
    """Run every trial scenario a target names and compare the model with each target.

    Parameters
    ----------
    n_patients : int, optional
        Patients per strategy (default: each scenario's ``[run] n_patients``).
    seed : int, optional
        Root seed (default: each scenario's ``[run] seed``).
    jobs : int, optional
        Threads (default: all cores); results do not depend on it.
    parameters : ParameterSet, optional
        Base parameters (default: :func:`oligosim.default_parameters`, the calibrated point);
        each scenario's ``[parameters]`` overrides apply on top.
    scenarios_dir : path, optional
        The ``scenarios`` folder (or its ``trials`` subfolder); see :func:`find_trials_dir`.
    targets : sequence of Target, optional
        Default: :func:`~oligosim.calibration.targets.load_targets`.
    progress : callable, optional
        Called as ``progress(done, total, scenario_file)`` after each scenario.
    fast : bool
        Score with :mod:`oligosim.outcomes.fast_survival` (see :func:`model_value`).

    Returns
    -------
    DataFrame
        One row per target, in the targets' order, columns :data:`REPORT_COLUMNS`:
        ``published, lo, hi`` (the interval ``within`` is judged against: the published CI, or
        ±1.96 sd on the likelihood scale — ``interval`` says which), ``model, model_lo,
        model_hi`` (estimate and 95% Monte Carlo interval), ``model_se`` (on the likelihood
        scale), ``within`` (the model point estimate lies in [lo, hi]; False when not
        computable), ``log_likelihood`` (unweighted) and ``status``.

    Raises
    ------
    OligosimInputError
        On bad arguments, a missing scenario file, or a target naming an unknown strategy.
    """
    if n_patients is not None and (isinstance(n_patients, bool) or int(n_patients) < 1):
        raise OligosimInputError("n_patients must be at least 1", field="n_patients",
                                 value=n_patients)
    if seed is not None and not 0 <= int(seed) < 2**63:
        raise OligosimInputError("seed out of range", field="seed", value=seed,
                                 allowed="0 <= seed < 2**63")
    if jobs is not None and int(jobs) < 1:
        raise OligosimInputError("jobs must be at least 1", field="jobs", value=jobs)
    all_targets = list(load_targets() if targets is None else targets)
    scenarios = load_trial_scenarios(all_targets, scenarios_dir)
    return evaluate_targets(all_targets, scenarios, parameters or default_parameters(),
                            n_patients, seed, jobs, progress=progress, fast=fast)


def load_trial_scenarios(targets: Sequence[Target], scenarios_dir: str | Path | None = None
                         ) -> dict[str, Scenario]:
    """Load every trial scenario the targets name, by file name.

    Raises
    ------
    OligosimInputError
        If a named file is missing from the trials folder (or it cannot be found).
    """
    groups = by_scenario(list(targets))
    if not groups:
        return {}
    trials_dir = find_trials_dir(scenarios_dir)
    missing = [f for f in groups if not (trials_dir / f).is_file()]
    if missing:
        raise OligosimInputError(f"trial scenario file(s) named by targets not found in "
                                 f"{trials_dir}", value=missing)
    return {f: load_scenario(trials_dir / f) for f in groups}


def _arms_named(targets: Sequence[Target]) -> set[str]:
    """The strategies whose patients ``targets`` read (arms, reference arms, cohort arms);
    only these are simulated in calibration."""
    named: set[str] = set()
    for t in targets:
        if t.endpoint in NOT_COMPUTABLE or t.value is None or (
                t.endpoint in LOCAL_CONTROL_ENDPOINTS):
            continue
        named.update(a for a in (t.arm, t.reference_arm, *(
            c.defined_in for c in (t.cohort, t.reference_cohort) if c is not None))
            if a is not None)
    return named


def evaluate_targets(targets: Sequence[Target], scenarios: dict[str, Scenario],
                     parameters: ParameterSet, n_patients: int | None = None,
                     seed: int | None = None, jobs: int | None = None, *,
                     progress: Callable[[int, int, str], None] | None = None,
                     fast: bool = False) -> pd.DataFrame:
    """The report of :func:`validate` for already loaded scenarios and a parameter set.

    Local-control targets get the closed-form value of
    :mod:`oligosim.calibration.local_control` (deterministic: no Monte Carlo interval).
    Same seed, same report: every scenario is simulated with common random numbers.
    """
    groups = by_scenario(list(targets))
    values: dict[str, ModelValue] = {}
    for done, (file, group) in enumerate(groups.items(), start=1):
        if fast:  # the raw outputs, no patients table (§7 P6)
            scenario = scenarios[file]
            named = _arms_named(group) & {s.name for s in scenario.strategy}
            compiled, outputs = simulate_outputs(scenario, n_patients, seed, jobs,
                                                 parameters=parameters, strategies=named)
            arms = _Arms({name: output_arrays(out, np.arange(out.shape[0]), _USED_COLUMNS)
                          for name, out in outputs.items()})
            strategies, run_parameters = list(compiled.strategies), compiled.parameters
        else:
            results = run_scenario(scenarios[file], n_patients, seed, jobs=jobs,
                                   parameters=parameters)
            arms = _Arms.from_frame(results.patients[["strategy", *_USED_COLUMNS]])
            strategies, run_parameters = results.strategies, results.parameters
            del results
        for t in group:
            values[t.id] = _model_value(t, arms, scenarios[file], strategies, run_parameters,
                                        fast=fast)
        if progress is not None:
            progress(done, len(groups), file)
    rows = []
    for t in targets:
        mv = values.get(t.id)
        if mv is None:
            if t.endpoint in LOCAL_CONTROL_ENDPOINTS and t.value is not None:
                mv = _local_control(t, parameters)
            elif t.endpoint in NOT_COMPUTABLE:
                mv = ModelValue.not_computable(NOT_COMPUTABLE[t.endpoint])
            elif t.value is None:
                mv = ModelValue.not_computable(_RANGE_ONLY)
            else:
                mv = ModelValue.not_computable("no trial scenario simulates this population")
        rows.append(_row(t, mv))
    report = pd.DataFrame.from_records(rows, columns=list(REPORT_COLUMNS))
    report["within"] = report["within"].astype(bool)
    return report
