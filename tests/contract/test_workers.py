"""Workers and the steps they serve, on SQLite and PostgreSQL (``legato.ports.workers``): a
worker claims only its own steps, gives leases back so that others claim at once, and an
execution's tasks that no live worker serves are found for operators to see."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from legato.client import open_store
from legato.core.events import ExecutionStarted, Status
from legato.core.partitions import partition_of
from legato.core.transition import ExecutionUpdate, NewExecution, Task, Transition
from legato.ports.store import Store
from legato.ports.workers import WaitingStep

LIVE_MS = 1_000


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


def _task(eid: str, step_id: int, name: str, queue: str = "default") -> Task:
    return Task(f"{eid}:{step_id}", eid, step_id, name, queue, "[[], {}]", 0, 0, None, None)


async def _start(store: Store, eid: str, *tasks: Task) -> None:
    started = ExecutionStarted(1, "wf", "[[], {}]", "1")
    tr = Transition(
        eid, 0, 1, (started,), ExecutionUpdate(Status.RUNNING, None), task_inserts=tasks
    )
    new = NewExecution(eid, "wf", "1", "[[], {}]", 1, tr, partition_of(eid))
    assert (await store.start_execution(new)).created


async def test_a_worker_claims_only_the_steps_it_has(store: Store) -> None:
    await _start(store, "x", _task("x", 1, "old"), _task("x", 2, "new"))
    old = await store.claim_tasks("old-worker", ["default"], ["old"], 100, 1_000, 10)
    assert [t.name for t in old] == ["old"]
    assert await store.claim_tasks("old-worker", ["default"], ["old"], 200, 1_000, 10) == []
    new = await store.claim_tasks("new-worker", ["default"], ["old", "new"], 200, 1_000, 10)
    assert [t.name for t in new] == ["new"]  # "old" is leased to the old worker


async def test_given_back_leases_are_claimable_at_once_as_the_next_attempt(store: Store) -> None:
    await _start(store, "x", _task("x", 1, "a"), _task("x", 2, "b"), _task("x", 3, "c"))
    mine = await store.claim_tasks("w1", ["default"], ["a", "b"], 100, 30_000, 10)
    theirs = await store.claim_tasks("w2", ["default"], ["c"], 100, 30_000, 10)
    assert sorted(t.id for t in mine) == ["x:1", "x:2"] and [t.id for t in theirs] == ["x:3"]
    assert await store.finish_task("x:2", 1, "w1", '{"ok": true}')  # its outcome is kept
    # one task by id (a worker without the step gives it back), then all the owner holds
    assert await store.release_tasks("w1", ["x:1", "x:3"]) == 1  # x:3 is not w1's
    assert await store.release_tasks("w1", None) == 0  # x:2 has its outcome: nothing to give
    again = await store.claim_tasks("w3", ["default"], ["a", "b", "c"], 101, 30_000, 10)
    assert [(t.id, t.attempt, t.lease_owner) for t in again] == [("x:1", 2, "w3")]
    assert await store.release_tasks("w3", None) == 1
    assert [t.id for t in await store.claim_tasks("w4", ["default"], ["a"], 102, 30_000, 10)] == [
        "x:1"
    ]


async def test_waiting_steps_are_those_no_live_worker_serves(store: Store) -> None:
    await _start(
        store,
        "x",
        _task("x", 1, "old"),
        _task("x", 2, "new"),
        _task("x", 3, "new", queue="gpu"),
    )
    waiting = [
        WaitingStep("x:1", "old", "default"),
        WaitingStep("x:2", "new", "default"),
        WaitingStep("x:3", "new", "gpu"),
    ]
    assert await store.waiting_steps("x", 100) == waiting  # no worker at all
    await store.heartbeat_worker("old-w", ["default"], ["old"], 100, LIVE_MS, leaving=False)
    assert await store.waiting_steps("x", 100) == waiting[1:]
    await store.heartbeat_worker("new-w", ["default"], ["old", "new"], 100, LIVE_MS, False)
    assert await store.waiting_steps("x", 100) == waiting[2:]  # "new" on "gpu": nobody
    # a claimed task does not wait, whoever holds it
    await store.claim_tasks("gpu-w", ["gpu"], ["new"], 100, 500, 10)
    assert await store.waiting_steps("x", 100) == []
    # its lease runs out, and the workers go quiet: all three wait again
    assert await store.waiting_steps("x", 100 + LIVE_MS + 1) == waiting
    # a worker that leaves serves nothing from then on
    await store.heartbeat_worker("new-w", ["default"], ["old", "new"], 900, LIVE_MS, True)
    await store.heartbeat_worker("old-w", ["default"], ["old"], 900, LIVE_MS, False)
    assert await store.waiting_steps("x", 901) == waiting[1:]
    assert await store.waiting_steps("other", 901) == []
