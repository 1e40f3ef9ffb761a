"""Layer 5: figures of a probabilistic sensitivity analysis (DESIGN.md §2.12).

The cost-effectiveness plane against the first strategy, the cost-effectiveness acceptability
curves with the acceptability frontier, and the EVPI curve. Built without :mod:`pyplot` (as
:mod:`oligosim.report.figures`): nothing is registered globally, saving goes through Agg.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from oligosim.psa import PSAResult

__all__ = ["ce_plane_figure", "ceac_figure", "evpi_figure", "write_psa_figures"]

_DPI = 150
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"]


def _colours(result: PSAResult) -> dict[str, str]:
    """One colour per strategy (the order of the scenario, as in the run figures)."""
    return {s: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(result.strategies)}


def _money(result: PSAResult) -> str:
    e = result.scenario.economics
    return f"{e.currency} {e.price_year}"


_THOUSANDS = FuncFormatter(lambda x, _pos: f"{x / 1000:,.0f}k" if abs(x) >= 1000
                           else f"{x:,.0f}")


def ce_plane_figure(result: PSAResult) -> Figure:
    """Incremental cost vs incremental QALYs of each strategy against the first, per draw,
    with the mean of each cloud and the willingness-to-pay line."""
    colours = _colours(result)
    ref = result.strategies[0]
    fig = Figure(figsize=(8.0, 6.0), layout="constrained")
    ax = fig.add_subplot()
    plane = result.ce_plane
    for s in result.strategies[1:]:
        d = plane[plane["strategy"] == s]
        ax.scatter(d["inc_qaly"], d["inc_cost"], s=8, alpha=0.35, color=colours[s], lw=0,
                   label=s)
        ax.scatter([d["inc_qaly"].mean()], [d["inc_cost"].mean()], s=90, marker="X",
                   color=colours[s], edgecolor="black", zorder=3)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axvline(0.0, color="grey", lw=0.8)
    x = np.asarray(ax.get_xlim())
    ax.plot(x, result.wtp * x, color="black", ls="--", lw=1.0,
            label=f"WTP {result.wtp:,.0f} {result.scenario.economics.currency}/QALY")
    ax.set_xlim(*x)
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel(f"Incremental QALYs vs {ref} (discounted, per patient)")
    ax.set_ylabel(f"Incremental cost vs {ref} ({_money(result)}, discounted, per patient)")
    ax.set_title(f"Cost-effectiveness plane: {len(result.draws['draw'].unique()):,} PSA draws "
                 "(× = mean)")
    ax.legend(loc="best", fontsize="small", markerscale=2)
    ax.grid(alpha=0.3)
    return fig


def ceac_figure(result: PSAResult) -> Figure:
    """Acceptability curves per strategy, with the frontier (the strategy of highest
    expected NMB at each willingness to pay) drawn over them."""
    colours = _colours(result)
    fig = Figure(figsize=(8.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    for s in result.strategies:
        d = result.ceac[result.ceac["strategy"] == s]
        ax.plot(d["wtp"], d["prob_cost_effective"], color=colours[s], lw=1.5, label=s)
    f = result.ceaf
    ax.scatter(f["wtp"], f["prob_cost_effective"], s=36, facecolor="none",
               edgecolor=[colours[s] for s in f["strategy"]], lw=1.3, zorder=3,
               label="acceptability frontier (optimal strategy)")
    ax.axvline(result.wtp, color="black", ls=":", lw=1.0, label="scenario WTP")
    ax.set_ylim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel(f"Willingness to pay ({result.scenario.economics.currency} per QALY)")
    ax.set_ylabel("Probability cost-effective")
    ax.set_title("Cost-effectiveness acceptability curves and frontier")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def evpi_figure(result: PSAResult) -> Figure:
    """Per-patient expected value of perfect information against willingness to pay."""
    fig = Figure(figsize=(8.0, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(result.evpi["wtp"], result.evpi["evpi"], color="#1f77b4", lw=1.8)
    ax.axvline(result.wtp, color="black", ls=":", lw=1.0, label="scenario WTP")
    ax.set_ylim(bottom=0.0)
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel(f"Willingness to pay ({result.scenario.economics.currency} per QALY)")
    ax.set_ylabel(f"EVPI per patient ({_money(result)})")
    ax.set_title("Expected value of perfect information")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def write_psa_figures(result: PSAResult, folder: str | Path) -> list[Path]:
    """Write ``ce_plane.png`` (if there are two strategies or more), ``ceac.png`` and
    ``evpi.png`` into ``folder``; return the paths written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    figs = []
    if len(result.strategies) > 1:
        figs.append(("ce_plane.png", ce_plane_figure(result)))
    figs += [("ceac.png", ceac_figure(result)), ("evpi.png", evpi_figure(result))]
    written = []
    for name, fig in figs:
        path = out / name
        fig.savefig(path, dpi=_DPI)
        written.append(path)
    return written
