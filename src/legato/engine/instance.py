"""One running workflow: its coroutine, what it waits for, and the commands it has issued.

An instance is fed *activations* (groups of input events) and answers with an ``Activation``:
the events it took and its new commands. The same path serves a live execution and a replay:
replaying feeds the recorded groups in order and checks that every command the code issues
matches the recorded one (DESIGN.md §2, §3). It answers ``legato.core.decide.Waits`` for the
decisions made about it; nothing outside this class changes its state.
"""

from __future__ import annotations

import random
import secrets
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

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
from legato.core.decide import Activation
from legato.core.durations import to_ms
from legato.core.events import (
    COMMAND_EVENTS,
    EXTERNAL_TASK,
    INPUT_EVENTS,
    ChildScheduled,
    CommandEvent,
    Event,
    ExecutionStarted,
    ExternalTaskStarted,
    InputEvent,
    SignalReceived,
    StateEntered,
    StateExited,
    StepScheduled,
    TimerStarted,
)
from legato.core.tokens import make_token
from legato.engine import divergence
from legato.engine.context import Context, StepOptions
from legato.engine.registry import Registry, WorkflowDef
from legato.engine.scheduler import Diverged, Scheduler, WFuture
from legato.engine.waits import (
    MESSAGE_EVENTS,
    NO_TIMERS,
    PLAIN_EVENTS,
    ChildWait,
    ExternalWait,
    Signals,
    SignalWaiter,
    StepWait,
    TimerWait,
    WaitTable,
)
from legato.errors import NonDeterminismError, StepFailed, WorkflowUsageError


class WorkflowInstance:
    def __init__(self, workflow: WorkflowDef, registry: Registry, execution_id: str) -> None:
        self.workflow = workflow
        self.execution_id = execution_id
        self._registry = registry
        self._scheduler = Scheduler()
        self._rng = random.Random(execution_id)
        self._now_ms = 0
        self._seq = 0  # last history seq this instance has seen or written
        self._next_id = 1
        self._waits = WaitTable()
        self._signals = Signals()
        self._recorded: dict[int, CommandEvent] = {}
        self._last_recorded: CommandEvent | None = None
        self._commands: list[Command] = []
        self._cancelled_timers: list[int] = []  # to delete with the next transition
        self._diverged: NonDeterminismError | None = None
        self._closed = False
        self._reports_to_parent = False

    # --- what decisions read ---------------------------------------------------------------
    @property
    def waits(self) -> WaitTable:
        """What it waits for (``legato.core.admit.Waits``): read, never changed, by others."""
        return self._waits

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def now_ms(self) -> int:
        return self._now_ms

    @property
    def reports_to_parent(self) -> bool:
        """Started as a child: its close leaves its parent a message."""
        return self._reports_to_parent

    def seen_up_to(self, seq: int) -> None:
        """The history now ends at ``seq`` (a transition of this instance was committed)."""
        self._seq = seq

    # --- commands issued by workflow code -----------------------------------------------------
    def schedule_step(
        self,
        fn: Callable[..., Any] | str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: StepOptions | None = None,
    ) -> WFuture:
        step = self._registry.step_for(fn)
        args_json = step.signature.encode_args(args, kwargs, f"step {step.name!r}")
        step_id, replayed = self._issue(StepScheduled, step.name)
        fut = WFuture()
        retry = step.retry
        if options is not None:
            retry = options.retry or retry
            if options.timeout is not None or options.heartbeat_timeout is not None:
                args_json = f"{args_json[:-1]},{options.envelope()}]"
        self._waits.add(step_id, StepWait(fut, step, retry))
        if not replayed:
            self._commands.append(ScheduleStep(step_id, step.name, step.queue, args_json))
        return fut

    def start_timer(self, seconds: float) -> WFuture:
        if seconds <= 0:
            fut = WFuture()
            fut.resolve(None)
            return fut
        return self._timer(seconds, "sleep")[1]

    def _timer(self, seconds: float, name: str) -> tuple[int, WFuture]:
        timer_id, replayed = self._issue(TimerStarted, name)
        fut = WFuture()
        self._waits.add(timer_id, TimerWait(fut))
        if not replayed:
            self._commands.append(StartTimer(timer_id, self._now_ms + to_ms(seconds), name))
        return timer_id, fut

    def wait_for_signal(self, name: str, timeout: float | None) -> WFuture:
        fut = WFuture()
        found, value = self._signals.take(name)
        if found or (timeout is not None and timeout <= 0):
            fut.resolve(value)
            return fut
        waiter = SignalWaiter(fut)
        if timeout is not None:
            waiter.timer_id, timer = self._timer(timeout, "signal timeout")
            timer.add_done_callback(lambda: fut.resolve(None))
        self._signals.wait(name, waiter)
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
            wf = self._registry.workflow_named(workflow)
        else:
            wf = self._registry.workflow_for(workflow)
        input_json = wf.signature.encode_args(args, kwargs, f"input of child workflow {wf.name!r}")
        command_id, replayed = self._issue(ChildScheduled, wf.name)
        recorded = self._last_recorded
        if replayed and isinstance(recorded, ChildScheduled):
            child_id = recorded.child_id
        child_id = child_id or f"{self.execution_id}/{command_id}"
        fut = WFuture()
        self._waits.add(command_id, ChildWait(fut, child_id, wf))
        if not replayed:
            self._commands.append(
                StartChild(command_id, child_id, wf.name, wf.version, input_json, wait)
            )
        return fut

    def external_task(
        self, timeout: float | None, heartbeat_timeout: float | None
    ) -> tuple[WFuture, str]:
        command_id, replayed = self._issue(ExternalTaskStarted, EXTERNAL_TASK)
        recorded = self._last_recorded
        if replayed and isinstance(recorded, ExternalTaskStarted):
            token = recorded.token
        else:  # unguessable, and recorded: a replay reads it back from the history
            token = make_token(self.execution_id, command_id, secrets.randbits(128))
        timeout_timer = heartbeat_timer = None
        if timeout is not None:
            timeout_timer = (self._reserve_id(), self._now_ms + to_ms(timeout))
        hb_ms = to_ms(heartbeat_timeout) if heartbeat_timeout is not None else None
        if hb_ms is not None:
            heartbeat_timer = (self._reserve_id(), self._now_ms + hb_ms)
        fut = WFuture()
        wait = ExternalWait(
            fut,
            token,
            timeout_timer[0] if timeout_timer else None,
            heartbeat_timer[0] if heartbeat_timer else None,
            hb_ms,
            heartbeat_timer[1] if heartbeat_timer else None,
        )
        self._waits.add(command_id, wait)
        if not replayed:
            self._commands.append(
                StartExternalTask(command_id, token, timeout_timer, heartbeat_timer)
            )
        return fut, token

    def record_state(self, state: str, data: str, exited: bool) -> None:
        record_id, replayed = self._issue(StateExited if exited else StateEntered, state)
        if not replayed:
            self._commands.append(RecordState(record_id, exited, state, data))

    def gather(self, aws: Sequence[Awaitable[Any]]) -> WFuture:
        return self._scheduler.gather(*aws)

    def random(self) -> float:
        return self._rng.random()

    def random_bits(self, k: int) -> int:
        return self._rng.getrandbits(k)

    def _reserve_id(self) -> int:
        """A number for a timer that belongs to the previous command (no event of its own)."""
        reserved = self._next_id
        self._next_id += 1
        return reserved

    def _cancel_timer(self, timer_id: int) -> None:
        self._waits.drop(timer_id)
        self._cancelled_timers.append(timer_id)

    def _issue(self, kind: type[CommandEvent], name: str) -> tuple[int, bool]:
        """Number the next command; True if the history already recorded it (a replay)."""
        command_id = self._next_id
        self._next_id += 1
        recorded = self._recorded.pop(command_id, None)
        self._last_recorded = recorded
        if recorded is None:
            return command_id, False
        now = divergence.Issued(kind, name)
        if divergence.issued(recorded) != now:
            self._diverged = NonDeterminismError(
                f"command #{command_id}", divergence.describe_recorded(recorded), now.describe()
            )
            raise Diverged()
        return command_id, True

    # --- activations --------------------------------------------------------------------------
    def start(self, input_json: str | None, ts: int) -> Activation:
        self._now_ms = ts
        ctx = Context(self)
        args, kwargs = self.workflow.signature.decode_args(input_json) if input_json else ([], {})
        result = self._scheduler.spawn(self.workflow.fn(ctx, *args, **kwargs))
        result.add_done_callback(lambda: self._finish(result))
        return self._run(())

    def activate(
        self, events: Iterable[InputEvent], ts: int, consumed_inbox: Iterable[int] = ()
    ) -> Activation:
        """Feed input events; ``consumed_inbox``: inbox rows this decision consumes, events or
        not (a message for something already settled)."""
        self._now_ms = ts
        if consumed_inbox:
            self._waits.consumed(consumed_inbox)
        deliver = self._deliver
        return self._run(tuple([event for event in events if deliver(event)]))

    def _deliver(self, event: InputEvent) -> bool:
        """True if the event changed something (duplicates, for something already resolved,
        are left out of the history)."""
        if isinstance(event, PLAIN_EVENTS):  # the hot path: a step result, a timer
            unneeded = self._waits.settle(event)
            if unneeded:
                for timer_id in unneeded:
                    self._cancel_timer(timer_id)
            return unneeded is not None
        if isinstance(event, MESSAGE_EVENTS) and event.inbox is not None:
            self._waits.consumed((event.inbox,))  # consumed, whether or not still of use
        if isinstance(event, SignalReceived):
            waiter = self._signals.receive(event.name, event.payload)
            if waiter is not None and waiter.timer_id is not None:
                self._cancel_timer(waiter.timer_id)
            return True
        unneeded = self._waits.settle(event)
        for timer_id in unneeded or ():
            self._cancel_timer(timer_id)
        return unneeded is not None

    def _run(self, accepted: tuple[InputEvent, ...]) -> Activation:
        try:
            self._scheduler.run_until_blocked()
        except Diverged:
            pass
        if self._diverged is not None:
            raise self._diverged
        commands, self._commands = tuple(self._commands), []
        cancelled: tuple[int, ...] = NO_TIMERS
        if self._cancelled_timers:
            cancelled, self._cancelled_timers = tuple(self._cancelled_timers), []
        # whether it still waits matters only to a close (it purges what is left)
        return Activation(accepted, commands, cancelled, self._closed and bool(self._waits))

    def _finish(self, result: WFuture) -> None:
        self._closed = True
        err = result.error
        if err is None:
            try:
                what = f"result of workflow {self.workflow.name!r}"
                out = self.workflow.signature.encode_result(result.value, what)
            except Exception as exc:
                self._commands.append(FailExecution(type(exc).__name__, str(exc), ""))
                return
            self._commands.append(CompleteExecution(out))
        elif isinstance(err, Diverged):
            return
        elif isinstance(err, StatesError):  # a state machine's error: name and cause, as in ASL
            self._commands.append(FailExecution(err.error, err.cause, ""))
        else:
            tb = "".join(traceback.format_exception(err))
            self._commands.append(FailExecution(_error_type(err), str(err), tb))

    # --- replay -------------------------------------------------------------------------------
    def replay(self, history: Sequence[Event]) -> tuple[Command, ...]:
        """Re-run the code over a recorded history; returns the commands the history lacks
        (issued by code that ran after the last recorded transition)."""
        for event in history:
            if isinstance(event, COMMAND_EVENTS):
                self._recorded[event.ref] = event
        new: list[Command] = []
        for batch in _batches(history):
            self._seq = batch[-1].seq
            inputs = [e for e in batch if isinstance(e, INPUT_EVENTS)]
            first = batch[0]
            if isinstance(first, ExecutionStarted):
                self._reports_to_parent = first.parent_ref is not None
                new += self._replay_start(first).commands
                new += self.activate(inputs, first.ts).commands
            elif inputs:
                new += self.activate(inputs, first.ts).commands
        self._cancelled_timers.clear()  # deleted by the transitions that recorded them
        if self._recorded:
            ref = min(self._recorded)
            now = "return from the workflow" if self._closed else divergence.NOTHING
            self._diverged = NonDeterminismError(
                f"command #{ref}", divergence.describe_recorded(self._recorded[ref]), now
            )
            raise self._diverged
        return tuple(new)

    def _replay_start(self, started: ExecutionStarted) -> Activation:
        try:
            return self.start(started.input, started.ts)
        except NonDeterminismError:
            raise
        except Exception as exc:  # the code's signature no longer takes the input
            self._diverged = NonDeterminismError(
                "the workflow input",
                "an input the workflow accepted at start",
                f"reject it ({type(exc).__name__}: {exc})",
            )
            raise self._diverged from None

    def close(self) -> None:
        self._scheduler.close()


def _error_type(err: BaseException) -> str:
    if isinstance(err, StepFailed):
        return err.error_type
    if isinstance(err, WorkflowUsageError):
        return "WorkflowUsageError"
    return type(err).__name__


def _batches(history: Sequence[Event]) -> list[list[Event]]:
    out: list[list[Event]] = []
    for event in history:
        if out and out[-1][0].batch == event.batch:
            out[-1].append(event)
        else:
            out.append([event])
    return out
