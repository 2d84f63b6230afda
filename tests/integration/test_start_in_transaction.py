"""``app.start(..., connection=conn)``: the execution is written in the caller's own
transaction, so an order row and the workflow that processes it commit or roll back together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

import legato


def build(url: str) -> tuple[legato.App, Callable[..., Any]]:
    app = legato.App(url)

    @app.step
    async def confirm(order_id: int) -> str:
        return f"confirmed {order_id}"

    @app.workflow(name="process_order")
    async def process_order(ctx: legato.Context, order_id: int) -> str:
        return await ctx.step(confirm, order_id)  # type: ignore[no-any-return]

    return app, process_order


async def _orders_table(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
    await conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")


async def test_committed_with_the_callers_row_and_then_run_by_the_engine(pg_url: str) -> None:
    app, process_order = build(pg_url)
    async with await psycopg.AsyncConnection.connect(pg_url) as conn:
        await _orders_table(conn)
        await conn.commit()
        async with app:  # an engine serving the database, hearing of commits
            async with conn.transaction():
                await conn.execute("INSERT INTO orders VALUES (7)")
                handle = await app.start(process_order, 7, id="order-7", connection=conn)
                # not visible to anyone else before the caller commits
                assert await app.list_executions() == []
            assert await handle.result(timeout=20) == "confirmed 7"


async def test_rolled_back_with_the_callers_row(pg_url: str) -> None:
    app, process_order = build(pg_url)
    async with await psycopg.AsyncConnection.connect(pg_url) as conn:
        await _orders_table(conn)
        await conn.commit()
        with pytest.raises(RuntimeError, match="payment declined"):
            async with conn.transaction():
                await conn.execute("INSERT INTO orders VALUES (8)")
                await app.start(process_order, 8, id="order-8", connection=conn)
                raise RuntimeError("payment declined")
        rows = await (await conn.execute("SELECT count(*) FROM orders")).fetchone()
        assert rows == (0,)
    assert await app.list_executions() == []
    await app.shutdown()


async def test_same_id_again_in_a_later_transaction_is_the_same_execution(pg_url: str) -> None:
    app, process_order = build(pg_url)
    async with await psycopg.AsyncConnection.connect(pg_url) as conn:
        first = await app.start(process_order, 9, id="order-9", connection=conn)
        await conn.commit()
        again = await app.start(process_order, 9, id="order-9", connection=conn)
        with pytest.raises(legato.ExecutionAlreadyExists):
            await app.start(process_order, 10, id="order-9", connection=conn)
        await conn.rollback()
    assert first.id == again.id == "order-9"
    assert [e.id for e in await app.list_executions()] == ["order-9"]
    await app.shutdown()


async def test_connection_needs_a_postgresql_app(tmp_path: object) -> None:
    app, process_order = build(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(legato.ConfigurationError, match="needs a PostgreSQL app"):
        await app.start(process_order, 1, connection=object())
