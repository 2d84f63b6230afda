"""Benchmark W4: state machines (Amazon States Language) on the durable engine, SQLite with the
default durability (WAL, synchronous=FULL) or PostgreSQL. Prints one JSON line per workload.

    python bench/asl_bench.py                     # 1,000-state Pass chain; Map of 10,000 items
    python bench/asl_bench.py --states 1000 --items 10000 --concurrency 100 --repeat 3
    python bench/asl_bench.py --smoke             # tiny sizes, one run (CI)
    python bench/asl_bench.py --db postgresql://postgres@127.0.0.1:5432/test

"W4-pass-chain": one execution of a chain of N Pass states, started and awaited; states/s =
N / wall. Every state entered and left is recorded in the history (StateEntered/StateExited).
"W4-map": one execution whose Map state runs a one-Task ItemProcessor over N items with
MaxConcurrency C, the Task calling a trivial step; items/s = N / wall. Each line is the
median run by wall time over --repeat runs (every run's wall in "wall_s_runs").
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


def pass_chain(n: int) -> dict[str, Any]:
    states: dict[str, Any] = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(n - 1)}
    states[f"S{n - 1}"] = {"Type": "Pass", "Result": "done", "End": True}
    return {"StartAt": "S0", "States": states}


def map_machine(concurrency: int) -> dict[str, Any]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": concurrency,
                "ItemProcessor": {
                    "StartAt": "Inc",
                    "States": {"Inc": {"Type": "Task", "Resource": "inc", "End": True}},
                },
                "End": True,
            }
        },
    }


def build(url: str, states: int, concurrency: int) -> legato.App:
    app = legato.App(url)

    @app.step(name="inc")
    async def inc(x: int) -> int:
        return x + 1

    app.register_state_machine("chain", pass_chain(states))
    app.register_state_machine("map", map_machine(concurrency))
    return app


async def once(url: str, workload: str, args: argparse.Namespace) -> float:
    app = build(url, args.states, args.concurrency)
    async with app:
        if workload == "W4-pass-chain":
            began = time.perf_counter()
            out = await (await app.start("chain", {})).result(timeout=args.timeout)
            wall = time.perf_counter() - began
            ok = out == "done"
        else:
            items = list(range(args.items))
            began = time.perf_counter()
            out = await (await app.start("map", {"items": items})).result(timeout=args.timeout)
            wall = time.perf_counter() - began
            ok = out == [i + 1 for i in items]
    if not ok:
        raise RuntimeError(f"{workload}: wrong output")
    return wall


def run(workload: str, args: argparse.Namespace) -> dict[str, Any]:
    walls = []
    for _ in range(args.repeat):
        with ExitStack() as stack:
            if args.db:
                url = stack.enter_context(pgdb.fresh_database(args.db))
            else:
                tmp = stack.enter_context(tempfile.TemporaryDirectory())
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            walls.append(asyncio.run(once(url, workload, args)))
    wall = statistics.median_low(walls)
    chain = workload == "W4-pass-chain"
    n = args.states if chain else args.items
    return {
        "workload": workload,
        "backend": "legato-postgres" if args.db else "legato-sqlite",
        "N": n,
        "K": None if chain else args.concurrency,
        "wall_s": round(wall, 4),
        ("states_per_s" if chain else "items_per_s"): round(n / wall, 1),
        "wall_s_runs": [round(w, 4) for w in walls],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--states", type=int, default=None, help="Pass states in the chain (1000)")
    p.add_argument("--items", type=int, default=None, help="Map items (10000)")
    p.add_argument("--concurrency", type=int, default=100, help="Map MaxConcurrency (100)")
    p.add_argument("--repeat", type=int, default=None, help="runs of each workload (3)")
    p.add_argument("--db", default=None, help="a PostgreSQL server URL (default: SQLite)")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--smoke", action="store_true", help="50 states, 200 items, 1 run (CI)")
    args = p.parse_args(argv)
    small, full = (50, 200, 1), (1000, 10000, 3)
    for name, s, f in zip(("states", "items", "repeat"), small, full, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, s if args.smoke else f)
    for workload in ("W4-pass-chain", "W4-map"):
        print(json.dumps(run(workload, args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
