"""``legato start`` and ``legato executions signal``: an execution recorded from the command line
is run by the engine that serves the database; bad input is one red line and writes nothing."""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import legato
from legato.cli.main import app_cli
from legato.client import open_store
from legato.core.events import Status
from legato.ports.executions import ExecutionRow

runner = CliRunner()


def cli_app() -> legato.App:
    """The app of ``--app cli_app`` (tests/e2e/cli_app.py; pytest puts this folder on the
    path), the same object the command loads."""
    app: legato.App = importlib.import_module("cli_app").app
    return app


def _legato(*args: str) -> Result:
    return runner.invoke(app_cli, list(args))


def _start(url: str, *args: str) -> Result:
    return _legato("start", *args, "--app", "cli_app", "--db", url)


def _executions(url: str) -> list[ExecutionRow]:
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []

    async def read() -> list[ExecutionRow]:
        store = open_store(url)
        await store.open_reader()
        try:
            return await store.list_executions(None, None, 100)
        finally:
            await store.close_reader()

    return asyncio.run(read())


def _run_to_the_end(url: str, execution_id: str) -> Any:
    """Serve the database with an engine in this process until the execution ends."""

    async def serve() -> Any:
        app = cli_app()
        app.configure(url=url)
        async with app:
            return await app.get_handle(execution_id).result(timeout=30)

    return asyncio.run(serve())


def _one_red_line(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output


def test_start_records_an_execution_that_the_engine_runs(any_db_url: str) -> None:
    started = _start(any_db_url, "adder", "--input", "[41]")
    assert started.exit_code == 0, started.output
    execution_id = started.stdout.strip()
    [row] = _executions(any_db_url)
    assert (row.id, row.workflow, row.status) == (execution_id, "adder", Status.PENDING)
    assert json.loads(row.input or "") == [[41], {}]
    assert _run_to_the_end(any_db_url, execution_id) == 42


def test_start_takes_keyword_arguments_as_a_json_object(any_db_url: str) -> None:
    started = _start(any_db_url, "adder", "--input", '{"a": 1}', "--id", "kw")
    assert started.exit_code == 0, started.output
    assert started.stdout.strip() == "kw"
    assert _run_to_the_end(any_db_url, "kw") == 2


def test_start_with_the_same_id_twice_is_the_same_execution(any_db_url: str) -> None:
    first = _start(any_db_url, "adder", "--input", "[1]", "--id", "order-7")
    again = _start(any_db_url, "adder", "--input", "[1]", "--id", "order-7")
    assert (first.exit_code, again.exit_code) == (0, 0), again.output
    assert first.stdout == again.stdout == "order-7\n"
    assert [r.id for r in _executions(any_db_url)] == ["order-7"]
    other = _start(any_db_url, "adder", "--input", "[2]", "--id", "order-7")
    _one_red_line(other, "execution 'order-7' already exists")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["adder", "--input", "[41"], "--input is not valid JSON"),
        (["adder", "--input", "41"], "--input must be a JSON list of arguments or a JSON object"),
        (["adder", "--input", '["x"]'], "input of workflow 'adder' rejected: argument 'a': "),
        (["adder", "--input", "[]"], "rejected: missing a required argument: 'a'"),
        (["adder", "--input", "[1, 2]"], "rejected: too many positional arguments"),
        (["adder", "--input", '{"b": 1}'], "rejected: missing a required argument: 'a'"),
        (["adder", "--input", '{"a": 1, "id": 2}'], "'id' cannot be passed by keyword"),
        (["nobody", "--input", "[1]"], "no workflow named 'nobody' is registered"),
    ],
)
def test_bad_or_rejected_input_is_one_red_line_and_writes_nothing(
    any_db_url: str, args: list[str], message: str
) -> None:
    _one_red_line(_start(any_db_url, *args), message)
    assert _executions(any_db_url) == []


def test_start_needs_the_app_that_registers_the_workflow(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = _legato("start", "adder", "--input", "[1]", "--db", url)
    _one_red_line(result, "legato start needs --app MODULE")
    assert not (tmp_path / "x.db").exists()


def test_signal_reaches_the_waiting_workflow(any_db_url: str) -> None:
    assert _start(any_db_url, "waiter", "--input", '["t"]', "--id", "w-1").exit_code == 0
    sent = _legato(
        "executions", "signal", "w-1", "go", "--payload", '{"ok": true}', "--db", any_db_url
    )
    assert sent.exit_code == 0, sent.output
    assert "sent signal 'go' to w-1" in sent.stdout
    assert _run_to_the_end(any_db_url, "w-1") == {"tag": "t", "got": {"ok": True}}
    closed = _legato("executions", "signal", "w-1", "go", "--db", any_db_url)
    _one_red_line(closed, "execution 'w-1' is COMPLETED: it takes no more messages")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "go"], "no execution with id 'nobody'"),
        (["w-2", "go", "--payload", "{"], "--payload is not valid JSON"),
    ],
)
def test_signal_errors_are_one_red_line(any_db_url: str, args: list[str], message: str) -> None:
    assert _start(any_db_url, "waiter", "--input", '["t"]', "--id", "w-2").exit_code == 0
    _one_red_line(_legato("executions", "signal", *args, "--db", any_db_url), message)
