"""``/v1/schedules`` over HTTP against a real app (its engine and scheduler running) on SQLite
and on PostgreSQL: create (409 for a name taken, 422 naming the field), list, get with the next
fire times, update, pause with a note, resume, trigger now, runs with their executions'
status, backfills (watched across requests), delete; and ``legato.Client``'s calls for the same
against a ``legato dev`` process.

The schedules here fire monthly (``0 0 1 * *``): none comes due while a test runs, so what
starts is what a test asks for (a trigger, a backfill of a past period)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import legato
from legato.adapters.http.transport import ApiError
from legato.errors import ScheduleAlreadyExists, ScheduleNotFound
from tests.api.apps import serving
from tests.api_process import Waiter, serve_api
from tests.processes import Processes

pytestmark = pytest.mark.timeout(120)
MONTHLY = "0 0 1 * *"
PROBLEM = "application/problem+json"


@pytest.fixture
async def api(any_db_url: str) -> AsyncIterator[tuple[legato.App, httpx.AsyncClient]]:
    async with serving(any_db_url) as (app, client):
        yield app, client


def _body(name: str = "monthly", **extra: Any) -> dict[str, Any]:
    return {"name": name, "workflow": "priced", "cron": MONTHLY, "input": {"amount": 5}, **extra}


async def _created(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    answer = await client.post("/v1/schedules", json=_body(**extra))
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_create_list_get_update_delete(api: tuple[legato.App, httpx.AsyncClient]) -> None:
    _, client = api
    made = await _created(client, timezone="Europe/Berlin", overlap="buffer_one")
    assert (made["name"], made["workflow"], made["cron"]) == ("monthly", "priced", MONTHLY)
    assert (made["timezone"], made["overlap"], made["paused"]) == ("Europe/Berlin", "buffer_one",
                                                                    False)  # fmt: skip
    assert made["args"] == [{"amount": 5}] and made["kwargs"] == {}
    assert made["origin"] == "api"
    fires = [_when(t) for t in made["next_fire_times"]]
    assert len(fires) == 5 and fires == sorted(fires) and fires[0] > datetime.now(UTC)
    assert all(f.astimezone(_berlin()).day == 1 and f.astimezone(_berlin()).hour == 0
               for f in fires)  # fmt: skip

    again = await client.post("/v1/schedules", json=_body())
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert again.json()["type"].endswith("/schedule-exists")

    listed = (await client.get("/v1/schedules")).json()["items"]
    assert [s["name"] for s in listed] == ["monthly"]
    got = await client.get("/v1/schedules/monthly")
    assert got.status_code == 200 and got.json()["next_fire_times"] == made["next_fire_times"]

    changed = await client.patch(
        "/v1/schedules/monthly", json={"interval_seconds": 3600, "cron": None, "note": "hourly"}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["cron"], body["interval_seconds"], body["overlap"]) == (None, 3600,
                                                                          "buffer_one")  # fmt: skip
    hourly = [_when(t) for t in body["next_fire_times"]]
    assert all((b - a).total_seconds() == 3600 for a, b in zip(hourly, hourly[1:], strict=False))
    same = await client.patch("/v1/schedules/monthly", json={"workflow": None, "overlap": None})
    assert same.status_code == 200 and (same.json()["workflow"], same.json()["overlap"]) == (
        "priced", "buffer_one",
    )  # fmt: skip
    three = (await client.get("/v1/schedules/monthly/next", params={"count": 3})).json()
    assert three["items"] == body["next_fire_times"][:3]

    gone = await client.delete("/v1/schedules/monthly")
    assert gone.status_code == 204
    missing = await client.get("/v1/schedules/monthly")
    assert missing.status_code == 404 and missing.json()["type"].endswith("/schedule-not-found")
    assert (await client.delete("/v1/schedules/monthly")).status_code == 404


def _berlin() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"cron": "61 * * * *"}, "$.cron"),
        ({"timezone": "Mars/Olympus"}, "$.timezone"),
        ({"cron": None}, "$"),  # neither cron nor interval
        ({"interval_seconds": 60}, "$"),  # both
        ({"overlap": "sometimes"}, "$.overlap"),
        ({"unknown": 1}, "$.unknown"),
    ],
)
async def test_an_invalid_schedule_is_422_naming_the_field(
    api: tuple[legato.App, httpx.AsyncClient], change: dict[str, Any], path: str
) -> None:
    _, client = api
    body = {k: v for k, v in {**_body(), **change}.items() if v is not None}
    answer = await client.post("/v1/schedules", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert path in [e["path"] for e in problem["errors"]], problem
    assert (await client.get("/v1/schedules")).json()["items"] == []


async def test_pause_with_a_note_resume_and_trigger(
    api: tuple[legato.App, httpx.AsyncClient],
) -> None:
    _, client = api
    await _created(client)
    paused = await client.post("/v1/schedules/monthly/pause", json={"note": "migrating the db"})
    assert paused.status_code == 200
    assert (paused.json()["paused"], paused.json()["note"]) == (True, "migrating the db")
    assert (await client.get("/v1/schedules/monthly")).json()["paused"] is True

    triggered = await client.post("/v1/schedules/monthly/trigger")
    assert triggered.status_code == 201, triggered.text
    execution_id = triggered.json()["execution_id"]
    done = await client.get(f"/v1/executions/{execution_id}", params={"wait": 30})
    assert done.json()["status"] == "COMPLETED" and done.json()["output"] == {"total": 5}
    fire_time = execution_id.removeprefix("monthly-")
    assert done.json()["started_by"] == {
        "kind": "schedule", "schedule": "monthly", "fire_time": fire_time, "backfill": False,
        "manual": True,
    }  # fmt: skip
    runs = (await client.get("/v1/schedules/monthly/runs")).json()["items"]
    assert [(r["kind"], r["outcome"], r["execution_id"], r["status"]) for r in runs] == [
        ("manual", "started", execution_id, "COMPLETED")
    ]

    resumed = await client.post("/v1/schedules/monthly/resume")
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    for path in ("pause", "resume", "trigger"):
        nowhere = await client.post(f"/v1/schedules/nowhere/{path}")
        assert nowhere.status_code == 404, path


async def test_a_backfill_starts_each_past_fire_once_in_order(
    api: tuple[legato.App, httpx.AsyncClient],
) -> None:
    _, client = api
    await _created(client)
    period = {"from": "2025-01-01T00:00:00Z", "to": "2025-03-15T00:00:00Z"}
    # no wait: the answer is at once, before the backfill has done anything (202, running)
    first = await client.post("/v1/schedules/monthly/backfill", json={**period, "wait_seconds": 0})
    assert first.status_code == 202, first.text
    assert (first.json()["state"], first.json()["report"]) == ("running", None)
    answer = first
    while answer.status_code == 202:  # the same request again watches the same backfill
        assert answer.json()["state"] == "running"
        answer = await client.post("/v1/schedules/monthly/backfill", json=period)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["state"], body["done"], body["total"]) == ("done", 3, 3)
    assert (body["from"], body["to"]) == (period["from"], period["to"])
    runs = (await client.get("/v1/schedules/monthly/runs")).json()["items"]
    assert [r["fire_time"] for r in runs] == [
        "2025-03-01T00:00:00Z",
        "2025-02-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    ]
    assert {(r["kind"], r["execution_id"]) for r in runs} == {
        ("backfill", f"monthly-{r['fire_time']}") for r in runs
    }
    for r in runs:
        got = await client.get(f"/v1/executions/{r['execution_id']}", params={"wait": 30})
        assert got.json()["status"] == "COMPLETED"
        assert got.json()["started_by"] == {
            "kind": "schedule", "schedule": "monthly", "fire_time": r["fire_time"],
            "backfill": True,
        }  # fmt: skip

    # the same period again starts nothing new: every fire is started already
    again = await client.post("/v1/schedules/monthly/backfill", json=period)
    seen = []
    while again.status_code == 202:  # answered as it moves on: past what the last answer said
        seen.append(again.json()["done"])
        watch = {**period, "seen_done": seen[-1], "wait_seconds": 30}
        again = await client.post("/v1/schedules/monthly/backfill", json=watch)
    assert again.status_code == 200 and again.json()["total"] == 3
    assert seen == sorted(set(seen))  # each answer saw it further on
    assert len((await client.get("/v1/schedules/monthly/runs")).json()["items"]) == 3

    backwards = await client.post(
        "/v1/schedules/monthly/backfill", json={"from": period["to"], "to": period["from"]}
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["path"] == "$.to"
    unknown = await client.post("/v1/schedules/nowhere/backfill", json=period)
    assert unknown.status_code == 404


async def test_the_client_makes_the_same_calls(
    any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    _, address = await serve_api(processes, wait_for, ["dev", "client_app", "--db", any_db_url])
    async with legato.Client(address, reconnect_seconds=5) as client:
        made = await client.create_schedule(
            "sums", "adder", cron=MONTHLY, args=[1], kwargs={"b": 2}, overlap="allow_all"
        )
        assert (made["args"], made["kwargs"], made["overlap"]) == ([1], {"b": 2}, "allow_all")
        with pytest.raises(ScheduleAlreadyExists):
            await client.create_schedule("sums", "adder", cron=MONTHLY, args=[1])
        assert [s["name"] for s in await client.list_schedules()] == ["sums"]
        times = await client.next_fire_times("sums", 2)
        assert len(times) == 2 and times[0] < times[1]
        assert (await client.get_schedule("sums"))["next_fire_times"][0].startswith(
            times[0].strftime("%Y-%m-%dT%H:%M:%S")
        )
        changed = await client.update_schedule("sums", args=[1], kwargs={"b": 3})
        assert (changed["args"], changed["kwargs"]) == ([1], {"b": 3})
        with pytest.raises(ApiError) as refused:  # the call is given whole: `a` is missing
            await client.update_schedule("sums", kwargs={"b": 3})
        assert refused.value.status == 422 and "'a'" in str(refused.value)
        paused = await client.pause_schedule("sums", "quiet, please")
        assert (paused["paused"], paused["note"]) == (True, "quiet, please")
        assert (await client.resume_schedule("sums"))["paused"] is False

        handle = await client.trigger_schedule("sums")
        assert await handle.result(timeout=30) == 4
        seen: list[tuple[int, int]] = []
        report = await client.backfill_schedule(
            "sums",
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2025, 2, 15, tzinfo=UTC),
            lambda done, total: seen.append((done, total)),
        )
        assert (report["state"], report["total"]) == ("done", 2)
        assert seen and seen[-1] == (2, 2)
        runs = await client.schedule_runs("sums")
        assert {r["kind"] for r in runs} == {"manual", "backfill"} and len(runs) == 3

        await client.delete_schedule("sums")
        with pytest.raises(ScheduleNotFound):
            await client.get_schedule("sums")
