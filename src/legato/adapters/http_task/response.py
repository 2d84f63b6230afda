"""An HTTP Task's result and errors as Step Functions shapes them (developer guide, "Call
HTTPS APIs": the HTTP Task's output, "Unsupported HTTP Task responses", "Connection errors"):

* a 2xx answer is ``{"Headers": {name: [values]}, "ResponseBody": ..., "StatusCode": 200,
  "StatusText": "OK"}``, header names in lower case, the body parsed when it is JSON
  (``application/json`` or ``+json``) and text otherwise;
* any other status fails the Task with ``States.Http.StatusCode.<code>`` (``...404``), the
  same object as JSON text its Cause, so Retry and Catch can pick statuses;
* a body that is not text (images, audio, video, ``application/octet-stream``) is not
  supported: ``States.TaskFailed``.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from legato.adapters.http_task.outbound import Received
from legato.errors import NamedStepError

STATUS_ERROR = "States.Http.StatusCode.{}"
TASK_FAILED = "States.TaskFailed"
_BINARY = ("image/", "audio/", "video/", "application/octet-stream")


def result_of(received: Received) -> dict[str, Any]:
    """The Task's result, or the error its status or body calls for."""
    ok = 200 <= received.status < 300
    shaped = shape(received, strict=ok)
    if not ok:
        raise NamedStepError(STATUS_ERROR.format(received.status), json.dumps(shaped))
    return shaped


def shape(received: Received, *, strict: bool = True) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in received.headers:
        headers.setdefault(name.lower(), []).append(value)
    content_type = (headers.get("content-type") or [""])[0]
    media = content_type.split(";", 1)[0].strip().lower()
    if strict and received.body and media.startswith(_BINARY):
        raise NamedStepError(
            TASK_FAILED,
            f"{received.url} answered with {media}, which an HTTP Task cannot return (only text)",
        )
    charset = _charset(content_type) or "utf-8"
    try:
        text = received.body.decode(charset, errors="strict" if strict else "replace")
    except (UnicodeDecodeError, LookupError):
        raise NamedStepError(
            TASK_FAILED, f"{received.url} answered with a body that is not {charset} text"
        ) from None
    body: Any = text
    if (media == "application/json" or media.endswith("+json")) and text.strip():
        try:
            body = json.loads(text)
        except ValueError:
            pass  # as AWS: a body that is not the JSON it claims stays text
    return {
        "Headers": headers,
        "ResponseBody": body,
        "StatusCode": received.status,
        "StatusText": received.reason or _phrase(received.status),
    }


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
