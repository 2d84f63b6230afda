"""Client calls across a cut connection, made to happen at the worst moment: the write was
committed but its answer was lost. A retried start returns the execution it recorded, a
retried task-token call finds its own message and succeeds; an outage longer than
``reconnect_seconds`` is raised, naming the call. (The real thing, a PostgreSQL restart, is in
``test_client_restart.py``.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import legato
from legato.adapters.postgres import PostgresStore
from legato.core.events import Event, EventType, ExternalTaskStarted
from legato.ports.store import Store
from tests.conftest import of_type

WaitEvent = Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]]


def cut_after_commit(monkeypatch: pytest.MonkeyPatch, store: Store, method: str) -> list[int]:
    """The first call of ``store.method`` does its work, then fails as if the connection
    dropped before the commit's answer came back. Returns the calls made, for the test."""
    real = getattr(store, method)
    calls: list[int] = []

    async def cut(*args: Any) -> Any:
        calls.append(len(calls) + 1)
        result = await real(*args)
        if len(calls) == 1:
            raise legato.DatabaseUnavailableError("cannot reach database: connection lost")
        return result

    monkeypatch.setattr(store, method, cut)
    return calls


def build(url: str, **options: Any) -> legato.App:
    app = legato.App(url, **options)

    @app.step(name="double")
    async def double(n: int) -> int:
        return n * 2

    @app.workflow(name="doubling")
    async def doubling(ctx: legato.Context, n: int) -> int:
        return await ctx.step(double, n)  # type: ignore[no-any-return]

    @app.workflow(name="callback")
    async def callback(ctx: legato.Context) -> Any:
        fut, _ = ctx.external_task()
        try:
            return await fut
        except legato.ExternalTaskFailed as exc:
            return [exc.error_type, exc.message]

    return app


@pytest.mark.parametrize("given_id", [False, True], ids=["generated-id", "given-id"])
async def test_a_client_start_whose_answer_was_lost_is_not_duplicated(
    any_db_url: str, monkeypatch: pytest.MonkeyPatch, given_id: bool
) -> None:
    client = build(any_db_url)
    calls = cut_after_commit(monkeypatch, await client._store_ready(), "start_execution")
    handle = await client.start("doubling", 4, id="d-1" if given_id else None)
    listed = await client.list_executions()
    await client.shutdown()
    assert calls == [1, 2]  # retried, and the retry found the execution the first recorded
    assert [e.id for e in listed] == [handle.id]
    if given_id:
        assert handle.id == "d-1"

    async with build(any_db_url) as engine:
        assert await engine.get_handle(handle.id).result(timeout=20) == 8


async def test_an_engine_start_whose_answer_was_lost_is_not_duplicated(
    any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first decision was committed with the start, its step leased to this process; the
    lost answer means the step waits for its lease to run out, then runs."""
    app = build(any_db_url, lease_seconds=1.0)
    async with app:
        store = app._store
        assert store is not None
        calls = cut_after_commit(monkeypatch, store, "start_execution")
        handle = await app.start("doubling", 5)
        assert await handle.result(timeout=30) == 10
        listed = await app.list_executions()
    assert calls == [1, 2]
    assert [e.id for e in listed] == [handle.id]


@pytest.mark.parametrize("outcome", ["success", "failure"])
async def test_a_task_token_call_whose_answer_was_lost_succeeds_on_retry(
    any_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    wait_event: WaitEvent,
    outcome: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = build(any_db_url)
    async with app:
        handle = await app.start("callback", id="cb")
        history = await wait_event(handle, EventType.EXTERNAL_TASK_STARTED)
        token = of_type(history, ExternalTaskStarted)[0].token
        client = build(any_db_url)
        calls = cut_after_commit(monkeypatch, await client._store_ready(), "send")
        if outcome == "success":
            await client.send_task_success(token, {"approved": True})
        else:
            await client.send_task_failure(token, "Rejected", "no")
        result = await handle.result(timeout=20)
        # once recorded, a retry that is not one of this call's own is refused as before
        with pytest.raises(legato.TaskTokenClosed):
            await client.send_task_success(token, {"approved": True})
        await client.shutdown()
    assert calls == [1]  # the retry found the message the first sent: none sent twice
    retried = [r.getMessage() for r in caplog.records if r.name == "legato.reconnect"]
    assert len(retried) == 1 and "external task: cannot reach database" in retried[0]
    assert result == ({"approved": True} if outcome == "success" else ["Rejected", "no"])


async def test_an_outage_longer_than_reconnect_seconds_is_raised(
    any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = build(any_db_url, reconnect_seconds=0.3)
    handle = await client.start("doubling", 1, id="d-1")
    store = await client._store_ready()

    async def unreachable(execution_id: str) -> None:
        raise legato.DatabaseUnavailableError("cannot reach database: connection refused")

    monkeypatch.setattr(store, "load_execution", unreachable)
    with pytest.raises(legato.DatabaseUnavailableError) as info:
        await handle.status()
    await client.shutdown()
    assert info.value.__notes__ == ["reading execution 'd-1': gave up after retrying for 0.3s"]


async def test_errors_that_are_not_transient_are_raised_at_once(any_db_url: str) -> None:
    client = build(any_db_url)
    with pytest.raises(legato.ExecutionNotFound):
        await client.get_handle("nobody").status()
    with pytest.raises(legato.ExecutionNotFound):
        await client.signal("nobody", "go")
    with pytest.raises(legato.InvalidTaskToken):
        await client.send_task_success("not-a-token")
    await client.shutdown()


async def test_an_engine_that_cannot_start_leaves_no_store_open(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database went away between opening the pool and taking partitions: the start
    fails (engines retry only once running), and the pool it opened is closed."""
    closed: list[bool] = []
    real_close = PostgresStore.close

    async def lost(self: PostgresStore, *args: Any, **kwargs: Any) -> int:
        raise legato.DatabaseUnavailableError("cannot reach database: the connection is closed")

    async def close(self: PostgresStore) -> None:
        closed.append(self._pool is not None)
        await real_close(self)

    monkeypatch.setattr(PostgresStore, "heartbeat_replica", lost)
    monkeypatch.setattr(PostgresStore, "close", close)
    app = build(pg_url)
    with pytest.raises(legato.DatabaseUnavailableError):
        async with app:
            pass
    assert closed == [True]


async def test_a_redrive_or_resume_whose_answer_was_lost_is_done_on_retry(
    any_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    wait_for: Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]],
) -> None:
    app = legato.App(any_db_url)
    fixed = {"yes": False}

    @app.step(retry=legato.Retry.none())
    async def shaky(n: int) -> int:
        if not fixed["yes"]:
            raise RuntimeError("down")
        return n

    @app.workflow(name="shaky_job")
    async def shaky_job(ctx: legato.Context, n: int) -> int:
        result: int = await ctx.step(shaky, n)
        return result

    async with app:
        handle = await app.start(shaky_job, 7, id="shaky-1")
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=20)
        fixed["yes"] = True
        client = build(any_db_url)
        calls = cut_after_commit(monkeypatch, await client._store_ready(), "submit")
        await client.redrive("shaky-1")  # the first attempt's commit went through
        assert await handle.result(timeout=20) == 7
        assert calls == [1]  # the retry found the redrive done and wrote nothing
        await client.shutdown()

        ghost_client = build(any_db_url)

        @ghost_client.workflow(name="ghost")
        async def ghost(ctx: legato.Context) -> int:
            return 1

        await ghost_client.start(ghost, id="ghost-1")
        ghost_handle = app.get_handle("ghost-1")

        async def suspended() -> bool:
            return (await ghost_handle.status()).status == legato.Status.SUSPENDED

        await wait_for(suspended)
    # no engine now: nothing moves the execution on between the two attempts
    calls = cut_after_commit(monkeypatch, await ghost_client._store_ready(), "submit")
    await ghost_client.resume("ghost-1")
    assert calls == [1]  # likewise: found PENDING, its own first attempt's doing
    await ghost_client.shutdown()
