"""What one decision writes, applied by a store in one transaction or not at all.

A ``Transition`` is built whole by ``legato.core.decide`` and never edited after: the events
to append, the executions row (guarded by the sequence number the decision read), the tasks,
timers and inbox messages it adds or consumes, and whom to wake once it is committed.
"""

from __future__ import annotations

from typing import NamedTuple

from legato.core.events import Event, Status, SuspendKind


class Task(NamedTuple):
    """One step attempt in the task queue: inserted by a transition, claimed by a worker.

    ``id`` is ``{execution_id}:{step_id}``, the step's idempotency key; ``attempt`` counts
    claims. A task for a queue the deciding process serves is inserted already leased to it
    (``lease_owner``), so it runs right after the commit with no claim round trip."""

    id: str
    execution_id: str
    step_id: int
    name: str
    queue: str
    args: str
    available_at: int
    attempt: int
    lease_owner: str | None
    lease_expires_at: int | None
    outcome: str | None = None  # the Outcome's JSON once a worker in another process is done
    heartbeat_details: str | None = None
    start_by: int | None = None  # its schedule-to-start deadline: no worker claims it after
    # its execution's span (``trace_context.own_traceparent``): a step attempt's span is its
    # child; None when the execution is the root of its own trace (derived from its id)
    traceparent: str | None = None


class TaskRetry(NamedTuple):
    """Put a failed task back for another attempt."""

    task_id: str
    attempt: int  # the attempt that failed
    available_at: int
    lease_owner: str | None  # pre-leased to a local worker, or None for any worker
    lease_expires_at: int | None


class ExecutionUpdate(NamedTuple):
    status: Status
    current_step: str | None
    output: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    reason: str | None = None
    suspend_kind: SuspendKind | None = None
    closed_at: int | None = None
    progress_only: bool = False  # status stays RUNNING: only seq, current step and time change


class Transition(NamedTuple):
    execution_id: str
    expected_seq: int  # the guard: the executions row must still be at this seq
    now: int
    events: tuple[Event, ...]
    update: ExecutionUpdate
    task_inserts: tuple[Task, ...] = ()
    task_deletes: tuple[tuple[str, int], ...] = ()  # (task id, attempt): guarded
    task_retries: tuple[TaskRetry, ...] = ()  # guarded
    timer_inserts: tuple[tuple[int, int], ...] = ()  # (timer id, fire_at)
    timer_deletes: tuple[int, ...] = ()  # guarded
    inbox_deletes: tuple[int, ...] = ()  # inbox row ids consumed: guarded
    child_starts: tuple[ChildStart, ...] = ()
    purge: bool = False  # closed with work outstanding: delete its remaining tasks and timers
    park: bool = False  # suspended: its waiting tasks are handed to no worker
    unpark: bool = False  # resumed: hand them out again
    # Whom to wake once committed (besides the child_starts' executions): this process's
    # worker runs ``local_tasks`` (at their available_at); ``wakes_inbox``: the inbox may hold
    # new messages for executions decided here (a child answered at once, or a parent was told).
    local_tasks: tuple[Task, ...] = ()
    wakes_inbox: bool = False
    # Cancellation: the running steps (task ids) its workers are asked to stop.
    cancel_tasks: tuple[str, ...] = ()
    # Closing with children that may still be open: each gets what its close policy says.
    cascades: bool = False
    start_deadline: int | None = None  # the earliest start_by of its tasks, if any has one

    @property
    def new_seq(self) -> int:
        return self.expected_seq + len(self.events)

    @property
    def closes(self) -> bool:
        return self.update.closed_at is not None


class NewExecution(NamedTuple):
    id: str
    workflow: str
    version: str
    input: str | None
    now: int
    transition: Transition  # events from seq 1, and what the first decision did
    partition: int
    labels: str | None = None  # a JSON object of strings (``app.start(labels=...)``), or None
    started_by: str | None = None  # JSON: what started it (``{"kind": "api"}``...), or None


class ChildStart(NamedTuple):
    """A child execution recorded PENDING in its parent's transition. If its id exists, the
    same workflow and input attach to it; anything else leaves a ``conflict`` message for the
    parent. ``wait``: the parent's command awaits its result, delivered to the parent's inbox
    when the child closes; otherwise (fire and forget) the parent gets a ``started`` message."""

    new: NewExecution
    parent_id: str
    command_id: int
    wait: bool
    close_policy: str = "request_cancel"  # a ParentClosePolicy
