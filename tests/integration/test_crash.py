"""Crash safety: SIGKILL the engine at random moments; every execution still completes, and
only steps that were in flight at a kill run again (at most one per execution per kill). The
same holds for a code workflow and for the equivalent state machine."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP = Path(__file__).with_name("crash_app.py")
EXPECTED = sum(range(10))


def _lines(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["code", "asl"])
def test_sigkill_at_random_moments_loses_nothing_and_reruns_only_in_flight_steps(
    tmp_path: Path, mode: str
) -> None:
    db, log, results = tmp_path / "crash.db", tmp_path / "steps.log", tmp_path / "results.json"
    rng = random.Random()
    cmd = [sys.executable, str(APP), str(db), str(log), str(results), mode]
    kills = 0
    deadline = time.monotonic() + 120
    while kills < 6 and time.monotonic() < deadline:
        before = len(_lines(log))
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        # wait until this run has made progress, then kill it at a random moment
        while len(_lines(log)) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.25))
        if proc.poll() is not None:
            break  # it finished before we could kill it: the rest of the run has no kills
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
    assert kills >= 5, "the workload finished too fast to be killed five times"
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr[-3000:]

    assert json.loads(results.read_text()) == [EXPECTED] * 50
    counts = collections.Counter(_lines(log))
    for i in range(50):
        for step in range(10):
            assert counts[f"e{i}:{step}"] >= 1, f"e{i}:{step} never ran"
        reruns = sum(counts[f"e{i}:{step}"] - 1 for step in range(10))
        assert reruns <= kills, f"e{i} re-ran {reruns} steps over {kills} kills"
    assert set(counts) == {f"e{i}:{s}" for i in range(50) for s in range(10)}
    # the kills landed mid-run: some steps were in flight and ran again
    print(f"kills={kills} reruns={sum(counts.values()) - 500}")
