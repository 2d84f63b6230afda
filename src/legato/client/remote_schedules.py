"""``Client``'s schedule calls: ``/v1/schedules`` of a Legato server, in the API's JSON shapes
(times ISO 8601 in UTC; durations in seconds). A mixin of ``legato.Client`` so the client
module keeps one job per part.

A backfill runs on the server (it may take as long as its runs take, far longer than a request):
``backfill_schedule`` asks for it and then watches it, one long poll at a time (``POST
.../backfill`` again with the same period attaches to the running one; each answers as soon as
the backfill moved past what the last said), reporting progress as it goes. Every start of a
backfill is idempotent on (schedule, fire time), so a server restarted meanwhile only means
asking again: the runs already started count as done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from legato.adapters.http.transport import Transport
from legato.core import codec
from legato.core.durations import optional_seconds

if TYPE_CHECKING:
    from legato.client.remote import RemoteHandle

BACKFILL_POLL_SECONDS = 20.0  # one watch of a running backfill; within the request timeout
Progress = Callable[[int, int], None]


def _path(name: str, *rest: str) -> str:
    return "/v1/schedules/" + "/".join(quote(p, safe="") for p in (name, *rest))


def iso(moment: datetime) -> str:
    """A time as the API takes it: ISO 8601 in UTC (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def schedule_body(
    *,
    workflow: str | None = None,
    cron: str | None = None,
    interval: float | timedelta | None = None,
    timezone: str | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    jitter: float | timedelta | None = None,
    input: Any = None,
    args: list[Any] | tuple[Any, ...] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    has_input: bool = False,
    overlap: str | None = None,
    catchup_window: float | timedelta | None = None,
    version: str | None = None,
    paused: bool | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The fields given (None: not given), as the API's create and update bodies name them."""
    body: dict[str, Any] = {
        "workflow": workflow,
        "cron": cron,
        "interval_seconds": optional_seconds(interval),
        "timezone": timezone,
        "start_at": None if start_at is None else iso(start_at),
        "end_at": None if end_at is None else iso(end_at),
        "jitter_seconds": optional_seconds(jitter),
        "overlap": overlap,
        "catchup_window_seconds": optional_seconds(catchup_window),
        "version": version,
        "paused": paused,
        "note": note,
    }
    body = {k: v for k, v in body.items() if v is not None}
    if has_input:
        body["input"] = _plain(input, "a schedule's input")
    if args:
        body["args"] = _plain(list(args), "a schedule's arguments")
    if kwargs:
        body["kwargs"] = _plain(dict(kwargs), "a schedule's arguments")
    return body


def _plain(value: Any, what: str) -> Any:
    return codec.loads(codec.dumps(value, what))


class ScheduleCalls:
    """The ``/v1/schedules`` calls of ``legato.Client``."""

    transport: Transport
    timeout: float

    def get_handle(self, execution_id: str) -> RemoteHandle:
        raise NotImplementedError  # legato.Client's

    async def create_schedule(
        self,
        name: str,
        workflow: str,
        *,
        cron: str | None = None,
        interval: float | timedelta | None = None,
        timezone: str = "UTC",
        input: Any = None,
        args: list[Any] | tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
        overlap: str = "skip",
        catchup_window: float | timedelta | None = None,
        jitter: float | timedelta | None = None,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        version: str | None = None,
        paused: bool = False,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Create a schedule that starts ``workflow`` (a code workflow with ``args``/``kwargs``
        or ``input`` as its one argument; a state machine with ``input``) on a ``cron``
        expression or every ``interval`` (seconds). Raises ``ScheduleAlreadyExists`` if the
        name is taken by another schedule; ``ApiError`` 422 ``invalid-schedule`` names an
        invalid field."""
        body = {
            "name": name,
            **schedule_body(
                workflow=workflow, cron=cron, interval=interval, timezone=timezone,
                start_at=start_at, end_at=end_at, jitter=jitter, input=input, args=args,
                kwargs=kwargs,
                has_input=input is not None, overlap=overlap, catchup_window=catchup_window,
                version=version, paused=paused, note=note,
            ),
        }  # fmt: skip
        answer: dict[str, Any] = await self.transport.call("POST", "/v1/schedules", json=body)
        return answer

    async def update_schedule(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change some of a schedule's fields, named as ``create_schedule``'s keywords
        (``workflow`` too; not ``paused``: ``pause_schedule``); the others, and whether it is
        paused, stay as they are. ``input``, ``args`` or ``kwargs`` give the whole call."""
        has_input = "input" in changes
        body = schedule_body(**changes, has_input=has_input)
        answer: dict[str, Any] = await self.transport.call("PATCH", _path(name), json=body)
        return answer

    async def get_schedule(self, name: str) -> dict[str, Any]:
        """The schedule with its next fire times; raises ``ScheduleNotFound``."""
        answer: dict[str, Any] = await self.transport.call("GET", _path(name))
        return answer

    async def list_schedules(self) -> list[dict[str, Any]]:
        body = await self.transport.call("GET", "/v1/schedules")
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    async def delete_schedule(self, name: str) -> None:
        """Delete it (the executions it started stay)."""
        await self.transport.call("DELETE", _path(name))

    async def pause_schedule(self, name: str, note: str | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = await self.transport.call(
            "POST", _path(name, "pause"), json={"note": note}
        )
        return answer

    async def resume_schedule(self, name: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.transport.call("POST", _path(name, "resume"))
        return answer

    async def trigger_schedule(self, name: str) -> RemoteHandle:
        """Start a run now (as the schedule would, recorded as a manual fire). Not retried
        once sent: a lost answer would otherwise start a second run."""
        answer = await self.transport.call("POST", _path(name, "trigger"), retry=False)
        return self.get_handle(str(answer["execution_id"]))

    async def next_fire_times(self, name: str, count: int = 5) -> list[datetime]:
        body = await self.transport.call("GET", _path(name, "next"), params={"count": count})
        return [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in body["items"]]

    async def schedule_runs(self, name: str, limit: int = 20) -> list[dict[str, Any]]:
        """Its recent fires, newest first: ``[{schedule, fire_time, kind, outcome,
        execution_id, recorded_at, status}]`` (``status``: the execution's, if one was
        started)."""
        body = await self.transport.call("GET", _path(name, "runs"), params={"limit": limit})
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    async def backfill_schedule(
        self,
        name: str,
        start: datetime,
        end: datetime,
        on_progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Start the runs the schedule would have started in ``[start, end)``, in order and
        under its overlap policy, on the server; returns its report once every run is
        started (``on_progress(done, total)`` as they are)."""
        body: dict[str, Any] = {
            "from": iso(start),
            "to": iso(end),
            "wait_seconds": BACKFILL_POLL_SECONDS,
        }
        timeout = BACKFILL_POLL_SECONDS + self.timeout
        while True:
            answer: dict[str, Any] = await self.transport.call(
                "POST", _path(name, "backfill"), json=body, timeout=timeout
            )
            if on_progress is not None and answer.get("total") is not None:
                on_progress(int(answer.get("done") or 0), int(answer["total"]))
            if answer.get("state") == "done":
                return answer
            body["seen_done"] = int(answer.get("done") or 0)  # answered when it moves past
