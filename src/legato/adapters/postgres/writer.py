"""Group commit on PostgreSQL: every transition submitted while a writer is busy goes into the
next transaction, and a few writers run side by side on their own pooled connections (the
server syncs their commits in parallel). The batch's statements go out with ``executemany``
(pipelined: one round trip per statement kind, not per row)."""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from legato.adapters.postgres.connection import translate
from legato.adapters.rows import execution_from_row
from legato.adapters.transition_rows import (
    execution_insert_row,
    guard_rows,
    insert_rows,
    label_rows,
    sweep_statements,
)
from legato.core.codec import loads
from legato.core.events import Status
from legato.core.transition import NewExecution, Transition
from legato.ports.executions import StaleTransition, StartResult

MAX_BATCH = 2000
Conn = psycopg.AsyncConnection[tuple[Any, ...]]
Op = Callable[[Conn], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class FinishTask:
    """A remote worker's outcome for the task it holds; resolves to True if it was recorded
    (the lease was still this worker's), False if the task moved on."""

    task_id: str
    attempt: int
    owner: str
    outcome: str


Job = Transition | NewExecution | FinishTask | Op
_Job = tuple[Job, asyncio.Future[Any]]
CHANNEL_TASKS = "legato_tasks"
CHANNEL_DONE = "legato_done"
CHANNEL_PENDING = "legato_pending"
CHANNEL_INBOX = "legato_inbox"
SCRIPT_MAX = 16  # batches up to this many jobs and ...
SCRIPT_ROWS = 64  # ... this many rows go as one script; larger ones are pipelined
STALE = "LG001"  # raised by legato_expect_one when a guard touches no row
_Result = tuple[Any, BaseException | None]


class _Stale(Exception):
    """Rolls back a batch (or one transition's savepoint) whose guard fell short."""


class PgWriter:
    def __init__(
        self, pool: AsyncConnectionPool[Conn], queries: dict[str, str], url: str, writers: int
    ) -> None:
        self.pool = pool
        self.q = queries
        self.url = url
        self.max_writers = writers
        self._queue: list[_Job] = []
        self._writers: set[asyncio.Task[None]] = set()
        self.pending = 0
        self.commits = 0
        self.on_commit: Callable[[int, float], None] | None = None  # (jobs, seconds)
        self.paths: Counter[str] = Counter()  # batches by write path (docs/ARCHITECTURE.md)

    def submit(self, job: Job) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self.pending += 1
        self._queue.append((job, fut))
        if len(self._writers) < self.max_writers:
            task = loop.create_task(self._write_loop())
            self._writers.add(task)
            task.add_done_callback(self._writers.discard)
        return fut

    async def stop(self) -> None:
        while self._writers:
            await asyncio.gather(*self._writers, return_exceptions=True)

    async def _write_loop(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            results = await self._commit(batch)
            self.pending -= len(batch)
            for (_, fut), (value, error) in zip(batch, results, strict=True):
                if fut.cancelled():
                    continue
                if error is not None:
                    fut.set_exception(error)
                else:
                    fut.set_result(value)

    async def _commit(self, batch: list[_Job]) -> list[_Result]:
        began = time.perf_counter()
        try:
            async with self.pool.connection() as conn:
                results = None
                if not any(callable(job) for job, _ in batch):
                    results = await (
                        self._scripted(conn, batch)
                        if len(batch) <= SCRIPT_MAX and _rows(batch) <= SCRIPT_ROWS
                        else self._pipelined(conn, batch)
                    )
                if results is None:  # ops need their answers mid-way; or a guard fell short
                    results = await self._one_by_one(conn, batch)
            self.commits += 1
            if self.on_commit is not None:
                self.on_commit(len(batch), time.perf_counter() - began)
            return results
        except (psycopg.Error, OSError) as exc:
            err = translate(exc, self.url)
            return [(None, err) for _ in batch]

    async def _scripted(self, conn: Conn, batch: list[_Job]) -> list[_Result] | None:
        """A small batch as one multi-statement script: the server runs it as one implicit
        transaction, so the whole commit is one message and one round trip (the latency path).
        Values are bound client-side by psycopg, never pasted into SQL by hand."""
        self.paths["script"] += 1
        cur = psycopg.AsyncClientCursor(conn)
        finishes = _finishes(batch)
        statements = self._statements(batch)
        if finishes:  # first, so its RETURNING rows are the script's first result set
            statements.insert(0, (self.q["finish_tasks"], _finish_params(finishes)))
        parts = [cur.mogrify(q, params) for q, params in statements]
        try:
            await cur.execute(";\n".join(parts))
            recorded = set(await cur.fetchall()) if finishes else set()
        except psycopg.Error as exc:
            if exc.sqlstate == STALE:
                return None
            raise
        finally:
            await cur.close()
        return _all_done(batch, recorded)

    def _statements(self, batch: list[_Job]) -> list[tuple[str, Any]]:
        starts = [job for job, _ in batch if isinstance(job, NewExecution)]
        moving = [job for job, _ in batch if isinstance(job, Transition)]
        out: list[tuple[str, Any]] = [
            (self.q["insert_execution_expect"],
             execution_insert_row(n))
            for n in starts
        ]  # fmt: skip
        for name, rows in guard_rows(moving):
            out += [(self.q[name + "_expect"], row) for row in rows]
        for tr in moving:
            out += [(self.q[name], params) for name, params in sweep_statements(tr)]
        for name, rows in insert_rows([n.transition for n in starts] + moving):
            out += [(self.q[name], row) for row in rows]
        out += [(self.q["insert_label"], row) for row in label_rows(starts)]
        out += [(self.q["notify"], (channel,)) for channel in notify_channels(batch)]
        return out

    async def _pipelined(self, conn: Conn, batch: list[_Job]) -> list[_Result] | None:
        """A large batch in pipeline mode: one ``executemany`` per statement kind, a few round
        trips whatever its size (the throughput path). A stale transition makes its guard raise
        LG001, the server rolls the batch back, and we return None."""
        self.paths["pipeline"] += 1
        starts = [job for job, _ in batch if isinstance(job, NewExecution)]
        moving = [job for job, _ in batch if isinstance(job, Transition)]
        trs = [n.transition for n in starts] + moving
        finishes = _finishes(batch)
        fcur = conn.cursor()
        try:
            async with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
                if finishes:
                    await fcur.execute(self.q["finish_tasks"], _finish_params(finishes))
                if starts:
                    rows = [execution_insert_row(n)
                            for n in starts]  # fmt: skip
                    await cur.executemany(self.q["insert_execution_expect"], rows)
                for name, rows in guard_rows(moving):
                    if rows:
                        await cur.executemany(self.q[name + "_expect"], rows)
                for tr in moving:
                    for name, params in sweep_statements(tr):
                        await cur.execute(self.q[name], params)
                for name, rows in insert_rows(trs):
                    if rows:
                        await cur.executemany(self.q[name], rows)
                labels = label_rows(starts)
                if labels:
                    await cur.executemany(self.q["insert_label"], labels)
                for channel in notify_channels(batch):
                    await cur.execute(self.q["notify"], (channel,))
            recorded = set(await fcur.fetchall()) if finishes else set()
        except psycopg.Error as exc:
            if exc.sqlstate == STALE:
                return None
            raise
        finally:
            await fcur.close()
        return _all_done(batch, recorded)

    async def _one_by_one(self, conn: Conn, batch: list[_Job]) -> list[_Result]:
        """Each job in its own savepoint, so one that fails or is stale leaves the rest be."""
        self.paths["one_by_one"] += 1
        outcome: list[_Result] = []
        async with conn.transaction():
            ok: list[Transition] = []
            for job, _ in batch:
                if isinstance(job, Transition):
                    try:
                        async with conn.transaction():  # a savepoint
                            if not await apply_guards(conn, self.q, [job]):
                                raise _Stale()
                        ok.append(job)
                        outcome.append((None, None))
                    except _Stale:
                        outcome.append((None, StaleTransition(job.execution_id)))
                elif isinstance(job, NewExecution):
                    outcome.append(
                        await self._run_op(conn, functools.partial(start, q=self.q, new=job))
                    )
                elif isinstance(job, FinishTask):
                    outcome.append(
                        await self._run_op(conn, functools.partial(finish, q=self.q, job=job))
                    )
                else:
                    outcome.append(await self._run_op(conn, job))
            await insert_plain(conn, self.q, ok)
            for channel in notify_channels(batch):
                await conn.execute(self.q["notify"], (channel,))
        return outcome

    async def _run_op(self, conn: Conn, op: Op) -> _Result:
        try:
            async with conn.transaction():  # a savepoint: a failing op leaves the others be
                return await op(conn), None
        except psycopg.Error as exc:
            return None, translate(exc, self.url)
        except Exception as exc:
            return None, exc


async def apply_guards(conn: Conn, q: dict[str, str], trs: list[Transition]) -> bool:
    async with conn.cursor() as cur:
        for name, rows in guard_rows(trs):
            if rows:
                await cur.executemany(q[name], rows)
                if cur.rowcount != len(rows):
                    return False
        for tr in trs:
            for name, params in sweep_statements(tr):
                await cur.execute(q[name], params)
    return True


async def insert_plain(conn: Conn, q: dict[str, str], trs: list[Transition]) -> None:
    async with conn.cursor() as cur:
        for name, rows in insert_rows(trs):
            if rows:
                await cur.executemany(q[name], rows)


async def start(conn: Conn, q: dict[str, str], new: NewExecution) -> StartResult:
    """Record a new execution, or report the one that already has its id."""
    row = execution_insert_row(new)
    cur = await conn.execute(q["insert_execution"], row)
    if cur.rowcount == 0:
        found = await (await conn.execute(q["select_execution"], (new.id,))).fetchone()
        assert found is not None
        return StartResult(created=False, existing=execution_from_row(found))
    await insert_plain(conn, q, [new.transition])
    if new.labels:
        async with conn.cursor() as cur:
            await cur.executemany(q["insert_label"], label_rows([new]))
    return StartResult(created=True)


async def finish(conn: Conn, q: dict[str, str], job: FinishTask) -> bool:
    cur = await conn.execute(q["finish_tasks"], _finish_params([job]))
    return len(await cur.fetchall()) == 1


def _finishes(batch: list[_Job]) -> list[FinishTask]:
    return [job for job, _ in batch if isinstance(job, FinishTask)]


def _finish_params(finishes: list[FinishTask]) -> dict[str, list[Any]]:
    return {
        "ids": [f.task_id for f in finishes],
        "attempts": [f.attempt for f in finishes],
        "owners": [f.owner for f in finishes],
        "outcomes": [f.outcome for f in finishes],
    }


def _rows(batch: list[_Job]) -> int:
    """Rows a batch writes: what it costs to bind them client-side into a script."""
    n = 0
    for job, _ in batch:
        tr = job.transition if isinstance(job, NewExecution) else job
        if isinstance(tr, Transition):
            n += 1 + len(tr.events) + len(tr.task_inserts) + len(tr.task_retries)
            n += len(tr.task_deletes) + len(tr.timer_inserts)
            n += len(tr.inbox_deletes) + 4 * len(tr.child_starts)
            if isinstance(job, NewExecution) and job.labels:
                n += len(loads(job.labels))
        else:
            n += 1
    return n


def _all_done(batch: list[_Job], recorded: set[tuple[Any, ...]]) -> list[_Result]:
    out: list[_Result] = []
    for job, _ in batch:
        if isinstance(job, NewExecution):
            out.append((StartResult(created=True), None))
        elif isinstance(job, FinishTask):
            out.append(((job.task_id, job.attempt) in recorded, None))
        else:
            out.append((None, None))
    return out


def notify_channels(batch: list[_Job]) -> list[str]:
    """Who should hear of this commit (``channels_for`` its jobs)."""
    return channels_for([job for job, _ in batch])


def channels_for(jobs: Sequence[Job]) -> list[str]:
    """Who should hear of these writes: workers, when they leave tasks any of them may claim;
    orchestrators, when a client started, redrove or resumed an execution or an inbox may
    have a new message (an event ingest's starts are ``NewExecution`` jobs too). Delivered
    only if it commits."""
    channels = set()
    for job in jobs:
        if isinstance(job, FinishTask):
            channels.add(CHANNEL_DONE)
        if isinstance(job, NewExecution):
            if job.transition.update.status == Status.PENDING:
                channels.add(CHANNEL_PENDING)
            job = job.transition
        if isinstance(job, Transition) and job.child_starts:
            channels.update((CHANNEL_PENDING, CHANNEL_INBOX))
        if isinstance(job, Transition) and job.update.status == Status.PENDING:
            channels.add(CHANNEL_PENDING)  # redriven or resumed: for its engine to replay
        if isinstance(job, Transition) and (
            any(t.lease_owner is None for t in job.task_inserts)
            or any(r.lease_owner is None for r in job.task_retries)
            or job.unpark
        ):
            channels.add(CHANNEL_TASKS)
    return sorted(channels)
