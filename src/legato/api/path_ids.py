"""Execution ids with a slash in a URL path: a child's id is ``parent/3``, sent as ``parent%2F3``.

Starlette matches routes on the decoded path, where ``parent%2F3`` has become two segments, so
no ``/v1/executions/{execution_id}`` route would match it. ``KeepEncodedSlashes`` decodes the
path of ``/v1/executions/...`` requests itself, leaving ``%2F`` (and ``%25``, so that a ``%2F``
written in an id stays itself) encoded; the ``segment`` convertor of those routes' parameters
(``{execution_id:segment}``) decodes the two. Every other path is left as the server decoded it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send

SEGMENT = "segment"
#: the execution id parameter of a route path: ``f"/v1/executions/{EXECUTION_ID}/history"``
EXECUTION_ID = "{execution_id:" + SEGMENT + "}"
PREFIX = b"/v1/executions/"
_KEPT = re.compile(r"(%25|%2[fF])")


class SegmentConvertor(Convertor[str]):
    """One path segment; ``%2F`` and ``%25`` left encoded by ``KeepEncodedSlashes`` decoded."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return _KEPT.sub(lambda m: unquote(m.group(0)), value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


register_url_convertor(SEGMENT, SegmentConvertor())


def kept_path(raw_path: bytes) -> str:
    """The path decoded but for ``%2F`` and ``%25`` (the query, if any, dropped)."""
    text = raw_path.split(b"?", 1)[0].decode("ascii", errors="replace")
    parts = _KEPT.split(text)
    return "".join(p.upper() if _KEPT.fullmatch(p) else unquote(p) for p in parts)


class KeepEncodedSlashes:
    """ASGI middleware: an execution path with an encoded slash keeps it encoded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path")
            if (
                isinstance(raw, bytes)
                and raw.startswith(PREFIX)
                and _KEPT.search(raw.decode("ascii", errors="replace"))
            ):
                scope = {**scope, "path": kept_path(raw)}
        await self.app(scope, receive, send)
