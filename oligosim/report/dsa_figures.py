"""Layer 5: the tornado figure of a one-way sensitivity analysis (DESIGN.md §2.12).

One panel per strategy compared with the reference: a horizontal bar per parameter from the
incremental net monetary benefit (NMB) at the parameter's low value to that at its high value,
widest bar on top, the base case as a vertical line. Built without :mod:`pyplot`, as the other
report figures.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from oligosim.psa import DSAResult
from oligosim.report.psa_figures import _DPI, _THOUSANDS

__all__ = ["MAX_BARS", "tornado_figure", "value_text", "write_dsa_figures"]

#: Bars per panel: the widest ones (every parameter stays in dsa.csv). ASSUMPTION: what a
#: panel shows legibly at the figure's size.
MAX_BARS = 15
_LOW, _HIGH = "#4292c6", "#ef6548"


def value_text(x: float, unit: str) -> str:
    """A parameter value for a bar's end: money with thousands separators, else 3 digits."""
    if unit.split("/")[0].isupper() and abs(x) >= 100:  # a currency amount (USD/...)
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _panel(ax, rows: pd.DataFrame, strategy: str, result: DSAResult) -> None:
    """One strategy's tornado on ``ax``: ``rows`` sorted widest first."""
    rows = rows.head(MAX_BARS).iloc[::-1]  # widest at the top
    base = float(rows["inc_nmb_usd_base"].iloc[0]) if len(rows) else 0.0
    y = range(len(rows))
    lo, hi = rows["inc_nmb_usd_low"].to_numpy(), rows["inc_nmb_usd_high"].to_numpy()
    ax.barh(y, lo - base, left=base, color=_LOW, height=0.7)
    ax.barh(y, hi - base, left=base, color=_HIGH, height=0.7)
    ax.axvline(base, color="black", lw=1.0)
    span = max([abs(v - base) for v in (*lo, *hi)] + [1.0])
    for i, r in enumerate(rows.itertuples()):
        ends = [(r.inc_nmb_usd_low, value_text(r.low_value, r.unit)),
                (r.inc_nmb_usd_high, value_text(r.high_value, r.unit))]
        if abs(r.inc_nmb_usd_high - r.inc_nmb_usd_low) < 0.08 * span:  # labels would collide
            ends = [(max(r.inc_nmb_usd_low, r.inc_nmb_usd_high, base),
                     f"{ends[0][1]} to {ends[1][1]}")]
        for nmb, text in ends:
            side = 1.0 if nmb >= base else -1.0
            ax.text(nmb + side * 0.02 * span, i, text, va="center",
                    ha="left" if side > 0 else "right", fontsize="x-small")
    ax.set_yticks(list(y), [f"{p} ({u})" for p, u in zip(rows["parameter"], rows["unit"],
                                                         strict=True)], fontsize="small")
    ax.set_xlim(base - 1.4 * span, base + 1.4 * span)
    ax.xaxis.set_major_formatter(_THOUSANDS)
    e = result.scenario.economics
    ax.set_xlabel(f"Incremental NMB vs {result.reference} ({e.currency} {e.price_year} per "
                  "patient)", fontsize="small")
    ax.set_title(f"{strategy} vs {result.reference}: base case {base:,.0f}",
                 fontsize="medium")
    ax.grid(axis="x", alpha=0.3)


def tornado_figure(result: DSAResult) -> Figure:
    """Tornado of every strategy against the reference (one panel each, two columns).

    Bars are sorted by width (the range of incremental NMB between the parameter's low and
    high value) and start at the base case (black line); the numbers at the bar ends are the
    parameter values, the y labels name the parameter and its unit. Low and high: the
    2.5%/97.5% quantiles of the economic distributions, the prior bounds of biological
    parameters (``result.metadata``).
    """
    compared = [s for s in result.strategies if s != result.reference]
    n_bars = min(MAX_BARS, max([int((result.table["strategy"] == s).sum()) for s in compared]
                               + [1]))
    ncols = 1 if len(compared) == 1 else 2
    nrows = math.ceil(len(compared) / ncols)
    fig = Figure(figsize=(8.0 * ncols, nrows * (0.32 * n_bars + 1.6) + 1.2),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, s in enumerate(compared):
        _panel(axes[k // ncols][k % ncols], result.table[result.table["strategy"] == s], s,
               result)
    for k in range(len(compared), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    q = result.metadata.get("quantiles", [0.025, 0.975])
    e = result.scenario.economics
    fig.suptitle(f"One-way sensitivity analysis: incremental net monetary benefit at WTP "
                 f"{result.wtp:,.0f} {e.currency}/QALY\nlow/high = {100 * q[0]:g}%/"
                 f"{100 * q[1]:g}% quantiles of each economic distribution"
                 + ("; biology at its prior bounds" if result.metadata.get("biology") else ""),
                 fontsize="medium")
    fig.legend(handles=[Patch(color=_LOW, label="parameter at its low value"),
                        Patch(color=_HIGH, label="parameter at its high value"),
                        Line2D([], [], color="black", lw=1.0, label="base case")],
               loc="outside lower center", ncols=3, fontsize="small")
    return fig


def write_dsa_figures(result: DSAResult, folder: str | Path) -> list[Path]:
    """Write ``tornado.png`` into ``folder``; return the paths written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "tornado.png"
    tornado_figure(result).savefig(path, dpi=_DPI)
    return [path]
