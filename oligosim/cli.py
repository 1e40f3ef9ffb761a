"""The ``oligosim`` command (DESIGN.md §5.1). Exit codes: 0 ok, 1 internal error, 2 bad input."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from oligosim.errors import OligosimError, OligosimInputError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oligosim")
    except PackageNotFoundError:  # pragma: no cover
        return "0.0.0+unknown"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="oligosim", description=(
        "Simulate EGFR-TKI and local ablative therapy strategies in oligometastatic "
        "EGFR-mutant NSCLC."))
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="simulate every strategy of a scenario")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--patients", type=int, default=None, help="patients per strategy")
    r.add_argument("--seed", type=int, default=None, help="root random seed")
    r.add_argument("--out", default=None, help="output folder (default out/<scenario name>)")
    r.add_argument("--jobs", type=int, default=None, help="threads (default: all cores)")
    r.add_argument("--trace", type=int, default=3, help="patients traced per strategy")
    c = sub.add_parser("check", help="validate scenario files; exit 2 on any error")
    c.add_argument("scenarios", nargs="+", help="scenario TOML files")
    v = sub.add_parser("validate", help="run every trial scenario against its published "
                                        "targets (a report: exit 0 even if targets are missed)")
    v.add_argument("--patients", type=int, default=None,
                   help="patients per strategy (default: each scenario's own)")
    v.add_argument("--seed", type=int, default=None,
                   help="root random seed (default: each scenario's own)")
    v.add_argument("--jobs", type=int, default=None, help="threads (default: all cores)")
    v.add_argument("--json", action="store_true",
                   help="print a JSON list of {target_id, trial, arm, endpoint, published, lo, "
                        "hi, model, within} instead of a table")
    v.add_argument("--scenarios-dir", default=None,
                   help="folder holding trials/*.toml (default: scenarios/ of the source "
                        "checkout, or ./scenarios)")
    v.add_argument("--targets", default=None,
                   help="targets TOML file (default: the package's data/targets.toml)")
    v.add_argument("--parameters", default=None,
                   help="a calibrated parameter file (JSON from `oligosim calibrate`; "
                        "default: the calibration shipped in the package)")
    cal = sub.add_parser(
        "calibrate", help="fit the free parameters to every target; resumable",
        description="Calibration (DESIGN.md §4): CMA-ES point estimate of the free "
                    "parameters (oligosim.calibration.free) on the weighted synthetic "
                    "log-likelihood of all targets, then an emcee posterior sample. Writes "
                    "the parameter file FILE (JSON) and FILE's stem + '_calibration/' "
                    "(posterior_draws.csv, report.csv, predictive.csv, cma_log.csv, walkers.csv, "
                    "calibration.png, checkpoint/). Interrupted runs continue with --resume.")
    cal.add_argument("--out", default="calibrated.json",
                     help="parameter file to write (default calibrated.json)")
    cal.add_argument("--patients", type=int, default=None,
                     help="patients per strategy per trial scenario (default 400)")
    cal.add_argument("--seed", type=int, default=None, help="common-random-numbers seed")
    cal.add_argument("--generations", type=int, default=None,
                     help="CMA-ES generations (default 110; 0 with --start keeps the start "
                          "as the point and only samples the posterior)")
    cal.add_argument("--popsize", type=int, default=None,
                     help="CMA-ES population (default 12)")
    cal.add_argument("--walkers", type=int, default=None,
                     help="MCMC walkers (default 56; even, >= 2 x free parameters)")
    cal.add_argument("--steps", type=int, default=None, help="MCMC steps (default 40)")
    cal.add_argument("--draws", type=int, default=None,
                     help="posterior draws kept (default 200)")
    cal.add_argument("--workers", type=int, default=None,
                     help="worker processes (default 2)")
    cal.add_argument("--resume", action="store_true",
                     help="continue from the checkpoint of an interrupted run")
    cal.add_argument("--start", default=None, metavar="FILE",
                     help="start CMA-ES at the free parameters of a calibrated parameter file "
                          "(e.g. oligosim/data/calibration/calibrated.json) instead of the "
                          "literature defaults; parameters it does not free start at theirs")
    cal.add_argument("--sigma0", type=float, default=None,
                     help="CMA-ES initial step on the unit cube (default 0.15; smaller "
                          "for a --start near the optimum)")
    cal.add_argument("--walkers-from", default=None, metavar="CSV",
                     help="start the MCMC walkers at rows of an earlier posterior_draws.csv "
                          "(spread evenly) or at an earlier run's walkers.csv (its last "
                          "ensemble) instead of a ball around the point: continues an earlier "
                          "chain's exploration")
    cal.add_argument("--moves", default=None,
                     help="MCMC proposals: de (differential evolution, default) or stretch "
                          "(emcee's stretch move); may change on --resume")
    cal.add_argument("--scenarios-dir", default=None,
                     help="folder holding trials/*.toml (as for validate)")
    cal.add_argument("--targets", default=None,
                     help="targets TOML file (default: the package's data/targets.toml)")
    ps = sub.add_parser(
        "psa", help="probabilistic sensitivity analysis with cost-effectiveness outputs",
        description="Probabilistic sensitivity analysis (DESIGN.md §2.12): economic "
                    "parameters from the scenario's [economics.uncertainty] distributions, "
                    "every strategy on the same patients within a draw; writes psa_draws.csv, "
                    "icer.csv, ceac.csv, ceaf.csv, evpi.csv, ce_plane.csv, "
                    "psa_parameters.csv, run.json and figures/. Every finished draw is "
                    "checkpointed: rerun with --resume after an interruption.")
    ps.add_argument("scenario", help="scenario TOML file")
    ps.add_argument("--draws", type=int, required=True, help="number of PSA draws")
    ps.add_argument("--patients", type=int, default=None,
                    help="patients per strategy and draw (default: the scenario's)")
    ps.add_argument("--seed", type=int, default=None, help="root random seed")
    ps.add_argument("--out", default=None, help="output folder (default out/<scenario "
                                                "name>_psa)")
    ps.add_argument("--resume", action="store_true",
                    help="continue an interrupted run in --out from its last finished draw")
    ps.add_argument("--jobs", type=int, default=None, help="threads (default: all cores)")
    ps.add_argument("--biology", choices=("fixed", "prior", "posterior"), default="fixed",
                    help="'fixed' (default; economic uncertainty only): the calibrated "
                         "parameters in every draw, simulated once and re-priced per draw; "
                         "'posterior': biology from the calibration's posterior draws, the "
                         "cohort re-simulated each draw; 'prior': every calibratable "
                         "parameter drawn from its prior range (uniform / log-uniform)")
    ds = sub.add_parser(
        "dsa", help="one-way sensitivity analysis with a tornado figure",
        description="One-way deterministic sensitivity analysis (DESIGN.md §2.12): each "
                    "parameter of [economics.uncertainty] in turn at its low and high value "
                    "(the 2.5%% and 97.5%% quantiles of its distribution), the others at base; "
                    "incremental net monetary benefit of every strategy against the reference "
                    "at the WTP. Economic parameters only re-price one simulated cohort; "
                    "--biology also varies every calibratable parameter between its prior "
                    "bounds, re-simulating the same patients. Writes dsa.csv, run.json and "
                    "figures/tornado.png.")
    ds.add_argument("scenario", help="scenario TOML file")
    ds.add_argument("--patients", type=int, default=None,
                    help="patients per strategy (default: the scenario's)")
    ds.add_argument("--seed", type=int, default=None, help="root random seed")
    ds.add_argument("--out", default=None, help="output folder (default out/<scenario "
                                                "name>_dsa)")
    ds.add_argument("--wtp", type=float, default=None,
                    help="willingness to pay per QALY (default: the scenario's "
                         "economics.willingness_to_pay_per_qaly)")
    ds.add_argument("--reference", default=None,
                    help="strategy the others are compared with (default: the first)")
    ds.add_argument("--biology", action="store_true",
                    help="also vary every calibratable parameter between the bounds of its "
                         "prior range (two re-simulations per parameter)")
    ds.add_argument("--jobs", type=int, default=None, help="threads (default: all cores)")
    return p


def _progress_bar(label: str = "simulating", unit: str = "patient histories"):
    """``(context, update)``: a rich progress bar on a terminal; elsewhere (CI logs, pipes) a
    no-op context and ``update=None``. ``update(done, total, *_)``."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext(), None
    return _rich_bar(label, unit)  # pragma: no cover - terminal only


def _rich_bar(label: str, unit: str):  # pragma: no cover - terminal only
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(TextColumn(label), BarColumn(),
                    TextColumn("{task.completed:,}/{task.total:,} " + unit),
                    TimeRemainingColumn(), transient=True)
    task = prog.add_task(label, total=1)

    def update(done: int, total: int, *_: object) -> None:
        prog.update(task, completed=done, total=total)

    return prog, update


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    def fmt(x: float, lo: float | None = None, hi: float | None = None) -> str:
        if x != x:
            return "not reached"
        s = f"{x:.1f}"
        if lo is not None and hi is not None:
            lo_s = "NR" if lo != lo else f"{lo:.1f}"
            hi_s = "NR" if hi != hi else f"{hi:.1f}"
            s += f" ({lo_s}–{hi_s})"
        return s

    t = Table(title="Strategy comparison (medians in months, 95% CI; HR vs first strategy)")
    for col in ("strategy", "median PFS", "median OS", "HR PFS", "HR OS", "ORR", "LAT courses"):
        t.add_column(col, justify="left" if col == "strategy" else "right")
    for _, row in summary.iterrows():
        t.add_row(str(row["strategy"]),
                  fmt(row["median_pfs_months"], row["median_pfs_months_lo"],
                      row["median_pfs_months_hi"]),
                  fmt(row["median_os_months"], row["median_os_months_lo"],
                      row["median_os_months_hi"]),
                  f"{row['hr_pfs']:.2f}", f"{row['hr_os']:.2f}", f"{row['orr']:.0%}",
                  f"{row['mean_n_lat_courses']:.2f}")
    Console(width=130).print(t)


def _cmd_run(args: argparse.Namespace) -> int:
    from oligosim.report.outputs import write_outputs
    from oligosim.runner import run_scenario
    from oligosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.patients is not None and args.patients < 1:
        raise OligosimInputError("--patients must be at least 1", value=args.patients)
    bar, update = _progress_bar()
    t0 = time.perf_counter()
    with bar:
        results = run_scenario(scenario, args.patients, args.seed, jobs=args.jobs,
                               n_traced=args.trace, progress=update)
    _ = results.summary
    results.timings["total_seconds"] = time.perf_counter() - t0
    out = Path(args.out) if args.out else Path("out") / scenario.name
    write_outputs(results, out, _version())
    _print_summary(results.summary)
    print(f"{results.n_patients:,} patients × {len(results.strategies)} strategies, seed "
          f"{results.seed}; outputs in {out}/")
    return EXIT_OK


def _check_run_options(args: argparse.Namespace) -> None:
    """--patients, --jobs and --seed, shared by psa and validate."""
    if args.patients is not None and args.patients < 1:
        raise OligosimInputError("--patients must be at least 1", value=args.patients)
    if args.jobs is not None and args.jobs < 1:
        raise OligosimInputError("--jobs must be at least 1", value=args.jobs)
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise OligosimInputError("--seed out of range", value=args.seed,
                                 allowed="0 <= seed < 2**63")


def _cmd_psa(args: argparse.Namespace) -> int:
    from oligosim.psa import run_psa
    from oligosim.report.psa_figures import write_psa_figures
    from oligosim.scenario import load_scenario

    if args.draws < 1:
        raise OligosimInputError("--draws must be at least 1", value=args.draws)
    _check_run_options(args)
    scenario = load_scenario(args.scenario)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.name}_psa"
    kwargs = dict(n_patients=args.patients, seed=args.seed, out_dir=out, resume=args.resume,
                  jobs=args.jobs, biology=args.biology, figures=write_psa_figures)
    bar, update = _progress_bar("PSA", "draws")
    with bar:
        result = run_psa(scenario, args.draws, progress=update, **kwargs)
    _print_psa(result)
    meta = result.metadata
    print(f"{meta['draws']:,} draws × {meta['n_patients']:,} patients × "
          f"{len(result.strategies)} strategies (biology {meta['biology']}), seed "
          f"{meta['seed']}; {meta['timings_seconds']['total']:.1f} s; outputs in {out}/")
    return EXIT_OK


def _print_psa(result) -> None:
    import math

    from rich.console import Console
    from rich.table import Table

    def num(x: float, fmt: str) -> str:
        return "—" if not math.isfinite(x) else format(x, fmt)

    cur = result.scenario.economics.currency
    g = result.draws.groupby("strategy", sort=False)
    ceac_at = result.ceac.assign(d=(result.ceac["wtp"] - result.wtp).abs())
    ceac_at = ceac_at[ceac_at["d"] == ceac_at["d"].min()].set_index("strategy")
    t = Table(title=f"PSA: means over draws (95% interval); ICERs on the efficiency frontier; "
                    f"WTP {result.wtp:,.0f} {cur}/QALY")
    for col in ("strategy", f"cost ({cur})", "QALY", "LY", "status", f"ICER ({cur}/QALY)",
                "P(cost-effective)"):
        t.add_column(col, justify="left" if col in ("strategy", "status") else "right")
    icer = result.icer.set_index("strategy")
    for s in result.strategies:
        d = g.get_group(s)
        c, q = d["cost_usd"], d["qaly"]
        t.add_row(s, f"{c.mean():,.0f} ({c.quantile(0.025):,.0f}–{c.quantile(0.975):,.0f})",
                  f"{q.mean():.3f} ({q.quantile(0.025):.3f}–{q.quantile(0.975):.3f})",
                  f"{d['ly'].mean():.3f}", str(icer.loc[s, "status"]),
                  num(float(icer.loc[s, "icer"]), ",.0f"),
                  f"{float(ceac_at.loc[s, 'prob_cost_effective']):.0%}")
    Console(width=150).print(t)
    ev = result.evpi.assign(d=(result.evpi["wtp"] - result.wtp).abs())
    print(f"EVPI per patient at the scenario WTP: "
          f"{float(ev.loc[ev['d'].idxmin(), 'evpi']):,.0f} {cur}")


def _cmd_dsa(args: argparse.Namespace) -> int:
    import math

    from rich.console import Console
    from rich.table import Table

    from oligosim.psa import run_dsa
    from oligosim.report.dsa_figures import value_text, write_dsa_figures
    from oligosim.scenario import load_scenario

    _check_run_options(args)
    if args.wtp is not None and not (math.isfinite(args.wtp) and 0 <= args.wtp <= 1e7):
        raise OligosimInputError("--wtp must be a willingness to pay per QALY",
                                 field="--wtp", value=args.wtp, allowed="0 to 10,000,000")
    scenario = load_scenario(args.scenario)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.name}_dsa"
    kwargs = dict(n_patients=args.patients, seed=args.seed, out_dir=out, jobs=args.jobs,
                  wtp=args.wtp, reference=args.reference, biology=args.biology,
                  figures=write_dsa_figures, source=args.scenario)
    bar, update = _progress_bar()
    with bar:
        result = run_dsa(scenario, progress=update, **kwargs)
    cur = scenario.economics.currency
    t = Table(title=f"One-way sensitivity (5 widest per strategy): incremental NMB vs "
                    f"{result.reference}, {cur}/patient at WTP {result.wtp:,.0f} {cur}/QALY; "
                    "low/high = 2.5%/97.5% quantiles"
                    + ("; biology at its prior bounds" if args.biology else ""))
    for col in ("strategy", "base", "parameter", "low → high value", "NMB at low",
                "NMB at high", "range"):
        t.add_column(col, justify="left" if col in ("strategy", "parameter") else "right")
    for s in result.strategies:
        rows = result.table[result.table["strategy"] == s].head(5)
        for i, r in enumerate(rows.itertuples()):
            t.add_row(s if i == 0 else "", f"{r.inc_nmb_usd_base:,.0f}" if i == 0 else "",
                      f"{r.parameter} ({r.unit})",
                      f"{value_text(r.low_value, r.unit)} → {value_text(r.high_value, r.unit)}",
                      f"{r.inc_nmb_usd_low:,.0f}", f"{r.inc_nmb_usd_high:,.0f}",
                      f"{r.range_usd:,.0f}")
    Console(width=170).print(t)
    meta = result.metadata
    for skip in result.skipped:
        print(f"skipped {skip['parameter']}: {skip['reason']}", file=sys.stderr)
    print(f"{len(result.table['parameter'].unique())} parameters × "
          f"{len(result.strategies) - 1} comparisons, {meta['n_patients']:,} patients, seed "
          f"{meta['seed']}; {meta['timings_seconds']['total']:.1f} s; outputs in {out}/")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from oligosim.scenario import load_scenario

    bad = 0
    for path in args.scenarios:
        try:
            load_scenario(path)
        except OligosimInputError as exc:
            bad += 1
            print(str(exc), file=sys.stderr)
        else:
            print(f"{path}: ok")
    return EXIT_INPUT if bad else EXIT_OK


#: Keys of each object printed by ``oligosim validate --json`` (DESIGN.md §5.1).
VALIDATE_JSON_KEYS = ("target_id", "trial", "arm", "endpoint", "published", "lo", "hi", "model",
                      "within")


def _validate_json(report) -> str:
    """The report as a JSON list (DESIGN §5.1); NaN becomes null."""
    import json
    import math

    def clean(v: object) -> object:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if hasattr(v, "item"):  # numpy scalar
            return clean(v.item())
        return v

    rows = [{k: clean(row[k]) for k in VALIDATE_JSON_KEYS}
            for row in report.to_dict(orient="records")]
    return json.dumps(rows, indent=1, allow_nan=False)


def _print_validation(report) -> None:
    """The validation report as a rich table, then the reasons behind each status."""
    import math

    from rich.console import Console
    from rich.table import Table

    from oligosim.calibration.targets import ENDPOINTS

    def num(x: float, endpoint: str) -> str:
        if not math.isfinite(x):
            return "—"
        if ENDPOINTS[endpoint] == "binomial":
            return f"{100 * x:.1f}%"
        return f"{x:.2f}" if endpoint.startswith("hr_") else f"{x:.1f}"

    def with_interval(x: float, lo: float, hi: float, endpoint: str) -> str:
        s = num(x, endpoint)
        if math.isfinite(lo) or math.isfinite(hi):
            s += f" ({num(lo, endpoint)}–{num(hi, endpoint)})"
        return s

    t = Table(title="Validation: published figure (95% interval) vs model (95% Monte Carlo "
                    "interval)")
    for col in ("target", "arm", "endpoint", "published", "model", "within", "weight",
                "status"):
        t.add_column(col, justify="right" if col in ("published", "model", "weight")
                     else "left", no_wrap=col != "status")
    reasons: dict[str, int] = {}
    for r in report.to_dict(orient="records"):
        e = r["endpoint"]
        label = e if r["at_months"] is None or not math.isfinite(r["at_months"]) \
            else f"{e} @{r['at_months']:g}m"
        status = r["status"].split(":", 1)[0]
        if status != "ok":
            reasons.setdefault(r["status"], len(reasons) + 1)
            status += f" [{reasons[r['status']]}]"
        mark = ("[green]yes[/green]" if r["within"] else
                "[red]no[/red]" if math.isfinite(r["model"]) else "—")
        t.add_row(r["target_id"], str(r["arm"] or "—"), label,
                  with_interval(r["published"], r["lo"], r["hi"], e),
                  with_interval(r["model"], r["model_lo"], r["model_hi"], e), mark,
                  f"{r['weight']:g}", status)
    console = Console(width=200)
    console.print(t)
    for text, k in reasons.items():
        console.print(f"[{k}] {text}", highlight=False)
    computed = report["model"].notna()
    console.print(f"{len(report)} targets: {int(computed.sum())} computed, "
                  f"{int(report['within'].sum())} within their 95% interval, "
                  f"{int((computed & ~report['within']).sum())} outside, "
                  f"{int((~computed).sum())} without a model value.", highlight=False)


def _cmd_validate(args: argparse.Namespace) -> int:
    from oligosim.calibration.targets import load_targets
    from oligosim.calibration.validate import validate

    _check_run_options(args)
    targets = load_targets(args.targets)
    parameters = None
    if args.parameters is not None:
        from oligosim.params import load_parameter_file

        parameters = load_parameter_file(args.parameters)
    bar, update = _progress_bar("validating", "trial scenarios")
    with bar:
        report = validate(args.patients, args.seed, args.jobs, parameters=parameters,
                          scenarios_dir=args.scenarios_dir, targets=targets,
                          progress=update)
    if args.json:
        print(_validate_json(report))
    else:
        _print_validation(report)
    return EXIT_OK


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from dataclasses import replace
    from pathlib import Path

    from oligosim.calibration.fit import CalibrationConfig, calibrate
    from oligosim.calibration.targets import load_targets
    from oligosim.report.calibration_figure import calibration_figure

    given = {"n_patients": args.patients, "seed": args.seed, "generations": args.generations,
             "popsize": args.popsize, "walkers": args.walkers, "steps": args.steps,
             "n_draws": args.draws, "workers": args.workers, "sigma0": args.sigma0,
             "walkers_from": args.walkers_from, "moves": args.moves}
    if args.start is not None:
        from oligosim.calibration.free import FREE_PARAMETERS
        from oligosim.params import load_parameter_file

        start_set = load_parameter_file(args.start)
        given["start"] = {p.name: float(start_set[p.name]) for p in FREE_PARAMETERS}
    config = replace(CalibrationConfig(), **{k: v for k, v in given.items() if v is not None})

    def progress(stage: str, done: int, total: int, best: float) -> None:
        label = "CMA-ES generation" if stage == "cma" else "MCMC step"
        print(f"{label} {done}/{total}: best log-likelihood {best:.1f}", file=sys.stderr,
              flush=True)

    targets = load_targets(args.targets)
    result = calibrate(args.out, config, resume=args.resume,
                       scenarios_dir=args.scenarios_dir, targets=targets, progress=progress)
    out = Path(args.out)
    work = out.with_name(out.stem + "_calibration")
    calibration_figure(result.predictive, work / "calibration.png")
    s = result.summary
    print(f"wrote {out} and {work}/")
    print(f"point: {s['point_source']}, chosen among {len(s['point_candidates'])} "
          f"candidates on the selection seeds (mean log-likelihood "
          f"{s['point_log_likelihood_selection_seeds']:.1f})")
    print(f"log-likelihood at the point: {s['point_log_likelihood']:.1f} (fit seed), "
          f"{s['point_log_likelihood_validation_seed']:.1f} (validation seed; literature "
          f"defaults {s['literature_log_likelihood_validation_seed']:.1f})")
    print(f"targets within their interval: {s['targets_within']} of "
          f"{s['targets_computable']} computable")
    print(f"{s['n_evaluations']} evaluations in {s['wall_seconds'] / 60:.1f} min (search and "
          f"chain), then {s['finish_wall_seconds'] / 60:.1f} min choosing the point and "
          f"writing the posterior and report; posterior "
          f"ESS min {s['effective_sample_size_min']:.0f} (kept steps "
          f"{s['autocorrelation_times_in_kept_steps']:.1f} times the longest "
          f"autocorrelation time; emcee trusts it from 50); most identified "
          f"{', '.join(s['most_identified'])}; least identified "
          f"{', '.join(s['least_identified'])}")
    first, second = s["sd_ratio_median_kept_halves"]
    print(f"median posterior/prior sd in the kept steps: {first:.3f} (first half), "
          f"{second:.3f} (second half)")
    win = s["sd_ratio_by_window"]
    print(f"median posterior/prior sd by {win['window_steps']}-step window (flat in the kept "
          f"second half if the chain is stationary): "
          f"{', '.join(f'{r:.3f}' for r in win['median_ratio'])}")
    drop = s["log_likelihood_drop"]
    print(f"median log-likelihood drop of the draws below the fit seed's maximum: "
          f"{drop['median_observed']:.1f} (a stationary sample of a near-normal posterior: "
          f"{drop['median_expected_if_stationary']:.1f}; implied width factor "
          f"{drop['implied_width_factor']:.2f})")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oligosim`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "calibrate":
            return _cmd_calibrate(args)
        if args.command == "psa":
            return _cmd_psa(args)
        if args.command == "dsa":
            return _cmd_dsa(args)
        return _cmd_check(args)
    except OligosimInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OligosimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted; no output written", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
