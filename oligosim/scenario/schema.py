"""The scenario file schema (pydantic, strict, ``extra="forbid"``; DESIGN.md §2.10, §5, §8).

Units are part of every field name and every field's description. Every number is
range-checked; TOML types are checked strictly (a string is never read as a number, a float
never as an integer); cross-field checks catch contradictions (eligibility that admits no
patient, a dose without fractions, duplicate strategy names, published medians for a strategy
that does not exist, ...).

The helpers at the end (:func:`field_at`, :func:`describe_allowed`, :func:`schema_rows`,
:func:`schema_markdown`) read the constraints back from the models: the loader's error messages
and the field tables of ``scenarios/README.md`` are derived from them, so they cannot drift.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

from oligosim.engine._jit import MAX_METS_SUPPORTED, ORGAN_FIELDS, ORGANS
from oligosim.params.defaults import ORGAN_DEFAULTS
from oligosim.scenario.capacity import Capacity
from oligosim.scenario.economics import Economics

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
PosMonths = Annotated[float, Field(gt=0.0, le=600.0)]
MET_ORGANS = tuple(o for o in ORGANS if o not in ("lung_primary", "thoracic_node"))
NAME_PATTERN = r"^[A-Za-z0-9_\-]+$"
PATTERN_TEXT = {NAME_PATTERN: "letters, digits, '_' and '-' only"}
MAX_REJECTIONS = 100_000          # engine/population.py: draws tried per patient
MIN_ACCEPTANCE = 1e-3             # below this a run may exhaust MAX_REJECTIONS
MAX_DOSE_PER_FRACTION_GY = 30.0   # above any clinical single-fraction SRS/SBRT dose
MIN_DOSE_PER_FRACTION_GY = 1.0    # below any clinical (hyper)fractionation


class CrossFieldError(ValueError):
    """A cross-field problem located at ``loc``, relative to the model that raises it."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class _Model(BaseModel):
    model_config = _STRICT


class SubtypeMix(_Model):
    """EGFR subtype shares (DESIGN §2.1); must sum to 1."""

    exon19del: Prob = Field(0.6, description="share with an exon 19 deletion (fraction)")
    l858r: Prob = Field(0.4, description="share with L858R (fraction)")
    uncommon: Prob = Field(0.0, description="share with an uncommon sensitising mutation "
                                            "(fraction)")

    @model_validator(mode="after")
    def _sums_to_one(self) -> SubtypeMix:
        total = self.exon19del + self.l858r + self.uncommon
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the subtype shares exon19del + l858r + uncommon = "
                             f"{self.exon19del:g} + {self.l858r:g} + {self.uncommon:g} = "
                             f"{total:.6g}, but they must sum to 1")
        return self


class Population(_Model):
    """Who is simulated: metastasis count and organs under eligibility constraints."""

    met_count_pmf: Annotated[list[Annotated[float, Field(ge=0.0)]],
                             Field(min_length=1, max_length=MAX_METS_SUPPORTED + 1)] = Field(
        default=[0.0, 0.30, 0.25, 0.20, 0.15, 0.10],
        description="relative weights of 0, 1, 2, ... visible metastases at diagnosis "
                    "(normalised over 0..max_mets; the primary and thoracic nodes are not "
                    "counted)")
    met_organ_weights: dict[Literal[MET_ORGANS], Annotated[float, Field(ge=0.0)]] | None = Field(  # type: ignore[valid-type]
        None, description="relative weights of the organs metastases are drawn in (organs "
                          "left out get 0); omitted = the parameters `<organ>_met_weight`")
    max_mets: Annotated[int, Field(ge=0, le=MAX_METS_SUPPORTED)] = Field(
        5, description="eligibility: most visible metastases (metastases)")
    max_per_organ: Annotated[int, Field(ge=1, le=MAX_METS_SUPPORTED)] = Field(
        MAX_METS_SUPPORTED, description="eligibility: most visible metastases in one organ "
                                        "(metastases)")
    max_organs: Annotated[int, Field(ge=1, le=len(MET_ORGANS))] = Field(
        len(MET_ORGANS), description="eligibility: most organs with metastases (organs)")
    allow_brain: bool = Field(True, description="eligibility: brain metastases allowed")
    subtype: SubtypeMix = Field(SubtypeMix(), description="EGFR subtype shares (sum to 1)")

    @model_validator(mode="after")
    def _check(self) -> Population:
        pmf = self.met_count_pmf
        if sum(pmf) <= 0:
            raise CrossFieldError(("met_count_pmf",), f"met_count_pmf = {pmf} has no positive "
                                  "weight; at least one count must have a weight above 0")
        if sum(pmf[: self.max_mets + 1]) <= 0:
            raise CrossFieldError(("max_mets",), f"eligibility admits no patient: "
                               f"met_count_pmf = {pmf} has no "
                             f"weight on 0..max_mets = 0..{self.max_mets} metastases; raise "
                             "max_mets or move weight to those counts")
        return self


class UpfrontLAT(_Model):
    """LAT at the start of the TKI (SINDAS, NROG-CN-002)."""

    mode: Literal["all_visible", "thoracic", "all_visible_and_primary"] = Field(
        description="targets: all_visible = every visible metastasis; thoracic = primary and "
                    "thoracic nodes only; all_visible_and_primary = metastases, primary and "
                    "nodes")
    max_mets: Annotated[int, Field(ge=0, le=MAX_METS_SUPPORTED)] = Field(
        5, description="LAT only if the patient has at most this many visible metastases, "
                       "else the TKI alone (not used by mode thoracic)")
    max_organs: Annotated[int, Field(ge=0, le=len(MET_ORGANS))] = Field(
        3, description="LAT only if metastases are in at most this many organs (not used by "
                       "mode thoracic)")
    dose_gy: Annotated[float, Field(gt=0.0, le=100.0)] | None = Field(
        None, description="total dose to every targeted lesion, Gy (with fractions); omitted "
                          "= each organ's default schedule")
    fractions: Annotated[int, Field(ge=1, le=40)] | None = Field(
        None, description="number of fractions of dose_gy (with dose_gy)")

    @model_validator(mode="after")
    def _check(self) -> UpfrontLAT:
        if (self.dose_gy is None) != (self.fractions is None):
            given, missing = (("dose_gy", "fractions") if self.fractions is None
                              else ("fractions", "dose_gy"))
            value = self.dose_gy if self.fractions is None else self.fractions
            raise CrossFieldError((missing,), f"{given} = {value:g} is given without {missing}; "
                               "dose_gy and "
                             "fractions go together: give both or neither")
        if self.dose_gy is not None and self.fractions is not None:
            d = self.dose_gy / self.fractions
            if not MIN_DOSE_PER_FRACTION_GY <= d <= MAX_DOSE_PER_FRACTION_GY:
                raise CrossFieldError(("dose_gy",),
                                   f"dose_gy / fractions = {self.dose_gy:g} / {self.fractions} "
                                 f"= {d:.3g} Gy per fraction; allowed: "
                                 f"{MIN_DOSE_PER_FRACTION_GY:g} to "
                                 f"{MAX_DOSE_PER_FRACTION_GY:g} Gy per fraction")
        if self.mode == "thoracic":
            # set to a non-default value (a dumped model carries the defaults: round trip ok)
            unused = sorted(k for k in ("max_mets", "max_organs") if k in self.model_fields_set
                            and getattr(self, k) != type(self).model_fields[k].default)
            if unused:
                raise CrossFieldError(
                    (unused[0],),
                    f"mode 'thoracic' treats the primary and thoracic nodes of every patient, so "
                    f"{' and '.join(unused)} would be ignored; remove "
                    f"{'it' if len(unused) == 1 else 'them'} or use mode "
                    "'all_visible_and_primary'")
        return self


class ConsolidativeLAT(_Model):
    """LAT to all residual lesions at the consolidation scan (ATOM, NorthStar)."""

    time_months: Annotated[float, Field(gt=0.0, le=24.0)] = Field(
        3.0, description="target time of the consolidation scan after TKI start, months (the "
                         "scheduled scan nearest to it is used)")
    max_lesions: Annotated[int, Field(ge=1, le=20)] = Field(
        4, description="LAT only if at most this many lesions (including the primary) are "
                       "visible at that scan, all ablatable (lesions)")


class OligoPDLAT(_Model):
    """LAT to the progressing lesions at oligo-progression (CURB)."""

    max_lesions: Annotated[int, Field(ge=1, le=20)] = Field(
        3, description="a PD is oligo-progression if 1..max_lesions lesions progress, all "
                       "ablatable (lesions)")
    max_courses: Annotated[int, Field(ge=1, le=10)] = Field(
        2, description="most oligo-progression LAT courses per patient (courses)")
    continue_tki: bool = Field(True, description="continue the first-line TKI after the LAT "
                                                 "(false: switch to the second line)")


class SecondLine(_Model):
    """Second line after the first-line TKI (DESIGN §2.9)."""

    t790m_osimertinib: bool = Field(
        True, description="T790M-positive progression on a 1st/2nd-generation TKI gets "
                          "osimertinib (else platinum-pemetrexed)")


class Imaging(_Model):
    """Scan schedule: every early interval until the switch, then every late interval."""

    early_interval_weeks: Annotated[float, Field(gt=0.0, le=52.0)] = Field(
        6.0, description="scan interval until switch_months, weeks")
    switch_months: Annotated[float, Field(ge=0.0, le=600.0)] = Field(
        18.0, description="time of the switch to the late interval, months")
    late_interval_weeks: Annotated[float, Field(gt=0.0, le=52.0)] = Field(
        12.0, description="scan interval after switch_months, weeks")


TKI = Literal["gefitinib", "erlotinib", "icotinib", "tki_1g", "afatinib", "tki_2g",
              "osimertinib"]


class Strategy(_Model):
    """One treatment strategy (DESIGN §2.10)."""

    name: Annotated[str, Field(min_length=1, max_length=60, pattern=NAME_PATTERN)] = Field(
        description="unique name (rows of summary.csv, keys of [published])")
    description: str = Field("", description="free text")
    tki: TKI = Field("osimertinib", description="first-line drug; gefitinib, erlotinib, "
                                                "icotinib = tki_1g; afatinib = tki_2g")
    upfront_lat: UpfrontLAT | None = Field(None, description="LAT at the start of the TKI; "
                                                             "omitted = none")
    consolidative_lat: ConsolidativeLAT | None = Field(
        None, description="LAT to all residual lesions at ~3 months; omitted = none")
    oligo_pd_lat: OligoPDLAT | None = Field(None, description="LAT at oligo-progression; "
                                                              "omitted = none")
    second_line: SecondLine = Field(SecondLine(), description="second-line options")
    imaging: Imaging | None = Field(None, description="this strategy's scan schedule; "
                                                      "omitted = the scenario's [imaging]")


class Run(_Model):
    """Run settings."""

    n_patients: Annotated[int, Field(ge=1, le=100_000_000)] = Field(
        2000, description="patients simulated per strategy (patients)")
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(
        20261126, description="root random seed")
    horizon_months: PosMonths = Field(120.0, description="follow-up of every simulated "
                                                         "patient (administrative censoring), "
                                                         "months")


PublishedMedians = dict[Literal["pfs", "os"], PosMonths]


class Scenario(_Model):
    """A scenario file: population, strategies, imaging, run settings, parameter overrides."""

    name: Annotated[str, Field(min_length=1, max_length=80)] = Field(
        description="scenario name (default output folder out/<name>)")
    description: str = Field("", description="free text")
    run: Run = Field(Run(), description="run settings")
    population: Population = Field(Population(), description="who is simulated")
    imaging: Imaging = Field(Imaging(), description="scan schedule of every strategy")
    parameters: dict[str, Annotated[float, Field(allow_inf_nan=True)]] = Field(
        default_factory=dict,
        description="overrides of model parameters by name (oligosim.params.SPECS), each "
                    "within its own range",
        json_schema_extra={"allowed": "a table of parameter names (oligosim.params.SPECS) "
                                      "to numbers, each within that parameter's range"})
    strategy: Annotated[list[Strategy], Field(min_length=1, max_length=20)] = Field(
        description="the strategies compared, one [[strategy]] table each",
        json_schema_extra={"allowed": "an array of 1 to 20 [[strategy]] tables"})
    capacity: Capacity | None = Field(
        None, description="capacity-limited LAT pathway (SBRT slots, tumour board, referral "
                          "rate); reference engine only; omitted = unlimited")
    economics: Economics = Field(Economics(), description="costs, utilities, discounting "
                                                        "(DESIGN §2.12)")
    published: dict[str, PublishedMedians] = Field(
        default_factory=dict,
        description="published medians to mark on figures: [published.<strategy>] with pfs "
                    "and/or os, months",
        json_schema_extra={"allowed": "one [published.<strategy>] table per strategy named "
                                      "in [[strategy]], with keys pfs and/or os, each a "
                                      "number greater than 0 and at most 600"})

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        names = [s.name for s in self.strategy]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise CrossFieldError(("strategy", i, "name"),
                                   f"strategy name '{n}' is already used by strategy"
                                   f"[{names.index(n)}]; strategy names must be unique")
        for key in self.published:
            if key not in names:
                raise CrossFieldError(("published", key),
                                   f"[published.{key}] names no strategy of this scenario; "
                                   f"allowed: {', '.join(names)}")
        h = self.run.horizon_months
        for i, s in enumerate(self.strategy):
            c = s.consolidative_lat
            if c is not None and c.time_months >= h:
                raise CrossFieldError(("strategy", i, "consolidative_lat", "time_months"),
                                   f"time_months = {c.time_months:g} is not before "
                                   f"run.horizon_months = {h:g}; the consolidation scan must "
                                   "fall inside the horizon")
        _check_eligibility(self.population, self.parameters)
        return self


# ---------------------------------------------------------------------------------------------
# eligibility: can the rejection sampler of engine/population.py accept a draw?
# ---------------------------------------------------------------------------------------------

def metastasis_organ_weights(population: Population, parameters: dict[str, float]
                             ) -> dict[str, float]:
    """Organ weights of metastasis draws, as compile.py uses them (overrides applied)."""
    col = ORGAN_FIELDS.index("met_weight")
    if population.met_organ_weights is not None:
        w = {o: float(population.met_organ_weights.get(o, 0.0)) for o in MET_ORGANS}
    else:
        w = {}
        for o in MET_ORGANS:
            v = parameters.get(f"{o}_met_weight", ORGAN_DEFAULTS[o][col])
            w[o] = v if isinstance(v, int | float) and math.isfinite(v) and v > 0 else 0.0
    if sum(w.values()) <= 0:
        w["lung_met"] = 1.0   # compile.py's fallback
    return w


def acceptance_probability(population: Population, parameters: dict[str, float]
                           ) -> tuple[float, list[float]]:
    """P(a metastasis draw meets the eligibility), overall and per count 0..max_mets.

    Exact: a dynamic programme over organs of the multinomial organ allocation, with at most
    ``max_per_organ`` metastases per organ, at most ``max_organs`` organs, no brain unless
    allowed.
    """
    w = metastasis_organ_weights(population, parameters)
    total = sum(w.values())
    p = [w[o] / total for o in MET_ORGANS]
    n_max = population.max_mets
    k = population.max_per_organ
    m = population.max_organs
    # dp[n][j] = sum over allocations of n metastases to the organs so far, using j organs,
    # of prod p_o^n_o / n_o!
    dp = [[0.0] * (len(MET_ORGANS) + 1) for _ in range(n_max + 1)]
    dp[0][0] = 1.0
    for o, po in zip(MET_ORGANS, p, strict=True):
        cap = 0 if (o == "brain" and not population.allow_brain) or po <= 0 else k
        new = [row[:] for row in dp]
        for n in range(n_max + 1):
            for j in range(len(MET_ORGANS)):
                if dp[n][j] == 0.0:
                    continue
                for c in range(1, min(cap, n_max - n) + 1):
                    new[n + c][j + 1] += dp[n][j] * po**c / math.factorial(c)
        dp = new
    per_count = [math.factorial(n) * sum(dp[n][: m + 1]) for n in range(n_max + 1)]
    pmf = population.met_count_pmf[: n_max + 1]
    pmf = pmf + [0.0] * (n_max + 1 - len(pmf))
    norm = sum(pmf)
    acc = sum(q * a for q, a in zip(pmf, per_count, strict=True)) / norm if norm > 0 else 0.0
    return acc, per_count


def _check_eligibility(population: Population, parameters: dict[str, float]) -> None:
    pmf = population.met_count_pmf
    w = metastasis_organ_weights(population, parameters)
    usable = [o for o in MET_ORGANS if w[o] > 0 and (population.allow_brain or o != "brain")]
    counts = [n for n, q in enumerate(pmf[: population.max_mets + 1]) if q > 0]
    if not usable and all(n > 0 for n in counts):
        why = ("the only organ with a positive weight is the brain, and allow_brain = false"
               if [o for o in MET_ORGANS if w[o] > 0] == ["brain"] else
               "no organ with a positive met_organ_weights entry is allowed")
        raise CrossFieldError(("population", "allow_brain" if "brain" in why and "only" in why
                            else "met_organ_weights"),
                           f"eligibility admits no patient: every admitted count has "
                         f"metastases, but {why}")
    fit = population.max_per_organ * min(population.max_organs, len(usable))
    if all(n > fit for n in counts):
        raise CrossFieldError(
            ("population",),
            f"eligibility admits no patient: at most max_per_organ × min(max_organs, organs "
            f"available) = {population.max_per_organ} × {min(population.max_organs, len(usable))}"
            f" = {fit} metastases fit, but met_count_pmf puts weight only on "
            f"{', '.join(map(str, counts))} metastases")
    acc, _ = acceptance_probability(population, parameters)
    if acc < MIN_ACCEPTANCE:
        raise CrossFieldError(
            ("population",),
            f"eligibility admits almost no patient: only {acc:.2g} of metastasis draws meet "
            f"max_per_organ = {population.max_per_organ}, max_organs = {population.max_organs}"
            f", allow_brain = {str(population.allow_brain).lower()}; at least "
            f"{MIN_ACCEPTANCE:g} is needed (the engine gives up after {MAX_REJECTIONS:,} "
            "rejected draws per patient); relax the limits or change met_count_pmf / "
            "met_organ_weights")


# ---------------------------------------------------------------------------------------------
# reading the schema back: field lookup, allowed values in words, README tables
# ---------------------------------------------------------------------------------------------

def _unwrap(ann: Any) -> tuple[Any, list[Any], bool]:
    """(bare type, constraint metadata, optional?) of an annotation."""
    meta: list[Any] = []
    optional = False
    while True:
        origin = typing.get_origin(ann)
        if origin is Annotated:
            base, *extra = typing.get_args(ann)
            for e in extra:
                meta.extend(e.metadata if isinstance(e, FieldInfo) else [e])
            ann = base
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(ann))
            if len(args) != 1:
                return ann, meta, optional
            ann = args[0]
        else:
            return ann, meta, optional


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def field_at(loc: tuple[Any, ...]) -> tuple[Any, list[Any], FieldInfo | None] | None:
    """The (bare type, constraints, FieldInfo) at a pydantic error location, or None.

    The FieldInfo is that of the model field the location ends in (None if it ends in a list
    entry or a table value).

    ``loc`` is a path such as ``("strategy", 0, "upfront_lat", "dose_gy")``; a dict key
    location ends in ``"[key]"`` (then the key type is returned).
    """
    if len(loc) >= 2 and loc[-1] == "[key]":
        loc = (*loc[:-2], "[key]")
    ann: Any = Scenario
    meta: list[Any] = []
    info: FieldInfo | None = None
    for item in loc:
        ann, extra, _ = _unwrap(ann)
        meta = extra if extra else meta
        origin = typing.get_origin(ann)
        if _is_model(ann) and isinstance(item, str):
            fi = ann.model_fields.get(item)
            if fi is None:
                return None
            info = fi
            ann, meta = fi.annotation, list(fi.metadata)
        elif origin is list and isinstance(item, int):
            ann, meta, info = typing.get_args(ann)[0], [], None
        elif origin is dict and isinstance(item, str):
            key_t, val_t = typing.get_args(ann)
            ann, meta, info = (key_t if item == "[key]" else val_t), [], None
        else:
            return None
    ann, extra, _ = _unwrap(ann)
    return ann, meta + extra, info


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


def _range_text(meta: list[Any]) -> str:
    lo = hi = None
    for m in meta:  # annotated_types Ge/Gt/Le/Lt, by attribute
        if getattr(m, "ge", None) is not None:
            lo = f"from {_num(m.ge)}"
        elif getattr(m, "gt", None) is not None:
            lo = f"greater than {_num(m.gt)}"
        elif getattr(m, "le", None) is not None:
            hi = f"to {_num(m.le)}" if lo and lo.startswith("from") else f"at most {_num(m.le)}"
        elif getattr(m, "lt", None) is not None:
            hi = f"less than {_num(m.lt)}"
    if lo and hi and lo.startswith("from") and not hi.startswith("to"):
        lo = f"at least {lo[5:]}"
    if lo and hi and not lo.startswith("from"):
        return f"{lo} and {hi}"
    if lo and lo.startswith("from") and not hi:
        return f"at least {lo[5:]}"
    return " ".join(x for x in (lo, hi) if x)


def _len_text(meta: list[Any], unit: str) -> str:
    lo = next((m.min_length for m in meta if getattr(m, "min_length", None) is not None), None)
    hi = next((m.max_length for m in meta if getattr(m, "max_length", None) is not None), None)
    if lo is not None and hi is not None:
        return f"{lo} to {hi} {unit}"
    if hi is not None:
        return f"at most {hi} {unit}"
    if lo is not None:
        return f"at least {lo} {unit}"
    return ""


def describe_allowed(ann: Any, meta: list[Any] | None = None) -> str:
    """What a field accepts, in words: 'an integer from 1 to 100000000', ..."""
    meta = list(meta or [])
    ann, extra, optional = _unwrap(ann)
    meta += extra
    origin = typing.get_origin(ann)
    if ann is bool:
        text = "true or false"
    elif ann is int:
        r = _range_text(meta)
        text = f"an integer {r}" if r else "an integer"
    elif ann is float:
        r = _range_text(meta)
        text = f"a number {r}" if r else "a number"
    elif ann is str:
        parts = [_len_text(meta, "characters")]
        pat = next((getattr(m, "pattern", None) for m in meta
                    if getattr(m, "pattern", None)), None)
        if pat:
            parts.append(PATTERN_TEXT.get(pat, f"matching {pat}"))
        parts = [p for p in parts if p]
        text = "a string" + (f" of {', '.join(parts)}" if parts else "")
    elif origin is Literal:
        text = "one of " + ", ".join(f"'{v}'" for v in typing.get_args(ann))
    elif origin is list:
        n = _len_text(meta, "entries")
        text = (f"an array of {n}, each " if n else "an array, each ") + \
            describe_allowed(typing.get_args(ann)[0])
    elif origin is dict:
        k, v = typing.get_args(ann)
        kt = describe_allowed(k)
        text = (f"a table whose keys are {kt[7:] if kt.startswith('one of') else 'names'}"
                f" and whose values are each {describe_allowed(v)}")
    elif _is_model(ann):
        text = "a table with keys " + ", ".join(ann.model_fields)
    else:  # pragma: no cover - every schema type is handled above
        text = str(ann)
    return text + (" (or omitted)" if optional else "")


def allowed_text(fi: FieldInfo) -> str:
    """What a model field accepts, in words (a field may override it in json_schema_extra)."""
    extra = fi.json_schema_extra if isinstance(fi.json_schema_extra, dict) else {}
    text = extra.get("allowed")
    return str(text) if text else describe_allowed(fi.annotation, list(fi.metadata))


def _default_text(fi: FieldInfo) -> str:
    if fi.is_required():
        return "required"
    d = fi.get_default(call_default_factory=True)
    if d is None:
        return "omitted"
    if isinstance(d, bool):
        return str(d).lower()
    if isinstance(d, BaseModel):
        return "see below"
    if isinstance(d, dict) and not d:
        return "{}"
    if isinstance(d, str):
        return f'"{d}"'
    if isinstance(d, list):
        return "[" + ", ".join(_num(x) for x in d) + "]"
    return _num(d)


def schema_rows(model: type[BaseModel] = Scenario, prefix: str = ""
                ) -> Iterator[tuple[str, str, str, str]]:
    """(field path, allowed, default, description) of every field, depth first."""
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, fi in model.model_fields.items():
        ann, _, _ = _unwrap(fi.annotation)
        path = f"{prefix}{name}"
        if typing.get_origin(ann) is list and _is_model(typing.get_args(ann)[0]):
            nested.append((f"{path}[].", typing.get_args(ann)[0]))
            allowed = f"an array of {_len_text(list(fi.metadata), 'tables')} (see below)"
        elif _is_model(ann):
            nested.append((f"{path}.", ann))
            allowed = "a table (see below)" + (" (or omitted)" if fi.default is None else "")
        else:
            allowed = allowed_text(fi)
        yield path, allowed, _default_text(fi), fi.description or ""
    for pre, sub in nested:
        yield from schema_rows(sub, pre)


def schema_markdown() -> str:
    """The field table of scenarios/README.md (regenerate with this function)."""
    lines = ["| field | allowed | default | meaning (unit) |", "| --- | --- | --- | --- |"]
    for path, allowed, default, desc in schema_rows():
        lines.append(f"| `{path}` | {allowed.replace('|', '/')} | {default} | {desc} |")
    return "\n".join(lines)


ORGAN_FIELD_TEXT = {
    "detection_mm": "imaging detection threshold, mm",
    "measurable_mm": "RECIST measurability threshold, mm (inf = never measurable)",
    "ablatable": "1 = LAT possible, 0 = not",
    "death_weight": "weight of the organ's cells in the cancer-death hazard (relative)",
    "dose_gy": "default LAT total dose, Gy",
    "fractions": "default number of fractions",
    "alpha_multiplier": "site adjustment of the LQ alpha (DESIGN §2.8)",
    "p_tox_g3": "P(grade ≥3 toxicity) per lesion treated",
    "p_tox_g5": "P(grade 5 toxicity) per lesion treated",
    "tropism": "relative weight for occult and new metastases",
    "met_weight": "relative weight for baseline metastases (see population.met_organ_weights)",
}


def parameters_markdown() -> str:
    """The parameter tables of scenarios/README.md, from oligosim.params.SPECS and the
    shipped calibration (the ``calibrated`` column: the value of
    :func:`oligosim.default_parameters` where calibration set it)."""
    from oligosim.params.defaults import CLONE_SCALARS, DRUG_SCALARS, SCALARS
    from oligosim.params.parameters import SPECS, default_parameters, shipped_calibration

    def rng(lo: float, hi: float) -> str:
        return f"≥ {lo:g}" if hi == math.inf else f"{lo:g} to {hi:g}"

    calibrated = default_parameters()
    doc = shipped_calibration()
    free = set(doc["free_parameters"]) if doc else set()
    lines = ["| parameter | literature default | calibrated | allowed | unit |",
             "| --- | --- | --- | --- | --- |"]
    for name, spec in {**SCALARS, **CLONE_SCALARS, **DRUG_SCALARS}.items():
        cal = f"{calibrated[name]:.4g}" if name in free else "—"
        lines.append(f"| `{name}` | {spec.default:.4g} | {cal} | {rng(spec.lo, spec.hi)} | "
                     f"{spec.unit} |")
    fields = [f for f in ORGAN_FIELDS if f != "modality"]
    lines += ["", "Organ parameters are named `<organ>_<field>` (for example "
              "`liver_dose_gy`):", "", "| field | allowed | meaning |", "| --- | --- | --- |"]
    for f in fields:
        spec = SPECS[f"{ORGANS[0]}_{f}"]
        lines.append(f"| `{f}` | {rng(spec.lo, spec.hi)} | {ORGAN_FIELD_TEXT[f]} |")
    lines += ["", "Defaults:", "", "| organ | " + " | ".join(fields) + " |",
              "| --- |" + " --- |" * len(fields)]
    for organ in ORGANS:
        vals = [f"{SPECS[f'{organ}_{f}'].default:g}" for f in fields]
        lines.append(f"| `{organ}` | " + " | ".join(vals) + " |")
    organ_free = sorted(n for n in free if n not in SCALARS and n not in CLONE_SCALARS
                        and n not in DRUG_SCALARS)
    if organ_free:
        lines += ["", "Calibrated organ values (literature default → calibrated): "
                  + "; ".join(f"`{n}` {SPECS[n].default:g} → {calibrated[n]:.4g}"
                              for n in organ_free) + "."]
    return "\n".join(lines)
