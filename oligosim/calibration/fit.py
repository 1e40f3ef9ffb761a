"""Layer 4: calibration — CMA-ES point estimate, then an MCMC posterior (DESIGN.md §4, §7 P6).

1. **Point estimate.** CMA-ES (the ``cma`` package, Hansen) maximises the weighted synthetic
   log-likelihood of :mod:`oligosim.calibration.objective` on the unit cube of the free
   parameters (:mod:`oligosim.calibration.free`), starting at the literature defaults. CMA-ES
   ranks candidates, so it copes with the steps that scan-date medians put in the objective.
   After the chain (step 2), the point is chosen among the search's estimate and the chain's
   highest distinct positions by their mean log-likelihood on fresh seeds
   (:func:`_choose_point`; the summary's ``point_source`` says which): the highest of some
   50,000 evaluations on one seed is partly that seed's noise.
2. **Posterior.** The ensemble sampler of ``emcee`` (Foreman-Mackey et al.) on the same
   synthetic likelihood with the flat prior of the cube. Its proposals (``moves``) are, by
   default, differential-evolution moves (emcee's ``DEMove`` 80%, ``DESnookerMove`` 20%; ter
   Braak & Vrugt 2008); ``"stretch"`` is emcee's affine-invariant stretch move (Goodman &
   Weare 2010), which the shipped chains before 2026-11-28 used. On a Gaussian stand-in for
   the shipped 28-dimensional posterior (its draws' covariance, condition number ~450)
   the slowest integrated autocorrelation time was ~590 steps with the stretch move and ~90
   with the DE mixture (12,000 steps, 56 walkers), and 600-step windows estimated only ~64
   and ~41: a short chain's emcee estimate, and so its ESS, can be far too optimistic
   (``benchmarks/bench_mcmc_moves.py``). Walkers start around the CMA-ES estimate with its
   final search covariance, or at the draws of an earlier posterior (``walkers_from``:
   continues its exploration where a chain was cut short). The
   first half of the chain is discarded; the draws are spread evenly over the rest.
   Effective sample size from emcee's integrated autocorrelation time; since that estimate
   assumes a stationary chain, the summary also gives the median posterior/prior sd in each
   half of the kept steps (a second half clearly wider than the first: still widening) and
   the draws' median log-likelihood drop below the point against the χ²_d/2 a stationary
   sample of a near-normal posterior would show (:func:`_width_check`).

Both cores: candidates of a CMA-ES generation and walkers of an emcee half-step are scored
in parallel worker processes (one numba thread each). Every evaluation uses the same seed
(common random numbers).

Randomness: CMA-ES's normal deviates come from the package's Philox streams (``randn``
option, keyed by (seed, :data:`PURPOSE_CMA`), counter = call number); emcee's Mersenne
Twister is seeded from Philox words. No ``numpy.random`` in the package.

Resumable: the state is checkpointed after every CMA-ES generation and every MCMC step
(``checkpoint/`` in the work folder, written atomically); ``resume=True`` continues from the
last one and gives the same result as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from oligosim.calibration.free import FREE_PARAMETERS, from_unit, to_unit
from oligosim.calibration.objective import Objective, score
from oligosim.calibration.targets import Target, load_targets
from oligosim.calibration.validate import load_trial_scenarios
from oligosim.engine.rng import normal_at, philox4x64_10
from oligosim.errors import OligosimInputError
from oligosim.params import ParameterSet

__all__ = ["PURPOSE_CMA", "CalibrationConfig", "CalibrationResult", "calibrate",
           "sd_ratio_by_window"]

PURPOSE_CMA = 0x434D4101  # "CMA\x01": CMA-ES normal deviates
PURPOSE_MCMC = 0x4D434D01  # "MCM\x01": emcee's seed and the walkers' start
_INFEASIBLE = 1e9  # CMA-ES objective of a point with zero likelihood (it needs a finite value)
_STATE_FILE = "state.pkl"


@dataclass(frozen=True)
class CalibrationConfig:
    """Settings of one calibration (recorded in ``calibration.json``).

    Defaults are sized for §7 P6 (≤ 30 min on 2 cores): ~1,300 CMA-ES evaluations and
    ~2,300 MCMC evaluations (56 walkers, twice the 28 free parameters) at 400 patients per
    arm.
    """

    n_patients: int = 400
    seed: int = 20261126
    generations: int = 110
    popsize: int = 12
    sigma0: float = 0.15
    walkers: int = 56
    steps: int = 40
    n_draws: int = 200
    workers: int = 2
    validation_seed: int = 20261127
    #: Free-parameter values CMA-ES starts from (e.g. a previous calibration, ``--start``);
    #: None: the literature defaults. Missing names take their literature value.
    start: dict[str, float] | None = None
    #: A posterior-draws CSV (``posterior_draws.csv`` or ``walkers.csv`` of an earlier
    #: calibration) whose rows, picked evenly, start the MCMC walkers (``--walkers-from``);
    #: None: a ball around the point with CMA-ES's final covariance. Continues an earlier
    #: posterior's exploration (``walkers.csv``: from its last ensemble).
    walkers_from: str | None = None
    #: MCMC proposals: ``"de"`` (differential evolution, see the module docstring) or
    #: ``"stretch"``. Every move leaves the posterior invariant, so a resumed chain may
    #: change it (``--resume --moves de`` continues a stretch-move chain with DE moves).
    moves: str = "de"
    #: Seeds the point is chosen on (:func:`_choose_point`): the candidates' mean
    #: log-likelihood over them ranks the candidates. Fresh seeds, not the fit seed (whose
    #: maximum over the chain is partly that seed's noise) nor ``validation_seed`` (kept
    #: independent of every choice, for the report). Six: the difference in one
    #: 400-patient cohort's log-likelihood between the 2026-11-28 and the 2026-12-07 points
    #: had a paired sd of 3.6 units over 7 seeds, so six seeds rank candidates to about 1.5
    #: units (78 evaluations with the 13 default candidates, 1.5 min on 2 cores here).
    selection_seeds: tuple[int, ...] = (20261128, 20261129, 20261130, 20261131, 20261132,
                                        20261133)
    #: Highest distinct chain positions (fit seed) scored on ``selection_seeds`` besides the
    #: search's estimate.
    point_candidates: int = 12

    def check(self) -> None:
        """Raise :class:`OligosimInputError` on an impossible setting."""
        d = len(FREE_PARAMETERS)
        rules: dict[str, tuple[bool, str]] = {
            "n_patients": (self.n_patients >= 10, ">= 10"),
            "seed": (0 <= self.seed < 2**63, "0 <= seed < 2**63"),
            "generations": (self.generations >= 1 or (self.generations == 0
                                                       and self.start is not None),
                            ">= 1 (0 only with a start: the point is then the start)"),
            "popsize": (self.popsize >= 4, ">= 4"),
            "sigma0": (0.0 < self.sigma0 <= 0.5, "in (0, 0.5]"),
            "walkers": (self.walkers >= 2 * d and self.walkers % 2 == 0,
                        f"even and >= {2 * d} (twice the {d} free parameters)"),
            "steps": (self.steps >= 2, ">= 2"),
            "n_draws": (self.n_draws >= 1, ">= 1"),
            "workers": (self.workers >= 1, ">= 1"),
            "moves": (self.moves in MOVES, " or ".join(f'"{m}"' for m in MOVES)),
            "selection_seeds": (len(self.selection_seeds) >= 1
                                and all(0 <= x < 2**63 for x in self.selection_seeds)
                                and self.seed not in self.selection_seeds
                                and self.validation_seed not in self.selection_seeds,
                                "one or more seeds in [0, 2**63), other than the fit seed "
                                "and the validation seed"),
            "point_candidates": (self.point_candidates >= 0, ">= 0"),
        }
        if self.start is not None:
            names = {p.name for p in FREE_PARAMETERS}
            for name, value in self.start.items():
                if name not in names:
                    raise OligosimInputError("calibration start names a parameter that is "
                                             "not free", field="start", value=name,
                                             allowed=", ".join(sorted(names)))
                if not math.isfinite(value):
                    raise OligosimInputError("calibration start value is not finite",
                                             field=f"start.{name}", value=value,
                                             allowed="a finite number")
        for name, (ok, allowed) in rules.items():
            if not ok:
                raise OligosimInputError(f"calibration setting {name} out of range",
                                         field=name, value=getattr(self, name),
                                         allowed=allowed)
        kept = self.walkers * (self.steps - self.steps // 2)
        if self.n_draws > kept:
            raise OligosimInputError(
                "more posterior draws asked for than the chain keeps after burn-in",
                field="n_draws", value=self.n_draws,
                allowed=f"<= walkers x (steps - steps // 2) = {kept}")


@dataclass
class CalibrationResult:
    """What :func:`calibrate` found (also written to the work folder)."""

    point: ParameterSet
    point_unit: npt.NDArray[np.float64]
    point_log_likelihood: float
    draws: pd.DataFrame
    report: pd.DataFrame
    predictive: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# randomness
# ---------------------------------------------------------------------------------------------

class PhiloxNormal:
    """``randn(*shape)`` for CMA-ES from Philox: call ``c`` uses counter (i, c, 0) — the
    sequence depends only on the seed and the call number, which is pickled with CMA-ES."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.calls = 0

    def __call__(self, *shape: int) -> npt.NDArray[np.float64]:
        n = int(np.prod(shape))
        out = np.array([normal_at(self.seed, self.calls, PURPOSE_CMA, 0, i) for i in range(n)])
        self.calls += 1
        return out.reshape(shape)


def _mt19937_state(seed: int) -> tuple[str, npt.NDArray[np.uint32], int, int, float]:
    """A Mersenne Twister state (emcee's generator) filled with Philox words."""
    key = np.empty(624, dtype=np.uint32)
    for j in range(0, 624, 8):
        words = philox4x64_10(np.uint64(j), np.uint64(0), np.uint64(0), np.uint64(0),
                              np.uint64(seed), np.uint64(PURPOSE_MCMC))
        for i, w in enumerate(words):
            if j + 2 * i < 624:
                key[j + 2 * i] = np.uint32(int(w) & 0xFFFFFFFF)
                key[j + 2 * i + 1] = np.uint32(int(w) >> 32)
    return ("MT19937", key, 624, 0, 0.0)


# ---------------------------------------------------------------------------------------------
# parallel evaluation
# ---------------------------------------------------------------------------------------------

_WORKER: Objective | None = None


def _init_worker(n_patients: int, seed: int, scenarios_dir: str | None, jobs: int,
                 targets: list[Target]) -> None:
    global _WORKER
    _WORKER = Objective(n_patients, seed, jobs, scenarios_dir=scenarios_dir, targets=targets)


def _exit_with_parent(parent: int) -> None:
    """Exit this worker once its parent has gone (killed, or its terminal closed): a
    SIGKILLed ``oligosim calibrate`` would otherwise leave its workers behind, each holding
    a compiled model in memory."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _init_pool_worker(parent: int, *args: Any) -> None:
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _init_worker(*args)


def _evaluate(u: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
    """:meth:`Objective.evaluate` of this process's objective."""
    assert _WORKER is not None
    return _WORKER.evaluate(u)


class _Evaluator:
    """Scores batches of points in worker processes (or in-process with one worker)."""

    def __init__(self, config: CalibrationConfig, scenarios_dir: str | None,
                 targets: list[Target]) -> None:
        self.workers = config.workers
        args = (config.n_patients, config.seed, scenarios_dir, 1 if config.workers > 1
                else 2, targets)
        self.pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"),
                                            initializer=_init_pool_worker,
                                            initargs=(os.getpid(), *args))
        else:
            _init_worker(*args)
        self.n_evaluations = 0

    def __call__(self, points: Sequence[npt.NDArray[np.float64]]
                 ) -> list[tuple[float, npt.NDArray[np.float64]]]:
        points = [np.asarray(p, dtype=np.float64) for p in points]
        if self.pool is not None:
            out = list(self.pool.map(_evaluate, points))
        else:
            out = [_evaluate(p) for p in points]
        self.n_evaluations += len(points)
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


class _EmceePool:
    """The ``pool`` emcee maps log-probabilities with: our evaluator, recording each
    proposal's model values so accepted walkers keep theirs (posterior predictive)."""

    def __init__(self, evaluate: _Evaluator) -> None:
        self.evaluate = evaluate
        #: model values of this step's proposals, by the proposal's bytes
        self.proposed: dict[bytes, npt.NDArray[np.float64]] = {}

    def map(self, _fn: Callable[..., Any], points: Any) -> list[float]:
        points = [np.asarray(p, dtype=np.float64) for p in points]
        out = self.evaluate(points)
        self.proposed.update((p.tobytes(), v) for p, (_, v) in zip(points, out, strict=True))
        return [ll for ll, _ in out]


# ---------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------

def _update_elapsed(state: dict[str, Any]) -> None:
    """Set ``elapsed``, the wall time so far, from ``clock``: the elapsed seconds of earlier
    sessions and this session's start."""
    clock = state.get("clock")
    if clock is not None:
        state["elapsed"] = clock[0] + time.perf_counter() - clock[1]


def _save_state(folder: Path, state: dict[str, Any]) -> None:
    """Write the checkpoint atomically, with the wall time so far, so a killed run keeps it."""
    _update_elapsed(state)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (_STATE_FILE + ".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, folder / _STATE_FILE)


#: Settings that may change on --resume: worker processes (results do not depend on them),
#: the chain length and draws kept (a longer chain continues the same one), the MCMC
#: moves (each leaves the posterior invariant, so switching them mid-chain is valid MCMC)
#: and how the point is chosen after the chain (the chain does not depend on it).
_RESUMABLE_CHANGES = ("workers", "steps", "n_draws", "moves", "selection_seeds",
                      "point_candidates")


def _identity(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The settings a checkpoint must share with a resumed run (a setting added after the
    checkpoint was written counts as its default, None)."""
    if config is None:
        return None
    return {"walkers_from": None, **{k: v for k, v in config.items()
                                     if k not in _RESUMABLE_CHANGES}}


#: Target fields that are prose only: editing them does not change the likelihood.
_PROSE_FIELDS = {"citation", "note", "population", "trial"}


def targets_digest(targets: Sequence[Target]) -> str:
    """SHA-256 over every likelihood-relevant field of ``targets``, in order.

    A resumed chain must be scored with the same targets as the steps already taken: a
    changed value, interval, n or weight would otherwise mix two likelihoods in one chain.
    """
    h = hashlib.sha256()
    for t in targets:
        fields = {k: v for k, v in t.model_dump(mode="json").items() if k not in _PROSE_FIELDS}
        h.update(json.dumps(fields, sort_keys=True).encode())
    return h.hexdigest()


def _load_state(folder: Path, config: CalibrationConfig) -> dict[str, Any] | None:
    path = folder / _STATE_FILE
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        state = pickle.load(fh)
    if _identity(state.get("config")) != _identity(asdict(config)):
        raise OligosimInputError(
            "the checkpoint in this folder was made with other calibration settings; resume "
            "with the same settings or start afresh without --resume", file=str(path),
            value=state.get("config"), allowed=str(asdict(config)))
    return state


# ---------------------------------------------------------------------------------------------
# the two stages
# ---------------------------------------------------------------------------------------------

def _run_cma(state: dict[str, Any], config: CalibrationConfig, evaluate: _Evaluator,
             folder: Path, progress: Callable[[str, int, int, float], None] | None) -> None:
    import cma

    if "cma" not in state:
        start = ParameterSet().replace(**config.start) if config.start else ParameterSet()
        x0 = np.clip(to_unit(start), 0.02, 0.98)
        opts = {"bounds": [0.0, 1.0], "popsize": config.popsize, "verbose": -9,
                "randn": PhiloxNormal(config.seed), "maxiter": config.generations,
                "tolfun": 1e-4, "tolx": 1e-4}
        state["cma"] = cma.CMAEvolutionStrategy(x0, config.sigma0, opts)
        state["cma_log"] = []
        state["best"] = (-math.inf, x0, None)
        if config.start:
            # A refit from a good point: the start itself is a candidate, so the point
            # estimate is never worse than where the search began (CMA-ES samples around x0
            # but does not evaluate it).
            ll, values = evaluate([x0])[0]
            state["best"] = (ll, x0, values)
            state["n_evaluations"] = 1
    es = state["cma"]
    while len(state["cma_log"]) < config.generations and not es.stop():
        xs = es.ask()
        out = evaluate(xs)
        lls = [ll for ll, _ in out]
        es.tell(xs, [(-ll if math.isfinite(ll) else _INFEASIBLE) for ll in lls])
        g = int(np.argmax(lls))
        if lls[g] > state["best"][0]:
            state["best"] = (lls[g], np.asarray(xs[g]), out[g][1])
        state["cma_log"].append({"generation": len(state["cma_log"]) + 1,
                                 "best_log_likelihood": float(max(lls)),
                                 "median_log_likelihood": float(np.median(lls)),
                                 "sigma": float(es.sigma),
                                 "overall_best": float(state["best"][0])})
        state["n_evaluations"] = state.get("n_evaluations", 0) + len(xs)
        _save_state(folder, state)
        if progress is not None:
            progress("cma", len(state["cma_log"]), config.generations, state["best"][0])
    if "favourite" not in state and not state["cma_log"]:  # no search: the start is all
        state["favourite"] = state["best"]
    if "favourite" not in state:  # the search distribution's mean, often better than best
        fav = np.clip(np.asarray(es.result.xfavorite), 0.0, 1.0)
        ll, values = evaluate([fav])[0]
        state["favourite"] = (ll, fav, values)
        state["n_evaluations"] = state.get("n_evaluations", 0) + 1
        _save_state(folder, state)


def read_walkers(path: str | Path, walkers: int) -> npt.NDArray[np.float64]:
    """Unit-cube coordinates of ``walkers`` rows of a posterior-draws CSV, spread evenly over
    its rows (the first and the last included), clipped inside the cube.

    Raises :class:`OligosimInputError` naming the file when it is missing, lacks a free
    parameter's column, has fewer rows than walkers, or holds a value outside a prior.
    """
    path = Path(path)
    expected = "a posterior_draws.csv or walkers.csv written by oligosim calibrate"
    if not path.is_file():
        raise OligosimInputError("walkers' start file not found", file=str(path),
                                 field="walkers_from", value=str(path), allowed=expected)
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OligosimInputError(f"walkers' start file is not a CSV table ({exc})",
                                 file=str(path), field="walkers_from",
                                 allowed=expected) from None
    missing = [p.name for p in FREE_PARAMETERS if p.name not in frame.columns]
    if missing:
        raise OligosimInputError("walkers' start file lacks free-parameter columns",
                                 file=str(path), field="columns", value=", ".join(missing),
                                 allowed="one column per free parameter "
                                         "(oligosim.calibration.free)")
    if len(frame) < walkers:
        raise OligosimInputError("walkers' start file has fewer rows than walkers",
                                 file=str(path), field="rows", value=len(frame),
                                 allowed=f">= {walkers} (the walkers)")
    for p in FREE_PARAMETERS:
        col = pd.to_numeric(frame[p.name], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(col) | (col < p.lo) | (col > p.hi)
        if bad.any():
            raise OligosimInputError("walkers' start value outside the prior", file=str(path),
                                     field=p.name, value=frame[p.name].iloc[np.argmax(bad)],
                                     allowed=f"a number in [{p.lo:g}, {p.hi:g}]")
    rows = np.linspace(0, len(frame) - 1, walkers).round().astype(int)
    coords = np.array([to_unit({p.name: float(frame[p.name].iloc[i]) for p in FREE_PARAMETERS})
                       for i in rows])
    return np.clip(coords, 0.001, 0.999)


def _initial_walkers(state: dict[str, Any], config: CalibrationConfig
                     ) -> npt.NDArray[np.float64]:
    """Walkers around the point estimate: Normal with CMA-ES's final covariance (its scale
    at most 0.05 per coordinate), clipped inside the cube; or, with ``walkers_from``, the
    rows of an earlier posterior sample."""
    if config.walkers_from is not None:
        return read_walkers(config.walkers_from, config.walkers)
    es = state["cma"]
    centre = state["point"][1]
    d = centre.size
    cov = es.sigma**2 * np.asarray(es.sm.covariance_matrix)
    sd = np.sqrt(np.diag(cov))
    shrink = np.minimum(1.0, 0.05 / np.maximum(sd, 1e-12))
    cov = cov * np.outer(shrink, shrink) + np.eye(d) * 1e-6
    chol = np.linalg.cholesky(cov)
    z = np.array([[normal_at(config.seed, w, PURPOSE_MCMC, 1, i) for i in range(d)]
                  for w in range(config.walkers)])
    return np.clip(centre + z @ chol.T, 0.001, 0.999)


#: The MCMC proposal choices of :attr:`CalibrationConfig.moves`.
MOVES = ("de", "stretch")


def _emcee_moves(name: str) -> Any:
    """emcee moves for :attr:`CalibrationConfig.moves` (weights as emcee's docs suggest)."""
    import emcee

    if name == "stretch":
        return emcee.moves.StretchMove()
    return [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]


def _run_mcmc(state: dict[str, Any], config: CalibrationConfig, evaluate: _Evaluator,
              folder: Path, progress: Callable[[str, int, int, float], None] | None) -> None:
    import emcee

    d = len(FREE_PARAMETERS)
    if "mcmc" not in state:
        p0 = _initial_walkers(state, config)
        out = evaluate(list(p0))
        state["mcmc"] = {
            "coords": p0, "log_prob": np.array([ll for ll, _ in out]),
            "values": np.array([v for _, v in out]),
            "random_state": _mt19937_state(config.seed),
            "chain": [], "log_prob_chain": [], "values_chain": [],
        }
        state["n_evaluations"] = state.get("n_evaluations", 0) + config.walkers
        _save_state(folder, state)
    m = state["mcmc"]
    # which moves made which steps: [first step (1-based), moves]; a checkpoint written
    # before the option existed was made with the stretch move
    log = m.setdefault("moves_log", [[1, "stretch"]] if m["chain"] else [])
    if len(m["chain"]) < config.steps and (not log or log[-1][1] != config.moves):
        log.append([len(m["chain"]) + 1, config.moves])
    pool = _EmceePool(evaluate)
    sampler = emcee.EnsembleSampler(config.walkers, d, lambda u: 0.0, pool=pool,
                                    moves=_emcee_moves(config.moves))
    while len(m["chain"]) < config.steps:
        sampler.random_state = m["random_state"]
        start = emcee.State(m["coords"], log_prob=m["log_prob"],
                            random_state=m["random_state"])
        before = evaluate.n_evaluations
        new = sampler.run_mcmc(start, 1, store=False)
        state["n_evaluations"] = state.get("n_evaluations", 0) + evaluate.n_evaluations - before
        moved = np.any(new.coords != m["coords"], axis=1)
        values = m["values"].copy()
        for w in np.flatnonzero(moved):
            values[w] = pool.proposed[np.asarray(new.coords[w], dtype=np.float64).tobytes()]
        m.update(coords=np.array(new.coords), log_prob=np.array(new.log_prob), values=values,
                 random_state=sampler.random_state)
        m["chain"].append(m["coords"].copy())
        m["log_prob_chain"].append(m["log_prob"].copy())
        m["values_chain"].append(values)
        pool.proposed.clear()
        _save_state(folder, state)
        if progress is not None:
            progress("mcmc", len(m["chain"]), config.steps, float(np.max(m["log_prob"])))


# ---------------------------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------------------------

def _effective_sample_size(chain: npt.NDArray[np.float64]
                           ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per-parameter ESS of a (steps, walkers, d) chain from emcee's integrated
    autocorrelation time τ, and τ itself (NaN for a parameter no two walkers moved in).

    emcee trusts τ only from a chain of at least 50 τ and otherwise warns once per parameter;
    ``tol=0`` turns that check off, and the caller reports the chain's length in units of τ
    instead (``autocorrelation_times_in_kept_steps``): a short chain under-states τ, so its
    ESS is an upper bound.

    A walker that made no move in the kept steps has no autocorrelation (0/0 in emcee's
    normalisation): it is left out of that parameter's estimate, and the ESS counts the
    walkers that were used.
    """
    import emcee

    steps, _walkers, d = chain.shape
    ess, taus = np.full(d, np.nan), np.full(d, np.nan)
    for j in range(d):
        x = chain[:, :, j]
        moving = np.ptp(x, axis=0) > 0.0
        if moving.sum() < 2:
            continue
        taus[j] = float(emcee.autocorr.integrated_time(x[:, moving, None], tol=0)[0])
        ess[j] = steps * int(moving.sum()) / max(taus[j], 1.0)
    return ess, taus


def _steps_over_tau(steps: int, tau: npt.NDArray[np.float64]) -> float:
    """``steps`` in units of the longest finite positive τ (NaN if there is none)."""
    ok = tau[np.isfinite(tau) & (tau > 0.0)]
    return float(steps / ok.max()) if ok.size else math.nan


def _width_check(point_ll: float, kept_lp: npt.NDArray[np.float64], d: int
                 ) -> dict[str, float]:
    """Is the sample as wide as the likelihood's curvature says it should be?

    ASSUMPTION (a check, not part of the fit): near its maximum the posterior is close to a
    d-dimensional normal, so ``2 (ll_max - ll)`` of a posterior draw is χ²_d and the median
    drop is ``χ²_d median / 2`` (≈ 13.7 for d = 28). A sample whose median drop is smaller
    sits too close to the maximum: if its spread is ``c`` times the posterior's in every
    direction, the drop scales by ``c²``, so ``implied_width_factor = sqrt(observed /
    expected)`` estimates ``c`` (1 at stationarity; parameters truncated at a prior edge
    still add χ²_1 each). The highest fit-seed log-likelihood of the search and the chain
    stands in for the maximum (the point, chosen on other seeds, may score lower on this
    one), so a higher maximum somewhere would make ``c`` smaller still. Where the
    likelihood is flatter than normal (ridges and plateaus of a synthetic likelihood) a
    wider sample costs less than this assumes, so ``c`` then overstates how close the
    sample is to the posterior's width: read it with ``sd_ratio_median_kept_halves``, which
    shows a chain still widening.
    """
    from scipy.stats import chi2

    finite = kept_lp[np.isfinite(kept_lp)]
    observed = float(np.median(point_ll - finite)) if finite.size else math.nan
    expected = float(chi2.median(d) / 2.0)
    factor = math.sqrt(observed / expected) if observed > 0.0 else math.nan
    return {"median_observed": observed, "median_expected_if_stationary": expected,
            "implied_width_factor": factor}


#: Steps per window of the stationarity trace (fewer for a chain shorter than four windows).
SD_RATIO_WINDOW_STEPS = 40


def _median_sd_ratio(steps: npt.NDArray[np.float64]) -> float:
    """Median over parameters of the posterior/prior sd of a (steps, walkers, d) stretch of
    chain in unit coordinates (every prior's sd there is 1/sqrt(12))."""
    return float(np.median(steps.reshape(-1, steps.shape[2]).std(axis=0) * math.sqrt(12.0)))


def sd_ratio_by_window(chain: npt.NDArray[np.float64], window: int | None = None
                       ) -> dict[str, Any]:
    """Median over parameters of posterior/prior sd in consecutive windows of the chain.

    ``chain`` is (steps, walkers, d) in unit coordinates, where every prior has sd
    ``1/sqrt(12)``. A chain still widening (or narrowing) shows a trend across the windows;
    a stationary one a flat trace. Burn-in is included on purpose: the trace shows where the
    width levelled off, which tells whether the kept half (the second) is stationary.
    ``window`` defaults to :data:`SD_RATIO_WINDOW_STEPS`, or a quarter of a shorter chain;
    a last partial window is dropped.
    """
    steps = chain.shape[0]
    w = window if window is not None else max(1, min(SD_RATIO_WINDOW_STEPS, steps // 4))
    starts = list(range(0, steps - w + 1, w))
    ratios = [_median_sd_ratio(chain[a:a + w]) for a in starts]
    return {"window_steps": w, "first_step": [a + 1 for a in starts], "median_ratio": ratios}


def _posterior(state: dict[str, Any], config: CalibrationConfig, fit_max: float
               ) -> tuple[pd.DataFrame, npt.NDArray[np.float64], dict[str, Any]]:
    """Draws, their target values and the chain's summary; ``fit_max`` is the highest
    fit-seed log-likelihood of the search and the chain (the width check's maximum)."""
    m = state["mcmc"]
    steps = config.steps
    chain = np.array(m["chain"][:steps])         # (steps, walkers, d)
    lp = np.array(m["log_prob_chain"][:steps])   # (steps, walkers)
    vals = np.array(m["values_chain"][:steps])   # (steps, walkers, n_targets)
    burn = config.steps // 2
    kept, kept_lp, kept_vals = chain[burn:], lp[burn:], vals[burn:]
    flat = kept.reshape(-1, chain.shape[2])
    flat_lp = kept_lp.reshape(-1)
    flat_vals = kept_vals.reshape(-1, vals.shape[2])
    pick = np.unique(np.linspace(0, flat.shape[0] - 1, config.n_draws).round().astype(int))
    rows = []
    for k, i in enumerate(pick):
        row = {"draw": k, "log_likelihood": float(flat_lp[i])}
        row.update(from_unit(flat[i]))
        rows.append(row)
    draws = pd.DataFrame(rows)
    ess, tau = _effective_sample_size(kept)
    sd_unit = flat.std(axis=0)
    prior_sd = 1.0 / math.sqrt(12.0)
    ident = sorted(((float(sd_unit[j] / prior_sd), p.name)
                    for j, p in enumerate(FREE_PARAMETERS)))
    accept = float(np.mean(np.any(np.diff(chain, axis=0) != 0.0, axis=2)))
    width = _width_check(fit_max, flat_lp, chain.shape[2])
    half = kept.shape[0] // 2
    halves = ([_median_sd_ratio(kept[:half]), _median_sd_ratio(kept[half:])] if half >= 1
              else [math.nan, math.nan])
    summary = {
        "effective_sample_size": {p.name: float(ess[j]) for j, p in enumerate(FREE_PARAMETERS)},
        "effective_sample_size_min": float(ess.min()),
        # the kept steps in units of the longest τ: emcee trusts τ from 50 on; below it τ
        # is under-stated and the ESS over-stated (NaN when no τ could be estimated, or a
        # chain of a step or two gives none above 0)
        "autocorrelation_times_in_kept_steps": _steps_over_tau(kept.shape[0], tau),
        "acceptance_fraction": accept,
        "posterior_sd_over_prior_sd": {name: r for r, name in ident},
        "sd_ratio_median_kept_halves": halves,
        "sd_ratio_by_window": sd_ratio_by_window(chain),
        "moves_by_step": [list(x) for x in m.get("moves_log", [])],
        "log_likelihood_drop": width,
        "most_identified": [name for _, name in ident[:3]],
        "least_identified": [name for _, name in ident[-3:]],
    }
    return draws, flat_vals[pick], summary


def _point_candidates(state: dict[str, Any], steps: int, k: int
                      ) -> list[tuple[tuple[Any, ...], str]]:
    """The search's estimate (or the start) and the ``k`` highest distinct positions of the
    chain's first ``steps`` steps by fit-seed log-likelihood, highest first; a walker that
    did not move repeats its position and counts once. Each is ``((log-likelihood, unit
    coordinates, target values), source)``, source ``"search"`` or ``"chain step s, walker
    w"`` (1-based step, the first step the position was held)."""
    out: list[tuple[tuple[Any, ...], str]] = [(state["point"], "search")]
    m = state.get("mcmc")
    if not m or not m["log_prob_chain"] or k == 0:
        return out
    lp = np.asarray(m["log_prob_chain"][:steps])
    seen = {np.asarray(state["point"][1], dtype=np.float64).tobytes()}
    # stable sort on -lp: among equal log-likelihoods the earliest step and walker first
    for flat in np.argsort(-lp, axis=None, kind="stable"):
        s, w = np.unravel_index(int(flat), lp.shape)
        if not np.isfinite(lp[s, w]):
            break
        u = np.asarray(m["chain"][s][w], dtype=np.float64)
        if u.tobytes() in seen:
            continue
        seen.add(u.tobytes())
        out.append(((float(lp[s, w]), u, np.asarray(m["values_chain"][s][w])),
                    f"chain step {s + 1}, walker {w}"))
        if len(out) == k + 1:
            break
    return out


def _choose_point(candidates: Sequence[tuple[tuple[Any, ...], str]],
                  score_at: Callable[[npt.NDArray[np.float64]], Sequence[float]]
                  ) -> tuple[tuple[Any, ...], str, list[dict[str, Any]]]:
    """The point estimate: the candidate (:func:`_point_candidates`) with the highest mean
    log-likelihood over the selection seeds; a tie keeps the earlier candidate (the
    search's estimate first).

    Why not the highest fit-seed log-likelihood: every evaluation uses the fit seed's
    patients, and the highest of tens of thousands of evaluations is partly that seed's
    noise. In the 2026-11-28 calibration the chain's fit-seed best beat its start by 1.8
    units there (-117.4 vs -119.2) but lost by 2.2 on the validation seed (-131.0 vs
    -128.8). Fresh seeds rank the candidates without that selection bias (ASSUMPTION: a
    mean over a few 400-patient cohorts ranks them well enough; the ranking's own noise is
    smaller than the fit seed's bias but not nil).

    ``score_at(u)`` gives ``u``'s log-likelihood on each selection seed. Returns the chosen
    ``(fit-seed log-likelihood, unit coordinates, fit-seed target values)``, its source and
    one record per candidate (source, fit-seed and per-seed log-likelihoods, their mean,
    whether chosen)."""
    table: list[dict[str, Any]] = []
    best = -1
    for i, (cand, source) in enumerate(candidates):
        lls = [float(x) for x in score_at(np.asarray(cand[1], dtype=np.float64))]
        mean = float(np.mean(lls))
        table.append({"source": source, "log_likelihood_fit_seed": float(cand[0]),
                      "log_likelihood_selection_seeds": lls,
                      "log_likelihood_selection_mean": mean, "chosen": False})
        if best < 0 or mean > table[best]["log_likelihood_selection_mean"]:
            best = i
    table[best]["chosen"] = True
    return candidates[best][0], candidates[best][1], table


def _predictive(report: pd.DataFrame, values: npt.NDArray[np.float64]) -> pd.DataFrame:
    """Posterior-predictive 2.5/50/97.5% of every target's model value over the draws."""
    with np.errstate(all="ignore"):
        finite = np.isfinite(values)
        q = np.full((values.shape[1], 3), np.nan)
        for j in range(values.shape[1]):
            v = values[finite[:, j], j]
            if v.size:
                q[j] = np.quantile(v, [0.025, 0.5, 0.975])
    out = report[["target_id", "trial", "arm", "endpoint", "published", "lo", "hi",
                  "weight"]].copy()
    out["predictive_lo"], out["predictive_median"], out["predictive_hi"] = q.T
    out["n_draws_estimable"] = finite.sum(axis=0)
    out["within_predictive"] = ((out["predictive_lo"] <= out["hi"])
                                & (out["predictive_hi"] >= out["lo"]))
    return out


# ---------------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------------

def calibrate(out: str | Path, config: CalibrationConfig | None = None, *,
              resume: bool = False, scenarios_dir: str | Path | None = None,
              targets: Sequence[Target] | None = None,
              progress: Callable[[str, int, int, float], None] | None = None
              ) -> CalibrationResult:
    """Fit the free parameters to every target and sample their posterior.

    Parameters
    ----------
    out : path
        The parameter file to write (JSON: the calibrated point, its sources and the
        run's metadata). Next to it, the folder ``<stem>_calibration/`` receives
        ``posterior_draws.csv``, ``report.csv`` (validation at the point, lifelines
        estimators), ``predictive.csv`` (posterior-predictive interval of every target),
        ``cma_log.csv``, ``walkers.csv`` (the walkers at the last kept step: ``walkers_from``
        continues the chain's ensemble from there) and ``checkpoint/``.
    config : CalibrationConfig, optional
        Budget and seeds (defaults sized for §7 P6).
    resume : bool
        Continue from the checkpoint in the work folder (same settings required, except
        ``workers``, and ``steps``/``n_draws``: a larger ``steps`` extends the same chain,
        exactly as an uninterrupted run with that many steps). Without it, an existing
        checkpoint is discarded.
    scenarios_dir : path, optional
        Where the trial scenarios are (see :func:`~oligosim.calibration.validate.
        find_trials_dir`).
    targets : sequence of Target, optional
        Default: every target of the package (:func:`~oligosim.calibration.targets.
        load_targets`).
    progress : callable, optional
        ``progress(stage, done, total, best_log_likelihood)`` after every generation/step.

    Returns
    -------
    CalibrationResult
    """
    config = config or CalibrationConfig()
    config.check()
    out = Path(out)
    if out.suffix.lower() != ".json":
        raise OligosimInputError("the calibrated parameter file is written as JSON",
                                 file=str(out), field="out", value=out.name,
                                 allowed="a file name ending in .json")
    work = out.with_name(out.stem + "_calibration")
    folder = work / "checkpoint"
    if not resume and folder.exists():
        shutil.rmtree(folder)
    targets = list(load_targets() if targets is None else targets)
    load_trial_scenarios(targets, scenarios_dir)  # bad input fails here, not in a worker
    ids = [t.id for t in targets]
    state = _load_state(folder, config) if resume else None
    digest = targets_digest(targets)
    if state is not None and (state.get("target_ids") != ids
                              or state.get("targets_digest", digest) != digest):
        # checkpoints written before the digest existed are checked on the ids only
        raise OligosimInputError("the checkpoint in this folder was made with other targets "
                                 "(ids, values, intervals, n or weights differ); resume with "
                                 "the same targets file (--targets) or start afresh",
                                 file=str(folder / _STATE_FILE))
    state = state or {"config": asdict(config), "target_ids": ids, "started": time.time(),
                      "elapsed": 0.0}
    if config.walkers_from is not None and "mcmc" not in state:
        read_walkers(config.walkers_from, config.walkers)  # bad input fails before the search
    state["targets_digest"] = digest
    state["config"] = asdict(config)
    state["clock"] = (float(state.get("elapsed", 0.0)), time.perf_counter())
    sdir = None if scenarios_dir is None else str(scenarios_dir)
    evaluate = _Evaluator(config, sdir, targets)
    try:
        _run_cma(state, config, evaluate, folder, progress)
        best, fav = state["best"], state["favourite"]
        state["point"] = fav if fav[0] >= best[0] else best
        _run_mcmc(state, config, evaluate, folder, progress)
    finally:
        evaluate.close()
        _update_elapsed(state)
        if folder.exists():
            _save_state(folder, state)
    finish_t0 = time.perf_counter()  # choosing the point, the posterior and the report
    # the width check's maximum: the search's and the chain's, whatever the candidates
    fit_max = max(float(state["point"][0]),
                  float(np.max(state["mcmc"]["log_prob_chain"][:config.steps])))
    candidates = _point_candidates(state, config.steps, config.point_candidates)
    selection = [Objective(config.n_patients, s, jobs=None, scenarios_dir=scenarios_dir,
                           targets=targets) for s in config.selection_seeds]
    state["point"], point_source, point_table = _choose_point(
        candidates, lambda u: [o(u) for o in selection])
    ll_point, u_point, _ = state["point"]
    point = ParameterSet().replace(name="calibrated", **from_unit(u_point))
    draws, draw_values, summary = _posterior(state, config, fit_max)
    last = np.asarray(state["mcmc"]["chain"][config.steps - 1])
    last_lp = np.asarray(state["mcmc"]["log_prob_chain"][config.steps - 1])
    walkers = pd.DataFrame([{"walker": w, "log_likelihood": float(last_lp[w]),
                             **from_unit(last[w])} for w in range(last.shape[0])])
    objective = Objective(config.n_patients, config.validation_seed, jobs=None,
                          scenarios_dir=scenarios_dir, targets=targets)
    report = objective.report(u_point, fast=False)
    predictive = _predictive(report, draw_values)
    summary.update({
        "point_log_likelihood": float(ll_point),
        "point_source": point_source,
        "point_log_likelihood_selection_seeds": next(
            row["log_likelihood_selection_mean"] for row in point_table if row["chosen"]),
        "point_candidates": point_table,
        "point_log_likelihood_validation_seed": score(report),
        "literature_log_likelihood_validation_seed": score(objective.report(
            to_unit(ParameterSet()), fast=True)),
        "n_evaluations": int(state.get("n_evaluations", 0)),
        "wall_seconds": float(state["elapsed"]),
        "cma_generations": len(state["cma_log"]),
        "targets_within": int(report["within"].sum()),
        "targets_computable": int(report["model"].notna().sum()),
    })
    # wall_seconds is the search and the chain (summed over resumes); this is the rest of
    # the last call, so the two add up to the command's wall time for §7 P6
    summary["finish_wall_seconds"] = time.perf_counter() - finish_t0
    _write_outputs(out, work, config, point, u_point, draws, report, predictive, summary,
                   pd.DataFrame(state["cma_log"]), walkers)
    return CalibrationResult(point, u_point, float(ll_point), draws, report, predictive,
                             summary)


def _write_outputs(out: Path, work: Path, config: CalibrationConfig, point: ParameterSet,
                   u_point: npt.NDArray[np.float64], draws: pd.DataFrame,
                   report: pd.DataFrame, predictive: pd.DataFrame, summary: dict[str, Any],
                   cma_log: pd.DataFrame, walkers: pd.DataFrame) -> None:
    from importlib.metadata import PackageNotFoundError, version

    from oligosim.runner import json_safe

    try:
        __version__ = version("oligosim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        __version__ = "0.0.0+unknown"

    work.mkdir(parents=True, exist_ok=True)
    free = {p.name: {"value": point[p.name], "prior": [p.lo, p.hi],
                     "prior_scale": "log-uniform" if p.log else "uniform",
                     "reason": p.reason} for p in FREE_PARAMETERS}
    doc = {"name": "calibrated", "oligosim_version": __version__,
           "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "method": "CMA-ES (cma) point estimate; emcee ensemble MCMC posterior on a "
                     "common-random-numbers synthetic likelihood (DESIGN.md §4)",
           "config": asdict(config), "summary": summary, "free_parameters": free,
           "unit_coordinates": [float(x) for x in u_point]}
    for name, frame in (("posterior_draws.csv", draws), ("report.csv", report),
                        ("predictive.csv", predictive), ("cma_log.csv", cma_log),
                        ("walkers.csv", walkers)):
        tmp = work / (name + ".tmp")
        frame.to_csv(tmp, index=False)
        os.replace(tmp, work / name)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(json_safe(doc), indent=2) + "\n")
    os.replace(tmp, out)
