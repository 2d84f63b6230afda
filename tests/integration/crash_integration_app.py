"""The app the integration crash test kills: 50 executions of a state machine whose every
other state is an AWS SDK call (``aws-sdk:dynamodb:updateItem`` adding 1 to the item of its
execution and step, against the emulator named by ``AWS_ENDPOINT_URL``), the others a plain
step that logs ``execution:step`` (the progress the test's kills wait for). Run as
``python crash_integration_app.py DB LOG RESULTS TABLE``.

With ``CRASH_GATE`` set, the last state waits until that file exists, so the workload cannot
finish before the test's last kill however fast the machine."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from typing import Any

import legato

PAIRS = 5
EXECUTIONS = 50

app = legato.App(lease_seconds=1.0)
LOG_PATH = "steps.log"
GATE = os.environ.get("CRASH_GATE")
SEED = os.environ.get("LEGATO_TEST_SEED")
rng = random.Random(f"{SEED}/{os.environ.get('LEGATO_TEST_PROCESS')}") if SEED else random.Random()


@app.step
async def mark(event: dict[str, Any]) -> None:
    fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{event['execution']}:{event['step']}\n".encode())
    finally:
        os.close(fd)
    await asyncio.sleep(rng.uniform(0.02, 0.1))


@app.step
async def finish(event: dict[str, Any]) -> str:
    while GATE and not os.path.exists(GATE):
        await asyncio.sleep(0.05)
    return str(event["execution"])


def definition(table: str) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(PAIRS):
        states[f"Mark{i}"] = {
            "Type": "Task",
            "Resource": "mark",
            "Parameters": {"execution.$": "$.execution", "step": i},
            "ResultPath": None,
            "Next": f"Add{i}",
        }
        states[f"Add{i}"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
            "Parameters": {
                "TableName": table,
                "Key": {"call": {"S.$": f"States.Format('{{}}:{i}', $.execution)"}},
                "UpdateExpression": "ADD calls :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
                "ReturnValues": "UPDATED_NEW",
            },
            "ResultSelector": {"calls.$": "$.Attributes.calls.N"},
            "ResultPath": f"$.add{i}",
            "Next": f"Mark{i + 1}" if i + 1 < PAIRS else "Finish",
        }
    states["Finish"] = {"Type": "Task", "Resource": "finish", "End": True}
    return {"StartAt": "Mark0", "States": states}


async def main(db: str, results_path: str, table: str) -> None:
    app.register_state_machine("crashy_aws", definition(table))
    app.configure(url=f"sqlite:///{db}")
    async with app:
        handles = [
            await app.start("crashy_aws", {"execution": f"e{i}"}, id=f"e{i}")
            for i in range(EXECUTIONS)
        ]
        results = [await h.result() for h in handles]
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    LOG_PATH = sys.argv[2]
    asyncio.run(main(sys.argv[1], sys.argv[3], sys.argv[4]))
