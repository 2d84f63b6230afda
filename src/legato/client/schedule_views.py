"""Schedules as the HTTP API answers them and ``legato schedules --json`` prints them, read and
made through an ``App``: one place for the JSON shapes, so a command prints the same on
``--db`` as through ``--server``; and a create or update body (JSON) turned into the App's
calls, each invalid field named (``InvalidSchedule``).

Shapes: a schedule is ``Schedule.as_json()`` with its stored call as ``args`` and ``kwargs``
and its next fire times (``next_fire_times``, ``NEXT_SHOWN`` of them); a run is
``ScheduleFire.as_json()`` with its execution's ``status``; a backfill is ``{name, from, to,
state, done, total, report}``. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from legato.client.app import App
from legato.client.schedules import DEFAULT_CATCHUP, ScheduleDef
from legato.core import codec
from legato.core.durations import epoch_ms, instant
from legato.core.schedules import policy
from legato.errors import ConfigurationError, ExecutionNotFound
from legato.ports.schedules import Schedule

NEXT_SHOWN = 5
Progress = Callable[[int, int], None]


class InvalidSchedule(ConfigurationError):
    """A schedule's field is wrong: ``field`` names it (as the API's body does); ``paths``,
    the JSON paths of each problem when there are several (a call's arguments)."""

    def __init__(self, field: str | None, message: str, paths: list[str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.paths = paths or []


def check_call(app: App, workflow: str, version: str | None, call: Any) -> None:
    """A code workflow this app registers takes the call (checked against its parameters,
    as a start's input is): a schedule must not fire runs that cannot start."""
    if call is None:
        return
    args, kwargs = call
    wf = app.registry.registered(workflow, version)
    if wf is None or wf.kind == "state_machine":
        return
    problems = wf.arg_schema.check(list(args), dict(kwargs))
    if problems:
        said = "; ".join(f"{p.path}: {p.message}" for p in problems)
        message = f"the input does not fit workflow {workflow!r}: {said}"
        raise InvalidSchedule("args", message, [p.path for p in problems])


def epoch(moment: datetime) -> int:
    """A time as epoch ms (a naive time is UTC)."""
    return epoch_ms(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def iso_ms(ms: int) -> str:
    return instant(ms).isoformat().replace("+00:00", "Z")


def _time_ms(value: Any, field: str) -> int | None:
    if value is None:
        return None
    try:
        return epoch(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise InvalidSchedule(field, f"{field}: {value!r} is not an ISO 8601 time") from None


def call_of(body: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]] | None:
    """The workflow call a body gives: ``args``/``kwargs``, or ``input`` as the one argument
    (a state machine's input is its one argument); None if it gives none."""
    has_input = "input" in body
    if has_input and (body.get("args") or body.get("kwargs")):
        raise InvalidSchedule("input", "input: give either input or args/kwargs, not both")
    if has_input:
        return [body["input"]], {}
    if "args" in body or "kwargs" in body:
        return list(body.get("args") or []), dict(body.get("kwargs") or {})
    return None


async def shown(app: App, schedule: Schedule, count: int = NEXT_SHOWN) -> dict[str, Any]:
    """A schedule as shown, with its next ``count`` fire times."""
    out = dict(schedule.as_json())
    stored = out.pop("input", None) or [[], {}]
    out["args"], out["kwargs"] = list(stored[0]), dict(stored[1])
    times = await app.next_fire_times(schedule.name, count) if count else []
    out["next_fire_times"] = [iso_ms(t) for t in times]
    return out


async def described(app: App, name: str, count: int = NEXT_SHOWN) -> dict[str, Any]:
    return await shown(app, await app.get_schedule(name), count)


async def listed(app: App) -> list[dict[str, Any]]:
    return [await shown(app, s) for s in await app.list_schedules()]


async def runs(app: App, name: str, limit: int) -> list[dict[str, Any]]:
    """Its recent fires, newest first, each with its execution's status (None: no execution,
    or one since purged)."""
    found: list[dict[str, Any]] = []
    for fire in await app.schedule_runs(name, limit):
        out = dict(fire.as_json())
        out["status"] = None
        if fire.execution_id is not None:
            try:
                out["status"] = (await app.get_handle(fire.execution_id).status()).status.value
            except ExecutionNotFound:
                pass
        found.append(out)
    return found


#: a body's field -> ``ScheduleDef``'s (the others are the same)
_RENAMED = {
    "interval_seconds": "interval",
    "jitter_seconds": "jitter",
    "catchup_window_seconds": "catchup_window",
}
#: what the App's errors call a field (``"cron: ..."``) -> the body's field
_FIELD_OF = {
    "cron": "cron",
    "interval": "interval_seconds",
    "timezone": "timezone",
    "end": "end_at",
    "start": "start_at",
    "jitter": "jitter_seconds",
    "overlap": "overlap",
    "catchup_window": "catchup_window_seconds",
    "schedule": "name",
}


def _named(exc: ConfigurationError) -> InvalidSchedule:
    """The App's words, with the body's field they are about (``"cron: ..."``: ``cron``)."""
    text = str(exc)
    head = text.split(":", 1)[0].strip()
    field = _FIELD_OF.get(head) or _FIELD_OF.get(head.split(" ")[0])
    return InvalidSchedule(field, text)


def _changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """A body's fields as ``ScheduleDef``'s (and ``update_schedule``'s) keywords. ``args``,
    ``kwargs`` or ``input`` give the whole call (what is not given of it is empty)."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("name", "args", "kwargs", "input", "paused"):
            continue
        if key in ("start_at", "end_at"):
            moment = _time_ms(value, key)
            value = None if moment is None else instant(moment)
        out[_RENAMED.get(key, key)] = value
    call = call_of(body)
    if call is not None:
        out["args"], out["kwargs"] = call
    return out


async def create(app: App, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create the schedule a body describes (``api/schedules.py``'s ``CreateSchedule``)."""
    fields = _changes(body)
    if fields.get("catchup_window") is None:
        fields.pop("catchup_window", None)
    try:
        definition = ScheduleDef(
            name=str(body["name"]), paused=bool(body.get("paused", False)), **fields
        )
        definition.spec()  # the timing first: its problems name their field
        policy(definition.overlap)
        check_call(app, definition.workflow, definition.version, call_of(body) or ([], {}))
        made = await app.create_schedule(definition)
    except InvalidSchedule:
        raise
    except ConfigurationError as exc:
        raise _named(exc) from None
    return await shown(app, made)


async def update(app: App, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Change the fields a body gives (``UpdateSchedule``); the others stay. A null clears a
    field that may be empty (``version``: the latest; ``cron`` or ``interval_seconds`` when the
    other is given; the bounds, the jitter, the note); the catch-up window goes back to its
    default; a null ``workflow``, ``timezone`` or ``overlap`` changes nothing."""
    body = {
        k: v
        for k, v in body.items()
        if v is not None or k not in ("workflow", "timezone", "overlap")
    }
    changes = _changes(body)
    if changes.get("catchup_window", 0) is None:
        changes["catchup_window"] = DEFAULT_CATCHUP
    call = call_of(body)
    if call is not None or "workflow" in body or "version" in body:
        current = await app.get_schedule(name)
        stored = codec.loads(current.input)
        check_call(
            app,
            str(body.get("workflow") or current.workflow),
            body.get("version", current.version),
            call or (stored[0], stored[1]),
        )
    try:
        changed = await app.update_schedule(name, **changes)
    except InvalidSchedule:
        raise
    except ConfigurationError as exc:
        raise _named(exc) from None
    return await shown(app, changed)


async def backfill_report(
    app: App, name: str, start_ms: int, end_ms: int, on_progress: Progress | None
) -> dict[str, Any]:
    """What ``App.backfill_schedule`` did, as JSON."""
    report = await app.backfill_schedule(name, start_ms, end_ms - 1, on_progress)  # end: exclusive
    return {
        "fire_times": [iso_ms(t) for t in report.fire_times],
        "started": list(report.started),
        "existing": list(report.existing),
        "statuses": dict(report.statuses),
    }


async def backfill(
    app: App, name: str, start: datetime, end: datetime, on_progress: Progress
) -> dict[str, Any]:
    """A backfill run here, answered as the API answers one that ended."""
    counted: list[int] = [0, 0]

    def progress(done: int, total: int) -> None:
        counted[:] = [done, total]
        on_progress(done, total)

    report = await backfill_report(app, name, epoch(start), epoch(end), progress)
    return {
        "name": name,
        "from": iso_ms(epoch(start)),
        "to": iso_ms(epoch(end)),
        "state": "done",
        "done": counted[1],
        "total": counted[1],
        "report": report,
    }
