"""OpenTelemetry spans: one per execution and one per step attempt, its child.

Nothing is exported unless a tracer provider is set: the application's own
(``opentelemetry.trace.set_tracer_provider``), or the one ``configure_from_environment``
sets when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is (``legato dev``, ``server``, ``worker``). Until
then every call here returns after one check, so tracing costs a running engine nothing but
the ids ``legato.core.trace_context`` derives when a log line asks for them.

An execution outlives processes (it may run for days, move to another replica, be replayed
after a crash), so its span is not held open: it is emitted when the execution closes, by
the process that commits the close, with the execution's start time and the span id derived
from its id. Its steps' spans, emitted by whichever worker ran them, and its children's
execution spans name that span id as their parent, so the tree is whole whichever processes
took part. Forcing that span id goes through the SDK's ``IdGenerator`` (``_ChosenIds``
wraps the provider's own: every other span keeps the provider's ids); a provider that is
not the SDK's gives the execution span an id of its own, and its steps then hang from an
unexported parent.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context, attach, detach
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    ProxyTracerProvider,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from legato.core import trace_context
from legato.core.events import Status as ExecStatus
from legato.errors import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
#: closing statuses whose span is marked as an error
FAILED = frozenset({ExecStatus.FAILED, ExecStatus.TIMED_OUT})

_CHOSEN: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "legato_chosen_span_ids", default=None
)


class _ChosenIds(RandomIdGenerator):
    """The provider's ids, except while ``_CHOSEN`` names the (trace id, span id) of the
    execution span being emitted. (A ``RandomIdGenerator`` only for the provider's typing:
    every id comes from ``inner``.)"""

    def __init__(self, inner: IdGenerator) -> None:
        self.inner = inner

    def generate_span_id(self) -> int:
        chosen = _CHOSEN.get()
        return chosen[1] if chosen is not None else self.inner.generate_span_id()

    def generate_trace_id(self) -> int:
        chosen = _CHOSEN.get()
        return chosen[0] if chosen is not None else self.inner.generate_trace_id()

    def is_trace_id_random(self) -> bool:
        return self.inner.is_trace_id_random()


class _State:
    tracer: Tracer | None = None  # once a provider is set (it cannot be unset)
    # what ``get_tracer_provider`` returns while none is set: compared by identity, since an
    # ``isinstance`` on its ABCs costs microseconds, and this is asked once per step attempt
    unset = trace.get_tracer_provider()


def tracer() -> Tracer | None:
    """Legato's tracer, or None while no tracer provider is set (nothing to export)."""
    if _State.tracer is not None:
        return _State.tracer
    provider = trace.get_tracer_provider()
    if provider is _State.unset or isinstance(provider, ProxyTracerProvider):
        return None
    if isinstance(provider, trace.NoOpTracerProvider):
        return None
    if isinstance(provider, TracerProvider) and not isinstance(provider.id_generator, _ChosenIds):
        provider.id_generator = _ChosenIds(provider.id_generator)
    _State.tracer = provider.get_tracer("legato")
    return _State.tracer


def current_traceparent() -> str | None:
    """The W3C traceparent of the span current here (what a started execution joins), or
    None outside any sampled span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return trace_context.format_traceparent(
        f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", f"{int(ctx.trace_flags):02x}"
    )


@contextmanager
def started_in(traceparent: str | None) -> Iterator[None]:
    """Executions started inside are started in the trace ``traceparent`` names (a request's
    W3C header), as if its span were current; an invalid or absent one changes nothing, and
    so does a span current already (a server that traces its requests, as FastAPI does with
    a tracer provider set, made it from the same header)."""
    current = trace.get_current_span().get_span_context()
    if current.is_valid or trace_context.parse(traceparent) is None:
        yield
        return
    token = attach(_remote(traceparent))
    try:
        yield
    finally:
        detach(token)


def _remote(traceparent: str | None) -> Context:
    """A context whose current span is the remote parent ``traceparent`` names (none: an
    empty context, so a span started in it is a root, not a child of what runs here)."""
    parsed = trace_context.parse(traceparent)
    if parsed is None:
        return Context()
    trace_id, span_id, flags = parsed
    parent = SpanContext(
        int(trace_id, 16), int(span_id, 16), is_remote=True, trace_flags=TraceFlags(int(flags, 16))
    )
    return trace.set_span_in_context(NonRecordingSpan(parent), Context())


def execution_closed(
    execution_id: str,
    workflow: str,
    version: str,
    started_in: str | None,
    started_ms: int,
    closed_ms: int,
    status: str,
    error: str | None = None,
    redrive: int = 0,
) -> None:
    """Emit the execution's span, from its start to its close (see the module docstring).
    ``redrive``: the execution closed again after that many redrives, and ``started_ms`` is
    the last redrive's time: that run's span, a child of the execution's (emitted at its
    first close, under the execution's span id: a span id is emitted once)."""
    t = tracer()
    if t is None:
        return
    own = trace_context.own_traceparent(execution_id, started_in)
    ids = (
        int(trace_context.trace_id_of(execution_id, own), 16),
        int(trace_context.span_id(execution_id, redrive), 16),
    )
    name = f"execution {workflow}" if not redrive else f"execution {workflow} (redrive {redrive})"
    parent = started_in if not redrive else trace_context.of(execution_id, own)
    token = _CHOSEN.set(ids)
    try:
        span = t.start_span(
            name,
            context=_remote(parent),
            kind=SpanKind.INTERNAL,
            start_time=started_ms * 1_000_000,
            attributes={
                "legato.execution_id": execution_id,
                "legato.workflow": workflow,
                "legato.version": version,
                "legato.status": status,
                "legato.redrive": redrive,
            },
        )
    finally:
        _CHOSEN.reset(token)
    if status in FAILED:
        span.set_status(Status(StatusCode.ERROR, error or status))
    span.end(end_time=closed_ms * 1_000_000)


@contextmanager
def step_attempt(
    execution_id: str, traceparent: str | None, step: str, attempt: int, step_id: int
) -> Iterator[Span | None]:
    """The current span while a step attempt runs (spans the step's own code starts are its
    children); None when nothing is exported. ``traceparent``: the task's, its execution's."""
    t = tracer()
    if t is None:
        yield None
        return
    parent = _remote(trace_context.of(execution_id, traceparent))
    with t.start_as_current_span(
        f"step {step}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "legato.execution_id": execution_id,
            "legato.step": step,
            "legato.step_id": step_id,
            "legato.attempt": attempt,
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


def failed(span: Span | None, error_type: str, message: str) -> None:
    """Mark a step attempt's span as failed with the step's error."""
    if span is not None:
        span.set_status(Status(StatusCode.ERROR, f"{error_type}: {message}"))
        span.set_attribute("legato.error", error_type)


def configure_from_environment() -> bool:
    """With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set and no tracer provider set yet, export spans
    over OTLP/HTTP (the exporter reads its other ``OTEL_EXPORTER_OTLP_*`` settings itself).
    The exporter package (``legato[otlp]``) is imported only then. Returns whether it did."""
    if not os.environ.get(OTLP_ENDPOINT):
        return False
    if not isinstance(trace.get_tracer_provider(), ProxyTracerProvider):
        return False  # the application set its own
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfigurationError(
            f"{OTLP_ENDPOINT} is set but the OTLP exporter is not installed: "
            "pip install 'legato[otlp]'"
        ) from None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME", "legato")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True
