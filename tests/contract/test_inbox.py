"""The inbox part of the Store contract, on SQLite and PostgreSQL: messages only for open
executions, consumed once by a guarded transition, dropped when the execution closes; child
executions started in the parent's transition and answered through its inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from legato.client import open_store
from legato.core.events import (
    ChildScheduled,
    Event,
    EventType,
    ExecutionCompleted,
    ExecutionStarted,
    SignalReceived,
    Status,
)
from legato.core.messages import InboxKind, InboxMessage
from legato.core.partitions import PARTITIONS, partition_of
from legato.core.transition import ChildStart, ExecutionUpdate, NewExecution, Transition
from legato.ports.executions import StaleTransition
from legato.ports.store import Store

ALL = list(range(PARTITIONS))


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


async def _start(store: Store, eid: str, status: Status = Status.RUNNING) -> None:
    started = ExecutionStarted(1, "wf", "[[], {}]", "1")
    tr = Transition(eid, 0, 1, (started,), ExecutionUpdate(status, None))
    new = NewExecution(eid, "wf", "1", "[[], {}]", 1, tr, partition_of(eid))
    assert (await store.start_execution(new)).created


def _signal(eid: str, name: str, payload: str) -> InboxMessage:
    return InboxMessage(eid, InboxKind.SIGNAL, name, None, payload, 5)


def _consume(eid: str, seq: int, ids: list[int], close: bool = False) -> Transition:
    events: list[Event] = [SignalReceived(6, "s", None, i) for i in ids]
    update = ExecutionUpdate(Status.RUNNING, None, progress_only=True)
    if close:
        events.append(ExecutionCompleted(6, "1"))
        update = ExecutionUpdate(Status.COMPLETED, None, output="1", closed_at=6)
    return Transition(eid, seq, 6, tuple(events), update, inbox_deletes=tuple(ids))


async def test_messages_go_only_to_open_executions_and_come_out_in_order(store: Store) -> None:
    await _start(store, "a")
    assert not await store.send(_signal("nobody", "s", "1"))
    for i in range(3):
        assert await store.send(_signal("a", "s", str(i)))
    rows = await store.inbox(10, ALL)
    assert [(r.execution_id, r.kind, r.name, r.payload) for r in rows] == [
        ("a", "signal", "s", "0"),
        ("a", "signal", "s", "1"),
        ("a", "signal", "s", "2"),
    ]
    assert rows[0].id < rows[1].id < rows[2].id
    assert await store.inbox(10, [p for p in ALL if p != partition_of("a")]) == []
    assert [r.id for r in await store.load_inbox("a")] == [r.id for r in rows]


async def test_a_pending_execution_takes_messages_but_is_not_polled_until_running(
    store: Store,
) -> None:
    await _start(store, "p", Status.PENDING)
    assert await store.send(_signal("p", "s", "1"))
    assert await store.inbox(10, ALL) == []
    assert len(await store.load_inbox("p")) == 1


async def test_a_message_is_consumed_once(store: Store) -> None:
    await _start(store, "a")
    await store.send(_signal("a", "s", "1"))
    [row] = await store.inbox(10, ALL)
    await store.submit(_consume("a", 1, [row.id]))
    assert await store.inbox(10, ALL) == []
    with pytest.raises(StaleTransition):  # a second decision consuming it again: refused
        await store.submit(_consume("a", 2, [row.id]))
    assert len(await store.load_history("a")) == 2


async def test_closing_drops_unread_messages_and_refuses_new_ones(store: Store) -> None:
    await _start(store, "a")
    await store.send(_signal("a", "s", "1"))
    await store.send(_signal("a", "s", "2"))
    first = (await store.inbox(10, ALL))[0]
    await store.submit(_consume("a", 1, [first.id], close=True))
    assert await store.load_inbox("a") == []
    assert not await store.send(_signal("a", "s", "3"))


def _child_start(parent: str, child: str, ref: int, input_json: str, wait: bool) -> ChildStart:
    started = ExecutionStarted(7, "kid", input_json, "1", parent_id=parent, parent_ref=ref)
    tr = Transition(child, 0, 7, (started,), ExecutionUpdate(Status.PENDING, None))
    new = NewExecution(child, "kid", "1", input_json, 7, tr, partition_of(child))
    return ChildStart(new, parent, ref, wait)


def _parent_step(parent: str, seq: int, starts: list[ChildStart]) -> Transition:
    events = tuple(
        ChildScheduled(7, c.command_id, "kid", c.new.input or "", c.new.id, c.wait) for c in starts
    )
    update = ExecutionUpdate(Status.RUNNING, None, progress_only=True)
    return Transition(parent, seq, 7, events, update, child_starts=tuple(starts))


async def test_a_child_starts_with_its_parent_and_reports_when_it_closes(store: Store) -> None:
    await _start(store, "p")
    await store.submit(_parent_step("p", 1, [_child_start("p", "p/1", 1, "[[1], {}]", True)]))
    child = await store.load_execution("p/1")
    assert child is not None and (child.status, child.seq) == (Status.PENDING, 1)
    history = await store.load_history("p/1")
    assert [e.type for e in history] == [EventType.EXECUTION_STARTED]
    started = history[0]
    assert isinstance(started, ExecutionStarted) and started.parent_id == "p"
    assert await store.inbox(10, ALL) == []  # nothing to say yet
    done = ExecutionCompleted(8, "42")
    await store.submit(
        Transition(
            "p/1", 1, 8, (done,), ExecutionUpdate(Status.COMPLETED, None, output="42", closed_at=8)
        )
    )
    [row] = await store.inbox(10, ALL)
    assert (row.execution_id, row.kind, row.name, row.ref, row.payload) == (
        "p",
        "child",
        "completed",
        1,
        "42",
    )


async def test_an_existing_child_id_attaches_reports_or_conflicts(store: Store) -> None:
    await _start(store, "p")
    await _start(store, "q")
    await store.submit(_parent_step("p", 1, [_child_start("p", "kid-1", 1, "[[1], {}]", True)]))
    await store.submit(
        _parent_step(
            "q",
            1,
            [
                _child_start("q", "kid-1", 1, "[[2], {}]", True),  # another input
                _child_start("q", "kid-1", 2, "[[1], {}]", True),  # p's running child
                _child_start("q", "kid-1", 3, "[[1], {}]", False),  # fire and forget: attach
            ],
        )
    )
    rows = {r.ref: r for r in await store.load_inbox("q")}
    assert (rows[1].name, rows[2].name, rows[3].name) == ("conflict", "conflict", "started")
    assert rows[3].payload == "7"  # the child's start time
    assert len(await store.load_history("kid-1")) == 1  # started once
