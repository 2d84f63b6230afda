"""Scale-out chaos: 3 ``legato server`` and 4 ``legato worker`` processes on one PostgreSQL run
500 executions while the test SIGKILLs a random one (and restarts it), at least 12 times.
Every execution completes with the right result, no step whose result was recorded runs again,
and no execution ever has two decisions at one sequence number."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

HERE = Path(__file__).parent
EXECUTIONS = 500
EXPECTED = sum(range(10))
KILL_ROUNDS = 12


class Fleet:
    def __init__(self, url: str, log: Path) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(HERE), "CHAOS_LOG": str(log)}
        self.url = url
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str) -> None:
        role = name.split("-")[0]
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "legato.cli", role, "chaos_app", "--db", self.url],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def unfinished(log: Path, started: int) -> int:
    """1 if some step of the started executions has not run yet (a kill now hits work)."""
    lines = log.read_bytes().count(b"\n") if log.exists() else 0
    return int(lines < 10 * started)


async def kill_and_restart(fleet: Fleet, victim: str, rng: random.Random) -> None:
    fleet.kill(victim)
    await asyncio.sleep(rng.uniform(0.0, 0.5))
    fleet.spawn(victim)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_killing_servers_and_workers_loses_nothing_and_decides_once(
    pg_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "steps.log"
    fleet = Fleet(pg_url, log)
    names = [f"server-{i}" for i in range(3)] + [f"worker-{i}" for i in range(4)]
    sys.path.insert(0, str(HERE))
    try:
        import chaos_app
    finally:
        sys.path.remove(str(HERE))
    client = chaos_app.app
    client.configure(url=pg_url)
    rng = random.Random()
    kills = 0
    try:
        for name in names:
            fleet.spawn(name)
        # Executions are started in waves between the kills, so every kill lands while some
        # are in flight however fast the fleet runs them.
        handles = []
        waves = [range(i, EXECUTIONS, KILL_ROUNDS) for i in range(KILL_ROUNDS)]
        for wave in waves:
            handles += [await client.start("chaos", f"c{i}", id=f"c{i}") for i in wave]
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            kills += unfinished(log, len(handles))
            await kill_and_restart(fleet, rng.choice(names), rng)
        waiting = asyncio.gather(*(h.result(timeout=240) for h in handles))
        deadline = time.monotonic() + 120
        while not waiting.done() and time.monotonic() < deadline:
            await asyncio.wait([waiting], timeout=rng.uniform(0.5, 1.5))
            if waiting.done():
                break
            kills += unfinished(log, len(handles))
            await kill_and_restart(fleet, rng.choice(names), rng)
        results = await waiting
    finally:
        fleet.stop_all()
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
            step = ref - 1
            attempts = runs[(execution_id, step)]
            assert recorded_attempt in attempts
            # nothing ran after the run whose result was recorded
            assert max(attempts) == recorded_attempt, (execution_id, step, attempts)
