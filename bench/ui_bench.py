"""The web UI's reads with 100,000 executions in the database: the executions list API (first
page, each filter, the next page by cursor) and one execution with a 1,000-event history (the
execution and its history), through the real FastAPI app.

Each database is fresh (SQLite: a file in a temporary folder; PostgreSQL: a new database on
the server, bench/pgdb.py) and filled through the store's own writes (``start_execution``,
thousands at a time: the group commit makes them a few large transactions), not by running
100,000 workflows: the reads are what is measured. PostgreSQL's tables are then ANALYZEd, as
autovacuum would have done by the time anyone looks (SQLite is left as Legato leaves it).
The executions are spread over 30 days, 8 workflows, every closed status and RUNNING, with
labels ``customer`` (1 of 200) and ``region`` (1 of 5); one has a history of 1,000 events.

Requests go to ``create_api(App(url))`` over httpx's ASGI transport (in process, no socket),
one at a time after a warm-up; each figure is p50/p95/max of its latency over ``--repeat``
requests. Target: p95 < 100 ms for each.

    .venv/bin/python bench/ui_bench.py                 # SQLite and PostgreSQL, 100,000
    .venv/bin/python bench/ui_bench.py --db sqlite --executions 20000
    .venv/bin/python bench/ui_bench.py --smoke         # 2,000 executions, 100 events: CI

stdout: one JSON line per (database, request), then one summary line per database with the
slowest p95. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pgdb
import psycopg

import legato
from legato.api.serve import freeze_startup_heap
from legato.api.server import create_api
from legato.client import open_store
from legato.core import codec
from legato.core.durations import instant
from legato.core.events import (
    Event,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionStarted,
    Status,
    StepCompleted,
    StepScheduled,
)
from legato.core.partitions import partition_of
from legato.core.transition import ExecutionUpdate, NewExecution, Transition
from legato.ports.store import Store

DAY_MS = 86_400_000
START_MS = 1_780_000_000_000  # a fixed epoch ms, so every run fills the same shape
WORKFLOWS = [f"pipeline_{i}" for i in range(8)]
CUSTOMERS = 200
REGIONS = ["eu", "us", "apac", "latam", "africa"]
# status mix: mostly done, some failing, some still going
STATUSES = [
    (Status.COMPLETED, 0.78),
    (Status.FAILED, 0.08),
    (Status.RUNNING, 0.1),
    (Status.CANCELLED, 0.02),
    (Status.TIMED_OUT, 0.01),
    (Status.TERMINATED, 0.01),
]
CHUNK = 2_000  # starts submitted together: one or a few group commits
PAGE = 100  # the list API's default limit
BIG_ID = "big-history"
TARGET_MS = 100.0


def log(msg: str) -> None:
    print(f"[ui_bench] {msg}", file=sys.stderr, flush=True)


def _execution(i: int, rng: random.Random, span_ms: int) -> NewExecution:
    eid = f"exec-{i:07d}-{rng.getrandbits(32):08x}"
    workflow = WORKFLOWS[rng.randrange(len(WORKFLOWS))]
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    now = START_MS + rng.randrange(span_ms)
    labels = {"customer": f"c{rng.randrange(CUSTOMERS):03d}", "region": rng.choice(REGIONS)}
    args = codec.dumps([[{"order": i, "items": rng.randrange(1, 20)}], {}], "input")
    events: list[Event] = [ExecutionStarted(now, workflow, args, "1")]
    closed = now + rng.randrange(1, 60_000)
    if status == Status.RUNNING:
        update = ExecutionUpdate(Status.RUNNING, "enrich")
    elif status == Status.COMPLETED:
        events.append(ExecutionCompleted(closed, '{"ok": true}'))
        update = ExecutionUpdate(status, "publish", output='{"ok": true}', closed_at=closed)
    else:
        events.append(ExecutionFailed(closed, "States.TaskFailed", "upstream said no", ""))
        update = ExecutionUpdate(status, "enrich", error_type="States.TaskFailed",
                                 error_message="upstream said no", closed_at=closed)  # fmt: skip
    tr = Transition(eid, 0, now, tuple(events), update)
    return NewExecution(eid, workflow, "1", args, now, tr, partition_of(eid),
                        codec.dumps(labels, "labels"))  # fmt: skip


def _big_history(events: int, now: int) -> NewExecution:
    """One execution with ``events`` events: started, step pairs, completed."""
    args = codec.dumps([[{"batch": "2026-11"}], {}], "input")
    history: list[Event] = [ExecutionStarted(now, WORKFLOWS[0], args, "1")]
    ref = 0
    while len(history) < events - 1:
        ref += 1
        ts = now + ref * 10
        call = codec.dumps([[{"page": ref, "cursor": f"c{ref:05d}"}], {}], "args")
        history.append(StepScheduled(ts, ref, "fetch_page", call, "default"))
        if len(history) < events - 1:
            result = codec.dumps({"rows": 250, "next": f"c{ref + 1:05d}"}, "result")
            history.append(StepCompleted(ts + 5, ref, "fetch_page", result, 1))
    closed = now + (ref + 1) * 10
    output = codec.dumps({"pages": ref}, "output")
    history.append(ExecutionCompleted(closed, output))
    update = ExecutionUpdate(Status.COMPLETED, "fetch_page", output=output, closed_at=closed)
    tr = Transition(BIG_ID, 0, now, tuple(history), update)
    labels = codec.dumps({"customer": "c000", "region": "eu"}, "labels")
    return NewExecution(BIG_ID, WORKFLOWS[0], "1", args, now, tr, partition_of(BIG_ID), labels)


async def fill(store: Store, executions: int, history: int, seed: int) -> float:
    """Write the executions; seconds it took."""
    rng = random.Random(seed)
    span = 30 * DAY_MS
    began = time.perf_counter()
    for start in range(0, executions, CHUNK):
        batch = [_execution(i, rng, span) for i in range(start, min(start + CHUNK, executions))]
        results = await asyncio.gather(*(store.start_execution(n) for n in batch))
        assert all(r.created for r in results)
        if (start // CHUNK) % 10 == 9:
            log(f"  {start + len(batch):,} executions written")
    assert (await store.start_execution(_big_history(history, START_MS + span // 2))).created
    return time.perf_counter() - began


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], repeat: int
) -> dict[str, Any]:
    """p50/p95/max of ``repeat`` requests, after 3 not counted (first plans, caches)."""
    times: list[float] = []
    body: Any = None
    for i in range(repeat + 3):
        began = time.perf_counter()
        got = await client.get(path, params=params)
        took = (time.perf_counter() - began) * 1000
        if got.status_code != 200:
            raise SystemExit(f"GET {path} {params}: {got.status_code} {got.text[:300]}")
        body = got.json()
        if i >= 3:
            times.append(took)
    items = body.get("items", body.get("events")) if isinstance(body, dict) else None
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_quantile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "rows": len(items) if isinstance(items, list) else 1,
    }


async def run_on(url: str, db: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    store = open_store(url)
    await store.open()
    try:
        took = await fill(store, args.executions, args.history, args.seed)
    finally:
        await store.close()
    log(f"{db}: {args.executions:,} executions and a {args.history}-event history "
        f"written in {took:.1f}s")  # fmt: skip
    if db == "postgres":  # what autovacuum does within a minute of such a load: a database
        with psycopg.connect(url, autocommit=True) as conn:  # in use has its statistics
            conn.execute("ANALYZE")
    app = legato.App(url)
    api = create_api(app)
    await app.store_ready()
    freeze_startup_heap()  # as `legato server` does once it serves
    lines: list[dict[str, Any]] = []
    try:
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://legato") as client:
            first = (await client.get("/v1/executions", params={"limit": PAGE})).json()
            cursor = first["next_cursor"]
            last_week = instant(START_MS + 23 * DAY_MS).isoformat()  # of the 30 days
            first_week = instant(START_MS + 7 * DAY_MS).isoformat()
            reads: list[tuple[str, str, dict[str, Any]]] = [
                ("list first page", "/v1/executions", {"limit": PAGE}),
                ("list next page (cursor)", "/v1/executions", {"limit": PAGE, "cursor": cursor}),
                ("list status=FAILED", "/v1/executions", {"limit": PAGE, "status": "FAILED"}),
                ("list status=TIMED_OUT (rare)", "/v1/executions",
                 {"limit": PAGE, "status": "TIMED_OUT"}),
                ("list workflow", "/v1/executions", {"limit": PAGE, "workflow": WORKFLOWS[3]}),
                ("list status+workflow", "/v1/executions",
                 {"limit": PAGE, "status": "FAILED", "workflow": WORKFLOWS[3]}),
                ("list label customer", "/v1/executions",
                 {"limit": PAGE, "label": "customer=c042"}),
                ("list label region+status", "/v1/executions",
                 {"limit": PAGE, "label": "region=eu", "status": "TIMED_OUT"}),
                ("list started_after", "/v1/executions",
                 {"limit": PAGE, "started_after": last_week}),
                ("list status+started_before", "/v1/executions",
                 {"limit": PAGE, "status": "RUNNING", "started_before": first_week}),
                ("execution", f"/v1/executions/{BIG_ID}", {}),
                (f"history ({args.history} events)", f"/v1/executions/{BIG_ID}/history", {}),
            ]  # fmt: skip
            for name, path, params in reads:
                figures = await measure(client, path, params, args.repeat)
                line = {"bench": "ui", "db": db, "executions": args.executions, "request": name,
                        **figures}  # fmt: skip
                print(json.dumps(line), flush=True)
                lines.append(line)
    finally:
        await app.shutdown()
    return lines


@contextmanager
def database(db: str, pg_url: str) -> Iterator[str]:
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="legato-ui-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'ui.db'}"
    else:
        with pgdb.fresh_database(pg_url) as url:
            yield url


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--pg-url", default=pgdb.server_url())
    p.add_argument("--executions", type=int, default=None, help="100,000 (smoke: 2,000)")
    p.add_argument("--history", type=int, default=None, help="events (1,000; smoke: 100)")
    p.add_argument("--repeat", type=int, default=None, help="requests measured each (50)")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--smoke", action="store_true", help="small sizes: CI checks it runs")
    args = p.parse_args(argv)
    small, full = (2_000, 100, 5), (100_000, 1_000, 50)
    for name, default in zip(("executions", "history", "repeat"), small if args.smoke else full,
                             strict=True):  # fmt: skip
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    worst = 0.0
    for db in dbs:
        with database(db, args.pg_url) as url:
            lines = await run_on(url, db, args)
        slowest = max(lines, key=lambda line: line["p95_ms"])
        worst = max(worst, slowest["p95_ms"])
        summary = {"bench": "ui", "db": db, "summary": True, "executions": args.executions,
                   "history_events": args.history, "worst_p95_ms": slowest["p95_ms"],
                   "worst_request": slowest["request"], "target_p95_ms": TARGET_MS,
                   # other work on the machine makes the tail: a p95 under load says little
                   "load_average_1m": round(os.getloadavg()[0], 2),
                   "cores": os.cpu_count()}  # fmt: skip
        print(json.dumps(summary), flush=True)
    if worst >= TARGET_MS and not args.smoke:
        log(f"a p95 of {worst} ms is over the {TARGET_MS:g} ms target")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
