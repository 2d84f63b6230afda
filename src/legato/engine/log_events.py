"""The log lines the engine writes about executions, from what their transitions committed.

Each is a stdlib ``logging`` record (the engine does not depend on how an application
configures logging) with a human message and the fields as ``extra``: ``event`` (a stable
name such as ``execution.failed``), ``execution_id``, ``workflow``, ``version``, ``step``,
``attempt``, ``trace_id`` and what the event adds (``error``, ``reason``,
``next_attempt_at``). ``legato.cli.logs`` renders them as JSON lines or for a terminal;
an application's own handlers find the fields on the record.

Thousands of transitions a second pass here, so the caller checks ``EXECUTIONS.isEnabledFor``
(a cached dict lookup) before anything is built: below INFO nothing is.

INFO: an execution started, completed, failed, cancelled, terminated, timed out, resumed,
redriven; a step failed (its retries exhausted, or not retryable) or will be retried.
WARNING: an execution suspended (it waits for an operator: ``loader``); a step no worker of
this process will run, in a process that runs steps. DEBUG: each step scheduled and completed
(and, from the worker that runs it, each attempt started and finished). The engine's other
lines about an execution (a decision that failed, a worker's attempt) carry the same keys
through ``fields`` and ``task_fields``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from legato.core import trace_context
from legato.core.asl.resources import ACTIVITY_PREFIX
from legato.core.events import (
    ExecutionCancelled,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionRedriven,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    ExecutionTimedOut,
    StepCompleted,
    StepFailed,
    StepRetryScheduled,
    StepScheduled,
)
from legato.core.transition import Task, Transition

EXECUTIONS = logging.getLogger("legato.executions")
INFO, DEBUG, WARNING = logging.INFO, logging.DEBUG, logging.WARNING


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


class ExecutionLog:
    """The fields every line about one execution carries."""

    __slots__ = ("fields",)

    def __init__(
        self, execution_id: str, workflow: str | None, version: str | None, traceparent: str | None
    ) -> None:
        self.fields: dict[str, object] = {
            "execution_id": execution_id,
            "workflow": workflow,
            "version": version,
            "trace_id": trace_context.trace_id_of(execution_id, traceparent),
        }

    def emit(
        self,
        level: int,
        event: str,
        message: str,
        step: str | None = None,
        attempt: int | None = None,
        **more: object,
    ) -> None:
        if EXECUTIONS.isEnabledFor(level):
            extra: Mapping[str, object] = {
                "event": event,
                **self.fields,
                "step": step,
                "attempt": attempt,
                **more,
            }
            EXECUTIONS.log(level, message, extra=extra)


def fields(
    event: str,
    execution_id: str,
    traceparent: str | None = None,
    *,
    workflow: str | None = None,
    version: str | None = None,
    step: str | None = None,
    attempt: int | None = None,
) -> dict[str, object]:
    """The ``extra`` of any other line about an execution (an engine's error, a worker's
    step), with the same keys; None where the writer does not know (a worker knows the step,
    not the workflow). Built only for lines that are written (warnings, errors, DEBUG under a
    level check)."""
    return {
        "event": event,
        "execution_id": execution_id,
        "workflow": workflow,
        "version": version,
        "step": step,
        "attempt": attempt,
        "trace_id": trace_context.trace_id_of(execution_id, traceparent),
    }


def task_fields(event: str, task: Task) -> dict[str, object]:
    """``fields`` of a line about a step attempt, from its task."""
    return fields(event, task.execution_id, task.traceparent, step=task.name, attempt=task.attempt)


def committed(
    tr: Transition, workflow: str | None, version: str | None, traceparent: str | None
) -> None:
    """The lines a committed transition is worth (the caller checked INFO is enabled)."""
    eid = tr.execution_id
    out = ExecutionLog(eid, workflow, version, traceparent)
    debug = EXECUTIONS.isEnabledFor(DEBUG)
    if tr.expected_seq == 1 and not tr.update.progress_only:
        # the first decision of an execution recorded PENDING elsewhere (a child, a
        # schedule's fire, an event, a start by a process without an engine): its
        # ExecutionStarted was committed alone, by whoever started it
        out.emit(INFO, "execution.started", f"execution {eid} started")
    for e in tr.events:
        match e:
            case ExecutionStarted():
                out.emit(INFO, "execution.started", f"execution {eid} started",
                         parent_id=e.parent_id)  # fmt: skip
            case ExecutionCompleted():
                out.emit(INFO, "execution.completed", f"execution {eid} completed")
            case ExecutionFailed():
                out.emit(INFO, "execution.failed", f"execution {eid} failed: {e.error_type}",
                         error=e.error_type, error_message=e.message)  # fmt: skip
            case ExecutionCancelled():
                out.emit(INFO, "execution.cancelled", f"execution {eid} cancelled",
                         reason=e.reason)  # fmt: skip
            case ExecutionTerminated():
                out.emit(INFO, "execution.terminated", f"execution {eid} terminated",
                         reason=e.reason)  # fmt: skip
            case ExecutionTimedOut():
                out.emit(INFO, "execution.timed_out", f"execution {eid} timed out",
                         timeout_ms=e.timeout_ms)  # fmt: skip
            case ExecutionSuspended():
                out.emit(WARNING, "execution.suspended",
                         f"execution {eid} suspended: {e.reason}", tr.update.current_step,
                         reason=e.reason, kind=str(e.kind))  # fmt: skip
            case ExecutionResumed():
                out.emit(INFO, "execution.resumed", f"execution {eid} resumed")
            case ExecutionRedriven():
                out.emit(INFO, "execution.redriven", f"execution {eid} redriven",
                         count=e.count)  # fmt: skip
            case StepRetryScheduled():
                out.emit(
                    INFO, "step.retry_scheduled",
                    f"step {e.name} of {eid} failed ({e.error_type}), attempt {e.attempt}; "
                    f"retrying in {e.delay_ms / 1000:g}s",
                    e.name, e.attempt, error=e.error_type, error_message=e.message,
                    next_attempt=e.attempt + 1, next_attempt_at=iso(tr.now + e.delay_ms),
                )  # fmt: skip
            case StepFailed():
                out.emit(INFO, "step.failed",
                         f"step {e.name} of {eid} failed ({e.error_type}), attempt {e.attempt}",
                         e.name, e.attempt, error=e.error_type,
                         error_message=e.message)  # fmt: skip
            case StepScheduled() if debug:
                out.emit(DEBUG, "step.scheduled", f"step {e.name} of {eid} scheduled", e.name,
                         queue=e.queue)  # fmt: skip
            case StepCompleted() if debug:
                out.emit(DEBUG, "step.completed", f"step {e.name} of {eid} completed", e.name,
                         e.attempt)  # fmt: skip
            case _:
                pass


def unserved(
    tr: Transition,
    workflow: str | None,
    version: str | None,
    traceparent: str | None,
    local_steps: frozenset[str],
    local_queues: frozenset[str],
) -> None:
    """In a process that runs steps: a new task its worker will not run (a step it lacks, a
    queue it does not serve) waits for another worker, maybe forever (a typo, a step not
    deployed yet). A Step Functions activity (``activity:NAME``) waits for its poller."""
    for t in tr.task_inserts:
        if t.lease_owner is not None or t.name.startswith(ACTIVITY_PREFIX):
            continue
        out = ExecutionLog(tr.execution_id, workflow, version, traceparent)
        if t.name not in local_steps:
            out.emit(
                WARNING, "step.not_registered",
                f"step {t.name!r} is not registered in this process's worker: execution "
                f"{tr.execution_id} waits for a worker that has it", t.name, queue=t.queue,
            )  # fmt: skip
        elif t.queue not in local_queues:
            out.emit(
                WARNING, "step.not_served",
                f"step {t.name!r} is on queue {t.queue!r}, which this process's worker does "
                f"not serve: execution {tr.execution_id} waits for a worker that does", t.name,
                queue=t.queue,
            )  # fmt: skip
