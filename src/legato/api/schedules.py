"""``/v1/schedules``: create, list, get (with the next fire times), update, delete, pause (with
a note), resume, trigger now, the next N fire times, recent runs with their executions'
status, and backfills.

Times are ISO 8601 (UTC unless they say otherwise), durations seconds. A schedule starts a
code workflow with ``args``/``kwargs`` (or ``input`` as its one argument) or a state machine
with ``input``. The shapes are ``client/schedule_views.py``'s, which the CLI prints too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from legato.api.backfill_jobs import Backfills
from legato.api.deps import Closing, LegatoApp
from legato.api.problems import Problem, problem_responses
from legato.client import schedule_views as views
from legato.core.durations import instant
from legato.core.events import Status
from legato.errors import ConfigurationError

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])
Overlap = Literal["skip", "buffer_one", "allow_all", "cancel_other", "terminate_other"]
YEAR = 366 * 86_400.0
MAX_WAIT_SECONDS = 60.0
MAX_COUNT = 100
MAX_RUNS = 1000


class _Fields(BaseModel):
    """What a schedule is, as create and update take it."""

    model_config = ConfigDict(extra="forbid")
    version: str | None = Field(default=None, min_length=1, max_length=64)
    cron: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="5 fields, or 6 with the seconds last; or @hourly, @daily, ...",
    )
    interval_seconds: float | None = Field(default=None, ge=1, le=100 * YEAR)
    start_at: datetime | None = Field(default=None, description="no fire before")
    end_at: datetime | None = Field(default=None, description="no fire after")
    jitter_seconds: float | None = Field(default=None, ge=0, le=YEAR)
    args: list[Any] | None = Field(default=None, description="a code workflow's arguments")
    kwargs: dict[str, Any] | None = Field(default=None, description="... by name")
    input: Any = Field(default=None, description="a state machine's input (or the one argument)")
    catchup_window_seconds: float | None = Field(
        default=None, ge=0, le=100 * YEAR, description="after downtime, how late a fire may run"
    )
    note: str | None = Field(default=None, max_length=4096)


class CreateSchedule(_Fields):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/\s]+$")
    workflow: str = Field(min_length=1, max_length=256, description="workflow or state machine")
    timezone: str = Field(default="UTC", min_length=1, max_length=64, description="IANA zone")
    overlap: Overlap = "skip"
    paused: bool = False


class UpdateSchedule(_Fields):
    workflow: str | None = Field(default=None, min_length=1, max_length=256)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    overlap: Overlap | None = None


class Schedule(BaseModel):
    name: str
    workflow: str
    version: str | None = Field(description="null: the latest when it fires")
    cron: str | None
    interval_seconds: float | None
    timezone: str
    start_at: datetime | None
    end_at: datetime | None
    jitter_seconds: float
    args: list[Any] = Field(description="the call it starts: a state machine's input is args[0]")
    kwargs: dict[str, Any]
    overlap: Overlap
    catchup_window_seconds: float
    paused: bool
    note: str | None
    next_fire_time: datetime | None = Field(description="null: none left (past its end)")
    buffered_fire_time: datetime | None = Field(description="a fire waiting for open runs")
    running: list[str] = Field(description="runs it started that were open when last looked at")
    missed: int = Field(description="fires skipped as older than the catch-up window")
    skipped: int = Field(description="fires skipped by the overlap policy")
    started: int
    origin: str = Field(description="code: declared by app.schedule; api: by the API or CLI")
    created_at: datetime
    updated_at: datetime
    next_fire_times: list[datetime] = Field(description="the next ones (5)")


class Schedules(BaseModel):
    items: list[Schedule]


class FireTimes(BaseModel):
    items: list[datetime]


class Run(BaseModel):
    schedule: str
    fire_time: datetime
    kind: Literal["scheduled", "manual", "backfill"]
    outcome: str = Field(description="started, skipped_overlap, buffered, cancelling_other, ...")
    execution_id: str | None
    recorded_at: datetime
    status: Status | None = Field(description="its execution's, if one was started")


class Runs(BaseModel):
    items: list[Run]


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=4096)


class Triggered(BaseModel):
    execution_id: str


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: datetime = Field(alias="from", description="inclusive")
    end: datetime = Field(alias="to", description="exclusive")
    wait_seconds: float = Field(
        default=10.0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="answer once it moved on or ended, or after this long with its progress",
    )
    seen_done: int | None = Field(
        default=None,
        ge=0,
        description="the done count of the last answer: answer at once if it is past that",
    )


class Backfill(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: str
    start: datetime = Field(alias="from", serialization_alias="from")
    end: datetime = Field(alias="to", serialization_alias="to")
    state: Literal["running", "done"]
    done: int = Field(description="fire times dealt with so far")
    total: int | None = Field(description="fire times in the period (null: not yet counted)")
    report: dict[str, Any] | None = Field(description="what it did, once done")


def _invalid(exc: views.InvalidSchedule) -> Problem:
    paths = exc.paths or [f"$.{exc.field}" if exc.field else "$"]
    return Problem(
        422, "invalid-schedule", str(exc), errors=[{"path": p, "message": str(exc)} for p in paths]
    )


def _backfills(request: Request) -> Backfills:
    found = getattr(request.app.state, "backfills", None)
    if found is None:
        found = request.app.state.backfills = Backfills()
    assert isinstance(found, Backfills)
    return found


@router.post(
    "",
    status_code=201,
    response_model=Schedule,
    responses=problem_responses(400, 409),
    summary="Create a schedule",
)
async def create_schedule(body: CreateSchedule, app: LegatoApp) -> JSONResponse:
    """409 ``schedule-exists`` if the name is taken; 422 ``invalid-schedule`` names the field
    that is wrong (a cron expression, a time zone, neither or both of cron and interval)."""
    try:
        made = await views.create(app, body.model_dump(mode="json", exclude_unset=True))
    except views.InvalidSchedule as exc:
        raise _invalid(exc) from None
    return JSONResponse(made, status_code=201)


@router.get("", response_model=Schedules, responses=problem_responses(), summary="Schedules")
async def list_schedules(app: LegatoApp) -> JSONResponse:
    return JSONResponse({"items": await views.listed(app)})


@router.get(
    "/{name}", response_model=Schedule, responses=problem_responses(404), summary="A schedule"
)
async def get_schedule(name: str, app: LegatoApp) -> JSONResponse:
    return JSONResponse(await views.described(app, name))


@router.patch(
    "/{name}",
    response_model=Schedule,
    responses=problem_responses(400, 404),
    summary="Change some of its fields",
)
async def update_schedule(name: str, body: UpdateSchedule, app: LegatoApp) -> JSONResponse:
    """The fields given change; the others, and whether it is paused, stay."""
    try:
        changed = await views.update(app, name, body.model_dump(mode="json", exclude_unset=True))
    except views.InvalidSchedule as exc:
        raise _invalid(exc) from None
    return JSONResponse(changed)


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404),
    summary="Delete it (its executions stay)",
)
async def delete_schedule(name: str, app: LegatoApp) -> Response:
    await app.delete_schedule(name)
    return Response(status_code=204)


@router.post(
    "/{name}/pause",
    response_model=Schedule,
    responses=problem_responses(404),
    summary="Stop firing until resumed",
)
async def pause_schedule(
    name: str, app: LegatoApp, body: Annotated[PauseBody | None, Body()] = None
) -> JSONResponse:
    paused = await app.pause_schedule(name, body.note if body else None)
    return JSONResponse(await views.shown(app, paused))


@router.post(
    "/{name}/resume",
    response_model=Schedule,
    responses=problem_responses(404),
    summary="Fire again from the next fire time on",
)
async def resume_schedule(name: str, app: LegatoApp) -> JSONResponse:
    return JSONResponse(await views.shown(app, await app.resume_schedule(name)))


@router.post(
    "/{name}/trigger",
    status_code=201,
    response_model=Triggered,
    responses=problem_responses(404),
    summary="Start a run now",
)
async def trigger_schedule(name: str, app: LegatoApp) -> Triggered:
    handle = await app.trigger_schedule(name)
    return Triggered(execution_id=handle.id)


@router.get(
    "/{name}/next",
    response_model=FireTimes,
    responses=problem_responses(404),
    summary="Its next fire times",
)
async def next_fire_times(
    name: str, app: LegatoApp, count: Annotated[int, Query(ge=1, le=MAX_COUNT)] = 5
) -> FireTimes:
    return FireTimes(items=[instant(t) for t in await app.next_fire_times(name, count)])


@router.get(
    "/{name}/runs",
    response_model=Runs,
    responses=problem_responses(404),
    summary="Its recent fires, newest first, with their executions' status",
)
async def schedule_runs(
    name: str, app: LegatoApp, limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 20
) -> JSONResponse:
    return JSONResponse({"items": await views.runs(app, name, limit)})


@router.post(
    "/{name}/backfill",
    response_model=Backfill,
    responses={
        202: {"model": Backfill, "description": "still running: ask again to watch on"},
        **problem_responses(400, 404),
    },
    summary="Start the runs of a past period, in order, under its overlap policy",
)
async def backfill_schedule(
    name: str, body: BackfillRequest, request: Request, app: LegatoApp, closing: Closing
) -> JSONResponse:
    """Runs on the server; answers 200 with its report once every run is started, or 202
    with its progress as soon as it moved on (or after ``wait_seconds``). The same request
    again watches the same backfill (or, once it ended, starts it again: runs already
    started count as done)."""
    start, end = views.epoch(body.start), views.epoch(body.end)
    if end <= start:
        raise Problem(
            422,
            "invalid-request",
            "the backfill's end (to) must be after its start (from)",
            errors=[{"path": "$.to", "in": "body", "message": "must be after from"}],
        )
    await app.get_schedule(name)  # 404 before anything runs

    async def run(progress: views.Progress) -> dict[str, Any]:
        return await views.backfill_report(app, name, start, end, progress)

    try:
        watched = await _backfills(request).watch(
            (name, start, end), run, body.wait_seconds, closing, body.seen_done
        )
    except ConfigurationError as exc:
        raise Problem(400, "bad-request", str(exc)) from None
    answer = Backfill.model_validate(
        {
            "name": name,
            "from": body.start,
            "to": body.end,
            "state": "running" if watched.report is None else "done",
            "done": watched.done,
            "total": watched.total,
            "report": watched.report,
        }
    )
    return JSONResponse(
        answer.model_dump(mode="json", by_alias=True),
        status_code=202 if watched.report is None else 200,
    )
