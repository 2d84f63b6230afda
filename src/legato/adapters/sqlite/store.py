"""``SqliteStore``: the Store port on one SQLite file (DESIGN.md §4).

Writes go through the group-committing ``Writer`` thread; reads use their own connection on the
caller's thread (WAL readers never wait for the writer).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Collection
from typing import Any

from legato.adapters import definition_rows, event_store_rows, schedule_rows, sql_scripts
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
from legato.adapters.sql_scripts import SqlScript
from legato.adapters.sqlite import driver
from legato.adapters.sqlite.connection import connect, path_from_url, translate
from legato.adapters.sqlite.owner_locks import OwnerLocks
from legato.adapters.sqlite.writer import Writer, insert_plain
from legato.adapters.transition_rows import execution_insert_row, label_rows
from legato.core import codec
from legato.core.events import Event, Status
from legato.core.messages import InboxKind, InboxMessage, InboxRow
from legato.core.subscriptions import Subscription
from legato.core.transition import NewExecution, Task, Transition
from legato.errors import DatabaseReadOnlyError, DefinitionVersionExists, StoreError
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

_PACKAGE = "legato.adapters.sqlite"
QUERIES = {**load_queries(_PACKAGE), **load_queries(_PACKAGE, "schedules.sql")}
_TERMINATE = InboxKind.TERMINATE.value


def _glob_prefix(prefix: str) -> str:
    """A GLOB pattern for the ids that start with ``prefix`` taken literally (GLOB, unlike
    LIKE, is case-sensitive and a range scan on the primary key)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in prefix) + "*"


class SqliteStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.path = path_from_url(url)
        self.writer = Writer(self.path, QUERIES)
        self._reader: sqlite3.Connection | None = None
        self.locks = OwnerLocks(self.path)

    async def open(self) -> None:
        if self._reader is not None:
            return
        self._make_folder()
        conn = connect(self.path, writer=True)
        try:
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._reader = connect(self.path, writer=False)
        self.writer.start(conn)

    async def open_reader(self) -> None:
        """For tools that only read (CLI): no migrations, no writer, no write at all."""
        if self._reader is None:
            if not self.path.exists():
                raise StoreError(f"no database at {self.path}")
            reader = connect(self.path, writer=False)
            try:
                applied: list[int] | None = [
                    r[0] for r in reader.execute(QUERIES["applied_migrations"]).fetchall()
                ]
            except sqlite3.OperationalError:  # no schema_migrations table
                applied = None
            problem = sql_scripts.unmigrated(applied, load_migrations(_PACKAGE), str(self.path))
            if problem is not None:
                reader.close()
                raise StoreError(problem)
            self._reader = reader

    async def close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def close(self) -> None:
        self.locks.release_all()
        self.writer.stop()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _make_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseReadOnlyError(
                f"database {self.path} cannot be written: its folder cannot be created "
                f"({exc.strerror})"
            ) from exc

    async def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; returns their numbers."""
        self._make_folder()
        conn = connect(self.path, writer=True)
        try:
            return self._migrate(conn)
        finally:
            conn.close()

    def _migrate(self, conn: sqlite3.Connection) -> list[int]:
        script = sql_scripts.migrate(
            load_migrations(_PACKAGE), int(time.time() * 1000), str(self.path)
        )
        try:
            conn.execute("BEGIN IMMEDIATE")
            applied: list[int] = driver.run(conn, QUERIES, script)
            conn.execute("COMMIT")
        except BaseException as exc:  # a refused schema (StoreError) rolls back too
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise translate(exc, self.path) from exc
            raise
        return applied

    # --- writes -------------------------------------------------------------------------------
    async def start_execution(self, new: NewExecution) -> StartResult:
        row = execution_insert_row(new)

        def op(conn: sqlite3.Connection) -> StartResult:
            if conn.execute(QUERIES["insert_execution"], row).rowcount == 0:
                found = conn.execute(QUERIES["select_execution"], (new.id,)).fetchone()
                return StartResult(created=False, existing=execution_from_row(found))
            insert_plain(conn, QUERIES, [new.transition])
            if new.labels:
                conn.executemany(QUERIES["insert_label"], label_rows([new]))
            return StartResult(created=True)

        result: StartResult = await self.writer.submit(op)
        return result

    async def _write_script(self, make: Callable[[], SqlScript]) -> Any:
        """A script as one writer op, made anew each time the op runs: the writer runs a
        batch's ops again when a transition in it was stale (``Writer._transaction``), and a
        script generator that has run once is spent (it would answer None, writing nothing)."""
        return await self.writer.submit(lambda c: driver.run(c, QUERIES, make()))

    notifies = False  # other processes are seen by polling

    async def listen(self, on_notify: Callable[[str], None]) -> None:
        return None

    def pending_writes(self) -> int:
        return self.writer.pending

    def commits(self) -> int:
        return self.writer.commits

    def observe_commits(self, observer: CommitObserver | None) -> None:
        self.writer.on_commit = observer

    def submit(self, transition: Transition) -> asyncio.Future[None]:
        return self.writer.submit(transition)

    async def claim_tasks(
        self, owner: str, queues: list[str], steps: list[str], now: int, lease_ms: int, limit: int
    ) -> list[Task]:
        params = driver.bind({"owner": owner, "expires": now + lease_ms, "queues": queues,
                              "steps": steps, "now": now, "limit": limit})  # fmt: skip

        def op(conn: sqlite3.Connection) -> list[Task]:
            return [
                task_from_row(r) for r in conn.execute(QUERIES["claim_tasks"], params).fetchall()
            ]

        rows: list[Task] = await self.writer.submit(op)
        return rows

    async def finish_task(self, task_id: str, attempt: int, owner: str, outcome: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(QUERIES["finish_task"], (outcome, task_id, attempt, owner)).rowcount
                == 1
            )

        done: bool = await self.writer.submit(op)
        return done

    async def release_tasks(self, owner: str, task_ids: list[str] | None) -> int:
        if task_ids is None:
            name, params = "release_all_tasks", {"owner": owner}
        else:
            name, params = "release_tasks", driver.bind({"owner": owner, "ids": task_ids})
        released: int = await self.writer.submit(
            lambda c: c.execute(QUERIES[name], params).rowcount
        )
        return released

    async def renew_leases(self, owner: str, task_ids: list[str], expires_at: int) -> list[str]:
        params = (expires_at, owner, codec.dumps(task_ids, "task ids"))

        def op(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            return conn.execute(QUERIES["renew_leases"], params).fetchall()

        return to_stop(task_ids, await self.writer.submit(op))

    async def record_heartbeat(
        self, task_id: str, attempt: int, details: str | None, expires_at: int
    ) -> None:
        params = (details, expires_at, task_id, attempt)
        await self.writer.submit(lambda c: c.execute(QUERIES["record_heartbeat"], params))

    # --- reads --------------------------------------------------------------------------------
    def _read(self, name: str, params: Any) -> list[tuple[Any, ...]]:
        if self._reader is None:
            raise StoreError("the store is not open")
        try:
            return self._reader.execute(QUERIES[name], driver.bind(params)).fetchall()
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    async def load_execution(self, execution_id: str) -> ExecutionRow | None:
        rows = self._read("select_execution", (execution_id,))
        return execution_from_row(rows[0]) if rows else None

    async def settled_executions(self, ids: list[str]) -> list[ExecutionRow]:
        rows = self._read("select_settled_executions", (codec.dumps(ids, "execution ids"),))
        return [execution_from_row(r) for r in rows]

    async def load_history(self, execution_id: str) -> list[Event]:
        return [event_from_row(r) for r in self._read("select_history", (execution_id,))]

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
            rows = self._read(name, params)
            if len(rows) == limit:
                break
        return [execution_from_row(r) for r in rows]

    async def record_workflow_types(self, types: list[WorkflowType], now: int) -> None:
        rows = [workflow_type_params(t, now) for t in types]
        if rows:
            await self.writer.submit(lambda c: c.executemany(QUERIES["upsert_workflow_type"], rows))

    async def workflow_types(self) -> list[WorkflowType]:
        return [workflow_type_from_row(r) for r in self._read("select_workflow_types", {})]

    async def missing_migrations(self) -> list[int]:
        applied = {int(r[0]) for r in self._read("applied_migrations", {})}
        return [m.version for m in load_migrations(_PACKAGE) if m.version not in applied]

    async def executions_to_resume(self, partitions: list[int]) -> list[ExecutionRow]:
        rows = self._read("executions_to_resume", {"parts": partitions})
        return [execution_from_row(r) for r in rows]

    async def pending_executions(self, limit: int, partitions: list[int]) -> list[ExecutionRow]:
        params = {"parts": partitions, "limit": limit}
        return [execution_from_row(r) for r in self._read("pending_executions", params)]

    async def overdue_tasks(self, now: int, limit: int, partitions: list[int]) -> list[Task]:
        params = {"now": now, "parts": partitions, "limit": limit}
        return [task_from_row(r) for r in self._read("overdue_tasks", params)]

    async def next_start_deadline(self, partitions: list[int]) -> int | None:
        rows = self._read("next_start_deadline", {"parts": partitions})
        return rows[0][0] if rows and rows[0][0] is not None else None

    async def done_tasks(self, limit: int, partitions: list[int]) -> list[Task]:
        params = {"parts": partitions, "limit": limit}
        return [task_from_row(r) for r in self._read("done_tasks", params)]

    async def due_timers(
        self, until: int, limit: int, partitions: list[int]
    ) -> list[tuple[str, int, int]]:
        params = {"until": until, "limit": limit, "parts": partitions}
        return [(r[0], r[1], r[2]) for r in self._read("due_timers", params)]

    # --- an operator's reads (legato.ports.inspection) -----------------------------------------
    async def count_executions(
        self, status: Status | None = None, workflow: str | None = None
    ) -> int:
        params = {"status": status.value if status else None, "workflow": workflow}
        count: int = self._read("count_executions", params)[0][0]
        return count

    async def executions_by_prefix(self, prefix: str, limit: int) -> list[ExecutionRow]:
        params = {"pattern": _glob_prefix(prefix), "limit": limit}
        return [execution_from_row(r) for r in self._read("executions_by_prefix", params)]

    async def retrying_steps(
        self, now: int, limit: int, execution_id: str | None = None
    ) -> list[RetryingStep]:
        params = {"now": now, "limit": limit, "eid": execution_id}
        return [retrying_from_row(r) for r in self._read("retrying_steps", params)]

    async def queue_stats(self, now: int) -> list[QueueStats]:
        return [queue_stats_from_row(r) for r in self._read("queue_stats", {"now": now})]

    async def live_replicas(self, now: int, live_ms: int) -> list[ReplicaSeen]:
        params = {"now": now, "live_since": now - live_ms}
        return [replica_from_row(r) for r in self._read("live_replicas", params)]

    async def live_workers(self, now: int) -> list[WorkerSeen]:
        return [worker_from_row(r) for r in self._read("live_workers", {"now": now})]

    # --- inbox -----------------------------------------------------------------------------------
    async def send(self, message: InboxMessage) -> bool:
        params = inbox_params(message)
        sent: bool = await self.writer.submit(
            lambda c: c.execute(QUERIES["send_inbox"], params).rowcount == 1
        )
        return sent

    async def inbox(self, limit: int, partitions: list[int]) -> list[InboxRow]:
        params = {"parts": partitions, "limit": limit, "terminate": _TERMINATE}
        return [inbox_from_row(r) for r in self._read("select_inbox", params)]

    async def load_inbox(self, execution_id: str) -> list[InboxRow]:
        return [inbox_from_row(r) for r in self._read("select_execution_inbox", (execution_id,))]

    # --- state machine definitions (legato.ports.definitions) ----------------------------------
    async def put_definition(
        self, name: str, version: str | None, definition: str, content_hash: str, now: int
    ) -> Put:
        done: Put | DefinitionVersionExists = await self._write_script(
            lambda: definition_rows.put_definition(name, version, definition, content_hash, now)
        )
        if isinstance(done, DefinitionVersionExists):
            raise done
        return done

    async def get_definition(
        self, name: str, version: str | None = None
    ) -> StoredDefinition | None:
        if version is None:
            rows = self._read("latest_definition", {"name": name})
        else:
            rows = self._read("select_definition", {"name": name, "version": version})
        return definition_rows.stored_from_row(rows[0]) if rows else None

    async def definition_by_hash(self, name: str, content_hash: str) -> StoredDefinition | None:
        rows = self._read("definition_by_hash", {"name": name, "hash": content_hash})
        return definition_rows.stored_from_row(rows[0]) if rows else None

    async def list_definitions(self) -> list[DefinitionSummary]:
        return definition_rows.summaries(self._read("list_definitions", None))

    async def definition_versions(self, name: str) -> list[DefinitionVersion]:
        rows = self._read("definition_versions", {"name": name})
        return [DefinitionVersion(r[1], r[2], int(r[3])) for r in rows]

    # --- schedules (legato.ports.schedules) -----------------------------------------------------
    async def insert_schedule(self, schedule: Schedule) -> bool:
        params = schedule_rows.schedule_params(schedule)
        done: bool = await self.writer.submit(
            lambda c: c.execute(QUERIES["insert_schedule"], params).rowcount == 1
        )
        return done

    async def update_schedule(self, schedule: Schedule, expected_revision: int) -> bool:
        params = {**schedule_rows.schedule_params(schedule), "expected": expected_revision}
        done: bool = await self.writer.submit(
            lambda c: c.execute(QUERIES["update_schedule"], params).rowcount == 1
        )
        return done

    async def get_schedule(self, name: str) -> Schedule | None:
        rows = self._read("select_schedule", {"name": name})
        return schedule_rows.schedule_from_row(rows[0]) if rows else None

    async def list_schedules(self, partitions: list[int] | None = None) -> list[Schedule]:
        if partitions is None:
            rows = self._read("list_schedules", None)
        else:
            rows = self._read("schedules_in", {"parts": partitions})
        return [schedule_rows.schedule_from_row(r) for r in rows]

    async def delete_schedule(self, name: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            conn.execute(QUERIES["delete_schedule_fires"], {"name": name})
            return conn.execute(QUERIES["delete_schedule"], {"name": name}).rowcount == 1

        done: bool = await self.writer.submit(op)
        return done

    async def fire_schedule(self, fire: Fire) -> FireResult:
        done: FireResult = await self._write_script(lambda: schedule_rows.fire(fire))
        return done

    async def schedule_fires(self, name: str, limit: int) -> list[ScheduleFire]:
        rows = self._read("select_fires", {"name": name, "limit": limit})
        return [schedule_rows.fire_from_row(r) for r in rows]

    # --- events (legato.ports.events) ---------------------------------------------------------
    async def ingest(self, events: list[EventIngest], dead: list[DeadLetter]) -> Ingested:
        done: tuple[Ingested, list[NewExecution]] = await self._write_script(
            lambda: event_store_rows.ingest(events, dead)
        )
        return done[0]

    async def put_subscription(self, sub: Subscription) -> bool:
        params = event_store_rows.subscription_params(sub)
        created: bool = await self.writer.submit(
            lambda c: c.execute(QUERIES["insert_subscription"], params).rowcount == 1
        )
        return created

    async def get_subscription(self, name: str) -> Subscription | None:
        rows = self._read("select_subscription", {"name": name})
        return event_store_rows.subscription_from_row(rows[0]) if rows else None

    async def list_subscriptions(self) -> list[Subscription]:
        rows = self._read("list_subscriptions", None)
        return [event_store_rows.subscription_from_row(r) for r in rows]

    async def delete_subscription(self, name: str) -> bool:
        deleted: bool = await self.writer.submit(
            lambda c: c.execute(QUERIES["delete_subscription"], {"name": name}).rowcount == 1
        )
        return deleted

    async def get_event(self, source: str, event_id: str) -> StoredEvent | None:
        rows = self._read("select_event", {"source": source, "id": event_id})
        return event_store_rows.event_from_row(rows[0]) if rows else None

    async def dead_letters(
        self, limit: int, before: tuple[int, str] | None = None
    ) -> list[DeadLetter]:
        at, last = before if before is not None else (None, None)
        rows = self._read("dead_letters_page", {"at": at, "id": last, "limit": limit})
        return [event_store_rows.dead_letter_from_row(r) for r in rows]

    async def get_dead_letter(self, letter_id: str) -> DeadLetter | None:
        rows = self._read("select_dead_letter", {"id": letter_id})
        return event_store_rows.dead_letter_from_row(rows[0]) if rows else None

    async def redrive_dead_letter(
        self, letter_id: str, now: int, event: StoredEvent | None, starts: list[NewExecution]
    ) -> bool:
        done: tuple[bool, list[NewExecution]] = await self._write_script(
            lambda: event_store_rows.redrive_letter(letter_id, now, event, starts)
        )
        return done[0]

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
        await self._write_script(
            lambda: sql_scripts.heartbeat_worker(owner, queues, steps, now, live_ms, leaving)
        )

    async def waiting_steps(self, execution_id: str, now: int) -> list[WaitingStep]:
        rows = self._read("waiting_steps", {"eid": execution_id, "now": now})
        return [WaitingStep(r[0], r[1], r[2]) for r in rows]

    # --- API keys (legato.ports.api_keys) -----------------------------------------------------
    async def create_api_key(self, key_id: str, name: str, secret_hash: str, now: int) -> None:
        params = {"id": key_id, "name": name, "hash": secret_hash, "now": now}
        await self.writer.submit(lambda c: c.execute(QUERIES["insert_api_key"], params))

    async def list_api_keys(self) -> list[ApiKey]:
        return [ApiKey(*r) for r in self._read("list_api_keys", None)]

    async def revoke_api_key(self, key_id: str, now: int) -> ApiKey | None:
        def op(conn: sqlite3.Connection) -> ApiKey | None:
            conn.execute(QUERIES["revoke_api_key"], {"id": key_id, "now": now})
            row = conn.execute(QUERIES["select_api_key"], {"id": key_id}).fetchone()
            return None if row is None else ApiKey(*row)

        key: ApiKey | None = await self.writer.submit(op)
        return key

    async def active_api_keys(self) -> dict[str, str]:
        return {h: i for h, i in self._read("active_api_keys", None)}

    async def touch_api_keys(self, key_ids: list[str], now: int) -> None:
        params = driver.bind({"ids": key_ids, "now": now})
        await self.writer.submit(lambda c: c.execute(QUERIES["touch_api_keys"], params))

    # --- orchestrator replicas ------------------------------------------------------------------
    async def heartbeat_replica(self, owner: str, now: int, live_ms: int, leaving: bool) -> int:
        live: int = await self._write_script(
            lambda: sql_scripts.heartbeat_replica(owner, now, live_ms, leaving)
        )
        return live

    async def balance_partitions(
        self, owner: str, now: int, lease_ms: int, target: int
    ) -> list[int]:
        held: list[int] = await self._write_script(
            lambda: sql_scripts.balance_partitions(owner, now, lease_ms, target)
        )
        return held

    async def release_partitions(self, owner: str, ids: list[int]) -> None:
        params = driver.bind({"owner": owner, "ids": ids})
        await self.writer.submit(lambda c: c.execute(QUERIES["release_partitions"], params))

    async def lease_holders(self, owner: str, now: int, live_ms: int) -> list[LeaseHolder]:
        if self._reader is None:
            raise StoreError("the store is not open")
        try:
            holders: list[LeaseHolder] = driver.run(
                self._reader, QUERIES, sql_scripts.lease_holders(owner, now, live_ms)
            )
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        return holders

    async def take_over(self, dead: list[str], partitions: bool) -> list[Takeover]:
        taken: list[Takeover] = await self._write_script(
            lambda: sql_scripts.take_over(dead, partitions)
        )
        return taken

    # --- liveness (file locks beside the database: owner_locks.py) -------------------------------
    async def hold(self, info: OwnerInfo) -> None:
        self._make_folder()
        self.locks.hold(info)

    async def release(self, owner: str) -> None:
        self.locks.release(owner)

    async def alive(self, owners: list[str]) -> dict[str, bool | None]:
        return self.locks.alive(owners)

    async def sweep(self, holding: Collection[str]) -> None:
        self.locks.sweep(holding)
