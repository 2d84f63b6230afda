"""The ``Schedules`` port on SQLite and PostgreSQL: compare-and-set on the revision, and a fire
as one transaction that never starts a fire's run twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from legato.client import open_store
from legato.core import decide
from legato.core.events import Status
from legato.core.partitions import partition_of
from legato.core.schedules import FireKind, FireOutcome, OverlapPolicy, ScheduleSpec, execution_id
from legato.core.transition import NewExecution
from legato.ports.schedules import Fire, Schedule
from legato.ports.store import Store

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE = 60_000


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    opened = open_store(any_db_url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def schedule(name: str = "nightly", overlap: OverlapPolicy = OverlapPolicy.SKIP) -> Schedule:
    return Schedule(
        name=name, workflow="job", version=None, spec=ScheduleSpec(interval_ms=MINUTE),
        input="[[1],{}]", overlap=overlap, catchup_window_ms=MINUTE, paused=False, note=None,
        next_fire_ms=NOW + MINUTE, buffered_ms=None, running=(), missed=0, skipped=0, started=0,
        revision=1, origin="api", partition=partition_of(name), created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def new_execution(name: str, fire_ms: int) -> NewExecution:
    return decide.pending_start(execution_id(name, fire_ms), "job", "1", "[[1],{}]", fire_ms)


def fire(s: Schedule, at: int, revision: int | None = None) -> Fire:
    return Fire(
        s.name, s.revision if revision is None else revision, at, FireKind.SCHEDULED,
        new_execution(s.name, at), at + MINUTE, now=at,
    )  # fmt: skip


async def test_insert_get_list_update_delete(store: Store) -> None:
    s = schedule()
    assert await store.insert_schedule(s)
    assert not await store.insert_schedule(replace(s, workflow="other"))  # the name is taken
    assert await store.get_schedule("nightly") == s
    assert await store.get_schedule("nope") is None
    assert await store.list_schedules() == [s]
    assert await store.list_schedules([s.partition]) == [s]
    assert await store.list_schedules([(s.partition + 1) % 64]) == []

    paused = replace(s, paused=True, note="why", revision=2, updated_at=NOW + 1)
    assert await store.update_schedule(paused, expected_revision=1)
    assert not await store.update_schedule(replace(s, revision=2), expected_revision=1)  # moved on
    assert await store.get_schedule("nightly") == paused

    assert await store.delete_schedule("nightly")
    assert not await store.delete_schedule("nightly")
    assert await store.get_schedule("nightly") is None


async def test_a_fire_starts_its_execution_once_and_moves_the_schedule(store: Store) -> None:
    s = schedule()
    await store.insert_schedule(s)
    at = NOW + MINUTE
    done = await store.fire_schedule(fire(s, at))
    assert done.outcome == FireOutcome.STARTED and done.created
    assert done.execution_id == "nightly-2026-01-01T00:01:00Z"
    row = await store.load_execution(done.execution_id)
    assert row is not None and row.status == Status.PENDING and row.workflow == "job"
    moved = await store.get_schedule("nightly")
    assert moved is not None
    assert (moved.revision, moved.next_fire_ms, moved.started) == (2, at + MINUTE, 1)
    assert moved.running == (done.execution_id,)
    # the same fire again, decided on the old revision (another replica): nothing is done
    again = await store.fire_schedule(fire(s, at))
    assert again.outcome is None
    assert await store.get_schedule("nightly") == moved
    recorded = await store.schedule_fires("nightly", 10)
    assert [(f.fire_ms, f.outcome, f.execution_id) for f in recorded] == [
        (at, FireOutcome.STARTED, done.execution_id)
    ]


async def test_racing_fires_on_one_revision_start_one_run(store: Store) -> None:
    s = schedule(overlap=OverlapPolicy.ALLOW_ALL)
    await store.insert_schedule(s)
    at = NOW + MINUTE
    results = await asyncio.gather(*(store.fire_schedule(fire(s, at)) for _ in range(8)))
    assert sorted(r.outcome is not None for r in results) == [False] * 7 + [True]
    assert (await store.count_executions(None, None)) == 1


async def test_skip_while_open_then_start_once_closed(store: Store) -> None:
    s = schedule()
    await store.insert_schedule(s)
    first = await store.fire_schedule(fire(s, NOW + MINUTE))
    s2 = await store.get_schedule("nightly")
    assert s2 is not None
    skipped = await store.fire_schedule(fire(s2, NOW + 2 * MINUTE))
    assert skipped.outcome == FireOutcome.SKIPPED and skipped.execution_id is None
    s3 = await store.get_schedule("nightly")
    assert s3 is not None and s3.skipped == 1 and s3.running == (first.execution_id,)
    assert await store.count_executions(None, None) == 1


async def test_buffer_one_keeps_a_fire_and_starts_it_from_the_buffer(store: Store) -> None:
    s = schedule(overlap=OverlapPolicy.BUFFER_ONE)
    await store.insert_schedule(s)
    await store.fire_schedule(fire(s, NOW + MINUTE))
    s2 = await store.get_schedule("nightly")
    assert s2 is not None
    held = await store.fire_schedule(fire(s2, NOW + 2 * MINUTE))
    assert held.outcome == FireOutcome.BUFFERED
    s3 = await store.get_schedule("nightly")
    assert s3 is not None and s3.buffered_ms == NOW + 2 * MINUTE
    at = NOW + 2 * MINUTE
    from_buffer = Fire("nightly", s3.revision, at, FireKind.SCHEDULED, new_execution("nightly", at),
                       s3.next_fire_ms, from_buffer=True, now=at + 30_000)  # fmt: skip
    # its run is still PENDING: the buffered fire keeps waiting
    assert (await store.fire_schedule(from_buffer)).outcome is None


async def test_a_backfill_starts_a_time_that_fired_nothing_and_counts_one_that_did(
    store: Store,
) -> None:
    s = schedule()
    await store.insert_schedule(s)
    at = NOW + MINUTE
    live = await store.fire_schedule(fire(s, at))
    back = Fire(s.name, None, at, FireKind.BACKFILL, new_execution(s.name, at), None, now=at)
    again = await store.fire_schedule(back)
    assert again.execution_id == live.execution_id and not again.created
    earlier = NOW - MINUTE
    old = Fire(s.name, None, earlier, FireKind.BACKFILL, new_execution(s.name, earlier), None,
               now=at)  # fmt: skip
    made = await store.fire_schedule(old)
    assert made.created and made.outcome == FireOutcome.STARTED
    kinds = [(f.fire_ms, f.kind) for f in await store.schedule_fires("nightly", 10)]
    assert kinds == [(at, FireKind.SCHEDULED), (earlier, FireKind.BACKFILL)]
    after = await store.get_schedule("nightly")
    assert after is not None and after.running == (live.execution_id,)  # a backfill's are its own
