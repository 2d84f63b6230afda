"""Owner ids: who holds a lease (a partition, a task attempt).

An owner id is ``role:host:pid:nonce``: one per engine process run, never reused (the nonce
is random), so an owner that is gone stays gone. The host is in it because proof that an
owner is dead can be local: a file lock says nothing about a process on another machine.
"""

from __future__ import annotations

#: the role of a remote worker (``legato worker --server``): it reaches the database only
#: through the API, so it holds no liveness lock and nothing can prove it dead; its leases
#: simply run out
REMOTE_ROLE = "remote"


def owner_id(role: str, host: str, pid: int, nonce: str) -> str:
    return f"{role}:{host}:{pid}:{nonce}"


def host_of(owner: str) -> str | None:
    """The host an owner id names, or None if the id is not of this form."""
    parts = owner.split(":")
    return parts[1] if len(parts) == 4 else None


def pid_of(owner: str) -> int | None:
    """The process id an owner id names, or None if the id is not of this form."""
    parts = owner.split(":")
    return int(parts[2]) if len(parts) == 4 and parts[2].isdigit() else None


def role_of(owner: str) -> str:
    """The role an owner id names (``engine``), or ``owner`` for an id of another form."""
    parts = owner.split(":")
    return parts[0] if len(parts) == 4 else "owner"


def provable(owner: str) -> bool:
    """Whether a liveness lock can prove this owner dead (not a remote worker's)."""
    return role_of(owner) != REMOTE_ROLE
