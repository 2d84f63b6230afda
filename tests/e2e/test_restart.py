"""Fast recovery: ``kill -9`` of ``legato dev`` with executions in flight, then a restart. The
restarted engine proves its predecessor dead (its liveness lock is free) and takes over its
partitions and task leases at once, instead of waiting for them to expire; and a second
``legato dev`` on a SQLite file that one already serves is refused, while a ``legato worker``
beside it is welcome.

The lease is made far longer than the test's deadlines, so only the takeover can let the
restart finish in time: the test waits on states with bounded deadlines and asserts no
duration. It prints how long the restart took to record its first step (the bound, 2 s, is
``bench/recovery.py``'s to measure)."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import legato
from legato.core.events import StepCompleted
from tests.processes import Processes

HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]
EXECUTIONS = 8
LEASE_SECONDS = "600"  # far past every deadline here: expiry cannot be what recovers


def client_app(url: str) -> tuple[legato.App, Any]:
    """The app module the engines run, as a client of their database."""
    sys.path.insert(0, str(HERE))
    try:
        import recovery_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    app: legato.App = recovery_app.app
    app.configure(url=url)
    return app, recovery_app


def runs_of(log: Path) -> list[tuple[str, int, int, int]]:
    """(execution, step, attempt, pid) of every step run so far."""
    text = log.read_text() if log.exists() else ""
    return [(e, int(s), int(a), int(p)) for e, s, a, p in (ln.split() for ln in text.splitlines())]


def one_line(text: str) -> str:
    """Log text with the console's wrapping undone."""
    return re.sub(r"\s+", " ", text)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_a_restarted_dev_takes_over_its_killed_predecessors_work_at_once(
    any_db_url: str,
    tmp_path: Path,
    processes: Processes,
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    log, gate = tmp_path / "steps.log", tmp_path / "gate"
    env = {
        "PYTHONPATH": str(HERE),
        "LEGATO_DB": any_db_url,
        "RECOVERY_LOG": str(log),
        "RECOVERY_GATE": str(gate),
        "RECOVERY_LEASE_SECONDS": LEASE_SECONDS,
    }
    client, module = client_app(any_db_url)
    try:
        first = processes.spawn("dev", [*LEGATO, "dev", "recovery_app"], env=env)
        handles = [await client.start(module.chain, f"r{i}", id=f"r{i}") for i in range(EXECUTIONS)]

        async def all_at_the_gate() -> bool:
            assert first.poll() is None, processes.log_of(first)
            at_gate = {e for e, s, _, _ in runs_of(log) if s == module.GATE_STEP}
            return len(at_gate) == EXECUTIONS

        await wait_for(all_at_the_gate, limit=60)  # every execution in flight, mid-step
        processes.kill(first)
        gate.touch()
        restarted_at = time.time()
        second = processes.spawn("dev", [*LEGATO, "dev", "recovery_app"], env=env)

        async def first_step_recorded() -> float | None:
            times = [
                e.ts
                for h in handles
                for e in await h.history()
                if isinstance(e, StepCompleted) and e.ts >= restarted_at * 1000
            ]
            return min(times) / 1000 - restarted_at if times else None

        delays: list[float] = []

        async def recorded() -> bool:
            assert second.poll() is None, processes.log_of(second)
            delay = await first_step_recorded()
            if delay is not None:
                delays.append(delay)
            return bool(delays)

        await wait_for(recorded, limit=60)
        print(f"{any_db_url.split(':')[0]}: restart to first recorded step {delays[0]:.2f} s")
        results = [await h.result(timeout=60) for h in handles]
    finally:
        await client.shutdown()

    assert results == [sum(range(module.STEPS))] * EXECUTIONS
    said = one_line(processes.log_of(second))
    pattern = (
        rf"previous engine engine:[^:\s]+:{first.pid}:\w+ is gone \(lock free\): taking over "
        rf"64 partitions and {EXECUTIONS} task leases"
    )
    assert re.search(pattern, said), said
    runs = collections.Counter((e, s) for e, s, _, _ in runs_of(log))
    pids = {(e, s): p for e, s, _, p in runs_of(log)}
    for i in range(EXECUTIONS):
        for step in range(module.STEPS):
            # recorded steps never ran again; the one in flight at the kill ran once more
            assert runs[(f"r{i}", step)] == (2 if step == module.GATE_STEP else 1)
        assert pids[(f"r{i}", module.STEPS - 1)] == second.pid


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_second_dev_on_one_sqlite_file_is_refused_and_a_worker_beside_it_is_not(
    db_url: str, tmp_path: Path, processes: Processes
) -> None:
    env = {"PYTHONPATH": str(HERE), "LEGATO_DB": db_url, "RECOVERY_LOG": str(tmp_path / "l")}
    client, module = client_app(db_url)
    try:
        running = processes.spawn("dev", [*LEGATO, "dev", "recovery_app", "--no-worker"], env=env)
        worker = processes.spawn("worker", [*LEGATO, "worker", "recovery_app"], env=env)
        handle = await client.start(module.chain, "w", id="w")
        # decided by the first engine, run by the worker: both are up and working
        assert await handle.result(timeout=60) == sum(range(module.STEPS))

        second = processes.spawn("dev", [*LEGATO, "dev", "recovery_app"], env=env)
        try:
            code = second.wait(60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the second dev was not refused:\n{processes.log_of(second)}")
        said = one_line(processes.log_of(second))
        assert code == 1, said
        assert f"pid {running.pid} on" in said and "legato.cli dev recovery_app" in said, said
        assert "already orchestrated by engine" in said, said
        assert running.poll() is None and worker.poll() is None  # both still serve
        again = await client.start(module.chain, "w2", id="w2")
        assert await again.result(timeout=60) == sum(range(module.STEPS))
    finally:
        await client.shutdown()
