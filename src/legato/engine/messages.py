"""Sending messages to executions from any process: signals, cancellations and task-token
calls. Each is one inbox row, written only while the execution is open; the orchestrator that
owns the execution records it in the history (``legato.core.messages``, ``legato.core.admit``)."""

from __future__ import annotations

from typing import Any, Protocol

from legato.core import codec, error_names
from legato.core.events import (
    CLOSED_STATUSES,
    Event,
    ExternalTaskCompleted,
    ExternalTaskFailed,
    ExternalTaskStarted,
)
from legato.core.messages import InboxKind, InboxMessage
from legato.core.tokens import parse_token
from legato.errors import ExecutionClosed, ExecutionNotFound, InvalidTaskToken, TaskTokenClosed
from legato.ports.executions import Executions
from legato.ports.inbox import Inbox


class Store(Executions, Inbox, Protocol):
    pass


async def signal(store: Store, execution_id: str, name: str, payload: Any, now: int) -> None:
    what = f"payload of signal {name!r}"
    payload_json = codec.dumps(payload, what)
    await _send(store, InboxMessage(execution_id, InboxKind.SIGNAL, name, None, payload_json, now))


async def cancel(store: Store, execution_id: str, reason: str | None, now: int) -> None:
    """Ask the execution to stop: its orchestrator records ``CancelRequested`` (once, however
    many are sent) and the code sees ``legato.Cancelled`` at its next await."""
    reason_json = codec.dumps(reason, "cancellation reason")
    await _send(store, InboxMessage(execution_id, InboxKind.CANCEL, None, None, reason_json, now))


async def _send(store: Store, message: InboxMessage) -> None:
    """Send to an open execution; else say why not (no such execution, or it has ended)."""
    if not await store.send(message):
        row = await store.load_execution(message.execution_id)
        if row is None:
            raise ExecutionNotFound(message.execution_id)
        raise ExecutionClosed(message.execution_id, row.status.value)


async def task_success(
    store: Store, token: str, output: Any, now: int, *, repeat: bool = False
) -> None:
    """``repeat``: this call may have been sent already (a retry after a cut connection): the
    wait found settled by this very message is then success, not ``TaskTokenClosed``."""
    payload = codec.dumps(output, "output of the external task")
    await _task_message(store, token, InboxKind.TASK_SUCCESS, payload, now, repeat)


async def task_failure(
    store: Store, token: str, error: str, cause: str, now: int, *, repeat: bool = False
) -> None:
    payload = codec.dumps({"error": error, "cause": cause}, "failure of the external task")
    await _task_message(store, token, InboxKind.TASK_FAILURE, payload, now, repeat)


async def task_heartbeat(store: Store, token: str, now: int) -> None:
    await _task_message(store, token, InboxKind.TASK_HEARTBEAT, None, now, False)


def _settled_by(event: Event, kind: InboxKind, payload: str | None) -> bool:
    """Whether a recorded event is what this message (sent before) made of the wait."""
    if isinstance(event, ExternalTaskCompleted):
        return kind == InboxKind.TASK_SUCCESS and event.result == payload
    if isinstance(event, ExternalTaskFailed) and event.inbox is not None:
        if kind != InboxKind.TASK_FAILURE:
            return False
        sent = codec.loads(payload) or {}
        return (event.error_type, event.message) == (
            str(sent.get("error") or error_names.TASK_FAILED),  # as ``core.admit`` records it
            str(sent.get("cause") or ""),
        )
    return False


async def _task_message(
    store: Store, token: str, kind: InboxKind, payload: str | None, now: int, repeat: bool
) -> None:
    """Checks the token against the history (it must name an open wait), then sends. Two
    completions racing past the check both land in the inbox; the orchestrator records the
    first and drops the other."""
    parsed = parse_token(token)
    if parsed is None:
        raise InvalidTaskToken(token, "not a Legato task token")
    execution_id, ref = parsed
    row = await store.load_execution(execution_id)
    if row is None:
        raise InvalidTaskToken(token, f"no execution {execution_id!r}")
    # The inbox is read before the history: a message consumed in between is recorded in
    # the same commit, so a retry finds what its first attempt sent in one or the other.
    settles = kind != InboxKind.TASK_HEARTBEAT
    pending = await store.load_inbox(execution_id) if settles else []
    history = await store.load_history(execution_id)
    started = [e for e in history if isinstance(e, ExternalTaskStarted) and e.ref == ref]
    if not started or started[0].token != token:
        raise InvalidTaskToken(token, f"execution {execution_id!r} issued no such token")
    for e in history:
        if isinstance(e, ExternalTaskCompleted | ExternalTaskFailed) and e.ref == ref:
            if repeat and _settled_by(e, kind, payload):
                return
            what = "completed" if isinstance(e, ExternalTaskCompleted) else "failed"
            raise TaskTokenClosed(token, f"the external task already {what}")
    if settles:
        settling = (InboxKind.TASK_SUCCESS, InboxKind.TASK_FAILURE)
        mine = [m for m in pending if m.ref == ref and m.kind == kind and m.payload == payload]
        if repeat and mine:
            return
        if any(m.ref == ref and m.kind in settling for m in pending):
            raise TaskTokenClosed(token, "the external task was already completed")
    if row.status in CLOSED_STATUSES:
        raise TaskTokenClosed(token, f"execution {execution_id!r} is {row.status.value}")
    if not await store.send(InboxMessage(execution_id, kind, None, ref, payload, now)):
        raise TaskTokenClosed(token, f"execution {execution_id!r} has closed")
