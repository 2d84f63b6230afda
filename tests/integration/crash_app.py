"""The app the crash test kills: 50 executions of a 10-step workflow; each step appends
``execution:step`` to a file. Run as ``python crash_app.py DB LOG RESULTS [code|asl]``: the
workflow is Python code, or the equivalent Amazon States Language state machine (ten Task
states calling the same step).

With ``CRASH_GATE`` set, the last step of every execution waits (after logging its line) until
that file exists: the test opens the gate once it has made all its kills, so the workload can
never finish before them however fast or slow the machine. Random draws are seeded from
``LEGATO_TEST_SEED`` and ``LEGATO_TEST_PROCESS`` when the test passes them."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from typing import Any

import legato

STEPS = 10
EXECUTIONS = 50

app = legato.App(lease_seconds=1.0)
LOG_PATH = os.environ.get("CRASH_LOG", "steps.log")
GATE = os.environ.get("CRASH_GATE")
SEED = os.environ.get("LEGATO_TEST_SEED")
rng = random.Random(f"{SEED}/{os.environ.get('LEGATO_TEST_PROCESS')}") if SEED else random.Random()


@app.step
async def work(execution: str, step: int, acc: int) -> int:
    fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{execution}:{step}\n".encode())
    finally:
        os.close(fd)
    await asyncio.sleep(rng.uniform(0.05, 0.15))  # a kill now leaves the line written, unrecorded
    if GATE and step == STEPS - 1:
        while not os.path.exists(GATE):
            await asyncio.sleep(0.05)
    return acc + step


@app.step(name="work_event")
async def work_event(event: dict[str, Any]) -> int:
    return await work(event["execution"], event["step"], event["acc"])


def _task(step: int) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "work_event",
        "Parameters": {"execution.$": "$.execution", "step": step, "acc.$": "$.acc"},
        "ResultPath": "$.acc",
    }
    if step == STEPS - 1:
        state.update(End=True, OutputPath="$.acc")
    else:
        state["Next"] = f"Step{step + 1}"
    return state


app.register_state_machine(
    "crashy_sm",
    {"StartAt": "Step0", "States": {f"Step{i}": _task(i) for i in range(STEPS)}},
)


@app.workflow(name="crashy")
async def crashy(ctx: legato.Context, execution: str) -> int:
    acc = 0
    for step in range(STEPS):
        acc = await ctx.step(work, execution, step, acc)
    return acc


async def main(db: str, results_path: str, mode: str) -> None:
    app.configure(url=f"sqlite:///{db}")
    async with app:
        if mode == "asl":
            handles = [
                await app.start("crashy_sm", {"execution": f"e{i}", "acc": 0}, id=f"e{i}")
                for i in range(EXECUTIONS)
            ]
        else:
            handles = [await app.start(crashy, f"e{i}", id=f"e{i}") for i in range(EXECUTIONS)]
        results = [await h.result() for h in handles]
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    LOG_PATH = sys.argv[2]
    asyncio.run(main(sys.argv[1], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "code"))
