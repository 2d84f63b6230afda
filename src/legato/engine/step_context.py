"""What a running step can see: ``legato.step_context()`` and ``legato.heartbeat()``."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any, Protocol

from legato.errors import Cancelled, LegatoError


class HeartbeatSink(Protocol):
    """Where an attempt's heartbeats go (its worker); called in the step's own thread for a
    sync step."""

    def heartbeat(self, ctx: StepContext, details: Any) -> None: ...


@dataclass(slots=True)  # made once per attempt: slots make it cheaper to make and read
class StepContext:
    execution_id: str
    step_id: int
    step: str
    attempt: int
    #: ``{execution_id}:{step_id}``: the same on every attempt; pass it to the outside world.
    idempotency_key: str
    #: what the previous attempt last passed to ``heartbeat()``, if anything
    heartbeat_details: Any = None
    latest_details: Any = None
    #: a compensation: the step it undoes, and that step's result
    compensates: str | None = None
    compensated_result: Any = None
    #: its execution was asked to cancel: stop soon (an async step also gets
    #: ``asyncio.CancelledError``; ``heartbeat()`` raises ``legato.Cancelled``)
    cancelled: bool = False
    _sink: HeartbeatSink | None = None
    _task: Any = None  # the task row the attempt runs, for its sink
    _last_heartbeat_ms: int = 0  # engine clock, set by the sink

    def heartbeat(self, details: Any = None) -> None:
        if details is not None:
            self.latest_details = details
        if self._sink is not None:
            self._sink.heartbeat(self, details)
        if self.cancelled:
            raise Cancelled("the execution was cancelled")


_current: contextvars.ContextVar[StepContext] = contextvars.ContextVar("legato_step")


def step_context() -> StepContext:
    """The running step's context; raises outside a step."""
    try:
        return _current.get()
    except LookupError:
        raise LegatoError("legato.step_context() is only available inside a running step") from None


def heartbeat(details: Any = None) -> None:
    """Tell Legato the step is alive (resets its heartbeat timeout); ``details`` are kept
    for the next attempt. Outside a step it does nothing, so step code stays testable."""
    ctx = _current.get(None)
    if ctx is not None:
        ctx.heartbeat(details)


def bind(ctx: StepContext) -> contextvars.Token[StepContext]:
    return _current.set(ctx)
