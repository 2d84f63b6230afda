"""Records the golden histories: ``.venv/bin/python -m tests.golden.record``.

When to re-record: only when the history format changes on purpose (a new event field, a
renamed event type, a different command numbering) and the old files can no longer be read.
Say so in the commit message, and review the diff of ``histories/``: every change in it is a
change users' exported histories will see too. Never re-record to make a failing replay pass:
a golden history that stops replaying means running executions would stop replaying as well.

``python -m tests.golden.record NAME...`` records only the scenarios named and leaves the other
files alone: how a new scenario is added without touching the histories already kept.

Each workflow of ``tests/golden/workflows.py`` runs to completion in a ``WorkflowEnvironment``
of its own (a throw-away SQLite database, a time-skipping clock starting at ``START``), driven
by the signals and task-token calls it needs; the recorder waits for events in the history,
never for a fixed time. Every execution (children too) is exported with
``legato.core.export.export_history``, the JSON of ``legato executions history ID --json``,
to ``histories/<execution id>.json`` (a ``/`` in a child's id becomes ``__``). One thing is
changed: tracebacks name files relative to the repository root, so the files do not depend
on where they were recorded. Timestamps and task tokens differ from one recording to the
next (the clock runs at wall speed between skips; tokens are random).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import legato
from legato.core.event_rows import to_row
from legato.core.events import Event, EventType, ExternalTaskStarted
from legato.core.export import export_history
from legato.testing import WorkflowEnvironment
from tests.golden import workflows
from tests.golden.workflows import Order, app

START = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
HISTORIES = Path(__file__).parent / "histories"
ROOT = Path(__file__).resolve().parents[2]
LIMIT = 60.0  # seconds of real time any one wait may take before the recorder gives up

ORDER = Order("o-1", ["book", "lamp", "mug"], 120)


@dataclass(frozen=True)
class Recording:
    """One scenario: ``run`` drives it and returns the ids of the executions it produced,
    each of which must end with ``status``; ``expects`` are event types its history (or its
    children's) must hold, so a recording that did not exercise what it is for fails."""

    name: str
    run: Callable[[legato.App], Awaitable[list[str]]]
    expects: frozenset[EventType]


async def until(
    handle: legato.Handle[Any], what: str, check: Callable[[list[Event]], bool]
) -> list[Event]:
    """Polls the history until ``check`` holds; fails (instead of hanging) if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LIMIT
    while True:
        history = await handle.history()
        if check(history):
            return history
        if loop.time() > deadline:
            raise RuntimeError(f"{handle.id}: {what} never happened")
        await asyncio.sleep(0.01)


def count(kind: EventType, name: str | None = None) -> Callable[[list[Event]], int]:
    def counted(history: list[Event]) -> int:
        return sum(
            1 for e in history if e.type == kind and (name is None or to_row(e).name == name)
        )

    return counted


def token_of(history: list[Event], n: int) -> str:
    """The task token of the ``n``-th external task (0-based) the history started."""
    return [e for e in history if isinstance(e, ExternalTaskStarted)][n].token


async def finished(handle: legato.Handle[Any]) -> None:
    try:
        await handle.result(timeout=LIMIT)
    except legato.ExecutionFailedError:
        pass  # a failing execution is recorded too; its status is checked by the caller


# --- the scenarios ----------------------------------------------------------------------------
async def run_checkout(app: legato.App) -> list[str]:
    handle = await app.start(workflows.checkout, ORDER, id="checkout")
    await finished(handle)
    return [handle.id]


async def run_retries(app: legato.App) -> list[str]:
    handle = await app.start(workflows.retries, "o-2", id="retries")
    await finished(handle)
    return [handle.id]


async def run_fan_out(app: legato.App) -> list[str]:
    handle = await app.start(workflows.fan_out, ORDER, id="fan_out")
    await finished(handle)
    return [handle.id]


async def run_approval(app: legato.App) -> list[str]:
    handle = await app.start(workflows.approval, "o-3", id="approval")
    step_done = count(EventType.STEP_COMPLETED, "request_approval")
    await until(handle, "the approval request", lambda h: step_done(h) == 1)
    await app.signal(handle.id, "decision", {"approved": True, "by": "ann"})
    await finished(handle)
    return [handle.id]


async def run_family(app: legato.App) -> list[str]:
    handle = await app.start(workflows.family, ORDER, id="family")
    await finished(handle)
    ids = [handle.id, "family-invoice", "family/2", "family/3"]
    for child in ids[1:]:
        await finished(app.get_handle(child))
    return ids


async def run_callbacks(app: legato.App) -> list[str]:
    handle = await app.start(workflows.callbacks, "o-4", id="callbacks")
    handed_out = count(EventType.STEP_COMPLETED, "hand_out")
    history = await until(handle, "the first token handed out", lambda h: handed_out(h) == 1)
    token = token_of(history, 0)
    await app.send_task_heartbeat(token)
    beats = count(EventType.EXTERNAL_TASK_HEARTBEAT)
    await until(handle, "the heartbeat", lambda h: beats(h) == 1)
    await app.send_task_success(token, {"approved": True})
    history = await until(handle, "the second token handed out", lambda h: handed_out(h) == 2)
    await app.send_task_failure(token_of(history, 1), "Rejected", "over budget")
    await finished(handle)
    return [handle.id]


async def run_draws(app: legato.App) -> list[str]:
    handle = await app.start(workflows.draws, id="draws")
    await finished(handle)
    return [handle.id]


def run_machine(name: str, input: Any) -> Callable[[legato.App], Awaitable[list[str]]]:
    async def run(app: legato.App) -> list[str]:
        handle = await app.start(name, input, id=name)
        await finished(handle)
        return [handle.id]

    return run


async def run_review(app: legato.App) -> list[str]:
    handle = await app.start("review", {"order": "o-5"}, id="review")
    asked = count(EventType.STEP_COMPLETED, "ask_reviewer")
    history = await until(handle, "the reviewer asked", lambda h: asked(h) == 1)
    await app.send_task_success(token_of(history, 0), {"approved": False, "note": "too dear"})
    await finished(handle)
    return [handle.id]


async def run_booking(app: legato.App) -> list[str]:
    handle = await app.start(workflows.booking, "o-9", id="booking")
    await finished(handle)
    return [handle.id]


async def run_cancelled(app: legato.App) -> list[str]:
    handle = await started(app, workflows.cancelled, "cancelled")
    await handle.cancel("changed plans")
    await finished(handle)
    return [handle.id]


async def run_terminated(app: legato.App) -> list[str]:
    handle = await started(app, workflows.terminated, "terminated")
    await handle.terminate("stuck")
    await finished(handle)
    return [handle.id]


async def started(app: legato.App, workflow: Any, execution_id: str) -> legato.Handle[Any]:
    handle = await app.start(workflow, f"o-{execution_id}", id=execution_id)
    begun = count(EventType.EXECUTION_STARTED)
    await until(handle, "the start", lambda h: begun(h) == 1)
    return handle


async def run_timed_out(app: legato.App) -> list[str]:
    handle = await app.start(workflows.timed_out, "o-12", id="timed_out")
    await finished(handle)
    return [handle.id]


async def run_redriven(app: legato.App) -> list[str]:
    workflows.REDRIVE_FIXED["yes"] = False
    handle = await app.start(workflows.redriven, "o-13", id="redriven")
    await finished(handle)
    workflows.REDRIVE_FIXED["yes"] = True
    await app.redrive(handle.id)
    await finished(handle)
    return [handle.id]


E = EventType
RECORDINGS = [
    Recording("checkout", run_checkout, frozenset({E.STEP_SCHEDULED, E.STEP_COMPLETED})),
    Recording("retries", run_retries, frozenset({E.STEP_RETRY_SCHEDULED, E.STEP_FAILED})),
    Recording("fan_out", run_fan_out, frozenset({E.TIMER_STARTED, E.TIMER_FIRED})),
    Recording("approval", run_approval, frozenset({E.SIGNAL_RECEIVED, E.TIMER_FIRED})),
    Recording(
        "family",
        run_family,
        frozenset({E.CHILD_SCHEDULED, E.CHILD_STARTED, E.CHILD_COMPLETED, E.CHILD_FAILED}),
    ),
    Recording(
        "callbacks",
        run_callbacks,
        frozenset(
            {
                E.EXTERNAL_TASK_STARTED,
                E.EXTERNAL_TASK_HEARTBEAT,
                E.EXTERNAL_TASK_COMPLETED,
                E.EXTERNAL_TASK_FAILED,
            }
        ),
    ),
    Recording("draws", run_draws, frozenset({E.TIMER_FIRED})),
    Recording(
        "pricing",
        run_machine("pricing", {"order": "o-6", "quantity": 3}),
        frozenset({E.STATE_ENTERED, E.STATE_EXITED, E.TIMER_FIRED}),
    ),
    Recording(
        "payment",
        run_machine("payment", {"order": "o-7"}),
        frozenset({E.STEP_FAILED, E.TIMER_FIRED}),
    ),
    Recording(
        "packing",
        run_machine("packing", {"order": "o-8", "items": ["book", "lamp"]}),
        frozenset({E.STEP_COMPLETED, E.TIMER_FIRED}),
    ),
    Recording(
        "stocking",
        run_machine("stocking", {"lines": [{"sku": s} for s in ("b-1", "l-2", "m-3")]}),
        frozenset({E.STEP_COMPLETED}),
    ),
    Recording("review", run_review, frozenset({E.EXTERNAL_TASK_COMPLETED})),
    Recording(
        "booking", run_booking, frozenset({E.COMPENSATION_STARTED, E.COMPENSATION_COMPLETED})
    ),
    Recording("cancelled", run_cancelled, frozenset({E.CANCEL_REQUESTED, E.EXECUTION_CANCELLED})),
    Recording("terminated", run_terminated, frozenset({E.EXECUTION_TERMINATED})),
    Recording("timed_out", run_timed_out, frozenset({E.EXECUTION_TIMED_OUT})),
    Recording("redriven", run_redriven, frozenset({E.EXECUTION_REDRIVEN})),
]

#: How each execution ends when it does not complete.
ENDS = {
    "family/2": legato.Status.FAILED,
    "booking": legato.Status.FAILED,
    "cancelled": legato.Status.CANCELLED,
    "terminated": legato.Status.TERMINATED,
    "timed_out": legato.Status.TIMED_OUT,
}


# --- writing ----------------------------------------------------------------------------------
def file_name(execution_id: str) -> str:
    return execution_id.replace("/", "__") + ".json"


def relative_tracebacks(exported: dict[str, Any]) -> dict[str, Any]:
    prefix = f"{ROOT}/"
    for event in exported["events"]:
        tb = event["meta"].get("traceback")
        if isinstance(tb, str):
            event["meta"]["traceback"] = tb.replace(prefix, "")
    return exported


async def record(recording: Recording) -> dict[str, dict[str, Any]]:
    async with WorkflowEnvironment(app, start=START):
        ids = await recording.run(app)
        out: dict[str, dict[str, Any]] = {}
        seen: set[EventType] = set()
        for execution_id in ids:
            handle = app.get_handle(execution_id)
            row = await handle.status_row()
            want = ENDS.get(execution_id, legato.Status.COMPLETED)
            if row.status != want:
                raise RuntimeError(f"{execution_id} ended {row.status}, not {want}")
            events = await handle.history()
            seen |= {e.type for e in events}
            exported = export_history(row.id, row.workflow, row.version, events)
            out[file_name(execution_id)] = relative_tracebacks(exported)
    missing = recording.expects - seen
    if missing:
        raise RuntimeError(f"{recording.name}: no {sorted(missing)} in its histories")
    return out


async def main(only: list[str]) -> None:
    """Every scenario (the old files go), or only those named (a new scenario's files are
    added; the others stay as they are)."""
    unknown = set(only) - {r.name for r in RECORDINGS}
    if unknown:
        raise SystemExit(f"no scenario {sorted(unknown)}")
    files: dict[str, dict[str, Any]] = {}
    for recording in RECORDINGS:
        if not only or recording.name in only:
            files.update(await record(recording))
    HISTORIES.mkdir(exist_ok=True)
    if not only:
        for stale in HISTORIES.glob("*.json"):
            stale.unlink()
    for name, exported in sorted(files.items()):
        (HISTORIES / name).write_text(json.dumps(exported, indent=2) + "\n")
        print(f"{name}: {len(exported['events'])} events")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
