"""Port: opening and closing a store, its schema migrations, and how it tells other processes
that work is waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: ``(jobs, seconds)`` of one commit
CommitObserver = Callable[[int, float], None]


class Lifecycle(Protocol):
    async def open(self) -> None:
        """Connect, and apply any migration the database lacks."""
        ...

    async def close(self) -> None: ...
    async def missing_migrations(self) -> list[int]:
        """This code's migrations the database has not applied (``/readyz``: empty when the
        schema is current). Raises if the database cannot be read."""
        ...

    async def migrate(self) -> list[int]:
        """Apply the schema migrations the database lacks; returns their numbers. Refuses a
        database whose schema is newer than this code, or one whose applied migrations differ
        from this code's (an edited migration file)."""
        ...

    async def open_reader(self) -> None:
        """Read-only use (inspection tools): no migrations, no writes."""
        ...

    async def close_reader(self) -> None: ...

    #: True if ``listen`` delivers notifications (then polling is only a slow fallback)
    notifies: bool

    async def listen(self, on_notify: Callable[[str], None]) -> None:
        """Call ``on_notify(channel)`` when another process wrote work: ``tasks`` (tasks any
        worker may claim), ``done`` (a worker finished a task), ``pending`` (a client started
        an execution), ``inbox`` (a message for an execution). Runs until cancelled; returns at
        once where there are no notifications."""
        ...

    def pending_writes(self) -> int:
        """Writes submitted and not yet resolved (the time-skipping clock waits for none)."""
        ...

    def commits(self) -> int:
        """Transactions committed so far (for stats and benchmarks)."""
        ...

    def observe_commits(self, observer: CommitObserver | None) -> None:
        """Call ``observer(jobs, seconds)`` after each group commit: how many writes it
        carried and how long the transaction took (the engine's metrics). Called on whatever
        thread committed, so it must be cheap and thread-safe."""
        ...
