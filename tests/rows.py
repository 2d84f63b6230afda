"""Rows the Store port has no read for (a task's lease and outcome), read straight from the
database, SQLite or PostgreSQL, for tests that check what a stop left behind."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

import psycopg


class TaskRow(NamedTuple):
    state: str
    attempt: int
    lease_owner: str | None
    outcome: str | None


def task_row(url: str, task_id: str) -> TaskRow | None:
    """The task's row, or None once it is gone (its outcome was committed)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            row = conn.execute(
                "SELECT state, attempt, lease_owner, outcome FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
        finally:
            conn.close()
    else:
        with psycopg.connect(url) as pg:
            row = pg.execute(
                "SELECT state, attempt, lease_owner, outcome FROM tasks WHERE id = %s", (task_id,)
            ).fetchone()
    return TaskRow(*row) if row is not None else None
