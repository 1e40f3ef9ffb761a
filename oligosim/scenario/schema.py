"""The scenario file schema (pydantic, ``extra="forbid"``; DESIGN.md §2.10, §5, §8).

Units are part of every field name. Every number is range-checked; cross-field checks catch
contradictions (a count distribution that puts no mass where the eligibility admits
patients, duplicate strategy names, ...).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oligosim.engine._jit import MAX_METS_SUPPORTED, ORGANS

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
PosMonths = Annotated[float, Field(gt=0.0, le=600.0)]
MET_ORGANS = tuple(o for o in ORGANS if o not in ("lung_primary", "thoracic_node"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubtypeMix(_Model):
    """EGFR subtype shares (DESIGN §2.1); must sum to 1."""

    exon19del: Prob = 0.6
    l858r: Prob = 0.4
    uncommon: Prob = 0.0

    @model_validator(mode="after")
    def _sums_to_one(self) -> SubtypeMix:
        total = self.exon19del + self.l858r + self.uncommon
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"subtype shares must sum to 1 (got {total:.6g})")
        return self


class Population(_Model):
    """Who is simulated: metastasis count and organs under eligibility constraints."""

    met_count_pmf: list[Annotated[float, Field(ge=0.0)]] = Field(
        default=[0.0, 0.30, 0.25, 0.20, 0.15, 0.10],
        description="relative weight of 0, 1, 2, ... visible metastases (normalised)")
    met_organ_weights: dict[Literal[MET_ORGANS], Annotated[float, Field(ge=0.0)]] | None = None  # type: ignore[valid-type]
    max_mets: Annotated[int, Field(ge=0, le=MAX_METS_SUPPORTED)] = 5
    max_per_organ: Annotated[int, Field(ge=1, le=MAX_METS_SUPPORTED)] = MAX_METS_SUPPORTED
    max_organs: Annotated[int, Field(ge=1, le=len(MET_ORGANS))] = len(MET_ORGANS)
    allow_brain: bool = True
    subtype: SubtypeMix = SubtypeMix()

    @model_validator(mode="after")
    def _check(self) -> Population:
        if len(self.met_count_pmf) > MAX_METS_SUPPORTED + 1:
            raise ValueError(f"met_count_pmf has {len(self.met_count_pmf)} entries; at most "
                             f"{MAX_METS_SUPPORTED + 1} (0..{MAX_METS_SUPPORTED} metastases)")
        if sum(self.met_count_pmf) <= 0:
            raise ValueError("met_count_pmf must put positive weight on some count")
        if sum(self.met_count_pmf[: self.max_mets + 1]) <= 0:
            raise ValueError(f"eligibility admits no patient: met_count_pmf has no weight on "
                             f"0..max_mets={self.max_mets} metastases")
        if self.met_organ_weights is not None:
            usable = {o: w for o, w in self.met_organ_weights.items()
                      if w > 0 and (self.allow_brain or o != "brain")}
            if not usable and any(w > 0 for w in self.met_count_pmf[1:]):
                raise ValueError("eligibility admits no patient with metastases: no organ with "
                                 "positive weight is allowed")
        return self


class UpfrontLAT(_Model):
    """LAT at the start of the TKI (SINDAS, NROG-CN-002)."""

    mode: Literal["all_visible", "thoracic", "all_visible_and_primary"]
    max_mets: Annotated[int, Field(ge=0, le=MAX_METS_SUPPORTED)] = 5
    max_organs: Annotated[int, Field(ge=0, le=len(MET_ORGANS))] = 3
    dose_gy: Annotated[float, Field(gt=0.0, le=100.0)] | None = None
    fractions: Annotated[int, Field(ge=1, le=40)] | None = None

    @model_validator(mode="after")
    def _dose_pair(self) -> UpfrontLAT:
        if (self.dose_gy is None) != (self.fractions is None):
            raise ValueError("dose_gy and fractions go together: give both or neither")
        return self


class ConsolidativeLAT(_Model):
    """LAT to all residual lesions at the consolidation scan (ATOM, NorthStar)."""

    time_months: Annotated[float, Field(gt=0.0, le=24.0)] = 3.0
    max_lesions: Annotated[int, Field(ge=1, le=20)] = 4


class OligoPDLAT(_Model):
    """LAT to the progressing lesions at oligo-progression (CURB)."""

    max_lesions: Annotated[int, Field(ge=1, le=20)] = 3
    max_courses: Annotated[int, Field(ge=1, le=10)] = 2
    continue_tki: bool = True


class SecondLine(_Model):
    """Second line after the first-line TKI (DESIGN §2.9)."""

    t790m_osimertinib: bool = True


class Imaging(_Model):
    """Scan schedule: every early interval until the switch, then every late interval."""

    early_interval_weeks: Annotated[float, Field(gt=0.0, le=52.0)] = 6.0
    switch_months: Annotated[float, Field(ge=0.0, le=600.0)] = 18.0
    late_interval_weeks: Annotated[float, Field(gt=0.0, le=52.0)] = 12.0


TKI = Literal["gefitinib", "erlotinib", "icotinib", "tki_1g", "afatinib", "tki_2g",
              "osimertinib"]


class Strategy(_Model):
    """One treatment strategy (DESIGN §2.10)."""

    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-]+$")]
    description: str = ""
    tki: TKI = "osimertinib"
    upfront_lat: UpfrontLAT | None = None
    consolidative_lat: ConsolidativeLAT | None = None
    oligo_pd_lat: OligoPDLAT | None = None
    second_line: SecondLine = SecondLine()
    imaging: Imaging | None = None


class Run(_Model):
    """Run settings."""

    n_patients: Annotated[int, Field(ge=1, le=100_000_000)] = 2000
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 20261126
    horizon_months: PosMonths = 120.0


class Scenario(_Model):
    """A scenario file: population, strategies, imaging, run settings, parameter overrides."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: str = ""
    run: Run = Run()
    population: Population = Population()
    imaging: Imaging = Imaging()
    parameters: dict[str, float] = Field(default_factory=dict)
    strategy: Annotated[list[Strategy], Field(min_length=1, max_length=20)]
    published: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="published medians to mark on figures: {strategy: {pfs: m, os: m}}")

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        names = [s.name for s in self.strategy]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"strategy names must be unique; repeated: {', '.join(dup)}")
        return self
