"""Each way a store writes transitions, taken on purpose, with a stale transition in the batch
where the path has to detect one (docs/ARCHITECTURE.md, "Write paths").

SQLite: ``batch`` (one ``executemany`` per statement; the guards' summed row counts must match)
and, when a guard falls short, ``one_by_one`` (a savepoint per transition). PostgreSQL:
``script`` (a small batch as one multi-statement script), ``pipeline`` (a large one, pipelined),
both aborted by ``legato_expect_one`` on a stale guard, and ``one_by_one`` (a savepoint per job:
after such an abort, or for a batch that holds other operations).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from legato.adapters.postgres import PostgresStore
from legato.adapters.sqlite import SqliteStore
from legato.client import open_store
from legato.core.events import ExecutionCompleted, ExecutionStarted, Status, StepCompleted
from legato.core.messages import InboxKind, InboxMessage
from legato.core.partitions import partition_of
from legato.core.transition import ExecutionUpdate, NewExecution, Task, Transition
from legato.ports.executions import StaleTransition

Store = SqliteStore | PostgresStore
SMALL, LARGE = 3, 24  # PostgreSQL scripts batches up to 16 jobs and 64 rows


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    assert isinstance(s, SqliteStore | PostgresStore)
    await s.open()
    yield s
    await s.close()


def dialect(store: Store) -> str:
    return "sqlite" if isinstance(store, SqliteStore) else "postgres"


async def start(store: Store, n: int) -> list[str]:
    ids = [f"e{i}" for i in range(n)]
    for eid in ids:
        task = Task(f"{eid}:1", eid, 1, "work", "default", "[[],{}]", 1, 1, "me", 9_999)
        started = ExecutionStarted(1, "wf", "[[],{}]", "1")
        tr = Transition(
            eid, 0, 1, (started,), ExecutionUpdate(Status.RUNNING, "work"), task_inserts=(task,)
        )
        assert (
            await store.start_execution(
                NewExecution(eid, "wf", "1", "[[],{}]", 1, tr, partition_of(eid))
            )
        ).created
    return ids


def complete(eid: str, seq: int = 1) -> Transition:
    events = (StepCompleted(2, 1, "work", "7", 1), ExecutionCompleted(2, "7"))
    update = ExecutionUpdate(Status.COMPLETED, None, output="7", closed_at=2)
    return Transition(eid, seq, 2, events, update, task_deletes=((f"{eid}:1", 1),))


async def commit_together(store: Store, trs: list[Transition]) -> tuple[list[object], Counter[str]]:
    """Submit in one loop turn (so they form one batch); the results and the paths taken."""
    before = Counter(store.writer.paths)
    results = await asyncio.gather(*(store.submit(tr) for tr in trs), return_exceptions=True)
    return list(results), Counter(store.writer.paths) - before


async def statuses(store: Store, ids: list[str]) -> list[Status]:
    rows = [await store.load_execution(eid) for eid in ids]
    return [row.status for row in rows if row is not None]


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["small", "large"])
async def test_a_batch_commits_whole_on_the_fast_path(store: Store, n: int) -> None:
    ids = await start(store, n)
    results, paths = await commit_together(store, [complete(eid) for eid in ids])
    assert results == [None] * n
    fast = {"sqlite": "batch", "postgres": "script" if n == SMALL else "pipeline"}[dialect(store)]
    assert paths == Counter({fast: 1})
    assert await statuses(store, ids) == [Status.COMPLETED] * n


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["small", "large"])
async def test_a_stale_transition_is_found_and_only_it_is_refused(store: Store, n: int) -> None:
    ids = await start(store, n)
    trs = [complete(eid) for eid in ids]
    stale = n // 2
    trs[stale] = complete(ids[stale], seq=0)  # decided on a history that has moved on
    results, paths = await commit_together(store, trs)
    assert isinstance(results[stale], StaleTransition)
    assert [r for i, r in enumerate(results) if i != stale] == [None] * (n - 1)
    fast = {"sqlite": "batch", "postgres": "script" if n == SMALL else "pipeline"}[dialect(store)]
    assert paths == Counter({fast: 1, "one_by_one": 1})  # tried whole, then redone one by one
    expected = [Status.COMPLETED] * n
    expected[stale] = Status.RUNNING  # untouched: nothing half-written
    assert await statuses(store, ids) == expected
    assert len(await store.load_history(ids[stale])) == 1


async def test_a_batch_with_other_operations(store: Store) -> None:
    """A message sent in the same turn as transitions: SQLite runs it in the batch's own
    transaction; PostgreSQL, whose operations need their answers mid-way, goes one by one."""
    ids = await start(store, SMALL)
    message = InboxMessage(ids[0], InboxKind.SIGNAL, "s", None, "1", 2)
    before = Counter(store.writer.paths)
    sending = asyncio.ensure_future(store.send(message))
    await asyncio.sleep(0)  # the send has handed its operation to the writer, not yet written
    results = await asyncio.gather(*(store.submit(complete(eid)) for eid in ids[1:]))
    sent = await sending
    paths = Counter(store.writer.paths) - before
    assert sent is True and results == [None] * (SMALL - 1)
    assert paths == Counter({{"sqlite": "batch", "postgres": "one_by_one"}[dialect(store)]: 1})
    assert [m.name for m in await store.load_inbox(ids[0])] == ["s"]
    assert await statuses(store, ids) == [Status.RUNNING] + [Status.COMPLETED] * (SMALL - 1)


async def test_operations_redone_with_a_stale_transition_write_and_answer(store: Store) -> None:
    """Operations that run a script (a replica's heartbeat, its partitions' leases) in a batch
    whose stale transition sends it down the slower path are run again there, whole: each
    answers what it wrote, not None."""
    ids = await start(store, SMALL)
    before = Counter(store.writer.paths)
    beating = asyncio.ensure_future(store.heartbeat_replica("r1", 10, 30_000, leaving=False))
    balancing = asyncio.ensure_future(store.balance_partitions("r1", 10, 30_000, 4))
    await asyncio.sleep(0)  # both handed to the writer, not yet written
    trs = [complete(ids[0]), complete(ids[1], seq=0), complete(ids[2])]
    results = await asyncio.gather(*(store.submit(tr) for tr in trs), return_exceptions=True)
    live, held = await beating, await balancing
    assert isinstance(results[1], StaleTransition) and results[0] is None and results[2] is None
    if dialect(store) == "sqlite":  # it took the path that runs the operations again
        assert Counter(store.writer.paths) - before == Counter({"batch": 1, "one_by_one": 1})
    assert live == 1
    assert len(held) == 4
    assert await store.balance_partitions("r1", 11, 30_000, 4) == held  # they were written
