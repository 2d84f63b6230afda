"""An execution as the API shows it (``Execution``), made from a store row.

``kind`` says how to read ``input``: a state machine's is its one input value; a code
workflow's is ``{"args": [...], "kwargs": {...}}`` (its stored call); unknown workflows (served
by no engine this server knows of) show the call as a code workflow's. ``output`` is decoded
JSON, and only a COMPLETED execution has one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from legato.client import App
from legato.client.labels import decode_labels
from legato.core import codec, started_by
from legato.core.durations import instant
from legato.core.events import Status
from legato.ports.executions import ExecutionRow

Kind = Literal["code", "state_machine"]


class ErrorInfo(BaseModel):
    type: str
    message: str | None = None


class Execution(BaseModel):
    id: str
    workflow: str
    version: str
    kind: Kind | None = None
    status: Status
    current_step: str | None = None
    reason: str | None = None
    error: ErrorInfo | None = None
    input: Any = None
    output: Any = None
    labels: dict[str, str] = Field(default_factory=dict)
    started_by: dict[str, Any] | None = Field(
        default=None,
        description="what started it: {kind: api}, {kind: schedule, schedule, fire_time, "
        "backfill}, {kind: event, subscription, source, id, type}; null: code or the CLI",
    )
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


class StartedExecution(Execution):
    created: bool = Field(description="false: an execution with this id (or key) existed")


class Kinds:
    """Which workflows are state machines: the server's own registry first, then what the
    engines on its database recorded (read once per request, and only if needed)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._recorded: dict[tuple[str, str], str] | None = None

    async def of(self, workflow: str, version: str) -> Kind | None:
        wf = self.app.registry.lookup_workflow(workflow, version)
        if wf is not None:
            return _kind(wf.kind)
        if self._recorded is None:
            store = await self.app.store_ready()
            self._recorded = {(t.name, t.version): t.kind for t in await store.workflow_types()}
        found = self._recorded.get((workflow, version))
        return None if found is None else _kind(found)


def _kind(text: str) -> Kind:
    return "state_machine" if text == "state_machine" else "code"


def _input(text: str | None, kind: Kind | None) -> Any:
    if text is None:
        return None
    try:
        call = codec.loads(text)
        args, kwargs = call[0], call[1]
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    if kind == "state_machine":
        return args[0] if args else None
    return {"args": args, "kwargs": kwargs}


def execution_json(row: ExecutionRow, kind: Kind | None) -> Execution:
    error = (
        ErrorInfo(type=row.error_type, message=row.error_message)
        if row.error_type is not None
        else None
    )
    output = None
    if row.status == Status.COMPLETED and row.output is not None:
        try:
            output = codec.loads(row.output)
        except ValueError:
            output = None
    return Execution(
        id=row.id,
        workflow=row.workflow,
        version=row.version,
        kind=kind,
        status=row.status,
        current_step=row.current_step,
        reason=row.reason,
        error=error,
        input=_input(row.input, kind),
        output=output,
        labels=decode_labels(row.labels),
        started_by=started_by.decode(row.started_by),
        created_at=instant(row.created_at),
        updated_at=instant(row.updated_at),
        closed_at=None if row.closed_at is None else instant(row.closed_at),
    )
