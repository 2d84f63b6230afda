"""State machines stored in the database run on engines that never registered them: an
execution pins the version it started with, and an app's registered machines are recorded
(a changed definition under a stored version stops its engine's start-up)."""

from __future__ import annotations

from typing import Any

import pytest

import legato
from legato.errors import ConfigurationError, DefinitionNotFound
from tests.conftest import StatusWaiter

GREET = {
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Pass", "Parameters": {"hello.$": "$.name", "v": 1}, "End": True},
    },
}
GREET_2 = {
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Pass", "Parameters": {"hello.$": "$.name", "v": 2}, "End": True},
    },
}


async def test_an_app_with_no_registration_runs_a_stored_definition(any_db_url: str) -> None:
    app = legato.App(any_db_url)
    put = await app.push_definition("greet", GREET)
    assert put.created and put.stored.version == "1"
    async with app:
        handle = await app.start("greet", {"name": "ann"})
        assert await handle.result(timeout=30) == {"hello": "ann", "v": 1}
        status = await handle.status()
    assert (status.workflow, status.version) == ("greet", "1")


async def test_a_client_start_pins_its_version_and_an_engine_loads_it(any_db_url: str) -> None:
    client = legato.App(any_db_url)
    await client.push_definition("greet", GREET)
    first = await client.start("greet", {"name": "bo"})  # no engine anywhere yet: PENDING
    await client.push_definition("greet", GREET_2)
    second = await client.start("greet", {"name": "cy"})
    older = await client.start("greet", {"name": "di"}, version=1)
    await client.shutdown()
    engine = legato.App(any_db_url)  # registers nothing
    async with engine:
        handles = [engine.get_handle(h.id) for h in (first, second, older)]
        results = [await h.result(timeout=30) for h in handles]
        versions = [(await h.status()).version for h in handles]
    assert results == [{"hello": "bo", "v": 1}, {"hello": "cy", "v": 2}, {"hello": "di", "v": 1}]
    assert versions == ["1", "2", "1"]


async def test_tasks_of_a_stored_definition_run_the_workers_registered_steps(
    any_db_url: str,
) -> None:
    app = legato.App(any_db_url)

    @app.step(name="shout")
    def shout(event: dict[str, Any]) -> str:
        return str(event["name"]).upper()

    definition = {
        "StartAt": "Shout",
        "States": {"Shout": {"Type": "Task", "Resource": "shout", "End": True}},
    }
    await app.push_definition("loud", definition)
    async with app:
        assert await (await app.start("loud", {"name": "eve"})).result(timeout=30) == "EVE"


async def test_starting_an_unknown_name_or_version_says_so(any_db_url: str) -> None:
    app = legato.App(any_db_url)
    await app.push_definition("greet", GREET)
    with pytest.raises(DefinitionNotFound, match="'nothing'"):
        await app.start("nothing", {})
    with pytest.raises(DefinitionNotFound, match="version '9'"):
        await app.start("greet", {}, version=9)
    await app.shutdown()


async def test_registered_machines_are_recorded_and_a_changed_one_stops_the_start(
    any_db_url: str,
) -> None:
    app = legato.App(any_db_url)
    app.register_state_machine("greet", GREET)
    async with app:
        stored = await app.get_definition("greet")
        assert stored.version == "1"
        assert await (await app.start("greet", {"name": "fay"})).result(timeout=30) == {
            "hello": "fay",
            "v": 1,
        }
    changed = legato.App(any_db_url)
    changed.register_state_machine("greet", GREET_2)
    with pytest.raises(ConfigurationError, match="version=") as refused:
        await changed.start_engine()
    assert "'greet' version '1'" in str(refused.value)
    bumped = legato.App(any_db_url)
    bumped.register_state_machine("greet", GREET_2, version="2")
    async with bumped:
        assert [v.version for v in await bumped.definition_versions("greet")] == ["1", "2"]


async def test_an_execution_suspended_for_an_unknown_workflow_runs_once_it_is_stored(
    any_db_url: str, wait_status: StatusWaiter
) -> None:
    client = legato.App(any_db_url)

    @client.workflow(name="later")
    async def later(ctx: legato.Context, event: dict[str, Any]) -> dict[str, Any]:
        return event

    started = await client.start("later", {"name": "gus"})
    await client.shutdown()
    engine = legato.App(any_db_url)  # knows no "later"
    async with engine:
        handle = engine.get_handle(started.id)
        await wait_status(handle, legato.Status.SUSPENDED)
        put = await engine.push_definition("later", GREET)
        assert put.stored.version == "1"
        assert await handle.result(timeout=30) == {"hello": "gus", "v": 1}


async def test_a_client_start_records_the_apps_state_machines(any_db_url: str) -> None:
    client = legato.App(any_db_url)
    client.register_state_machine("greet", GREET, version="3")
    started = await client.start("greet", {"name": "hal"})
    await client.shutdown()
    engine = legato.App(any_db_url)  # registers nothing: finds greet v3 in the database
    async with engine:
        assert await engine.get_handle(started.id).result(timeout=30) == {"hello": "hal", "v": 1}
