"""The database goes away and comes back while clients wait on it: handles awaiting results (in
the engine's process and in a separate client app), starts, signals, task-token calls and
status reads made while it is away all get their answer once it is back, and no start is
recorded twice.

Two outages: a proxy between the processes and the server cuts every connection (commits in
flight may or may not have happened), and a real PostgreSQL stop in immediate mode (as in a
crash) and start. Each state is waited for, never a time: the server comes back only once the
client calls have met the outage.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import legato
from legato.core.events import EventType, ExternalTaskStarted
from tests.conftest import of_type, poll
from tests.processes import Processes
from tests.tcp_proxy import CuttableProxy

Outage = Callable[[], Awaitable[None]]


def build(url: str, restarted: asyncio.Event, **options: Any) -> legato.App:
    app = legato.App(url, **options)

    @app.step(name="double")
    async def double(n: int) -> int:
        await restarted.wait()  # the results come after the outage, whatever the timing
        return n * 2

    @app.workflow(name="doubling")
    async def doubling(ctx: legato.Context, n: int) -> int:
        return await ctx.step(double, n)  # type: ignore[no-any-return]

    @app.workflow(name="approval")
    async def approval(ctx: legato.Context, n: int) -> int:
        return n + await ctx.wait_for_signal("go")  # type: ignore[no-any-return]

    @app.workflow(name="callback")
    async def callback(ctx: legato.Context) -> Any:
        fut, _ = ctx.external_task()
        return await fut

    return app


async def history_has(handle: legato.Handle[Any], kind: EventType) -> bool:
    return kind in [e.type for e in await handle.history()]


async def unfinished(
    client: legato.App, awaiting: Mapping[str, asyncio.Future[Any]]
) -> dict[str, list[str]]:
    """For a failure's message: what each unanswered wait waits for, as the database has it."""
    out = {}
    for key, fut in awaiting.items():
        if not fut.done():
            eid = key.removeprefix("client:")
            row = await client.get_handle(eid).status()
            out[key] = [row.status.value] + [
                e.type.value for e in await client.get_handle(eid).history()
            ]
    return out


async def ride_through(
    url: str, go_down: Outage, come_back: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    restarted = asyncio.Event()
    engine = build(url, restarted, lease_seconds=2.0)
    client = build(url, restarted)  # no engine: a separate client of the same database

    async with engine:
        ours = [await engine.start("doubling", n, id=f"e{n}") for n in range(4)]
        theirs = [await client.start("doubling", n, id=f"c{n}") for n in range(4, 8)]
        asked = await engine.start("approval", 1, id="ask-e")
        asked_client = await client.start("approval", 2, id="ask-c")
        called = await client.start("callback", id="cb")

        async def token_issued() -> bool:
            return await history_has(called, EventType.EXTERNAL_TASK_STARTED)

        await poll(token_issued, limit=90)
        token = of_type(await called.history(), ExternalTaskStarted)[0].token
        awaiting = {h.id: asyncio.ensure_future(h.result()) for h in ours}  # the orchestrator's
        for h in ours + theirs:  # the client's shared poll
            awaiting[f"client:{h.id}"] = asyncio.ensure_future(client.get_handle(h.id).result())
        awaiting["ask-e"] = asyncio.ensure_future(asked.result())
        awaiting["ask-c"] = asyncio.ensure_future(asked_client.result())
        awaiting["cb"] = asyncio.ensure_future(client.get_handle("cb").result())

        async def steps_running() -> bool:
            for h in ours + theirs:
                if not await history_has(h, EventType.STEP_SCHEDULED):
                    return False
            return True

        await poll(steps_running, limit=90)  # the engine runs them all; steps wait for the outage

        await go_down()
        try:
            starts = [
                asyncio.ensure_future(client.start("doubling", 20, id="c20")),
                asyncio.ensure_future(client.start("doubling", 21)),  # its id made once
                asyncio.ensure_future(engine.start("doubling", 22, id="e22")),
            ]
            sends = [
                asyncio.ensure_future(client.signal("ask-c", "go", 40)),
                asyncio.ensure_future(asked.signal("go", 41)),
                asyncio.ensure_future(client.send_task_success(token, "done")),
            ]
            status = asyncio.ensure_future(client.get_handle("c4").status())
            during: list[asyncio.Future[Any]] = [*starts, *sends, status]

            async def outage_met() -> bool:
                """A client call met the dead connections and is retrying."""
                return any(r.name == "legato.reconnect" for r in caplog.records)

            await poll(outage_met, limit=60)
            assert not any(task.done() for task in during)
        finally:
            await come_back()
        restarted.set()

        await asyncio.wait_for(asyncio.gather(*during), 120)
        await asyncio.wait(awaiting.values(), timeout=120)
        assert all(f.done() for f in awaiting.values()), await unfinished(client, awaiting)
        got = {key: fut.result() for key, fut in awaiting.items()}
        started = [start.result() for start in starts]
        later = [await h.result(timeout=120) for h in started]
        listed = await client.list_executions(limit=1000)
    await client.shutdown()

    assert got == {
        **{f"e{n}": n * 2 for n in range(4)},
        **{f"client:e{n}": n * 2 for n in range(4)},
        **{f"client:c{n}": n * 2 for n in range(4, 8)},
        "ask-e": 42,
        "ask-c": 42,
        "cb": "done",
    }
    assert later == [40, 42, 44]
    assert status.result().id == "c4"
    expected = [f"e{n}" for n in range(4)] + [f"c{n}" for n in range(4, 8)]
    expected += ["ask-e", "ask-c", "cb", "c20", "e22", started[1].id]
    assert sorted(e.id for e in listed) == sorted(expected)  # each start recorded once


@pytest.mark.timeout(300)
async def test_clients_ride_through_a_cut_network(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy, url = await CuttableProxy.to(pg_url)

    async def cut() -> None:
        proxy.cut()

    async def restore() -> None:
        proxy.restore()

    try:
        await ride_through(url, cut, restore, caplog)
    finally:
        await proxy.close()


def _cluster(processes: Processes, action: str, *options: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    cluster = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *options]
    done = processes.spawn(action, cluster)
    assert done.wait(180) == 0, processes.log_of(done)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_clients_ride_through_a_postgres_restart(
    pg_url: str, processes: Processes, caplog: pytest.LogCaptureFixture
) -> None:
    if not Path("/etc/postgresql").is_dir():
        pytest.fail("this test restarts the local PostgreSQL cluster; none is installed here")

    async def stop() -> None:
        await asyncio.to_thread(_cluster, processes, "stop", "-m", "immediate")

    async def start() -> None:  # also after a failure: never leave the shared cluster down
        await asyncio.to_thread(_cluster, processes, "start")

    await ride_through(pg_url, stop, start, caplog)
