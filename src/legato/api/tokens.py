"""``/v1/task-tokens``: complete, fail or heartbeat the external task a token names (a state
machine's ``.waitForTaskToken`` Task, or an activity's task handed out by a poll).

A minimal version for the remote-worker branch (its activity tests answer through it); part B
of issue 9 writes the full one, with the same routes and bodies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from legato.api.deps import LegatoApp
from legato.core import error_names

router = APIRouter(prefix="/v1/task-tokens", tags=["task tokens"])
Token = Field(min_length=1, max_length=4096)


class Success(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Token
    output: Any = None


class Failure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Token
    error: str = Field(default=error_names.TASK_FAILED, min_length=1, max_length=256)
    cause: str = Field(default="", max_length=32768)


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Token


@router.post("/success", status_code=204, response_class=Response)
async def success(body: Success, app: LegatoApp) -> Response:
    """The task succeeded with ``output``."""
    await app.send_task_success(body.token, body.output)
    return Response(status_code=204)


@router.post("/failure", status_code=204, response_class=Response)
async def failure(body: Failure, app: LegatoApp) -> Response:
    """The task failed: the workflow sees ``error`` and ``cause``."""
    await app.send_task_failure(body.token, body.error, body.cause)
    return Response(status_code=204)


@router.post("/heartbeat", status_code=204, response_class=Response)
async def heartbeat(body: Heartbeat, app: LegatoApp) -> Response:
    """The task is alive: its heartbeat timeout starts again."""
    await app.send_task_heartbeat(body.token)
    return Response(status_code=204)
