"""API keys: off loopback (or with --require-keys) every request but the health checks needs
``Authorization: Bearer KEY``; a missing, malformed, unknown or revoked key gets 401
``unauthorized`` with ``WWW-Authenticate: Bearer``, never a hint of which keys exist. Checked
on the ASGI app directly (SQLite and PostgreSQL), on a real ``legato server`` bound to
0.0.0.0 (traffic only to loopback), and the cache that keeps the database off the hot path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

import legato
from legato.api.key_secrets import hash_key, new_key
from legato.api.keys import KeyCache
from legato.api.server import create_api
from legato.api.settings import ApiSettings
from legato.cli.main import app_cli
from legato.ports.store import Store
from tests.api_process import Waiter, serve_api
from tests.processes import Processes

runner = CliRunner()


async def _legato(*args: str) -> Result:
    """The CLI, off the test's event loop (it runs one of its own)."""
    return await asyncio.to_thread(runner.invoke, app_cli, list(args))


@pytest.fixture
async def client_app(any_db_url: str) -> AsyncIterator[legato.App]:
    app = legato.App(any_db_url)
    yield app
    await app.shutdown()


async def _store(app: legato.App) -> Store:
    return await app._store_ready()


def _asgi(app: legato.App, **settings: object) -> httpx.AsyncClient:
    api = create_api(app, ApiSettings(**settings))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://test")


def _refused(response: httpx.Response, says: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/unauthorized") and body["status"] == 401
    assert says in body["detail"], body["detail"]


async def test_off_loopback_every_request_needs_a_key_the_database_holds(
    client_app: legato.App,
) -> None:
    store = await _store(client_app)
    key = new_key()
    await store.create_api_key(key.id, "test", key.secret_hash, 1)
    async with _asgi(client_app, host="0.0.0.0") as http:
        assert (await http.get("/healthz")).status_code == 200  # health checks are open
        _refused(await http.get("/openapi.json"), "requires an API key")
        _refused(await http.get("/v1/executions"), "requires an API key")
        basic = {"Authorization": "Basic dXNlcjpwYXNz"}
        _refused(await http.get("/openapi.json", headers=basic), "must be 'Bearer KEY'")
        wrong = {"Authorization": f"Bearer {new_key().text}"}
        _refused(await http.get("/openapi.json", headers=wrong), "not valid")
        good = {"Authorization": f"Bearer {key.text}"}
        schema = (await http.get("/openapi.json", headers=good)).json()
        assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
        assert schema["security"] == [{"apiKey": []}]
        assert schema["paths"]["/healthz"]["get"]["security"] == []
        # a key made while the server runs is accepted at once (an unknown key reads again,
        # at most once a second: wait for that rather than for a fixed time)
        later = new_key()
        await store.create_api_key(later.id, "later", later.secret_hash, 2)
        cache: KeyCache = http._transport.app.state.keys  # type: ignore[attr-defined]
        cache.miss_refresh_seconds = 0.0
        fresh = {"Authorization": f"Bearer {later.text}"}
        assert (await http.get("/openapi.json", headers=fresh)).status_code == 200
        # revoked: refused once the cache is read again (REFRESH_SECONDS; here at once)
        await store.revoke_api_key(key.id, 3)
        cache.refresh_seconds = 0.0
        _refused(await http.get("/openapi.json", headers=good), "not valid")
    used = {k.id: k.last_used_at for k in await store.list_api_keys()}
    assert used[key.id] is not None  # its use was recorded with a later read


async def test_on_loopback_keys_are_asked_for_only_with_require_keys(
    client_app: legato.App,
) -> None:
    async with _asgi(client_app, host="127.0.0.1") as http:
        assert (await http.get("/openapi.json")).status_code == 200
    async with _asgi(client_app, host="127.0.0.1", require_keys=True) as http:
        _refused(await http.get("/openapi.json"), "requires an API key")


async def test_the_cache_reads_the_keys_when_due_and_refuses_a_revoked_key_after_it() -> None:
    now = [0.0]
    keys = {hash_key("a"): "ka"}
    reads: list[float] = []
    touched: list[list[str]] = []

    async def load() -> dict[str, str]:
        reads.append(now[0])
        return dict(keys)

    async def touch(ids: list[str], at: int) -> None:
        touched.append(ids)

    cache = KeyCache(load, touch, refresh_seconds=5, miss_refresh_seconds=1, clock=lambda: now[0])
    assert await cache.key_id("a") == "ka"
    assert await cache.key_id("a") == "ka" and reads == [0.0]  # served from memory
    assert await cache.key_id("b") is None and reads == [0.0]  # a miss within 1 s: no read
    del keys[hash_key("a")]  # revoked
    now[0] = 4.9
    assert await cache.key_id("a") == "ka"  # not yet read again
    now[0] = 5.0
    assert await cache.key_id("a") is None and reads == [0.0, 5.0]
    assert touched == [["ka"]]  # the uses since the last read, written with the next one


@pytest.mark.timeout(120)
async def test_a_server_bound_off_loopback_refuses_requests_without_a_valid_key(
    tmp_path: Path, processes: Processes, wait_for: Waiter
) -> None:
    url = f"sqlite:///{tmp_path / 'legato.db'}"
    proc, address = await serve_api(
        processes, wait_for, ["server", "cli_app", "--db", url, "--http", "0.0.0.0:0"]
    )
    log = " ".join(processes.log_of(proc).split())
    assert "every request will be refused (401) until you run `legato keys create`" in log
    made = await _legato("keys", "create", "--name", "ci", "--db", url, "--json")
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["key"].startswith("lgk_") and key["name"] == "ci"
    async with httpx.AsyncClient(base_url=address) as http:
        assert (await http.get("/healthz")).status_code == 200
        _refused(await http.get("/openapi.json"), "requires an API key")
        wrong = {"Authorization": "Bearer lgk_00000000_nothing"}
        _refused(await http.get("/openapi.json", headers=wrong), "not valid")
        good = {"Authorization": f"Bearer {key['key']}"}

        async def accepted() -> bool:  # made after the server read its keys: within 1 s
            return (await http.get("/openapi.json", headers=good)).status_code == 200

        await wait_for(accepted)
        revoked = await _legato("keys", "revoke", key["id"], "--db", url)
        assert revoked.exit_code == 0 and "refuse it within 5s" in revoked.stdout

        async def refused() -> bool:  # within the cache's refresh interval (5 s)
            return (await http.get("/openapi.json", headers=good)).status_code == 401

        await wait_for(refused)
    listed = await _legato("keys", "list", "--db", url, "--json")
    [row] = json.loads(listed.stdout)
    assert row["id"] == key["id"] and row["revoked_at"] and row["last_used_at"]
    assert "key" not in row and key["key"] not in listed.stdout  # never shown again


def test_keys_create_prints_the_key_once_and_revoke_names_unknown_ids(any_db_url: str) -> None:
    url = any_db_url
    made = runner.invoke(app_cli, ["keys", "create", "--db", url])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("lgk_") and made.stdout.count("\n") == 1
    assert "will not be shown again" in made.stderr
    listed = runner.invoke(app_cli, ["keys", "list", "--db", url])
    assert made.stdout.strip() not in listed.stdout
    missing = runner.invoke(app_cli, ["keys", "revoke", "nope", "--db", url])
    assert missing.exit_code == 1 and "no API key with id 'nope'" in missing.stderr
    key_id = made.stdout.split("_")[1]
    revoked = runner.invoke(app_cli, ["keys", "revoke", key_id, "--db", url])
    assert revoked.exit_code == 0 and f"revoked API key {key_id}" in revoked.stdout
    again = runner.invoke(app_cli, ["keys", "revoke", key_id, "--db", url])
    assert again.exit_code == 0 and "was revoked already" in again.stdout
