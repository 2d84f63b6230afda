"""Step Functions activities over HTTP (``arn:aws:states:REGION:ACCOUNT:activity:NAME``).

A Task state on an activity queues a task of the activity's own step and queue
(``legato.engine.statemachine.task.hand_to_activity``) and waits for its task token. A worker
in any language polls:

- ``POST /v1/activities/{name}/poll`` ``{"wait_seconds": 10}``: long poll (Step Functions'
  GetActivityTask). Answers ``{"task_token": "...", "input": ...}`` as soon as an execution
  waits on the activity, or ``{"task_token": null, "input": null}`` after the wait;

and answers with the token routes: ``POST /v1/task-tokens/success {token, output}``,
``/failure {token, error, cause}``, ``/heartbeat {token}``. The Task's TimeoutSeconds counts
from when the state queued the work (a worker that never polls lets it time out); its
HeartbeatSeconds from when a poll handed the work out, then from each heartbeat.

The poll takes the activity's task and completes it at once: the state then waits on the token
alone. An answer lost on its way to the poller (the poller died) leaves the token with nobody:
the Task's own timeouts end that wait, as in Step Functions.
"""

from __future__ import annotations

import os
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from legato.api.deps import Closing, LegatoApp
from legato.api.long_poll import engine_of, long_poll
from legato.api.problems import Problem, problem_responses
from legato.core import codec
from legato.core.asl.resources import Activity, activity_step, parse_resource
from legato.core.outcome import Outcome
from legato.core.owners import REMOTE_ROLE, owner_id
from legato.core.transition import Task

router = APIRouter(tags=["activities"])
#: the owner of the activity tasks a poll takes (a ``remote`` one: judged by lease only); its
#: lease matters only if the server dies between taking a task and completing it
POLL_OWNER = owner_id(REMOTE_ROLE, "activity-poll", os.getpid(), uuid.uuid4().hex[:8])
POLL_LEASE_MS = 30_000
DONE = Outcome(True, "null").to_json()

Name = Annotated[
    str,
    Path(
        description="the activity's name, or its ARN arn:aws:states:REGION:ACCOUNT:activity:NAME",
        max_length=300,
        pattern=r"^[A-Za-z0-9_.:-]+$",
    ),
]


class PollRequest(BaseModel):
    wait_seconds: float = Field(10.0, ge=0, le=60, description="how long to wait for work")
    worker_name: str | None = Field(None, max_length=80, description="who polls, for the log")


class ActivityTask(BaseModel):
    task_token: str | None = Field(description="null: no work came within the wait")
    input: Any = Field(None, description="the Task state's input (after its Parameters)")


def _activity_name(name: str) -> str:
    if name.startswith("arn:"):
        try:
            parsed = parse_resource(name)
        except ValueError:
            parsed = None
        if not isinstance(parsed, Activity):
            raise Problem(422, "invalid-request", f"{name!r} is not an activity ARN")
        return parsed.name
    return name


@router.post(
    "/v1/activities/{name}/poll",
    response_model=ActivityTask,
    responses=problem_responses(400, 404, 409),
)
async def poll(
    name: Name, app: LegatoApp, closing: Closing, request: Request, body: PollRequest | None = None
) -> dict[str, Any]:
    """Wait for work of activity ``name``: its task token and input, or nulls after the wait."""
    engine = engine_of(app)
    step = activity_step(_activity_name(name))
    body = body or PollRequest(wait_seconds=10.0, worker_name=None)

    async def look() -> list[Task]:
        now = engine.clock.now_ms()
        return await engine.store.claim_tasks(POLL_OWNER, [step], [step], now, POLL_LEASE_MS, 1)

    found = await long_poll(engine, look, body.wait_seconds, closing, request)
    if not found:
        return {"task_token": None, "input": None}
    task = found[0]
    work = codec.loads(task.args)[0][0]
    await engine.store.finish_task(task.id, task.attempt, POLL_OWNER, DONE)
    engine.wake_orchestrator()
    if work.get("heartbeat") is not None:  # HeartbeatSeconds counts from now
        await app.send_task_heartbeat(work["token"])
    return {"task_token": work["token"], "input": work["input"]}
