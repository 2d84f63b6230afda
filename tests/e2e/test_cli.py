"""The ``legato`` command line, run as users run it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import legato
from legato.cli.main import app_cli
from legato.testing import replay

runner = CliRunner()


def _app(url: str) -> tuple[legato.App, object]:
    app = legato.App(url)

    @app.step
    async def add(a: int, b: int) -> int:
        return a + b

    @app.workflow(name="adder")
    async def adder(ctx: legato.Context, a: int) -> int:
        return await ctx.step(add, a, 1)  # type: ignore[no-any-return]

    return app, adder


def test_executions_list_show_and_history(any_db_url: str) -> None:
    app, adder = _app(any_db_url)

    async def run_one() -> None:
        async with app:
            handle = await app.start(adder, 41, id="cli-1")  # type: ignore[arg-type]
            assert await handle.result(timeout=10) == 42

    asyncio.run(run_one())

    listed = runner.invoke(app_cli, ["executions", "list", "--db", any_db_url, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["id"], r["workflow"], r["status"]) for r in rows] == [
        ("cli-1", "adder", "COMPLETED")
    ]

    table = runner.invoke(app_cli, ["executions", "list", "--db", any_db_url])
    assert table.exit_code == 0 and "cli-1" in table.output and "COMPLETED" in table.output

    shown = runner.invoke(app_cli, ["executions", "show", "cli-1", "--db", any_db_url, "--json"])
    assert shown.exit_code == 0
    detail = json.loads(shown.output)
    assert detail["input"] == [[41], {}] and detail["output"] == 42

    history = runner.invoke(
        app_cli, ["executions", "history", "cli-1", "--db", any_db_url, "--json"]
    )
    assert history.exit_code == 0
    exported = json.loads(history.output)
    assert [e["type"] for e in exported["events"]] == [
        "ExecutionStarted",
        "StepScheduled",
        "StepCompleted",
        "ExecutionCompleted",
    ]
    # the exported history replays cleanly against the same code
    assert replay(app, [exported]).failures == []

    text = runner.invoke(app_cli, ["executions", "history", "cli-1", "--db", any_db_url])
    assert text.exit_code == 0 and "StepCompleted" in text.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["executions", "show", "missing"], "no database at"),
        (["executions", "list", "--status", "bogus"], "unknown status 'bogus'"),
        (["dev", "no_such_module_here"], "no module named 'no_such_module_here' here"),
    ],
)
def test_errors_are_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app_cli, [*args, "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 200)
    result = runner.invoke(app_cli, ["executions", "list", "--db", f"sqlite:///{bad}"])
    assert result.exit_code == 1
    assert "is not a valid SQLite database" in result.output
    assert "Traceback" not in result.output
    assert bad.read_bytes() == b"this is not a database" * 200  # nothing written


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_dev_runs_the_example_to_completion(tmp_path: Path) -> None:
    out = []
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "legato.cli",
            "dev",
            "legato.examples.orders",
            "--db",
            f"sqlite:///{tmp_path / 'dev.db'}",
            "--example",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    ) as proc:
        deadline = time.monotonic() + 40
        try:
            assert proc.stdout is not None
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                out.append(line)
                if "COMPLETED:" in line:
                    break
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(20)
    text = "".join(out)
    assert "COMPLETED:" in text, text
    assert '"parcels":["parcel-order-1-book","parcel-order-1-lamp"]' in text
    assert proc.returncode == 0
