"""The Store contract, on a real SQLite file and a real PostgreSQL database: transitions are
all-or-nothing, guarded by the execution's sequence number and by the tasks they consume; a
stale transition in a batch does not disturb the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from legato.client import open_store
from legato.core.events import (
    EventType,
    ExecutionCompleted,
    ExecutionStarted,
    Status,
    StepCompleted,
    StepScheduled,
)
from legato.core.partitions import PARTITIONS, partition_of
from legato.core.transition import ExecutionUpdate, NewExecution, Task, Transition
from legato.ports.executions import StaleTransition
from legato.ports.store import Store


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


def _task(eid: str, step_id: int) -> Task:
    return Task(f"{eid}:{step_id}", eid, step_id, "work", "default", "[[], {}]", 0, 1, "me", 10_000)


async def _start(store: Store, eid: str) -> None:
    started = ExecutionStarted(1, "wf", "[[], {}]", "1")
    scheduled = StepScheduled(1, 1, "work", "[[], {}]", "default")
    tr = Transition(
        eid,
        0,
        1,
        (started, scheduled),
        ExecutionUpdate(Status.RUNNING, "work"),
        task_inserts=(_task(eid, 1),),
    )
    result = await store.start_execution(
        NewExecution(eid, "wf", "1", "[[], {}]", 1, tr, partition_of(eid))
    )
    assert result.created


def _complete(eid: str, expected_seq: int, attempt: int = 1) -> Transition:
    done = StepCompleted(2, 1, "work", "7", 1)
    closed = ExecutionCompleted(2, "7")
    update = ExecutionUpdate(Status.COMPLETED, None, output="7", closed_at=2)
    return Transition(
        eid, expected_seq, 2, (done, closed), update, task_deletes=((f"{eid}:1", attempt),)
    )


async def test_start_is_idempotent_and_reports_the_existing_execution(store: Store) -> None:
    await _start(store, "a")
    started = ExecutionStarted(5, "other", "[[1], {}]", "9")
    tr = Transition("a", 0, 5, (started,), ExecutionUpdate(Status.PENDING, None))
    again = await store.start_execution(
        NewExecution("a", "other", "9", "[[1], {}]", 5, tr, partition_of("a"))
    )
    assert not again.created and again.existing is not None
    assert (again.existing.workflow, again.existing.seq) == ("wf", 2)
    assert [e.type for e in await store.load_history("a")] == [
        EventType.EXECUTION_STARTED,
        EventType.STEP_SCHEDULED,
    ]


async def test_a_stale_transition_in_a_batch_leaves_the_others_committed(
    store: Store,
) -> None:
    for eid in ("a", "b", "c"):
        await _start(store, eid)
    results = await asyncio.gather(
        store.submit(_complete("a", 2)),
        store.submit(_complete("b", 1)),  # wrong sequence number: someone else moved it on
        store.submit(_complete("c", 2, attempt=3)),  # a task attempt that is not the current one
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], StaleTransition) and isinstance(results[2], StaleTransition)
    a, b, c = [await store.load_execution(e) for e in "abc"]
    assert a is not None and (a.status, a.seq, a.output) == (Status.COMPLETED, 4, "7")
    for row in (b, c):  # untouched: nothing half-written
        assert row is not None and (row.status, row.seq, row.output) == (Status.RUNNING, 2, None)
        assert len(await store.load_history(row.id)) == 2


async def test_a_transition_applies_once(store: Store) -> None:
    await _start(store, "a")
    await store.submit(_complete("a", 2))
    with pytest.raises(StaleTransition):
        await store.submit(_complete("a", 2))  # the same decision again: refused
    assert [e.seq for e in await store.load_history("a")] == [1, 2, 3, 4]


async def test_claiming_leases_and_finishing(store: Store) -> None:
    started = ExecutionStarted(1, "wf", "[[], {}]", "1")
    free = Task("x:1", "x", 1, "work", "default", "[[], {}]", 0, 0, None, None)
    tr = Transition(
        "x", 0, 1, (started,), ExecutionUpdate(Status.RUNNING, None), task_inserts=(free,)
    )
    await store.start_execution(NewExecution("x", "wf", "1", "[[], {}]", 1, tr, partition_of("x")))
    got = await store.claim_tasks("w1", ["default"], ["work"], now=100, lease_ms=50, limit=10)
    assert [(t.id, t.attempt, t.lease_owner) for t in got] == [("x:1", 1, "w1")]
    held = await store.claim_tasks("w2", ["default"], ["work"], now=120, lease_ms=50, limit=10)
    assert held == []
    # the lease ran out: another worker takes it, as the next attempt
    again = await store.claim_tasks("w2", ["default"], ["work"], now=151, lease_ms=50, limit=10)
    assert [(t.id, t.attempt, t.lease_owner) for t in again] == [("x:1", 2, "w2")]
    assert not await store.finish_task("x:1", 1, "w1", '{"ok": true}')  # the old attempt: ignored
    assert await store.finish_task("x:1", 2, "w2", '{"ok": true}')
    assert [t.id for t in await store.done_tasks(10, [partition_of("x")])] == ["x:1"]


async def test_partition_leases_split_between_replicas_and_expire(store: Store) -> None:
    # one replica alone takes every partition
    alone = await store.balance_partitions("r1", now=1_000, lease_ms=500, target=PARTITIONS)
    assert alone == list(range(PARTITIONS))
    # a second replica finds none free until the first gives its surplus back
    assert await store.balance_partitions("r2", now=1_100, lease_ms=500, target=32) == []
    kept = await store.balance_partitions("r1", now=1_200, lease_ms=500, target=32)
    assert kept == list(range(32))
    taken = await store.balance_partitions("r2", now=1_300, lease_ms=500, target=32)
    assert taken == list(range(32, 64))
    # r1 stops renewing: once its leases expire, r2 takes them over
    assert await store.balance_partitions("r2", now=1_600, lease_ms=500, target=64) == taken
    after = await store.balance_partitions("r2", now=1_800, lease_ms=500, target=64)
    assert after == list(range(PARTITIONS))
    # and r1, back late, finds its leases gone
    assert await store.balance_partitions("r1", now=1_900, lease_ms=500, target=32) == []


async def test_replica_heartbeats_count_the_live_ones(store: Store) -> None:
    assert await store.heartbeat_replica("r1", 1_000, 500, leaving=False) == 1
    assert await store.heartbeat_replica("r2", 1_100, 500, leaving=False) == 2
    assert await store.heartbeat_replica("r2", 1_700, 500, leaving=False) == 1  # r1 went quiet
    assert await store.heartbeat_replica("r2", 1_800, 500, leaving=True) == 0
