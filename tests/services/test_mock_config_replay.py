"""Mocked Task states are deterministic on replay: nothing about a mocked call is recorded, so
an execution evicted from the sticky cache (or resumed after a crash) rebuilds the invocation
counts from its history in the same order, Map iterations and retries included, and ends the
same way. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import legato
from legato.core.events import StateExited
from legato.testing import WorkflowEnvironment
from tests.conftest import poll
from tests.services.test_mock_config import CONFIG, DEFINITION

RETRYING_MAP: dict[str, Any] = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "Fn",
                "States": {
                    "Fn": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "fn", "Payload.$": "$"},
                        "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 5}],
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}
BUSY = {"Throw": {"Error": "Busy", "Cause": "try again"}}
MAP_CONFIG = {
    "StateMachines": {"Fan": {"TestCases": {"T": {"Fn": "Sometimes"}}}},
    "MockedResponses": {
        "Sometimes": {
            "0": BUSY,
            "1": {"Return": "a"},
            "2": BUSY,
            "3-9": {"Return": "b"},
        }
    },
}


async def _run(
    url: str, cache_size: int, name: str, definition: dict[str, Any], config: dict[str, Any],
    test_case: str, input: Any,
) -> tuple[Any, list[tuple[str, str]], int]:  # fmt: skip
    app = legato.App(cache_size=cache_size)
    app.register_state_machine(name, definition)
    app.use_mocks(config, test_case)
    async with WorkflowEnvironment(app, url=url):
        handle = await app.start(name, input, id="the-run")
        output = await handle.result(timeout=30)
        history = await handle.history()
        replays = app.stats["replays"]
    exits = [(e.state, e.output) for e in history if isinstance(e, StateExited)]
    return output, exits, replays


async def test_retries_walk_the_ranges_when_every_decision_replays(any_db_url: str) -> None:
    """No sticky cache: each decision replays the history, and the retries still take
    invocations 1, 2 and 3 of the mocked Lambda state."""
    output, _, replays = await _run(
        any_db_url, 0, "LambdaSQSIntegration", DEFINITION, CONFIG, "RetryPath", {"id": "r"}
    )
    assert replays > 0
    assert output["checked"] == {"body": "Hello from Lambda!"}
    assert output["sent"] == {"id": "3bcb6e8e-8b51"}


async def test_a_map_of_retried_mocks_replays_as_it_ran(tmp_path: Path) -> None:
    """Three iterations share the state's count: 0 (busy), 1 ("a"), 2 (busy), then the two
    retries take 3 and 4 ("b"). Run once from the cache and once replaying every decision:
    the same output and the same recorded states."""
    cached = await _run(
        f"sqlite:///{tmp_path / 'a.db'}", 10_000, "Fan", RETRYING_MAP, MAP_CONFIG, "T",
        {"items": [1, 2, 3]},
    )  # fmt: skip
    replayed = await _run(
        f"sqlite:///{tmp_path / 'b.db'}", 0, "Fan", RETRYING_MAP, MAP_CONFIG, "T",
        {"items": [1, 2, 3]},
    )  # fmt: skip
    assert cached[0] == ["b", "a", "b"]
    assert cached[2] == 0 and replayed[2] > 0
    assert replayed[:2] == cached[:2]


TWICE: dict[str, Any] = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "One"}, "ResultPath": "$.first",
                  "Next": "Hold"},
        "Hold": {"Type": "Task", "Resource": "hold", "ResultPath": None, "Next": "Second"},
        "Second": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "Two"}, "ResultPath": "$.second",
                   "End": True},
    },
}  # fmt: skip
TWO_CASES = {
    "StateMachines": {"Twice": {"TestCases": {
        "A": {"First": "A1", "Second": "A2"}, "B": {"First": "B1", "Second": "B2"}}}},
    "MockedResponses": {n: {"0": {"Return": n}} for n in ("A1", "A2", "B1", "B2")},
}  # fmt: skip


async def test_an_execution_keeps_the_test_case_it_began_with(tmp_path: Path) -> None:
    """``use_mocks`` changed while an execution waits in a real step: replayed at each
    decision (no sticky cache), it still answers from the test case it began with, and the
    next execution from the new one."""
    app = legato.App(cache_size=0)
    app.register_state_machine("Twice", TWICE)
    held: list[Any] = []
    release = asyncio.Event()

    @app.step(name="hold")
    async def hold(event: Any) -> None:
        held.append(event)
        await release.wait()

    async with WorkflowEnvironment(app, url=f"sqlite:///{tmp_path / 'c.db'}"):
        app.use_mocks(TWO_CASES, "A")
        first = await app.start("Twice", {"n": 1})

        async def holding() -> bool:
            return len(held) == 1

        await poll(holding)
        app.use_mocks(TWO_CASES, "B")
        second = await app.start("Twice", {"n": 2})

        async def both_holding() -> bool:
            return len(held) == 2

        await poll(both_holding)
        release.set()
        one, two = await first.result(timeout=30), await second.result(timeout=30)
        replays = app.stats["replays"]
    assert one == {"n": 1, "first": "A1", "second": "A2"}
    assert two == {"n": 2, "first": "B1", "second": "B2"}
    assert replays > 0
