"""``app.start(..., labels=...)``: written in the start's own transaction on every start path
(the engine's first decision, a client's pending start, the caller's connection), returned in
the status, filterable; the same id with other labels is another execution."""

from __future__ import annotations

import psycopg
import pytest

import legato


def build(url: str) -> legato.App:
    app = legato.App(url)

    @app.workflow(name="hello")
    async def hello(ctx: legato.Context, name: str) -> str:
        return f"hello {name}"

    return app


async def test_labels_on_the_engines_start_and_a_clients_pending_start(any_db_url: str) -> None:
    client = build(any_db_url)  # no engine: records the execution PENDING
    pending = await client.start("hello", "b", id="b", labels={"team": "x", "env": "test"})
    assert (await pending.status()).labels == {"env": "test", "team": "x"}
    await client.shutdown()
    app = build(any_db_url)
    async with app:
        first = await app.start("hello", "a", id="a", labels={"team": "x"})
        assert await first.result(timeout=20) == "hello a"
        assert await app.get_handle("b").result(timeout=20) == "hello b"
        status = await first.status()
        assert status.labels == {"team": "x"}
        assert [s.id for s in await app.list_executions(labels={"team": "x"})] == ["a", "b"]
        assert [s.id for s in await app.list_executions(labels={"env": "test"})] == ["b"]
        plain = await app.start("hello", "c", id="c")
        assert (await plain.status()).labels == {}
        again = await app.start("hello", "a", id="a", labels={"team": "x"})
        assert again.created is False
        with pytest.raises(legato.ExecutionAlreadyExists, match="other labels"):
            await app.start("hello", "a", id="a", labels={"team": "y"})
        with pytest.raises(legato.ConfigurationError, match="invalid labels"):
            await app.start("hello", "d", labels={"team": "x" * 300})


async def test_labels_in_the_callers_transaction(pg_url: str) -> None:
    app = build(pg_url)
    async with await psycopg.AsyncConnection.connect(pg_url) as conn, app:
        async with conn.transaction():
            handle = await app.start("hello", "t", id="t", labels={"via": "conn"}, connection=conn)
        assert await handle.result(timeout=20) == "hello t"
        assert [s.id for s in await app.list_executions(labels={"via": "conn"})] == ["t"]
