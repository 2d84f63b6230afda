"""Crash safety of children and signals: SIGKILL a process running parents with child
executions and signals at random moments; everything completes, every child is started once,
and only steps in flight at a kill run again.

A kill lands once a run has logged a random number of step lines (progress, not wall time),
and no parent can finish until the test opens the app's gate after the last kill."""

from __future__ import annotations

import collections
import json
import random
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.processes import Processes, lines_of

APP = Path(__file__).with_name("crash_children_app.py")
PARENTS = 20
KILLS = 5
CHILD_STEPS = [f"p{i}/{c}:{s}" for i in range(PARENTS) for c in "ab" for s in range(6)]
FINAL_STEPS = [f"p{i}:final" for i in range(PARENTS)]


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_sigkill_with_children_and_signals_loses_nothing_and_starts_each_child_once(
    tmp_path: Path, seed: int, processes: Processes, wait_for: Callable[..., Awaitable[None]]
) -> None:
    db, log, results = tmp_path / "crash.db", tmp_path / "steps.log", tmp_path / "results.json"
    gate = tmp_path / "gate"
    rng = random.Random(seed)
    cmd = [sys.executable, str(APP), str(db), str(log), str(results)]
    env = {"CRASH_GATE": str(gate)}
    # every run logs at least one line per parent (20) before the gate stops it
    kills = await processes.kill_on_progress(
        cmd, env, runs=KILLS, progress=log, most_lines=20, rng=rng, wait_for=wait_for
    )
    assert kills >= 3, "the workload finished too fast to be killed three times"
    gate.touch()
    final = processes.spawn("final", cmd, env=env)

    async def finished() -> bool:
        return final.poll() is not None

    await wait_for(finished, limit=120)
    assert final.returncode == 0, processes.log_of(final)

    # each child: 1 + 2 + ... + 6; the parent adds the signal's payload, its own number
    assert json.loads(results.read_text()) == [42 + i for i in range(PARENTS)]
    counts = collections.Counter(lines_of(log))
    assert set(counts) == set(CHILD_STEPS + FINAL_STEPS)
    for i in range(PARENTS):
        mine = [s for s in CHILD_STEPS + FINAL_STEPS if s.startswith((f"p{i}/", f"p{i}:"))]
        reruns = sum(counts[s] - 1 for s in mine)
        assert reruns <= 2 * kills, f"p{i} re-ran {reruns} steps over {kills} kills"
    with sqlite3.connect(db) as conn:
        kids = conn.execute(
            "SELECT id, parent_id, status FROM executions WHERE workflow = 'kid' ORDER BY id"
        ).fetchall()
        starts = conn.execute(
            "SELECT count(*) FROM history WHERE type = 'ExecutionStarted'"
        ).fetchone()[0]
        signals = conn.execute(
            "SELECT execution_id, count(*) FROM history WHERE type = 'SignalReceived' "
            "GROUP BY execution_id"
        ).fetchall()
        leftovers = conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
    assert [k[0] for k in kids] == sorted(f"p{i}/{n}" for i in range(PARENTS) for n in (1, 2))
    assert all(status == "COMPLETED" for _, _, status in kids)
    assert starts == PARENTS * 3  # every execution started once: no child twice
    assert len(signals) == PARENTS
    assert leftovers == 0
    print(f"kills={kills} reruns={sum(counts.values()) - len(counts)}")
