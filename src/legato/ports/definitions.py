"""Port: state machine definitions stored in the database, versioned and content-hashed.

A version, once stored, never changes: an execution pins the version it started with, and any
engine that decides it loads that version (``engine/stored_machines.py``). Storing the same
content again is a no-op that answers the version it already is; a version given that exists
with other content is refused (``DefinitionVersionExists``). Versions are strings; those that
are integers are numbered, and the next version is 1 + the highest of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from legato.core import codec
from legato.core.durations import instant


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    """One version of a definition; ``definition`` is its canonical JSON text
    (``legato.core.definitions.canonical_json``), ``content_hash`` the SHA-256 of it."""

    name: str
    version: str
    content_hash: str
    definition: str
    created_at: int  # epoch ms

    def as_json(self, *, definition: bool = True) -> dict[str, Any]:
        """As the API and ``--json`` show it (times RFC 3339 in UTC)."""
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "created_at": instant(self.created_at).isoformat(),
        }
        if definition:
            out["definition"] = codec.loads(self.definition)
        return out


class DefinitionVersion(NamedTuple):
    """A version as listed (without its text)."""

    version: str
    content_hash: str
    created_at: int

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "content_hash": self.content_hash,
            "created_at": instant(self.created_at).isoformat(),
        }


class DefinitionSummary(NamedTuple):
    """A name with its versions, oldest first; the last is the latest."""

    name: str
    versions: list[DefinitionVersion]

    def as_json(self) -> dict[str, Any]:
        """``created_at``: when its first version was stored."""
        return {
            "name": self.name,
            "latest_version": self.versions[-1].version,
            "versions": [v.version for v in self.versions],
            "created_at": instant(self.versions[0].created_at).isoformat(),
        }


class Put(NamedTuple):
    """What storing a definition did: the version it is, and whether it is new."""

    stored: StoredDefinition
    created: bool


class Definitions(Protocol):
    async def put_definition(
        self, name: str, version: str | None, definition: str, content_hash: str, now: int
    ) -> Put:
        """Store ``definition`` (canonical JSON, its hash) as ``version`` of ``name``.

        ``version`` None: the version that has this content already (the latest of them),
        else a new one, 1 + the highest integer version (1 for a new name). ``version`` given:
        that version; if it exists with the same content it is answered as it is, with other
        content ``DefinitionVersionExists`` is raised."""
        ...

    async def get_definition(
        self, name: str, version: str | None = None
    ) -> StoredDefinition | None:
        """That version of ``name``; its latest (the one stored last) if ``version`` is None."""
        ...

    async def definition_by_hash(self, name: str, content_hash: str) -> StoredDefinition | None:
        """The version of ``name`` whose content has this hash (the latest, if several)."""
        ...

    async def list_definitions(self) -> list[DefinitionSummary]:
        """Every stored name, by name, each with its versions."""
        ...

    async def definition_versions(self, name: str) -> list[DefinitionVersion]:
        """The versions of ``name``, oldest first (empty if none is stored)."""
        ...
