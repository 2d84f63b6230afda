"""The ``Events`` port on SQLite and PostgreSQL: a batch is one transaction, an event is
recorded once (its ``(source, id)``), starts are written only for new events, an execution id
that exists already is never started twice, and dead letters page newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest

from legato.adapters import event_store_rows
from legato.adapters.postgres import driver as pg_driver
from legato.adapters.postgres.store import QUERIES as PG_QUERIES
from legato.adapters.sql_scripts import Many, SqlScript
from legato.adapters.transition_rows import execution_insert_row
from legato.client import open_store
from legato.core import decide
from legato.core.events import Status
from legato.core.subscriptions import Subscription
from legato.core.transition import NewExecution
from legato.ports.events import DeadLetter, EventIngest, IngestRaced, StoredEvent
from legato.ports.store import Store


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


def _event(source: str, event_id: str, starts: list[str], now: int = 1000) -> StoredEvent:
    return StoredEvent(source, event_id, "order.placed", None, None, '{"n": 1}', now, "test",
                       starts)  # fmt: skip


def _start(eid: str, now: int = 1000) -> NewExecution:
    return decide.pending_start(eid, "wf", "1", '[[{"n": 1}], {}]', now, None, None,
                                '{"kind":"event"}')  # fmt: skip


def _letter(lid: str, at: int, sub: str | None = None) -> DeadLetter:
    return DeadLetter(lid, at, "test", f"reason {lid}", "body", sub, "src" if sub else None,
                      "e" if sub else None)  # fmt: skip


def _ingest(source: str, event_id: str, eids: list[str], failures: int = 0) -> EventIngest:
    letters = [_letter(f"{source}{event_id}-f{i}", 1000, "sub") for i in range(failures)]
    return EventIngest(_event(source, event_id, eids), [_start(e) for e in eids], letters)


async def test_new_events_start_their_executions_duplicates_start_nothing(store: Store) -> None:
    first = [_ingest("shop", "1", ["a-1", "b-1"]), _ingest("shop", "2", []),
             _ingest("crm", "1", ["a-3"], failures=1)]  # fmt: skip
    done = await store.ingest(first, [_letter("bad", 900)])
    assert done.new == [True, True, True] and done.started == ["a-1", "b-1", "a-3"]
    for eid in ("a-1", "b-1", "a-3"):
        row = await store.load_execution(eid)
        assert row is not None and row.status == Status.PENDING and row.workflow == "wf"
    assert [e.type for e in await store.load_history("a-1")] == ["ExecutionStarted"]
    assert {p.id for p in await store.pending_executions(10, list(range(256)))} >= {"a-1", "b-1"}
    got = await store.get_event("shop", "1")
    assert got == _event("shop", "1", ["a-1", "b-1"])
    # the same events again (a redelivery), with one new one
    again = [_ingest("shop", "1", ["a-1", "b-1"], failures=2), _ingest("shop", "4", ["a-4"])]
    assert await store.ingest(again, []) == ([False, True], ["a-4"])
    letters = await store.dead_letters(10)
    assert [d.id for d in letters] == ["crm1-f0", "bad"]  # a duplicate's failures are not recorded


async def test_an_execution_that_exists_is_done_already_never_started_twice(store: Store) -> None:
    assert (await store.start_execution(_start("taken"))).created
    done = await store.ingest([_ingest("shop", "9", ["taken", "fresh"])], [])
    assert done == ([True], ["fresh"])  # "taken" counts as started, but not by this call
    assert [e.type for e in await store.load_history("taken")] == ["ExecutionStarted"]
    assert await store.load_execution("fresh") is not None


async def test_dead_letters_page_newest_first(store: Store) -> None:
    letters = [_letter(f"d{i}", 1000 + i // 2) for i in range(7)]
    await store.ingest([], letters)
    await store.ingest([], letters[:2])  # the same ids again (a retried batch): kept once
    first = await store.dead_letters(3)
    assert [d.id for d in first] == ["d6", "d5", "d4"]
    second = await store.dead_letters(3, (first[-1].received_at, first[-1].id))
    assert [d.id for d in second] == ["d3", "d2", "d1"]
    third = await store.dead_letters(3, (second[-1].received_at, second[-1].id))
    assert [d.id for d in third] == ["d0"] and third[0] == letters[0]


async def test_subscriptions_are_stored_listed_and_deleted(store: Store) -> None:
    a = Subscription("a", "t", "wf", "2", "data.x", "data", 5)
    b = Subscription("b", "t2", "wf")
    assert await store.put_subscription(b) and await store.put_subscription(a)
    assert not await store.put_subscription(Subscription("a", "other", "wf"))
    assert await store.get_subscription("a") == a
    assert await store.list_subscriptions() == [a, b]
    assert await store.delete_subscription("a") and not await store.delete_subscription("a")
    assert await store.get_subscription("a") is None
    assert await store.get_event("nobody", "1") is None


async def test_a_large_batch_is_one_call(store: Store) -> None:
    batch = [_ingest("bulk", str(i), [f"x-{i}"]) for i in range(500)]
    assert (await store.ingest(batch, [])).new == [True] * 500
    assert (await store.ingest(batch[:10], [])).new == [False] * 10
    assert await store.count_executions(Status.PENDING) == 500


async def test_an_execution_started_meanwhile_rolls_the_batch_back(pg_url: str) -> None:
    """Between the look for existing ids and the insert, another transaction starts one of the
    ids (PostgreSQL, read committed): the script raises ``IngestRaced`` before writing any of
    the starts' other rows, so the caller rolls back and plans again."""

    def racing(script: SqlScript) -> SqlScript:
        step = next(script)
        try:
            while True:
                if isinstance(step, Many) and step.name == "insert_execution":
                    with psycopg.connect(pg_url, autocommit=True) as other:
                        other.execute(PG_QUERIES["insert_execution"],
                                      execution_insert_row(_start("raced")))  # fmt: skip
                step = script.send((yield step))
        except StopIteration as stop:
            return stop.value

    script = event_store_rows.ingest([_ingest("shop", "r", ["raced", "calm"])], [])
    async with await psycopg.AsyncConnection.connect(pg_url) as conn:
        with pytest.raises(IngestRaced, match="1 execution"):
            async with conn.transaction():
                await pg_driver.run(conn, PG_QUERIES, racing(script))
    store = open_store(pg_url)
    await store.open()
    try:
        assert await store.get_event("shop", "r") is None
        assert await store.load_execution("calm") is None
        assert await store.load_execution("raced") is not None  # the other's
        assert await store.load_history("raced") == []  # and nothing of ours
    finally:
        await store.close()


async def test_a_dead_letter_is_redriven_once(store: Store) -> None:
    letters = [DeadLetter(f"b-{n}", 1000 + n, "test", "not an event", "{broken") for n in (1, 2)]
    letters.append(DeadLetter("b-3", 1003, "test", "filter failed", "{}", "sub", "shop", "e-0"))
    await store.ingest([_ingest("shop", "e-0", [])], letters)
    # a body that is an event now: the event recorded with its start
    assert await store.redrive_dead_letter("b-1", 2000, _event("shop", "e-1", ["x-1"]),
                                           [_start("x-1")])  # fmt: skip
    assert (await store.get_event("shop", "e-1")) is not None
    assert (await store.load_execution("x-1")) is not None
    done = await store.get_dead_letter("b-1")
    assert done is not None and (done.redriven_at, done.redriven_to) == (2000, ["x-1"])
    # again: nothing more (once only)
    assert not await store.redrive_dead_letter("b-1", 3000, _event("shop", "e-1", ["x-2"]),
                                               [_start("x-2")])  # fmt: skip
    assert (await store.load_execution("x-2")) is None
    assert (await store.get_dead_letter("b-1")).redriven_at == 2000  # type: ignore[union-attr]
    # its event recorded already: marked, nothing started
    assert await store.redrive_dead_letter("b-2", 2000, _event("shop", "e-1", ["x-3"]),
                                           [_start("x-3")])  # fmt: skip
    assert (await store.load_execution("x-3")) is None
    assert (await store.get_dead_letter("b-2")).redriven_to == []  # type: ignore[union-attr]
    # a subscription's letter: its recorded event names the execution started
    assert await store.redrive_dead_letter("b-3", 2000, None, [_start("x-4")])
    recorded = await store.get_event("shop", "e-0")
    assert recorded is not None and recorded.execution_ids == ["x-4"]
    assert await store.get_dead_letter("nope") is None
