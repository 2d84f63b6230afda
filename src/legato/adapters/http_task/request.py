"""An HTTP Task's request as Step Functions builds it from the Task's arguments (developer
guide, "Call HTTPS APIs": "HTTP Task fields", "Merging EventBridge connection and HTTP Task
definition data"): the method and URL, ``QueryParameters`` added to the URL's own query,
``Headers``, and ``RequestBody`` as JSON or, under ``Transform``, URL-encoded. The connection's
headers, query parameters and body fields are added and win on the same name; its credentials
are headers that never follow a redirect to another origin.

``Content-Type`` defaults to ``application/json; charset=UTF-8`` for a JSON body,
``application/x-www-form-urlencoded`` for a URL-encoded one and ``text/plain; charset=UTF-8``
for a body given as text; a definition's own ``Content-Type`` header wins.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from legato.adapters.http_task.connections import ApiKeyAuth, BasicAuth, HttpConnection
from legato.adapters.http_task.form import SAFE, scalar, url_encode
from legato.adapters.http_task.outbound import Outgoing

USER_AGENT = "Legato-HttpTask"


class RequestError(Exception):
    """The arguments cannot make a request (a text body with a connection's body fields)."""


def build(params: Mapping[str, Any], connection: HttpConnection | None) -> Outgoing:
    connection = connection or HttpConnection()
    headers = Headers({"User-Agent": USER_AGENT})
    for name, value in (params.get("Headers") or {}).items():
        headers[name] = ",".join(map(scalar, value)) if isinstance(value, list) else scalar(value)
    for name, value in connection.headers.items():
        headers[name] = value
    url = _with_query(params["ApiEndpoint"], params.get("QueryParameters") or {}, connection)
    content = _body(params, connection, headers)
    private = set(headers.lower_names()) & {n.lower() for n in connection.headers}
    auth = connection.auth
    if isinstance(auth, ApiKeyAuth):
        headers[auth.header] = auth.value
        private.add(auth.header.lower())
    elif isinstance(auth, BasicAuth):
        pair = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    private.add("authorization")
    return Outgoing(params["Method"], url, headers.items(), content, frozenset(private))


class Headers:
    """Header names as given, compared without case (a connection's ``x-api-key`` replaces
    the definition's ``X-Api-Key``)."""

    def __init__(self, initial: Mapping[str, str]) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in initial.items():
            self[name] = value

    def __setitem__(self, name: str, value: str) -> None:
        self._items[name.lower()] = (name, value)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._items

    def lower_names(self) -> list[str]:
        return list(self._items)

    def items(self) -> dict[str, str]:
        return dict(self._items.values())


def _with_query(endpoint: str, query: Mapping[str, Any], connection: HttpConnection) -> str:
    merged: dict[str, Any] = {**query, **connection.query}
    pairs = [
        (name, scalar(item))
        for name, value in merged.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    if not pairs:
        return endpoint
    parts = urlsplit(endpoint)
    added = "&".join(f"{quote(n, safe=SAFE)}={quote(v, safe=SAFE)}" for n, v in pairs)
    full = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, full, parts.fragment))


def _body(params: Mapping[str, Any], connection: HttpConnection, headers: Headers) -> bytes | None:
    body = params.get("RequestBody")
    if connection.body:
        if isinstance(body, str):
            raise RequestError(
                "RequestBody is text, so the connection's body fields cannot be added to it"
            )
        body = {**(body if isinstance(body, Mapping) else {}), **connection.body}
    if "RequestBody" not in params and not connection.body:
        return None
    transform = params.get("Transform") or {}
    if transform.get("RequestBodyEncoding") == "URL_ENCODED":
        array_format = (transform.get("RequestEncodingOptions") or {}).get("ArrayFormat")
        fields = body if isinstance(body, Mapping) else {}  # validation let only objects by
        text = body if isinstance(body, str) else url_encode(fields, array_format or "INDICES")
        _default(headers, "application/x-www-form-urlencoded")
    elif isinstance(body, str):
        text = body
        _default(headers, "text/plain; charset=UTF-8")
    else:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        _default(headers, "application/json; charset=UTF-8")
    return text.encode("utf-8")


def _default(headers: Headers, content_type: str) -> None:
    if "content-type" not in headers:
        headers["Content-Type"] = content_type
