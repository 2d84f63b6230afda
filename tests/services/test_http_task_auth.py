"""HTTP Tasks authenticate with a connection the app configures, named where a Step Functions
definition names an EventBridge connection (``Authentication.ConnectionArn``): API key, Basic
and OAuth client credentials (EventBridge user guide, "Connections for HTTP endpoint targets"),
with the connection's own headers, query parameters and body fields added ("Merging
EventBridge connection and HTTP Task definition data": the connection's win).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import legato
from legato.testing import StateMachineRun, run_state_machine
from tests.services.http_task_server import CLIENT_ID, CLIENT_SECRET, LocalServer, serve

HTTP = "arn:aws:states:::http:invoke"
ARN = "arn:aws:events:us-east-1:123456789012:connection/{}/5f4e1d2c-0000-4000-8000-000000000000"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    yield from serve()


def call(url: str, connection: str | None, **params: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"ApiEndpoint": url, "Method": "GET", **params}
    if connection is not None:
        arguments["Authentication"] = {"ConnectionArn": ARN.format(connection)}
    return {"Type": "Task", "Resource": HTTP, "Parameters": arguments}


def chain(*states: dict[str, Any]) -> dict[str, Any]:
    named = {f"S{i}": dict(s, Next=f"S{i + 1}") for i, s in enumerate(states)}
    named[f"S{len(states) - 1}"].pop("Next")
    named[f"S{len(states) - 1}"]["End"] = True
    return {"StartAt": "S0", "States": named}


async def run(app: legato.App, *states: dict[str, Any]) -> StateMachineRun:
    # a fresh name each run: one app may run several machines in one test
    return await run_state_machine(chain(*states), {}, app=app, name=f"m{uuid.uuid4().hex}")


async def test_an_api_key_connection_sends_its_header(server: LocalServer) -> None:
    app = legato.App(
        http_allow=["127.0.0.1"],
        http_connections={"orders": legato.ApiKeyAuth("x-api-key", "k-123")},
    )
    r = await run(app, call(server.url("/echo"), "orders"))
    assert r.status == "COMPLETED", r.cause
    assert server.seen[-1].headers["x-api-key"] == "k-123"


async def test_a_basic_connection_sends_basic_credentials(server: LocalServer) -> None:
    app = legato.App(
        http_allow=["127.0.0.1"],
        http_connections={"legacy": legato.BasicAuth("ada", "pw:with:colons")},
    )
    r = await run(app, call(server.url("/echo"), "legacy"))
    assert r.status == "COMPLETED", r.cause
    expected = base64.b64encode(b"ada:pw:with:colons").decode()
    assert server.seen[-1].headers["authorization"] == f"Basic {expected}"


def oauth_app(server: LocalServer, secret: str = CLIENT_SECRET) -> legato.App:
    oauth = legato.OAuthClientCredentials(
        server.url("/token"), CLIENT_ID, secret, scope="orders.read"
    )
    return legato.App(http_allow=["127.0.0.1"], http_connections={"crm": oauth})


async def test_oauth_fetches_a_token_once_and_sends_it_as_bearer(server: LocalServer) -> None:
    """Client credentials: the token endpoint gets grant_type=client_credentials and the
    client's id and secret; the token is cached across calls (two calls, one fetch)."""
    app = oauth_app(server)
    r = await run(app, call(server.url("/protected"), "crm"), call(server.url("/protected"), "crm"))
    assert r.status == "COMPLETED", r.cause
    assert r.output["ResponseBody"] == {"ok": True}
    assert server.paths() == ["/token", "/protected", "/protected"]
    token_request = server.seen[0]
    assert "scope=orders.read" in token_request.body
    assert server.seen[1].headers["authorization"] == "Bearer token-1"
    assert app.http_tasks.tokens.fetches == 1


async def test_oauth_asks_again_when_the_api_says_401(server: LocalServer) -> None:
    """A token the issuer no longer accepts: one new fetch, and the call is made again."""
    app = oauth_app(server)
    r = await run(app, call(server.url("/protected"), "crm"))
    assert r.status == "COMPLETED", r.cause
    server.tokens.valid = "revoked-by-issuer"  # the cached token-1 is now refused
    r = await run(app, call(server.url("/protected"), "crm"))
    assert r.status == "COMPLETED", r.cause
    assert server.paths() == ["/token", "/protected", "/protected", "/token", "/protected"]
    assert server.seen[-1].headers["authorization"] == "Bearer token-2"


async def test_oauth_with_a_wrong_secret_fails_the_task_naming_the_connection(
    server: LocalServer,
) -> None:
    r = await run(oauth_app(server, secret="wrong"), call(server.url("/protected"), "crm"))
    assert r.error == "States.TaskFailed"
    assert "connection 'crm'" in (r.cause or "")
    assert "401" in (r.cause or "")
    assert server.paths() == ["/token"]


async def test_connection_parameters_are_merged_and_win(server: LocalServer) -> None:
    connection = legato.HttpConnection(
        auth=legato.ApiKeyAuth("x-api-key", "k"),
        headers={"X-Tenant": "acme"},
        query={"region": "eu"},
        body={"source": "legato"},
    )
    app = legato.App(http_allow=["127.0.0.1"], http_connections={"api": connection})
    state = call(
        server.url("/echo"),
        "api",
        Method="POST",
        Headers={"x-tenant": "definition", "X-Other": "1"},
        QueryParameters={"region": "us", "page": 2},
        RequestBody={"source": "definition", "id": 1},
    )
    r = await run(app, state)
    assert r.status == "COMPLETED", r.cause
    seen = server.seen[-1]
    assert seen.headers["x-tenant"] == "acme"
    assert seen.headers["x-other"] == "1"
    assert seen.query == "region=eu&page=2"
    assert json.loads(seen.body) == {"source": "legato", "id": 1}


async def test_a_plain_connection_name_works_as_well_as_an_arn(server: LocalServer) -> None:
    app = legato.App(
        http_allow=["127.0.0.1"], http_connections={"orders": legato.ApiKeyAuth("x-key", "v")}
    )
    state = call(server.url("/echo"), None, Authentication={"ConnectionArn": "orders"})
    r = await run(app, state)
    assert r.status == "COMPLETED", r.cause
    assert server.seen[-1].headers["x-key"] == "v"


async def test_an_unknown_connection_is_states_runtime_saying_how_to_add_it(
    server: LocalServer,
) -> None:
    app = legato.App(
        http_allow=["127.0.0.1"], http_connections={"orders": legato.ApiKeyAuth("x-key", "v")}
    )
    r = await run(app, call(server.url("/echo"), "billing"))
    assert r.error == "States.Runtime"
    assert "no HTTP connection named 'billing'" in (r.cause or "")
    assert "configured: orders" in (r.cause or "")
    assert server.seen == []


async def test_credentials_do_not_follow_a_redirect_to_another_origin(server: LocalServer) -> None:
    """A redirect to another origin (here another port) drops the connection's credentials;
    the same origin keeps them."""
    other = serve()
    second = next(other)
    try:
        app = legato.App(
            http_allow=["127.0.0.1"],
            http_connections={"api": legato.ApiKeyAuth("x-api-key", "k")},
        )
        away = server.url(f"/redirect?to={second.url('/echo')}")
        home = server.url(f"/redirect?to={server.url('/echo')}")
        r = await run(app, call(away, "api"), call(home, "api"))
        assert r.status == "COMPLETED", r.cause
        assert "x-api-key" not in second.seen[-1].headers
        assert server.seen[-1].headers["x-api-key"] == "k"
    finally:
        other.close()


def test_connections_are_checked_when_the_app_is_made() -> None:
    with pytest.raises(legato.ConfigurationError, match=r"http_connections\['x'\]"):
        legato.App(http_connections={"x": "token"})  # type: ignore[dict-item]


def test_secrets_stay_out_of_reprs() -> None:
    shown = (
        repr(
            legato.HttpConnection(
                auth=legato.OAuthClientCredentials("https://t", "id", "hidden-secret"),
                body={"k": "hidden-body"},
            )
        )
        + repr(legato.BasicAuth("u", "hidden-pw"))
        + repr(legato.ApiKeyAuth("h", "hidden-key"))
    )
    assert "hidden" not in shown


async def test_concurrent_calls_share_one_token_fetch(server: LocalServer) -> None:
    """A Map of calls on one connection: however they interleave, one token request."""
    app = oauth_app(server)
    fan_out = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "StartAt": "Call",
            "States": {"Call": dict(call(server.url("/protected"), "crm"), End=True)},
        },
    }
    definition = {"StartAt": "Fan", "States": {"Fan": dict(fan_out, End=True)}}
    r = await run_state_machine(definition, {"items": list(range(6))}, app=app)
    assert r.status == "COMPLETED", r.cause
    assert [o["StatusCode"] for o in r.output] == [200] * 6
    assert server.paths().count("/token") == 1
    assert app.http_tasks.tokens.fetches == 1
