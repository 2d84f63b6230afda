"""Legato benchmarks W1 (sequential), W2 (fan-out) and W3 (latency), on SQLite with the default
durability (WAL, synchronous=FULL) or on PostgreSQL. Prints one JSON line.

    python bench/legato_bench.py w1 --n 200 --k 10     # N concurrent workflows x K steps
    python bench/legato_bench.py w2 --n 1000           # one workflow, N parallel steps, joined
    python bench/legato_bench.py w3 --n 200            # start->result latency, one at a time
    python bench/legato_bench.py w1 --db postgresql://postgres@127.0.0.1:5432/test

--db names a PostgreSQL *server* (any database on it you may connect to): the run creates a
fresh database ``legato_bench_<random>`` there and drops it at the end (bench/pgdb.py).
Without --db the run uses a new SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pgdb

import legato


def build(url: str) -> tuple[legato.App, Any, Any, Any]:
    """The app and its workflows; built per run so every run gets a fresh registry."""
    app = legato.App(url)

    @app.step
    async def inc(x: int) -> int:
        return x + 1

    @app.workflow(name="sequential")
    async def sequential(ctx: legato.Context, k: int) -> int:
        x = 0
        for _ in range(k):
            x = await ctx.step(inc, x)
        return x

    @app.workflow(name="fan_out")
    async def fan_out(ctx: legato.Context, n: int) -> int:
        results = await ctx.gather(*(ctx.step(inc, i) for i in range(n)))
        return sum(results)

    @app.workflow(name="one_step")
    async def one_step(ctx: legato.Context) -> int:
        return await ctx.step(inc, 0)  # type: ignore[no-any-return]

    return app, sequential, fan_out, one_step


def check(ok: bool) -> None:
    """Fail loudly on a wrong result (unlike assert, survives python -O)."""
    if not ok:
        raise RuntimeError("Legato returned a wrong workflow result")


def throughput(workload: str, n: int, k: int, wall: float, steps: int) -> dict[str, Any]:
    """The result line of a throughput workload (W1, W2)."""
    return {
        "workload": workload,
        "backend": "legato-sqlite",
        "N": n,
        "K": k,
        "wall_s": round(wall, 4),
        "steps_per_s": round(steps / wall, 1),
        "p50_ms": None,
        "p99_ms": None,
    }


async def w1(url: str, n: int, k: int) -> dict[str, Any]:
    """N workflows started together, K sequential steps each; wall = first start -> last result."""
    app, sequential, _, _ = build(url)
    async with app:
        t0 = time.perf_counter()
        handles = await asyncio.gather(*(app.start(sequential, k) for _ in range(n)))
        results = await asyncio.gather(*(h.result() for h in handles))
        wall = time.perf_counter() - t0
        check(results == [k] * n)
        print(json.dumps(app.stats), file=sys.stderr)
    return throughput("W1", n, k, wall, n * k)


async def w2(url: str, n: int) -> dict[str, Any]:
    """One execution gathering N parallel steps; wall = start -> result. A small untimed
    fan-out first, as DBOS's side does, so neither pays first-use costs in the timing."""
    app, _, fan_out, _ = build(url)
    async with app:
        check(await (await app.start(fan_out, 10)).result() == sum(range(1, 11)))
        t0 = time.perf_counter()
        result = await (await app.start(fan_out, n)).result()
        wall = time.perf_counter() - t0
        check(result == n * (n + 1) // 2)
        print(json.dumps(app.stats), file=sys.stderr)
    return throughput("W2", n, 1, wall, n)


async def w3(url: str, n: int) -> dict[str, Any]:
    """Start a one-step workflow and await it, N times in a row, after 10 untimed ones."""
    app, _, _, one_step = build(url)
    async with app:
        for _ in range(10):  # warm-up
            await (await app.start(one_step)).result()
        lat = []
        t0 = time.perf_counter()
        for _ in range(n):
            s = time.perf_counter()
            check(await (await app.start(one_step)).result() == 1)
            lat.append((time.perf_counter() - s) * 1000)
        wall = time.perf_counter() - t0
    lat.sort()
    return {
        "workload": "W3",
        "backend": "legato-sqlite",
        "N": n,
        "K": 1,
        "wall_s": round(wall, 4),
        "steps_per_s": round(n / wall, 1),
        "p50_ms": round(statistics.median(lat), 3),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 3),
    }


def main() -> None:
    """Run one workload on a fresh database and print its JSON line."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("workload", choices=["w1", "w2", "w3"])
    p.add_argument("--n", type=int, default=None, help="W1/W3: 200 executions; W2: 1000 steps")
    p.add_argument("--k", type=int, default=10, help="W1 steps per workflow")
    p.add_argument("--db", help="a PostgreSQL server URL (a fresh database is made on it)")
    args = p.parse_args()
    n = args.n if args.n is not None else (1000 if args.workload == "w2" else 200)
    if args.db is not None and not pgdb.is_postgres(args.db):
        p.error("--db takes a postgresql:// URL; leave it out for SQLite")
    with ExitStack() as stack:
        if args.db:
            url = stack.enter_context(pgdb.fresh_database(args.db))
        else:
            url = f"sqlite:///{Path(stack.enter_context(tempfile.TemporaryDirectory())) / 'b.db'}"
        if args.workload == "w1":
            out = asyncio.run(w1(url, n, args.k))
        elif args.workload == "w2":
            out = asyncio.run(w2(url, n))
        else:
            out = asyncio.run(w3(url, n))
    out["backend"] = "legato-postgres" if args.db else "legato-sqlite"
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
