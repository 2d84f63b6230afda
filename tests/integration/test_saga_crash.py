"""A saga under SIGKILL: an order's third step fails for good, so its two compensations run
in reverse order; the engine is killed at random moments meanwhile. Every execution still ends
FAILED with the step's error, each compensation is recorded exactly once and after the failure,
in reverse order, and every effect (keyed by the step's idempotency key) happened once."""

from __future__ import annotations

import collections
import json
import random
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.processes import Processes, lines_of

APP = Path(__file__).with_name("saga_crash_app.py")
KILLS = 4
ORDER = ["reserve", "charge", "ship", "refund", "release"]


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_saga_compensations_run_in_reverse_exactly_once_across_sigkills(
    tmp_path: Path,
    seed: int,
    processes: Processes,
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    db, log, effects = tmp_path / "saga.db", tmp_path / "steps.log", tmp_path / "effects"
    results, gate = tmp_path / "results.json", tmp_path / "gate"
    rng = random.Random(seed)
    cmd = [sys.executable, str(APP), str(db), str(log), str(effects), str(results)]
    env = {"CRASH_GATE": str(gate)}
    kills = await processes.kill_on_progress(
        cmd, env, runs=KILLS, progress=log, most_lines=15, rng=rng, wait_for=wait_for
    )
    gate.touch()
    final = processes.spawn("final", cmd, env=env)

    async def finished() -> bool:
        return final.poll() is not None

    await wait_for(finished, limit=120)
    assert final.returncode == 0, processes.log_of(final)
    assert json.loads(results.read_text()) == ["FAILED NonRetryableError"] * 20

    # each effect once, in saga order: forward steps, the failure, then the undos reversed
    done = lines_of(effects / "order.log")
    assert len(done) == len(set(done)) == 20 * len(ORDER)
    for i in range(20):
        assert [line.split(":")[1] for line in done if line.startswith(f"e{i}:")] == ORDER
    # at least once underneath: only steps in flight at a kill ran again
    counts = collections.Counter(lines_of(log))
    reruns = sum(counts.values()) - 20 * len(ORDER)
    assert reruns <= kills * 20
    # the history records each compensation once, after the failure
    with sqlite3.connect(db) as conn:
        for i in range(20):
            rows = conn.execute(
                "SELECT type, name FROM history WHERE execution_id = ? ORDER BY seq", (f"e{i}",)
            ).fetchall()
            completed = [n.rsplit(".", 1)[-1] for t, n in rows if t == "StepCompleted"]
            assert completed == ["reserve", "charge", "refund", "release"], rows
            kinds = [t for t, _ in rows]
            assert kinds.count("CompensationStarted") == kinds.count("CompensationCompleted") == 1
            assert kinds.index("StepFailed") < kinds.index("CompensationStarted")
    print(f"kills={kills} reruns={reruns}")
