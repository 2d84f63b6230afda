"""DBOS (https://docs.dbos.dev) side of the Legato-vs-DBOS benchmark, on SQLite or PostgreSQL.

Runs one workload per process so that each measurement starts from a fresh
interpreter and a fresh system database, and prints exactly one JSON line to
stdout (everything else goes to stderr), which bench/run.py collects:

    python bench/dbos_bench.py w1 --n 200 --k 10   # N concurrent workflows x K steps
    python bench/dbos_bench.py w2 --n 1000         # one workflow, N parallel steps, joined
    python bench/dbos_bench.py w3 --n 200          # start->result latency, one at a time
    python bench/dbos_bench.py w1 --db postgresql://postgres@127.0.0.1:5432/test

DBOS is configured and launched the way its docs recommend for a script:
``DBOS(config=...)`` then ``DBOS.launch()`` under ``if __name__ == "__main__"``,
with ``system_database_url="sqlite:///<tmpdir>/dbos.sqlite"`` and
``DBOS.destroy()`` at the end.

PostgreSQL (--db SERVER_URL): the run creates a fresh database
``legato_bench_<random>`` on that server (bench/pgdb.py), hands its URL to DBOS
as ``system_database_url`` -- the setup DBOS's docs recommend for production --
with every other setting at DBOS's default (``sys_db_pool_size`` 20,
LISTEN/NOTIFY on), and drops it at the end. --journal does not apply there.

W2 (fan-out) always uses async DBOS: one ``async`` workflow starts N async
steps with ``asyncio.gather`` and joins them, the pattern DBOS documents for
parallel steps (step ids are taken in the deterministic order the tasks are
created). Sync DBOS has no way to run steps of one workflow in parallel short
of enqueuing child workflows on a DBOS queue, which checkpoints a whole
workflow per item rather than a step, so it would not be the same workload.

Mode (--mode, default sync): DBOS supports both sync and ``async def``
workflows/steps. Sync workflows started with ``DBOS.start_workflow`` each run
on a thread of DBOS's executor; async ones started with
``DBOS.start_workflow_async`` run on the caller's event loop and push every
database write to that same thread pool via ``asyncio.to_thread``, which only
adds hops. On the 2-core development machine sync was the faster of the two
for both W1 (~1.3-1.5x) and W3, so sync is the default: it is DBOS's best
result. ``--mode async`` measures the other.

Journal (--journal, default wal): DBOS leaves its SQLite file in SQLite's
default rollback-journal mode. WAL is the usual setting for a SQLite-backed
service and it persists in the file, so we create the file in WAL mode before
DBOS opens it; this raised DBOS's W1 throughput 1.4-2x here, and gives DBOS
the same journal a WAL-using engine gets. ``--journal delete`` measures DBOS
exactly as shipped. synchronous stays at SQLite's default (FULL) either way:
DBOS sets no pragma for it and it is per connection.

Both workloads run one untimed warm-up workflow first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import pgdb
from dbos import DBOS, DBOSConfig

BACKEND = "dbos-sqlite"
T = TypeVar("T")


# --- Workflows and steps -----------------------------------------------------
# Decorators must run before DBOS.launch(), so they are at module level.


@DBOS.step()
async def inc_async(x: int) -> int:
    """Trivial step: no I/O, so the cost measured is DBOS's checkpointing."""
    return x + 1


@DBOS.workflow()
async def seq_async(k: int) -> int:
    """K sequential steps; each step's result is checkpointed before the next."""
    v = 0
    for _ in range(k):
        v = await inc_async(v)
    return v


@DBOS.step()
def inc_sync(x: int) -> int:
    """Sync twin of inc_async, for --mode sync."""
    return x + 1


@DBOS.workflow()
def seq_sync(k: int) -> int:
    """Sync twin of seq_async, for --mode sync."""
    v = 0
    for _ in range(k):
        v = inc_sync(v)
    return v


@DBOS.workflow()
async def fan_out_async(n: int) -> int:
    """W2: N async steps started together with asyncio.gather, then joined."""
    results = await asyncio.gather(*(inc_async(i) for i in range(n)))
    return sum(results)


# --- Helpers -----------------------------------------------------------------


def log(msg: str) -> None:
    """Logs go to stderr so stdout carries only the result line."""
    print(f"[dbos_bench] {msg}", file=sys.stderr, flush=True)


def check(ok: bool) -> None:
    """Fail loudly on a wrong result (unlike assert, survives python -O)."""
    if not ok:
        raise RuntimeError("DBOS returned a wrong workflow result")


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): no interpolation, so p99 is a real sample."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def make_config(url: str, pool_size: int | None) -> DBOSConfig:
    """Config for a fresh system database; WARNING level keeps DBOS's INFO chatter out."""
    config: DBOSConfig = {
        "name": "legato-bench-dbos",
        "system_database_url": url,
        "log_level": "WARNING",
    }
    if pool_size is not None:
        config["sys_db_pool_size"] = pool_size
    return config


def set_wal(db_path: Path) -> None:
    """Create the database file in WAL mode; the mode is stored in the file, so DBOS keeps it."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def journal_mode(db_path: Path) -> str:
    """Read back the journal mode DBOS actually runs with, for the stderr log."""
    conn = sqlite3.connect(db_path)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """One event loop per measurement, as a script using async DBOS would have."""
    return asyncio.run(factory())


# --- Workloads -----------------------------------------------------------------


def w1(n: int, k: int, mode: str) -> float:
    """Start N workflows together, wait for all; returns wall seconds first start -> last result."""
    if mode == "async":

        async def go() -> float:
            await seq_async(1)  # warm-up (thread pool, lazy imports), not timed
            t0 = time.perf_counter()
            handles = await asyncio.gather(
                *(DBOS.start_workflow_async(seq_async, k) for _ in range(n))
            )
            results = await asyncio.gather(*(h.get_result() for h in handles))
            wall = time.perf_counter() - t0
            check(results == [k] * n)
            return wall

        return run_async(go)

    seq_sync(1)  # warm-up, not timed
    t0 = time.perf_counter()
    sync_handles = [DBOS.start_workflow(seq_sync, k) for _ in range(n)]
    sync_results = [h.get_result() for h in sync_handles]
    wall = time.perf_counter() - t0
    check(sync_results == [k] * n)
    return wall


def w2(n: int) -> float:
    """One workflow fanning out to N parallel steps; returns wall seconds start -> result."""

    async def go() -> float:
        await fan_out_async(10)  # warm-up, not timed (as on Legato's side)
        t0 = time.perf_counter()
        handle = await DBOS.start_workflow_async(fan_out_async, n)
        result = await handle.get_result()
        wall = time.perf_counter() - t0
        check(result == n * (n + 1) // 2)
        return wall

    return run_async(go)


def w3(n: int, mode: str) -> tuple[float, list[float]]:
    """Start a one-step workflow and await it, N times in a row; returns (wall_s, latencies_s)."""
    lat: list[float] = []
    if mode == "async":

        async def go() -> float:
            await seq_async(1)  # warm-up, not timed
            t0 = time.perf_counter()
            for _ in range(n):
                s = time.perf_counter()
                h = await DBOS.start_workflow_async(seq_async, 1)
                r = await h.get_result()
                lat.append(time.perf_counter() - s)
                check(r == 1)
            return time.perf_counter() - t0

        return run_async(go), lat

    seq_sync(1)  # warm-up, not timed
    t0 = time.perf_counter()
    for _ in range(n):
        s = time.perf_counter()
        r = DBOS.start_workflow(seq_sync, 1).get_result()
        lat.append(time.perf_counter() - s)
        check(r == 1)
    return time.perf_counter() - t0, lat


# --- Main ------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """CLI shared in shape with bench/legato_bench.py so run.py can drive both alike."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("workload", choices=["w1", "w2", "w3"])
    p.add_argument(
        "--n", type=int, default=None, help="W1 workflows, W2 steps, W3 runs (200, 1000, 200)"
    )
    p.add_argument("--k", type=int, default=10, help="steps per workflow (W1 only)")
    p.add_argument("--mode", choices=["sync", "async"], default="sync", help="W1 and W3 only")
    p.add_argument("--db", help="a PostgreSQL server URL (a fresh database is made on it)")
    p.add_argument(
        "--journal",
        choices=["wal", "delete"],
        default="wal",
        help="SQLite journal mode of the system database (delete = DBOS as shipped)",
    )
    p.add_argument("--pool-size", type=int, default=None, help="sys_db_pool_size (DBOS default 20)")
    return p.parse_args(argv)


def run_workload(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    """Run the chosen workload on the launched DBOS and build its result line."""
    if args.workload == "w1":
        wall = w1(args.n, args.k, args.mode)
        steps, k = args.n * args.k, args.k
    elif args.workload == "w2":
        wall = w2(args.n)
        steps, k = args.n, 1
    else:
        wall, lat = w3(args.n, args.mode)
        return {
            "workload": "W3",
            "backend": backend,
            "N": args.n,
            "K": 1,
            "wall_s": round(wall, 6),
            "steps_per_s": None,
            "p50_ms": round(statistics.median(lat) * 1000, 3),
            "p99_ms": round(percentile(lat, 99) * 1000, 3),
        }
    return {
        "workload": args.workload.upper(),
        "backend": backend,
        "N": args.n,
        "K": k,
        "wall_s": round(wall, 6),
        "steps_per_s": round(steps / wall, 2),
        "p50_ms": None,
        "p99_ms": None,
    }


def main(argv: list[str] | None = None) -> int:
    """Launch DBOS on a fresh system database, run one workload, print one JSON line."""
    args = parse_args(argv)
    if args.n is None:
        args.n = 1000 if args.workload == "w2" else 200
    if args.db is not None and not pgdb.is_postgres(args.db):
        sys.exit("--db takes a postgresql:// URL; leave it out for SQLite")
    with ExitStack() as stack:
        db_path: Path | None = None
        if args.db:
            backend = "dbos-postgres"
            url = stack.enter_context(pgdb.fresh_database(args.db))
        else:
            backend = BACKEND
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dbos-bench-")))
            db_path = tmp / "dbos.sqlite"
            if args.journal == "wal":
                set_wal(db_path)
            url = f"sqlite:///{db_path}"
        DBOS(config=make_config(url, args.pool_size))
        DBOS.launch()
        try:
            # SQLite: the journal mode DBOS actually runs with, read back once it has opened.
            where = f"db={url}" if db_path is None else f"journal={journal_mode(db_path)} db={url}"
            log(
                f"{args.workload} n={args.n}"
                + (f" k={args.k}" if args.workload == "w1" else "")
                + f" mode={'async' if args.workload == 'w2' else args.mode} "
                + f"dbos={version('dbos')} {where}"
            )
            out = run_workload(args, backend)
        finally:
            DBOS.destroy(destroy_registry=True)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
