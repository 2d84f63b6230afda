"""State machine definitions stored on SQLite and PostgreSQL (``legato.ports.definitions``):
versions, content hashes, idempotent pushes and the version that never changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from legato.client import open_store
from legato.core.definitions import canonical_json, content_hash
from legato.errors import DefinitionVersionExists
from legato.ports.definitions import DefinitionVersion
from legato.ports.store import Store

A = canonical_json({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
B = canonical_json({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}})
C = canonical_json({"StartAt": "C", "States": {"C": {"Type": "Succeed"}}})


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


async def test_versions_count_up_and_the_same_content_is_the_same_version(store: Store) -> None:
    first = await store.put_definition("order", None, A, content_hash(A), 10)
    assert first.created and first.stored.version == "1"
    assert first.stored.content_hash == content_hash(A) and first.stored.definition == A
    again = await store.put_definition("order", None, A, content_hash(A), 20)
    assert not again.created and again.stored == first.stored
    second = await store.put_definition("order", None, B, content_hash(B), 30)
    assert second.created and second.stored.version == "2"
    assert (await store.put_definition("other", None, B, content_hash(B), 40)).stored.version == "1"
    latest = await store.get_definition("order")
    assert latest is not None and latest.version == "2" and latest.definition == B
    v1 = await store.get_definition("order", "1")
    assert v1 == first.stored
    assert await store.get_definition("order", "3") is None
    assert await store.get_definition("nothing") is None


async def test_a_given_version_never_changes(store: Store) -> None:
    await store.put_definition("order", "7", A, content_hash(A), 10)
    same = await store.put_definition("order", "7", A, content_hash(A), 20)
    assert not same.created and same.stored.created_at == 10
    with pytest.raises(DefinitionVersionExists) as caught:
        await store.put_definition("order", "7", B, content_hash(B), 30)
    assert caught.value.version == "7" and caught.value.stored_hash == content_hash(A)
    assert "new version" in str(caught.value)
    stored = await store.get_definition("order", "7")
    assert stored is not None and stored.definition == A
    # the next number follows the highest integer version; other versions are never numbered
    await store.put_definition("order", "beta", C, content_hash(C), 40)
    nxt = await store.put_definition("order", None, B, content_hash(B), 50)
    assert nxt.stored.version == "8"


async def test_an_explicit_new_version_of_stored_content_is_stored(store: Store) -> None:
    await store.put_definition("order", None, A, content_hash(A), 10)
    put = await store.put_definition("order", "2", A, content_hash(A), 20)
    assert put.created and put.stored.version == "2"
    found = await store.definition_by_hash("order", content_hash(A))
    assert found is not None and found.version == "2"  # the latest with that content
    assert await store.definition_by_hash("order", content_hash(B)) is None


async def test_listing_names_and_versions(store: Store) -> None:
    await store.put_definition("b", None, A, content_hash(A), 10)
    await store.put_definition("a", None, A, content_hash(A), 20)
    await store.put_definition("b", None, B, content_hash(B), 30)
    listed = await store.list_definitions()
    assert [(s.name, [v.version for v in s.versions]) for s in listed] == [
        ("a", ["1"]),
        ("b", ["1", "2"]),
    ]
    assert await store.definition_versions("b") == [
        DefinitionVersion("1", content_hash(A), 10),
        DefinitionVersion("2", content_hash(B), 30),
    ]
    assert await store.definition_versions("none") == []


async def test_concurrent_pushes_of_new_content_each_get_a_version(store: Store) -> None:
    texts = [canonical_json({"StartAt": f"S{i}", "States": {f"S{i}": {"Type": "Pass",
             "End": True}}}) for i in range(6)]  # fmt: skip
    puts = await asyncio.gather(
        *(store.put_definition("many", None, t, content_hash(t), 100 + i) for i, t in
          enumerate(texts))
    )  # fmt: skip
    assert sorted(int(p.stored.version) for p in puts) == [1, 2, 3, 4, 5, 6]
    assert all(p.created for p in puts)
