"""The app the children-and-signals crash test kills: 20 parents, each running two child
executions of six steps, then waiting for a signal, then a last step. Every step appends
``name`` to a file. Run as ``python crash_children_app.py DB LOG RESULTS``; every run starts
the parents (the same ids: the same executions) and signals each one that is still open.

With ``CRASH_GATE`` set, each parent's last step waits (after logging its line) until that file
exists: the test opens the gate once it has made all its kills, so the workload can never
finish before them. Random draws are seeded from ``LEGATO_TEST_SEED`` and
``LEGATO_TEST_PROCESS`` when the test passes them."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys

import legato

PARENTS = 20
KID_STEPS = 6  # long enough a run that the test lands its kills mid-way
app = legato.App(lease_seconds=1.0)
LOG_PATH = "steps.log"
GATE = os.environ.get("CRASH_GATE")
SEED = os.environ.get("LEGATO_TEST_SEED")
rng = random.Random(f"{SEED}/{os.environ.get('LEGATO_TEST_PROCESS')}") if SEED else random.Random()


@app.step
async def work(name: str, acc: int, add: int) -> int:
    fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{name}\n".encode())
    finally:
        os.close(fd)
    await asyncio.sleep(rng.uniform(0.05, 0.25))  # a kill now leaves the line unrecorded
    if GATE and name.endswith(":final"):
        while not os.path.exists(GATE):
            await asyncio.sleep(0.05)
    return acc + add


@app.workflow(name="kid")
async def kid(ctx: legato.Context, name: str) -> int:
    acc = 0
    for step in range(KID_STEPS):
        acc = await ctx.step(work, f"{name}:{step}", acc, step + 1)
    return acc


@app.workflow(name="parent")
async def parent(ctx: legato.Context, i: int) -> int:
    a, b = await ctx.gather(ctx.child(kid, f"p{i}/a"), ctx.child(kid, f"p{i}/b"))
    go = await ctx.wait_for_signal("go")
    return await ctx.step(work, f"p{i}:final", a + b, go)  # type: ignore[no-any-return]


async def main(db: str, results_path: str) -> None:
    app.configure(url=f"sqlite:///{db}")
    async with app:
        handles = [await app.start(parent, i, id=f"p{i}") for i in range(PARENTS)]
        for i in range(PARENTS):
            try:
                await app.signal(f"p{i}", "go", i)
            except legato.ExecutionClosed:
                pass
        results = [await h.result() for h in handles]
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    LOG_PATH = sys.argv[2]
    asyncio.run(main(sys.argv[1], sys.argv[3]))
