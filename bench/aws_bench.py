"""Benchmark W4-aws: the per-call overhead of an AWS integration step over a plain step
(issue 13, "Performance"). Prints one JSON line.

    python bench/aws_bench.py                  # 200-state chains, 3 runs, moto started here
    python bench/aws_bench.py --states 500 --repeat 5
    python bench/aws_bench.py --smoke          # 20 states, 1 run (CI)
    python bench/aws_bench.py --endpoint http://127.0.0.1:5000   # an emulator already running

Three timings, each the median run over --repeat, on SQLite with the default durability:

* ``plain``: one execution of a chain of N Task states, each calling a registered step that
  returns at once (what a state costs the engine);
* ``aws``: the same chain, each Task an ``aws-sdk:dynamodb:putItem`` against the emulator
  (moto's server on loopback), one item per state;
* ``direct``: N PutItem calls made straight with aiobotocore, one after another (what the
  emulator and the SDK cost without Legato).

``overhead_ms_per_call`` = (aws - plain) / N: what an integration state costs over a plain one;
``legato_ms_per_call`` = (aws - plain - direct) / N: the part of it that is Legato's (the
request and response recorded, the built-in step's dispatch), not the emulator's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session
from moto_emulator import moto_server

import legato


def chain(n: int, task: dict[str, Any]) -> dict[str, Any]:
    states = {f"S{i}": {**task, "ResultPath": None, "Next": f"S{i + 1}"} for i in range(n - 1)}
    states[f"S{n - 1}"] = {**task, "ResultPath": None, "End": True}
    return {"StartAt": "S0", "States": states}


def put_item(table: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
        "Parameters": {
            "TableName": table,
            "Item": {"id": {"S.$": "States.UUID()"}, "state": {"S.$": "$$.State.Name"}},
        },
    }


def plain_task() -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "noop",
        "Parameters": {"TableName": "t", "Item": {"id.$": "States.UUID()"}},
    }


async def timed_chain(url: str, endpoint: str, definition: dict[str, Any], timeout: float) -> float:
    app = legato.App(url, aws=legato.AwsSettings(endpoint_url=endpoint))

    @app.step(name="noop")
    async def noop(request: dict[str, Any]) -> dict[str, Any]:
        return {}

    app.register_state_machine("chain", definition)
    async with app:
        began = time.perf_counter()
        await (await app.start("chain", {})).result(timeout=timeout)
        return time.perf_counter() - began


async def timed_direct(endpoint: str, table: str, n: int) -> float:
    async with get_session().create_client("dynamodb", endpoint_url=endpoint) as client:
        await client.put_item(TableName=table, Item={"id": {"S": "warm-up"}})
        began = time.perf_counter()
        for i in range(n):
            await client.put_item(TableName=table, Item={"id": {"S": f"d{i}"}})
        return time.perf_counter() - began


async def make_table(endpoint: str) -> str:
    table = f"bench-{uuid.uuid4().hex[:8]}"
    async with get_session().create_client("dynamodb", endpoint_url=endpoint) as client:
        await client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return table


def median_run(kind: str, endpoint: str, table: str, args: argparse.Namespace) -> list[float]:
    walls = []
    for _ in range(args.repeat):
        if kind == "direct":
            walls.append(asyncio.run(timed_direct(endpoint, table, args.states)))
            continue
        task = put_item(table) if kind == "aws" else plain_task()
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            walls.append(
                asyncio.run(timed_chain(url, endpoint, chain(args.states, task), args.timeout))
            )
    return walls


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--states", type=int, default=None, help="Task states per chain (200)")
    p.add_argument("--repeat", type=int, default=None, help="runs of each timing (3)")
    p.add_argument("--endpoint", default=None, help="an AWS emulator's URL (default: start moto)")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--smoke", action="store_true", help="20 states, 1 run (CI)")
    args = p.parse_args(argv)
    args.states = args.states or (20 if args.smoke else 200)
    args.repeat = args.repeat or (1 if args.smoke else 3)
    with moto_server(args.endpoint) as endpoint:
        table = asyncio.run(make_table(endpoint))
        runs = {
            kind: median_run(kind, endpoint, table, args) for kind in ("plain", "aws", "direct")
        }
    wall = {kind: statistics.median_low(walls) for kind, walls in runs.items()}
    n = args.states
    print(
        json.dumps(
            {
                "workload": "W4-aws-putItem",
                "backend": "legato-sqlite",
                "emulator": "moto-server",
                "N": n,
                "plain_ms_per_state": round(wall["plain"] * 1000 / n, 3),
                "aws_ms_per_state": round(wall["aws"] * 1000 / n, 3),
                "direct_ms_per_call": round(wall["direct"] * 1000 / n, 3),
                "overhead_ms_per_call": round((wall["aws"] - wall["plain"]) * 1000 / n, 3),
                "legato_ms_per_call": round(
                    (wall["aws"] - wall["plain"] - wall["direct"]) * 1000 / n, 3
                ),
                "wall_s_runs": {k: [round(w, 4) for w in v] for k, v in runs.items()},
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
