"""Remote workers (``legato worker APP --server URL``): the task queue over HTTP.

A remote worker runs an app's steps with no database access; these routes are its store
(``legato.adapters.http.worker_store`` is the other side). Every route acts for the worker
named in the path, an owner id of role ``remote`` (``legato.core.owners``): such an owner holds
no liveness lock, so nothing takes its leases early; they run out as after a crash unless it
renews them or gives them back. Durations are relative (``lease_ms``), measured on the server's
clock.

- ``POST /v1/workers/{owner}/claim``: long poll; up to ``limit`` tasks of these steps on these
  queues, leased for ``lease_ms``, as soon as there are any, or none after ``wait_seconds``.
- ``POST /v1/workers/{owner}/finish``: outcomes, many at once; the server's orchestrator is
  woken so that each is decided at once.
- ``POST /v1/workers/{owner}/renew``: renew leases; answers the tasks to stop (cancelled, or
  gone).
- ``POST /v1/workers/{owner}/release``: give leases back (a graceful stop; a step the worker
  lacks), claimable at once by any worker.
- ``POST /v1/workers/{owner}/heartbeat``: the worker is alive and serves these steps (rolling
  deploys; ``legato executions show`` names steps no live worker serves).
- ``POST /v1/worker-tasks/heartbeat``: a step's heartbeat details, and its lease renewed.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from legato.api.deps import Closing, LegatoApp
from legato.api.long_poll import engine_of, long_poll
from legato.api.problems import Problem, problem_responses
from legato.core import codec
from legato.core.outcome import Outcome
from legato.core.owners import REMOTE_ROLE, role_of
from legato.core.transition import Task

router = APIRouter(tags=["remote workers"])
MAX_LEASE_MS = 3_600_000
MAX_WAIT_SECONDS = 60.0

Owner = Annotated[
    str,
    Path(
        description="the worker's owner id, remote:HOST:PID:NONCE (one per worker process run)",
        pattern=r"^remote:[^:/]+:\d+:[A-Za-z0-9_-]+$",
        max_length=300,
    ),
]
LeaseMs = Annotated[int, Field(ge=100, le=MAX_LEASE_MS, description="lease length, ms")]
#: names and ids as the store keeps them (no NUL: PostgreSQL text cannot hold one)
Text = Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")]
Names = Annotated[list[Text], Field(max_length=10_000)]
Attempt = Annotated[int, Field(ge=0, le=2**31 - 1)]


class WireTask(BaseModel):
    """A step attempt to run: ``args`` is the encoded call; ``id`` the idempotency key."""

    id: str
    execution_id: str
    step_id: int
    name: str
    queue: str
    args: str
    available_at: int
    attempt: int
    lease_owner: str | None
    lease_expires_at: int | None
    heartbeat_details: str | None = None
    traceparent: str | None = Field(
        None,
        description="W3C traceparent of the execution's span, the parent of the attempt's "
        "(null: the execution is the root of its own trace, derived from its id)",
    )


class ClaimRequest(BaseModel):
    queues: Names
    steps: Names
    lease_ms: LeaseMs = 30_000
    limit: int = Field(100, ge=1, le=1000)
    wait_seconds: float = Field(10.0, ge=0, le=MAX_WAIT_SECONDS)


class Claimed(BaseModel):
    tasks: list[WireTask]


class FinishedTask(BaseModel):
    task_id: Text
    attempt: Attempt
    outcome: str = Field(
        pattern=r"^[^\x00]*$", description="the attempt's outcome (Legato's Outcome JSON)"
    )


class FinishRequest(BaseModel):
    outcomes: list[FinishedTask] = Field(max_length=10_000)


class Finished(BaseModel):
    recorded: list[bool] = Field(
        description="per outcome: false if the lease was no longer this worker's"
    )


class RenewRequest(BaseModel):
    task_ids: list[Text] = Field(max_length=100_000)
    lease_ms: LeaseMs = 30_000


class Renewed(BaseModel):
    stop: list[str] = Field(description="tasks whose step should stop: cancelled, or gone")


class ReleaseRequest(BaseModel):
    task_ids: list[Text] | None = Field(None, description="null: every lease the worker holds")


class Released(BaseModel):
    released: int


class WorkerHeartbeat(BaseModel):
    queues: Names
    steps: Names
    live_ms: LeaseMs = 30_000
    leaving: bool = False


class TaskHeartbeat(BaseModel):
    task_id: Text
    attempt: Attempt
    details: str | None = Field(
        None, pattern=r"^[^\x00]*$", description="JSON handed to the step's next attempt"
    )
    lease_ms: LeaseMs = 30_000


class HandedOut(dict[tuple[str, int], Task]):
    """The tasks this server handed out and not yet heard back about, by (id, attempt): an
    outcome for one of them goes straight to this process's orchestrator, with no poll of the
    store in between. Bounded: past ``LIMIT`` the oldest are forgotten (a worker that died
    with them; their outcomes, if any come, are found by the orchestrator's poll)."""

    LIMIT = 100_000

    def add(self, tasks: list[Task]) -> None:
        for task in tasks:
            self[(task.id, task.attempt)] = task
        while len(self) > self.LIMIT:
            del self[next(iter(self))]


def _handed_out(request: Request) -> HandedOut:
    state = request.app.state
    handed: HandedOut | None = getattr(state, "remote_claims", None)
    if handed is None:
        handed = state.remote_claims = HandedOut()
    return handed


def _remote(owner: str) -> str:
    if role_of(owner) != REMOTE_ROLE:  # the pattern says so; this keeps the rule in one place
        raise Problem(422, "invalid-request", f"{owner!r} is not a remote worker's owner id")
    return owner


def _is_outcome(text: str) -> bool:
    """An outcome as a worker makes it (``Outcome.to_json``): what the orchestrator decodes
    must never fail there, where it could only be redelivered."""
    try:
        outcome = Outcome.from_json(text)
        if outcome.result is not None:
            codec.loads(outcome.result)
        if outcome.heartbeat_details is not None:
            codec.loads(outcome.heartbeat_details)
    except Exception:
        return False
    texts = (outcome.error_type, outcome.message, outcome.traceback)
    return (
        isinstance(outcome.ok, bool)
        and isinstance(outcome.non_retryable, bool)
        and all(t is None or isinstance(t, str) for t in texts)
        and all(isinstance(t, str) for t in outcome.error_types)
        and (outcome.ok or outcome.error_type is not None)
    )


def _is_json(text: str | None) -> bool:
    try:
        codec.loads(text)
    except Exception:
        return False
    return True


def _wire(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "execution_id": task.execution_id,
        "step_id": task.step_id,
        "name": task.name,
        "queue": task.queue,
        "args": task.args,
        "available_at": task.available_at,
        "attempt": task.attempt,
        "lease_owner": task.lease_owner,
        "lease_expires_at": task.lease_expires_at,
        "heartbeat_details": task.heartbeat_details,
        "traceparent": task.traceparent,
    }


@router.post(
    "/v1/workers/{owner}/claim", response_model=Claimed, responses=problem_responses(400, 404, 409)
)
async def claim(
    owner: Owner, body: ClaimRequest, app: LegatoApp, closing: Closing, request: Request
) -> dict[str, Any]:
    """Lease up to ``limit`` claimable tasks of these steps on these queues; waits (long
    poll) up to ``wait_seconds`` for some to appear."""
    engine = engine_of(app)
    worker = _remote(owner)

    async def look() -> list[Task]:
        now = engine.clock.now_ms()
        store = engine.store
        return await store.claim_tasks(
            worker, body.queues, body.steps, now, body.lease_ms, body.limit
        )

    found = await long_poll(engine, look, body.wait_seconds, closing, request)
    _handed_out(request).add(found)
    return {"tasks": [_wire(t) for t in found]}


@router.post(
    "/v1/workers/{owner}/finish",
    response_model=Finished,
    responses=problem_responses(400, 404, 409),
)
async def finish(
    owner: Owner, body: FinishRequest, app: LegatoApp, request: Request
) -> dict[str, Any]:
    """Record outcomes on their tasks (only under the lease that ran them) and decide them."""
    engine = engine_of(app)
    worker = _remote(owner)
    for i, item in enumerate(body.outcomes):
        if not _is_outcome(item.outcome):
            raise Problem(
                422,
                "invalid-request",
                f"outcomes[{i}] (task {item.task_id!r}) is not an outcome",
                errors=[{"path": f"$.outcomes[{i}].outcome", "message": "not an outcome"}],
            ) from None
    store = engine.store
    recorded = await asyncio.gather(
        *(store.finish_task(o.task_id, o.attempt, worker, o.outcome) for o in body.outcomes)
    )
    handed, orch = _handed_out(request), engine.orchestrator
    polled = False
    for item, done in zip(body.outcomes, recorded, strict=True):
        task = handed.pop((item.task_id, item.attempt), None)
        if not done:
            continue
        if task is not None and orch is not None and orch.owns(task.execution_id):
            orch.deliver_done(task._replace(outcome=item.outcome))  # decided now
        else:
            polled = True
    if polled:  # claimed through another server, or decided elsewhere: the poll finds it
        engine.wake_orchestrator()
    return {"recorded": list(recorded)}


@router.post(
    "/v1/workers/{owner}/renew", response_model=Renewed, responses=problem_responses(400, 404, 409)
)
async def renew(owner: Owner, body: RenewRequest, app: LegatoApp) -> dict[str, Any]:
    engine = engine_of(app)
    expires_at = engine.clock.now_ms() + body.lease_ms
    stop = await engine.store.renew_leases(_remote(owner), body.task_ids, expires_at)
    return {"stop": stop}


@router.post(
    "/v1/workers/{owner}/release",
    response_model=Released,
    responses=problem_responses(400, 404, 409),
)
async def release(owner: Owner, body: ReleaseRequest, app: LegatoApp) -> dict[str, Any]:
    engine = engine_of(app)
    released = await engine.store.release_tasks(_remote(owner), body.task_ids)
    if released:
        engine.tasks_ready.rings()  # claimable now: other workers' long polls take them
    return {"released": released}


@router.post(
    "/v1/workers/{owner}/heartbeat", status_code=204, responses=problem_responses(400, 404, 409)
)
async def heartbeat(owner: Owner, body: WorkerHeartbeat, app: LegatoApp) -> Response:
    engine = engine_of(app)
    now = engine.clock.now_ms()
    await engine.store.heartbeat_worker(
        _remote(owner), body.queues, body.steps, now, body.live_ms, body.leaving
    )
    return Response(status_code=204)


@router.post(
    "/v1/worker-tasks/heartbeat", status_code=204, responses=problem_responses(400, 404, 409)
)
async def task_heartbeat(body: TaskHeartbeat, app: LegatoApp) -> Response:
    engine = engine_of(app)
    if not _is_json(body.details):
        raise Problem(
            422,
            "invalid-request",
            "details must be JSON text",
            errors=[{"path": "$.details", "message": "not JSON"}],
        )
    expires_at = engine.clock.now_ms() + body.lease_ms
    await engine.store.record_heartbeat(body.task_id, body.attempt, body.details, expires_at)
    return Response(status_code=204)
