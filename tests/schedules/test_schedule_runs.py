"""Schedules on a real engine with the time-skipping clock (``still_time``: time moves only by
jumps to the next timer or fire, so instants are asserted exactly): daylight-saving changes in
Europe/Berlin, each overlap policy, a downtime within and beyond the catch-up window, backfill,
and what an operator does (pause, resume, trigger, update, delete, next fire times)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

import legato
from legato.core.schedules import FireOutcome, iso_utc, jitter
from legato.engine.clock import SkippingClock
from legato.testing import WorkflowEnvironment

Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
MINUTE = 60.0


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ms(text: str) -> int:
    return int(at(text).timestamp() * 1000)


@pytest.fixture(params=["sqlite", "postgres"])
def env_url(request: pytest.FixtureRequest) -> str | None:
    """The database of a ``WorkflowEnvironment``: its own SQLite file, or a PostgreSQL one."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


def make_app(sleep_seconds: float = 0.0) -> legato.App:
    app = legato.App()

    @app.workflow(name="job")
    async def job(ctx: legato.Context, n: int) -> int:
        if sleep_seconds:
            await ctx.sleep(sleep_seconds)
        return n

    return app


async def fires(app: legato.App, name: str) -> list[legato.ScheduleFire]:
    return sorted(await app.schedule_runs(name, 1000), key=lambda f: f.fire_ms)


async def until_fires(app: legato.App, name: str, count: int, wait_for: Waiter) -> None:
    async def enough() -> bool:
        return len(await fires(app, name)) >= count

    await wait_for(enough)


def times(recorded: list[legato.ScheduleFire]) -> list[str]:
    return [iso_utc(f.fire_ms) for f in recorded]


# --- daylight-saving time in Europe/Berlin -------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "cron", "expected"),
    [
        # spring: 02:30 does not exist on 29 March, so that day has no fire
        ("2026-03-27T12:00:00Z", "30 2 * * *",
         ["2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"]),
        # spring, hourly: 01:00 CET, 03:00 CEST, 04:00 CEST: one hour apart in absolute time
        ("2026-03-28T23:30:00Z", "0 * * * *",
         ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"]),
        # autumn: 02:30 happens twice on 25 October and fires once, the first time
        ("2026-10-24T12:00:00Z", "30 2 * * *",
         ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"]),
        # autumn, hourly: 02:00 CEST fires, 02:00 CET does not, then 03:00 CET
        ("2026-10-24T23:30:00Z", "0 * * * *",
         ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"]),
    ],
)  # fmt: skip
async def test_a_schedule_across_daylight_saving_changes_in_berlin(
    start: str, cron: str, expected: list[str], wait_for: Waiter, env_url: str | None
) -> None:
    app = make_app()
    app.schedule("berlin", "job", cron=cron, timezone="Europe/Berlin", input=7)
    async with WorkflowEnvironment(app, start=at(start), still_time=True, url=env_url):
        await until_fires(app, "berlin", 3, wait_for)
        recorded = (await fires(app, "berlin"))[:3]
        assert times(recorded) == expected
        assert [f.outcome for f in recorded] == [FireOutcome.STARTED] * 3
        assert [f.execution_id for f in recorded] == [f"berlin-{t}" for t in expected]
        for fire in recorded:
            assert fire.execution_id is not None
            handle = app.get_handle(fire.execution_id)
            assert await handle.result() == 7
            status = await handle.status()
            # started when it was due, to the millisecond: the clock jumped to the fire
            assert status.created_at == datetime.fromtimestamp(fire.fire_ms / 1000, tz=UTC)
            assert status.started_by == {
                "kind": "schedule", "schedule": "berlin", "fire_time": iso_utc(fire.fire_ms),
                "backfill": False,
            }  # fmt: skip


# --- overlap policies ----------------------------------------------------------------------------
START = "2026-01-01T00:00:00Z"


def minute(n: float) -> str:
    return iso_utc(ms(START) + round(n * 60_000))


async def run_policy(
    overlap: str, sleep_seconds: float, count: int, wait_for: Waiter, url: str | None
) -> tuple[legato.App, list[legato.ScheduleFire], dict[str, legato.ExecutionStatus]]:
    app = make_app(sleep_seconds)
    app.schedule("every-minute", "job", interval=MINUTE, input=1, overlap=overlap)
    async with WorkflowEnvironment(app, start=at(START), still_time=True, url=url):
        await until_fires(app, "every-minute", count, wait_for)
        recorded = (await fires(app, "every-minute"))[:count]
        statuses = {}
        for f in recorded:
            if f.execution_id is not None:
                statuses[f.execution_id] = await app.get_handle(f.execution_id).status()
    return app, recorded, statuses


def outcomes(recorded: list[legato.ScheduleFire]) -> list[tuple[str, str]]:
    return [(iso_utc(f.fire_ms), f.outcome.value) for f in recorded]


async def test_overlap_skip_records_the_fire_skipped_while_the_run_is_open(
    wait_for: Waiter, env_url: str | None
) -> None:
    # each run takes 90 s, a fire comes every 60 s: every other fire finds one open
    _, recorded, _ = await run_policy("skip", 90, 4, wait_for, env_url)
    assert outcomes(recorded) == [
        (minute(1), "started"), (minute(2), "skipped_overlap"),
        (minute(3), "started"), (minute(4), "skipped_overlap"),
    ]  # fmt: skip


async def test_overlap_buffer_one_starts_one_waiting_fire_when_the_run_closes(
    wait_for: Waiter, env_url: str | None
) -> None:
    # runs take 150 s: the 00:02 fire waits (buffered), 00:03 finds it waiting (skipped); the
    # first run closes at 00:03:30 and the 00:02 fire starts then
    app = make_app(150)
    app.schedule("every-minute", "job", interval=MINUTE, input=1, overlap="buffer_one")
    async with WorkflowEnvironment(app, start=at(START), still_time=True, url=env_url):

        async def buffered_started() -> bool:
            recorded = await fires(app, "every-minute")
            return len(recorded) >= 3 and recorded[1].outcome == FireOutcome.STARTED

        await wait_for(buffered_started)
        recorded = (await fires(app, "every-minute"))[:3]
        assert outcomes(recorded) == [
            (minute(1), "started"), (minute(2), "started"), (minute(3), "skipped_overlap"),
        ]  # fmt: skip
        second = recorded[1].execution_id
        assert second == f"every-minute-{minute(2)}"
        status = await app.get_handle(second).status()
        first = await app.get_handle(f"every-minute-{minute(1)}").status()
        assert first.closed_at == at(minute(3.5))
        assert status.created_at == at(minute(3.5))  # as soon as the first one closed


async def test_overlap_allow_all_starts_every_fire(wait_for: Waiter, env_url: str | None) -> None:
    _, recorded, statuses = await run_policy("allow_all", 150, 3, wait_for, env_url)
    assert outcomes(recorded) == [(minute(n), "started") for n in (1, 2, 3)]
    # the third started while both others were open
    third = statuses[f"every-minute-{minute(3)}"]
    for n in (1, 2):
        earlier = statuses[f"every-minute-{minute(n)}"]
        assert earlier.closed_at is None or earlier.closed_at > third.created_at


@pytest.mark.parametrize(
    ("overlap", "closed_as"),
    [("cancel_other", legato.Status.CANCELLED), ("terminate_other", legato.Status.TERMINATED)],
)
async def test_overlap_cancel_or_terminate_other_stops_the_open_run_then_starts(
    overlap: str, closed_as: legato.Status, wait_for: Waiter, env_url: str | None
) -> None:
    app = make_app(150)
    app.schedule("every-minute", "job", interval=MINUTE, input=1, overlap=overlap)
    async with WorkflowEnvironment(app, start=at(START), still_time=True, url=env_url):

        async def third_started() -> bool:
            recorded = await fires(app, "every-minute")
            return len(recorded) >= 3 and recorded[2].outcome == FireOutcome.STARTED

        await wait_for(third_started)
        for n in (1, 2):  # each run started at its fire, and was stopped by the next fire
            run = await app.get_handle(f"every-minute-{minute(n)}").status()
            assert run.status == closed_as
            assert run.created_at == at(minute(n))
            assert run.closed_at == at(minute(n + 1))
        third = await app.get_handle(f"every-minute-{minute(3)}").status()
        assert third.created_at == at(minute(3))


async def test_jitter_delays_each_start_by_its_own_fixed_amount(wait_for: Waiter) -> None:
    app = make_app()
    app.schedule("jittery", "job", interval=MINUTE, input=1, jitter=timedelta(seconds=30))
    async with WorkflowEnvironment(app, start=at(START), still_time=True):
        await until_fires(app, "jittery", 3, wait_for)
        for f in (await fires(app, "jittery"))[:3]:
            assert f.execution_id == f"jittery-{iso_utc(f.fire_ms)}"  # named by its fire time
            status = await app.get_handle(f.execution_id).status()
            delay = jitter("jittery", f.fire_ms, 30_000)
            assert 0 <= delay < 30_000
            assert status.created_at == datetime.fromtimestamp((f.fire_ms + delay) / 1000, tz=UTC)


# --- downtime and the catch-up window ------------------------------------------------------------
@pytest.mark.parametrize(
    ("down_minutes", "ran", "missed"),
    [
        # back 2 minutes after the next fire was due, window 5: that fire and the two since run
        (2, [0, 1, 2], 0),
        # back 9 minutes after: the first 4 are older than now - 5 min (missed), 6 run
        (9, [4, 5, 6, 7, 8, 9], 4),
    ],
)
async def test_a_downtime_within_and_beyond_the_catch_up_window(
    down_minutes: int, ran: list[int], missed: int, wait_for: Waiter
) -> None:
    app = make_app()
    app.schedule(
        "every-minute", "job", interval=MINUTE, input=1, overlap="allow_all",
        catchup_window=timedelta(minutes=5),
    )  # fmt: skip
    async with WorkflowEnvironment(app, start=at(START), still_time=True) as env:
        await until_fires(app, "every-minute", 1, wait_for)
        await app.shutdown()  # the engine is down ...
        before = await app.get_schedule("every-minute")  # (read as a client)
        fired = len(await fires(app, "every-minute"))
        await app.shutdown()
        assert before.next_fire_ms is not None and before.missed == 0
        due = before.next_fire_ms
        # ... while time goes by, to ``down_minutes`` after the next fire was due
        env.clock.advance((due + down_minutes * 60_000 - env.clock.now_ms()) / 1000)
        await app.start_engine()
        await until_fires(app, "every-minute", fired + len(ran), wait_for)
        recorded = (await fires(app, "every-minute"))[fired:]
        assert [f.fire_ms for f in recorded[: len(ran)]] == [due + n * 60_000 for n in ran]
        after = await app.get_schedule("every-minute")
        assert after.missed == missed
        for f in recorded[: len(ran)]:
            assert f.execution_id is not None
            assert await app.get_handle(f.execution_id).result() == 1


# --- backfill ------------------------------------------------------------------------------------
@pytest.mark.parametrize("overlap", ["skip", "allow_all"])
async def test_a_backfill_starts_a_past_period_in_order(overlap: str, wait_for: Waiter) -> None:
    app = make_app(30)
    app.schedule("hourly", "job", cron="0 * * * *", input=3, overlap=overlap, paused=True)
    async with WorkflowEnvironment(app, start=at("2026-01-02T00:00:00Z"), still_time=True):
        progress: list[tuple[int, int]] = []
        report = await app.backfill_schedule(
            "hourly", ms("2026-01-01T00:00:00Z"), ms("2026-01-01T05:00:00Z"),
            on_progress=lambda done, total: progress.append((done, total)),
        )  # fmt: skip
        expected = [f"2026-01-01T0{h}:00:00Z" for h in range(6)]
        assert [iso_utc(t) for t in report.fire_times] == expected
        assert report.started == [f"hourly-{t}" for t in expected]
        assert report.existing == []
        assert set(report.statuses.values()) == {"COMPLETED"}
        assert progress[0] == (0, 6) and progress[-1] == (6, 6)
        assert [done for done, _ in progress] == list(range(7))
        runs = [await app.get_handle(eid).status() for eid in report.started]
        assert [r.started_by for r in runs] == [
            {"kind": "schedule", "schedule": "hourly", "fire_time": t, "backfill": True}
            for t in expected
        ]
        if overlap == "skip":  # one after another: each started once the one before closed
            for before, after in zip(runs, runs[1:], strict=False):
                assert before.closed_at is not None and before.closed_at <= after.created_at
        else:  # all at once
            assert len({r.created_at for r in runs}) == 1
        recorded = await fires(app, "hourly")
        assert [(f.kind.value, f.outcome.value) for f in recorded] == [("backfill", "started")] * 6
        again = await app.backfill_schedule(
            "hourly", ms("2026-01-01T04:00:00Z"), ms("2026-01-01T06:00:00Z")
        )
        assert again.existing == [f"hourly-{t}" for t in expected[4:]]
        assert again.started == ["hourly-2026-01-01T06:00:00Z"]


# --- operating a schedule ------------------------------------------------------------------------
async def test_create_pause_resume_trigger_update_delete(db_url: str, wait_for: Waiter) -> None:
    # no engine runs at first (the app is a client of its database): nothing fires by itself
    # while the calls are checked; then one starts and runs what they did
    app = make_app()
    clock = SkippingClock(ms(START), still=True)
    app.configure(url=db_url, clock=clock)
    made = await app.create_schedule(
        legato.ScheduleDef("nightly", "job", cron="0 3 * * *", args=(5,), timezone="Europe/Berlin")
    )
    assert made.origin == "api" and made.next_fire_ms == ms("2026-01-01T02:00:00Z")
    with pytest.raises(legato.ScheduleAlreadyExists):
        await app.create_schedule(legato.ScheduleDef("nightly", "job", cron="@daily", args=(1,)))
    assert [iso_utc(t) for t in await app.next_fire_times("nightly", 3)] == [
        "2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z", "2026-01-03T02:00:00Z",
    ]  # fmt: skip

    paused = await app.pause_schedule("nightly", "maintenance until Friday")
    assert paused.paused and paused.note == "maintenance until Friday"
    assert await app.next_fire_times("nightly", 3) == []
    clock.advance(24 * 3600)  # now 2 January, 00:00

    handle = await app.trigger_schedule("nightly")  # an operator runs it now anyway
    manual = await fires(app, "nightly")
    assert [(f.kind.value, f.outcome.value) for f in manual] == [("manual", "started")]
    assert handle.id == "nightly-2026-01-02T00:00:00Z" == manual[0].execution_id

    resumed = await app.resume_schedule("nightly")
    assert not resumed.paused and resumed.note is None
    assert resumed.next_fire_ms == ms("2026-01-02T02:00:00Z")  # from now on, no catch-up

    updated = await app.update_schedule("nightly", cron="*/30 * * * *", args=(6,))
    assert updated.spec.cron == "*/30 * * * *" and updated.spec.timezone == "Europe/Berlin"
    assert updated.next_fire_ms == ms("2026-01-02T00:30:00Z")
    assert [s.name for s in await app.list_schedules()] == ["nightly"]
    with pytest.raises(legato.ConfigurationError):
        await app.update_schedule("nightly", paused=True)
    with pytest.raises(legato.ScheduleNotFound):
        await app.update_schedule("other", cron="@daily")

    await app.shutdown()  # the client's store
    await app.start_engine()
    try:
        assert await handle.result() == 5
        assert (await handle.status()).started_by == {
            "kind": "schedule", "schedule": "nightly", "fire_time": "2026-01-02T00:00:00Z",
            "backfill": False, "manual": True,
        }  # fmt: skip
        await until_fires(app, "nightly", 2, wait_for)
        recorded = await fires(app, "nightly")
        assert recorded[1].execution_id == "nightly-2026-01-02T00:30:00Z"
        assert await app.get_handle(recorded[1].execution_id).result() == 6

        await app.delete_schedule("nightly")
        with pytest.raises(legato.ScheduleNotFound):
            await app.get_schedule("nightly")
        with pytest.raises(legato.ScheduleNotFound):
            await app.delete_schedule("nightly")
        assert await app.list_schedules() == []
        status = await app.get_handle("nightly-2026-01-02T00:30:00Z").status()
        assert status.status == legato.Status.COMPLETED  # its executions stay
    finally:
        await app.shutdown()


async def test_a_bad_schedule_is_refused_naming_the_field() -> None:
    app = make_app()
    async with WorkflowEnvironment(app, start=at(START), still_time=True):
        with pytest.raises(legato.ConfigurationError, match="timezone"):
            await app.create_schedule(
                legato.ScheduleDef("x", "job", cron="@daily", timezone="Mars/Olympus")
            )
        with pytest.raises(legato.ConfigurationError, match="overlap"):
            await app.create_schedule(legato.ScheduleDef("x", "job", cron="@daily", overlap="no"))
        with pytest.raises(legato.SerializationError, match=r"\$\.args\[0\]"):
            await app.create_schedule(legato.ScheduleDef("x", "job", cron="@daily", args=("a",)))
        with pytest.raises(legato.RegistrationError):
            await app.create_schedule(legato.ScheduleDef("x", "nope", cron="@daily"))
        assert await app.list_schedules() == []


async def test_a_schedule_declared_in_code_is_updated_at_start_up_and_keeps_its_pause(
    wait_for: Waiter,
) -> None:
    app = make_app()
    app.schedule("declared", "job", cron="0 * * * *", input=1)
    async with WorkflowEnvironment(app, start=at(START), still_time=True):
        first = await app.get_schedule("declared")
        assert first.origin == "code" and not first.paused
        await app.pause_schedule("declared", "an operator paused it")
        await app.shutdown()
        app.schedule("declared", "job", cron="30 * * * *", input=2)  # the code changed
        await app.start_engine()
        now = await app.get_schedule("declared")
        assert now.spec.cron == "30 * * * *"
        assert now.paused and now.note == "an operator paused it"
        assert now.revision > first.revision


def test_schedule_rejects_input_and_args_together() -> None:
    app = make_app()
    with pytest.raises(legato.ConfigurationError):
        app.schedule("x", "job", cron="@daily", input=1, args=(2,))


async def test_a_state_machine_on_a_schedule_gets_the_input(wait_for: Waiter) -> None:
    app = legato.App()
    app.register_state_machine(
        "echo", {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    )
    app.schedule("echoes", "echo", cron="*/10 * * * *", input={"order": 42})
    async with WorkflowEnvironment(app, start=at(START), still_time=True):
        await until_fires(app, "echoes", 1, wait_for)
        (first,) = (await fires(app, "echoes"))[:1]
        assert first.execution_id == "echoes-2026-01-01T00:10:00Z"
        assert await app.get_handle(first.execution_id).result() == {"order": 42}
