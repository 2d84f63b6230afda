"""Sending messages to executions from any process: signals and task-token calls. Each is one
inbox row, written only while the execution is open; the orchestrator that owns the execution
records it in the history (see ``engine.inbox``)."""

from __future__ import annotations

from typing import Any

from legato.core import codec
from legato.core.events import CLOSED_STATUSES, EventType
from legato.core.tokens import parse_token
from legato.engine.inbox import SIGNAL, TASK_FAILURE, TASK_HEARTBEAT, TASK_SUCCESS
from legato.errors import ExecutionClosed, ExecutionNotFound, InvalidTaskToken, TaskTokenClosed
from legato.ports.store import InboxMessage, Store

_SETTLING = (EventType.EXTERNAL_TASK_COMPLETED, EventType.EXTERNAL_TASK_FAILED)


async def signal(store: Store, execution_id: str, name: str, payload: Any, now: int) -> None:
    message = InboxMessage(
        execution_id, SIGNAL, name, None, codec.dumps(payload, f"payload of signal {name!r}"), now
    )
    if not await store.send(message):
        row = await store.load_execution(execution_id)
        if row is None:
            raise ExecutionNotFound(execution_id)
        raise ExecutionClosed(execution_id, row.status.value)


async def task_success(store: Store, token: str, output: Any, now: int) -> None:
    payload = codec.dumps(output, "output of the external task")
    await _task_message(store, token, TASK_SUCCESS, payload, now)


async def task_failure(store: Store, token: str, error: str, cause: str, now: int) -> None:
    payload = codec.dumps({"error": error, "cause": cause}, "failure of the external task")
    await _task_message(store, token, TASK_FAILURE, payload, now)


async def task_heartbeat(store: Store, token: str, now: int) -> None:
    await _task_message(store, token, TASK_HEARTBEAT, None, now)


async def _task_message(store: Store, token: str, kind: str, payload: str | None, now: int) -> None:
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
    history = await store.load_history(execution_id)
    started = [e for e in history if e.type == EventType.EXTERNAL_TASK_STARTED and e.ref == ref]
    if not started or started[0].meta.get("token") != token:
        raise InvalidTaskToken(token, f"execution {execution_id!r} issued no such token")
    settled = next((e for e in history if e.type in _SETTLING and e.ref == ref), None)
    if settled is not None:
        what = "completed" if settled.type == EventType.EXTERNAL_TASK_COMPLETED else "failed"
        raise TaskTokenClosed(token, f"the external task already {what}")
    if row.status in CLOSED_STATUSES:
        raise TaskTokenClosed(token, f"execution {execution_id!r} is {row.status.value}")
    if kind != TASK_HEARTBEAT:
        pending = await store.load_inbox(execution_id)
        if any(m.ref == ref and m.kind in (TASK_SUCCESS, TASK_FAILURE) for m in pending):
            raise TaskTokenClosed(token, "the external task was already completed")
    if not await store.send(InboxMessage(execution_id, kind, None, ref, payload, now)):
        raise TaskTokenClosed(token, f"execution {execution_id!r} has closed")
