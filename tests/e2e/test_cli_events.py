"""``legato events send|show|dead-letters`` and ``legato subscriptions create|list|delete`` on
the database (``--db``: an engine run between the commands picks the starts up) and through a
server (``--server``: ``legato dev`` in a subprocess), printing the same either way."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import legato
from legato.cli.main import app_cli
from legato.core.subscriptions import event_execution_id
from tests.api_process import Waiter, serve_api
from tests.processes import Processes

runner = CliRunner()


def _app(url: str) -> legato.App:
    app = legato.App(url)

    @app.workflow(name="echo")
    async def echo(ctx: legato.Context, value: Any) -> Any:
        return value

    return app


async def _legato(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI, off the test's event loop (it runs one of its own)."""
    return await asyncio.to_thread(runner.invoke, app_cli, list(args), env=env)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


async def test_events_and_subscriptions_on_the_database(db_url: str) -> None:
    app = _app(db_url)
    async with app:  # the engine records what it serves: the CLI starts it by name
        pass
    made = await _legato("subscriptions", "create", "orders", "--type", "order.placed",
                         "--workflow", "echo", "--transform", "data.n", "--db", db_url)  # fmt: skip
    assert "subscription orders: order.placed → echo" in _ok(made)
    await _legato("subscriptions", "create", "broken", "--type", "order.placed", "--workflow",
                  "echo", "--filter", "$number('x')", "--db", db_url)  # fmt: skip
    listed = json.loads(_ok(await _legato("subscriptions", "list", "--json", "--db", db_url)))
    assert [s["name"] for s in listed] == ["broken", "orders"]
    table = _ok(await _legato("subscriptions", "list", "--db", db_url))
    assert "orders" in table and "data.n" in table
    send = ["events", "send", "order.placed", "--data", '{"n": 7}', "--id", "e-1",
            "--subject", "o/7", "--db", db_url]  # fmt: skip
    sent = _ok(await _legato(*send))
    eid = event_execution_id("orders", "legato-cli", "e-1")
    assert "event legato-cli e-1: started" in sent and f"started {eid}" in sent
    assert "subscription 'broken': filter failed" in sent
    again = json.loads(_ok(await _legato(*send, "--json")))
    assert again == {"status": "duplicate", "source": "legato-cli", "id": "e-1",
                     "execution_ids": [], "reason": None}  # fmt: skip
    async with app:
        assert await app.get_handle(eid).result() == 7
    shown = _ok(await _legato("events", "show", "legato-cli", "e-1", "--db", db_url))
    assert "order.placed" in shown and eid in shown and "COMPLETED" in shown and "o/7" in shown
    detail = json.loads(_ok(await _legato("events", "show", "legato-cli", "e-1", "--json",
                                          "--db", db_url)))  # fmt: skip
    assert detail["via"] == "cli" and detail["data"] == {"n": 7}
    assert detail["executions"][0]["status"] == "COMPLETED"
    letters = json.loads(_ok(await _legato("events", "dead-letters", "--json", "--db", db_url)))
    (letter,) = letters["items"]
    assert letter["subscription"] == "broken" and letter["event_id"] == "e-1"
    table = _ok(await _legato("events", "dead-letters", "--db", db_url))
    assert "Dead letters" in table and "broken" in table
    _ok(await _legato("subscriptions", "delete", "broken", "--db", db_url))
    gone = await _legato("subscriptions", "delete", "broken", "--db", db_url)
    assert gone.exit_code == 1 and "no subscription named 'broken'" in gone.stderr
    missing = await _legato("events", "show", "legato-cli", "nope", "--db", db_url)
    assert missing.exit_code == 1 and missing.stderr.startswith("error: no event")
    bad = await _legato("events", "send", "t", "--data", "{oops", "--db", db_url)
    assert bad.exit_code == 1 and "--data is not valid JSON" in bad.stderr
    unknown = await _legato("subscriptions", "create", "x", "--type", "t", "--workflow", "nope",
                            "--db", db_url)  # fmt: skip
    assert unknown.exit_code == 1 and "workflow 'nope'" in unknown.stderr


async def test_a_dead_letter_redriven_from_the_command_line(db_url: str) -> None:
    app = _app(db_url)
    async with app:
        await app.create_subscription("broken", "order.placed", "echo", filter="$number('x')")
        await app.publish_event("order.placed", {"n": 1}, source="shop", id="e-1")
    (letter,) = json.loads(_ok(await _legato("events", "dead-letters", "--json", "--db",
                                             db_url)))["items"]  # fmt: skip
    assert letter["id"] in _ok(await _legato("events", "dead-letters", "--db", db_url))
    again = await _legato("events", "dead-letters", "redrive", letter["id"], "--db", db_url)
    assert (
        again.exit_code == 1 and "fails again" in again.stderr and "filter failed" in (again.stderr)
    )
    _ok(await _legato("subscriptions", "delete", "broken", "--db", db_url))
    _ok(await _legato("subscriptions", "create", "broken", "--type", "order.placed",
                      "--workflow", "echo", "--transform", "data.n", "--db", db_url))  # fmt: skip
    eid = event_execution_id("broken", "shop", "e-1")
    done = _ok(await _legato("events", "dead-letters", "redrive", letter["id"], "--db", db_url))
    assert done.strip() == f"redriven {letter['id']}: started {eid}"
    twice = json.loads(_ok(await _legato("events", "dead-letters", "redrive", letter["id"],
                                         "--json", "--db", db_url)))  # fmt: skip
    assert twice["redriven_to"] == [eid] and twice["redriven_at"]
    async with app:
        assert await app.get_handle(eid).result(timeout=20) == 1
    table = _ok(await _legato("events", "dead-letters", "--db", db_url))
    assert "redriven" in table


@pytest.mark.timeout(180)
async def test_the_same_commands_through_a_server(
    any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    _, server = await serve_api(processes, wait_for, ["dev", "client_app", "--db", any_db_url])
    env = {"LEGATO_SERVER": server}
    _ok(await _legato("subscriptions", "create", "sums", "--type", "numbers", "--workflow",
                      "adder", "--transform", "data.a", env=env))  # fmt: skip
    sent = json.loads(_ok(await _legato("events", "send", "numbers", "--data", '{"a": 41}',
                                         "--source", "test", "--id", "n-1", "--json",
                                         env=env)))  # fmt: skip
    eid = event_execution_id("sums", "test", "n-1")
    assert sent["status"] == "started" and sent["execution_ids"] == [eid]
    async with legato.Client(server) as client:
        assert await client.get_handle(eid).result(timeout=30) == 42
    for command in (["events", "show", "test", "n-1", "--json"], ["subscriptions", "list"],
                    ["events", "show", "test", "n-1"], ["subscriptions", "list", "--json"],
                    ["events", "dead-letters", "--json"]):  # fmt: skip
        via_api = _ok(await _legato(*command, "--server", server))
        via_db = _ok(await _legato(*command, "--db", any_db_url))
        assert via_api == via_db, command
    dup = _ok(await _legato("events", "send", "numbers", "--data", '{"a": 1}', "--source", "test",
                            "--id", "n-1", env=env))  # fmt: skip
    assert "duplicate" in dup
    _ok(await _legato("subscriptions", "delete", "sums", env=env))
    gone = await _legato("subscriptions", "delete", "sums", env=env)
    assert gone.exit_code == 1 and "no subscription named 'sums'" in gone.stderr
    async with legato.Client(server) as client:  # the server's problems as App's errors
        with pytest.raises(legato.SubscriptionNotFound) as missing:
            await client.get_subscription("sums")
        assert missing.value.name == "sums"
        made = await client.create_subscription("sums", "numbers", "adder", transform="data.a")
        assert made["workflow"] == "adder" and made["transform"] == "data.a"
        with pytest.raises(legato.SubscriptionExists):
            await client.create_subscription("sums", "other", "adder")
        with pytest.raises(legato.InvalidSubscription) as bad:
            await client.create_subscription("x", "numbers", "adder", filter="data.(")
        assert bad.value.field == "filter"
        with pytest.raises(legato.EventNotFound) as unknown:
            await client.get_event("test", "nope")
        assert (unknown.value.source, unknown.value.event_id) == ("test", "nope")
        with pytest.raises(legato.InvalidEvent) as invalid:
            await client.send_events([{"id": "1", "source": "s", "type": "t"}, {"id": "2"}])
        assert invalid.value.path == "$.events[1].source"
        results = await client.send_events(
            [{"id": "n-2", "source": "test", "type": "numbers", "data": {"a": 1}},
             {"id": "n-3", "source": "test", "type": "numbers", "data": {"a": "x"}}]
        )  # fmt: skip
        assert [r["status"] for r in results] == ["started", "dead_letter"]
        assert await client.get_handle(results[0]["execution_ids"][0]).result(timeout=30) == 2
        letters = await client.dead_letters(limit=10)
        assert [d["event_id"] for d in letters["items"]] == ["n-3"]
        letter_id = letters["items"][0]["id"]
        with pytest.raises(legato.DeadLetterStillFails) as still:
            await client.redrive_dead_letter(letter_id)  # "x" is still not an int
        assert still.value.letter_id == letter_id and "does not fit" in still.value.reason
        with pytest.raises(legato.DeadLetterNotFound):
            await client.redrive_dead_letter("nope")
        redrive = await _legato("events", "dead-letters", "redrive", letter_id, env=env)
        assert redrive.exit_code == 1 and f"dead letter {letter_id!r} fails again" in (
            redrive.stderr
        )
        assert [s["name"] for s in await client.list_subscriptions()] == ["sums"]
        await client.delete_subscription("sums")
