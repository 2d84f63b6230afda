"""A remote worker (``legato.client.remote_worker``) and the server's routes for it, in one
process: the server's app runs an orchestrator and serves the API on a free port; the worker's
app has the steps and reaches the server only over HTTP. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

import legato
from legato.api.serve import ApiServer
from legato.api.server import create_api
from legato.api.settings import ApiSettings
from legato.client.remote_worker import RemoteWorker
from legato.core.events import StepRetryScheduled
from legato.core.outcome import Outcome
from tests.conftest import of_type

#: set by ``forever`` once it runs (made anew by each test: an event belongs to one loop)
STARTED: list[asyncio.Event] = []


def _register(app: legato.App) -> legato.App:
    @app.step(name="add")
    async def add(a: int, b: int) -> int:
        return a + b

    @app.step(name="forever")
    async def forever(tag: str) -> str:
        STARTED[-1].set()
        await asyncio.Event().wait()
        return tag

    @app.step(name="flaky", retry=legato.Retry(max_attempts=3, initial=0.2, jitter=False))
    async def flaky(tag: str) -> str:
        if legato.step_context().attempt == 1:
            raise ValueError("first attempts fail")
        return tag

    @app.workflow(name="retried")
    async def retried(ctx: legato.Context) -> str:
        return await ctx.step(flaky, "ok")  # type: ignore[no-any-return]

    @app.workflow(name="sums")
    async def sums(ctx: legato.Context, n: int) -> int:
        total = 0
        for i in range(n):
            total = await ctx.step(add, total, i)
        return total

    @app.workflow(name="stuck")
    async def stuck(ctx: legato.Context) -> str:
        return await ctx.step(forever, "x")  # type: ignore[no-any-return]

    return app


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[tuple[legato.App, str]]:
    server = _register(legato.App(url, lease_seconds=2.0))
    await server.start_engine(orchestrate=True, work=False)
    api = ApiServer(create_api(server), ApiSettings(port=0))
    await api.start()
    try:
        yield server, api.settings.address
    finally:
        await api.stop()
        await server.shutdown()


@asynccontextmanager
async def remote(address: str) -> AsyncIterator[RemoteWorker]:
    worker = RemoteWorker(_register(legato.App(lease_seconds=2.0, grace_seconds=1.0)), address)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


@pytest.mark.timeout(60)
async def test_steps_run_on_the_remote_worker(any_db_url: str) -> None:
    async with serving(any_db_url) as (server, address), remote(address):
        handles = [await server.start("sums", 20) for _ in range(10)]
        assert [await h.result(timeout=30) for h in handles] == [sum(range(20))] * 10


@pytest.mark.timeout(60)
async def test_a_failed_attempt_is_retried_on_the_remote_worker_after_its_backoff(
    any_db_url: str,
) -> None:
    """The failure travels as an outcome; the retry's task is claimable only after its
    backoff, when the server's long poll is woken for it."""
    async with serving(any_db_url) as (server, address), remote(address):
        handle = await server.start("retried")
        assert await handle.result(timeout=30) == "ok"
        retries = of_type(await handle.history(), StepRetryScheduled)
        assert [(r.error_type, r.attempt) for r in retries] == [("ValueError", 1)]


@pytest.mark.timeout(60)
async def test_a_cancelled_execution_stops_its_step_on_the_remote_worker(any_db_url: str) -> None:
    """The remote worker learns it when it renews its leases (every lease / 3)."""
    STARTED.append(asyncio.Event())
    async with serving(any_db_url) as (server, address), remote(address) as worker:
        handle = await server.start("stuck")
        await asyncio.wait_for(STARTED[-1].wait(), 30)
        await server.cancel(handle.id, "enough")
        status = await handle.status()
        while status.status != legato.Status.CANCELLED:
            await asyncio.sleep(0.05)
            status = await handle.status()
        while worker.worker.active:  # the step was stopped, not left running
            await asyncio.sleep(0.05)


@pytest.mark.timeout(60)
async def test_the_routes_act_only_for_remote_owners_and_under_their_leases(
    any_db_url: str,
) -> None:
    async with serving(any_db_url) as (server, address):
        async with httpx.AsyncClient(base_url=address) as http:
            claim = {"queues": ["default"], "steps": ["add"], "wait_seconds": 0}
            refused = await http.post("/v1/workers/engine:h:1:abc/claim", json=claim)
            assert refused.status_code == 422
            assert refused.headers["content-type"] == "application/problem+json"

            handle = await server.start("sums", 1)
            me, other = "remote:h:1:me", "remote:h:2:other"
            got = await http.post(f"/v1/workers/{me}/claim", json={**claim, "wait_seconds": 10})
            (task,) = got.json()["tasks"]
            assert task["name"] == "add" and task["attempt"] == 1
            outcome = Outcome(True, "0").to_json()
            item = {"task_id": task["id"], "attempt": 1, "outcome": outcome}
            wrong = await http.post(f"/v1/workers/{other}/finish", json={"outcomes": [item]})
            assert wrong.json() == {"recorded": [False]}  # not its lease
            bad = {**item, "outcome": '{"nonsense": 1}'}
            invalid = await http.post(f"/v1/workers/{me}/finish", json={"outcomes": [bad]})
            assert invalid.status_code == 422
            assert invalid.json()["errors"][0]["path"] == "$.outcomes[0].outcome"
            renewed = await http.post(
                f"/v1/workers/{me}/renew", json={"task_ids": [task["id"]], "lease_ms": 5000}
            )
            assert renewed.json() == {"stop": []}
            done = await http.post(f"/v1/workers/{me}/finish", json={"outcomes": [item]})
            assert done.json() == {"recorded": [True]}
            assert await handle.result(timeout=30) == 0
            released = await http.post(f"/v1/workers/{me}/release", json={"task_ids": None})
            assert released.json() == {"released": 0}


@pytest.mark.timeout(60)
async def test_a_long_poll_answers_at_once_when_the_server_stops(any_db_url: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        async with serving(any_db_url) as (_server, address):
            claim = {"queues": ["default"], "steps": ["add"], "wait_seconds": 60}
            url = f"{address}/v1/workers/remote:h:1:me/claim"
            waiting = asyncio.ensure_future(http.post(url, json=claim))
            await asyncio.sleep(0.2)  # the poll is waiting on the server (nothing to claim)
            assert not waiting.done()
            # leaving ``serving`` stops the API: the poll answers empty, the stop is not held
        answer = await asyncio.wait_for(waiting, 10)
        assert answer.json() == {"tasks": []}
