"""The ``[capacity]`` section of a scenario: a capacity-limited LAT pathway (DESIGN.md §3).

Without it every LAT course starts when the strategy books it (the fast engine's model).
With it, patients of one cohort are diagnosed at staggered times and compete for a limited
number of treatment slots, so a course may wait — and lesions grow while it waits. Only the
SimPy reference engine (``engine="reference"``) simulates this; the fast engine refuses a
scenario with a capacity section.

Example (TOML; ``scenarios/capacity_example.toml`` is a bundled one)::

    [capacity]
    sbrt_slots_per_week = 2
    tumour_board_interval_weeks = 1
    arrivals_per_month = 12
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Capacity(BaseModel):
    """Resources of the LAT pathway shared by all patients of a strategy's cohort.

    A *slot* is one LAT course: the department can start ``sbrt_slots_per_week`` courses per
    week; a course holds its slot for one week (SBRT is 1-5 fractions over 1-2 weeks), so a
    booked course waits, first come first served, until a slot frees. Every LAT course
    (SBRT, SRS, conventional radiotherapy, surgery) goes through the same slots: a named
    simplification. The waiting time of each patient, summed over its courses, is reported
    as ``lat_wait_months``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    sbrt_slots_per_week: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        None, description="LAT courses the department can start per week (courses/week); "
                          "omit for unlimited capacity")
    tumour_board_interval_weeks: Annotated[float, Field(gt=0.0, le=52.0)] | None = Field(
        None, description="a multidisciplinary tumour board meets every this many weeks "
                          "(weeks) from the cohort's month 0; a LAT decision waits for the "
                          "next meeting before planning starts; omit for no board")
    arrivals_per_month: Annotated[float, Field(gt=0.0, le=100_000.0)] | None = Field(
        None, description="new patients diagnosed per month (patients/month), a Poisson "
                          "stream; omit to diagnose the whole cohort at month 0")

    @property
    def unlimited(self) -> bool:
        """True if no course ever waits (no slot limit, no tumour board)."""
        return self.sbrt_slots_per_week is None and self.tumour_board_interval_weeks is None
