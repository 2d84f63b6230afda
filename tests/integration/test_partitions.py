"""Orchestrator replicas share the partitions; a replica that stops hands its partitions to
the others (at once when it stops gracefully, within the lease when it dies). Several
replicas are a PostgreSQL matter: on a SQLite file a second orchestrator is refused."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import legato
from legato.core.events import Event, EventType
from legato.core.partitions import PARTITIONS
from tests.clocks import ManualClock


def build(url: str, clock: ManualClock | None = None) -> legato.App:
    app = legato.App(url, lease_seconds=0.6, clock=clock)

    @app.step
    async def double(x: int) -> int:
        return 2 * x

    @app.workflow(name="doubler")
    async def doubler(ctx: legato.Context, x: int) -> int:
        await ctx.sleep(0.05)
        return await ctx.step(double, x)  # type: ignore[no-any-return]

    return app


def held(app: legato.App) -> set[int]:
    engine = app._engine
    assert engine is not None and engine.orchestrator is not None
    return set(engine.orchestrator.owned)


async def test_two_replicas_split_the_partitions_and_both_serve(
    pg_url: str, wait_for: Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
) -> None:
    first, second = build(pg_url), build(pg_url)
    async with first:
        assert held(first) == set(range(PARTITIONS))  # alone: everything
        async with second:

            async def split() -> bool:
                a, b = held(first), held(second)
                return len(a) == len(b) == PARTITIONS // 2 and a.isdisjoint(b)

            await wait_for(split)
            # executions started through either app complete, whoever decides them
            handles = [await app.start("doubler", i) for i in range(20) for app in (first, second)]
            results = await asyncio.gather(*(h.result(timeout=20) for h in handles))
            assert sorted(results) == sorted(2 * i for i in range(20) for _ in (0, 1))

        async def all_back() -> bool:  # the second stopped gracefully and gave its half back
            return held(first) == set(range(PARTITIONS))

        await wait_for(all_back)


async def test_a_replica_that_stops_renewing_loses_its_partitions_within_the_lease(
    pg_url: str,
    wait_for: Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]],
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
) -> None:
    clock = ManualClock()  # leases run out only as the test moves time on
    first, second = build(pg_url, clock), build(pg_url, clock)
    async with first, second:

        async def split() -> bool:
            return len(held(first)) == len(held(second)) == PARTITIONS // 2

        await wait_for(split)
        # the first replica freezes: its loops stop, nothing is given back (as if it hung)
        engine = first._engine
        assert engine is not None
        for loop in engine._loops:
            loop.cancel()
        frozen_at = clock.now_ms()

        async def balanced_since(mark: float) -> bool:
            survivor = second._engine
            assert survivor is not None
            return survivor._last_balance > mark

        def taken_over() -> bool:
            return held(second) == set(range(PARTITIONS))

        while not taken_over() and clock.now_ms() - frozen_at < 3_000:
            clock.advance(0.1)
            for _ in range(2):  # the second one surely read the clock after it moved
                survivor = second._engine
                assert survivor is not None
                await wait_for(functools.partial(balanced_since, survivor._last_balance))
        # within the lease (0.6 s) plus a renewal interval of the survivor, with slack
        assert taken_over()
        assert (clock.now_ms() - frozen_at) / 1000 < 0.6 + 0.2 + 2.0
        handle = await second.start("doubler", 21)
        await wait_event(handle, EventType.TIMER_STARTED)
        clock.advance(0.05)
        assert await handle.result(timeout=20) == 42


async def test_a_second_orchestrator_on_one_sqlite_file_is_refused_and_a_worker_is_not(
    db_url: str,
) -> None:
    first, second, worker = build(db_url), build(db_url), build(db_url)
    async with first:
        with pytest.raises(legato.DatabaseLockedError, match=r"already orchestrated by engine"):
            await second.start_engine()
        await worker.start_engine(orchestrate=False)  # a worker beside it is welcome
        try:
            assert await (await first.start("doubler", 4)).result(timeout=20) == 8
        finally:
            await worker.shutdown()
    async with second:  # the first one stopped: its lock is free
        assert await (await second.start("doubler", 5)).result(timeout=20) == 10
