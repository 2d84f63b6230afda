"""The app of the remote worker tests (``legato server`` decides, ``legato worker --server``
runs the steps): ``step`` appends ``key attempt pid`` to $RUNS_LOG when it starts and to
$DONE_LOG when it ends; while the file $GATE does not exist it waits (the test kills or stops
the worker meanwhile). ``approve`` is a state machine whose Task is a Step Functions activity."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import legato

app = legato.App(lease_seconds=float(os.environ.get("LEASE_SECONDS", "1.0")))


def _append(variable: str, line: str) -> None:
    path = os.environ.get(variable)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


@app.step
async def step(tag: str, i: int) -> str:
    ctx = legato.step_context()
    _append("RUNS_LOG", f"{ctx.idempotency_key} {ctx.attempt} {os.getpid()}")
    gate = os.environ.get("GATE")
    while gate and not Path(gate).exists():
        await asyncio.sleep(0.02)
    _append("DONE_LOG", f"{ctx.idempotency_key} {ctx.attempt} {os.getpid()}")
    return f"{tag}-{i}"


@app.workflow(name="chain")
async def chain(ctx: legato.Context, tag: str, k: int) -> list[str]:
    return [await ctx.step(step, tag, i) for i in range(k)]


app.register_state_machine(
    "approve",
    {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:us-east-1:123456789012:activity:approval",
                "Parameters": {"order.$": "$.order"},
                "HeartbeatSeconds": int(os.environ.get("HEARTBEAT_SECONDS", "2")),
                "TimeoutSeconds": 600,
                "Catch": [
                    {"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Lapsed"},
                ],
                "End": True,
            },
            "Lapsed": {"Type": "Pass", "Result": "lapsed", "End": True},
        },
    },
)
