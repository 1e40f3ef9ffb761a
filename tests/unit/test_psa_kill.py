"""`oligosim psa --resume` after a real SIGKILL equals an uninterrupted run (issue 6, §8).

The in-process test in test_psa.py interrupts at a chosen draw; this one kills the command's
process with SIGKILL at whatever point it has reached (after at least a few finished draws)
— no handler runs, buffered output is lost — and resumes it from the command line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "main_comparison.toml"
ARGS = ["psa", str(SCENARIO), "--draws", "300", "--patients", "20", "--seed", "5",
        "--biology", "posterior", "--jobs", "1"]
OUTPUTS = ("psa_draws.csv", "icer.csv", "ceac.csv", "ceaf.csv", "evpi.csv", "ce_plane.csv",
           "psa_parameters.csv")


def _cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "oligosim.cli", *ARGS, "--out", str(out), *extra]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_resume_after_sigkill_equals_uninterrupted_run(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    subprocess.run(_cmd(ref), check=True, capture_output=True, cwd=ROOT)

    out = tmp_path / "killed"
    proc = subprocess.Popen(_cmd(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=ROOT)
    partial = out / "psa_draws.partial.csv"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if partial.exists() and len(partial.read_text().splitlines()) > 1 + 6 * 10:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "psa_draws.csv").exists()

    done = subprocess.run(_cmd(out, "--resume"), capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
