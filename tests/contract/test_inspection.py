"""An operator's reads (``legato.ports.inspection``), on a real SQLite file and a real
PostgreSQL database: counting executions, finding one by the first characters of its id, and the
steps waiting for their next attempt after a failed one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from legato.client import open_store
from legato.core.events import (
    ExecutionCompleted,
    ExecutionStarted,
    Status,
    StepCompleted,
    StepRetryScheduled,
    StepScheduled,
)
from legato.core.partitions import partition_of
from legato.core.transition import ExecutionUpdate, NewExecution, Task, TaskRetry, Transition
from legato.ports.inspection import QueueStats, ReplicaSeen, RetryingStep, WorkerSeen
from legato.ports.store import Store

LEASE = 30_000


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


async def _start(
    store: Store, eid: str, workflow: str = "wf", *, now: int = 1, leased: bool = True
) -> None:
    """A RUNNING execution with one step scheduled: its task pre-leased (a local worker runs
    it) or left for any worker's claim."""
    started = ExecutionStarted(now, workflow, "[[], {}]", "1")
    scheduled = StepScheduled(now, 1, "work", "[[], {}]", "default")
    owner, expires, attempt = ("me", now + LEASE, 1) if leased else (None, None, 0)
    task = Task(f"{eid}:1", eid, 1, "work", "default", "[[], {}]", now, attempt, owner, expires)
    tr = Transition(
        eid, 0, now, (started, scheduled), ExecutionUpdate(Status.RUNNING, "work"),
        task_inserts=(task,),
    )  # fmt: skip
    new = NewExecution(eid, workflow, "1", "[[], {}]", now, tr, partition_of(eid))
    assert (await store.start_execution(new)).created


async def _retry(
    store: Store, eid: str, *, now: int, delay: int, attempt: int = 1, local: bool = False
) -> None:
    """The first attempt failed; the next is due ``delay`` ms later (pre-leased if ``local``)."""
    event = StepRetryScheduled(now, 1, "work", attempt, "ConnectionError", f"refused {eid}", delay)
    at = now + delay
    owner, expires = ("me", at + LEASE) if local else (None, None)
    tr = Transition(
        eid, 2, now, (event,), ExecutionUpdate(Status.RUNNING, "work", progress_only=True),
        task_retries=(TaskRetry(f"{eid}:1", attempt, at, owner, expires),),
    )  # fmt: skip
    await store.submit(tr)


async def test_retrying_steps_are_those_waiting_for_their_next_attempt(store: Store) -> None:
    await _start(store, "soon")
    await _retry(store, "soon", now=100, delay=1_000)  # next attempt at 1_100, any worker
    await _start(store, "later")
    await _retry(store, "later", now=200, delay=5_000, local=True)  # at 5_200, held by "me"
    await _start(store, "healthy")  # its first attempt has not failed: not retrying

    found = await store.retrying_steps(now=500, limit=10)
    assert found == [
        RetryingStep("soon", "wf", 1, "work", 1, "ConnectionError", "refused soon", 100, 1_100),
        RetryingStep("later", "wf", 1, "work", 1, "ConnectionError", "refused later", 200, 5_200),
    ]
    assert [s.execution_id for s in await store.retrying_steps(now=500, limit=1)] == ["soon"]
    only = await store.retrying_steps(now=500, limit=10, execution_id="later")
    assert [s.execution_id for s in only] == ["later"]
    assert await store.retrying_steps(now=500, limit=10, execution_id="healthy") == []

    # Past its time, "soon" is overdue (nobody has taken it: still waiting); "later" is held
    # by the worker that runs its next attempt now, until that worker's lease runs out.
    assert [s.execution_id for s in await store.retrying_steps(now=6_000, limit=10)] == ["soon"]
    expired = await store.retrying_steps(now=5_200 + LEASE + 1, limit=10)
    assert [s.execution_id for s in expired] == ["soon", "later"]

    # A worker claims "soon"'s next attempt: it runs, it no longer waits ("later" still does).
    claimed = await store.claim_tasks("w", ["default"], ["work"], 2_000, LEASE, 1)
    assert [(t.id, t.attempt) for t in claimed] == [("soon:1", 2)]
    assert [s.execution_id for s in await store.retrying_steps(now=2_000, limit=10)] == ["later"]


async def test_the_last_failure_is_the_one_shown(store: Store) -> None:
    await _start(store, "a")
    await _retry(store, "a", now=100, delay=1_000, local=True)  # attempt 2 is held by "me"
    second = StepRetryScheduled(2_000, 1, "work", 2, "TimeoutError", "slow", 4_000)
    await store.submit(
        Transition(
            "a", 3, 2_000, (second,), ExecutionUpdate(Status.RUNNING, "work", progress_only=True),
            task_retries=(TaskRetry("a:1", 2, 6_000, None, None),),
        )
    )  # fmt: skip
    [step] = await store.retrying_steps(now=2_500, limit=10)
    assert (step.attempt, step.error_type, step.message) == (2, "TimeoutError", "slow")
    assert (step.failed_at, step.next_attempt_at) == (2_000, 6_000)


async def test_a_step_that_completed_after_retrying_is_not_listed(store: Store) -> None:
    await _start(store, "a")
    await _retry(store, "a", now=100, delay=1_000, local=True)
    done = StepCompleted(1_200, 1, "work", "7", 2)
    await store.submit(
        Transition(
            "a", 3, 1_200, (done, ExecutionCompleted(1_200, "7")),
            ExecutionUpdate(Status.COMPLETED, None, output="7", closed_at=1_200),
            task_deletes=(("a:1", 2),),
        )
    )  # fmt: skip
    assert await store.retrying_steps(now=500, limit=10) == []


async def test_count_executions_with_and_without_filters(store: Store) -> None:
    for i in range(3):
        await _start(store, f"a{i}", "alpha", now=10 + i)
    await _start(store, "b0", "beta", now=20)
    await store.submit(
        Transition(
            "b0", 2, 30, (ExecutionCompleted(30, "1"),),
            ExecutionUpdate(Status.COMPLETED, None, output="1", closed_at=30),
            task_deletes=(("b0:1", 1),),
        )
    )  # fmt: skip
    assert await store.count_executions() == 4
    assert await store.count_executions(workflow="alpha") == 3
    assert await store.count_executions(Status.RUNNING) == 3
    assert await store.count_executions(Status.COMPLETED, "beta") == 1
    assert await store.count_executions(Status.FAILED) == 0
    assert len(await store.list_executions(None, None, 2)) == 2


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("ab", ["ab-1", "ab-2", "ab-3"]),  # by id; case-sensitive (not "AB-4")
        ("ab-2", ["ab-2"]),
        ("AB", ["AB-4"]),
        ("a*", ["a*b"]),  # wildcards of GLOB and LIKE are taken literally
        ("a%", ["a%b"]),
        ("a_", ["a_b"]),
        ("a[", ["a[b"]),
        ("a?", []),
        ("zz", []),
    ],
)
async def test_executions_by_prefix(store: Store, prefix: str, expected: list[str]) -> None:
    for eid in ("ab-3", "ab-1", "AB-4", "ab-2", "a*b", "a%b", "a_b", "a[b", "axb"):
        await _start(store, eid)
    found = await store.executions_by_prefix(prefix, limit=10)
    assert [r.id for r in found] == expected
    if len(expected) > 1:
        assert [r.id for r in await store.executions_by_prefix(prefix, limit=2)] == expected[:2]


async def test_queue_stats_tell_ready_running_and_scheduled_tasks_apart(store: Store) -> None:
    await _start(store, "a", leased=False, now=1)  # any worker's: ready from 1
    await _start(store, "b", now=5)  # held by "me" until 5 + LEASE
    await _start(store, "c")
    await _retry(store, "c", now=100, delay=1_000)  # its next attempt: from 1_100, any worker
    await _start(store, "d", now=2)  # held until 2 + LEASE

    assert await store.queue_stats(now=500) == [
        QueueStats("default", ready=1, oldest_ready_at=1, running=2, scheduled=1)
    ]
    # past every lease and the retry's time: all four may be claimed
    assert await store.queue_stats(now=40_000) == [
        QueueStats("default", ready=4, oldest_ready_at=1, running=0, scheduled=0)
    ]


async def test_queue_stats_of_an_empty_queue_table(store: Store) -> None:
    assert await store.queue_stats(now=1) == []


async def test_live_replicas_and_workers(store: Store) -> None:
    now, live = 100_000, 30_000
    await store.heartbeat_replica("engine:old:1:a", now - 3 * live, live, leaving=False)
    await store.heartbeat_replica("engine:here:2:b", now, live, leaving=False)
    assert len(await store.balance_partitions("engine:here:2:b", now, live, 10)) == 10
    assert await store.live_replicas(now, live) == [ReplicaSeen("engine:here:2:b", now, 10)]

    await store.heartbeat_worker("remote:x:3:c", ["q"], ["s"], now, 5_000, leaving=False)
    await store.heartbeat_worker("engine:here:2:b", ["default"], ["a", "b"], now, live, False)
    assert await store.live_workers(now + 5_000) == [
        WorkerSeen("engine:here:2:b", ["default"], ["a", "b"], now, now + live),
        WorkerSeen("remote:x:3:c", ["q"], ["s"], now, now + 5_000),
    ]
    assert [w.owner for w in await store.live_workers(now + 5_001)] == ["engine:here:2:b"]
