"""Messages for executions: the inbox protocol between senders, stores and the decider.

A message is one row of the ``inbox`` table, written by whoever sends it (a client's signal, a
task-token call, a closing child, the parent's transition that started a child) and consumed
(deleted) by the transition that records it. ``InboxKind`` and ``ChildNotice`` are the values of
its ``kind`` and ``name`` columns; the stores pass them to their SQL as parameters, so Python
and SQL share one spelling.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from legato.core import codec
from legato.core.events import Status


class InboxKind(enum.StrEnum):
    SIGNAL = "signal"  # name: the signal's; payload: its JSON
    CHILD = "child"  # ref: the parent's command; name: a ChildNotice
    TASK_SUCCESS = "task_success"  # ref: the external wait's command; payload: the output
    TASK_FAILURE = "task_failure"  # ... payload: {"error", "cause"}
    TASK_HEARTBEAT = "task_heartbeat"
    CANCEL = "cancel"  # payload: the reason (JSON string or null)
    TERMINATE = "terminate"  # ... (from a parent that closed: its children's close policy)


class ChildNotice(enum.StrEnum):
    """What a child tells its parent (the ``name`` of a ``child`` message)."""

    STARTED = "started"  # payload: when (epoch ms), for start_child
    COMPLETED = "completed"  # payload: the child's output
    CONFLICT = "conflict"  # the id is taken by another execution; payload: {"workflow"}
    FAILED = "failed"  # payload: {"error_type", "message"}, as for the other closed statuses
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    TERMINATED = "terminated"

    @classmethod
    def closed_as(cls, status: Status) -> ChildNotice:
        """The notice a child closing with ``status`` sends (SQL: ``lower(status)``)."""
        return cls(status.value.lower())


class ParentClosePolicy(enum.StrEnum):
    """What happens to a child still open when its parent closes (Temporal's policy)."""

    REQUEST_CANCEL = "request_cancel"  # it gets a cancellation request (the default)
    TERMINATE = "terminate"
    ABANDON = "abandon"  # it runs on


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """A message to send: becomes an ``InboxRow`` once stored."""

    execution_id: str
    kind: InboxKind
    name: str | None
    ref: int | None
    payload: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class InboxRow(InboxMessage):
    """A stored message: what was sent, and its row id (messages are consumed in id order)."""

    id: int


def reason_of(payload: str | None) -> str | None:
    """The reason a ``cancel`` or ``terminate`` message carries: JSON text (a string, or null)
    as Legato writes it; anything else (written by hand) is taken as it is."""
    try:
        reason = codec.loads(payload)
    except ValueError:
        return payload
    return None if reason is None else str(reason)
