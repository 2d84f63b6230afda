"""``legato schedules create|list|show|update|pause|resume|trigger|delete|backfill``, run as
users run them (``python -m legato.cli`` subprocesses) on a real SQLite file: on the database
(``--db``, ``--app`` for a code workflow) and through a ``legato dev`` serving the API
(``--server``), which prints the same; a backfill with its progress bar; one-line errors.

The schedules fire monthly (``0 0 1 * *``): none comes due while a test runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api_process import E2E, Waiter, serve_api
from tests.processes import Processes

pytestmark = pytest.mark.timeout(180)
MONTHLY = "0 0 1 * *"


def _legato(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (str(E2E), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "200", "LEGATO_HTTP": "off"}
    return subprocess.run(
        [sys.executable, "-m", "legato.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def _failed(result: subprocess.CompletedProcess[str]) -> str:
    """The one red line a failed command prints (no traceback)."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_schedules_on_the_database(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'legato.db'}"]
    made = _legato(tmp_path, "schedules", "create", "nightly", "adder", "--cron", MONTHLY,
                   "--timezone", "Europe/Berlin", "--args", "[41]", "--overlap", "buffer_one",
                   "--catchup-window", "10m", "--app", "cli_app", *db)  # fmt: skip
    assert "created schedule nightly" in _ok(made)
    assert 'cron "0 0 1 * *" in Europe/Berlin' in made.stdout

    listed = _ok(_legato(tmp_path, "schedules", "list", *db))
    assert "nightly" in listed and "buffer_one" in listed and "active" in listed
    shown = json.loads(_ok(_legato(tmp_path, "schedules", "show", "nightly", "--json", *db)))
    assert (shown["workflow"], shown["args"], shown["catchup_window_seconds"]) == ("adder", [41],
                                                                                  600)  # fmt: skip
    assert len(shown["next_fire_times"]) == 5 and shown["runs"] == []
    three = json.loads(_ok(_legato(tmp_path, "schedules", "show", "nightly", "--next", "3",
                                   "--json", *db)))  # fmt: skip
    assert three["next_fire_times"] == shown["next_fire_times"][:3]
    table = _ok(_legato(tmp_path, "schedules", "show", "nightly", *db))
    assert "catch-up window" in table and "10m" in table and "no runs yet" in table
    assert "(2026-" in table or "(20" in table  # each fire time also in Berlin time

    paused = _ok(_legato(tmp_path, "schedules", "pause", "nightly", "--note", "db upgrade", *db))
    assert "paused schedule nightly" in paused
    assert "paused: db upgrade" in _ok(_legato(tmp_path, "schedules", "show", "nightly", *db))
    _ok(_legato(tmp_path, "schedules", "resume", "nightly", *db))
    assert "active" in _ok(_legato(tmp_path, "schedules", "show", "nightly", *db))

    changed = _legato(tmp_path, "schedules", "update", "nightly", "--cron", "0 3 * * *",
                      "--args", "[1]", "--app", "cli_app", "--json", *db)  # fmt: skip
    updated = json.loads(_ok(changed))
    assert (updated["cron"], updated["args"], updated["overlap"]) == ("0 3 * * *", [1],
                                                                       "buffer_one")  # fmt: skip
    assert all(t.endswith(("T02:00:00Z", "T01:00:00Z")) for t in updated["next_fire_times"])
    refused = _legato(tmp_path, "schedules", "update", "nightly", "--args", '["x"]', "--app",
                      "cli_app", *db)  # fmt: skip
    assert "does not fit workflow 'adder'" in _failed(refused)
    assert "nothing to change" in _failed(_legato(tmp_path, "schedules", "update", "nightly", *db))

    # no engine serves this database: the run is recorded PENDING for the one that will
    execution_id = _ok(_legato(tmp_path, "schedules", "trigger", "nightly", "--app", "cli_app",
                               *db)).strip()  # fmt: skip
    assert execution_id.startswith("nightly-")
    runs = json.loads(_ok(_legato(tmp_path, "schedules", "show", "nightly", "--json", *db)))
    assert [(r["kind"], r["execution_id"], r["status"]) for r in runs["runs"]] == [
        ("manual", execution_id, "PENDING")
    ]
    assert execution_id in _ok(_legato(tmp_path, "schedules", "show", "nightly", *db))
    execution = _ok(_legato(tmp_path, "executions", "show", execution_id, *db))
    fire_time = execution_id.removeprefix("nightly-")
    assert f"schedule nightly, fire time {fire_time} (triggered by hand)" in execution

    _ok(_legato(tmp_path, "schedules", "delete", "nightly", *db))
    gone = _failed(_legato(tmp_path, "schedules", "show", "nightly", *db))
    assert "no schedule named 'nightly'" in gone
    assert "nightly" not in _ok(_legato(tmp_path, "schedules", "list", *db))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--cron", "61 * * * *"], "cron"),
        (["--cron", MONTHLY, "--timezone", "Mars/Olympus"], "timezone"),
        ([], "exactly one of cron and interval"),
        (["--interval", "soon"], "--interval 'soon' is not a duration"),
        (["--cron", MONTHLY, "--overlap", "sometimes"], "overlap"),
        (["--cron", MONTHLY, "--start-at", "tomorrow"], "not an ISO 8601 time"),
        (["--cron", MONTHLY, "--args", '["x"]'], "does not fit workflow 'adder'"),
    ],
)
def test_an_invalid_schedule_is_one_line_naming_what_is_wrong(
    tmp_path: Path, args: list[str], said: str
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'legato.db'}"]
    made = _legato(tmp_path, "schedules", "create", "bad", "adder", "--args", "[1]", "--app",
                   "cli_app", *args, *db)  # fmt: skip
    assert said in _failed(made)


async def test_the_same_commands_through_the_api_and_a_backfill_with_progress(
    tmp_path: Path, processes: Processes, wait_for: Waiter
) -> None:
    url = f"sqlite:///{tmp_path / 'legato.db'}"
    _, server = await serve_api(processes, wait_for, ["dev", "cli_app", "--db", url])
    api, db = ["--server", server], ["--db", url]
    made = _legato(tmp_path, "schedules", "create", "monthly", "adder", "--cron", MONTHLY,
                   "--args", "[1]", "--json", *api)  # fmt: skip
    assert json.loads(_ok(made))["origin"] == "api"
    for command in (
        ["list", "--json"],
        ["show", "monthly", "--json"],
        ["show", "monthly"],
        ["show", "monthly", "--next", "0", "--runs", "0", "--json"],
        ["show", "monthly", "--next", "12", "--json"],
    ):
        via_api = _ok(_legato(tmp_path, "schedules", *command, *api))
        via_db = _ok(_legato(tmp_path, "schedules", *command, *db))
        if "--json" in command:
            assert json.loads(via_api) == json.loads(via_db), command
        else:
            assert via_api == via_db, command

    both = _legato(tmp_path, "schedules", "list", *api, *db)
    assert "give --db (and --app) or --server, not both" in _failed(both)
    assert "no schedule named 'nowhere'" in _failed(
        _legato(tmp_path, "schedules", "trigger", "nowhere", *api)
    )

    # a backfill of three past months through the server, with its progress bar; then the
    # same period on the database (the dev process runs the runs): all started already
    period = ["--from", "2025-01-01", "--to", "2025-03-15"]
    done = _legato(tmp_path, "schedules", "backfill", "monthly", *period, *api)
    assert "backfilled monthly: 3 fire times, 3 runs started, 0 started before" in _ok(done)
    assert "3 COMPLETED" in done.stdout
    assert "backfill monthly" in done.stderr and "3/3" in done.stderr  # the bar's last state
    again = _legato(tmp_path, "schedules", "backfill", "monthly", *period, "--json",
                    "--app", "cli_app", *db)  # fmt: skip
    report = json.loads(_ok(again))
    assert (report["state"], report["done"], report["total"]) == ("done", 3, 3)
    assert report["report"]["started"] == [] and len(report["report"]["existing"]) == 3
    runs = json.loads(_ok(_legato(tmp_path, "schedules", "show", "monthly", "--json", *api)))
    assert [r["fire_time"] for r in runs["runs"]] == [
        "2025-03-01T00:00:00Z",
        "2025-02-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    ]
    assert {r["status"] for r in runs["runs"]} == {"COMPLETED"}
    oldest = runs["runs"][-1]["execution_id"]
    first = json.loads(_ok(_legato(tmp_path, "executions", "show", oldest, "--json", *api)))
    assert first["started_by"] == {
        "kind": "schedule", "schedule": "monthly", "fire_time": "2025-01-01T00:00:00Z",
        "backfill": True,
    }  # fmt: skip
    backwards = _legato(tmp_path, "schedules", "backfill", "monthly", "--from", "2025-03-01",
                        "--to", "2025-01-01", *api)  # fmt: skip
    assert "must be after --from" in _failed(backwards)
