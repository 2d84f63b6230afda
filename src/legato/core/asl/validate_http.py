"""The parameters of an HTTP Task, ``arn:aws:states:::http:invoke`` (developer guide, "Call
HTTPS APIs in Step Functions workflows": "HTTP Task fields", "Applying URL-encoding on request
body").

One set of rules serves twice: :func:`check_http_task` checks a definition, where a value may
still be dynamic (a JSONPath ``Name.$`` key, a JSONata ``{% %}`` string) and is then skipped;
:func:`http_problems` checks the arguments a Task evaluated, just before the call, where every
value is known. Both name the field by its path and say the rule.

Legato differs from Step Functions in two ways, both so that a definition runs unchanged
against a local server: ``Authentication`` is optional (no connection: no credentials), and
``ApiEndpoint`` may be ``http://`` as well as ``https://``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from legato.core.asl.validate_fields import JSONATA, Ctx, jsonata_expression, key

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
FIELDS = (
    "ApiEndpoint",
    "Method",
    "Authentication",
    "Headers",
    "QueryParameters",
    "RequestBody",
    "Transform",
)
BODY_ENCODINGS = ("NONE", "URL_ENCODED")
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")

#: request headers a definition may not set ("HTTP Task fields", Headers): the transport and
#: the connection own them (credentials belong in a connection, never in a definition)
FORBIDDEN_HEADERS = frozenset(
    {
        "a-im",
        "accept-charset",
        "accept-datetime",
        "accept-encoding",
        "authorization",
        "cache-control",
        "connection",
        "content-encoding",
        "content-length",
        "content-md5",
        "date",
        "expect",
        "forwarded",
        "from",
        "host",
        "http2-settings",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "max-forwards",
        "origin",
        "pragma",
        "proxy-authorization",
        "referer",
        "server",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "warning",
    }
)
FORBIDDEN_HEADER_PREFIXES = ("x-forwarded-", "x-amz-", "x-amzn-")

Found = list[tuple[str, str]]
_DYNAMIC = object()  # a value only the running Task knows


def check_http_task(ctx: Ctx, fields: Mapping[str, object], path: str, language: str) -> None:
    """An http:invoke Task's Parameters (JSONPath) or Arguments (JSONata)."""
    holder = "Arguments" if language == JSONATA else "Parameters"
    at = key(path, holder)
    value = fields.get(holder)
    if jsonata_expression(value) is not None:
        return  # the whole of it is computed at run time
    if holder not in fields:
        ctx.add(at, f"arn:aws:states:::http:invoke needs ApiEndpoint and Method in {holder}")
    if not isinstance(value, Mapping):
        return  # not an object: the Task's own checks say so
    for where, rule in _problems(value, at, static=True):
        ctx.add(where, rule)


def http_problems(args: object, path: str = "$") -> Found:
    """What is wrong with the evaluated arguments of an HTTP Task (empty when nothing)."""
    if not isinstance(args, Mapping):
        return [(path, "the HTTP Task's arguments must be a JSON object")]
    return _problems(args, path, static=False)


def connection_name(reference: str) -> str:
    """The connection a ``ConnectionArn`` names: ``NAME`` of
    ``arn:aws:events:REGION:ACCOUNT:connection/NAME/UUID``, or the reference itself when it is
    no ARN (Legato accepts a connection's plain name)."""
    marker = ":connection/"
    if reference.startswith("arn:") and marker in reference:
        return reference.split(marker, 1)[1].split("/", 1)[0]
    return reference


def forbidden_header(name: str) -> bool:
    lower = name.lower()
    return lower in FORBIDDEN_HEADERS or lower.startswith(FORBIDDEN_HEADER_PREFIXES)


def _plain(obj: Mapping[str, object], static: bool) -> dict[str, object]:
    """``obj``'s fields by plain name; a value only the running Task knows (a ``Name.$`` key, a
    JSONata string) as ``_DYNAMIC``. At run time (``static`` false) every value is known."""
    plain: dict[str, object] = {}
    for name, value in obj.items():
        if static and name.endswith(".$"):
            plain[name[:-2]] = _DYNAMIC
        elif static and jsonata_expression(value) is not None:
            plain[name] = _DYNAMIC
        else:
            plain[name] = value
    return plain


def _problems(params: Mapping[str, object], at: str, *, static: bool) -> Found:
    found: Found = []
    values = _plain(params, static)
    for name in list(values):
        if name not in FIELDS:
            rule = f"{name} is not a field of the HTTP Task; the fields are {', '.join(FIELDS)}"
            found.append((key(at, name), rule))
            del values[name]
    for name in ("ApiEndpoint", "Method"):
        if name not in values:
            found.append((at, f"the HTTP Task needs {name}"))
    _endpoint(values.get("ApiEndpoint", _DYNAMIC), key(at, "ApiEndpoint"), found)
    method = values.get("Method", _DYNAMIC)
    if method is not _DYNAMIC and method not in METHODS:
        found.append((key(at, "Method"), f"Method must be one of {', '.join(METHODS)}"))
    _authentication(
        values.get("Authentication", _DYNAMIC), key(at, "Authentication"), found, static
    )
    _headers(values.get("Headers", _DYNAMIC), key(at, "Headers"), found, static)
    query = values.get("QueryParameters", _DYNAMIC)
    if query is not _DYNAMIC and not isinstance(query, Mapping):
        found.append((key(at, "QueryParameters"), "QueryParameters must be a JSON object"))
    transform = values.get("Transform", _DYNAMIC)
    encoded = _transform(transform, key(at, "Transform"), found, static)
    body = values.get("RequestBody", _DYNAMIC)
    if encoded and body is not _DYNAMIC and not isinstance(body, Mapping | str):
        rule = "a URL_ENCODED RequestBody must be a JSON object (or text already encoded)"
        found.append((key(at, "RequestBody"), rule))
    return found


def _endpoint(value: object, at: str, found: Found) -> None:
    if value is _DYNAMIC:
        return
    if not isinstance(value, str):
        found.append((at, "ApiEndpoint must be a string (an https:// or http:// URL)"))
        return
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError as exc:
        found.append((at, f"ApiEndpoint is not a URL: {exc}"))
        return
    if parts.scheme not in ("https", "http") or not parts.hostname:
        found.append((at, f"ApiEndpoint must be an https:// or http:// URL with a host: {value!r}"))


def _authentication(value: object, at: str, found: Found, static: bool) -> None:
    if value is _DYNAMIC:
        return
    if not isinstance(value, Mapping):
        found.append((at, "Authentication must be a JSON object with a ConnectionArn"))
        return
    fields = _plain(value, static)
    for name in fields:
        if name != "ConnectionArn":
            found.append((key(at, name), "Authentication has one field, ConnectionArn"))
    arn = fields.get("ConnectionArn")
    if arn is None:
        found.append((at, "Authentication needs ConnectionArn"))
    elif arn is not _DYNAMIC and not (isinstance(arn, str) and connection_name(arn)):
        found.append((key(at, "ConnectionArn"), "ConnectionArn must name a connection"))


def _headers(value: object, at: str, found: Found, static: bool) -> None:
    if value is _DYNAMIC:
        return
    if not isinstance(value, Mapping):
        found.append((at, "Headers must be a JSON object"))
        return
    for name in value:
        plain = name[:-2] if static and name.endswith(".$") else name
        if forbidden_header(plain):
            found.append(
                (
                    key(at, name),
                    f"the header {plain} cannot be set by an HTTP Task"
                    " (credentials belong in the app's HTTP connection)",
                )
            )


def _transform(value: object, at: str, found: Found, static: bool) -> bool:
    """Whether the body is URL-encoded, as far as the definition says."""
    if value is _DYNAMIC:
        return False
    if not isinstance(value, Mapping):
        found.append((at, "Transform must be a JSON object"))
        return False
    fields = _plain(value, static)
    for name in fields:
        if name not in ("RequestBodyEncoding", "RequestEncodingOptions"):
            rule = "Transform has the fields RequestBodyEncoding and RequestEncodingOptions"
            found.append((key(at, name), rule))
    encoding = fields.get("RequestBodyEncoding", "NONE")
    if encoding is not _DYNAMIC and encoding not in BODY_ENCODINGS:
        rule = f"RequestBodyEncoding must be one of {', '.join(BODY_ENCODINGS)}"
        found.append((key(at, "RequestBodyEncoding"), rule))
    options = fields.get("RequestEncodingOptions", _DYNAMIC)
    if options is not _DYNAMIC:
        options_at = key(at, "RequestEncodingOptions")
        chosen = _plain(options, static) if isinstance(options, Mapping) else None
        if chosen is None or set(chosen) - {"ArrayFormat"}:
            found.append((options_at, "RequestEncodingOptions has one field, ArrayFormat"))
        elif chosen.get("ArrayFormat", "INDICES") not in (*ARRAY_FORMATS, _DYNAMIC):
            rule = f"ArrayFormat must be one of {', '.join(ARRAY_FORMATS)}"
            found.append((key(options_at, "ArrayFormat"), rule))
    return encoding == "URL_ENCODED"
