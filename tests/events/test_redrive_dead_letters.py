"""``App.redrive_dead_letter`` on SQLite and PostgreSQL: a dead letter whose cause was fixed
(the workflow registered since, the subscription made again with a working filter) starts its
execution once, however often it is redriven; one that still fails says why and is left as
it was; the event shows the execution its redrive started."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import legato
from legato.core.subscriptions import event_execution_id
from legato.errors import DeadLetterNotFound, DeadLetterStillFails


def _event(event_id: str, data: Any) -> str:
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "shop",
                       "type": "order.placed", "data": data})  # fmt: skip


def _app(url: str, *, fixed: bool = True) -> legato.App:
    """``fixed``: the release whose ``fulfil`` takes a total given as text too."""
    app = legato.App(url)

    if fixed:

        @app.workflow(name="fulfil", version="2")
        async def fulfil(ctx: legato.Context, order: dict[str, int | str]) -> Any:
            return order["total"]

    else:

        @app.workflow(name="fulfil", version="1")
        async def fulfil_v1(ctx: legato.Context, order: dict[str, int]) -> Any:
            return order["total"]

    return app


async def test_a_fixed_dead_letter_is_redriven_once(any_db_url: str) -> None:
    before = _app(any_db_url, fixed=False)  # its input check refuses "seven"
    async with before:
        await before.create_subscription("orders", "order.placed", "fulfil")
        (result,) = await before.ingest_events([_event("e1", {"total": "seven"})], "test")
        assert result.status == "dead_letter" and "does not fit workflow 'fulfil'" in (
            result.reason or ""
        )
        (letter,) = await before.dead_letters()
        assert letter.redriven_at is None and letter.redriven_to is None
        with pytest.raises(DeadLetterStillFails, match="does not fit workflow 'fulfil'"):
            await before.redrive_dead_letter(letter.id)  # nothing changed: it fails again
        assert (await before.dead_letters())[0].redriven_at is None
    after = _app(any_db_url)  # the release that takes it
    async with after:
        redriven = await asyncio.gather(
            *(after.redrive_dead_letter(letter.id) for _ in range(3))
        )  # concurrent redrives: one start
        eid = event_execution_id("orders", "shop", "e1")
        assert {tuple(r.redriven_to or ()) for r in redriven} == {(eid,)}
        assert await after.get_handle(eid).result(timeout=20) == "seven"
        again = await after.redrive_dead_letter(letter.id)
        assert again.redriven_at == redriven[0].redriven_at and again.redriven_to == [eid]
        status = await after.get_handle(eid).status()
        assert status.started_by == {
            "kind": "event", "subscription": "orders", "source": "shop", "id": "e1",
            "type": "order.placed",
        }  # fmt: skip
        detail = await after.get_event("shop", "e1")
        assert [r.id for r in detail.executions] == [eid]
        listed = (await after.dead_letters())[0]
        assert listed.as_json()["redriven_to"] == [eid] and listed.as_json()["redriven_at"]
        ids = [r.id for r in await after.list_executions()]
        assert ids.count(eid) == 1


async def test_a_failing_filter_is_redriven_through_the_subscription_as_it_is_now(
    any_db_url: str,
) -> None:
    app = _app(any_db_url)
    async with app:
        await app.create_subscription("big", "order.placed", "fulfil", filter="data.total + 'x'")
        await app.ingest_events([_event("e1", {"total": 150}), _event("e2", {"total": 1})], "t")
        letters = {d.event_id: d for d in await app.dead_letters()}
        with pytest.raises(DeadLetterStillFails, match="filter failed"):
            await app.redrive_dead_letter(letters["e1"].id)
        await app.delete_subscription("big")
        with pytest.raises(DeadLetterStillFails, match="'big' no longer exists"):
            await app.redrive_dead_letter(letters["e1"].id)
        await app.create_subscription("big", "order.placed", "fulfil", filter="data.total > 100")
        done = await app.redrive_dead_letter(letters["e1"].id)
        eid = event_execution_id("big", "shop", "e1")
        assert done.redriven_to == [eid]
        assert await app.get_handle(eid).result(timeout=20) == 150
        small = await app.redrive_dead_letter(letters["e2"].id)  # the filter is false now
        assert small.redriven_at is not None and small.redriven_to == []


async def test_a_body_that_is_not_an_event_still_fails(any_db_url: str) -> None:
    app = _app(any_db_url)
    async with app:
        await app.ingest_events(["{broken"], "test")
        (letter,) = await app.dead_letters()
        with pytest.raises(DeadLetterStillFails, match="not JSON") as failed:
            await app.redrive_dead_letter(letter.id)
        assert failed.value.letter_id == letter.id
        with pytest.raises(DeadLetterNotFound, match="no dead letter with id 'nope'"):
            await app.redrive_dead_letter("nope")
