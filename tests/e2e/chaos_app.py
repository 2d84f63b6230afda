"""The app of the scale-out chaos test: a 10-step workflow whose every step run is logged with
its attempt number and process, so the test can tell a re-run from a first run. Half-way it
waits for the signal ``go``: the test sends it once its kills during the waves of starts are
done, so those kills always land while work is outstanding. Random draws are seeded from
``LEGATO_TEST_SEED`` and ``LEGATO_TEST_PROCESS`` when the test passes them."""

from __future__ import annotations

import asyncio
import os
import random

import legato

app = legato.App(lease_seconds=1.5)
SEED = os.environ.get("LEGATO_TEST_SEED")
rng = random.Random(f"{SEED}/{os.environ.get('LEGATO_TEST_PROCESS')}") if SEED else random.Random()
GATE_STEP = 5  # the steps before it run during the waves; the rest once the test says go


@app.step
async def hop(execution: str, step: int, acc: int) -> int:
    ctx = legato.step_context()
    line = f"{execution} {step} {ctx.attempt} {os.getpid()}\n"
    fd = os.open(os.environ["CHAOS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    await asyncio.sleep(rng.uniform(0.0, 0.02))
    return acc + step


@app.workflow(name="chaos")
async def chaos(ctx: legato.Context, execution: str) -> int:
    acc = 0
    for step in range(10):
        if step == GATE_STEP:
            await ctx.wait_for_signal("go")
        acc = await ctx.step(hop, execution, step, acc)
    return acc
