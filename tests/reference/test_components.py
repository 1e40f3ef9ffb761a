"""The reference engine's building blocks, against the fast engine's, and its independence.

The reference re-implements every piece of simulation logic; it may share only the random
number infrastructure (engine.rng), the layer-0 constants (engine._jit) and the output layout
(engine.layout). These tests check that rule, that the pieces most sensitive to floating
point agree bit for bit, and that traces agree event by event.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas.testing as pdt
import pytest

from oligosim.engine import clock, preexisting, rng
from oligosim.engine._jit import PURPOSE_PREEXISTING
from oligosim.reference.distributions import normal_cdf, normal_quantile
from oligosim.reference.luria import preexisting_resistant_cells
from oligosim.reference.streams import Stream
from oligosim.runner import run_scenario
from tests.conftest import make_scenario

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "oligosim" / "reference"
ALLOWED_ENGINE_MODULES = {"oligosim.engine.rng", "oligosim.engine._jit", "oligosim.engine.layout"}


def test_reference_shares_no_simulation_code() -> None:
    """oligosim/reference imports from oligosim.engine only rng, _jit and layout."""
    bad = []
    for path in sorted(REFERENCE_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.module != "oligosim.engine" else \
                    [f"oligosim.engine.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            bad += [f"{path.name}:{node.lineno} {n}" for n in names
                    if n.startswith("oligosim.engine") and n not in ALLOWED_ENGINE_MODULES]
    assert not bad, "reference imports engine simulation code: " + ", ".join(bad)


def test_normal_quantile_and_cdf_bit_identical() -> None:
    """Φ and Φ⁻¹ equal the fast engine's to the last bit (centre, both tails)."""
    g = np.random.default_rng(1)
    ps = np.concatenate([g.random(20_000), 10.0 ** g.uniform(-300, -1, 5_000),
                         1.0 - 10.0 ** g.uniform(-16, -1, 5_000), [0.0, 1.0, 0.5]])
    for p in ps.tolist():
        assert normal_quantile(p) == clock.norm_ppf(p), p
    for x in g.normal(0.0, 5.0, 20_000).tolist():
        assert normal_cdf(x) == clock.norm_cdf(x), x


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("p_est", [0.3, 1.0])
@pytest.mark.parametrize("lam", [0.5, 12.0, 300.0, 1e5])
def test_luria_delbruck_sampler_bit_identical(rho: float, p_est: float, lam: float) -> None:
    """Pre-existing resistance: same draws, same totals, exact and split paths, any ρ."""
    N = 1e9
    u = lam / N
    seed = 42
    table = rng.new_stream_table(np.array([PURPOSE_PREEXISTING]), np.array([0]))
    for pid in range(40):
        rng.reset_streams(table)
        fast = preexisting.sample_preexisting(table, 0, seed, pid, N, u, rho, p_est)
        ref = preexisting_resistant_cells(Stream(seed, pid, PURPOSE_PREEXISTING), N, u, rho,
                                          p_est)
        assert ref == fast or (math.isnan(ref) and math.isnan(fast)), (pid, fast, ref)


def test_traces_identical(six_strategies: list[dict]) -> None:
    """Trace mode: every event and every scan's lesions agree between the engines."""
    sc = make_scenario(six_strategies, n_patients=8, seed=3)
    fast = run_scenario(sc, n_traced=8, jobs=1)
    ref = run_scenario(sc, engine="reference", n_traced=8)
    assert len(fast.traces) == len(ref.traces) == 8 * len(six_strategies)
    for a, b in zip(fast.traces, ref.traces, strict=True):
        assert (a.strategy, a.patient_id) == (b.strategy, b.patient_id)
        pdt.assert_frame_equal(a.events, b.events)
        pdt.assert_frame_equal(a.scans, b.scans)
    pdt.assert_frame_equal(fast.patients, ref.patients)
