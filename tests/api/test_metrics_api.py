"""``/metrics``, ``/v1/queues`` and ``/v1/cluster`` against a real app running its engine on
SQLite and PostgreSQL. The Prometheus registry is the process's (other tests' engines count in
it too), so counters are checked as the difference between a scrape before and one after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import legato
from legato.api.server import create_api
from tests.conftest import StatusWaiter, Waiter

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def make_app(url: str) -> legato.App:
    app = legato.App(url)
    flaky_calls: dict[str, int] = {}

    @app.step(name="flaky", retry=legato.Retry(max_attempts=3, initial=0.0))
    async def flaky(key: str) -> str:
        """Fails its first attempt for each key, then succeeds: one retry per run."""
        flaky_calls[key] = flaky_calls.get(key, 0) + 1
        if flaky_calls[key] == 1:
            raise ConnectionError("first attempt refused")
        return key

    @app.step(name="far", queue="elsewhere")
    async def far(n: int) -> int:
        return n

    @app.workflow(name="metered")
    async def metered(ctx: legato.Context, key: str) -> str:
        await ctx.sleep(timedelta(milliseconds=1))
        result: str = await ctx.step(flaky, key)
        return result

    @app.workflow(name="metered_broken")
    async def metered_broken(ctx: legato.Context) -> None:
        raise ValueError("always")

    @app.workflow(name="far_away")
    async def far_away(ctx: legato.Context, n: int) -> int:
        result: int = await ctx.step(far, n)
        return result

    return app


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[tuple[legato.App, httpx.AsyncClient]]:
    """The app with its engine, whose worker serves only the ``default`` queue (so a task on
    ``elsewhere`` waits, ready), and an HTTP client on its API over ASGI."""
    app = make_app(url)
    await app.start_engine(queues=["default"])
    try:
        transport = httpx.ASGITransport(app=create_api(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://legato") as client:
            yield app, client
    finally:
        await app.shutdown()


async def scrape(client: httpx.AsyncClient) -> Samples:
    got = await client.get("/metrics")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(got.text):
        for s in family.samples:
            samples[s.name, frozenset(s.labels.items())] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_counters_after_a_run(any_db_url: str) -> None:
    async with serving(any_db_url) as (app, client):
        before = await scrape(client)
        ok = [await app.start("metered", f"k{i}") for i in range(3)]
        broken = await app.start("metered_broken")
        for handle in ok:
            assert await handle.result() in {"k0", "k1", "k2"}
        with pytest.raises(legato.ExecutionFailedError):
            await broken.result()
        after = await scrape(client)

    wf = {"workflow": "metered", "version": "1"}
    assert delta(before, after, "legato_executions_started_total", **wf) == 3
    closed = delta(before, after, "legato_executions_closed_total", **wf, status="COMPLETED")
    assert closed == 3
    failed = {"workflow": "metered_broken", "version": "1", "status": "FAILED"}
    assert delta(before, after, "legato_executions_closed_total", **failed) == 1
    assert delta(before, after, "legato_step_retries_total", workflow="metered", step="flaky") == 3
    # every attempt: 3 that failed and 3 that succeeded, each with its schedule-to-start
    failed_attempts = {"step": "flaky", "outcome": "failed"}
    assert delta(before, after, "legato_step_duration_seconds_count", **failed_attempts) == 3
    passed = {"step": "flaky", "outcome": "ok"}
    assert delta(before, after, "legato_step_duration_seconds_count", **passed) == 3
    assert delta(before, after, "legato_step_schedule_to_start_seconds_count", step="flaky") == 6
    assert delta(before, after, "legato_timer_lag_seconds_count") >= 3  # one sleep each
    assert delta(before, after, "legato_commit_batch_size_count") > 0
    commits = delta(before, after, "legato_commit_seconds_count")
    assert commits == delta(before, after, "legato_commit_batch_size_count")
    # each of those transitions was one write at least: the batches add up to no fewer
    assert delta(before, after, "legato_commit_batch_size_sum") >= commits
    assert value(after, "legato_store_up") == 1
    # no label anywhere names an execution
    ids = {h.id for h in [*ok, broken]}
    assert not any(v in ids for _, labels in after for _, v in labels)


async def test_queues_cluster_and_their_gauges(any_db_url: str, wait_for: Waiter) -> None:
    async with serving(any_db_url) as (app, client):
        waiting = await app.start("far_away", 7)  # its step's queue has no worker here

        async def queued() -> bool:
            got = await client.get("/v1/queues")
            assert got.status_code == 200, got.text
            return any(q["name"] == "elsewhere" and q["depth"] == 1 for q in got.json()["queues"])

        await wait_for(queued)
        queues = {q["name"]: q for q in (await client.get("/v1/queues")).json()["queues"]}
        assert queues["elsewhere"]["running"] == 0 and queues["elsewhere"]["workers"] == 0
        assert queues["elsewhere"]["oldest_ready_age_seconds"] >= 0
        assert queues["default"]["workers"] == 1  # served, nothing waiting on it
        assert queues["default"]["depth"] == 0

        cluster = (await client.get("/v1/cluster")).json()
        engine = app.running_engine
        assert engine is not None
        assert [r["id"] for r in cluster["replicas"]] == [engine.owner]
        assert cluster["replicas"][0]["partitions"] == 64 == cluster["partitions_held"]
        assert cluster["replicas"][0]["last_seen"] is not None
        workers = cluster["workers"]
        assert [(w["id"], w["kind"], w["queues"]) for w in workers] == [
            (engine.owner, "local", ["default"])
        ]
        served = set(workers[0]["steps"])  # the app's steps and the built-in integration steps
        assert {s for s in served if not s.startswith("legato.")} == {"flaky", "far"}
        assert "legato.aws" in served

        # a remote worker is one that heartbeats through the API
        remote = "remote:laptop:42:abcdef01"
        beat = await client.post(
            f"/v1/workers/{remote}/heartbeat",
            json={"queues": ["elsewhere"], "steps": ["far"], "live_ms": 60_000},
        )
        assert beat.status_code in (200, 204), beat.text
        kinds = {w["id"]: w["kind"] for w in (await client.get("/v1/cluster")).json()["workers"]}
        assert kinds == {engine.owner: "local", remote: "remote"}
        queues = {q["name"]: q for q in (await client.get("/v1/queues")).json()["queues"]}
        assert queues["elsewhere"]["workers"] == 1

        samples = await scrape(client)
        assert value(samples, "legato_queue_depth", queue="elsewhere") == 1
        assert value(samples, "legato_queue_oldest_ready_age_seconds", queue="elsewhere") >= 0
        assert value(samples, "legato_partitions_held", replica=engine.owner) == 64
        assert (await waiting.status()).status == legato.Status.RUNNING


async def test_a_start_another_process_recorded_counts_once_and_a_redrive_not(
    any_db_url: str, wait_status: StatusWaiter, wait_for: Waiter
) -> None:
    async with serving(any_db_url) as (_app, client):
        elsewhere = make_app(any_db_url)  # no engine: its start is recorded PENDING
        try:
            before = await scrape(client)
            pending = await elsewhere.start("metered", "from-elsewhere")
            await wait_status(pending, legato.Status.COMPLETED)
            broken = await elsewhere.start("metered_broken")
            await wait_status(broken, legato.Status.FAILED)
            await elsewhere.redrive(broken.id)  # PENDING again: not a start, it closes again
            failed = {"workflow": "metered_broken", "version": "1", "status": "FAILED"}

            async def closed_twice() -> bool:
                now = await scrape(client)
                return delta(before, now, "legato_executions_closed_total", **failed) == 2

            await wait_for(closed_twice)
        finally:
            await elsewhere.shutdown()
        after = await scrape(client)

    started = "legato_executions_started_total"
    assert delta(before, after, started, workflow="metered", version="1") == 1
    assert delta(before, after, started, workflow="metered_broken", version="1") == 1
