"""``PostgresStore``: the Store port on PostgreSQL with psycopg 3 (DESIGN.md §4).

A connection pool serves reads and a few group-committing writers; workers claim tasks with
``FOR UPDATE SKIP LOCKED``. The SQL lives in ``queries.sql`` beside this module.

After a server restart the pool's idle connections are dead. The pool does not check each
connection it lends (``check=`` would cost a round trip per borrow, on every commit): a dead
one fails its one operation with ``DatabaseUnavailableError``, which the engine's loops and the
client calls retry, and the pool discards it and connects anew in the background.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Collection
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from legato.adapters import definition_rows, event_store_rows, schedule_rows, sql_scripts
from legato.adapters.postgres import driver
from legato.adapters.postgres.connection import check_url, redact, translate
from legato.adapters.postgres.owner_lock import OwnerLock, owner_key
from legato.adapters.postgres.writer import (
    CHANNEL_DONE,
    CHANNEL_INBOX,
    CHANNEL_PENDING,
    CHANNEL_TASKS,
    Conn,
    FinishTask,
    PgWriter,
    channels_for,
    start,
)
from legato.adapters.rows import (
    event_from_row,
    execution_from_row,
    inbox_from_row,
    inbox_params,
    list_query,
    queue_stats_from_row,
    replica_from_row,
    retrying_from_row,
    task_from_row,
    to_stop,
    worker_from_row,
    workflow_type_from_row,
    workflow_type_params,
)
from legato.adapters.sql_files import load_migrations, load_queries
from legato.core.backoff import RECONNECT
from legato.core.events import Event, Status
from legato.core.messages import InboxKind, InboxMessage, InboxRow
from legato.core.owners import provable
from legato.core.subscriptions import Subscription
from legato.core.transition import NewExecution, Task, Transition
from legato.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    DefinitionVersionExists,
    StoreError,
)
from legato.ports.api_keys import ApiKey
from legato.ports.definitions import DefinitionSummary, DefinitionVersion, Put, StoredDefinition
from legato.ports.events import DeadLetter, EventIngest, Ingested, StoredEvent
from legato.ports.executions import ExecutionFilter, ExecutionRow, StartResult, WorkflowType
from legato.ports.inspection import QueueStats, ReplicaSeen, RetryingStep, WorkerSeen
from legato.ports.lifecycle import CommitObserver
from legato.ports.liveness import OwnerInfo
from legato.ports.membership import LeaseHolder, Takeover
from legato.ports.schedules import Fire, FireResult, Schedule, ScheduleFire
from legato.ports.workers import WaitingStep

_PACKAGE = "legato.adapters.postgres"
QUERIES = {**load_queries(_PACKAGE), **load_queries(_PACKAGE, "schedules.sql")}
_TERMINATE = InboxKind.TERMINATE.value
# Reads whose optional filters (``%(x)s IS NULL OR ...``) only the values make selective: never
# prepared on the server, so each is planned with its values. psycopg prepares a query after 5
# runs, and PostgreSQL then may settle on a generic plan, which cannot drop the filters not
# given: the list's first page became a scan and sort of the whole table (ui_bench: 70 ms at
# 100,000 executions, against 1 ms planned with the values).
PLANNED_PER_CALL = frozenset({"list_executions", "list_executions_by_status",
                              "list_executions_by_workflow", "list_executions_labelled",
                              "list_executions_by_status_first", "count_executions"})  # fmt: skip
log = logging.getLogger("legato.store")
CONNECT_TIMEOUT = 10.0


class PostgresStore:
    def __init__(self, url: str, *, writers: int = 4, pool_size: int = 8) -> None:
        self.url = check_url(url)
        self.writers = writers
        self.pool_size = max(pool_size, writers + 2)
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._writer: PgWriter | None = None
        self._on_commit: CommitObserver | None = None
        self._locks: dict[str, OwnerLock] = {}

    @property
    def writer(self) -> PgWriter:
        if self._writer is None:
            raise StoreError("the store is not open")
        return self._writer

    async def _open_pool(self) -> AsyncConnectionPool[Conn]:
        if self._pool is None:
            pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
                self.url, min_size=1, max_size=self.pool_size, open=False,
                kwargs={"autocommit": True},
            )  # fmt: skip
            try:
                await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
            except PoolTimeout as exc:
                await pool.close()
                raise DatabaseUnavailableError(
                    f"cannot reach database {redact(self.url)} within {CONNECT_TIMEOUT:.0f}s"
                ) from exc
            self._pool = pool
        return self._pool

    async def open(self) -> None:
        if self._writer is not None:
            return
        pool = await self._open_pool()
        await self.migrate()
        self._writer = PgWriter(pool, QUERIES, self.url, self.writers)
        self._writer.on_commit = self._on_commit

    async def open_reader(self) -> None:
        """For tools that only read (CLI): a database that is not there, refuses us, or lacks
        migrations is said at once (the pool would wait for it as for one restarting)."""
        if self._pool is not None:
            return
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT)
            )
        except psycopg.OperationalError as exc:
            said = " ".join(line.strip() for line in str(exc).strip().splitlines())
            why = said.rpartition("FATAL:")[2].strip() or said
            if "does not exist" in why or "authentication failed" in why:
                raise StoreError(f"database {redact(self.url)}: {why}") from exc
            raise DatabaseUnavailableError(
                f"cannot reach database {redact(self.url)}: {why}"
            ) from exc
        async with conn:
            try:
                cur = await conn.execute(QUERIES["applied_migrations"])
                applied: list[int] | None = [r[0] for r in await cur.fetchall()]
            except psycopg.errors.UndefinedTable:
                applied = None
            except psycopg.Error as exc:
                raise translate(exc, self.url) from exc
        problem = sql_scripts.unmigrated(applied, load_migrations(_PACKAGE), redact(self.url))
        if problem is not None:
            raise StoreError(problem)
        await self._open_pool()

    async def close_reader(self) -> None:
        await self.close()

    async def close(self) -> None:
        for owner in list(self._locks):
            await self.release(owner)
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; returns their numbers."""
        pool = await self._open_pool()
        now = int(time.time() * 1000)
        script = sql_scripts.migrate(load_migrations(_PACKAGE), now, redact(self.url))
        try:
            async with pool.connection() as conn, conn.transaction():
                applied: list[int] = await driver.run(conn, QUERIES, script)
        except psycopg.Error as exc:
            raise translate(exc, self.url) from exc
        return applied

    # --- writes -------------------------------------------------------------------------------
    async def start_execution(self, new: NewExecution) -> StartResult:
        result: StartResult = await self.writer.submit(new)
        return result

    notifies = True

    async def listen(self, on_notify: Callable[[str], None]) -> None:
        """LISTEN on a connection of its own; reconnects with backoff and jitter, and reports
        every channel after a reconnect (anything may have been missed meanwhile)."""
        channels = {CHANNEL_TASKS: "tasks", CHANNEL_DONE: "done", CHANNEL_PENDING: "pending",
                    CHANNEL_INBOX: "inbox"}  # fmt: skip
        failures = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                async with conn:
                    for channel in channels:
                        await conn.execute(f"LISTEN {channel}")
                    failures = 0
                    for name in channels.values():
                        on_notify(name)
                    async for note in conn.notifies():
                        on_notify(channels.get(note.channel, note.channel))
            except (psycopg.Error, OSError) as exc:
                failures += 1
                delay = RECONNECT.delay(failures, random.random())
                log.warning(
                    "listening for notifications failed (%s); retrying in %.1fs", exc, delay
                )
                await asyncio.sleep(delay)

    def pending_writes(self) -> int:
        return self._writer.pending if self._writer else 0

    def commits(self) -> int:
        return self._writer.commits if self._writer else 0

    def observe_commits(self, observer: CommitObserver | None) -> None:
        self._on_commit = observer  # for a writer made later (at open)
        if self._writer is not None:
            self._writer.on_commit = observer

    def submit(self, transition: Transition) -> asyncio.Future[None]:
        return self.writer.submit(transition)

    async def _write(self, name: str, params: Any) -> int:
        async def op(conn: Conn) -> int:
            return (await conn.execute(QUERIES[name], params)).rowcount

        count: int = await self.writer.submit(op)
        return count

    async def claim_tasks(
        self, owner: str, queues: list[str], steps: list[str], now: int, lease_ms: int, limit: int
    ) -> list[Task]:
        params = {"owner": owner, "expires": now + lease_ms, "queues": queues, "steps": steps,
                  "now": now, "limit": limit}  # fmt: skip
        # Claims skip the group-commit queue: SKIP LOCKED lets many workers claim at once.
        rows = await self._read_write("claim_tasks", params)
        return [task_from_row(r) for r in rows]

    async def finish_task(self, task_id: str, attempt: int, owner: str, outcome: str) -> bool:
        # Batched with the transitions in flight: many workers' outcomes share one commit.
        done: bool = await self.writer.submit(FinishTask(task_id, attempt, owner, outcome))
        return done

    async def release_tasks(self, owner: str, task_ids: list[str] | None) -> int:
        name = "release_all_tasks" if task_ids is None else "release_tasks"
        params = {"owner": owner, "ids": task_ids} if task_ids is not None else {"owner": owner}

        async def op(conn: Conn) -> int:
            released = (await conn.execute(QUERIES[name], params)).rowcount
            if released:  # idle workers claim them now, not at their next poll
                await conn.execute(QUERIES["notify"], (CHANNEL_TASKS,))
            return released

        count: int = await self.writer.submit(op)
        return count

    async def renew_leases(self, owner: str, task_ids: list[str], expires_at: int) -> list[str]:
        params = (expires_at, owner, task_ids)

        async def op(conn: Conn) -> list[tuple[Any, ...]]:
            return await (await conn.execute(QUERIES["renew_leases"], params)).fetchall()

        return to_stop(task_ids, await self.writer.submit(op))

    async def record_heartbeat(
        self, task_id: str, attempt: int, details: str | None, expires_at: int
    ) -> None:
        await self._write("record_heartbeat", (details, expires_at, task_id, attempt))

    # --- reads --------------------------------------------------------------------------------
    async def _read(self, name: str, params: Any) -> list[tuple[Any, ...]]:
        return await self._read_write(name, params)

    async def _read_write(self, name: str, params: Any) -> list[tuple[Any, ...]]:
        if self._pool is None:
            raise StoreError("the store is not open")
        try:
            async with self._pool.connection() as conn:
                prepare = False if name in PLANNED_PER_CALL else None
                cur = await conn.execute(QUERIES[name], params, prepare=prepare)
                return await cur.fetchall()
        except psycopg.Error as exc:
            raise translate(exc, self.url) from exc

    async def load_execution(self, execution_id: str) -> ExecutionRow | None:
        rows = await self._read("select_execution", (execution_id,))
        return execution_from_row(rows[0]) if rows else None

    async def settled_executions(self, ids: list[str]) -> list[ExecutionRow]:
        rows = await self._read("select_settled_executions", (ids,))
        return [execution_from_row(r) for r in rows]

    async def load_history(self, execution_id: str) -> list[Event]:
        return [event_from_row(r) for r in await self._read("select_history", (execution_id,))]

    async def list_executions(
        self,
        status: Status | None = None,
        workflow: str | None = None,
        limit: int = 100,
        *,
        filters: ExecutionFilter | None = None,
        cursor: str | None = None,
    ) -> list[ExecutionRow]:
        for name, params in list_query(status, workflow, limit, filters, cursor):
            rows = await self._read(name, params)
            if len(rows) == limit:
                break
        return [execution_from_row(r) for r in rows]

    async def record_workflow_types(self, types: list[WorkflowType], now: int) -> None:
        rows = [workflow_type_params(t, now) for t in types]

        async def op(conn: Conn) -> None:
            async with conn.cursor() as cur:
                await cur.executemany(QUERIES["upsert_workflow_type"], rows)

        if rows:
            await self.writer.submit(op)

    async def workflow_types(self) -> list[WorkflowType]:
        return [workflow_type_from_row(r) for r in await self._read("select_workflow_types", {})]

    async def missing_migrations(self) -> list[int]:
        applied = {int(r[0]) for r in await self._read("applied_migrations", {})}
        return [m.version for m in load_migrations(_PACKAGE) if m.version not in applied]

    async def executions_to_resume(self, partitions: list[int]) -> list[ExecutionRow]:
        rows = await self._read("executions_to_resume", {"parts": partitions})
        return [execution_from_row(r) for r in rows]

    async def pending_executions(self, limit: int, partitions: list[int]) -> list[ExecutionRow]:
        rows = await self._read("pending_executions", {"parts": partitions, "limit": limit})
        return [execution_from_row(r) for r in rows]

    async def done_tasks(self, limit: int, partitions: list[int]) -> list[Task]:
        rows = await self._read("done_tasks", {"parts": partitions, "limit": limit})
        return [task_from_row(r) for r in rows]

    async def overdue_tasks(self, now: int, limit: int, partitions: list[int]) -> list[Task]:
        params = {"now": now, "parts": partitions, "limit": limit}
        return [task_from_row(r) for r in await self._read("overdue_tasks", params)]

    async def next_start_deadline(self, partitions: list[int]) -> int | None:
        rows = await self._read("next_start_deadline", {"parts": partitions})
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def due_timers(
        self, until: int, limit: int, partitions: list[int]
    ) -> list[tuple[str, int, int]]:
        params = {"until": until, "limit": limit, "parts": partitions}
        return [(r[0], r[1], r[2]) for r in await self._read("due_timers", params)]

    # --- an operator's reads (legato.ports.inspection) -----------------------------------------
    async def count_executions(
        self, status: Status | None = None, workflow: str | None = None
    ) -> int:
        params = {"status": status.value if status else None, "workflow": workflow}
        count: int = (await self._read("count_executions", params))[0][0]
        return count

    async def executions_by_prefix(self, prefix: str, limit: int) -> list[ExecutionRow]:
        params = {"prefix": prefix, "limit": limit}
        return [execution_from_row(r) for r in await self._read("executions_by_prefix", params)]

    async def retrying_steps(
        self, now: int, limit: int, execution_id: str | None = None
    ) -> list[RetryingStep]:
        params = {"now": now, "limit": limit, "eid": execution_id}
        return [retrying_from_row(r) for r in await self._read("retrying_steps", params)]

    async def queue_stats(self, now: int) -> list[QueueStats]:
        return [queue_stats_from_row(r) for r in await self._read("queue_stats", {"now": now})]

    async def live_replicas(self, now: int, live_ms: int) -> list[ReplicaSeen]:
        params = {"now": now, "live_since": now - live_ms}
        return [replica_from_row(r) for r in await self._read("live_replicas", params)]

    async def live_workers(self, now: int) -> list[WorkerSeen]:
        return [worker_from_row(r) for r in await self._read("live_workers", {"now": now})]

    # --- inbox -----------------------------------------------------------------------------------
    async def send(self, message: InboxMessage) -> bool:
        params = inbox_params(message)

        async def op(conn: Conn) -> bool:
            if (await conn.execute(QUERIES["send_inbox"], params)).rowcount == 0:
                return False
            await conn.execute(QUERIES["notify"], (CHANNEL_INBOX,))
            return True

        sent: bool = await self.writer.submit(op)
        return sent

    async def inbox(self, limit: int, partitions: list[int]) -> list[InboxRow]:
        params = {"parts": partitions, "limit": limit, "terminate": _TERMINATE}
        rows = await self._read("select_inbox", params)
        return [inbox_from_row(r) for r in rows]

    async def load_inbox(self, execution_id: str) -> list[InboxRow]:
        rows = await self._read("select_execution_inbox", (execution_id,))
        return [inbox_from_row(r) for r in rows]

    # --- state machine definitions (legato.ports.definitions) ----------------------------------
    async def put_definition(
        self, name: str, version: str | None, definition: str, content_hash: str, now: int
    ) -> Put:
        script = definition_rows.put_definition(name, version, definition, content_hash, now)
        done: Put | DefinitionVersionExists = await self.writer.submit(
            lambda c: driver.run(c, QUERIES, script)
        )
        if isinstance(done, DefinitionVersionExists):
            raise done
        return done

    async def get_definition(
        self, name: str, version: str | None = None
    ) -> StoredDefinition | None:
        if version is None:
            rows = await self._read("latest_definition", {"name": name})
        else:
            rows = await self._read("select_definition", {"name": name, "version": version})
        return definition_rows.stored_from_row(rows[0]) if rows else None

    async def definition_by_hash(self, name: str, content_hash: str) -> StoredDefinition | None:
        rows = await self._read("definition_by_hash", {"name": name, "hash": content_hash})
        return definition_rows.stored_from_row(rows[0]) if rows else None

    async def list_definitions(self) -> list[DefinitionSummary]:
        return definition_rows.summaries(await self._read("list_definitions", None))

    async def definition_versions(self, name: str) -> list[DefinitionVersion]:
        rows = await self._read("definition_versions", {"name": name})
        return [DefinitionVersion(r[1], r[2], int(r[3])) for r in rows]

    # --- schedules (legato.ports.schedules) -----------------------------------------------------
    async def insert_schedule(self, schedule: Schedule) -> bool:
        return await self._write("insert_schedule", schedule_rows.schedule_params(schedule)) == 1

    async def update_schedule(self, schedule: Schedule, expected_revision: int) -> bool:
        params = {**schedule_rows.schedule_params(schedule), "expected": expected_revision}
        return await self._write("update_schedule", params) == 1

    async def get_schedule(self, name: str) -> Schedule | None:
        rows = await self._read("select_schedule", {"name": name})
        return schedule_rows.schedule_from_row(rows[0]) if rows else None

    async def list_schedules(self, partitions: list[int] | None = None) -> list[Schedule]:
        if partitions is None:
            rows = await self._read("list_schedules", None)
        else:
            rows = await self._read("schedules_in", {"parts": partitions})
        return [schedule_rows.schedule_from_row(r) for r in rows]

    async def delete_schedule(self, name: str) -> bool:
        async def op(conn: Conn) -> bool:
            await conn.execute(QUERIES["delete_schedule_fires"], {"name": name})
            cur = await conn.execute(QUERIES["delete_schedule"], {"name": name})
            return cur.rowcount == 1

        done: bool = await self.writer.submit(op)
        return done

    async def fire_schedule(self, fire: Fire) -> FireResult:
        """One transaction (a savepoint of the writer's); an execution it started is told to
        the orchestrators (``legato_pending``) when it commits."""

        async def op(conn: Conn) -> FireResult:
            done: FireResult = await driver.run(conn, QUERIES, schedule_rows.fire(fire))
            if done.created:
                await conn.execute(QUERIES["notify"], (CHANNEL_PENDING,))
            return done

        result: FireResult = await self.writer.submit(op)
        return result

    async def schedule_fires(self, name: str, limit: int) -> list[ScheduleFire]:
        rows = await self._read("select_fires", {"name": name, "limit": limit})
        return [schedule_rows.fire_from_row(r) for r in rows]

    # --- events (legato.ports.events) ---------------------------------------------------------
    async def ingest(self, events: list[EventIngest], dead: list[DeadLetter]) -> Ingested:
        script = event_store_rows.ingest(events, dead)

        async def op(conn: Conn) -> Ingested:
            done, starts = await driver.run(conn, QUERIES, script)
            for channel in channels_for(starts):  # PENDING ones, tasks no worker holds yet
                await conn.execute(QUERIES["notify"], (channel,))
            ingested: Ingested = done
            return ingested

        done: Ingested = await self.writer.submit(op)
        return done

    async def put_subscription(self, sub: Subscription) -> bool:
        params = event_store_rows.subscription_params(sub)
        return await self._write("insert_subscription", params) == 1

    async def get_subscription(self, name: str) -> Subscription | None:
        rows = await self._read("select_subscription", {"name": name})
        return event_store_rows.subscription_from_row(rows[0]) if rows else None

    async def list_subscriptions(self) -> list[Subscription]:
        rows = await self._read("list_subscriptions", None)
        return [event_store_rows.subscription_from_row(r) for r in rows]

    async def delete_subscription(self, name: str) -> bool:
        return await self._write("delete_subscription", {"name": name}) == 1

    async def get_event(self, source: str, event_id: str) -> StoredEvent | None:
        rows = await self._read("select_event", {"source": source, "id": event_id})
        return event_store_rows.event_from_row(rows[0]) if rows else None

    async def dead_letters(
        self, limit: int, before: tuple[int, str] | None = None
    ) -> list[DeadLetter]:
        at, last = before if before is not None else (None, None)
        rows = await self._read("dead_letters_page", {"at": at, "id": last, "limit": limit})
        return [event_store_rows.dead_letter_from_row(r) for r in rows]

    async def get_dead_letter(self, letter_id: str) -> DeadLetter | None:
        rows = await self._read("select_dead_letter", {"id": letter_id})
        return event_store_rows.dead_letter_from_row(rows[0]) if rows else None

    async def redrive_dead_letter(
        self, letter_id: str, now: int, event: StoredEvent | None, starts: list[NewExecution]
    ) -> bool:
        script = event_store_rows.redrive_letter(letter_id, now, event, starts)

        async def op(conn: Conn) -> bool:
            redriven, written = await driver.run(conn, QUERIES, script)
            for channel in channels_for(written):  # PENDING ones, tasks no worker holds yet
                await conn.execute(QUERIES["notify"], (channel,))
            return bool(redriven)

        done: bool = await self.writer.submit(op)
        return done

    # --- workers ---------------------------------------------------------------------------------
    async def heartbeat_worker(
        self,
        owner: str,
        queues: list[str],
        steps: list[str],
        now: int,
        live_ms: int,
        leaving: bool,
    ) -> None:
        script = sql_scripts.heartbeat_worker(owner, queues, steps, now, live_ms, leaving)
        await self.writer.submit(lambda c: driver.run(c, QUERIES, script))

    async def waiting_steps(self, execution_id: str, now: int) -> list[WaitingStep]:
        rows = await self._read("waiting_steps", {"eid": execution_id, "now": now})
        return [WaitingStep(r[0], r[1], r[2]) for r in rows]

    # --- API keys (legato.ports.api_keys) -----------------------------------------------------
    async def create_api_key(self, key_id: str, name: str, secret_hash: str, now: int) -> None:
        await self._write("insert_api_key", {"id": key_id, "name": name, "hash": secret_hash,
                                             "now": now})  # fmt: skip

    async def list_api_keys(self) -> list[ApiKey]:
        return [ApiKey(*r) for r in await self._read("list_api_keys", None)]

    async def revoke_api_key(self, key_id: str, now: int) -> ApiKey | None:
        async def op(conn: Conn) -> ApiKey | None:
            await conn.execute(QUERIES["revoke_api_key"], {"id": key_id, "now": now})
            cur = await conn.execute(QUERIES["select_api_key"], {"id": key_id})
            row = await cur.fetchone()
            return None if row is None else ApiKey(*row)

        key: ApiKey | None = await self.writer.submit(op)
        return key

    async def active_api_keys(self) -> dict[str, str]:
        return {h: i for h, i in await self._read("active_api_keys", None)}

    async def touch_api_keys(self, key_ids: list[str], now: int) -> None:
        await self._write("touch_api_keys", {"ids": key_ids, "now": now})

    # --- orchestrator replicas ------------------------------------------------------------------
    async def heartbeat_replica(self, owner: str, now: int, live_ms: int, leaving: bool) -> int:
        script = sql_scripts.heartbeat_replica(owner, now, live_ms, leaving)
        live: int = await self.writer.submit(lambda c: driver.run(c, QUERIES, script))
        return live

    async def balance_partitions(
        self, owner: str, now: int, lease_ms: int, target: int
    ) -> list[int]:
        script = sql_scripts.balance_partitions(owner, now, lease_ms, target)
        held: list[int] = await self.writer.submit(lambda c: driver.run(c, QUERIES, script))
        return held

    async def release_partitions(self, owner: str, ids: list[int]) -> None:
        await self._write("release_partitions", {"owner": owner, "ids": ids})

    async def lease_holders(self, owner: str, now: int, live_ms: int) -> list[LeaseHolder]:
        script = sql_scripts.lease_holders(owner, now, live_ms)
        if self._pool is None:
            raise StoreError("the store is not open")
        try:
            async with self._pool.connection() as conn:
                holders: list[LeaseHolder] = await driver.run(conn, QUERIES, script)
        except psycopg.Error as exc:
            raise translate(exc, self.url) from exc
        return holders

    async def take_over(self, dead: list[str], partitions: bool) -> list[Takeover]:
        script = sql_scripts.take_over(dead, partitions)

        async def op(conn: Conn) -> list[Takeover]:
            taken: list[Takeover] = await driver.run(conn, QUERIES, script)
            if any(t.tasks for t in taken):  # claimable now: wake the idle workers
                await conn.execute(QUERIES["notify"], (CHANNEL_TASKS,))
            return taken

        result: list[Takeover] = await self.writer.submit(op)
        return result

    # --- liveness (a session advisory lock per owner: owner_lock.py) -----------------------------
    async def hold(self, info: OwnerInfo) -> None:
        lock = OwnerLock(self.url, info.owner, QUERIES)
        await lock.hold()
        self._locks[info.owner] = lock

    async def release(self, owner: str) -> None:
        lock = self._locks.pop(owner, None)
        if lock is not None:
            await lock.release()

    async def alive(self, owners: list[str]) -> dict[str, bool | None]:
        found: dict[str, bool | None] = {o: None for o in owners if not provable(o)}
        keys = {owner_key(o): o for o in owners if provable(o)}
        if keys:  # a remote worker holds no lock: its absence proves nothing
            rows = await self._read("owners_alive", {"keys": list(keys)})
            found |= {keys[k]: bool(held) for k, held in rows}
        return found

    async def sweep(self, holding: Collection[str]) -> None:
        return None  # a session's lock ends with it: nothing is left behind


async def start_in_transaction(conn: Any, new: NewExecution) -> StartResult:
    """Record an execution with the caller's own connection, inside the caller's open
    transaction: it exists (and an engine hears of it) only if that transaction commits."""
    if not isinstance(conn, psycopg.AsyncConnection):
        raise ConfigurationError(
            f"app.start(connection=...) takes a psycopg.AsyncConnection, not {type(conn).__name__}"
        )
    try:
        result = await start(conn, QUERIES, new)
        if result.created:
            await conn.execute(QUERIES["notify"], (CHANNEL_PENDING,))
        return result
    except psycopg.Error as exc:
        raise translate(exc, "the caller's connection") from exc
