"""The ``legato`` command as a new user meets it, run as a real process: an app given as a
file (``legato dev ./shop.py``), the web UI's address and a progress line while ``--start``
waits, whole ids and event names however narrow the terminal or wherever the output goes,
local times with their zone (``--utc``), humanised durations, messages whose ``[brackets]``
are printed as they are, ``--version`` and ``-h``, a database found from ``--app`` or
``$LEGATO_DB`` (and said how when it is not), and one clear line for every mistake."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from legato.cli.main import app_cli
from legato.cli.output import make_console
from legato.cli.render import executions_table, history_table
from legato.client import ExecutionStatus
from legato.core.events import Status, StepRetryScheduled
from tests.api_process import Waiter
from tests.processes import Processes

SHOP = """
import legato

app = legato.App("sqlite:///shop.db")


@app.step(retry=legato.Retry(max_attempts=2, initial=0.05))
async def charge(order: str) -> str:
    raise ValueError("card [declined] for [bold]" + order + "[/bold]")


@app.workflow()
async def checkout(ctx: legato.Context, order: str) -> str:
    await ctx.sleep(0.3)
    return await ctx.step(charge, order)
"""
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LEGATO_DB", "LEGATO_SERVER")}
    return {**env, "COLUMNS": "40", **more}  # a narrow terminal's width: nothing may be cut


def legato_cmd(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "legato.cli", *args],
        cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


def _one_line_error(done: subprocess.CompletedProcess[str], *said: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for part in said:
        assert part in lines[0], (part, lines[0])


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """``legato dev ./shop.py --start checkout``: its folder, the failed execution's id and
    what ``dev`` printed."""
    folder = tmp_path_factory.mktemp("shop")
    (folder / "shop.py").write_text(SHOP)
    out: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "legato.cli", "dev", "./shop.py", "--start", "checkout",
         "--input", '["o-1"]', "--http", "127.0.0.1:0"],
        cwd=folder, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        deadline = time.monotonic() + 40
        try:
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                out.append(line)
                if "did not complete" in line:
                    break
        finally:
            proc.send_signal(signal.SIGINT)
            rest, _ = proc.communicate(timeout=30)
    text = "".join(out) + rest
    found = re.search(rf"started execution ({UUID.pattern}) of checkout", text)
    assert found, text
    return folder, found[1], text


def test_dev_loads_a_file_prints_the_ui_and_a_progress_line(shop: tuple[Path, str, str]) -> None:
    _, eid, text = shop
    assert re.search(r"^UI: http://127\.0\.0\.1:\d+/$", text, re.M), text
    assert f"waiting for {eid}: RUNNING" in text  # before the result line
    assert text.index("waiting for") < text.index("did not complete")
    assert "card [declined] for [bold]o-1[/bold]" in text  # the message as it is


async def test_server_prints_the_ui_address(
    tmp_path: Path, processes: Processes, wait_for: Waiter
) -> None:
    (tmp_path / "shop.py").write_text(SHOP)
    proc = processes.spawn("server", [sys.executable, "-m", "legato.cli", "server",
                                      str(tmp_path / "shop.py"), "--http", "127.0.0.1:0",
                                      "--db", f"sqlite:///{tmp_path / 'server.db'}"])  # fmt: skip

    async def said() -> bool:
        assert proc.poll() is None, processes.log_of(proc)
        logged = processes.log_of(proc)
        return bool(re.search(r"web UI at http://127\.0\.0\.1:\d+/", logged))

    await wait_for(said, limit=60)


def test_ids_times_durations_and_brackets_read_whole(shop: tuple[Path, str, str]) -> None:
    folder, eid, _ = shop
    listed = _ok(legato_cmd(folder, "executions", "list", "--app", "shop"))
    assert eid in listed  # whole, though COLUMNS=40: the output is not a terminal
    berlin = _ok(legato_cmd(folder, "executions", "list", "--app", "shop.py",
                            env=_env(TZ="Europe/Berlin")))  # fmt: skip
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} CES?T", berlin), berlin
    utc = _ok(legato_cmd(folder, "--utc", "executions", "list", "--app", "shop.py",
                         env=_env(TZ="Europe/Berlin")))  # fmt: skip
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} UTC", utc) and "CET" not in utc
    also = _ok(legato_cmd(folder, "executions", "list", "--utc", "--app", "shop.py",
                          env=_env(TZ="Europe/Berlin")))  # fmt: skip
    assert " UTC" in also and "CET" not in also
    shown = _ok(legato_cmd(folder, "executions", "show", eid[:8], "--app", "./shop.py"))
    assert "card [declined] for [bold]o-1[/bold]" in shown
    assert re.search(r"duration\s+│ \d+(ms|s)\b", shown) or re.search(r"duration\s+\d", shown)
    history = _ok(legato_cmd(folder, "executions", "history", eid, "--app", "shop"))
    for name in ("ExecutionStarted", "TimerStarted", "StepRetryScheduled", "ExecutionFailed"):
        assert name in history
    assert "[bold]o-1[/bold]" in history


def test_json_is_never_hard_wrapped(shop: tuple[Path, str, str], tmp_path: Path) -> None:
    folder, eid, _ = shop
    for args in (["executions", "list", "--json"], ["executions", "show", eid, "--json"]):
        out = tmp_path / "out.json"
        with out.open("w") as f:
            done = subprocess.run([sys.executable, "-m", "legato.cli", *args, "--app", "shop"],
                                  cwd=folder, env=_env(COLUMNS="20"), stdout=f, text=True,
                                  timeout=60)  # fmt: skip
        assert done.returncode == 0
        text = out.read_text()
        json.loads(text)
        message = "card [declined] for [bold]o-1[/bold]"
        if "show" in args:  # the long error stays on its line
            assert any(message in line for line in text.splitlines())


def test_the_database_is_found_or_said_how(shop: tuple[Path, str, str], tmp_path: Path) -> None:
    folder, eid, _ = shop
    _one_line_error(legato_cmd(tmp_path, "executions", "list"),
                    "no database at .legato/legato.db (the default)", "--db URL",
                    "LEGATO_DB", "--app MODULE")  # fmt: skip
    _one_line_error(legato_cmd(tmp_path, "migrate"), "--app MODULE")
    _one_line_error(legato_cmd(tmp_path, "events", "dead-letters", "--db", "sqlite:///gone.db"),
                    "no database at gone.db (--db)")  # fmt: skip
    assert not (tmp_path / "gone.db").exists()
    assert not (tmp_path / ".legato").exists()  # no database made unasked
    via_env = legato_cmd(tmp_path, "executions", "list", "--json",
                         env=_env(LEGATO_DB=f"sqlite:///{folder / 'shop.db'}"))  # fmt: skip
    assert [r["id"] for r in json.loads(_ok(via_env))] == [eid]
    _one_line_error(legato_cmd(tmp_path, "executions", "show", "x",
                               env=_env(LEGATO_DB="sqlite:///gone.db")),
                    "no database at gone.db ($LEGATO_DB)")  # fmt: skip
    (tmp_path / "other.py").write_text('import legato\napp = legato.App("sqlite:///o.db")\n')
    _one_line_error(legato_cmd(tmp_path, "executions", "list", "--app", "other.py"),
                    "no database at o.db (the app's)", "legato migrate --app other.py")  # fmt: skip
    migrated = _ok(legato_cmd(tmp_path, "migrate", "--app", "other.py"))
    assert migrated.startswith("o.db: applied migrations 1, ")
    assert _ok(legato_cmd(tmp_path, "migrate", "--app", "other")) == (
        "o.db: the schema is up to date\n"
    )
    assert "Executions" in _ok(legato_cmd(tmp_path, "executions", "list", "--app", "other"))


def test_an_unmigrated_database_is_one_line(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    _one_line_error(legato_cmd(tmp_path, "executions", "list", "--db", "sqlite:///empty.db"),
                    "database empty.db has no Legato schema", "legato migrate")  # fmt: skip
    _one_line_error(legato_cmd(tmp_path, "executions", "retrying", "--db", "sqlite:///empty.db"),
                    "has no Legato schema")  # fmt: skip
    older = tmp_path / "older.db"
    assert legato_cmd(tmp_path, "migrate", "--db", f"sqlite:///{older}").returncode == 0
    with sqlite3.connect(older) as conn:  # as if migrated by an older Legato
        conn.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) "
                     "FROM schema_migrations)")  # fmt: skip
    said = legato_cmd(tmp_path, "executions", "show", "x", "--db", f"sqlite:///{older}")
    _one_line_error(said, "older.db is at schema version", "this Legato needs", "legato migrate")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE schema_migrations")
    _one_line_error(legato_cmd(tmp_path, "executions", "list", "--db", pg_url),
                    "has no Legato schema")  # fmt: skip
    missing = pg_url.rsplit("/", 1)[0] + "/legato_no_such_database"
    _one_line_error(legato_cmd(tmp_path, "executions", "list", "--db", missing),
                    'database "legato_no_such_database" does not exist')  # fmt: skip


@pytest.mark.parametrize(
    ("app", "said"),
    [
        ("shop:nope", "module 'shop' has no attribute 'nope' (its legato.App objects: app)"),
        ("shop.py:checkout", "shop:checkout is a function, not a legato.App"),
        ("nowhere", "no module named 'nowhere' here"),
        ("nowhere.py", "no file 'nowhere.py'"),
        ("broken.py", "'broken' failed: SyntaxError: '(' was never closed (broken.py, line 1)"),
        ("raising", "importing 'raising' failed: RuntimeError: no config (raising.py, line 2)"),
    ],
)
def test_an_app_that_cannot_be_loaded_is_named(tmp_path: Path, app: str, said: str) -> None:
    (tmp_path / "shop.py").write_text(SHOP)
    (tmp_path / "broken.py").write_text("x = (\n")
    (tmp_path / "raising.py").write_text("import legato\nraise RuntimeError('no config')\n")
    _one_line_error(legato_cmd(tmp_path, "dev", app, "--no-http"), said)


def test_a_file_named_like_a_standard_module_is_that_file(tmp_path: Path) -> None:
    (tmp_path / "queue.py").write_text('import legato\napp = legato.App("sqlite:///q.db")\n')
    script = Path(sys.executable).with_name("legato")  # as installed: the folder is not on the path
    done = subprocess.run([str(script), "migrate", "--app", "./queue.py"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=60)  # fmt: skip
    assert _ok(done).startswith("q.db: applied migrations")  # not the standard library's queue


def test_version_and_short_help(tmp_path: Path) -> None:
    assert _ok(legato_cmd(tmp_path, "--version")) == f"legato {legato_version()}\n"
    assert "Usage: legato [OPTIONS] COMMAND" in _ok(legato_cmd(tmp_path, "-h"))
    assert "--limit" in _ok(legato_cmd(tmp_path, "executions", "list", "-h"))


def legato_version() -> str:
    from importlib.metadata import version

    return version("legato")


def _commands() -> list[list[str]]:
    import typer

    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app_cli), [])
    return found


def test_every_help_text_is_plain_and_wrapped() -> None:
    runner = CliRunner()
    commands = _commands()
    assert ["events", "dead-letters", "redrive"] in commands and len(commands) > 40
    for path in commands:
        result = runner.invoke(app_cli, [*path, "-h"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (path, result.output)
        text = result.output
        for artefact in ("``", "[/", "[bold", "\x1b", "╭", "│", "…"):
            assert artefact not in text, (path, artefact, text)
        assert not re.search(r"<[a-z][^>]*>", text), (path, text)  # <str>, <list[str]>...
        cut = [line for line in text.splitlines() if line.rstrip().endswith("...")
               and "[ARGS]" not in line]  # fmt: skip
        assert not cut, (path, cut)  # a summary in a list of commands is whole
        assert max(len(line) for line in text.splitlines()) <= 80, (path, text)


def _row(eid: str) -> ExecutionStatus:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return ExecutionStatus(
        id=eid, workflow="checkout", version="1", status=Status.FAILED, current_step="charge",
        reason=None, error_type="ValueError", error_message="x", created_at=now, updated_at=now,
        closed_at=now,
    )  # fmt: skip


@pytest.mark.parametrize("width", [50, 80])
def test_a_narrow_terminal_keeps_ids_and_event_names_whole(width: int) -> None:
    eid = "order-2026-03-29T00:30:00Z-7f3c1d2e9a4b"
    console = make_console()
    console.size = (width, 25)
    console._force_terminal = True  # as a terminal of that width
    assert console.is_terminal and console.width == width
    with console.capture() as captured:
        console.print(executions_table([_row(eid)]))
        events = [StepRetryScheduled(ts=0, ref=2, name="charge", attempt=1, error_type="E",
                                     message="m" * 200, delay_ms=10, seq=5)]  # fmt: skip
        console.print(history_table(eid, events))  # type: ignore[arg-type]
    lines = captured.get().splitlines()
    assert any(eid in line for line in lines), captured.get()
    assert any("StepRetryScheduled" in line for line in lines), captured.get()
    assert "…" not in captured.get()
