"""The ``oligosim`` command (DESIGN.md §5.1). Exit codes: 0 ok, 1 internal error, 2 bad input."""

from __future__ import annotations

import argparse
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
    return p


def _progress_bar():  # pragma: no cover - terminal only
    """A rich progress bar on a terminal; nothing in CI logs or pipes."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}/"
                    "{task.total:,} patient histories"), TimeRemainingColumn(), transient=True)
    task = prog.add_task("run", total=1)

    def update(done: int, total: int) -> None:
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
    prog, update = _progress_bar()
    t0 = time.perf_counter()
    if prog is not None:  # pragma: no cover - terminal only
        with prog:
            results = run_scenario(scenario, args.patients, args.seed, jobs=args.jobs,
                                            n_traced=args.trace, progress=update)
    else:
        results = run_scenario(scenario, args.patients, args.seed, jobs=args.jobs,
                                        n_traced=args.trace)
    _ = results.summary
    results.timings["total_seconds"] = time.perf_counter() - t0
    out = Path(args.out) if args.out else Path("out") / scenario.name
    write_outputs(results, out, _version())
    _print_summary(results.summary)
    print(f"{results.n_patients:,} patients × {len(results.strategies)} strategies, seed "
          f"{results.seed}; outputs in {out}/")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oligosim`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
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
