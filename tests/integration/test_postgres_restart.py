"""PostgreSQL restarted in the middle of a run: every process reconnects and all executions
finish, each with the right result.

The restart waits until the run has made progress, and the last step of every execution waits
until the restart is done: it lands mid-run however fast or slow the machine."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import legato
from tests.processes import Processes

STEPS = 20


def _restart_postgres(processes: Processes) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    cluster = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
    # pg_ctl gives a shutdown 60 s by default, and a busy server can need that long (a
    # connection still authenticating holds it for authentication_timeout, 60 s): wait longer
    restart = processes.spawn("restart", [*cluster, "restart", "--", "--timeout=150"])
    code = restart.wait(180)
    if code != 0:  # stopped but not started again: never leave the shared cluster down
        processes.spawn("start", [*cluster, "start"]).wait(180)
    assert code == 0, processes.log_of(restart)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_all_executions_finish_across_a_postgres_restart(
    pg_url: str, seed: int, processes: Processes, wait_for: Callable[..., Awaitable[None]]
) -> None:
    if not Path("/etc/postgresql").is_dir():
        pytest.fail("this test restarts the local PostgreSQL cluster; none is installed here")
    app = legato.App(pg_url, lease_seconds=2.0)
    ran: dict[tuple[int, int], int] = {}
    rng = random.Random(seed)
    restarted = asyncio.Event()

    @app.step
    async def work(i: int, s: int, acc: int) -> int:
        if s == STEPS - 1:
            await restarted.wait()
        ran[(i, s)] = ran.get((i, s), 0) + 1
        await asyncio.sleep(rng.uniform(0.01, 0.05))
        return acc + s

    @app.workflow(name="restartable")
    async def restartable(ctx: legato.Context, i: int) -> int:
        acc = 0
        for s in range(STEPS):
            acc = await ctx.step(work, i, s, acc)
        return acc

    async with app:
        handles = [await app.start(restartable, i, id=f"r{i}") for i in range(40)]

        async def mid_run() -> bool:
            return sum(ran.values()) >= 40

        await wait_for(mid_run)
        before = sum(ran.values())
        await asyncio.to_thread(_restart_postgres, processes)
        restarted.set()
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)

    assert 0 < before < 40 * STEPS  # the restart did land in the middle of the run
    assert results == [sum(range(STEPS))] * 40
    assert set(ran) == {(i, s) for i in range(40) for s in range(STEPS)}
