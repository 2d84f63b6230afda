"""Procrastinate (https://procrastinate.readthedocs.io) side of W2 "fan-out", on PostgreSQL.

Procrastinate is a job queue, not a workflow engine: it has no parent execution that joins its
children, so W2 here is its nearest equivalent: defer N trivial jobs at once
(``Task.batch_defer_async``, one INSERT for all), then run a worker in this process until
every job is done; jobs/s = N / wall, wall = first defer -> worker exit with the queue empty.
Prints one JSON line (``steps_per_s`` holds jobs/s) like the other benchmarks:

    python bench/procrastinate_bench.py w2 --n 1000 --db postgresql://postgres@127.0.0.1:5432/test

Setup as its docs describe: ``App(connector=PsycopgConnector(...))``, the schema applied with
``app.schema_manager.apply_schema_async()`` (what ``procrastinate schema --apply`` runs), and
an in-process worker from ``app.run_worker_async(wait=False, concurrency=C)``: with
``wait=False`` it stops once it has caught up with the queue and its running jobs are done.
Other worker options stay at Procrastinate's defaults (LISTEN/NOTIFY on, jobs kept).

Fairness: the worker fetches one job per round trip, serially, and runs up to ``concurrency``
jobs at once, each finishing with a write from the connection pool. Concurrency and pool size
are therefore its two knobs. On the 2-core development machine (median jobs/s of 3 runs, N=1000):

    pool, concurrency:    1     10    25    50    100   200
    4 (its default)       351   742   738   702   780   873
    10                    445   687   607   590   599   622
    20                    368   613   525   634   630   639

and 5 more runs with pool 4: concurrency 10: 854, 50: 857, 100: 749, 200: 731. Everything from
concurrency 10 up on the default pool is the same within noise, and more connections only add
contention on 2 cores; the defaults below (concurrency 50, pool 4) are from that top group.

--db names a PostgreSQL *server*: the run creates a fresh database ``legato_bench_<random>``
there and drops it at the end (bench/pgdb.py). A small untimed warm-up (10 jobs, one worker
run) comes first, as on the other engines' side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from importlib.metadata import version
from typing import Any

import pgdb
import procrastinate

BACKEND = "procrastinate-postgres"


def log(msg: str) -> None:
    """Logs go to stderr so stdout carries only the result line."""
    print(f"[procrastinate_bench] {msg}", file=sys.stderr, flush=True)


def build(url: str, pool_size: int) -> tuple[procrastinate.App, Any]:
    """The app, on a psycopg pool of a fixed size, and its one trivial task."""
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=pool_size, max_size=pool_size)
    app = procrastinate.App(connector=connector)

    @app.task(name="inc")
    async def inc(x: int) -> int:
        """Trivial job: no I/O, so the cost measured is Procrastinate's own bookkeeping."""
        return x + 1

    return app, inc


async def statuses(app: procrastinate.App) -> dict[str, int]:
    """Job counts by status, to check every job ran exactly once and succeeded."""
    rows = await app.connector.execute_query_all_async(
        "SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs GROUP BY status"
    )
    return {str(r["status"]): int(r["n"]) for r in rows}


async def drain(app: procrastinate.App, inc: Any, n: int, concurrency: int) -> float:
    """Defer n jobs in one batch and run a worker until the queue is empty; wall seconds."""
    t0 = time.perf_counter()
    await inc.batch_defer_async(*({"x": i} for i in range(n)))
    await app.run_worker_async(concurrency=concurrency, wait=False, install_signal_handlers=False)
    return time.perf_counter() - t0


async def w2(url: str, n: int, concurrency: int, pool_size: int) -> float:
    """Apply the schema, warm up, then time one fan-out of n jobs."""
    app, inc = build(url, pool_size)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await drain(app, inc, 10, concurrency)  # warm-up, not timed
        wall = await drain(app, inc, n, concurrency)
        counts = await statuses(app)
    if counts != {"succeeded": n + 10}:
        raise RuntimeError(f"expected {n + 10} succeeded jobs, got {counts}")
    return wall


def main(argv: list[str] | None = None) -> int:
    """Run W2 on a fresh database and print its JSON line."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("workload", choices=["w2"])
    p.add_argument("--n", type=int, default=1000, help="jobs deferred at once")
    p.add_argument("--concurrency", type=int, default=50, help="jobs the worker runs at once")
    p.add_argument("--pool-size", type=int, default=4, help="psycopg pool connections")
    p.add_argument(
        "--db", default=pgdb.server_url(), help="a PostgreSQL server URL (default %(default)s)"
    )
    args = p.parse_args(argv)
    if not pgdb.is_postgres(args.db):
        p.error("--db takes a postgresql:// URL: Procrastinate runs on PostgreSQL only")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # It warns that an App defined in __main__ gets task names from "__main__"; ours names its
    # one task explicitly, so the warning does not apply.
    logging.getLogger("procrastinate.blueprints").setLevel(logging.ERROR)
    with pgdb.fresh_database(args.db) as url:
        log(
            f"w2 n={args.n} concurrency={args.concurrency} pool={args.pool_size} "
            f"procrastinate={version('procrastinate')} db={url}"
        )
        wall = asyncio.run(w2(url, args.n, args.concurrency, args.pool_size))
    out = {
        "workload": "W2",
        "backend": BACKEND,
        "N": args.n,
        "K": 1,
        "wall_s": round(wall, 6),
        "steps_per_s": round(args.n / wall, 2),
        "p50_ms": None,
        "p99_ms": None,
        "concurrency": args.concurrency,
    }
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
