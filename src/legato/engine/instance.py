"""One running workflow: its coroutine, what it waits for, and the commands it has issued.

An instance is fed *activations* (groups of input events) and answers with new commands. The
same path serves a live execution and a replay: replaying feeds the recorded groups in order and
checks that every command the code issues matches the recorded one (DESIGN.md §2, §3).
"""

from __future__ import annotations

import random
import secrets
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from legato.core import codec
from legato.core.asl.errors import StatesError
from legato.core.commands import (
    Command,
    CompleteExecution,
    FailExecution,
    RecordState,
    ScheduleStep,
    StartChild,
    StartExternalTask,
    StartTimer,
)
from legato.core.events import COMMAND_EVENTS, INPUT_EVENTS, Event, EventType
from legato.core.retry import Retry
from legato.core.tokens import make_token
from legato.engine import waits
from legato.engine.registry import Registry, StepDef, WorkflowDef, as_seconds
from legato.engine.scheduler import Diverged, Scheduler, WFuture
from legato.errors import NonDeterminismError, StepFailed, WorkflowUsageError


class Context:
    """What a workflow function receives as its first argument."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self.execution_id = instance.execution_id
        self.workflow = instance.workflow.name
        self.version = instance.workflow.version

    def step(self, fn: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> WFuture:
        """Schedule a registered step; await the result (or pass it to ``gather``)."""
        return self._instance.schedule_step(fn, args, kwargs)

    def call_step(
        self,
        fn: Callable[..., Any] | str,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        retry: Retry | None = None,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
    ) -> WFuture:
        """``step`` with this call's own retry policy and timeouts in place of the step's
        registered ones (Temporal's per-call activity options; a Task state's TimeoutSeconds)."""
        options = StepOptions(retry, as_seconds(timeout), as_seconds(heartbeat_timeout))
        return self._instance.schedule_step(fn, args, kwargs or {}, options)

    def record_state(self, state: str, data: str, *, exited: bool) -> None:
        """Record that a state machine entered (or left) a state, with its input (output) as
        JSON: a ``StateEntered``/``StateExited`` history event, checked again on replay."""
        self._instance.record_state(state, data, exited)

    def sleep(self, duration: float | timedelta) -> WFuture:
        """A durable timer: survives restarts; ``await ctx.sleep(3600)``."""
        seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
        return self._instance.start_timer(seconds)

    def wait_for_signal(self, name: str, *, timeout: float | timedelta | None = None) -> WFuture:
        """The payload of the next signal ``name`` not yet taken (signals that came earlier
        wait, in order); with ``timeout``, None if none comes in time."""
        return self._instance.wait_for_signal(name, as_seconds(timeout))

    def child(
        self, workflow: Callable[..., Any] | str, *args: Any, id: str | None = None, **kwargs: Any
    ) -> WFuture:
        """Start a child execution and await its result; its failure raises ``ChildFailed``.
        ``id`` defaults to ``{parent id}/{command number}``; an existing execution with that id
        and the same workflow and input is attached to, not started again."""
        return self._instance.start_child(workflow, args, kwargs, id, wait=True)

    def start_child(
        self, workflow: Callable[..., Any] | str, *args: Any, id: str | None = None, **kwargs: Any
    ) -> WFuture:
        """Start a child execution without awaiting its result: resolves to a ``ChildRef``
        (id, start time) once it exists."""
        return self._instance.start_child(workflow, args, kwargs, id, wait=False)

    def external_task(
        self,
        *,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
    ) -> tuple[WFuture, str]:
        """A durable wait completed from outside with a task token: returns ``(future, token)``.
        ``app.send_task_success(token, output)`` resolves the future with ``output``;
        ``send_task_failure(token, error, cause)`` raises ``ExternalTaskFailed``, as do
        ``timeout`` (``States.Timeout``) and ``heartbeat_timeout`` (``States.HeartbeatTimeout``:
        no heartbeat or completion within that long of the start or the last heartbeat)."""
        return self._instance.external_task(as_seconds(timeout), as_seconds(heartbeat_timeout))

    def gather(self, *aws: Awaitable[Any]) -> WFuture:
        """Wait for all, like ``asyncio.gather``: results in order, first failure raised."""
        return self._instance.scheduler.gather(*aws)

    def now(self) -> datetime:
        """The time of the event being processed: the same on every replay."""
        return datetime.fromtimestamp(self._instance.now_ms / 1000, tz=UTC)

    def random(self) -> float:
        return self._instance.rng.random()

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._instance.rng.getrandbits(128), version=4)


@dataclass(frozen=True, slots=True)
class StepOptions:
    retry: Retry | None = None
    timeout: float | None = None  # seconds, start-to-close per attempt
    heartbeat_timeout: float | None = None

    def envelope(self) -> str:
        """The timeouts as the worker reads them (the third element of a task's args)."""
        limits = {"timeout": self.timeout, "heartbeat_timeout": self.heartbeat_timeout}
        return codec.dumps({k: v for k, v in limits.items() if v is not None}, "step options")


class WorkflowInstance:
    def __init__(self, workflow: WorkflowDef, registry: Registry, execution_id: str) -> None:
        self.workflow = workflow
        self.registry = registry
        self.execution_id = execution_id
        self.scheduler = Scheduler()
        self.rng = random.Random(execution_id)
        self.now_ms = 0
        self.seq = 0  # last history seq this instance has seen or written
        self.next_id = 1
        self.waiting: dict[int, tuple[WFuture, StepDef | None]] = {}
        self.retry_for: dict[int, Retry] = {}  # calls with their own retry policy, by step id
        self.recorded: dict[int, Event] = {}
        self.commands: list[Command] = []
        self.diverged: NonDeterminismError | None = None
        self.closed = False
        self.current_step: str | None = None
        self.signals = waits.Signals()
        self.children: dict[int, waits.ChildWait] = {}
        self.external: dict[int, waits.ExternalWait] = {}
        self.consumed_inbox: set[int] = set()  # inbox rows already recorded in the history
        self.cancelled_timers: list[int] = []  # timers to delete with the next transition
        self._last_recorded: Event | None = None

    # --- commands issued by workflow code -------------------------------------------------
    def schedule_step(
        self,
        fn: Callable[..., Any] | str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: StepOptions | None = None,
    ) -> WFuture:
        step = self.registry.step_for(fn)
        args_json = step.signature.encode_args(args, kwargs, f"step {step.name!r}")
        step_id, replayed = self._issue(EventType.STEP_SCHEDULED, step.name)
        self.current_step = step.name
        fut = WFuture()
        self.waiting[step_id] = (fut, step)
        if options is not None:
            if options.retry is not None:
                self.retry_for[step_id] = options.retry
            if options.timeout is not None or options.heartbeat_timeout is not None:
                args_json = f"{args_json[:-1]},{options.envelope()}]"
        if not replayed:
            self.commands.append(ScheduleStep(step_id, step.name, args_json))
        return fut

    def start_timer(self, seconds: float) -> WFuture:
        fut = WFuture()
        if seconds <= 0:
            fut.resolve(None)
            return fut
        timer_id, replayed = self._issue(EventType.TIMER_STARTED, "sleep")
        self.waiting[timer_id] = (fut, None)
        if not replayed:
            self.commands.append(StartTimer(timer_id, self.now_ms + round(seconds * 1000)))
        return fut

    def wait_for_signal(self, name: str, timeout: float | None) -> WFuture:
        fut = WFuture()
        found, value = self.signals.take(name)
        if found or (timeout is not None and timeout <= 0):
            fut.resolve(value)
            return fut
        waiter = waits.SignalWaiter(fut)
        if timeout is not None:
            timer_id, replayed = self._issue(EventType.TIMER_STARTED, "signal timeout")
            timer = WFuture()
            self.waiting[timer_id] = (timer, None)
            if not replayed:
                fire_at = self.now_ms + round(timeout * 1000)
                self.commands.append(StartTimer(timer_id, fire_at, "signal timeout"))
            waiter.timer_id = timer_id
            timer.add_done_callback(lambda: fut.resolve(None))
        self.signals.wait(name, waiter)
        return fut

    def start_child(
        self,
        workflow: Callable[..., Any] | str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        child_id: str | None,
        wait: bool,
    ) -> WFuture:
        if isinstance(workflow, str):
            wf = self.registry.workflow_named(workflow)
        else:
            wf = self.registry.workflow_for(workflow)
        input_json = wf.signature.encode_args(args, kwargs, f"input of child workflow {wf.name!r}")
        command_id, replayed = self._issue(EventType.CHILD_SCHEDULED, wf.name)
        recorded = self._last_recorded
        if replayed and recorded is not None and isinstance(recorded.meta.get("child_id"), str):
            child_id = str(recorded.meta["child_id"])
        child_id = child_id or f"{self.execution_id}/{command_id}"
        self.current_step = wf.name
        fut = WFuture()
        self.waiting[command_id] = (fut, None)
        self.children[command_id] = waits.ChildWait(child_id, wf, wait)
        if not replayed:
            self.commands.append(
                StartChild(command_id, child_id, wf.name, wf.version, input_json, wait)
            )
        return fut

    def external_task(
        self, timeout: float | None, heartbeat_timeout: float | None
    ) -> tuple[WFuture, str]:
        command_id, replayed = self._issue(EventType.EXTERNAL_TASK_STARTED, "external task")
        recorded = self._last_recorded
        if replayed and recorded is not None and isinstance(recorded.meta.get("token"), str):
            token = str(recorded.meta["token"])
        else:  # unguessable, and recorded: a replay reads it back from the history
            token = make_token(self.execution_id, command_id, secrets.randbits(128))
        timeout_timer = heartbeat_timer = None
        if timeout is not None:
            timeout_timer = (self._reserve_id(), self.now_ms + round(timeout * 1000))
        hb_ms = round(heartbeat_timeout * 1000) if heartbeat_timeout is not None else None
        if hb_ms is not None:
            heartbeat_timer = (self._reserve_id(), self.now_ms + hb_ms)
        self.current_step = "external task"
        fut = WFuture()
        self.waiting[command_id] = (fut, None)
        self.external[command_id] = waits.ExternalWait(
            token,
            timeout_timer[0] if timeout_timer else None,
            heartbeat_timer[0] if heartbeat_timer else None,
            hb_ms,
            heartbeat_timer[1] if heartbeat_timer else None,
        )
        if not replayed:
            self.commands.append(
                StartExternalTask(command_id, token, timeout_timer, heartbeat_timer)
            )
        return fut, token

    def _reserve_id(self) -> int:
        """A number for a timer that belongs to the previous command (no event of its own)."""
        reserved = self.next_id
        self.next_id += 1
        return reserved

    def cancel_timer(self, timer_id: int) -> None:
        self.waiting.pop(timer_id, None)
        self.cancelled_timers.append(timer_id)

    def take_cancelled_timers(self) -> list[int]:
        out, self.cancelled_timers = self.cancelled_timers, []
        return out

    def record_state(self, state: str, data: str, exited: bool) -> None:
        kind = EventType.STATE_EXITED if exited else EventType.STATE_ENTERED
        record_id, replayed = self._issue(kind, state)
        if not exited:
            self.current_step = state
        if not replayed:
            self.commands.append(RecordState(record_id, exited, state, data))

    def _issue(self, kind: EventType, name: str) -> tuple[int, bool]:
        """Number the next command; True if the history already recorded it (a replay)."""
        command_id = self.next_id
        self.next_id += 1
        recorded = self.recorded.pop(command_id, None)
        self._last_recorded = recorded
        if recorded is None:
            return command_id, False
        if recorded.type != kind or recorded.name != name:
            self._diverge(
                f"command #{command_id}",
                _describe(recorded.type, recorded.name),
                _describe(kind, name),
            )
        return command_id, True

    def _diverge(self, where: str, recorded: str, now: str) -> None:
        self.diverged = NonDeterminismError(where, recorded, now)
        raise Diverged()

    # --- activations ----------------------------------------------------------------------
    def start(self, input_json: str | None, ts: int) -> list[Command]:
        self.now_ms = ts
        ctx = Context(self)
        args, kwargs = self.workflow.signature.decode_args(input_json) if input_json else ([], {})
        result = self.scheduler.spawn(self.workflow.fn(ctx, *args, **kwargs))
        result.add_done_callback(lambda: self._finish(result))
        return self._run()

    def activate(self, events: Iterable[Event], ts: int) -> tuple[list[Command], list[Event]]:
        """Feed input events; returns the new commands and the events that were accepted
        (duplicates, for something already resolved, are left out)."""
        self.now_ms = ts
        accepted = []
        for event in events:
            if self._deliver(event):
                accepted.append(event)
        return self._run(), accepted

    def _deliver(self, event: Event) -> bool:
        if event.type in waits.WAIT_EVENTS:
            return waits.deliver(self, event)
        if event.ref is None:
            return False
        entry = self.waiting.pop(event.ref, None)
        if entry is None:
            return False
        fut, step = entry
        if event.type == EventType.STEP_COMPLETED:
            assert step is not None
            try:
                fut.resolve(step.signature.decode_result(event.payload or "null"))
            except Exception as exc:  # result does not fit the step's return annotation
                fut.fail(StepFailed(step.name, type(exc).__name__, str(exc), _attempt(event)))
        elif event.type == EventType.STEP_FAILED:
            assert step is not None
            fut.fail(
                StepFailed(
                    step.name,
                    str(event.meta.get("error_type")),
                    str(event.meta.get("message")),
                    _attempt(event),
                )
            )
        elif event.type == EventType.TIMER_FIRED:
            fut.resolve(None)
        else:
            self.waiting[event.ref] = entry
            return False
        return True

    def _run(self) -> list[Command]:
        try:
            self.scheduler.run_until_blocked()
        except Diverged:
            pass
        if self.diverged is not None:
            raise self.diverged
        commands, self.commands = self.commands, []
        return commands

    def _finish(self, result: WFuture) -> None:
        self.closed = True
        err = result.error
        if err is None:
            try:
                out = codec.dumps(result.value, f"result of workflow {self.workflow.name!r}")
            except Exception as exc:
                self.commands.append(FailExecution(type(exc).__name__, str(exc), ""))
                return
            self.commands.append(CompleteExecution(out))
        elif isinstance(err, Diverged):
            return
        elif isinstance(err, StatesError):  # a state machine's error: name and cause, as in ASL
            self.commands.append(FailExecution(err.error, err.cause, ""))
        else:
            tb = "".join(traceback.format_exception(err))
            self.commands.append(FailExecution(_error_type(err), str(err), tb))

    # --- replay ---------------------------------------------------------------------------
    def replay(self, history: list[Event]) -> list[Command]:
        """Re-run the code over a recorded history; returns commands the history lacks."""
        for event in history:
            if event.type in COMMAND_EVENTS and event.ref is not None:
                self.recorded[event.ref] = event
        new: list[Command] = []
        for batch in _batches(history):
            inputs = [e for e in batch if e.type in INPUT_EVENTS]
            self.seq = batch[-1].seq
            if not inputs:
                continue
            first = inputs[0]
            if first.type == EventType.EXECUTION_STARTED:
                try:
                    new += self.start(first.payload, first.ts)
                except NonDeterminismError:
                    raise
                except Exception as exc:  # the code's signature no longer takes the input
                    self.diverged = NonDeterminismError(
                        "the workflow input",
                        "an input the workflow accepted at start",
                        f"reject it ({type(exc).__name__}: {exc})",
                    )
                    raise self.diverged from None
                new += self.activate(inputs[1:], first.ts)[0]
            else:
                new += self.activate(inputs, batch[0].ts)[0]
        self.cancelled_timers.clear()  # deleted by the transitions that recorded them
        if self.recorded and not self.closed:
            ref = min(self.recorded)
            rec = self.recorded[ref]
            self.diverged = NonDeterminismError(
                f"command #{ref}",
                _describe(rec.type, rec.name),
                "nothing (the code no longer issues it)",
            )
            raise self.diverged
        if self.recorded and self.closed:
            ref = min(self.recorded)
            rec = self.recorded[ref]
            self.diverged = NonDeterminismError(
                f"command #{ref}", _describe(rec.type, rec.name), "return from the workflow"
            )
            raise self.diverged
        return new

    def close(self) -> None:
        self.scheduler.close()


def _describe(kind: EventType, name: str | None) -> str:
    if kind == EventType.TIMER_STARTED:
        return "a timer (ctx.sleep)" if name == "sleep" else f"a timer ({name})"
    if kind == EventType.CHILD_SCHEDULED:
        return f"child workflow {name!r}"
    if kind == EventType.EXTERNAL_TASK_STARTED:
        return "an external task (ctx.external_task)"
    if kind == EventType.STATE_ENTERED:
        return f"entering state {name!r}"
    if kind == EventType.STATE_EXITED:
        return f"leaving state {name!r}"
    return f"step {name!r}"


def _attempt(event: Event) -> int:
    value = event.meta.get("attempt", 1)
    return value if isinstance(value, int) else 1


def _error_type(err: BaseException) -> str:
    if isinstance(err, StepFailed):
        return err.error_type
    if isinstance(err, WorkflowUsageError):
        return "WorkflowUsageError"
    return type(err).__name__


def _batches(history: list[Event]) -> list[list[Event]]:
    out: list[list[Event]] = []
    for event in history:
        if out and out[-1][0].batch == event.batch:
            out[-1].append(event)
        else:
            out.append([event])
    return out
