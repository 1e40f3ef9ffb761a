"""Probabilistic sensitivity analysis with per-draw checkpoints (DESIGN.md §2.12, §3, §8).

Randomness (no ``numpy.random`` in the package; DESIGN §2.13): the package's counter-based
Philox4x64-10 (:mod:`oligosim.engine.rng`), as pure functions of the counter:

- draw ``k``'s economic parameters are inverse CDFs of uniforms keyed by
  ``(seed, PURPOSE_ECONOMICS)`` at counter ``(parameter index, k, 0, 0)``,
- its biology (``biology="prior"``, or the row of the posterior draws with
  ``biology="posterior"``) likewise with ``PURPOSE_BIOLOGY``,
- the simulated patients from the engines' Philox streams keyed by ``seed``: every strategy
  *and every draw* sees the same patients (common random numbers), so strategy differences
  and differences between draws are not blurred by first-order (patient) noise.

A draw therefore depends only on ``(seed, k)``: draws can be computed in any order, and an
interrupted run resumed with ``resume=True`` gives byte-identical outputs to an uninterrupted
one.

Because costs and QALYs are linear in the engines' accumulators
(:mod:`oligosim.outcomes.economics`), economic uncertainty needs no re-simulation: with
``biology="fixed"`` the cohort is simulated once and every draw is a re-pricing, which is what
makes 1,000 draws cheap.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from oligosim.engine import layout as L
from oligosim.engine.rng import philox4x64_10
from oligosim.errors import CapacityError, OligosimInputError
from oligosim.outcomes.cea import ce_plane, ceac, ceaf, evpi, incremental_analysis
from oligosim.outcomes.economics import cost_weights, ly_weights, qaly_weights
from oligosim.params import ParameterSet, default_parameters
from oligosim.params.parameters import SPECS
from oligosim.runner import (
    DEFAULT_BATCH,
    _threads,
    json_safe,
    replace_folder,
    resolve_run_settings,
    simulate_strategy,
)
from oligosim.scenario import Scenario, compile_scenario, scenario_hash
from oligosim.scenario.economics import Economics

__all__ = ["BIOLOGY_MODES", "DRAW_COLUMNS", "PSAResult", "calibratable_parameters",
           "draw_economics", "draw_parameters", "run_psa", "wtp_grid"]

BIOLOGY_MODES = ("fixed", "prior", "posterior")
#: Columns of psa_draws.csv, in order.
DRAW_COLUMNS = ("draw", "strategy", "cost_usd", "qaly", "ly", "nmb")
PARTIAL = "psa_draws.partial.csv"
CHECKPOINT = "psa_checkpoint.json"
N_WTP = 61
_HEADER = ",".join(DRAW_COLUMNS) + "\n"
_PARTIAL_HEADER = ",".join((*DRAW_COLUMNS, "biology_attempt")) + "\n"
#: Prior draws tried per PSA draw before giving up (see :func:`run_psa`, biology="prior").
MAX_BIOLOGY_ATTEMPTS = 20
#: Philox key word 1 of the PSA streams ("PSA" + 1 or 2): apart from the engine's purposes
#: (0..N_PURPOSES-1), so a PSA draw never reuses a patient's random numbers.
PURPOSE_ECONOMICS = 0x50534101
PURPOSE_BIOLOGY = 0x50534102
_U0 = np.uint64(0)


@dataclass
class PSAResult:
    """What :func:`run_psa` returns (and wrote to ``out_dir``)."""

    scenario: Scenario
    strategies: list[str]
    draws: pd.DataFrame
    """psa_draws.csv: draw, strategy, cost_usd, qaly, ly, nmb (means over the patients)."""
    parameters: pd.DataFrame
    """psa_parameters.csv: draw and the value of every sampled parameter."""
    icer: pd.DataFrame
    ceac: pd.DataFrame
    ceaf: pd.DataFrame
    evpi: pd.DataFrame
    ce_plane: pd.DataFrame
    wtp: float
    wtp_grid: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None


# ------------------------------------------------------------------------------ sampling

def wtp_grid(wtp: float) -> np.ndarray:
    """The willingness-to-pay grid of ceac/ceaf/evpi.csv: 0 to 3 × ``wtp``, 61 points
    (0 to 300,000 when ``wtp`` is 0)."""
    hi = 3.0 * wtp if wtp > 0 else 300_000.0
    return np.linspace(0.0, hi, N_WTP)


def psa_uniforms(seed: int, k: int, purpose: int, n: int, attempt: int = 0) -> np.ndarray:
    """``n`` uniforms in (0, 1) for draw ``k``: Philox4x64-10 keyed by (seed, purpose),
    counter (index, k, attempt, 0), first word, converted as
    :func:`oligosim.engine.rng.uniform`.

    A pure function of (seed, k, purpose, index): draws can be made in any order.
    """
    out = np.empty(n)
    for j in range(n):
        w0 = philox4x64_10(np.uint64(j), np.uint64(k), np.uint64(attempt), _U0,
                           np.uint64(seed),
                           np.uint64(purpose))[0]
        out[j] = (float(int(w0) >> 12) + 0.5) * 2.0**-52
    return out


def draw_economics(economics: Economics, seed: int, k: int) -> dict[str, float]:
    """Economic parameter values of draw ``k`` (uniforms keyed by (seed, ECONOMICS)): one
    uniform per uncertain number and per share of a dirichlet group, in sorted path order."""
    u = psa_uniforms(seed, k, PURPOSE_ECONOMICS, economics.n_uniforms())
    return economics.draw(u)


def calibratable_parameters() -> dict[str, tuple[float, float, bool]]:
    """Name -> (prior lo, prior hi, log-uniform) of every parameter with a prior."""
    return {name: (spec.prior[0], spec.prior[1], spec.log_prior)
            for name, spec in SPECS.items() if spec.prior is not None}


def draw_parameters(seed: int, k: int, attempt: int = 0) -> dict[str, float]:
    """Biological parameter values of draw ``k`` from the priors (uniforms keyed by
    (seed, BIOLOGY)), in the order of :data:`oligosim.params.parameters.SPECS`:
    uniform, or log-uniform when the Spec says ``log_prior``, on each prior range.

    ``biology="posterior"`` uses the calibration's shipped draws instead (DESIGN.md §4).
    """
    priors = calibratable_parameters()
    uniforms = psa_uniforms(seed, k, PURPOSE_BIOLOGY, len(priors), attempt)
    out: dict[str, float] = {}
    for (name, (lo, hi, log)), u in zip(priors.items(), uniforms, strict=True):
        out[name] = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))) if log \
            else lo + u * (hi - lo)
    return out


# ---------------------------------------------------------------------------- simulation

def _simulate(scenario: Scenario, parameters: ParameterSet, n: int, seed: int
              ) -> list[np.ndarray]:
    """Accumulators (n, N_ACC) of every strategy, on the same patients (same seed)."""
    cs = compile_scenario(scenario, parameters)
    accs = []
    for i in range(len(cs.strategies)):
        parts = []
        for start in range(0, n, DEFAULT_BATCH):
            ids = np.arange(start, min(start + DEFAULT_BATCH, n), dtype=np.int64)
            parts.append(simulate_strategy(cs, i, ids, seed)[2])
        accs.append(np.concatenate(parts) if len(parts) > 1 else parts[0])
    return accs


def posterior_index(seed: int, k: int, n_draws: int, attempt: int = 0) -> int:
    """Row of the posterior draws used by PSA draw ``k``: resampled with replacement by a
    uniform keyed by (seed, BIOLOGY) at counter (0, k, attempt) — a pure function of
    (seed, k), so draws can be computed in any order and a resumed run is identical."""
    u = psa_uniforms(seed, k, PURPOSE_BIOLOGY, 1, attempt)[0]
    return min(int(u * n_draws), n_draws - 1)


def biology_values(mode: str, seed: int, k: int, attempt: int,
                   posterior: pd.DataFrame | None) -> dict[str, float]:
    """The biological parameter values of PSA draw ``k`` (``mode`` "prior" or "posterior"),
    with ``posterior_draw`` (the row used) for the posterior."""
    if mode == "prior":
        return draw_parameters(seed, k, attempt)
    assert posterior is not None
    j = posterior_index(seed, k, len(posterior), attempt)
    row = posterior.iloc[j]
    values = {c: float(row[c]) for c in posterior.columns if c in SPECS}
    return {"posterior_draw": float(row["draw"]), **values}


def _simulate_biology(scenario: Scenario, base: ParameterSet, n: int, seed: int, k: int,
                      mode: str, posterior: pd.DataFrame | None
                      ) -> tuple[list[np.ndarray], int]:
    """Simulate draw ``k`` with biology from the priors or the posterior; a draw that
    overflows the engine's fixed capacity (e.g. extreme seeding: more lesions than
    MAX_LESIONS) is replaced by the next attempt, so the distribution is truncated to what
    the engine can simulate. Returns the accumulators and the attempt used (recorded in
    psa_parameters.csv)."""
    for attempt in range(MAX_BIOLOGY_ATTEMPTS):
        values = biology_values(mode, seed, k, attempt, posterior)
        values.pop("posterior_draw", None)
        ps = base.replace(name=f"{mode}-draw-{k}", **values)
        try:
            return _simulate(scenario, ps, n, seed), attempt
        except CapacityError:
            continue
    raise CapacityError(f"PSA draw {k}: {MAX_BIOLOGY_ATTEMPTS} {mode} draws in a row exceeded "
                        "the engine's capacity; narrow the priors or raise the capacity")


def _means(acc: np.ndarray, econ: Economics, wtp: float) -> tuple[float, float, float, float]:
    """Mean discounted cost, QALY, LY over patients and NMB at ``wtp`` (as ``price``)."""
    q = L.N_ACC_Q
    # contiguous copies: the float result of a matrix product depends on the memory layout
    disc_c = np.ascontiguousarray(acc[:, q:2 * q])
    disc_e = np.ascontiguousarray(acc[:, 2 * q:])
    cost = float((disc_c @ cost_weights(econ)).mean())
    qaly = float((disc_e @ qaly_weights(econ)).mean())
    ly = float((disc_e @ ly_weights()).mean())
    return cost, qaly, ly, wtp * qaly - cost


# ---------------------------------------------------------------------------- checkpoint

def _after_checkpoint(k: int) -> None:
    """Called after draw ``k`` is safely on disk (a seam for tests that interrupt a run)."""


def _row_text(k: int, name: str, values: tuple[float, ...], attempt: int | None = None
              ) -> str:
    # repr() of a float is its shortest exact text: reading it back gives the same bits,
    # so a resumed run continues from exactly what an uninterrupted run held in memory.
    tail = "" if attempt is None else f",{attempt}"
    return f"{k},{name}," + ",".join(repr(v) for v in values) + tail + "\n"


Row = tuple[int, str, tuple[float, ...], int]


def _read_partial(path: Path, strategies: list[str], draws: int) -> list[Row]:
    """Complete draws of a checkpoint file, in order (a torn last draw is dropped)."""
    rows: list[Row] = []
    text = path.read_text()
    lines = text.split("\n")
    if not lines or lines[0] + "\n" != _PARTIAL_HEADER:
        raise OligosimInputError(f"{path}: not a PSA checkpoint (bad header); remove it to "
                                 "start over")
    for line in lines[1:-1]:  # the text after the last newline is a torn line (or empty)
        parts = line.split(",")
        if len(parts) != len(DRAW_COLUMNS) + 1:
            break
        try:
            rows.append((int(parts[0]), parts[1], tuple(float(x) for x in parts[2:-1]),
                         int(parts[-1])))
        except ValueError:
            break
    n_s = len(strategies)
    complete: list[Row] = []
    for k in range(min(len(rows) // n_s, draws)):
        block = rows[k * n_s:(k + 1) * n_s]
        if [r[0] for r in block] != [k] * n_s or [r[1] for r in block] != strategies:
            break
        complete.extend(block)
    return complete


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _atomic_text(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    _atomic_write(path, write)


def write_figures_folder(out: Path, write: Callable[[Path], object]) -> Path:
    """Let ``write(folder)`` fill a temporary folder inside ``out``, then swap it in as
    ``out/figures`` by renames: an existing figures folder is replaced only once the new one
    is complete, and a failure leaves no partial folder behind."""
    fig_dir = out / "figures"
    tmp = Path(tempfile.mkdtemp(prefix=".figures.", dir=out))
    try:
        write(tmp)
        os.chmod(tmp, 0o755)
        replace_folder(tmp, fig_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return fig_dir


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oligosim")
    except PackageNotFoundError:  # pragma: no cover
        return "0.0.0+unknown"


# ------------------------------------------------------------------------------- run_psa

def run_psa(scenario: Scenario, draws: int, n_patients: int | None = None,
            seed: int | None = None, out_dir: str | Path = "out/psa", resume: bool = False,
            jobs: int | None = None, biology: str = "fixed", *,
            parameters: ParameterSet | None = None,
            progress: Callable[[int, int], None] | None = None,
            figures: Callable[[PSAResult, Path], list[Path]] | None = None,
            fsync_seconds: float = 1.0) -> PSAResult:
    """Probabilistic sensitivity analysis of every strategy of ``scenario`` (DESIGN §2.12).

    Parameters
    ----------
    scenario : Scenario
        From :func:`oligosim.load_scenario`; its ``[economics.uncertainty]`` table gives the
        economic distributions, its ``willingness_to_pay_per_qaly`` the NMB threshold.
    draws : int
        Number of PSA draws K (>= 1).
    n_patients, seed : int, optional
        Patients per strategy and root seed (default: the scenario's ``[run]`` values).
    out_dir : path
        Output folder; also holds the checkpoint (``psa_draws.partial.csv``) while running.
    resume : bool
        Continue an interrupted run in ``out_dir`` from its last finished draw (same seed,
        patients, biology and scenario required). Without it, an interrupted run found in
        ``out_dir`` is an error (so no finished draw is thrown away by accident).
    jobs : int, optional
        Numba threads (default: all cores); results do not depend on it.
    biology : {"fixed", "prior", "posterior"}
        ``"fixed"``: the base parameters in every draw; the cohort is simulated once and each
        draw only re-prices it (exactly what simulating every draw would give). ``"prior"``:
        each draw samples every calibratable parameter (those with a prior in
        :mod:`oligosim.params.defaults`) uniformly, or log-uniformly, on its prior range and
        simulates again (a draw the engine cannot hold — capacity overflow — is re-drawn;
        ``psa_parameters.csv`` records the attempt used). ``"posterior"``: each draw takes
        the free parameters of one of the calibration's posterior draws
        (:func:`oligosim.posterior_draws`, resampled with replacement; column
        ``posterior_draw``) on top of the calibrated point and simulates again.
    parameters : ParameterSet, optional
        Base parameters (default :func:`oligosim.default_parameters`); the scenario's
        ``[parameters]`` overrides still apply on top of every draw.
    progress : callable, optional
        Called with (draws done, draws total) after every checkpointed draw.
    figures : callable, optional
        ``figures(result, folder) -> paths`` writes the figures (the CLI passes
        :func:`oligosim.report.psa_figures.write_psa_figures`; the report layer sits above
        this one).
    fsync_seconds : float
        Every finished draw is appended to the checkpoint and flushed to the operating system
        at once (a killed process loses nothing); ``os.fsync`` (which also survives a power
        cut) runs after a draw when this many seconds have passed since the last one, and at
        the end. 0 = fsync every draw (costs ~4 ms a draw on a typical disk).

    Returns
    -------
    PSAResult
        The tables written to ``out_dir`` (psa_draws.csv, psa_parameters.csv, icer.csv,
        ceac.csv, ceaf.csv, evpi.csv, ce_plane.csv, run.json, figures/).
    """
    t_start = time.perf_counter()
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise OligosimInputError("the number of draws must be an integer >= 1", field="draws",
                                 value=draws)
    if biology not in BIOLOGY_MODES:
        raise OligosimInputError("unknown biology mode", field="biology", value=biology,
                                 allowed="'fixed', 'prior', 'posterior'")
    posterior = None
    if biology == "posterior":
        from oligosim.params import posterior_draws

        posterior = posterior_draws()
    n, s = resolve_run_settings(scenario, n_patients, seed)
    if getattr(scenario, "capacity", None) is not None:
        raise OligosimInputError("PSA of a capacity-limited pathway (reference engine) is not "
                                 "supported", field="capacity",
                                 allowed="a scenario without a capacity section")
    threads = _threads(jobs)
    base = parameters if parameters is not None else default_parameters()
    econ0 = scenario.economics
    wtp = float(econ0.willingness_to_pay_per_qaly)
    strategies = [st.name for st in scenario.strategy]
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OligosimInputError(f"{out} exists and is not a folder", field="out",
                                 value=str(out))
    out.mkdir(parents=True, exist_ok=True)
    partial, ckpt = out / PARTIAL, out / CHECKPOINT
    settings = {"scenario_sha256": scenario_hash(scenario), "seed": s, "n_patients": n,
                "biology": biology, "strategies": strategies,
                "base_parameters": base.to_dict()}
    settings = json_safe(settings)  # as stored in JSON (inf -> null), so a reload compares equal

    done_rows: list[Row] = []
    if partial.exists() and not resume:
        raise OligosimInputError(
            f"{out} holds an interrupted PSA ({partial.name}); rerun with --resume to "
            f"continue it, or remove {partial} to start over")
    if resume and partial.exists():
        try:
            old = json.loads(ckpt.read_text())
        except (OSError, ValueError):
            raise OligosimInputError(f"{ckpt}: missing or unreadable; cannot resume — remove "
                                     f"{partial} to start over") from None
        for key, value in settings.items():
            if old.get(key) != value:
                shown = "(differs)" if key in ("base_parameters",) else repr(old.get(key))
                raise OligosimInputError(
                    f"cannot resume: the checkpoint in {out} was made with a different "
                    f"{key} ({shown}); rerun with the same settings, or remove {partial} to "
                    "start over", field=key, value=value if key != "base_parameters" else None)
        done_rows = _read_partial(partial, strategies, draws)
    start = len(done_rows) // len(strategies)
    _atomic_text(ckpt, json.dumps(settings, indent=1))
    # (re)write the checkpoint with only the complete draws, then append to it
    _atomic_text(partial, _PARTIAL_HEADER + "".join(_row_text(k, nm, v, a)
                                                    for k, nm, v, a in done_rows))

    t_sim = 0.0
    t_price = 0.0
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    fixed_accs: list[np.ndarray] | None = None
    try:
        with open(partial, "a") as f:
            last_sync = time.monotonic()
            for k in range(start, draws):
                t0 = time.perf_counter()
                if biology == "fixed":
                    if fixed_accs is None:
                        fixed_accs = _simulate(scenario, base, n, s)
                    accs, attempt = fixed_accs, 0
                else:
                    accs, attempt = _simulate_biology(scenario, base, n, s, k, biology,
                                                      posterior)
                t1 = time.perf_counter()
                econ = econ0.with_values(draw_economics(econ0, s, k))
                text = "".join(_row_text(k, name, _means(acc, econ, wtp), attempt)
                               for name, acc in zip(strategies, accs, strict=True))
                f.write(text)
                f.flush()
                if time.monotonic() - last_sync >= fsync_seconds or k == draws - 1:
                    os.fsync(f.fileno())
                    last_sync = time.monotonic()
                t_sim += t1 - t0
                t_price += time.perf_counter() - t1
                _after_checkpoint(k)
                if progress is not None:
                    progress(k + 1, draws)
            f.flush()
            os.fsync(f.fileno())
    finally:
        numba.set_num_threads(previous)

    # ---- final outputs, each written to a temporary name and renamed
    t_out = time.perf_counter()
    rows = _read_partial(partial, strategies, draws)
    if len(rows) != draws * len(strategies):  # pragma: no cover - defensive
        raise OligosimInputError(f"{partial}: expected {draws} complete draws")
    table = pd.DataFrame([(k, nm, *v) for k, nm, v, _ in rows], columns=list(DRAW_COLUMNS))
    attempts = {k: a for k, _, _, a in rows}
    long = table.rename(columns={"cost_usd": "cost"})
    means = table.groupby("strategy", sort=False)[["cost_usd", "qaly"]].mean()
    icer = incremental_analysis(means["cost_usd"], means["qaly"])
    grid = wtp_grid(wtp)
    ceac_t, ceaf_t, evpi_t = ceac(long, grid), ceaf(long, grid), evpi(long, grid)
    plane = ce_plane(long, strategies[0])
    par_rows = []
    for k in range(draws):
        row: dict[str, float] = {"draw": k, **draw_economics(econ0, s, k)}
        if biology != "fixed":
            row["biology_attempt"] = attempts[k]
            row.update(biology_values(biology, s, k, attempts[k], posterior))
        par_rows.append(row)
    par = pd.DataFrame(par_rows)

    meta = {
        "package": "oligosim", "version": _version(), "command": "psa",
        "scenario": scenario.name, "scenario_sha256": settings["scenario_sha256"],
        "seed": s, "draws": draws, "n_patients": n, "strategies": strategies,
        "biology": biology,
        "biology_note": {
            "fixed": "base parameters in every draw (simulated once, re-priced per draw)",
            "prior": "calibratable parameters sampled from their priors (uniform / "
                     "log-uniform)",
            "posterior": "the calibration's posterior draws shipped in the package, "
                         "resampled with replacement (column posterior_draw)"}[biology],
        "parameter_set": base.name,
        "willingness_to_pay_per_qaly": wtp,
        "wtp_grid": {"from": float(grid[0]), "to": float(grid[-1]), "points": int(grid.size)},
        "uncertainty": {k: v.model_dump() for k, v in sorted(econ0.uncertainty.items())},
        "random_streams": "PSA parameters: Philox4x64-10 keyed by (seed, 0x50534101 economics "
                          "| 0x50534102 biology), counter (parameter index, draw, 0, 0), "
                          "inverse CDF; patients: Philox keyed by (seed, purpose), the same "
                          "for every strategy and draw (DESIGN.md §2.13)",
        "resumed_from_draw": start if resume and start > 0 else None,
        "biology_rejected_draws": sum(attempts.values()),
        "timings_seconds": {"simulate": t_sim, "price": t_price},
        "threads": threads, "python": platform.python_version(), "numpy": np.__version__,
        "numba": numba.__version__,
    }
    result = PSAResult(scenario, strategies, table, par, icer, ceac_t, ceaf_t, evpi_t, plane,
                       wtp, grid, meta, out)

    def csv(name: str, frame: pd.DataFrame) -> None:
        _atomic_write(out / name, lambda p: frame.to_csv(p, index=False))

    _atomic_text(out / "psa_draws.csv",
                 _HEADER + "".join(_row_text(k, nm, v) for k, nm, v, _ in rows))
    csv("psa_parameters.csv", par)
    csv("icer.csv", icer)
    csv("ceac.csv", ceac_t)
    csv("ceaf.csv", ceaf_t)
    csv("evpi.csv", evpi_t)
    csv("ce_plane.csv", plane)
    if figures is not None:
        write_figures_folder(out, lambda folder: figures(result, folder))
    meta["timings_seconds"].update({"outputs": time.perf_counter() - t_out,
                                    "total": time.perf_counter() - t_start})
    _atomic_text(out / "run.json", json.dumps(json_safe(meta), indent=2))
    partial.unlink()
    ckpt.unlink()
    return result
