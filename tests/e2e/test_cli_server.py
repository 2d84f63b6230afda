"""``legato executions|start|run|definitions ... --server URL``: the same commands through a
Legato server's HTTP API instead of the database, with the same output either way; API keys
with ``--api-key`` / ``LEGATO_API_KEY``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import legato
from legato.cli.main import app_cli
from tests.api_process import Waiter, serve_api
from tests.processes import Processes

pytestmark = pytest.mark.timeout(180)
runner = CliRunner()

GREETER = """
StartAt: Greet
States:
  Greet:
    Type: Pass
    Parameters:
      greeting.$: States.Format('hello {}', $.name)
    End: true
"""
REFUSER = """
StartAt: Refuse
States:
  Refuse:
    Type: Fail
    Error: Refused
    Cause: not today
"""


async def _legato(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI, off the test's event loop (it runs one of its own)."""
    return await asyncio.to_thread(runner.invoke, app_cli, list(args), env=env)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


async def _serve(processes: Processes, wait_for: Waiter, url: str, *extra: str) -> str:
    _, address = await serve_api(processes, wait_for, ["dev", "client_app", "--db", url, *extra])
    return address


async def _closed(address: str, execution_id: str) -> legato.ExecutionStatus:
    async with legato.Client(address) as client:
        handle = client.get_handle(execution_id)
        try:
            await handle.result(timeout=30)
        except legato.ExecutionFailedError:
            pass
        return await handle.status()


async def test_the_same_commands_print_the_same_through_the_api(
    any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    server = await _serve(processes, wait_for, any_db_url)
    started = _ok(await _legato("start", "adder", "--input", "[41]", "--server", server))
    eid = started.strip()  # no --app: the server checks the input
    assert (await _closed(server, eid)).status == legato.Status.COMPLETED
    for command in (
        ["executions", "show", eid],
        ["executions", "show", eid, "--json"],
        ["executions", "list"],
        ["executions", "list", "--json", "--workflow", "adder"],
        ["executions", "history", eid, "--json"],
    ):
        via_db = _ok(await _legato(*command, "--db", any_db_url))
        via_api = _ok(await _legato(*command, "--server", server))
        assert via_api == via_db, command
    shown = json.loads(_ok(await _legato("executions", "show", eid, "--json", "--server", server)))
    assert shown["status"] == "COMPLETED" and shown["output"] == 42


async def test_operations_through_the_api(
    any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    server = await _serve(processes, wait_for, any_db_url)
    env = {"LEGATO_SERVER": server}  # the server from the environment
    ids = [
        _ok(await _legato("start", "waiter", "--input", f'["{tag}"]', env=env)).strip()
        for tag in ("a", "b", "c")
    ]
    said = _ok(await _legato("executions", "signal", ids[0], "go", "--payload", "7", env=env))
    assert f"sent signal 'go' to {ids[0]}" in said
    _ok(await _legato("executions", "cancel", ids[1], "--reason", "not needed", env=env))
    _ok(await _legato("executions", "terminate", ids[2], env=env))
    closed = [(await _closed(server, eid)).status for eid in ids]
    assert closed == [legato.Status.COMPLETED, legato.Status.CANCELLED, legato.Status.TERMINATED]
    redriven = await _legato("executions", "redrive", ids[1], env=env)
    assert f"redriven {ids[1]}" in _ok(redriven)
    gone = await _legato("executions", "signal", "no-such-id", "go", env=env)
    assert gone.exit_code == 1 and gone.stderr.startswith("error: ")
    both = await _legato("executions", "list", "--db", any_db_url, env=env)
    assert both.exit_code == 1 and "give --db or --server, not both" in both.stderr


async def test_run_pushes_the_file_and_never_runs_another_definition_of_its_name(
    tmp_path: Path, db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    server = await _serve(processes, wait_for, db_url)
    (tmp_path / "hello.asl.yaml").write_text(GREETER)
    (tmp_path / "refuse.asl.yaml").write_text(REFUSER)
    hello = str(tmp_path / "hello.asl.yaml")
    done = await _legato("run", hello, "--input", '{"name": "ann"}', "--wait", "--server", server)
    assert json.loads(_ok(done)) == {"greeting": "hello ann"}
    again = await _legato("run", hello, "--input", '{"name": "bo"}', "--wait", "--server", server)
    assert json.loads(_ok(again)) == {"greeting": "hello bo"}  # the same content: same version
    failed = await _legato("run", str(tmp_path / "refuse.asl.yaml"), "--wait", "--server", server)
    assert failed.exit_code == 1
    assert "error: Refused" in failed.stderr and "cause: not today" in failed.stderr
    clash = await _legato(
        "run", str(tmp_path / "refuse.asl.yaml"), "--name", "hello", "--server", server
    )
    assert clash.exit_code == 1 and "differs from the definition" in clash.stderr
    assert "--new-version" in clash.stderr
    code = await _legato("run", hello, "--name", "adder", "--server", server)
    assert code.exit_code == 1 and "code workflow named 'adder'" in code.stderr
    checked: list[Any] = []
    for where in (["--server", server], []):
        report = await _legato("definitions", "validate", hello, "--json", *where)
        checked.append(json.loads(_ok(report)))
    assert checked[0] == checked[1] == {"valid": True, "problems": [], "integrations": []}


async def test_api_keys_from_the_option_or_the_environment(
    db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    key = json.loads(_ok(await _legato("keys", "create", "--db", db_url, "--json")))["key"]
    server = await _serve(processes, wait_for, db_url, "--require-keys")
    refused = await _legato("executions", "list", "--server", server)
    assert refused.exit_code == 1 and "requires an API key" in refused.stderr
    assert "Traceback" not in refused.stderr
    _ok(await _legato("executions", "list", "--server", server, "--api-key", key))
    env = {"LEGATO_SERVER": server, "LEGATO_API_KEY": key}
    assert _ok(await _legato("start", "adder", "--input", "[1]", env=env)).strip()


async def test_definitions_push_list_show_through_the_api(
    any_db_url: str, processes: Processes, wait_for: Waiter, tmp_path: Path
) -> None:
    server = await _serve(processes, wait_for, any_db_url)
    (tmp_path / "hello.asl.yaml").write_text(GREETER)
    (tmp_path / "refuse.asl.yaml").write_text(REFUSER)
    pushed = _ok(await _legato("definitions", "push", str(tmp_path / "hello.asl.yaml"),
                               "--server", server))  # fmt: skip
    assert pushed.startswith("hello version 1 sha256:") and pushed.strip().endswith("stored")
    again = _ok(await _legato("definitions", "push", str(tmp_path / "hello.asl.yaml"),
                              "--db", any_db_url))  # fmt: skip
    assert again.replace("unchanged", "stored") == pushed  # the same version either way
    _ok(await _legato("definitions", "push", str(tmp_path / "refuse.asl.yaml"), "--name",
                      "hello", "--server", server))  # fmt: skip
    for command in (
        ["definitions", "list"],
        ["definitions", "list", "--json"],
        ["definitions", "show", "hello"],
        ["definitions", "show", "hello", "--version", "1", "--json"],
    ):
        via_db = _ok(await _legato(*command, "--db", any_db_url))
        via_api = _ok(await _legato(*command, "--server", server))
        assert via_api == via_db, command
    listed = json.loads(_ok(await _legato("definitions", "list", "--json", "--server", server)))
    hello = next(item for item in listed["items"] if item["name"] == "hello")
    assert hello["versions"] == ["1", "2"] and hello["latest_version"] == "2"
    missing = await _legato("definitions", "show", "nope", "--server", server)
    assert missing.exit_code == 1 and "nope" in missing.stderr
