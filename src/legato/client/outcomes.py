"""What an execution that stopped running means to a caller awaiting its result.

Only COMPLETED has a result. Every other status a handle stops waiting at becomes an error
that names the execution and the status: ``ExecutionSuspended`` (it waits for an operator, so
waiting for its result would wait for that), and ``ExecutionFailedError`` or its subclass for
how it ended. Statuses are compared by value, so a status this build's ``Status`` does not list
yet (a store written by a newer engine) still maps to its error.
"""

from __future__ import annotations

from typing import Protocol

from legato.core.events import Status, SuspendKind
from legato.errors import (
    ExecutionCancelled,
    ExecutionFailedError,
    ExecutionSuspended,
    ExecutionTerminated,
    ExecutionTimedOut,
)

#: Statuses in which an execution goes on by itself: a handle keeps waiting.
RUNNING = frozenset({Status.PENDING.value, Status.RUNNING.value})

_CLOSED_ERRORS: dict[str, type[ExecutionFailedError]] = {
    "FAILED": ExecutionFailedError,
    "CANCELLED": ExecutionCancelled,
    "TERMINATED": ExecutionTerminated,
    "TIMED_OUT": ExecutionTimedOut,
}


class Settled(Protocol):
    """The fields of an executions row (or of the update that wrote it) that say how it
    stopped."""

    @property
    def status(self) -> Status: ...
    @property
    def error_type(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def suspend_kind(self) -> SuspendKind | None: ...


def error_for(execution_id: str, settled: Settled) -> ExecutionFailedError:
    """The error ``handle.result()`` raises for an execution that stopped without a result."""
    status = settled.status.value
    if status == Status.SUSPENDED.value:
        kind = settled.suspend_kind.value if settled.suspend_kind else None
        return ExecutionSuspended(execution_id, kind, settled.reason)
    error = _CLOSED_ERRORS.get(status, ExecutionFailedError)
    return error(execution_id, status, settled.error_type, settled.error_message)
