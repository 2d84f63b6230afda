"""``api/backfill_jobs.Backfills``: one job per (schedule, period), watched by as many requests
as ask; each answered as soon as it moves (past what the watcher has seen), its report once
(then forgotten), what it raised once; a server that stops answers the watchers at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from legato.api.backfill_jobs import Backfills, Progress
from legato.errors import ScheduleNotFound

KEY = ("nightly", 0, 1000)


class Gated:
    """A backfill of three fires that goes on one fire per ``step()``."""

    def __init__(self) -> None:
        self.runs = 0
        self.gate = asyncio.Semaphore(0)

    async def __call__(self, progress: Progress) -> dict[str, Any]:
        self.runs += 1
        progress(0, 3)
        for done in range(1, 4):
            await self.gate.acquire()
            progress(done, 3)
        return {"started": ["a", "b", "c"]}

    def step(self) -> None:
        self.gate.release()


async def test_requests_watch_one_job_until_it_reports_once() -> None:
    jobs, run, closing = Backfills(), Gated(), asyncio.Event()
    first = await jobs.watch(KEY, run, 0, closing)
    assert (first.done, first.total, first.report) == (0, None, None)  # not started yet
    await asyncio.sleep(0)
    run.step()
    watched = await jobs.watch(KEY, run, 0.01, closing)
    assert (watched.done, watched.total, watched.report) == (1, 3, None)
    assert jobs.running() == 1 and run.runs == 1  # asked again: the same job
    run.step()
    moved = await jobs.watch(KEY, run, 5, closing, seen=1)  # answered as it moves past 1
    assert (moved.done, moved.report) == (2, None)
    assert (await jobs.watch(KEY, run, 0.01, closing, seen=1)).done == 2  # past it already
    run.step()
    done = await jobs.watch(KEY, run, 5, closing, seen=2)
    assert (done.done, done.total, done.report) == (3, 3, {"started": ["a", "b", "c"]})
    # told once, forgotten: asked again, it runs again (its starts are idempotent)
    again = await jobs.watch(KEY, run, 0, closing)
    assert again.report is None and jobs.running() == 1
    await asyncio.sleep(0)
    assert run.runs == 2
    for _ in range(3):
        run.step()
    while (await jobs.watch(KEY, run, 5, closing)).report is None:
        pass
    assert run.runs == 2


async def test_what_a_backfill_raised_is_answered_once() -> None:
    jobs, closing = Backfills(), asyncio.Event()

    async def deleted(progress: Progress) -> dict[str, Any]:
        raise ScheduleNotFound("nightly")

    with pytest.raises(ScheduleNotFound):
        await jobs.watch(KEY, deleted, 5, closing)
    assert jobs.running() == 0


async def test_a_stopping_server_answers_its_watchers_at_once() -> None:
    jobs, run, closing = Backfills(), Gated(), asyncio.Event()
    watching = asyncio.ensure_future(jobs.watch(KEY, run, 60, closing))
    while run.runs == 0:  # the job has begun: the watcher waits on it
        await asyncio.sleep(0)
    closing.set()
    watched = await asyncio.wait_for(watching, 5)
    assert watched.report is None and watched.total == 3
    assert (await jobs.watch(KEY, run, 60, closing)).report is None  # no wait once closing
    for _ in range(3):
        run.step()
    closing.clear()
    while (watched := await jobs.watch(KEY, run, 5, closing, seen=watched.done)).report is None:
        pass
    assert watched.report == {"started": ["a", "b", "c"]} and run.runs == 1
