"""What a workflow instance waits for, one object per command: a step, a timer, a child
execution, an external task (task token); and the signals it waits for or has buffered.

Each wait resolves (or fails) the future the workflow code awaits when its event arrives, the
same way live and on replay. The instance owns them; nothing else holds one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from legato.core import codec
from legato.core.admit import ExternalTimers
from legato.core.durations import instant
from legato.core.events import (
    CancelRequested,
    ChildCompleted,
    ChildFailed,
    ChildStarted,
    ExternalTaskCompleted,
    ExternalTaskFailed,
    ExternalTaskHeartbeat,
    SignalReceived,
    StepCompleted,
    StepFailed,
    TimerFired,
    WaitEvent,
)
from legato.core.retry import Retry
from legato.engine.registry import StepDef, WorkflowDef
from legato.engine.scheduler import WFuture
from legato.errors import ChildFailed as ChildFailedError
from legato.errors import ExternalTaskFailed as ExternalTaskFailedError
from legato.errors import StepFailed as StepFailedError

NO_TIMERS: tuple[int, ...] = ()
#: Events that come from no inbox row.
PLAIN_EVENTS = (StepCompleted, TimerFired, StepFailed)
#: Events that carry the inbox row they came from.
MESSAGE_EVENTS = (
    SignalReceived,
    CancelRequested,
    ChildStarted,
    ChildCompleted,
    ChildFailed,
    ExternalTaskHeartbeat,
    ExternalTaskCompleted,
    ExternalTaskFailed,
)


@dataclass(frozen=True, slots=True)
class ChildRef:
    """What ``ctx.start_child`` returns: the child's id and when it started."""

    id: str
    started_at: datetime


class StepWait(NamedTuple):
    fut: WFuture
    step: StepDef
    retry: Retry  # the call's own policy, or the step's registered one

    def settle(self, event: WaitEvent) -> bool:
        if type(event) is StepCompleted:  # the hot path: plain type checks, not match
            try:
                self.fut.resolve(self.step.signature.decode_result(event.result))
            except Exception as exc:  # the result does not fit the step's return annotation
                name, attempt = self.step.name, event.attempt
                self.fut.fail(
                    StepFailedError(name, type(exc).__name__, str(exc), attempt, event.ref)
                )
        elif type(event) is StepFailed:
            name, ref = self.step.name, event.ref
            error = StepFailedError(name, event.error_type, event.message, event.attempt, ref)
            error.traceback = event.traceback
            self.fut.fail(error)
        else:
            return False
        return True


class TimerWait(NamedTuple):
    fut: WFuture

    def settle(self, event: WaitEvent) -> bool:
        if type(event) is not TimerFired:
            return False
        self.fut.resolve(None)
        return True


class ChildWait(NamedTuple):
    fut: WFuture
    child_id: str
    workflow: WorkflowDef

    def settle(self, event: WaitEvent) -> bool:
        match event:
            case ChildStarted(started_at=ms):
                self.fut.resolve(ChildRef(self.child_id, instant(ms)))
            case ChildCompleted(result=result):
                try:
                    self.fut.resolve(self.workflow.signature.decode_result(result or "null"))
                except Exception as exc:  # the result does not fit the child's return annotation
                    self.fut.fail(self._failed(type(exc).__name__, str(exc), event.ref))
            case ChildFailed(error_type=error_type, message=message):
                self.fut.fail(self._failed(error_type, message, event.ref))
            case _:
                return False
        return True

    def _failed(self, error_type: str, message: str, ref: int) -> ChildFailedError:
        return ChildFailedError(self.child_id, self.workflow.name, error_type, message, ref)


@dataclass(slots=True)
class ExternalWait:
    fut: WFuture
    token: str
    timeout_timer: int | None
    heartbeat_timer: int | None
    heartbeat_ms: int | None
    heartbeat_deadline: int | None  # epoch ms: the heartbeat timer's current due time

    def timers(self) -> list[int]:
        return [t for t in (self.timeout_timer, self.heartbeat_timer) if t is not None]

    def view(self) -> ExternalTimers:
        return ExternalTimers(
            self.timeout_timer, self.heartbeat_timer, self.heartbeat_ms, self.heartbeat_deadline
        )

    def settle(self, event: WaitEvent) -> bool:
        match event:
            case ExternalTaskCompleted(result=result):
                self.fut.resolve(codec.loads(result))
            case ExternalTaskFailed(error_type=error_type, message=message):
                self.fut.fail(ExternalTaskFailedError(self.token, error_type, message, event.ref))
            case _:
                return False
        return True


Wait = StepWait | TimerWait | ChildWait | ExternalWait


class WaitTable:
    """Everything an instance waits for, by command number, and the inbox rows it has
    consumed. Answers ``legato.core.admit.Waits`` for the decisions made about it."""

    def __init__(self) -> None:
        self._waits: dict[int, Wait] = {}
        self._external_timers: dict[int, int] = {}  # timer id -> its external wait's command
        self._consumed_inbox: set[int] = set()
        self.cancel_requested = False

    def __bool__(self) -> bool:
        return bool(self._waits)

    def add(self, ref: int, wait: Wait) -> None:
        self._waits[ref] = wait
        if isinstance(wait, ExternalWait):
            for timer_id in wait.timers():
                self._external_timers[timer_id] = ref

    def drop(self, ref: int) -> None:
        self._waits.pop(ref, None)

    def steps(self) -> tuple[int, ...]:
        """The steps it waits for (a cancellation asks them to stop)."""
        return tuple(ref for ref, w in self._waits.items() if type(w) is StepWait)

    def consumed(self, inbox_ids: Iterable[int]) -> None:
        self._consumed_inbox.update(inbox_ids)

    def settle(self, event: WaitEvent) -> Sequence[int] | None:
        """Resolve what ``event`` is for; None if it is for nothing this table waits for (a
        duplicate), else the timers that wait no longer needs."""
        wait = self._waits.get(event.ref)
        if wait is None:
            return None
        if type(wait) is StepWait:  # the hot path
            if not wait.settle(event):
                return None
            del self._waits[event.ref]
            return NO_TIMERS
        if isinstance(event, ExternalTaskHeartbeat):
            if not isinstance(wait, ExternalWait):
                return None
            if event.deadline is not None:
                wait.heartbeat_deadline = event.deadline
            return NO_TIMERS
        if not wait.settle(event):
            return None
        del self._waits[event.ref]
        if not isinstance(wait, ExternalWait):
            return NO_TIMERS
        fired = event.timer if isinstance(event, ExternalTaskFailed) else None
        for timer_id in wait.timers():
            self._external_timers.pop(timer_id, None)
        return [t for t in wait.timers() if t != fired]

    # --- legato.core.admit.Waits --------------------------------------------------------------
    def waits_for(self, ref: int) -> bool:
        return ref in self._waits

    def retry_policy(self, step_id: int) -> Retry | None:
        wait = self._waits.get(step_id)
        return wait.retry if isinstance(wait, StepWait) else None

    def is_child(self, ref: int) -> bool:
        return isinstance(self._waits.get(ref), ChildWait)

    def external(self, ref: int) -> ExternalTimers | None:
        wait = self._waits.get(ref)
        return wait.view() if isinstance(wait, ExternalWait) else None

    def external_for_timer(self, timer_id: int) -> tuple[int, ExternalTimers] | None:
        ref = self._external_timers.get(timer_id)
        wait = None if ref is None else self._waits.get(ref)
        return (ref, wait.view()) if ref is not None and isinstance(wait, ExternalWait) else None

    def has_consumed(self, inbox_id: int) -> bool:
        return inbox_id in self._consumed_inbox


@dataclass(slots=True)
class SignalWaiter:
    fut: WFuture
    timer_id: int | None = None


@dataclass(slots=True)
class Signals:
    """Signals received and not yet taken, and the code waiting for them, both in order."""

    buffered: dict[str, deque[str | None]] = field(default_factory=dict)
    waiters: dict[str, deque[SignalWaiter]] = field(default_factory=dict)

    def take(self, name: str) -> tuple[bool, Any]:
        queue = self.buffered.get(name)
        if not queue:
            return False, None
        return True, codec.loads(queue.popleft())

    def wait(self, name: str, waiter: SignalWaiter) -> None:
        self.waiters.setdefault(name, deque()).append(waiter)

    def receive(self, name: str, payload: str | None) -> SignalWaiter | None:
        """Hand the signal to the first waiter still waiting (returned, so its timeout timer
        can be cancelled), or buffer it."""
        waiters = self.waiters.get(name)
        while waiters:
            waiter = waiters.popleft()
            if waiter.fut.done:  # timed out meanwhile
                continue
            waiter.fut.resolve(codec.loads(payload))
            return waiter
        self.buffered.setdefault(name, deque()).append(payload)
        return None
