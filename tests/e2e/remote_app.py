"""An app for the multi-process tests: its first attempt of ``slow`` hangs until killed."""

from __future__ import annotations

import asyncio
import os

import legato

app = legato.App(lease_seconds=1.0)


@app.step
async def slow(tag: str) -> str:
    ctx = legato.step_context()
    with open(os.environ["REMOTE_LOG"], "a") as f:
        f.write(f"{ctx.idempotency_key} attempt={ctx.attempt} pid={os.getpid()}\n")
    if ctx.attempt == 1:
        await asyncio.Event().wait()  # never set: the test kills this worker here
    return f"{tag}-done-on-attempt-{ctx.attempt}"


@app.step
def double(x: int) -> int:
    return 2 * x


@app.workflow(name="remote")
async def remote(ctx: legato.Context, tag: str) -> str:
    n = await ctx.step(double, 21)
    out = await ctx.step(slow, tag)
    return f"{out}/{n}"
