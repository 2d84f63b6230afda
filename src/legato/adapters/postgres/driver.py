"""Runs the dialect-neutral scripts of ``legato.adapters.sql_scripts`` on a PostgreSQL
connection, inside the caller's transaction. A migration file runs whole: its function bodies
hold semicolons."""

from __future__ import annotations

from typing import Any

import psycopg

from legato.adapters.sql_scripts import Many, Query, Result, SqlScript


async def run(
    conn: psycopg.AsyncConnection[tuple[Any, ...]], queries: dict[str, str], script: SqlScript
) -> Any:
    try:
        step = next(script)
        while True:
            if isinstance(step, Query):
                cur = await conn.execute(queries[step.name], step.params)
                rows = await cur.fetchall() if cur.description is not None else []
                result = Result(rows, cur.rowcount)
            elif isinstance(step, Many):
                async with conn.cursor() as many:
                    await many.executemany(queries[step.name], step.rows)
                    result = Result([], many.rowcount)
            else:
                await conn.execute(step.sql.encode())
                result = Result()
            step = script.send(result)
    except StopIteration as stop:
        return stop.value
