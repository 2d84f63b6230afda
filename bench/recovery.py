"""Recovery time: ``kill -9`` a ``legato dev`` with executions in flight, start it again, and
measure how long the new process takes to record its first step.

For each database and repeat, on a fresh database (SQLite: a file in a temporary folder;
PostgreSQL: ``legato_bench_<random>``, bench/pgdb.py):

    .venv/bin/legato dev bench_app --db URL        # PYTHONPATH=bench, W1's app (bench/bench_app.py)

a client in this process starts N executions of K trivial steps (W1), waits until a fifth of
the steps are recorded, SIGKILLs the engine (mid-run: some steps are running, their tasks and
all 64 partitions leased to it for the default 30 s lease), and starts it again at once.
``restart_to_first_step_s`` is from just before the new process is spawned (so Python's own
start-up counts) to the timestamp of the first ``StepCompleted`` the new process records;
``restart_to_all_done_s`` to the last execution's end. Target: first step within 2 s
(``target_s``), where waiting for the dead engine's leases would take 30 s. ``took_over``
says whether the new engine logged that it proved its predecessor dead and took over.

stdout: one JSON line per run, then one summary line per database (medians). Progress and a
failed run's engine log go to stderr; a run that fails, does not take over, or misses the target
exits non-zero. With ``--smoke`` (CI, on a machine that may be busy) the target is reported but
does not fail the run: a timing is a figure to read, not a check.

    .venv/bin/python bench/recovery.py            # SQLite and PostgreSQL, N=100 K=50, 3 repeats
    .venv/bin/python bench/recovery.py --db sqlite --repeat 5
    .venv/bin/python bench/recovery.py --smoke    # both, N=20 K=20, 1 repeat: make bench-smoke
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import bench_app
import pgdb
import psycopg

import legato

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TARGET_S = 2.0
DEADLINE_S = 90.0  # per wait; far past the 30 s lease, so a run that merely waited it out shows
KILL_AT = 0.2  # the fraction of all steps recorded when the engine is killed


def log(msg: str) -> None:
    """Progress to stderr; stdout carries only the JSON lines."""
    print(f"[recovery] {msg}", file=sys.stderr, flush=True)


def legato_cli() -> str:
    """The ``legato`` script of the venv running this benchmark, so both use the same Legato."""
    cli = Path(sys.executable).with_name("legato")
    if not cli.exists():
        sys.exit(f"{cli} not found: run this with the project's venv (.venv/bin/python)")
    return str(cli)


class History:
    """Reads the benchmark database's history directly: counts and times, nothing else."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _one(self, sql: str, *params: Any) -> Any:
        if pgdb.is_postgres(self.url):
            with psycopg.connect(self.url, autocommit=True) as conn:
                row = conn.execute(sql.replace("?", "%s"), params).fetchone()
        else:
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=10)
            try:
                row = conn.execute(sql, params).fetchone()
            finally:
                conn.close()
        return row[0] if row else None

    def steps_recorded(self) -> int:
        return int(self._one("SELECT count(*) FROM history WHERE type = 'StepCompleted'"))

    def first_step_since(self, since_ms: int) -> int | None:
        found = self._one(
            "SELECT min(ts) FROM history WHERE type = 'StepCompleted' AND ts >= ?", since_ms
        )
        return None if found is None else int(found)

    def open_executions(self) -> int:
        return int(
            self._one("SELECT count(*) FROM executions WHERE status IN ('PENDING', 'RUNNING')")
        )

    def last_close(self) -> int:
        return int(self._one("SELECT max(closed_at) FROM executions"))

    def completed_with(self, output: str) -> int:
        return int(
            self._one(
                "SELECT count(*) FROM executions WHERE status = 'COMPLETED' AND output = ?", output
            )
        )


def wait_until(what: str, check: Any, proc: subprocess.Popen[bytes], engine_log: Path) -> Any:
    """Poll ``check()`` until it returns something truthy; fail after DEADLINE_S, or at once
    if the engine exited."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            raise RuntimeError(f"the engine exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {DEADLINE_S:.0f} s")
        time.sleep(0.01)


@contextmanager
def database(kind: str, server: str) -> Iterator[str]:
    if kind == "postgres":
        with pgdb.fresh_database(server) as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="legato-recovery-") as d:
            yield f"sqlite:///{d}/recovery.db"


def spawn(url: str, out: IO[bytes]) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(BENCH_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return subprocess.Popen(
        [legato_cli(), "dev", "bench_app", "--db", url],
        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
    )  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def start_executions(url: str, n: int, k: int) -> None:
    """Recorded as PENDING by a client (no engine here): the ``legato dev`` process runs them."""
    client = bench_app.register(legato.App(url))
    try:
        await client.list_executions(limit=1)  # opens the store once (see bench/scaling.py)
        for i in range(n):
            await client.start("sequential", k, id=f"rec-{i}")
    finally:
        await client.shutdown()


def one_run(kind: str, server: str, n: int, k: int, work: Path) -> dict[str, Any]:
    with database(kind, server) as url:
        history = History(url)
        first_log, second_log = work / f"{kind}-killed.log", work / f"{kind}-restarted.log"
        with first_log.open("wb") as out:
            first = spawn(url, out)
        try:
            asyncio.run(start_executions(url, n, k))
            wait_until(
                "progress before the kill",
                lambda: history.steps_recorded() >= KILL_AT * n * k,
                first,
                first_log,
            )
        except BaseException:
            stop(first)
            log(f"--- killed engine's log ---\n{first_log.read_text(errors='replace')}")
            raise
        first.kill()
        first.wait()
        in_flight = history.open_executions()
        recorded_before = history.steps_recorded()
        with second_log.open("wb") as out:
            restarted_at = time.time()
            second = spawn(url, out)
        try:
            first_ms = wait_until(
                "step recorded after the restart",
                lambda: history.first_step_since(int(restarted_at * 1000)),
                second,
                second_log,
            )
            wait_until("end of every execution", lambda: history.open_executions() == 0,
                       second, second_log)  # fmt: skip
            done_ms = history.last_close()
            if history.completed_with(str(k)) != n or history.steps_recorded() != n * k:
                raise RuntimeError("not every execution completed with its K steps recorded")
        except BaseException:
            log(f"--- restarted engine's log ---\n{second_log.read_text(errors='replace')}")
            raise
        finally:
            stop(second)
        said = " ".join(second_log.read_text(errors="replace").split())
        first_s = first_ms / 1000 - restarted_at
        return {
            "bench": "recovery",
            "db": kind,
            "N": n,
            "K": k,
            "in_flight": in_flight,
            "steps_before_kill": recorded_before,
            "restart_to_first_step_s": round(first_s, 3),
            "restart_to_all_done_s": round(done_ms / 1000 - restarted_at, 3),
            "took_over": "is gone (lock free): taking over 64 partitions" in said,
            "target_s": TARGET_S,
            "ok": first_s <= TARGET_S,
        }


def summary(kind: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    firsts = [r["restart_to_first_step_s"] for r in runs]
    return {
        "bench": "recovery",
        "db": kind,
        "summary": True,
        "repeats": len(runs),
        "restart_to_first_step_s_median": round(statistics.median(firsts), 3),
        "restart_to_first_step_s_max": max(firsts),
        "restart_to_all_done_s_median": round(
            statistics.median(r["restart_to_all_done_s"] for r in runs), 3
        ),
        "target_s": TARGET_S,
        "ok": all(r["ok"] and r["took_over"] for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--n", type=int, default=100, help="executions")
    parser.add_argument("--k", type=int, default=50, help="steps per execution")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-url", default=pgdb.server_url())
    parser.add_argument("--smoke", action="store_true", help="N=20 K=20, 1 repeat")
    args = parser.parse_args()
    if args.smoke:
        args.n, args.k, args.repeat = 20, 20, 1
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    ok = True
    with tempfile.TemporaryDirectory(prefix="legato-recovery-logs-") as d:
        for kind in kinds:
            runs = []
            for i in range(args.repeat):
                log(f"{kind} run {i + 1}/{args.repeat}: N={args.n} K={args.k}")
                try:
                    run = one_run(kind, args.pg_url, args.n, args.k, Path(d))
                except RuntimeError as exc:
                    log(f"{kind} run {i + 1} failed: {exc}")
                    ok = False
                    continue
                print(json.dumps(run), flush=True)
                runs.append(run)
            if runs:
                line = summary(kind, runs)
                print(json.dumps(line), flush=True)
                met = line["ok"] if not args.smoke else all(r["took_over"] for r in runs)
                ok = ok and met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
