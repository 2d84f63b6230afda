"""Two scheduler replicas on one PostgreSQL database, started together so the partitions (and
with them the schedules) move from one to the other while hundreds of fires are due: every
fire time is recorded once and starts exactly one execution, whichever replica fired it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import legato
from legato.client import open_store
from legato.core.events import EventType
from legato.core.schedules import FireOutcome, execution_id
from tests.conftest import poll

SCHEDULES = 8
BACKLOG_S = 40  # each schedule starts with this many fires due (its catch-up)
LIVE_S = 5  # and fires every second for at least this long with both replicas up


def make_app(url: str) -> legato.App:
    app = legato.App(url, lease_seconds=2.0)

    @app.workflow(name="tick")
    async def tick(ctx: legato.Context, n: int) -> int:
        return n

    return app


async def test_two_replicas_fire_many_times_and_never_start_a_fire_twice(pg_url: str) -> None:
    setup = make_app(pg_url)
    now = datetime.now(UTC)
    begin = now.replace(microsecond=0) - timedelta(seconds=BACKLOG_S)
    names = [f"tick-{i}" for i in range(SCHEDULES)]
    for name in names:
        await setup.create_schedule(
            legato.ScheduleDef(
                name, "tick", interval=1.0, args=(1,), overlap="allow_all",
                start_at=begin, catchup_window=timedelta(hours=1),
            )
        )  # fmt: skip
    await setup.shutdown()
    start_ms = int(begin.timestamp() * 1000)
    store = open_store(pg_url)
    await store.open()
    try:  # created now, each fires from now on: move its next fire back, so a backlog is due
        for name in names:
            s = await store.get_schedule(name)
            assert s is not None
            moved = replace(s, next_fire_ms=start_ms, revision=s.revision + 1)
            assert await store.update_schedule(moved, s.revision)
    finally:
        await store.close()

    replicas = [make_app(pg_url), make_app(pg_url)]
    engines = await asyncio.gather(*(app.start_engine() for app in replicas))
    stop_after = time.time() + LIVE_S
    try:

        async def caught_up() -> bool:
            if time.time() < stop_after:
                return False
            for name in names:
                s = await replicas[0].get_schedule(name)
                if s.next_fire_ms is None or s.next_fire_ms < (stop_after - 1) * 1000:
                    return False
            return True

        await poll(caught_up, limit=90.0)  # a loaded machine may take its time
    finally:
        await asyncio.gather(*(app.shutdown() for app in replicas))
    fired = [engine.schedules.fires if engine.schedules else 0 for engine in engines]
    assert all(n > 0 for n in fired), fired  # both replicas fired some
    store = open_store(pg_url)
    await store.open()
    try:
        total = 0
        for name in names:
            schedule = await store.get_schedule(name)
            assert schedule is not None
            recorded = sorted(await store.schedule_fires(name, 10_000), key=lambda f: f.fire_ms)
            times = [f.fire_ms for f in recorded]
            # every second from the start, each once: none skipped, none twice
            assert times == list(range(start_ms, start_ms + 1000 * len(times), 1000))
            assert len(times) >= BACKLOG_S + LIVE_S
            assert {f.outcome for f in recorded} == {FireOutcome.STARTED}
            assert [f.execution_id for f in recorded] == [execution_id(name, t) for t in times]
            assert schedule.started == len(times)  # each inserted its execution once
            assert schedule.missed == 0
            total += len(times)
        assert await store.count_executions(None, "tick") == total
        assert sum(fired) == total  # each fire recorded by one replica, whichever lost the race
        for f in recorded[:: max(1, len(recorded) // 5)]:  # a sample: one start each
            assert f.execution_id is not None
            history = await store.load_history(f.execution_id)
            assert [e.type for e in history].count(EventType.EXECUTION_STARTED) == 1
    finally:
        await store.close()
    print(f"fires: {total} on {SCHEDULES} schedules, by replica: {fired}")
