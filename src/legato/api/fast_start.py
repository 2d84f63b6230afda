"""``POST /v1/executions`` without the framework's per-request machinery.

Starting executions is the API's hot path: a client fanning out work posts thousands of starts
a second, and on a small machine FastAPI's route matching, dependency solving and exception
middleware cost as much CPU as the durable start itself. This ASGI layer answers that one
route directly: it reads the body, checks it with the same ``StartRequest`` model and runs the
same ``start_answer`` as the route. It sits inside the API-key and body-limit layers, so it is
guarded as every route is.

Anything out of the ordinary is not decided here: a body that does not parse or validate, a
bad ``Idempotency-Key`` or ``traceparent``, another media type goes to the FastAPI route with
the body it sent, which answers exactly as it always has. An error raised by the start itself
is answered by the application's own exception handlers (``legato.api.problems``), as the
route's would be. The route stays in the OpenAPI schema: it is the same operation.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api.executions import StartRequest, start_answer

PATH = "/v1/executions"
MAX_KEY = 256
Handler = Callable[[Request, Any], Response | Awaitable[Response]]


class StartFastPath:
    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == PATH
            and not scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        json_body = False
        key: str | None = None
        traceparent: str | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
            elif name == b"idempotency-key":
                key = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
        body, more = await _read_body(receive)
        if more:  # the client went away before it finished sending
            return
        start: StartRequest | None = None
        headers_ok = (key is None or 1 <= len(key) <= MAX_KEY) and (
            traceparent is None or len(traceparent) <= MAX_KEY
        )
        if json_body and headers_ok:
            try:
                start = StartRequest.model_validate_json(body)
            except ValidationError:
                start = None
        if start is None:  # the route answers: its checks, its messages
            await self.app(scope, _replay(body, receive), send)
            return
        request = Request(scope)
        try:
            response: Response = await start_answer(self.api.state.legato, start, key, traceparent)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answered = handler(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Handler | None:
        """The application's handler for ``exc``, found as Starlette finds it (by its MRO)."""
        handlers = self.api.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                handler: Handler = handlers[cls]
                return handler
        return None


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and the disconnect message if the client left before the end."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts), [message]
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts), []


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` as if the body had not been read yet."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
