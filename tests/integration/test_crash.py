"""Crash safety: SIGKILL the engine at random moments; every execution still completes, and
only steps that were in flight at a kill run again (at most one per execution per kill). The
same holds for a code workflow and for the equivalent state machine.

A kill lands once a run has logged a random number of step lines (progress, not wall time),
and the app cannot finish until the test opens its gate after the last kill: the kills land
mid-run on a fast machine and on a busy one alike."""

from __future__ import annotations

import collections
import json
import random
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.processes import Processes, lines_of

APP = Path(__file__).with_name("crash_app.py")
EXPECTED = sum(range(10))
KILLS = 6


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["code", "asl"])
async def test_sigkill_at_random_moments_loses_nothing_and_reruns_only_in_flight_steps(
    tmp_path: Path,
    mode: str,
    seed: int,
    processes: Processes,
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    db, log, results = tmp_path / "crash.db", tmp_path / "steps.log", tmp_path / "results.json"
    gate = tmp_path / "gate"
    rng = random.Random(seed)
    cmd = [sys.executable, str(APP), str(db), str(log), str(results), mode]
    env = {"CRASH_GATE": str(gate)}
    # every run logs at least one line per execution (50) before the gate stops it
    kills = await processes.kill_on_progress(
        cmd, env, runs=KILLS, progress=log, most_lines=40, rng=rng, wait_for=wait_for
    )
    assert kills >= 5, "the workload finished too fast to be killed five times"
    gate.touch()
    final = processes.spawn("final", cmd, env=env)

    async def finished() -> bool:
        return final.poll() is not None

    await wait_for(finished, limit=120)
    assert final.returncode == 0, processes.log_of(final)

    assert json.loads(results.read_text()) == [EXPECTED] * 50
    counts = collections.Counter(lines_of(log))
    for i in range(50):
        for step in range(10):
            assert counts[f"e{i}:{step}"] >= 1, f"e{i}:{step} never ran"
        reruns = sum(counts[f"e{i}:{step}"] - 1 for step in range(10))
        assert reruns <= kills, f"e{i} re-ran {reruns} steps over {kills} kills"
    assert set(counts) == {f"e{i}:{s}" for i in range(50) for s in range(10)}
    # the kills landed mid-run: some steps were in flight and ran again
    print(f"kills={kills} reruns={sum(counts.values()) - 500}")
