"""``Transform.RequestBodyEncoding: URL_ENCODED`` (developer guide, "Call HTTPS APIs",
"Applying URL-encoding on request body"): a JSON object as an
``application/x-www-form-urlencoded`` body, arrays written as ``RequestEncodingOptions.
ArrayFormat`` says. For ``{"array": ["a", "b"]}``:

* ``INDICES`` (the default): ``array[0]=a&array[1]=b``
* ``REPEAT``: ``array=a&array=b``
* ``COMMAS``: ``array=a,b``
* ``BRACKETS``: ``array[]=a&array[]=b``

Nested objects are written with brackets, ``{"a": {"b": 1}}`` as ``a[b]=1``, the convention of
the ``qs`` library these formats come from; under ``COMMAS`` an array holding objects or arrays
is written as ``REPEAT`` would (a comma cannot join them). Scalars are written as JSON writes
them (``true``, ``1.5``), strings as they are, null as the empty string. Brackets and commas
are percent-encoded like every other reserved character.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

SAFE = "-_.~"


def url_encode(body: Mapping[str, Any], array_format: str = "INDICES") -> str:
    return "&".join(
        f"{quote(name, safe=SAFE)}={quote(value, safe=SAFE)}"
        for name, value in _pairs("", body, array_format)
    )


def _pairs(prefix: str, value: Any, array_format: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from _pairs(f"{prefix}[{name}]" if prefix else str(name), item, array_format)
    elif isinstance(value, list):
        if array_format == "COMMAS" and not any(isinstance(i, Mapping | list) for i in value):
            yield prefix, ",".join(scalar(i) for i in value)
            return
        for index, item in enumerate(value):
            name = {"INDICES": f"{prefix}[{index}]", "BRACKETS": f"{prefix}[]"}.get(
                array_format, prefix
            )
            yield from _pairs(name, item, array_format)
    else:
        yield prefix, scalar(value)


def scalar(value: Any) -> str:
    """A JSON scalar as text in a form, a query string or a header."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value)
