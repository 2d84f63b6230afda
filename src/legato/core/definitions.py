"""State machine definitions as stored: canonical JSON text, its content hash, and versions.

Two definitions are the same when their canonical JSON is: keys sorted, no insignificant
whitespace, so the same machine written as YAML or as indented JSON is one version. Pure: the
store and the shell decide when to store; this says what is stored.
"""

from __future__ import annotations

import hashlib
import json
import re

from legato.core.events import JSON

MAX_VERSION_LENGTH = 64
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def canonical_json(definition: dict[str, JSON]) -> str:
    """The one text of a definition: sorted keys, compact separators, UTF-8 kept as is."""
    return json.dumps(
        definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def content_hash(canonical: str) -> str:
    """The SHA-256 of the canonical JSON text, in hex: what makes two versions the same."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_number(version: str) -> int | None:
    """A version that is a plain decimal integer counts for "the next version"; others
    (``2024-06``, ``beta``) are kept as they are and never numbered."""
    return int(version) if version.isdecimal() and len(version) <= 18 else None


def check_version(version: str) -> str | None:
    """Why ``version`` cannot name a version (None if it can): letters, digits, ``.``, ``_``
    and ``-``, starting with a letter or digit, at most 64 characters."""
    if not version or len(version) > MAX_VERSION_LENGTH or not _VERSION.fullmatch(version):
        return (
            f"version {version!r} is not a valid version: use letters, digits, '.', '_' and '-', "
            f"starting with a letter or digit, at most {MAX_VERSION_LENGTH} characters"
        )
    return None


MAX_NAME_LENGTH = 128


def check_name(name: str) -> str | None:
    """Why ``name`` cannot name a definition (None if it can): as a version, up to 128."""
    if not name or len(name) > MAX_NAME_LENGTH or not _VERSION.fullmatch(name):
        return (
            f"name {name!r} is not a valid definition name: use letters, digits, '.', '_' and "
            f"'-', starting with a letter or digit, at most {MAX_NAME_LENGTH} characters"
        )
    return None
