"""Events through each broker start their workflow, end to end: an ``App`` (SQLite) with
``app.event_source(url)`` and a subscription, the real brokers on this machine.

- an event published twice starts its workflow once;
- a batch recorded whose ack was lost (the consumer cut off from the broker right after the
  commit, as a consumer killed before its ack) is delivered again, found a duplicate, acked;
- a message that is not an event lands in the dead letters, and is acknowledged;
- a broker restarted mid-stream (a private NATS or Redis server) loses no event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import legato
from legato.ports.events import IngestResult
from tests.brokers.brokers import BROKERS, Broker, PrivateServer, require
from tests.brokers.recording import QUICK, drained
from tests.conftest import poll
from tests.processes import Processes
from tests.tcp_proxy import CuttableProxy

EVENT_TYPE = "order.placed"


def make_app(db_url: str) -> legato.App:
    app = legato.App(db_url, grace_seconds=5)

    @app.workflow(name="on_order")
    async def on_order(ctx: legato.Context, data: dict[str, Any]) -> dict[str, Any]:
        return {"order": data["order"]}

    return app


def event(n: int, tag: str = "o") -> bytes:
    body = {"specversion": "1.0", "id": f"{tag}-{n}", "source": "shop", "type": EVENT_TYPE,
            "data": {"order": n}}  # fmt: skip
    return json.dumps(body).encode()


async def subscribe(app: legato.App) -> None:
    await app.create_subscription("orders", EVENT_TYPE, "on_order")


async def executions(app: legato.App) -> list[legato.ExecutionStatus]:
    return await app.list_executions(workflow="on_order", limit=100_000)


async def wait_executions(app: legato.App, count: int, limit: float = 60) -> None:
    async def enough() -> bool:
        return len(await executions(app)) >= count

    await poll(enough, limit=limit)


async def test_an_event_delivered_twice_starts_once_and_poison_is_dead_lettered(
    broker: Broker, db_url: str
) -> None:
    app = make_app(db_url)
    app.event_source(broker.url(wait_ms=200))
    async with app:
        await subscribe(app)
        await broker.publish([event(1), b"{not json", event(1)])  # the same event twice
        await broker.publish([event(1)])  # and once more, in a batch of its own

        async def dead_lettered() -> bool:
            return len(await app.dead_letters()) >= 1

        await poll(dead_lettered, limit=30)
        await wait_executions(app, 1)
        await drained(broker)
        started = await executions(app)
        assert len(started) == 1
        cause = {"kind": "event", "subscription": "orders", "source": "shop", "id": "o-1"}
        assert started[0].started_by == {**cause, "type": EVENT_TYPE}
        detail = await app.get_event("shop", "o-1")
        assert [row.id for row in detail.executions] == [started[0].id]
        assert await app.get_handle(started[0].id).result(timeout=30) == {"order": 1}
        letters = await app.dead_letters()
        assert len(letters) == 1
        assert letters[0].via == app.event_sources.running[0].via
        assert "{not json" in letters[0].body


async def test_a_lost_ack_is_delivered_again_and_starts_nothing_more(
    broker: Broker, db_url: str
) -> None:
    from legato.adapters.bus import open_source

    proxy = CuttableProxy(broker.host, broker.port)
    port = await proxy.start()
    app = make_app(db_url)
    seen: list[IngestResult] = []

    async def commit_then_lose_the_ack(bodies: Sequence[bytes], via: str) -> list[IngestResult]:
        results = await app.ingest_events(bodies, via)
        seen.extend(results)
        if len(seen) == len(results):  # the first batch: committed, then cut off before the ack
            proxy.cut()
            proxy.restore()
        return results

    source = open_source(broker.url(port=port, wait_ms=200))
    source.backoff = QUICK
    async with app:
        await subscribe(app)
        await broker.publish([event(n) for n in range(5)])
        source.start(commit_then_lose_the_ack)
        try:

            async def delivered_again() -> bool:
                return sum(r.status == "duplicate" for r in seen) >= 5

            await poll(delivered_again, limit=60)
            await drained(broker)
        finally:
            await source.stop()
            await proxy.close()
        assert [r.status for r in seen[:5]] == ["started"] * 5
        assert len(await executions(app)) == 5


@pytest.fixture(params=["nats", "redis"])
async def private_broker(
    request: pytest.FixtureRequest, tmp_path: Path, processes: Processes
) -> Any:
    kind: str = request.param
    require(kind)
    server = PrivateServer(kind, tmp_path / f"{kind}-data", processes)
    await server.start()
    broker = BROKERS[kind](port=server.port)
    try:
        yield server, broker
    finally:
        await broker.cleanup()
        await server.stop()


async def test_a_broker_restarted_mid_stream_loses_no_event(
    private_broker: tuple[PrivateServer, Broker], db_url: str
) -> None:
    server, broker = private_broker
    app = make_app(db_url)
    app.event_source(broker.url(batch=20, wait_ms=200))
    async with app:
        await subscribe(app)
        app.event_sources.running[0].backoff = QUICK
        await broker.publish([event(n, "before") for n in range(150)])
        await wait_executions(app, 20)
        await server.restart()  # mid-stream
        await broker.publish([event(n, "after") for n in range(150)])
        await wait_executions(app, 300)
        await drained(broker)
        started = await executions(app)
    assert len(started) == 300
    assert len({row.id for row in started}) == 300


async def test_a_stop_leaves_nothing_unacknowledged(broker: Broker, db_url: str) -> None:
    app = make_app(db_url)
    app.event_source(broker.url(batch=50, wait_ms=200))
    async with app:
        await subscribe(app)
        await broker.publish([event(n) for n in range(200)])
        await wait_executions(app, 1)
    # stopped mid-stream: whatever was recorded was acked; the rest is still the broker's
    async with app:
        await wait_executions(app, 200)
        await drained(broker)
        assert len(await executions(app)) == 200
