"""Runs the dialect-neutral scripts of ``legato.adapters.sql_scripts`` on a SQLite connection,
inside the caller's transaction. SQLite binds a list as a JSON array (the queries read it with
``json_each``), and runs a migration file statement by statement."""

from __future__ import annotations

import sqlite3
from typing import Any

from legato.adapters.sql_scripts import Many, Query, Result, SqlScript
from legato.core import codec


def bind(params: Any) -> Any:
    if params is None:
        return ()
    if isinstance(params, dict):
        return {k: codec.dumps(v, k) if isinstance(v, list) else v for k, v in params.items()}
    return params


def run(conn: sqlite3.Connection, queries: dict[str, str], script: SqlScript) -> Any:
    try:
        step = next(script)
        while True:
            if isinstance(step, Query):
                cur = conn.execute(queries[step.name], bind(step.params))
                result = Result(cur.fetchall(), cur.rowcount)
            elif isinstance(step, Many):
                cur = conn.executemany(queries[step.name], [bind(r) for r in step.rows])
                result = Result([], cur.rowcount)
            else:
                for statement in step.sql.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                result = Result()
            step = script.send(result)
    except StopIteration as stop:
        return stop.value
