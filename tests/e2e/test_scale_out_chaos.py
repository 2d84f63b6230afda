"""Scale-out chaos: 3 ``legato server`` and 4 ``legato worker`` processes on one PostgreSQL run
500 executions while the test SIGKILLs a random one (and restarts it), at least 12 times.
Every execution completes with the right result, no step whose result was recorded runs again,
and no execution ever has two decisions at one sequence number.

Executions are started in waves with a kill after each; every execution waits half-way for a
signal the test sends only after the waves, so each of those kills lands while steps are
outstanding however fast or slow the fleet runs."""

from __future__ import annotations

import asyncio
import collections
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.processes import Processes

HERE = Path(__file__).parent
EXECUTIONS = 500
EXPECTED = sum(range(10))
KILL_ROUNDS = 12


class Fleet:
    """The servers and workers, by name; each started through ``processes`` (its output in
    the test's logs)."""

    def __init__(self, processes: Processes, url: str, log: Path) -> None:
        self.processes = processes
        self.env = {"PYTHONPATH": str(HERE), "CHAOS_LOG": str(log)}
        self.url = url
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str) -> None:
        role = name.split("-")[0]
        self.procs[name] = self.processes.spawn(
            name,
            [sys.executable, "-m", "legato.cli", role, "chaos_app", "--db", self.url],
            env=self.env,
        )

    def kill(self, name: str) -> None:
        self.processes.kill(self.procs[name])


def unfinished(log: Path, started: int) -> int:
    """1 if some step of the started executions has not run yet (a kill now hits work)."""
    lines = log.read_text().splitlines() if log.exists() else []
    ran = {tuple(line.split()[:2]) for line in lines}
    return int(len(ran) < 10 * started)


async def kill_and_restart(fleet: Fleet, victim: str, rng: random.Random) -> None:
    fleet.kill(victim)
    await asyncio.sleep(rng.uniform(0.0, 0.5))  # down for a while: not a condition to wait on
    fleet.spawn(victim)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_killing_servers_and_workers_loses_nothing_and_decides_once(
    pg_url: str, tmp_path: Path, seed: int, processes: Processes
) -> None:
    log = tmp_path / "steps.log"
    fleet = Fleet(processes, pg_url, log)
    names = [f"server-{i}" for i in range(3)] + [f"worker-{i}" for i in range(4)]
    sys.path.insert(0, str(HERE))
    try:
        import chaos_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    client = chaos_app.app
    client.configure(url=pg_url)
    rng = random.Random(seed)
    kills = 0
    try:
        for name in names:
            fleet.spawn(name)
        handles = []
        waves = [range(i, EXECUTIONS, KILL_ROUNDS) for i in range(KILL_ROUNDS)]
        for wave in waves:
            handles += [await client.start("chaos", f"c{i}", id=f"c{i}") for i in wave]
            await asyncio.sleep(rng.uniform(0.05, 0.3))  # a random moment of the run
            kills += unfinished(log, len(handles))
            await kill_and_restart(fleet, rng.choice(names), rng)
        for handle in handles:
            await client.signal(handle.id, "go")
        waiting = asyncio.gather(*(h.result(timeout=240) for h in handles))
        deadline = time.monotonic() + 120  # then stop killing, and let the fleet finish
        while not waiting.done() and time.monotonic() < deadline:
            await asyncio.wait([waiting], timeout=rng.uniform(0.5, 1.5))
            if waiting.done():
                break
            kills += unfinished(log, len(handles))
            await kill_and_restart(fleet, rng.choice(names), rng)
        results = await waiting
    finally:
        processes.stop_all()
        await client.shutdown()

    assert kills >= 10, f"only {kills} kills landed while steps were outstanding"
    assert results == [EXPECTED] * EXECUTIONS

    runs: dict[tuple[str, int], list[int]] = collections.defaultdict(list)
    for line in log.read_text().splitlines():
        execution, step, attempt, _ = line.split()
        runs[(execution, int(step))].append(int(attempt))
    with psycopg.connect(pg_url) as conn:
        history = conn.execute(
            "SELECT execution_id, seq, type, ref, meta FROM history ORDER BY execution_id, seq"
        ).fetchall()
    by_execution: dict[str, list[tuple[int, str, int | None, str | None]]] = (
        collections.defaultdict(list)
    )
    for execution_id, seq, kind, ref, meta in history:
        by_execution[execution_id].append((seq, kind, ref, meta))
    assert len(by_execution) == EXECUTIONS
    for execution_id, events in by_execution.items():
        # one decision per sequence number: 1..n with no gap and no repeat
        assert [e[0] for e in events] == list(range(1, len(events) + 1))
        scheduled = collections.Counter(e[2] for e in events if e[1] == "StepScheduled")
        completed = [e for e in events if e[1] == "StepCompleted"]
        assert set(scheduled.values()) == {1} and len(scheduled) == 10
        assert len(completed) == 10 and len({e[2] for e in completed}) == 10
        for _, _, ref, meta in completed:
            assert ref is not None and meta is not None
            recorded_attempt = json.loads(meta)["attempt"]
            step_index = ref - 1
            attempts = runs[(execution_id, step_index)]
            assert recorded_attempt in attempts
            # nothing ran after the run whose result was recorded
            assert max(attempts) == recorded_attempt, (execution_id, step_index, attempts)
