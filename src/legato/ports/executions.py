"""Port: executions and their histories — recording transitions and reading them back.

A store applies each ``Transition`` in one transaction or not at all (DESIGN.md §3). The
guard is the executions row's sequence number, together with every task, timer and inbox row
the transition consumes: if any of them moved on since the decision was made, nothing is
written and the commit raises ``StaleTransition`` (docs/ARCHITECTURE.md, "Write paths").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from legato.core import codec
from legato.core.events import Event, Status, SuspendKind
from legato.core.transition import NewExecution, Transition


class StaleTransition(Exception):
    """The execution or a row the transition consumes moved on; nothing was written."""


@dataclass(frozen=True, slots=True)
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
    labels: str | None = None  # a JSON object of strings, or None
    started_by: str | None = None  # JSON: what started it (API, schedule, event), or None


@dataclass(frozen=True, slots=True)
class StartResult:
    created: bool
    existing: ExecutionRow | None = None
    #: created: the row as the start wrote it (set by the caller that made the execution)
    row: ExecutionRow | None = None


def new_execution_row(new: NewExecution) -> ExecutionRow:
    """The executions row a start writes for ``new`` (``insert_execution``'s columns): what
    the store holds once it commits."""
    tr = new.transition
    u = tr.update
    return ExecutionRow(
        tr.execution_id, new.workflow, new.version, u.status, new.input, u.output,
        u.error_type, u.error_message, None, None, u.current_step,
        len(tr.events), tr.now, tr.now, u.closed_at, new.labels, new.started_by,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    """What ``list_executions`` keeps besides status and workflow: a version, labels (every
    one must match), and time ranges in epoch ms (``*_after`` inclusive, ``*_before``
    exclusive; "started" is when the execution was recorded)."""

    version: str | None = None
    labels: Mapping[str, str] | None = None
    started_after: int | None = None
    started_before: int | None = None
    closed_after: int | None = None
    closed_before: int | None = None


class BadCursor(ValueError):
    """A listing cursor this code did not make."""


def cursor_after(row: ExecutionRow) -> str:
    """The opaque cursor for the page after ``row`` (newest first: older than it)."""
    raw = codec.dumps([row.created_at, row.id], "cursor").encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_cursor(cursor: str) -> tuple[int, str]:
    """(created_at, id) of the row a cursor continues after; raises ``BadCursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, execution_id = codec.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise BadCursor(f"not a cursor this server gave: {cursor!r}") from exc
    if not isinstance(created_at, int) or not isinstance(execution_id, str):
        raise BadCursor(f"not a cursor this server gave: {cursor!r}")
    return created_at, execution_id


@dataclass(frozen=True, slots=True)
class WorkflowType:
    """A workflow an orchestrating engine serves, as recorded in the database at its start-up:
    ``kind`` is ``code`` or ``state_machine``; ``args_schema`` the JSON Schema (text) of its
    arguments."""

    name: str
    version: str
    kind: str
    args_schema: str
    code_hash: str
    seen_at: int = 0


class Executions(Protocol):
    async def start_execution(self, new: NewExecution) -> StartResult:
        """Record a new execution, or report the one that already has its id."""
        ...

    def submit(self, transition: Transition) -> asyncio.Future[None]:
        """Apply atomically: the future resolves once committed, or fails with
        ``StaleTransition`` if the sequence or a row moved on. Transitions submitted together
        are committed together (group commit)."""
        ...

    async def load_execution(self, execution_id: str) -> ExecutionRow | None: ...
    async def settled_executions(self, ids: list[str]) -> list[ExecutionRow]:
        """Those of ``ids`` that no longer run on their own: closed (whatever the status), or
        suspended for an operator. What a handle awaiting a result waits for."""
        ...

    async def load_history(self, execution_id: str) -> list[Event]: ...
    async def list_executions(
        self,
        status: Status | None = None,
        workflow: str | None = None,
        limit: int = 100,
        *,
        filters: ExecutionFilter | None = None,
        cursor: str | None = None,
    ) -> list[ExecutionRow]:
        """Newest first (created_at, then id, descending); ``cursor`` (``cursor_after`` of
        the last row of the page before) continues after that row. Raises ``BadCursor``."""
        ...

    async def record_workflow_types(self, types: list[WorkflowType], now: int) -> None:
        """Upsert the workflows an orchestrating engine serves (at its start-up)."""
        ...

    async def workflow_types(self) -> list[WorkflowType]: ...
    async def executions_to_resume(self, partitions: list[int]) -> list[ExecutionRow]:
        """PENDING (started, redriven or resumed by a client), RUNNING, and SUSPENDED (tried
        again when its workflow is registered now, or its code changed)."""
        ...

    async def pending_executions(self, limit: int, partitions: list[int]) -> list[ExecutionRow]: ...
    async def due_timers(
        self, until: int, limit: int, partitions: list[int]
    ) -> list[tuple[str, int, int]]:
        """(execution id, timer id, fire_at) of RUNNING executions' timers due by ``until``."""
        ...
