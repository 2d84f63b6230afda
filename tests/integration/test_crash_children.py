"""Crash safety of children and signals: SIGKILL a process running parents with child
executions and signals at random moments; everything completes, every child is started once,
and only steps in flight at a kill run again."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP = Path(__file__).with_name("crash_children_app.py")
PARENTS = 20
CHILD_STEPS = [f"p{i}/{c}:{s}" for i in range(PARENTS) for c in "ab" for s in range(6)]
FINAL_STEPS = [f"p{i}:final" for i in range(PARENTS)]


def _lines(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_sigkill_with_children_and_signals_loses_nothing_and_starts_each_child_once(
    tmp_path: Path,
) -> None:
    db, log, results = tmp_path / "crash.db", tmp_path / "steps.log", tmp_path / "results.json"
    rng = random.Random()
    cmd = [sys.executable, str(APP), str(db), str(log), str(results)]
    kills = 0
    deadline = time.monotonic() + 120
    while kills < 5 and time.monotonic() < deadline:
        before = len(_lines(log))
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        while len(_lines(log)) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.2))
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
    assert kills >= 3, "the workload finished too fast to be killed three times"
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr[-3000:]

    # each child: 1 + 2 + ... + 6; the parent adds the signal's payload, its own number
    assert json.loads(results.read_text()) == [42 + i for i in range(PARENTS)]
    counts = collections.Counter(_lines(log))
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
