"""``/v1/definitions`` over HTTP against a real app on SQLite and on PostgreSQL: register
(JSON or YAML), list, get, versions, validate, graph; and a registered definition runs on an
engine that never registered it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import legato
from legato.api.server import create_api

MACHINE: dict[str, Any] = {
    "StartAt": "Hello",
    "States": {"Hello": {"Type": "Pass", "Parameters": {"hello.$": "$.name"}, "End": True}},
}
YAML_2 = """
StartAt: Fan
States:
  Fan:
    Type: Parallel
    Branches:
      - StartAt: A
        States:
          A: {Type: Pass, End: true}
    Catch:
      - ErrorEquals: [States.ALL]
        Next: Failed
    Next: Each
  Each:
    Type: Map
    ItemProcessor:
      StartAt: Item
      States:
        Item: {Type: Pass, End: true}
    End: true
  Failed: {Type: Fail}
"""
INVALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
JSON_TYPE = {"Content-Type": "application/json"}
YAML_TYPE = {"Content-Type": "application/yaml"}


@pytest.fixture
async def app(any_db_url: str) -> AsyncIterator[legato.App]:
    app = legato.App(any_db_url)
    yield app
    await app.shutdown()


@pytest.fixture
async def client(app: legato.App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_api(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://legato") as client:
        yield client


async def _register(
    client: httpx.AsyncClient, name: str, body: Any, version: str | None = None
) -> httpx.Response:
    params = {"name": name, **({"version": version} if version else {})}
    if isinstance(body, str):
        return await client.post("/v1/definitions", params=params, content=body, headers=YAML_TYPE)
    return await client.post(
        "/v1/definitions", params=params, content=json.dumps(body), headers=JSON_TYPE
    )


async def test_register_list_get_and_versions(client: httpx.AsyncClient) -> None:
    first = await _register(client, "hello", MACHINE)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["name"], body["version"], body["created"]) == ("hello", "1", True)
    assert len(body["content_hash"]) == 64 and body["created_at"].startswith("20")
    # the same content (as other JSON text) again: the same version, 200
    again = await client.post(
        "/v1/definitions", params={"name": "hello"}, headers=JSON_TYPE,
        content=json.dumps(MACHINE, indent=4),
    )  # fmt: skip
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["version"] == "1"
    second = await _register(client, "hello", YAML_2)
    assert second.status_code == 201 and second.json()["version"] == "2"

    listed = (await client.get("/v1/definitions")).json()
    assert [(i["name"], i["latest_version"], i["versions"]) for i in listed["items"]] == [
        ("hello", "2", ["1", "2"])
    ]
    latest = (await client.get("/v1/definitions/hello")).json()
    assert latest["version"] == "2" and latest["definition"]["StartAt"] == "Fan"
    v1 = await client.get("/v1/definitions/hello/versions/1")
    assert v1.status_code == 200 and v1.json()["definition"] == MACHINE
    versions = (await client.get("/v1/definitions/hello/versions")).json()
    assert versions["name"] == "hello" and [v["version"] for v in versions["items"]] == ["1", "2"]


async def test_a_stored_version_never_changes(client: httpx.AsyncClient) -> None:
    assert (await _register(client, "hello", MACHINE, version="5")).status_code == 201
    same = await _register(client, "hello", MACHINE, version="5")
    assert same.status_code == 200 and same.json()["created"] is False
    clash = await _register(client, "hello", YAML_2, version="5")
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    problem = clash.json()
    assert problem["type"].endswith("/definition-version-exists")
    assert "'hello' version '5'" in problem["detail"]


async def test_invalid_definitions_are_422_with_their_paths(client: httpx.AsyncClient) -> None:
    bad = await _register(client, "bad", INVALID)
    assert bad.status_code == 422
    problem = bad.json()
    assert problem["type"].endswith("/invalid-definition")
    assert {"path": "$.States.A.Next", "message": problem["errors"][0]["message"]} in problem[
        "errors"
    ]
    unparsable = await _register(client, "bad", "StartAt: [unclosed")
    assert unparsable.status_code == 422 and unparsable.json()["errors"][0]["path"] == "$"
    wrong_type = await client.post(
        "/v1/definitions", params={"name": "x"}, content="{}", headers={"Content-Type": "text/csv"}
    )
    assert wrong_type.status_code == 415
    for params, field in (
        ({"name": "no spaces"}, "$.name"),
        ({"name": "ok", "version": "/"}, "$.version"),
    ):
        named = await client.post("/v1/definitions", params=params, content="{}", headers=JSON_TYPE)
        assert named.status_code == 422 and named.json()["errors"][0]["path"] == field
    assert (await client.get("/v1/definitions")).json() == {"items": []}


async def test_unknown_names_and_versions_are_404(client: httpx.AsyncClient) -> None:
    await _register(client, "hello", MACHINE)
    for path in (
        "/v1/definitions/nothing",
        "/v1/definitions/hello/versions/7",
        "/v1/definitions/nothing/versions",
        "/v1/definitions/nothing/graph",
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["type"].endswith("/definition-not-found")


async def test_validate_without_registering(client: httpx.AsyncClient) -> None:
    ok = await client.post("/v1/definitions/validate", content=YAML_2, headers=YAML_TYPE)
    assert ok.status_code == 200
    assert ok.json() == {"valid": True, "states": 5, "problems": [], "integrations": []}
    bad = await client.post(
        "/v1/definitions/validate", content=json.dumps(INVALID), headers=JSON_TYPE
    )
    assert bad.status_code == 200 and bad.json()["valid"] is False
    assert [p["path"] for p in bad.json()["problems"]] == ["$.States.A.Next"]
    broken = await client.post("/v1/definitions/validate", content="{", headers=JSON_TYPE)
    assert broken.json()["valid"] is False and broken.json()["problems"][0]["path"] == "$"
    assert (await client.get("/v1/definitions")).json() == {"items": []}


async def test_validate_lists_the_integrations_a_definition_uses(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "t", "Item": {}},
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "b", "Key": "k"},
                "End": True,
            },
        },
    }
    answer = await client.post(
        "/v1/definitions/validate", content=json.dumps(definition), headers=JSON_TYPE
    )
    assert answer.status_code == 200 and answer.json()["valid"] is True
    used = {
        (i["kind"], i["service"], i["action"], tuple(i["states"]))
        for i in answer.json()["integrations"]
    }
    assert used == {("optimized", "dynamodb", "putItem", ("Put",)),
                    ("aws-sdk", "s3", "getObject", ("Get",))}  # fmt: skip


async def test_graph_with_nested_branches_and_iterators(client: httpx.AsyncClient) -> None:
    await _register(client, "fan", YAML_2)
    await _register(client, "fan", MACHINE)
    g = (await client.get("/v1/definitions/fan/graph", params={"version": "1"})).json()
    assert (g["name"], g["version"], g["start"]) == ("fan", "1", "Fan")
    states = {s["id"]: (s["type"], s["parent"], s["start"], s["end"]) for s in g["states"]}
    assert states == {
        "Fan": ("Parallel", None, True, False),
        "A": ("Pass", "Fan", True, True),
        "Each": ("Map", None, False, True),
        "Item": ("Pass", "Each", True, True),
        "Failed": ("Fail", None, False, True),
    }
    edges = {(e["source"], e["target"], e["kind"]) for e in g["edges"]}
    assert edges == {
        ("Fan", "A", "branch"),
        ("Fan", "Failed", "catch"),
        ("Fan", "Each", "next"),
        ("Each", "Item", "iterator"),
    }
    latest = (await client.get("/v1/definitions/fan/graph")).json()
    assert latest["version"] == "2" and latest["edges"] == []


async def test_a_registered_definition_runs_on_an_engine_that_never_registered_it(
    client: httpx.AsyncClient, any_db_url: str
) -> None:
    assert (await _register(client, "hello", MACHINE)).status_code == 201
    engine = legato.App(any_db_url)  # no registration at all
    async with engine:
        handle = await engine.start("hello", {"name": "ann"})
        assert await handle.result(timeout=30) == {"hello": "ann"}
        assert (await handle.status()).version == "1"


async def test_the_routes_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/v1/definitions", "/v1/definitions/validate", "/v1/definitions/{name}",
            "/v1/definitions/{name}/graph"} <= set(paths)  # fmt: skip
