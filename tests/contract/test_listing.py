"""Listing executions on both stores: newest first, filters (status, workflow, version,
labels, started and closed ranges), keyset cursor pages that neither skip nor repeat a row;
labels written with the start; the workflow types engines record; the schema check of
``/readyz``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from legato.adapters import rows
from legato.adapters.postgres import PostgresStore
from legato.client import open_store
from legato.core import decide
from legato.core.events import ExecutionCompleted, Status
from legato.core.transition import ExecutionUpdate, Transition
from legato.ports.executions import (
    BadCursor,
    ExecutionFilter,
    ExecutionRow,
    WorkflowType,
    cursor_after,
)
from legato.ports.store import Store


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


async def _start(
    store: Store,
    eid: str,
    at: int,
    workflow: str = "wf",
    version: str = "1",
    labels: str | None = None,
) -> None:
    new = decide.pending_start(eid, workflow, version, "[[], {}]", at, None, labels)
    assert (await store.start_execution(new)).created


async def _close(store: Store, eid: str, at: int) -> None:
    update = ExecutionUpdate(Status.COMPLETED, None, output="1", closed_at=at)
    await store.submit(Transition(eid, 1, at, (ExecutionCompleted(at, "1"),), update))


async def _all_pages(store: Store, limit: int, **kw: object) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        rows: list[ExecutionRow] = await store.list_executions(
            limit=limit,
            cursor=cursor,
            **kw,  # type: ignore[arg-type]
        )
        seen += [r.id for r in rows]
        if len(rows) < limit:
            return seen
        cursor = cursor_after(rows[-1])


async def test_newest_first_and_pages_neither_skip_nor_repeat(store: Store) -> None:
    # several executions share a created_at: the id breaks the tie
    for i in range(7):
        await _start(store, f"e{i}", 100 + i // 3)
    everything = [r.id for r in await store.list_executions(limit=100)]
    assert everything == ["e6", "e5", "e4", "e3", "e2", "e1", "e0"]
    for size in (1, 2, 3, 7):
        assert await _all_pages(store, size) == everything


async def test_filters_by_status_workflow_version_and_times(store: Store) -> None:
    await _start(store, "a", 100, "orders", "1")
    await _start(store, "b", 200, "orders", "2")
    await _start(store, "c", 300, "billing", "1")
    await _close(store, "b", 250)

    async def ids(
        status: Status | None = None, workflow: str | None = None, **f: object
    ) -> list[str]:
        rows = await store.list_executions(
            status,
            workflow,
            100,
            filters=ExecutionFilter(**f),  # type: ignore[arg-type]
        )
        return [r.id for r in rows]

    assert await ids(Status.COMPLETED) == ["b"]
    assert await ids(Status.PENDING) == ["c", "a"]
    assert await ids(workflow="orders") == ["b", "a"]
    assert await ids(workflow="orders", version="2") == ["b"]
    assert await ids(version="1") == ["c", "a"]
    assert await ids(started_after=200) == ["c", "b"]
    assert await ids(started_before=200) == ["a"]
    assert await ids(started_after=150, started_before=250) == ["b"]
    assert await ids(closed_after=240, closed_before=260) == ["b"]
    assert await ids(closed_after=260) == []


async def test_labels_are_written_with_the_start_and_every_one_must_match(store: Store) -> None:
    await _start(store, "a", 100, labels='{"customer":"acme","tier":"gold"}')
    await _start(store, "b", 200, labels='{"customer":"acme"}')
    await _start(store, "c", 300, labels='{"customer":"globex","tier":"gold"}')
    await _start(store, "d", 400)
    row = await store.load_execution("a")
    assert row is not None and row.labels == '{"customer":"acme","tier":"gold"}'
    none = await store.load_execution("d")
    assert none is not None and none.labels is None

    async def ids(**labels: str) -> list[str]:
        rows = await store.list_executions(filters=ExecutionFilter(labels=labels))
        return [r.id for r in rows]

    assert await ids(customer="acme") == ["b", "a"]
    assert await ids(tier="gold") == ["c", "a"]
    assert await ids(customer="acme", tier="gold") == ["a"]
    assert await ids(tier="gold", customer="acme") == ["a"]
    assert await ids(customer="initech") == []
    # paging through a label's executions
    for i in range(5):
        await _start(store, f"p{i}", 500 + i // 2, labels='{"batch":"7"}')
    pages = await _all_pages(store, 2, filters=ExecutionFilter(labels={"batch": "7"}))
    assert pages == ["p4", "p3", "p2", "p1", "p0"]
    filtered = await store.list_executions(
        Status.PENDING, "wf", 10, filters=ExecutionFilter(labels={"batch": "7"}, version="1")
    )
    assert [r.id for r in filtered] == ["p4", "p3", "p2", "p1", "p0"]


async def test_a_cursor_it_did_not_make_is_refused(store: Store) -> None:
    with pytest.raises(BadCursor):
        await store.list_executions(cursor="not-a-cursor")
    with pytest.raises(BadCursor):
        await store.list_executions(cursor="WzEsMl0")  # [1,2]: the id is not a string


async def test_workflow_types_are_upserted(store: Store) -> None:
    first = WorkflowType("order", "1", "code", '{"type":"object"}', "abc")
    await store.record_workflow_types([first], 10)
    await store.record_workflow_types(
        [
            WorkflowType("order", "1", "code", "{}", "def"),
            WorkflowType("sm", "1", "state_machine", "{}", "x"),
        ],
        20,
    )
    found = await store.workflow_types()
    assert [(t.name, t.version, t.kind, t.args_schema, t.code_hash, t.seen_at) for t in found] == [
        ("order", "1", "code", "{}", "def", 20),
        ("sm", "1", "state_machine", "{}", "x", 20),
    ]


async def test_a_migrated_store_misses_no_migration(store: Store) -> None:
    assert await store.missing_migrations() == []


async def test_labels_of_many_starts_committed_together(store: Store) -> None:
    # submitted together: PostgreSQL's group commit takes its pipelined path for the batch
    await asyncio.gather(
        *(_start(store, f"g{i:02}", 1000 + i, labels=f'{{"group":"{i % 2}"}}') for i in range(40))
    )
    paths = getattr(getattr(store, "writer", None), "paths", None)
    if isinstance(store, PostgresStore):
        assert paths is not None and paths["pipeline"] >= 1
    odd = await store.list_executions(limit=100, filters=ExecutionFilter(labels={"group": "1"}))
    assert [r.id for r in odd] == [f"g{i:02}" for i in range(39, 0, -2)]


@pytest.mark.parametrize("scan", [2, 5, 100])
async def test_labels_with_a_status_page_the_same_whichever_query_finds_them(
    store: Store, scan: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest ``scan`` rows of the status are looked at first; a page not full there is
    asked of the label-driven query. Every page size and scan length lists the same rows."""
    monkeypatch.setattr(rows, "STATUS_FIRST_SCAN", scan)
    for i in range(12):
        label = '{"region":"eu"}' if i % 3 else '{"region":"us"}'
        await _start(store, f"x{i:02d}", 1_000 + i, labels=label)
        if i % 2:
            await _close(store, f"x{i:02d}", 2_000 + i)
    eu_pending = [f"x{i:02d}" for i in reversed(range(12)) if i % 3 and not i % 2]
    assert eu_pending == ["x10", "x08", "x04", "x02"]
    eu_done = [f"x{i:02d}" for i in reversed(range(12)) if i % 3 and i % 2]
    for size in (1, 2, 3, 10):
        for status, expected in ((Status.PENDING, eu_pending), (Status.COMPLETED, eu_done)):
            eu = ExecutionFilter(labels={"region": "eu"})
            assert await _all_pages(store, size, status=status, filters=eu) == expected
