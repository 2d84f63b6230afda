"""Backfills the server runs in the background, watched by the requests that asked for them.

A backfill takes as long as its runs take (with ``skip``, each run must close before the next
starts): far longer than one request. ``POST /v1/schedules/{name}/backfill`` starts it here (or,
for the same schedule and period, finds the one running), waits until it moves on (at most
``wait_seconds``) and answers its progress; asking again watches on. The job is forgotten once a
request has been told how it ended. Nothing here needs to be durable: every start a backfill
makes is idempotent on (schedule, fire time), so a backfill asked for again after a server
restart counts the runs already started as done and goes on from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, int, int]  # schedule, from ms, to ms
Progress = Callable[[int, int], None]


@dataclass
class Job:
    task: asyncio.Task[dict[str, Any]]
    done: int = 0
    total: int | None = None
    moved: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) on progress

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self.moved.set()
        self.moved = asyncio.Event()


@dataclass(frozen=True)
class Watched:
    """Where a backfill stands: ``report`` once it ended (else None: still running)."""

    done: int
    total: int | None
    report: dict[str, Any] | None


class Backfills:
    """The backfills running on this server, by (schedule, period)."""

    def __init__(self) -> None:
        self._jobs: dict[Key, Job] = {}

    def running(self) -> int:
        return sum(1 for job in self._jobs.values() if not job.task.done())

    async def watch(
        self,
        key: Key,
        run: Callable[[Progress], Awaitable[dict[str, Any]]],
        wait_seconds: float,
        closing: asyncio.Event,
        seen: int | None = None,
    ) -> Watched:
        """Start ``run`` for ``key`` unless it runs already; wait until it moves on (past
        ``seen`` fire times done, if given: the watcher's last answer), ends, ``wait_seconds``
        pass or the server stops (``closing``), so a progress bar moves as the backfill does.
        Raises what the backfill raised (and forgets it)."""
        job = self._jobs.get(key)
        if job is None:
            job = self._start(key, run)
        moved_already = seen is not None and job.done != seen
        if not (job.task.done() or moved_already or wait_seconds <= 0 or closing.is_set()):
            waits = [asyncio.ensure_future(closing.wait()), asyncio.ensure_future(job.moved.wait())]
            try:
                await asyncio.wait(
                    [job.task, *waits], timeout=wait_seconds, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for w in waits:
                    w.cancel()
        if not job.task.done():
            return Watched(job.done, job.total, None)
        self._jobs.pop(key, None)
        report = job.task.result()  # raises what the backfill raised
        total = job.total if job.total is not None else job.done
        return Watched(total, total, report)

    def _start(self, key: Key, run: Callable[[Progress], Awaitable[dict[str, Any]]]) -> Job:
        holder: list[Job] = []

        def progress(done: int, total: int) -> None:
            holder[0].progress(done, total)

        async def body() -> dict[str, Any]:
            return await run(progress)

        job = Job(asyncio.get_running_loop().create_task(body(), name=f"backfill {key[0]}"))
        holder.append(job)
        self._jobs[key] = job
        return job
