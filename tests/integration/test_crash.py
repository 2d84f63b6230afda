"""Crash safety: SIGKILL the engine at random moments; every execution still completes, and
only steps that were in flight at a kill run again (at most one per execution per kill). The
same holds for a code workflow and for the equivalent state machine.

A kill lands once a run has logged a random number of step lines (progress, not wall time),
and the app cannot finish until the test opens its gate after the last kill: the kills land
mid-run on a fast machine and on a busy one alike."""

from __future__ import annotations

import asyncio
import collections
import json
import random
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.processes import Processes

APP = Path(__file__).with_name("crash_app.py")
EXPECTED = sum(range(10))
KILLS = 6


def _lines(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


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
    kills = 0
    for _ in range(KILLS):
        # every run logs at least one line per execution (50) before the gate stops it
        due = len(_lines(log)) + rng.randint(1, 40)
        proc = processes.spawn("run", cmd, env=env)

        async def progressed(proc: subprocess.Popen[bytes] = proc, due: int = due) -> bool:
            if proc.poll() is not None:
                pytest.fail(f"the app exited before its kill:\n{processes.log_of(proc)}")
            return len(_lines(log)) >= due

        await wait_for(progressed, limit=60)
        # then a random moment later: where the kill lands, not whether the test passes
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        processes.kill(proc)
        kills += 1
    assert kills >= 5, "the workload finished too fast to be killed five times"
    gate.touch()
    final = processes.spawn("final", cmd, env=env)

    async def finished() -> bool:
        return final.poll() is not None

    await wait_for(finished, limit=120)
    assert final.returncode == 0, processes.log_of(final)

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
