"""Port: executions and their histories — recording transitions and reading them back.

A store applies each ``Transition`` in one transaction or not at all (DESIGN.md §3). The
guard is the executions row's sequence number, together with every task, timer and inbox row
the transition consumes: if any of them moved on since the decision was made, nothing is
written and the commit raises ``StaleTransition`` (docs/ARCHITECTURE.md, "Write paths").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

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


@dataclass(frozen=True, slots=True)
class StartResult:
    created: bool
    existing: ExecutionRow | None = None


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
        self, status: Status | None = None, workflow: str | None = None, limit: int = 100
    ) -> list[ExecutionRow]: ...
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
