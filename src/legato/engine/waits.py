"""What a workflow instance waits for besides steps and sleeps: signals, child executions and
external tasks (task tokens). The instance feeds their history events here; each resolves (or
fails) the future the workflow code awaits, the same way live and on replay."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from legato.core import codec
from legato.core.events import Event, EventType
from legato.engine.registry import WorkflowDef
from legato.engine.scheduler import WFuture
from legato.errors import ChildFailed, ExternalTaskFailed

if TYPE_CHECKING:
    from legato.engine.instance import WorkflowInstance

HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"

#: Events this module resolves.
WAIT_EVENTS = frozenset(
    {
        EventType.SIGNAL_RECEIVED,
        EventType.CHILD_STARTED,
        EventType.CHILD_COMPLETED,
        EventType.CHILD_FAILED,
        EventType.EXTERNAL_TASK_HEARTBEAT,
        EventType.EXTERNAL_TASK_COMPLETED,
        EventType.EXTERNAL_TASK_FAILED,
    }
)


@dataclass(frozen=True, slots=True)
class ChildRef:
    """What ``ctx.start_child`` returns: the child's id and when it started."""

    id: str
    started_at: datetime


@dataclass(slots=True)
class ChildWait:
    child_id: str
    workflow: WorkflowDef
    wait: bool


@dataclass(slots=True)
class ExternalWait:
    token: str
    timeout_timer: int | None
    heartbeat_timer: int | None
    heartbeat_ms: int | None
    heartbeat_deadline: int | None  # epoch ms: the heartbeat timer's current due time

    def timers(self) -> list[int]:
        return [t for t in (self.timeout_timer, self.heartbeat_timer) if t is not None]


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


def deliver(inst: WorkflowInstance, event: Event) -> bool:
    """Feed one of ``WAIT_EVENTS``; True if it was accepted (it changed something)."""
    inbox_id = event.meta.get("inbox")
    if isinstance(inbox_id, int):
        inst.consumed_inbox.add(inbox_id)
    if event.type == EventType.SIGNAL_RECEIVED:
        _signal(inst, event.name or "", event.payload)
        return True
    ref = event.ref
    if ref is None:
        return False
    if event.type == EventType.EXTERNAL_TASK_HEARTBEAT:
        wait = inst.external.get(ref)
        deadline = event.meta.get("deadline")
        if wait is None:
            return False
        if isinstance(deadline, int):
            wait.heartbeat_deadline = deadline
        return True
    entry = inst.waiting.pop(ref, None)
    if entry is None:
        return False
    fut = entry[0]
    if event.type in (EventType.CHILD_STARTED, EventType.CHILD_COMPLETED, EventType.CHILD_FAILED):
        child = inst.children.pop(ref, None)
        if child is None:
            inst.waiting[ref] = entry
            return False
        _child(fut, child, event)
        return True
    wait = inst.external.pop(ref, None)
    if wait is None:
        inst.waiting[ref] = entry
        return False
    fired = event.meta.get("timer")
    for timer_id in wait.timers():
        if timer_id != fired:
            inst.cancel_timer(timer_id)
    if event.type == EventType.EXTERNAL_TASK_COMPLETED:
        fut.resolve(codec.loads(event.payload))
    else:
        fut.fail(
            ExternalTaskFailed(
                wait.token, str(event.meta.get("error_type")), str(event.meta.get("message", ""))
            )
        )
    return True


def _signal(inst: WorkflowInstance, name: str, payload: str | None) -> None:
    waiters = inst.signals.waiters.get(name)
    while waiters:
        waiter = waiters.popleft()
        if waiter.fut.done:  # timed out meanwhile
            continue
        if waiter.timer_id is not None:
            inst.cancel_timer(waiter.timer_id)
        waiter.fut.resolve(codec.loads(payload))
        return
    inst.signals.buffered.setdefault(name, deque()).append(payload)


def _child(fut: WFuture, child: ChildWait, event: Event) -> None:
    if event.type == EventType.CHILD_STARTED:
        started = event.meta.get("started_at")
        ms = started if isinstance(started, int) else event.ts
        fut.resolve(ChildRef(child.child_id, datetime.fromtimestamp(ms / 1000, tz=UTC)))
    elif event.type == EventType.CHILD_COMPLETED:
        try:
            fut.resolve(child.workflow.signature.decode_result(event.payload or "null"))
        except Exception as exc:  # the result does not fit the child's return annotation
            fut.fail(ChildFailed(child.child_id, child.workflow.name, type(exc).__name__, str(exc)))
    else:
        fut.fail(
            ChildFailed(
                child.child_id,
                child.workflow.name,
                str(event.meta.get("error_type")),
                str(event.meta.get("message", "")),
            )
        )
