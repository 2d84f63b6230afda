"""``/v1/events``, ``/v1/subscriptions`` and ``/v1/dead-letters``: events that start workflows.

``POST /v1/events`` takes one structured-mode CloudEvent (JSON), a batch as
``{"events": [...]}``, or a JSON array (``application/cloudevents-batch+json``). Every event of
the request is checked first: one that is not a CloudEvent is a 422 ``invalid-event`` naming
its field (``$.events[2].type``) and nothing is taken. Otherwise the whole request is one
``App.ingest_events`` (one transaction) and the answer, 202, has one result per event:
``started`` (with the execution ids), ``duplicate`` (that ``source`` + ``id`` was seen before:
a retried request is safe), ``no_match`` or ``dead_letter`` (a filter or transform failed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from legato.api.deps import LegatoApp
from legato.api.problems import Problem, problem_responses
from legato.client.event_triggers import dead_letter_cursor, subscription_json
from legato.core import codec
from legato.core.cloudevents import parse_event
from legato.errors import InvalidEvent
from legato.ports.executions import BadCursor

router = APIRouter(tags=["events"])
VIA = "http"
MAX_BATCH = 1000
MAX_LIST = 1000
_EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "source", "type"],
    "properties": {
        "id": {"type": "string"},
        "source": {"type": "string"},
        "type": {"type": "string"},
        "subject": {"type": ["string", "null"]},
        "time": {"type": ["string", "null"]},
        "data": {},
    },
}
_BODY = {
    "requestBody": {
        "required": True,
        "description": "a CloudEvent (structured mode), {\"events\": [...]}, or an array",
        "content": {
            "application/json": {"schema": {"oneOf": [
                _EVENT_SCHEMA,
                {"type": "object", "required": ["events"],
                 "properties": {"events": {"type": "array", "items": _EVENT_SCHEMA}}},
                {"type": "array", "items": _EVENT_SCHEMA},
            ]}},
            "application/cloudevents+json": {"schema": _EVENT_SCHEMA},
            "application/cloudevents-batch+json": {
                "schema": {"type": "array", "items": _EVENT_SCHEMA}
            },
        },
    }
}  # fmt: skip


class IngestOut(BaseModel):
    status: str = Field(description="started, duplicate, no_match or dead_letter")
    source: str | None
    id: str | None
    execution_ids: list[str]
    reason: str | None


class IngestAnswer(BaseModel):
    results: list[IngestOut]


class EventExecution(BaseModel):
    id: str
    workflow: str
    version: str
    status: str


class EventOut(BaseModel):
    source: str
    id: str
    type: str
    subject: str | None
    time: str | None
    data: Any
    received_at: str
    via: str
    execution_ids: list[str]
    executions: list[EventExecution]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    event_type: str = Field(min_length=1, max_length=1024)
    workflow: str = Field(min_length=1, max_length=1024, description="workflow or state machine")
    version: str | None = Field(default=None, max_length=64, description="default: the latest")
    filter: str | None = Field(default=None, max_length=16384, description="JSONata: truthy")
    transform: str | None = Field(default=None, max_length=16384, description="JSONata: input")


class SubscriptionOut(BaseModel):
    name: str
    event_type: str
    workflow: str
    version: str | None
    filter: str | None
    transform: str | None
    created_at: str


class Subscriptions(BaseModel):
    items: list[SubscriptionOut]


class DeadLetterOut(BaseModel):
    id: str
    received_at: str
    via: str
    reason: str
    body: str
    subscription: str | None
    event_source: str | None
    event_id: str | None
    redriven_at: str | None = Field(description="when it was redriven; null: not redriven")
    redriven_to: list[str] | None = Field(description="the executions its redrive started")


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


def _invalid(exc: InvalidEvent, prefix: str) -> Problem:
    path = prefix + exc.path[1:]
    return Problem(422, "invalid-event", f"invalid event: {path}: {exc.reason}",
                   errors=[{"path": path, "message": exc.reason}])  # fmt: skip


async def _events(request: Request) -> list[Any]:
    """The request's events, each checked; a 422 naming the first that is not an event."""
    raw = await request.body()
    try:
        body = codec.loads(raw.decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid(InvalidEvent(f"the body is not UTF-8 JSON ({exc})"), "$") from None
    if isinstance(body, dict) and "events" in body and "id" not in body:
        items, prefix = body["events"], "$.events"
        if not isinstance(items, list):
            raise _invalid(InvalidEvent("must be an array of events", "$"), "$.events")
    elif isinstance(body, list):
        items, prefix = body, "$"
    else:
        items, prefix = [body], None
    if len(items) > MAX_BATCH:
        raise _invalid(InvalidEvent(f"at most {MAX_BATCH} events per request"), prefix or "$")
    for i, item in enumerate(items):
        try:
            parse_event(item)
        except InvalidEvent as exc:
            raise _invalid(exc, "$" if prefix is None else f"{prefix}[{i}]") from None
    return list(items)


@router.post(
    "/v1/events",
    status_code=202,
    response_model=IngestAnswer,
    responses=problem_responses(),
    openapi_extra=_BODY,
)
async def post_events(request: Request, app: LegatoApp) -> IngestAnswer:
    """Take one event or a batch: each starts the workflows of its matching subscriptions
    once (dedupe on ``source`` + ``id``)."""
    results = await app.ingest_events(await _events(request), VIA)
    return IngestAnswer(results=[IngestOut(**r.as_json()) for r in results])


async def _event_out(app: LegatoApp, source: str, event_id: str) -> EventOut:
    detail = await app.get_event(source, event_id)
    return EventOut(**detail.as_json())


@router.get("/v1/events", response_model=EventOut, responses=problem_responses(404))
async def get_event_by_query(
    app: LegatoApp,
    source: Annotated[str, Query(min_length=1, max_length=1024)],
    id: Annotated[str, Query(min_length=1, max_length=1024)],
) -> EventOut:
    """An event, with the executions it started and their status (any ``source``, a URL
    with slashes too)."""
    return await _event_out(app, source, id)


@router.get("/v1/events/{source}/{event_id}", response_model=EventOut,
            responses=problem_responses(404))  # fmt: skip
async def get_event(app: LegatoApp, source: str, event_id: str) -> EventOut:
    """An event (``source`` URL-encoded, without ``/``: else use ``?source=&id=``)."""
    return await _event_out(app, source, event_id)


@router.post(
    "/v1/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    responses={
        200: {"model": SubscriptionOut, "description": "the same one exists"},
        **problem_responses(409),
    },  # fmt: skip
)
async def create_subscription(
    body: SubscriptionIn, app: LegatoApp, response: Response
) -> SubscriptionOut:
    """Start ``workflow`` for each event of ``event_type`` that passes ``filter``; 409 if
    another subscription has the name; the same one again is 200."""
    before = app.clock.now_ms()
    sub = await app.create_subscription(
        body.name, body.event_type, body.workflow, version=body.version, filter=body.filter,
        transform=body.transform,
    )  # fmt: skip
    if sub.created_at < before:
        response.status_code = 200
    return SubscriptionOut(**subscription_json(sub))


@router.get("/v1/subscriptions", response_model=Subscriptions, responses=problem_responses())
async def list_subscriptions(app: LegatoApp) -> Subscriptions:
    """Every subscription, by name."""
    found = await app.list_subscriptions()
    return Subscriptions(items=[SubscriptionOut(**subscription_json(s)) for s in found])


@router.get("/v1/subscriptions/{name}", response_model=SubscriptionOut,
            responses=problem_responses(404))  # fmt: skip
async def get_subscription(name: str, app: LegatoApp) -> SubscriptionOut:
    return SubscriptionOut(**subscription_json(await app.get_subscription(name)))


@router.delete("/v1/subscriptions/{name}", status_code=204, responses=problem_responses(404))
async def delete_subscription(name: str, app: LegatoApp) -> Response:
    """Events of its type start nothing more; executions it started are left as they are."""
    await app.delete_subscription(name)
    return Response(status_code=204)


@router.get("/v1/dead-letters", response_model=DeadLetterPage, responses=problem_responses(400))
async def dead_letters(
    app: LegatoApp,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> DeadLetterPage:
    """What could not be acted on, newest first, with the reason."""
    try:
        found = await app.dead_letters(limit, cursor)
    except BadCursor as exc:
        raise Problem(400, "bad-cursor", str(exc)) from None
    next_cursor = dead_letter_cursor(found[-1]) if len(found) == limit else None
    return DeadLetterPage(items=[DeadLetterOut(**d.as_json()) for d in found],
                          next_cursor=next_cursor)  # fmt: skip


@router.post(
    "/v1/dead-letters/{letter_id}/redrive",
    response_model=DeadLetterOut,
    responses=problem_responses(404, 422),
)
async def redrive_dead_letter(letter_id: str, app: LegatoApp) -> DeadLetterOut:
    """Ingest the dead letter's event again as it would be now: through the subscription it
    failed on (fixed since, or its workflow registered since), or, for a body that was not an
    event, through every subscription of its type. The letter is marked redriven with the
    executions it started, in the same transaction; once only (a repeat answers the letter as
    it is). 422 ``dead-letter-fails`` with the reason, and nothing written, if it fails again."""
    return DeadLetterOut(**(await app.redrive_dead_letter(letter_id)).as_json())
