"""Port: the API keys an HTTP API bound off loopback accepts.

A key is stored as the SHA-256 of its text, never the text itself: the key is shown once when
it is made (``legato keys create``) and only its holder has it. A revoked key keeps its row so
that listings still name it; the API stops accepting it within its cache's refresh interval
(``legato.api.keys``).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class ApiKey(NamedTuple):
    """A key as operators see it (never its secret). Times are epoch milliseconds."""

    id: str
    name: str
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


class ApiKeys(Protocol):
    async def create_api_key(self, key_id: str, name: str, secret_hash: str, now: int) -> None:
        """Record a new key by the hash of its text."""
        ...

    async def list_api_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        ...

    async def revoke_api_key(self, key_id: str, now: int) -> ApiKey | None:
        """Revoke a key (a key revoked before keeps its first ``revoked_at``); the key as it
        now is, or None if there is no key with that id."""
        ...

    async def active_api_keys(self) -> dict[str, str]:
        """The keys not revoked: secret hash → key id (what the API checks requests against)."""
        ...

    async def touch_api_keys(self, key_ids: list[str], now: int) -> None:
        """Record that these keys were used (``last_used_at``, never moved back)."""
        ...
