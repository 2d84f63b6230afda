"""One HTTP connection pool to a Legato server (httpx): the API key on every request, problem
details turned back into Legato's own exceptions, and a server that cannot be reached (a
restart, a deploy) tried again for a bounded time, as a database is by ``App``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from legato import errors
from legato.core.backoff import RECONNECT

PROBLEM_BASE = "https://legato.dev/problems/"


class ApiError(errors.LegatoError):
    """A problem the server answered with that has no exception of its own."""

    def __init__(self, status: int, kind: str, detail: str, body: dict[str, Any]) -> None:
        super().__init__(f"{detail} (HTTP {status}, {kind})")
        self.status = status
        self.kind = kind
        self.detail = detail
        self.body = body


class Unauthorized(ApiError):
    """No API key, or one the server does not know (HTTP 401)."""


class Transport:
    """``await transport.call("POST", "/v1/executions", json=...)`` → the decoded JSON body."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        reconnect_seconds: float = 60.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self.reconnect_seconds = reconnect_seconds
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | str | None = None,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        retry: bool = True,
    ) -> Any:
        """The answer's JSON (None for 204). Raises the Legato exception a problem names;
        ``DatabaseUnavailableError`` once the server has been unreachable (or answered 502/503)
        for ``reconnect_seconds`` — at once if ``retry`` is False (a call that must not act
        twice and cannot say so)."""
        deadline = time.monotonic() + self.reconnect_seconds
        attempt = 0
        while True:
            try:
                response = await self._client.request(
                    method,
                    path,
                    json=json,
                    content=content,
                    params=params,
                    headers=headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                failure: errors.LegatoError = errors.DatabaseUnavailableError(
                    f"cannot reach the Legato server at {self.base_url}: {exc}"
                )
            else:
                if response.status_code not in (502, 503, 504):
                    return _decode(response)
                failure = _error(response)
            if not retry or time.monotonic() >= deadline:
                raise failure
            attempt += 1
            await asyncio.sleep(
                min(RECONNECT.delay(attempt), max(0.0, deadline - time.monotonic()))
            )


def _decode(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise _error(response)
    if response.status_code == 204 or not response.content:
        return None
    return response.json()


def _error(response: httpx.Response) -> errors.LegatoError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    kind = str(body.get("type", "")).removeprefix(PROBLEM_BASE) or "http-error"
    detail = str(body.get("detail") or response.reason_phrase or "error")
    status = response.status_code
    return error_from_problem(status, kind, detail, body)


def error_from_problem(
    status: int, kind: str, detail: str, body: dict[str, Any]
) -> errors.LegatoError:
    """The exception the server's problem stands for, as ``App`` would have raised it."""
    eid = str(body.get("execution_id", ""))
    state = str(body.get("execution_status", ""))
    token = str(body.get("token", ""))
    made: errors.LegatoError
    if kind == "execution-not-found":
        made = errors.ExecutionNotFound(eid)
    elif kind == "execution-closed":
        made = errors.ExecutionClosed(eid, state)
    elif kind == "execution-already-exists":
        made = errors.ExecutionAlreadyExists(eid, "")
    elif kind == "execution-state":
        made = errors.ExecutionStateError(eid, state, "")
    elif kind == "schedule-not-found":
        made = errors.ScheduleNotFound(str(body.get("name", "")))
    elif kind == "schedule-exists":
        made = errors.ScheduleAlreadyExists(str(body.get("name", "")))
    elif kind == "invalid-task-token":
        made = errors.InvalidTaskToken(token, "")
    elif kind == "task-token-closed":
        made = errors.TaskTokenClosed(token, "")
    elif kind in ("database-unavailable", "store-error"):
        made = errors.DatabaseUnavailableError(detail)
    elif kind == "not-registered":
        made = errors.RegistrationError(detail)
    elif kind == "subscription-not-found":
        made = errors.SubscriptionNotFound(str(body.get("subscription", "")))
    elif kind == "subscription-exists":
        made = errors.SubscriptionExists(str(body.get("subscription", "")))
    elif kind == "event-not-found":
        source, event_id = str(body.get("event_source", "")), str(body.get("event_id", ""))
        made = errors.EventNotFound(source, event_id)
    elif kind == "dead-letter-not-found":
        made = errors.DeadLetterNotFound(str(body.get("dead_letter", "")))
    elif kind == "dead-letter-fails":
        made = errors.DeadLetterStillFails(str(body.get("dead_letter", "")),
                                           str(body.get("reason", detail)))  # fmt: skip
    elif kind in ("invalid-event", "invalid-subscription"):
        where = (body.get("errors") or [{}])[0]
        path, reason = str(where.get("path", "$")), str(where.get("message", detail))
        if kind == "invalid-event":
            made = errors.InvalidEvent(reason, path)
        else:
            made = errors.InvalidSubscription(path.removeprefix("$."), reason)
    elif status == 401:
        return Unauthorized(status, kind, detail, body)
    else:
        return ApiError(status, kind, detail, body)
    made.args = (detail,)  # the server's words, which say more than the bare constructor's
    return made
