"""API keys as made and stored: ``lgk_<id>_<secret>``, of which only the SHA-256 is kept.

Apart from the server's checks (``api/keys.py``) so that ``legato keys create`` does not
import FastAPI."""

from __future__ import annotations

import hashlib
import secrets
from typing import NamedTuple

KEY_PREFIX = "lgk_"
REFRESH_SECONDS = 5.0  # a revoked key is refused at most this long after `legato keys revoke`


class NewKey(NamedTuple):
    id: str
    text: str  # shown once to whoever made it; never stored
    secret_hash: str


def new_key() -> NewKey:
    key_id = secrets.token_hex(4)
    text = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, text, hash_key(text))


def hash_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
