"""Schedules as rows, and a fire as one script of named queries (``sql_scripts``), written once
for both dialects: each adapter runs it inside one transaction of its own.

A fire reads the schedule and which of its runs are still open, decides with the overlap
policy (``core.schedules.on_fire``), then writes the fire's row, the execution it starts (the
rows the SQLite ``start_execution`` writes), the cancellations or terminations it asks for,
and the schedule's new state, guarded by the revision the caller decided on.
"""

from __future__ import annotations

from typing import Any

from legato.adapters.sql_scripts import Query, SqlScript
from legato.adapters.transition_rows import execution_insert_row, insert_rows, label_rows
from legato.core import codec
from legato.core.messages import InboxKind
from legato.core.schedules import (
    FireKind,
    FireOutcome,
    FirePlan,
    OverlapPolicy,
    ScheduleSpec,
    on_fire,
)
from legato.core.transition import NewExecution
from legato.ports.schedules import Fire, FireResult, Schedule, ScheduleFire


def schedule_from_row(row: tuple[Any, ...]) -> Schedule:
    (name, workflow, version, spec, input_json, overlap, window, paused, note, next_fire,
     buffered, running, missed, skipped, started, revision, origin, partition, created,
     updated) = row  # fmt: skip
    return Schedule(
        name=name,
        workflow=workflow,
        version=version,
        spec=ScheduleSpec.from_dict(codec.loads(spec)),
        input=input_json,
        overlap=OverlapPolicy(overlap),
        catchup_window_ms=int(window),
        paused=bool(paused),
        note=note,
        next_fire_ms=None if next_fire is None else int(next_fire),
        buffered_ms=None if buffered is None else int(buffered),
        running=tuple(codec.loads(running)),
        missed=int(missed),
        skipped=int(skipped),
        started=int(started),
        revision=int(revision),
        origin=origin,
        partition=int(partition),
        created_at=int(created),
        updated_at=int(updated),
    )


def schedule_params(s: Schedule) -> dict[str, Any]:
    return {
        "name": s.name,
        "workflow": s.workflow,
        "version": s.version,
        "spec": codec.dumps(s.spec.as_dict(), "schedule spec"),
        "input": s.input,
        "overlap": s.overlap.value,
        "catchup_window_ms": s.catchup_window_ms,
        "paused": s.paused,
        "note": s.note,
        "next_fire_ms": s.next_fire_ms,
        "buffered_ms": s.buffered_ms,
        "running": codec.dumps(list(s.running), "running executions"),
        "missed": s.missed,
        "skipped": s.skipped,
        "started": s.started,
        "revision": s.revision,
        "origin": s.origin,
        "partition": s.partition,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def fire_from_row(row: tuple[Any, ...]) -> ScheduleFire:
    schedule, fire_ms, kind, outcome, execution_id, at_ms = row
    return ScheduleFire(
        schedule, int(fire_ms), FireKind(kind), FireOutcome(outcome), execution_id, int(at_ms)
    )


def start_execution(new: NewExecution) -> SqlScript:
    """Insert a PENDING execution with its first events (and labels); False if its id exists
    (this fire started it before: done, never started twice)."""
    if (yield Query("insert_execution", execution_insert_row(new))).rowcount == 0:
        return False
    for name, rows in insert_rows([new.transition]):
        for row in rows:
            yield Query(name, row)
    for row in label_rows([new]):
        yield Query("insert_label", row)
    return True


_STOP_REASON = "the schedule {name} fired at {fire} and its overlap policy is {policy}"


def fire(f: Fire) -> SqlScript:
    """One fire (``legato.ports.schedules.Fire``) in the caller's transaction."""
    rows = (yield Query("lock_schedule", {"name": f.name})).rows
    if not rows:
        return FireResult(None)
    s = schedule_from_row(rows[0])
    if f.kind == FireKind.BACKFILL:
        return (yield from _backfill(f))
    if f.revision is not None and s.revision != f.revision:
        return FireResult(None)  # moved on since the caller read it: read again
    open_runs: list[str] = []
    if s.running:
        found = (yield Query("open_executions", {"ids": list(s.running)})).rows
        still = {r[0] for r in found}
        open_runs = [eid for eid in s.running if eid in still]
    if f.from_buffer and open_runs:
        return FireResult(None)  # not yet: the runs it waits for are open
    if f.kind == FireKind.MANUAL or f.from_buffer:
        plan = FirePlan(FireOutcome.STARTED, True, False, False, False)
    else:
        plan = on_fire(s.overlap, len(open_runs), s.buffered_ms is not None)
    new = f.new if plan.start else None
    execution = None if new is None else new.id
    if f.from_buffer:
        params = {"name": f.name, "fire_ms": f.fire_ms, "outcome": FireOutcome.STARTED.value,
                  "execution_id": execution, "now": f.now}  # fmt: skip
        yield Query("start_fire", params)
    else:
        params = {"name": f.name, "fire_ms": f.fire_ms, "kind": f.kind.value,
                  "outcome": plan.outcome.value, "execution_id": execution,
                  "now": f.now}  # fmt: skip
        yield Query("insert_fire", params)
    created = False
    if new is not None:
        created = yield from start_execution(new)
        open_runs.append(new.id)
    stopped: tuple[str, ...] = ()
    if plan.cancel or plan.terminate:
        kind = InboxKind.CANCEL if plan.cancel else InboxKind.TERMINATE
        reason = _STOP_REASON.format(name=f.name, fire=f.fire_ms, policy=s.overlap.value)
        for eid in open_runs:
            message = {"eid": eid, "kind": kind.value, "name": None, "ref": None,
                       "payload": codec.dumps(reason, "reason"), "now": f.now}  # fmt: skip
            yield Query("send_inbox", message)
        stopped = tuple(open_runs)
    if plan.buffer:
        buffered: int | None = f.fire_ms
    else:
        buffered = None if f.from_buffer else s.buffered_ms
    next_fire = (
        f.next_fire_ms if f.kind == FireKind.SCHEDULED and not f.from_buffer else (s.next_fire_ms)
    )
    advance = {
        "name": f.name,
        "revision": s.revision,
        "next_fire_ms": next_fire,
        "buffered_ms": buffered,
        "running": codec.dumps(open_runs, "running executions"),
        "missed": f.missed,
        "skipped": 1 if plan.outcome == FireOutcome.SKIPPED else 0,
        "started": 1 if created else 0,
        "now": f.now,
    }
    yield Query("advance_schedule", advance)
    return FireResult(plan.outcome, execution, created, stopped)


def _backfill(f: Fire) -> SqlScript:
    """A past fire started on demand: recorded (or a fire of that time that started nothing
    now starts), its execution inserted unless it exists; the schedule's state is not touched
    (a backfill's runs are waited for by the backfill itself)."""
    new = f.new
    assert new is not None
    created = yield from start_execution(new)
    params = {"name": f.name, "fire_ms": f.fire_ms, "kind": f.kind.value,
              "outcome": FireOutcome.STARTED.value, "execution_id": new.id,
              "now": f.now}  # fmt: skip
    if (yield Query("insert_fire", params)).rowcount == 0:
        yield Query("start_fire", params)
    return FireResult(FireOutcome.STARTED, new.id, created)
