"""Task tokens: opaque strings naming one external wait (``ctx.external_task``).

A token carries the execution id and the command id, so a completion can be routed to the
execution, and a random part drawn from the workflow's recorded randomness, so it cannot be
guessed from the ids. The history keeps the whole token; a completion must match it exactly.
"""

from __future__ import annotations

import base64
import binascii

PREFIX = "lgt1"


def make_token(execution_id: str, command_id: int, secret: int) -> str:
    eid = base64.urlsafe_b64encode(execution_id.encode()).rstrip(b"=").decode()
    return f"{PREFIX}.{eid}.{command_id}.{secret:032x}"


def parse_token(token: str) -> tuple[str, int] | None:
    """(execution id, command id), or None if the text is not a Legato task token."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit():
        return None
    try:
        eid = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return eid, int(parts[2])
