"""Sticky executions (the LRU of live workflow instances) and deterministic ctx values."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import legato
from legato.core.events import Event, EventType, StepCompleted, StepScheduled
from legato.engine.clock import SkippingClock
from legato.testing import WorkflowEnvironment
from tests.conftest import of_type


async def test_long_sequential_workflow_is_never_replayed(any_db_url: str) -> None:
    app = legato.App()
    body_runs: list[int] = []  # the workflow function starts once; a replay would start it again

    @app.step(name="inc")
    async def inc(x: int) -> int:
        return x + 1

    @app.workflow(name="seq")
    async def seq(ctx: legato.Context, k: int) -> int:
        body_runs.append(k)
        x = 0
        for _ in range(k):
            x = await ctx.step(inc, x)
        return x

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(seq, 1_000)
        assert await handle.result() == 1_000
        stats = app.stats
        history = await handle.history()

    assert stats["replays"] == 0
    assert body_runs == [1_000]
    assert stats["transitions"] == 1 + 1_000  # the start, then one decision per step
    assert stats["cached"] == 0  # closed executions leave the cache
    completed = of_type(history, StepCompleted)
    assert [e.result for e in completed] == [str(i) for i in range(1, 1_001)]


async def test_eviction_with_a_cache_of_one_replays_and_stays_correct(any_db_url: str) -> None:
    app = legato.App(cache_size=1)
    runs: dict[str, int] = {}
    all_started = asyncio.Event()  # then six executions are live at once: one cached

    @app.step(name="add")
    async def add(tag: str, x: int, y: int) -> int:
        key = f"{tag}:{legato.step_context().step_id}"
        runs[key] = runs.get(key, 0) + 1
        await all_started.wait()
        return x + y

    @app.workflow(name="sum")
    async def total(ctx: legato.Context, tag: str, n: int) -> list[Any]:
        x = 0
        for i in range(1, 11):
            x = await ctx.step(add, tag, x, i * n)
        both = await ctx.gather(ctx.step(add, tag, x, 1), ctx.step(add, tag, x, 2))
        return [tag, x, both]

    async with WorkflowEnvironment(app, url=any_db_url):
        handles = [await app.start(total, f"t{n}", n) for n in range(1, 7)]
        all_started.set()
        results = await asyncio.gather(*(h.result() for h in handles))
        stats = app.stats

    assert results == [[f"t{n}", 55 * n, [55 * n + 1, 55 * n + 2]] for n in range(1, 7)]
    assert stats["replays"] > 0
    assert stats["cached"] <= 1
    # replaying never runs a step again: 12 steps per execution, each once
    assert len(runs) == 6 * 12 and set(runs.values()) == {1}


def draws(ctx: legato.Context) -> list[Any]:
    return [ctx.now().isoformat(), str(ctx.uuid()), ctx.random()]


def recorded_args(history: list[Event], step: str) -> list[Any]:
    return [json.loads(e.args)[0][0] for e in of_type(history, StepScheduled) if e.name == step]


async def test_now_uuid_random_are_the_same_on_replay_after_eviction(any_db_url: str) -> None:
    app = legato.App(cache_size=1)
    all_started = asyncio.Event()  # then five executions are live at once: one cached

    @app.step(name="record")
    async def record(values: list[Any]) -> None:
        await all_started.wait()

    @app.step(name="noop")
    async def noop(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @app.workflow(name="det")
    async def det(ctx: legato.Context) -> list[Any]:
        first = draws(ctx)
        await ctx.step(record, first)
        for i in range(4):
            await ctx.step(noop, i)
        second = draws(ctx)
        await ctx.step(record, second)
        return [first, second]

    async with WorkflowEnvironment(app, url=any_db_url):
        handles = [await app.start(det, id=f"det-{i}") for i in range(5)]
        all_started.set()
        results = await asyncio.gather(*(h.result() for h in handles))
        histories = [await h.history() for h in handles]
        assert app.stats["replays"] > 0

    for result, history in zip(results, histories, strict=True):
        # the values the last (replayed) run computed are those recorded in the first run
        assert result == recorded_args(history, "record")
        first, second = result
        assert first[0] == datetime.fromtimestamp(history[0].ts / 1000, tz=UTC).isoformat()
        assert uuid.UUID(first[1]).version == 4 and first[1] != second[1]
        assert 0.0 <= first[2] < 1.0 and first[2] != second[2]
    assert len({r[0][1] for r in results}) == 5  # each execution has its own sequence


async def test_now_uuid_random_are_the_same_on_replay_after_restart(
    any_db_url: str,
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
) -> None:
    def build(clock: Any = None) -> tuple[legato.App, Any]:
        app = legato.App(any_db_url, clock=clock)

        @app.step(name="record")
        async def record(values: list[Any]) -> None:
            return None

        @app.workflow(name="det")
        async def det(ctx: legato.Context) -> list[Any]:
            first = draws(ctx)
            await ctx.step(record, first)
            await ctx.sleep(3600)
            after = draws(ctx)
            await ctx.step(record, after)
            return [first, after]

        return app, det

    app, det = build()
    async with app:
        handle = await app.start(det, id="det-restart")
        before = await wait_event(handle, EventType.TIMER_STARTED)
    [first_recorded] = recorded_args(before, "record")

    app, _ = build(SkippingClock())  # a new process: the hour passes at once
    async with app:
        result = await app.get_handle("det-restart").result(timeout=20)
        assert app.stats["replays"] == 1
        history = await app.get_handle("det-restart").history()

    first, after = result
    assert first == first_recorded
    assert [first, after] == recorded_args(history, "record")
    fired = next(e for e in history if e.type == EventType.TIMER_FIRED)
    assert after[0] == datetime.fromtimestamp(fired.ts / 1000, tz=UTC).isoformat()
