"""Layer 5: the calibration figure — every target, published vs model (DESIGN.md §4).

Three panels by scale: medians (months), hazard ratios, and proportions / landmark rates.
Each target is a row: the published value with its 95% interval (black) and the model's
posterior-predictive 95% interval with its median (colour: green when the intervals
overlap, red when they do not). Targets with weight 0 are drawn in grey and marked
"(weight 0)". Built without :mod:`pyplot`; saved through Agg.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = ["calibration_figure"]

_PANELS = (
    ("Medians (months)", lambda e: e.startswith("median_"), True),
    ("Hazard ratios", lambda e: e.startswith("hr_"), True),
    ("Proportions and landmark rates", lambda e: not (e.startswith("median_")
                                                       or e.startswith("hr_")), False),
)


def _label(row: pd.Series) -> str:
    s = f"{row['target_id']}"
    if row["weight"] == 0:
        s += " (weight 0)"
    return s


def calibration_figure(predictive: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Draw (and optionally save) the calibration figure.

    Parameters
    ----------
    predictive : DataFrame
        ``predictive.csv`` of a calibration: ``target_id, endpoint, published, lo, hi,
        weight, predictive_lo, predictive_median, predictive_hi``.
    path : path, optional
        PNG to write (atomically: a temporary name, then renamed).
    """
    rows = predictive.loc[predictive["published"].notna()].copy()
    groups = [(title, rows.loc[rows["endpoint"].map(pick)], log)
              for title, pick, log in _PANELS]
    groups = [g for g in groups if not g[1].empty]
    heights = [max(len(g[1]), 2) for g in groups]
    fig = Figure(figsize=(9.0, 0.22 * sum(heights) + 1.6 * len(groups)))
    axes = fig.subplots(len(groups), 1, gridspec_kw={"height_ratios": heights})
    axes = np.atleast_1d(axes)
    for ax, (title, g, log) in zip(axes, groups, strict=True):
        y = np.arange(len(g))[::-1]
        for yi, (_, r) in zip(y, g.iterrows(), strict=True):
            grey = r["weight"] == 0
            ax.plot([r["lo"], r["hi"]], [yi + 0.15] * 2, color="0.6" if grey else "black",
                    lw=1.5)
            ax.plot(r["published"], yi + 0.15, "o", color="0.6" if grey else "black", ms=4)
            if math.isfinite(r["predictive_lo"]):
                ok = r["predictive_lo"] <= r["hi"] and r["predictive_hi"] >= r["lo"]
                colour = "0.7" if grey else ("#2ca02c" if ok else "#d62728")
                ax.plot([r["predictive_lo"], r["predictive_hi"]], [yi - 0.15] * 2,
                        color=colour, lw=3, alpha=0.8)
                ax.plot(r["predictive_median"], yi - 0.15, "|", color=colour, ms=8)
        ax.set_yticks(y)
        ax.set_yticklabels([_label(r) for _, r in g.iterrows()], fontsize=6)
        if log:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_xlim(-0.02, 1.02)
        ax.set_title(title, fontsize=9, loc="left")
        ax.grid(axis="x", lw=0.3, alpha=0.5)
        ax.tick_params(axis="x", labelsize=7)
    handles = [axes[0].plot([], [], "o-", color="black")[0],
               axes[0].plot([], [], "-", color="#2ca02c", lw=3)[0],
               axes[0].plot([], [], "-", color="#d62728", lw=3)[0]]
    fig.legend(handles, ["published (95% interval)", "model posterior predictive 95%: overlaps",
                         "model posterior predictive 95%: does not overlap"],
               loc="upper center", ncol=3, fontsize=7, bbox_to_anchor=(0.5, 0.985))
    fig.suptitle("Calibration targets: published vs model", fontsize=11, y=0.998)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.975))
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.png")
        fig.savefig(tmp, dpi=150)
        os.replace(tmp, path)
    return fig
