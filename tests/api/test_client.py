"""``legato.Client`` against a real ``legato dev`` serving the HTTP API, on SQLite and on
PostgreSQL: the same calls as an ``App`` used as a client (start, handles, signals,
operations, task tokens, listing, definitions), the same typed errors, and API keys."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from typer.testing import CliRunner

import legato
from legato.adapters.http.transport import Unauthorized
from legato.cli.main import app_cli
from legato.core.events import (
    EventType,
    ExecutionCompleted,
    ExecutionStarted,
    ExternalTaskStarted,
)
from legato.errors import InvalidDefinitionError
from tests.api_process import Waiter, serve_api
from tests.conftest import of_type
from tests.processes import Processes

pytestmark = pytest.mark.timeout(180)
runner = CliRunner()


@pytest.fixture
async def client(
    any_db_url: str, processes: Processes, wait_for: Waiter
) -> AsyncIterator[legato.Client]:
    _, address = await serve_api(processes, wait_for, ["dev", "client_app", "--db", any_db_url])
    async with legato.Client(address, reconnect_seconds=5) as client:
        yield client


async def _until(
    wait_for: Waiter, handle: legato.client.RemoteHandle, status: legato.Status
) -> legato.ExecutionStatus:
    async def reached() -> bool:
        return (await handle.status()).status == status

    await wait_for(reached)
    return await handle.status()


async def test_start_and_await_a_result_as_an_app_does(client: legato.Client) -> None:
    one = await client.start("adder", 41)  # one argument: the execution's input
    two = await client.start("adder", 1, b=5)  # positional and keyword arguments
    assert await one.result(timeout=30) == 42
    assert await two.result(timeout=30) == 6
    status = await one.status()
    assert status.status == legato.Status.COMPLETED and status.workflow == "adder"
    assert status.closed_at is not None and status.closed_at >= status.created_at
    history = await one.history()
    assert of_type(history, ExecutionStarted)
    assert of_type(history, ExecutionCompleted)
    machine = await client.start("greeter", {"name": "ada"})  # a state machine's input
    assert await machine.result(timeout=30) == {"greeting": "hello ada"}


async def test_a_start_is_idempotent_on_its_id_and_on_an_idempotency_key(
    client: legato.Client,
) -> None:
    first = await client.start("adder", 1, id="order-1")
    again = await client.start("adder", 1, id="order-1")
    assert again.id == first.id == "order-1"
    with pytest.raises(legato.ExecutionAlreadyExists):
        await client.start("adder", 2, id="order-1")
    keyed = await client.start("adder", 3, idempotency_key="key-1")
    assert (await client.start("adder", 3, idempotency_key="key-1")).id == keyed.id
    assert await keyed.result(timeout=30) == 4


async def test_signals_cancel_and_terminate_raise_the_app_s_errors(
    client: legato.Client, wait_for: Waiter
) -> None:
    signalled = await client.start("waiter", "a")
    await _until(wait_for, signalled, legato.Status.RUNNING)
    await signalled.signal("go", {"n": 1})
    assert await signalled.result(timeout=30) == {"tag": "a", "got": {"n": 1}}
    with pytest.raises(legato.ExecutionClosed):
        await signalled.signal("go", 2)

    cancelled = await client.start("waiter", "b")
    await _until(wait_for, cancelled, legato.Status.RUNNING)
    await cancelled.cancel("not needed")
    with pytest.raises(legato.ExecutionCancelled):
        await cancelled.result(timeout=30)

    terminated = await client.start("waiter", "c")
    await terminated.terminate("stop now")
    with pytest.raises(legato.ExecutionTerminated):
        await terminated.result(timeout=30)

    waiting = await client.start("waiter", "d")
    with pytest.raises(legato.WorkflowTimeoutError, match="did not finish within 0.5s"):
        await waiting.result(timeout=0.5)
    with pytest.raises(legato.ExecutionNotFound):
        await client.get_handle("no-such-execution").status()
    with pytest.raises(legato.ExecutionStateError):
        await client.resume(signalled.id)  # not SUSPENDED: nothing to resume


async def test_a_failed_execution_raises_its_error_and_can_be_redriven(
    client: legato.Client, wait_for: Waiter
) -> None:
    handle = await client.start("refuser", "no stock")
    with pytest.raises(legato.ExecutionFailedError) as failed:
        await handle.result(timeout=30)
    assert failed.value.status == "FAILED" and failed.value.error_type == "ValueError"
    assert "no stock" in (failed.value.message or "")
    await handle.redrive()  # the same code fails again, after a redrive

    async def redriven() -> bool:
        history = await handle.history()
        return any(e.type == EventType.EXECUTION_REDRIVEN for e in history)

    await wait_for(redriven)
    with pytest.raises(legato.ExecutionFailedError):
        await handle.result(timeout=30)


async def test_task_tokens_complete_external_tasks(client: legato.Client, wait_for: Waiter) -> None:
    async def token_of(handle: legato.client.RemoteHandle) -> str:
        found: list[str] = []

        async def started() -> bool:
            found[:] = [e.token for e in of_type(await handle.history(), ExternalTaskStarted)]
            return bool(found)

        await wait_for(started)
        return found[0]

    ok, no = await client.start("callback"), await client.start("callback")
    ok_token, no_token = await token_of(ok), await token_of(no)
    await client.send_task_heartbeat(ok_token)
    await client.send_task_success(ok_token, {"approved": True})
    await client.send_task_failure(no_token, "Rejected", "the reviewer said no")
    assert await ok.result(timeout=30) == {"ok": {"approved": True}}
    assert await no.result(timeout=30) == {"error": "Rejected", "cause": "the reviewer said no"}
    with pytest.raises(legato.TaskTokenClosed):
        await client.send_task_success(ok_token, 1)
    with pytest.raises(legato.InvalidTaskToken):
        await client.send_task_success("not-a-token", 1)


async def test_list_executions_filters_by_status_workflow_and_labels(
    client: legato.Client,
) -> None:
    acme = await client.start("adder", 1, labels={"customer": "acme"})
    other = await client.start("adder", 2, labels={"customer": "globex"})
    waiting = await client.start("waiter", "x")
    await asyncio.gather(acme.result(timeout=30), other.result(timeout=30))
    labelled = await client.list_executions(labels={"customer": "acme"})
    assert [e.id for e in labelled] == [acme.id]
    adders = await client.list_executions(workflow="adder", status="COMPLETED")
    assert {e.id for e in adders} == {acme.id, other.id}
    newest = await client.list_executions(limit=1)
    assert [e.id for e in newest] == [waiting.id]  # newest first
    paged = [e.status.id async for e in client.iter_executions(page=1)]  # one per page: the cursor
    assert paged == [waiting.id, other.id, acme.id]


async def test_definitions_are_pushed_once_per_content_and_read_back(
    client: legato.Client,
) -> None:
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    pushed = await client.push_definition("tiny", definition)
    assert pushed["created"] is True and pushed["name"] == "tiny"
    again = await client.push_definition("tiny", json.dumps(definition))
    assert again["created"] is False and again["version"] == pushed["version"]
    stored = await client.get_definition("tiny")
    assert stored["definition"] == definition and stored["version"] == pushed["version"]
    with pytest.raises(InvalidDefinitionError) as invalid:
        await client.push_definition("broken", {"StartAt": "Nowhere", "States": {}})
    assert invalid.value.problems and all(p.path.startswith("$") for p in invalid.value.problems)
    handle = await client.start("tiny", {"x": 1}, version=str(pushed["version"]))
    assert await handle.result(timeout=30) == {"x": 1}


async def test_a_server_that_requires_keys_refuses_a_client_without_one(
    db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    made = await asyncio.to_thread(
        runner.invoke, app_cli, ["keys", "create", "--db", db_url, "--json"]
    )
    key: dict[str, Any] = json.loads(made.stdout)
    _, address = await serve_api(
        processes, wait_for, ["dev", "client_app", "--db", db_url, "--require-keys"]
    )
    async with legato.Client(address, reconnect_seconds=0) as anonymous:
        with pytest.raises(Unauthorized, match="requires an API key"):
            await anonymous.start("adder", 1)
    async with legato.Client(address, api_key="lgk_0_wrong", reconnect_seconds=0) as wrong:
        with pytest.raises(Unauthorized, match="not valid"):
            await wrong.list_executions()
    async with legato.Client(address, api_key=key["key"]) as client:
        assert await (await client.start("adder", 1)).result(timeout=30) == 2


async def test_a_server_that_cannot_be_reached_is_a_database_unavailable_error() -> None:
    async with legato.Client("http://127.0.0.1:9", reconnect_seconds=0) as client:
        with pytest.raises(legato.DatabaseUnavailableError, match="cannot reach the Legato"):
            await client.get_handle("x").status()
    with pytest.raises(legato.ConfigurationError, match="http:// or https://"):
        legato.Client("127.0.0.1:8233")
