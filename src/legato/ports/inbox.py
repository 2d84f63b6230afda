"""Port: messages for executions (``legato.core.messages``): signals, child outcomes,
task-token calls. Each is consumed by the transition that records it."""

from __future__ import annotations

from typing import Protocol

from legato.core.messages import InboxMessage, InboxRow


class Inbox(Protocol):
    async def send(self, message: InboxMessage) -> bool:
        """Add a message to an execution's inbox if it exists and is not closed (False if not);
        wakes the orchestrator that owns it where the store notifies (``inbox``)."""
        ...

    async def inbox(self, limit: int, partitions: list[int]) -> list[InboxRow]:
        """Unconsumed messages of RUNNING executions in these partitions, oldest first."""
        ...

    async def load_inbox(self, execution_id: str) -> list[InboxRow]: ...
