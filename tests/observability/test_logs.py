"""The engine's log lines as ``legato.cli.logs`` renders them: the JSON lines of a step that
fails, is retried and succeeds, field by field; the console form; the levels."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import typer

import legato
from legato.cli import logs
from legato.core import trace_context
from legato.core.partitions import PARTITIONS
from tests.conftest import StatusWaiter, Waiter

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The ``legato`` loggers at INFO into a JSON handler, as ``legato server`` has them."""
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    legato_log = logging.getLogger("legato")
    before = legato_log.level
    legato_log.addHandler(handler)
    legato_log.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        legato_log.removeHandler(handler)
        legato_log.setLevel(before)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _app(url: str) -> legato.App:
    app = legato.App(url)
    calls: list[int] = []

    @app.step(name="charge", retry=legato.Retry(max_attempts=3, initial=0.01, backoff=1))
    async def charge(amount: int) -> int:
        calls.append(amount)
        if len(calls) == 1:
            raise ConnectionError("payment provider timed out")
        return amount

    @app.workflow(name="checkout", version="7")
    async def checkout(ctx: legato.Context, amount: int) -> int:
        return int(await ctx.step(charge, amount))

    return app


async def test_the_json_lines_of_a_failing_then_retried_step(
    db_url: str, captured: io.StringIO
) -> None:
    app = _app(db_url)
    async with app:
        handle = await app.start("checkout", 30, id="order-1")
        assert await handle.result(timeout=30) == 30
    lines = [line for line in _lines(captured) if line.get("execution_id") == "order-1"]
    events = [line["event"] for line in lines]
    assert events == ["execution.started", "step.retry_scheduled", "execution.completed"]
    trace_id = trace_context.root_trace_id("order-1")
    for line in lines:  # every line about the execution carries these
        assert {k: line[k] for k in ("execution_id", "workflow", "version", "trace_id")} == {
            "execution_id": "order-1",
            "workflow": "checkout",
            "version": "7",
            "trace_id": trace_id,
        }
        assert {"step", "attempt", "level", "logger", "timestamp", "message"} <= line.keys()
        assert line["logger"] == "legato.executions"
    retry = lines[1]
    assert retry["level"] == "info"
    assert (retry["step"], retry["attempt"], retry["next_attempt"]) == ("charge", 1, 2)
    assert retry["error"] == "ConnectionError"
    assert retry["error_message"] == "payment provider timed out"
    assert datetime.fromisoformat(retry["next_attempt_at"]).utcoffset() is not None
    assert "charge" in retry["message"] and "attempt 1" in retry["message"]
    assert lines[0]["step"] is None and lines[2]["attempt"] is None


async def test_debug_adds_each_step_and_a_final_failure_is_logged(
    db_url: str, captured: io.StringIO
) -> None:
    logging.getLogger("legato").setLevel(logging.DEBUG)
    app = legato.App(db_url)

    @app.step(name="boom", retry=legato.Retry(max_attempts=1))
    async def boom() -> None:
        raise ValueError("no")

    @app.workflow(name="fails")
    async def fails(ctx: legato.Context) -> None:
        await ctx.step(boom)

    async with app:
        handle = await app.start("fails", id="f-1")
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=30)
    about = [line for line in _lines(captured) if line.get("execution_id") == "f-1"]
    lines = [line for line in about if line["logger"] == "legato.executions"]
    assert [line["event"] for line in lines] == [
        "execution.started",
        "step.scheduled",
        "step.failed",
        "execution.failed",
    ]
    # the worker's own lines about the attempt, with the same fields
    ran = [line for line in about if line["logger"] == "legato.worker"]
    assert [(ln["event"], ln["step"], ln["attempt"]) for ln in ran] == [
        ("step.started", "boom", 1),
        ("step.finished", "boom", 1),
    ]
    assert ran[1]["error"] == "ValueError"
    assert {ln["trace_id"] for ln in about} == {trace_context.root_trace_id("f-1")}
    assert lines[1]["level"] == "debug" and lines[1]["step"] == "boom"
    assert (lines[2]["step"], lines[2]["attempt"], lines[2]["error"]) == ("boom", 1, "ValueError")
    assert lines[3]["error"] == "ValueError"


def test_a_plain_record_is_a_json_line_and_the_console_puts_the_message_first() -> None:
    as_json, as_text = io.StringIO(), io.StringIO()
    log = logging.getLogger("legato.test_logs")
    log.propagate = False
    for fmt, stream in (("json", as_json), ("console", as_text)):
        log.handlers = [logs.handler(fmt, stream)]
        log.warning("partitions taken: %s", [1, 2], extra={"event": "partitions.taken"})
        log.warning("no name [brackets] %d", 3)
    named, plain = _lines(as_json)
    assert named["event"] == "partitions.taken" and named["message"] == "partitions taken: [1, 2]"
    assert plain["event"] == "no name [brackets] 3" and "message" not in plain
    first, second = as_text.getvalue().splitlines()
    assert "partitions taken: [1, 2]" in first and "name=partitions.taken" in first
    assert "no name [brackets] 3" in second and "\x1b[" not in first  # no colours off a tty


@pytest.mark.parametrize(
    ("verbose", "serving", "env", "level"),
    [
        (0, True, None, logging.INFO),
        (1, True, None, logging.DEBUG),
        (0, False, None, logging.WARNING),
        (1, False, None, logging.INFO),
        (2, False, None, logging.DEBUG),
        (1, True, "warning", logging.WARNING),
    ],
)
def test_levels(
    verbose: int, serving: bool, env: str | None, level: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env is None:
        monkeypatch.delenv(logs.LEVEL_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(logs.LEVEL_VARIABLE, env)
    assert logs.level_for(verbose, serving) == level


def test_an_unknown_format_or_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(typer.BadParameter, match="log format 'xml'"):
        logs.format_for("xml")
    monkeypatch.setenv(logs.FORMAT_VARIABLE, "JSON")
    assert logs.format_for(None) == "json"
    monkeypatch.setenv(logs.LEVEL_VARIABLE, "loud")
    with pytest.raises(typer.BadParameter, match="not a log level"):
        logs.level_for(0, True)


async def test_an_operators_redrive_and_termination_are_logged(
    db_url: str, captured: io.StringIO, wait_status: StatusWaiter
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

    @app.workflow(name="waits")
    async def waits(ctx: legato.Context) -> object:
        return await ctx.wait_for_signal("never")

    async with app:
        failed = await app.start("mended", id="m-1")
        await wait_status(failed, legato.Status.FAILED)
        fixed.append(True)
        redriven = await app.redrive("m-1")
        assert await redriven.result(timeout=30) == "fine"
        stuck = await app.start("waits", id="w-1")
        await wait_status(stuck, legato.Status.RUNNING)
        await app.terminate("w-1", reason="by hand")
    mended_events = [ln["event"] for ln in _lines(captured) if ln.get("execution_id") == "m-1"]
    assert mended_events == [
        "execution.started",
        "step.failed",
        "execution.failed",
        "execution.redriven",
        "execution.completed",
    ]
    (terminated,) = [ln for ln in _lines(captured) if ln.get("event") == "execution.terminated"]
    assert terminated["execution_id"] == "w-1" and terminated["reason"] == "by hand"
    assert terminated["workflow"] == "waits"
    assert terminated["trace_id"] == trace_context.root_trace_id("w-1")


async def test_a_step_this_process_will_not_run_is_a_warning(
    db_url: str, captured: io.StringIO, wait_for: Waiter
) -> None:
    app = legato.App(db_url)

    @app.step(name="elsewhere", queue="gpu")
    async def elsewhere() -> None:
        return None

    @app.workflow(name="needs_gpu")
    async def needs_gpu(ctx: legato.Context) -> None:
        await ctx.step(elsewhere)

    await app.start_engine(queues=["default"])
    try:
        await app.start("needs_gpu", id="g-1")

        async def warned() -> bool:
            return any(ln.get("event") == "step.not_served" for ln in _lines(captured))

        await wait_for(warned)
    finally:
        await app.shutdown()
    (line,) = [ln for ln in _lines(captured) if ln.get("event") == "step.not_served"]
    assert line["level"] == "warning" and line["execution_id"] == "g-1"
    assert (line["step"], line["queue"]) == ("elsewhere", "gpu")


async def test_an_execution_recorded_pending_is_logged_started_by_the_engine_that_runs_it(
    db_url: str, captured: io.StringIO
) -> None:
    """A child is recorded PENDING by its parent's transition; the engine that takes it up
    says it started, with the child's fields."""
    app = legato.App(db_url)

    @app.workflow(name="kid", version="3")
    async def kid(ctx: legato.Context, x: int) -> int:
        return x + 1

    @app.workflow(name="parent")
    async def parent(ctx: legato.Context) -> int:
        return int(await ctx.child("kid", 1))

    async with app:
        handle = await app.start("parent", id="pa")
        assert await handle.result(timeout=30) == 2
    child = [ln for ln in _lines(captured) if ln.get("execution_id") == "pa/1"]
    assert [ln["event"] for ln in child] == ["execution.started", "execution.completed"]
    assert (child[0]["workflow"], child[0]["version"]) == ("kid", "3")
    assert child[0]["trace_id"] == trace_context.root_trace_id("pa")  # its parent's trace


async def test_a_suspension_is_a_warning_with_the_executions_fields(
    db_url: str, captured: io.StringIO, wait_status: StatusWaiter
) -> None:
    """Its version is not registered in the app that runs it: it waits for an operator."""
    old = legato.App(db_url)

    @old.workflow(name="versioned", version="1")
    async def v1(ctx: legato.Context) -> object:
        return await ctx.wait_for_signal("go")

    async with old:
        await old.start("versioned", id="s-1")
    new = legato.App(db_url)

    @new.workflow(name="versioned", version="2")
    async def v2(ctx: legato.Context) -> object:
        return await ctx.wait_for_signal("go")

    async with new:
        await new.get_handle("s-1").signal("go", 1)
        await wait_status(new.get_handle("s-1"), legato.Status.SUSPENDED)
    (line,) = [ln for ln in _lines(captured) if ln.get("event") == "execution.suspended"]
    assert line["level"] == "warning" and line["execution_id"] == "s-1"
    assert (line["workflow"], line["version"]) == ("versioned", "1")
    assert "not registered" in line["reason"] and line["kind"] == "unregistered"


async def test_another_engine_on_the_database_is_said(pg_url: str, captured: io.StringIO) -> None:
    """Two orchestrating engines on one PostgreSQL database: the second finds the first at
    its first balance and says so (the first holds every partition until its next balance
    gives it a share)."""
    first, second = legato.App(pg_url), legato.App(pg_url)
    await first.start_engine(work=False)
    try:
        await second.start_engine(work=False)
        await second.shutdown()
    finally:
        await first.shutdown()
    joined = [ln for ln in _lines(captured) if ln.get("event") == "replicas.joined"]
    assert joined and joined[0]["replicas"] == 2 and joined[0]["logger"] == "legato.engine"
    taken = [ln for ln in _lines(captured) if ln.get("event") == "partitions.taken"]
    assert taken and len(taken[0]["partitions"]) == PARTITIONS
    released = [ln for ln in _lines(captured) if ln.get("event") == "partitions.released"]
    assert released and all(isinstance(ln["partitions"], list) for ln in released)
    assert [ln["event"] for ln in _lines(captured) if ln["event"].startswith("engine.")] == [
        "engine.started",
        "engine.started",
        "engine.stopped",
        "engine.stopped",
    ]
