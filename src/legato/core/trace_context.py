"""An execution's place in a distributed trace (W3C Trace Context, traceparent level 00).

An execution is one span, whose span id is a hash of its id: any process (the orchestrator
that closes it, a worker running one of its steps, a log line) knows it without reading
anything. Its trace id is the trace it was started in: the caller's (an OpenTelemetry span
current around ``App.start``) or its parent execution's, recorded as ``ExecutionStarted``'s
``traceparent``; an execution started outside any trace is the root of a trace whose id is a
hash of its id, so nothing is stored for it and its ids cost two hashes, made only when a
line is logged or a span exported.

https://www.w3.org/TR/trace-context/#traceparent-header
"""

from __future__ import annotations

import hashlib
import re

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
SAMPLED = "01"


def _digest(execution_id: str, size: int, person: bytes) -> str:
    raw = hashlib.blake2b(execution_id.encode(), digest_size=size, person=person).hexdigest()
    # an all-zero id is invalid in W3C (and OpenTelemetry); one in 2**64 ids: flip a bit
    return raw if raw.strip("0") else raw[:-1] + "1"


def root_trace_id(execution_id: str) -> str:
    """The trace id of an execution started outside any trace (32 hex digits)."""
    return _digest(execution_id, 16, b"legato-trace")


def span_id(execution_id: str, redrive: int = 0) -> str:
    """The span id of the execution's own span (16 hex digits); ``redrive``: of the span of
    its run after that redrive (a child of the execution's span: a span is emitted once)."""
    key = execution_id if not redrive else f"{execution_id}\x00redrive {redrive}"
    return _digest(key, 8, b"legato-span")


def format_traceparent(trace_id: str, parent_span_id: str, flags: str = SAMPLED) -> str:
    return f"00-{trace_id}-{parent_span_id}-{flags}"


def parse(traceparent: str | None) -> tuple[str, str, str] | None:
    """``(trace id, span id, flags)`` of a valid level-00 traceparent, else None (an invalid
    one is ignored, as the W3C spec asks of a receiver)."""
    if not traceparent:
        return None
    m = _TRACEPARENT.match(traceparent.strip().lower())
    if m is None or m[1] == _ZERO_TRACE or m[2] == _ZERO_SPAN:
        return None
    return m[1], m[2], m[3]


def own_traceparent(execution_id: str, started_in: str | None) -> str | None:
    """The execution span's own context, for its steps and children: None when it is the
    root of its own trace (derivable from the id: ``of``), else the caller's trace id with
    the execution's span id."""
    parsed = parse(started_in)
    if parsed is None:
        return None
    return format_traceparent(parsed[0], span_id(execution_id), parsed[2])


def of(execution_id: str, own: str | None) -> str:
    """The execution span's traceparent: ``own`` (``own_traceparent``), or its root one."""
    return own or format_traceparent(root_trace_id(execution_id), span_id(execution_id))


def trace_id_of(execution_id: str, own: str | None) -> str:
    """The execution's trace id; ``own``: its own traceparent or the one it was started in
    (the same trace), or None."""
    parsed = parse(own)
    return parsed[0] if parsed is not None else root_trace_id(execution_id)
