"""After a commit, in this process: the steps leased to it go to its worker, durable timers
are armed in memory, and retries wait for their time with their lease held.

The timers' rows are the durable truth; the in-memory timer is the fast path, and a poll finds
any due timer whose callback was lost (a restart, a partition taken over).

Under the test kit's time-skipping clock, a task token's timeout and heartbeat timers are armed
as deadlines of an answer from outside (``SkippingClock.call_at_deadline``): the clock does not
jump to them the moment the engine is idle, since the test may be about to send the callback.
Those in-memory timers are dropped when their rows go (the wait ended, a heartbeat moved the
timer on, the execution closed), so a stale one holds nothing back.
"""

from __future__ import annotations

from collections.abc import Callable

from legato.core.admit import TimerDue
from legato.core.events import ExternalTaskStarted
from legato.core.transition import Task, Transition
from legato.engine import metrics
from legato.engine.clock import SkippingClock
from legato.engine.local_steps import LocalSteps
from legato.ports.clock import Clock, TimerHandle


class Dispatcher:
    def __init__(
        self,
        clock: Clock,
        local: LocalSteps | None,
        deliver: Callable[[str, TimerDue], None],
        still_waits: Callable[[str, int], bool],
    ) -> None:
        """``deliver(execution_id, TimerDue)`` hands a due timer to the orchestrator;
        ``still_waits(execution_id, step_id)``: the decider still waits for that step here."""
        self.clock = clock
        self.local = local
        self.deliver = deliver
        self.still_waits = still_waits
        # a skipping clock's in-memory task token deadlines: execution -> timer id -> handle
        self._deadlines: dict[str, dict[int, TimerHandle]] = {}

    def committed(self, tr: Transition) -> None:
        local = self.local
        if local is not None:
            for task in tr.local_tasks:
                if task.available_at <= tr.now:
                    local.run(task)
                else:
                    self._run_later(local, task)
        if not isinstance(self.clock, SkippingClock):
            for timer_id, fire_at in tr.timer_inserts:
                self.arm_timer(tr.execution_id, timer_id, fire_at)
            return
        deadlines = self._token_deadlines(tr)
        for timer_id, fire_at in tr.timer_inserts:
            self.arm_timer(tr.execution_id, timer_id, fire_at, deadline=timer_id in deadlines)

    def _token_deadlines(self, tr: Transition) -> set[int]:
        """The timer ids of ``tr`` that are task token deadlines: those its waits started with,
        and those it moves on (a heartbeat deletes the timer's row and inserts it again). The
        in-memory timers of rows it deletes are cancelled (and all of them when it closes:
        ``closed``)."""
        ids = {
            timer
            for e in tr.events
            if isinstance(e, ExternalTaskStarted)
            for timer in (e.timeout_timer, e.heartbeat_timer)
            if timer is not None
        }
        armed = self._deadlines.get(tr.execution_id, {})
        for timer_id in tr.timer_deletes:
            handle = armed.pop(timer_id, None)
            if handle is not None:
                handle.cancel()
                ids.add(timer_id)
        return ids

    def closed(self, execution_id: str) -> None:
        """The execution closed: its task token deadlines will never matter."""
        for handle in self._deadlines.pop(execution_id, {}).values():
            handle.cancel()

    def arm_timer(
        self, execution_id: str, timer_id: int, fire_at: int, *, deadline: bool = False
    ) -> None:
        def due() -> None:
            if deadline:
                armed = self._deadlines.get(execution_id, {})
                if armed.get(timer_id) is handle:
                    del armed[timer_id]
            metrics.timer_fired(self.clock.now_ms() - fire_at)
            self.deliver(execution_id, TimerDue(timer_id))

        handle: TimerHandle
        if deadline and isinstance(self.clock, SkippingClock):
            handle = self.clock.call_at_deadline(fire_at, due)
            self._deadlines.setdefault(execution_id, {})[timer_id] = handle
        else:
            handle = self.clock.call_at(fire_at, due)

    def _run_later(self, local: LocalSteps, task: Task) -> None:
        local.hold(task)

        def due() -> None:
            if self.still_waits(task.execution_id, task.step_id):
                local.run(task)
            else:  # closed (its task is gone) or evicted: a poll claims it once the lease ends
                local.release(task.id)

        self.clock.call_at(task.available_at, due)
