"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API returns is a problem: ``type``, ``title``, ``status`` and a ``detail`` that
says what was wrong and where; validation problems add ``errors``, each with the JSON path of
what it concerns. No stack trace ever reaches a client: an unexpected exception is logged here
and answered with a 500 problem that names the request.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from legato import errors

log = logging.getLogger("legato.api")
MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://legato.dev/problems/"


class Problem(Exception):
    """An error to answer with: ``raise Problem(404, "execution-not-found", "...")``."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        title: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.title = title or kind.replace("-", " ").capitalize()
        self.errors = list(errors) if errors is not None else None
        self.headers = headers
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class ProblemDetails(BaseModel):
    """An RFC 9457 problem, as every error response of the API is."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None


_WHY = {
    400: "The request makes no sense (a bad cursor, a bad option).",
    401: "An API key is required.",
    404: "Not found.",
    409: "Conflicts with the resource's state.",
    413: "A body or payload above the limit.",
    415: "The body's media type is not one this route reads.",
    422: "The request or its input is invalid (``errors`` names each field).",
    503: "The database cannot be reached, or its schema is not this code's.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route may answer (422, 413 and 503 always:
    request validation, the body limit and the database), so its schema says what it does."""
    schema = ProblemDetails.model_json_schema()
    wanted = sorted({*statuses, 413, 422, 503})
    return {
        status: {
            "description": _WHY.get(status, "A problem."),
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        for status in wanted
    }


def respond(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(request.url.path),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


#: Legato's own errors, as the status and problem kind a client gets for them
_STATUS: list[tuple[type[errors.LegatoError], int, str]] = [
    (errors.ExecutionNotFound, 404, "execution-not-found"),
    (errors.ExecutionAlreadyExists, 409, "execution-already-exists"),
    (errors.ExecutionClosed, 409, "execution-closed"),
    (errors.ExecutionStateError, 409, "execution-state"),
    (errors.ScheduleNotFound, 404, "schedule-not-found"),
    (errors.ScheduleAlreadyExists, 409, "schedule-exists"),
    (errors.InvalidTaskToken, 404, "invalid-task-token"),
    (errors.TaskTokenClosed, 409, "task-token-closed"),
    (errors.InvalidDefinitionError, 422, "invalid-definition"),
    (errors.DefinitionVersionExists, 409, "definition-version-exists"),
    (errors.DefinitionNotFound, 404, "definition-not-found"),
    (errors.PayloadTooLarge, 413, "payload-too-large"),
    (errors.InvalidEvent, 422, "invalid-event"),
    (errors.InvalidSubscription, 422, "invalid-subscription"),
    (errors.SubscriptionExists, 409, "subscription-exists"),
    (errors.SubscriptionNotFound, 404, "subscription-not-found"),
    (errors.EventNotFound, 404, "event-not-found"),
    (errors.DeadLetterNotFound, 404, "dead-letter-not-found"),
    (errors.DeadLetterStillFails, 422, "dead-letter-fails"),
    (errors.SerializationError, 422, "invalid-input"),
    (errors.RegistrationError, 404, "not-registered"),
    (errors.ConfigurationError, 400, "bad-request"),
    (errors.DatabaseUnavailableError, 503, "database-unavailable"),
    (errors.StoreError, 503, "store-error"),
]


def from_legato_error(exc: errors.LegatoError) -> Problem:
    for kind, status, name in _STATUS:
        if isinstance(exc, kind):
            extra: dict[str, Any] = {}
            if isinstance(exc, errors.InvalidDefinitionError):
                extra["errors"] = [{"path": p.path, "message": p.rule} for p in exc.problems]
            if isinstance(exc, errors.InvalidSubscription):
                extra["errors"] = [{"path": f"$.{exc.field}", "message": exc.reason}]
            if isinstance(exc, errors.InvalidEvent):
                extra["errors"] = [{"path": exc.path, "message": exc.reason}]
            if isinstance(exc, errors.SubscriptionExists | errors.SubscriptionNotFound):
                extra["subscription"] = exc.name
            if isinstance(exc, errors.DeadLetterNotFound | errors.DeadLetterStillFails):
                extra["dead_letter"] = exc.letter_id
            if isinstance(exc, errors.DeadLetterStillFails):
                extra["reason"] = exc.reason
            if isinstance(exc, errors.EventNotFound):
                extra.update(event_source=exc.source, event_id=exc.event_id)
            # the execution's status as `execution_status`: `status` is the problem's HTTP one
            for field, key in (
                ("execution_id", "execution_id"),
                ("name", "name"),
                ("status", "execution_status"),
                ("token", "token"),
            ):
                value = getattr(exc, field, None)
                if isinstance(value, str):
                    extra[key] = value
            return Problem(status, name, str(exc), **extra)
    return Problem(400, "bad-request", str(exc))


def validation_problem(exc: RequestValidationError) -> Problem:
    """FastAPI's request validation errors, each with the JSON path of the field."""
    found = []
    for error in exc.errors():
        where = [str(p) for p in error.get("loc", ())]
        path = "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in where[1:])
        found.append({"path": path, "in": where[0] if where else "body", "message": error["msg"]})
    detail = "; ".join(f"{e['in']} {e['path']}: {e['message']}" for e in found) or "invalid"
    return Problem(422, "invalid-request", f"the request is invalid: {detail}", errors=found)


def install(api: FastAPI) -> None:
    """Answer every error as a problem."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return respond(exc, request)

    async def on_legato(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.LegatoError)
        return respond(from_legato_error(exc), request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return respond(validation_problem(exc), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.method} {request.url.path}"
        problem = Problem(exc.status_code, kind, detail, headers=getattr(exc, "headers", None))
        return respond(problem, request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error answering %s %s", request.method, request.url.path, exc_info=exc)
        problem = Problem(
            500,
            "internal-error",
            f"the server failed answering {request.method} {request.url.path}; "
            "its log has the details",
        )
        return respond(problem, request)

    api.add_exception_handler(Problem, on_problem)
    api.add_exception_handler(errors.LegatoError, on_legato)
    api.add_exception_handler(RequestValidationError, on_validation)
    api.add_exception_handler(StarletteHTTPException, on_http)
    api.add_exception_handler(Exception, on_unexpected)
