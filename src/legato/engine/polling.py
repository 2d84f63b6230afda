"""Finding work that other processes wrote: results of workers elsewhere, executions started
by clients, inbox messages, and timers whose in-memory callback was lost. Notifications wake
these polls where the store has them; otherwise they run on an interval."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from legato.core.admit import TimerDue
from legato.core.events import Status
from legato.engine import metrics
from legato.engine.orchestrator import Orchestrator, OrchestratorStore, Wake

log = logging.getLogger("legato.orchestrator")
BATCH = 500


async def poll(store: OrchestratorStore, orch: Orchestrator, timers_until: int | None) -> None:
    """One round of every poll; ``timers_until`` (epoch ms), if given, sweeps due timers."""
    parts = sorted(orch.owned)
    for task in await store.done_tasks(BATCH, parts):
        orch.deliver_done(task)
    for row in await store.pending_executions(BATCH, parts):
        orch.deliver(row.id, Wake())
    for message in await store.inbox(BATCH, parts):
        orch.deliver_message(message)
    if timers_until is not None:
        now = orch.clock.now_ms()
        for eid, timer_id, fire_at in await store.due_timers(timers_until, BATCH, parts):
            metrics.timer_fired(now - fire_at)  # a lost callback's timer: late by the sweep
            orch.deliver(eid, TimerDue(timer_id))
        await start_deadlines(store, orch, parts)


async def start_deadlines(store: OrchestratorStore, orch: Orchestrator, parts: list[int]) -> None:
    """Steps no worker started by their schedule-to-start deadline fail. The store is read
    only once a known deadline is due (tasks rarely have one: no index is kept up for them)."""
    now = orch.clock.now_ms()
    due = orch.start_deadline
    if due is None or due > now:
        return
    orch.start_deadline = None  # deadlines noted while we read are kept (the min below)
    for task in await store.overdue_tasks(now, BATCH, parts):
        orch.deliver_overdue(task)
    upcoming = await store.next_start_deadline(parts)
    if upcoming is not None:
        orch.note_start_deadline(max(upcoming, now + 1))  # an overdue one: the next sweep


async def take_up(
    store: OrchestratorStore,
    orch: Orchestrator,
    parts: list[int],
    is_registered: Callable[[str, str], Awaitable[bool]],
) -> list[str]:
    """Partitions this replica just leased: arm their timers, and resume their executions;
    returns the ids of those resumed."""
    try:
        for eid, timer_id, fire_at in await store.due_timers(2**62, 10**9, parts):
            orch.dispatch.arm_timer(eid, timer_id, fire_at)
        return await resume_all(store, orch, parts, is_registered)
    except Exception:
        log.exception("taking up partitions %s failed; the polls will catch up", parts)
        return []


async def resume_all(
    store: OrchestratorStore,
    orch: Orchestrator,
    parts: list[int],
    is_registered: Callable[[str, str], Awaitable[bool]],
) -> list[str]:
    """Pick up client-started executions, resume suspended ones whose workflow is now
    registered, and replay running ones (up to the cache size) so that code which no longer
    matches its histories is reported now, not when the next event arrives. Returns the ids
    woken."""
    woken = []
    warm = 0
    for row in await store.executions_to_resume(parts):
        if row.status == Status.RUNNING:
            warm += 1
            if warm > orch.cache.size:
                continue
        elif row.status == Status.SUSPENDED and not await is_registered(row.workflow, row.version):
            continue
        orch.deliver(row.id, Wake())
        woken.append(row.id)
    return woken
