"""The ``[economics]`` section of a scenario: costs, utilities, discounting (DESIGN.md §2.12).

Defaults are US dollars of 2019 where TARGETS.md §5 gives a US figure; everything else is a
named ASSUMPTION (in each field's description) for an analyst to replace with local data.
UK list prices are converted at 1.28 USD/GBP (ASSUMPTION: 2019 average exchange rate).
A month is 30.4375 days; a 21-day chemotherapy cycle is 21/30.4375 months.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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
