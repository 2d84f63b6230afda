"""The app of the scale-out chaos test: a 10-step workflow whose every step run is logged with
its attempt number and process, so the test can tell a re-run from a first run."""

from __future__ import annotations

import asyncio
import os
import random

import legato

app = legato.App(lease_seconds=1.5)


@app.step
async def hop(execution: str, step: int, acc: int) -> int:
    ctx = legato.step_context()
    line = f"{execution} {step} {ctx.attempt} {os.getpid()}\n"
    fd = os.open(os.environ["CHAOS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    await asyncio.sleep(random.uniform(0.0, 0.02))
    return acc + step


@app.workflow(name="chaos")
async def chaos(ctx: legato.Context, execution: str) -> int:
    acc = 0
    for step in range(10):
        acc = await ctx.step(hop, execution, step, acc)
    return acc
