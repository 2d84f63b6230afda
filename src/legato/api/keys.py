"""API keys: how they are made, and how the API checks them without a database read per request.

A key is ``lgk_<id>_<secret>``: the id names it in listings and logs, the secret (32 random
bytes) makes it unguessable. The database keeps only the SHA-256 of the whole text
(``legato.ports.api_keys``): with 256 bits of entropy no salt or slow hash is needed, and a
hash can be looked up.

When the server requires keys (``ApiSettings.keys_required``: any bind off loopback, or
``--require-keys``), ``RequireKeys`` asks every request but ``/healthz``, ``/readyz`` and the
web UI's page and assets (they hold no data: the page asks for a key) for
``Authorization: Bearer KEY`` and answers 401 ``unauthorized`` (with ``WWW-Authenticate:
Bearer``) when it is missing or not a key it accepts, without ever saying which keys exist.

``KeyCache`` holds the accepted keys' hashes in memory and reads them again at most every
``REFRESH_SECONDS``: a revoked key is refused within that, a new key is accepted at once (an
unknown key reads the table again, at most once every ``MISS_REFRESH_SECONDS``, so a stream of
wrong keys costs one read a second). Concurrent requests share one read. The keys used since
the last read get their ``last_used_at`` written with the next one. If the database cannot be
read when the cache is due, requests get 503, never a stale answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from legato.api.key_secrets import REFRESH_SECONDS, hash_key
from legato.api.problems import MEDIA_TYPE, Problem
from legato.api.ui import is_ui_path
from legato.client import App
from legato.errors import LegatoError

log = logging.getLogger("legato.api")

MISS_REFRESH_SECONDS = 1.0  # an unknown key reads the keys again at most this often
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class KeyCache:
    """The accepted keys (hash → id), read through ``load`` when due; ``touch`` records uses."""

    def __init__(
        self,
        load: Callable[[], Awaitable[dict[str, str]]],
        touch: Callable[[list[str], int], Awaitable[None]],
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        miss_refresh_seconds: float = MISS_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._touch = touch
        self.refresh_seconds = refresh_seconds
        self.miss_refresh_seconds = miss_refresh_seconds
        self._clock = clock
        self._keys: dict[str, str] = {}
        self._loaded_at: float | None = None
        self._loading: asyncio.Future[None] | None = None
        self._used: set[str] = set()

    async def key_id(self, text: str) -> str | None:
        """The id of the key with this text, or None if it is not one the server accepts.
        Raises ``LegatoError`` (the database) when the keys are due and cannot be read."""
        if self._due(self.refresh_seconds):
            await self._refresh()
        digest = hash_key(text)
        found = self._keys.get(digest)
        if found is None and self._due(self.miss_refresh_seconds):
            await self._refresh()
            found = self._keys.get(digest)
        if found is not None:
            self._used.add(found)
        return found

    async def count(self) -> int:
        await self._refresh()
        return len(self._keys)

    def _due(self, age: float) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at >= age

    async def _refresh(self) -> None:
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._read())
        loading = self._loading
        try:
            await asyncio.shield(loading)
        finally:
            if loading.done() and self._loading is loading:
                self._loading = None

    async def _read(self) -> None:
        used, self._used = sorted(self._used), set()
        if used:
            try:
                await self._touch(used, int(time.time() * 1000))
            except LegatoError as exc:  # bookkeeping only: never refuse a request for it
                log.debug("could not record the use of API keys %s: %s", used, exc)
        keys = await self._load()
        self._keys = keys
        self._loaded_at = self._clock()


class RequireKeys:
    """ASGI middleware: every request but the health checks and the UI page carries a key."""

    def __init__(self, app: ASGIApp, cache: KeyCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope.get("path") in OPEN_PATHS or is_ui_path(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        refused = await self._refusal(scope)
        if refused is None:
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            refused.body(scope.get("path", "")),
            status_code=refused.status,
            media_type=MEDIA_TYPE,
            headers=refused.headers,
        )
        await response(scope, receive, send)

    async def _refusal(self, scope: Scope) -> Problem | None:
        header = dict(scope.get("headers") or []).get(b"authorization")
        if header is None:
            return _unauthorized(
                "this server requires an API key: send the header 'Authorization: Bearer KEY' "
                "(an operator makes one with `legato keys create`)"
            )
        scheme, _, text = header.decode("latin-1").strip().partition(" ")
        text = text.strip()
        if scheme.lower() != "bearer" or not text:
            return _unauthorized(
                f"the Authorization header must be 'Bearer KEY', not a {scheme or 'blank'!r} "
                "credential"
            )
        try:
            found = await self.cache.key_id(text)
        except LegatoError as exc:
            return Problem(
                503,
                "database-unavailable",
                f"the API key cannot be checked: the database cannot be read ({exc})",
            )
        if found is None:
            return _unauthorized(
                "the API key is not valid: it is not one this server accepts (mistyped, "
                "revoked, or made for another database)"
            )
        return None


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


async def warn_if_keyless(cache: KeyCache, address: str) -> None:
    """At start-up: say that keys are required, and loudly if there is none to use yet."""
    try:
        count = await cache.count()
    except LegatoError as exc:
        log.warning("the API's keys could not be read at start-up: %s", exc)
        return
    if count == 0:
        log.warning(
            "the API on %s requires an API key for every request and the database has none: "
            "every request will be refused (401) until you run `legato keys create`",
            address,
        )
    else:
        log.info(
            "the API requires an API key on every request (%d active; a revoked key is "
            "refused within %gs)",
            count,
            REFRESH_SECONDS,
        )


def store_cache(app: App) -> KeyCache:
    """A cache over the app's store (the one the engine serving the API has open)."""

    async def load() -> dict[str, str]:
        store = await app._store_ready()
        return await store.active_api_keys()

    async def touch(ids: list[str], now: int) -> None:
        store = await app._store_ready()
        await store.touch_api_keys(ids, now)

    return KeyCache(load, touch)


def document(api: FastAPI) -> None:
    """Say in ``/openapi.json`` that requests carry a bearer key (the docs page then offers
    to send one), and that the health checks need none."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["apiKey"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "an API key from `legato keys create`",
        }
        schema["security"] = [{"apiKey": []}]
        for path in OPEN_PATHS:
            for operation in schema.get("paths", {}).get(path, {}).values():
                operation["security"] = []
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
