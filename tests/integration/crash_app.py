"""The app the crash test kills: 50 executions of a 10-step workflow; each step appends
``execution:step`` to a file. Run as ``python crash_app.py DB LOG RESULTS``."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys

import legato

STEPS = 10
EXECUTIONS = 50

app = legato.App(lease_seconds=1.0)
LOG_PATH = os.environ.get("CRASH_LOG", "steps.log")


@app.step
async def work(execution: str, step: int, acc: int) -> int:
    fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{execution}:{step}\n".encode())
    finally:
        os.close(fd)
    await asyncio.sleep(
        random.uniform(0.05, 0.15)
    )  # a kill now leaves the line written, unrecorded
    return acc + step


@app.workflow(name="crashy")
async def crashy(ctx: legato.Context, execution: str) -> int:
    acc = 0
    for step in range(STEPS):
        acc = await ctx.step(work, execution, step, acc)
    return acc


async def main(db: str, results_path: str) -> None:
    app.configure(url=f"sqlite:///{db}")
    async with app:
        handles = [await app.start(crashy, f"e{i}", id=f"e{i}") for i in range(EXECUTIONS)]
        results = [await h.result() for h in handles]
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    LOG_PATH = sys.argv[2]
    asyncio.run(main(sys.argv[1], sys.argv[3]))
