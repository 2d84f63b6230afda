"""``legato executions list|show|retrying``: how many executions a limit left out, an
execution found by the first characters of its id, and a step that waits for its next attempt
after a failed one, as ``show`` and the retrying listing print it."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import legato
from legato.cli.main import app_cli
from legato.core.events import Event, EventType

runner = CliRunner()
WaitEvent = Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]]
HOUR_MS = 3_600_000


def _legato(url: str, *args: str) -> Result:
    return runner.invoke(app_cli, [*args, "--db", url])


def _client(url: str) -> legato.App:
    """The app of ``--app cli_app`` (tests/e2e/cli_app.py, on the path under pytest)."""
    app: legato.App = importlib.import_module("cli_app").app
    app.configure(url=url)
    return app


def _record(url: str, ids: list[str], workflow: str = "adder") -> None:
    """Executions recorded PENDING by a client (no engine runs them)."""

    async def start() -> None:
        app = _client(url)
        try:
            for i, eid in enumerate(ids):
                await app.start(workflow, i if workflow == "adder" else str(i), id=eid)
        finally:
            await app.shutdown()

    asyncio.run(start())


def _one_red_line(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr


def test_list_says_how_many_more_there_are_beyond_the_limit(any_db_url: str) -> None:
    _record(any_db_url, [f"a-{i}" for i in range(5)])
    _record(any_db_url, ["w-1"], "waiter")

    table = _legato(any_db_url, "executions", "list", "--limit", "2")
    assert table.exit_code == 0, table.output
    assert "… and 4 more; use --limit" in table.stdout

    as_json = _legato(any_db_url, "executions", "list", "--limit", "2", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert len(json.loads(as_json.stdout)) == 2  # stdout stays one JSON value
    assert "… and 4 more; use --limit" in as_json.stderr

    adders = _legato(
        any_db_url, "executions", "list", "--workflow", "adder", "--limit", "3", "--json"
    )
    assert {r["workflow"] for r in json.loads(adders.stdout)} == {"adder"}
    assert "… and 2 more" in adders.stderr

    everything = _legato(any_db_url, "executions", "list", "--limit", "6")
    assert everything.exit_code == 0 and "more" not in everything.stdout
    waiting = _legato(any_db_url, "executions", "list", "--status", "pending", "--json")
    assert len(json.loads(waiting.stdout)) == 6 and waiting.stderr == ""
    failed = _legato(any_db_url, "executions", "list", "--status", "FAILED", "--json")
    assert json.loads(failed.stdout) == []


def test_list_help_names_the_dead_letter_list() -> None:
    shown = runner.invoke(app_cli, ["executions", "list", "--help"], env={"COLUMNS": "200"})
    assert "--status FAILED is the dead-letter list" in shown.stdout


def test_show_and_history_take_a_unique_id_prefix(any_db_url: str) -> None:
    _record(any_db_url, ["order-100", "order-101", "order-102", "job-1", "order"])

    unique = _legato(any_db_url, "executions", "show", "job", "--json")
    assert unique.exit_code == 0, unique.output
    assert json.loads(unique.stdout)["id"] == "job-1"
    history = _legato(any_db_url, "executions", "history", "order-10", "--json")
    _one_red_line(history, "id prefix 'order-10' is ambiguous")
    history = _legato(any_db_url, "executions", "history", "order-102", "--json")
    assert json.loads(history.stdout)["execution_id"] == "order-102"

    # a whole id wins over the longer ids it is a prefix of
    whole = _legato(any_db_url, "executions", "show", "order", "--json")
    assert json.loads(whole.stdout)["id"] == "order"

    ambiguous = _legato(any_db_url, "executions", "show", "order-1")
    _one_red_line(ambiguous, "id prefix 'order-1' is ambiguous: it matches ")
    for eid in ("order-100 (adder, PENDING)", "order-101", "order-102"):
        assert eid in ambiguous.stderr
    assert "job-1" not in ambiguous.stderr

    _one_red_line(
        _legato(any_db_url, "executions", "show", "nobody"),
        "no execution with id or id prefix 'nobody'",
    )


def test_an_ambiguous_prefix_names_a_few_of_its_matches(any_db_url: str) -> None:
    _record(any_db_url, [f"batch-{i:02}" for i in range(8)])
    ambiguous = _legato(any_db_url, "executions", "show", "batch-")
    _one_red_line(ambiguous, "batch-00 (adder, PENDING), batch-01")
    assert "batch-04" in ambiguous.stderr and "batch-05" not in ambiguous.stderr
    assert "batch-04 (adder, PENDING), ...; give more of the id" in ambiguous.stderr


def test_a_retrying_step_is_shown_and_listed(any_db_url: str, wait_event: WaitEvent) -> None:
    async def until_the_first_attempt_failed() -> None:
        app = _client(any_db_url)
        async with app:
            handle = await app.start("stubborn", 7, id="stubborn-1")
            await app.start("adder", 1, id="fine-1")
            await wait_event(handle, EventType.STEP_RETRY_SCHEDULED)
            later = await app.start("stubborn", 8, id="stubborn-2")
            await wait_event(later, EventType.STEP_RETRY_SCHEDULED)

    before = int(time.time() * 1000)
    asyncio.run(until_the_first_attempt_failed())

    shown = _legato(any_db_url, "executions", "show", "stubborn-1", "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert (detail["id"], detail["status"]) == ("stubborn-1", "RUNNING")
    [retrying] = detail["retrying"]
    assert {k: retrying[k] for k in ("step", "attempt", "error_type", "message")} == {
        "step": "flaky",
        "attempt": 1,
        "error_type": "ConnectionError",
        "message": "refused 7",
    }
    assert retrying["next_attempt"] == 2
    next_at = round(datetime.fromisoformat(retrying["next_attempt_at"]).timestamp() * 1000)
    assert before + HOUR_MS <= next_at <= int(time.time() * 1000) + HOUR_MS

    text = runner.invoke(
        app_cli, ["executions", "show", "stubborn-1", "--db", any_db_url], env={"COLUMNS": "250"}
    )
    assert text.exit_code == 0, text.output
    assert "attempt 1 failed with ConnectionError: refused 7; attempt 2 at " in text.stdout
    assert "(in " in text.stdout  # the JSON above pins the time itself

    listed = _legato(any_db_url, "executions", "retrying", "--json")
    assert listed.exit_code == 0, listed.output
    rows = [(r["execution_id"], r["workflow"], r["step"], r["attempt"]) for r in json.loads(
        listed.stdout
    )]  # fmt: skip
    assert rows == [("stubborn-1", "stubborn", "flaky", 1), ("stubborn-2", "stubborn", "flaky", 1)]
    first = _legato(any_db_url, "executions", "retrying", "--limit", "1", "--json")
    assert [r["execution_id"] for r in json.loads(first.stdout)] == ["stubborn-1"]  # soonest due
    assert "… and more; use --limit" in first.stderr
    table = runner.invoke(
        app_cli, ["executions", "retrying", "--db", any_db_url], env={"COLUMNS": "250"}
    )
    assert table.exit_code == 0, table.output
    assert "stubborn-1" in table.stdout and "ConnectionError: refused 7" in table.stdout
    assert "1 failed" in table.stdout and "#2 in " in table.stdout

    fine = _legato(any_db_url, "executions", "show", "fine-1", "--json")
    assert json.loads(fine.stdout)["retrying"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["executions", "list", "--limit", "0"], "--limit must be at least 1"),
        (["executions", "retrying", "--limit", "0"], "--limit must be at least 1"),
        (["executions", "list", "--status", "bogus"], "unknown status 'bogus'"),
    ],
)
def test_listing_errors_are_one_red_line(any_db_url: str, args: list[str], message: str) -> None:
    _record(any_db_url, ["x"])
    _one_red_line(_legato(any_db_url, *args), message)
