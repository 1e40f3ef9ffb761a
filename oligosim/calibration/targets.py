"""Layer 4: the calibration targets (DESIGN.md §4, TARGETS.md §1, §2, §4).

The targets live in ``oligosim/data/targets.toml``, one ``[[target]]`` table each, with their
provenance (trial, citation, population, evidence tag), the published value and what its
uncertainty is derived from (95% CI, or N / events / P). :func:`load_targets` validates the
file into :class:`Target` records and derives each target's standard deviation on its
likelihood scale; :func:`log_likelihood` scores a model value against a target.

Likelihood scales (DESIGN.md §4)
--------------------------------
- medians (months): Normal on the log scale; sd = (ln hi − ln lo) / (2·1.96) from the CI, else
  1/√events, else sd(log HR)/√2 of a named hazard ratio (``sd_from``: equal events per arm,
  var(log HR) ≈ 1/d₁ + 1/d₂), else 1/√n — a lower bound of the sd since events ≤ n;
- hazard ratios: Normal on the log scale; sd from the CI, else |ln HR| / z₁₋ₚ/₂ from P;
- proportions (landmark rates, ORR, shares, local control): binomial with n (or the file's
  ASSUMED ``effective_n``); the reported sd is √(p(1−p)/n) and the 95% interval is Wilson's,
  i.e. the set of p with |p̂ − p| ≤ 1.96·√(p(1−p)/n) — "±1.96 sd" with the sd evaluated at the
  candidate p, which stays sensible at p̂ = 0 or 1.

The log-likelihoods are unweighted; calibration multiplies them by ``Target.weight``.
"""

from __future__ import annotations

import importlib.resources
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from oligosim.engine._jit import CLONES, ORGANS
from oligosim.errors import OligosimInputError

__all__ = [
    "ENDPOINTS",
    "Z95",
    "Cohort",
    "Target",
    "by_scenario",
    "derive_sd",
    "load_targets",
    "log_likelihood",
    "model_se_from_interval",
    "target_interval",
    "targets_frame",
    "wilson_interval",
]

#: Two-sided 95% standard-normal quantile.
Z95 = NormalDist().inv_cdf(0.975)

_LOG = "log"
_BINOMIAL = "binomial"

#: Every endpoint a target may have, and its likelihood scale.
ENDPOINTS: dict[str, str] = {
    "median_pfs_months": _LOG,
    "median_os_months": _LOG,
    "median_ttd_months": _LOG,
    "median_dor_months": _LOG,
    "hr_pfs": _LOG,
    "hr_os": _LOG,
    "pfs_rate_at_months": _BINOMIAL,
    "os_rate_at_months": _BINOMIAL,
    "orr": _BINOMIAL,
    **{f"share_resistance_{c}": _BINOMIAL for c in CLONES if c != "sensitive"},
    "share_resistance_her2_amplification": _BINOMIAL,
    "cns_progression_share": _BINOMIAL,
    "cns_new_lesion_progression_share": _BINOMIAL,
    "cns_orr": _BINOMIAL,
    "second_line_osimertinib_share": _BINOMIAL,
    "treatment_death_share": _BINOMIAL,
    "grade3_trae_share": _BINOMIAL,
    "grade3_pneumonitis_share": _BINOMIAL,
    "grade2_pneumonitis_share": _BINOMIAL,
    "oesophagitis_share": _BINOMIAL,
    "grade3_toxicity_per_lesion": _BINOMIAL,
    "vertebral_fracture_per_segment": _BINOMIAL,
    "local_control_at_months": _BINOMIAL,
    "local_failure_at_months": _BINOMIAL,
}
_MEDIANS = frozenset(e for e in ENDPOINTS if e.startswith("median_"))
_HAZARD_RATIOS = frozenset(("hr_pfs", "hr_os"))
_NEED_AT = frozenset(("pfs_rate_at_months", "os_rate_at_months"))
_MAY_HAVE_AT = _NEED_AT | {"local_control_at_months", "local_failure_at_months"}
_SITES = frozenset((*ORGANS, "lung", "multi_site"))
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_DATA_FILE = "targets.toml"
_MAX_CONCENTRATION = 1e6
_DERIVED = ("sd", "sd_basis")


class Cohort(BaseModel):
    """The subset of a simulated arm a target is compared on (trials that enrol late).

    - ``all``: every simulated patient of the arm;
    - ``residual_at_consolidation``: ``min_lesions <= n_visible_at_consolidation <=
      max_lesions`` (alive and progression-free at the scan nearest 3 months; ATOM);
    - ``oligo_progression_at_first_pd``: a first RECIST progression with ``min_lesions..
      max_lesions`` progressing lesions judged oligo-progression (all ablatable) by the arm
      ``defined_in`` (CURB); with common random numbers the same patients in every arm;
    - ``baseline_cns``: patients with CNS metastases at baseline (FLAURA CNS subgroup).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["all", "residual_at_consolidation", "oligo_progression_at_first_pd",
                  "baseline_cns"]
    min_lesions: int | None = Field(None, ge=0)
    max_lesions: int | None = Field(None, ge=0)
    defined_in: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _bounds(self) -> Cohort:
        if (self.min_lesions is not None and self.max_lesions is not None
                and self.min_lesions > self.max_lesions):
            raise ValueError(f"min_lesions {self.min_lesions} > max_lesions {self.max_lesions}")
        return self


class Target(BaseModel):
    """One published figure the model is validated (and calibrated) against.

    ``sd`` and ``sd_basis`` are derived by :func:`load_targets` (:func:`derive_sd`), never
    read from the file. Months throughout; proportions in [0, 1].
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID.pattern, description="unique '<trial>.<arm>.<endpoint>'")
    trial: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    population: str = Field(min_length=1)
    scenario: str | None = Field(None, pattern=r"^[a-z0-9_]+\.toml$",
                                 description="file under scenarios/trials/, or none")
    arm: str | None = Field(None, min_length=1)
    reference_arm: str | None = Field(None, min_length=1)
    endpoint: str
    value: float | None = None
    ci_lo: float | None = None
    ci_hi: float | None = None
    range_lo: float | None = None
    range_hi: float | None = None
    n: int | None = Field(None, ge=1)
    events: int | None = Field(None, ge=1)
    p_value: float | None = Field(None, gt=0.0, lt=1.0)
    effective_n: float | None = Field(None, gt=0.0)
    sd_from: str | None = None
    at_months: float | None = Field(None, ge=0.0)
    cohort: Cohort | None = None
    reference_cohort: Cohort | None = None
    time_origin: Literal["treatment_start", "consolidation_scan", "first_pd"] = \
        "treatment_start"
    site: str | None = None
    dose_gy: float | None = Field(None, gt=0.0)
    fractions: int | None = Field(None, ge=1)
    bed10_min: float | None = Field(None, gt=0.0)
    tag: Literal["A", "S", "NV", "A/S"]
    ci_tag: Literal["A", "S", "NV", "A/S"] | None = None
    weight: float = Field(ge=0.0, le=1.0)
    note: str = Field(min_length=1)
    sd: float | None = None
    sd_basis: str = "none"

    @model_validator(mode="before")
    @classmethod
    def _no_derived_input(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [k for k in _DERIVED if k in data]
            if given:
                raise ValueError(f"{given} are derived from the CI / n / events / P and may "
                                 "not be given in the file")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        e = self.endpoint
        if e not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {e!r}; allowed: {sorted(ENDPOINTS)}")
        if self.scenario is not None and self.arm is None:
            raise ValueError("a target with a scenario needs the arm (a strategy name)")
        if (e in _HAZARD_RATIOS) != (self.reference_arm is not None):
            raise ValueError("reference_arm is required for hazard ratios and only for them")
        if self.reference_cohort is not None and e not in _HAZARD_RATIOS:
            raise ValueError("reference_cohort applies to hazard ratios only")
        if e in _NEED_AT and self.at_months is None:
            raise ValueError(f"endpoint {e} needs at_months")
        if self.at_months is not None and e not in _MAY_HAVE_AT:
            raise ValueError(f"at_months does not apply to endpoint {e}")
        for lo, hi, what in ((self.ci_lo, self.ci_hi, "ci"), (self.range_lo, self.range_hi,
                                                             "range")):
            if (lo is None) != (hi is None):
                raise ValueError(f"give both {what}_lo and {what}_hi or neither")
            if lo is not None and hi is not None and not lo < hi:
                raise ValueError(f"{what}_lo {lo} must be below {what}_hi {hi}")
        if self.value is None:
            if self.range_lo is None or self.weight != 0.0:
                raise ValueError("value may be omitted only for a published range with "
                                 "weight 0")
        elif self.ci_lo is not None and not self.ci_lo <= self.value <= self.ci_hi:
            raise ValueError(f"value {self.value} lies outside its CI "
                             f"[{self.ci_lo}, {self.ci_hi}]")
        numbers = [x for x in (self.value, self.ci_lo, self.ci_hi, self.range_lo,
                               self.range_hi) if x is not None]
        if not all(math.isfinite(x) for x in numbers):
            raise ValueError("value, CI and range must be finite")
        if ENDPOINTS[e] == _LOG and not all(x > 0.0 for x in numbers):
            raise ValueError(f"{e} is on the log scale: value and CI must be positive")
        if ENDPOINTS[e] == _BINOMIAL and not all(0.0 <= x <= 1.0 for x in numbers):
            raise ValueError(f"{e} is a proportion: value, CI and range must be in [0, 1]")
        if self.effective_n is not None and (self.n is not None or ENDPOINTS[e] != _BINOMIAL):
            raise ValueError("effective_n (an assumed pseudo-count) is only for proportions "
                             "published without n")
        if self.events is not None and e not in _MEDIANS:
            raise ValueError("events gives the sd of a median only")
        if self.sd_from is not None and e not in _MEDIANS:
            raise ValueError("sd_from gives the sd of a median only")
        if self.p_value is not None and e not in _HAZARD_RATIOS:
            raise ValueError("p_value gives the sd of a hazard ratio only")
        if self.site is not None and self.site not in _SITES:
            raise ValueError(f"unknown site {self.site!r}; allowed: {sorted(_SITES)}")
        return self

    @property
    def scale(self) -> str:
        """``"log"`` (medians, hazard ratios) or ``"binomial"`` (proportions)."""
        return ENDPOINTS[self.endpoint]

    @property
    def binomial_n(self) -> float | None:
        """Sample size of a proportion: n, else the assumed effective_n, else from the CI."""
        if self.scale != _BINOMIAL:
            return None
        if self.n is not None:
            return float(self.n)
        if self.effective_n is not None:
            return float(self.effective_n)
        if self.ci_lo is not None and self.value is not None and self.sd:
            return self.value * (1.0 - self.value) / self.sd**2
        return None


# ---------------------------------------------------------------------------------------------
# sd, intervals, likelihood
# ---------------------------------------------------------------------------------------------

def _z_two_sided(p: float) -> float:
    """Standard-normal quantile z with two-sided tail probability ``p``."""
    return NormalDist().inv_cdf(1.0 - p / 2.0)


def derive_sd(target: Target, by_id: dict[str, Target] | None = None) -> tuple[float | None,
                                                                             str]:
    """The target's sd on its likelihood scale and what it is derived from (DESIGN.md §4).

    Parameters
    ----------
    target : Target
    by_id : dict, optional
        All targets by id, needed to resolve ``sd_from``.

    Returns
    -------
    sd : float or None
        None when nothing in the record determines it.
    basis : str
        ``"95% CI"``, ``"P value"``, ``"events"``, ``"CI of <id> (equal events per arm)"``,
        ``"n (events not reported: lower bound)"``, ``"binomial n"``,
        ``"binomial effective_n (ASSUMED)"`` or ``"none"``.
    """
    v = target.value
    if v is None:
        return None, "none"
    if target.scale == _LOG:
        if target.ci_lo is not None and target.ci_hi is not None:
            return (math.log(target.ci_hi) - math.log(target.ci_lo)) / (2.0 * Z95), "95% CI"
        if target.endpoint in _HAZARD_RATIOS:
            if target.p_value is not None and v != 1.0:
                return abs(math.log(v)) / _z_two_sided(target.p_value), "P value"
            return None, "none"
        if target.events is not None:
            return 1.0 / math.sqrt(target.events), "events"
        if target.sd_from is not None:
            ref = (by_id or {}).get(target.sd_from)
            if ref is None:
                raise ValueError(f"target {target.id}: sd_from names no target "
                                 f"({target.sd_from!r})")
            if ref.endpoint not in _HAZARD_RATIOS:
                raise ValueError(f"target {target.id}: sd_from must name a hazard ratio "
                                 f"({ref.id} is {ref.endpoint})")
            ref_sd, _ = derive_sd(ref, by_id)
            if ref_sd is None:
                raise ValueError(f"target {target.id}: {ref.id} has no sd to derive from")
            return ref_sd / math.sqrt(2.0), f"CI of {ref.id} (equal events per arm)"
        if target.n is not None:
            return 1.0 / math.sqrt(target.n), "n (events not reported: lower bound)"
        return None, "none"
    if target.ci_lo is not None and target.ci_hi is not None:
        return (target.ci_hi - target.ci_lo) / (2.0 * Z95), "95% CI"
    if target.n is not None:
        return math.sqrt(v * (1.0 - v) / target.n), "binomial n"
    if target.effective_n is not None:
        return math.sqrt(v * (1.0 - v) / target.effective_n), "binomial effective_n (ASSUMED)"
    return None, "none"


def wilson_interval(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` observed in ``n`` (n may be non-integer).

    The set of true proportions π with |p − π| ≤ z·√(π(1−π)/n) (Wilson 1927).
    """
    if not (math.isfinite(p) and 0.0 <= p <= 1.0) or not n > 0.0:
        return math.nan, math.nan
    z2 = z * z
    centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n)
    half = z / (1.0 + z2 / n) * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    # the clamps keep p inside its interval where rounding would not (p = 0 or 1)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def target_interval(target: Target) -> tuple[float, float, str]:
    """The 95% interval a model value is judged against, and its kind.

    The published CI when there is one (``"95% CI"``); else ±1.96 sd on the log scale,
    back-transformed (``"±1.96 sd"``); else, for proportions, the Wilson interval with the
    target's n (``"Wilson ±1.96 sd"``). ``(nan, nan, "none")`` when no sd can be derived.
    """
    if target.value is None:
        return math.nan, math.nan, "none"
    if target.ci_lo is not None and target.ci_hi is not None:
        return target.ci_lo, target.ci_hi, "95% CI"
    if target.scale == _LOG:
        if target.sd is None:
            return math.nan, math.nan, "none"
        f = math.exp(Z95 * target.sd)
        return target.value / f, target.value * f, "±1.96 sd"
    n = target.binomial_n
    if n is None:
        return math.nan, math.nan, "none"
    lo, hi = wilson_interval(target.value, n)
    return lo, hi, "Wilson ±1.96 sd"


def model_se_from_interval(target: Target, lo: float, hi: float) -> float:
    """Standard error of a model estimate on the target's likelihood scale from its 95% CI.

    Log scale for medians and hazard ratios, probability scale for proportions; NaN when
    either bound is missing (or not positive on the log scale).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.nan
    if target.scale == _LOG:
        if lo <= 0.0 or hi <= 0.0:
            return math.nan
        return (math.log(hi) - math.log(lo)) / (2.0 * Z95)
    return (hi - lo) / (2.0 * Z95)


def _log_choose(n: float, k: float) -> float:
    from scipy.special import gammaln

    return float(gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0))


def log_likelihood(target: Target, model_value: float, model_se: float = 0.0) -> float:
    """Log-likelihood of the published figure given the model's value (unweighted).

    Parameters
    ----------
    target : Target
        With a value and a derived sd (or binomial n).
    model_value : float
        The model's estimate on the natural scale (months, ratio or proportion).
    model_se : float
        Monte Carlo standard error of ``model_value`` on the likelihood scale (log scale for
        medians and hazard ratios, probability scale for proportions); 0 treats the model
        value as exact.

    Returns
    -------
    float
        - log scale: Normal log-density of ln(published) about ln(model) with variance
          sd² + model_se²;
        - proportions: binomial log-probability of k = value·n successes in n (real-valued
          k through the gamma function); with ``model_se > 0`` the beta-binomial whose beta
          has the model value as mean and ``model_se²`` as variance (the binomial integrated
          over the Monte Carlo uncertainty of the model proportion).
        ``-inf`` when the model value is NaN or outside the scale's domain.

    Raises
    ------
    ValueError
        If the target has no value or no sd / n to build a likelihood from, or model_se < 0.
    """
    if target.value is None or target.sd is None:
        raise ValueError(f"target {target.id} has no likelihood (value {target.value}, sd "
                         f"{target.sd}, basis {target.sd_basis})")
    se = float(model_se) if model_se is not None and math.isfinite(model_se) else 0.0
    if se < 0.0:
        raise ValueError(f"model_se must be >= 0 (got {model_se})")
    m = float(model_value)
    if not math.isfinite(m):
        return -math.inf
    if target.scale == _LOG:
        if m <= 0.0:
            return -math.inf
        from scipy.stats import norm

        scale = math.sqrt(target.sd**2 + se**2)
        return float(norm.logpdf(math.log(target.value), loc=math.log(m), scale=scale))
    if not 0.0 <= m <= 1.0:
        return -math.inf
    n = target.binomial_n
    if n is None:
        raise ValueError(f"target {target.id} has no binomial n")
    k = target.value * n
    eps = 1e-12
    p = min(max(m, eps), 1.0 - eps)
    concentration = p * (1.0 - p) / se**2 - 1.0 if se > 0.0 else math.inf
    # Above _MAX_CONCENTRATION the beta-binomial's extra variance (a factor (n + c)/(1 + c))
    # is negligible and betaln differences of huge arguments lose precision: use the binomial.
    if concentration <= _MAX_CONCENTRATION:
        from scipy.special import betaln

        concentration = max(concentration, eps)
        a, b = p * concentration, (1.0 - p) * concentration
        return _log_choose(n, k) + float(betaln(k + a, n - k + b) - betaln(a, b))
    return _log_choose(n, k) + k * math.log(p) + (n - k) * math.log1p(-p)


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------

def _error_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Load and validate a targets file (default: the package's ``data/targets.toml``).

    Returns the targets in file order with ``sd`` and ``sd_basis`` derived.

    Raises
    ------
    OligosimInputError
        Naming the file, the target (index and id) and the field, for a file that is missing,
        not TOML, has keys other than ``target``, a record that fails validation, a
        duplicated id or an unresolvable ``sd_from``.
    """
    if path is None:
        source = f"oligosim/data/{_DATA_FILE}"
        text = (importlib.resources.files("oligosim") / "data" / _DATA_FILE).read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise OligosimInputError(f"cannot read the targets file ({exc.strerror})",
                                     file=source) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OligosimInputError(f"not valid TOML: {exc}", file=source) from exc
    extra = sorted(set(data) - {"target"})
    if extra:
        raise OligosimInputError("unknown top-level key(s)", file=source, value=extra,
                                 allowed="[[target]] tables only")
    records = data.get("target", [])
    if not isinstance(records, list) or not records:
        raise OligosimInputError("no [[target]] tables", file=source, field="target")
    targets: list[Target] = []
    for i, raw in enumerate(records):
        label = f"target[{i}]" + (f" (id {raw.get('id')!r})" if isinstance(raw, dict) else "")
        try:
            targets.append(Target.model_validate(raw))
        except ValidationError as exc:
            raise OligosimInputError(_error_text(exc), file=source, field=label) from exc
    by_id: dict[str, Target] = {}
    for i, t in enumerate(targets):
        if t.id in by_id:
            raise OligosimInputError("duplicate target id", file=source,
                                     field=f"target[{i}].id", value=t.id)
        by_id[t.id] = t
    out = []
    for i, t in enumerate(targets):
        try:
            sd, basis = derive_sd(t, by_id)
        except ValueError as exc:
            raise OligosimInputError(str(exc), file=source,
                                     field=f"target[{i}].sd_from") from exc
        out.append(t.model_copy(update={"sd": sd, "sd_basis": basis}))
    return out


def targets_frame(targets: Iterable[Target] | None = None) -> pd.DataFrame:
    """The targets as a table: provenance, value, interval, sd and its basis, weight."""
    rows = []
    for t in load_targets() if targets is None else targets:
        lo, hi, kind = target_interval(t)
        rows.append({
            "target_id": t.id, "trial": t.trial, "scenario": t.scenario, "arm": t.arm,
            "endpoint": t.endpoint, "at_months": t.at_months, "value": t.value, "lo": lo,
            "hi": hi, "interval": kind, "scale": t.scale, "sd": t.sd, "sd_basis": t.sd_basis,
            "tag": t.tag, "weight": t.weight, "citation": t.citation, "note": t.note,
        })
    return pd.DataFrame.from_records(rows)


def by_scenario(targets: Sequence[Target]) -> dict[str, list[Target]]:
    """Targets that name a scenario, grouped by scenario file name (file order kept)."""
    groups: dict[str, list[Target]] = {}
    for t in targets:
        if t.scenario is not None:
            groups.setdefault(t.scenario, []).append(t)
    return groups
