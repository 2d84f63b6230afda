"""``/v1/executions``: start (input checked against the workflow's schema before anything is
written; idempotent on ``id`` and on the ``Idempotency-Key`` header), list with filters and a
cursor, get (``?wait=`` long-polls), history (Legato's events, or Step Functions' shape),
signal, cancel, terminate, redrive, resume.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from legato.api.deps import LegatoApp
from legato.api.execution_json import (
    Execution,
    Kinds,
    StartedExecution,
    execution_json,
)
from legato.api.path_ids import EXECUTION_ID, SEGMENT
from legato.api.problems import Problem, problem_responses
from legato.api.start_input import resolve_start
from legato.client import App
from legato.client.labels import MAX_KEY, MAX_LABELS, MAX_VALUE, label_problems
from legato.core import trace_context
from legato.core.asl.aws_history import aws_events, state_types
from legato.core.durations import epoch_ms
from legato.core.events import ExecutionStarted, Status
from legato.core.export import export_history
from legato.engine import tracing
from legato.ports.executions import BadCursor, ExecutionFilter, ExecutionRow, cursor_after

router = APIRouter(prefix="/v1/executions", tags=["executions"])
MAX_WAIT_SECONDS = 60.0
MAX_LIST = 1000
ExecutionId = Annotated[str, Field(min_length=1, max_length=256)]


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workflow: str = Field(min_length=1, max_length=256, description="workflow or definition")
    version: str | None = Field(default=None, min_length=1, max_length=64)
    args: list[Any] | None = Field(default=None, description="a code workflow's arguments")
    kwargs: dict[str, Any] | None = Field(default=None, description="... by name")
    input: Any = Field(default=None, description="a state machine's input (or the one argument)")
    id: ExecutionId | None = Field(default=None, description="the execution id: idempotent")
    labels: dict[str, str] | None = Field(
        default=None,
        description=f"at most {MAX_LABELS}; keys 1-{MAX_KEY} characters, values <= {MAX_VALUE}",
    )
    timeout_seconds: float | None = Field(default=None, gt=0, le=10 * 365 * 86400)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str] | None) -> dict[str, str] | None:
        if labels:
            problems = label_problems(labels)
            if problems:
                raise ValueError("; ".join(problems))
        return labels


class ExecutionPage(BaseModel):
    items: list[Execution]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class HistoryEvents(BaseModel):
    events: list[dict[str, Any]] = Field(
        description="each with the execution's trace_id (its OpenTelemetry trace)"
    )


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=4096)


class SignalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload: Any = None


class Accepted(BaseModel):
    execution_id: str
    accepted: bool = True


def _key_id(key: str) -> str:
    """The execution id an ``Idempotency-Key`` stands for: the same key, the same execution."""
    return "idem-" + hashlib.sha256(key.encode()).hexdigest()[:32]


@router.post(
    "",
    status_code=201,
    response_model=StartedExecution,
    responses={
        200: {"model": StartedExecution, "description": "It existed (same id or key, input)"},
        **problem_responses(400, 404, 409),
    },
    summary="Start an execution",
)
async def start_execution(
    body: StartRequest,
    app: LegatoApp,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=256)
    ] = None,
    traceparent: Annotated[
        str | None,
        Header(
            max_length=256,
            description="W3C trace context: the execution's span is a child of this one",
        ),
    ] = None,
) -> JSONResponse:
    """Input is checked against the workflow's argument schema before anything is written:
    422 ``invalid-input`` names each field that is wrong. With ``id`` or an
    ``Idempotency-Key`` header, the same request again answers 200 with that execution;
    another input under the same id or key is 409."""
    return await start_answer(app, body, idempotency_key, traceparent)


async def start_answer(
    app: App, body: StartRequest, idempotency_key: str | None, traceparent: str | None = None
) -> JSONResponse:
    """The start itself, shared by the route and its fast path (``legato.api.fast_start``)."""
    execution_id = body.id or (_key_id(idempotency_key) if idempotency_key else None)
    with tracing.started_in(traceparent):
        handle = await resolve_start(
            app,
            body.workflow,
            body.version,
            body.args,
            body.kwargs,
            body.input,
            "input" in body.model_fields_set,
            execution_id=execution_id,
            labels=body.labels,
            timeout=body.timeout_seconds,
        )
    # a new execution is answered as its start committed it: no read back
    row = handle.started_row or await handle.status_row()
    kind = await Kinds(app).of(row.workflow, row.version)
    shown = execution_json(row, kind).model_dump(mode="json")
    # answered as built: the model was checked when made, and FastAPI would check it again
    return JSONResponse(
        {**shown, "created": handle.created}, status_code=201 if handle.created else 200
    )


def _label_filter(labels: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for text in labels:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise Problem(
                422,
                "invalid-request",
                f"label filter {text!r} must be KEY=VALUE",
                errors=[{"path": "$.label", "in": "query", "message": "must be KEY=VALUE"}],
            )
        found[key] = value
    return found


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_ms(moment)


@router.get(
    "",
    response_model=ExecutionPage,
    responses=problem_responses(400),
    summary="List executions, newest first",
)
async def list_executions(
    app: LegatoApp,
    status: Status | None = None,
    workflow: Annotated[str | None, Query(max_length=256)] = None,
    version: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[
        list[str] | None, Query(description="KEY=VALUE, repeatable: every one must match")
    ] = None,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
    closed_after: datetime | None = None,
    closed_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> ExecutionPage:
    """``*_after`` is inclusive, ``*_before`` exclusive; ``next_cursor`` pages on."""
    filters = ExecutionFilter(
        version=version,
        labels=_label_filter(label or []) or None,
        started_after=_ms(started_after),
        started_before=_ms(started_before),
        closed_after=_ms(closed_after),
        closed_before=_ms(closed_before),
    )
    store = await app.store_ready()
    try:
        rows = await store.list_executions(status, workflow, limit, filters=filters, cursor=cursor)
    except BadCursor as exc:
        raise Problem(400, "bad-cursor", str(exc)) from None
    except OverflowError as exc:
        raise Problem(400, "bad-request", f"a time is out of range: {exc}") from None
    kinds = Kinds(app)
    items = [execution_json(r, await kinds.of(r.workflow, r.version)) for r in rows]
    next_cursor = cursor_after(rows[-1]) if len(rows) == limit else None
    return ExecutionPage(items=items, next_cursor=next_cursor)


async def _row(app: LegatoApp, execution_id: str) -> ExecutionRow:
    return await app.get_handle(execution_id).status_row()


async def _answer(app: LegatoApp, row: ExecutionRow) -> Execution:
    return execution_json(row, await Kinds(app).of(row.workflow, row.version))


@router.get(
    f"/{EXECUTION_ID}",
    response_model=Execution,
    responses=problem_responses(404),
    summary="An execution (?wait= long-polls until it is closed or suspended)",
)
async def get_execution(
    execution_id: str,
    app: LegatoApp,
    wait: Annotated[float | None, Query(ge=0, le=MAX_WAIT_SECONDS)] = None,
) -> Execution:
    handle = app.get_handle(execution_id)
    row = await handle.status_row()
    if wait and row.status in (Status.PENDING, Status.RUNNING):
        await handle.wait_settled(wait)
        row = await handle.status_row()
    return await _answer(app, row)


@router.get(
    f"/{EXECUTION_ID}/history",
    response_model=HistoryEvents,
    responses=problem_responses(404, 409),
    summary="Its history: Legato's events, or (?format=aws) Step Functions' shape",
)
async def get_history(
    execution_id: str,
    app: LegatoApp,
    format: Annotated[str, Query(pattern="^(legato|aws)$")] = "legato",
) -> HistoryEvents:
    handle = app.get_handle(execution_id)
    row = await handle.status_row()
    events = await handle.history()
    if format == "legato":
        exported = export_history(row.id, row.workflow, row.version, events)
        first = events[0] if events else None
        started_in = first.traceparent if isinstance(first, ExecutionStarted) else None
        trace_id = trace_context.trace_id_of(row.id, started_in)
        return HistoryEvents(events=[{**e, "trace_id": trace_id} for e in exported["events"]])
    if await Kinds(app).of(row.workflow, row.version) != "state_machine":
        raise Problem(
            409,
            "not-a-state-machine",
            f"execution {execution_id!r} runs code workflow {row.workflow!r}: "
            "format=aws is for state machine executions",
        )
    wf = app.registry.lookup_workflow(row.workflow, row.version)
    types = state_types(wf.definition) if wf is not None and wf.definition else {}
    return HistoryEvents(events=aws_events(events, types))


@router.post(
    f"/{EXECUTION_ID}/signals/{{name:{SEGMENT}}}",
    status_code=202,
    response_model=Accepted,
    responses=problem_responses(404, 409),
    summary="Send a signal",
)
async def signal(
    execution_id: str,
    name: Annotated[str, Field(min_length=1, max_length=256)],
    app: LegatoApp,
    body: Annotated[SignalBody | None, Body()] = None,
) -> Accepted:
    await app.signal(execution_id, name, body.payload if body else None)
    return Accepted(execution_id=execution_id)


@router.post(
    f"/{EXECUTION_ID}/cancel",
    status_code=202,
    response_model=Accepted,
    responses=problem_responses(404, 409),
    summary="Ask it to stop (its code sees Cancelled)",
)
async def cancel(
    execution_id: str, app: LegatoApp, body: Annotated[Reason | None, Body()] = None
) -> Accepted:
    await app.cancel(execution_id, body.reason if body else None)
    return Accepted(execution_id=execution_id)


@router.post(
    f"/{EXECUTION_ID}/terminate",
    response_model=Execution,
    responses=problem_responses(404, 409),
    summary="End it at once: TERMINATED",
)
async def terminate(
    execution_id: str, app: LegatoApp, body: Annotated[Reason | None, Body()] = None
) -> Execution:
    await app.terminate(execution_id, body.reason if body else None)
    return await _answer(app, await _row(app, execution_id))


@router.post(
    f"/{EXECUTION_ID}/redrive",
    response_model=Execution,
    responses=problem_responses(404, 409),
    summary="Continue a failed execution from where it failed",
)
async def redrive(execution_id: str, app: LegatoApp) -> Execution:
    await app.redrive(execution_id)
    return await _answer(app, await _row(app, execution_id))


@router.post(
    f"/{EXECUTION_ID}/resume",
    response_model=Execution,
    responses=problem_responses(404, 409),
    summary="Retry a SUSPENDED execution with the code now running",
)
async def resume(execution_id: str, app: LegatoApp) -> Execution:
    await app.resume(execution_id)
    return await _answer(app, await _row(app, execution_id))
