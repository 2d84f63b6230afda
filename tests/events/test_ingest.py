"""``App.ingest_events`` end to end on SQLite and PostgreSQL: an event starts each matching
subscription's workflow (code or state machine) once, however often it is delivered; what
cannot be acted on lands in the dead letters with the reason; and an event shows the
executions it started."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import REGISTRY

import legato
from legato.client.event_triggers import dead_letter_cursor
from legato.core.subscriptions import event_execution_id
from legato.errors import (
    EventNotFound,
    InvalidSubscription,
    SubscriptionExists,
    SubscriptionNotFound,
)


def _app(url: str) -> tuple[legato.App, list[Any]]:
    app = legato.App(url)
    seen: list[Any] = []

    @app.step(name="record")
    async def record(value: Any) -> Any:
        seen.append(value)
        return value

    @app.workflow(name="on_order")
    async def on_order(ctx: legato.Context, order: dict[str, Any]) -> Any:
        return await ctx.step(record, order)

    @app.workflow(name="typed")
    async def typed(ctx: legato.Context, total: int) -> int:
        return total

    app.register_state_machine(
        "audit", {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    )
    return app, seen


def _event(event_id: str, data: Any, kind: str = "order.placed", source: str = "shop") -> str:
    return json.dumps({"specversion": "1.0", "id": event_id, "source": source, "type": kind,
                       "data": data})  # fmt: skip


async def test_an_event_starts_each_matching_subscription_once(any_db_url: str) -> None:
    app, seen = _app(any_db_url)
    async with app:
        await app.create_subscription("orders", "order.placed", "on_order")
        await app.create_subscription(
            "big", "order.placed", "audit", filter="data.total > 100",
            transform="{'order': subject, 'total': data.total}",
        )  # fmt: skip
        body = json.dumps({"id": "e1", "source": "shop", "type": "order.placed",
                           "subject": "o-1", "data": {"total": 150}})  # fmt: skip
        first = await app.ingest_events([body, body, _event("e2", {"total": 5})], "test")
        assert [r.status for r in first] == ["started", "duplicate", "started"]
        assert first[0].execution_ids == [  # in the subscriptions' name order
            event_execution_id("big", "shop", "e1"), event_execution_id("orders", "shop", "e1")
        ]  # fmt: skip
        assert first[2].execution_ids == [event_execution_id("orders", "shop", "e2")]
        for eid in first[0].execution_ids + first[2].execution_ids:
            await app.get_handle(eid).result()
        assert await app.get_handle(first[0].execution_ids[0]).result() == {
            "order": "o-1", "total": 150
        }  # fmt: skip
        again = await app.ingest_events([body], "test")  # a redelivery, later
        assert [(r.status, r.execution_ids) for r in again] == [("duplicate", [])]
        detail = await app.get_event("shop", "e1")
        assert detail.event.type == "order.placed" and detail.event.via == "test"
        assert [(r.id, r.status) for r in detail.executions] == [
            (eid, legato.Status.COMPLETED) for eid in first[0].execution_ids
        ]
        status = await app.get_handle(first[0].execution_ids[1]).status()
        # decided here with their first decision, as app.start does: none was loaded back
        assert app.stats["replays"] == 0
    assert sorted(json.dumps(v, sort_keys=True) for v in seen) == [
        '{"total": 150}', '{"total": 5}'
    ]  # fmt: skip
    assert status.started_by == {"kind": "event", "subscription": "orders", "source": "shop",
                                 "id": "e1", "type": "order.placed"}  # fmt: skip


async def test_what_cannot_be_acted_on_is_a_dead_letter_with_the_reason(any_db_url: str) -> None:
    app, _ = _app(any_db_url)
    async with app:
        await app.create_subscription("failing", "order.placed", "on_order",
                                      filter="data.total + 'x'")  # fmt: skip
        await app.create_subscription("typed", "order.placed", "typed", transform="data.total")
        counted = _dead_letters_counted("test")
        results = await app.ingest_events(
            [b"\xff not utf-8", "{broken", {"id": "1", "source": "s"},
             _event("e1", {"total": "many"}), _event("e2", {"total": 3}),
             _event("e3", {}, kind="nobody.cares")],
            "test",
        )  # fmt: skip
        assert [r.status for r in results] == [
            "dead_letter", "dead_letter", "dead_letter", "dead_letter", "started", "no_match"
        ]  # fmt: skip
        assert "not UTF-8" in (results[0].reason or "")
        assert "not JSON" in (results[1].reason or "")
        assert "$.type: required attribute missing" in (results[2].reason or "")
        assert "subscription 'failing': filter failed" in (results[3].reason or "")
        assert "subscription 'typed': the input does not fit workflow 'typed'" in (
            results[3].reason or ""
        )
        # e2: typed started, failing still failed: started, and the failure said
        assert results[4].execution_ids == [event_execution_id("typed", "shop", "e2")]
        assert "filter failed" in (results[4].reason or "")
        assert await app.get_handle(results[4].execution_ids[0]).result() == 3
        letters = await app.dead_letters(limit=100)
        assert len(letters) == 6
        assert _dead_letters_counted("test") - counted == 6  # /metrics' counter: the rows
        by_reason = {d.reason: d for d in letters}
        assert any(d.body == "{broken" for d in letters)
        typed = next(d for r, d in by_reason.items() if "does not fit" in r)
        assert (typed.subscription, typed.event_source, typed.event_id, typed.via) == (
            "typed", "shop", "e1", "test"
        )  # fmt: skip
        page = await app.dead_letters(limit=4)
        rest = await app.dead_letters(limit=4, cursor=dead_letter_cursor(page[-1]))
        assert [d.id for d in page + rest] == [d.id for d in letters]
        again = await app.ingest_events([_event("e1", {"total": "many"})], "test")
        assert again[0].status == "duplicate"  # its dead letters are not written twice
        assert len(await app.dead_letters()) == 6
        assert _dead_letters_counted("test") - counted == 6


async def test_subscriptions_are_managed_and_checked(db_url: str) -> None:
    app, _ = _app(db_url)
    created = await app.create_subscription("orders", "order.placed", "on_order",
                                            filter="data.total > 1")  # fmt: skip
    assert created.created_at > 0
    same = await app.create_subscription("orders", "order.placed", "on_order",
                                         filter="data.total > 1")  # fmt: skip
    assert same == created
    with pytest.raises(SubscriptionExists):
        await app.create_subscription("orders", "order.placed", "audit")
    with pytest.raises(InvalidSubscription, match="workflow: subscription 'x': workflow 'nope'"):
        await app.create_subscription("x", "t", "nope")
    with pytest.raises(InvalidSubscription, match="filter: not a JSONata expression"):
        await app.create_subscription("x", "t", "on_order", filter="data.(")
    assert [s.name for s in await app.list_subscriptions()] == ["orders"]
    assert await app.ingest_events([], "test") == []
    assert (await app.get_subscription("orders")).filter == "data.total > 1"
    await app.delete_subscription("orders")
    with pytest.raises(SubscriptionNotFound):
        await app.delete_subscription("orders")
    with pytest.raises(SubscriptionNotFound):
        await app.get_subscription("orders")
    with pytest.raises(EventNotFound):
        await app.get_event("shop", "nope")
    await app.shutdown()


async def test_publish_event_and_an_engine_elsewhere(any_db_url: str) -> None:
    """An app without the workflow (a CLI) records the start PENDING for the engine that
    serves it, found through the workflow types that engine recorded."""
    app, seen = _app(any_db_url)
    async with app:
        await app.create_subscription("orders", "order.placed", "on_order")
    client = legato.App(any_db_url)
    result = await client.publish_event("order.placed", {"total": 7}, source="cli", id="p-1")
    assert result.status == "started" and result.source == "cli" and result.event_id == "p-1"
    await client.shutdown()
    async with app:
        assert await app.get_handle(result.execution_ids[0]).result() == {"total": 7}
    assert seen == [{"total": 7}]


async def test_a_running_engine_takes_up_what_another_process_ingested(any_db_url: str) -> None:
    """Recorded PENDING by a process without the workflow, the start reaches the engine that
    serves it (PostgreSQL: the commit's notification; SQLite: its poll)."""
    app, seen = _app(any_db_url)
    async with app:
        await app.create_subscription("orders", "order.placed", "on_order")
        client = legato.App(any_db_url)
        try:
            results = await client.ingest_events(
                [_event(f"r-{i}", {"total": i}) for i in range(20)], "elsewhere"
            )
        finally:
            await client.shutdown()
        for result in results:
            assert await app.get_handle(result.execution_ids[0]).result(timeout=30) == {
                "total": int(str(result.event_id).removeprefix("r-"))
            }
    assert len(seen) == 20


def _dead_letters_counted(via: str) -> float:
    """``legato_dead_letters_total{via}`` in the process's registry (other tests count too)."""
    return REGISTRY.get_sample_value("legato_dead_letters_total", {"via": via}) or 0.0
