"""A saga under SIGKILL: an order's third step fails for good, so its two compensations run
in reverse order; the engine is killed at random moments meanwhile. Every execution still ends
FAILED with the step's error, each compensation is recorded exactly once and after the failure,
in reverse order, and every effect (keyed by the step's idempotency key) happened once."""

from __future__ import annotations

import collections
import json
import random
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import legato
from legato.core.events import (
    CompensationCompleted,
    CompensationStarted,
    StepCompleted,
    StepFailed,
)
from tests.conftest import of_type
from tests.processes import Processes, lines_of

APP = Path(__file__).with_name("saga_crash_app.py")
KILLS = 4
ORDER = ["reserve", "charge", "ship", "refund", "release"]


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_saga_compensations_run_in_reverse_exactly_once_across_sigkills(
    tmp_path: Path,
    any_db_url: str,
    seed: int,
    processes: Processes,
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    log, effects = tmp_path / "steps.log", tmp_path / "effects"
    results, gate = tmp_path / "results.json", tmp_path / "gate"
    rng = random.Random(seed)
    cmd = [sys.executable, str(APP), any_db_url, str(log), str(effects), str(results)]
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
    records = [p.read_text().split(" ", 1) for p in effects.iterdir() if not p.name.startswith(".")]
    done = [what for _, what in sorted(records, key=lambda r: int(r[0]))]
    assert len(done) == len(set(done)) == 20 * len(ORDER)
    for i in range(20):
        assert [line.split(":")[1] for line in done if line.startswith(f"e{i}:")] == ORDER
    # at least once underneath: only steps in flight at a kill ran again
    counts = collections.Counter(lines_of(log))
    reruns = sum(counts.values()) - 20 * len(ORDER)
    assert reruns <= kills * 20
    # the history records each compensation once, after the failure
    reader = legato.App(any_db_url)
    try:
        for i in range(20):
            history = await reader.get_handle(f"e{i}").history()
            completed = [e.name.rsplit(".", 1)[-1] for e in of_type(history, StepCompleted)]
            assert completed == ["reserve", "charge", "refund", "release"], history
            kinds = [type(e) for e in history]
            assert kinds.count(CompensationStarted) == kinds.count(CompensationCompleted) == 1
            assert kinds.index(StepFailed) < kinds.index(CompensationStarted)
    finally:
        await reader.shutdown()
    print(f"kills={kills} reruns={reruns}")
