"""Crash safety of a Distributed Map: SIGKILL the process running a Map Run at random moments
(progress, not wall time); the run completes, its items are read once, every child execution
is started once, only steps in flight at a kill run again, and the results are exported."""

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

APP = Path(__file__).with_name("dmap_crash_app.py")
ROWS = 40
KILLS = 4
CONCURRENCY = 4


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_sigkill_during_a_map_run_loses_nothing_and_starts_each_child_once(
    tmp_path: Path, seed: int, processes: Processes, wait_for: Callable[..., Awaitable[None]]
) -> None:
    log, result, gate = tmp_path / "steps.log", tmp_path / "result.json", tmp_path / "gate"
    rng = random.Random(seed)
    cmd = [sys.executable, str(APP), str(tmp_path), str(log), str(result)]
    env = {"CRASH_GATE": str(gate)}
    kills = await processes.kill_on_progress(
        cmd, env, runs=KILLS, progress=log, most_lines=6, rng=rng, wait_for=wait_for
    )
    assert kills == KILLS
    gate.touch()
    final = processes.spawn("final", cmd, env=env)

    async def finished() -> bool:
        return final.poll() is not None

    await wait_for(finished, limit=120)
    assert final.returncode == 0, processes.log_of(final)

    output = json.loads(result.read_text())
    run_id = output["MapRunArn"].rsplit(":", 1)[-1]
    folder = tmp_path / "out" / run_id
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["ResultFiles"]["FAILED"] == manifest["ResultFiles"]["PENDING"] == []
    entries = json.loads((folder / "SUCCEEDED_0.json").read_text())
    assert [json.loads(e["Output"]) for e in entries] == [2 * i for i in range(ROWS)]

    counts = collections.Counter(lines_of(log))
    assert set(counts) == {f"row-{i}" for i in range(ROWS)}
    reruns = sum(n - 1 for n in counts.values())
    # at most CONCURRENCY steps are in flight at a kill; twice that leaves room for a lease
    # that lapsed under load (at least once, never a whole Map Run again)
    assert reruns <= 2 * CONCURRENCY * kills, f"{reruns} steps re-ran over {kills} kills"
    with sqlite3.connect(tmp_path / "crash.db") as conn:
        children = conn.execute(
            "SELECT id, status FROM executions WHERE workflow = 'legato.map.child' ORDER BY id"
        ).fetchall()
        starts = conn.execute(
            "SELECT count(*) FROM history WHERE type = 'ExecutionStarted'"
        ).fetchone()[0]
        reads = conn.execute(
            "SELECT count(*) FROM history WHERE type = 'StepCompleted' "
            "AND name = 'legato.items.read'"
        ).fetchone()[0]
    assert sorted(c for c, _ in children) == sorted(f"dmap-1/Each/1/{i}" for i in range(ROWS))
    assert {status for _, status in children} == {"COMPLETED"}
    assert starts == ROWS + 1  # the parent and each child started once
    assert reads == 1
    print(f"kills={kills} reruns={reruns}")
