"""The app the Distributed Map crash test kills: one execution whose DISTRIBUTED Map reads a
40-row CSV from a local folder (no AWS) and exports its results there; each row is a child
execution running one step that appends ``row-N`` to a file. Run as ``python dmap_crash_app.py
FOLDER LOG RESULT``; every run starts the same execution id (the same execution) and awaits it.

With ``CRASH_GATE`` set, the last row's step waits (after logging its line) until that file
exists, so the workload cannot finish before the test's kills. Random draws are seeded from
``LEGATO_TEST_SEED`` and ``LEGATO_TEST_PROCESS`` when the test passes them."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

import legato

ROWS = 40
GATE = os.environ.get("CRASH_GATE")
SEED = os.environ.get("LEGATO_TEST_SEED")
rng = random.Random(f"{SEED}/{os.environ.get('LEGATO_TEST_PROCESS')}") if SEED else random.Random()
LOG_PATH = "steps.log"

MACHINE = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "data", "Key": "rows.csv"},
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": "work", "End": True}},
            },
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "data", "Prefix": "out"},
            },
            "MaxConcurrency": 4,
            "End": True,
        }
    },
}


async def work(row: dict[str, Any]) -> int:
    fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"row-{row['n']}\n".encode())
    finally:
        os.close(fd)
    await asyncio.sleep(rng.uniform(0.02, 0.15))  # a kill now leaves the line unrecorded
    if GATE and int(row["n"]) == ROWS - 1:
        while not os.path.exists(GATE):
            await asyncio.sleep(0.05)
    return 2 * int(row["n"])


async def main(folder: Path, result_path: str) -> None:
    csv = folder / "rows.csv"
    if not csv.exists():
        csv.write_text("n\n" + "".join(f"{i}\n" for i in range(ROWS)))
    app = legato.App(
        f"sqlite:///{folder / 'crash.db'}",
        lease_seconds=1.0,
        item_buckets={"data": folder.as_uri()},
    )
    app.registry.add_step(work, "work", None, None, None, None)
    app.register_state_machine("dmap", MACHINE)
    async with app:
        handle = await app.start("dmap", {}, id="dmap-1")
        output = await handle.result()
    with open(result_path, "w") as f:
        json.dump(output, f)


if __name__ == "__main__":
    LOG_PATH = sys.argv[2]
    asyncio.run(main(Path(sys.argv[1]), sys.argv[3]))
