"""Schema migrations: numbered, recorded, the same for both dialects, and a database newer
than the code is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from legato.adapters.sql_files import load_migrations
from legato.cli.main import app_cli
from legato.client import open_store
from legato.errors import StoreError


async def test_migrate_applies_each_migration_once(any_db_url: str) -> None:
    store = open_store(any_db_url)
    try:
        first = await store.migrate()
        again = await store.migrate()
    finally:
        await store.close()
    known = [m.version for m in load_migrations("legato.adapters.sqlite")]
    # a PostgreSQL test database is cloned from a migrated template: nothing left to apply
    assert first in (known, [])
    assert again == []


def test_both_dialects_have_the_same_numbered_migrations() -> None:
    sqlite = [(m.version, m.name) for m in load_migrations("legato.adapters.sqlite")]
    postgres = [(m.version, m.name) for m in load_migrations("legato.adapters.postgres")]
    assert sqlite == postgres


def _sqlite_columns(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def _postgres_columns(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


async def test_both_dialects_end_with_the_same_tables_and_columns(
    tmp_path: Path, pg_url: str
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    await store.migrate()
    await store.close()
    assert _sqlite_columns(tmp_path / "m.db") == _postgres_columns(pg_url)


async def test_a_schema_newer_than_the_code_is_refused(any_db_url: str) -> None:
    store = open_store(any_db_url)
    await store.migrate()
    await store.close()
    if any_db_url.startswith("sqlite"):
        with sqlite3.connect(any_db_url.removeprefix("sqlite:///")) as conn:
            conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x', 0)")
    else:
        with psycopg.connect(any_db_url) as conn:
            conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x', 0)")
    store = open_store(any_db_url)
    with pytest.raises(StoreError, match="schema version 999, newer than this Legato knows"):
        await store.open()
    await store.close()


def _execute(url: str, sql: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(sql)
    else:
        with psycopg.connect(url) as conn:
            conn.execute(sql)


async def test_an_applied_migration_that_was_edited_stops_start_up(any_db_url: str) -> None:
    """The database recorded each migration's checksum when it applied it; a file edited
    since (here: the recorded checksum no longer matches) means the schema is not what the
    migrations say, and start-up refuses with what to do about it."""
    store = open_store(any_db_url)
    await store.migrate()
    await store.close()
    _execute(any_db_url, "UPDATE schema_migrations SET checksum = 'feedface0000' WHERE version = 2")
    migration = load_migrations("legato.adapters.sqlite")[1]
    store = open_store(any_db_url)
    with pytest.raises(StoreError) as info:
        await store.open()
    await store.close()
    message = str(info.value)
    assert f"migration 0002_{migration.name} was applied with checksum feedface0000" in message
    assert "an applied migration must never be edited" in message
    assert "put the change in a new migration" in message


def test_legato_migrate_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = CliRunner().invoke(app_cli, ["migrate", "--db", url])
    assert first.exit_code == 0 and "applied migrations 1" in first.output
    again = CliRunner().invoke(app_cli, ["migrate", "--db", url])
    assert again.exit_code == 0 and "the schema is up to date" in again.output
