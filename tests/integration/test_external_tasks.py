"""External tasks (task tokens): completed, failed and heartbeated from outside through the
inbox; heartbeat and overall timeouts on durable timers; bad and spent tokens refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import legato
from legato.core.events import Event, EventType, ExternalTaskStarted
from legato.testing import WorkflowEnvironment
from tests.clocks import ManualClock
from tests.conftest import of_type

WaitEvent = Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]]


def _app(url: str | None = None, clock: ManualClock | None = None, **limits: float) -> legato.App:
    app = legato.App(url, clock=clock) if url else legato.App()

    @app.workflow(name="callback")
    async def callback(ctx: legato.Context) -> dict[str, Any]:
        fut, token = ctx.external_task(**limits)
        try:
            return {"ok": await fut, "token": token}
        except legato.ExternalTaskFailed as exc:
            return {"error": exc.error_type, "cause": exc.message, "token": token}

    return app


async def _token(handle: legato.Handle[Any], wait_event: WaitEvent) -> str:
    history = await wait_event(handle, EventType.EXTERNAL_TASK_STARTED)
    started = of_type(history, ExternalTaskStarted)[0]
    return started.token


async def test_send_task_success_resolves_the_wait(any_db_url: str, wait_event: WaitEvent) -> None:
    app = _app(any_db_url)
    async with app:
        handle = await app.start("callback", id="order-callback")
        token = await _token(handle, wait_event)
        assert "order-callback" not in token  # the ids are encoded, not spelled out
        await app.send_task_success(token, {"approved": True})
        result = await handle.result(timeout=20)
    assert result == {"ok": {"approved": True}, "token": token}


async def test_send_task_failure_raises_in_the_workflow(
    any_db_url: str, wait_event: WaitEvent
) -> None:
    app = _app(any_db_url)
    async with app:
        handle = await app.start("callback", id="cb")
        token = await _token(handle, wait_event)
        client = legato.App(any_db_url)  # client mode works too
        try:
            await client.send_task_failure(token, "Rejected", "the reviewer said no")
        finally:
            await client.shutdown()
        result = await handle.result(timeout=20)
    assert result == {"error": "Rejected", "cause": "the reviewer said no", "token": token}


async def test_heartbeats_keep_the_wait_alive_past_its_heartbeat_timeout(
    any_db_url: str, wait_event: WaitEvent, wait_for: Callable[..., Awaitable[None]]
) -> None:
    clock = ManualClock()  # time moves only between heartbeats, by the test
    app = _app(any_db_url, clock, heartbeat_timeout=1.0)
    async with app:
        handle = await app.start("callback", id="cb")
        token = await _token(handle, wait_event)
        for sent in range(1, 9):  # 8 x 0.3 s: well past the 1 s heartbeat timeout
            await app.send_task_heartbeat(token)

            async def recorded(sent: int = sent) -> bool:
                history = await handle.history()
                return sum(e.type == EventType.EXTERNAL_TASK_HEARTBEAT for e in history) == sent

            await wait_for(recorded)
            clock.advance(0.3)
        await app.send_task_success(token, "alive")
        result = await handle.result(timeout=20)
        history = await handle.history()
    assert result["ok"] == "alive"
    assert sum(e.type == EventType.EXTERNAL_TASK_HEARTBEAT for e in history) >= 1


@pytest.mark.parametrize(
    ("limits", "error"),
    [
        ({"heartbeat_timeout": 60.0}, "States.HeartbeatTimeout"),
        ({"timeout": 3600.0}, "States.Timeout"),
        ({"timeout": 3600.0, "heartbeat_timeout": 7200.0}, "States.Timeout"),
    ],
)
async def test_a_wait_without_news_times_out(
    any_db_url: str, limits: dict[str, float], error: str
) -> None:
    app = _app(None, None, **limits)
    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start("callback")
        result = await handle.result(timeout=20)
        with pytest.raises(legato.TaskTokenClosed, match="already failed"):
            await app.send_task_success(result["token"], "too late")
    assert result["error"] == error


async def test_unknown_tokens_and_a_second_completion_are_refused(
    any_db_url: str, wait_event: WaitEvent
) -> None:
    app = _app(any_db_url)
    async with app:
        with pytest.raises(legato.InvalidTaskToken, match="not a Legato task token"):
            await app.send_task_success("garbage", 1)
        handle = await app.start("callback", id="cb")
        token = await _token(handle, wait_event)
        forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
        with pytest.raises(legato.InvalidTaskToken, match="issued no such token"):
            await app.send_task_success(forged, 1)
        await app.send_task_success(token, 1)
        with pytest.raises(legato.TaskTokenClosed):
            await app.send_task_success(token, 2)
        await handle.result(timeout=20)
        with pytest.raises(legato.TaskTokenClosed):
            await app.send_task_failure(token, "Late", "")
        with pytest.raises(legato.TaskTokenClosed):
            await app.send_task_heartbeat(token)
        history = await handle.history()
    assert sum(e.type == EventType.EXTERNAL_TASK_COMPLETED for e in history) == 1
