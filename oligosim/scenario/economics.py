"""The ``[economics]`` section of a scenario: costs, utilities, discounting (DESIGN.md §2.12).

``[economics.uncertainty]`` declares the probabilistic sensitivity analysis (PSA) distribution
of any cost or utility, keyed by its dotted path (``"costs.drug_per_month.osimertinib"``); see
:class:`Distribution`. Discount rates and the willingness to pay are not sampled: discounting
happens inside the engines, and the willingness to pay is a decision maker's choice (the PSA
reports results over a grid of it).

Defaults are US dollars of 2019 where TARGETS.md §5 gives a US figure; everything else is a
named ASSUMPTION (in each field's description) for an analyst to replace with local data.
UK list prices are converted at 1.28 USD/GBP (ASSUMPTION: 2019 average exchange rate).
A month is 30.4375 days; a 21-day chemotherapy cycle is 21/30.4375 months.
"""

from __future__ import annotations

import difflib
import math
import typing
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
USD_PER_GBP = 1.28            # ASSUMPTION: 2019 average exchange rate
DAYS_PER_MONTH = 30.4375
Money = Annotated[float, Field(ge=0.0, le=1e7)]


def _per_month(price: float, days: float) -> float:
    return round(price * DAYS_PER_MONTH / days, 2)


class DrugCosts(BaseModel):
    """Drug acquisition cost per month on each regimen (USD/month)."""

    model_config = _STRICT

    osimertinib: Money = Field(
        _per_month(14_760.0, 30.0),
        description="USD/month; $14,760 per 30 days, 2019 WAC (TARGETS.md §5)")
    tki_1g: Money = Field(
        _per_month(2_167.71 * USD_PER_GBP, 30.0),
        description="USD/month; gefitinib UK list £2,167.71 per 30 tablets (NICE TA192, "
                    "TARGETS.md §5) at 1.28 USD/GBP (ASSUMPTION)")
    tki_2g: Money = Field(
        _per_month(2_167.71 * USD_PER_GBP, 30.0),
        description="USD/month; ASSUMPTION: priced as tki_1g")
    platinum_pemetrexed: Money = Field(
        _per_month(1_440.0 * USD_PER_GBP, 21.0),
        description="USD/month; pemetrexed UK list £1,440 per 21-day cycle (NICE TA402, "
                    "TARGETS.md §5) at 1.28 USD/GBP; platinum cost neglected (ASSUMPTION)")
    pemetrexed_maintenance: Money = Field(
        _per_month(1_440.0 * USD_PER_GBP, 21.0),
        description="USD/month; as platinum_pemetrexed (TARGETS.md §5)")
    later_line_chemo: Money = Field(
        1_000.0, description="USD/month; ASSUMPTION: generic docetaxel-like regimen")
    best_supportive_care: Money = Field(
        2_000.0, description="USD/month off anticancer drugs; ASSUMPTION")


class LATCosts(BaseModel):
    """Cost of one lesion-course of local ablative therapy by modality (USD)."""

    model_config = _STRICT

    sbrt: Money = Field(11_700.0, description="USD per course; Mehrens, Front Oncol 2021 "
                                              "(TARGETS.md §5)")
    srs: Money = Field(11_700.0, description="USD per course; ASSUMPTION: as SBRT")
    conventional_rt: Money = Field(20_000.0, description="USD per 30-fraction course; "
                                                         "ASSUMPTION")
    surgery: Money = Field(30_000.0, description="USD per metastasectomy; ASSUMPTION")


class Costs(BaseModel):
    """All unit costs (USD, 2019)."""

    model_config = _STRICT

    drug_per_month: DrugCosts = Field(DrugCosts(), description="drug cost per month")
    lat_course: LATCosts = Field(LATCosts(), description="LAT cost per lesion-course")
    scan: Money = Field(400.0, description="USD per restaging scan; ASSUMPTION")
    grade3_event: Money = Field(10_000.0, description="USD per grade >=3 LAT toxicity; "
                                                      "ASSUMPTION")
    end_of_life: Money = Field(15_000.0, description="USD at death; ASSUMPTION")


class Utilities(BaseModel):
    """Health-state utilities and toxicity decrements."""

    model_config = _STRICT

    progression_free: Annotated[float, Field(ge=-0.5, le=1.0)] = Field(
        0.81, description="utility before first progression; Labbé 2017 (TARGETS.md §5)")
    post_progression: Annotated[float, Field(ge=-0.5, le=1.0)] = Field(
        0.70, description="utility after first progression; Labbé 2017 (TARGETS.md §5)")
    grade3_qaly_loss: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.01, description="QALYs lost per grade >=3 toxicity event; ASSUMPTION (a "
                          "decrement of ~0.13 for a month)")


DISTRIBUTIONS = ("beta", "gamma", "lognormal", "normal", "fixed")


class Distribution(BaseModel):
    """PSA distribution of one cost or utility, parameterised by its mean and sd (method of
    moments).

    - ``beta``: for utilities and other quantities in (0, 1); needs 0 < mean < 1 and
      sd² < mean (1 - mean). ``a = mean·k``, ``b = (1 - mean)·k``, ``k = mean(1-mean)/sd² - 1``.
    - ``gamma``: for costs (> 0); shape ``mean²/sd²``, scale ``sd²/mean``.
    - ``lognormal``: for costs and ratios (> 0); ``σ² = ln(1 + sd²/mean²)``,
      ``μ = ln(mean) - σ²/2`` (the *arithmetic* mean and sd are the given ones).
    - ``normal``: ``N(mean, sd)``; draws outside the field's allowed range are clipped to it.
    - ``fixed``: always ``mean`` (sd must be 0 or omitted).

    ``mean`` defaults to the field's value in the scenario, so changing a price moves its
    distribution with it. Give the spread as ``sd`` (absolute) or ``cv`` (sd / mean), not both.
    """

    model_config = _STRICT

    distribution: Literal["beta", "gamma", "lognormal", "normal", "fixed"] = Field(
        description="family: beta, gamma, lognormal, normal or fixed")
    mean: float | None = Field(None, description="mean (default: the field's value)")
    sd: Annotated[float, Field(ge=0.0)] | None = Field(None, description="standard deviation, "
                                                                          "in the field's unit")
    cv: Annotated[float, Field(ge=0.0, le=10.0)] | None = Field(
        None, description="coefficient of variation sd/mean (instead of sd)")
    source: str = Field("", description="citation or ASSUMPTION for the spread")

    def __repr__(self) -> str:
        spread = (f"cv {self.cv:g}" if self.cv is not None else
                  f"sd {self.sd:g}" if self.sd is not None else "")
        mean = "" if self.mean is None else f"mean {self.mean:g}" + (", " if spread else "")
        return f"{self.distribution}({mean}{spread})"

    __str__ = __repr__

    def moments(self, base: float) -> tuple[float, float]:
        """(mean, sd) given the field's scenario value ``base``."""
        m = base if self.mean is None else float(self.mean)
        if self.cv is not None:
            return m, abs(m) * float(self.cv)
        return m, 0.0 if self.sd is None else float(self.sd)

    def ppf(self, u: Any, base: float) -> Any:
        """Inverse CDF at ``u`` in (0, 1), given the field's scenario value ``base``.

        PSA draws are ``ppf(uniform)``, with the uniforms from the package's counter-based
        Philox streams (DESIGN.md §2.13): one uniform per parameter and draw, monotone in it.
        """
        from scipy import special

        m, sd = self.moments(base)
        u = np.asarray(u, dtype=np.float64)
        if self.distribution == "fixed":
            x = np.full(u.shape, m)
        elif self.distribution == "beta":
            k = m * (1.0 - m) / (sd * sd) - 1.0
            x = special.betaincinv(m * k, (1.0 - m) * k, u)
        elif self.distribution == "gamma":
            x = special.gammaincinv(m * m / (sd * sd), u) * (sd * sd / m)
        elif self.distribution == "lognormal":
            s2 = math.log1p(sd * sd / (m * m))
            x = np.exp(math.log(m) - s2 / 2.0 + math.sqrt(s2) * special.ndtri(u))
        else:
            x = m + sd * special.ndtri(u)
        return float(x) if x.ndim == 0 else x


def _default_uncertainty() -> dict[str, Distribution]:
    return {
        "costs.drug_per_month.osimertinib": Distribution(
            distribution="gamma", cv=0.10,
            source="ASSUMPTION: sd 10% of the list price (discounts and dose intensity)"),
        "costs.lat_course.sbrt": Distribution(
            distribution="gamma", cv=0.10,
            source="ASSUMPTION: sd 10% of the Mehrens 2021 course cost"),
        "utilities.progression_free": Distribution(
            distribution="beta", sd=0.05,
            source="ASSUMPTION: sd 0.05 around Labbé 2017"),
        "utilities.post_progression": Distribution(
            distribution="beta", sd=0.05,
            source="ASSUMPTION: sd 0.05 around Labbé 2017"),
    }


def _leaves(model: type[BaseModel], prefix: str = "") -> dict[str, tuple[float, float]]:
    """Dotted path -> (lo, hi) of every number field below ``model``."""
    out: dict[str, tuple[float, float]] = {}
    for name, fi in model.model_fields.items():
        ann = fi.annotation
        path = f"{prefix}{name}"
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_leaves(ann, f"{path}."))
            continue
        meta = list(fi.metadata)
        if typing.get_origin(ann) is Annotated:
            ann, *extra = typing.get_args(ann)
            meta += extra
        if ann is not float:
            continue
        lo = next((m.ge for m in meta if getattr(m, "ge", None) is not None), -math.inf)
        hi = next((m.le for m in meta if getattr(m, "le", None) is not None), math.inf)
        out[path] = (float(lo), float(hi))
    return out


def uncertain_fields() -> dict[str, tuple[float, float]]:
    """Paths that ``[economics.uncertainty]`` may name, with their allowed (lo, hi)."""
    return {**_leaves(Costs, "costs."), **_leaves(Utilities, "utilities.")}


def field_value(econ: BaseModel, path: str) -> float:
    """The value at a dotted ``path`` of an Economics model."""
    obj: Any = econ
    for part in path.split("."):
        obj = getattr(obj, part)
    return float(obj)


def _cross(loc: tuple[str, ...], message: str) -> ValueError:
    # imported here: schema imports this module, and defaults never reach this path
    from oligosim.scenario.schema import CrossFieldError

    return CrossFieldError(loc, message)


def _check_distribution(key: str, d: Distribution, base: float, lo: float, hi: float
                        ) -> None:
    """Raise a located error if ``d`` cannot describe the field ``key`` (range lo..hi)."""
    loc = ("uncertainty", key)
    m, sd = d.moments(base)
    fam = d.distribution
    if d.sd is not None and d.cv is not None:
        raise _cross(loc, f"[economics.uncertainty] '{key}' gives both sd = {d.sd:g} and "
                          f"cv = {d.cv:g}; allowed: one of them")
    if not math.isfinite(m) or not lo <= m <= hi:
        raise _cross((*loc, "mean"), f"mean = {m:g} of '{key}' is outside the field's "
                                     f"allowed range; allowed: {lo:g} to {hi:g}")
    if fam == "fixed":
        if sd != 0.0:
            raise _cross(loc, f"a fixed distribution of '{key}' has no spread (got sd "
                              f"{sd:g}); allowed: sd = 0 or omitted")
        return
    if not sd > 0.0:
        raise _cross((*loc, "sd"), f"the {fam} distribution of '{key}' needs sd > 0 or "
                                   f"cv > 0 (got sd {sd:g}); for no uncertainty write "
                                   "distribution = \"fixed\"")
    if fam == "beta":
        if not 0.0 < m < 1.0:
            raise _cross((*loc, "mean"), f"a beta distribution needs 0 < mean < 1; '{key}' "
                                         f"has mean {m:g}; allowed: (0, 1), or use normal")
        if not sd * sd < m * (1.0 - m):
            raise _cross((*loc, "sd"), f"sd = {sd:g} is too large for a beta distribution "
                                       f"with mean {m:g} ('{key}'); allowed: sd < "
                                       f"{math.sqrt(m * (1.0 - m)):.4g}")
        if lo > 0.0 or hi < 1.0:
            raise _cross((*loc, "distribution"), f"beta draws lie in (0, 1) but '{key}' "
                                                 f"allows {lo:g} to {hi:g}")
    elif fam in ("gamma", "lognormal"):
        if not m > 0.0:
            raise _cross((*loc, "mean"), f"a {fam} distribution needs mean > 0; '{key}' has "
                                         f"mean {m:g}")
        if lo > 0.0 or m + 10.0 * sd > hi:
            raise _cross((*loc, "distribution"), f"{fam} draws of '{key}' (mean {m:g}, sd "
                                                 f"{sd:g}) can leave its allowed range {lo:g} "
                                                 f"to {hi:g}; allowed: beta or normal for a "
                                                 "bounded quantity")


class Economics(BaseModel):
    """Costs, utilities, discounting and willingness to pay (DESIGN.md §2.12)."""

    model_config = _STRICT

    currency: Literal["USD"] = Field("USD", description="currency of every cost (USD only "
                                                        "for now)")
    price_year: Annotated[int, Field(ge=1990, le=2100)] = Field(2019, description="year of "
                                                                               "the prices")
    discount_rate_costs_per_year: Annotated[float, Field(ge=0.0, le=0.2)] = Field(
        0.03, description="annual discount rate of costs, applied continuously; 3% US "
                          "(Sanders 2016, TARGETS.md §5); 3.5% for NICE")
    discount_rate_effects_per_year: Annotated[float, Field(ge=0.0, le=0.2)] = Field(
        0.03, description="annual discount rate of QALYs and life-years, applied continuously")
    willingness_to_pay_per_qaly: Money = Field(
        100_000.0, description="USD per QALY; US $100,000-150,000 (TARGETS.md §5)")
    costs: Costs = Field(Costs(), description="unit costs")
    utilities: Utilities = Field(Utilities(), description="utilities")
    uncertainty: dict[str, Distribution] = Field(
        default_factory=_default_uncertainty,
        description="PSA distributions of costs and utilities, keyed by dotted path "
                    "(e.g. \"costs.drug_per_month.osimertinib\" = { distribution = \"gamma\", "
                    "cv = 0.1 }); keys: distribution (beta, gamma, lognormal, normal, fixed), "
                    "mean (default: the field's value), sd or cv, source. Defaults: gamma cv "
                    "0.1 for osimertinib and SBRT, beta sd 0.05 for both utilities "
                    "(ASSUMPTION). Replacing the table replaces all defaults; {} = no "
                    "economic uncertainty",
        json_schema_extra={"allowed": "a table whose keys are dotted paths of "
                                      "economics.costs.* or economics.utilities.* numbers and "
                                      "whose values are each a table with keys distribution, "
                                      "mean, sd, cv, source"})

    @model_validator(mode="after")
    def _check_uncertainty(self) -> Economics:
        fields = uncertain_fields()
        for key, dist in self.uncertainty.items():
            if key not in fields:
                close = difflib.get_close_matches(key, list(fields), n=3, cutoff=0.5)
                hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise _cross(("uncertainty", key), (
                    f"'{key}' is not a cost or utility of [economics]; allowed: a dotted "
                    f"path among {', '.join(fields)}.{hint}"))
            lo, hi = fields[key]
            _check_distribution(key, dist, field_value(self, key), lo, hi)
        return self

    def with_values(self, values: dict[str, float]) -> Economics:
        """A copy with the numbers at dotted paths replaced (validated) and no uncertainty
        table (a drawn value need not be a valid mean for the declared distributions)."""
        data = self.model_dump()
        data["uncertainty"] = {}
        for path, value in values.items():
            node = data
            *head, last = path.split(".")
            for part in head:
                node = node[part]
            node[last] = float(value)
        return Economics.model_validate(data)

    def draw(self, uniforms: Any) -> dict[str, float]:
        """One PSA draw of every uncertain field from ``uniforms`` in (0, 1), one per field in
        sorted path order (:meth:`uncertain_paths`); each value is clipped to its field's
        allowed range (only a normal distribution can reach past it)."""
        fields = uncertain_fields()
        paths = self.uncertain_paths()
        u = np.asarray(uniforms, dtype=np.float64)
        if u.shape != (len(paths),):
            raise ValueError(f"need {len(paths)} uniforms, got shape {u.shape}")
        out: dict[str, float] = {}
        for key, ui in zip(paths, u, strict=True):
            lo, hi = fields[key]
            x = float(self.uncertainty[key].ppf(ui, field_value(self, key)))
            out[key] = min(max(x, lo), hi)
        return out

    def uncertain_paths(self) -> list[str]:
        """The paths of ``uncertainty``, sorted (the order of :meth:`draw`'s uniforms)."""
        return sorted(self.uncertainty)
