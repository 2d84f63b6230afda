"""PostgreSQL restarted in the middle of a run: every process reconnects and all executions
finish, each with the right result."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
from pathlib import Path

import pytest

import legato


def _restart_postgres() -> None:
    versions = sorted(os.listdir("/etc/postgresql"))
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_all_executions_finish_across_a_postgres_restart(pg_url: str) -> None:
    if not Path("/etc/postgresql").is_dir():
        pytest.fail("this test restarts the local PostgreSQL cluster; none is installed here")
    app = legato.App(pg_url, lease_seconds=2.0)
    ran: dict[tuple[int, int], int] = {}

    @app.step
    async def work(i: int, s: int, acc: int) -> int:
        ran[(i, s)] = ran.get((i, s), 0) + 1
        await asyncio.sleep(random.uniform(0.01, 0.05))
        return acc + s

    @app.workflow(name="restartable")
    async def restartable(ctx: legato.Context, i: int) -> int:
        acc = 0
        for s in range(20):
            acc = await ctx.step(work, i, s, acc)
        return acc

    async with app:
        handles = [await app.start(restartable, i, id=f"r{i}") for i in range(40)]
        await asyncio.sleep(0.3)  # mid-run
        before = sum(ran.values())
        await asyncio.to_thread(_restart_postgres)
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)

    assert 0 < before < 40 * 20  # the restart did land in the middle of the run
    assert results == [sum(range(20))] * 40
    assert set(ran) == {(i, s) for i in range(40) for s in range(20)}
