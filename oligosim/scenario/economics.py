"""The ``[economics]`` section of a scenario: costs, utilities, discounting (DESIGN.md §2.12).

``[economics.uncertainty]`` declares the probabilistic sensitivity analysis (PSA) distribution
of any cost or utility, keyed by its dotted path (``"costs.drug_per_month.osimertinib"``), and
the Dirichlet distribution of a group of shares that sum to 1 (``"costs.tki_1g_mix.share"``);
see :class:`Distribution`. Discount rates and the willingness to pay are not sampled: discounting
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
import types
import typing
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
USD_PER_GBP = 1.28            # ASSUMPTION: 2019 average exchange rate
DAYS_PER_MONTH = 30.4375
Money = Annotated[float, Field(ge=0.0, le=1e7)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
#: Tolerance of "the shares of a group sum to 1" (as population.subtype in the schema).
SHARES_TOL = 1e-6


def _per_month(price: float, days: float) -> float:
    return round(price * DAYS_PER_MONTH / days, 2)


_GEFITINIB_PER_MONTH = _per_month(2_167.71 * USD_PER_GBP, 30.0)
_GEFITINIB_SOURCE = ("USD/month; gefitinib UK list £2,167.71 per 30 tablets (NICE TA192, "
                     "TARGETS.md §5) at 1.28 USD/GBP (ASSUMPTION)")


class DrugCosts(BaseModel):
    """Drug acquisition cost per month on each regimen (USD/month)."""

    model_config = _STRICT

    osimertinib: Money = Field(
        _per_month(14_760.0, 30.0),
        description="USD/month; $14,760 per 30 days, 2019 WAC (TARGETS.md §5)")
    tki_1g: Money = Field(_GEFITINIB_PER_MONTH, description=_GEFITINIB_SOURCE)
    tki_2g: Money = Field(
        _GEFITINIB_PER_MONTH,
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


class Shares(BaseModel):
    """A group of shares (fractions) that must sum to 1 (within :data:`SHARES_TOL`).

    Every subclass is a group that ``[economics.uncertainty]`` can give a Dirichlet
    distribution (keyed by the group's path); its single shares cannot be drawn on their own.
    """

    model_config = _STRICT

    @model_validator(mode="after")
    def _sums_to_one(self) -> Shares:
        values = self.model_dump()
        total = math.fsum(values.values())
        if abs(total - 1.0) > SHARES_TOL:
            raise ValueError(f"the shares {' + '.join(values)} = "
                             f"{' + '.join(f'{v:g}' for v in values.values())} = "
                             f"{total:.6g}, but they must sum to 1")
        return self


class FirstGenerationShares(Shares):
    """Market shares of the first-generation TKIs behind the model's single ``tki_1g``."""

    gefitinib: Share = Field(0.5, description="share of first-generation TKI treatment time "
                                              "on gefitinib (fraction); ASSUMPTION: equal "
                                              "shares")
    erlotinib: Share = Field(0.5, description="share on erlotinib (fraction); ASSUMPTION: "
                                              "equal shares")


class FirstGenerationMix(BaseModel):
    """``tki_1g`` priced as the share-weighted mean of the gefitinib and erlotinib prices."""

    model_config = _STRICT

    share: FirstGenerationShares = Field(
        FirstGenerationShares(), description="market shares of gefitinib and erlotinib (sum "
                                             "to 1; can take a dirichlet distribution)")
    gefitinib_per_month: Money = Field(_GEFITINIB_PER_MONTH, description=_GEFITINIB_SOURCE)
    erlotinib_per_month: Money = Field(
        _per_month(1_631.53 * USD_PER_GBP, 30.0),
        description="USD/month; erlotinib UK list £1,631.53 per 30 tablets (NICE TA374, "
                    "TARGETS.md §5) at 1.28 USD/GBP (ASSUMPTION)")

    def price_per_month(self) -> float:
        """Σ share × price per month over the drugs of the mix."""
        return math.fsum(getattr(self.share, drug) * getattr(self, f"{drug}_per_month")
                         for drug in type(self.share).model_fields)


class Costs(BaseModel):
    """All unit costs (USD, 2019)."""

    model_config = _STRICT

    drug_per_month: DrugCosts = Field(DrugCosts(), description="drug cost per month")
    tki_1g_mix: FirstGenerationMix | None = Field(
        None, description="price tki_1g as the market-share mix of gefitinib and erlotinib "
                          "(its shares can take a dirichlet distribution); omitted = "
                          "drug_per_month.tki_1g, which the mix replaces when given")
    lat_course: LATCosts = Field(LATCosts(), description="LAT cost per lesion-course")
    scan: Money = Field(400.0, description="USD per restaging scan; ASSUMPTION")
    grade3_event: Money = Field(10_000.0, description="USD per grade >=3 LAT toxicity; "
                                                      "ASSUMPTION")
    end_of_life: Money = Field(15_000.0, description="USD at death; ASSUMPTION")

    def drug_prices(self) -> dict[str, float]:
        """Price per month of every regimen: ``drug_per_month``, with ``tki_1g`` from
        ``tki_1g_mix`` when the scenario gives one."""
        prices = self.drug_per_month.model_dump()
        if self.tki_1g_mix is not None:
            prices["tki_1g"] = self.tki_1g_mix.price_per_month()
        return prices


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


DISTRIBUTIONS = ("beta", "gamma", "lognormal", "normal", "fixed", "dirichlet")


def dirichlet_from_uniforms(alpha: Any, u: Any) -> np.ndarray:
    """Dirichlet(``alpha``) shares from uniforms by inversion: ``g_i = P⁻¹(alpha_i, u_i)``
    (a Gamma(alpha_i, 1) variate; ``scipy.special.gammaincinv``), then ``g / Σ g``.

    Parameters
    ----------
    alpha : array_like of float, shape (K,)
        Concentrations, each > 0.
    u : array_like of float, shape (..., K)
        Uniforms in (0, 1), one per share (from the package's Philox streams in a PSA).

    Returns
    -------
    ndarray, shape (..., K)
        Shares in [0, 1] summing to 1 (to rounding) along the last axis. A Gamma variate
        that underflows to 0 (tiny ``alpha_i`` and ``u_i``) is replaced by its small-``x``
        asymptote ``log g = (log u + lgamma(alpha + 1)) / alpha`` and the normalisation is done
        on the log scale, so the shares never become 0/0.
    """
    from scipy import special

    a = np.asarray(alpha, dtype=np.float64)
    uu = np.asarray(u, dtype=np.float64)
    g = special.gammaincinv(a, uu)
    with np.errstate(divide="ignore"):
        log_g = np.where(g > 0.0, np.log(g), (np.log(uu) + special.gammaln(a + 1.0)) / a)
    w = np.exp(log_g - log_g.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


class Distribution(BaseModel):
    """PSA distribution of one cost or utility, parameterised by its mean and sd (method of
    moments), or of a group of shares (Dirichlet).

    - ``beta``: for utilities and other quantities in (0, 1); needs 0 < mean < 1 and
      sd² < mean (1 - mean). ``a = mean·k``, ``b = (1 - mean)·k``, ``k = mean(1-mean)/sd² - 1``.
    - ``gamma``: for costs (> 0); shape ``mean²/sd²``, scale ``sd²/mean``.
    - ``lognormal``: for costs and ratios (> 0); ``σ² = ln(1 + sd²/mean²)``,
      ``μ = ln(mean) - σ²/2`` (the *arithmetic* mean and sd are the given ones).
    - ``normal``: ``N(mean, sd)``; draws outside the field's allowed range are clipped to it.
    - ``fixed``: always ``mean`` (sd must be 0 or omitted).
    - ``dirichlet``: for a group of shares that sum to 1 (a :class:`Shares` table such as
      ``costs.tki_1g_mix.share``), keyed by the group's path. ``counts`` gives the
      concentration of each share (e.g. patients observed on each drug; the mean shares are
      ``counts / Σ counts``), or ``concentration`` the total ``α₀`` around the scenario's
      shares (``α = α₀ · share``; each share then has sd ``√(s(1-s)/(α₀+1))``). Drawn by
      :func:`dirichlet_from_uniforms`, one uniform per share.

    ``mean`` defaults to the field's value in the scenario, so changing a price moves its
    distribution with it. Give the spread as ``sd`` (absolute) or ``cv`` (sd / mean), not both.
    """

    model_config = _STRICT

    distribution: Literal["beta", "gamma", "lognormal", "normal", "fixed", "dirichlet"] = Field(
        description="family: beta, gamma, lognormal, normal, fixed or dirichlet")
    mean: float | None = Field(None, description="mean (default: the field's value)")
    sd: Annotated[float, Field(ge=0.0)] | None = Field(None, description="standard deviation, "
                                                                          "in the field's unit")
    cv: Annotated[float, Field(ge=0.0, le=10.0)] | None = Field(
        None, description="coefficient of variation sd/mean (instead of sd)")
    concentration: Annotated[float, Field(gt=0.0, le=1e7)] | None = Field(
        None, description="dirichlet: total concentration α₀ around the scenario's shares")
    counts: dict[str, Annotated[float, Field(gt=0.0, le=1e7)]] | None = Field(
        None, description="dirichlet: concentration of each share, e.g. observed counts")
    source: str = Field("", description="citation or ASSUMPTION for the spread")

    def __repr__(self) -> str:
        if self.distribution == "dirichlet":
            inner = (f"concentration {self.concentration:g}" if self.concentration is not None
                     else ", ".join(f"{k} {v:g}" for k, v in (self.counts or {}).items()))
            return f"dirichlet({inner})"
        spread = (f"cv {self.cv:g}" if self.cv is not None else
                  f"sd {self.sd:g}" if self.sd is not None else "")
        mean = "" if self.mean is None else f"mean {self.mean:g}" + (", " if spread else "")
        return f"{self.distribution}({mean}{spread})"

    __str__ = __repr__

    def moments(self, base: float) -> tuple[float, float]:
        """(mean, sd) given the field's scenario value ``base`` (not for a dirichlet)."""
        m = base if self.mean is None else float(self.mean)
        if self.cv is not None:
            return m, abs(m) * float(self.cv)
        return m, 0.0 if self.sd is None else float(self.sd)

    def alpha(self, shares: dict[str, float]) -> np.ndarray:
        """Dirichlet concentrations, in the order of ``shares`` (the group's values)."""
        if self.counts is not None:
            return np.array([float(self.counts[k]) for k in shares])
        return float(self.concentration or 0.0) * np.array(list(shares.values()), float)

    def ppf(self, u: Any, base: float) -> Any:
        """Inverse CDF at ``u`` in (0, 1), given the field's scenario value ``base``.

        PSA draws are ``ppf(uniform)``, with the uniforms from the package's counter-based
        Philox streams (DESIGN.md §2.13): one uniform per parameter and draw, monotone in it.
        A dirichlet has no inverse CDF: see :func:`dirichlet_from_uniforms`.
        """
        from scipy import special

        if self.distribution == "dirichlet":
            raise ValueError("a dirichlet distribution is drawn with dirichlet_from_uniforms")
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


def _submodel(ann: Any) -> type[BaseModel] | None:
    """The model class of a field annotated ``Model`` or ``Model | None``, else None."""
    args = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) \
        else (ann,)
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 else None


def _leaves(model: type[BaseModel], prefix: str = "") -> dict[str, tuple[float, float]]:
    """Dotted path -> (lo, hi) of every number field below ``model``, optional tables
    included, :class:`Shares` groups excluded (a share is drawn only with its group)."""
    out: dict[str, tuple[float, float]] = {}
    for name, fi in model.model_fields.items():
        ann = fi.annotation
        path = f"{prefix}{name}"
        sub = _submodel(ann)
        if sub is not None:
            if not issubclass(sub, Shares):
                out.update(_leaves(sub, f"{path}."))
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


def _groups(model: type[BaseModel], prefix: str = "") -> dict[str, tuple[str, ...]]:
    """Dotted path -> share names of every :class:`Shares` group below ``model``."""
    out: dict[str, tuple[str, ...]] = {}
    for name, fi in model.model_fields.items():
        sub = _submodel(fi.annotation)
        if sub is None:
            continue
        if issubclass(sub, Shares):
            out[f"{prefix}{name}"] = tuple(sub.model_fields)
        else:
            out.update(_groups(sub, f"{prefix}{name}."))
    return out


def uncertain_fields() -> dict[str, tuple[float, float]]:
    """Numbers that ``[economics.uncertainty]`` may name, with their allowed (lo, hi)."""
    return {**_leaves(Costs, "costs."), **_leaves(Utilities, "utilities.")}


def share_groups() -> dict[str, tuple[str, ...]]:
    """Groups of shares (sum to 1) that ``[economics.uncertainty]`` may give a dirichlet,
    with the names of their shares."""
    return {**_groups(Costs, "costs."), **_groups(Utilities, "utilities.")}


def _node(econ: BaseModel, path: str) -> Any:
    """The value at a dotted ``path``, or None if an optional table on the way is omitted."""
    obj: Any = econ
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def _omitted_table(econ: BaseModel, path: str) -> str:
    """The first omitted (None) table on the way to ``path``, or "" if there is none."""
    obj: Any = econ
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        obj = getattr(obj, part)
        if obj is None:
            return ".".join(parts[:i + 1])
    return ""


def field_value(econ: BaseModel, path: str) -> float:
    """The value at a dotted ``path`` of an Economics model."""
    return float(_node(econ, path))


def group_values(econ: BaseModel, path: str) -> dict[str, float]:
    """Share name -> value of the :class:`Shares` group at ``path``."""
    return dict(_node(econ, path).model_dump())


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
    for name in ("concentration", "counts"):
        if getattr(d, name) is not None:
            raise _cross((*loc, name), f"'{name}' belongs to a dirichlet distribution, not to "
                                       f"the {fam} distribution of '{key}'; allowed: mean, "
                                       "sd or cv, source")
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


def _check_dirichlet(key: str, d: Distribution, shares: dict[str, float]) -> None:
    """Raise a located error if ``d`` cannot describe the group of shares ``key``."""
    loc = ("uncertainty", key)
    example = ("concentration = 100, or counts = { "
               + ", ".join(f"{k} = {round(100 * v)}" for k, v in shares.items()) + " }")
    if d.distribution != "dirichlet":
        raise _cross((*loc, "distribution"), (
            f"'{key}' is a group of shares that sum to 1 ({', '.join(shares)}); they are "
            f"drawn together, so the distribution must be dirichlet, not {d.distribution}; "
            f"allowed: distribution = \"dirichlet\" with {example}"))
    for name in ("mean", "sd", "cv"):
        if getattr(d, name) is not None:
            raise _cross((*loc, name), f"a dirichlet distribution of '{key}' takes no {name}; "
                                       f"allowed: {example}")
    if (d.concentration is None) == (d.counts is None):
        raise _cross(loc, f"a dirichlet distribution of '{key}' needs exactly one of "
                          f"concentration and counts; allowed: {example}")
    if d.counts is not None and set(d.counts) != set(shares):
        raise _cross((*loc, "counts"), (
            f"the counts of '{key}' name {', '.join(sorted(d.counts)) or 'nothing'}; "
            f"allowed: one count for each of {', '.join(shares)}"))
    if d.concentration is not None:
        zero = [k for k, v in shares.items() if not v > 0.0]
        if zero:
            raise _cross((*loc, "concentration"), (
                f"a dirichlet around the scenario's shares needs every share > 0, but "
                f"'{key}.{zero[0]}' is {shares[zero[0]]:g}; allowed: shares > 0, or counts "
                "(every count > 0)"))


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
                    "mean (default: the field's value), sd or cv, source. A group of shares "
                    "(\"costs.tki_1g_mix.share\") takes distribution = \"dirichlet\" with "
                    "concentration (α₀ around the scenario's shares) or counts (one per share). "
                    "Defaults: gamma cv 0.1 for osimertinib and SBRT, beta sd 0.05 for both "
                    "utilities (ASSUMPTION). Replacing the table replaces all defaults; {} = no "
                    "economic uncertainty",
        json_schema_extra={"allowed": "a table whose keys are dotted paths of "
                                      "economics.costs.* or economics.utilities.* numbers, or "
                                      "of a group of shares, and whose values are each a table "
                                      "with keys distribution, mean, sd, cv, concentration, "
                                      "counts, source"})

    @model_validator(mode="after")
    def _check_uncertainty(self) -> Economics:
        fields, groups = uncertain_fields(), share_groups()
        for key, dist in self.uncertainty.items():
            parent = key.rpartition(".")[0]
            if key not in fields and key not in groups:
                if parent in groups:
                    raise _cross(("uncertainty", key), (
                        f"'{key}' is one share of the group '{parent}' ({', '.join(groups[parent])}"
                        f"), whose shares sum to 1 and are drawn together; allowed: "
                        f"\"{parent}\" = {{ distribution = \"dirichlet\", concentration = 100 }}"))
                allowed = [*fields, *groups]
                close = difflib.get_close_matches(key, allowed, n=3, cutoff=0.5)
                hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise _cross(("uncertainty", key), (
                    f"'{key}' is not a cost or utility of [economics]; allowed: a dotted "
                    f"path among {', '.join(allowed)}.{hint}"))
            omitted = _omitted_table(self, key)
            if omitted:
                raise _cross(("uncertainty", key), (
                    f"'{key}' belongs to [economics.{omitted}], which this scenario omits; "
                    f"allowed: give [economics.{omitted}], or drop the distribution"))
            if key == "costs.drug_per_month.tki_1g" and self.costs.tki_1g_mix is not None:
                raise _cross(("uncertainty", key), (
                    "costs.drug_per_month.tki_1g is not used when costs.tki_1g_mix is given "
                    "(the mix prices tki_1g); allowed: distributions of costs.tki_1g_mix.* "
                    "instead"))
            if key in groups:
                _check_dirichlet(key, dist, group_values(self, key))
                continue
            if dist.distribution == "dirichlet":
                raise _cross(("uncertainty", key, "distribution"), (
                    f"a dirichlet distribution is for a group of shares that sum to 1, but "
                    f"'{key}' is one number; allowed: beta, gamma, lognormal, normal or fixed "
                    f"here, or dirichlet on {', '.join(groups)}"))
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
                if node is None:
                    raise ValueError(f"'{path}': the table {part} is omitted in this scenario")
            node[last] = float(value)
        return Economics.model_validate(data)

    def uncertain_paths(self) -> list[str]:
        """The paths of ``uncertainty``, sorted (the order of :meth:`draw`'s uniforms)."""
        return sorted(self.uncertainty)

    def n_uniforms(self) -> int:
        """Uniforms one draw takes: one per number, one per share of a dirichlet group."""
        groups = share_groups()
        return sum(len(groups[k]) if k in groups else 1 for k in self.uncertainty)

    def draw(self, uniforms: Any) -> dict[str, float]:
        """One PSA draw of every uncertain field from ``uniforms`` in (0, 1).

        The uniforms are used in sorted path order (:meth:`uncertain_paths`): one per number
        (its inverse CDF), one per share of a dirichlet group (:func:`dirichlet_from_uniforms`;
        the group's shares come out under their own paths, ``<group>.<share>``). Each number is
        clipped to its field's allowed range (only a normal distribution can reach past it).
        """
        fields, groups = uncertain_fields(), share_groups()
        u = np.asarray(uniforms, dtype=np.float64)
        if u.shape != (self.n_uniforms(),):
            raise ValueError(f"need {self.n_uniforms()} uniforms, got shape {u.shape}")
        out: dict[str, float] = {}
        j = 0
        for key in self.uncertain_paths():
            dist = self.uncertainty[key]
            if key in groups:
                shares = group_values(self, key)
                x = dirichlet_from_uniforms(dist.alpha(shares), u[j:j + len(shares)])
                out.update({f"{key}.{name}": float(v) for name, v in zip(shares, x, strict=True)})
                j += len(shares)
                continue
            lo, hi = fields[key]
            out[key] = min(max(float(dist.ppf(u[j], field_value(self, key))), lo), hi)
            j += 1
        return out

    def one_way_parameters(self) -> list[str]:
        """The parameters of a one-way sensitivity analysis: every uncertain number, and
        every share of a dirichlet group (only the first of a group of two: the other is its
        complement)."""
        groups = share_groups()
        out: list[str] = []
        for key in self.uncertain_paths():
            if key in groups:
                names = groups[key][:1] if len(groups[key]) == 2 else groups[key]
                out.extend(f"{key}.{name}" for name in names)
            else:
                out.append(key)
        return out

    def one_way_values(self, parameter: str, q: float) -> dict[str, float]:
        """Values at the ``q`` quantile of ``parameter``'s distribution, others at base.

        A number takes its distribution's quantile (clipped to the field's range). A share of
        a dirichlet group takes the quantile of its marginal, Beta(α_i, α₀ - α_i), and the
        other shares of the group are rescaled in proportion to their scenario values (to
        their α if those are all 0) so the group still sums to 1; all of them are returned.

        Parameters
        ----------
        parameter : str
            One of :meth:`one_way_parameters`.
        q : float
            Quantile in (0, 1), e.g. 0.025 or 0.975.

        Returns
        -------
        dict
            Dotted path -> value, for :meth:`with_values`.
        """
        from scipy import special

        groups = share_groups()
        group, _, share = parameter.rpartition(".")
        if group in groups and group in self.uncertainty:
            shares = group_values(self, group)
            alpha = self.uncertainty[group].alpha(shares)
            i = list(shares).index(share)
            x = float(special.betaincinv(alpha[i], alpha.sum() - alpha[i], q))
            others = {k: v for k, v in shares.items() if k != share}
            weights = others if math.fsum(others.values()) > 0.0 else {
                k: float(a) for k, a in zip(shares, alpha, strict=True) if k != share}
            total = math.fsum(weights.values())
            out = {f"{group}.{share}": x}
            out.update({f"{group}.{k}": (1.0 - x) * w / total for k, w in weights.items()})
            return out
        if parameter not in self.uncertainty:
            raise ValueError(f"'{parameter}' has no distribution in [economics.uncertainty]")
        lo, hi = uncertain_fields()[parameter]
        x = float(self.uncertainty[parameter].ppf(q, field_value(self, parameter)))
        return {parameter: min(max(x, lo), hi)}


#: Unit of each uncertain number (first matching path prefix); "{cur}" is the currency.
_UNITS = (("costs.tki_1g_mix.share.", "share"), ("costs.tki_1g_mix.", "{cur}/month"),
          ("costs.drug_per_month.", "{cur}/month"), ("costs.lat_course.", "{cur}/course"),
          ("costs.scan", "{cur}/scan"), ("costs.grade3_event", "{cur}/event"),
          ("costs.end_of_life", "{cur}/death"), ("utilities.grade3_qaly_loss", "QALY/event"),
          ("utilities.", "utility"))


def field_unit(path: str, currency: str = "USD") -> str:
    """Unit of the number or share at dotted ``path`` (``"USD/month"``, ``"utility"``, ...)."""
    for prefix, unit in _UNITS:
        if path.startswith(prefix):
            return unit.format(cur=currency)
    raise KeyError(f"no unit known for '{path}'")
