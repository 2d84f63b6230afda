"""After a commit, in this process: the steps leased to it go to its worker, durable timers
are armed in memory, and retries wait for their time with their lease held.

The timers' rows are the durable truth; the in-memory timer is the fast path, and a poll finds
any due timer whose callback was lost (a restart, a partition taken over).
"""

from __future__ import annotations

from collections.abc import Callable

from legato.core.admit import TimerDue
from legato.core.transition import Task, Transition
from legato.engine import metrics
from legato.engine.local_steps import LocalSteps
from legato.ports.clock import Clock


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

    def committed(self, tr: Transition) -> None:
        local = self.local
        if local is not None:
            for task in tr.local_tasks:
                if task.available_at <= tr.now:
                    local.run(task)
                else:
                    self._run_later(local, task)
        for timer_id, fire_at in tr.timer_inserts:
            self.arm_timer(tr.execution_id, timer_id, fire_at)

    def arm_timer(self, execution_id: str, timer_id: int, fire_at: int) -> None:
        def due() -> None:
            metrics.timer_fired(self.clock.now_ms() - fire_at)
            self.deliver(execution_id, TimerDue(timer_id))

        self.clock.call_at(fire_at, due)

    def _run_later(self, local: LocalSteps, task: Task) -> None:
        local.hold(task)

        def due() -> None:
            if self.still_waits(task.execution_id, task.step_id):
                local.run(task)
            else:  # closed (its task is gone) or evicted: a poll claims it once the lease ends
                local.release(task.id)

        self.clock.call_at(task.available_at, due)
