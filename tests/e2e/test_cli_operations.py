"""``legato executions cancel|terminate|redrive|resume``: an operator's commands, against a
database an engine serves (here: run between the commands, in this process)."""

from __future__ import annotations

import asyncio
from typing import Any

from typer.testing import CliRunner, Result

import legato
from legato.cli.main import app_cli

runner = CliRunner()
BROKEN = {"yes": True}


def _legato(url: str, *args: str) -> Result:
    return runner.invoke(app_cli, [*args, "--db", url])


def _app(url: str) -> legato.App:
    app = legato.App(url)

    @app.step(retry=legato.Retry.none())
    async def lookup(n: int) -> int:
        if BROKEN["yes"]:
            raise RuntimeError("lookup service down")
        return n * 2

    @app.workflow(name="lookup_job")
    async def lookup_job(ctx: legato.Context, n: int) -> int:
        result: int = await ctx.step(lookup, n)
        return result

    @app.workflow(name="gate")
    async def gate(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("open")

    return app


def _status(url: str, execution_id: str) -> legato.Status:
    async def read() -> legato.Status:
        app = _app(url)
        try:
            return (await app.get_handle(execution_id).status()).status
        finally:
            await app.shutdown()

    return asyncio.run(read())


def _run_until_closed(url: str, execution_id: str, start: bool = False) -> legato.Status:
    """Run an engine until the execution closes (started here first if ``start``)."""

    async def run() -> legato.Status:
        app = _app(url)
        async with app:
            handle = app.get_handle(execution_id)
            if start:
                handle = await app.start("lookup_job", 21, id=execution_id)
            try:
                await handle.result(timeout=30)
            except legato.ExecutionFailedError:
                pass
            return (await handle.status()).status

    return asyncio.run(run())


def _record_gate(url: str, execution_id: str) -> None:
    async def record() -> None:
        app = _app(url)
        try:
            await app.start("gate", id=execution_id)
        finally:
            await app.shutdown()

    asyncio.run(record())


def test_redrive_from_the_command_line_after_a_fix(any_db_url: str) -> None:
    BROKEN["yes"] = True
    assert _run_until_closed(any_db_url, "job-1", start=True) == legato.Status.FAILED
    BROKEN["yes"] = False
    result = _legato(any_db_url, "executions", "redrive", "job-1")
    assert result.exit_code == 0, result.output
    assert "redriven job-1" in result.stdout
    assert _run_until_closed(any_db_url, "job-1") == legato.Status.COMPLETED
    again = _legato(any_db_url, "executions", "redrive", "job-1")
    assert again.exit_code == 1
    assert "only CANCELLED, FAILED, TIMED_OUT executions can be redriven" in again.stderr


def test_terminate_and_cancel_from_the_command_line(any_db_url: str) -> None:
    _record_gate(any_db_url, "gate-1")
    _record_gate(any_db_url, "gate-2")
    terminated = _legato(any_db_url, "executions", "terminate", "gate-1", "--reason", "stuck")
    assert terminated.exit_code == 0, terminated.output
    assert _status(any_db_url, "gate-1") == legato.Status.TERMINATED  # no engine needed
    cancelled = _legato(any_db_url, "executions", "cancel", "gate-2")
    assert cancelled.exit_code == 0, cancelled.output
    assert _run_until_closed(any_db_url, "gate-2") == legato.Status.CANCELLED
    closed = _legato(any_db_url, "executions", "cancel", "gate-1")
    assert closed.exit_code == 1
    assert "is TERMINATED" in closed.stderr and closed.stderr.count("\n") == 1
    unknown = _legato(any_db_url, "executions", "terminate", "nope")
    assert unknown.exit_code == 1 and "no execution with id 'nope'" in unknown.stderr


def test_resume_names_what_is_wrong_when_nothing_is_suspended(any_db_url: str) -> None:
    _record_gate(any_db_url, "gate-3")
    result = _legato(any_db_url, "executions", "resume", "gate-3")
    assert result.exit_code == 1
    assert "is not SUSPENDED: nothing to resume" in result.stderr
