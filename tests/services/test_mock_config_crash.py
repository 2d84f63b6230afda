"""A process running a mocked state machine is SIGKILLed and started again with the same
mocks: the execution resumes from its history, the mocked state's invocation counts rebuilt by
the replay, so its second round takes invocations 2 and 3 (not 0 and 1 again)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.processes import Processes, lines_of

APP = Path(__file__).with_name("mock_crash_app.py")


@pytest.mark.timeout(120)
async def test_a_killed_mocked_run_resumes_with_its_counts(
    tmp_path: Path, processes: Processes, wait_for: Callable[..., Awaitable[None]]
) -> None:
    db, log, result = tmp_path / "mock.db", tmp_path / "steps.log", tmp_path / "result.json"
    gate = tmp_path / "gate"
    cmd = [sys.executable, str(APP), str(db), str(log), str(result)]
    env = {"MOCK_CRASH_GATE": str(gate)}
    first = processes.spawn("first", cmd, env=env)

    async def holding() -> bool:
        assert first.poll() is None, processes.log_of(first)
        return "hold-0" in lines_of(log)

    await wait_for(holding, limit=60)  # round 0: "Busy", a retry, "a"; then the held step
    processes.kill(first)
    assert not result.exists()

    gate.touch()
    second = processes.spawn("second", cmd, env=env)

    async def finished() -> bool:
        return second.poll() is not None

    await wait_for(finished, limit=90)
    assert second.returncode == 0, processes.log_of(second)
    assert json.loads(result.read_text()) == {"round": 2, "seen": ["a", "b"]}
    # the step in flight at the kill ran again; round 1's ran once
    assert (lines_of(log).count("hold-0"), lines_of(log).count("hold-1")) == (2, 1)
    with sqlite3.connect(db) as conn:
        starts = conn.execute(
            "SELECT count(*) FROM history WHERE type = 'ExecutionStarted'"
        ).fetchone()[0]
    assert starts == 1
