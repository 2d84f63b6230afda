"""API keys on SQLite and PostgreSQL (``legato.ports.api_keys``): stored by the hash of their
text, listed with their names, revoked for good, and their last use recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from legato.client import open_store
from legato.ports.api_keys import ApiKey
from legato.ports.store import Store


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


async def test_keys_are_found_by_their_hash_until_revoked(store: Store) -> None:
    assert await store.active_api_keys() == {}
    await store.create_api_key("k1", "ci", "hash-1", 100)
    await store.create_api_key("k2", "", "hash-2", 200)
    assert await store.active_api_keys() == {"hash-1": "k1", "hash-2": "k2"}
    assert await store.list_api_keys() == [
        ApiKey("k1", "ci", 100, None, None),
        ApiKey("k2", "", 200, None, None),
    ]
    assert await store.revoke_api_key("k1", 300) == ApiKey("k1", "ci", 100, None, 300)
    assert await store.revoke_api_key("k1", 400) == ApiKey("k1", "ci", 100, None, 300)  # kept
    assert await store.revoke_api_key("nope", 400) is None
    assert await store.active_api_keys() == {"hash-2": "k2"}
    assert [k.revoked_at for k in await store.list_api_keys()] == [300, None]


async def test_last_use_only_moves_forward(store: Store) -> None:
    await store.create_api_key("k1", "a", "hash-1", 100)
    await store.create_api_key("k2", "b", "hash-2", 100)
    await store.touch_api_keys(["k1"], 500)
    await store.touch_api_keys(["k1", "k2"], 400)
    used = {k.id: k.last_used_at for k in await store.list_api_keys()}
    assert used == {"k1": 500, "k2": 400}
    await store.touch_api_keys([], 600)  # nothing to record: no error
