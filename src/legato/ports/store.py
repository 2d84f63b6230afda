"""The Store port and the rows that cross it.

A ``Transition`` is everything one decision changes, applied in one transaction or not at all:
history events, the executions row (guarded by its sequence number), tasks and timers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from legato.core.events import Event, Status, SuspendKind


class StaleTransition(Exception):
    """The execution or task moved on since the decision was made; nothing was written."""


@dataclass(slots=True)
class ExecutionRow:
    id: str
    workflow: str
    version: str
    status: Status
    input: str | None
    output: str | None
    error_type: str | None
    error_message: str | None
    reason: str | None
    suspend_kind: SuspendKind | None
    current_step: str | None
    seq: int
    created_at: int
    updated_at: int
    closed_at: int | None


@dataclass(slots=True)
class NewTask:
    id: str  # "{execution_id}:{step_id}", the step's idempotency key
    execution_id: str
    step_id: int
    name: str
    queue: str
    args: str
    available_at: int
    attempt: int
    lease_owner: str | None
    lease_expires_at: int | None


@dataclass(slots=True)
class TaskRow:
    id: str
    execution_id: str
    step_id: int
    name: str
    queue: str
    args: str
    available_at: int
    attempt: int
    lease_owner: str | None
    outcome: str | None
    heartbeat_details: str | None


@dataclass(slots=True)
class TaskRetry:
    """Put a failed task back for another attempt."""

    task_id: str
    attempt: int  # the attempt that failed
    available_at: int
    lease_owner: str | None  # pre-leased to a local worker, or None for any worker
    lease_expires_at: int | None


@dataclass(slots=True)
class ExecutionUpdate:
    status: Status
    current_step: str | None
    output: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    reason: str | None = None
    suspend_kind: SuspendKind | None = None
    closed_at: int | None = None
    progress_only: bool = False  # status stays RUNNING: only seq, current step and time change


@dataclass(slots=True)
class InboxRow:
    """A message for an execution, consumed (deleted) by the transition that records it.

    ``kind``: ``signal`` (``name``, ``payload``), ``child`` (``ref`` = the parent's command;
    ``name`` = ``started``, ``completed``, ``failed``, ``conflict``...), ``task_success``,
    ``task_failure``, ``task_heartbeat`` (``ref`` = the external wait's command)."""

    id: int
    execution_id: str
    kind: str
    name: str | None
    ref: int | None
    payload: str | None
    created_at: int


@dataclass(slots=True)
class InboxMessage:
    execution_id: str
    kind: str
    name: str | None
    ref: int | None
    payload: str | None
    created_at: int


@dataclass(slots=True)
class Transition:
    execution_id: str
    expected_seq: int
    now: int
    events: list[Event]
    update: ExecutionUpdate
    task_inserts: list[NewTask] = field(default_factory=list)
    task_deletes: list[tuple[str, int]] = field(default_factory=list)  # (task id, attempt)
    task_retries: list[TaskRetry] = field(default_factory=list)
    timer_inserts: list[tuple[int, int]] = field(default_factory=list)  # (timer id, fire_at)
    timer_deletes: list[int] = field(default_factory=list)
    purge: bool = False  # delete every remaining task and timer of the execution
    park: bool = False  # suspended: its waiting tasks are handed to no worker
    unpark: bool = False  # resumed: hand them out again
    parent_notified: bool = False  # set by a store that saw its close message a parent
    inbox_deletes: list[int] = field(default_factory=list)  # inbox row ids consumed (guarded)
    child_starts: list[ChildStart] = field(default_factory=list)


@dataclass(slots=True)
class NewExecution:
    id: str
    workflow: str
    version: str
    input: str | None
    now: int
    transition: Transition  # events from seq 1, and what the first decision did
    partition: int


@dataclass(slots=True)
class ChildStart:
    """A child execution recorded PENDING in its parent's transition. If its id exists, the
    same workflow and input attach to it; anything else leaves a ``conflict`` inbox row for the
    parent. ``wait``: the parent's command awaits its result, delivered to the parent's inbox
    when the child closes; otherwise (fire and forget) the parent gets a ``started`` row."""

    new: NewExecution
    parent_id: str
    command_id: int
    wait: bool


@dataclass(slots=True)
class StartResult:
    created: bool
    existing: ExecutionRow | None = None


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def migrate(self) -> list[int]:
        """Apply the schema migrations the database lacks (``open`` does it too); returns
        their numbers. Refuses a database whose schema is newer than this code."""
        ...

    async def open_reader(self) -> None:
        """Read-only use (inspection tools): no migrations, no writes."""
        ...

    async def close_reader(self) -> None: ...

    async def start_execution(self, new: NewExecution) -> StartResult: ...

    #: True if ``listen`` delivers notifications (then polling is only a slow fallback)
    notifies: bool

    async def listen(self, on_notify: Callable[[str], None]) -> None:
        """Call ``on_notify(channel)`` when another process wrote work: ``tasks`` (tasks any
        worker may claim), ``done`` (a worker finished a task), ``pending`` (a client started
        an execution), ``inbox`` (a message for an execution). Runs until
        cancelled; returns at once where there are no notifications."""
        ...

    def pending_writes(self) -> int:
        """Writes submitted and not yet resolved (the time-skipping clock waits for none)."""
        ...

    def commits(self) -> int:
        """Transactions committed so far (for stats and benchmarks)."""
        ...

    async def commit(self, transition: Transition) -> None:
        """Apply atomically; raises ``StaleTransition`` if the sequence or a task moved on."""
        ...

    def submit(self, transition: Transition) -> asyncio.Future[None]:
        """``commit`` without a coroutine: the future resolves (or fails) once committed."""
        ...

    async def load_execution(self, execution_id: str) -> ExecutionRow | None: ...
    async def closed_executions(self, ids: list[str]) -> list[ExecutionRow]:
        """Those of ``ids`` that have closed (completed, failed, cancelled, timed out)."""
        ...

    async def load_history(self, execution_id: str) -> list[Event]: ...
    async def list_executions(
        self, status: Status | None = None, workflow: str | None = None, limit: int = 100
    ) -> list[ExecutionRow]: ...
    async def executions_to_resume(self, partitions: list[int]) -> list[ExecutionRow]:
        """PENDING (started by a client), RUNNING, and SUSPENDED for an unregistered workflow."""
        ...

    async def pending_executions(self, limit: int, partitions: list[int]) -> list[ExecutionRow]: ...
    async def done_tasks(self, limit: int, partitions: list[int]) -> list[TaskRow]: ...
    async def due_timers(
        self, until: int, limit: int, partitions: list[int]
    ) -> list[tuple[str, int, int]]: ...

    async def send(self, message: InboxMessage) -> bool:
        """Add a message to an execution's inbox if it exists and is not closed (False if not);
        wakes the orchestrator that owns it where the store notifies (``inbox``)."""
        ...

    async def inbox(self, limit: int, partitions: list[int]) -> list[InboxRow]:
        """Unconsumed messages of RUNNING executions in these partitions, oldest first."""
        ...

    async def load_inbox(self, execution_id: str) -> list[InboxRow]: ...

    async def heartbeat_replica(self, owner: str, now: int, live_ms: int, leaving: bool) -> int:
        """Record that this orchestrator replica is alive (or, ``leaving``, that it is gone);
        returns how many replicas are alive."""
        ...

    async def balance_partitions(
        self, owner: str, now: int, lease_ms: int, target: int
    ) -> list[int]:
        """Renew this replica's partition leases, give back any beyond ``target``, take free
        or expired ones up to it; returns the partitions it now holds."""
        ...

    async def release_partitions(self, owner: str, ids: list[int]) -> None: ...

    async def claim_tasks(
        self, owner: str, queues: list[str], now: int, lease_ms: int, limit: int
    ) -> list[TaskRow]: ...
    async def finish_task(self, task_id: str, attempt: int, owner: str, outcome: str) -> bool: ...
    async def renew_leases(self, owner: str, task_ids: list[str], expires_at: int) -> None: ...
    async def record_heartbeat(
        self, task_id: str, attempt: int, details: str | None, expires_at: int
    ) -> None: ...


__all__ = [
    "ChildStart",
    "InboxMessage",
    "InboxRow",
    "ExecutionRow",
    "ExecutionUpdate",
    "NewExecution",
    "NewTask",
    "StaleTransition",
    "StartResult",
    "Store",
    "SuspendKind",
    "TaskRetry",
    "TaskRow",
    "Transition",
]
