"""A rolling deploy, with real processes on SQLite and PostgreSQL: a new ``legato server``
schedules a step that the old ``legato worker`` still running lacks. The execution does not
fail: it waits, says so (``legato executions show`` and the store's ``waiting_steps``), and
completes once a worker with the new step starts."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import legato
from legato.client import open_store
from legato.core.events import StepFailed
from legato.ports.workers import WaitingStep
from tests.conftest import of_type
from tests.processes import Processes

HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]
Waiter = Callable[..., Awaitable[None]]


async def _show(url: str, execution_id: str, *flags: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *LEGATO, "executions", "show", execution_id, "--db", url, *flags,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_a_step_no_live_worker_serves_waits_until_one_that_has_it_starts(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    env = {"PYTHONPATH": str(HERE), "LEGATO_DB": any_db_url}
    processes.spawn("server", [*LEGATO, "server", "deploy_app"], env=env)  # the new release
    old = processes.spawn(
        "old-worker", [*LEGATO, "worker", "deploy_app"], env={**env, "DEPLOY_OLD": "1"}
    )

    sys.path.insert(0, str(HERE))
    try:
        import deploy_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    client: legato.App = deploy_app.app
    client.configure(url=any_db_url)
    store = open_store(any_db_url)
    try:
        handle = await client.start("deploy", 4, id="deploy-1")  # the client migrates
        await store.open_reader()

        async def waiting() -> bool:
            now = int(time.time() * 1000)
            return await store.waiting_steps("deploy-1", now) == [
                WaitingStep("deploy-1:2", "second", "default")
            ]

        await wait_for(waiting, limit=60)  # "first" ran on the old worker; "second" waits
        shown = await _show(any_db_url, "deploy-1")
        assert "RUNNING" in shown
        assert "waiting for a worker that serves step second (queue default)" in shown
        as_json = json.loads(await _show(any_db_url, "deploy-1", "--json"))
        assert as_json["status"] == "RUNNING"
        assert as_json["waiting_for_workers"] == [{"step": "second", "queue": "default"}]
        assert not of_type(await handle.history(), StepFailed)  # it waits, never fails

        processes.spawn("new-worker", [*LEGATO, "worker", "deploy_app"], env=env)
        assert await handle.result(timeout=60) == 50
        assert await store.waiting_steps("deploy-1", int(time.time() * 1000)) == []
        assert "waiting for a worker" not in await _show(any_db_url, "deploy-1")
        assert old.poll() is None  # the old worker still serves what it has
    finally:
        await store.close_reader()
        await client.shutdown()
        processes.stop_all()  # before the test's database goes
