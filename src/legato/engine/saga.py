"""A saga's bookkeeping: the compensations a workflow owes, in the order they were earned.

``ctx.step(fn, ..., compensate=undo)`` earns one once ``fn`` has succeeded: ``undo`` is called
with ``fn``'s arguments, and can read ``fn``'s result from its step context. They run most
recent first (``WorkflowInstance.compensate``) when the workflow fails or is cancelled, or when
it calls ``ctx.compensate()``. The list is rebuilt by replay like everything else in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from legato.core import codec
from legato.engine.scheduler import WFuture


@dataclass(frozen=True, slots=True)
class Compensation:
    undo: str  # the compensating step's registered name
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    forward: str  # the step it undoes
    done: WFuture  # the forward step's result

    def result(self) -> str:
        """The forward step's result as JSON, for the compensation's step context."""
        return codec.dumps(self.done.value, f"result of step {self.forward!r}")


@dataclass(slots=True)
class Saga:
    owed: list[Compensation] = field(default_factory=list)

    def succeeded(self, c: Compensation) -> None:
        if c.done.error is None:
            self.owed.append(c)

    def take(self) -> list[Compensation]:
        """The compensations owed, oldest first; none are owed afterwards."""
        owed, self.owed = self.owed, []
        return owed
