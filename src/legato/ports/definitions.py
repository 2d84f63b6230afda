"""Port: state machine definitions stored in the database, versioned and content-hashed.

A version, once stored, never changes: an execution pins the version it started with, and any
engine that decides it loads that version (``engine/stored_machines.py``). Storing the same
content again is a no-op that answers the version it already is; a version given that exists
with other content is refused (``DefinitionVersionExists``). Versions are strings; those that
are integers are numbered, and the next version is 1 + the highest of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    """One version of a definition; ``definition`` is its canonical JSON text
    (``legato.core.definitions.canonical_json``), ``content_hash`` the SHA-256 of it."""

    name: str
    version: str
    content_hash: str
    definition: str
    created_at: int  # epoch ms


class DefinitionVersion(NamedTuple):
    """A version as listed (without its text)."""

    version: str
    content_hash: str
    created_at: int


class DefinitionSummary(NamedTuple):
    """A name with its versions, oldest first; the last is the latest."""

    name: str
    versions: list[DefinitionVersion]


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
