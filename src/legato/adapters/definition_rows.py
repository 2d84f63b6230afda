"""Storing a definition version, written once for both dialects as a script of named queries
(``sql_scripts``): find the content, pick the version, insert; an insert that lost a race for
its version is looked at again."""

from __future__ import annotations

from typing import Any

from legato.adapters.sql_scripts import Query, SqlScript
from legato.core.definitions import version_number
from legato.errors import DefinitionVersionExists
from legato.ports.definitions import DefinitionSummary, DefinitionVersion, Put, StoredDefinition

ATTEMPTS = 5  # inserts of a next version that others took meanwhile


def stored_from_row(row: tuple[Any, ...]) -> StoredDefinition:
    return StoredDefinition(row[0], row[1], row[2], row[3], int(row[4]))


def summaries(rows: list[tuple[Any, ...]]) -> list[DefinitionSummary]:
    """``list_definitions`` rows (name, version, hash, created_at; ordered) grouped by name."""
    out: list[DefinitionSummary] = []
    for name, version, content_hash, created_at in rows:
        if not out or out[-1].name != name:
            out.append(DefinitionSummary(name, []))
        out[-1].versions.append(DefinitionVersion(version, content_hash, int(created_at)))
    return out


def put_definition(
    name: str, version: str | None, definition: str, content_hash: str, now: int
) -> SqlScript:
    """Returns a ``Put``, or a ``DefinitionVersionExists`` to raise (a script's exception
    would roll back the whole batch it shares a transaction with)."""
    if version is None:
        same = (yield Query("definition_by_hash", {"name": name, "hash": content_hash})).rows
        if same:
            return Put(stored_from_row(same[0]), False)
    for _ in range(ATTEMPTS):
        chosen = version
        if chosen is None:
            top = (yield Query("max_definition_number", {"name": name})).rows
            chosen = str((top[0][0] if top and top[0][0] is not None else 0) + 1)
        params = {"name": name, "version": chosen, "number": version_number(chosen),
                  "hash": content_hash, "definition": definition, "now": now}  # fmt: skip
        if (yield Query("insert_definition", params)).rowcount == 1:
            return Put(StoredDefinition(name, chosen, content_hash, definition, now), True)
        found = (yield Query("select_definition", {"name": name, "version": chosen})).rows
        if not found:
            continue
        existing = stored_from_row(found[0])
        if existing.content_hash == content_hash:
            return Put(existing, False)
        if version is not None:
            return DefinitionVersionExists(name, chosen, existing.content_hash, content_hash)
    raise RuntimeError(f"could not store a new version of {name!r}: others kept taking it")
