"""Benchmark: a Distributed Map over an N-line CSV object (issue 13, "Performance": the items/s
of a Distributed Map over a 100,000-line CSV object). Prints one JSON line per source.

    python bench/dmap_bench.py                        # 100,000 lines; local folder and moto
    python bench/dmap_bench.py --items 10000 --source local --concurrency 1000
    python bench/dmap_bench.py --smoke                # 200 lines, both sources (CI)

One execution: a Map state in DISTRIBUTED mode whose ItemReader reads the CSV object
(``s3:getObject``, InputType CSV, header in the first row) and whose processor is one Task
calling a trivial step; each row is a child execution, at most --concurrency at once. The
results are exported (ResultWriter: SUCCEEDED_0.json + manifest.json) as AWS needs them to be
past 256 KiB of output; --no-write returns them as the state's output instead (small N only).
items/s = N / wall, wall from the start of the execution to its result (the object is
written before). "local": the bucket is a folder (``App(item_buckets=...)``); "moto": an S3
bucket on moto's server, started here on a free loopback port (``moto[server]``, a dev
dependency). SQLite, default durability.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from moto_emulator import moto_server

import legato

BUCKET = "bench-items"
KEY = "in/rows.csv"


def machine(concurrency: int, write: bool) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": BUCKET, "Key": KEY},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Inc",
            "States": {"Inc": {"Type": "Task", "Resource": "inc", "End": True}},
        },
        "MaxConcurrency": concurrency,
        "End": True,
    }
    if write:
        state["ResultWriter"] = {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": BUCKET, "Prefix": "out"},
        }
    return {"StartAt": "Each", "States": {"Each": state}}


def csv_bytes(n: int) -> bytes:
    return ("id,n\n" + "".join(f"row-{i},{i}\n" for i in range(n))).encode()


async def once(args: argparse.Namespace, source: str, folder: Path, endpoint: str | None) -> float:
    data = csv_bytes(args.items)
    if source == "local":
        (folder / "bucket" / "in").mkdir(parents=True, exist_ok=True)
        (folder / "bucket" / KEY).write_bytes(data)
        app = legato.App(
            f"sqlite:///{folder / 'bench.db'}",
            item_buckets={BUCKET: (folder / "bucket").as_uri()},
        )
    else:
        app = legato.App(
            f"sqlite:///{folder / 'bench.db'}", aws=legato.AwsSettings(endpoint_url=endpoint)
        )
        s3 = await app.aws_clients.client("s3")
        try:
            await s3.create_bucket(Bucket=BUCKET)
        except Exception as exc:  # the bucket of an earlier run: kept
            if "BucketAlreadyOwnedByYou" not in str(exc):
                raise
        await s3.put_object(Bucket=BUCKET, Key=KEY, Body=data)

    @app.step(name="inc")
    async def inc(row: dict[str, str]) -> int:
        return int(row["n"]) + 1

    app.register_state_machine("dmap", machine(args.concurrency, args.write))
    try:
        async with app:
            began = time.perf_counter()
            out = await (await app.start("dmap", {})).result(timeout=args.timeout)
            wall = time.perf_counter() - began
    finally:
        await app.aws_clients.close()
    expected_ok = "MapRunArn" in out if args.write else out == list(range(1, args.items + 1))
    if not expected_ok:
        raise RuntimeError(f"dmap-csv ({source}): wrong output")
    return wall


def run(args: argparse.Namespace, source: str, endpoint: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        wall = asyncio.run(once(args, source, Path(tmp), endpoint))
    return {
        "workload": "dmap-csv" + ("" if args.write else "-no-write"),
        "backend": "legato-sqlite",
        "source": source,
        "N": args.items,
        "K": args.concurrency,
        "wall_s": round(wall, 3),
        "items_per_s": round(args.items / wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--items", type=int, default=None, help="CSV lines (100000)")
    p.add_argument("--concurrency", type=int, default=1000, help="MaxConcurrency (1000)")
    p.add_argument("--source", choices=("local", "moto", "both"), default="both")
    p.add_argument(
        "--no-write", dest="write", action="store_false", help="no ResultWriter (small N)"
    )
    p.add_argument("--timeout", type=float, default=3600.0)
    p.add_argument("--smoke", action="store_true", help="200 lines (CI)")
    args = p.parse_args(argv)
    if args.items is None:
        args.items = 200 if args.smoke else 100_000
    sources = ("local", "moto") if args.source == "both" else (args.source,)
    for source in sources:
        if source == "moto":
            with moto_server() as endpoint:
                print(json.dumps(run(args, source, endpoint)), flush=True)
        else:
            print(json.dumps(run(args, source, None)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
