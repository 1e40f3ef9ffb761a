"""Layer 5: figures of a run (DESIGN.md §2.11 trace mode, §5.2 ``figures/``).

Kaplan–Meier curves with numbers at risk and published medians, patterns of first
progression, and spider, swimmer and clone plots of traced patients.

Every function returns a :class:`matplotlib.figure.Figure` built without :mod:`pyplot`, so
nothing is registered in pyplot's global figure list (no leak in long sessions, no GUI
backend needed: saving goes through Agg). In a notebook, display a figure by making it the
last expression of a cell after ``%matplotlib inline``, or save it with ``fig.savefig``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MultipleLocator, PercentFormatter

from oligosim.engine._jit import CLONES, DEATH_CAUSES, DRUGS, ORGANS, RESPONSES
from oligosim.outcomes.summary import patterns_of_failure
from oligosim.outcomes.survival import km_curves, median_with_ci
from oligosim.runner import Results, Trace

__all__ = [
    "TIME_LABEL",
    "clones_figure",
    "km_figure",
    "patterns_figure",
    "spider_figure",
    "swimmer_figure",
    "trace_event_table",
    "write_figures",
]

#: x-axis label of every time axis: months since the first-line TKI starts (DESIGN.md §2).
TIME_LABEL = "Time since start of first-line TKI (months)"
#: ``Axes.get_label()`` of the numbers-at-risk table under a KM plot (a table, not a plot).
AT_RISK_LABEL = "numbers_at_risk"

_ENDPOINTS = {
    "pfs": ("pfs_months", "pfs_event", "Progression-free survival"),
    "os": ("os_months", "os_event", "Overall survival"),
}
_PATTERNS = (  # (category of patterns_of_failure, legend label, colour)
    ("existing_only", "Existing lesions only", "#e69f00"),
    ("new_only", "New lesions only", "#56b4e9"),
    ("both", "Existing and new lesions", "#d55e00"),
    ("none", "No progression", "#d9d9d9"),
)
_BSC = "best_supportive_care"  # drug code 0 after the first line: off anticancer treatment
_DRUG_COLOURS = {
    "tki_1g": "#9ecae1", "tki_2g": "#4292c6", "osimertinib": "#08519c",
    "platinum_pemetrexed": "#fd8d3c", "pemetrexed_maintenance": "#fdd0a2",
    "later_line_chemo": "#9e58b4", _BSC: "#bdbdbd", "none": "#bdbdbd",
}
_DEATH_STYLE = {  # cause -> (marker, colour, legend label)
    "cancer": ("X", "black", "death from cancer"),
    "background": ("X", "#7f7f7f", "death from other causes"),
    "treatment": ("X", "#d62728", "treatment-related death"),
    "alive": (">", "black", "alive at the horizon (censored)"),
}
_PD_COLOUR = "#d62728"
_LAT_STYLE = {"marker": "*", "color": "#ffd92f", "markeredgecolor": "black",
              "markersize": 12, "linestyle": "none"}
_LINESTYLES = ("-", "--", "-.", (0, (5, 1, 1, 1, 1, 1)))
_SPIDER_MAX_PATIENTS = 4
_DPI = 150


def _colours(results: Results) -> dict[str, str]:
    """One colour per strategy, the same in every figure of a run."""
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
    return {s: palette[i % len(palette)] for i, s in enumerate(results.strategies)}


def _fmt_months(x: float) -> str:
    return "NR" if not math.isfinite(x) else f"{x:.1f}"


def _median_label(strategy: str, time: pd.Series, event: pd.Series) -> str:
    med, lo, hi = median_with_ci(time, event)
    if not math.isfinite(med):
        return f"{strategy}: not reached"
    return f"{strategy}: {med:.1f} ({_fmt_months(lo)}–{_fmt_months(hi)})"


# ---------------------------------------------------------------------------------------
# Kaplan–Meier
# ---------------------------------------------------------------------------------------
def km_figure(results: Results, endpoint: str = "pfs", *,
              at_risk_every_months: float = 12.0) -> Figure:
    """Kaplan–Meier curves per strategy with 95% bands and a numbers-at-risk table.

    Parameters
    ----------
    results : Results
        From :func:`oligosim.run_scenario`.
    endpoint : {"pfs", "os"}
        Progression-free (first RECIST PD or death) or overall survival.
    at_risk_every_months : float
        Spacing of the x ticks and of the numbers-at-risk columns.

    Returns
    -------
    Figure
        Top axes: curves (``lifelines`` estimates via :func:`oligosim.outcomes.km_curves`),
        pointwise 95% bands, the legend giving each strategy's median in months with its 95%
        CI, and the scenario's ``published`` medians (if any) as a dotted line up to
        S = 0.5 with a diamond. Bottom axes (label ``"numbers_at_risk"``): patients at risk
        at each tick.
    """
    if endpoint not in _ENDPOINTS:
        raise ValueError(f"endpoint must be one of {sorted(_ENDPOINTS)} (got {endpoint!r})")
    if not at_risk_every_months > 0:
        raise ValueError(f"at_risk_every_months must be > 0 (got {at_risk_every_months!r})")
    time_col, event_col, ylabel = _ENDPOINTS[endpoint]
    patients = results.patients
    curves = km_curves(patients, endpoints=[(endpoint, time_col, event_col)])
    colours = _colours(results)
    step = float(at_risk_every_months)
    t_end = min(float(results.scenario.run.horizon_months), float(patients[time_col].max()))
    x_max = max(step, step * math.ceil(t_end / step - 1e-9))
    ticks = np.arange(0.0, x_max + 1e-9, step)
    n_strat = len(results.strategies)

    fig = Figure(figsize=(13.0, 6.0 + 0.25 * n_strat), layout="constrained")
    ax, tab = fig.subplots(2, 1, sharex=True,
                           gridspec_kw={"height_ratios": [6.0, 0.5 + 0.3 * n_strat]})
    ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
    for i, s in enumerate(results.strategies):
        c = curves.loc[curves["strategy"] == s]
        rows = patients.loc[patients["strategy"] == s]
        t = c["time_months"].to_numpy()
        # Line styles cycle too: strategies that differ only after progression (e.g.
        # oligo-PD LAT) have identical PFS curves, and a dashed line keeps both visible.
        ax.step(t, c["survival"], where="post", color=colours[s], lw=1.6,
                ls=_LINESTYLES[i % len(_LINESTYLES)],
                label=_median_label(s, rows[time_col], rows[event_col]))
        ax.fill_between(t, c["survival_lo"], c["survival_hi"], step="post",
                        color=colours[s], alpha=0.15, lw=0)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(color="0.5", alpha=0.3))
    labels.append("95% pointwise confidence band")
    published = _published(results, endpoint)
    for s, m in published.items():
        ax.vlines(m, 0.0, 0.5, colors=colours[s], linestyles=":", lw=1.6)
        ax.plot([m], [0.5], marker="D", ms=7, mfc="white", mec=colours[s], mew=1.6)
        ax.annotate(f"published\n{m:.1f}", (m, 0.5), xytext=(4, 6), textcoords="offset points",
                    fontsize=7, color=colours[s])
    if published:
        handles.append(Line2D([], [], color="0.3", ls=":", marker="D", mfc="white", mec="0.3"))
        labels.append("published median (trial)")
    # Outside the axes: survival curves can fill any corner of the plot.
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              title="Strategy: median, months (95% CI)", title_fontsize=8)
    ax.set_ylim(0.0, 1.02)
    # a 3% margin each side leaves room for the numbers at risk centred on 0 and x_max
    ax.set_xlim(-0.03 * x_max, 1.03 * x_max)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_ylabel(f"{ylabel} (%)")
    ax.set_xlabel(TIME_LABEL)
    ax.xaxis.set_tick_params(labelbottom=True)
    ax.set_xticks(ticks)
    ax.grid(alpha=0.3)
    ax.set_title(f"{ylabel} by strategy — {results.scenario.name}\n"
                 f"Kaplan–Meier, {results.n_patients:,} simulated patients per strategy, "
                 f"seed {results.seed}", fontsize=10)

    _at_risk_table(tab, results, time_col, ticks, colours)
    return fig


def _at_risk_table(tab: Axes, results: Results, time_col: str, ticks: np.ndarray,
                   colours: dict[str, str]) -> None:
    """Numbers at risk under a KM plot, one row per strategy in the strategy's colour.

    At risk at t: follow-up time >= t (lifelines' convention).
    """
    patients = results.patients
    n_strat = len(results.strategies)
    tab.set_label(AT_RISK_LABEL)
    for i, s in enumerate(results.strategies):
        times = patients.loc[patients["strategy"] == s, time_col].to_numpy()
        for tick in ticks:
            tab.text(tick, i, f"{int(np.sum(times >= tick)):,}", ha="center", va="center",
                     fontsize=8, color=colours[s])
    tab.set_ylim(n_strat - 0.5, -0.5)
    tab.set_yticks(range(n_strat), results.strategies, fontsize=8)
    for label, s in zip(tab.get_yticklabels(), results.strategies, strict=True):
        label.set_color(colours[s])
    tab.tick_params(axis="both", length=0)
    tab.tick_params(axis="x", labelbottom=False)
    for side in ("top", "right", "bottom", "left"):
        tab.spines[side].set_visible(False)
    tab.set_title("Number at risk", loc="left", fontsize=9)


def _published(results: Results, endpoint: str) -> dict[str, float]:
    """Published medians of ``endpoint`` for the strategies of this run (scenario data)."""
    pub = results.scenario.published or {}
    return {s: float(pub[s][endpoint]) for s in results.strategies
            if s in pub and endpoint in pub[s] and math.isfinite(float(pub[s][endpoint]))}


# ---------------------------------------------------------------------------------------
# Patterns of failure
# ---------------------------------------------------------------------------------------
def patterns_figure(results: Results) -> Figure:
    """Patterns of first progression per strategy, and the share that was oligo-progression.

    Top: stacked horizontal bars of the first RECIST progression's pattern relative to the
    lesions visible at baseline (existing only / new only / both / no progression), as a
    share of all patients. Bottom: share of patients with a first progression whose
    progression was oligo-progressive (few progressing lesions, all ablatable), with counts.
    Data from :func:`oligosim.outcomes.patterns_of_failure`.
    """
    pf = patterns_of_failure(results.patients, results.strategies)
    strategies = results.strategies
    y = np.arange(len(strategies))
    fig = Figure(figsize=(10.0, 3.0 + 0.75 * len(strategies)), layout="constrained")
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1.15, 1.0]})

    share = pf.loc[pf["group"] == "first_pd_pattern"].pivot(
        index="strategy", columns="category", values="share").reindex(strategies).fillna(0.0)
    left = np.zeros(len(strategies))
    for cat, label, colour in _PATTERNS:
        w = share[cat].to_numpy() * 100.0
        top.barh(y, w, left=left, color=colour, label=label, edgecolor="white", height=0.7)
        for yi, (l0, wi) in enumerate(zip(left, w, strict=True)):
            if wi >= 6.0:
                top.text(l0 + wi / 2, yi, f"{wi:.0f}%", ha="center", va="center", fontsize=8)
        left += w
    top.set_yticks(y, strategies)
    top.set_ylim(len(strategies) - 0.5, -0.5)
    top.set_xlim(0.0, 100.0)
    top.set_xlabel("Share of all patients (%)")
    top.set_ylabel("Strategy")
    top.set_title("Pattern of first RECIST progression (relative to lesions visible at "
                  "baseline)", fontsize=10)

    oligo = pf.loc[(pf["group"] == "oligo_pd_at_first_pd") & (pf["category"] == "oligo")]
    oligo = oligo.set_index("strategy").reindex(strategies)
    w = oligo["share"].fillna(0.0).to_numpy() * 100.0
    bottom.barh(y, w, color="#009e73", height=0.6,
                label="Oligo-progression at first progression")
    rules = {s.name: s.oligo_pd_lat is not None for s in results.scenario.strategy}
    for yi, (s, wi, n, d) in enumerate(zip(strategies, w, oligo["n"], oligo["denominator"],
                                           strict=True)):
        text = f"{wi:.0f}% ({int(n):,}/{int(d):,})" if d else "no progression"
        if d and n == 0 and not rules.get(s, True):
            # the engine classifies oligo-progression with the strategy's own oligo-PD rule
            text += " — this strategy has no oligo-PD rule"
        bottom.text(wi + 1.0, yi, text, va="center", fontsize=8)
    bottom.set_yticks(y, strategies)
    bottom.set_ylim(len(strategies) - 0.5, -0.5)
    bottom.set_xlim(0.0, 100.0)
    bottom.set_xlabel("Share of patients with a first progression (%)")
    bottom.set_ylabel("Strategy")
    bottom.set_title("Oligo-progression at first progression", fontsize=10)
    for a in (top, bottom):
        a.xaxis.set_major_formatter(PercentFormatter(xmax=100.0))
        a.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(f"Patterns of failure — {results.scenario.name} "
                 f"({results.n_patients:,} patients per strategy)", fontsize=11)
    return fig


# ---------------------------------------------------------------------------------------
# Traces: event table, spider, swimmer, clones
# ---------------------------------------------------------------------------------------
def _organ_of(trace: Trace) -> dict[int, str]:
    return dict(zip(trace.scans["lesion"].astype(int), trace.scans["organ"].astype(str),
                    strict=False))


def _drug_name(code: float, time_months: float) -> str:
    name = DRUGS[int(code)]
    return _BSC if name == "none" and time_months > 0 else name


def _end(results: Results, trace: Trace) -> tuple[float, str]:
    """(time, cause) of a traced patient's end: death and its cause, or "alive" (censored).

    From the patients table (authoritative: a trace's event buffer has a fixed capacity),
    else from the trace's ``death`` event.
    """
    p = results.patients
    row = p.loc[(p["strategy"] == trace.strategy) & (p["patient_id"] == trace.patient_id)]
    if len(row):
        return float(row["os_months"].iloc[0]), str(row["death_cause"].iloc[0])
    ev = trace.events
    death = ev.loc[ev["event"] == "death"]
    if len(death):
        return float(death["time_months"].iloc[-1]), DEATH_CAUSES[int(death["value"].iloc[-1])]
    last = float(max(ev["time_months"].max() if len(ev) else 0.0,
                     trace.scans["time_months"].max() if len(trace.scans) else 0.0))
    return last, "alive"


def _detail(event: str, value: float, time_months: float) -> str:
    if event == "drug_start":
        return _drug_name(value, time_months)
    if event == "scan":
        return f"overall response {RESPONSES[int(value)]}"
    if event in ("recist_pd", "oligo_pd"):
        return f"{int(value)} progressing lesion(s)"
    if event == "consolidation_scan":
        return f"{int(value)} visible lesion(s)"
    if event == "lat":
        return "lesion controlled" if value > 0.5 else "lesion not controlled"
    if event == "death":
        return DEATH_CAUSES[int(value)]
    if event == "acquired_resistance":
        return f"clock of the {CLONES[int(value)]} clone (seeding or resistance)"
    if event == "lesion_pd":
        return "local failure of a treated lesion"
    if event == "toxicity_grade3":
        return "grade >=3 toxicity"
    return "" if math.isnan(value) else f"{value:g}"


def trace_event_table(trace: Trace) -> pd.DataFrame:
    """A traced patient's events with readable details.

    Returns
    -------
    DataFrame
        Columns ``time_months, event, lesion, organ, value, detail``: ``lesion`` is -1 (and
        ``organ`` empty) for patient-level events; ``detail`` decodes ``value`` (drug name,
        RECIST response, number of progressing or visible lesions, cause of death, ...).
    """
    ev = trace.events.copy()
    organs = _organ_of(trace)
    ev["organ"] = [organs.get(int(les), "") if les >= 0 else "" for les in ev["lesion"]]
    ev["detail"] = [_detail(str(e), float(v), float(t)) for e, v, t in
                    zip(ev["event"], ev["value"], ev["time_months"], strict=True)]
    return ev.loc[:, ["time_months", "event", "lesion", "organ", "value", "detail"]]


def _traces_of(results: Results, strategy: str,
               patient_ids: Sequence[int] | None) -> list[Trace]:
    if strategy not in results.strategies:
        raise ValueError(f"strategy {strategy!r} is not in this run; it has "
                         f"{results.strategies}")
    traces = [t for t in results.traces if t.strategy == strategy]
    if patient_ids is not None:
        by_id = {t.patient_id: t for t in traces}
        missing = [p for p in patient_ids if p not in by_id]
        if missing:
            raise ValueError(f"patient(s) {missing} were not traced under {strategy!r}; "
                             f"traced: {sorted(by_id)}")
        traces = [by_id[p] for p in patient_ids]
    if not traces:
        raise ValueError(f"no traced patients for strategy {strategy!r}; run "
                         "run_scenario(..., n_traced=k) with k >= 1")
    return traces


def _pd_times(trace: Trace) -> np.ndarray:
    """Times of scans whose overall RECIST response is PD (on any line)."""
    ev = trace.events
    scans = ev.loc[ev["event"] == "scan"]
    return scans.loc[scans["value"] == RESPONSES.index("PD"), "time_months"].to_numpy()


def _mark_treatment_changes(ax: Axes, events: pd.DataFrame) -> None:
    """Grey dotted line and the new regimen's name at every change of treatment."""
    changes = events.loc[(events["event"] == "drug_start") & (events["time_months"] > 0)]
    for t, code in zip(changes["time_months"], changes["value"], strict=True):
        ax.axvline(t, color="0.4", ls=":", lw=1.0)
        ax.text(t, 0.98, _drug_name(code, t), rotation=90, va="top", ha="right", fontsize=6.5,
                color="0.25", transform=ax.get_xaxis_transform(),
                bbox={"facecolor": "white", "alpha": 0.75, "linewidth": 0, "pad": 0.8})


def _organ_colours() -> dict[str, str]:
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf", "#aec7e8"]
    return {**{o: palette[i] for i, o in enumerate(ORGANS)}, "new": "#000000"}


def _spider_panel(ax: Axes, results: Results, trace: Trace,
                  colours: dict[str, str]) -> set[str]:
    """Draw one patient's lesion diameters; return what was drawn (organs, "new", "lat")."""
    scans = trace.scans.sort_values(["lesion", "time_months"])
    ev = trace.events
    drawn: set[str] = set()
    for les, d in scans.groupby("lesion", sort=True):
        mm = d["measured_mm"].to_numpy()
        if not np.any(mm > 0):
            continue  # never seen on imaging (occult throughout)
        first = int(np.argmax(mm > 0))
        t = d["time_months"].to_numpy()
        organ = str(d["organ"].iloc[0])
        new = t[first] > 0.0
        ax.plot(t[first:], mm[first:], color=colours.get(organ, "black"), lw=1.2,
                ls="--" if new else "-", marker="o", ms=2.5)
        drawn |= {organ, "new"} if new else {organ}
        lat = ev.loc[(ev["event"] == "lat") & (ev["lesion"] == les), "time_months"].to_numpy()
        for tl in lat:
            before = np.searchsorted(t, tl, side="right") - 1
            ax.plot([tl], [mm[max(before, 0)]], **_LAT_STYLE, zorder=5, clip_on=False)
            drawn.add("lat")
    for tp in _pd_times(trace):
        ax.axvline(tp, color=_PD_COLOUR, ls="--", lw=1.2)
    _mark_treatment_changes(ax, ev)
    scan_t = ev.loc[ev["event"] == "scan", "time_months"].to_numpy()
    ax.plot(scan_t, np.full(scan_t.shape, 0.0), "|", color="0.35", ms=6,
            transform=ax.get_xaxis_transform(), clip_on=False)
    t_end, cause = _end(results, trace)
    ax.axvline(t_end, color="black", lw=1.2)
    ax.set_xlim(0.0, t_end * 1.03 + 0.5)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(TIME_LABEL, fontsize=8)
    ax.set_ylabel("Measured diameter (mm)", fontsize=8)
    end = "alive at the horizon" if cause == "alive" else f"died ({cause})"
    ax.set_title(f"patient {trace.patient_id}: {end} at {t_end:.1f} months", fontsize=9)
    ax.grid(alpha=0.3)
    return drawn


def spider_figure(results: Results, strategy: str,
                  patient_ids: Sequence[int] | None = None) -> Figure:
    """Lesion diameters over time for traced patients of one strategy (spider plot).

    One panel per traced patient (the first four, or ``patient_ids``): each lesion's RECIST
    measured diameter at every scan (0 mm = not visible), coloured by organ, dashed for
    lesions that appeared after baseline; stars mark LAT to that lesion, red dashed lines
    scans with overall RECIST progression, grey dotted lines changes of treatment, ticks on
    the time axis the scans, and a black line the end of follow-up (death or horizon).

    Raises
    ------
    ValueError
        If the strategy is not in the run or has no traced patients (or not those asked).
    """
    traces = _traces_of(results, strategy, patient_ids)[:_SPIDER_MAX_PATIENTS]
    n = len(traces)
    ncols = 1 if n == 1 else 2
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(6.5 * ncols, 3.6 * nrows + 1.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    colours = _organ_colours()
    drawn: set[str] = set()
    for ax, tr in zip(axes, traces, strict=False):
        drawn |= _spider_panel(ax, results, tr, colours)
    for ax in axes[n:]:
        ax.remove()
    handles: list[object] = [Line2D([], [], color=colours[o], lw=1.5, label=o)
                             for o in ORGANS if o in drawn]
    if "new" in drawn:
        handles.append(Line2D([], [], color="black", ls="--", label="lesion new after baseline"))
    if "lat" in drawn:
        handles.append(Line2D([], [], **_LAT_STYLE, label="LAT to the lesion"))
    handles += [
        Line2D([], [], color=_PD_COLOUR, ls="--", label="RECIST progression"),
        Line2D([], [], color="0.4", ls=":", label="treatment change"),
        Line2D([], [], color="0.35", marker="|", ls="none", ms=8, label="scan"),
        Line2D([], [], color="black", lw=1.2, label="death / end of follow-up"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3 * ncols, fontsize=8)
    fig.suptitle(f"Spider plot: measured lesion diameters, strategy {strategy}", fontsize=11)
    return fig


def swimmer_figure(results: Results) -> Figure:
    """Treatment lines, LAT, progression and death of every traced patient (swimmer plot).

    One bar per traced patient per strategy, grouped by strategy: bar segments are the
    regimens in force (from the ``drug_start`` events), stars LAT courses, red ticks scans
    with RECIST progression, and the end marker death by cause or censoring at the horizon.

    Raises
    ------
    ValueError
        If the run has no traced patients.
    """
    if not results.traces:
        raise ValueError("the run has no traced patients; run run_scenario(..., n_traced=k) "
                         "with k >= 1")
    order = {s: i for i, s in enumerate(results.strategies)}
    traces = sorted(results.traces, key=lambda t: (order.get(t.strategy, 99), t.patient_id))
    n = len(traces)
    fig = Figure(figsize=(11.0, 1.8 + 0.32 * n), layout="constrained")
    ax = fig.subplots()
    drugs_seen: list[str] = []
    causes_seen: list[str] = []
    for i, tr in enumerate(traces):
        ev = tr.events.sort_values("time_months", kind="stable")
        t_end, cause = _end(results, tr)
        starts = ev.loc[ev["event"] == "drug_start"]
        times = [*starts["time_months"].to_numpy(), t_end]
        for j, (_, row) in enumerate(starts.iterrows()):
            name = _drug_name(row["value"], row["time_months"])
            width = times[j + 1] - times[j]
            if width <= 0:
                continue
            ax.barh(i, width, left=times[j], height=0.6,
                    color=_DRUG_COLOURS.get(name, "#dddddd"), edgecolor="white", lw=0.5)
            if name not in drugs_seen:
                drugs_seen.append(name)
        lat = np.unique(ev.loc[ev["event"] == "lat", "time_months"].to_numpy())
        ax.plot(lat, np.full(lat.shape, i), **{**_LAT_STYLE, "markersize": 10}, zorder=4,
                clip_on=False)
        pd_t = _pd_times(tr)
        ax.plot(pd_t, np.full(pd_t.shape, i), "|", color=_PD_COLOUR, ms=14, mew=2.2, zorder=3)
        marker, colour, _ = _DEATH_STYLE[cause]
        ax.plot([t_end], [i], marker=marker, color=colour, ms=8, ls="none", zorder=4,
                clip_on=False)
        if cause not in causes_seen:
            causes_seen.append(cause)
    prev = None
    for i, tr in enumerate(traces):
        if prev is not None and tr.strategy != prev:
            ax.axhline(i - 0.5, color="0.6", lw=0.8)
        prev = tr.strategy
    ax.set_yticks(range(n), [f"{t.strategy} · #{t.patient_id}" for t in traces], fontsize=8)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0.0, max(_end(results, t)[0] for t in traces) * 1.02 + 1.0)
    ax.xaxis.set_major_locator(MultipleLocator(12.0))
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("Traced patient (strategy · patient id)")
    fig.suptitle("Swimmer plot of traced patients: treatment lines, LAT, progression and "
                 "death\n(the same patient id is the same simulated patient in every "
                 "strategy)", fontsize=10)
    handles: list[object] = [Patch(color=_DRUG_COLOURS.get(d, "#dddddd"), label=d)
                             for d in drugs_seen]
    handles += [Line2D([], [], **{**_LAT_STYLE, "markersize": 10}, label="LAT course"),
                Line2D([], [], color=_PD_COLOUR, marker="|", ls="none", ms=12, mew=2.2,
                       label="RECIST progression")]
    handles += [Line2D([], [], marker=_DEATH_STYLE[c][0], color=_DEATH_STYLE[c][1], ls="none",
                       ms=8, label=_DEATH_STYLE[c][2]) for c in causes_seen]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, title="Regimen / event",
               title_fontsize=8)
    return fig


def clones_figure(trace: Trace) -> Figure:
    """Tumour cells of each clone type, summed over the patient's lesions, at every scan.

    Log scale; red dashed lines mark scans with RECIST progression, stars LAT courses and
    grey dotted lines treatment changes (labelled with the new regimen).
    """
    scans = trace.scans
    fig = Figure(figsize=(9.0, 4.8), layout="constrained")
    ax = fig.subplots()
    totals = scans.groupby("time_months")[[f"cells_{c}" for c in CLONES]].sum()
    palette = ["#1f77b4", "#d62728", "#9467bd", "#ff7f0e", "#2ca02c"]
    for c, colour in zip(CLONES, palette, strict=False):
        y = totals[f"cells_{c}"].to_numpy()
        if np.any(y > 0):
            ax.plot(totals.index, np.where(y > 0, y, np.nan), marker="o", ms=2.5, lw=1.4,
                    color=colour, label=c)
    ax.set_yscale("log")
    ev = trace.events
    for tp in _pd_times(trace):
        ax.axvline(tp, color=_PD_COLOUR, ls="--", lw=1.2)
    _mark_treatment_changes(ax, ev)
    lat = np.unique(ev.loc[ev["event"] == "lat", "time_months"].to_numpy())
    if lat.size:
        ax.plot(lat, np.full(lat.shape, 0.03), **_LAT_STYLE,
                transform=ax.get_xaxis_transform(), label="LAT course", clip_on=False)
    ax.plot([], [], color=_PD_COLOUR, ls="--", label="RECIST progression")
    ax.plot([], [], color="0.4", ls=":", label="treatment change")
    ax.set_xlim(left=0.0)
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("Tumour cells, all lesions (count, log scale)")
    ax.set_title(f"Clone sizes at each scan — patient {trace.patient_id}, strategy "
                 f"{trace.strategy}", fontsize=10)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8,
               title="Clone type / event", title_fontsize=8)
    ax.grid(alpha=0.3)
    return fig


# ---------------------------------------------------------------------------------------
# Output folder
# ---------------------------------------------------------------------------------------
def _lat_strategy(results: Results) -> str | None:
    """The first strategy of the run that gives LAT (upfront, consolidative or oligo-PD)."""
    specs = {s.name: s for s in results.scenario.strategy}
    for name in results.strategies:
        s = specs.get(name)
        if s is not None and (s.upfront_lat or s.consolidative_lat or s.oligo_pd_lat):
            return name
    return None


def write_figures(results: Results, folder: str | Path) -> list[Path]:
    """Write the figures of DESIGN.md §5.2 into ``folder`` (created if needed) as PNG.

    ``km_pfs.png``, ``km_os.png``, ``patterns_of_failure.png`` always; when the run traced
    patients also ``spider_<strategy>.png`` for the first strategy and for the first LAT
    strategy (if any, and different), and ``swimmer.png``.

    Returns
    -------
    list of Path
        The files written, in that order.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, Figure]] = [
        ("km_pfs.png", km_figure(results, "pfs")),
        ("km_os.png", km_figure(results, "os")),
        ("patterns_of_failure.png", patterns_figure(results)),
    ]
    traced = {t.strategy for t in results.traces}
    spider = [results.strategies[0]]
    lat = _lat_strategy(results)
    if lat is not None and lat not in spider:
        spider.append(lat)
    figures += [(f"spider_{s}.png", spider_figure(results, s)) for s in spider if s in traced]
    if results.traces:
        figures.append(("swimmer.png", swimmer_figure(results)))
    written = []
    for name, fig in figures:
        path = out / name
        fig.savefig(path, dpi=_DPI)
        written.append(path)
    return written
