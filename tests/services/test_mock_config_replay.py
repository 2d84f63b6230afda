"""Mocked Task states are deterministic on replay: nothing about a mocked call is recorded, so
an execution evicted from the sticky cache (or resumed after a crash) rebuilds the invocation
counts from its history in the same order, Map iterations and retries included, and ends the
same way. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import legato
from legato.core.events import StateExited
from legato.testing import WorkflowEnvironment
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
