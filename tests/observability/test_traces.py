"""Traces exported to an in-memory exporter: an execution's span is the parent of its step
attempts' spans and of its children's execution spans, in one trace; an execution started in
a caller's span joins the caller's trace; a task claimed by a worker elsewhere carries its
execution's context (both dialects)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import legato
from legato.api.serve import ApiServer
from legato.api.server import create_api
from legato.api.settings import ApiSettings
from legato.client import open_store
from legato.client.remote_worker import RemoteWorker
from legato.core import trace_context
from legato.core.events import ExecutionStarted
from tests.api.apps import serving
from tests.conftest import StatusWaiter, Waiter

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider can be set once: the first test module that needs one
    sets it; each test reads its own spans (``spans`` clears them first)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    memory = InMemorySpanExporter()
    processor = SimpleSpanProcessor(memory)
    provider.add_span_processor(processor)
    yield memory
    memory.shutdown()  # the processor stays registered; a shut-down exporter drops spans


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    exporter.clear()
    return exporter


def _id(hex_id: str) -> int:
    return int(hex_id, 16)


def _named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name]


def _emitted(spans: InMemorySpanExporter, name: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(_named(spans, name)) == 1

    return check


def _app(url: str) -> legato.App:
    app = legato.App(url)
    failures: dict[str, int] = {}

    @app.step(name="flaky", retry=legato.Retry(max_attempts=3, initial=0.01, backoff=1))
    async def flaky(x: int) -> int:
        failures[f"{x}"] = failures.get(f"{x}", 0) + 1
        if failures[f"{x}"] == 1:
            raise ConnectionError("first attempt fails")
        return x * x

    @app.workflow(name="kid")
    async def kid(ctx: legato.Context, x: int) -> int:
        return int(await ctx.step(flaky, x))

    @app.workflow(name="parent")
    async def parent(ctx: legato.Context) -> int:
        return int(await ctx.child("kid", 3)) + 1

    return app


async def test_execution_spans_parent_their_step_attempts_and_children(
    any_db_url: str, spans: InMemorySpanExporter, wait_for: Waiter
) -> None:
    app = _app(any_db_url)
    async with app:
        handle = await app.start("parent", id="p")
        assert await handle.result(timeout=30) == 10
        await wait_for(_emitted(spans, "execution parent"))

    trace_id = _id(trace_context.root_trace_id("p"))
    (parent,) = _named(spans, "execution parent")
    assert parent.context is not None
    assert (parent.context.trace_id, parent.context.span_id) == (
        trace_id,
        _id(trace_context.span_id("p")),
    )
    assert parent.parent is None  # started outside any trace: the root
    assert parent.attributes is not None and parent.attributes["legato.status"] == "COMPLETED"

    (child,) = _named(spans, "execution kid")
    assert child.context is not None and child.parent is not None
    assert child.context.trace_id == trace_id
    assert child.context.span_id == _id(trace_context.span_id("p/1"))
    assert child.parent.span_id == parent.context.span_id

    attempts = sorted(_named(spans, "step flaky"), key=lambda s: s.start_time or 0)
    assert [(s.attributes or {}).get("legato.attempt") for s in attempts] == [1, 2]
    for attempt in attempts:
        assert attempt.context is not None and attempt.parent is not None
        assert attempt.context.trace_id == trace_id
        assert attempt.parent.span_id == child.context.span_id
        assert (attempt.attributes or {})["legato.execution_id"] == "p/1"
    assert attempts[0].status.status_code == StatusCode.ERROR
    assert "ConnectionError" in (attempts[0].status.description or "")
    assert attempts[1].status.status_code == StatusCode.UNSET
    # the execution span covers its steps
    assert parent.start_time is not None and parent.end_time is not None
    assert parent.start_time <= (attempts[0].start_time or 0)
    assert parent.end_time >= (attempts[1].end_time or 0)


async def test_an_execution_started_in_a_span_joins_its_trace(
    db_url: str, spans: InMemorySpanExporter, wait_for: Waiter
) -> None:
    app = _app(db_url)
    tracer = trace.get_tracer("tests")
    async with app:
        with tracer.start_as_current_span("request") as request:
            handle = await app.start("kid", 4, id="k")
        assert await handle.result(timeout=30) == 16
        await wait_for(_emitted(spans, "execution kid"))
        history = await handle.history()
    caller = request.get_span_context()
    (execution,) = _named(spans, "execution kid")
    assert execution.context is not None and execution.parent is not None
    assert execution.context.trace_id == caller.trace_id
    assert execution.parent.span_id == caller.span_id
    assert execution.context.span_id == _id(trace_context.span_id("k"))
    for attempt in _named(spans, "step flaky"):
        assert attempt.context is not None and attempt.parent is not None
        assert attempt.context.trace_id == caller.trace_id
        assert attempt.parent.span_id == execution.context.span_id
    # the history records the trace it was started in
    started = history[0]
    assert isinstance(started, ExecutionStarted)
    parsed = trace_context.parse(started.traceparent)
    assert parsed is not None and _id(parsed[0]) == caller.trace_id


async def test_a_claimed_task_carries_its_execution_context(
    any_db_url: str, spans: InMemorySpanExporter
) -> None:
    """No worker in the deciding process: the task waits in the store for a claim, as a
    worker elsewhere (or over HTTP) makes it, and the claim hands over the context."""
    app = _app(any_db_url)
    tracer = trace.get_tracer("tests")
    engine = await app.start_engine(orchestrate=True, work=False)
    try:
        with tracer.start_as_current_span("request") as request:
            await app.start("kid", 5, id="remote")
        store = open_store(any_db_url)
        await store.open()
        try:  # the first decision is committed by the time start returns
            claimed = await store.claim_tasks(
                "worker:test", ["default"], ["flaky"], engine.clock.now_ms(), 30_000, 10
            )
        finally:
            await store.close()
    finally:
        await app.shutdown()
    (task,) = claimed
    caller = request.get_span_context()
    assert task.traceparent == trace_context.format_traceparent(
        f"{caller.trace_id:032x}", trace_context.span_id("remote"), f"{caller.trace_flags:02x}"
    )
    assert json.loads(task.args)[0] == [5]


async def test_a_remote_worker_runs_the_attempt_in_its_execution_span(
    db_url: str, spans: InMemorySpanExporter, wait_for: Waiter
) -> None:
    """Over HTTP: the claimed task's ``traceparent`` (``WireTask``) parents the attempt."""
    server = _app(db_url)
    await server.start_engine(orchestrate=True, work=False)
    api = ApiServer(create_api(server), ApiSettings(port=0))
    await api.start()
    worker = RemoteWorker(_app(db_url), api.settings.address)
    await worker.start()
    try:
        with trace.get_tracer("tests").start_as_current_span("request") as request:
            handle = await server.start("kid", 6, id="over-http")
        assert await handle.result(timeout=30) == 36
        await wait_for(_emitted(spans, "execution kid"))
    finally:
        await worker.stop()
        await api.stop()
        await server.shutdown()
    caller = request.get_span_context()
    attempts = _named(spans, "step flaky")
    assert len(attempts) == 2
    for attempt in attempts:
        assert attempt.context is not None and attempt.parent is not None
        assert attempt.context.trace_id == caller.trace_id
        assert attempt.parent.span_id == _id(trace_context.span_id("over-http"))


async def test_the_api_starts_in_the_callers_trace_and_its_history_names_it(
    db_url: str, spans: InMemorySpanExporter
) -> None:
    async with serving(db_url) as (_app, client):
        caller = trace_context.format_traceparent("ab" * 16, "cd" * 8)
        traced = await client.post(
            "/v1/executions",
            json={"workflow": "order", "kwargs": {"customer": "c", "items": []}, "id": "t-1"},
            headers={"traceparent": caller},
        )
        assert traced.status_code == 201, traced.text
        plain = await client.post(
            "/v1/executions",
            json={"workflow": "order", "kwargs": {"customer": "c", "items": []}, "id": "t-2"},
            headers={"traceparent": "not a traceparent"},  # ignored, as W3C asks
        )
        assert plain.status_code == 201, plain.text
        for eid in ("t-1", "t-2"):
            done = await client.get(f"/v1/executions/{eid}", params={"wait": 20})
            assert done.json()["status"] == "COMPLETED"
        one = (await client.get("/v1/executions/t-1/history")).json()["events"]
        two = (await client.get("/v1/executions/t-2/history")).json()["events"]
    # started in the caller's trace: in its span, or in the span the server made for the
    # request from the header (FastAPI traces its requests itself once a provider is set)
    assert len(one) > 2 and {e["trace_id"] for e in one} == {"ab" * 16}
    started_in = trace_context.parse(one[0]["meta"]["traceparent"])
    assert started_in is not None and started_in[0] == "ab" * 16
    exported = spans.get_finished_spans()
    (execution,) = [s for s in exported if s.name == "execution order" and s.context and
                    s.context.span_id == _id(trace_context.span_id("t-1"))]  # fmt: skip
    assert execution.parent is not None and execution.parent.trace_id == _id("ab" * 16)
    assert execution.parent.span_id in {_id("cd" * 8)} | {
        s.context.span_id for s in exported if s.context
    }
    # an invalid header is ignored: one trace id throughout, the one it was started in
    started = trace_context.parse(two[0]["meta"].get("traceparent"))
    expected = started[0] if started else trace_context.root_trace_id("t-2")
    assert started is None or started[0] != "ab" * 16
    assert {e["trace_id"] for e in two} == {expected}


async def test_a_terminated_and_a_failed_execution_have_their_spans(
    db_url: str, spans: InMemorySpanExporter, wait_for: Waiter
) -> None:
    """A termination is committed by the operator's process, not by a decision: its span is
    emitted there; a failure marks the span as an error."""
    app = legato.App(db_url)

    @app.workflow(name="waits")
    async def waits(ctx: legato.Context) -> object:
        return await ctx.wait_for_signal("never")

    @app.workflow(name="breaks")
    async def breaks(ctx: legato.Context) -> None:
        raise ValueError("broken")

    async with app:
        await app.start("waits", id="w-2")
        await app.terminate("w-2", reason="by hand")
        broken = await app.start("breaks", id="b-1")
        with pytest.raises(legato.ExecutionFailedError):
            await broken.result(timeout=30)
        await wait_for(_emitted(spans, "execution breaks"))
    (terminated,) = _named(spans, "execution waits")
    assert terminated.context is not None
    assert terminated.context.span_id == _id(trace_context.span_id("w-2"))
    assert (terminated.attributes or {})["legato.status"] == "TERMINATED"
    (failed,) = _named(spans, "execution breaks")
    assert failed.status.status_code == StatusCode.ERROR
    assert "ValueError" in (failed.status.description or "")


async def test_a_redriven_run_has_a_span_of_its_own_inside_the_executions(
    db_url: str, spans: InMemorySpanExporter, wait_status: StatusWaiter, wait_for: Waiter
) -> None:
    app = legato.App(db_url)
    fixed: list[bool] = []

    @app.step(name="fragile", retry=legato.Retry(max_attempts=1))
    async def fragile() -> str:
        if not fixed:
            raise ValueError("not yet")
        return "fine"

    @app.workflow(name="mended")
    async def mended(ctx: legato.Context) -> str:
        return str(await ctx.step(fragile))

    async with app:
        failed = await app.start("mended", id="r-1")
        await wait_status(failed, legato.Status.FAILED)
        fixed.append(True)
        redriven = await app.redrive("r-1")
        assert await redriven.result(timeout=30) == "fine"
        await wait_for(_emitted(spans, "execution mended (redrive 1)"))
    (first,) = _named(spans, "execution mended")
    (again,) = _named(spans, "execution mended (redrive 1)")
    assert first.context is not None and again.context is not None and again.parent is not None
    assert first.context.span_id == _id(trace_context.span_id("r-1"))
    assert first.status.status_code == StatusCode.ERROR
    assert again.context.span_id == _id(trace_context.span_id("r-1", 1))
    assert again.parent.span_id == first.context.span_id
    assert again.context.trace_id == first.context.trace_id
    attempts = _named(spans, "step fragile")
    assert len(attempts) == 2
    assert {a.parent.span_id for a in attempts if a.parent} == {first.context.span_id}


async def test_spans_a_steps_code_starts_are_children_of_its_attempt(
    db_url: str, spans: InMemorySpanExporter, wait_for: Waiter
) -> None:
    """An async step runs in its attempt's context; a sync one in a thread, with a copy."""
    app = legato.App(db_url)
    tracer = trace.get_tracer("tests")

    @app.step(name="fetch")
    async def fetch() -> int:
        with tracer.start_as_current_span("http get"):
            return 1

    @app.step(name="crunch")
    def crunch() -> int:
        with tracer.start_as_current_span("numpy"):
            return 2

    @app.workflow(name="both")
    async def both(ctx: legato.Context) -> int:
        return int(await ctx.step(fetch)) + int(await ctx.step(crunch))

    async with app:
        assert await (await app.start("both", id="c-1")).result(timeout=30) == 3
        await wait_for(_emitted(spans, "execution both"))
    for step, inner in (("step fetch", "http get"), ("step crunch", "numpy")):
        (attempt,) = _named(spans, step)
        (own,) = _named(spans, inner)
        assert attempt.context is not None and own.parent is not None
        assert own.parent.span_id == attempt.context.span_id
        assert own.context is not None and own.context.trace_id == attempt.context.trace_id
